/* simd/avx2/quant_q4_1.c - Q4_1 rows to and from F32, AVX2.
 *
 * Contract: the same blocks and floats as ops/quant_q4_1.c, bit for bit. One block of 32 per
 * step (rows are whole blocks). Quantize: min and max are vector reductions (exact in any
 * order); only a zero can differ between orders (+0 vs -0: the sign bit of the stored m,
 * and of d = max - min when both are zero), so then the first zero element is read back, as
 * the reference's strict scans keep it. Clamping and d = (max - min) / 15 are the reference's
 * scalar code; codes are (x - min) * id + 0.5 (subtract, multiply, add: the scalar roundings),
 * clamped to [0, 15], truncated, packed two per byte. Dequantize: d * q, then + m (two roundings,
 * no FMA, as the reference). Unaligned loads and stores.
 */
#include <string.h>

#include "quant_legacy_avx2.h"

/* Min of the 8 lanes. */
static inline float hmin(__m256 v) {
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    s = _mm_min_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void lm_q4_1_from_f32_avx2(void *y, const float *x, int64_t n) {
    struct lm_block_q4_1 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        __m256 v[4];
        for (int j = 0; j < 4; j++)
            v[j] = _mm256_loadu_ps(x + 8 * j);
        if (lmq_any_nan(v)) {
            b[i].d = b[i].m = LM_F16_NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
            continue;
        }
        for (int j = 0; j < 4; j++)
            v[j] = lmq_sat(v[j]);
        float min = hmin(_mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3])));
        float max =
            lm_avx2_hmax(_mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3])));
        if (min == 0.0f || max == 0.0f) { /* +0 or -0: the reference keeps the first zero */
            float z = x[__builtin_ctz(lmq_eq_mask(v, 0.0f))];
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
        __m256 vid = _mm256_set1_ps(lm_q_inv(d)), vmin = _mm256_set1_ps(min);
        __m256 half = _mm256_set1_ps(0.5f);
        __m256i c[4];
        for (int j = 0; j < 4; j++)
            c[j] =
                lmq_trunc_code4(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[j], vmin), vid), half));
        _mm_storeu_si128((__m128i *)b[i].qs, lmq_nibbles(lmq_pack_u8(c[0], c[1], c[2], c[3])));
    }
}

void lm_q4_1_to_f32_avx2(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_1 *b = x;
    const __m128i m15 = _mm_set1_epi8(15);
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d)), m = _mm256_set1_ps(_cvtsh_ss(b[i].m));
        __m128i q = _mm_loadu_si128((const __m128i *)b[i].qs);
        __m128i lo = _mm_and_si128(q, m15), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m15);
        __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int j = 0; j < 4; j++) {
            __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[j]));
            _mm256_storeu_ps(y + 8 * j, _mm256_add_ps(_mm256_mul_ps(d, f), m));
        }
    }
}
