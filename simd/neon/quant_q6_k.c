/* simd/neon/quant_q6_k.c - Q6_K dequantizer (to_f32), NEON. Layout: simd/quant_k.h.
 *
 * Per half super-block (128 values) and 16-value group: the codes come from one 16-byte load
 * of ql and one of qh (lmk_neon_q6_codes: nibble | 2 qh bits moved to bits 4-5), 32 is
 * subtracted in int8, and each 4 are widened to f32 and multiplied by (d*scale) of their
 * group: the same IEEE operations as lm_q6_k_to_f32_ref, so the output is bit-identical.
 * Unaligned; whole super-blocks only.
 */
#include "quant_k_neon.h"

void lm_q6_k_to_f32_neon(float *y, const void *x, int64_t n) {
    const struct lm_block_q6_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        const float d = lm_f16_to_f32(b->d);
        for (int h = 0; h < 2; h++)
            for (int s = 0; s < 2; s++) { /* values l = 16s .. 16s+15 of each run of 32 */
                int8x16_t v[4];
                lmk_neon_q6_codes(v, b->ql + 64 * h + 16 * s, b->qh + 32 * h + 16 * s);
                for (int k = 0; k < 4; k++) { /* run k: group 8h + 2k + s */
                    const float32x4_t ds = vdupq_n_f32(d * (float)b->scales[8 * h + 2 * k + s]);
                    float32x4_t f[4];
                    lmq_neon_i8_to_f32(f, vsubq_s8(v[k], vdupq_n_s8(32)));
                    for (int j = 0; j < 4; j++)
                        vst1q_f32(y + 128 * h + 32 * k + 16 * s + 4 * j, vmulq_f32(ds, f[j]));
                }
            }
    }
}
