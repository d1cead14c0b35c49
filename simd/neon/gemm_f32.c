/* simd/neon/gemm_f32.c - the f32 GEMM behind the NEON float matmul tiles for
 * M > LM_NEON_GEMV_MAX_M.
 *
 * y[m][n] = sum_k x[m][k] * W[n][k] for all M rows and columns [n0, n1) (one thread's share).
 * Register kernel: 8 x rows x 12 W rows (24 accumulators of 4 lanes; per k one 32-byte load of
 * packed x, one 48-byte load of a packed W panel and 24 fmla by element, x's lanes broadcast
 * by the instruction: 24 fmla per 5 loads). With the 5 operands that is 29 of the 32 vector
 * registers, so nothing spills.
 * Blocking (Goto/BLIS): jc: nc <= 384 columns; pc: kc <= 256 (K split evenly, multiples of 4
 * but the last); ic: mc <= 128 rows, packed into 8-row micro-panels xp[k*8 + i] (4 x 4
 * transposes); jr: 12-column W panels, converted to f32 and packed (lm_neon_pack_w) during the
 * first m block, right before their first use, and kept (kc x nc) for the later m blocks; ir:
 * the kernel. M <= 128 has one m block, so each W panel is packed once and used once.
 * Order of arithmetic: every y[m][n] is one f32 fma chain over k in increasing order (tiles
 * are stored and reloaded exactly at k-block boundaries), so a result does not depend on the
 * tile or thread its element falls in. Edges (M % 8, N % 12) run the same kernel on an 8 x 12
 * stack tile holding the valid part of y; missing x or W rows are zeros in the packed panels.
 * Nothing outside x, W and y's M x [n0, n1) is read or written. Packed buffers live in the
 * thread's scratch (lm_gemm_scratch_neon bytes, 64-byte aligned); x and y rows may have any
 * alignment. Accumulator: f32.
 */
#include "gemm.h"

enum { MR = LM_NEON_GEMM_MR, NR = LM_NEON_GEMM_NR };

/* K split into blocks of at most LM_NEON_GEMM_KC, as even as multiples of 4 allow. */
static int64_t kc_step(int64_t K) {
    int64_t nb = (K + LM_NEON_GEMM_KC - 1) / LM_NEON_GEMM_KC;
    int64_t kc = (K + nb - 1) / nb;
    kc = (kc + 3) & ~(int64_t)3;
    return kc < LM_NEON_GEMM_KC ? kc : LM_NEON_GEMM_KC;
}

size_t lm_gemm_scratch_neon(int64_t M, int64_t K) {
    if (M <= LM_NEON_GEMV_MAX_M) return 0;
    const size_t kc = (size_t)kc_step(K);
    return (kc * LM_NEON_GEMM_NC + kc * LM_NEON_GEMM_MC) * sizeof(float); /* W block + x block */
}

/* Rows [0, mr) of x (ldx bytes apart, mr <= 8) over kc columns: dst[k*8 + i] = x[i][k], rows
 * past mr zero. 4 k at a time by two 4 x 4 transposes; the k tail through zero-padded copies. */
static void pack_x(float *dst, const uint8_t *x, size_t ldx, int64_t mr, int64_t kc) {
    for (int64_t k = 0; k < kc; k += 4) {
        const int64_t kn = kc - k < 4 ? kc - k : 4;
        for (int g = 0; g < 2; g++) {
            float32x4_t r[4];
            for (int i = 0; i < 4; i++) {
                const int64_t row = 4 * g + i;
                const float *p = (const float *)(x + (size_t)row * ldx) + k;
                r[i] = row >= mr ? vdupq_n_f32(0)
                       : kn == 4 ? vld1q_f32(p)
                                 : lm_neon_load_tail(p, kn);
            }
            lm_neon_transpose4(r);
            for (int64_t i = 0; i < kn; i++)
                vst1q_f32(dst + (k + i) * MR + 4 * g, r[i]);
        }
    }
}

/* c (8 rows ldc floats apart, 12 columns) = (accumulate ? c : 0) + x micro-panel x W panel
 * over kc. xp[k*8 + i], bp[k*12 + j]. */
