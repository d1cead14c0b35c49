/* simd/avx2/gemm_f32.c - the f32 GEMM behind the AVX2 float matmul tiles for M > LM_GEMV_MAX_M.
 *
 * y[m][n] = sum_k x[m][k] * W[n][k] for all M rows and columns [n0, n1) (one thread's share).
 * Register kernel: 6 broadcast rows x 16 vector lanes (12 ymm accumulators; per k two aligned
 * 8-float loads of a packed 16-wide panel, six broadcasts, twelve FMAs; 12 FMAs per 8 loads
 * keeps the two FMA pipes busy where a dot-product form would wait on loads), plus a 12 x 8
 * twin for small M, in three loop nests by M:
 * - M <= LM_GEMM_SMALL_M (16): roles swapped. x is packed once, transposed, into one panel
 *   xt[k*L + m] of L = 16 lanes (L = 8 when M <= 8; rows past M zero); W rows are the broadcast
 *   operand, read in place for f32 (converted whole into a buffer of 12 rows for f16/bf16, or
 *   copied for a short last group), so W is streamed row by row and never transposed. A
 *   group of 6 W rows x 16 lanes runs the 6x16 kernel; 12 W rows x 8 lanes its 12x8 twin (one
 *   load, twelve broadcasts, twelve FMAs per k), so M = 5..8 does not waste half the lanes. The
 *   result tile (W rows x x rows) stays in a stack tile across k blocks and is written to y
 *   transposed.
 * - M <= LM_GEMM_MC (144): one m block. For each 16-column W panel, for each k block: pack the
 *   panel (kc x 16, k-major, converted to f32), then run the kernel over 6-row micro-panels of
 *   x read in place. Each W row is read front to back, a stream the prefetcher follows.
 * - larger M (prefill): Goto/BLIS blocking. jc: nc <= 1024 columns; pc: kc <= 256 (K split
 *   evenly, multiples of 8 but the last); ic: mc <= 144 rows, packed into 6-row micro-panels
 *   (x[k*6 + i]); jr: 16-column W panels, packed during the first m block right before their
 *   first use (so they are in L1) and kept (kc x nc, 1 MiB) for the later m blocks; ir: kernel.
 * Order of arithmetic: every y[m][n] is one f32 FMA chain over k in increasing order (tiles are
 * stored and reloaded exactly at k-block boundaries), so a result does not depend on the tile
 * or thread its element falls in. Edges (M % 6, N % 16) run the same kernel on a 6x16 stack
 * tile holding the valid part of y (the small path always computes into a stack tile); missing x or
 * W rows are zeros in packed panels, or point at row 0 (valid memory, results dropped) when read in
 * place. Nothing outside x, W and y's M x [n0, n1) is read or written. Packed buffers live in the
 * thread's scratch (lm_gemm_scratch_avx2 bytes, 64-byte aligned); x and y rows may have any
 * alignment. Accumulator: f32.
 */
#include "gemm.h"

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Floats between converted W rows in gemm_small: K rounded up to 16, plus 16 so that rows are
 * 64-byte aligned but never a multiple of 4 KiB apart (which would put them in one L1 set). */
static int64_t wbuf_stride(int64_t K) { return (K + 15) / 16 * 16 + 16; }

/* K split into blocks of at most LM_GEMM_KC, as even as multiples of 8 allow. */
static int64_t kc_step(int64_t K) {
    int64_t nb = (K + LM_GEMM_KC - 1) / LM_GEMM_KC;
    int64_t kc = (K + nb - 1) / nb;
    kc = (kc + 7) & ~(int64_t)7;
    return kc < LM_GEMM_KC ? kc : LM_GEMM_KC;
}

size_t lm_gemm_scratch_avx2(int64_t M, int64_t K) {
    size_t kc = (size_t)kc_step(K);
    if (M <= LM_GEMV_MAX_M) return 0;
    if (M <= LM_GEMM_SMALL_M) /* xt panel + converted W rows */
        return round64((size_t)K * LM_GEMM_NR * sizeof(float)) +
               (size_t)wbuf_stride(K) * 12 * sizeof(float);
    if (M <= LM_GEMM_MC) return kc * LM_GEMM_NR * sizeof(float); /* one W panel */
    return (kc * LM_GEMM_NC + kc * LM_GEMM_MC) * sizeof(float);  /* W block + x block */
}

/* ---- packing x --------------------------------------------------------------------------- */

/* Rows [0, mr) of x (ldx bytes apart, mr <= 6) over kc columns: dst[k*6 + i] = x[i][k], rows
 * past mr zero. Full panels transpose 4 k at a time: a 4x4 shuffle for rows 0-3 and an
 * interleave of rows 4-5. */
