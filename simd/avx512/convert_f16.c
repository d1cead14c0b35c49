/* simd/avx512/convert_f16.c - F16 and BF16 rows to and from F32, AVX-512 F/BW/VL.
 *
 * F16: vcvtph2ps / vcvtps2ph on zmm, 16 per step, round to nearest even: the same per-element
 * conversion as F16C, bit-identical to the scalar reference for every input the suites use
 * (quant_legacy: every level, special values included). BF16: widening is a zero-extend and a
 * shift; narrowing rounds to nearest even in integer lanes (x + 0x7fff + lsb, then the high
 * half) and quiets NaN (high half | 0x40) where the unordered compare says so, exactly
 * lm_f32_to_bf16; vpmovdw narrows the 16 results. (AVX512-BF16's vcvtneps2bf16 is not used: it
 * flushes subnormal inputs to zero, which the reference does not.) Tails (n % 16) are masked
 * loads and stores of 16-bit or 32-bit elements: no scalar loop, nothing past the row.
 */
#include "avx512.h"

void lm_f16_to_f32_avx512(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i)));
        const __m512 b = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i + 16)));
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, h + i)));
    }
}

void lm_f32_to_f16_avx512(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(h + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm256_mask_storeu_epi16(
            h + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT));
    }
}

static inline __m512 bf16x16_to_f32(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

void lm_bf16_to_f32_avx512(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, bf16x16_to_f32(_mm256_loadu_si256((const __m256i *)(h + i))));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, bf16x16_to_f32(_mm256_maskz_loadu_epi16(m, h + i)));
    }
}

/* 16 floats -> 16 bf16: round to nearest even, NaN quieted (lm_f32_to_bf16 per lane). */
static inline __m256i f32x16_to_bf16(__m512 v) {
    const __m512i x = _mm512_castps_si512(v), hi = _mm512_srli_epi32(x, 16);
    const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(x, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    r = _mm512_mask_or_epi32(r, nan, hi, _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(r);
}

void lm_f32_to_bf16_avx512(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(h + i), f32x16_to_bf16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm256_mask_storeu_epi16(h + i, m, f32x16_to_bf16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
