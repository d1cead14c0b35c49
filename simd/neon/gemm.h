/* simd/neon/gemm.h - what the NEON float matmul tiles share (matmul_f32/f16/bf16.c, gemm_f32.c).
 *
 * Problem (simd/kernels.h, struct lm_mm): y[m][n] = sum_k x[m][k] * W[n][k] for rows m < M and
 * columns [n0, n1), x F32, W F32, F16 or BF16, both with K contiguous. Two paths, picked by M
 * alone (so every thread of one call takes the same one):
 *
 * - GEMV (M <= LM_NEON_GEMV_MAX_M, decode): each W row is streamed once and dotted with all M
 *   x rows while it is in registers; NW W rows are in flight together, two 4-lane f32
 *   accumulators per (x row, W row) pair (even and odd groups of 4 k), so 2 * MR * NW (12 to
 *   18) independent fmla chains cover the fmla latency. W is widened to f32 in registers
 *   (F16: fcvtl; BF16: zip with zeros, which puts the half in the high 16 bits). K % 8 tail: x
 *   rows and W rows through zero-padded local copies, never a read past a row. Each (m, n) is
 *   the same chain whatever NW its column was grouped in, and the lane sum is always the
 *   pairwise faddp order of lm_neon_hsum, so results do not depend on how columns were split.
 *
 * - GEMM (larger M): gemm_f32.c, an 8 x 12 register kernel (fmla by element) on packed panels:
 *   W panels of kc x 12 columns converted to f32 and packed k-major by lm_neon_pack_w (below),
 *   x micro-panels of kc x 8 rows packed k-major.
 */
#ifndef LMRT_SIMD_NEON_GEMM_H
#define LMRT_SIMD_NEON_GEMM_H

#include "neon.h"

#define LM_NEON_GEMV_MAX_M 4   /* M above this takes the GEMM */
#define LM_NEON_GEMM_MR    8   /* micro-tile rows (x rows): two vectors of lanes */
#define LM_NEON_GEMM_NR    12  /* micro-tile columns (W rows): three vectors */
#define LM_NEON_GEMM_KC    256 /* k block: a packed W panel (kc x 12 f32 = 12 KiB) stays in L1 */
#define LM_NEON_GEMM_MC    128 /* m block: packed x (mc x kc f32 = 128 KiB) stays in L2 */
#define LM_NEON_GEMM_NC    384 /* n block: packed W (kc x nc f32 = 384 KiB), reused per m block */

#define LM_NEON_INLINE static inline __attribute__((always_inline))

/* Pack W rows [0, nr) (nr <= 12; w points at row 0; rows ldw bytes apart) over columns
 * [k0, k0 + kc) into dst[k*12 + j] = (float)W[j][k0 + k], zero for j >= nr. */
typedef void (*lm_neon_pack_w_fn)(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t k0,
                                  int64_t kc);

/* The GEMM over all M rows (M > LM_NEON_GEMV_MAX_M) and columns [n0, n1) (gemm_f32.c).
 * scratch: lm_gemm_scratch_neon(M, K) bytes, 64-byte aligned. */
void lm_gemm_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                  lm_neon_pack_w_fn pack);

/* ---- W elements to f32 ------------------------------------------------------------------- */

