/* simd/avx2/matmul_q4_1.c - y = x W^T for Q4_1 W against 8-bit activation rows, AVX2.
 *
 * Inputs: W rows of K/32 lm_block_q4_1 (20 bytes, unaligned), x rows of K/32 lm_block_q8xs
 * (prepared by lm_prep_q8xs_*: f32 d, f32 s = d * sum(q), int8 q in [-127, 127]).
 * Output y[m][n], f32.
 *
 * Per block: dot = (dw * dx) * sum(q * qx) + mw * s. The nibbles are unsigned (0..15), so
 * maddubs(nibbles, x) is directly the u8 x s8 product (pairs below 2 * 15 * 127: no
 * saturation); the min term is one multiply per x row per block for 8 W rows at once.
 * Both paths below form each block's integer sum exactly and then do, per output and in the
 * reference's order, acc += (dx * dw) * (float)isum + mw * s as multiplies and adds (no FMA),
 * so every output is bit-identical to lm_mm_q4_1_ref, whatever the tile or thread split.
 *
 * Decode path (M < LMQ_GEMM_MIN_M): two W rows share one ymm. Their 16 nibble bytes load
 * into the two 128-bit lanes; lo = low nibbles (elements 0..15 of each row), hi = high
 * nibbles (16..31), and x's halves are broadcast to both lanes, so maddubs + add + madd give
 * 4 int32 partials per row. Four such pairs (8 W rows) reduce with unpack + add into one
 * vector holding each row's exact block sum, in "pair order" (rows 0 2 4 6 | 1 3 5 7), where
 * the fp16 scales and mins of the 8 rows also land with one vcvtph2ps each. Tiling: MR x rows
 * (1, or 2 for M > 1) by 8 W rows per pass over all K/32 blocks, one f32 accumulator ymm per x
 * row; M > 1 takes x rows in chunks that stay in L2 while the 8 W rows stay in L1. Tails:
 * groups of fewer than 8 W rows repeat the last row and drop its copies.
 * Decode prefetch: a group's 8 W rows are contiguous, and so is the next group; while one
 * group is summed, the next is prefetched PF_LINES cache lines per block step (enough to have
 * all of it in by the end), which carries the stream across 4 KiB pages, where the hardware
 * prefetcher stops.
 *
 * Prefill GEMM (M >= LMQ_GEMM_MIN_M; quant_legacy_avx2.h explains the layout): each thread
 * packs 2 panels of 8 W rows (codes 0..15 in the group layout, 320 bytes per block with the
 * rows' scales and mins as f32) into its scratch, then runs every x row against them in
 * register tiles of 4 x rows by 16 W rows: per block and group, 2 panel loads, 4 broadcasts
 * of x and 8 maddubs added into 8 s16 sums (8 groups of pairs <= 3810 stay below 2^15); per
 * block, madd by ones (exact int32 row sums, lane r = W row r), convert, scale and accumulate
 * into 8 f32 accumulators. The panels (2 * K/32 * 320 bytes, 11.25 KiB at K = 576) stay in L1,
 * x streams from L2/L3, each W row is unpacked once per call. Tails: a last panel of fewer
 * than 8 rows repeats its last row (outputs dropped); M % 4 rows take 3-, 2- or 1-row tiles.
 */
#include <stddef.h>
#include <string.h>

#include "quant_legacy_avx2.h"

#define PF_LINES 3 /* >= 8 W blocks of bytes per block step: the next group is in by the end */

/* y[m0 + i][n + r] for i < MR, r < nrows (<= 8). Loops over MR and the 4 pairs are fully
 * unrolled (constants after inlining), so the accumulators live in registers. */
static inline __attribute__((always_inline)) void tile(const struct lm_mm *a, int64_t m0,
                                                       const int MR, int64_t n, int nrows,
                                                       const uint8_t *pf, int64_t pf_lines) {
    const int64_t nb = a->K / LM_QK;
    /* Row r of the group starts at w0 + off[r]: r * ldw in a full group (the common case, where
     * one index register walks all 8 rows), the last real row repeated in a tail group. */
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    size_t off[8];
    lmq_group_offsets(off, a->ldw, nrows);
    const struct lm_block_q8xs *x[2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        x[i] = (const struct lm_block_q8xs *)(a->x + (size_t)(m0 + i) * a->ldx);

    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        acc[i] = _mm256_setzero_ps();

    for (int64_t b = 0; b < nb; b++) {
        /* stream the next group of W rows into cache, PF_LINES lines per block step */
        lmq_prefetch_step(pf, pf_lines, b, PF_LINES);
        uint32_t dm[8]; /* d | m << 16 of each row: the block's first 4 bytes */
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++)
            memcpy(&dm[r], w0 + off[r] + (size_t)b * sizeof(struct lm_block_q4_1), 4);
        __m256 dw, mw;
        lmq_f16x8_pairs_dm(dm, &dw, &mw);
        __m256i x1[2], x2[2], part[2][4];
#pragma GCC unroll 2
        for (int i = 0; i < MR; i++) {
            x1[i] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)x[i][b].qs));
            x2[i] =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(x[i][b].qs + 16)));
        }
