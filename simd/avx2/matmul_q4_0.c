/* simd/avx2/matmul_q4_0.c - y = x W^T for Q4_0 W against 8-bit activation rows, AVX2 + FMA.
 *
 * Inputs: W rows of K/32 lm_block_q4_0 (18 bytes, unaligned), x rows of K/32 lm_block_q8x
 * (prepared by lm_prep_q8x_*: f32 d, int8 q in [-127, 127]). Output y[m][n], f32.
 *
 * Integer dot per block, without the sign trick: the nibbles stay unsigned (0..15), so
 * maddubs(nibbles, x) is the u8 x s8 product it wants, and the -8 offset comes back as
 * sum((q - 8) x) = sum(q x) - 8 sum(x), with 8 sum(x) formed once per x block (maddubs by 8)
 * and subtracted in int16 - exact, and cheaper per W row than abs + sign (1 op instead of 4).
 * int16 lanes stay small: 4 products of 15 * 127 minus 4 * 8 * 127, |.| < 2^13.
 *
 * Packing: two W rows share one ymm. Their 16 nibble bytes load into the two 128-bit lanes;
 * lo = low nibbles (elements 0..15 of each row), hi = high nibbles (16..31), and x's halves
 * are broadcast to both lanes, so one maddubs/madd/cvt/FMA chain serves two W blocks. The
 * per-block scale is dx * dw (f32 product, one rounding) for each lane half, built from the
 * fp16 dw of up to 8 rows with one vcvtph2ps and a lane permute.
 *
 * Tiling: MR x rows by NP pairs of W rows per pass, accumulators f32 [MR][NP] ymm, summed
 * over all K/32 blocks, then each 128-bit half reduced in one fixed order. Decode (M = 1):
 * 1 x 4 pairs, so 8 W rows stream once and x's correction is shared by all 8. M > 1: 2 x 2
 * pairs, with x rows in chunks that stay in L2 while W rows (a few KB) stay in L1. Tails:
 * a lone W row is paired with itself (the copy's result is dropped); every row's arithmetic
 * is the same whichever half or tile shape it lands in, so results do not depend on n0/n1.
 */
#include "quant_legacy_avx2.h"

#define MAX_NP 4

/* y[m0 + i][n + r] for i < MR, r < nrows (<= 2 * NP): rows past nrows repeat the last. */
static inline __attribute__((always_inline)) void
tile(const struct lm_mm *a, int64_t m0, const int MR, int64_t n, const int NP, int nrows) {
    const int64_t nb = a->K / LM_QK;
    const struct lm_block_q4_0 *w[2 * MAX_NP];
    const struct lm_block_q8x *x[4];
    for (int r = 0; r < 2 * NP; r++)
        w[r] = (const struct lm_block_q4_0 *)(a->w +
                                              (size_t)(n + (r < nrows ? r : nrows - 1)) * a->ldw);
    for (int i = 0; i < MR; i++)
        x[i] = (const struct lm_block_q8x *)(a->x + (size_t)(m0 + i) * a->ldx);

    const __m256i ones = _mm256_set1_epi16(1), eight = _mm256_set1_epi8(8);
    __m256i perm[MAX_NP];
    for (int p = 0; p < NP; p++)
        perm[p] = _mm256_setr_epi32(2 * p, 2 * p, 2 * p, 2 * p, 2 * p + 1, 2 * p + 1, 2 * p + 1,
                                    2 * p + 1);
    __m256 acc[4][MAX_NP];
    for (int i = 0; i < MR; i++)
        for (int p = 0; p < NP; p++)
            acc[i][p] = _mm256_setzero_ps();

    for (int64_t b = 0; b < nb; b++) {
        __m256i lo[MAX_NP], hi[MAX_NP];
        for (int p = 0; p < NP; p++)
            lmq_unpack_pair(w[2 * p][b].qs, w[2 * p + 1][b].qs, &lo[p], &hi[p]);
        __m256 dw8;
        if (NP <= 2) {
            dw8 = _mm256_castps128_ps256(
                lmq_f16x4(w[0][b].d, w[1][b].d, w[NP > 1 ? 2 : 1][b].d, w[NP > 1 ? 3 : 1][b].d));
        } else {
            uint16_t h[8];
            for (int r = 0; r < 8; r++)
                h[r] = w[r < 2 * NP ? r : 2 * NP - 1][b].d;
            dw8 = _mm256_set_m128(lmq_f16x4(h[4], h[5], h[6], h[7]),
                                  lmq_f16x4(h[0], h[1], h[2], h[3]));
        }
        __m256 dw[MAX_NP];
        for (int p = 0; p < NP; p++)
            dw[p] = _mm256_permutevar8x32_ps(dw8, perm[p]);
        for (int i = 0; i < MR; i++) {
            const struct lm_block_q8x *xb = &x[i][b];
            __m256i x1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)xb->qs));
            __m256i x2 =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(xb->qs + 16)));
            __m256i corr =
                _mm256_add_epi16(_mm256_maddubs_epi16(eight, x1), _mm256_maddubs_epi16(eight, x2));
            __m256 dx = _mm256_broadcast_ss(&xb->d);
            for (int p = 0; p < NP; p++) {
                __m256i s = _mm256_add_epi16(_mm256_maddubs_epi16(lo[p], x1),
                                             _mm256_maddubs_epi16(hi[p], x2));
                __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_sub_epi16(s, corr), ones));
                acc[i][p] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dw[p]), f, acc[i][p]);
            }
        }
    }

    for (int i = 0; i < MR; i++) {
        float *y = a->y + (m0 + i) * a->ldy + n;
        for (int p = 0; p < NP; p++) {
            if (2 * p < nrows) y[2 * p] = lmq_hsum4(_mm256_castps256_ps128(acc[i][p]));
            if (2 * p + 1 < nrows) y[2 * p + 1] = lmq_hsum4(_mm256_extractf128_ps(acc[i][p], 1));
        }
    }
}

/* All x rows of [m0, m1) against W rows [n0, n1), M > 1 shapes. */
static void rows_block(const struct lm_mm *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? (int)(n1 - n) : 4;
        int64_t m = m0;
        for (; m + 2 <= m1; m += 2) {
            if (nr > 2)
                tile(a, m, 2, n, 2, nr);
            else
                tile(a, m, 2, n, 1, nr);
        }
        if (m < m1) {
            if (nr > 2)
                tile(a, m, 1, n, 2, nr);
            else
                tile(a, m, 1, n, 1, nr);
        }
    }
}

void lm_mm_q4_0_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    if (a->M == 1) {
        int64_t n = n0;
        for (; n + 8 <= n1; n += 8)
            tile(a, 0, 1, n, 4, 8);
        for (; n < n1; n += 2)
            tile(a, 0, 1, n, 1, n1 - n < 2 ? 1 : 2);
        return;
    }
    /* x rows in chunks of about 192 KiB, so a chunk stays in L2 across all of [n0, n1) */
    int64_t mc = (int64_t)((192u << 10) / (a->ldx ? a->ldx : 1));
    mc = mc < 2 ? 2 : mc & ~(int64_t)1;
    for (int64_t m0 = 0; m0 < a->M; m0 += mc)
        rows_block(a, m0, m0 + mc < a->M ? m0 + mc : a->M, n0, n1);
}
