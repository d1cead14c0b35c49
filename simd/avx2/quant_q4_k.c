/* simd/avx2/quant_q4_k.c - Q4_K dequantizer (to_f32), AVX2. Layout: simd/quant_k.h.
 *
 * Per super-block: the 6-bit scales and mins are unpacked with scalar 32-bit masks (shared
 * helper), then each 32-byte load of qs yields two sub-blocks (low nibbles, high nibbles); each
 * group of 8 bytes is widened to f32 and written as (d*sc)*q - dmin*m with a separate multiply
 * and subtract, the same IEEE operations as lm_q4_k_to_f32_ref, so the output is bit-identical.
 * No alignment needed (unaligned loads and stores); rows are whole super-blocks, no tail.
 */
#include "quant_k_avx2.h"

void lm_q4_k_to_f32_avx2(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_k *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            lm_k_avx2_store32_asym(y + 64 * c, lo, d * sm[2 * c], dmin * sm[8 + 2 * c]);
            lm_k_avx2_store32_asym(y + 64 * c + 32, hi, d * sm[2 * c + 1], dmin * sm[9 + 2 * c]);
        }
    }
}
