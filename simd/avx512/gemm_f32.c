/* simd/avx512/gemm_f32.c - the f32 GEMM behind the AVX-512 float matmul tiles for
 * M > LM_X512_GEMV_MAX_M (8).
 *
 * y[m][n] = sum_k x[m][k] * W[n][k] for all M rows and columns [n0, n1) (one thread's share).
 * Register kernel: 12 broadcast x rows x 32 W columns (24 zmm accumulators; per k two aligned
 * 16-float loads of a packed 32-wide W panel, twelve broadcasts, 24 FMAs: 14 loads per 24 FMAs
 * keeps both FMA pipes busy with loads to spare; 14 rows would use 28 accumulators + 3, and
 * GCC then spills one in the k loop), plus a transposed-x twin for small M, in two loop nests by M:
 * - M <= LM_X512_SMALL_M (32): roles swapped. x is packed once, transposed, into one panel
 *   xt[k*L + m] of L = 16 lanes (M <= 16) or 32 lanes (one or two zmm; rows past M zero); W
 *   rows are the broadcast operand, 12 at a time, read in place for f32 (converted whole into
 *   a buffer of 12 rows for f16/bf16, or copied for a short last group or when the rows are a
 *   multiple of 4 KiB apart, where 12 rows read together would share one L1 set), so W is
 *   streamed row by row and never transposed: at these M a W panel transpose would cost as
 *   much as the multiply. The result tile (12 W rows x L) stays in a stack tile across k
 *   blocks and is written to y transposed.
 * - larger M (prefill): Goto/BLIS blocking. jc: nc <= 1024 columns; pc: kc <= 192 (K split
 *   evenly, multiples of 16 but the last); ic: mc <= 168 rows, packed into 12-row
 *   micro-panels (x[k*12 + i]); jr: 32-column W panels, packed during the first m block right
 *   before their first use (so they are in L1) while the next panel is prefetched, and kept
 *   (kc x nc, 768 KiB) for the later m blocks (with a single m block, M <= 168, only the one
 *   panel in use is kept); ir: kernel.
 * Order of arithmetic: every y[m][n] is one f32 FMA chain over k in increasing order (tiles
 * are stored and reloaded exactly at k-block boundaries, which depend on K only), so a result
 * does not depend on the tile, path or thread its element falls in. Edges (M % 12, N % 32)
 * run the same kernel with masked loads and stores of y (column masks, rows past the edge
 * neither loaded nor stored); missing x or W rows are zeros in packed panels. Nothing outside
 * x, W and y's M x [n0, n1) is read or written. Packed buffers live in the thread's scratch
 * (lm_gemm_scratch_avx512 bytes, 64-byte aligned); x and y rows may have any alignment.
 * Accumulator: f32.
 */
#include "gemm.h"

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Floats between converted W rows in gemm_small: K rounded up to 16, plus 16 so that rows are
 * 64-byte aligned but never a multiple of 4 KiB apart (which would put them in one L1 set). */
static int64_t wbuf_stride(int64_t K) { return (K + 15) / 16 * 16 + 16; }

/* K split into blocks of at most LM_X512_KC, as even as multiples of 16 allow. */
static int64_t kc_step(int64_t K) {
    int64_t nb = (K + LM_X512_KC - 1) / LM_X512_KC;
    int64_t kc = (K + nb - 1) / nb;
    kc = (kc + 15) & ~(int64_t)15;
    return kc < LM_X512_KC ? kc : LM_X512_KC;
}

/* Rows of the x block: M rounded up to whole micro-panels, at most one m block. */
static int64_t mc_rows(int64_t M) {
    int64_t mc = (M + LM_X512_MR - 1) / LM_X512_MR * LM_X512_MR;
    return mc < LM_X512_MC ? mc : LM_X512_MC;
}

size_t lm_gemm_scratch_avx512(int64_t M, int64_t K) {
    const size_t kc = (size_t)kc_step(K);
    if (M <= LM_X512_GEMV_MAX_M) return 0;
    if (M <= LM_X512_SMALL_M) /* xt panel + converted W rows */
        return round64((size_t)K * 32 * sizeof(float)) +
               (size_t)wbuf_stride(K) * LM_X512_GROUP * sizeof(float);
    const size_t xblock = (size_t)mc_rows(M) * kc * sizeof(float);
    if (M <= LM_X512_MC) return xblock + kc * LM_X512_NR * sizeof(float); /* + one W panel */
    return xblock + kc * LM_X512_NC * sizeof(float);                      /* + a W block */
}

/* ---- micro-kernels ----------------------------------------------------------------------- */

