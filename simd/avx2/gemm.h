/* simd/avx2/gemm.h - what the AVX2 float matmul kernels share (matmul_f32/f16/bf16.c, gemm_f32.c).
 *
 * Problem (simd/kernels.h, struct lm_mm): y[m][n] = sum_k x[m][k] * W[n][k] for rows m < M and
 * columns [n0, n1), x F32, W F32, F16 or BF16, both with K contiguous. Two paths, picked by M
 * alone (so every thread of one call takes the same one):
 *
 * - GEMV (M <= LM_GEMV_MAX_M, decode): each W row is streamed once and dotted with all M x rows
 *   while it is in registers; NW W rows are in flight together, one f32 accumulator per (x row,
 *   W row) pair so MR*NW independent FMA chains hide the FMA latency. W is widened to f32 in
 *   registers (F16C vcvtph2ps; bf16 by zero-extend and shift left 16). K % 8 tail: masked x
 *   loads and a zero-padded W tail, never a read past a row. Each (m, n) result is the same
 *   chain whatever NW its column was grouped in, and the lane sum follows lm_avx2_hsum's order
 *   exactly, so results do not depend on how columns were split across threads.
 *
 * - GEMM (larger M): gemm_f32.c, a 6x16 register kernel in three loop nests by M. W panels
 *   of kc x 16 columns are converted to f32 and packed k-major by lm_gemm_pack_w (below).
 */
#ifndef LMRT_SIMD_AVX2_GEMM_H
#define LMRT_SIMD_AVX2_GEMM_H

#include <string.h>

#include "avx2.h"

#define LM_GEMV_MAX_M   4    /* M above this takes the GEMM */
#define LM_GEMM_SMALL_M 16   /* M up to this: W rows broadcast against a transposed x panel */
#define LM_GEMM_TINY_M  8    /* M up to this: 8 lanes (12 W rows x 8), else 16 (6 x 16) */
#define LM_GEMM_MR      6    /* micro-tile rows (x rows) */
#define LM_GEMM_NR      16   /* micro-tile columns (W rows): two ymm */
#define LM_GEMM_KC      256  /* k block: a packed W panel (kc x 16 f32 = 16 KiB) stays in L1 */
#define LM_GEMM_MC      144  /* m block: packed x (mc x kc f32 = 144 KiB) stays in L2 */
#define LM_GEMM_NC      1024 /* n block: packed W (kc x nc f32 = 1 MiB) reused across m blocks */

#define LM_AVX2_INLINE static inline __attribute__((always_inline))

/* Pack W rows [0, nr) (nr <= 16, w points at row 0, column k0) over kc columns into
 * dst[k*16 + j] = (float)W[j][k0 + k], zero for j >= nr. dst is 64-byte aligned. While it
 * reads, it prefetches the panel that will be packed next (rows [0, next_nr) x next_kc
 * columns from next, same ldw; next NULL: none), so that panel's rows are in cache when their turn
 * comes: the GEMM reads each W row in kc-long pieces far apart in time, which the hardware
 * prefetcher does not follow. */
typedef void (*lm_gemm_pack_w_fn)(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                                  const uint8_t *next, int64_t next_nr, int64_t next_kc);

/* How the GEMM reads one W dtype. */
struct lm_gemm_wtype {
    lm_gemm_pack_w_fn pack;
    /* n elements of a W row to f32 (the to_f32 row kernels); NULL: W is f32, read in place */
    void (*to_f32)(float *y, const void *x, int64_t n);
    size_t esize; /* bytes per element */
};

/* The GEMM over all M rows (M > LM_GEMV_MAX_M) and columns [n0, n1) (gemm_f32.c). scratch:
 * lm_gemm_scratch_avx2(M, K) bytes, 64-byte aligned. */
void lm_gemm_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                  const struct lm_gemm_wtype *wt);
/* lm_gemm_scratch_avx2(M, K) (declared in avx2.h): scratch bytes of an M x K tile: 0 on the
 * GEMV path; for M <= 16 the transposed x panel (64 K bytes) and 12 converted W rows; else one
 * packed W panel (M <= MC), or a packed W block and x block: at most (KC * NC + MC * KC) * 4
 * bytes (1.14 MiB) whatever M is. */

