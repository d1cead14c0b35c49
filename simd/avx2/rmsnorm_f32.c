/* simd/avx2/rmsnorm_f32.c - RMSNorm row kernel, AVX2 + FMA.
 *
 * Two passes over the row: sum of squares in four independent 8-lane f32 accumulators (hides
 * FMA latency), then scale. Unaligned loads; the tail (n % 8) uses masked loads and stores, so
 * there is no scalar loop and no read past the row. Accumulator: f32 lanes, summed pairwise.
 */
#include <immintrin.h>

#include "../kernels.h"
#include "avx2.h"

void lm_rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
        acc1 = _mm256_fmadd_ps(b, b, acc1);
        acc2 = _mm256_fmadd_ps(c, c, acc2);
        acc3 = _mm256_fmadd_ps(d, d, acc3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + i);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
    }
    if (i < n) {
        __m256 a = _mm256_maskload_ps(x + i, lm_avx2_tail_mask(n - i));
        acc1 = _mm256_fmadd_ps(a, a, acc1);
    }
    float ss = lm_avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    __m256 r = _mm256_set1_ps(1.0f / sqrtf(ss / (float)n + eps));
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), r);
        if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(y + i, v);
    }
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        __m256 v = _mm256_mul_ps(_mm256_maskload_ps(x + i, m), r);
        if (w) v = _mm256_mul_ps(v, _mm256_maskload_ps(w + i, m));
        _mm256_maskstore_ps(y + i, m, v);
    }
}
