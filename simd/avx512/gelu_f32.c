/* simd/avx512/gelu_f32.c - GELU, AVX-512F + SLEEF (AVX2 entry points), elementwise, both forms.
 *
 *   erf form:  y = h * (1 + erf(x / sqrt 2)),                        h = x / 2
 *   tanh form: y = h * (1 + tanh(sqrt(2/pi) * x * (1 + 0.044715 x^2)))
 *
 * erf and tanh come from SLEEF's AVX2 functions (Sleef_erff8_u10avx2, Sleef_tanhf8_u10avx2:
 * 1 ulp) on the two 256-bit halves of each zmm: SLEEF's AVX-512 entry points need the real
 * registers and would not run in the SIMDe test build, and the AVX2 ones compute the same
 * values. The rest is 16 lanes wide, with the AVX2 kernel's error analysis: for x > 0 a few ulp
 * of the double reference; for x < 0, 1 + erf (or 1 + tanh) cancels in f32 and the error is
 * absolute, about |x| * 2^-24. h uses x clamped to >= -FLT_MAX so gelu(-inf) = h * (1 - 1) = -0
 * instead of NaN; +inf gives +inf and NaN propagates (vmaxps returns x when it is NaN). The
 * product form h * (1 + t), not fma(h, t, h), keeps the sign of zero results for large negative
 * x. x^2 may overflow to inf for |x| > 1.8e19: the argument is then +-inf and tanh gives +-1.
 *
 * 16 lanes per step. Unaligned loads and stores; the tail (n % 16) is a masked load and store,
 * so there is no scalar loop. y may alias x.
 */
#include "avx512.h"

static inline __m512 half_clamped(__m512 x) {
    return _mm512_mul_ps(_mm512_max_ps(_mm512_set1_ps(-FLT_MAX), x), _mm512_set1_ps(0.5f));
}

static inline __m512 join(__m256 lo, __m256 hi) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

static inline __m512 gelu_erf16(__m512 x) {
    const __m512 a = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f));
    const __m512 t = join(Sleef_erff8_u10avx2(_mm512_castps512_ps256(a)),
                          Sleef_erff8_u10avx2(_mm512_extractf32x8_ps(a, 1)));
    return _mm512_mul_ps(half_clamped(x), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
}

static inline __m512 gelu_tanh16(__m512 x) {
    const __m512 p =
        _mm512_fmadd_ps(_mm512_mul_ps(x, x), _mm512_set1_ps(0.044715f), _mm512_set1_ps(1.0f));
    const __m512 a = _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.79788456080286536f)), p);
    const __m512 t = join(Sleef_tanhf8_u10avx2(_mm512_castps512_ps256(a)),
                          Sleef_tanhf8_u10avx2(_mm512_extractf32x8_ps(a, 1)));
    return _mm512_mul_ps(half_clamped(x), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
}

void lm_gelu_erf_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, gelu_erf16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, gelu_erf16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void lm_gelu_tanh_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, gelu_tanh16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, gelu_tanh16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
