/* simd/neon/matmul_legacy_neon.h - the Q8_0 / Q4_0 / Q4_1 matmul of both NEON levels, written
 * once: simd/neon/matmul_q{8_0,4_0,4_1}{,_dotprod}.c define the block dot of their level,
 *
 *     static inline int32x4_t mm_dot(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1);
 *
 * (32 int8 codes of one W block against the 32 of an x block -> 4 int32 partials whose sum is
 * the exact block sum: vmull_s8 + vmlal_s8 + vpaddlq/vpadalq_s16 on neon, two vdotq_s32 on
 * neon+dotprod), then include this header and call lmq_neon_mm with their dtype.
 *
 * Inputs: W rows of K/32 GGUF blocks (Q8_0 34 bytes, Q4_0 18, Q4_1 20: unaligned), x rows of
 * K/32 activation blocks (lm_block_q8x: f32 d, int8 q in [-127, 127]; Q4_1 reads lm_block_q8xs,
 * which adds s = d * sum(q)). Output y[m][n], f32.
 *
 * Register tile: MR (1..4) x rows by 4 W rows per pass over all K/32 blocks. Per block the 4 W
 * rows are loaded (and their nibbles split: low nibbles are elements 0..15, high nibbles
 * 16..31, so they line up with x's two 16-byte halves; Q4_0 subtracts its 8 in int8), their 4
 * fp16 scales convert with one vcvt_f32_f16, and each x row's 32 codes are dotted with the
 * 4 rows. The 4 partial vectors reduce with two vpaddq_s32 levels into one vector of the 4
 * rows' exact block sums, lane r = W row r. Then, per x row and in the reference's order:
 * acc += (dx * dw) * (float)isum (Q4_1: + mw * s), each a separate vmulq_f32 / vaddq_f32, so
 * every output is bit-identical to lm_mm_*_ref whatever the tile, the pass order or the thread
 * split. One f32 accumulator vector per x row (lane r = output column n + r).
 *
 * Pass order: decode (M <= 4) is one pass over the columns with all M x rows in the tile, so W
 * streams from memory once. Prefill (M > 4) cuts the columns into blocks of LMQ_NEON_WBLOCK
 * bytes of W that stay in L2; every group of 4 x rows (a few KB, in L1) sweeps a block in 4x4
 * register tiles, so W is read from memory once and each W block from L2 M/4 times.
 * Tails: a group of fewer than 4 W rows repeats its last row (never reading past the matrix)
 * and drops those lanes at the store; M % 4 x rows take a 1-, 2- or 3-row tile. Rows are whole
 * blocks (K % 32 == 0, checked by the op): no K tail.
 */
#ifndef LMRT_SIMD_NEON_MATMUL_LEGACY_H
#define LMRT_SIMD_NEON_MATMUL_LEGACY_H

#include <stddef.h>

#include "quant_neon.h"

#define LMQ_NEON_WBLOCK (128 * 1024) /* W bytes per column block when M > 4 (L2-resident) */

/* W block bytes; offset of the codes; offset of the codes in the x block; x block bytes. */
static inline size_t lmq_neon_wsize(enum lm_dtype dt) {
    return dt == LM_Q8_0   ? sizeof(struct lm_block_q8_0)
           : dt == LM_Q4_0 ? sizeof(struct lm_block_q4_0)
                           : sizeof(struct lm_block_q4_1);
}
static inline size_t lmq_neon_xsize(enum lm_dtype dt) {
    return dt == LM_Q4_1 ? sizeof(struct lm_block_q8xs) : sizeof(struct lm_block_q8x);
}

/* The 32 codes of one W block as int8 in element order: w0 = elements 0..15, w1 = 16..31. */
static inline __attribute__((always_inline)) void
lmq_neon_codes(enum lm_dtype dt, const uint8_t *blk, int8x16_t *w0, int8x16_t *w1) {
    if (dt == LM_Q8_0) {
        *w0 = vld1q_s8((const int8_t *)blk + offsetof(struct lm_block_q8_0, qs));
        *w1 = vld1q_s8((const int8_t *)blk + offsetof(struct lm_block_q8_0, qs) + 16);
        return;
    }
    const uint8x16_t q = vld1q_u8(blk + (dt == LM_Q4_0 ? offsetof(struct lm_block_q4_0, qs)
                                                       : offsetof(struct lm_block_q4_1, qs)));
    int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15)));
    int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
    if (dt == LM_Q4_0) { /* nibble - 8 in [-8, 7] */
        lo = vsubq_s8(lo, vdupq_n_s8(8));
        hi = vsubq_s8(hi, vdupq_n_s8(8));
    }
    *w0 = lo, *w1 = hi;
}

/* y[m0 + i][n + r] for i < MR, r < nrows (1..4). MR and dt are constants after inlining, so
 * the loops unroll and the accumulators live in registers. */
