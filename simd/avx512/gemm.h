/* simd/avx512/gemm.h - what the AVX-512 float matmul kernels share (matmul_f32/f16/bf16.c,
 * matmul_bf16_dpbf16.c, gemm_f32.c).
 *
 * Problem (simd/kernels.h, struct lm_mm): y[m][n] = sum_k x[m][k] * W[n][k] for rows m < M and
 * columns [n0, n1), x F32, W F32, F16 or BF16, both with K contiguous. Two paths, picked by M
 * alone (so every thread of one call takes the same one):
 *
 * - GEMV (M <= LM_X512_GEMV_MAX_M = 8, decode): each W row is streamed once and dotted with all
 *   M x rows while it is in registers; NW W rows are in flight together, one 16-lane f32
 *   accumulator per (x row, W row) pair, so MR*NW independent FMA chains hide the FMA latency.
 *   W is widened to f32 in registers (vcvtph2ps zmm; bf16 by vpmovzxwd and a shift left 16).
 *   K % 16 tail: masked loads of x and W (zero lanes past K; nothing past a row is read).
 *   The 16 lanes of an accumulator are summed in one fixed order (lm_x512_hsum16 below): halves,
 *   quarters, then lanes 0+2, 1+3, then those two, for up to 16 accumulators at once. Each (m, n)
 * result is therefore the same lane chains and the same additions whatever NW its column was
 * grouped in, so results do not depend on how columns were split across threads. With 16 lanes the
 * GEMV keeps every lane busy up to M = 8, where the AVX2 level (8 lanes) stops at 4; past 8, x rows
 * no longer fit in registers next to the W rows and the GEMM takes over.
 *
 * - GEMM (M > 8): gemm_f32.c, a 12x32 register kernel (12 broadcast x rows x 2 zmm of W columns)
 *   for M > 32 and a transposed-x kernel (W rows broadcast against 16 or 32 x lanes) for
 *   M = 9..32. W panels of kc x 32 columns are widened to f32 and packed k-major by the
 *   lm_gemm512_pack_w_fn of the dtype (lm_x512_pack_rows below). Every y element is one f32
 *   FMA chain over k in increasing order on every GEMM path.
 */
#ifndef LMRT_SIMD_AVX512_GEMM_H
#define LMRT_SIMD_AVX512_GEMM_H

#include <string.h>

#include "avx512.h"

#define LM_X512_GEMV_MAX_M 8    /* M above this takes the GEMM */
#define LM_X512_SMALL_M    32   /* M up to this: W rows broadcast against a transposed x panel */
#define LM_X512_GROUP      12   /* W rows per transposed-x kernel call */
#define LM_X512_MR         12   /* micro-tile rows (x rows, broadcast) */
#define LM_X512_NR         32   /* micro-tile columns (W rows): two zmm */
#define LM_X512_KC         192  /* k block: a packed W panel (kc x 32 f32 = 24 KiB) stays in L1 */
#define LM_X512_MC         168  /* m block (14 micro-panels): packed x (126 KiB) stays in L2 */
#define LM_X512_NC         1024 /* n block: packed W (kc x nc f32 = 768 KiB) reused across m */

/* Forced inline where constant arguments (dtype, widths, tile sizes) must fold away; the
 * transpose and the lane sums are left to the compiler (plain static inline): forced into
 * every GEMV and pack instance, they multiply the emulated build's compile time (SIMDe,
 * sanitizers) for no gain, as neither sits in a k loop. */
#define LM_X512_INLINE static inline __attribute__((always_inline))

/* Pack W rows [0, nr) (nr <= 32, w points at row 0, column k0) over kc columns into
 * dst[k*32 + j] = (float)W[j][k0 + k], zero for j >= nr. dst is 64-byte aligned. While it
 * reads, it prefetches the panel that will be packed next (rows [0, next_nr) x next_kc columns
 * from next, same ldw; next NULL: none): the GEMM reads each W row in kc-long pieces far apart
 * in time, which the hardware prefetcher does not follow. */
typedef void (*lm_gemm512_pack_w_fn)(float *dst, const uint8_t *w, size_t ldw, int64_t nr,
                                     int64_t kc, const uint8_t *next, int64_t next_nr,
                                     int64_t next_kc);

