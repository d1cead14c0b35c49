/* simd/neon/matmul_k_neon.h - the Q4_K / Q5_K / Q6_K matmuls of both NEON levels, written once:
 * simd/neon/matmul_q{4,5,6}_k{,_dotprod}.c define the integer dots of their level,
 *
 *     static inline int32x4_t kq_dot32(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1);
 *     static inline int32x4_t kq_dot16(int8x16_t a, int8x16_t b);
 *
 * (32 or 16 codes 0..63 against int8 x in [-127, 127] -> 4 int32 partials whose sum is the
 * exact dot: vmull_s8 / vmlal_s8 / vpaddlq_s16 on neon, vdotq_s32 on neon+dotprod), then
 * include this header and call lmk_neon_mm with their dtype.
 *
 * Math per (W row n, x row m, super-block i), exactly ops/matmul_k.c's:
 *   Q4_K/Q5_K: isum = sum_j sc_j*dot(q_j, x_j), msum = sum_j m_j*(bsum_2j + bsum_2j+1),
 *              acc += (d_w*d_x) * (float)isum - (dmin_w*d_x) * (float)msum
 *   Q6_K:      isum = sum_g sc_g*dot(q_g, x_g), osum = sum_g sc_g*bsum_g (q the raw 0..63),
 *              acc += (d_w*d_x) * (float)(isum - 32*osum)
 * The integer sums are exact (int16 stages bounded in quant_neon.h, int32 per super-block as
 * in the reference), and the few f32 operations per super-block are the reference's, in its
 * order, one rounding each (no contraction under -std=c11), so every output is bit-identical
 * to the reference's whatever the pass order or thread split.
 *
 * Tiling: one W row against a group of mr = 1..4 x rows per pass, so each W super-block is
 * unpacked once and used for mr rows. Sub-block dots accumulate into one int32x4 per x row,
 * scaled by the sub-block's integer scale (vmlaq_n_s32), reduced across lanes (vaddvq_s32)
 * once per super-block. Pass order (lmk_neon_mm): decode (M <= 4) streams W once; prefill
 * sweeps 128 KiB column blocks (L2-resident) with every group of 4 x rows.
 * Packing: none (W read in place, file layout). Alignment: none (unaligned loads). Tail: none
 * (K % 256 == 0, checked by the op).
 */
#ifndef LMRT_SIMD_NEON_MATMUL_K_H
#define LMRT_SIMD_NEON_MATMUL_K_H

#include <stddef.h>

#include "quant_k_neon.h"

#define LMK_NEON_WBLOCK (128 * 1024) /* W bytes per column block when M > 4 (L2-resident) */

