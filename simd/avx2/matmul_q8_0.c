/* simd/avx2/matmul_q8_0.c - y = x W^T for Q8_0 W against 8-bit activation rows, AVX2 + FMA.
 *
 * Inputs: W rows of K/32 lm_block_q8_0 (34 bytes, unaligned), x rows of K/32 lm_block_q8x
 * (prepared by lm_prep_q8x_*: f32 d, int8 q in [-127, 127]). Output y[m][n], f32.
 *
 * Integer dot per block, signed x signed with the sign trick: maddubs wants u8 x s8, so it
 * gets |w| (u8; -128 from a foreign file becomes 128, still right) and x * sign(w) (s8; x is
 * never -128, so the negation cannot overflow). Pairs of products reach 2 * 128 * 127 < 2^15,
 * so maddubs never saturates; madd by ones widens to 8 int32 lanes, cvt to f32 (exact), then
 * one FMA with the block scale dx * dw (f32 product, one rounding) into an f32 accumulator.
 *
 * Tiling: MR x rows by NR W rows per pass, accumulators f32 [MR][NR] ymm, over all K/32
 * blocks, then an 8-lane sum per output. The NR fp16 scales of a block convert with one
 * vcvtph2ps; dx * dw for a whole W group is one multiply per x row, and a lane permute
 * broadcasts each row's scale. Decode (M = 1): 1 x 8, so 8 W rows stream once. M > 1: 2 x 4,
 * x rows in chunks that stay in L2 while the W group stays in L1. Tails: groups of fewer
 * rows repeat the last row (its copies are dropped); a row's arithmetic does not depend on
 * its position in the group, so results do not depend on n0/n1.
 */
#include "quant_legacy_avx2.h"

#define MAX_NR 8

static inline __attribute__((always_inline)) void
tile(const struct lm_mm *a, int64_t m0, const int MR, int64_t n, const int NR, int nrows) {
    const int64_t nb = a->K / LM_QK;
    const struct lm_block_q8_0 *w[MAX_NR];
    const struct lm_block_q8x *x[4];
    for (int r = 0; r < NR; r++)
        w[r] = (const struct lm_block_q8_0 *)(a->w +
                                              (size_t)(n + (r < nrows ? r : nrows - 1)) * a->ldw);
    for (int i = 0; i < MR; i++)
        x[i] = (const struct lm_block_q8x *)(a->x + (size_t)(m0 + i) * a->ldx);

    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4][MAX_NR];
    for (int i = 0; i < MR; i++)
        for (int r = 0; r < NR; r++)
            acc[i][r] = _mm256_setzero_ps();

    for (int64_t b = 0; b < nb; b++) {
        uint16_t h[MAX_NR];
        for (int r = 0; r < 8; r++)
            h[r] = w[r < NR ? r : NR - 1][b].d;
        __m256 dw8 = NR <= 4 ? _mm256_castps128_ps256(lmq_f16x4(h[0], h[1], h[2], h[3]))
                             : _mm256_set_m128(lmq_f16x4(h[4], h[5], h[6], h[7]),
                                               lmq_f16x4(h[0], h[1], h[2], h[3]));
        __m256i xq[4];
        __m256 sc[4];
        for (int i = 0; i < MR; i++) {
            xq[i] = _mm256_loadu_si256((const __m256i *)x[i][b].qs);
            sc[i] = _mm256_mul_ps(_mm256_broadcast_ss(&x[i][b].d), dw8);
        }
        for (int r = 0; r < NR; r++) {
            __m256i wq = _mm256_loadu_si256((const __m256i *)w[r][b].qs);
            __m256i wa = _mm256_sign_epi8(wq, wq);
            for (int i = 0; i < MR; i++) {
                __m256i p = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(xq[i], wq));
                __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones));
                __m256 s = _mm256_permutevar8x32_ps(sc[i], _mm256_set1_epi32(r));
                acc[i][r] = _mm256_fmadd_ps(s, f, acc[i][r]);
            }
        }
    }

    for (int i = 0; i < MR; i++) {
        float *y = a->y + (m0 + i) * a->ldy + n;
        for (int r = 0; r < NR && r < nrows; r++)
            y[r] = lm_avx2_hsum(acc[i][r]);
    }
}

static void rows_block(const struct lm_mm *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? (int)(n1 - n) : 4;
        int64_t m = m0;
        for (; m + 2 <= m1; m += 2)
            tile(a, m, 2, n, 4, nr);
        if (m < m1) tile(a, m, 1, n, 4, nr);
    }
}

void lm_mm_q8_0_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    if (a->M == 1) {
        int64_t n = n0;
        for (; n + 8 <= n1; n += 8)
            tile(a, 0, 1, n, 8, 8);
        for (; n < n1; n += 4)
            tile(a, 0, 1, n, 4, n1 - n < 4 ? (int)(n1 - n) : 4);
        return;
    }
    /* x rows in chunks of about 192 KiB, so a chunk stays in L2 across all of [n0, n1) */
    int64_t mc = (int64_t)((192u << 10) / (a->ldx ? a->ldx : 1));
    mc = mc < 2 ? 2 : mc & ~(int64_t)1;
    for (int64_t m0 = 0; m0 < a->M; m0 += mc)
        rows_block(a, m0, m0 + mc < a->M ? m0 + mc : a->M, n0, n1);
}
