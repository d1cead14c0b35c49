/* simd/avx512/quant_q8_k.c - Q8_K activation prep for the K-quant matmuls, AVX-512.
 *
 * Contract (ops/matmul_k.c, lm_q8_k_prep_ref): per 256 floats, d = max|x| / 127 and
 * q = round-to-nearest-even(x * (127 / max|x|)) clamped to [-127, 127], bsums = sums of each 16
 * q; a block with max|x| < 1e-30 is all zero; a block with a NaN gets d = NaN. The bytes equal
 * the reference's: the max is exact in any order (vmaxps(|x|, acc) keeps acc when |x| is NaN,
 * as the scalar compare does), the scale is one scalar division, the product one vmulps, the
 * clamp vminps/vmaxps with the bound as the second operand (NaN takes the bound, as in the
 * scalar code), the rounding an add of 1.5 * 2^23 (the sum's spacing is 1, so the add rounds
 * |f| <= 127 to an integer, ties to even: lrintf's mode), whose low mantissa bits are then the
 * integer (an int32 subtract of the shifter's bits). Sums are exact integers.
 * Per 64 values: four 16-float vectors packed (vpackssdw, vpacksswb: no saturation within
 *   +-127) and put back in order by one vpermd (the packs interleave 4-byte pieces across
 *   128-bit lanes); bsums from the bytes: vpmaddubsw with ones, vpmaddwd with ones (sums of 4),
 *   then two rounds of vpackssdw + vpmaddwd that add 4-sums within each 128-bit lane, leaving
 *   group 4t+k at dword 4k+t, and the same vpermd transpose to order them.
 * Unaligned loads and stores; K % 256 == 0 (checked by the op), no tail.
 */
#include "quant_k_avx512.h"

void lm_q8_k_prep_avx512(void *dst, const float *x, int64_t K) {
    struct lm_block_q8_k *b = dst;
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    const __m512 shifter = _mm512_set1_ps(12582912.0f); /* 1.5 * 2^23: spacing 1 around it */
    const __m512i shifter_bits = _mm512_set1_epi32(0x4b400000), ones8 = _mm512_set1_epi8(1),
                  ones16 = _mm512_set1_epi16(1);
    /* dword 4k+t <- dword 4t+k: undoes the lane interleave of the packs */
    const __m512i tr = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (int64_t i = 0; i < K / LM_QK_K; i++, b++, x += LM_QK_K) {
        __m512 m0 = _mm512_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
        __mmask16 un = 0;
        for (int l = 0; l < LM_QK_K; l += 64) {
            __m512 a = _mm512_loadu_ps(x + l), b16 = _mm512_loadu_ps(x + l + 16);
            __m512 c = _mm512_loadu_ps(x + l + 32), e = _mm512_loadu_ps(x + l + 48);
            m0 = _mm512_max_ps(_mm512_abs_ps(a), m0);
            m1 = _mm512_max_ps(_mm512_abs_ps(b16), m1);
            m2 = _mm512_max_ps(_mm512_abs_ps(c), m2);
            m3 = _mm512_max_ps(_mm512_abs_ps(e), m3);
            /* NaN lanes: unordered compares of a with b16 and c with e catch any NaN in either */
            un |= _mm512_cmp_ps_mask(a, b16, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(c, e, _CMP_UNORD_Q);
        }
        __m512 mm = _mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3));
        float amax = lm_avx2_hmax(_mm256_max_ps(
            _mm512_castps512_ps256(mm),
            _mm256_castsi256_ps(_mm512_extracti64x4_epi64(_mm512_castps_si512(mm), 1))));
        const int nan = un != 0;
        if (!(amax >= 1e-30f)) {
            memset(b, 0, sizeof *b);
            if (nan) b->d = NAN;
            continue;
        }
        const __m512 id = _mm512_set1_ps(127.0f / amax);
        b->d = amax / 127.0f;
        __m512i s4[4]; /* per 64 values: 16 sums of 4 */
        for (int t = 0; t < 4; t++) {
            __m512i v[4];
            for (int k = 0; k < 4; k++) {
                __m512 f = _mm512_mul_ps(_mm512_loadu_ps(x + 64 * t + 16 * k), id);
                f = _mm512_max_ps(_mm512_min_ps(f, hi), lo);
                f = _mm512_add_ps(f, shifter); /* rounds f to an integer, ties to even */
                v[k] = _mm512_sub_epi32(_mm512_castps_si512(f), shifter_bits);
            }
            __m512i p =
                _mm512_packs_epi16(_mm512_packs_epi32(v[0], v[1]), _mm512_packs_epi32(v[2], v[3]));
            __m512i q = _mm512_permutexvar_epi32(tr, p);
            _mm512_storeu_si512(b->qs + 64 * t, q);
            s4[t] = _mm512_madd_epi16(_mm512_maddubs_epi16(ones8, q), ones16);
        }
        /* lane k of each round: the 4-sums 4k..4k+3 of two inputs, added in pairs, twice */
        __m512i r01 = _mm512_madd_epi16(_mm512_packs_epi32(s4[0], s4[1]), ones16);
        __m512i r23 = _mm512_madd_epi16(_mm512_packs_epi32(s4[2], s4[3]), ones16);
        __m512i g = _mm512_madd_epi16(_mm512_packs_epi32(r01, r23), ones16); /* 4k+t: 4t+k */
        _mm256_storeu_si256((__m256i *)b->bsums,
                            _mm512_cvtsepi32_epi16(_mm512_permutexvar_epi32(tr, g)));
        if (nan) b->d = NAN;
    }
}