/* d and dmin (or d and anything) of a super-block, fp16 pair at p, as f32 lanes 0 and 1. */
static inline float32x4_t lmk_neon_f16x2(const uint8_t *p) {
    uint16_t h[4] = {0, 0, 0, 0};
    memcpy(h, p, 4);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

/* Q4_K (dt) or Q5_K: W row n against x rows m0 .. m0+mr-1. */
static inline __attribute__((always_inline)) void
lmk_neon_rows_asym(const struct lm_mm *a, enum lm_dtype dt, int64_t n, int64_t m0, const int mr) {
    const int five = dt == LM_Q5_K;
    const size_t bs = five ? sizeof(struct lm_block_q5_k) : sizeof(struct lm_block_q4_k);
    const size_t qso =
        five ? offsetof(struct lm_block_q5_k, qs) : offsetof(struct lm_block_q4_k, qs);
    const uint8_t *w = a->w + (size_t)n * a->ldw;
    const struct lm_block_q8_k *x[4];
    float acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        x[r] = (const struct lm_block_q8_k *)(a->x + (size_t)(m0 + r) * a->ldx);
        acc[r] = 0.0f;
    }
    const uint8x16_t low4 = vdupq_n_u8(15), bit4 = vdupq_n_u8(16);
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w += bs) {
        uint8_t sm[16];
        lm_k_unpack_scales(w + offsetof(struct lm_block_q4_k, scales), sm);
        const uint8_t *qs = w + qso;
        uint8x16_t qh0 = vdupq_n_u8(0), qh1 = qh0;
        if (five) {
            qh0 = vld1q_u8(w + offsetof(struct lm_block_q5_k, qh));
            qh1 = vld1q_u8(w + offsetof(struct lm_block_q5_k, qh) + 16);
        }
        int32x4_t isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = vdupq_n_s32(0);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const uint8x16_t q0 = vld1q_u8(qs + 32 * c), q1 = vld1q_u8(qs + 32 * c + 16);
            uint8x16_t lo0 = vandq_u8(q0, low4), lo1 = vandq_u8(q1, low4);
            uint8x16_t hi0 = vshrq_n_u8(q0, 4), hi1 = vshrq_n_u8(q1, 4);
            if (five) { /* bit 2c of qh[l] -> value l of sub-block 2c, bit 2c+1 -> 2c+1 */
                lo0 = vorrq_u8(lo0, vandq_u8(vshlq_n_u8(qh0, 4), bit4));
                lo1 = vorrq_u8(lo1, vandq_u8(vshlq_n_u8(qh1, 4), bit4));
                hi0 = vorrq_u8(hi0, vandq_u8(vshlq_n_u8(qh0, 3), bit4));
                hi1 = vorrq_u8(hi1, vandq_u8(vshlq_n_u8(qh1, 3), bit4));
                qh0 = vshrq_n_u8(qh0, 2);
                qh1 = vshrq_n_u8(qh1, 2);
            }
            const int32_t s0 = sm[2 * c], s1 = sm[2 * c + 1];
#pragma GCC unroll 4
            for (int r = 0; r < mr; r++) {
                const int8_t *xq = x[r][i].qs + 64 * c;
                const int32x4_t p0 = kq_dot32(vreinterpretq_s8_u8(lo0), vreinterpretq_s8_u8(lo1),
                                              vld1q_s8(xq), vld1q_s8(xq + 16));
                const int32x4_t p1 = kq_dot32(vreinterpretq_s8_u8(hi0), vreinterpretq_s8_u8(hi1),
                                              vld1q_s8(xq + 32), vld1q_s8(xq + 48));
                isum[r] = vmlaq_n_s32(vmlaq_n_s32(isum[r], p0, s0), p1, s1);
            }
        }
        const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(sm + 8)));
        const float32x4_t dd = lmk_neon_f16x2(w); /* d, dmin */
        const float dw = vgetq_lane_f32(dd, 0), dmw = vgetq_lane_f32(dd, 1);
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            const struct lm_block_q8_k *xb = &x[r][i];
            /* bsum32_j = bsum_2j + bsum_2j+1 for j = 0..7 */
            const int16x8_t b32 = vpaddq_s16(vld1q_s16(xb->bsums), vld1q_s16(xb->bsums + 8));
            const int32_t msum = vaddvq_s32(
                vmlal_high_s16(vmull_s16(vget_low_s16(mins), vget_low_s16(b32)), mins, b32));
            const int32_t is = vaddvq_s32(isum[r]);
            acc[r] += (dw * xb->d) * (float)is - (dmw * xb->d) * (float)msum;
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
        a->y[(m0 + r) * a->ldy + n] = acc[r];
}

/* Q6_K: W row n against x rows m0 .. m0+mr-1. */
static inline __attribute__((always_inline)) void lmk_neon_rows_q6(const struct lm_mm *a, int64_t n,
                                                                   int64_t m0, const int mr) {
    const struct lm_block_q6_k *w = (const struct lm_block_q6_k *)(a->w + (size_t)n * a->ldw);
    const struct lm_block_q8_k *x[4];
    float acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        x[r] = (const struct lm_block_q8_k *)(a->x + (size_t)(m0 + r) * a->ldx);
        acc[r] = 0.0f;
    }
    const int64_t nb = a->K / LM_QK_K;
    for (int64_t i = 0; i < nb; i++, w++) {
        int32x4_t isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++)
            isum[r] = vdupq_n_s32(0);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