#pragma GCC unroll 4
        for (int p = 0; p < 4; p++) {
            __m256i lo, hi;
            lmq_unpack_pair(((const struct lm_block_q4_1 *)(w0 + off[2 * p]))[b].qs,
                            ((const struct lm_block_q4_1 *)(w0 + off[2 * p + 1]))[b].qs, &lo, &hi);
#pragma GCC unroll 2
            for (int i = 0; i < MR; i++)
                part[i][p] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, x1[i]),
                                                                _mm256_maddubs_epi16(hi, x2[i])),
                                               ones);
        }
#pragma GCC unroll 2
        for (int i = 0; i < MR; i++) {
            __m256 f = _mm256_cvtepi32_ps(lmq_reduce_pairs(part[i]));
            __m256 sc = _mm256_mul_ps(_mm256_broadcast_ss(&x[i][b].d), dw);
            __m256 mt = _mm256_mul_ps(mw, _mm256_broadcast_ss(&x[i][b].s));
            acc[i] = _mm256_add_ps(acc[i], _mm256_add_ps(_mm256_mul_ps(sc, f), mt));
        }
    }

#pragma GCC unroll 2
    for (int i = 0; i < MR; i++) {
        float out[8], *y = a->y + (m0 + i) * a->ldy + n;
        _mm256_storeu_ps(out, acc[i]);
        for (int r = 0; r < nrows; r++)
            y[r] = out[lmq_pair_lane(r)];
    }
}

/* ---- prefill GEMM ---------------------------------------------------------------------- */

/* One block of a panel of 8 W rows: codes in the group layout (quant_legacy_avx2.h), and the
 * rows' scales and mins as f32 in row order. */
struct panel {
    __m256i q[8];
    __m256 d, m;
};

size_t lm_mm_q4_1_scratch_avx2(int64_t M, int64_t K) {
    return M >= LMQ_GEMM_MIN_M ? LMQ_GEMM_NV * (size_t)(K / LM_QK) * sizeof(struct panel) : 0;
}

/* W rows [n, n + nr) -> K/32 panel blocks; a tail panel repeats its last row. */
static void pack(struct panel *p, const struct lm_mm *a, int64_t n, int nr) {
    const int64_t nb = a->K / LM_QK;
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    size_t off[8];
    lmq_group_offsets(off, a->ldw, nr);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w0 + (size_t)b * sizeof(struct lm_block_q4_1);
        lmq_pack_q4_codes(p[b].q, wb + offsetof(struct lm_block_q4_1, qs), off);
        uint16_t hd[8], hm[8];
        for (int r = 0; r < 8; r++) {
            const struct lm_block_q4_1 *blk = (const struct lm_block_q4_1 *)(wb + off[r]);
            hd[r] = blk->d, hm[r] = blk->m;
        }
        p[b].d = lmq_f16x8(hd);
        p[b].m = lmq_f16x8(hm);
    }
}

/* y[m0 + i][n + 8v + r] for i < RM, v < NV, r < nr[v], from NV packed panels p[v]. */
static inline __attribute__((always_inline)) void gemm_tile(const struct lm_mm *a,
                                                            const struct panel *const *p,
                                                            int64_t m0, const int RM, const int NV,
                                                            int64_t n, const int *nr) {
    const int64_t nb = a->K / LM_QK;
    const struct lm_block_q8xs *x[LMQ_GEMM_MR];
    __m256 acc[LMQ_GEMM_MR][LMQ_GEMM_NV];
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++) {
        x[i] = (const struct lm_block_q8xs *)(a->x + (size_t)(m0 + i) * a->ldx);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm256_setzero_ps();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; b++) {
        /* s16 lanes: sum over the 8 groups of q * x pairs, each <= 2 * 15 * 127, so the total
         * stays below 8 * 3810 = 30480: no overflow */
        __m256i t[LMQ_GEMM_MR][LMQ_GEMM_NV];
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            __m256i w[LMQ_GEMM_NV];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                w[v] = _mm256_load_si256(p[v][b].q + g);
#pragma GCC unroll 4
            for (int i = 0; i < RM; i++) {
                const __m256i xb = lmq_bcast4(x[i][b].qs + 4 * g);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) {
                    __m256i prod = _mm256_maddubs_epi16(w[v], xb);
                    t[i][v] = g ? lmq_chain(_mm256_add_epi16(t[i][v], prod)) : prod;
                }
            }
        }
