/* simd/avx512/matmul_q4_k_vnni.c - y = x W^T for Q4_K W against Q8_K x rows, AVX-512 VNNI.
 *
 * Math, tiling, W unpacking and finish as simd/avx512/matmul_q4_k.c; only the integer dot
 * products differ. Per pair of chunks (sub-blocks 4c .. 4c+3, one 64-byte load of qs) and x row:
 *   vpdpbusd from zero for each chunk: 16 int32 lanes of 4 products each, lanes 0-7 of the
 *     first sub-block, 8-15 of the second (|lane| <= 4*15*127, exact);
 *   vpackssdw of the two: 16-bit lanes, no saturation possible; 128-bit lane k holds 4 sums of
 *     chunk 2c then 4 of chunk 2c+1, of sub-blocks 4c + k/2 and 4c+2 + k/2;
 *   vpdpwssd into the row's int32 sum with the matching scales (one vpermw per pair).
 *   Three multiply-port instructions per 128 values and row, against four (vpmaddubsw and
 *   vpmaddwd twice) in the AVX-512BW kernel.
 * Accumulator, rounding, split-independence, packing, alignment, tails: as the AVX-512BW kernel
 *   (int32 per super-block < 2^31, AVX2 f32 finish, K % 256 == 0).
 */
#include "quant_k_avx512.h"

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
    const __m128i mdup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const __m512i zero = _mm512_setzero_si512();
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        __m128i sm = lm_k_avx2_scales(w->scales);
        __m512i sc = lm_k512_scales16(sm);
        __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, mdup));
        __m512i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int c = 0; c < 2; c++) {
            __m512i ca, cb;
            lm_k512_nibbles(w->qs + 64 * c, &ca, &cb);
            const int j = 4 * c;
            __m512i s = _mm512_permutexvar_epi16(
                lm_k512_widx(j, j + 2, j, j + 2, j + 1, j + 3, j + 1, j + 3), sc);
#pragma GCC unroll 4
            for (int r = 0; r < mr; r++) {
                const int8_t *xq = x[r][i].qs + 128 * c;
                __m512i da = _mm512_dpbusd_epi32(zero, ca, _mm512_loadu_si512(xq));
                __m512i db = _mm512_dpbusd_epi32(zero, cb, _mm512_loadu_si512(xq + 64));
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_packs_epi32(da, db), s);
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

static void rows_q4_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 1); }
static void rows_q4_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 2); }
static void rows_q4_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 3); }
static void rows_q4_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q4_k(a, n, m0, 4); }

void lm_mm_q4_k_tile_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q4_k_1, rows_q4_k_2, rows_q4_k_3, rows_q4_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
