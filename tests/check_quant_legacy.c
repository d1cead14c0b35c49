/* tests/check_quant_legacy.c - Q8_0, Q4_0, Q4_1 blocks: layout, quantizers, dequantizers, the
 * 8-bit activation rows the matmuls read, at every kernel level.
 *
 * What is checked, and the bounds (amax = max |x| of the block; e(v) = max(|v| 2^-11, 2^-25)
 * how far the fp16 of v can be from v - relative for normal halves, half the subnormal step
 * below 2^-14):
 * - llama.cpp compatibility: rows quantized by gguf-py (llama.cpp's Python package, whose Q8_0
 *   is documented bit-exact with ggml-quants.c; golden file from
 *   tools/gen_quant_legacy_golden.py) - every level writes the same bytes and reads them back
 *   to the same floats.
 * - Known-answer blocks written by hand dequantize to exact values, and nibble j of qs[] holds
 *   element j (low) and j + 16 (high). Hand-made inputs quantize to hand-computed codes
 *   (round half away from zero, first-largest-magnitude sign, clamping at code 15).
 * - Round trip on random rows of several magnitudes, |x - dequant(quant(x))| per element:
 *     Q8_0: <= amax/254 + 127 e(amax/127)  (half a step of d = amax/127, plus 127 codes times
 *           the fp16 error of d);
 *     Q4_0: <= amax/16 + 8 e(amax/8) for elements on max's side or within 7/8 amax (half a
 *           step of |d| = amax/8, plus 8 codes times the fp16 error), and amax/8 + 8 e(amax/8)
 *           at the far end, which code 15 (-7/8 max) clamps;
 *     Q4_1: <= r/30 + 15 e(r/15) + e(min) (r = max - min: half a step, 15 codes times the fp16
 *           error of d, the fp16 error of m), all times (1 + 1e-5) for the f32 roundings of
 *           x * id and of d * q + m.
 * - SIMD dequantize is bit-identical to the reference on random blocks with every fp16 bit
 *   pattern for the scales (subnormal, inf, NaN included; where Q4_1's d and m are both NaN,
 *   any NaN, since which operand's NaN an add returns is the compiler's choice); SIMD quantize and
 * activation prep give byte-identical blocks on random rows and on rows built from edge values
 * (ties, +-0, denormals, huge, inf, NaN).
 * - Edge blocks: all zero -> d == 0 and zeros back; NaN -> that block all NaN, neighbours
 *   intact; +-inf and huge values -> a saturated, finite block; tiny -> zeros, never NaN.
 * - lm_quantize / lm_dequantize: 1, 2 and 3 threads agree with the kernel, strided F32 input,
 *   rows that are not whole blocks return LM_EINVAL naming the op.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/quant_legacy.h"
#include "testutil.h"

static const enum lm_dtype DT[3] = {LM_Q8_0, LM_Q4_0, LM_Q4_1};

static size_t bsize(enum lm_dtype t) { return lm_dtype_info(t)->size; }

/* All levels: ref first, then the SIMD ones. */
static int all_levels(enum lm_isa *out) {
    out[0] = LM_ISA_REF;
    return 1 + tu_simd_levels(out + 1);
}

/* ---- known answers ----------------------------------------------------------------------- */

START_TEST(known_blocks_dequantize) {
    struct lm_block_q8_0 b8 = {.d = 0x3800};               /* 0.5 */
    struct lm_block_q4_0 b40 = {.d = 0x4000};              /* 2.0 */
    struct lm_block_q4_1 b41 = {.d = 0x3c00, .m = 0xc000}; /* 1.0, -2.0 */
    float want8[32], want40[32], want41[32], got[32];
    for (int j = 0; j < 32; j++) {
        b8.qs[j] = (int8_t)(j * 9 - 128); /* -128 .. 151 wraps: covers both signs, -128 too */
        want8[j] = 0.5f * (float)(int8_t)(j * 9 - 128);
    }
    for (int j = 0; j < 16; j++) {
        b40.qs[j] = (uint8_t)(j | (15 - j) << 4);
        want40[j] = 2.0f * (float)(j - 8);
        want40[j + 16] = 2.0f * (float)(7 - j);
        b41.qs[j] = (uint8_t)((j * 7 % 16) | (j * 3 % 16) << 4);
        want41[j] = (float)(j * 7 % 16) - 2.0f;
        want41[j + 16] = (float)(j * 3 % 16) - 2.0f;
    }
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = all_levels(lv);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        k->to_f32[LM_Q8_0](got, &b8, 32);
        tu_assert_equal_f32("q8_0 known block", got, want8, 32);
        k->to_f32[LM_Q4_0](got, &b40, 32);
        tu_assert_equal_f32("q4_0 known block", got, want40, 32);
        k->to_f32[LM_Q4_1](got, &b41, 32);
        tu_assert_equal_f32("q4_1 known block", got, want41, 32);
    }
    /* the on-disk bytes: scale little-endian first, then the codes */
    const uint8_t *raw = (const uint8_t *)&b41;
    ck_assert_uint_eq(raw[0], 0x00);
    ck_assert_uint_eq(raw[1], 0x3c);
    ck_assert_uint_eq(raw[2], 0x00);
    ck_assert_uint_eq(raw[3], 0xc0);
    ck_assert_uint_eq(raw[4], b41.qs[0]);
}
END_TEST

