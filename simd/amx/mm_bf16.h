/* simd/amx/mm_bf16.h - the AMX bf16 GEMM that matmul_bf16.c and matmul_f16.c instantiate: BF16
 * or F16 W against F32 x at f32 accuracy, on tdpbf16ps.
 *
 * Splitting. tdpbf16ps multiplies bf16 (8-bit significands) and accumulates in f32. x is split
 * by prep into three bf16 pieces by bit position, xh + xm + xl = x exactly: xh the top 8
 * significand bits, xm the next 8, xl the last 8 (truncations, so all three have x's sign).
 * W: a BF16 element is one piece; an F16 one (11 bits) is wh + wl, the top 8 bits and the
 * last 3. Every product of pieces is exact in f32. They are summed into two C tiles:
 *   BF16: A = xh*w + xm*w,                B = xl*w
 *   F16:  A = xh*wh + xh*wl + xm*wh,     B = xm*wl + xl*wh + xl*wl
 * then y = A + B. Each group's products are multiples of one power of two and span less than
 * 2^24 of it (A: multiples of 2^-22 below 4 in units of x's and w's leading bits; B likewise),
 * so for a single k every partial sum is exact and y = A + B is x*w rounded once: with K = 1
 * the result is bit-identical to the reference.
 *
 * Error bound for any K (what tests/check_matmul.c checks): each product of pieces passes
 * through at most 15 FMAs of tdpbf16ps's even/odd chains (16 pairs per 32-k chunk), their sum
 * (1), the C accumulation over the tile's dot products (2 or 3 per chunk: 2 ceil(K/32) or
 * 3 ceil(K/32) adds) and the final A + B (1): for every K >= 2 that is at most K + 3 roundings,
 * so |y - xw| <= gamma_(K+3) * sum_k |x_k w_k| (the pieces' magnitudes add up to |x_k w_k|
 * since they share its sign), the same bound as an f32 FMA chain.
 * What it does not cover: tdpbf16ps treats denormal inputs as zero and flushes denormal
 * results. So prep scales each x row by a power of two 2^e (exact) that brings its largest
 * |x| into [1, 2), and y is scaled back by 2^-e (one rounding, only if y is subnormal);
 * an element whose pieces fall below 2^-126 after scaling (below ~2^-110 of its row's largest)
 * loses them, as does a product or partial sum below 2^-126: an absolute error of about
 * 2^-110 * max|x_row| * sum|w|. Products of the scaled x (< 2) and a BF16 weight above
 * ~1.7e38 can overflow where the reference would not.
 * Non-finite inputs take the level below: a row of x holding an inf or NaN is flagged by prep
 * (its pieces are zero) and recomputed by the lower kernel over [n0, n1); a W row (output
 * column) holding one is seen while packing and recomputed over all M rows. Both produce the
 * lower level's results there, which is what IEEE arithmetic on the unsplit values gives.
 *
 * Prepared x row (prep_size(K) bytes): the level below's prepared row (its prep, or the F32
 * row when it reads F32), padded to 64 bytes; a 64-byte header (int32 e, int32 non-finite
 * flag, f32 2^-e); then xh, xm, xl as bf16 arrays of Kp = K rounded up to 32 (zero past K). The
 * lower kernel reads its part of each row with the same row stride. prep runs once per row for all
 * threads (ops/matmul.c phase 1), so the split costs O(M K), not O(M K) per thread.
 *
 * Tiles (all rows 16, colsb 64): tmm0 = C_A, tmm1 = C_B, tmm2..4 = xh, xm, xl of 16 x rows
 * and one 32-k chunk (loaded in place from the prepared rows, row stride ldx), tmm5 (tmm6 for
 * F16) = the W panel's chunk (16 pairs x 16 columns: row p holds, for column j, elements
 * 2p, 2p+1 of the chunk at bytes 4j..4j+3). W is packed per panel of 16 columns over all of K
 * in the thread's scratch (F16: the wh and wl tiles of each chunk side by side), then every
 * 16-row tile of the current x chunk runs against it. Tails: as in mm_int8.h (last 16-row tile
 * at M - 16, masked stores of nr columns, zero pieces and zero W past K). M < LM_AMX_MIN_M
 * goes to the level below.
 */