static void pack_x(float *dst, const uint8_t *x, size_t ldx, int64_t mr, int64_t kc) {
    const float *r[LM_GEMM_MR];
    for (int i = 0; i < LM_GEMM_MR; i++)
        r[i] = (const float *)(x + (size_t)(i < mr ? i : 0) * ldx);
    int64_t k = 0;
    if (mr == LM_GEMM_MR) {
        for (; k + 4 <= kc; k += 4) {
            __m128 x0 = _mm_loadu_ps(r[0] + k), x1 = _mm_loadu_ps(r[1] + k);
            __m128 x2 = _mm_loadu_ps(r[2] + k), x3 = _mm_loadu_ps(r[3] + k);
            __m128 x4 = _mm_loadu_ps(r[4] + k), x5 = _mm_loadu_ps(r[5] + k);
            __m128 t0 = _mm_unpacklo_ps(x0, x1), t1 = _mm_unpackhi_ps(x0, x1);
            __m128 t2 = _mm_unpacklo_ps(x2, x3), t3 = _mm_unpackhi_ps(x2, x3);
            __m128 u0 = _mm_unpacklo_ps(x4, x5), u1 = _mm_unpackhi_ps(x4, x5);
            float *d = dst + k * LM_GEMM_MR;
            _mm_storeu_ps(d, _mm_movelh_ps(t0, t2));
            _mm_storel_pi((__m64 *)(d + 4), u0);
            _mm_storeu_ps(d + 6, _mm_movehl_ps(t2, t0));
            _mm_storeh_pi((__m64 *)(d + 10), u0);
            _mm_storeu_ps(d + 12, _mm_movelh_ps(t1, t3));
            _mm_storel_pi((__m64 *)(d + 16), u1);
            _mm_storeu_ps(d + 18, _mm_movehl_ps(t3, t1));
            _mm_storeh_pi((__m64 *)(d + 22), u1);
        }
    }
    for (; k < kc; k++)
        for (int i = 0; i < LM_GEMM_MR; i++)
            dst[k * LM_GEMM_MR + i] = i < mr ? r[i][k] : 0.0f;
}

/* ---- micro-kernels ----------------------------------------------------------------------- */

/* Accumulator tile load/store: 6 rows x 2 ymm. */
struct acc6x16 {
    __m256 r[LM_GEMM_MR][2];
};

static inline __attribute__((always_inline)) void acc_load(struct acc6x16 *t, const float *c,
                                                           int64_t ldc, bool accumulate) {
#pragma GCC unroll 6
    for (int i = 0; i < LM_GEMM_MR; i++) {
        t->r[i][0] = accumulate ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
        t->r[i][1] = accumulate ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
    }
}

static inline __attribute__((always_inline)) void acc_store(const struct acc6x16 *t, float *c,
                                                            int64_t ldc) {
#pragma GCC unroll 6
    for (int i = 0; i < LM_GEMM_MR; i++) {
        _mm256_storeu_ps(c + i * ldc, t->r[i][0]);
        _mm256_storeu_ps(c + i * ldc + 8, t->r[i][1]);
    }
}

/* c (6 rows ldc floats apart, 16 columns) = (accumulate ? c : 0) + x-panel x W-panel over kc.
 * Packed x: xp[k*6 + i]. bp: packed W panel, 64-byte aligned. Per k: two aligned loads of W,
 * six broadcasts of x, twelve FMAs into twelve accumulators. */
static void ukernel_packed(int64_t kc, const float *restrict xp, const float *restrict bp, float *c,
                           int64_t ldc, bool accumulate) {
    struct acc6x16 t;
    acc_load(&t, c, ldc, accumulate);
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
        for (int i = 0; i < LM_GEMM_MR; i++) {
            __m256 a = _mm256_broadcast_ss(xp + i);
            t.r[i][0] = _mm256_fmadd_ps(a, b0, t.r[i][0]);
            t.r[i][1] = _mm256_fmadd_ps(a, b1, t.r[i][1]);
        }
        xp += LM_GEMM_MR;
        bp += LM_GEMM_NR;
    }
    acc_store(&t, c, ldc);
}

