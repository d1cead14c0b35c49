/* simd/avx512/matmul_q4_0.c - y = x W^T for Q4_0 W against 8-bit activation rows, AVX-512BW.
 *
 * Inputs: W rows of K/32 lm_block_q4_0 (18 bytes, unaligned), x rows of K/32 lm_block_q8x
 * (prepared by lm_prep_q8x_*: f32 d, int8 q in [-127, 127]). Output y[m][n], f32.
 *
 * Integer dot per block, without the sign trick: the nibbles stay unsigned (0..15), so
 * vpmaddubsw(nibbles, x) is the u8 x s8 product it wants, and the -8 offset comes back exactly
 * as sum((q - 8) x) = sum(q x) - 8 sum(x). 8 sum(x) is one int32 per x block, formed once per
 * call into scratch (M * K/32 int32) and subtracted once per block for 16 W rows at a time.
 * vpmaddubsw pairs stay below 2 * 15 * 127, two of them below 2^15 (no saturation). Both paths
 * then do, per output and in the reference's order, acc += (dx * dw) * (float)isum as a
 * multiply, a multiply and an add (no FMA), so every output is bit-identical to lm_mm_q4_0_ref
 * (and to the AVX2 level), whatever the tile or thread split. matmul_q4_0_vnni.c is the VNNI
 * twin.
 *
 * Decode path (M < LMQZ_GEMM_MIN_M): four W rows share a zmm, one row's 16 nibble bytes per
 * 128-bit lane; lo = low nibbles (elements 0..15 of each row), hi = high nibbles (16..31),
 * against x's two halves broadcast to every lane, so vpmaddubsw + add + vpmaddwd give 4 int32
 * partials per row. Four such quads (16 W rows) reduce with unpack + add (lmqz_reduce4) into
 * one vector of the rows' exact block sums in quad order, where the 16 fp16 scales also land
 * (read in that order, one vcvtph2ps). Tiling: MR x rows (1, or 2 for M > 1) by 16 W rows per
 * pass over all K/32 blocks, one f32 accumulator zmm per x row, permuted to row order once at
 * the end; M > 1 takes x rows in chunks that stay in L2 while the 16 W rows stay in L1. Tails:
 * a group of fewer than 16 W rows repeats its last row; a masked store drops the copies.
 * Decode prefetch: as in matmul_q8_0.c, the next group, PF_LINES lines per block step.
 *
 * Prefill GEMM (M >= LMQZ_GEMM_MIN_M; layout in quant_legacy_avx512.h): 2 panels of 16 W rows
 * (codes 0..15 in the group layout and the rows' scales as f32, 576 bytes per block) packed per
 * thread, register tiles of 4 x rows by 32 W rows, per block and group one vpmaddubsw per
 * (x row, panel) added into s16 sums (8 groups of pairs <= 3810 stay below 2^15), per block one
 * vpmaddwd to exact int32 row sums, minus the x block's 8 sum(x). Scratch: the M * K/32
 * corrections, then the two panels. Tails as in matmul_q8_0.c.
 */
#include <stddef.h>

#include "quant_legacy_avx512.h"

#define PF_LINES                                                                                   \
    5 /* >= 16 W blocks of bytes (288) per block step: the next group is in by the end */

/* y[m0 + i][n + r] for i < MR, r < nrows (<= 16); corr[m][b] = 8 * sum of x block b of row m. */
static inline __attribute__((always_inline)) void tile(const struct lm_mm *a, int64_t m0,
                                                       const int MR, int64_t n, int nrows,
                                                       const int32_t *corr, const uint8_t *pf,
                                                       int64_t pf_lines) {
    const int64_t nb = a->K / LM_QK;
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    size_t off[16];
    lmqz_group_offsets(off, a->ldw, nrows);
    const struct lm_block_q8x *x[2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        x[i] = (const struct lm_block_q8x *)(a->x + (size_t)(m0 + i) * a->ldx);
    const __m512i ones = _mm512_set1_epi16(1), m15 = _mm512_set1_epi8(15);
    __m512 acc[2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        acc[i] = _mm512_setzero_ps();

    for (int64_t b = 0; b < nb; b++) {
        lmqz_prefetch_step(pf, pf_lines, b, PF_LINES);
        const uint8_t *wb = w0 + (size_t)b * sizeof(struct lm_block_q4_0);
        __m512 dw = lmqz_f16x16(wb, off, 0, LMQZ_ORDER_QUAD);
        __m512i x1[2], x2[2], part[2][4];
#pragma GCC unroll 2
        for (int i = 0; i < MR; i++) {
            x1[i] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)x[i][b].qs));
            x2[i] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x[i][b].qs + 16)));
        }
        const uint8_t *qs = wb + offsetof(struct lm_block_q4_0, qs);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m512i v = lmqz_load_quad(qs + off[4 * k], qs + off[4 * k + 1], qs + off[4 * k + 2],
                                       qs + off[4 * k + 3]);
            __m512i lo = _mm512_and_si512(v, m15);
            __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m15);