START_TEST(known_blocks_quantize) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = all_levels(lv);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        /* Q8_0: amax 127 -> d = 1 exactly; ties round away from zero */
        float x[32] = {-127, 2.5f, -2.5f, 0.5f, -0.5f, 1.49f, -1.5f, 126.5f, 3};
        struct lm_block_q8_0 b8;
        k->from_f32[LM_Q8_0](&b8, x, 32);
        ck_assert_uint_eq(b8.d, 0x3c00);
        const int8_t q8[9] = {-127, 3, -3, 1, -1, 1, -2, 127, 3};
        for (int j = 0; j < 32; j++)
            ck_assert_int_eq(b8.qs[j], j < 9 ? q8[j] : 0);

        /* Q4_0: max = -8 (largest magnitude, negative) -> d = 1; q = trunc(x + 8.5) <= 15 */
        float y[32] = {0.5f, -8, 7, 7.6f, -0.5f, 1.49f, -7.5f, 3};
        struct lm_block_q4_0 b4;
        k->from_f32[LM_Q4_0](&b4, y, 32);
        ck_assert_uint_eq(b4.d, 0x3c00);
        const int c4[8] = {9, 0, 15, 15, 8, 9, 1, 11};
        for (int j = 0; j < 32; j++) {
            int c = j < 16 ? b4.qs[j] & 15 : b4.qs[j - 16] >> 4;
            ck_assert_int_eq(c, j < 8 ? c4[j] : 8);
        }
        /* the first element of largest magnitude decides the sign of d */
        float z[32] = {0};
        z[3] = 4, z[20] = -4;
        k->from_f32[LM_Q4_0](&b4, z, 32);
        ck_assert_uint_eq(b4.d, 0xb800); /* 4 / -8 = -0.5 */
        z[3] = -4, z[20] = 4;
        k->from_f32[LM_Q4_0](&b4, z, 32);
        ck_assert_uint_eq(b4.d, 0x3800);

        /* Q4_1: min -1, max 14 -> d = 1, m = -1; q = trunc(x + 1 + 0.5) */
        float u[32];
        for (int j = 0; j < 32; j++)
            u[j] = (float)(j % 16) - 1.0f + (j >= 16 ? 0.49f : 0.0f);
        u[31] = 14, u[30] = -0.51f;
        struct lm_block_q4_1 b1;
        k->from_f32[LM_Q4_1](&b1, u, 32);
        ck_assert_uint_eq(b1.d, 0x3c00);
        ck_assert_uint_eq(b1.m, 0xbc00);
        for (int j = 0; j < 32; j++) {
            int c = j < 16 ? b1.qs[j] & 15 : b1.qs[j - 16] >> 4;
            int want = j < 16 ? j : j == 31 ? 15 : j == 30 ? 0 : j - 16;
            ck_assert_msg(c == want, "%s q4_1 code %d: %d, want %d", lm_isa_name(lv[l]), j, c,
                          want);
        }
    }
}
END_TEST

/* ---- llama.cpp's blocks (golden file from gguf-py, tools/gen_quant_legacy_golden.py) ---- */

