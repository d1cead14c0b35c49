/* simd/amx/mm_int8.h - the AMX int8 GEMM that matmul_q8_0.c, matmul_q4_0.c and matmul_q4_1.c
 * instantiate (one always_inline body, the dtype a constant after inlining).
 *
 * Problem: y[m][n] = sum over 32-blocks b of (dx[m][b] * dw[n][b]) * isum[m][n][b] (+ for Q4_1
 * mw[n][b] * sx[m][b]), x the level below's 8-bit blocks (lm_block_q8x, or lm_block_q8xs for
 * Q4_1), in the reference's float order, so every output is bit-identical to lm_mm_*_ref: the
 * tiles give exact int32 block sums, AVX-512 does the per-block float work.
 *
 * Layout. W is repacked per panel of 16 W rows (16 output columns) into the thread's scratch,
 * per block one struct amx_qblock: the B tile (8 rows of 64 bytes: row g holds, for column j,
 * its codes 4g..4g+3 at bytes 4j..4j+3, the 4-byte groups the dot-product instructions pair
 * with x), then the 16 columns' scales (and Q4_1 mins) as f32. Codes: Q8_0 as stored, Q4_0
 * nibble - 8 (both signed: tdpbssd), Q4_1 nibbles 0..15 (unsigned: tdpbsud, x signed). x is
 * not repacked: the A tile is 16 x rows of one block's 32 codes, loaded in place with the row
 * stride (rows 16, colsb 32). One tdpb*d per (16 x rows, 16 columns, block) gives the 256 exact
 * block sums in a C tile (16 rows x 16 int32), stored to a 1 KiB buffer and read back row by
 * row into the float update: per x row, sc = dx * dw (16 columns), acc += sc * float(isum),
 * 16 zmm accumulators that live across all blocks. Blocks alternate between two sets of tiles
 * (A, B, C = tmm0/2/4 and tmm1/3/5) so the tile unit can run one block ahead of the float work.
 *
 * Tails: N: a last panel of nr < 16 columns packs zero codes and scales in the missing columns
 * and stores only nr lanes (masked stores). M (>= 16 here): the last 16-row tile starts at
 * M - 16 and recomputes rows the previous tile wrote, with the same bits. K is whole blocks.
 * x rows are taken in chunks of about 1 MiB, so a chunk stays in L2 while every panel of
 * [n0, n1) is packed and run against it. M < LM_AMX_MIN_M goes to the level below.
 */
#ifndef LMRT_SIMD_AMX_MM_INT8_H
#define LMRT_SIMD_AMX_MM_INT8_H

#include "../avx2/quant_legacy_avx2.h"
#include "amx.h"

enum amx_q { AMX_Q8_0, AMX_Q4_0, AMX_Q4_1 };

struct amx_qblock {
    uint8_t q[8][64]; /* the B tile */
    float d[16];      /* column scales */
    float m[16];      /* Q4_1 column mins (unused otherwise) */
};

#define AMX_INLINE static inline __attribute__((always_inline))

static inline size_t amx_q_scratch(enum lm_dtype dt, int64_t M, int64_t K) {
    if (M < LM_AMX_MIN_M)
        return lm_amx_below[dt].scratch_size ? lm_amx_below[dt].scratch_size(M, K) : 0;
    return (size_t)(K / LM_QK) * sizeof(struct amx_qblock) + 2 * 1024;
}

/* Eight rows (r0 .. r0 + 7 of the panel; rows >= nr are zero) of one block -> their half of
 * the B tile: bytes [32 h, 32 h + 32) of its 8 rows. */
AMX_INLINE void amx_q_pack_half(struct amx_qblock *p, const uint8_t *wb, size_t ldw, int r0, int nr,
                                enum amx_q t) {
    __m256i v[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) {
        const uint8_t *blk = r0 + r < nr ? wb + (size_t)(r0 + r) * ldw : wb;
        if (r0 + r >= nr) {
            v[r] = _mm256_setzero_si256();
        } else if (t == AMX_Q8_0) {
            v[r] = _mm256_loadu_si256((const __m256i *)((const struct lm_block_q8_0 *)blk)->qs);
        } else {
            const uint8_t *qs = t == AMX_Q4_0 ? ((const struct lm_block_q4_0 *)blk)->qs
                                              : ((const struct lm_block_q4_1 *)blk)->qs;
            __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(15);
            /* element order: low nibbles are elements 0..15, high nibbles 16..31 */
            v[r] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
            if (t == AMX_Q4_0) v[r] = _mm256_sub_epi8(v[r], _mm256_set1_epi8(8));
        }
    }
    lmq_transpose8_epi32(v); /* v[g]: group g (codes 4g..4g+3) of the 8 rows */
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++)
        _mm256_store_si256((__m256i *)(p->q[g] + 4 * r0), v[g]);
}

/* W rows [n, n + nr) -> K/32 panel blocks. */
AMX_INLINE void amx_q_pack(struct amx_qblock *p, const struct lm_mm *a, int64_t n, int nr,
                           enum amx_q t) {
    const int64_t nb = a->K / LM_QK;
    const size_t bs = t == AMX_Q8_0   ? sizeof(struct lm_block_q8_0)
                      : t == AMX_Q4_0 ? sizeof(struct lm_block_q4_0)
                                      : sizeof(struct lm_block_q4_1);
    const uint8_t *w0 = a->w + (size_t)n * a->ldw;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w0 + (size_t)b * bs;
        amx_q_pack_half(p + b, wb, a->ldw, 0, nr, t);
        amx_q_pack_half(p + b, wb, a->ldw, 8, nr, t);
        uint16_t hd[16] = {0}, hm[16] = {0};
        for (int r = 0; r < nr; r++) {
            const uint8_t *blk = wb + (size_t)r * a->ldw;
            memcpy(&hd[r], blk, 2); /* d first in every block */
            if (t == AMX_Q4_1) hm[r] = ((const struct lm_block_q4_1 *)blk)->m;
        }
        _mm256_store_ps(p[b].d, lmq_f16x8(hd));
        _mm256_store_ps(p[b].d + 8, lmq_f16x8(hd + 8));
        if (t == AMX_Q4_1) {
            _mm256_store_ps(p[b].m, lmq_f16x8(hm));
            _mm256_store_ps(p[b].m + 8, lmq_f16x8(hm + 8));
        }
    }
}