#pragma GCC unroll 2
            for (int i = 0; i < MR; i++)
                part[i][k] = _mm512_madd_epi16(_mm512_add_epi16(_mm512_maddubs_epi16(lo, x1[i]),
                                                                _mm512_maddubs_epi16(hi, x2[i])),
                                               ones);
        }
#pragma GCC unroll 2
        for (int i = 0; i < MR; i++) {
            __m512i isum =
                _mm512_sub_epi32(lmqz_reduce4(part[i][0], part[i][1], part[i][2], part[i][3]),
                                 _mm512_set1_epi32(corr[(m0 + i) * nb + b]));
            __m512 sc = _mm512_mul_ps(_mm512_set1_ps(x[i][b].d), dw);
            acc[i] = _mm512_add_ps(acc[i], _mm512_mul_ps(sc, _mm512_cvtepi32_ps(isum)));
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        lmqz_store_rows(a->y + (m0 + i) * a->ldy + n, acc[i], nrows, LMQZ_ORDER_QUAD);
}

/* ---- prefill GEMM ---------------------------------------------------------------------- */

size_t lm_mm_q4_0_scratch_avx512(int64_t M, int64_t K) {
    return lmqz_corr_bytes(M, K) +
           (M >= LMQZ_GEMM_MIN_M ? LMQZ_GEMM_NV * (size_t)(K / LM_QK) * sizeof(struct lmqz_panel)
                                 : 0);
}

/* W rows [n, n + nr) -> K/32 panel blocks; a tail panel repeats its last row. */
static void pack(struct lmqz_panel *p, const struct lm_mm *a, int64_t n, int nr) {
    const int64_t nb = a->K / LM_QK;
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    size_t off[16];
    lmqz_group_offsets(off, a->ldw, nr);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w0 + (size_t)b * sizeof(struct lm_block_q4_0);
        lmqz_pack_q4(p[b].q, wb + offsetof(struct lm_block_q4_0, qs), off);
        p[b].d = lmqz_f16x16(wb, off, 0, LMQZ_ORDER_ROW);
    }
}

/* y[m0 + i][n + 16v + r] for i < RM, v < NV, r < nr[v], from NV packed panels p[v]. */
static inline __attribute__((always_inline)) void
gemm_tile(const struct lm_mm *a, const struct lmqz_panel *const *p, const int32_t *corr, int64_t m0,
          const int RM, const int NV, int64_t n, const int *nr) {
    const int64_t nb = a->K / LM_QK;
    const struct lm_block_q8x *x[LMQZ_GEMM_MR];
    const int32_t *c[LMQZ_GEMM_MR];
    __m512 acc[LMQZ_GEMM_MR][LMQZ_GEMM_NV];
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++) {
        x[i] = (const struct lm_block_q8x *)(a->x + (size_t)(m0 + i) * a->ldx);
        c[i] = corr + (m0 + i) * nb;
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_setzero_ps();
    }
    const __m512i ones = _mm512_set1_epi16(1);
    for (int64_t b = 0; b < nb; b++) {
        /* s16 lanes: sum over the 8 groups of q * x pairs, each <= 2 * 15 * 127, so the total
         * stays below 8 * 3810 = 30480: no overflow */
        __m512i t[LMQZ_GEMM_MR][LMQZ_GEMM_NV];
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            __m512i w[LMQZ_GEMM_NV];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                w[v] = _mm512_load_si512((const void *)(p[v][b].q + g));
#pragma GCC unroll 4
            for (int i = 0; i < RM; i++) {
                const __m512i xb = lmqz_bcast4(x[i][b].qs + 4 * g);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) {
                    __m512i prod = _mm512_maddubs_epi16(w[v], xb);
                    t[i][v] = g ? lmqz_chain(_mm512_add_epi16(t[i][v], prod)) : prod;
                }
            }
        }
