/* simd/avx512/quant_legacy_avx512.h - AVX-512 helpers shared by the Q8_0 / Q4_0 / Q4_1 kernels.
 *
 * Only simd/avx512/{quant,matmul}_{q8_0,q4_0,q4_1}{,_vnni}.c include this (table.c does not:
 * the kernels' declarations are in avx512.h). Like the AVX2 helpers it builds on
 * (../avx2/quant_legacy_avx2.h), every helper is exact: integer sums, reductions that are exact
 * in any order, conversions of small integers, and lane permutations, so the kernels keep the
 * reference's results bit for bit.
 *
 * Lane orders. The decode kernels work on groups of 16 W rows, one f32 accumulator zmm per x
 * row, lane i holding one W row's output. Which row a lane holds follows from how the integer
 * partial sums reduce (below): "pair" order (Q8_0: two rows per zmm, one per 256-bit half) or
 * "quad" order (Q4_0, Q4_1: four rows per zmm, one per 128-bit lane). The fp16 scales of the
 * group are read straight into that order, and the accumulator is permuted to row order once,
 * at the store.
 */
#ifndef LMRT_SIMD_AVX512_QUANT_LEGACY_H
#define LMRT_SIMD_AVX512_QUANT_LEGACY_H

#include <string.h>

#include "../avx2/quant_legacy_avx2.h"
#include "avx512.h"

#define LMQZ_INLINE static inline __attribute__((always_inline))

#define LMQZ_ROWS       16 /* W rows per decode group and per GEMM panel: one zmm of outputs */
#define LMQZ_GEMM_MIN_M 8  /* M from which the GEMM runs (as AVX2: packing pays from there) */
#define LMQZ_GEMM_MR    4  /* x rows per GEMM register tile */
#define LMQZ_GEMM_NV    2  /* panels (of 16 W rows) per register tile: 4 x 32 outputs */

/* Lane orders of the decode accumulators (see the top of this file). */
enum { LMQZ_ORDER_ROW, LMQZ_ORDER_PAIR, LMQZ_ORDER_QUAD };

/* The W row (0..15) that lane i holds. Pair: lane 4L + j of 128-bit lane L holds row
 * 8 (L >> 1) + 2j + (L & 1) (lmqz_reduce_pairs). Quad: lane 4L + j holds row 4j + L
 * (lmqz_reduce4). */
LMQZ_INLINE int lmqz_lane_row(int order, int i) {
    return order == LMQZ_ORDER_PAIR   ? (i >> 3) * 8 + 2 * (i & 3) + ((i >> 2) & 1)
           : order == LMQZ_ORDER_QUAD ? 4 * (i & 3) + (i >> 2)
                                      : i;
}

/* First n (0..16) lanes. */
LMQZ_INLINE __mmask16 lmqz_mask16(int n) { return (__mmask16)((1u << n) - 1u); }

/* Byte offsets of the 16 W rows of a group from its first row: r * ldw in a full group, the
 * last real row repeated in a tail group (nrows < 16), so the unrolled loops need no branches
 * and never read past the matrix; the copies' outputs are masked off at the store. */
LMQZ_INLINE void lmqz_group_offsets(size_t off[16], size_t ldw, int nrows) {
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++)
        off[r] = (size_t)(nrows == 16 ? r : r < nrows ? r : nrows - 1) * ldw;
}

/* The fp16 at byte boff of each of the 16 rows, in the lane order given, as f32. The halves
 * are packed in general registers (the empty asm keeps GCC from turning that into vector
 * shuffles, as in lmq_f16x8), then one vcvtph2ps. */