#pragma GCC unroll 2
            for (int s = 0; s < 2; s++) { /* l = 16s .. 16s+15 of each run of 32 */
                int8x16_t v[4];
                lmk_neon_q6_codes(v, w->ql + 64 * h + 16 * s, w->qh + 32 * h + 16 * s);
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) { /* run k: values 128h + 32k + l, group 8h+2k+s */
                    const int32_t sc = w->scales[8 * h + 2 * k + s];
#pragma GCC unroll 4
                    for (int r = 0; r < mr; r++)
                        isum[r] = vmlaq_n_s32(
                            isum[r],
                            kq_dot16(v[k], vld1q_s8(x[r][i].qs + 128 * h + 32 * k + 16 * s)), sc);
                }
            }
        const int8x16_t sc8 = vld1q_s8(w->scales);
        const int16x8_t sc0 = vmovl_s8(vget_low_s8(sc8)), sc1 = vmovl_s8(vget_high_s8(sc8));
        uint16_t hd[4] = {w->d, 0, 0, 0};
        const float dw = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(hd))), 0);
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            const struct lm_block_q8_k *xb = &x[r][i];
            const int16x8_t b0 = vld1q_s16(xb->bsums), b1 = vld1q_s16(xb->bsums + 8);
            int32x4_t o = vmull_s16(vget_low_s16(sc0), vget_low_s16(b0));
            o = vmlal_high_s16(o, sc0, b0);
            o = vmlal_s16(o, vget_low_s16(sc1), vget_low_s16(b1));
            o = vmlal_high_s16(o, sc1, b1);
            const int32_t t = vaddvq_s32(isum[r]) - 32 * vaddvq_s32(o);
            acc[r] += (dw * xb->d) * (float)t;
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
        a->y[(m0 + r) * a->ldy + n] = acc[r];
}

static inline __attribute__((always_inline)) void
lmk_neon_rows(const struct lm_mm *a, enum lm_dtype dt, int64_t n, int64_t m0, const int mr) {
    if (dt == LM_Q6_K)
        lmk_neon_rows_q6(a, n, m0, mr);
    else
        lmk_neon_rows_asym(a, dt, n, m0, mr);
}

/* Columns [n0, n1) of mr (1..4) x rows from m0. Not inlined: both pass orders of lmk_neon_mm
 * call this one copy (dt is the file's constant, which GCC propagates into it), so each
 * (dtype, mr) row kernel is emitted once. */
static __attribute__((noinline)) void lmk_neon_cols(const struct lm_mm *a, enum lm_dtype dt,
                                                    int64_t m0, int64_t mr, int64_t n0,
                                                    int64_t n1) {
    switch (mr) {
    case 1:
        for (int64_t n = n0; n < n1; n++)
            lmk_neon_rows(a, dt, n, m0, 1);
        break;
    case 2:
        for (int64_t n = n0; n < n1; n++)
            lmk_neon_rows(a, dt, n, m0, 2);
        break;
    case 3:
        for (int64_t n = n0; n < n1; n++)
            lmk_neon_rows(a, dt, n, m0, 3);
        break;
    default:
        for (int64_t n = n0; n < n1; n++)
            lmk_neon_rows(a, dt, n, m0, 4);
        break;
    }
}

/* The tile contract (struct lm_mm_kernel.tile) for dt, all M rows, columns [n0, n1). */
static inline __attribute__((always_inline)) void
lmk_neon_mm(const struct lm_mm *a, enum lm_dtype dt, int64_t n0, int64_t n1) {
    if (a->M <= 4) {
        lmk_neon_cols(a, dt, 0, a->M, n0, n1);
        return;
    }
    int64_t nbk = (int64_t)(LMK_NEON_WBLOCK / a->ldw);
    if (nbk < 1) nbk = 1;
    for (int64_t c0 = n0; c0 < n1; c0 += nbk) {
        const int64_t c1 = c0 + nbk < n1 ? c0 + nbk : n1;
        for (int64_t m0 = 0; m0 < a->M; m0 += 4)
            lmk_neon_cols(a, dt, m0, a->M - m0 < 4 ? a->M - m0 : 4, c0, c1);
    }
}

#endif
