/* simd/avx512/quant_q5_k.c - Q5_K dequantizer (to_f32), AVX-512. Layout: simd/quant_k.h.
 *
 * As Q4_K (simd/avx512/quant_q4_k.c), plus the fifth bit: qh (32 bytes) is broadcast to both
 * halves of a zmm once per super-block, and each chunk of two sub-blocks gets 16 added where
 * its bit of qh is set (vptestmb, masked vpaddb: lm_k512_q5_high). Then the same widening and
 * the same multiply-then-subtract as lm_q5_k_to_f32_ref, so the output is bit-identical.
 * Unaligned loads and stores; rows are whole super-blocks, no tail.
 */
#include "quant_k_avx512.h"

void lm_q5_k_to_f32_avx512(float *y, const void *x, int64_t n) {
    const struct lm_block_q5_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        const float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)b->qh));
        for (int c = 0; c < 2; c++) {
            __m512i ch[2];
            lm_k512_nibbles(b->qs + 64 * c, &ch[0], &ch[1]);
            for (int u = 0; u < 2; u++) {
                const int t = 2 * c + u; /* sub-blocks 2t (floats 0-31), 2t+1 (32-63) */
                __m512 f[4];
                lm_k512_u8_to_f32(lm_k512_q5_high(ch[u], h, t), f);
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