LMQZ_INLINE __m512 lmqz_f16x16(const uint8_t *w0, const size_t off[16], size_t boff,
                               const int order) {
    uint64_t v[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        uint16_t h;
        memcpy(&h, w0 + off[lmqz_lane_row(order, i)] + boff, 2);
        v[i] = h;
    }
    __asm__(""
            : "+r"(v[0]), "+r"(v[1]), "+r"(v[2]), "+r"(v[3]), "+r"(v[4]), "+r"(v[5]), "+r"(v[6]),
              "+r"(v[7]));
    __asm__(""
            : "+r"(v[8]), "+r"(v[9]), "+r"(v[10]), "+r"(v[11]), "+r"(v[12]), "+r"(v[13]),
              "+r"(v[14]), "+r"(v[15]));
    uint64_t q[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
        q[k] = v[4 * k] | v[4 * k + 1] << 16 | v[4 * k + 2] << 32 | v[4 * k + 3] << 48;
    return _mm512_cvtph_ps(
        _mm256_set_epi64x((long long)q[3], (long long)q[2], (long long)q[1], (long long)q[0]));
}

/* Four vectors p[0..3] of 16 int32 -> one whose 128-bit lane L holds, in dword j, the sum of
 * p[j]'s four dwords in lane L. Integer adds: exact in any order. */
LMQZ_INLINE __m512i lmqz_reduce4(__m512i p0, __m512i p1, __m512i p2, __m512i p3) {
    __m512i u01 = _mm512_add_epi32(_mm512_unpacklo_epi32(p0, p1), _mm512_unpackhi_epi32(p0, p1));
    __m512i u23 = _mm512_add_epi32(_mm512_unpacklo_epi32(p2, p3), _mm512_unpackhi_epi32(p2, p3));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(u01, u23), _mm512_unpackhi_epi64(u01, u23));
}

/* Eight vectors p[k] = [row 2k partials (8 dwords) | row 2k + 1 partials] (k < 4; rows 8 + ...
 * for k >= 4) -> the 16 rows' totals in pair order. */
LMQZ_INLINE __m512i lmqz_reduce_pairs(const __m512i p[8]) {
    __m512i a = lmqz_reduce4(p[0], p[1], p[2], p[3]), b = lmqz_reduce4(p[4], p[5], p[6], p[7]);
    /* a's lanes 0, 1 are halves of rows 0 2 4 6, lanes 2, 3 halves of rows 1 3 5 7 */
    return _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Store lanes of acc (in the given order) to y[0..nrows) in row order: one permute, one
 * masked store. */
LMQZ_INLINE void lmqz_store_rows(float *y, __m512 acc, int nrows, const int order) {
    int32_t idx[16];
    for (int i = 0; i < 16; i++)
        idx[lmqz_lane_row(order, i)] = i;
    __m512 v = order == LMQZ_ORDER_ROW
                   ? acc
                   : _mm512_permutexvar_ps(_mm512_loadu_si512((const void *)idx), acc);
    _mm512_mask_storeu_ps(y, lmqz_mask16(nrows), v);
}

/* 32 W codes of row a and 32 of row b (Q8_0 block qs) in the two 256-bit halves. */
LMQZ_INLINE __m512i lmqz_load_pair(const int8_t *a, const int8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/* The 16 nibble bytes of four rows' Q4 blocks, one row per 128-bit lane. */
LMQZ_INLINE __m512i lmqz_load_quad(const uint8_t *a, const uint8_t *b, const uint8_t *c,
                                   const uint8_t *d) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)a));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)b), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)c), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)d), 3);
}

/* Block step b of a decode group: prefetch lines [b * lines, (b + 1) * lines) of the next group
 * (pf, pf_lines lines in all), so it is in cache when this group is done. */
LMQZ_INLINE void lmqz_prefetch_step(const uint8_t *pf, int64_t pf_lines, int64_t b,
                                    const int lines) {
    if (b * lines >= pf_lines) return;
#pragma GCC unroll 8
    for (int l = 0; l < lines; l++)
        _mm_prefetch((const char *)pf + (b * lines + l) * 64, _MM_HINT_T0);
}