#ifndef LMRT_SIMD_AMX_MM_BF16_H
#define LMRT_SIMD_AMX_MM_BF16_H

#include <string.h>

#include "../avx2/quant_legacy_avx2.h"
#include "amx.h"

#ifndef AMX_INLINE
#define AMX_INLINE static inline __attribute__((always_inline))
#endif

static inline size_t amx_round64(size_t n) { return (n + 63) & ~(size_t)63; }
static inline int64_t amx_kp(int64_t K) { return (K + 31) & ~(int64_t)31; }

/* Bytes of the level below's part of a prepared row. */
static inline size_t amx_split_below(enum lm_dtype dt, int64_t K) {
    const struct lm_mm_kernel *b = &lm_amx_below[dt];
    return amx_round64(b->prep ? b->prep_size(K) : (size_t)K * sizeof(float));
}

static inline size_t amx_split_size(enum lm_dtype dt, int64_t K) {
    return amx_split_below(dt, K) + 64 + 3 * (size_t)amx_kp(K) * sizeof(uint16_t);
}

/* 16 f32 (two vectors) -> their high halves as 16 u16 in order. */
AMX_INLINE __m256i amx_hi16(__m256 a, __m256 b) {
    __m256i v = _mm256_packus_epi32(_mm256_srli_epi32(_mm256_castps_si256(a), 16),
                                    _mm256_srli_epi32(_mm256_castps_si256(b), 16));
    return _mm256_permute4x64_epi64(v, 0xd8); /* packus interleaves the 128-bit lanes */
}

/* v -> the three pieces (as f32 whose low 16 bits are zero): xh = top 8 significand bits,
 * xm = the next 8, xl = the rest; each subtraction is exact. */
AMX_INLINE void amx_split3(__m256 v, __m256 *h, __m256 *m, __m256 *l) {
    const __m256 top8 = _mm256_castsi256_ps(_mm256_set1_epi32((int)0xffff0000u));
    const __m256 top16 = _mm256_castsi256_ps(_mm256_set1_epi32((int)0xffffff00u));
    __m256 x16 = _mm256_and_ps(v, top16);
    *h = _mm256_and_ps(v, top8);
    *m = _mm256_sub_ps(x16, *h);
    *l = _mm256_sub_ps(v, x16);
}