/* Block b of a 16-row tile on tile set `set` (constant): the block sums into c (16 x 16 int32),
 * then acc[i] += (dx[i] * dw) * float(isum[i]) (+ mw * sx[i]) for the 16 x rows. */
AMX_INLINE void amx_q_block(__m512 acc[16], const struct amx_qblock *pb, const uint8_t *xb,
                            size_t ldx, int32_t *c, const int set, enum amx_q t) {
    const void *xq = xb + (t == AMX_Q4_1 ? offsetof(struct lm_block_q8xs, qs)
                                         : offsetof(struct lm_block_q8x, qs));
    if (set == 0) {
        _tile_zero(4);
        _tile_loadd(0, xq, ldx);
        _tile_loadd(2, pb->q, 64);
        if (t == AMX_Q4_1)
            _tile_dpbsud(4, 0, 2);
        else
            _tile_dpbssd(4, 0, 2);
        _tile_stored(4, c, 64);
    } else {
        _tile_zero(5);
        _tile_loadd(1, xq, ldx);
        _tile_loadd(3, pb->q, 64);
        if (t == AMX_Q4_1)
            _tile_dpbsud(5, 1, 3);
        else
            _tile_dpbssd(5, 1, 3);
        _tile_stored(5, c, 64);
    }
    const __m512 dw = _mm512_load_ps(pb->d);
    const __m512 mw = t == AMX_Q4_1 ? _mm512_load_ps(pb->m) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        const uint8_t *xr = xb + (size_t)i * ldx;
        float dx;
        memcpy(&dx, xr, sizeof dx); /* d first in both x block types */
        __m512 f = _mm512_cvtepi32_ps(_mm512_load_si512((const void *)(c + 16 * i)));
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(dx), dw), f);
        if (t == AMX_Q4_1) {
            float sx;
            memcpy(&sx, xr + offsetof(struct lm_block_q8xs, s), sizeof sx);
            v = _mm512_add_ps(v, _mm512_mul_ps(mw, _mm512_set1_ps(sx)));
        }
        acc[i] = _mm512_add_ps(acc[i], v);
    }
}

/* y rows [m0, m0 + 16) x columns [n, n + nr) from the packed panel p. */
AMX_INLINE void amx_q_tile16(const struct lm_mm *a, const struct amx_qblock *p, int64_t m0,
                             int64_t n, int nr, int32_t *cbuf, enum amx_q t) {
    const int64_t nb = a->K / LM_QK;
    const size_t xbs = t == AMX_Q4_1 ? sizeof(struct lm_block_q8xs) : sizeof(struct lm_block_q8x);
    const uint8_t *x0 = a->x + (size_t)m0 * a->ldx;
    __m512 acc[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        amx_q_block(acc, p + b, x0 + (size_t)b * xbs, a->ldx, cbuf, 0, t);
        amx_q_block(acc, p + b + 1, x0 + (size_t)(b + 1) * xbs, a->ldx, cbuf + 256, 1, t);
    }
    if (b < nb) amx_q_block(acc, p + b, x0 + (size_t)b * xbs, a->ldx, cbuf, 0, t);
    const __mmask16 keep = (__mmask16)((1u << nr) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        _mm512_mask_storeu_ps(a->y + (m0 + i) * a->ldy + n, keep, acc[i]);
}

/* The tile() entry of each dtype. */
AMX_INLINE void amx_q_gemm(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                           enum lm_dtype dt, enum amx_q t) {
    if (a->M < LM_AMX_MIN_M) {
        lm_amx_below[dt].tile(a, n0, n1, scratch);
        return;
    }
    const int64_t nb = a->K / LM_QK;
    struct amx_qblock *p = scratch;
    int32_t *cbuf = (int32_t *)(p + nb); /* two C tiles, 64-byte aligned (sizeof block) */

    struct lm_amx_cfg cfg = {.palette = 1};
    for (int i = 0; i < 2; i++) {
        cfg.rows[i] = 16, cfg.colsb[i] = 32;         /* A: 16 x rows, one block's 32 codes */
        cfg.rows[2 + i] = 8, cfg.colsb[2 + i] = 64;  /* B: 8 groups x 16 columns */
        cfg.rows[4 + i] = 16, cfg.colsb[4 + i] = 64; /* C: 16 x 16 int32 */
    }
    _tile_loadconfig(&cfg);

    int64_t mc = (int64_t)((1u << 20) / a->ldx) & ~(int64_t)15;
    if (mc < LM_AMX_MIN_M) mc = LM_AMX_MIN_M;
    for (int64_t c0 = 0; c0 < a->M; c0 += mc) {
        const int64_t c1 = c0 + mc < a->M ? c0 + mc : a->M;
        for (int64_t n = n0; n < n1; n += 16) {
            const int nr = n1 - n < 16 ? (int)(n1 - n) : 16;
            amx_q_pack(p, a, n, nr, t);
            for (int64_t m = c0; m < c1; m += 16)
                amx_q_tile16(a, p, m + 16 <= a->M ? m : a->M - 16, n, nr, cbuf, t);
        }
    }
    _tile_release();
}

#endif
