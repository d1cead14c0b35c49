/* simd/avx512/layernorm_f32.c - LayerNorm row kernel, AVX-512F.
 *
 * Three passes over the row (which a row-sized op keeps in L1/L2): the sum, then the centred
 * sum of squares sum((x - mean)^2), then the output (x - mean) * r * w + b. Two passes for the
 * variance avoid the cancellation of E[x^2] - mean^2 when |mean| >> std. Each reduction runs in
 * four independent 16-lane f32 accumulators (64 floats per step), summed pairwise at the end.
 * Unaligned loads; the tail (n % 16) is a zero-masked load and a masked store, and the centred
 * pass subtracts the mean under the same mask (zero-masking: 0 - mean is not 0), so there is
 * no scalar loop and no access past the row. y may alias x.
 */
#include "avx512.h"

static float row_sum(const float *x, int64_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(x + i));
        acc1 = _mm512_add_ps(acc1, _mm512_loadu_ps(x + i + 16));
        acc2 = _mm512_add_ps(acc2, _mm512_loadu_ps(x + i + 32));
        acc3 = _mm512_add_ps(acc3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i + 16 <= n; i += 16)
        acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(x + i));
    if (i < n) acc1 = _mm512_add_ps(acc1, _mm512_maskz_loadu_ps(lm_avx512_tail_mask(n - i), x + i));
    return lm_avx512_hsum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/* sum((x - m)^2) */
static float row_centred_ss(const float *x, int64_t n, __m512 m) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 a = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
        const __m512 b = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), m);
        const __m512 c = _mm512_sub_ps(_mm512_loadu_ps(x + i + 32), m);
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i + 48), m);
        acc0 = _mm512_fmadd_ps(a, a, acc0);
        acc1 = _mm512_fmadd_ps(b, b, acc1);
        acc2 = _mm512_fmadd_ps(c, c, acc2);
        acc3 = _mm512_fmadd_ps(d, d, acc3);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 a = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
        acc0 = _mm512_fmadd_ps(a, a, acc0);
    }
    if (i < n) {
        const __mmask16 mask = lm_avx512_tail_mask(n - i);
        const __m512 a = _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, x + i), m);
        acc1 = _mm512_fmadd_ps(a, a, acc1);
    }
    return lm_avx512_hsum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/* (x - m) * r * w + b for the 16 floats at i, or only the lanes of mask when tail is set;
 * w, b NULL-able (the branches are loop-invariant). */
static inline __m512 load16(const float *p, __mmask16 mask, bool tail) {
    return tail ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
}

static inline __m512 ln_out(const float *x, __m512 m, __m512 r, const float *w, const float *b,
                            int64_t i, __mmask16 mask, bool tail) {
    __m512 v = _mm512_mul_ps(_mm512_sub_ps(load16(x + i, mask, tail), m), r);
    if (w) v = _mm512_mul_ps(v, load16(w + i, mask, tail));
    if (b) v = _mm512_add_ps(v, load16(b + i, mask, tail));
    return v;
}

void lm_layernorm_avx512(float *y, const float *x, const float *w, const float *b, int64_t n,
                         float eps) {
    const float mean = row_sum(x, n) / (float)n;
    const __m512 m = _mm512_set1_ps(mean);
    const float var = row_centred_ss(x, n, m) / (float)n;
    const __m512 r = _mm512_set1_ps(1.0f / sqrtf(var + eps));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, ln_out(x, m, r, w, b, i, 0, false));
    if (i < n) {
        const __mmask16 mask = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, mask, ln_out(x, m, r, w, b, i, mask, true));
    }
}
