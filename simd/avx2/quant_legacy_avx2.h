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

/* Four fp16 values (u16 at p0..p3) -> f32 lanes 0..3 of an __m128. */
static inline __m128 lmq_f16x4(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
    uint64_t v = (uint64_t)h0 | (uint64_t)h1 << 16 | (uint64_t)h2 << 32 | (uint64_t)h3 << 48;
    return _mm_cvtph_ps(_mm_cvtsi64_si128((long long)v));
}

/* Sum of the four lanes of one 128-bit half, in one fixed order (so every tile shape that
 * holds a row in either half sums it identically): (l0 + l2) + (l1 + l3). */
static inline float lmq_hsum4(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
