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
void lm_mm_q4_0_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_0_scratch_avx2(int64_t M, int64_t K);
void lm_mm_q4_1_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);

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

/* silu(x) = x * sigmoid(x) for 8 lanes (silu_f32.c and swiglu_f32.c). With e = exp(-|x|) in
 * (0, 1], sigmoid(|x|) = 1 / (1 + e) and sigmoid(-|x|) = e / (1 + e): exp never overflows, so
 * there is no cancellation or inf / inf anywhere, and tiny results for x << 0 stay accurate.
 * The blend picks by the sign bit of x. x is clamped to >= -FLT_MAX for the final product so
 * silu(-inf) = -FLT_MAX * 0 = -0 (max_ps returns its second operand, x, when x is NaN).
 * Error: exp 1 ulp + 1 + e, division, product: within 4 ulp. */
static inline __m256 lm_avx2_silu(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = Sleef_expf8_u10avx2(_mm256_or_ps(x, _mm256_set1_ps(-0.0f))); /* exp(-|x|) */
    __m256 r = _mm256_div_ps(one, _mm256_add_ps(one, e));
    __m256 s = _mm256_blendv_ps(r, _mm256_mul_ps(e, r), x);
    return _mm256_mul_ps(_mm256_max_ps(_mm256_set1_ps(-FLT_MAX), x), s);
}

#endif
