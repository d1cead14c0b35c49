/* simd/avx2/avx2.h - AVX2 kernel declarations and the small helpers they share.
 *
 * Only files compiled with -mavx2 -mfma -mf16c include this. Helpers are static inline and
 * spell out their intrinsics; there is no macro layer.
 */
#ifndef LMRT_SIMD_AVX2_H
#define LMRT_SIMD_AVX2_H

#include <immintrin.h>
#include <math.h>

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

/* matmul (simd/avx2/matmul_<dtype>.c; shared GEMV and packing in gemm.h, GEMM in gemm_f32.c) */
void lm_mm_tile_f32_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_f16_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_bf16_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_gemm_scratch_avx2(int64_t M, int64_t K); /* scratch_size of all three */

/* quantize / dequantize (simd/avx2/quant_<dtype>.c) */

/* norms, softmax, rope, attention */

/* elementwise, gather, conv */

#endif
