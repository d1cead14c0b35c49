/* simd/avx2/matmul_q4_k.c - y = x W^T for Q4_K W against Q8_K-prepared x rows, AVX2 + FMA.
 *
 * Math per (W row n, x row m, super-block i), as ops/matmul_k.c:
 *   acc += (d_w*d_x) * sum_j sc_j*dot(q_j, x_j) - (dmin_w*d_x) * sum_j m_j*(bsum_2j + bsum_2j+1)
 * Tiling: one W row against a group of mr = 1..4 x rows per pass (lm_k_avx2_walk orders the
 *   passes: all columns for M <= 4, else 128 KiB column blocks swept by every group of 4 rows),
 *   so each W super-block is unpacked once and used for mr rows; decode (M = 1) streams W once.
 * Inner loop (per 32-byte load of qs = sub-blocks 2c and 2c+1): low and high nibbles (and, shift)
 *   times the int8 x with maddubs (u8 x s8 -> s16 pairs; 2*15*127 cannot saturate), madd with
 *   the sub-block's scale broadcast in 16-bit lanes (pshufb) -> 8 x int32, summed per row.
 * Scales: 6-bit scales and mins unpacked in one SSE register (lm_k_avx2_scales); the mins are
 *   duplicated per 16-value half so one madd with the 16 bsums gives sum m_j * bsum32_j.
 * Accumulator: int32 lanes within a super-block (bounded by 256*15*127*63 < 2^31), then two
 *   f32 FMAs per super-block into 8 lanes per x row, summed at the end of the row.
 * Packing: none (W is read in place from the file layout). Alignment: none required
 *   (unaligned loads). Tail: rows are whole super-blocks (K % 256 == 0, checked by the op).
 */
#include "quant_k_avx2.h"

static inline __attribute__((always_inline)) void rows_q4_k(const struct lm_mm *a, int64_t n,
                                                            int64_t m0, int mr) {
    const struct lm_block_q4_k *w = (const void *)(a->w + (size_t)n * a->ldw);
    const struct lm_block_q8_k *x[4];
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        x[r] = (const void *)(a->x + (size_t)(m0 + r) * a->ldx);
        acc[r] = _mm256_setzero_ps();
    }
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m128i mdup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        __m128i sm = lm_k_avx2_scales(w->scales);
        __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, mdup));
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            __m256i s0 = lm_k_avx2_bcast16(sc, 2 * c), s1 = lm_k_avx2_bcast16(sc, 2 * c + 1);
            lm_k_avx2_dot64(isum, x, i, c, mr, lo, hi, s0, s1);
        }
        lm_k_avx2_finish_asym(acc, isum, x, i, mr, mins, w->d, w->dmin);
    }
    lm_k_avx2_store_rows(a, n, m0, mr, acc);
}

static void rows_q4_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 1); }
static void rows_q4_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 2); }
static void rows_q4_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 3); }
static void rows_q4_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 4); }

void lm_mm_q4_k_tile_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q4_k_1, rows_q4_k_2, rows_q4_k_3, rows_q4_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