/* The same with x read in place: row i of the micro-panel at xr[i] (k contiguous). */
static void ukernel_rows(int64_t kc, const float *const xr[LM_GEMM_MR], const float *restrict bp,
                         float *c, int64_t ldc, bool accumulate) {
    struct acc6x16 t;
    acc_load(&t, c, ldc, accumulate);
    const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3], *x4 = xr[4], *x5 = xr[5];
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8), a;
        a = _mm256_broadcast_ss(x0 + k);
        t.r[0][0] = _mm256_fmadd_ps(a, b0, t.r[0][0]);
        t.r[0][1] = _mm256_fmadd_ps(a, b1, t.r[0][1]);
        a = _mm256_broadcast_ss(x1 + k);
        t.r[1][0] = _mm256_fmadd_ps(a, b0, t.r[1][0]);
        t.r[1][1] = _mm256_fmadd_ps(a, b1, t.r[1][1]);
        a = _mm256_broadcast_ss(x2 + k);
        t.r[2][0] = _mm256_fmadd_ps(a, b0, t.r[2][0]);
        t.r[2][1] = _mm256_fmadd_ps(a, b1, t.r[2][1]);
        a = _mm256_broadcast_ss(x3 + k);
        t.r[3][0] = _mm256_fmadd_ps(a, b0, t.r[3][0]);
        t.r[3][1] = _mm256_fmadd_ps(a, b1, t.r[3][1]);
        a = _mm256_broadcast_ss(x4 + k);
        t.r[4][0] = _mm256_fmadd_ps(a, b0, t.r[4][0]);
        t.r[4][1] = _mm256_fmadd_ps(a, b1, t.r[4][1]);
        a = _mm256_broadcast_ss(x5 + k);
        t.r[5][0] = _mm256_fmadd_ps(a, b0, t.r[5][0]);
        t.r[5][1] = _mm256_fmadd_ps(a, b1, t.r[5][1]);
        bp += LM_GEMM_NR;
    }
    acc_store(&t, c, ldc);
}

/* A partial tile (mr < 6 or nr < 16): the valid mr x nr corner of y goes through a 6x16 stack
 * tile, so the arithmetic per element is the full kernel's and nothing past y is touched. The x
 * operand is either packed (xp, zero rows past mr) or in place (xr, rows past mr point at row 0:
 * valid memory whose results are dropped). */
static void ukernel_edge(int64_t kc, const float *xp, const float *const xr[LM_GEMM_MR],
                         const float *bp, float *c, int64_t ldc, bool accumulate, int64_t mr,
                         int64_t nr) {
    float t[LM_GEMM_MR * LM_GEMM_NR] __attribute__((aligned(32)));
    memset(t, 0, sizeof t);
    if (accumulate)
        for (int64_t i = 0; i < mr; i++)
            memcpy(t + i * LM_GEMM_NR, c + i * ldc, (size_t)nr * sizeof(float));
    if (xp)
        ukernel_packed(kc, xp, bp, t, LM_GEMM_NR, accumulate);
    else
        ukernel_rows(kc, xr, bp, t, LM_GEMM_NR, accumulate);
    for (int64_t i = 0; i < mr; i++)
        memcpy(c + i * ldc, t + i * LM_GEMM_NR, (size_t)nr * sizeof(float));
}

/* The transposed-x kernel for M <= 8: t (12 W rows x 8 x rows, 8 floats apart) = (accumulate ?
 * t : 0) + W rows x xt panel over kc. W row j of the group at byte w0 + j * ldwb (addressed from
 * four bases and one stride register); xt[k*8 + m], 64-byte aligned. Per k: one aligned load,
 * twelve broadcasts, twelve FMAs into twelve accumulators. */
static void ukernel_12x8(int64_t kc, const char *w0, size_t ldwb, const float *restrict xt,
                         float *t, bool accumulate) {
    __m256 c[12];
#pragma GCC unroll 12
    for (int j = 0; j < 12; j++)
        c[j] = accumulate ? _mm256_load_ps(t + 8 * j) : _mm256_setzero_ps();
    const char *b0 = w0, *b1 = w0 + 3 * ldwb, *b2 = w0 + 6 * ldwb, *b3 = w0 + 9 * ldwb;
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; k++) {
        __m256 x = _mm256_load_ps(xt + 8 * k);
        c[0] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)b0), x, c[0]);
        c[1] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b0 + ldwb)), x, c[1]);
        c[2] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b0 + 2 * ldwb)), x, c[2]);
        c[3] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)b1), x, c[3]);
        c[4] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b1 + ldwb)), x, c[4]);
        c[5] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b1 + 2 * ldwb)), x, c[5]);
        c[6] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)b2), x, c[6]);
        c[7] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b2 + ldwb)), x, c[7]);
        c[8] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b2 + 2 * ldwb)), x, c[8]);
        c[9] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)b3), x, c[9]);
        c[10] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b3 + ldwb)), x, c[10]);
        c[11] = _mm256_fmadd_ps(_mm256_broadcast_ss((const float *)(b3 + 2 * ldwb)), x, c[11]);
        b0 += sizeof(float), b1 += sizeof(float), b2 += sizeof(float), b3 += sizeof(float);
    }
