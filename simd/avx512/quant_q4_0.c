/* simd/avx512/quant_q4_0.c - Q4_0 rows to and from F32, AVX-512.
 *
 * Contract: the same blocks and floats as ops/quant_q4_0.c, bit for bit, as the AVX2 twin. One
 * block of 32 per step in two zmm (rows are whole blocks). Quantize: the largest magnitude is a
 * vector max; the element that carries it (the first one, as the reference's strict "<" scan
 * keeps) is found from a compare mask and its signed value read back, so d = max / -8 is the
 * reference's. Codes are x * id + 8.5 (multiply, then add: two roundings as in the scalar code),
 * clamped to [0, 15], truncated (vrndscaleps), narrowed and packed two per byte. Dequantize:
 * nibbles -> bytes - 8 -> int32 -> f32, times d. Unaligned loads and stores.
 */
#include "quant_legacy_avx512.h"

void lm_q4_0_from_f32_avx512(void *y, const float *x, int64_t n) {
    struct lm_block_q4_0 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        __m512 v[2] = {_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)};
        if (lmqz_any_nan(v)) {
            b[i].d = LM_F16_NAN;
            memset(b[i].qs, 0x88, sizeof b[i].qs);
            continue;
        }
        v[0] = lmqz_sat(v[0]), v[1] = lmqz_sat(v[1]);
        __m512 a[2] = {lmqz_abs(v[0]), lmqz_abs(v[1])};
        float amax = lmqz_hmax(_mm512_max_ps(a[0], a[1]));
        float max = 0.0f; /* all-zero block: +0, so d = -0 as the reference writes it */
        if (amax > 0.0f) max = lm_q_sat(x[__builtin_ctz(lmqz_eq_mask(a, amax))]);
        float d = max / -8.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        if (d < -LM_F16_SAT) d = -LM_F16_SAT;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        __m512 vid = _mm512_set1_ps(lm_q_inv(d)), off = _mm512_set1_ps(8.5f);
        __m512 c[2];
        for (int j = 0; j < 2; j++)
            c[j] = _mm512_roundscale_ps(
                lmqz_clamp(_mm512_add_ps(_mm512_mul_ps(v[j], vid), off), 0.0f, 15.0f), LMQZ_TRUNC);
        _mm_storeu_si128((__m128i *)b[i].qs, lmqz_nibbles(c[0], c[1]));
    }
}

void lm_q4_0_to_f32_avx512(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_0 *b = x;
    const __m128i m15 = _mm_set1_epi8(15), m8 = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
        __m128i q = _mm_loadu_si128((const __m128i *)b[i].qs);
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m15), m8); /* elements 0..15 */
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m15), m8); /* 16..31 */
        _mm512_storeu_ps(y, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo))));
        _mm512_storeu_ps(y + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi))));
    }
}
