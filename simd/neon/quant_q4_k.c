/* simd/neon/quant_q4_k.c - Q4_K dequantizer (to_f32), NEON. Layout: simd/quant_k.h.
 *
 * Per super-block: the 6-bit scales and mins are unpacked with scalar 32-bit masks (shared
 * helper), then each 16-byte load of qs gives 16 values of two sub-blocks (low nibbles: 2c,
 * high nibbles: 2c+1); each 4 are widened to f32 and written as (d*sc)*q - dmin*m with a
 * separate multiply and subtract, the same IEEE operations as lm_q4_k_to_f32_ref, so the
 * output is bit-identical. Unaligned loads and stores; rows are whole super-blocks, no tail.
 */
#include "quant_k_neon.h"

void lm_q4_k_to_f32_neon(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        const float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int c = 0; c < 4; c++) {
            const float d1 = d * sm[2 * c], m1 = dmin * sm[8 + 2 * c];
            const float d2 = d * sm[2 * c + 1], m2 = dmin * sm[9 + 2 * c];
            for (int h = 0; h < 2; h++) {
                const uint8x16_t q = vld1q_u8(b->qs + 32 * c + 16 * h);
                lmk_neon_store16_asym(y + 64 * c + 16 * h, vandq_u8(q, vdupq_n_u8(15)), d1, m1);
                lmk_neon_store16_asym(y + 64 * c + 32 + 16 * h, vshrq_n_u8(q, 4), d2, m2);
            }
        }
    }
}
