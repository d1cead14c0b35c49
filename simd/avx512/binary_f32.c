/* simd/avx512/binary_f32.c - elementwise add, mul and scale, AVX-512F.
 *
 * Streaming kernels: 64 floats per step in four independent zmm vectors (enough loads in
 * flight to keep the memory pipes busy), then 16 per step, then one masked load/store for the
 * tail (n % 16): no scalar loop, nothing touched past the rows. Unaligned loads and stores (the
 * ops hand out 64-byte-aligned ranges for contiguous tensors, so a zmm access usually stays in
 * one cache line anyway). One f32 operation per element, so results equal the reference bit for
 * bit. y may alias an input.
 */
#include "avx512.h"

void lm_add_avx512(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 v0 = _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        const __m512 v1 = _mm512_add_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        const __m512 v2 = _mm512_add_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        const __m512 v3 = _mm512_add_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        _mm512_storeu_ps(y + i, v0);
        _mm512_storeu_ps(y + i + 16, v1);
        _mm512_storeu_ps(y + i + 32, v2);
        _mm512_storeu_ps(y + i + 48, v3);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(
            y + i, m,
            _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

void lm_mul_avx512(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 v0 = _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        const __m512 v1 = _mm512_mul_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        const __m512 v2 = _mm512_mul_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        const __m512 v3 = _mm512_mul_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        _mm512_storeu_ps(y + i, v0);
        _mm512_storeu_ps(y + i + 16, v1);
        _mm512_storeu_ps(y + i + 32, v2);
        _mm512_storeu_ps(y + i + 48, v3);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(
            y + i, m,
            _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

void lm_scale_avx512(float *y, const float *x, float s, int64_t n) {
    const __m512 sv = _mm512_set1_ps(s);
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 v0 = _mm512_mul_ps(_mm512_loadu_ps(x + i), sv);
        const __m512 v1 = _mm512_mul_ps(_mm512_loadu_ps(x + i + 16), sv);
        const __m512 v2 = _mm512_mul_ps(_mm512_loadu_ps(x + i + 32), sv);
        const __m512 v3 = _mm512_mul_ps(_mm512_loadu_ps(x + i + 48), sv);
        _mm512_storeu_ps(y + i, v0);
        _mm512_storeu_ps(y + i + 16, v1);
        _mm512_storeu_ps(y + i + 32, v2);
        _mm512_storeu_ps(y + i + 48, v3);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), sv));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), sv));
    }
}