#pragma GCC unroll 4
        for (int i = 0; i < RM; i++) {
            const __m256 dx = _mm256_broadcast_ss(&x[i][b].d), sx = _mm256_broadcast_ss(&x[i][b].s);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) {
                __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(t[i][v], ones));
                __m256 sc = _mm256_mul_ps(dx, p[v][b].d);
                __m256 mt = _mm256_mul_ps(p[v][b].m, sx);
                acc[i][v] = _mm256_add_ps(acc[i][v], _mm256_add_ps(_mm256_mul_ps(sc, f), mt));
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            lmq_store_cols(a->y + (m0 + i) * a->ldy + n + 8 * v, acc[i][v], nr[v]);
}

static inline __attribute__((always_inline)) void gemm_rows(const struct lm_mm *a,
                                                            const struct panel *const *p,
                                                            const int NV, int64_t n,
                                                            const int *nr) {
    int64_t m = 0;
    for (; m + LMQ_GEMM_MR <= a->M; m += LMQ_GEMM_MR)
        gemm_tile(a, p, m, LMQ_GEMM_MR, NV, n, nr);
    switch (a->M - m) { /* LMQ_GEMM_MR = 4: 0..3 rows left */
    case 3: gemm_tile(a, p, m, 3, NV, n, nr); break;
    case 2: gemm_tile(a, p, m, 2, NV, n, nr); break;
    case 1: gemm_tile(a, p, m, 1, NV, n, nr); break;
    default: break;
    }
}

/* Columns [n0, n1) in steps of LMQ_GEMM_NV panels: pack them, then every x row against them. */
static void gemm(const struct lm_mm *a, int64_t n0, int64_t n1, struct panel *scratch) {
    const int64_t nb = a->K / LM_QK;
    const struct panel *p[LMQ_GEMM_NV] = {scratch, scratch + nb};
    for (int64_t n = n0; n < n1;) {
        int nv = 0, nr[LMQ_GEMM_NV];
        for (; nv < LMQ_GEMM_NV && n + 8 * nv < n1; nv++) {
            nr[nv] = n1 - n - 8 * nv < 8 ? (int)(n1 - n - 8 * nv) : 8;
            pack(scratch + nv * nb, a, n + 8 * nv, nr[nv]);
        }
        if (nv == 2)
            gemm_rows(a, p, 2, n, nr);
        else
            gemm_rows(a, p, 1, n, nr);
        n += 8 * nv;
    }
}

void lm_mm_q4_1_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M >= LMQ_GEMM_MIN_M) {
        gemm(a, n0, n1, scratch);
        return;
    }
    if (a->M == 1) {
        int64_t n = n0;
        for (; n + 8 <= n1; n += 8)
            tile(a, 0, 1, n, 8, a->w + (size_t)(n + 8) * a->ldw,
                 n + 8 < n1 ? (int64_t)(((n1 - n - 8 < 8 ? n1 - n - 8 : 8) * a->ldw + 63) / 64)
                            : 0);
        if (n < n1) tile(a, 0, 1, n, (int)(n1 - n), a->w, 0);
        return;
    }
    /* x rows in chunks of about 192 KiB, so a chunk stays in L2 across all of [n0, n1) */
    int64_t mc = (int64_t)((192u << 10) / a->ldx);
    mc = mc < 2 ? 2 : mc & ~(int64_t)1;
    for (int64_t c0 = 0; c0 < a->M; c0 += mc) {
        int64_t c1 = c0 + mc < a->M ? c0 + mc : a->M;
        for (int64_t n = n0; n < n1; n += 8) {
            int nr = n1 - n < 8 ? (int)(n1 - n) : 8;
            int64_t m = c0;
            for (; m + 2 <= c1; m += 2)
                tile(a, m, 2, n, nr, a->w, 0);
            if (m < c1) tile(a, m, 1, n, nr, a->w, 0);
        }
    }
}
