/* simd/avx512/softmax_f32.c - softmax row kernel, AVX-512F with the inline exp of avx512.h.
 *
 * Three passes over the row, 16 lanes at a time, unaligned loads (as simd/avx2/softmax_f32.c):
 *   1. max of v = x * scale (two accumulators), and an unordered-compare mask for NaN, which
 *      vmaxps would skip; a NaN or +inf row is NaN and an all -inf row zeros, decided here;
 *   2. e = exp(v - max) with lm_avx512_exp_nonpos (arguments are <= 0 or -inf once pass 1 ruled
 *      out NaN and +inf; <= 2 ulp, and terms below 2.7e-38 of the max dropped), stored into y
 *      and summed in two f32 accumulators (two vectors per step keep two exps in flight);
 *   3. y *= 1 / sum.
 * v is the f32 product x * scale, recomputed in pass 2 (same rounding as the reference, which
 * also rounds v to f32 before subtracting the max in double). The tail (n % 16) is a
 * zero-masked load and a masked store: masked-off lanes count as -inf in pass 1 and are zero
 * in pass 2, so nothing is read or written past the row. y may alias x. Special rows follow
 * lm_softmax_ref: all -inf -> zeros, any NaN or +inf -> NaN.
 */
#include "avx512.h"

static inline __m512 load_v(const float *x, __m512 s) {
    return _mm512_mul_ps(_mm512_loadu_ps(x), s);
}

void lm_softmax_avx512(float *y, const float *x, float scale, int64_t n) {
    const __m512 s = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-INFINITY);
    __m512 m0 = ninf, m1 = ninf;
    __mmask16 u = 0;
    int64_t i = 0;
    /* pass 1: max, and whether any v is NaN (vmaxps returns its second operand when either is
     * NaN, so the max alone would skip it) */
    for (; i + 32 <= n; i += 32) {
        const __m512 a = load_v(x + i, s), b = load_v(x + i + 16, s);
        m0 = _mm512_max_ps(a, m0);
        m1 = _mm512_max_ps(b, m1);
        u |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); /* either lane NaN: one compare for both */
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 a = load_v(x + i, s);
        m0 = _mm512_max_ps(a, m0);
        u |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
    }
    const __mmask16 tm = lm_avx512_tail_mask(n - i); /* tail lanes, 0..15 */
    if (tm) { /* masked-off lanes load as 0: never NaN, and kept at -inf for the max */
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, x + i), s);
        m1 = _mm512_max_ps(_mm512_mask_mov_ps(ninf, tm, v), m1);
        u |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    const float mx = lm_avx512_hmax(_mm512_max_ps(m0, m1));
    if (u || mx == INFINITY || mx == -INFINITY) {
        /* a NaN or +inf makes the row NaN; nothing above -inf makes it zeros */
        const __m512 f = _mm512_set1_ps(u || mx == INFINITY ? NAN : 0.0f);
        for (i = 0; i + 16 <= n; i += 16)
            _mm512_storeu_ps(y + i, f);
        if (tm) _mm512_mask_storeu_ps(y + i, tm, f);
        return;
    }

    /* pass 2: exp and sum */
    const __m512 m = _mm512_set1_ps(mx);
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    for (i = 0; i + 32 <= n; i += 32) {
        const __m512 e0 = lm_avx512_exp_nonpos(_mm512_sub_ps(load_v(x + i, s), m));
        const __m512 e1 = lm_avx512_exp_nonpos(_mm512_sub_ps(load_v(x + i + 16, s), m));
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 e = lm_avx512_exp_nonpos(_mm512_sub_ps(load_v(x + i, s), m));
        _mm512_storeu_ps(y + i, e);
        s0 = _mm512_add_ps(s0, e);
    }
    if (tm) {
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, x + i), s);
        const __m512 e = _mm512_maskz_mov_ps(tm, lm_avx512_exp_nonpos(_mm512_sub_ps(v, m)));
        _mm512_mask_storeu_ps(y + i, tm, e);
        s1 = _mm512_add_ps(s1, e);
    }

    /* pass 3: normalise */
    const __m512 r = _mm512_set1_ps(1.0f / lm_avx512_hsum(_mm512_add_ps(s0, s1)));
    for (i = 0; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), r));
        _mm512_storeu_ps(y + i + 16, _mm512_mul_ps(_mm512_loadu_ps(y + i + 16), r));
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), r));
    if (tm) _mm512_mask_storeu_ps(y + i, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, y + i), r));
}
