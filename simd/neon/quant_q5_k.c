/* simd/neon/quant_q5_k.c - Q5_K dequantizer (to_f32), NEON. Layout: simd/quant_k.h.
 *
 * As Q4_K (simd/neon/quant_q4_k.c), plus the fifth bit: qh (32 bytes, two loads per
 * super-block) holds bit j of value l of sub-block j in qh[l]. For the sub-block pair
 * (2c, 2c+1), bits 0 and 1 of qh are moved to bit 4 (byte shifts left by 4 and 3) and masked,
 * OR-ed onto the nibbles, and qh shifts right by 2 for the next pair. Output bit-identical to
 * lm_q5_k_to_f32_ref (same multiply, then subtract). Unaligned; whole super-blocks only.
 */
#include "quant_k_neon.h"

void lm_q5_k_to_f32_neon(float *y, const void *x, int64_t n) {
    const struct lm_block_q5_k *b = x;
    const uint8x16_t low4 = vdupq_n_u8(15), bit4 = vdupq_n_u8(16);
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        const float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        uint8x16_t qh[2] = {vld1q_u8(b->qh), vld1q_u8(b->qh + 16)};
        for (int c = 0; c < 4; c++) {
            const float d1 = d * sm[2 * c], m1 = dmin * sm[8 + 2 * c];
            const float d2 = d * sm[2 * c + 1], m2 = dmin * sm[9 + 2 * c];
            for (int h = 0; h < 2; h++) {
                const uint8x16_t q = vld1q_u8(b->qs + 32 * c + 16 * h);
                uint8x16_t lo = vorrq_u8(vandq_u8(q, low4), vandq_u8(vshlq_n_u8(qh[h], 4), bit4));
                uint8x16_t hi = vorrq_u8(vshrq_n_u8(q, 4), vandq_u8(vshlq_n_u8(qh[h], 3), bit4));
                qh[h] = vshrq_n_u8(qh[h], 2);
                lmk_neon_store16_asym(y + 64 * c + 16 * h, lo, d1, m1);
                lmk_neon_store16_asym(y + 64 * c + 32 + 16 * h, hi, d2, m2);
            }
        }
    }
}