/* Lines of the group after [n, n + 16) within [n, n1), for the decode prefetch (0: none). */
LMQZ_INLINE int64_t lmqz_next_lines(int64_t n, int64_t n1, size_t ldw) {
    int64_t left = n1 - n - LMQZ_ROWS;
    return left > 0 ? (int64_t)(((size_t)(left < LMQZ_ROWS ? left : LMQZ_ROWS) * ldw + 63) / 64)
                    : 0;
}

/* Per x row and block, c * sum(q): the corrections of the kernels that offset one operand
 * (Q4_0: nibbles are q + 8, c = 8; Q8_0 with VNNI: w + 128, c = 128). Rows of nb int32. */
LMQZ_INLINE void lmqz_x_sums(int32_t *corr, const struct lm_mm *a, int32_t c) {
    const int64_t nb = a->K / LM_QK;
    for (int64_t m = 0; m < a->M; m++) {
        const struct lm_block_q8x *x = (const struct lm_block_q8x *)(a->x + (size_t)m * a->ldx);
        for (int64_t b = 0; b < nb; b++)
            corr[m * nb + b] = c * lmq_sum_i8(x[b].qs);
    }
}

/* Bytes of that table, rounded up so what follows it in scratch stays 64-byte aligned. */
static inline size_t lmqz_corr_bytes(int64_t M, int64_t K) {
    return ((size_t)M * (size_t)(K / LM_QK) * sizeof(int32_t) + 63) & ~(size_t)63;
}

/* ---- prefill GEMM panels ----------------------------------------------------------------
 * As in the AVX2 GEMM (quant_legacy_avx2.h), a panel block holds 16 W rows' 32 codes as 8
 * vectors, vector g holding elements 4g..4g+3 of every row (dword lane r = row r), so a
 * broadcast of x's bytes 4g..4g+3 against it gives each row's partial sum in its own lane and
 * the 8 group products add up lane-wise to the 16 rows' exact block sums. Rows 0-7 and 8-15
 * are transposed as two 8 x 8 dword blocks (lmq_transpose8_epi32) into the two 256-bit halves. */

struct lmqz_panel { /* Q8_0, Q4_0 */
    __m512i q[8];
    __m512 d; /* scales, row order */
};
struct lmqz_panel_dm { /* Q4_1 */
    __m512i q[8];
    __m512 d, m;
};

/* v[r] = 32 codes (element order) of rows h*8 + r -> the half h of the 8 panel vectors q. */
LMQZ_INLINE void lmqz_panel_half(__m512i *q, __m256i v[8], int h, const int xor80) {
    lmq_transpose8_epi32(v);
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
        __m256i t = xor80 ? _mm256_xor_si256(v[g], _mm256_set1_epi8((char)0x80)) : v[g];
        _mm256_store_si256((__m256i *)(q + g) + h, t);
    }
}

/* Q8_0 rows' block at wb + off[r] -> panel codes; xor80: stored as w + 128 (u8, for vpdpbusd). */
LMQZ_INLINE void lmqz_pack_q8(__m512i *q, const uint8_t *wb, const size_t off[16],
                              const int xor80) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i v[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++)
            v[r] = _mm256_loadu_si256(
                (const __m256i *)((const struct lm_block_q8_0 *)(wb + off[8 * h + r]))->qs);
        lmqz_panel_half(q, v, h, xor80);
    }
}

/* Q4 nibble arrays at qs + off[r] (16 bytes each) -> panel codes 0..15. */
LMQZ_INLINE void lmqz_pack_q4(__m512i *q, const uint8_t *qs, const size_t off[16]) {
    const __m128i m = _mm_set1_epi8(15);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i v[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            __m128i b = _mm_loadu_si128((const __m128i *)(qs + off[8 * h + r]));
            v[r] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
        }
        lmqz_panel_half(q, v, h, 0);
    }
}

/* x bytes 4g..4g+3 of one block in every dword lane. */
LMQZ_INLINE __m512i lmqz_bcast4(const int8_t *q) {
    int32_t v;
    memcpy(&v, q, 4);
    return _mm512_set1_epi32(v);
}

