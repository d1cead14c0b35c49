/* tests/emu/avx512_emu_mm.h - AVX-512 intrinsics the float matmul kernels (simd/avx512/gemm.h,
 * matmul_*.c) use and SIMDe 0.7.4 (Debian bookworm's libsimde-dev) lacks, for the emulated
 * build only (LMRT_EMU: simd/avx512/avx512.h includes this right after <simde/x86/avx512.h>).
 *
 * Without these, the kernel's call falls through to GCC's own always_inline intrinsic, which
 * does not compile without -mavx512f. Each is written from the operation Intel's intrinsics
 * guide documents, in plain C over element arrays (memcpy in and out, so nothing is assumed
 * about how SIMDe represents its vector types), or per 256-bit half with the F16C instruction
 * that does the same per element. Masked loads and stores touch only the elements whose mask
 * bit is set, as the hardware does: a masked-off element may lie past the end of a buffer, and
 * ASan sees any read past it. Each name is #undef'd first and mapped to an lm_emu512mm_
 * function (the prefix keeps them apart from other helpers' emulation headers).
 */
#ifndef LMRT_TESTS_EMU_AVX512_EMU_MM_H
#define LMRT_TESTS_EMU_AVX512_EMU_MM_H

#include <stdint.h>
#include <string.h>

/* ---- masked loads and stores -------------------------------------------------------------- */

#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps lm_emu512mm_maskz_loadu_ps
static inline __m512 lm_emu512mm_maskz_loadu_ps(__mmask16 k, const void *p) {
    float r[16] = {0};
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy(&r[i], (const char *)p + 4 * i, 4);
    __m512 v;
    memcpy(&v, r, 64);
    return v;
}

#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps lm_emu512mm_mask_storeu_ps
static inline void lm_emu512mm_mask_storeu_ps(void *p, __mmask16 k, __m512 v) {
    float r[16];
    memcpy(r, &v, 64);
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy((char *)p + 4 * i, &r[i], 4);
}

/* vmovdqu16 ymm{k}{z}: 16 elements of 16 bits */
#undef _mm256_maskz_loadu_epi16
#define _mm256_maskz_loadu_epi16 lm_emu512mm_maskz_loadu_epi16_256
static inline __m256i lm_emu512mm_maskz_loadu_epi16_256(__mmask16 k, const void *p) {
    uint16_t r[16] = {0};
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy(&r[i], (const char *)p + 2 * i, 2);
    __m256i v;
    memcpy(&v, r, 32);
    return v;
}

/* vmovdqu16 zmm{k}{z}: 32 elements of 16 bits */
#undef _mm512_maskz_loadu_epi16
#define _mm512_maskz_loadu_epi16 lm_emu512mm_maskz_loadu_epi16
static inline __m512i lm_emu512mm_maskz_loadu_epi16(__mmask32 k, const void *p) {
    uint16_t r[32] = {0};
    for (int i = 0; i < 32; i++)
        if (k >> i & 1) memcpy(&r[i], (const char *)p + 2 * i, 2);
    __m512i v;
    memcpy(&v, r, 64);
    return v;
}

/* ---- conversions -------------------------------------------------------------------------- */

/* vcvtph2ps zmm: F16C's vcvtph2ps on each half is the same per element (exact widening, NaN
 * payloads kept, quieted). */
#undef _mm512_cvtph_ps
#define _mm512_cvtph_ps lm_emu512mm_cvtph_ps
static inline __m512 lm_emu512mm_cvtph_ps(__m256i a) {
    const __m256 lo = _mm256_cvtph_ps(_mm256_castsi256_si128(a));
    const __m256 hi = _mm256_cvtph_ps(_mm256_extracti128_si256(a, 1));
    float r[16];
    memcpy(r, &lo, 32);
    memcpy(r + 8, &hi, 32);
    __m512 v;
    memcpy(&v, r, 64);
    return v;
}

/* vpmovzxwd zmm: each uint16 zero-extended to 32 bits */
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32 lm_emu512mm_cvtepu16_epi32
static inline __m512i lm_emu512mm_cvtepu16_epi32(__m256i a) {
    uint16_t x[16];
    uint32_t r[16];
    memcpy(x, &a, 32);
    for (int i = 0; i < 16; i++)
        r[i] = x[i];
    __m512i v;
    memcpy(&v, r, 64);
    return v;
}

/* vpmovdw: each int32 truncated to its low 16 bits */
#undef _mm512_cvtepi32_epi16
#define _mm512_cvtepi32_epi16 lm_emu512mm_cvtepi32_epi16
static inline __m256i lm_emu512mm_cvtepi32_epi16(__m512i a) {
    uint32_t x[16];
    uint16_t r[16];
    memcpy(x, &a, 64);
    for (int i = 0; i < 16; i++)
        r[i] = (uint16_t)x[i];
    __m256i v;
    memcpy(&v, r, 32);
    return v;
}

#endif
