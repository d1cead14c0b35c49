/* simd/avx2/quant_legacy_avx2.h - AVX2 helpers shared by the Q8_0 / Q4_0 / Q4_1 kernels.
 *
 * Only simd/avx2/{quant,matmul}_{q8_0,q4_0,q4_1}.c include this. Every helper is exact (no
 * rounding beyond what the reference does, in the same order), which is what lets the AVX2
 * quantizers produce the reference's blocks bit for bit: min/max reductions are exact in any
 * order, round-half-away-from-zero is rebuilt from truncation, and products are formed with
 * the same single multiply (or multiply then add) as the scalar code, never an FMA.
 */
#ifndef LMRT_SIMD_AVX2_QUANT_LEGACY_H
#define LMRT_SIMD_AVX2_QUANT_LEGACY_H

#include <string.h>

#include "../quant_legacy.h"
#include "avx2.h"

#define LMQ_FLT_MAX 3.40282347e38f

/* roundf() per lane: truncate, then step away from zero when the (exact) fraction is >= 1/2. */
static inline __m256 lmq_round_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    __m256 one = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f)); /* +-1 */
    return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

static inline __m256 lmq_abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

/* +-inf -> +-FLT_MAX (lm_q_sat); callers have rejected NaN. */
static inline __m256 lmq_sat(__m256 v) {
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-LMQ_FLT_MAX)),
                         _mm256_set1_ps(LMQ_FLT_MAX));
}

static inline __m256 lmq_clamp(__m256 v, float lo, float hi) {
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(lo)), _mm256_set1_ps(hi));
}

/* Nonzero if any of the 32 floats is NaN. */
static inline int lmq_any_nan(const __m256 v[4]) {
    __m256 u = _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(v[0], v[0], _CMP_UNORD_Q),
                                         _mm256_cmp_ps(v[1], v[1], _CMP_UNORD_Q)),
                            _mm256_or_ps(_mm256_cmp_ps(v[2], v[2], _CMP_UNORD_Q),
                                         _mm256_cmp_ps(v[3], v[3], _CMP_UNORD_Q)));
    return _mm256_movemask_ps(u);
}

/* 32-bit mask of the lanes (element order) where v[i] == s. */
static inline uint32_t lmq_eq_mask(const __m256 v[4], float s) {
    __m256 t = _mm256_set1_ps(s);
    uint32_t m = 0;
    for (int i = 0; i < 4; i++)
        m |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v[i], t, _CMP_EQ_OQ)) << (8 * i);
    return m;
}

/* Four vectors of 8 int32 in [-128, 255] -> 32 bytes in element order. packs interleaves the
 * 128-bit lanes (dwords come out as 0,2,4,6,1,3,5,7 of the wanted order); one permute fixes it. */
static inline __m256i lmq_pack_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    __m256i v = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Same, for codes in [0, 15]: unsigned saturation keeps them as they are. */
static inline __m256i lmq_pack_u8(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    __m256i v = _mm256_packus_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* 32 codes in [0, 15] (element order) -> 16 bytes: element j low nibble, j + 16 high. */
static inline __m128i lmq_nibbles(__m256i codes) {
    __m128i lo = _mm256_castsi256_si128(codes), hi = _mm256_extracti128_si256(codes, 1);
    return _mm_or_si128(lo, _mm_slli_epi16(hi, 4)); /* hi bytes <= 15: no bits cross a byte */
}

/* 32 int8 codes q = round(x * id) clamped to [-127, 127]; *sum gets their sum if non-NULL. */
static inline __m256i lmq_codes_q8(const __m256 v[4], float id, int32_t *sum) {
    __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; i++)
        q[i] = _mm256_cvtps_epi32(
            lmq_clamp(lmq_round_away(_mm256_mul_ps(v[i], vid)), -127.0f, 127.0f));
    if (sum)
        *sum = lm_avx2_hsum_i32(
            _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    return lmq_pack_i8(q[0], q[1], q[2], q[3]);
}

/* Truncate v clamped to [0, 15] (all lanes finite or +-inf, never NaN) to int32. */
static inline __m256i lmq_trunc_code4(__m256 v) {
    return _mm256_cvttps_epi32(lmq_clamp(v, 0.0f, 15.0f));
}

/* ---- matmul helpers --------------------------------------------------------------------- */

/* Two Q4 nibble arrays (16 bytes each, rows A and B of the same block) ->
 * lo = [A elements 0..15 | B elements 0..15], hi = [A 16..31 | B 16..31], as bytes 0..15. */
static inline void lmq_unpack_pair(const uint8_t *qa, const uint8_t *qb, __m256i *lo, __m256i *hi) {
    __m256i v =
        _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)qa)),
                                _mm_loadu_si128((const __m128i *)qb), 1);
    const __m256i m = _mm256_set1_epi8(15);
    *lo = _mm256_and_si256(v, m);
    *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
}

