/* simd/avx512/matmul_q8_0.c - y = x W^T for Q8_0 W against 8-bit activation rows, AVX-512BW.
 *
 * Inputs: W rows of K/32 lm_block_q8_0 (34 bytes, unaligned), x rows of K/32 lm_block_q8x
 * (prepared by lm_prep_q8x_*: f32 d, int8 q in [-127, 127]). Output y[m][n], f32.
 *
 * Integer dot per block, signed x signed with the sign trick (vpmaddubsw wants u8 x s8, and
 * AVX-512 has no vpsignb): |w| (vpabsb; a -128 from a foreign file becomes 128, still right)
 * against x negated where w < 0 (vpmovb2m gives the mask, a masked vpsubb from zero negates;
 * x is never -128, so the negation cannot overflow). Pairs of products reach 2 * 128 * 127 <
 * 2^15, so vpmaddubsw never saturates; vpmaddwd by ones widens to int32 partials. Both paths
 * then do, per output and in the reference's order, acc += (dx * dw) * (float)isum as two
 * multiplies and an add (no FMA), so every output is bit-identical to lm_mm_q8_0_ref (and to the
 * AVX2 level), whatever the tile or thread split. matmul_q8_0_vnni.c is the VNNI twin.
 *
 * Decode path (M < LMQZ_GEMM_MIN_M): MR x rows (1, or 2 for M > 1) by 16 W rows per pass over
 * all K/32 blocks. Two W rows share a zmm (one block each, one per 256-bit half) against x's
 * block in both halves; per block the 8 pairs' partials reduce (unpack + add, then across the
 * 128-bit lanes, lmqz_reduce_pairs) into one vector of the 16 rows' exact block sums in pair
 * order, where the 16 fp16 scales also land (read in that order, one vcvtph2ps). One f32
 * accumulator zmm per x row, permuted to row order once at the end. Decode (M = 1) streams the
 * 16 W rows once and prefetches the next group, PF_LINES lines per block step (enough to have
 * all of it in by the end), which carries the stream across 4 KiB pages; M > 1 takes x rows in
 * chunks that stay in L2 while the 16 W rows stay in L1. Tails: a group of fewer than 16 W rows
 * repeats its last row; a masked store drops the copies.
 *
 * Prefill GEMM (M >= LMQZ_GEMM_MIN_M; layout in quant_legacy_avx512.h): each thread packs 2
 * panels of 16 W rows (the 8 x 16 dword transpose of their codes plus their scales as f32, 576
 * bytes per block), then runs every x row against them in register tiles of 4 x rows by 32 W
 * rows: per block and group, |w| and the sign mask once per panel vector, then per x row one
 * broadcast and per panel a masked negate + vpmaddubsw + vpmaddwd + add into int32 sums (no s16
 * stage: two pairs could overflow it). Per block: convert, scale, accumulate. Tails: a last
 * panel of fewer than 16 rows repeats its last row (masked stores drop it); M % 4 rows take 3-,
 * 2- or 1-row tiles.
 */
#include "quant_legacy_avx512.h"

#define PF_LINES                                                                                   \
    9 /* >= 16 W blocks of bytes (544) per block step: the next group is in by the end */

/* |w| (u8) x (x with w's sign) (s8) -> 16 int32 partials, each the sum of 4 exact products. */
static inline __attribute__((always_inline)) __m512i dot_sign(__m512i w, __m512i x) {
    __m512i xs = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
    return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(w), xs), _mm512_set1_epi16(1));
}

/* y[m0 + i][n + r] for i < MR, r < nrows (<= 16). Loops over MR and the 8 pairs are fully
 * unrolled (constants after inlining), so the accumulators live in registers. */
static inline __attribute__((always_inline)) void tile(const struct lm_mm *a, int64_t m0,
                                                       const int MR, int64_t n, int nrows,
                                                       const uint8_t *pf, int64_t pf_lines) {
    const int64_t nb = a->K / LM_QK;
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    size_t off[16];
    lmqz_group_offsets(off, a->ldw, nrows);
    const struct lm_block_q8x *x[2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        x[i] = (const struct lm_block_q8x *)(a->x + (size_t)(m0 + i) * a->ldx);
    __m512 acc[2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        acc[i] = _mm512_setzero_ps();

    for (int64_t b = 0; b < nb; b++) {
        lmqz_prefetch_step(pf, pf_lines, b, PF_LINES);
        const size_t bo = (size_t)b * sizeof(struct lm_block_q8_0);
        __m512 dw = lmqz_f16x16(w0 + bo, off, 0, LMQZ_ORDER_PAIR);
        __m512i xq[2], part[2][8];
#pragma GCC unroll 2
        for (int i = 0; i < MR; i++)
            xq[i] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x[i][b].qs));
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) {
            const struct lm_block_q8_0 *ra = (const struct lm_block_q8_0 *)(w0 + bo + off[2 * p]);
            const struct lm_block_q8_0 *rb =
                (const struct lm_block_q8_0 *)(w0 + bo + off[2 * p + 1]);
            __m512i w = lmqz_load_pair(ra->qs, rb->qs);
#pragma GCC unroll 2
            for (int i = 0; i < MR; i++)
                part[i][p] = dot_sign(w, xq[i]);
        }
#pragma GCC unroll 2
        for (int i = 0; i < MR; i++) {
            __m512 f = _mm512_cvtepi32_ps(lmqz_reduce_pairs(part[i]));
            __m512 sc = _mm512_mul_ps(_mm512_set1_ps(x[i][b].d), dw);
            acc[i] = _mm512_add_ps(acc[i], _mm512_mul_ps(sc, f));
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < MR; i++)
        lmqz_store_rows(a->y + (m0 + i) * a->ldy + n, acc[i], nrows, LMQZ_ORDER_PAIR);
}

