/* simd/avx2/quant_q5_k.c - Q5_K dequantizer (to_f32), AVX2. Layout: simd/quant_k.h.
 *
 * As Q4_K (simd/avx2/quant_q4_k.c), plus the fifth bit: qh (32 bytes, one load per super-block)
 * holds bit j of value l of sub-block j in qh[l]. For the sub-block pair (2c, 2c+1), qh is
 * shifted right by 2c in 16-bit lanes (the bits wanted stay inside their own byte) and bits 0
 * and 1 are moved to bit 4 and masked, then OR-ed onto the nibbles. Output bit-identical to
 * lm_q5_k_to_f32_ref (same multiply, then subtract). Unaligned; whole super-blocks only.
 */
#include "quant_k_avx2.h"

void lm_q5_k_to_f32_avx2(float *y, const void *x, int64_t n) {
    const struct lm_block_q5_k *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0f), bit4 = _mm256_set1_epi8(0x10);
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        __m256i h = _mm256_loadu_si256((const __m256i *)b->qh);
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(h, 4), bit4));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(h, 3), bit4));
            h = _mm256_srli_epi16(h, 2);
            lm_k_avx2_store32_asym(y + 64 * c, lo, d * sm[2 * c], dmin * sm[8 + 2 * c]);
            lm_k_avx2_store32_asym(y + 64 * c + 32, hi, d * sm[2 * c + 1], dmin * sm[9 + 2 * c]);
        }
    }
}
