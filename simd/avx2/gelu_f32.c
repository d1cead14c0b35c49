/* simd/avx2/gelu_f32.c - GELU, AVX2 + FMA + SLEEF, elementwise, both forms.
 *
 *   erf form:  y = h * (1 + erf(x / sqrt 2)),                        h = x / 2
 *   tanh form: y = h * (1 + tanh(sqrt(2/pi) * x * (1 + 0.044715 x^2)))
 *
 * erf and tanh come from SLEEF (Sleef_erff8_u10avx2, Sleef_tanhf8_u10avx2: 1 ulp). For x > 0
 * the result is within a few ulp of the double reference; for x < 0, 1 + erf (or 1 + tanh)
 * cancels in f32 and the error is absolute, about |x| * 2^-24. h uses x clamped to >= -FLT_MAX
 * so gelu(-inf) = h * (1 - 1) = -0 instead of NaN; +inf gives +inf and NaN propagates (max_ps
 * returns its second operand, x, for NaN). The product form h * (1 + t), not fma(h, t, h), keeps
 * the sign of zero results for large negative x. x^2 may overflow to inf for |x| > 1.8e19:
 * then the argument is +-inf and tanh gives +-1, the right limit.
 *
 * 8 lanes per step, no unrolling (the SLEEF call dominates). Unaligned loads and stores; the
 * tail (n % 8) uses a masked load and store, so there is no scalar loop. y may alias x.
 */
#include "avx2.h"

static inline __m256 half_clamped(__m256 x) {
    return _mm256_mul_ps(_mm256_max_ps(_mm256_set1_ps(-FLT_MAX), x), _mm256_set1_ps(0.5f));
}

static inline __m256 gelu_erf8(__m256 x) {
    __m256 t = Sleef_erff8_u10avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(half_clamped(x), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
}

static inline __m256 gelu_tanh8(__m256 x) {
    __m256 p =
        _mm256_fmadd_ps(_mm256_mul_ps(x, x), _mm256_set1_ps(0.044715f), _mm256_set1_ps(1.0f));
    __m256 u = _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.79788456080286536f)), p);
    __m256 t = Sleef_tanhf8_u10avx2(u);
    return _mm256_mul_ps(half_clamped(x), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
}

void lm_gelu_erf_avx2(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, gelu_erf8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, gelu_erf8(_mm256_maskload_ps(x + i, m)));
    }
}

void lm_gelu_tanh_avx2(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, gelu_tanh8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, gelu_tanh8(_mm256_maskload_ps(x + i, m)));
    }
}
