/* simd/neon/quant_k_neon.h - NEON helpers shared by the K-quant dequantizers and matmuls
 * (simd/neon/{quant,matmul}_q{4,5,6}_k*.c): the 16-value store of the Q4_K/Q5_K dequantizers
 * and the Q6_K code unpacking. Exact, like every helper of quant_neon.h.
 */
#ifndef LMRT_SIMD_NEON_QUANT_K_H
#define LMRT_SIMD_NEON_QUANT_K_H

#include "quant_neon.h"

/* y[i] = d*q[i] - m for 16 unsigned codes q, as a multiply then a subtract (not an FMA): the
 * IEEE operations of the reference, so the output is bit-identical. */
static inline void lmk_neon_store16_asym(float *y, uint8x16_t q, float d, float m) {
    const float32x4_t vd = vdupq_n_f32(d), vm = vdupq_n_f32(m);
    float32x4_t f[4];
    lmq_neon_u8_to_f32(f, q);
    for (int j = 0; j < 4; j++)
        vst1q_f32(y + 4 * j, vsubq_f32(vmulq_f32(vd, f[j]), vm));
}

/* Q6_K codes 0..63 (offset 32 not removed) of 16 consecutive l of the four runs of one half
 * super-block: ql points at ql[64h + l0], qh at qh[32h + l0]. v[k] holds values
 * 128h + 32k + l0 .. +15: the low nibble (runs 0, 1) or high nibble (runs 2, 3) of ql[l] or
 * ql[l + 32], with bits 2k, 2k+1 of qh[l] moved to bits 4-5 by byte shifts and a mask. */
static inline void lmk_neon_q6_codes(int8x16_t v[4], const uint8_t *ql, const uint8_t *qh) {
    const uint8x16_t low4 = vdupq_n_u8(15), bits45 = vdupq_n_u8(0x30);
    const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 32), h = vld1q_u8(qh);
    v[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, low4), vandq_u8(vshlq_n_u8(h, 4), bits45)));
    v[1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, low4), vandq_u8(vshlq_n_u8(h, 2), bits45)));
    v[2] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(h, bits45)));
    v[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(h, 2), bits45)));
}

#endif
