/* simd/avx2/rope_f32.c - rotary embedding of one head, AVX2 + FMA.
 *
 * cs holds n_rot/2 (cos, sin) pairs, interleaved. Unaligned loads; no packing.
 *   ADJACENT: 8 lanes = 4 pairs of x line up with 4 (cos, sin) pairs of cs. cos and sin are
 *     duplicated into both lanes of a pair (movsldup / movshdup), x is pair-swapped (vpermilps)
 *     and one fmaddsub gives (a c - b s, b c + a s) in the even / odd lanes.
 *   HALF: 8 first-half and 8 second-half lanes against 8 cos and 8 sin, deinterleaved from 16
 *     cs floats with shufps + vpermpd; then fmsub / fmadd, no shuffles on x.
 * Tails (n_rot not a multiple of 8 or 16, and the copied dims [n_rot, hd)) use masked loads and
 * stores, so nothing is read or written past the row. Each step loads its inputs before it
 * stores, and no later step reads what an earlier one wrote, so y may alias x. f32 throughout.
 */
#include "avx2.h"

static void rope_adjacent(float *y, const float *x, const float *cs, int64_t n_rot) {
    int64_t i = 0;
    for (; i + 8 <= n_rot; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), t = _mm256_loadu_ps(cs + i);
        __m256 sw = _mm256_permute_ps(v, 0xb1); /* (b, a) in each pair */
        __m256 r =
            _mm256_fmaddsub_ps(v, _mm256_moveldup_ps(t), _mm256_mul_ps(sw, _mm256_movehdup_ps(t)));
        _mm256_storeu_ps(y + i, r);
    }
    if (i < n_rot) {
        __m256i m = lm_avx2_tail_mask(n_rot - i);
        __m256 v = _mm256_maskload_ps(x + i, m), t = _mm256_maskload_ps(cs + i, m);
        __m256 sw = _mm256_permute_ps(v, 0xb1);
        __m256 r =
            _mm256_fmaddsub_ps(v, _mm256_moveldup_ps(t), _mm256_mul_ps(sw, _mm256_movehdup_ps(t)));
        _mm256_maskstore_ps(y + i, m, r);
    }
}

/* cos (even) and sin (odd) of 8 interleaved pairs held in lo (pairs 0-3) and hi (pairs 4-7). */
static inline void split_cs(__m256 lo, __m256 hi, __m256 *c, __m256 *s) {
    /* shufps works per 128-bit lane: (c0 c1 c4 c5 | c2 c3 c6 c7); vpermpd puts pairs in order */
    __m256 ce = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 so = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    *c = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ce), _MM_SHUFFLE(3, 1, 2, 0)));
    *s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(so), _MM_SHUFFLE(3, 1, 2, 0)));
}

static void rope_half(float *y, const float *x, const float *cs, int64_t n_rot) {
    const int64_t h = n_rot / 2;
    int64_t i = 0;
    __m256 c, s;
    for (; i + 8 <= h; i += 8) {
        split_cs(_mm256_loadu_ps(cs + 2 * i), _mm256_loadu_ps(cs + 2 * i + 8), &c, &s);
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + h);
        _mm256_storeu_ps(y + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
        _mm256_storeu_ps(y + i + h, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)));
    }
    if (i < h) {
        const int64_t r = h - i; /* 1..7 pairs: 2..14 cs floats */
        __m256i m = lm_avx2_tail_mask(r);
        __m256 lo = _mm256_maskload_ps(cs + 2 * i, lm_avx2_tail_mask(r >= 4 ? 8 : 2 * r));
        __m256 hi = _mm256_maskload_ps(cs + 2 * i + 8, lm_avx2_tail_mask(r > 4 ? 2 * r - 8 : 0));
        split_cs(lo, hi, &c, &s);
        __m256 a = _mm256_maskload_ps(x + i, m), b = _mm256_maskload_ps(x + i + h, m);
        _mm256_maskstore_ps(y + i, m, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
        _mm256_maskstore_ps(y + i + h, m, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)));
    }
}

void lm_rope_avx2(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                  enum lm_rope_mode mode) {
    if (mode == LM_ROPE_ADJACENT)
        rope_adjacent(y, x, cs, n_rot);
    else
        rope_half(y, x, cs, n_rot);
    if (y == x) return; /* the unrotated dims are already in place */
    int64_t i = n_rot;
    for (; i + 8 <= hd; i += 8)
        _mm256_storeu_ps(y + i, _mm256_loadu_ps(x + i));
    if (i < hd) {
        __m256i m = lm_avx2_tail_mask(hd - i);
        _mm256_maskstore_ps(y + i, m, _mm256_maskload_ps(x + i, m));
    }
}