/* The prep: below's row, the header, the three pieces of x scaled by 2^e. */
AMX_INLINE void amx_split_prep(void *dst, const float *x, int64_t K, enum lm_dtype dt) {
    uint8_t *row = dst;
    const struct lm_mm_kernel *b = &lm_amx_below[dt];
    if (b->prep)
        b->prep(row, x, K);
    else
        memcpy(row, x, (size_t)K * sizeof(float));
    int32_t *hdr = (int32_t *)(row + amx_split_below(dt, K));
    const int64_t Kp = amx_kp(K);
    uint16_t *ph = (uint16_t *)(row + amx_split_below(dt, K) + 64), *pm = ph + Kp, *pl = pm + Kp;

    /* largest |x|, and whether any x is inf or NaN (x - x is NaN exactly then) */
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k += 8) {
        __m256 v = K - k >= 8 ? _mm256_loadu_ps(x + k)
                              : _mm256_maskload_ps(x + k, lm_avx2_tail_mask(K - k));
        mx = _mm256_max_ps(mx, _mm256_and_ps(v, absmask));
        bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_sub_ps(v, v), v, _CMP_UNORD_Q));
    }
    float *back = (float *)(hdr + 2);
    hdr[0] = 0, hdr[1] = _mm256_movemask_ps(bad) != 0, *back = 1.0f;
    if (hdr[1]) { /* the lower kernel recomputes this row; keep the tiles finite */
        memset(ph, 0, 3 * (size_t)Kp * sizeof(uint16_t));
        return;
    }
    float big = lm_avx2_hmax(mx);
    int e = big > 0 ? -ilogbf(big) : 0; /* big * 2^e in [1, 2); e in [-127, 149] */
    hdr[0] = e;
    *back = ldexpf(1.0f, -e); /* 2^-e is a float for every e here: y is scaled back by it */
    /* 2^e as one factor when it is a float (e <= 127), else two; scaling up is exact */
    const __m256 f1 = _mm256_set1_ps(ldexpf(1.0f, e <= 127 ? e : 127));
    const __m256 f2 = _mm256_set1_ps(ldexpf(1.0f, e <= 127 ? 0 : e - 127));
    for (int64_t k = 0; k < Kp; k += 16) {
        __m256 v[2];
        for (int j = 0; j < 2; j++) {
            int64_t kk = k + 8 * j, n = K - kk;
            v[j] = n >= 8  ? _mm256_loadu_ps(x + kk)
                   : n > 0 ? _mm256_maskload_ps(x + kk, lm_avx2_tail_mask(n))
                           : _mm256_setzero_ps();
            v[j] = _mm256_mul_ps(_mm256_mul_ps(v[j], f1), f2);
        }
        __m256 h0, m0, l0, h1, m1, l1;
        amx_split3(v[0], &h0, &m0, &l0);
        amx_split3(v[1], &h1, &m1, &l1);
        _mm256_storeu_si256((__m256i *)(ph + k), amx_hi16(h0, h1));
        _mm256_storeu_si256((__m256i *)(pm + k), amx_hi16(m0, m1));
        _mm256_storeu_si256((__m256i *)(pl + k), amx_hi16(l0, l1));
    }
}

/* ---- packing W ----------------------------------------------------------------------------- */

/* Elements [k, k + 32) of a W row (zero past K) as 32 u16 in two vectors, the row's raw bits. */
AMX_INLINE void amx_w_chunk(const uint16_t *row, int64_t k, int64_t K, __m256i *lo, __m256i *hi) {
    if (K - k >= 32) {
        *lo = _mm256_loadu_si256((const __m256i *)(row + k));
        *hi = _mm256_loadu_si256((const __m256i *)(row + k + 16));
    } else { /* the last chunk of a row: only its K - k elements are read */
        uint16_t t[32] = {0};
        memcpy(t, row + k, (size_t)(K - k) * sizeof(uint16_t));
        *lo = _mm256_loadu_si256((const __m256i *)t);
        *hi = _mm256_loadu_si256((const __m256i *)(t + 16));
    }
}

/* 8 F16 -> f32 -> (wh, wl) as the high halves: two vectors of 8 u32 each holding a bf16. */
AMX_INLINE void amx_f16_split(__m128i h, __m256 *wh, __m256 *wl) {
    __m256 f = _mm256_cvtph_ps(h);
    *wh = _mm256_and_ps(f, _mm256_castsi256_ps(_mm256_set1_epi32((int)0xffff0000u)));
    *wl = _mm256_sub_ps(f, *wh);
}

/* Columns [n, n + nr) over all of K -> per 32-k chunk one B tile (BF16) or two (F16: wh then wl),
 * 1 KiB each. Returns a mask of the columns holding an inf or NaN. */
