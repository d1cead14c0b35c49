/* simd/neon/quant_q8_0.c - Q8_0 rows to and from F32, and the 8-bit activation rows (prep) that
 * the Q8_0 / Q4_0 matmuls read (lm_block_q8x) and the Q4_1 one reads (lm_block_q8xs), NEON.
 *
 * Contract: the same blocks and floats as the references in ops/quant_q8_0.c, bit for bit. One
 * block of 32 per step (rows are whole blocks; no tails), eight 4-float vectors. The amax is a
 * vector max (exact in any order; vmaxvq_f32 across the lanes), d = amax / 127 and 1/d are the
 * reference's scalar expressions, codes are round-half-away(x * id) rebuilt from truncation
 * (lmq_neon_round_away), clamped, converted and narrowed to int8. The fp16 scale goes through
 * the reference's own lm_f32_to_f16 (once per 32 values), so NaN payloads and ties match too.
 * Dequantize: int8 -> int32 -> f32, times d (one rounding, as the reference; d converted by
 * lm_f16_to_f32 so every half, signalling NaNs included, gives the reference's f32).
 */
#include "quant_neon.h"

/* Codes round(v * id) clamped to [-127, 127], as 32 int8 (q0: 0..15, q1: 16..31). */
static inline void codes(int8x16_t *q0, int8x16_t *q1, const float32x4_t v[8], float id) {
    const float32x4_t vid = vdupq_n_f32(id);
    int32x4_t c[8];
    for (int j = 0; j < 8; j++)
        c[j] = vcvtq_s32_f32(
            lmq_neon_clamp(lmq_neon_round_away(vmulq_f32(v[j], vid)), -127.0f, 127.0f));
    *q0 = lmq_neon_narrow_i8(c[0], c[1], c[2], c[3]);
    *q1 = lmq_neon_narrow_i8(c[4], c[5], c[6], c[7]);
}

static inline float amax8(const float32x4_t v[8]) {
    float32x4_t m = vabsq_f32(v[0]);
    for (int j = 1; j < 8; j++)
        m = vmaxq_f32(m, vabsq_f32(v[j]));
    return vmaxvq_f32(m);
}

void lm_q8_0_from_f32_neon(void *y, const float *x, int64_t n) {
    struct lm_block_q8_0 *b = y;
    const float32x4_t big = vdupq_n_f32(LMQ_NEON_FLT_MAX);
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        float32x4_t v[8];
        lmq_neon_load32(v, x);
        if (lmq_neon_any_nan(v)) {
            b[i].d = LM_F16_NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
            continue;
        }
        for (int j = 0; j < 8; j++) /* +-inf -> +-FLT_MAX (no NaN left) */
            v[j] = vmaxq_f32(vminq_f32(v[j], big), vnegq_f32(big));
        float d = amax8(v) / 127.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        b[i].d = lm_f32_to_f16(d);
        int8x16_t q0, q1;
        codes(&q0, &q1, v, lm_q_inv(d));
        vst1q_s8(b[i].qs, q0);
        vst1q_s8(b[i].qs + 16, q1);
    }
}

void lm_q8_0_to_f32_neon(float *y, const void *x, int64_t n) {
    const struct lm_block_q8_0 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        const float32x4_t d = vdupq_n_f32(lm_f16_to_f32(b[i].d));
        for (int h = 0; h < 2; h++) {
            float32x4_t f[4];
            lmq_neon_i8_to_f32(f, vld1q_s8(b[i].qs + 16 * h));
            for (int j = 0; j < 4; j++)
                vst1q_f32(y + 16 * h + 4 * j, vmulq_f32(d, f[j]));
        }
    }
}

/* One activation block: d, or NaN with zero codes when a value is NaN or infinite; *sum gets
 * the codes' sum when sum is not NULL. */
static inline float prep_block(int8_t *q, const float *x, int32_t *sum) {
    float32x4_t v[8];
    lmq_neon_load32(v, x);
    /* |v| <= FLT_MAX fails for NaN and inf alike */
    uint32x4_t ok = vcleq_f32(vabsq_f32(v[0]), vdupq_n_f32(LMQ_NEON_FLT_MAX));
    for (int j = 1; j < 8; j++)
        ok = vandq_u32(ok, vcleq_f32(vabsq_f32(v[j]), vdupq_n_f32(LMQ_NEON_FLT_MAX)));
    if (vminvq_u32(ok) == 0) {
        memset(q, 0, LM_QK);
        if (sum) *sum = 0;
        return __builtin_nanf("");
    }
    float d = amax8(v) / 127.0f;
    int8x16_t q0, q1;
    codes(&q0, &q1, v, lm_q_inv(d));
    vst1q_s8(q, q0);
    vst1q_s8(q + 16, q1);
    if (sum) *sum = vaddlvq_s8(q0) + vaddlvq_s8(q1);
    return d;
}

void lm_prep_q8x_neon(void *dst, const float *x, int64_t K) {
    struct lm_block_q8x *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++)
        b[i].d = prep_block(b[i].qs, x + i * LM_QK, NULL);
}

void lm_prep_q8xs_neon(void *dst, const float *x, int64_t K) {
    struct lm_block_q8xs *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++) {
        int32_t sum;
        b[i].d = prep_block(b[i].qs, x + i * LM_QK, &sum);
        b[i].s = b[i].d * (float)sum;
    }
}
