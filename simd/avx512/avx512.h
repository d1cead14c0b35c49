/* simd/avx512/avx512.h - AVX-512 kernel declarations and the small helpers they share.
 *
 * Files in simd/avx512/ are compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq (plus the
 * AVX2 level's -mavx2 -mfma -mf16c); a file named *_vnni.c adds -mavx512vnni and *_dpbf16.c
 * adds -mavx512bf16, so an instruction a sub-level may lack appears only in that sub-level's
 * files. In the test build (LMRT_EMU, build/emu/) the same files compile against SIMDe, whose
 * native aliases give the intrinsics their usual names on any AVX2 CPU.
 */
#ifndef LMRT_SIMD_AVX512_H
#define LMRT_SIMD_AVX512_H

#ifdef LMRT_EMU
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde_x86_extra.h> /* tests/emu: what SIMDe 0.7.4 lacks; add missing intrinsics there */
#else
#include <immintrin.h>
#endif

#include "../avx2/avx2.h"
#include "../kernels.h"

/* ---- legacy quants: Q8_0, Q4_0, Q4_1 (simd/avx512/{quant,matmul}_<dtype>{,_vnni}.c; helpers in
 * quant_legacy_avx512.h) ------------------------------------------------------------------ */
void lm_q8_0_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q8_0_from_f32_avx512(void *y, const float *x, int64_t n);
void lm_q4_0_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q4_0_from_f32_avx512(void *y, const float *x, int64_t n);
void lm_q4_1_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q4_1_from_f32_avx512(void *y, const float *x, int64_t n);
void lm_prep_q8x_avx512(void *dst, const float *x, int64_t K);  /* activation rows, Q8_0/Q4_0 */
void lm_prep_q8xs_avx512(void *dst, const float *x, int64_t K); /* activation rows, Q4_1 */
void lm_mm_q8_0_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q8_0_scratch_avx512(int64_t M, int64_t K);
void lm_mm_q4_0_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_0_scratch_avx512(int64_t M, int64_t K);
void lm_mm_q4_1_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_1_scratch_avx512(int64_t M, int64_t K);
void lm_mm_q8_0_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q8_0_scratch_avx512_vnni(int64_t M, int64_t K);
void lm_mm_q4_0_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_0_scratch_avx512_vnni(int64_t M, int64_t K);
void lm_mm_q4_1_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_1_scratch_avx512_vnni(int64_t M, int64_t K);
/* ---- shared helpers: tail masks, reductions, exp, SiLU  ----------------------------- */
/* The vector-valued helpers are always_inline: a kernel that calls one from several places
 * must not get an out-of-line copy that passes zmm values (slow, and in the SIMDe build GCC
 * warns, -Wpsabi, that such a function's ABI differs without -mavx512f). */

/* Mask of the first n (0..16) lanes, for the masked loads and stores of row tails. */
static inline __mmask16 lm_avx512_tail_mask(int64_t n) { return (__mmask16)(0xffffu >> (16 - n)); }

/* Sum of the 16 lanes: the two 256-bit halves added, then lm_avx2_hsum. */
static inline float lm_avx512_hsum(__m512 v) {
    return lm_avx2_hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/* Max of the 16 lanes. */
static inline float lm_avx512_hmax(__m512 v) {
    return lm_avx2_hmax(_mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/* exp(x) for 16 lanes, inline: lm_avx2_exp's design (avx2.h) on zmm. x = n ln2 + r with
 * n = round(x / ln2) from the 1.5 * 2^23 shifter, r by a two-constant Cody-Waite reduction,
 * e^r by the same degree-6 polynomial (Estrin). The scaling by 2^n is one vscalefps, which
 * rounds p * 2^n once, so overflow gives +inf and results in the subnormal range are correctly
 * rounded without the two-factor split AVX2 needs. x is clamped to [-104, 89] first (below,
 * the result rounds to 0; above, it overflows to +inf); NaN propagates (vminps/vmaxps return
 * the second operand, x, when it is NaN). Error against double exp: <= 2 ulp over
 * [-104, 89] (tests/check_simd_math.c). */
/* e^r for the reduced argument of x: returns p = e^r and sets *n = round(x / ln2) (a float). */
static inline __attribute__((always_inline)) __m512 lm_avx512_exp_reduce(__m512 x, __m512 *n) {
    const __m512 shifter = _mm512_set1_ps(12582912.0f);
    const __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), shifter);
    *n = _mm512_sub_ps(t, shifter);
    __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(1.428606765330187e-06f), r);
    const __m512 r2 = _mm512_mul_ps(r, r), r4 = _mm512_mul_ps(r2, r2);
    const __m512 c23 =
        _mm512_fmadd_ps(_mm512_set1_ps(0.1666652113f), r, _mm512_set1_ps(0.4999999404f));
    const __m512 c45 =
        _mm512_fmadd_ps(_mm512_set1_ps(0.008368710056f), r, _mm512_set1_ps(0.04166838899f));
    const __m512 hi = _mm512_fmadd_ps(_mm512_set1_ps(0.001381461276f), r2, c45);
    const __m512 lo = _mm512_fmadd_ps(c23, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_fmadd_ps(hi, r4, lo);
}

static inline __attribute__((always_inline)) __m512 lm_avx512_exp(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x));
    __m512 n;
    const __m512 p = lm_avx512_exp_reduce(x, &n);
    return _mm512_scalef_ps(p, n);
}