AMX_INLINE uint32_t amx_w_pack(uint8_t *panel, const struct lm_mm *a, int64_t n, int nr,
                               enum lm_dtype dt) {
    const int64_t K = a->K, nc = amx_kp(K) / 32;
    const int ntiles = dt == LM_F16 ? 2 : 1;
    const __m256i expo = _mm256_set1_epi16(dt == LM_F16 ? 0x7c00 : 0x7f80);
    uint32_t bad = 0;
    for (int64_t c = 0; c < nc; c++) {
        uint8_t *tile = panel + (size_t)c * ntiles * 1024;
        for (int h = 0; h < 2; h++) { /* columns 8h .. 8h + 7 */
            /* per column: its 32 elements as 16 dwords (pairs), in two vectors per piece */
            __m256i v[2][2][8]; /* [piece][dword half][column] */
            for (int j = 0; j < 8; j++) {
                int col = 8 * h + j;
                __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
                if (col < nr)
                    amx_w_chunk((const uint16_t *)(a->w + (size_t)(n + col) * a->ldw), c * 32, K,
                                &lo, &hi);
                __m256i ex = _mm256_or_si256(_mm256_cmpeq_epi16(_mm256_and_si256(lo, expo), expo),
                                             _mm256_cmpeq_epi16(_mm256_and_si256(hi, expo), expo));
                if (!_mm256_testz_si256(ex, ex)) bad |= 1u << col;
                if (dt == LM_BF16) {
                    v[0][0][j] = lo, v[0][1][j] = hi;
                } else {
                    __m256 h0, l0, h1, l1, h2, l2, h3, l3;
                    amx_f16_split(_mm256_castsi256_si128(lo), &h0, &l0);
                    amx_f16_split(_mm256_extracti128_si256(lo, 1), &h1, &l1);
                    amx_f16_split(_mm256_castsi256_si128(hi), &h2, &l2);
                    amx_f16_split(_mm256_extracti128_si256(hi, 1), &h3, &l3);
                    v[0][0][j] = amx_hi16(h0, h1), v[0][1][j] = amx_hi16(h2, h3);
                    v[1][0][j] = amx_hi16(l0, l1), v[1][1][j] = amx_hi16(l2, l3);
                }
            }
            /* transpose: B row p (pair p) gets dword p of every column */
            for (int pc = 0; pc < ntiles; pc++)
                for (int s = 0; s < 2; s++) { /* dwords 8s .. 8s + 7 */
                    lmq_transpose8_epi32(v[pc][s]);
                    for (int p = 0; p < 8; p++)
                        _mm256_store_si256((__m256i *)(tile + (size_t)pc * 1024 +
                                                       (size_t)(8 * s + p) * 64 + 32 * h),
                                           v[pc][s][p]);
                }
        }
    }
    return bad;
}

/* ---- the GEMM -------------------------------------------------------------------------------- */

/* y rows [m0, m0 + 16) x columns [n, n + nr) from the packed panel. */
AMX_INLINE void amx_bf_tile16(const struct lm_mm *a, const uint8_t *panel, size_t xoff, int64_t m0,
                              int64_t n, int nr, float *cbuf, enum lm_dtype dt) {
    const int64_t Kp = amx_kp(a->K), nc = Kp / 32;
    const uint8_t *x0 = a->x + (size_t)m0 * a->ldx;
    const size_t piece = (size_t)Kp * sizeof(uint16_t);
    _tile_zero(0);
    _tile_zero(1);
    for (int64_t c = 0; c < nc; c++) {
        const uint8_t *xh = x0 + xoff + 64 + (size_t)c * 64;
        if (dt == LM_BF16) {
            _tile_loadd(5, panel + (size_t)c * 1024, 64);
            _tile_loadd(2, xh, a->ldx);
            _tile_loadd(3, xh + piece, a->ldx);
            _tile_loadd(4, xh + 2 * piece, a->ldx);
            _tile_dpbf16ps(0, 2, 5);
            _tile_dpbf16ps(0, 3, 5);
            _tile_dpbf16ps(1, 4, 5);
        } else {
            _tile_loadd(5, panel + (size_t)c * 2048, 64);
            _tile_loadd(6, panel + (size_t)c * 2048 + 1024, 64);
            _tile_loadd(2, xh, a->ldx);
            _tile_loadd(3, xh + piece, a->ldx);
            _tile_loadd(4, xh + 2 * piece, a->ldx);
            _tile_dpbf16ps(0, 2, 5);
            _tile_dpbf16ps(0, 2, 6);
            _tile_dpbf16ps(0, 3, 5);
            _tile_dpbf16ps(1, 3, 6);
            _tile_dpbf16ps(1, 4, 5);
            _tile_dpbf16ps(1, 4, 6);
        }
    }
    _tile_stored(0, cbuf, 64);
    _tile_stored(1, cbuf + 256, 64);
    const __mmask16 keep = (__mmask16)((1u << nr) - 1);
    for (int i = 0; i < 16; i++) {
        float back; /* 2^-e of the row */
        memcpy(&back, x0 + (size_t)i * a->ldx + xoff + 8, sizeof back);
        __m512 y =
            _mm512_add_ps(_mm512_load_ps(cbuf + 16 * i), _mm512_load_ps(cbuf + 256 + 16 * i));
        y = _mm512_mul_ps(y, _mm512_set1_ps(back)); /* exact unless y is subnormal */
        _mm512_mask_storeu_ps(a->y + (m0 + i) * a->ldy + n, keep, y);
    }
}