/* fp16 h[0..7] of 8 W rows -> f32 in "pair order": [h0 h2 h4 h6 | h1 h3 h5 h7], so row 2p
 * sits in lane p of the low half and row 2p + 1 in lane p of the high half (lmq_pair_lane).
 * The halves are packed with integer shifts in general registers (the empty asm keeps GCC's
 * SLP pass from rebuilding them with vector shuffles, which cost more vector uops), then
 * two moves and one vcvtph2ps. */
static inline __m256 lmq_f16x8_pairs(const uint16_t h[8]) {
    uint64_t v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
    __asm__("" : "+r"(v0), "+r"(v1), "+r"(v2), "+r"(v3), "+r"(v4), "+r"(v5), "+r"(v6), "+r"(v7));
    uint64_t lo = v0 | v2 << 16 | v4 << 32 | v6 << 48, hi = v1 | v3 << 16 | v5 << 32 | v7 << 48;
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)hi, (long long)lo));
}

/* Q4_1's (d, m) pairs of 8 rows, as u32 d | m << 16 -> d and m in pair order (see above):
 * two rows per qword in general registers, one ymm of 8 dwords, a byte shuffle that gathers
 * the d halves and the m halves of each lane, a qword permute, two vcvtph2ps. */
static inline void lmq_f16x8_pairs_dm(const uint32_t dm[8], __m256 *d, __m256 *m) {
    uint64_t v0 = dm[0], v1 = dm[1], v2 = dm[2], v3 = dm[3], v4 = dm[4], v5 = dm[5], v6 = dm[6],
             v7 = dm[7];
    __asm__("" : "+r"(v0), "+r"(v1), "+r"(v2), "+r"(v3), "+r"(v4), "+r"(v5), "+r"(v6), "+r"(v7));
    /* dwords [r0 r2 r4 r6 | r1 r3 r5 r7] */
    __m256i v = _mm256_set_epi64x((long long)(v5 | v7 << 32), (long long)(v1 | v3 << 32),
                                  (long long)(v4 | v6 << 32), (long long)(v0 | v2 << 32));
    /* per lane: words [d d d d m m m m] */
    const __m256i sh = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1,
                                        4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    v = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, sh), 0xd8); /* [d0246 d1357 | m.. m..] */
    *d = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
    *m = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
}

/* fp16 h[0..7] -> f32 lanes 0..7 in row order. */
static inline __m256 lmq_f16x8(const uint16_t h[8]) {
    uint64_t v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
    __asm__("" : "+r"(v0), "+r"(v1), "+r"(v2), "+r"(v3), "+r"(v4), "+r"(v5), "+r"(v6), "+r"(v7));
    uint64_t lo = v0 | v1 << 16 | v2 << 32 | v3 << 48, hi = v4 | v5 << 16 | v6 << 32 | v7 << 48;
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)hi, (long long)lo));
}

/* Sum of 32 int8 (in [-127, 127]). */
static inline int32_t lmq_sum_i8(const int8_t *q) {
    __m256i v = _mm256_loadu_si256((const __m256i *)q);
    __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), v);
    return lm_avx2_hsum_i32(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)));
}

/* Lane index of row r in pair order. */
static inline int lmq_pair_lane(int r) { return (r & 1) * 4 + (r >> 1); }

/* Four vectors of 8 int32, p[k] holding 4 partial sums of each of two rows (low half: row 2k, high
 * half: row 2k + 1) -> one vector of their totals in pair order: low half [r0 r2 r4 r6], high half
 * [r1 r3 r5 r7]. Integer adds: exact, so the order does not matter. */
static inline __m256i lmq_reduce_pairs(const __m256i p[4]) {
    __m256i u01 =
        _mm256_add_epi32(_mm256_unpacklo_epi32(p[0], p[1]), _mm256_unpackhi_epi32(p[0], p[1]));
    __m256i u23 =
        _mm256_add_epi32(_mm256_unpacklo_epi32(p[2], p[3]), _mm256_unpackhi_epi32(p[2], p[3]));
    return _mm256_add_epi32(_mm256_unpacklo_epi64(u01, u23), _mm256_unpackhi_epi64(u01, u23));
}

/* Eight vectors of 8 int32 partial sums, one row each -> [r0 r1 ... r7] totals. */
static inline __m256i lmq_reduce_rows(const __m256i p[8]) {
    /* each 128-bit half reduces on its own: lo = [r0 r1 r2 r3 | r0 r1 r2 r3] (the low and the
     * high lanes' partials), hi the same for r4..r7; adding the halves crosswise finishes */
    __m256i lo = lmq_reduce_pairs(p), hi = lmq_reduce_pairs(p + 4);
    return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
}

