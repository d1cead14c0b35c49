/* simd/avx2/convert_f16.c - F16 and BF16 rows to and from F32 (F16C and AVX2 integer ops).
 *
 * F16: vcvtph2ps / vcvtps2ph with round-to-nearest-even, 8 per step, which is bit-identical to
 * the scalar reference (NaN quieted, payload kept). BF16: widen and shift; narrowing rounds to
 * nearest even in integer lanes and quiets NaN, as the reference does. Tails go through a small
 * stack buffer so nothing is read or written past the row.
 */
#include <string.h>

#include "avx2.h"

void lm_f16_to_f32_avx2(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    if (i < n) {
        uint16_t hb[8] = {0};
        float yb[8];
        memcpy(hb, h + i, (size_t)(n - i) * 2);
        _mm256_storeu_ps(yb, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)hb)));
        memcpy(y + i, yb, (size_t)(n - i) * 4);
    }
}

void lm_f32_to_f16_avx2(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        float xb[8] = {0};
        uint16_t hb[8];
        memcpy(xb, x + i, (size_t)(n - i) * 4);
        _mm_storeu_si128((__m128i *)hb,
                         _mm256_cvtps_ph(_mm256_loadu_ps(xb), _MM_FROUND_TO_NEAREST_INT));
        memcpy(h + i, hb, (size_t)(n - i) * 2);
    }
}

static inline __m256 bf16x8_to_f32(__m128i v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
}

void lm_bf16_to_f32_avx2(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, bf16x8_to_f32(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++)
        y[i] = lm_bf16_to_f32(h[i]);
}

/* 8 floats -> 8 bf16 in the low 128 bits, round to nearest even, NaN quieted. */
static inline __m128i f32x8_to_bf16(__m256 v) {
    __m256i x = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(x, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    __m256i nan = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
    r = _mm256_blendv_epi8(r, nan, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    __m256i p = _mm256_packus_epi32(r, r); /* per 128-bit lane: 4 results twice */
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(p, 0x08));
}

void lm_f32_to_bf16_avx2(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), f32x8_to_bf16(_mm256_loadu_ps(x + i)));
    for (; i < n; i++)
        h[i] = lm_f32_to_bf16(x[i]);
}
