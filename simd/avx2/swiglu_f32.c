/* simd/avx2/swiglu_f32.c - SwiGLU gate, AVX2 + FMA: y = silu(g) * u, elementwise.
 *
 * 8 lanes per step: lm_avx2_silu (avx2.h; within 5 ulp) times u, one more rounding. Unaligned
 * loads and stores; the tail (n % 8) uses masked loads and a masked store, so there is no
 * scalar loop and nothing past the rows is touched. y may alias g or u.
 */
#include "avx2.h"

void lm_swiglu_avx2(float *y, const float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(
            y + i, _mm256_mul_ps(lm_avx2_silu(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        __m256 v = lm_avx2_silu(_mm256_maskload_ps(g + i, m));
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(v, _mm256_maskload_ps(u + i, m)));
    }
}
