/* simd/avx2/l2norm_f32.c - L2 normalisation row kernel, AVX2 + FMA: y = x / max(||x||, eps).
 *
 * Two passes: sum of squares in four independent 8-lane f32 accumulators (hides FMA latency),
 * summed pairwise; then y = x * (1 / max(sqrt(ss), eps)), where a NaN norm propagates as in the
 * reference. Unaligned loads; the tail (n % 8) uses masked loads and stores, so there is no
 * scalar loop and no access past the row. Accumulator: f32 lanes.
 */
#include <immintrin.h>

#include "../kernels.h"
#include "avx2.h"

void lm_l2norm_avx2(float *y, const float *x, int64_t n, float eps) {
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
    float norm =
        sqrtf(lm_avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3))));
    if (norm < eps) norm = eps; /* false for NaN: it propagates */
    __m256 r = _mm256_set1_ps(1.0f / norm);
    for (i = 0; i + 32 <= n; i += 32) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), r));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), r));
        _mm256_storeu_ps(y + i + 16, _mm256_mul_ps(_mm256_loadu_ps(x + i + 16), r));
        _mm256_storeu_ps(y + i + 24, _mm256_mul_ps(_mm256_loadu_ps(x + i + 24), r));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), r));
    if (i < n) {
        __m256i m = lm_avx2_tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), r));
    }
}