#pragma GCC unroll 12
    for (int j = 0; j < 12; j++)
        _mm256_store_ps(t + 8 * j, c[j]);
}

/* ---- the loop nests ---------------------------------------------------------------------- */

/* M <= LM_GEMM_SMALL_M: W rows broadcast against the transposed x panel (see the top), 12 W
 * rows x 8 lanes for M <= 8, else 6 W rows x 16 lanes. */
static void gemm_small(const struct lm_mm *a, int64_t n0, int64_t n1, float *scratch,
                       const struct lm_gemm_wtype *wt) {
    const int64_t M = a->M, K = a->K, kcs = kc_step(K), ldb = wbuf_stride(K);
    /* 12 f32 rows read in place a multiple of 4 KiB apart would share one L1 set and evict
     * each other between two k: such W takes the 6-row kernel (copying the rows instead costs
     * more than the lanes it saves when W streams from memory) */
    const bool tiny = M <= LM_GEMM_TINY_M && (wt->to_f32 || a->ldw % 4096 != 0);
    const int lanes = tiny ? 8 : 16, group = tiny ? 12 : LM_GEMM_MR;
    float *xt = scratch;
    float *wbuf = scratch + round64((size_t)K * LM_GEMM_NR * sizeof(float)) / sizeof(float);
    lm_gemm_pack_rows(xt, a->x, a->ldx, M, K, lanes, NULL, 0, 0, LM_F32);
    float t[12 * 8] __attribute__((aligned(32))); /* group x lanes */
    for (int64_t n = n0; n < n1; n += group) {
        const int64_t nr = n1 - n < group ? n1 - n : group;
        const uint8_t *w = a->w + (size_t)n * a->ldw;
        /* W rows as f32: read in place, or whole rows converted (f16/bf16) or copied (a short
         * last group, zero-padded) into wbuf, each row front to back so the reads stream */
        const bool in_place = !wt->to_f32 && nr == group;
        if (!in_place)
            for (int64_t i = 0; i < group; i++) {
                const uint8_t *row = w + (size_t)i * a->ldw;
                if (i >= nr)
                    memset(wbuf + i * ldb, 0, (size_t)K * sizeof(float));
                else if (wt->to_f32)
                    wt->to_f32(wbuf + i * ldb, row, K);
                else
                    memcpy(wbuf + i * ldb, row, (size_t)K * sizeof(float));
            }
        const uint8_t *w0 = in_place ? w : (const uint8_t *)wbuf;
        const size_t ldwb = in_place ? a->ldw : (size_t)ldb * sizeof(float);
        for (int64_t pc = 0; pc < K; pc += kcs) {
            const int64_t kc = K - pc < kcs ? K - pc : kcs;
            if (tiny) {
                ukernel_12x8(kc, (const char *)((const float *)w0 + pc), ldwb, xt + pc * lanes, t,
                             pc > 0);
            } else {
                const float *wr[LM_GEMM_MR];
                for (int i = 0; i < LM_GEMM_MR; i++)
                    wr[i] = (const float *)(w0 + (size_t)i * ldwb) + pc;
                ukernel_rows(kc, wr, xt + pc * lanes, t, lanes, pc > 0);
            }
        }
        for (int64_t m = 0; m < M; m++)
            for (int64_t i = 0; i < nr; i++)
                a->y[m * a->ldy + n + i] = t[i * lanes + m];
    }
}