static void ukernel(int64_t kc, const float *restrict xp, const float *restrict bp, float *c,
                    int64_t ldc, bool accumulate) {
    float32x4_t acc[MR][3];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
        for (int j = 0; j < 3; j++)
            acc[i][j] = accumulate ? vld1q_f32(c + i * ldc + 4 * j) : vdupq_n_f32(0);
    for (int64_t k = 0; k < kc; k++) {
        const float32x4_t b[3] = {vld1q_f32(bp), vld1q_f32(bp + 4), vld1q_f32(bp + 8)};
        const float32x4_t a0 = vld1q_f32(xp), a1 = vld1q_f32(xp + 4);
        /* x row i's element, broadcast from its lane: vfmaq_f32 of vdupq_laneq_f32 is one
         * fmla by element (and stays a fused fma in SIMDe, unlike its vfmaq_laneq_f32) */
        const float32x4_t s[MR] = {vdupq_laneq_f32(a0, 0), vdupq_laneq_f32(a0, 1),
                                   vdupq_laneq_f32(a0, 2), vdupq_laneq_f32(a0, 3),
                                   vdupq_laneq_f32(a1, 0), vdupq_laneq_f32(a1, 1),
                                   vdupq_laneq_f32(a1, 2), vdupq_laneq_f32(a1, 3)};
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
            for (int j = 0; j < 3; j++)
                acc[i][j] = vfmaq_f32(acc[i][j], b[j], s[i]);
        xp += MR;
        bp += NR;
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
        for (int j = 0; j < 3; j++)
            vst1q_f32(c + i * ldc + 4 * j, acc[i][j]);
}

/* A partial tile (mr < 8 or nr < 12): the valid mr x nr corner of y goes through an 8 x 12
 * stack tile, so every element gets the full kernel's arithmetic and nothing past y is
 * touched. */
static void ukernel_edge(int64_t kc, const float *xp, const float *bp, float *c, int64_t ldc,
                         bool accumulate, int64_t mr, int64_t nr) {
    float t[MR * NR];
    memset(t, 0, sizeof t);
    if (accumulate)
        for (int64_t i = 0; i < mr; i++)
            memcpy(t + i * NR, c + i * ldc, (size_t)nr * sizeof(float));
    ukernel(kc, xp, bp, t, NR, accumulate);
    for (int64_t i = 0; i < mr; i++)
        memcpy(c + i * ldc, t + i * NR, (size_t)nr * sizeof(float));
}

void lm_gemm_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                  lm_neon_pack_w_fn pack) {
    const int64_t M = a->M, K = a->K, kcs = kc_step(K);
    float *wp = scratch, *xp = (float *)scratch + kcs * LM_NEON_GEMM_NC;
    for (int64_t jc = n0; jc < n1; jc += LM_NEON_GEMM_NC) {
        const int64_t nc = n1 - jc < LM_NEON_GEMM_NC ? n1 - jc : LM_NEON_GEMM_NC;
        for (int64_t pc = 0; pc < K; pc += kcs) {
            const int64_t kc = K - pc < kcs ? K - pc : kcs;
            const bool accumulate = pc > 0;
            for (int64_t ic = 0; ic < M; ic += LM_NEON_GEMM_MC) {
                const int64_t mc = M - ic < LM_NEON_GEMM_MC ? M - ic : LM_NEON_GEMM_MC;
                for (int64_t ir = 0; ir < mc; ir += MR)
                    pack_x(xp + ir * kc, a->x + (size_t)(ic + ir) * a->ldx + (size_t)pc * 4, a->ldx,
                           mc - ir < MR ? mc - ir : MR, kc);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const int64_t nr = nc - jr < NR ? nc - jr : NR;
                    float *bp = wp + jr * kc;
                    if (ic == 0) pack(bp, a->w + (size_t)(jc + jr) * a->ldw, a->ldw, nr, pc, kc);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        const int64_t mr = mc - ir < MR ? mc - ir : MR;
                        float *c = a->y + (ic + ir) * a->ldy + jc + jr;
                        if (mr == MR && nr == NR)
                            ukernel(kc, xp + ir * kc, bp, c, a->ldy, accumulate);
                        else
                            ukernel_edge(kc, xp + ir * kc, bp, c, a->ldy, accumulate, mr, nr);
                    }
                }
            }
        }
    }
}