/* ---- prefill GEMM ---------------------------------------------------------------------- */

size_t lm_mm_q8_0_scratch_avx512(int64_t M, int64_t K) {
    return M >= LMQZ_GEMM_MIN_M ? LMQZ_GEMM_NV * (size_t)(K / LM_QK) * sizeof(struct lmqz_panel)
                                : 0;
}

/* W rows [n, n + nr) -> K/32 panel blocks; a tail panel repeats its last row. */
static void pack(struct lmqz_panel *p, const struct lm_mm *a, int64_t n, int nr) {
    const int64_t nb = a->K / LM_QK;
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    size_t off[16];
    lmqz_group_offsets(off, a->ldw, nr);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w0 + (size_t)b * sizeof(struct lm_block_q8_0);
        lmqz_pack_q8(p[b].q, wb, off, 0);
        p[b].d = lmqz_f16x16(wb, off, 0, LMQZ_ORDER_ROW);
    }
}

/* y[m0 + i][n + 16v + r] for i < RM, v < NV, r < nr[v], from NV packed panels p[v]. */
static inline __attribute__((always_inline)) void gemm_tile(const struct lm_mm *a,
                                                            const struct lmqz_panel *const *p,
                                                            int64_t m0, const int RM, const int NV,
                                                            int64_t n, const int *nr) {
    const int64_t nb = a->K / LM_QK;
    const struct lm_block_q8x *x[LMQZ_GEMM_MR];
    __m512 acc[LMQZ_GEMM_MR][LMQZ_GEMM_NV];
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++) {
        x[i] = (const struct lm_block_q8x *)(a->x + (size_t)(m0 + i) * a->ldx);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_setzero_ps();
    }
    const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
    for (int64_t b = 0; b < nb; b++) {
        __m512i t[LMQZ_GEMM_MR][LMQZ_GEMM_NV];
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            __m512i wa[LMQZ_GEMM_NV];
            __mmask64 neg[LMQZ_GEMM_NV];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) {
                __m512i w = _mm512_load_si512((const void *)(p[v][b].q + g));
                wa[v] = _mm512_abs_epi8(w);
                neg[v] = _mm512_movepi8_mask(w);
            }
#pragma GCC unroll 4
            for (int i = 0; i < RM; i++) {
                const __m512i xb = lmqz_bcast4(x[i][b].qs + 4 * g);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) {
                    __m512i xs = _mm512_mask_sub_epi8(xb, neg[v], zero, xb);
                    __m512i prod = _mm512_madd_epi16(_mm512_maddubs_epi16(wa[v], xs), ones);
                    t[i][v] = g ? lmqz_chain(_mm512_add_epi32(t[i][v], prod)) : prod;
                }
            }
        }
#pragma GCC unroll 4
        for (int i = 0; i < RM; i++) {
            const __m512 dx = _mm512_set1_ps(x[i][b].d);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) {
                __m512 sc = _mm512_mul_ps(dx, p[v][b].d);
                acc[i][v] =
                    _mm512_add_ps(acc[i][v], _mm512_mul_ps(sc, _mm512_cvtepi32_ps(t[i][v])));
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
                                                            const int NV, int64_t n,
                                                            const int *nr) {
    int64_t m = 0;
    for (; m + LMQZ_GEMM_MR <= a->M; m += LMQZ_GEMM_MR)
        gemm_tile(a, p, m, LMQZ_GEMM_MR, NV, n, nr);
    switch (a->M - m) { /* LMQZ_GEMM_MR = 4: 0..3 rows left */
    case 3: gemm_tile(a, p, m, 3, NV, n, nr); break;
    case 2: gemm_tile(a, p, m, 2, NV, n, nr); break;
    case 1: gemm_tile(a, p, m, 1, NV, n, nr); break;
    default: break;
    }
}

/* Columns [n0, n1) in steps of LMQZ_GEMM_NV panels: pack them, then every x row against them. */
static void gemm(const struct lm_mm *a, int64_t n0, int64_t n1, struct lmqz_panel *scratch) {
    const int64_t nb = a->K / LM_QK;
    const struct lmqz_panel *p[LMQZ_GEMM_NV] = {scratch, scratch + nb};
    for (int64_t n = n0; n < n1;) {
        int nv = 0, nr[LMQZ_GEMM_NV];
        for (; nv < LMQZ_GEMM_NV && n + 16 * nv < n1; nv++) {
            nr[nv] = n1 - n - 16 * nv < 16 ? (int)(n1 - n - 16 * nv) : 16;
            pack(scratch + nv * nb, a, n + 16 * nv, nr[nv]);
        }
        if (nv == 2)
            gemm_rows(a, p, 2, n, nr);
        else
            gemm_rows(a, p, 1, n, nr);
        n += 16 * nv;
    }
}

void lm_mm_q8_0_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M >= LMQZ_GEMM_MIN_M) {
        gemm(a, n0, n1, scratch);
        return;
    }
    if (a->M == 1) {
        int64_t n = n0;
        for (; n + 16 <= n1; n += 16)
            tile(a, 0, 1, n, 16, a->w + (size_t)(n + 16) * a->ldw, lmqz_next_lines(n, n1, a->ldw));
        if (n < n1) tile(a, 0, 1, n, (int)(n1 - n), a->w, 0);
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
                tile(a, m, 2, n, nr, a->w, 0);
            if (m < c1) tile(a, m, 1, n, nr, a->w, 0);
        }
    }
}
