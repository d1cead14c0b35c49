/* tests/emu/amx_emu.h - a plain-C model of the AMX tile registers and instructions (AMX-TILE,
 * AMX-INT8, AMX-BF16), so the kernels in simd/amx/ run on any x86 CPU in the test build.
 *
 * Written from the pseudocode of Intel's SDM (LDTILECFG, STTILECFG, TILELOADD[T1], TILESTORED,
 * TILEZERO, TILERELEASE, TDPB[SU]{S,U}D, TDPBF16PS). Under LMRT_EMU (build/emu/, included by
 * simd/amx/amx.h) the intrinsics get their usual names (_tile_loadd(...) and so on, taking
 * tile numbers 0..7 like the real ones), so the kernel source compiles unchanged; without
 * LMRT_EMU only the amxe_* functions exist, which is how tests/check_amx_emu.c compares them
 * with the real instructions in the same file.
 *
 * State: one palette-1 configuration (colsb, rows per tile, start_row) and 8 tiles of 16 rows x
 * 64 bytes, thread-local, as on hardware. It is static: every file that includes this header
 * has its own copy (as if each ran on its own core), so a kernel configures and uses its tiles
 * in one file, which is what ours do.
 *
 * Faults: where the instruction would raise #GP or #UD (a bad configuration, a tile that is not
 * configured, shapes that do not fit a dot product, the same tile named twice), the model prints
 * what was wrong and aborts: that is a test failure, never something a kernel may rely on. Checks
 * follow the SDM: LDTILECFG wants palette 0 or 1, reserved bytes zero, rows <= 16, colsb <= 64
 * and, per tile, rows and colsb both zero (unused) or both nonzero.
 *
 * Arithmetic, per the SDM:
 * - TDPB**D: per output dword, c + p0 + p1 + p2 + p3 over each group of four byte products,
 *   in 32-bit two's complement (wraps, never saturates); signed or zero extension per operand.
 * - TDPBF16PS: per output row, two f32 accumulators per column (even and odd elements of the
 *   bf16 pairs) start at zero and take one FMA per pair over the k loop (products of two bf16
 *   are exact in f32, so the FMA rounds once); then dst = dst + (even + odd). Every operation
 *   rounds to nearest even, treats denormal inputs as zero (DAZ) and flushes denormal results
 *   to zero (FTZ) keeping the sign; MXCSR is neither read nor written, no exception is raised.
 *   Modelled: each step as fmaf/addition in the default rounding mode (the library never
 *   changes it), then DAZ on the inputs of the step and FTZ on its result. x86 detects
 *   tininess after rounding; fmaf rounds in the subnormal range before we flush, so the two can
 *   differ only for an exact result in (2^-126 - 2^-150, 2^-126), which rounds up to 2^-126
 *   here but is flushed by hardware. The model checks the result against the exact value
 *   (in double, exact for the products of two bf16) in that band and flushes it as hardware does.
 *   NaN payloads: a NaN result is whatever the C operation gives (quiet); the suite compares
 *   NaN-ness, not payloads.
 */
#ifndef LMRT_TESTS_AMX_EMU_H
#define LMRT_TESTS_AMX_EMU_H

#include <immintrin.h> /* first: under LMRT_EMU our names replace its _tile_* below */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct amxe_state {
    uint8_t palette, start_row;
    uint16_t colsb[8];
    uint8_t rows[8];
    uint8_t t[8][16][64];
};

static _Thread_local struct amxe_state amxe_s __attribute__((unused));

static inline __attribute__((noreturn)) void amxe_fault(const char *insn, const char *why, int a) {
    fprintf(stderr, "amx_emu: %s: %s (%d): the instruction would fault\n", insn, why, a);
    abort();
}

/* A tile an instruction names must exist and be configured. */
static inline void amxe_need(const char *insn, int t) {
    if (t < 0 || t > 7) amxe_fault(insn, "no such tile", t);
    if (amxe_s.palette != 1) amxe_fault(insn, "tiles are not configured", t);
    if (amxe_s.rows[t] == 0) amxe_fault(insn, "tile is not configured", t);
}