/* c (mr <= 12 rows ldc floats apart, nr <= 32 columns) = (accumulate ? c : 0) + x micro-panel
 * x W panel over kc. Packed x: xp[k*12 + i] (zero rows past mr); bp: packed W panel, 64-byte
 * aligned, 32 floats per k. Per k: two aligned loads of W, twelve broadcasts of x, 24 FMAs
 * into 24 accumulators. y is loaded and stored under the column masks of nr, rows < mr only. */
static void ukernel(int64_t kc, const float *restrict xp, const float *restrict bp, float *c,
                    int64_t ldc, bool accumulate, int64_t mr, int64_t nr) {
    const __mmask16 m0 = lm_x512_mask16(nr), m1 = lm_x512_mask16(nr - 16);
    __m512 acc[LM_X512_MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < LM_X512_MR; i++) {
        acc[i][0] =
            accumulate && i < mr ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : _mm512_setzero_ps();
        acc[i][1] = accumulate && i < mr ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16)
                                         : _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 12
        for (int i = 0; i < LM_X512_MR; i++) {
            const __m512 a = _mm512_set1_ps(xp[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
        xp += LM_X512_MR;
        bp += LM_X512_NR;
    }
#pragma GCC unroll 12
    for (int i = 0; i < LM_X512_MR; i++)
        if (i < mr) {
            _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);
        }
}

/* The transposed-x kernel: t (12 W rows x 16*NV x lanes, 16*NV floats apart) = (accumulate ?
 * t : 0) + W rows x xt panel over kc. W row j of the group at byte w0 + j * ldwb (addressed
 * from four bases and one stride register); xt[k*16*NV + m], 64-byte aligned. Per k: NV
 * aligned loads, twelve broadcasts, 12*NV FMAs into 12*NV accumulators. */
static inline __attribute__((always_inline)) void ukernel_w12(int64_t kc, const char *w0,
                                                              size_t ldwb, const float *restrict xt,
                                                              float *t, bool accumulate,
                                                              const int NV) {
    __m512 c[LM_X512_GROUP][2];
#pragma GCC unroll 12
    for (int j = 0; j < LM_X512_GROUP; j++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            c[j][v] = accumulate ? _mm512_load_ps(t + (j * NV + v) * 16) : _mm512_setzero_ps();
    const char *b[4] = {w0, w0 + 3 * ldwb, w0 + 6 * ldwb, w0 + 9 * ldwb};
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; k++) {
        __m512 x[2];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            x[v] = _mm512_load_ps(xt + (k * NV + v) * 16);
#pragma GCC unroll 12
        for (int j = 0; j < LM_X512_GROUP; j++) {
            const __m512 w = _mm512_set1_ps(*(const float *)(b[j / 3] + (j % 3) * ldwb));
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                c[j][v] = _mm512_fmadd_ps(w, x[v], c[j][v]);
        }
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            b[i] += sizeof(float);
    }
#pragma GCC unroll 12
    for (int j = 0; j < LM_X512_GROUP; j++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            _mm512_store_ps(t + (j * NV + v) * 16, c[j][v]);
}

static void ukernel_w12x16(int64_t kc, const char *w0, size_t ldwb, const float *xt, float *t,
                           bool accumulate) {
    ukernel_w12(kc, w0, ldwb, xt, t, accumulate, 1);
}

static void ukernel_w12x32(int64_t kc, const char *w0, size_t ldwb, const float *xt, float *t,
                           bool accumulate) {
    ukernel_w12(kc, w0, ldwb, xt, t, accumulate, 2);
}

/* ---- the loop nests ---------------------------------------------------------------------- */

/* M <= LM_X512_SMALL_M: W rows broadcast against the transposed x panel (see the top). */
static void gemm_small(const struct lm_mm *a, int64_t n0, int64_t n1, float *scratch,
                       const struct lm_gemm512_wtype *wt) {
    const int64_t M = a->M, K = a->K, kcs = kc_step(K), ldb = wbuf_stride(K);
    const int lanes = M <= 16 ? 16 : 32, G = LM_X512_GROUP;
    float *xt = scratch;
    float *wbuf = scratch + round64((size_t)K * 32 * sizeof(float)) / sizeof(float);
    lm_x512_pack_rows(xt, a->x, a->ldx, M, K, lanes, NULL, 0, 0, LM_F32);
    /* f32 rows a multiple of 4 KiB apart would share one L1 set and evict each other */
    const bool f32_in_place = !wt->to_f32 && a->ldw % 4096 != 0;
    float t[LM_X512_GROUP * 32] __attribute__((aligned(64))); /* G x lanes */
    for (int64_t n = n0; n < n1; n += G) {
        const int64_t nr = n1 - n < G ? n1 - n : G;
        const uint8_t *w = a->w + (size_t)n * a->ldw;
        /* W rows as f32: read in place, or whole rows converted (f16/bf16) or copied into
         * wbuf, each row front to back so the reads stream; rows past nr are zero */
        const bool in_place = f32_in_place && nr == G;
        if (!in_place)
            for (int64_t i = 0; i < G; i++) {
                const uint8_t *row = w + (size_t)i * a->ldw;
                if (i >= nr)
                    memset(wbuf + i * ldb, 0, (size_t)K * sizeof(float));
                else if (wt->to_f32)
                    wt->to_f32(wbuf + i * ldb, row, K);
                else
                    lm_x512_row_to_f32(wbuf + i * ldb, row, K, LM_F32);
            }
        const uint8_t *w0 = in_place ? w : (const uint8_t *)wbuf;
        const size_t ldwb = in_place ? a->ldw : (size_t)ldb * sizeof(float);
        for (int64_t pc = 0; pc < K; pc += kcs) {
            const int64_t kc = K - pc < kcs ? K - pc : kcs;
            const char *wk = (const char *)((const float *)w0 + pc);
            if (lanes == 16)
                ukernel_w12x16(kc, wk, ldwb, xt + pc * lanes, t, pc > 0);
            else
                ukernel_w12x32(kc, wk, ldwb, xt + pc * lanes, t, pc > 0);
        }
        for (int64_t m = 0; m < M; m++)
            for (int64_t i = 0; i < nr; i++)
                a->y[m * a->ldy + n + i] = t[i * lanes + m];
    }
}

/* M > LM_X512_SMALL_M: the full blocking with packed x blocks and packed W panels (see the
 * top). */
static void gemm_blocked(const struct lm_mm *a, int64_t n0, int64_t n1, float *scratch,
                         const struct lm_gemm512_wtype *wt) {
    const int64_t M = a->M, K = a->K, kcs = kc_step(K);
    const bool one_block = M <= LM_X512_MC;
    float *xp = scratch, *wp = scratch + mc_rows(M) * kcs;
    for (int64_t jc = n0; jc < n1; jc += LM_X512_NC) {
        const int64_t nc = n1 - jc < LM_X512_NC ? n1 - jc : LM_X512_NC;
        for (int64_t pc = 0; pc < K; pc += kcs) {
            const int64_t kc = K - pc < kcs ? K - pc : kcs;
            const bool accumulate = pc > 0;
            for (int64_t ic = 0; ic < M; ic += LM_X512_MC) {
                const int64_t mc = M - ic < LM_X512_MC ? M - ic : LM_X512_MC;
                for (int64_t ir = 0; ir < mc; ir += LM_X512_MR)
                    lm_x512_pack_rows(xp + ir * kc,
                                      a->x + (size_t)(ic + ir) * a->ldx + (size_t)pc * 4, a->ldx,
                                      mc - ir < LM_X512_MR ? mc - ir : LM_X512_MR, kc, LM_X512_MR,
                                      NULL, 0, 0, LM_F32);
                for (int64_t jr = 0; jr < nc; jr += LM_X512_NR) {
                    const int64_t nr = nc - jr < LM_X512_NR ? nc - jr : LM_X512_NR;
                    float *bp = one_block ? wp : wp + jr * kc;
                    if (ic == 0) { /* prefetching the next panel of this k block */
                        const uint8_t *w =
                            a->w + (size_t)(jc + jr) * a->ldw + (size_t)pc * wt->esize;
                        const bool more = jr + LM_X512_NR < nc;
                        wt->pack(bp, w, a->ldw, nr, kc, more ? w + LM_X512_NR * a->ldw : NULL,
                                 nc - jr - LM_X512_NR, kc);
                    }
                    for (int64_t ir = 0; ir < mc; ir += LM_X512_MR) {
                        const int64_t mr = mc - ir < LM_X512_MR ? mc - ir : LM_X512_MR;
                        ukernel(kc, xp + ir * kc, bp, a->y + (ic + ir) * a->ldy + jc + jr, a->ldy,
                                accumulate, mr, nr);
                    }
                }
            }
        }
    }
}

void lm_gemm_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                    const struct lm_gemm512_wtype *wt) {
    if (a->M <= LM_X512_SMALL_M)
        gemm_small(a, n0, n1, scratch, wt);
    else
        gemm_blocked(a, n0, n1, scratch, wt);
}
