/* simd/avx2/matmul_q5_k.c - y = x W^T for Q5_K W against Q8_K-prepared x rows, AVX2 + FMA.
 *
 * Math per (W row n, x row m, super-block i), as ops/matmul_k.c:
 *   acc += (d_w*d_x) * sum_j sc_j*dot(q_j, x_j) - (dmin_w*d_x) * sum_j m_j*(bsum_2j + bsum_2j+1)
 *   with q_j = nibble | (bit j of qh[l]) << 4, 0..31.
 * Tiling: as Q4_K (simd/avx2/matmul_q4_k.c): one W row against mr = 1..4 x rows per pass,
 *   ordered by lm_k_avx2_walk, so each W super-block is unpacked once per group of x rows.
 * Inner loop: per 32-byte load of qs (sub-blocks 2c, 2c+1) the nibbles are split; the fifth
 *   bits come from qh (one 32-byte load per super-block) shifted right by 2 per pair in 16-bit
 *   lanes, bits 0 and 1 moved to bit 4 and masked (the wanted bit never crosses its byte).
 *   maddubs (2*31*127 cannot saturate), madd with the scale broadcast (pshufb), int32 adds.
 * Accumulator: int32 lanes per super-block (256*31*127*63 < 2^31), then two f32 FMAs per
 *   super-block per x row into 8 lanes, summed at the end of the row.
 * Packing: none (file layout). Alignment: none (unaligned loads). Tail: none (K % 256 == 0).
 */
#include "quant_k_avx2.h"

static inline __attribute__((always_inline)) void rows_q5_k(const struct lm_mm *a, int64_t n,
                                                            int64_t m0, int mr) {
    const struct lm_block_q5_k *w = (const void *)(a->w + (size_t)n * a->ldw);
    const struct lm_block_q8_k *x[4];
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        x[r] = (const void *)(a->x + (size_t)(m0 + r) * a->ldx);
        acc[r] = _mm256_setzero_ps();
    }
    const __m256i low4 = _mm256_set1_epi8(0x0f), bit4 = _mm256_set1_epi8(0x10);
    const __m128i mdup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        __m128i sm = lm_k_avx2_scales(w->scales);
        __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, mdup));
        __m256i h = _mm256_loadu_si256((const __m256i *)w->qh);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(h, 4), bit4));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(h, 3), bit4));
            h = _mm256_srli_epi16(h, 2);
            __m256i s0 = lm_k_avx2_bcast16(sc, 2 * c), s1 = lm_k_avx2_bcast16(sc, 2 * c + 1);
            lm_k_avx2_dot64(isum, x, i, c, mr, lo, hi, s0, s1);
        }
        lm_k_avx2_finish_asym(acc, isum, x, i, mr, mins, w->d, w->dmin);
    }
    lm_k_avx2_store_rows(a, n, m0, mr, acc);
}

static void rows_q5_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 1); }
static void rows_q5_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 2); }
static void rows_q5_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 3); }
static void rows_q5_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 4); }

void lm_mm_q5_k_tile_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q5_k_1, rows_q5_k_2, rows_q5_k_3, rows_q5_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