START_TEST(gguf_golden_blocks) {
    FILE *f = fopen("tests/data/quant_legacy_gguf.bin", "rb");
    ck_assert_msg(f != NULL, "tests/data/quant_legacy_gguf.bin: run from the repository root");
    char magic[4];
    uint32_t hdr[2];
    ck_assert(fread(magic, 1, 4, f) == 4 && fread(hdr, 4, 2, f) == 2);
    ck_assert(memcmp(magic, "LMQG", 4) == 0 && hdr[0] == 1 && hdr[1] > 0 && hdr[1] < 100000);
    const int64_t nb = hdr[1], n = nb * 32;
    float *x = tu_alloc(n * 4), *want = tu_alloc(n * 4), *got = tu_alloc(n * 4);
    uint8_t *blocks[3], *q = tu_alloc(nb * 34);
    ck_assert(fread(x, 4, (size_t)n, f) == (size_t)n);
    for (int t = 0; t < 3; t++) {
        blocks[t] = tu_alloc(nb * bsize(DT[t]));
        ck_assert(fread(blocks[t], bsize(DT[t]), (size_t)nb, f) == (size_t)nb);
    }
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = all_levels(lv);
    for (int t = 0; t < 3; t++) {
        ck_assert(fread(want, 4, (size_t)n, f) == (size_t)n);
        for (int l = 0; l < nl; l++) {
            const struct lm_kernels *k = lm_kernels_get(lv[l]);
            k->from_f32[DT[t]](q, x, n);
            for (int64_t b = 0; b < nb; b++)
                ck_assert_msg(
                    memcmp(q + b * bsize(DT[t]), blocks[t] + b * bsize(DT[t]), bsize(DT[t])) == 0,
                    "%s %s: block %lld differs from gguf-py's", lm_isa_name(lv[l]),
                    lm_dtype_name(DT[t]), (long long)b);
            k->to_f32[DT[t]](got, blocks[t], n);
            tu_assert_equal_f32(lm_dtype_name(DT[t]), got, want, n);
        }
    }
    fclose(f);
    for (int t = 0; t < 3; t++)
        lm_aligned_free(blocks[t]);
    lm_aligned_free(x), lm_aligned_free(want), lm_aligned_free(got), lm_aligned_free(q);
}
END_TEST

/* ---- round trip error bounds ------------------------------------------------------------- */

/* How far lm_f32_to_f16(v) can be from v: 2^-11 relative, or half the subnormal step 2^-24. */
static double f16err(double v) { return fmax(fabs(v) * 0x1p-11, 0x1p-25); }

static void check_roundtrip_block(enum lm_dtype t, const float *x, const float *y,
                                  const char *lvl) {
    float amax = 0, mn = x[0], mx = x[0], big = x[0];
    for (int j = 0; j < 32; j++) {
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]), big = x[j];
        mn = fminf(mn, x[j]), mx = fmaxf(mx, x[j]);
    }
    for (int j = 0; j < 32; j++) {
        double err = fabs((double)x[j] - y[j]), bound;
        if (t == LM_Q8_0)
            bound = amax / 254.0 + 127 * f16err(amax / 127.0);
        else if (t == LM_Q4_0)
            bound = (x[j] * big >= 0 || fabsf(x[j]) <= 0.875f * amax ? amax / 16.0 : amax / 8.0) +
                    8 * f16err(amax / 8.0);
        else
            bound = (mx - mn) / 30.0 + 15 * f16err((mx - mn) / 15.0) + f16err(mn);
        bound = bound * (1 + 1e-5) + 1e-30;
        ck_assert_msg(err <= bound, "%s %s [%d]: x %.9g back %.9g err %.3g > bound %.3g", lvl,
                      lm_dtype_name(t), j, (double)x[j], (double)y[j], err, bound);
    }
}

START_TEST(roundtrip_error_bounds) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = all_levels(lv);
    const int64_t n = 32 * 64;
    float *x = tu_alloc(n * 4), *y = tu_alloc(n * 4);
    uint8_t *q = tu_alloc(n * 2);
    struct tu_rng r = tu_rng(11);
    const float scales[] = {1e-3f, 1.0f, 37.0f, 2000.0f}; /* |x| < 65504: m fits a half */
    for (int s = 0; s < 4; s++) {
        for (int64_t i = 0; i < n; i++)
            x[i] = scales[s] * tu_normal(&r) + (i / 32 % 3 == 0 ? 2.0f * scales[s] : 0.0f);
        for (int l = 0; l < nl; l++)
            for (int t = 0; t < 3; t++) {
                const struct lm_kernels *k = lm_kernels_get(lv[l]);
                k->from_f32[DT[t]](q, x, n);
                k->to_f32[DT[t]](y, q, n);
                for (int64_t b = 0; b < n / 32; b++)
                    check_roundtrip_block(DT[t], x + 32 * b, y + 32 * b, lm_isa_name(lv[l]));
            }
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(q);
}
END_TEST