/* LDTILECFG: 0 palette, 1 start_row, 2-15 reserved, 16-31 colsb[8] (u16), 32-47 reserved,
 * 48-55 rows[8], 56-63 reserved. Palette 0 is the INIT state (tiles zeroed). */
static inline void amxe_loadconfig(const void *cfg) {
    const uint8_t *b = (const uint8_t *)cfg;
    if (b[0] > 1) amxe_fault("ldtilecfg", "palette", b[0]);
    if (b[0] == 0) {
        memset(&amxe_s, 0, sizeof amxe_s);
        return;
    }
    for (int i = 2; i < 16; i++)
        if (b[i]) amxe_fault("ldtilecfg", "reserved byte not zero", i);
    for (int i = 32; i < 48; i++)
        if (b[i]) amxe_fault("ldtilecfg", "reserved byte not zero", i);
    for (int i = 56; i < 64; i++)
        if (b[i]) amxe_fault("ldtilecfg", "reserved byte not zero", i);
    struct amxe_state s;
    memset(&s, 0, sizeof s);
    s.palette = 1;
    s.start_row = b[1];
    for (int t = 0; t < 8; t++) {
        s.colsb[t] = (uint16_t)(b[16 + 2 * t] | b[17 + 2 * t] << 8);
        s.rows[t] = b[48 + t];
        if (s.colsb[t] > 64) amxe_fault("ldtilecfg", "colsb > 64 for tile", t);
        if (s.rows[t] > 16) amxe_fault("ldtilecfg", "rows > 16 for tile", t);
        if ((s.colsb[t] == 0) != (s.rows[t] == 0))
            amxe_fault("ldtilecfg", "rows and colsb must both be zero or both nonzero, tile", t);
    }
    amxe_s = s;
}

/* STTILECFG: the configuration in LDTILECFG's layout; 64 zero bytes in the INIT state. */
static inline void amxe_storeconfig(void *cfg) {
    uint8_t *b = (uint8_t *)cfg;
    memset(b, 0, 64);
    if (amxe_s.palette == 0) return;
    b[0] = amxe_s.palette;
    b[1] = amxe_s.start_row;
    for (int t = 0; t < 8; t++) {
        b[16 + 2 * t] = (uint8_t)(amxe_s.colsb[t] & 0xff);
        b[17 + 2 * t] = (uint8_t)(amxe_s.colsb[t] >> 8);
        b[48 + t] = amxe_s.rows[t];
    }
}

/* TILERELEASE: back to the INIT state. */
static inline void amxe_release(void) { memset(&amxe_s, 0, sizeof amxe_s); }

/* TILELOADD / TILELOADDT1 (the T1 hint changes nothing here): rows [start_row, rows) of colsb
 * bytes from base + row * stride; the rest of each row and the rows past `rows` become zero. */
static inline void amxe_loadd(int t, const void *base, long stride) {
    amxe_need("tileloadd", t);
    const uint8_t *p = (const uint8_t *)base;
    for (int r = amxe_s.start_row; r < 16; r++) {
        memset(amxe_s.t[t][r], 0, 64);
        if (r < amxe_s.rows[t]) memcpy(amxe_s.t[t][r], p + (long)r * stride, amxe_s.colsb[t]);
    }
    amxe_s.start_row = 0;
}

/* TILESTORED: rows [start_row, rows) of colsb bytes to base + row * stride. */
static inline void amxe_stored(int t, void *base, long stride) {
    amxe_need("tilestored", t);
    uint8_t *p = (uint8_t *)base;
    for (int r = amxe_s.start_row; r < amxe_s.rows[t]; r++)
        memcpy(p + (long)r * stride, amxe_s.t[t][r], amxe_s.colsb[t]);
    amxe_s.start_row = 0;
}

/* TILEZERO */
static inline void amxe_zero(int t) {
    amxe_need("tilezero", t);
    memset(amxe_s.t[t], 0, sizeof amxe_s.t[t]);
    amxe_s.start_row = 0;
}