/* 4 elements of a W row starting at element k. */
LM_NEON_INLINE float32x4_t lm_neon_load_w4(const uint8_t *row, int64_t k, enum lm_dtype dt) {
    if (dt == LM_F32) return vld1q_f32((const float *)row + k);
    const uint16x4_t h = vld1_u16((const uint16_t *)row + k);
    if (dt == LM_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u16(vzip1q_u16(vdupq_n_u16(0), vcombine_u16(h, h)));
}

/* 8 elements starting at k, as two vectors. */
LM_NEON_INLINE void lm_neon_load_w8(const uint8_t *row, int64_t k, enum lm_dtype dt,
                                    float32x4_t *lo, float32x4_t *hi) {
    if (dt == LM_BF16) { /* one 16-byte load, two zips */
        const uint16x8_t h = vld1q_u16((const uint16_t *)row + k), z = vdupq_n_u16(0);
        *lo = vreinterpretq_f32_u16(vzip1q_u16(z, h));
        *hi = vreinterpretq_f32_u16(vzip2q_u16(z, h));
        return;
    }
    *lo = lm_neon_load_w4(row, k, dt);
    *hi = lm_neon_load_w4(row, k + 4, dt);
}

/* n (0..7) elements of a row from element k into a zeroed local copy of 8 elements (32 bytes),
 * which lm_neon_load_w8 / lm_neon_load_w4 then read at element 0: nothing past the row is
 * read. */
LM_NEON_INLINE void lm_neon_copy_tail(uint8_t buf[32], const uint8_t *row, int64_t k, int64_t n,
                                      enum lm_dtype dt) {
    const size_t es = dt == LM_F32 ? sizeof(float) : sizeof(uint16_t);
    memset(buf, 0, 32);
    memcpy(buf, row + (size_t)k * es, (size_t)n * es);
}

/* ---- packing W panels -------------------------------------------------------------------- */

/* 4 rows of 4 in r[0..3] -> r[i] holds column i */
LM_NEON_INLINE void lm_neon_transpose4(float32x4_t r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

/* The lm_neon_pack_w_fn contract for dtype dt: 4 k at a time, each group of 4 rows is loaded
 * (widened to f32), transposed and stored as 4-lane pieces of 4 packed rows; rows past nr are
 * zeros and never read; the k tail (kc % 4) reads each row through a zero-padded local copy. */
LM_NEON_INLINE void lm_neon_pack_w(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t k0,
                                   int64_t kc, enum lm_dtype dt) {
    for (int64_t k = 0; k < kc; k += 4) {
        const int64_t kn = kc - k < 4 ? kc - k : 4;
#pragma GCC unroll 3
        for (int g = 0; g < 3; g++) {
            float32x4_t r[4];
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) {
                const int64_t j = 4 * g + i;
                const uint8_t *row = w + (size_t)j * ldw;
                if (j >= nr) {
                    r[i] = vdupq_n_f32(0);
                } else if (kn == 4) {
                    r[i] = lm_neon_load_w4(row, k0 + k, dt);
                } else {
                    uint8_t buf[32];
                    lm_neon_copy_tail(buf, row, k0 + k, kn, dt);
                    r[i] = lm_neon_load_w4(buf, 0, dt);
                }
            }
            lm_neon_transpose4(r);
            for (int64_t i = 0; i < kn; i++)
                vst1q_f32(dst + (k + i) * LM_NEON_GEMM_NR + 4 * g, r[i]);
        }
    }
}

/* ---- GEMV -------------------------------------------------------------------------------- */

/* y[m][n + j] for m < MR, j < NW. Per 8 k: the MR x vector pairs are loaded, then each W
 * row's 8 elements (widened) and used MR times straight away. xt: the MR x rows' K % 8 tails,
 * zero-padded to 8. Live: 2*MR*NW + 2*MR + 2 vectors of 32. */
LM_NEON_INLINE void lm_neon_gemv_block(const struct lm_mm *a, int64_t n, int MR, int NW,
                                       const float *xt, enum lm_dtype dt) {
    const float *x[4];
    const uint8_t *w[8];
    float32x4_t acc[4][8][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
        x[i] = (const float *)(a->x + (size_t)i * a->ldx);
#pragma GCC unroll 8
    for (int j = 0; j < NW; j++)
        w[j] = a->w + (size_t)(n + j) * a->ldw;
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++)
            acc[i][j][0] = acc[i][j][1] = vdupq_n_f32(0);
    const int64_t K = a->K, K8 = K & ~(int64_t)7;
    for (int64_t k = 0; k < K8; k += 8) {
        float32x4_t xv[4][2];
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            xv[i][0] = vld1q_f32(x[i] + k);
            xv[i][1] = vld1q_f32(x[i] + k + 4);
        }
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++) {
            float32x4_t w0, w1;
            lm_neon_load_w8(w[j], k, dt, &w0, &w1);
#pragma GCC unroll 4
            for (int i = 0; i < MR; i++) {
                acc[i][j][0] = vfmaq_f32(acc[i][j][0], xv[i][0], w0);
                acc[i][j][1] = vfmaq_f32(acc[i][j][1], xv[i][1], w1);
            }
        }
    }
    if (K8 < K) {
        float32x4_t xv[4][2];
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            xv[i][0] = vld1q_f32(xt + 8 * i);
            xv[i][1] = vld1q_f32(xt + 8 * i + 4);
        }
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++) {
            uint8_t buf[32];
            float32x4_t w0, w1;
            lm_neon_copy_tail(buf, w[j], K8, K - K8, dt);
            lm_neon_load_w8(buf, 0, dt, &w0, &w1);
#pragma GCC unroll 4
            for (int i = 0; i < MR; i++) {
                acc[i][j][0] = vfmaq_f32(acc[i][j][0], xv[i][0], w0);
                acc[i][j][1] = vfmaq_f32(acc[i][j][1], xv[i][1], w1);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        float *y = a->y + i * a->ldy + n;
        int j = 0;
#pragma GCC unroll 2
        for (; j + 4 <= NW; j += 4) { /* four pairwise lane sums in two faddp levels */
            const float32x4_t s0 = vaddq_f32(acc[i][j][0], acc[i][j][1]);
            const float32x4_t s1 = vaddq_f32(acc[i][j + 1][0], acc[i][j + 1][1]);
            const float32x4_t s2 = vaddq_f32(acc[i][j + 2][0], acc[i][j + 2][1]);
            const float32x4_t s3 = vaddq_f32(acc[i][j + 3][0], acc[i][j + 3][1]);
            vst1q_f32(y + j, vpaddq_f32(vpaddq_f32(s0, s1), vpaddq_f32(s2, s3)));
        }
#pragma GCC unroll 4
        for (; j < NW; j++)
            y[j] = lm_neon_hsum(vaddq_f32(acc[i][j][0], acc[i][j][1]));
    }
}