/* exp(x) for x <= 0 or -inf, the softmax case (x - max), as lm_avx2_exp_nonpos: 2^n goes
 * straight into p's exponent field (one integer add; p in [0.7, 1.5] and n >= -125 keep it
 * normal), and x < -86.5 gives 0 (zero-masking) instead of a value below 2.7e-38, which cannot
 * move a sum that holds 1. Not for NaN or x > 0: callers rule them out. Same <= 2 ulp. */
static inline __attribute__((always_inline)) __m512 lm_avx512_exp_nonpos(__m512 x) {
    __m512 n;
    const __m512 p = lm_avx512_exp_reduce(x, &n);
    /* n + shifter holds n in its low mantissa bits; shifted into the exponent field */
    const __m512i ni =
        _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(n, _mm512_set1_ps(12582912.0f))),
                         _mm512_set1_epi32(0x4b400000));
    const __m512i e = _mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(ni, 23));
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-86.5f), _CMP_GE_OQ),
                               _mm512_castsi512_ps(e));
}

/* silu(x) = x * sigmoid(x) for 16 lanes given e = exp(-|x|) in [0, 1], as lm_avx2_silu_finish:
 * sigmoid(|x|) = 1 / (1 + e), sigmoid(-|x|) = e / (1 + e), picked by the sign of x, so exp
 * never overflows and nothing cancels. 1 / d for d in [1, 2] by vrcp14ps (14 bits) and one
 * Newton step. x is clamped to >= -FLT_MAX for the product so silu(-inf) = -0 (vmaxps returns
 * x when it is NaN). Error: within 5 ulp while exp(-|x|) is normal (x >= -87); below, an
 * absolute error <= |x| 2^-149 (tests/check_simd_math.c). */
static inline __attribute__((always_inline)) __m512 lm_avx512_silu_finish(__m512 x, __m512 e) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 d = _mm512_add_ps(one, e), r0 = _mm512_rcp14_ps(d);
    const __m512 r = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(d, r0, one), r0);
    const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    const __m512 s = _mm512_mask_mul_ps(r, neg, e, r);
    return _mm512_mul_ps(_mm512_max_ps(_mm512_set1_ps(-FLT_MAX), x), s);
}

static inline __attribute__((always_inline)) __m512 lm_avx512_silu(__m512 x) {
    return lm_avx512_silu_finish(x, lm_avx512_exp(_mm512_or_ps(x, _mm512_set1_ps(-0.0f))));
}

/* ---- kernels (x512f: one file each, simd/avx512/<op>_<dtype>.c) ---------------------------- */

void lm_f16_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_f32_to_f16_avx512(void *y, const float *x, int64_t n);
void lm_bf16_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_f32_to_bf16_avx512(void *y, const float *x, int64_t n);

void lm_rmsnorm_avx512(float *y, const float *x, const float *w, int64_t n, float eps);
void lm_layernorm_avx512(float *y, const float *x, const float *w, const float *b, int64_t n,
                         float eps);
void lm_l2norm_avx512(float *y, const float *x, int64_t n, float eps);
void lm_softmax_avx512(float *y, const float *x, float scale, int64_t n);
void lm_rope_avx512(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                    enum lm_rope_mode mode);
void lm_attn_avx512(const struct lm_attn_row *a); /* F32 and F16 K/V */
size_t lm_attn_scratch_floats_avx512(int64_t G, int64_t hd);

void lm_silu_avx512(float *y, const float *x, int64_t n);
void lm_gelu_erf_avx512(float *y, const float *x, int64_t n);
void lm_gelu_tanh_avx512(float *y, const float *x, int64_t n);
void lm_swiglu_avx512(float *y, const float *g, const float *u, int64_t n);
void lm_add_avx512(float *y, const float *a, const float *b, int64_t n);
void lm_mul_avx512(float *y, const float *a, const float *b, int64_t n);
void lm_scale_avx512(float *y, const float *x, float s, int64_t n);
void lm_conv1d_avx512(float *y, const float *const *rows, const float *w, int64_t C, int64_t k);

/* Row hooks for tests/check_simd_math.c (simd/avx512/math_f32.c): y = exp(x), the softmax
 * exp, and silu over n floats, 16 lanes at a time, so the suite can sweep these helpers
 * whichever way this file was compiled (natively or through SIMDe). */
void lm_exp_avx512(float *y, const float *x, int64_t n);
void lm_exp_nonpos_avx512(float *y, const float *x, int64_t n);
void lm_silu16_avx512(float *y, const float *x, int64_t n);
/* ---- float matmuls : matmul_<dtype>.c, GEMV and packing in gemm.h, GEMM in
 * gemm_f32.c; scratch_size of all of them: lm_gemm_scratch_avx512 ---------------------------- */
void lm_mm_tile_f32_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_f16_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_bf16_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_gemm_scratch_avx512(int64_t M, int64_t K);
/* AVX512-BF16 (matmul_bf16_dpbf16.c): x split into bf16 hi + lo by prep */
void lm_mm_bf16_prep_dpbf16(void *dst, const float *x, int64_t K);
size_t lm_mm_bf16_prep_size_dpbf16(int64_t K);
void lm_mm_tile_bf16_dpbf16(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);

#endif
