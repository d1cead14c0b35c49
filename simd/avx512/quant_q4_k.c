/* simd/avx512/quant_q4_k.c - Q4_K dequantizer (to_f32), AVX-512. Layout: simd/quant_k.h.
 *
 * Per super-block: the 6-bit scales and mins unpacked with the shared scalar masks, the
 * per-sub-block factors d*sc and dmin*m computed in scalar f32 exactly as the reference does;
 * each 64-byte load of qs gives two chunks of two sub-blocks in output order
 * (lm_k512_nibbles), each chunk 4 x 16 bytes widened to f32 (lm_k512_u8_to_f32: vpermd,
 * vpshufb, vcvtudq2ps) and written as (d*sc)*q - dmin*m with a separate multiply and subtract
 * (C11 mode: no contraction into an FMA), the IEEE operations of lm_q4_k_to_f32_ref, so the
 * output is bit-identical. Unaligned loads and stores; rows are whole super-blocks, no tail.
 */
#include "quant_k_avx512.h"

void lm_q4_k_to_f32_avx512(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        const float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int c = 0; c < 2; c++) {
            __m512i ch[2];
            lm_k512_nibbles(b->qs + 64 * c, &ch[0], &ch[1]);
            for (int u = 0; u < 2; u++) {
                const int t = 2 * c + u; /* sub-blocks 2t (floats 0-31), 2t+1 (32-63) */
                __m512 f[4];
                lm_k512_u8_to_f32(ch[u], f);
                for (int g = 0; g < 4; g++) {
                    const int j = 2 * t + g / 2;
                    __m512 vd = _mm512_set1_ps(d * sm[j]), vm = _mm512_set1_ps(dmin * sm[8 + j]);
                    _mm512_storeu_ps(y + 64 * t + 16 * g,
                                     _mm512_sub_ps(_mm512_mul_ps(vd, f[g]), vm));
                }
            }
        }
    }
}
