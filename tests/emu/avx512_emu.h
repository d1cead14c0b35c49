/* tests/emu/avx512_emu.h - the AVX-512 intrinsics that SIMDe 0.7.4 (Debian bookworm's
 * libsimde-dev) lacks or gets wrong, for the emulated build only (LMRT_EMU: simd/avx512/avx512.h
 * includes this right after <simde/x86/avx512.h>).
 *
 * Without these, a kernel that calls one of them falls through to GCC's own always_inline
 * intrinsic, which does not compile without -mavx512f. Each is written from the operation
 * Intel's intrinsics guide documents, in plain C over the element arrays (memcpy in and out,
 * so no assumption about how SIMDe represents its vector types), or on 256-bit halves with
 * the AVX2/F16C instruction that does the same per element. Masked loads and stores touch
 * only the elements whose mask bit is set, as the hardware does (a masked-off element may lie
 * past the end of a buffer). Each name is #undef'd first (GCC defines some as macros at -O0)
 * and mapped to an lm_emu512_ function.
 *
 * Overridden because SIMDe's differs from the hardware:
 *   _mm512_scalef_ps: SIMDe computes a * exp2(floor(b)) with 2^floor(b) in f32, which
 *     overflows for b >= 128 even where the product is finite, and flushes subnormal a.
 * Approximations whose exact hardware bits are not documented:
 *   _mm512_rcp14_ps: Intel guarantees a relative error below 2^-14; this returns the correctly
 *     rounded 1/a, which meets the bound, so results may differ from a real CPU in the bits
 *     below that (kernels refine it with a Newton step and are tested to tolerances anyway).
 */
#ifndef LMRT_TESTS_EMU_AVX512_EMU_H
#define LMRT_TESTS_EMU_AVX512_EMU_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- masked loads and stores -------------------------------------------------------------- */

#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps lm_emu512_maskz_loadu_ps
static inline __m512 lm_emu512_maskz_loadu_ps(__mmask16 k, const void *p) {
    float r[16] = {0};
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy(&r[i], (const char *)p + 4 * i, 4);
    __m512 v;
    memcpy(&v, r, 64);
    return v;
}

#undef _mm512_mask_loadu_ps
#define _mm512_mask_loadu_ps lm_emu512_mask_loadu_ps
static inline __m512 lm_emu512_mask_loadu_ps(__m512 src, __mmask16 k, const void *p) {
    float r[16];
    memcpy(r, &src, 64);
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy(&r[i], (const char *)p + 4 * i, 4);
    __m512 v;
    memcpy(&v, r, 64);
    return v;
}

#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps lm_emu512_mask_storeu_ps
static inline void lm_emu512_mask_storeu_ps(void *p, __mmask16 k, __m512 v) {
    float r[16];
    memcpy(r, &v, 64);
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy((char *)p + 4 * i, &r[i], 4);
}

#undef _mm256_maskz_loadu_epi16
#define _mm256_maskz_loadu_epi16 lm_emu512_maskz_loadu_epi16_256
static inline __m256i lm_emu512_maskz_loadu_epi16_256(__mmask16 k, const void *p) {
    uint16_t r[16] = {0};
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy(&r[i], (const char *)p + 2 * i, 2);
    __m256i v;
    memcpy(&v, r, 32);
    return v;
}

#undef _mm256_mask_storeu_epi16
#define _mm256_mask_storeu_epi16 lm_emu512_mask_storeu_epi16_256
static inline void lm_emu512_mask_storeu_epi16_256(void *p, __mmask16 k, __m256i v) {
    uint16_t r[16];
    memcpy(r, &v, 32);
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy((char *)p + 2 * i, &r[i], 2);
}

/* ---- conversions -------------------------------------------------------------------------- */

/* vcvtph2ps / vcvtps2ph zmm: the F16C ymm instruction on each half is the same per element
 * (same rounding control, same NaN handling). */
#undef _mm512_cvtph_ps
#define _mm512_cvtph_ps lm_emu512_cvtph_ps
static inline __m512 lm_emu512_cvtph_ps(__m256i a) {
    const __m256 lo = _mm256_cvtph_ps(_mm256_castsi256_si128(a));
    const __m256 hi = _mm256_cvtph_ps(_mm256_extracti128_si256(a, 1));
    float r[16];
    memcpy(r, &lo, 32);
    memcpy(r + 8, &hi, 32);
    __m512 v;
    memcpy(&v, r, 64);
    return v;
}