/* The #UD checks every dot product shares: C (m x n) += A (m x k) B (k x n). */
static inline void amxe_dp_check(const char *insn, int c, int a, int b) {
    amxe_need(insn, c), amxe_need(insn, a), amxe_need(insn, b);
    if (c == a || c == b || a == b) amxe_fault(insn, "the same tile named twice", c);
    const uint16_t *cb = amxe_s.colsb;
    const uint8_t *rw = amxe_s.rows;
    if (cb[c] % 4 || cb[a] % 4 || cb[b] % 4) amxe_fault(insn, "colsb not a multiple of 4", c);
    if (cb[c] != cb[b]) amxe_fault(insn, "dst colsb != src2 colsb", cb[c]);
    if (cb[a] / 4 != rw[b]) amxe_fault(insn, "src1 colsb / 4 != src2 rows", cb[a]);
    if (rw[c] != rw[a]) amxe_fault(insn, "dst rows != src1 rows", rw[c]);
}

static inline uint32_t amxe_dword(int t, int r, int i) {
    uint32_t v;
    memcpy(&v, &amxe_s.t[t][r][4 * i], 4);
    return v;
}

/* TDPBSSD / TDPBSUD / TDPBUSD / TDPBUUD: sa, sb say whether src1 / src2 bytes are signed. */
static inline void amxe_dpb(const char *insn, int c, int a, int b, int sa, int sb) {
    amxe_dp_check(insn, c, a, b);
    const int M = amxe_s.rows[c], K = amxe_s.colsb[a] / 4, N = amxe_s.colsb[c] / 4;
    for (int m = 0; m < M; m++) {
        uint32_t tmp[16];
        for (int n = 0; n < N; n++)
            tmp[n] = amxe_dword(c, m, n);
        for (int k = 0; k < K; k++)
            for (int n = 0; n < N; n++) {
                const uint8_t *x = &amxe_s.t[a][m][4 * k], *y = &amxe_s.t[b][k][4 * n];
                uint32_t s = tmp[n];
                for (int i = 0; i < 4; i++) {
                    int32_t xv = sa ? (int8_t)x[i] : x[i], yv = sb ? (int8_t)y[i] : y[i];
                    s += (uint32_t)(xv * yv); /* |product| <= 2^16: no overflow in int */
                }
                tmp[n] = s;
            }
        memset(amxe_s.t[c][m], 0, 64);
        memcpy(amxe_s.t[c][m], tmp, (size_t)N * 4);
    }
    for (int m = M; m < 16; m++)
        memset(amxe_s.t[c][m], 0, 64);
    amxe_s.start_row = 0;
}

/* ---- TDPBF16PS arithmetic --------------------------------------------------------------- */

static inline float amxe_daz(float v) {
    return fpclassify(v) == FP_SUBNORMAL ? copysignf(0.0f, v) : v;
}

/* FTZ on a result r that the exact value e (a double) was rounded from. */
static inline float amxe_ftz(float r, double e) {
    if (fpclassify(r) == FP_SUBNORMAL) return copysignf(0.0f, r);
    /* tininess after rounding: e rounds to 2^-126 in the subnormal grid but, with an unbounded
     * exponent, to the float below it: x86 flushes it */
    if (fabsf(r) == 0x1p-126f && fabs(e) < 0x1p-126 - 0x1p-151) return copysignf(0.0f, r);
    return r;
}

/* acc + a * b with DAZ on the three inputs, one rounding, FTZ. a * b is exact in double (two
 * bf16 products), and so is a * b + acc whenever the band above matters (tiny operands). */
static inline float amxe_fma_bf16(float acc, float a, float b) {
    acc = amxe_daz(acc), a = amxe_daz(a), b = amxe_daz(b);
    return amxe_ftz(fmaf(a, b, acc), (double)a * (double)b + (double)acc);
}

static inline float amxe_add(float a, float b) {
    a = amxe_daz(a), b = amxe_daz(b);
    return amxe_ftz(a + b, (double)a + (double)b);
}