/* How the GEMM reads one W dtype. */
struct lm_gemm512_wtype {
    lm_gemm512_pack_w_fn pack;
    /* n elements of a W row to f32; NULL: W is f32, read in place */
    void (*to_f32)(float *y, const uint8_t *w, int64_t n);
    size_t esize; /* bytes per element */
};

/* The GEMM over all M rows (M > LM_X512_GEMV_MAX_M) and columns [n0, n1) (gemm_f32.c).
 * scratch: lm_gemm_scratch_avx512(M, K) bytes, 64-byte aligned. */
void lm_gemm_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                    const struct lm_gemm512_wtype *wt);

/* BF16 W for the GEMM (matmul_bf16.c; matmul_bf16_dpbf16.c's GEMM path too) */
extern const struct lm_gemm512_wtype lm_gemm512_wtype_bf16;

/* ---- masks and W elements to f32 --------------------------------------------------------- */

/* The first n lanes (n <= 0: none, n >= 16: all). */
LM_X512_INLINE __mmask16 lm_x512_mask16(int64_t n) {
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

/* 16 elements of a W row starting at element k. */
LM_X512_INLINE __m512 lm_x512_load_w16(const uint8_t *row, int64_t k, enum lm_dtype dt) {
    if (dt == LM_F32) return _mm512_loadu_ps((const float *)row + k);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + k));
    if (dt == LM_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The lanes of m (a prefix) starting at k, the other lanes zero; reads only those elements. */
LM_X512_INLINE __m512 lm_x512_load_w16_mask(const uint8_t *row, int64_t k, __mmask16 m,
                                            enum lm_dtype dt) {
    if (dt == LM_F32) return _mm512_maskz_loadu_ps(m, (const float *)row + k);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)row + k);
    if (dt == LM_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* n elements of a W row (from element 0) to f32, 16 at a time, the tail masked. */
LM_X512_INLINE void lm_x512_row_to_f32(float *y, const uint8_t *row, int64_t n, enum lm_dtype dt) {
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        _mm512_storeu_ps(y + k, lm_x512_load_w16(row, k, dt));
    if (k < n) {
        __mmask16 m = lm_x512_mask16(n - k);
        _mm512_mask_storeu_ps(y + k, m, lm_x512_load_w16_mask(row, k, m, dt));
    }
}

/* ---- shuffles ---------------------------------------------------------------------------- */

/* 128-bit blocks of two vectors, for vpermt2ps: blocks (a0, a2, b0, b2) and (a1, a3, b1, b3). */
LM_X512_INLINE __m512i lm_x512_idx_even_blocks(void) {
    return _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}
LM_X512_INLINE __m512i lm_x512_idx_odd_blocks(void) {
    return _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
}
/* the low and the high 256-bit halves: (a0, a1, b0, b1) and (a2, a3, b2, b3) */
LM_X512_INLINE __m512i lm_x512_idx_lo_halves(void) {
    return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
LM_X512_INLINE __m512i lm_x512_idx_hi_halves(void) {
    return _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
}

/* r[i] holds row i of a 16x16 block; afterwards r[i] holds column i. Four rounds of 16
 * two-source shuffles: pairs of rows interleaved (unpck), 4x4 blocks finished (shufps), then
 * the 128-bit blocks of four row groups gathered (vpermt2ps twice). */
static inline void lm_x512_transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + c], block b: column 4b + c of rows 4g..4g+3 */
#pragma GCC unroll 4
    for (int g = 0; g < 4; g++) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xee);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xee);
    }
    const __m512i ev = lm_x512_idx_even_blocks(), od = lm_x512_idx_odd_blocks();
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512 p = _mm512_permutex2var_ps(u[c], ev, u[4 + c]);      /* U0[0] U0[2] U1[0] U1[2] */
        __m512 q = _mm512_permutex2var_ps(u[c], od, u[4 + c]);      /* U0[1] U0[3] U1[1] U1[3] */
        __m512 s = _mm512_permutex2var_ps(u[8 + c], ev, u[12 + c]); /* U2[0] U2[2] U3[0] U3[2] */
        __m512 v = _mm512_permutex2var_ps(u[8 + c], od, u[12 + c]); /* U2[1] U2[3] U3[1] U3[3] */
        r[c] = _mm512_permutex2var_ps(p, ev, s);      /* column c: U0[0] U1[0] U2[0] U3[0] */
        r[4 + c] = _mm512_permutex2var_ps(q, ev, v);  /* column 4 + c: block 1 */
        r[8 + c] = _mm512_permutex2var_ps(p, od, s);  /* column 8 + c: block 2 */
        r[12 + c] = _mm512_permutex2var_ps(q, od, v); /* column 12 + c: block 3 */
    }
}

