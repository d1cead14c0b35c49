/* simd/avx2/swiglu_f32.c - SwiGLU gate, AVX2 + FMA: y = silu(g) * u, elementwise.
 *
 * As silu_f32.c (blocks of exp(-|g|) into an L1 buffer, then the 8-lane finish; the rest 8 lanes
 * at a time through lm_avx2_silu, bit-identical), times u: one more rounding on silu's 5 ulp.
 * The tail (n % 8) uses masked loads and a masked store, so there is no scalar loop and nothing
 * past the rows is touched. y may alias g or u.
 */
#include "avx2.h"

void lm_swiglu_avx2(float *y, const float *g, const float *u, int64_t n) {
    float e[LM_AVX2_SILU_BLOCK] __attribute__((aligned(32)));
    int64_t i = 0;
    for (; i + LM_AVX2_SILU_BLOCK <= n; i += LM_AVX2_SILU_BLOCK) {
        lm_avx2_exp_neg_abs_block(e, g + i);
        for (int j = 0; j < LM_AVX2_SILU_BLOCK; j += 8) {
            __m256 v = lm_avx2_silu_finish(_mm256_loadu_ps(g + i + j), _mm256_load_ps(e + j));
            _mm256_storeu_ps(y + i + j, _mm256_mul_ps(v, _mm256_loadu_ps(u + i + j)));
        }
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(
            y + i, _mm256_mul_ps(lm_avx2_silu(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        __m256 v = lm_avx2_silu(_mm256_maskload_ps(g + i, m));
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(v, _mm256_maskload_ps(u + i, m)));
    }
}
