/* simd/avx2/avx2.h - AVX2 kernel declarations and the small helpers they share.
 *
 * Only files compiled with -mavx2 -mfma -mf16c include this. Helpers are static inline and
 * spell out their intrinsics; there is no macro layer.
 */
#ifndef LMRT_SIMD_AVX2_H
#define LMRT_SIMD_AVX2_H

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "../kernels.h"

/* Mask of the first n (0..8) lanes, for _mm256_maskload_ps / _mm256_maskstore_ps. */
static inline __m256i lm_avx2_tail_mask(int64_t n) {
    static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(ramp + 8 - n));
}

/* Sum of the 8 lanes. */
static inline float lm_avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Max of the 8 lanes. */
static inline float lm_avx2_hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Sum of the 8 int32 lanes. */
static inline int32_t lm_avx2_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* exp(x) for 8 lanes, inline (SLEEF's out-of-line expf8_u10 costs about 1 ns per float on
 * Zen 3, more than the whole budget of a bandwidth-bound softmax or SiLU).
 * x = n ln2 + r: n = round(x / ln2) from the 1.5 * 2^23 shifter (no round or convert
 * instructions), r in [-ln2/2, ln2/2] with ln2 split hi + lo so r is exact to ~2^-30; e^r by a
 * degree-6 polynomial (below); then times 2^n applied as two factors 2^(n/2) and 2^(n - n/2),
 * so results that underflow into subnormals are rounded once, correctly. x is clamped to
 * [-104, 89] first: below, the result is 0; above, +inf. NaN propagates (min/max return the
 * NaN operand). Error against double exp: <= 2 ulp over [-104, 89] (tests/check_simd_math.c). */
/* e^r for the reduced argument of x: returns p = e^r and sets *t, whose bits minus the
 * shifter's are n (x = n ln2 + r). Shared by the two exp variants below. */
static inline __m256 lm_avx2_exp_reduce(__m256 x, __m256 *t) {
    /* n = round(x / ln2) by the 1.5 * 2^23 shifter: t's low mantissa bits hold n */
    const __m256 shifter = _mm256_set1_ps(12582912.0f);
    *t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), shifter);
    const __m256 n = _mm256_sub_ps(*t, shifter);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    /* e^r = 1 + r + c2 r^2 + ... + c6 r^6 (near-minimax relative error 4e-9 on the interval),
     * by Estrin's scheme: a 3-FMA-deep chain instead of Horner's 6 */
    const __m256 r2 = _mm256_mul_ps(r, r), r4 = _mm256_mul_ps(r2, r2);
    const __m256 c23 =
        _mm256_fmadd_ps(_mm256_set1_ps(0.1666652113f), r, _mm256_set1_ps(0.4999999404f));
    const __m256 c45 =
        _mm256_fmadd_ps(_mm256_set1_ps(0.008368710056f), r, _mm256_set1_ps(0.04166838899f));
    const __m256 hi = _mm256_fmadd_ps(_mm256_set1_ps(0.001381461276f), r2, c45);
    const __m256 lo = _mm256_fmadd_ps(c23, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    return _mm256_fmadd_ps(hi, r4, lo);
}

static inline __m256i lm_avx2_exp_n(__m256 t) {
    return _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4b400000)); /* shifter */
}

/* p * 2^n for the n held in t, as two factors 2^(n/2) and 2^(n - n/2) (see above) */
static inline __m256 lm_avx2_exp_scale(__m256 p, __m256 t) {
    const __m256i ni = lm_avx2_exp_n(t);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline __m256 lm_avx2_exp(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
    __m256 t;
    const __m256 p = lm_avx2_exp_reduce(x, &t);
    return lm_avx2_exp_scale(p, t);
}

/* exp(x) for x <= 0 or -inf, the softmax case (x - max): as lm_avx2_exp, but 2^n goes straight
 * into p's exponent field (one integer add, p in [0.7, 1.5] and n >= -125 keep it normal), and
 * x < -86.5 gives 0 instead of a value below 2.7e-38 (a subnormal or tiny normal that cannot
 * move a sum that holds 1). Not for NaN or x > 0: callers rule them out. Same <= 2 ulp above. */
static inline __m256 lm_avx2_exp_nonpos(__m256 x) {
    __m256 t;
    const __m256 p = lm_avx2_exp_reduce(x, &t);
    const __m256i e =
        _mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(lm_avx2_exp_n(t), 23));
    return _mm256_and_ps(_mm256_castsi256_ps(e),
                         _mm256_cmp_ps(x, _mm256_set1_ps(-86.5f), _CMP_GE_OQ));
}

/* ---- kernels (one file each: simd/avx2/<op>_<dtype>.c) ----------------------------------- */

void lm_rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps);
void lm_f16_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_f32_to_f16_avx2(void *y, const float *x, int64_t n);
void lm_bf16_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_f32_to_bf16_avx2(void *y, const float *x, int64_t n);

/* matmul (simd/avx2/matmul_<dtype>.c) */
void lm_mm_q4_k_tile_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q5_k_tile_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q6_k_tile_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
/* matmul (simd/avx2/matmul_<dtype>.c; shared GEMV and packing in gemm.h, GEMM in gemm_f32.c) */
void lm_mm_tile_f32_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_f16_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_bf16_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_gemm_scratch_avx2(int64_t M, int64_t K); /* scratch_size of all three */

/* quantize / dequantize (simd/avx2/quant_<dtype>.c) */
void lm_q4_k_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_q5_k_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_q6_k_to_f32_avx2(float *y, const void *x, int64_t n);
/* Q8_K activation rows for the K-quant matmuls (quant_q8_k.c; same bytes as lm_q8_k_prep_ref) */
void lm_q8_k_prep_avx2(void *dst, const float *x, int64_t K);
void lm_mm_q8_0_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q8_0_scratch_avx2(int64_t M, int64_t K);
void lm_mm_q4_0_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_0_scratch_avx2(int64_t M, int64_t K);
void lm_mm_q4_1_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_1_scratch_avx2(int64_t M, int64_t K);

