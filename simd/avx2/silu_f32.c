/* simd/avx2/silu_f32.c - SiLU, AVX2 + FMA: y = x * sigmoid(x), elementwise.
 *
 * 8 lanes per step through lm_avx2_silu (avx2.h: exp(-|x|) from the inline lm_avx2_exp, then a
 * division and a sign-selected product; within 5 ulp of the double reference; silu(-inf) = -0,
 * silu(+inf) = +inf, NaN propagates). No unrolling: independent lanes already fill the FMA
 * pipes. Unaligned loads and stores; the tail (n % 8) uses a masked load and store, so
 * there is no scalar loop and nothing past the row is touched. y may alias x.
 */
#include "avx2.h"

void lm_silu_avx2(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, lm_avx2_silu(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, lm_avx2_silu(_mm256_maskload_ps(x + i, m)));
    }
}
