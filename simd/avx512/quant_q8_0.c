/* simd/avx512/quant_q8_0.c - Q8_0 rows to and from F32, and the 8-bit activation rows (prep) that
 * the Q8_0 / Q4_0 matmuls read (lm_block_q8x) and the Q4_1 one reads (lm_block_q8xs), AVX-512.
 *
 * Contract: the same blocks and floats as the references in ops/quant_q8_0.c, bit for bit, as
 * the AVX2 twin. One block of 32 per step in two zmm (rows are whole blocks: no tails). The amax
 * is a vector max (exact in any order), d = amax / 127 and 1/d are the reference's scalar
 * expressions, codes are round-half-away(x * id) rebuilt from truncation (lmqz_round_away:
 * vrndscaleps toward zero, a compare mask, a masked add), clamped, converted and narrowed with
 * vpmovsdb. Dequantize: int8 -> int32 -> f32 (vpmovsxbd, vcvtdq2ps), times d (one rounding, as
 * the reference). Unaligned loads and stores.
 */
#include "quant_legacy_avx512.h"

static inline void load_block(__m512 v[2], const float *x) {
    v[0] = _mm512_loadu_ps(x);
    v[1] = _mm512_loadu_ps(x + 16);
}

/* 32 codes round(v * id) clamped to [-127, 127] -> q; *sum gets their sum if non-NULL. */
static inline void codes_q8(int8_t *q, const __m512 v[2], float id, int32_t *sum) {
    __m512 vid = _mm512_set1_ps(id);
    __m512i c[2];
    for (int i = 0; i < 2; i++) {
        __m512 r = lmqz_clamp(lmqz_round_away(_mm512_mul_ps(v[i], vid)), -127.0f, 127.0f);
        c[i] = _mm512_cvtps_epi32(r);
        _mm_storeu_si128((__m128i *)(q + 16 * i), _mm512_cvtsepi32_epi8(c[i]));
    }
    if (sum) *sum = lmqz_hsum_i32(_mm512_add_epi32(c[0], c[1]));
}

void lm_q8_0_from_f32_avx512(void *y, const float *x, int64_t n) {
    struct lm_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        __m512 v[2];
        load_block(v, x);
        if (lmqz_any_nan(v)) {
            b[i].d = LM_F16_NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
            continue;
        }
        v[0] = lmqz_sat(v[0]), v[1] = lmqz_sat(v[1]);
        float d = lmqz_hmax(_mm512_max_ps(lmqz_abs(v[0]), lmqz_abs(v[1]))) / 127.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        codes_q8(b[i].qs, v, lm_q_inv(d), NULL);
    }
}

void lm_q8_0_to_f32_avx512(float *y, const void *x, int64_t n) {
    const struct lm_block_q8_0 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
        for (int j = 0; j < 2; j++) {
            __m128i q = _mm_loadu_si128((const __m128i *)(b[i].qs + 16 * j));
            _mm512_storeu_ps(y + 16 * j,
                             _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q))));
        }
    }
}

/* One activation block: d, or NaN with zero codes when a value is NaN or infinite. */
static inline float prep_block(int8_t *q, const float *x, int32_t *sum) {
    __m512 v[2];
    load_block(v, x);
    __m512 a0 = lmqz_abs(v[0]), a1 = lmqz_abs(v[1]), big = _mm512_set1_ps(LMQ_FLT_MAX);
    /* not (|x| <= FLT_MAX): NaN or inf */
    if (_mm512_cmp_ps_mask(a0, big, _CMP_NLE_UQ) | _mm512_cmp_ps_mask(a1, big, _CMP_NLE_UQ)) {
        memset(q, 0, LM_QK);
        if (sum) *sum = 0;
        return __builtin_nanf("");
    }
    float d = lmqz_hmax(_mm512_max_ps(a0, a1)) / 127.0f;
    codes_q8(q, v, lm_q_inv(d), sum);
    return d;
}

void lm_prep_q8x_avx512(void *dst, const float *x, int64_t K) {
    struct lm_block_q8x *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++)
        b[i].d = prep_block(b[i].qs, x + i * LM_QK, NULL);
}

void lm_prep_q8xs_avx512(void *dst, const float *x, int64_t K) {
    struct lm_block_q8xs *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++) {
        int32_t sum;
        b[i].d = prep_block(b[i].qs, x + i * LM_QK, &sum);
        b[i].s = b[i].d * (float)sum;
    }
}