/* ---- W elements to f32 ------------------------------------------------------------------- */

/* 8 elements of a W row starting at element k. */
LM_AVX2_INLINE __m256 lm_gemm_load_w8(const uint8_t *row, int64_t k, enum lm_dtype dt) {
    if (dt == LM_F32) return _mm256_loadu_ps((const float *)row + k);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + k));
    if (dt == LM_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* n (1..7) elements starting at k, the other lanes zero; reads only the n elements. */
LM_AVX2_INLINE __m256 lm_gemm_load_w_tail(const uint8_t *row, int64_t k, int64_t n,
                                          enum lm_dtype dt) {
    if (dt == LM_F32) return _mm256_maskload_ps((const float *)row + k, lm_avx2_tail_mask(n));
    uint16_t b[8] = {0};
    memcpy(b, (const uint16_t *)row + k, (size_t)n * sizeof(uint16_t));
    return lm_gemm_load_w8((const uint8_t *)b, 0, dt);
}

/* ---- shuffles ---------------------------------------------------------------------------- */

/* r[i] holds row i of an 8x8 block; afterwards r[i] holds column i. */
LM_AVX2_INLINE void lm_avx2_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    /* per 128-bit half: s0 = column 0 (rows 0-3), s1 = column 1, ... of that half */
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* The lane sums of a, b, c, d in one vector, each added in lm_avx2_hsum's order (halves, then
 * lanes 0+2 and 1+3, then those two), so both give bit-identical sums. */
LM_AVX2_INLINE __m128 lm_avx2_hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m128 sa = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 sb = _mm_add_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));
    __m128 sc = _mm_add_ps(_mm256_castps256_ps128(c), _mm256_extractf128_ps(c, 1));
    __m128 sd = _mm_add_ps(_mm256_castps256_ps128(d), _mm256_extractf128_ps(d, 1));
    /* p = (a0+a2, b0+b2, a1+a3, b1+b3), q likewise for c, d */
    __m128 p = _mm_add_ps(_mm_unpacklo_ps(sa, sb), _mm_unpackhi_ps(sa, sb));
    __m128 q = _mm_add_ps(_mm_unpacklo_ps(sc, sd), _mm_unpackhi_ps(sc, sd));
    return _mm_add_ps(_mm_movelh_ps(p, q), _mm_movehl_ps(q, p));
}

/* ---- packing W panels (any float dtype) -------------------------------------------------- */

/* Rows [0, nr) of a matrix (row stride ldw bytes, elements of dt) over kc columns, transposed
 * into a panel of `width` (8 or 16) f32 lanes: dst[k*width + j] = row j's element k, zero for
 * j >= nr. Eight k at a time: eight rows' vectors are transposed so each k becomes one 8-lane
 * half of a packed row. Rows past nr are never read; the k tail reads only kc % 8 elements per
 * row. Both 8-k steps of a 16-k chunk run back to back on the same eight rows, so a 64-byte
 * line of f32 is used whole while it is in L1 even when the row stride maps all the rows to one
 * cache set. next/next_nr/next_kc: the lm_gemm_pack_w_fn prefetch (next NULL: none). */
LM_AVX2_INLINE void lm_gemm_pack_rows(float *dst, const uint8_t *w, size_t ldw, int64_t nr,
                                      int64_t kc, int width, const uint8_t *next, int64_t next_nr,
                                      int64_t next_kc, enum lm_dtype dt) {
    const size_t esize = dt == LM_F32 ? sizeof(float) : sizeof(uint16_t);
    for (int64_t kb = 0; kb < kc; kb += 16) {
        for (int h = 0; h < width / 8; h++) {
            if (next && kb < next_kc)
                for (int j = h * 8; j < h * 8 + 8 && j < next_nr; j++)
                    _mm_prefetch((const char *)next + (size_t)j * ldw + (size_t)kb * esize,
                                 _MM_HINT_T0);
            for (int64_t k = kb; k < kb + 16 && k < kc; k += 8) {
                int64_t kn = kc - k < 8 ? kc - k : 8;
                __m256 r[8];
#pragma GCC unroll 8
                for (int j = 0; j < 8; j++) {
                    int64_t row = h * 8 + j;
                    const uint8_t *p = w + (size_t)row * ldw;
                    if (row >= nr)
                        r[j] = _mm256_setzero_ps();
                    else if (kn == 8)
                        r[j] = lm_gemm_load_w8(p, k, dt);
                    else
                        r[j] = lm_gemm_load_w_tail(p, k, kn, dt);
                }
                lm_avx2_transpose8(r);
#pragma GCC unroll 8
                for (int i = 0; i < kn; i++)
                    _mm256_store_ps(dst + (k + i) * width + h * 8, r[i]);
            }
        }
    }
}

