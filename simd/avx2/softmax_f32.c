/* simd/avx2/softmax_f32.c - softmax row kernel, AVX2 + FMA with the inline exp of avx2.h.
 *
 * Three passes over the row, 8 lanes at a time, unaligned loads:
 *   1. max of v = x * scale (two accumulators), and an unordered-compare flag for NaN, which
 *      vmaxps would skip; a NaN or +inf row is NaN and an all -inf row zeros, decided here;
 *   2. e = exp(v - max) with lm_avx2_exp_nonpos (arguments are <= 0 or -inf once pass 1 ruled
 *      out NaN and +inf; <= 2 ulp, and terms below 2.7e-38 of the max dropped), stored into y
 *      and summed in two f32 accumulators (two vectors per step keep two exps in flight);
 *   3. y *= 1 / sum.
 * v is the f32 product x * scale, recomputed in pass 2 (same rounding as the reference, which
 * also rounds v to f32 before subtracting the max in double). The tail (n % 8) uses masked
 * loads and stores: masked lanes count as -inf in pass 1 and are dropped from the sum in pass 2,
 * so nothing is read or written past the row. y may alias x. Special rows follow lm_softmax_ref:
 * all -inf -> zeros, any NaN or +inf -> NaN.
 */
#include "avx2.h"

static inline __m256 load_v(const float *x, __m256 s) {
    return _mm256_mul_ps(_mm256_loadu_ps(x), s);
}

void lm_softmax_avx2(float *y, const float *x, float scale, int64_t n) {
    const __m256 s = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
    __m256 m0 = ninf, m1 = ninf, u0 = _mm256_setzero_ps(), u1 = u0;
    int64_t i = 0;
    /* pass 1: max, and whether any v is NaN (vmaxps would skip it: it returns its second
     * operand when either is NaN) */
    for (; i + 16 <= n; i += 16) {
        const __m256 a = load_v(x + i, s), b = load_v(x + i + 8, s);
        m0 = _mm256_max_ps(a, m0);
        m1 = _mm256_max_ps(b, m1);
        u0 = _mm256_or_ps(u0, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
        u1 = _mm256_or_ps(u1, _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 a = load_v(x + i, s);
        m0 = _mm256_max_ps(a, m0);
        u0 = _mm256_or_ps(u0, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
    }
    const int64_t nt = n - i; /* tail lanes, 0..7 */
    const __m256i tm = lm_avx2_tail_mask(nt);
    if (nt) { /* masked-off lanes load as 0: never NaN, and replaced by -inf for the max */
        __m256 v = _mm256_mul_ps(_mm256_maskload_ps(x + i, tm), s);
        m1 = _mm256_max_ps(_mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(tm)), m1);
        u1 = _mm256_or_ps(u1, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    const float mx = lm_avx2_hmax(_mm256_max_ps(m0, m1));
    const bool has_nan = _mm256_movemask_ps(_mm256_or_ps(u0, u1)) != 0;
    if (has_nan || mx == INFINITY || mx == -INFINITY) {
        /* a NaN or +inf makes the row NaN; nothing above -inf makes it zeros */
        const __m256 f = _mm256_set1_ps(has_nan || mx == INFINITY ? NAN : 0.0f);
        for (i = 0; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, f);
        if (nt) _mm256_maskstore_ps(y + i, tm, f);
        return;
    }

    /* pass 2: exp and sum */
    const __m256 m = _mm256_set1_ps(mx);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    for (i = 0; i + 16 <= n; i += 16) {
        __m256 e0 = lm_avx2_exp_nonpos(_mm256_sub_ps(load_v(x + i, s), m));
        __m256 e1 = lm_avx2_exp_nonpos(_mm256_sub_ps(load_v(x + i + 8, s), m));
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 e = lm_avx2_exp_nonpos(_mm256_sub_ps(load_v(x + i, s), m));
        _mm256_storeu_ps(y + i, e);
        s0 = _mm256_add_ps(s0, e);
    }
    if (nt) {
        __m256 v = _mm256_mul_ps(_mm256_maskload_ps(x + i, tm), s);
        __m256 e = lm_avx2_exp_nonpos(_mm256_sub_ps(v, m));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(tm));
        _mm256_maskstore_ps(y + i, tm, e);
        s1 = _mm256_add_ps(s1, e);
    }

    /* pass 3: normalise */
    const __m256 r = _mm256_set1_ps(1.0f / lm_avx2_hsum(_mm256_add_ps(s0, s1)));
    for (i = 0; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), r));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(y + i + 8), r));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), r));
    if (nt) _mm256_maskstore_ps(y + i, tm, _mm256_mul_ps(_mm256_maskload_ps(y + i, tm), r));
}