/* quantize / dequantize (simd/avx2/quant_<dtype>.c) */
void lm_q8_0_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_q8_0_from_f32_avx2(void *y, const float *x, int64_t n);
void lm_q4_0_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_q4_0_from_f32_avx2(void *y, const float *x, int64_t n);
void lm_q4_1_to_f32_avx2(float *y, const void *x, int64_t n);
void lm_q4_1_from_f32_avx2(void *y, const float *x, int64_t n);
void lm_prep_q8x_avx2(void *dst, const float *x, int64_t K);  /* activation rows, Q8_0/Q4_0 */
void lm_prep_q8xs_avx2(void *dst, const float *x, int64_t K); /* activation rows, Q4_1 */

/* norms, softmax, rope, attention */
void lm_layernorm_avx2(float *y, const float *x, const float *w, const float *b, int64_t n,
                       float eps);
void lm_l2norm_avx2(float *y, const float *x, int64_t n, float eps);
void lm_softmax_avx2(float *y, const float *x, float scale, int64_t n);
void lm_rope_avx2(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                  enum lm_rope_mode mode);
void lm_attn_avx2(const struct lm_attn_row *a); /* F32 and F16 K/V */
size_t lm_attn_scratch_floats_avx2(int64_t G, int64_t hd);

/* elementwise, gather, conv */
void lm_silu_avx2(float *y, const float *x, int64_t n);
void lm_gelu_erf_avx2(float *y, const float *x, int64_t n);
void lm_gelu_tanh_avx2(float *y, const float *x, int64_t n);
void lm_swiglu_avx2(float *y, const float *g, const float *u, int64_t n);
void lm_add_avx2(float *y, const float *a, const float *b, int64_t n);
void lm_mul_avx2(float *y, const float *a, const float *b, int64_t n);
void lm_scale_avx2(float *y, const float *x, float s, int64_t n);
void lm_conv1d_avx2(float *y, const float *const *rows, const float *w, int64_t C, int64_t k);

/* silu(x) = x * sigmoid(x) for 8 lanes, given e = exp(-|x|) in [0, 1] (silu_f32.c and
 * swiglu_f32.c). sigmoid(|x|) = 1 / (1 + e) and sigmoid(-|x|) = e / (1 + e): exp never overflows,
 * so there is no cancellation or inf / inf anywhere, and tiny results for x << 0 stay accurate.
 * The blend picks by the sign bit of x. x is clamped to >= -FLT_MAX for the final product so
 * silu(-inf) = -FLT_MAX * 0 = -0 (max_ps returns its second operand, x, when x is NaN).
 * Error: exp 2 ulp + 1 + e, division, product: within 5 ulp while exp(-|x|) is normal
 * (x >= -87); below, the subnormal exp leaves an absolute error <= |x| 2^-149. */
static inline __m256 lm_avx2_silu_finish(__m256 x, __m256 e) {
    const __m256 one = _mm256_set1_ps(1.0f);
    /* 1 / d for d = 1 + e in [1, 2]: vrcpps (12 bits) and one Newton step, cheaper than vdivps */
    const __m256 d = _mm256_add_ps(one, e), r0 = _mm256_rcp_ps(d);
    __m256 r = _mm256_fmadd_ps(r0, _mm256_fnmadd_ps(d, r0, one), r0);
    __m256 s = _mm256_blendv_ps(r, _mm256_mul_ps(e, r), x);
    return _mm256_mul_ps(_mm256_max_ps(_mm256_set1_ps(-FLT_MAX), x), s);
}

static inline __m256 lm_avx2_silu(__m256 x) {
    return lm_avx2_silu_finish(x, lm_avx2_exp(_mm256_or_ps(x, _mm256_set1_ps(-0.0f))));
}

/* e[i] = exp(-|x[i]|) for LM_AVX2_SILU_BLOCK floats, bit-identical to lm_avx2_exp, in two
 * passes over the block: argument reduction and polynomial, then the 2^n scaling. One 8-lane
 * silu is a ~60-cycle dependency chain of ~30 vector ops; that many in flight overflows Zen 3's
 * FP scheduler, so the straight loop runs at ~17 cycles per 8 floats against ~9 for the ops
 * alone. Cut into passes whose chains are a third as long, the same ops run ~30% faster (1M
 * floats in L3, perf/bench_elementwise); the block stays in L1 between passes. */
#define LM_AVX2_SILU_BLOCK 128
static inline void lm_avx2_exp_neg_abs_block(float *e, const float *x) {
    float t[LM_AVX2_SILU_BLOCK] __attribute__((aligned(32)));
    for (int j = 0; j < LM_AVX2_SILU_BLOCK; j += 8) {
        /* -|x| in [-104, 0] (or NaN): lm_avx2_exp's clamp, whose upper bound cannot bite */
        __m256 a = _mm256_or_ps(_mm256_loadu_ps(x + j), _mm256_set1_ps(-0.0f));
        a = _mm256_max_ps(_mm256_set1_ps(-104.0f), a);
        __m256 tj;
        _mm256_store_ps(e + j, lm_avx2_exp_reduce(a, &tj));
        _mm256_store_ps(t + j, tj);
    }
    for (int j = 0; j < LM_AVX2_SILU_BLOCK; j += 8)
        _mm256_store_ps(e + j, lm_avx2_exp_scale(_mm256_load_ps(e + j), _mm256_load_ps(t + j)));
}

#endif