#undef _mm512_cvtps_ph
#define _mm512_cvtps_ph lm_emu512_cvtps_ph
static inline __m128i lm_emu512_cvtps_ph_half(__m256 a, int rounding) {
    switch (rounding & 7) { /* the instruction's imm8: bits 0-2 rounding, bit 3 no exceptions */
    case 1: return _mm256_cvtps_ph(a, 1);
    case 2: return _mm256_cvtps_ph(a, 2);
    case 3: return _mm256_cvtps_ph(a, 3);
    case 4: return _mm256_cvtps_ph(a, 4);
    default: return _mm256_cvtps_ph(a, 0);
    }
}
static inline __m256i lm_emu512_cvtps_ph(__m512 a, int rounding) {
    float r[16];
    memcpy(r, &a, 64);
    __m256 lo, hi;
    memcpy(&lo, r, 32);
    memcpy(&hi, r + 8, 32);
    const __m128i l = lm_emu512_cvtps_ph_half(lo, rounding),
                  h = lm_emu512_cvtps_ph_half(hi, rounding);
    uint16_t o[16];
    memcpy(o, &l, 16);
    memcpy(o + 8, &h, 16);
    __m256i v;
    memcpy(&v, o, 32);
    return v;
}

/* vpmovdw: each int32 truncated to its low 16 bits */
#undef _mm512_cvtepi32_epi16
#define _mm512_cvtepi32_epi16 lm_emu512_cvtepi32_epi16
static inline __m256i lm_emu512_cvtepi32_epi16(__m512i a) {
    uint32_t x[16];
    uint16_t r[16];
    memcpy(x, &a, 64);
    for (int i = 0; i < 16; i++)
        r[i] = (uint16_t)x[i];
    __m256i v;
    memcpy(&v, r, 32);
    return v;
}

/* vpmovzxwd: each uint16 zero-extended to 32 bits */
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32 lm_emu512_cvtepu16_epi32
static inline __m512i lm_emu512_cvtepu16_epi32(__m256i a) {
    uint16_t x[16];
    uint32_t r[16];
    memcpy(x, &a, 32);
    for (int i = 0; i < 16; i++)
        r[i] = x[i];
    __m512i v;
    memcpy(&v, r, 64);
    return v;
}

/* ---- arithmetic and lane moves ------------------------------------------------------------ */

/* vfmaddsub: even lanes a b - c, odd lanes a b + c, each one rounding (fmaf) */
#undef _mm512_fmaddsub_ps
#define _mm512_fmaddsub_ps lm_emu512_fmaddsub_ps
static inline __m512 lm_emu512_fmaddsub_ps(__m512 a, __m512 b, __m512 c) {
    float x[16], y[16], z[16];
    memcpy(x, &a, 64), memcpy(y, &b, 64), memcpy(z, &c, 64);
    for (int i = 0; i < 16; i++)
        x[i] = fmaf(x[i], y[i], i & 1 ? z[i] : -z[i]);
    __m512 v;
    memcpy(&v, x, 64);
    return v;
}

/* vscalefps (see the top): a * 2^floor(b) rounded once; NaN in either gives NaN. The product
 * in double is exact for every finite f32 a and the clamped exponent, so the one rounding is
 * the conversion to f32 (which handles overflow to inf and subnormal results correctly). */
#undef _mm512_scalef_ps
#define _mm512_scalef_ps lm_emu512_scalef_ps
static inline __m512 lm_emu512_scalef_ps(__m512 a, __m512 b) {
    float x[16], e[16];
    memcpy(x, &a, 64), memcpy(e, &b, 64);
    for (int i = 0; i < 16; i++) {
        if (isnan(x[i]) || isnan(e[i])) {
            x[i] = x[i] + e[i];
            continue;
        }
        const double f = floor((double)e[i]);
        const int n = f > 2000 ? 2000 : f < -2000 ? -2000 : (int)f;
        x[i] = (float)((double)x[i] * ldexp(1.0, n));
    }
    __m512 v;
    memcpy(&v, x, 64);
    return v;
}

/* vrcp14ps (see the top): correctly rounded 1/a, within the documented 2^-14 */
#undef _mm512_rcp14_ps
#define _mm512_rcp14_ps lm_emu512_rcp14_ps
static inline __m512 lm_emu512_rcp14_ps(__m512 a) {
    float x[16];
    memcpy(x, &a, 64);
    for (int i = 0; i < 16; i++)
        x[i] = 1.0f / x[i];
    __m512 v;
    memcpy(&v, x, 64);
    return v;
}

/* vextractf32x8: the 256-bit half imm (0 low, 1 high) */
#undef _mm512_extractf32x8_ps
#define _mm512_extractf32x8_ps(a, imm) lm_emu512_extractf32x8_ps(a, (imm)&1)
static inline __m256 lm_emu512_extractf32x8_ps(__m512 a, int half) {
    float x[16];
    memcpy(x, &a, 64);
    __m256 v;
    memcpy(&v, x + 8 * half, 32);
    return v;
}

#endif
