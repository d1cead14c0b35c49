/* simd/avx512/matmul_q6_k.c - y = x W^T for Q6_K W against Q8_K-prepared x rows, AVX-512BW.
 *
 * Math per (W row n, x row m, super-block i), as ops/matmul_k.c, with q the raw 6-bit values
 * (0..63) and the offset of 32 taken out through the bsums:
 *   acc += (d_w*d_x) * (sum_g sc_g*dot(q_g, x_g) - 32 * sum_g sc_g*bsum_g),  g = 16 groups of 16
 * Tiling: one W row against mr = 1..4 x rows per pass, ordered by lm_k_avx2_walk (as Q4_K), so
 *   each W super-block is unpacked once per group of x rows; decode streams W once.
 * Inner loop: per half super-block one 64-byte load of ql and one broadcast 32-byte load of qh
 *   give two chunks of 64 codes already in x order (lm_k512_q6_codes: nibbles, plus two qh bits
 *   moved to bits 4-5 by per-half variable 16-bit shifts). Per chunk and x row: vpmaddubsw with
 *   the int8 x (2*63*127 < 2^15: no saturation), vpmaddwd with the int8 scales widened to 16
 *   bits and spread one group per 128-bit lane (vpermw), vpaddd.
 * Accumulator: int32 zmm per x row per super-block (|sum| <= 256*63*128*127 + 32*16*128*2032 <
 *   2^31), folded to 8 lanes, the offset subtracted in int32, then one f32 FMA per super-block
 *   per x row into 8 lanes, summed at the end of the row; split-independent as Q4_K.
 * Packing: none (file layout). Alignment: none (unaligned loads). Tail: none (K % 256 == 0).
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
            __m512i v[2];
            lm_k512_q6_codes(w, h, &v[0], &v[1]);
#pragma GCC unroll 2
            for (int j = 0; j < 2; j++) {
                const int g = 8 * h + 4 * j; /* groups g .. g+3, one per 128-bit lane */
                __m512i s = _mm512_permutexvar_epi16(
                    lm_k512_widx(g, g, g + 1, g + 1, g + 2, g + 2, g + 3, g + 3), sc);
#pragma GCC unroll 4
                for (int r = 0; r < mr; r++) {
                    __m512i xq = _mm512_loadu_si512(x[r][i].qs + 16 * g);
                    __m512i p = _mm512_maddubs_epi16(v[j], xq);
                    isum[r] = _mm512_add_epi32(isum[r], _mm512_madd_epi16(p, s));
                }
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

void lm_mm_q6_k_tile_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q6_k_1, rows_q6_k_2, rows_q6_k_3, rows_q6_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