/* ---- SIMD vs reference ------------------------------------------------------------------- */

START_TEST(simd_dequantize_bit_identical) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    const int64_t maxb = 40;
    uint8_t *q = tu_alloc(maxb * 34);
    float *want = tu_alloc(maxb * 32 * 4), *got = tu_alloc(maxb * 32 * 4);
    struct tu_rng r = tu_rng(5);
    for (int rep = 0; rep < 60; rep++) {
        for (int64_t i = 0; i < maxb * 34; i++)
            q[i] = (uint8_t)tu_next(&r); /* every scale bit pattern, every code */
        for (int t = 0; t < 3; t++)
            for (int64_t nb = 1; nb <= maxb; nb += 13) {
                ref->to_f32[DT[t]](want, q, nb * 32);
                for (int l = 0; l < nl; l++) {
                    lm_kernels_get(lv[l])->to_f32[DT[t]](got, q, nb * 32);
                    /* C does not say which NaN a + b returns when both are NaN, and compilers
                     * swap the operands of an add: in a Q4_1 block whose d and m are both NaN,
                     * d * q + m is any NaN, so only NaN-ness is compared there. */
                    for (int64_t b = 0; DT[t] == LM_Q4_1 && b < nb; b++) {
                        const struct lm_block_q4_1 *p = (const struct lm_block_q4_1 *)q + b;
                        if (!isnan(lm_f16_to_f32(p->d)) || !isnan(lm_f16_to_f32(p->m))) continue;
                        for (int j = 0; j < 32; j++)
                            if (isnan(got[32 * b + j])) got[32 * b + j] = want[32 * b + j];
                    }
                    char what[64];
                    snprintf(what, sizeof what, "%s %s", lm_isa_name(lv[l]), lm_dtype_name(DT[t]));
                    tu_assert_equal_f32(what, got, want, nb * 32);
                }
            }
    }
    lm_aligned_free(q), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* Rows of 32 * nb floats built to hit every branch: random of mixed magnitudes, exact ties,
 * +-0, denormals, huge, +-inf, NaN, a lone nonzero. */
static void edge_row(float *x, int64_t nb, struct tu_rng *r) {
    for (int64_t b = 0; b < nb; b++) {
        float *v = x + 32 * b;
        int kind = (int)(tu_next(r) % 12);
        float sc = ldexpf(1.0f, (int)(tu_next(r) % 60) - 30);
        for (int j = 0; j < 32; j++) {
            switch (kind) {
            case 0: v[j] = 0.0f; break;
            case 1: v[j] = (tu_next(r) & 1) ? -0.0f : 0.0f; break;
            case 2: v[j] = ((float)(int)(tu_next(r) % 255) - 127.0f) / 2.0f; break; /* ties */
            case 3: v[j] = ((float)(int)(tu_next(r) % 17) - 8.0f) * sc; break;
            case 4: v[j] = tu_normal(r) * 1e-39f; break; /* f32 denormals */
            case 5: v[j] = tu_normal(r) * 1e30f; break;
            case 6: v[j] = tu_normal(r) * 3e38f; break; /* some overflow to inf */
            case 7: v[j] = j == 5 ? INFINITY : j == 9 ? -INFINITY : tu_normal(r); break;
            case 8: v[j] = j == 17 ? NAN : tu_normal(r); break;
            case 9: v[j] = j == 12 ? tu_normal(r) * sc : 0.0f; break;
            case 10: v[j] = 1e5f + tu_normal(r) * 3e3f; break; /* Q4_1 min past the half range */
            default: v[j] = tu_normal(r) * sc; break;
            }
        }
    }
}

