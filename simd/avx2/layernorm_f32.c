/* simd/avx2/layernorm_f32.c - LayerNorm row kernel, AVX2 + FMA.
 *
 * Three passes over the row (which a row-sized op keeps in L1/L2): the sum, then the centred
 * sum of squares sum((x - mean)^2), then the output (x - mean) * r * w + b. Two passes for the
 * variance avoid the cancellation of E[x^2] - mean^2 when |mean| >> std. Each reduction runs in
 * four independent 8-lane f32 accumulators (hides add/FMA latency), summed pairwise at the end.
 * Unaligned loads; the tail (n % 8) uses masked loads and stores, and the centred pass clears
 * the masked lanes (0 - mean is not 0), so there is no scalar loop and no access past the row.
 */
#include <immintrin.h>

#include "../kernels.h"
#include "avx2.h"

static float row_sum(const float *x, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(x + i));
        acc1 = _mm256_add_ps(acc1, _mm256_loadu_ps(x + i + 8));
        acc2 = _mm256_add_ps(acc2, _mm256_loadu_ps(x + i + 16));
        acc3 = _mm256_add_ps(acc3, _mm256_loadu_ps(x + i + 24));
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(x + i));
    if (i < n) acc1 = _mm256_add_ps(acc1, _mm256_maskload_ps(x + i, lm_avx2_tail_mask(n - i)));
    return lm_avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

/* sum((x - m)^2) */
static float row_centred_ss(const float *x, int64_t n, __m256 m) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
        __m256 b = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
        __m256 c = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), m);
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), m);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
        acc1 = _mm256_fmadd_ps(b, b, acc1);
        acc2 = _mm256_fmadd_ps(c, c, acc2);
        acc3 = _mm256_fmadd_ps(d, d, acc3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
    }
    if (i < n) {
        __m256i mask = lm_avx2_tail_mask(n - i);
        __m256 a = _mm256_sub_ps(_mm256_maskload_ps(x + i, mask), m);
        a = _mm256_and_ps(a, _mm256_castsi256_ps(mask));
        acc1 = _mm256_fmadd_ps(a, a, acc1);
    }
    return lm_avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

/* (x - m) * r * w + b for one vector; w, b NULL-able (the branches are loop-invariant). */
static inline __m256 ln_out(__m256 x, __m256 m, __m256 r, const float *w, const float *b, int64_t i,
                            __m256i mask, int masked) {
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(x, m), r);
    if (w) v = _mm256_mul_ps(v, masked ? _mm256_maskload_ps(w + i, mask) : _mm256_loadu_ps(w + i));
    if (b) v = _mm256_add_ps(v, masked ? _mm256_maskload_ps(b + i, mask) : _mm256_loadu_ps(b + i));
    return v;
}

void lm_layernorm_avx2(float *y, const float *x, const float *w, const float *b, int64_t n,
                       float eps) {
    float mean = row_sum(x, n) / (float)n;
    __m256 m = _mm256_set1_ps(mean);
    float var = row_centred_ss(x, n, m) / (float)n;
    __m256 r = _mm256_set1_ps(1.0f / sqrtf(var + eps));
    __m256i none = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, ln_out(_mm256_loadu_ps(x + i), m, r, w, b, i, none, 0));
    if (i < n) {
        __m256i mask = lm_avx2_tail_mask(n - i);
        _mm256_maskstore_ps(y + i, mask,
                            ln_out(_mm256_maskload_ps(x + i, mask), m, r, w, b, i, mask, 1));
    }
}
