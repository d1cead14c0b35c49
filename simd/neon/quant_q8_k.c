/* simd/neon/quant_q8_k.c - Q8_K activation prep for the K-quant matmuls, NEON.
 *
 * Contract (ops/matmul_k.c, lm_q8_k_prep_ref): per 256 floats, d = max|x| / 127 and
 * q = round-to-nearest-even(x * (127 / max|x|)) clamped to [-127, 127], bsums = sums of each 16
 * q; a block with max|x| < 1e-30 is all zero; a block with a NaN gets d = NaN. The bytes equal
 * the reference's: NaN lanes are zeroed before the max (the scalar compare ignores them; a
 * signalling NaN would otherwise poison vmaxq), so the max is exact in any order; the scale is
 * one scalar division, the product one vmulq, the clamp vminnmq/vmaxnmq (a NaN product takes
 * the bound, as the scalar code's compares do), the rounding vrndnq (ties to even, lrintf's
 * default mode), and the sums exact in int16 (|sum| <= 16 * 127).
 * Per 16 values: four 4-float vectors, narrowed to int16 then int8. Unaligned; K % 256 == 0.
 */
#include "quant_neon.h"

void lm_q8_k_prep_neon(void *dst, const float *x, int64_t K) {
    struct lm_block_q8_k *b = dst;
    const float32x4_t hi = vdupq_n_f32(127.0f), lo = vdupq_n_f32(-127.0f);
    for (int64_t i = 0; i < K / LM_QK_K; i++, b++, x += LM_QK_K) {
        float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0;
        uint32x4_t ok = vdupq_n_u32(~0u);
        for (int l = 0; l < LM_QK_K; l += 8) {
            const float32x4_t a = vld1q_f32(x + l), c = vld1q_f32(x + l + 4);
            const uint32x4_t ea = vceqq_f32(a, a), ec = vceqq_f32(c, c); /* false for NaN */
            ok = vandq_u32(ok, vandq_u32(ea, ec));
            m0 = vmaxq_f32(
                m0, vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vabsq_f32(a)), ea)));
            m1 = vmaxq_f32(
                m1, vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vabsq_f32(c)), ec)));
        }
        const float amax = vmaxvq_f32(vmaxq_f32(m0, m1));
        const int nan = vminvq_u32(ok) == 0;
        if (!(amax >= 1e-30f)) {
            memset(b, 0, sizeof *b);
            if (nan) b->d = NAN;
            continue;
        }
        const float32x4_t id = vdupq_n_f32(127.0f / amax);
        b->d = amax / 127.0f;
        for (int g = 0; g < 16; g++) {
            int32x4_t v[4];
            for (int k = 0; k < 4; k++) {
                float32x4_t f = vmulq_f32(vld1q_f32(x + 16 * g + 4 * k), id);
                f = vmaxnmq_f32(vminnmq_f32(f, hi), lo);
                v[k] = vcvtq_s32_f32(vrndnq_f32(f));
            }
            const int16x8_t p0 = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
            const int16x8_t p1 = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
            vst1q_s8(b->qs + 16 * g, vcombine_s8(vmovn_s16(p0), vmovn_s16(p1)));
            b->bsums[g] = vaddvq_s16(vaddq_s16(p0, p1));
        }
        if (nan) b->d = NAN; /* the integers cannot carry it: the scale does */
    }
}