START_TEST(simd_quantize_identical_blocks) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    const int64_t maxb = 24;
    float *x = tu_alloc(maxb * 32 * 4);
    uint8_t *want = tu_alloc(maxb * 40), *got = tu_alloc(maxb * 40);
    struct tu_rng r = tu_rng(9);
    for (int rep = 0; rep < 400; rep++) {
        int64_t nb = 1 + rep % maxb;
        if (rep % 2)
            edge_row(x, nb, &r);
        else
            tu_fill(x, nb * 32, &r, -3, 3);
        for (int l = 0; l < nl; l++) {
            const struct lm_kernels *k = lm_kernels_get(lv[l]);
            for (int t = 0; t < 3; t++) {
                ref->from_f32[DT[t]](want, x, nb * 32);
                k->from_f32[DT[t]](got, x, nb * 32);
                for (int64_t b = 0; b < nb; b++)
                    ck_assert_msg(
                        memcmp(got + b * bsize(DT[t]), want + b * bsize(DT[t]), bsize(DT[t])) == 0,
                        "%s %s: block %lld of rep %d differs from ref", lm_isa_name(lv[l]),
                        lm_dtype_name(DT[t]), (long long)b, rep);
            }
            /* activation rows: the format of each quantized dtype's matmul */
            for (int t = 0; t < 3; t++) {
                const struct lm_mm_kernel *mk = &k->mm[DT[t]], *mr = &ref->mm[DT[t]];
                size_t sz = mr->prep_size(nb * 32);
                ck_assert_uint_eq(sz, mk->prep_size(nb * 32));
                mr->prep(want, x, nb * 32);
                mk->prep(got, x, nb * 32);
                ck_assert_msg(memcmp(got, want, sz) == 0, "%s %s prep: rep %d differs from ref",
                              lm_isa_name(lv[l]), lm_dtype_name(DT[t]), rep);
            }
        }
    }
    lm_aligned_free(x), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* ---- edge blocks through the ops --------------------------------------------------------- */

START_TEST(edge_blocks) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = all_levels(lv);
    float x[5 * 32], y[5 * 32];
    uint8_t q[5 * 40];
    for (int j = 0; j < 32; j++) {
        x[j] = 0.0f;                                    /* block 0: zeros */
        x[32 + j] = j == 7 ? NAN : 1.0f;                /* block 1: a NaN */
        x[64 + j] = j == 3 ? INFINITY : (float)j;       /* block 2: an inf */
        x[96 + j] = j == 4 ? -1e30f : 0.25f * (float)j; /* block 3: huge */
        x[128 + j] = 1e-40f * (float)(j + 1);           /* block 4: denormals */
    }
    for (int l = 0; l < nl; l++) {
        struct lm_ctx *ctx = tu_ctx(1, lv[l]);
        for (int t = 0; t < 3; t++) {
            struct lm_tensor src = lm_tensor_1d(LM_F32, 5 * 32, x);
            struct lm_tensor qt = lm_tensor_1d(DT[t], 5 * 32, q);
            struct lm_tensor dst = lm_tensor_1d(LM_F32, 5 * 32, y);
            ck_assert_int_eq(lm_quantize(&qt, &src, ctx), LM_OK);
            ck_assert_int_eq(lm_dequantize(&dst, &qt, ctx), LM_OK);
            const char *nm = lm_dtype_name(DT[t]);
            uint16_t d0;
            memcpy(&d0, q, 2);
            ck_assert_msg(lm_f16_to_f32(d0) == 0.0f, "%s zero block d %04x", nm, d0);
            for (int j = 0; j < 32; j++) {
                ck_assert_msg(y[j] == 0.0f, "%s zero block [%d] = %g", nm, j, (double)y[j]);
                ck_assert_msg(isnan(y[32 + j]), "%s NaN block [%d] = %g", nm, j, (double)y[32 + j]);
                ck_assert_msg(isfinite(y[64 + j]) && isfinite(y[96 + j]) && y[128 + j] == 0.0f,
                              "%s inf/huge/tiny blocks [%d]: %g %g %g", nm, j, (double)y[64 + j],
                              (double)y[96 + j], (double)y[128 + j]);
            }
            /* inf and huge saturate at the largest code times 65504 (Q4_1: its min clamps) */
            float sat = DT[t] == LM_Q8_0 ? 127 * 65504.0f : DT[t] == LM_Q4_0 ? 8 * 65504.0f : 0;
            if (sat) {
                ck_assert_msg(y[64 + 3] == sat, "%s inf -> %g", nm, (double)y[64 + 3]);
                ck_assert_msg(y[96 + 4] == -sat, "%s -1e30 -> %g", nm, (double)y[96 + 4]);
            } else {
                ck_assert_msg(y[96 + 4] == -65504.0f, "%s -1e30 -> %g", nm, (double)y[96 + 4]);
                ck_assert_msg(y[64 + 3] > 60000.0f, "%s inf -> %g", nm, (double)y[64 + 3]);
            }
        }
        lm_ctx_free(ctx);
    }
}
END_TEST