/* Byte offsets of the 8 W rows of a column group from its first row: r * ldw in a full group,
 * the last real row repeated in a tail group of nrows < 8 (so the unrolled loops need no
 * branches and never read past the matrix). */
static inline __attribute__((always_inline)) void lmq_group_offsets(size_t off[8], size_t ldw,
                                                                    int nrows) {
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++)
        off[r] = (size_t)(nrows == 8 ? r : r < nrows ? r : nrows - 1) * ldw;
}

/* Block step b of a group: prefetch lines [b * lines, (b + 1) * lines) of the next group
 * (pf, pf_lines lines in all), so it is in cache when this group is done. */
static inline __attribute__((always_inline)) void
lmq_prefetch_step(const uint8_t *pf, int64_t pf_lines, int64_t b, const int lines) {
    if (b * lines >= pf_lines) return;
#pragma GCC unroll 8
    for (int l = 0; l < lines; l++)
        _mm_prefetch((const char *)pf + (b * lines + l) * 64, _MM_HINT_T0);
}

/* ---- prefill GEMM helpers (M >= LMQ_GEMM_MIN_M) ------------------------------------------ */

/* The decode kernels reduce each (x row, W row, block) dot product across lanes, which costs
 * about as much as the multiplies. The GEMM moves that reduction into a one-time repack of W:
 * a panel of 8 W rows is laid out per block as 8 vectors, vector g holding elements 4g..4g+3
 * of each of the 8 rows (dword lane r = row r). A broadcast of x's 4 bytes 4g..4g+3 against
 * vector g gives, through maddubs (+ madd), each row's partial sum in its own lane, so the 8
 * group products of a block add up lane-wise to the 8 rows' exact block sums with no
 * horizontal step. The panel is packed once per 8 W rows and reused by every x row. */
/* M from which the GEMM runs: below it, packing W costs about what it saves (measured on Zen 3:
 * even at M = 8, the GEMM about 1.2x faster at M = 12). Panels stay L1/L2-resident without
 * chunking K: tried, chunks of 32 blocks (y reloaded between chunks) ran 5-15% slower. */
#define LMQ_GEMM_MIN_M 8
#define LMQ_GEMM_MR    4 /* x rows per register tile */
#define LMQ_GEMM_NV    2 /* panels (of 8 W rows) per register tile: 4 x 16 outputs */

/* v[r] (dword g = elements 4g..4g+3 of row r) -> v[g] (dword r = the same elements of row r):
 * an 8 x 8 transpose of dwords (unpack 32, unpack 64, then swap 128-bit halves). */
static inline void lmq_transpose8_epi32(__m256i v[8]) {
    __m256i t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);     /* r r+1 dwords 0 1 | 4 5 */
        t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]); /* 2 3 | 6 7 */
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);         /* rows i..i+3, dword 0 | 4 */
        s[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);     /* 1 | 5 */
        s[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]); /* 2 | 6 */
        s[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]); /* 3 | 7 */
    }
    for (int g = 0; g < 4; g++) {
        v[g] = _mm256_permute2x128_si256(s[g], s[g + 4], 0x20);
        v[g + 4] = _mm256_permute2x128_si256(s[g], s[g + 4], 0x31);
    }
}

/* One Q4 block of 8 rows (16 nibble bytes at row r's qs: w0 + off[r]) -> 8 panel vectors of
 * codes 0..15 in the group layout above. A row's 32 codes in element order are the low
 * nibbles (0..15) then the high nibbles (16..31), which is one and + shift + insert. */
static inline __attribute__((always_inline)) void lmq_pack_q4_codes(__m256i *dst, const uint8_t *w0,
                                                                    const size_t off[8]) {
    const __m128i m = _mm_set1_epi8(15);
    __m256i v[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) {
        __m128i q = _mm_loadu_si128((const __m128i *)(w0 + off[r]));
        v[r] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
    }
    lmq_transpose8_epi32(v);
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++)
        _mm256_store_si256(dst + g, v[g]);
}

/* x bytes 4g..4g+3 of one block in every dword lane. */
static inline __m256i lmq_bcast4(const int8_t *q) {
    int32_t v;
    memcpy(&v, q, 4);
    return _mm256_set1_epi32(v);
}

/* An empty asm that claims to change v: keeps GCC from re-associating a chain of integer adds
 * into a tree, which would hold every product live at once and spill the register tile. */
static inline __m256i lmq_chain(__m256i v) {
    __asm__("" : "+x"(v));
    return v;
}

/* Store the first nr (1..8) lanes of v at y. */
static inline void lmq_store_cols(float *y, __m256 v, int nr) {
    if (nr == 8) {
        _mm256_storeu_ps(y, v);
    } else {
        float t[8];
        _mm256_storeu_ps(t, v);
        for (int r = 0; r < nr; r++)
            y[r] = t[r];
    }
}

#endif
