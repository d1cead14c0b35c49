/* simd/avx512/swiglu_f32.c - SwiGLU gate, AVX-512F: y = silu(g) * u, elementwise.
 *
 * As silu_f32.c (lm_avx512_silu, two vectors per step), times u: one more rounding on silu's
 * 5 ulp. The tail (n % 16) is zero-masked loads and a masked store: no scalar loop, nothing past
 * the rows. y may alias g or u.
 */
#include "avx512.h"

void lm_swiglu_avx512(float *y, const float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a =
            _mm512_mul_ps(lm_avx512_silu(_mm512_loadu_ps(g + i)), _mm512_loadu_ps(u + i));
        const __m512 b =
            _mm512_mul_ps(lm_avx512_silu(_mm512_loadu_ps(g + i + 16)), _mm512_loadu_ps(u + i + 16));
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(
            y + i, _mm512_mul_ps(lm_avx512_silu(_mm512_loadu_ps(g + i)), _mm512_loadu_ps(u + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        const __m512 v = lm_avx512_silu(_mm512_maskz_loadu_ps(m, g + i));
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, u + i)));
    }
}