/* ---- lane sums --------------------------------------------------------------------------- */

/* Lane j of the result = the sum of the 16 lanes of v[j] for j < n (n <= 16), lanes j >= n
 * zero. Every lane sum takes the same additions in the same order, whatever n and j: s1[i] =
 * v[i] + v[i+8], s2[i] = s1[i] + s1[i+4], s3[i] = s2[i] + s2[i+2], then s3[0] + s3[1]; done for
 * 16 vectors at once by a transposing tree (15 shuffle pairs, 15 adds and one permute, instead
 * of ~8 operations per vector). */
static inline __m512 lm_x512_hsum16(const __m512 *v, int n) {
    __m512 a[16], b[8], c[4], d[2];
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++)
        a[j] = j < n ? v[j] : _mm512_setzero_ps();
    const __m512i lo = lm_x512_idx_lo_halves(), hi = lm_x512_idx_hi_halves();
    const __m512i ev = lm_x512_idx_even_blocks(), od = lm_x512_idx_odd_blocks();
    /* b[p]: lanes 0-7 = s1 of a[2p], lanes 8-15 = s1 of a[2p+1] */
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++)
        b[p] = _mm512_add_ps(_mm512_permutex2var_ps(a[2 * p], lo, a[2 * p + 1]),
                             _mm512_permutex2var_ps(a[2 * p], hi, a[2 * p + 1]));
        /* c[q], block t: s2 of a[4q + t] */
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++)
        c[q] = _mm512_add_ps(_mm512_permutex2var_ps(b[2 * q], ev, b[2 * q + 1]),
                             _mm512_permutex2var_ps(b[2 * q], od, b[2 * q + 1]));
        /* d[r], block t: s3 of a[8r + t] in lanes 0-1, of a[8r + 4 + t] in lanes 2-3 */
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++)
        d[r] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * r], c[2 * r + 1], 0x44),
                             _mm512_shuffle_ps(c[2 * r], c[2 * r + 1], 0xee));
    /* e, lane 4t + i: the sum of a[4i + t] */
    __m512 e =
        _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xdd));
    return _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), e);
}

/* ---- packing (any float dtype) ----------------------------------------------------------- */

/* Rows [0, nr) of a matrix (row stride ld bytes, elements of dt) over kc columns, transposed
 * into a panel of `width` f32 lanes (12, 16 or 32): dst[k*width + j] = row j's element k, zero
 * for j < width past nr. Sixteen k at a time: sixteen rows' vectors are transposed so each k
 * becomes one 16-lane piece of a packed row (a 12-lane piece is a masked store). Rows past nr
 * are never read; the k tail is a masked load of kc % 16 elements per row. An f32 row's 16 k
 * are one 64-byte line, used whole while it is in L1. next/next_nr/next_kc: the
 * lm_gemm512_pack_w_fn prefetch (next NULL: none). */
LM_X512_INLINE void lm_x512_pack_rows(float *dst, const uint8_t *w, size_t ld, int64_t nr,
                                      int64_t kc, int width, const uint8_t *next, int64_t next_nr,
                                      int64_t next_kc, enum lm_dtype dt) {
    const size_t esize = dt == LM_F32 ? sizeof(float) : sizeof(uint16_t);
    for (int64_t k = 0; k < kc; k += 16) {
        const int64_t kn = kc - k < 16 ? kc - k : 16;
        const __mmask16 km = lm_x512_mask16(kn);
        for (int h = 0; h * 16 < width; h++) {
            if (next && k < next_kc)
                for (int64_t j = h * 16; j < h * 16 + 16 && j < next_nr; j++)
                    _mm_prefetch((const char *)next + (size_t)j * ld + (size_t)k * esize,
                                 _MM_HINT_T0);
            __m512 r[16];
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) {
                const int64_t row = h * 16 + j;
                const uint8_t *p = w + (size_t)row * ld;
                if (row >= nr)
                    r[j] = _mm512_setzero_ps();
                else if (kn == 16)
                    r[j] = lm_x512_load_w16(p, k, dt);
                else
                    r[j] = lm_x512_load_w16_mask(p, k, km, dt);
            }
            lm_x512_transpose16(r);
            const __mmask16 sm = lm_x512_mask16(width - h * 16);
            float *d = dst + k * width + h * 16;
            if (sm == 0xffff)
                for (int64_t i = 0; i < kn; i++)
                    _mm512_storeu_ps(d + i * width, r[i]);
            else
                for (int64_t i = 0; i < kn; i++)
                    _mm512_mask_storeu_ps(d + i * width, sm, r[i]);
        }
    }
}

