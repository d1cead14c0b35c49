/* simd/neon/quant_q4_1.c - Q4_1 rows to and from F32, NEON.
 *
 * Contract: the same blocks and floats as ops/quant_q4_1.c, bit for bit. One block of 32 per
 * step (rows are whole blocks), eight 4-float vectors. Quantize: min and max are vector
 * reductions (exact in any order); only a zero can differ between orders (+0 vs -0: the sign
 * bit of the stored m, and of d = max - min when both are zero), so then the first zero
 * element is read back (lmq_neon_first32), as the reference's strict scans keep it. Clamping
 * and d = (max - min) / 15 are the reference's scalar code; codes are (x - min) * id + 0.5
 * (subtract, multiply, add: the scalar roundings), clamped to [0, 15], truncated, packed two
 * per byte. Dequantize: d * q, then + m (two roundings, no FMA, as the reference). Scales go
 * through the reference's lm_f32_to_f16 / lm_f16_to_f32. Unaligned loads and stores.
 */
#include "quant_neon.h"

void lm_q4_1_from_f32_neon(void *y, const float *x, int64_t n) {
    struct lm_block_q4_1 *b = y;
    const float32x4_t big = vdupq_n_f32(LMQ_NEON_FLT_MAX);
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        float32x4_t v[8];
        lmq_neon_load32(v, x);
        if (lmq_neon_any_nan(v)) {
            b[i].d = b[i].m = LM_F16_NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
            continue;
        }
        for (int j = 0; j < 8; j++) /* +-inf -> +-FLT_MAX */
            v[j] = vmaxq_f32(vminq_f32(v[j], big), vnegq_f32(big));
        float32x4_t lo4 = v[0], hi4 = v[0];
        for (int j = 1; j < 8; j++) {
            lo4 = vminq_f32(lo4, v[j]);
            hi4 = vmaxq_f32(hi4, v[j]);
        }
        float min = vminvq_f32(lo4), max = vmaxvq_f32(hi4);
        if (min == 0.0f || max == 0.0f) { /* +0 or -0: the reference keeps the first zero */
            uint32x4_t z[8];
            for (int j = 0; j < 8; j++)
                z[j] = vceqq_f32(v[j], vdupq_n_f32(0.0f));
            float zero = x[lmq_neon_first32(z)];
            if (min == 0.0f) min = zero;
            if (max == 0.0f) max = zero;
        }
        if (min < -LM_F16_SAT) min = -LM_F16_SAT;
        if (min > LM_F16_SAT) min = LM_F16_SAT;
        if (max < min) max = min;
        float d = (max - min) / 15.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        b[i].d = lm_f32_to_f16(d);
        b[i].m = lm_f32_to_f16(min);
        const float32x4_t vid = vdupq_n_f32(lm_q_inv(d)), vmin = vdupq_n_f32(min);
        const float32x4_t half = vdupq_n_f32(0.5f);
        int32x4_t c[8];
        for (int j = 0; j < 8; j++)
            c[j] = vreinterpretq_s32_u32(vcvtq_u32_f32(lmq_neon_clamp(
                vaddq_f32(vmulq_f32(vsubq_f32(v[j], vmin), vid), half), 0.0f, 15.0f)));
        uint8x16_t q0 = vreinterpretq_u8_s8(lmq_neon_narrow_i8(c[0], c[1], c[2], c[3]));
        uint8x16_t q1 = vreinterpretq_u8_s8(lmq_neon_narrow_i8(c[4], c[5], c[6], c[7]));
        vst1q_u8(b[i].qs, vorrq_u8(q0, vshlq_n_u8(q1, 4)));
    }
}

void lm_q4_1_to_f32_neon(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_1 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        const float32x4_t d = vdupq_n_f32(lm_f16_to_f32(b[i].d));
        const float32x4_t m = vdupq_n_f32(lm_f16_to_f32(b[i].m));
        const uint8x16_t q = vld1q_u8(b[i].qs);
        const uint8x16_t h[2] = {vandq_u8(q, vdupq_n_u8(15)), vshrq_n_u8(q, 4)};
        for (int k = 0; k < 2; k++) {
            float32x4_t f[4];
            lmq_neon_u8_to_f32(f, h[k]);
            for (int j = 0; j < 4; j++)
                vst1q_f32(y + 16 * k + 4 * j, vaddq_f32(vmulq_f32(d, f[j]), m));
        }
    }
}
