/* simd/avx512/rope_f32.c - rotary embedding of one head, AVX-512F.
 *
 * cs holds n_rot/2 (cos, sin) pairs, interleaved. Unaligned loads; no packing.
 *   ADJACENT: 16 lanes = 8 pairs of x line up with 8 (cos, sin) pairs of cs. cos and sin are
 *     duplicated into both lanes of a pair (vshufps), x is pair-swapped (vshufps) and one
 *     vfmaddsub gives (a c - b s, b c + a s) in the even / odd lanes.
 *   HALF: 16 first-half and 16 second-half lanes against 16 cos and 16 sin, deinterleaved from
 *     32 cs floats by two vpermt2ps; then fmsub / fmadd, no shuffles on x.
 * Tails (n_rot not a multiple of 16 or 32, and the copied dims [n_rot, hd)) are zero-masked
 * loads and masked stores, so nothing is read or written past the row. Each step loads its
 * inputs before it stores, and no later step reads what an earlier one wrote, so y may alias x.
 * f32 throughout; the same operations per element as the AVX2 kernel.
 */
#include "avx512.h"

static inline __m512 rotate_pairs(__m512 v, __m512 t) {
    const __m512 sw = _mm512_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)); /* (b, a) in each pair */
    const __m512 c = _mm512_shuffle_ps(t, t, _MM_SHUFFLE(2, 2, 0, 0));  /* (cos, cos) */
    const __m512 s = _mm512_shuffle_ps(t, t, _MM_SHUFFLE(3, 3, 1, 1));  /* (sin, sin) */
    return _mm512_fmaddsub_ps(v, c, _mm512_mul_ps(sw, s));
}

static void rope_adjacent(float *y, const float *x, const float *cs, int64_t n_rot) {
    int64_t i = 0;
    for (; i + 16 <= n_rot; i += 16)
        _mm512_storeu_ps(y + i, rotate_pairs(_mm512_loadu_ps(x + i), _mm512_loadu_ps(cs + i)));
    if (i < n_rot) {
        const __mmask16 m = lm_avx512_tail_mask(n_rot - i);
        _mm512_mask_storeu_ps(
            y + i, m,
            rotate_pairs(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, cs + i)));
    }
}

static void rope_half(float *y, const float *x, const float *cs, int64_t n_rot) {
    const int64_t h = n_rot / 2;
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    int64_t i = 0;
    for (; i + 16 <= h; i += 16) {
        const __m512 lo = _mm512_loadu_ps(cs + 2 * i), hi = _mm512_loadu_ps(cs + 2 * i + 16);
        const __m512 c = _mm512_permutex2var_ps(lo, even, hi),
                     s = _mm512_permutex2var_ps(lo, odd, hi);
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + h);
        _mm512_storeu_ps(y + i, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
        _mm512_storeu_ps(y + i + h, _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c)));
    }
    if (i < h) {
        const int64_t r = h - i; /* 1..15 pairs: 2..30 cs floats */
        const __mmask16 m = lm_avx512_tail_mask(r);
        const __m512 lo =
            _mm512_maskz_loadu_ps(lm_avx512_tail_mask(r >= 8 ? 16 : 2 * r), cs + 2 * i);
        const __m512 hi =
            _mm512_maskz_loadu_ps(lm_avx512_tail_mask(r > 8 ? 2 * r - 16 : 0), cs + 2 * i + 16);
        const __m512 c = _mm512_permutex2var_ps(lo, even, hi),
                     s = _mm512_permutex2var_ps(lo, odd, hi);
        const __m512 a = _mm512_maskz_loadu_ps(m, x + i), b = _mm512_maskz_loadu_ps(m, x + i + h);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
        _mm512_mask_storeu_ps(y + i + h, m, _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c)));
    }
}

void lm_rope_avx512(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                    enum lm_rope_mode mode) {
    if (mode == LM_ROPE_ADJACENT)
        rope_adjacent(y, x, cs, n_rot);
    else
        rope_half(y, x, cs, n_rot);
    if (y == x) return; /* the unrotated dims are already in place */
    int64_t i = n_rot;
    for (; i + 16 <= hd; i += 16)
        _mm512_storeu_ps(y + i, _mm512_loadu_ps(x + i));
    if (i < hd) {
        const __mmask16 m = lm_avx512_tail_mask(hd - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_maskz_loadu_ps(m, x + i));
    }
}