#pragma GCC unroll 4
        for (int i = 0; i < RM; i++) {
            const __m512 dx = _mm512_set1_ps(x[i][b].d);
            const __m512i ci = _mm512_set1_epi32(c[i][b]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) {
                __m512i isum = _mm512_sub_epi32(_mm512_madd_epi16(t[i][v], ones), ci);
                __m512 sc = _mm512_mul_ps(dx, p[v][b].d);
                acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_mul_ps(sc, _mm512_cvtepi32_ps(isum)));
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            lmqz_store_rows(a->y + (m0 + i) * a->ldy + n + 16 * v, acc[i][v], nr[v],
                            LMQZ_ORDER_ROW);
}

static inline __attribute__((always_inline)) void gemm_rows(const struct lm_mm *a,
                                                            const struct lmqz_panel *const *p,
                                                            const int32_t *corr, const int NV,
                                                            int64_t n, const int *nr) {
    int64_t m = 0;
    for (; m + LMQZ_GEMM_MR <= a->M; m += LMQZ_GEMM_MR)
        gemm_tile(a, p, corr, m, LMQZ_GEMM_MR, NV, n, nr);
    switch (a->M - m) { /* LMQZ_GEMM_MR = 4: 0..3 rows left */
    case 3: gemm_tile(a, p, corr, m, 3, NV, n, nr); break;
    case 2: gemm_tile(a, p, corr, m, 2, NV, n, nr); break;
    case 1: gemm_tile(a, p, corr, m, 1, NV, n, nr); break;
    default: break;
    }
}

/* Columns [n0, n1) in steps of LMQZ_GEMM_NV panels: pack them, then every x row against them. */
static void gemm(const struct lm_mm *a, int64_t n0, int64_t n1, const int32_t *corr,
                 struct lmqz_panel *scratch) {
    const int64_t nb = a->K / LM_QK;
    const struct lmqz_panel *p[LMQZ_GEMM_NV] = {scratch, scratch + nb};
    for (int64_t n = n0; n < n1;) {
        int nv = 0, nr[LMQZ_GEMM_NV];
        for (; nv < LMQZ_GEMM_NV && n + 16 * nv < n1; nv++) {
            nr[nv] = n1 - n - 16 * nv < 16 ? (int)(n1 - n - 16 * nv) : 16;
            pack(scratch + nv * nb, a, n + 16 * nv, nr[nv]);
        }
        if (nv == 2)
            gemm_rows(a, p, corr, 2, n, nr);
        else
            gemm_rows(a, p, corr, 1, n, nr);
        n += 16 * nv;
    }
}

void lm_mm_q4_0_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    int32_t *corr = scratch;
    lmqz_x_sums(corr, a, 8);
    if (a->M >= LMQZ_GEMM_MIN_M) {
        gemm(a, n0, n1, corr,
             (struct lmqz_panel *)((uint8_t *)scratch + lmqz_corr_bytes(a->M, a->K)));
        return;
    }
    if (a->M == 1) {
        int64_t n = n0;
        for (; n + 16 <= n1; n += 16)
            tile(a, 0, 1, n, 16, corr, a->w + (size_t)(n + 16) * a->ldw,
                 lmqz_next_lines(n, n1, a->ldw));
        if (n < n1) tile(a, 0, 1, n, (int)(n1 - n), corr, a->w, 0);
        return;
    }
    /* x rows in chunks of about 192 KiB, so a chunk stays in L2 across all of [n0, n1) */
    int64_t mc = (int64_t)((192u << 10) / a->ldx);
    mc = mc < 2 ? 2 : mc & ~(int64_t)1;
    for (int64_t c0 = 0; c0 < a->M; c0 += mc) {
        int64_t c1 = c0 + mc < a->M ? c0 + mc : a->M;
        for (int64_t n = n0; n < n1; n += 16) {
            int nr = n1 - n < 16 ? (int)(n1 - n) : 16;
            int64_t m = c0;
            for (; m + 2 <= c1; m += 2)
                tile(a, m, 2, n, nr, corr, a->w, 0);
            if (m < c1) tile(a, m, 1, n, nr, corr, a->w, 0);
        }
    }
}
