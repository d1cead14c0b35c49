/* simd/avx2/quant_q6_k.c - Q6_K dequantizer (to_f32), AVX2. Layout: simd/quant_k.h.
 *
 * Per half super-block (128 values): two 32-byte loads of ql and one of qh give the four runs of
 * 32 values; each run is (ql nibble) | (2 bits of qh moved to bits 4-5), built with 16-bit-lane
 * shifts whose stray bits the masks remove, then 32 is subtracted in int8. Each 8 bytes are
 * widened to f32 and multiplied by (d*scale) of their group of 16: the same IEEE operations as
 * lm_q6_k_to_f32_ref, so the output is bit-identical. Unaligned; whole super-blocks only.
 */
#include "../quant_k.h"
#include "avx2.h"

/* y[0..31] = s0*q[0..15], s1*q[16..31] for 32 signed bytes q. */
static inline void store32_sym(float *y, __m256i q, float s0, float s1) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m128i part[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; k++) {
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part[k]));
        _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_set1_ps(k < 2 ? s0 : s1), f));
    }
}

void lm_q6_k_to_f32_avx2(float *y, const void *x, int64_t n) {
    const struct lm_block_q6_k *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30);
    const __m256i off = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        float d = lm_f16_to_f32(b->d), ds[16];
        for (int g = 0; g < 16; g++)
            ds[g] = d * (float)b->scales[g];
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(l0, low4),
                                   _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
            v[1] = _mm256_or_si256(_mm256_and_si256(l1, low4),
                                   _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                   _mm256_and_si256(qh, bits45));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
            for (int k = 0; k < 4; k++)
                store32_sym(y + 128 * h + 32 * k, _mm256_sub_epi8(v[k], off), ds[8 * h + 2 * k],
                            ds[8 * h + 2 * k + 1]);
        }
    }
}
