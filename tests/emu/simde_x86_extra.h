/* tests/emu/simde_x86_extra.h - the AVX-512 intrinsics our kernels use that SIMDe 0.7.4 (Debian
 * 12's libsimde-dev) lacks or gets wrong, for the emulated build only (simd/avx512/avx512.h
 * includes it after SIMDe under LMRT_EMU).
 *
 * Each is written from Intel's published operation of the instruction, element by element, on
 * SIMDe's types (or on two AVX2 halves where AVX2 has the same operation lane for lane), and
 * takes the intrinsic's name with a macro, which wins over the compiler's own declaration that
 * SIMDe's header pulls in (that one needs -mavx512f and would not compile here). Masked loads
 * and stores touch only the selected elements, like the hardware, so ASan sees a read past a
 * row exactly when the real instruction would fault. Reductions add in the order GCC's
 * <avx512fintrin.h> does (halves, then quarters, ...), so results match a native build's bits.
 *
 * A kernel that needs an intrinsic missing here fails to compile in build/emu/: add it here,
 * from the instruction's documented operation, never from a kernel's needs.
 */
#ifndef LMRT_TESTS_EMU_SIMDE_X86_EXTRA_H
#define LMRT_TESTS_EMU_SIMDE_X86_EXTRA_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LMRT_EMU_INLINE static inline __attribute__((always_inline, unused))

/* ---- masked loads and stores: only selected elements are read or written ---------------- */

#define LMRT_EMU_MASKZ_LOAD(NAME, VT, MT, ES, NE)                                                  \
    LMRT_EMU_INLINE VT NAME(MT k, const void *p) {                                                 \
        uint8_t b[NE * ES];                                                                        \
        memset(b, 0, sizeof b);                                                                    \
        for (int i = 0; i < NE; i++)                                                               \
            if ((k >> i) & 1) memcpy(b + i * ES, (const uint8_t *)p + i * ES, ES);                 \
        VT r;                                                                                      \
        memcpy(&r, b, sizeof r);                                                                   \
        return r;                                                                                  \
    }
#define LMRT_EMU_MASK_LOAD(NAME, VT, MT, ES, NE)                                                   \
    LMRT_EMU_INLINE VT NAME(VT src, MT k, const void *p) {                                         \
        uint8_t b[NE * ES];                                                                        \
        memcpy(b, &src, sizeof b);                                                                 \
        for (int i = 0; i < NE; i++)                                                               \
            if ((k >> i) & 1) memcpy(b + i * ES, (const uint8_t *)p + i * ES, ES);                 \
        VT r;                                                                                      \
        memcpy(&r, b, sizeof r);                                                                   \
        return r;                                                                                  \
    }
#define LMRT_EMU_MASK_STORE(NAME, VT, MT, ES, NE)                                                  \
    LMRT_EMU_INLINE void NAME(void *p, MT k, VT a) {                                               \
        uint8_t b[NE * ES];                                                                        \
        memcpy(b, &a, sizeof b);                                                                   \
        for (int i = 0; i < NE; i++)                                                               \
            if ((k >> i) & 1) memcpy((uint8_t *)p + i * ES, b + i * ES, ES);                       \
    }

LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm512_maskz_loadu_ps, simde__m512, simde__mmask16, 4, 16)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm512_maskz_loadu_epi32, simde__m512i, simde__mmask16, 4, 16)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm512_maskz_loadu_epi16, simde__m512i, simde__mmask32, 2, 32)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm512_maskz_loadu_epi8, simde__m512i, simde__mmask64, 1, 64)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm256_maskz_loadu_ps, simde__m256, simde__mmask8, 4, 8)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm256_maskz_loadu_epi32, simde__m256i, simde__mmask8, 4, 8)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm256_maskz_loadu_epi16, simde__m256i, simde__mmask16, 2, 16)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm256_maskz_loadu_epi8, simde__m256i, simde__mmask32, 1, 32)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm_maskz_loadu_ps, simde__m128, simde__mmask8, 4, 4)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm_maskz_loadu_epi16, simde__m128i, simde__mmask8, 2, 8)
LMRT_EMU_MASKZ_LOAD(lmrt_emu_mm_maskz_loadu_epi8, simde__m128i, simde__mmask16, 1, 16)
LMRT_EMU_MASK_LOAD(lmrt_emu_mm512_mask_loadu_ps, simde__m512, simde__mmask16, 4, 16)
LMRT_EMU_MASK_LOAD(lmrt_emu_mm512_mask_loadu_epi32, simde__m512i, simde__mmask16, 4, 16)
LMRT_EMU_MASK_STORE(lmrt_emu_mm512_mask_storeu_ps, simde__m512, simde__mmask16, 4, 16)
LMRT_EMU_MASK_STORE(lmrt_emu_mm512_mask_storeu_epi32, simde__m512i, simde__mmask16, 4, 16)
LMRT_EMU_MASK_STORE(lmrt_emu_mm512_mask_storeu_epi16, simde__m512i, simde__mmask32, 2, 32)
LMRT_EMU_MASK_STORE(lmrt_emu_mm512_mask_storeu_epi8, simde__m512i, simde__mmask64, 1, 64)
LMRT_EMU_MASK_STORE(lmrt_emu_mm256_mask_storeu_ps, simde__m256, simde__mmask8, 4, 8)
LMRT_EMU_MASK_STORE(lmrt_emu_mm256_mask_storeu_epi32, simde__m256i, simde__mmask8, 4, 8)
LMRT_EMU_MASK_STORE(lmrt_emu_mm256_mask_storeu_epi16, simde__m256i, simde__mmask16, 2, 16)
LMRT_EMU_MASK_STORE(lmrt_emu_mm256_mask_storeu_epi8, simde__m256i, simde__mmask32, 1, 32)
LMRT_EMU_MASK_STORE(lmrt_emu_mm_mask_storeu_ps, simde__m128, simde__mmask8, 4, 4)
LMRT_EMU_MASK_STORE(lmrt_emu_mm_mask_storeu_epi16, simde__m128i, simde__mmask8, 2, 8)
LMRT_EMU_MASK_STORE(lmrt_emu_mm_mask_storeu_epi8, simde__m128i, simde__mmask16, 1, 16)

#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps(k, p) lmrt_emu_mm512_maskz_loadu_ps(k, p)
#undef _mm512_maskz_loadu_epi32
#define _mm512_maskz_loadu_epi32(k, p) lmrt_emu_mm512_maskz_loadu_epi32(k, p)
#undef _mm512_maskz_loadu_epi16
#define _mm512_maskz_loadu_epi16(k, p) lmrt_emu_mm512_maskz_loadu_epi16(k, p)
#undef _mm512_maskz_loadu_epi8
#define _mm512_maskz_loadu_epi8(k, p) lmrt_emu_mm512_maskz_loadu_epi8(k, p)
#undef _mm256_maskz_loadu_ps
#define _mm256_maskz_loadu_ps(k, p) lmrt_emu_mm256_maskz_loadu_ps(k, p)
#undef _mm256_maskz_loadu_epi32
#define _mm256_maskz_loadu_epi32(k, p) lmrt_emu_mm256_maskz_loadu_epi32(k, p)
#undef _mm256_maskz_loadu_epi16
#define _mm256_maskz_loadu_epi16(k, p) lmrt_emu_mm256_maskz_loadu_epi16(k, p)
#undef _mm256_maskz_loadu_epi8
#define _mm256_maskz_loadu_epi8(k, p) lmrt_emu_mm256_maskz_loadu_epi8(k, p)
#undef _mm_maskz_loadu_ps
#define _mm_maskz_loadu_ps(k, p) lmrt_emu_mm_maskz_loadu_ps(k, p)
#undef _mm_maskz_loadu_epi16
#define _mm_maskz_loadu_epi16(k, p) lmrt_emu_mm_maskz_loadu_epi16(k, p)
#undef _mm_maskz_loadu_epi8
#define _mm_maskz_loadu_epi8(k, p) lmrt_emu_mm_maskz_loadu_epi8(k, p)
#undef _mm512_mask_loadu_ps
#define _mm512_mask_loadu_ps(s, k, p) lmrt_emu_mm512_mask_loadu_ps(s, k, p)
#undef _mm512_mask_loadu_epi32
#define _mm512_mask_loadu_epi32(s, k, p) lmrt_emu_mm512_mask_loadu_epi32(s, k, p)
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps(p, k, a) lmrt_emu_mm512_mask_storeu_ps(p, k, a)
#undef _mm512_mask_storeu_epi32
#define _mm512_mask_storeu_epi32(p, k, a) lmrt_emu_mm512_mask_storeu_epi32(p, k, a)
#undef _mm512_mask_storeu_epi16
#define _mm512_mask_storeu_epi16(p, k, a) lmrt_emu_mm512_mask_storeu_epi16(p, k, a)
#undef _mm512_mask_storeu_epi8
#define _mm512_mask_storeu_epi8(p, k, a) lmrt_emu_mm512_mask_storeu_epi8(p, k, a)
#undef _mm256_mask_storeu_ps
#define _mm256_mask_storeu_ps(p, k, a) lmrt_emu_mm256_mask_storeu_ps(p, k, a)
#undef _mm256_mask_storeu_epi32
#define _mm256_mask_storeu_epi32(p, k, a) lmrt_emu_mm256_mask_storeu_epi32(p, k, a)
#undef _mm256_mask_storeu_epi16
#define _mm256_mask_storeu_epi16(p, k, a) lmrt_emu_mm256_mask_storeu_epi16(p, k, a)
#undef _mm256_mask_storeu_epi8
#define _mm256_mask_storeu_epi8(p, k, a) lmrt_emu_mm256_mask_storeu_epi8(p, k, a)
#undef _mm_mask_storeu_ps
#define _mm_mask_storeu_ps(p, k, a) lmrt_emu_mm_mask_storeu_ps(p, k, a)
#undef _mm_mask_storeu_epi16
#define _mm_mask_storeu_epi16(p, k, a) lmrt_emu_mm_mask_storeu_epi16(p, k, a)
#undef _mm_mask_storeu_epi8
#define _mm_mask_storeu_epi8(p, k, a) lmrt_emu_mm_mask_storeu_epi8(p, k, a)