START_TEST(op_threads_strided_and_errors) {
    const int64_t K = 96, rows = 13;
    struct tu_rng r = tu_rng(3);
    float *buf = tu_alloc(K * rows * 4), *xt = tu_alloc(K * rows * 4), *y = tu_alloc(K * rows * 4);
    uint8_t *want = tu_alloc(rows * 120), *got = tu_alloc(rows * 120);
    tu_fill(buf, K * rows, &r, -2, 2);
    /* buf is (rows, K); its transpose is the (K, rows) view with element stride 4 * rows */
    struct lm_tensor t = lm_tensor_2d(LM_F32, rows, K, buf), xv;
    ck_assert_int_eq(lm_tensor_transpose(&xv, &t, 0, 1), LM_OK);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t k = 0; k < K; k++)
            xt[i * K + k] = buf[k * rows + i];
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = all_levels(lv);
    for (int tt = 0; tt < 3; tt++) {
        enum lm_dtype dt = DT[tt];
        for (int64_t i = 0; i < rows; i++)
            lm_kernels_get(LM_ISA_REF)->from_f32[dt](want + i * lm_row_size(dt, K), xt + i * K, K);
        for (int l = 0; l < nl; l++)
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, lv[l]);
                struct lm_tensor qt = lm_tensor_2d(dt, K, rows, got);
                memset(got, 0xaa, rows * lm_row_size(dt, K));
                ck_assert_int_eq(lm_quantize(&qt, &xv, ctx), LM_OK);
                ck_assert_msg(memcmp(got, want, rows * lm_row_size(dt, K)) == 0,
                              "%s %s %d threads: quantize of a strided view differs",
                              lm_isa_name(lv[l]), lm_dtype_name(dt), th);
                struct lm_tensor yt = lm_tensor_2d(LM_F32, K, rows, y);
                ck_assert_int_eq(lm_dequantize(&yt, &qt, ctx), LM_OK);
                float row[96];
                for (int64_t i = 0; i < rows; i++) {
                    lm_kernels_get(LM_ISA_REF)->to_f32[dt](row, want + i * lm_row_size(dt, K), K);
                    tu_assert_equal_f32("dequantize op", y + i * K, row, K);
                }
                lm_ctx_free(ctx);
            }
        /* rows that are not whole blocks: lm_tensor_2d does not check, the ops must */
        struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
        struct lm_tensor bad = lm_tensor_2d(dt, 33, 2, got), src = lm_tensor_2d(LM_F32, 33, 2, y);
        ck_assert_int_eq(lm_quantize(&bad, &src, ctx), LM_EINVAL);
        ck_assert_ptr_nonnull(strstr(lm_last_error(), "quantize"));
        ck_assert_int_eq(lm_dequantize(&src, &bad, ctx), LM_EINVAL);
        ck_assert_ptr_nonnull(strstr(lm_last_error(), "dequantize"));
        struct lm_tensor q2 = lm_tensor_2d(dt, 64, 2, got), f2 = lm_tensor_2d(LM_F32, 32, 2, y);
        ck_assert_int_eq(lm_quantize(&q2, &f2, ctx), LM_EINVAL);
        lm_ctx_free(ctx);
    }
    lm_aligned_free(buf), lm_aligned_free(xt), lm_aligned_free(y);
    lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* ---- F16 / BF16 row converters ----------------------------------------------------------- */

/* f32 rows from halves h: bit-identical to the reference, except that a signalling NaN half
 * may come back quieted (bit 22 set, sign and payload kept): the reference keeps its bits,
 * F16C's vcvtph2ps quiets it. Returns the first index that differs, or -1. */
static int64_t f16_rows_differ(const float *got, const float *want, const uint16_t *h, int64_t n,
                               bool f16) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t g, w;
        memcpy(&g, &got[i], 4), memcpy(&w, &want[i], 4);
        const bool snan = f16 && (h[i] & 0x7c00) == 0x7c00 && (h[i] & 0x1ff) && !(h[i] & 0x200);
        if (g != w && !(snan && g == (w | 0x400000u))) return i;
    }
    return -1;
}