/* Columns [n0, n1) of MR x rows, NW W rows at a time, the last few one at a time. */
LM_NEON_INLINE void lm_neon_gemv_rows(const struct lm_mm *a, int64_t n0, int64_t n1, int MR, int NW,
                                      enum lm_dtype dt) {
    float xt[4 * 8] = {0}; /* the x rows' K % 8 tails, zero-padded */
    const int64_t K8 = a->K & ~(int64_t)7;
    for (int i = 0; i < MR; i++)
        memcpy(xt + 8 * i, (const float *)(a->x + (size_t)i * a->ldx) + K8,
               (size_t)(a->K - K8) * sizeof(float));
    int64_t n = n0;
    for (; n + NW <= n1; n += NW)
        lm_neon_gemv_block(a, n, MR, NW, xt, dt);
    for (; n < n1; n++)
        lm_neon_gemv_block(a, n, MR, 1, xt, dt);
}

/* The GEMV path for M in 1..4. W rows in flight per M: 6, 4, 3, 2 (12, 16, 18, 16
 * accumulators), so that the accumulators, the x vectors and the loaded W vectors of one step
 * (which the compiler hoists ahead of the fmla) fit the 32 registers without spills (8 rows
 * for M = 1 would need 34). */
LM_NEON_INLINE void lm_neon_gemv(const struct lm_mm *a, int64_t n0, int64_t n1, enum lm_dtype dt) {
    switch (a->M) {
    case 1: lm_neon_gemv_rows(a, n0, n1, 1, 6, dt); break;
    case 2: lm_neon_gemv_rows(a, n0, n1, 2, 4, dt); break;
    case 3: lm_neon_gemv_rows(a, n0, n1, 3, 3, dt); break;
    default: lm_neon_gemv_rows(a, n0, n1, 4, 2, dt); break;
    }
}

#endif