/* ---- whole-register moves between widths ------------------------------------------------ */

LMRT_EMU_INLINE simde__m256 lmrt_emu_mm512_extractf32x8_ps(simde__m512 a, int i) {
    simde__m256 r;
    memcpy(&r, (const uint8_t *)&a + 32 * (i & 1), 32);
    return r;
}
LMRT_EMU_INLINE simde__m256i lmrt_emu_mm512_extracti32x8_epi32(simde__m512i a, int i) {
    simde__m256i r;
    memcpy(&r, (const uint8_t *)&a + 32 * (i & 1), 32);
    return r;
}
LMRT_EMU_INLINE simde__m512 lmrt_emu_mm512_zextps256_ps512(simde__m256 a) {
    simde__m512 r;
    memset(&r, 0, 64);
    memcpy(&r, &a, 32);
    return r;
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_zextsi256_si512(simde__m256i a) {
    simde__m512i r;
    memset(&r, 0, 64);
    memcpy(&r, &a, 32);
    return r;
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_broadcast_i32x8(simde__m256i a) {
    simde__m512i r;
    memcpy(&r, &a, 32);
    memcpy((uint8_t *)&r + 32, &a, 32);
    return r;
}
#undef _mm512_extractf32x8_ps
#define _mm512_extractf32x8_ps(a, i) lmrt_emu_mm512_extractf32x8_ps(a, i)
#undef _mm512_extracti32x8_epi32
#define _mm512_extracti32x8_epi32(a, i) lmrt_emu_mm512_extracti32x8_epi32(a, i)
#undef _mm512_zextps256_ps512
#define _mm512_zextps256_ps512(a) lmrt_emu_mm512_zextps256_ps512(a)
#undef _mm512_zextsi256_si512
#define _mm512_zextsi256_si512(a) lmrt_emu_mm512_zextsi256_si512(a)
#undef _mm512_broadcast_i32x8
#define _mm512_broadcast_i32x8(a) lmrt_emu_mm512_broadcast_i32x8(a)

/* ---- element-wise through two AVX2 halves (the same operation lane for lane) ------------ */

LMRT_EMU_INLINE simde__m256 lmrt_emu_lo_ps(simde__m512 a) {
    return lmrt_emu_mm512_extractf32x8_ps(a, 0);
}
LMRT_EMU_INLINE simde__m256 lmrt_emu_hi_ps(simde__m512 a) {
    return lmrt_emu_mm512_extractf32x8_ps(a, 1);
}
LMRT_EMU_INLINE simde__m256i lmrt_emu_lo_si(simde__m512i a) {
    return lmrt_emu_mm512_extracti32x8_epi32(a, 0);
}
LMRT_EMU_INLINE simde__m256i lmrt_emu_hi_si(simde__m512i a) {
    return lmrt_emu_mm512_extracti32x8_epi32(a, 1);
}
LMRT_EMU_INLINE simde__m512 lmrt_emu_join_ps(simde__m256 lo, simde__m256 hi) {
    simde__m512 r;
    memcpy(&r, &lo, 32);
    memcpy((uint8_t *)&r + 32, &hi, 32);
    return r;
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_join_si(simde__m256i lo, simde__m256i hi) {
    simde__m512i r;
    memcpy(&r, &lo, 32);
    memcpy((uint8_t *)&r + 32, &hi, 32);
    return r;
}

/* F16 <-> F32 (F16C on each half; imm is the rounding control, as for vcvtps2ph) */
LMRT_EMU_INLINE simde__m512 lmrt_emu_mm512_cvtph_ps(simde__m256i a) {
    return lmrt_emu_join_ps(_mm256_cvtph_ps(_mm256_castsi256_si128(a)),
                            _mm256_cvtph_ps(_mm256_extracti128_si256(a, 1)));
}
#define lmrt_emu_mm512_cvtps_ph(a, imm)                                                            \
    _mm256_set_m128i(_mm256_cvtps_ph(lmrt_emu_hi_ps(a), imm),                                      \
                     _mm256_cvtps_ph(lmrt_emu_lo_ps(a), imm))
#undef _mm512_cvtph_ps
#define _mm512_cvtph_ps(a) lmrt_emu_mm512_cvtph_ps(a)
#undef _mm512_cvtps_ph
#define _mm512_cvtps_ph(a, imm) lmrt_emu_mm512_cvtps_ph(a, imm)

/* integer widening: 16 (or 32) narrow elements to 32-bit (or 16-bit) lanes */
#define LMRT_EMU_WIDEN(NAME, AVX2OP, NT, HALF)                                                     \
    LMRT_EMU_INLINE simde__m512i NAME(NT a) {                                                      \
        NT hi;                                                                                     \
        memset(&hi, 0, sizeof hi);                                                                 \
        memcpy(&hi, (const uint8_t *)&a + HALF, HALF);                                             \
        simde__m128i l, h;                                                                         \
        memcpy(&l, &a, 16 < HALF ? 16 : HALF);                                                     \
        memcpy(&h, &hi, 16 < HALF ? 16 : HALF);                                                    \
        return lmrt_emu_join_si(AVX2OP(l), AVX2OP(h));                                             \
    }
LMRT_EMU_WIDEN(lmrt_emu_mm512_cvtepu16_epi32, _mm256_cvtepu16_epi32, simde__m256i, 16)
LMRT_EMU_WIDEN(lmrt_emu_mm512_cvtepi16_epi32, _mm256_cvtepi16_epi32, simde__m256i, 16)
LMRT_EMU_WIDEN(lmrt_emu_mm512_cvtepu8_epi16, _mm256_cvtepu8_epi16, simde__m256i, 16)
LMRT_EMU_WIDEN(lmrt_emu_mm512_cvtepi8_epi16, _mm256_cvtepi8_epi16, simde__m256i, 16)
LMRT_EMU_WIDEN(lmrt_emu_mm512_cvtepu8_epi32, _mm256_cvtepu8_epi32, simde__m128i, 8)
LMRT_EMU_WIDEN(lmrt_emu_mm512_cvtepi8_epi32, _mm256_cvtepi8_epi32, simde__m128i, 8)
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32(a) lmrt_emu_mm512_cvtepu16_epi32(a)
#undef _mm512_cvtepi16_epi32
#define _mm512_cvtepi16_epi32(a) lmrt_emu_mm512_cvtepi16_epi32(a)
#undef _mm512_cvtepu8_epi16
#define _mm512_cvtepu8_epi16(a) lmrt_emu_mm512_cvtepu8_epi16(a)
#undef _mm512_cvtepi8_epi16
#define _mm512_cvtepi8_epi16(a) lmrt_emu_mm512_cvtepi8_epi16(a)
#undef _mm512_cvtepu8_epi32
#define _mm512_cvtepu8_epi32(a) lmrt_emu_mm512_cvtepu8_epi32(a)
#undef _mm512_cvtepi8_epi32
#define _mm512_cvtepi8_epi32(a) lmrt_emu_mm512_cvtepi8_epi32(a)

/* integer narrowing by truncation (vpmovdw, vpmovdb) and signed saturation (vpmovsdb) */
LMRT_EMU_INLINE simde__m256i lmrt_emu_mm512_cvtepi32_epi16(simde__m512i a) {
    int32_t v[16];
    int16_t r[16];
    memcpy(v, &a, 64);
    for (int i = 0; i < 16; i++)
        r[i] = (int16_t)(uint16_t)(uint32_t)v[i];
    simde__m256i o;
    memcpy(&o, r, 32);
    return o;
}
LMRT_EMU_INLINE simde__m128i lmrt_emu_mm512_cvtepi32_epi8(simde__m512i a) {
    int32_t v[16];
    int8_t r[16];
    memcpy(v, &a, 64);
    for (int i = 0; i < 16; i++)
        r[i] = (int8_t)(uint8_t)(uint32_t)v[i];
    simde__m128i o;
    memcpy(&o, r, 16);
    return o;
}
LMRT_EMU_INLINE simde__m128i lmrt_emu_mm512_cvtsepi32_epi8(simde__m512i a) {
    int32_t v[16];
    int8_t r[16];
    memcpy(v, &a, 64);
    for (int i = 0; i < 16; i++)
        r[i] = (int8_t)(v[i] > 127 ? 127 : v[i] < -128 ? -128 : v[i]);
    simde__m128i o;
    memcpy(&o, r, 16);
    return o;
}
LMRT_EMU_INLINE simde__m128i lmrt_emu_mm256_cvtepi32_epi8(simde__m256i a) {
    int32_t v[8];
    int8_t r[16] = {0};
    memcpy(v, &a, 32);
    for (int i = 0; i < 8; i++)
        r[i] = (int8_t)(uint8_t)(uint32_t)v[i];
    simde__m128i o;
    memcpy(&o, r, 16);
    return o;
}
#undef _mm512_cvtepi32_epi16
#define _mm512_cvtepi32_epi16(a) lmrt_emu_mm512_cvtepi32_epi16(a)
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8(a) lmrt_emu_mm512_cvtepi32_epi8(a)
#undef _mm512_cvtsepi32_epi8
#define _mm512_cvtsepi32_epi8(a) lmrt_emu_mm512_cvtsepi32_epi8(a)
#undef _mm256_cvtepi32_epi8
#define _mm256_cvtepi32_epi8(a) lmrt_emu_mm256_cvtepi32_epi8(a)

/* float <-> int32 (vcvtps2dq rounds by MXCSR: nearest-even by default; vcvttps2dq truncates) */
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_cvtps_epi32(simde__m512 a) {
    return lmrt_emu_join_si(_mm256_cvtps_epi32(lmrt_emu_lo_ps(a)),
                            _mm256_cvtps_epi32(lmrt_emu_hi_ps(a)));
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_cvttps_epi32(simde__m512 a) {
    return lmrt_emu_join_si(_mm256_cvttps_epi32(lmrt_emu_lo_ps(a)),
                            _mm256_cvttps_epi32(lmrt_emu_hi_ps(a)));
}
LMRT_EMU_INLINE simde__m512 lmrt_emu_mm512_cvtepi32_ps(simde__m512i a) {
    return lmrt_emu_join_ps(_mm256_cvtepi32_ps(lmrt_emu_lo_si(a)),
                            _mm256_cvtepi32_ps(lmrt_emu_hi_si(a)));
}
LMRT_EMU_INLINE float lmrt_emu_mm512_cvtss_f32(simde__m512 a) {
    float f;
    memcpy(&f, &a, 4);
    return f;
}
LMRT_EMU_INLINE int lmrt_emu_mm512_cvtsi512_si32(simde__m512i a) {
    int32_t v;
    memcpy(&v, &a, 4);
    return v;
}
#undef _mm512_cvtps_epi32
#define _mm512_cvtps_epi32(a) lmrt_emu_mm512_cvtps_epi32(a)
#undef _mm512_cvttps_epi32
#define _mm512_cvttps_epi32(a) lmrt_emu_mm512_cvttps_epi32(a)
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(a) lmrt_emu_mm512_cvtepi32_ps(a)
#undef _mm512_cvtss_f32
#define _mm512_cvtss_f32(a) lmrt_emu_mm512_cvtss_f32(a)
#undef _mm512_cvtsi512_si32
#define _mm512_cvtsi512_si32(a) lmrt_emu_mm512_cvtsi512_si32(a)

/* shifts and shuffles within 128-bit lanes */
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_srai_epi32(simde__m512i a, int n) {
    return lmrt_emu_join_si(_mm256_srai_epi32(lmrt_emu_lo_si(a), n),
                            _mm256_srai_epi32(lmrt_emu_hi_si(a), n));
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_srai_epi16(simde__m512i a, int n) {
    return lmrt_emu_join_si(_mm256_srai_epi16(lmrt_emu_lo_si(a), n),
                            _mm256_srai_epi16(lmrt_emu_hi_si(a), n));
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_madd_epi16(simde__m512i a, simde__m512i b) {
    return lmrt_emu_join_si(_mm256_madd_epi16(lmrt_emu_lo_si(a), lmrt_emu_lo_si(b)),
                            _mm256_madd_epi16(lmrt_emu_hi_si(a), lmrt_emu_hi_si(b)));
}
#define lmrt_emu_mm512_shuffle_epi32(a, imm)                                                       \
    lmrt_emu_join_si(_mm256_shuffle_epi32(lmrt_emu_lo_si(a), imm),                                 \
                     _mm256_shuffle_epi32(lmrt_emu_hi_si(a), imm))
#define lmrt_emu_mm512_alignr_epi8(a, b, imm)                                                      \
    lmrt_emu_join_si(_mm256_alignr_epi8(lmrt_emu_lo_si(a), lmrt_emu_lo_si(b), imm),                \
                     _mm256_alignr_epi8(lmrt_emu_hi_si(a), lmrt_emu_hi_si(b), imm))
#define lmrt_emu_mm512_bslli_epi128(a, imm)                                                        \
    lmrt_emu_join_si(_mm256_bslli_epi128(lmrt_emu_lo_si(a), imm),                                  \
                     _mm256_bslli_epi128(lmrt_emu_hi_si(a), imm))
#define lmrt_emu_mm512_bsrli_epi128(a, imm)                                                        \
    lmrt_emu_join_si(_mm256_bsrli_epi128(lmrt_emu_lo_si(a), imm),                                  \
                     _mm256_bsrli_epi128(lmrt_emu_hi_si(a), imm))
#undef _mm512_srai_epi32
#define _mm512_srai_epi32(a, n) lmrt_emu_mm512_srai_epi32(a, n)
#undef _mm512_srai_epi16
#define _mm512_srai_epi16(a, n) lmrt_emu_mm512_srai_epi16(a, n)
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) lmrt_emu_mm512_madd_epi16(a, b)
#undef _mm512_shuffle_epi32
#define _mm512_shuffle_epi32(a, imm) lmrt_emu_mm512_shuffle_epi32(a, imm)
#undef _mm512_alignr_epi8
#define _mm512_alignr_epi8(a, b, imm) lmrt_emu_mm512_alignr_epi8(a, b, imm)
#undef _mm512_bslli_epi128
#define _mm512_bslli_epi128(a, imm) lmrt_emu_mm512_bslli_epi128(a, imm)
#undef _mm512_bsrli_epi128
#define _mm512_bsrli_epi128(a, imm) lmrt_emu_mm512_bsrli_epi128(a, imm)

/* 128-bit-lane shuffles across the register (vshuff32x4 / vshufi64x2) and vpalignrd */
LMRT_EMU_INLINE simde__m512i lmrt_emu_shuf128(simde__m512i a, simde__m512i b, int imm) {
    uint8_t x[64], y[64], r[64];
    memcpy(x, &a, 64), memcpy(y, &b, 64);
    memcpy(r + 0, x + 16 * (imm & 3), 16);
    memcpy(r + 16, x + 16 * ((imm >> 2) & 3), 16);
    memcpy(r + 32, y + 16 * ((imm >> 4) & 3), 16);
    memcpy(r + 48, y + 16 * ((imm >> 6) & 3), 16);
    simde__m512i o;
    memcpy(&o, r, 64);
    return o;
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_alignr_epi32(simde__m512i a, simde__m512i b, int n) {
    uint32_t t[32], r[16];
    memcpy(t, &b, 64), memcpy(t + 16, &a, 64); /* a:b concatenated, b in the low half */
    for (int i = 0; i < 16; i++)
        r[i] = t[i + (n & 15)];
    simde__m512i o;
    memcpy(&o, r, 64);
    return o;
}
#undef _mm512_shuffle_i64x2
#define _mm512_shuffle_i64x2(a, b, imm) lmrt_emu_shuf128(a, b, imm)
#undef _mm512_shuffle_i32x4
#define _mm512_shuffle_i32x4(a, b, imm) lmrt_emu_shuf128(a, b, imm)
#undef _mm512_shuffle_f32x4
#define _mm512_shuffle_f32x4(a, b, imm)                                                            \
    simde_mm512_castsi512_ps(                                                                      \
        lmrt_emu_shuf128(simde_mm512_castps_si512(a), simde_mm512_castps_si512(b), imm))
#undef _mm512_alignr_epi32
#define _mm512_alignr_epi32(a, b, n) lmrt_emu_mm512_alignr_epi32(a, b, n)

/* gathers: element i from base + idx[i] * scale */
LMRT_EMU_INLINE simde__m512 lmrt_emu_mm512_i32gather_ps(simde__m512i idx, const void *base,
                                                        int scale) {
    int32_t ix[16];
    float r[16];
    memcpy(ix, &idx, 64);
    for (int i = 0; i < 16; i++)
        memcpy(&r[i], (const uint8_t *)base + (int64_t)ix[i] * scale, 4);
    simde__m512 o;
    memcpy(&o, r, 64);
    return o;
}
LMRT_EMU_INLINE simde__m512i lmrt_emu_mm512_i32gather_epi32(simde__m512i idx, const void *base,
                                                            int scale) {
    return simde_mm512_castps_si512(lmrt_emu_mm512_i32gather_ps(idx, base, scale));
}
#undef _mm512_i32gather_ps
#define _mm512_i32gather_ps(idx, base, scale) lmrt_emu_mm512_i32gather_ps(idx, base, scale)
#undef _mm512_i32gather_epi32
#define _mm512_i32gather_epi32(idx, base, scale) lmrt_emu_mm512_i32gather_epi32(idx, base, scale)

/* ---- reductions, in the order of GCC's <avx512fintrin.h> -------------------------------- */

#define LMRT_EMU_REDUCE_F32(NAME, OP)                                                              \
    LMRT_EMU_INLINE float NAME(simde__m512 a) {                                                    \
        float v[16], h[8], q[4], p[2];                                                             \
        memcpy(v, &a, 64);                                                                         \
        for (int i = 0; i < 8; i++)                                                                \
            h[i] = OP(v[i + 8], v[i]);                                                             \
        for (int i = 0; i < 4; i++)                                                                \
            q[i] = OP(h[i + 4], h[i]);                                                             \
        for (int i = 0; i < 2; i++)                                                                \
            p[i] = OP(q[i], q[i + 2]);                                                             \
        return OP(p[0], p[1]);                                                                     \
    }
LMRT_EMU_INLINE float lmrt_emu_addf(float a, float b) { return a + b; }
LMRT_EMU_INLINE float lmrt_emu_maxf(float a, float b) { return a > b ? a : b; } /* vmaxps */
LMRT_EMU_INLINE float lmrt_emu_minf(float a, float b) { return a < b ? a : b; } /* vminps */
LMRT_EMU_REDUCE_F32(lmrt_emu_mm512_reduce_add_ps, lmrt_emu_addf)
LMRT_EMU_REDUCE_F32(lmrt_emu_mm512_reduce_max_ps, lmrt_emu_maxf)
LMRT_EMU_REDUCE_F32(lmrt_emu_mm512_reduce_min_ps, lmrt_emu_minf)
LMRT_EMU_INLINE int lmrt_emu_mm512_reduce_add_epi32(simde__m512i a) {
    uint32_t v[16], s = 0;
    memcpy(v, &a, 64);
    for (int i = 0; i < 16; i++)
        s += v[i];
    return (int)s;
}
#undef _mm512_reduce_add_ps
#define _mm512_reduce_add_ps(a) lmrt_emu_mm512_reduce_add_ps(a)
#undef _mm512_reduce_max_ps
#define _mm512_reduce_max_ps(a) lmrt_emu_mm512_reduce_max_ps(a)
#undef _mm512_reduce_min_ps
#define _mm512_reduce_min_ps(a) lmrt_emu_mm512_reduce_min_ps(a)
#undef _mm512_reduce_add_epi32
#define _mm512_reduce_add_epi32(a) lmrt_emu_mm512_reduce_add_epi32(a)

/* ---- mask registers ---------------------------------------------------------------------- */

#undef _cvtu32_mask16
#define _cvtu32_mask16(a) ((simde__mmask16)(a))
#undef _cvtu32_mask32
#define _cvtu32_mask32(a) ((simde__mmask32)(a))
#undef _cvtu64_mask64
#define _cvtu64_mask64(a) ((simde__mmask64)(a))
#undef _cvtmask16_u32
#define _cvtmask16_u32(a) ((uint32_t)(a))
#undef _mm512_int2mask
#define _mm512_int2mask(a) ((simde__mmask16)(a))
#undef _mm512_kand
#define _mm512_kand(a, b) ((simde__mmask16)((a) & (b)))
#undef _kand_mask16
#define _kand_mask16(a, b) ((simde__mmask16)((a) & (b)))

/* ---- BF16 conversions (AVX512-BF16 vcvtne2ps2bf16 / vcvtneps2bf16): a denormal or zero
 * becomes a zero of its sign, a NaN a quiet NaN with its sign and top bits, anything else is
 * rounded to nearest even (infinities stay). ---------------------------------------------- */

LMRT_EMU_INLINE uint16_t lmrt_emu_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}
LMRT_EMU_INLINE simde__m512bh lmrt_emu_mm512_cvtne2ps_pbh(simde__m512 a, simde__m512 b) {
    float x[16], y[16];
    uint16_t r[32];
    memcpy(x, &a, 64), memcpy(y, &b, 64);
    for (int i = 0; i < 16; i++)
        r[i] = lmrt_emu_f32_to_bf16(y[i]), r[16 + i] = lmrt_emu_f32_to_bf16(x[i]);
    simde__m512bh o;
    memcpy(&o, r, 64);
    return o;
}
LMRT_EMU_INLINE simde__m256bh lmrt_emu_mm512_cvtneps_pbh(simde__m512 a) {
    float x[16];
    uint16_t r[16];
    memcpy(x, &a, 64);
    for (int i = 0; i < 16; i++)
        r[i] = lmrt_emu_f32_to_bf16(x[i]);
    simde__m256bh o;
    memcpy(&o, r, 32);
    return o;
}
LMRT_EMU_INLINE simde__m512 lmrt_emu_mm512_cvtpbh_ps(simde__m256bh a) {
    uint16_t h[16];
    uint32_t r[16];
    memcpy(h, &a, 32);
    for (int i = 0; i < 16; i++)
        r[i] = (uint32_t)h[i] << 16;
    simde__m512 o;
    memcpy(&o, r, 64);
    return o;
}
#undef _mm512_cvtne2ps_pbh
#define _mm512_cvtne2ps_pbh(a, b) lmrt_emu_mm512_cvtne2ps_pbh(a, b)
#undef _mm512_cvtneps_pbh
#define _mm512_cvtneps_pbh(a) lmrt_emu_mm512_cvtneps_pbh(a)
#undef _mm512_cvtpbh_ps
#define _mm512_cvtpbh_ps(a) lmrt_emu_mm512_cvtpbh_ps(a)

/* streaming stores: the same memory effect as a store */
#undef _mm512_stream_ps
#define _mm512_stream_ps(p, a) simde_mm512_store_ps(p, a)
#undef _mm512_stream_si512
#define _mm512_stream_si512(p, a) simde_mm512_store_si512(p, a)

/* ---- SIMDe 0.7.4 intrinsics that exist but differ from the hardware ---------------------- */

/* _mm512_roundscale_ps: SIMDe's macro passes imm8 unparenthesised into an expression, so an
 * argument like _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC is split by precedence and asks for
 * scaled rounding (M = 3 fraction bits); parenthesise it. */
#undef _mm512_roundscale_ps
#define _mm512_roundscale_ps(a, imm8) simde_mm512_roundscale_ps(a, (imm8))
/* _mm512_abs_ps: the hardware clears the sign bit (vpandd), so -0 becomes +0; SIMDe's
 * leaves -0 as -0. */
LMRT_EMU_INLINE simde__m512 lmrt_emu_mm512_abs_ps(simde__m512 a) {
    uint32_t v[16];
    memcpy(v, &a, 64);
    for (int i = 0; i < 16; i++)
        v[i] &= 0x7fffffffu;
    simde__m512 r;
    memcpy(&r, v, 64);
    return r;
}
#undef _mm512_abs_ps
#define _mm512_abs_ps(a) lmrt_emu_mm512_abs_ps(a)
/* _mm512_cvtepu32_ps: SIMDe has the function but its alias is misspelled
 * (_mm512_cvtepu32_epi32). */
#undef _mm512_cvtepu32_ps
#define _mm512_cvtepu32_ps(a) simde_mm512_cvtepu32_ps(a)

/* ---- arithmetic SIMDe lacks or gets wrong: vfmaddsub, vscalefps, vrcp14ps ---------------- */

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

/* vscalefps: SIMDe computes a * exp2(floor(b)) with 2^floor(b) in f32, which overflows for
 * b >= 128 even where the product is finite, and flushes subnormal a. Here: a * 2^floor(b) rounded
 * once; NaN in either gives NaN. The product in double is exact for every finite f32 a and the
 * clamped exponent, so the one rounding is the conversion to f32 (which handles overflow to inf and
 * subnormal results correctly). */
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

/* vrcp14ps: Intel documents only a relative error below 2^-14; this returns the correctly
 * rounded 1/a, which meets the bound, so bits below it may differ from a real CPU (kernels
 * refine it with a Newton step and are tested to tolerances). */
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

#endif