/* The lm_gemm_pack_w_fn contract for dtype dt: a 16-lane panel of W rows. */
LM_AVX2_INLINE void lm_gemm_pack_w(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                                   const uint8_t *next, int64_t next_nr, int64_t next_kc,
                                   enum lm_dtype dt) {
    lm_gemm_pack_rows(dst, w, ldw, nr, kc, LM_GEMM_NR, next, next_nr, next_kc, dt);
}

/* ---- GEMV -------------------------------------------------------------------------------- */

/* y[m][n + j] for m < MR, j < NW: MR*NW accumulators. Per 8 k: the MR x vectors are loaded,
 * then each W row's 8 elements are loaded (and widened) into one register and used MR times
 * straight away; live: MR*NW + MR + 1 ymm, so nothing is spilled. */
LM_AVX2_INLINE void lm_gemv_block(const struct lm_mm *a, int64_t n, int MR, int NW,
                                  enum lm_dtype dt) {
    const float *x[4];
    const uint8_t *w[8];
    __m256 acc[4][8];
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
            acc[i][j] = _mm256_setzero_ps();
    const int64_t K = a->K;
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 xv[4];
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++)
            xv[i] = _mm256_loadu_ps(x[i] + k);
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++) {
            __m256 wv = lm_gemm_load_w8(w[j], k, dt);
#pragma GCC unroll 4
            for (int i = 0; i < MR; i++)
                acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (k < K) {
        __m256i mask = lm_avx2_tail_mask(K - k);
        __m256 xv[4];
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++)
            xv[i] = _mm256_maskload_ps(x[i] + k, mask);
#pragma GCC unroll 8
        for (int j = 0; j < NW; j++) {
            __m256 wv = lm_gemm_load_w_tail(w[j], k, K - k, dt);
#pragma GCC unroll 4
            for (int i = 0; i < MR; i++)
                acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        float *y = a->y + i * a->ldy + n;
        int j = 0;
#pragma GCC unroll 2
        for (; j + 4 <= NW; j += 4)
            _mm_storeu_ps(y + j,
                          lm_avx2_hsum4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]));
#pragma GCC unroll 4
        for (; j < NW; j++)
            y[j] = lm_avx2_hsum(acc[i][j]);
    }
}

/* Columns [n0, n1) of MR x rows, NW W rows at a time, the last few one at a time. */
LM_AVX2_INLINE void lm_gemv_rows(const struct lm_mm *a, int64_t n0, int64_t n1, int MR, int NW,
                                 enum lm_dtype dt) {
    int64_t n = n0;
    for (; n + NW <= n1; n += NW)
        lm_gemv_block(a, n, MR, NW, dt);
    for (; n < n1; n++)
        lm_gemv_block(a, n, MR, 1, dt);
}

/* The GEMV path for M in 1..LM_GEMV_MAX_M. W rows in flight per M: 8 for M = 1 (8 chains),
 * then 4, 3, 2: 8 or 9 independent accumulators (FMA latency 4 x 2 pipes), within 16 ymm. */
LM_AVX2_INLINE void lm_gemv_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, enum lm_dtype dt) {
    switch (a->M) {
    case 1: lm_gemv_rows(a, n0, n1, 1, 8, dt); break;
    case 2: lm_gemv_rows(a, n0, n1, 2, 4, dt); break;
    case 3: lm_gemv_rows(a, n0, n1, 3, 3, dt); break;
    default: lm_gemv_rows(a, n0, n1, 4, 2, dt); break;
    }
}

#endif
