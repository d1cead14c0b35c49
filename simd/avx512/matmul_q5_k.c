/* simd/avx512/matmul_q5_k.c - y = x W^T for Q5_K W against Q8_K-prepared x rows, AVX-512BW.
 *
 * Math per (W row n, x row m, super-block i), as ops/matmul_k.c:
 *   acc += (d_w*d_x) * sum_j sc_j*dot(q_j, x_j) - (dmin_w*d_x) * sum_j m_j*(bsum_2j + bsum_2j+1)
 *   with q_j = nibble | (bit j of qh[l]) << 4, 0..31.
 * Tiling: as Q4_K (simd/avx512/matmul_q4_k.c): one W row against mr = 1..4 x rows per pass,
 *   ordered by lm_k_avx2_walk, so each W super-block is unpacked once per group of x rows.
 * Inner loop: the Q4_K chunks (two sub-blocks in x order per zmm, lm_k512_nibbles) plus the
 *   fifth bits: qh (32 bytes) is broadcast to both halves once per super-block and each chunk
 *   gets a vptestmb against its two bit positions and a masked vpaddb of 16 (lm_k512_q5_high).
 *   Then vpmaddubsw (2*31*127 cannot saturate), vpmaddwd with the scales (vpermw), vpaddd.
 * Accumulator: int32 zmm per x row within a super-block (256*31*127*63 < 2^31), folded to 8
 *   lanes and finished with two f32 FMAs per super-block per x row (the AVX2 finish), summed at
 *   the end of the row; same instructions for every (n, m), so split-independent.
 * Packing: none (file layout). Alignment: none (unaligned loads). Tail: none (K % 256 == 0).
 */
#include "quant_k_avx512.h"

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
    const __m128i mdup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        __m128i sm = lm_k_avx2_scales(w->scales);
        __m512i sc = lm_k512_scales16(sm);
        __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, mdup));
        __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)w->qh));
        __m512i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int c = 0; c < 2; c++) {
            __m512i ch[2];
            lm_k512_nibbles(w->qs + 64 * c, &ch[0], &ch[1]);
#pragma GCC unroll 2
            for (int u = 0; u < 2; u++) {
                const int t = 2 * c + u; /* chunk: sub-blocks 2t, 2t+1 */
                __m512i q = lm_k512_q5_high(ch[u], h, t);
                __m512i s =
                    _mm512_permutexvar_epi16(lm_k512_widx(2 * t, 2 * t, 2 * t, 2 * t, 2 * t + 1,
                                                          2 * t + 1, 2 * t + 1, 2 * t + 1),
                                             sc);
#pragma GCC unroll 4
                for (int r = 0; r < mr; r++) {
                    __m512i xq = _mm512_loadu_si512(x[r][i].qs + 64 * t);
                    __m512i p = _mm512_maddubs_epi16(q, xq);
                    isum[r] = _mm512_add_epi32(isum[r], _mm512_madd_epi16(p, s));
                }
            }
        }
        __m256i isum8[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum8[r] = lm_k512_fold(isum[r]);
        lm_k_avx2_finish_asym(acc, isum8, x, i, mr, mins, w->d, w->dmin);
    }
    lm_k_avx2_store_rows(a, n, m0, mr, acc);
}

static void rows_q5_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 1); }
static void rows_q5_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 2); }
static void rows_q5_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 3); }
static void rows_q5_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 4); }

void lm_mm_q5_k_tile_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q5_k_1, rows_q5_k_2, rows_q5_k_3, rows_q5_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
