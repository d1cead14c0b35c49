/* simd/avx512/matmul_q6_k_vnni.c - y = x W^T for Q6_K W against Q8_K x rows, AVX-512 VNNI.
 *
 * Math, tiling, W unpacking (lm_k512_q6_codes: two chunks of 64 six-bit codes per half
 * super-block, in x order) and finish as simd/avx512/matmul_q6_k.c; the integer dot products as
 * simd/avx512/matmul_q4_k_vnni.c: per half and x row, vpdpbusd from zero for each chunk (16
 * int32 lanes of 4 products, 4 lanes per group of 16; |lane| <= 4*63*127 = 32004 since the
 * Q8_K prep clamps x to +-127, so vpackssdw cannot saturate), vpackssdw of the two (128-bit
 * lane k: group 8h+k, then group 8h+4+k), vpdpwssd with the int8 scales widened to 16 bits.
 * Accumulator, offset of 32, rounding, split-independence, packing, alignment, tails: as the
 *   AVX-512BW kernel (int32 per super-block < 2^31, AVX2 f32 finish, K % 256 == 0).
 */
#include "quant_k_avx512.h"

static inline __attribute__((always_inline)) void rows_q6_k(const struct lm_mm *a, int64_t n,
                                                            int64_t m0, int mr) {
    const struct lm_block_q6_k *w = (const void *)(a->w + (size_t)n * a->ldw);
    const struct lm_block_q8_k *x[4];
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        x[r] = (const void *)(a->x + (size_t)(m0 + r) * a->ldx);
        acc[r] = _mm256_setzero_ps();
    }
    const __m512i zero = _mm512_setzero_si512();
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
        __m512i sc = _mm512_castsi256_si512(sc16);
        __m512i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m512i v0, v1;
            lm_k512_q6_codes(w, h, &v0, &v1);
            const int g = 8 * h;
            __m512i s = _mm512_permutexvar_epi16(
                lm_k512_widx(g, g + 4, g + 1, g + 5, g + 2, g + 6, g + 3, g + 7), sc);
#pragma GCC unroll 4
            for (int r = 0; r < mr; r++) {
                const int8_t *xq = x[r][i].qs + 128 * h;
                __m512i d0 = _mm512_dpbusd_epi32(zero, v0, _mm512_loadu_si512(xq));
                __m512i d1 = _mm512_dpbusd_epi32(zero, v1, _mm512_loadu_si512(xq + 64));
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_packs_epi32(d0, d1), s);
            }
        }
        float dw = _cvtsh_ss(w->d);
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            const struct lm_block_q8_k *xb = &x[r][i];
            __m256i off = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)xb->bsums));
            __m256i t = _mm256_sub_epi32(lm_k512_fold(isum[r]), _mm256_slli_epi32(off, 5));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb->d), _mm256_cvtepi32_ps(t), acc[r]);
        }
    }
    lm_k_avx2_store_rows(a, n, m0, mr, acc);
}

static void rows_q6_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 1); }
static void rows_q6_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 2); }
static void rows_q6_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 3); }
static void rows_q6_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 4); }

void lm_mm_q6_k_tile_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q6_k_1, rows_q6_k_2, rows_q6_k_3, rows_q6_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