/* Every level's F16 and BF16 converters give the scalar reference's bits (rt/dtype.c): every
 * half to f32 (see f16_rows_differ for signalling NaNs), and random f32 bit patterns (NaN
 * payloads, subnormals, ties, overflow) plus hand-picked edges back, at lengths 1..40 and
 * longer, so every tail of a 4-, 8- or 16-lane kernel is reached, and whole rows from an odd
 * offset. check_rt does this natively; here it runs for the emulated levels too. */
START_TEST(f16_bf16_converters_match_scalar) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    const int64_t n = 65536 + 13;
    uint16_t *h = tu_alloc(n * 2), *h2 = tu_alloc(n * 2), *h3 = tu_alloc(n * 2);
    float *f = tu_alloc(n * 4), *f2 = tu_alloc(n * 4), *f3 = tu_alloc(n * 4);
    struct tu_rng r = tu_rng(6);
    for (int64_t i = 0; i < n; i++)
        h[i] = (uint16_t)i;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)tu_next(&r);
        memcpy(&f[i], &u, 4);
    }
    static const uint32_t edge[] = {0x7f800001u, 0xff800001u, 0x7fc00000u, 0x7fbfffffu,
                                    0x7f800000u, 0x477fefffu, 0x477ff000u, 0x33000000u,
                                    0x33000001u, 0x387fe000u, 0x3f808000u, 0x3f818000u,
                                    0x7f7fffffu, 0x00000001u, 0x80000000u, 0x38800000u};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        memcpy(&f[3 * i + 1], &edge[i], 4);
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int bf = 0; bf < 2; bf++) {
            enum lm_dtype t = bf ? LM_BF16 : LM_F16;
            for (int64_t len = 1; len <= n; len = len < 40 ? len + 1 : len * 7 + 3) {
                ref->to_f32[t](f2, h, len);
                k->to_f32[t](f3, h, len);
                ck_assert_msg(f16_rows_differ(f3, f2, h, len, !bf) < 0, "%s %s to_f32 len %lld",
                              lm_isa_name(lv[l]), lm_dtype_name(t), (long long)len);
                ref->from_f32[t](h2, f, len);
                k->from_f32[t](h3, f, len);
                ck_assert_msg(memcmp(h2, h3, len * 2) == 0, "%s %s from_f32 len %lld",
                              lm_isa_name(lv[l]), lm_dtype_name(t), (long long)len);
            }
            /* the whole row, once more from an odd offset (unaligned rows) */
            ref->to_f32[t](f2, h + 1, n - 1);
            k->to_f32[t](f3, h + 1, n - 1);
            int64_t d = f16_rows_differ(f3, f2, h + 1, n - 1, !bf);
            ck_assert_msg(d < 0, "%s %s to_f32 offset 1: half %04x", lm_isa_name(lv[l]),
                          lm_dtype_name(t), d < 0 ? 0 : h[d + 1]);
            ref->from_f32[t](h2, f + 1, n - 1);
            k->from_f32[t](h3, f + 1, n - 1);
            ck_assert_msg(memcmp(h2, h3, (n - 1) * 2) == 0, "%s %s from_f32 offset 1",
                          lm_isa_name(lv[l]), lm_dtype_name(t));
        }
    }
    lm_aligned_free(h), lm_aligned_free(h2), lm_aligned_free(h3);
    lm_aligned_free(f), lm_aligned_free(f2), lm_aligned_free(f3);
}
END_TEST

/* ---- F16 and BF16 rows ------------------------------------------------------------------- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Every level's to_f32 / from_f32 rows for F16 and BF16 against the scalar conversions of
 * rt/dtype.c, bit for bit: every half and bf16 pattern widened, and f32 patterns (random, plus
 * ties, subnormals, overflow, inf, NaN with payloads) narrowed, at lengths 1..70 and 1000
 * (tails of 8- and 16-lane kernels: 17, 31, 33...), nothing written past the row. One
 * exception, a hardware fact: vcvtph2ps quiets a signalling half NaN (sets the f32 quiet bit,
 * payload kept) where the scalar widening keeps it signalling; either is accepted (both are
 * NaN of the same sign and payload). */