/* LM_GEMM_SMALL_M < M <= LM_GEMM_MC: one m block, W panels used once each (see the top). */
static void gemm_rows(const struct lm_mm *a, int64_t n0, int64_t n1, float *wp,
                      const struct lm_gemm_wtype *wt) {
    const int64_t M = a->M, K = a->K, kcs = kc_step(K);
    for (int64_t jr = n0; jr < n1; jr += LM_GEMM_NR) {
        const int64_t nr = n1 - jr < LM_GEMM_NR ? n1 - jr : LM_GEMM_NR;
        for (int64_t pc = 0; pc < K; pc += kcs) {
            const int64_t kc = K - pc < kcs ? K - pc : kcs;
            const bool accumulate = pc > 0;
            /* next: this panel's next k block, or the next panel's first */
            const uint8_t *next = NULL;
            int64_t next_nr = nr, next_kc = 0;
            if (pc + kc < K) {
                next = a->w + (size_t)jr * a->ldw + (size_t)(pc + kc) * wt->esize;
                next_kc = K - pc - kc < kcs ? K - pc - kc : kcs;
            } else if (jr + LM_GEMM_NR < n1) {
                next = a->w + (size_t)(jr + LM_GEMM_NR) * a->ldw;
                next_nr = n1 - jr - LM_GEMM_NR, next_kc = kcs;
            }
            wt->pack(wp, a->w + (size_t)jr * a->ldw + (size_t)pc * wt->esize, a->ldw, nr, kc, next,
                     next_nr, next_kc);
            for (int64_t ir = 0; ir < M; ir += LM_GEMM_MR) {
                const int64_t mr = M - ir < LM_GEMM_MR ? M - ir : LM_GEMM_MR;
                const float *xr[LM_GEMM_MR];
                for (int i = 0; i < LM_GEMM_MR; i++)
                    xr[i] = (const float *)(a->x + (size_t)(ir + (i < mr ? i : 0)) * a->ldx) + pc;
                float *c = a->y + ir * a->ldy + jr;
                if (mr == LM_GEMM_MR && nr == LM_GEMM_NR)
                    ukernel_rows(kc, xr, wp, c, a->ldy, accumulate);
                else
                    ukernel_edge(kc, NULL, xr, wp, c, a->ldy, accumulate, mr, nr);
            }
        }
    }
}

/* M > LM_GEMM_MC: the full blocking with packed x blocks and reused W blocks (see the top). */
static void gemm_blocked(const struct lm_mm *a, int64_t n0, int64_t n1, float *scratch,
                         const struct lm_gemm_wtype *wt) {
    const int64_t M = a->M, K = a->K, kcs = kc_step(K);
    float *wp = scratch, *xp = scratch + kcs * LM_GEMM_NC;
    for (int64_t jc = n0; jc < n1; jc += LM_GEMM_NC) {
        const int64_t nc = n1 - jc < LM_GEMM_NC ? n1 - jc : LM_GEMM_NC;
        for (int64_t pc = 0; pc < K; pc += kcs) {
            const int64_t kc = K - pc < kcs ? K - pc : kcs;
            const bool accumulate = pc > 0;
            for (int64_t ic = 0; ic < M; ic += LM_GEMM_MC) {
                const int64_t mc = M - ic < LM_GEMM_MC ? M - ic : LM_GEMM_MC;
                for (int64_t ir = 0; ir < mc; ir += LM_GEMM_MR)
                    pack_x(xp + ir * kc, a->x + (size_t)(ic + ir) * a->ldx + (size_t)pc * 4, a->ldx,
                           mc - ir < LM_GEMM_MR ? mc - ir : LM_GEMM_MR, kc);
                for (int64_t jr = 0; jr < nc; jr += LM_GEMM_NR) {
                    const int64_t nr = nc - jr < LM_GEMM_NR ? nc - jr : LM_GEMM_NR;
                    float *bp = wp + jr * kc;
                    if (ic == 0) { /* prefetching the next panel of this k block */
                        const uint8_t *w =
                            a->w + (size_t)(jc + jr) * a->ldw + (size_t)pc * wt->esize;
                        bool more = jr + LM_GEMM_NR < nc;
                        wt->pack(bp, w, a->ldw, nr, kc, more ? w + LM_GEMM_NR * a->ldw : NULL,
                                 nc - jr - LM_GEMM_NR, kc);
                    }
                    for (int64_t ir = 0; ir < mc; ir += LM_GEMM_MR) {
                        const int64_t mr = mc - ir < LM_GEMM_MR ? mc - ir : LM_GEMM_MR;
                        float *c = a->y + (ic + ir) * a->ldy + jc + jr;
                        if (mr == LM_GEMM_MR && nr == LM_GEMM_NR)
                            ukernel_packed(kc, xp + ir * kc, bp, c, a->ldy, accumulate);
                        else
                            ukernel_edge(kc, xp + ir * kc, NULL, bp, c, a->ldy, accumulate, mr, nr);
                    }
                }
            }
        }
    }
}

void lm_gemm_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                  const struct lm_gemm_wtype *wt) {
    if (a->M <= LM_GEMM_SMALL_M)
        gemm_small(a, n0, n1, scratch, wt);
    else if (a->M <= LM_GEMM_MC)
        gemm_rows(a, n0, n1, scratch, wt);
    else
        gemm_blocked(a, n0, n1, scratch, wt);
}
