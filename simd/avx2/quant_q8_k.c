/* simd/avx2/quant_q8_k.c - Q8_K activation prep for the K-quant matmuls, AVX2.
 *
 * Contract (ops/matmul_k.c, lm_q8_k_prep_ref): per 256 floats, d = max|x| / 127 and
 * q = round-to-nearest-even(x * (127 / max|x|)) clamped to [-127, 127], bsums = sums of each 16
 * q; a block with max|x| < 1e-30 is all zero; a block with a NaN gets d = NaN. The bytes equal
 * the reference's: the max is exact
 * in any order (maxps(|x|, acc) keeps acc when |x| is NaN, as the scalar compare does), the
 * scale is one scalar division, the product one mulps, the clamp minps/maxps with the bound as
 * the second operand (NaN takes the bound, as in the scalar code), and cvtps2dq rounds to
 * nearest even like lrintf. Sums are exact in int32.
 * Per 32 values: four 8-float loads, packs to int16 (one 16-group per register) and int8, with a
 * dword permute to undo the in-lane interleave of the packs. Unaligned; K % 256 == 0, no tail.
 */
#include "../quant_k.h"
#include "avx2.h"

/* The 8 int32 lane sums of s[0..3] as 4 int32: (sum s0, sum s1, sum s2, sum s3). */
static inline __m128i hsum4_epi32(const __m256i s[4]) {
    __m256i a = _mm256_hadd_epi32(s[0], s[1]), b = _mm256_hadd_epi32(s[2], s[3]);
    __m256i c = _mm256_hadd_epi32(a, b);
    return _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
}

void lm_q8_k_prep_avx2(void *dst, const float *x, int64_t K) {
    struct lm_block_q8_k *b = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f), hi = _mm256_set1_ps(127.0f),
                 lo = _mm256_set1_ps(-127.0f);
    const __m256i ones = _mm256_set1_epi16(1), perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t i = 0; i < K / LM_QK_K; i++, b++, x += LM_QK_K) {
        __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0, un = m0;
        for (int l = 0; l < LM_QK_K; l += 32) {
            __m256 a = _mm256_loadu_ps(x + l), b8 = _mm256_loadu_ps(x + l + 8);
            __m256 c = _mm256_loadu_ps(x + l + 16), e = _mm256_loadu_ps(x + l + 24);
            m0 = _mm256_max_ps(_mm256_andnot_ps(sign, a), m0);
            m1 = _mm256_max_ps(_mm256_andnot_ps(sign, b8), m1);
            m2 = _mm256_max_ps(_mm256_andnot_ps(sign, c), m2);
            m3 = _mm256_max_ps(_mm256_andnot_ps(sign, e), m3);
            /* NaN lanes: unordered compares of a with b8 and c with e catch any NaN in either */
            un = _mm256_or_ps(un, _mm256_or_ps(_mm256_cmp_ps(a, b8, _CMP_UNORD_Q),
                                               _mm256_cmp_ps(c, e, _CMP_UNORD_Q)));
        }
        float amax = lm_avx2_hmax(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
        int nan = _mm256_movemask_ps(un) != 0;
        if (!(amax >= 1e-30f)) {
            memset(b, 0, sizeof *b);
            if (nan) b->d = NAN;
            continue;
        }
        __m256 id = _mm256_set1_ps(127.0f / amax);
        b->d = amax / 127.0f;
        __m256i sums[16];
        for (int l = 0; l < LM_QK_K; l += 32) {
            __m256i v[4];
            for (int k = 0; k < 4; k++) {
                __m256 f = _mm256_mul_ps(_mm256_loadu_ps(x + l + 8 * k), id);
                f = _mm256_max_ps(_mm256_min_ps(f, hi), lo);
                v[k] = _mm256_cvtps_epi32(f);
            }
            __m256i p01 = _mm256_packs_epi32(v[0], v[1]); /* the 16 values of group l/16 */
            __m256i p23 = _mm256_packs_epi32(v[2], v[3]); /* group l/16 + 1 */
            sums[l / 16] = _mm256_madd_epi16(p01, ones);
            sums[l / 16 + 1] = _mm256_madd_epi16(p23, ones);
            __m256i q = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), perm);
            _mm256_storeu_si256((__m256i *)(b->qs + l), q);
        }
        __m128i s0 = hsum4_epi32(sums), s1 = hsum4_epi32(sums + 4);
        __m128i s2 = hsum4_epi32(sums + 8), s3 = hsum4_epi32(sums + 12);
        _mm_storeu_si128((__m128i *)b->bsums, _mm_packs_epi32(s0, s1));
        _mm_storeu_si128((__m128i *)(b->bsums + 8), _mm_packs_epi32(s2, s3));
        if (nan) b->d = NAN;
    }
}
