/* simd/avx512/rmsnorm_f32.c - RMSNorm row kernel, AVX-512F.
 *
 * Two passes over the row: the sum of squares in four independent 16-lane f32 accumulators
 * (64 floats per step, enough FMA chains to cover the latency on two FMA ports), summed
 * pairwise; then y = x * r (* w). Unaligned loads; the tail (n % 16) is a zero-masked load and a
 * masked store, so there is no scalar loop and nothing past the row is touched. y may alias x.
 */
#include "avx512.h"

void lm_rmsnorm_avx512(float *y, const float *x, const float *w, int64_t n, float eps) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        const __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
        acc0 = _mm512_fmadd_ps(a, a, acc0);
        acc1 = _mm512_fmadd_ps(b, b, acc1);
        acc2 = _mm512_fmadd_ps(c, c, acc2);
        acc3 = _mm512_fmadd_ps(d, d, acc3);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 a = _mm512_loadu_ps(x + i);
        acc0 = _mm512_fmadd_ps(a, a, acc0);
    }
    if (i < n) {
        const __m512 a = _mm512_maskz_loadu_ps(lm_avx512_tail_mask(n - i), x + i);
        acc1 = _mm512_fmadd_ps(a, a, acc1);
    }
    const float ss =
        lm_avx512_hsum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
    const __m512 r = _mm512_set1_ps(1.0f / sqrtf(ss / (float)n + eps));
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), r);
        if (w) v = _mm512_mul_ps(v, _mm512_loadu_ps(w + i));
        _mm512_storeu_ps(y + i, v);
    }
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), r);
        if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}