static inline size_t amx_bf_panel_bytes(enum lm_dtype dt, int64_t K) {
    return (size_t)(amx_kp(K) / 32) * (dt == LM_F16 ? 2048 : 1024);
}

static inline size_t amx_bf_scratch(enum lm_dtype dt, int64_t M, int64_t K) {
    const struct lm_mm_kernel *b = &lm_amx_below[dt];
    size_t below = b->scratch_size ? b->scratch_size(M, K) : 0;
    if (M < LM_AMX_MIN_M) return below;
    size_t one = b->scratch_size ? b->scratch_size(1, K) : 0;
    return amx_bf_panel_bytes(dt, K) + 2048 + amx_round64(below > one ? below : one);
}

AMX_INLINE void amx_bf_gemm(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch,
                            enum lm_dtype dt) {
    const struct lm_mm_kernel *below = &lm_amx_below[dt];
    if (a->M < LM_AMX_MIN_M) {
        below->tile(a, n0, n1, scratch);
        return;
    }
    uint8_t *panel = scratch;
    float *cbuf = (float *)(panel + amx_bf_panel_bytes(dt, a->K));
    void *bscratch = (uint8_t *)cbuf + 2048;
    const size_t xoff = amx_split_below(dt, a->K); /* the header; pieces 64 bytes later */

    struct lm_amx_cfg cfg = {.palette = 1};
    for (int i = 0; i < (dt == LM_F16 ? 7 : 6); i++)
        cfg.rows[i] = 16, cfg.colsb[i] = 64;
    _tile_loadconfig(&cfg);

    /* x chunks of about 1 MiB of pieces (stay in L2 across the panels) */
    int64_t mc = (int64_t)((1u << 20) / (3 * (size_t)amx_kp(a->K) * 2)) & ~(int64_t)15;
    if (mc < LM_AMX_MIN_M) mc = LM_AMX_MIN_M;
    for (int64_t c0 = 0; c0 < a->M; c0 += mc) {
        const int64_t c1 = c0 + mc < a->M ? c0 + mc : a->M;
        for (int64_t n = n0; n < n1; n += 16) {
            const int nr = n1 - n < 16 ? (int)(n1 - n) : 16;
            uint32_t bad = amx_w_pack(panel, a, n, nr, dt);
            for (int64_t m = c0; m < c1; m += 16)
                amx_bf_tile16(a, panel, xoff, m + 16 <= a->M ? m : a->M - 16, n, nr, cbuf, dt);
            if (c1 == a->M) /* a column with an inf or NaN: the level below over all M rows */
                for (int j = 0; j < nr; j++)
                    if (bad >> j & 1) below->tile(a, n + j, n + j + 1, bscratch);
        }
    }
    _tile_release();

    /* rows of x with an inf or NaN: the level below, one row at a time */
    for (int64_t m = 0; m < a->M; m++) {
        int32_t flag;
        memcpy(&flag, a->x + (size_t)m * a->ldx + xoff + 4, sizeof flag);
        if (!flag) continue;
        struct lm_mm r = *a;
        r.y = a->y + m * a->ldy, r.x = a->x + (size_t)m * a->ldx, r.M = 1;
        below->tile(&r, n0, n1, bscratch);
    }
}

#endif
