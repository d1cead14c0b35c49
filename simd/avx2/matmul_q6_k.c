/* simd/avx2/matmul_q6_k.c - y = x W^T for Q6_K W against Q8_K-prepared x rows, AVX2 + FMA.
 *
 * Math per (W row n, x row m, super-block i), as ops/matmul_k.c, with q the raw 6-bit values
 * (0..63) and the offset of 32 taken out through the bsums:
 *   acc += (d_w*d_x) * (sum_g sc_g*dot(q_g, x_g) - 32 * sum_g sc_g*bsum_g),  g = 16 groups of 16
 * Tiling: one W row against mr = 1..4 x rows per pass, ordered by lm_k_avx2_walk (as Q4_K), so
 *   each W super-block is unpacked once per group of x rows; decode streams W once.
 * Inner loop: per half super-block, two 32-byte loads of ql and one of qh give four runs of 32
 *   values (nibble | 2 qh bits at bits 4-5, via 16-bit shifts and byte masks). maddubs with the
 *   int8 x (2*63*127 < 2^15: no saturation) gives 16-bit pairs; madd with the int8 scales
 *   widened to 16 bits and broadcast per 8-lane half (pshufb: low half of the register holds
 *   group 2k, high half group 2k+1) gives int32.
 * Accumulator: int32 lanes per super-block (|sum| <= 256*63*128*127 + 32*16*128*2032 < 2^31),
 *   then one f32 FMA per super-block per x row into 8 lanes, summed at the end of the row.
 * Packing: none (file layout). Alignment: none (unaligned loads). Tail: none (K % 256 == 0).
 */
#include "quant_k_avx2.h"

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
    const __m256i low4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30);
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
        __m256i sch[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00),
                          _mm256_permute2x128_si256(sc16, sc16, 0x11)};
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w->qh + 32 * h));
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(l0, low4),
                                   _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
            v[1] = _mm256_or_si256(_mm256_and_si256(l1, low4),
                                   _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                   _mm256_and_si256(qh, bits45));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                /* groups 8h+2k (low 128 bits) and 8h+2k+1 (high 128 bits) */
                __m256i s = _mm256_shuffle_epi8(
                    sch[h], _mm256_setr_epi8(
                                4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k,
                                4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                                4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                                4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                                4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3));
#pragma GCC unroll 4
                for (int r = 0; r < mr; r++) {
                    const int8_t *xq = x[r][i].qs + 128 * h + 32 * k;
                    __m256i p = _mm256_maddubs_epi16(v[k], _mm256_loadu_si256((const __m256i *)xq));
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p, s));
                }
            }
        }
        float dw = _cvtsh_ss(w->d);
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            const struct lm_block_q8_k *xb = &x[r][i];
            __m256i off = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)xb->bsums));
            __m256i t = _mm256_sub_epi32(isum[r], _mm256_slli_epi32(off, 5));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb->d), _mm256_cvtepi32_ps(t), acc[r]);
        }
    }
    lm_k_avx2_store_rows(a, n, m0, mr, acc);
}

static void rows_q6_k_1(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 1); }
static void rows_q6_k_2(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 2); }
static void rows_q6_k_3(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 3); }
static void rows_q6_k_4(const struct lm_mm *a, int64_t n, int64_t m0) { rows_q6_k(a, n, m0, 4); }

void lm_mm_q6_k_tile_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    static const lm_k_rows_fn fn[4] = {rows_q6_k_1, rows_q6_k_2, rows_q6_k_3, rows_q6_k_4};
    lm_k_avx2_walk(a, n0, n1, fn);
}
