/* simd/avx512/quant_q4_1.c - Q4_1 rows to and from F32, AVX-512.
 *
 * Contract: the same blocks and floats as ops/quant_q4_1.c, bit for bit, as the AVX2 twin. One
 * block of 32 per step in two zmm (rows are whole blocks). Quantize: min and max are vector
 * reductions (exact in any order); only a zero can differ between orders (+0 vs -0: the sign
 * bit of the stored m, and of d = max - min when both are zero), so then the first zero element
 * is read back, as the reference's strict scans keep it. Clamping and d = (max - min) / 15 are
 * the reference's scalar code; codes are (x - min) * id + 0.5 (subtract, multiply, add: the
 * scalar roundings), clamped to [0, 15], truncated, packed two per byte. Dequantize: d * q, then
 * + m (two roundings, no FMA, as the reference). Unaligned loads and stores.
 */
#include "quant_legacy_avx512.h"

void lm_q4_1_from_f32_avx512(void *y, const float *x, int64_t n) {
    struct lm_block_q4_1 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        __m512 v[2] = {_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)};
        if (lmqz_any_nan(v)) {
            b[i].d = b[i].m = LM_F16_NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
            continue;
        }
        v[0] = lmqz_sat(v[0]), v[1] = lmqz_sat(v[1]);
        float min = lmqz_hmin(_mm512_min_ps(v[0], v[1]));
        float max = lmqz_hmax(_mm512_max_ps(v[0], v[1]));
        if (min == 0.0f || max == 0.0f) { /* +0 or -0: the reference keeps the first zero */
            float z = x[__builtin_ctz(lmqz_eq_mask(v, 0.0f))];
            if (min == 0.0f) min = z;
            if (max == 0.0f) max = z;
        }
        if (min < -LM_F16_SAT) min = -LM_F16_SAT;
        if (min > LM_F16_SAT) min = LM_F16_SAT;
        if (max < min) max = min;
        float d = (max - min) / 15.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        b[i].m = _cvtss_sh(min, _MM_FROUND_TO_NEAREST_INT);
        __m512 vid = _mm512_set1_ps(lm_q_inv(d)), vmin = _mm512_set1_ps(min);
        __m512 half = _mm512_set1_ps(0.5f);
        __m512 c[2];
        for (int j = 0; j < 2; j++)
            c[j] = _mm512_roundscale_ps(
                lmqz_clamp(_mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(v[j], vmin), vid), half), 0.0f,
                           15.0f),
                LMQZ_TRUNC);
        _mm_storeu_si128((__m128i *)b[i].qs, lmqz_nibbles(c[0], c[1]));
    }
}

void lm_q4_1_to_f32_avx512(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_1 *b = x;
    const __m128i m15 = _mm_set1_epi8(15);
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d)), m = _mm512_set1_ps(_cvtsh_ss(b[i].m));
        __m128i q = _mm_loadu_si128((const __m128i *)b[i].qs);
        __m128i lo = _mm_and_si128(q, m15), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m15);
        __m512 f0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo));
        __m512 f1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi));
        _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(d, f0), m));
        _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(d, f1), m));
    }
}
