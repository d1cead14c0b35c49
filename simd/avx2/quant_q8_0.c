/* simd/avx2/quant_q8_0.c - Q8_0 rows to and from F32, and the 8-bit activation rows (prep) that
 * the Q8_0 / Q4_0 matmuls read (lm_block_q8x) and the Q4_1 one reads (lm_block_q8xs), AVX2.
 *
 * Contract: the same blocks and floats as the references in ops/quant_q8_0.c, bit for bit.
 * One block of 32 per step (rows are whole blocks; no tails). The amax is a vector max (exact
 * in any order), d = amax / 127 and 1/d are the reference's scalar expressions, codes are
 * round-half-away(x * id) rebuilt from truncation (lmq_round_away), clamped, packed to int8.
 * Dequantize: int8 -> int32 -> f32, times d (one rounding, as the reference). Unaligned loads.
 */
#include <string.h>

#include "quant_legacy_avx2.h"

static inline void load_block(__m256 v[4], const float *x) {
    for (int i = 0; i < 4; i++)
        v[i] = _mm256_loadu_ps(x + 8 * i);
}

static inline float amax4(const __m256 v[4]) {
    __m256 m = _mm256_max_ps(_mm256_max_ps(lmq_abs(v[0]), lmq_abs(v[1])),
                             _mm256_max_ps(lmq_abs(v[2]), lmq_abs(v[3])));
    return lm_avx2_hmax(m);
}

void lm_q8_0_from_f32_avx2(void *y, const float *x, int64_t n) {
    struct lm_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        __m256 v[4];
        load_block(v, x);
        if (lmq_any_nan(v)) {
            b[i].d = LM_F16_NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
            continue;
        }
        for (int j = 0; j < 4; j++)
            v[j] = lmq_sat(v[j]);
        float d = amax4(v) / 127.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_si256((__m256i *)b[i].qs, lmq_codes_q8(v, lm_q_inv(d), NULL));
    }
}

void lm_q8_0_to_f32_avx2(float *y, const void *x, int64_t n) {
    const struct lm_block_q8_0 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
        for (int j = 0; j < 4; j++) {
            __m128i q = _mm_loadl_epi64((const __m128i *)(b[i].qs + 8 * j));
            _mm256_storeu_ps(y + 8 * j,
                             _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
        }
    }
}

/* One activation block: d, or NaN with zero codes when a value is NaN or infinite. */
static inline float prep_block(int8_t *q, const float *x, int32_t *sum) {
    __m256 v[4];
    load_block(v, x);
    __m256 a[4], big = _mm256_set1_ps(LMQ_FLT_MAX);
    for (int j = 0; j < 4; j++)
        a[j] = lmq_abs(v[j]);
    __m256 bad = _mm256_or_ps(
        _mm256_or_ps(_mm256_cmp_ps(a[0], big, _CMP_NLE_UQ), _mm256_cmp_ps(a[1], big, _CMP_NLE_UQ)),
        _mm256_or_ps(_mm256_cmp_ps(a[2], big, _CMP_NLE_UQ), _mm256_cmp_ps(a[3], big, _CMP_NLE_UQ)));
    if (_mm256_movemask_ps(bad)) {
        memset(q, 0, LM_QK);
        if (sum) *sum = 0;
        return __builtin_nanf("");
    }
    float amax = lm_avx2_hmax(_mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3])));
    float d = amax / 127.0f;
    _mm256_storeu_si256((__m256i *)q, lmq_codes_q8(v, lm_q_inv(d), sum));
    return d;
}

void lm_prep_q8x_avx2(void *dst, const float *x, int64_t K) {
    struct lm_block_q8x *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++)
        b[i].d = prep_block(b[i].qs, x + i * LM_QK, NULL);
}

void lm_prep_q8xs_avx2(void *dst, const float *x, int64_t K) {
    struct lm_block_q8xs *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++) {
        int32_t sum;
        b[i].d = prep_block(b[i].qs, x + i * LM_QK, &sum);
        b[i].s = b[i].d * (float)sum;
    }
}
