/* simd/avx512/quant_q6_k.c - Q6_K dequantizer (to_f32), AVX-512. Layout: simd/quant_k.h.
 *
 * Per half super-block, one 64-byte load of ql and one broadcast 32-byte load of qh give two
 * chunks of 64 six-bit codes in output order (lm_k512_q6_codes); each chunk is widened to 4 x 16
 * floats (lm_k512_u8_to_f32), one group of 16 (one scale) per vector. The code q (0..63) becomes
 * q - 32 as a float subtraction, exact for these integers, so it equals (float)(q - 32) of the
 * reference; then one multiply by d*scale (scalar f32, as the reference): the same IEEE
 * operations as lm_q6_k_to_f32_ref, bit-identical. Unaligned; whole super-blocks, no tail.
 */
#include "quant_k_avx512.h"

void lm_q6_k_to_f32_avx512(float *y, const void *x, int64_t n) {
    const struct lm_block_q6_k *b = x;
    const __m512 off = _mm512_set1_ps(32.0f);
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        const float d = lm_f16_to_f32(b->d);
        for (int h = 0; h < 2; h++) {
            __m512i v[2];
            lm_k512_q6_codes(b, h, &v[0], &v[1]);
            for (int j = 0; j < 2; j++) {
                __m512 f[4];
                lm_k512_u8_to_f32(v[j], f);
                for (int g = 0; g < 4; g++) {
                    const int grp = 8 * h + 4 * j + g;
                    __m512 ds = _mm512_set1_ps(d * (float)b->scales[grp]);
                    _mm512_storeu_ps(y + 16 * grp, _mm512_mul_ps(ds, _mm512_sub_ps(f[g], off)));
                }
            }
        }
    }
}
