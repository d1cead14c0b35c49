/* simd/avx512/silu_f32.c - SiLU, AVX-512F: y = x * sigmoid(x), elementwise.
 *
 * lm_avx512_silu (avx512.h): e = exp(-|x|) by the inline 16-lane exp, then sigmoid from 1 + e
 * by vrcp14ps and a Newton step, picked by the sign of x; within 5 ulp of the double reference
 * while exp(-|x|) is normal; silu(-inf) = -0, silu(+inf) = +inf, NaN propagates. Two vectors per
 * step keep two independent ~30-op chains in flight (AVX-512 cores have the scheduler room that
 * the AVX2 kernel's two-pass blocking works around on Zen 3). The tail (n % 16) is a masked
 * load and store: no scalar loop, nothing past the row. y may alias x.
 */
#include "avx512.h"

void lm_silu_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = lm_avx512_silu(_mm512_loadu_ps(x + i));
        const __m512 b = lm_avx512_silu(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, lm_avx512_silu(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, lm_avx512_silu(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