/* An empty asm that claims to change v: keeps GCC from re-associating a chain of integer adds
 * into a tree that holds every product live at once (lmq_chain's reason, at 512 bits). Under
 * SIMDe a 512-bit value has no register to name, and nothing to keep in registers anyway. */
LMQZ_INLINE __m512i lmqz_chain(__m512i v) {
#ifndef LMRT_EMU
    __asm__("" : "+v"(v));
#endif
    return v;
}

/* ---- quantizers ------------------------------------------------------------------------- */

/* |v| by clearing the sign bit (SIMDe 0.7.4's _mm512_abs_ps keeps -0 as -0). */
LMQZ_INLINE __m512 lmqz_abs(__m512 v) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), v); }

/* vrndscaleps immediate: keep 0 fraction bits, round toward zero, no precision exception.
 * Parenthesized: SIMDe 0.7.4's emulation macro uses imm8 >> 4 without parentheses. */
#define LMQZ_TRUNC (_MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)

/* roundf() per lane: truncate, then step away from zero when the exact fraction is >= 1/2. */
LMQZ_INLINE __m512 lmqz_round_away(__m512 v) {
    __m512 t = _mm512_roundscale_ps(v, LMQZ_TRUNC);
    __mmask16 up =
        _mm512_cmp_ps_mask(lmqz_abs(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    __m512 one = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
    return _mm512_mask_add_ps(t, up, t, one);
}

LMQZ_INLINE __m512 lmqz_clamp(__m512 v, float lo, float hi) {
    return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
}

/* +-inf -> +-FLT_MAX (lm_q_sat); callers have rejected NaN. */
LMQZ_INLINE __m512 lmqz_sat(__m512 v) { return lmqz_clamp(v, -LMQ_FLT_MAX, LMQ_FLT_MAX); }

/* Max / min of the 16 lanes (exact in any order). */
LMQZ_INLINE float lmqz_hmax(__m512 v) {
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return lm_avx2_hmax(_mm256_max_ps(_mm512_castps512_ps256(v), hi));
}
LMQZ_INLINE float lmqz_hmin(__m512 v) {
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 m = _mm256_min_ps(_mm512_castps512_ps256(v), hi);
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_min_ss(s, _mm_movehdup_ps(s)));
}

/* Sum of the 16 int32 lanes. */
LMQZ_INLINE int32_t lmqz_hsum_i32(__m512i v) {
    return lm_avx2_hsum_i32(
        _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}

/* 32-bit mask (element order) of the block's lanes v[0], v[1] equal to s. */
LMQZ_INLINE uint32_t lmqz_eq_mask(const __m512 v[2], float s) {
    __m512 t = _mm512_set1_ps(s);
    return (uint32_t)_mm512_cmp_ps_mask(v[0], t, _CMP_EQ_OQ) |
           (uint32_t)_mm512_cmp_ps_mask(v[1], t, _CMP_EQ_OQ) << 16;
}

/* Nonzero if any of the block's 32 floats is NaN. */
LMQZ_INLINE int lmqz_any_nan(const __m512 v[2]) {
    return (_mm512_cmp_ps_mask(v[0], v[0], _CMP_UNORD_Q) |
            _mm512_cmp_ps_mask(v[1], v[1], _CMP_UNORD_Q)) != 0;
}

/* 16 integer-valued f32 in [-128, 127] -> 16 int8 (exact: vcvtps2dq, then vpmovsdb). */
LMQZ_INLINE __m128i lmqz_to_i8(__m512 v) { return _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)); }

/* 32 codes in [0, 15] as two vectors of 16 integer-valued f32 (elements 0..15, 16..31) -> 16
 * bytes, element j low nibble, j + 16 high. */
LMQZ_INLINE __m128i lmqz_nibbles(__m512 lo, __m512 hi) {
    return _mm_or_si128(lmqz_to_i8(lo), _mm_slli_epi16(lmqz_to_i8(hi), 4));
}

#endif