static inline float amxe_bf16(int t, int r, int i) { /* bf16 element i of a row, as f32 */
    uint16_t h;
    memcpy(&h, &amxe_s.t[t][r][2 * i], 2);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline void amxe_dpbf16ps(int c, int a, int b) {
    amxe_dp_check("tdpbf16ps", c, a, b);
    const int M = amxe_s.rows[c], K = amxe_s.colsb[a] / 4, N = amxe_s.colsb[c] / 4;
    for (int m = 0; m < M; m++) {
        float even[16] = {0}, odd[16] = {0}, out[16];
        for (int k = 0; k < K; k++)
            for (int n = 0; n < N; n++) {
                even[n] = amxe_fma_bf16(even[n], amxe_bf16(a, m, 2 * k), amxe_bf16(b, k, 2 * n));
                odd[n] =
                    amxe_fma_bf16(odd[n], amxe_bf16(a, m, 2 * k + 1), amxe_bf16(b, k, 2 * n + 1));
            }
        for (int n = 0; n < N; n++) {
            float d;
            memcpy(&d, &amxe_s.t[c][m][4 * n], 4);
            out[n] = amxe_add(d, amxe_add(even[n], odd[n]));
        }
        memset(amxe_s.t[c][m], 0, 64);
        memcpy(amxe_s.t[c][m], out, (size_t)N * 4);
    }
    for (int m = M; m < 16; m++)
        memset(amxe_s.t[c][m], 0, 64);
    amxe_s.start_row = 0;
}

/* ---- the intrinsics' names (the test build of the kernels) ------------------------------ */

#ifdef LMRT_EMU
#undef _tile_loadd
#undef _tile_stream_loadd
#undef _tile_stored
#undef _tile_zero
#undef _tile_dpbssd
#undef _tile_dpbsud
#undef _tile_dpbusd
#undef _tile_dpbuud
#undef _tile_dpbf16ps
#define _tile_loadconfig(cfg)                 amxe_loadconfig(cfg)
#define _tile_storeconfig(cfg)                amxe_storeconfig(cfg)
#define _tile_release()                       amxe_release()
#define _tile_loadd(dst, base, stride)        amxe_loadd((dst), (base), (long)(stride))
#define _tile_stream_loadd(dst, base, stride) amxe_loadd((dst), (base), (long)(stride))
#define _tile_stored(src, base, stride)       amxe_stored((src), (base), (long)(stride))
#define _tile_zero(dst)                       amxe_zero(dst)
#define _tile_dpbssd(c, a, b)                 amxe_dpb("tdpbssd", (c), (a), (b), 1, 1)
#define _tile_dpbsud(c, a, b)                 amxe_dpb("tdpbsud", (c), (a), (b), 1, 0)
#define _tile_dpbusd(c, a, b)                 amxe_dpb("tdpbusd", (c), (a), (b), 0, 1)
#define _tile_dpbuud(c, a, b)                 amxe_dpb("tdpbuud", (c), (a), (b), 0, 0)
#define _tile_dpbf16ps(c, a, b)               amxe_dpbf16ps((c), (a), (b))

/* AVX-512 intrinsics the AMX kernels use that SIMDe 0.7.4 lacks (without these a kernel falls
 * through to GCC's own, which needs -mavx512f). Skipped where a header included before this
 * one (tests/emu/simde_x86_extra.h, SIMDe) already maps the name. Masked stores write only the
 * lanes whose mask bit is set, as the hardware does (the others may lie past a buffer). */
#ifndef _mm512_mask_storeu_ps
static inline void amxe_mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 v) {
    float f[16];
    memcpy(f, &v, sizeof f);
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy((char *)p + 4 * i, &f[i], 4);
}
#define _mm512_mask_storeu_ps(p, k, v) amxe_mm512_mask_storeu_ps((p), (k), (v))
#endif
#ifndef _mm512_cvtepi32_ps
static inline __m512 amxe_mm512_cvtepi32_ps(__m512i v) { /* vcvtdq2ps: RNE per lane */
    __m256i h[2];
    __m256 f[2];
    memcpy(h, &v, sizeof h);
    f[0] = _mm256_cvtepi32_ps(h[0]), f[1] = _mm256_cvtepi32_ps(h[1]);
    __m512 r;
    memcpy(&r, f, sizeof r);
    return r;
}
#define _mm512_cvtepi32_ps(v) amxe_mm512_cvtepi32_ps(v)
#endif
#endif

#endif