static inline __attribute__((always_inline)) void lmq_neon_tile(const struct lm_mm *a,
                                                                enum lm_dtype dt, int64_t m0,
                                                                const int MR, int64_t n,
                                                                int nrows) {
    const int64_t nb = a->K / LM_QK;
    const size_t bs = lmq_neon_wsize(dt), xs = lmq_neon_xsize(dt);
    const size_t xq =
        dt == LM_Q4_1 ? offsetof(struct lm_block_q8xs, qs) : offsetof(struct lm_block_q8x, qs);
    const uint8_t *w[4], *x[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
        w[r] = a->w + (size_t)(n + (r < nrows ? r : nrows - 1)) * a->ldw;
    float32x4_t acc[4];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        x[i] = a->x + (size_t)(m0 + i) * a->ldx;
        acc[i] = vdupq_n_f32(0.0f);
    }

    for (int64_t b = 0; b < nb; b++) {
        int8x16_t w0[4], w1[4];
        uint16_t hd[4], hm[4];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            const uint8_t *blk = w[r] + (size_t)b * bs;
            memcpy(&hd[r], blk, 2); /* d is every block's first field, m Q4_1's second */
            if (dt == LM_Q4_1) memcpy(&hm[r], blk + 2, 2);
            lmq_neon_codes(dt, blk, &w0[r], &w1[r]);
        }
        const float32x4_t dw = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(hd)));
        float32x4_t mw = dw;
        if (dt == LM_Q4_1) mw = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(hm)));
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            const uint8_t *xb = x[i] + (size_t)b * xs;
            const int8x16_t x0 = vld1q_s8((const int8_t *)xb + xq);
            const int8x16_t x1 = vld1q_s8((const int8_t *)xb + xq + 16);
            const int32x4_t s =
                lmq_neon_hsum4(mm_dot(w0[0], w1[0], x0, x1), mm_dot(w0[1], w1[1], x0, x1),
                               mm_dot(w0[2], w1[2], x0, x1), mm_dot(w0[3], w1[3], x0, x1));
            float dx;
            memcpy(&dx, xb, sizeof dx);
            const float32x4_t sc = vmulq_f32(vdupq_n_f32(dx), dw);
            float32x4_t t = vmulq_f32(sc, vcvtq_f32_s32(s));
            if (dt == LM_Q4_1) {
                float sx;
                memcpy(&sx, xb + offsetof(struct lm_block_q8xs, s), sizeof sx);
                t = vaddq_f32(t, vmulq_f32(mw, vdupq_n_f32(sx)));
            }
            acc[i] = vaddq_f32(acc[i], t);
        }
    }

#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
        lmq_neon_store_cols(a->y + (m0 + i) * a->ldy + n, acc[i], nrows);
}

/* Columns [n0, n1) of MR x rows from m0, 4 W rows per tile. */
static inline __attribute__((always_inline)) void lmq_neon_cols(const struct lm_mm *a,
                                                                enum lm_dtype dt, int64_t m0,
                                                                const int MR, int64_t n0,
                                                                int64_t n1) {
    for (int64_t n = n0; n < n1; n += 4)
        lmq_neon_tile(a, dt, m0, MR, n, n1 - n < 4 ? (int)(n1 - n) : 4);
}

/* Not inlined: both pass orders of lmq_neon_mm call this one copy (dt is the file's constant,
 * which GCC propagates into it), so each (dtype, MR) tile is emitted once. */
static __attribute__((noinline)) void lmq_neon_cols_mr(const struct lm_mm *a, enum lm_dtype dt,
                                                       int64_t m0, int64_t mr, int64_t n0,
                                                       int64_t n1) {
    switch (mr) {
    case 1: lmq_neon_cols(a, dt, m0, 1, n0, n1); break;
    case 2: lmq_neon_cols(a, dt, m0, 2, n0, n1); break;
    case 3: lmq_neon_cols(a, dt, m0, 3, n0, n1); break;
    default: lmq_neon_cols(a, dt, m0, 4, n0, n1); break;
    }
}

/* The tile contract (struct lm_mm_kernel.tile) for dt: decode in one pass, prefill in
 * L2-resident column blocks (see the header comment). */
static inline __attribute__((always_inline)) void
lmq_neon_mm(const struct lm_mm *a, enum lm_dtype dt, int64_t n0, int64_t n1) {
    if (a->M <= 4) {
        lmq_neon_cols_mr(a, dt, 0, a->M, n0, n1);
        return;
    }
    int64_t nbk = (int64_t)(LMQ_NEON_WBLOCK / a->ldw) & ~(int64_t)3;
    if (nbk < 4) nbk = 4;
    for (int64_t c0 = n0; c0 < n1; c0 += nbk) {
        const int64_t c1 = c0 + nbk < n1 ? c0 + nbk : n1;
        for (int64_t m0 = 0; m0 < a->M; m0 += 4)
            lmq_neon_cols_mr(a, dt, m0, a->M - m0 < 4 ? a->M - m0 : 4, c0, c1);
    }
}

#endif
