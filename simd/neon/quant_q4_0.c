/* simd/neon/quant_q4_0.c - Q4_0 rows to and from F32, NEON.
 *
 * Contract: the same blocks and floats as ops/quant_q4_0.c, bit for bit. One block of 32 per
 * step (rows are whole blocks), eight 4-float vectors. Quantize: the largest magnitude is a
 * vector max; the element that carries it (the first one, as the reference's strict "<" scan
 * keeps) is found from a compare mask (lmq_neon_first32) and its signed value read back, so
 * d = max / -8 is the reference's. Codes are x * id + 8.5 (multiply, then add: two roundings
 * as in the scalar code), clamped to [0, 15], truncated, and packed two per byte (element j
 * low nibble, j + 16 high). Dequantize: nibbles -> int8 - 8 -> int32 -> f32, times d.
 * Scales go through the reference's lm_f32_to_f16 / lm_f16_to_f32 (once per 32 values).
 * Unaligned loads and stores.
 */
#include "quant_neon.h"

void lm_q4_0_from_f32_neon(void *y, const float *x, int64_t n) {
    struct lm_block_q4_0 *b = y;
    const float32x4_t big = vdupq_n_f32(LMQ_NEON_FLT_MAX);
    for (int64_t i = 0; i < n / LM_QK; i++, x += LM_QK) {
        float32x4_t v[8], a[8];
        lmq_neon_load32(v, x);
        if (lmq_neon_any_nan(v)) {
            b[i].d = LM_F16_NAN;
            memset(b[i].qs, 0x88, sizeof b[i].qs);
            continue;
        }
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int j = 0; j < 8; j++) {
            v[j] = vmaxq_f32(vminq_f32(v[j], big), vnegq_f32(big)); /* +-inf -> +-FLT_MAX */
            a[j] = vabsq_f32(v[j]);
            m = vmaxq_f32(m, a[j]);
        }
        const float amax = vmaxvq_f32(m);
        float max = 0.0f; /* all-zero block: +0, so d = -0 as the reference writes it */
        if (amax > 0.0f) {
            uint32x4_t eq[8];
            for (int j = 0; j < 8; j++)
                eq[j] = vceqq_f32(a[j], vdupq_n_f32(amax));
            max = lm_q_sat(x[lmq_neon_first32(eq)]);
        }
        float d = max / -8.0f;
        if (d > LM_F16_SAT) d = LM_F16_SAT;
        if (d < -LM_F16_SAT) d = -LM_F16_SAT;
        b[i].d = lm_f32_to_f16(d);
        const float32x4_t vid = vdupq_n_f32(lm_q_inv(d)), off = vdupq_n_f32(8.5f);
        uint32x4_t c[8];
        for (int j = 0; j < 8; j++)
            c[j] = vcvtq_u32_f32(lmq_neon_clamp(vaddq_f32(vmulq_f32(v[j], vid), off), 0.0f, 15.0f));
        uint8x16_t lo = vreinterpretq_u8_s8(
            lmq_neon_narrow_i8(vreinterpretq_s32_u32(c[0]), vreinterpretq_s32_u32(c[1]),
                               vreinterpretq_s32_u32(c[2]), vreinterpretq_s32_u32(c[3])));
        uint8x16_t hi = vreinterpretq_u8_s8(
            lmq_neon_narrow_i8(vreinterpretq_s32_u32(c[4]), vreinterpretq_s32_u32(c[5]),
                               vreinterpretq_s32_u32(c[6]), vreinterpretq_s32_u32(c[7])));
        vst1q_u8(b[i].qs, vorrq_u8(lo, vshlq_n_u8(hi, 4)));
    }
}

void lm_q4_0_to_f32_neon(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_0 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        const float32x4_t d = vdupq_n_f32(lm_f16_to_f32(b[i].d));
        const uint8x16_t q = vld1q_u8(b[i].qs);
        const int8x16_t h[2] = {
            vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15))), vdupq_n_s8(8)), /* 0..15 */
            vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8))};           /* 16..31 */
        for (int k = 0; k < 2; k++) {
            float32x4_t f[4];
            lmq_neon_i8_to_f32(f, h[k]);
            for (int j = 0; j < 4; j++)
                vst1q_f32(y + 16 * k + 4 * j, vmulq_f32(d, f[j]));
        }
    }
}
