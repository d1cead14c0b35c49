/* simd/avx512/matmul_q5_k_vnni.c - y = x W^T for Q5_K W against Q8_K x rows, AVX-512 VNNI.
 *
 * Math, tiling, W unpacking (nibbles regrouped into chunks, fifth bits by vptestmb and a masked
 * add) and finish as simd/avx512/matmul_q5_k.c; the integer dot products as
 * simd/avx512/matmul_q4_k_vnni.c: per pair of chunks and x row, vpdpbusd from zero for each
 * chunk (|lane| <= 4*31*127 = 15748: vpackssdw cannot saturate), vpackssdw of the two, vpdpwssd
 * with the scales of the four sub-blocks into the row's int32 sum.
 * Accumulator, rounding, split-independence, packing, alignment, tails: as the AVX-512BW kernel
 *   (int32 per super-block < 2^31, AVX2 f32 finish, K % 256 == 0).
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
    const __m512i zero = _mm512_setzero_si512();
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
            __m512i ca, cb;
            lm_k512_nibbles(w->qs + 64 * c, &ca, &cb);
            ca = lm_k512_q5_high(ca, h, 2 * c);
            cb = lm_k512_q5_high(cb, h, 2 * c + 1);
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

static void rows_q5_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 1); }
static void rows_q5_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 2); }
static void rows_q5_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 3); }
static void rows_q5_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q5_k(a, n, m0, 4); }

void lm_mm_q5_k_tile_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q5_k_1, rows_q5_k_2, rows_q5_k_3, rows_q5_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