START_TEST(f16_bf16_rows_bit_identical) {
    enum { N = 65536 };
    enum lm_isa lv[LM_ISA_COUNT];
    const int nl = tu_simd_levels(lv);
    uint16_t *h = tu_alloc(N * 2 + 2), *hg = tu_alloc(N * 2 + 2);
    float *f = tu_alloc(N * 4 + 4), *fg = tu_alloc(N * 4 + 4);
    struct tu_rng r = tu_rng(5);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int d = 0; d < 2; d++) {
            const enum lm_dtype dt = d ? LM_BF16 : LM_F16;
            const char *nm = lm_dtype_name(dt);
            /* widen: all 65536 patterns in one row, then short rows of them */
            for (int i = 0; i < N; i++)
                h[i] = (uint16_t)(i * 40503u); /* odd multiplier: a permutation of all of them */
            for (int64_t n = 1; n <= N; n = n < 70 ? n + 1 : n < 1000 ? 1000 : N + 1) {
                fg[n] = 12345.0f;
                k->to_f32[dt](fg, h, n);
                ck_assert_msg(fg[n] == 12345.0f, "%s %s to_f32 wrote past n = %lld",
                              lm_isa_name(lv[l]), nm, (long long)n);
                for (int64_t i = 0; i < n; i++) {
                    const float w = d ? lm_bf16_to_f32(h[i]) : lm_f16_to_f32(h[i]);
                    const uint32_t want = f32_bits(w), got = f32_bits(fg[i]);
                    const bool quieted = !d && isnan(w) && got == (want | 0x00400000u);
                    ck_assert_msg(got == want || quieted, "%s %s to_f32(%04x) = %08x, want %08x",
                                  lm_isa_name(lv[l]), nm, h[i], got, want);
                }
            }
            /* narrow: random patterns, then edge values over them */
            for (int i = 0; i < N; i++) {
                const uint32_t u = (uint32_t)tu_next(&r);
                memcpy(&f[i], &u, 4);
            }
            const uint32_t edge[] = {0x3f808000u, 0x3f818000u, 0x3f808001u, 0x7f7fffffu,
                                     0x477ff000u, 0x477fefffu, 0x33000000u, 0x33000001u,
                                     0x387fc000u, 0x00000001u, 0x80000001u, 0x7f800000u,
                                     0xff800000u, 0x7f800001u, 0xffc00001u, 0x7fbfffffu,
                                     0x00000000u, 0x80000000u, 0x3f800000u, 0x3a801000u};
            for (int64_t i = 0; i < 70; i++)
                memcpy(&f[3 * i + 1], &edge[i % 20], 4);
            for (int64_t n = 1; n <= N; n = n < 70 ? n + 1 : n < 1000 ? 1000 : N + 1) {
                hg[n] = 0xabcd;
                k->from_f32[dt](hg, f, n);
                ck_assert_msg(hg[n] == 0xabcd, "%s %s from_f32 wrote past n = %lld",
                              lm_isa_name(lv[l]), nm, (long long)n);
                for (int64_t i = 0; i < n; i++) {
                    const uint16_t want = d ? lm_f32_to_bf16(f[i]) : lm_f32_to_f16(f[i]);
                    ck_assert_msg(hg[i] == want, "%s %s from_f32(%08x) = %04x, want %04x",
                                  lm_isa_name(lv[l]), nm, f32_bits(f[i]), hg[i], want);
                }
            }
        }
    }
    lm_aligned_free(h), lm_aligned_free(hg), lm_aligned_free(f), lm_aligned_free(fg);
}
END_TEST

static Suite *quant_legacy_suite(void) {
    Suite *s = suite_create("quant_legacy");
    TCase *tc = tcase_create("q8_0 q4_0 q4_1");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, known_blocks_dequantize);
    tcase_add_test(tc, known_blocks_quantize);
    tcase_add_test(tc, gguf_golden_blocks);
    tcase_add_test(tc, roundtrip_error_bounds);
    tcase_add_test(tc, simd_dequantize_bit_identical);
    tcase_add_test(tc, simd_quantize_identical_blocks);
    tcase_add_test(tc, edge_blocks);
    tcase_add_test(tc, op_threads_strided_and_errors);
    tcase_add_test(tc, f16_bf16_converters_match_scalar);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("f16 bf16 rows");
    tcase_set_timeout(tf, 60);
    tcase_add_test(tf, f16_bf16_rows_bit_identical);
    suite_add_tcase(s, tf);
    return s;
}

int main(void) { return tu_run(quant_legacy_suite()); }
