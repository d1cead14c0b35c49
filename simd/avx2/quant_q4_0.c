/* simd/avx2/quant_q4_0.c - Q4_0 rows to and from F32, AVX2.
 *
 * Contract: the same blocks and floats as ops/quant_q4_0.c, bit for bit. One block of 32 per
 * step (rows are whole blocks). Quantize: the largest magnitude is a vector max; the element
 * that carries it (the first one, as the reference's strict "<" scan keeps) is found from a
 * compare mask and its signed value read back, so d = max / -8 is the reference's. Codes are
 * x * id + 8.5 (multiply, then add: two roundings as in the scalar code), clamped to [0, 15],
 * truncated, packed two per byte. Dequantize: nibbles -> bytes - 8 -> int32 -> f32, times d.
 * Unaligned loads and stores.
 */
#include <string.h>

#include "quant_legacy_avx2.h"

void lm_q4_0_from_f32_avx2(void *y, const float *x, int64_t n) {
    struct lm_block_q4_0 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        __m256 v[4];
        for (int j = 0; j < 4; j++)
            v[j] = _mm256_loadu_ps(x + 8 * j);
        if (lmq_any_nan(v)) {
            b[i].d = LM_F16_NAN;
            memset(b[i].qs, 0x88, sizeof b[i].qs);
            continue;
        }
        __m256 a[4];
        for (int j = 0; j < 4; j++) {
            v[j] = lmq_sat(v[j]);
            a[j] = lmq_abs(v[j]);
        }
        float amax =
            lm_avx2_hmax(_mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3])));
        float max = 0.0f; /* all-zero block: +0, so d = -0 as the reference writes it */
        if (amax > 0.0f) max = lm_q_sat(x[__builtin_ctz(lmq_eq_mask(a, amax))]);
        float d = max / -8.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        if (d < -LM_F16_SAT) d = -LM_F16_SAT;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        __m256 vid = _mm256_set1_ps(lm_q_inv(d)), off = _mm256_set1_ps(8.5f);
        __m256i c[4];
        for (int j = 0; j < 4; j++)
            c[j] = lmq_trunc_code4(_mm256_add_ps(_mm256_mul_ps(v[j], vid), off));
        _mm_storeu_si128((__m128i *)b[i].qs, lmq_nibbles(lmq_pack_u8(c[0], c[1], c[2], c[3])));
    }
}

void lm_q4_0_to_f32_avx2(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_0 *b = x;
    const __m128i m15 = _mm_set1_epi8(15), m8 = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
        __m128i q = _mm_loadu_si128((const __m128i *)b[i].qs);
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m15), m8); /* elements 0..15 */
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m15), m8); /* 16..31 */
        __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int j = 0; j < 4; j++)
            _mm256_storeu_ps(y + 8 * j,
                             _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[j]))));
    }
}