/* The lm_gemm512_pack_w_fn contract for dtype dt: a 32-lane panel of W rows. */
LM_X512_INLINE void lm_x512_pack_w(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                                   const uint8_t *next, int64_t next_nr, int64_t next_kc,
                                   enum lm_dtype dt) {
    lm_x512_pack_rows(dst, w, ldw, nr, kc, LM_X512_NR, next, next_nr, next_kc, dt);
}

/* ---- GEMV -------------------------------------------------------------------------------- */

/* y[m][n + j] for m < MR, j < NW: MR*NW accumulators. Per 16 k: the MR x vectors are loaded,
 * then each W row's 16 elements are loaded (and widened) into one register and used MR times
 * straight away; live: MR*NW + MR + 1 zmm (at most 29 of 32), so nothing is spilled. */
LM_X512_INLINE void lm_gemv512_block(const struct lm_mm *a, int64_t n, int MR, int NW,
                                     enum lm_dtype dt) {
    const float *x[8];
    const uint8_t *w[8];
    __m512 acc[8][8];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        x[i] = (const float *)(a->x + (size_t)i * a->ldx);
#pragma GCC unroll 8
    for (int j = 0; j < NW; j++)
        w[j] = a->w + (size_t)(n + j) * a->ldw;
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++)
            acc[i][j] = _mm512_setzero_ps();
    const int64_t K = a->K;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv[8];
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
            xv[i] = _mm512_loadu_ps(x[i] + k);
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++) {
            __m512 wv = lm_x512_load_w16(w[j], k, dt);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++)
                acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (k < K) {
        const __mmask16 m = lm_x512_mask16(K - k);
        __m512 xv[8];
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
            xv[i] = _mm512_maskz_loadu_ps(m, x[i] + k);
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++) {
            __m512 wv = lm_x512_load_w16_mask(w[j], k, m, dt);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++)
                acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        _mm512_mask_storeu_ps(a->y + i * a->ldy + n, lm_x512_mask16(NW),
                              lm_x512_hsum16(acc[i], NW));
}

/* Columns [n0, n1) of MR x rows, NW W rows at a time, the last few one at a time. */
LM_X512_INLINE void lm_gemv512_rows(const struct lm_mm *a, int64_t n0, int64_t n1, int MR, int NW,
                                    enum lm_dtype dt) {
    int64_t n = n0;
    for (; n + NW <= n1; n += NW)
        lm_gemv512_block(a, n, MR, NW, dt);
    for (; n < n1; n++)
        lm_gemv512_block(a, n, MR, 1, dt);
}

/* The GEMV path for M in 1..LM_X512_GEMV_MAX_M. W rows in flight per M: 8 for M = 1 (8
 * chains: FMA latency 4 x 2 pipes), then 6, 4, 4, 3, 3, 3, 2: 12 to 21 accumulators. */
LM_X512_INLINE void lm_gemv_avx512(const struct lm_mm *a, int64_t n0, int64_t n1,
                                   enum lm_dtype dt) {
    switch (a->M) {
    case 1: lm_gemv512_rows(a, n0, n1, 1, 8, dt); break;
    case 2: lm_gemv512_rows(a, n0, n1, 2, 6, dt); break;
    case 3: lm_gemv512_rows(a, n0, n1, 3, 4, dt); break;
    case 4: lm_gemv512_rows(a, n0, n1, 4, 4, dt); break;
    case 5: lm_gemv512_rows(a, n0, n1, 5, 3, dt); break;
    case 6: lm_gemv512_rows(a, n0, n1, 6, 3, dt); break;
    case 7: lm_gemv512_rows(a, n0, n1, 7, 3, dt); break;
    default: lm_gemv512_rows(a, n0, n1, 8, 2, dt); break;
    }
}

#endif
