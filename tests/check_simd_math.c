/* tests/check_simd_math.c - the inline vector math of simd/avx2/avx2.h (exp and the SiLU built
 * on it) and simd/neon/neon.h (exp, SiLU, erfc and both GELU forms), swept over its whole
 * domain against double-precision libm, with the error bound its comment states. Kernel tests
 * compare whole ops at looser tolerances; this pins the functions themselves to the ulp. The
 * AVX2 helpers run where the CPU has AVX2 (compiled for it through the target pragma below,
 * the rest of the file for the baseline); the NEON helpers run natively on AArch64 and, on
 * x86 with AVX2, through SIMDe (the same translation the emulated NEON level gets).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"

#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "../simd/avx2/avx2.h"
static void exp8(float *y, const float *x) { _mm256_storeu_ps(y, lm_avx2_exp(_mm256_loadu_ps(x))); }
static void exp_nonpos8(float *y, const float *x) {
    _mm256_storeu_ps(y, lm_avx2_exp_nonpos(_mm256_loadu_ps(x)));
}
static void silu8(float *y, const float *x) {
    _mm256_storeu_ps(y, lm_avx2_silu(_mm256_loadu_ps(x)));
}
#pragma GCC pop_options
void lm_silu_avx2(float *y, const float *x, int64_t n);
void lm_swiglu_avx2(float *y, const float *g, const float *u, int64_t n);
#endif

/* |got - want| in units of the last place of want rounded to f32 (subnormal ulp 2^-149). */
static inline double ulps(float got, double want) {
    if (isnan(want)) return isnan(got) ? 0 : INFINITY;
    float w = (float)want;
    if (isinf(w)) return got == w ? 0 : INFINITY;
    int e;
    frexp(w, &e);
    double ulp = ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
    return fabs((double)got - want) / ulp;
}

/* f32 <-> an unsigned key that orders like the floats, to step through them by bit pattern */
static inline uint32_t ord(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static inline float unord(uint32_t o) {
    uint32_t u = (o & 0x80000000u) ? o & 0x7fffffffu : ~o;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Every `step`-th f32 from lo to hi (by bit pattern), 8 at a time through fn; worst ulps. */
static inline double sweep(void (*fn)(float *, const float *), double (*ref)(double), float lo,
                           float hi, uint32_t step, float *worst_x) {
    float x[8], y[8];
    double worst = 0;
    for (uint64_t o = ord(lo); o + 8 * (uint64_t)step <= ord(hi); o += 8 * (uint64_t)step) {
        for (int i = 0; i < 8; i++)
            x[i] = unord((uint32_t)(o + (uint64_t)i * step));
        fn(y, x);
        for (int i = 0; i < 8; i++) {
            double e = ulps(y[i], ref((double)x[i]));
            if (e > worst) worst = e, *worst_x = x[i];
        }
    }
    return worst;
}

static inline double silu_ref(double x) { return x / (1 + exp(-x)); }

#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)

START_TEST(avx2_exp_ulp) {
    if (!lm_isa_available(LM_ISA_AVX2)) return;
    float wx = 0;
    /* dense near 0 and coarse elsewhere; includes the subnormal results below -87.3 */
    double w1 = sweep(exp8, exp, -1e-3f, 1e-3f, 257, &wx);
    ck_assert_msg(w1 <= 2.0, "exp near 0: %.3f ulp at %a", w1, (double)wx);
    double w2 = sweep(exp8, exp, -104.0f, 89.0f, 127, &wx);
    ck_assert_msg(w2 <= 2.0, "exp: %.3f ulp at %a", w2, (double)wx);
    const float sp[8] = {NAN, INFINITY, -INFINITY, 88.7f, 88.8f, -200.0f, -0.0f, 0x1p-140f};
    float y[8];
    exp8(y, sp);
    ck_assert(isnan(y[0]));
    ck_assert(y[1] == INFINITY && y[4] == INFINITY);
    ck_assert(y[2] == 0 && y[5] == 0);
    ck_assert(y[6] == 1.0f && y[7] == 1.0f);
    ck_assert(ulps(y[3], exp((double)sp[3])) <= 2.0);
}
END_TEST

START_TEST(avx2_exp_nonpos_ulp) {
    if (!lm_isa_available(LM_ISA_AVX2)) return;
    float wx = 0;
    double w = sweep(exp_nonpos8, exp, -86.5f, 0.0f, 61, &wx);
    ck_assert_msg(w <= 2.0, "exp_nonpos: %.3f ulp at %a", w, (double)wx);
    /* below -86.5 the result is 0 (the true value is under 2.7e-38); -inf gives 0, -0 gives 1 */
    float x[8] = {-86.51f, -87.0f, -90.0f, -103.9f, -200.0f, -1e30f, -INFINITY, -0.0f}, y[8];
    exp_nonpos8(y, x);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(y[i] == 0.0f, "exp_nonpos(%g) = %g", x[i], y[i]);
    ck_assert(y[7] == 1.0f);
}
END_TEST

START_TEST(avx2_silu_ulp) {
    if (!lm_isa_available(LM_ISA_AVX2)) return;
    float wx = 0;
    /* while exp(-|x|) is a normal float: within 5 ulp */
    double w = sweep(silu8, silu_ref, -87.0f, 120.0f, 131, &wx);
    ck_assert_msg(w <= 5.0, "silu: %.3f ulp at %a", w, (double)wx);
    /* below, exp(-|x|) is subnormal (absolute error 2^-150) and silu inherits it times |x| */
    float x[8], y[8];
    for (float v = -120.0f; v < -87.0f; v += 0.37f) {
        for (int i = 0; i < 8; i++)
            x[i] = v + 0.04f * (float)i;
        silu8(y, x);
        for (int i = 0; i < 8; i++)
            ck_assert_msg(ulps(y[i], silu_ref(x[i])) <= 5.0 ||
                              fabs((double)y[i] - silu_ref(x[i])) <= fabs((double)x[i]) * 0x1p-149,
                          "silu(%a) = %a, want %a", (double)x[i], (double)y[i], silu_ref(x[i]));
    }
}
END_TEST

/* The blocked kernels (lm_avx2_exp_neg_abs_block + lm_avx2_silu_finish) against the 8-lane
 * lm_avx2_silu, bit for bit, over every 4099th float (both signs, all exponents, inf and NaN):
 * the block path reorders the passes, not the arithmetic. */
START_TEST(avx2_silu_block_bitexact) {
    if (!lm_isa_available(LM_ISA_AVX2)) return;
    enum { N = 3 * 128 + 8 * 5 + 3 };
    float x[N + 8] = {0}, y[N], w[N + 8], u[N], g[N];
    for (int i = 0; i < N; i++)
        u[i] = 1.0f + (float)i / N;
    for (uint64_t o = 0; o < 0x100000000ull; o += (uint64_t)N * 4099) {
        for (int i = 0; i < N; i++)
            x[i] = unord((uint32_t)((o + (uint64_t)i * 4099) & 0xffffffffu));
        x[0] = INFINITY, x[1] = -INFINITY, x[2] = NAN;
        lm_silu_avx2(y, x, N);
        lm_swiglu_avx2(g, x, u, N);
        for (int i = 0; i < N; i += 8)
            silu8(w + i, x + i);
        for (int i = 0; i < N; i++) {
            ck_assert_msg(memcmp(&y[i], &w[i], 4) == 0, "silu(%a): kernel %a, 8-lane %a",
                          (double)x[i], (double)y[i], (double)w[i]);
            float gw = w[i] * u[i];
            ck_assert_msg(isnan(gw) ? isnan(g[i]) : memcmp(&g[i], &gw, 4) == 0,
                          "swiglu(%a): %a, want %a", (double)x[i], (double)g[i], (double)gw);
        }
    }
}
END_TEST
#endif

/* ---- NEON helpers (natively on AArch64, through SIMDe on x86) ---------------------------- */

#if defined(__aarch64__) && defined(LMRT_HAVE_NEON)
#define NEON_MATH 1
#include "../simd/neon/neon.h"
#elif defined(__x86_64__) && defined(LMRT_HAVE_AVX2) && defined(__has_include)
#if __has_include(<simde/arm/neon.h>)
#define NEON_MATH 1
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define LMRT_EMU
#include "../simd/neon/neon.h"
#endif
#endif

#ifdef NEON_MATH
static void neon_exp8(float *y, const float *x) {
    for (int i = 0; i < 8; i += 4)
        vst1q_f32(y + i, lm_neon_exp(vld1q_f32(x + i)));
}
static void neon_exp_nonpos8(float *y, const float *x) {
    for (int i = 0; i < 8; i += 4)
        vst1q_f32(y + i, lm_neon_exp_nonpos(vld1q_f32(x + i)));
}
static void neon_silu8(float *y, const float *x) {
    for (int i = 0; i < 8; i += 4)
        vst1q_f32(y + i, lm_neon_silu(vld1q_f32(x + i)));
}
static void neon_erfc8(float *y, const float *x) {
    for (int i = 0; i < 8; i += 4)
        vst1q_f32(y + i, lm_neon_erfc(vld1q_f32(x + i)));
}
static void neon_gelu_erf8(float *y, const float *x) {
    for (int i = 0; i < 8; i += 4)
        vst1q_f32(y + i, lm_neon_gelu_erf(vld1q_f32(x + i)));
}
static void neon_gelu_tanh8(float *y, const float *x) {
    for (int i = 0; i < 8; i += 4)
        vst1q_f32(y + i, lm_neon_gelu_tanh(vld1q_f32(x + i)));
}
#if defined(__x86_64__)
#pragma GCC pop_options
#endif
/* the NEON helpers run on x86 only where SIMDe's translation may use AVX2 */
static bool neon_math_runs(void) {
#if defined(__x86_64__)
    return lm_isa_available(LM_ISA_AVX2);
#else
    return true;
#endif
}

static double gelu_erf_ref(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }
/* h (1 + tanh(v)) = x / (1 + exp(-2v)): the same function without double's own cancellation */
static double gelu_tanh_ref(double x) {
    double v = 0.79788456080286536 * (x + 0.044715 * x * x * x);
    return x / (1 + exp(-2 * v));
}

START_TEST(neon_exp_ulp) {
    if (!neon_math_runs()) return;
    float wx = 0;
    double w1 = sweep(neon_exp8, exp, -1e-3f, 1e-3f, 257, &wx);
    ck_assert_msg(w1 <= 2.0, "exp near 0: %.3f ulp at %a", w1, (double)wx);
    double w2 = sweep(neon_exp8, exp, -104.0f, 89.0f, 509, &wx);
    ck_assert_msg(w2 <= 2.0, "exp: %.3f ulp at %a", w2, (double)wx);
    const float sp[8] = {NAN, INFINITY, -INFINITY, 88.7f, 88.8f, -200.0f, -0.0f, 0x1p-140f};
    float y[8];
    neon_exp8(y, sp);
    ck_assert(isnan(y[0]));
    ck_assert(y[1] == INFINITY && y[4] == INFINITY);
    ck_assert(y[2] == 0 && y[5] == 0);
    ck_assert(y[6] == 1.0f && y[7] == 1.0f);
    ck_assert(ulps(y[3], exp((double)sp[3])) <= 2.0);
}
END_TEST

START_TEST(neon_exp_nonpos_ulp) {
    if (!neon_math_runs()) return;
    float wx = 0;
    double w = sweep(neon_exp_nonpos8, exp, -86.5f, 0.0f, 251, &wx);
    ck_assert_msg(w <= 2.0, "exp_nonpos: %.3f ulp at %a", w, (double)wx);
    float x[8] = {-86.51f, -87.0f, -90.0f, -103.9f, -200.0f, -1e30f, -INFINITY, -0.0f}, y[8];
    neon_exp_nonpos8(y, x);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(y[i] == 0.0f, "exp_nonpos(%g) = %g", x[i], y[i]);
    ck_assert(y[7] == 1.0f);
}
END_TEST

START_TEST(neon_silu_ulp) {
    if (!neon_math_runs()) return;
    float wx = 0;
    double w = sweep(neon_silu8, silu_ref, -87.0f, 120.0f, 521, &wx);
    ck_assert_msg(w <= 5.0, "silu: %.3f ulp at %a", w, (double)wx);
    float x[8], y[8];
    for (float v = -120.0f; v < -87.0f; v += 0.37f) {
        for (int i = 0; i < 8; i++)
            x[i] = v + 0.04f * (float)i;
        neon_silu8(y, x);
        for (int i = 0; i < 8; i++)
            ck_assert_msg(ulps(y[i], silu_ref(x[i])) <= 5.0 ||
                              fabs((double)y[i] - silu_ref(x[i])) <= fabs((double)x[i]) * 0x1p-149,
                          "silu(%a) = %a, want %a", (double)x[i], (double)y[i], silu_ref(x[i]));
    }
    const float sp[8] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e30f, -1e30f, -FLT_MAX};
    neon_silu8(y, sp);
    ck_assert(y[0] == INFINITY && y[1] == 0 && signbit(y[1]) && isnan(y[2]));
    ck_assert(y[3] == 0 && y[4] == 0 && y[5] == 1e30f && y[6] == 0 && y[7] == 0);
}
END_TEST

/* erfc over [0, 9.1] (down to about FLT_MIN) within 7 ulp; 0 from 10.2 on. */
START_TEST(neon_erfc_ulp) {
    if (!neon_math_runs()) return;
    float wx = 0;
    double w = sweep(neon_erfc8, erfc, 0.0f, 9.1f, 397, &wx);
    ck_assert_msg(w <= 7.0, "erfc: %.3f ulp at %a", w, (double)wx);
    const float x[8] = {0.0f, 1e-30f, 0.5f, 2.0f, 10.3f, 10.9f, 11.0f, 3.0f};
    float y[8];
    neon_erfc8(y, x);
    ck_assert(ulps(y[0], 1.0) <= 1.0 && ulps(y[1], 1.0) <= 1.0);
    ck_assert(y[4] == 0 && y[5] == 0 && y[6] == 0);
}
END_TEST

/* GELU, erf form: within 10 ulp wherever the result is a normal float (x from -12.9 up, both
 * signs, and large positive x where it is x); limits and NaN. */
START_TEST(neon_gelu_erf_ulp) {
    if (!neon_math_runs()) return;
    float wx = 0;
    double w1 = sweep(neon_gelu_erf8, gelu_erf_ref, -12.9f, 0.0f, 397, &wx);
    ck_assert_msg(w1 <= 10.0, "gelu_erf x < 0: %.3f ulp at %a", w1, (double)wx);
    double w2 = sweep(neon_gelu_erf8, gelu_erf_ref, 0.0f, 1e30f, 1021, &wx);
    ck_assert_msg(w2 <= 10.0, "gelu_erf x > 0: %.3f ulp at %a", w2, (double)wx);
    const float x[8] = {INFINITY, -INFINITY, NAN, -0.0f, -20.0f, -1e30f, FLT_MAX, 1e-30f};
    float y[8];
    neon_gelu_erf8(y, x);
    ck_assert(y[0] == INFINITY && y[1] == 0 && signbit(y[1]) && isnan(y[2]));
    ck_assert(y[3] == 0 && y[4] == 0 && y[5] == 0 && y[6] == FLT_MAX);
    ck_assert(ulps(y[7], 5e-31) <= 2.0);
}
END_TEST

/* GELU, tanh form: within 4 ulp for x >= 0; for x < 0 within 8 ulp plus |z| 2^-22 relative, z
 * = 2v the f32 argument of the exp, whose own rounding exp magnifies by |z| (neon.h). */
START_TEST(neon_gelu_tanh_ulp) {
    if (!neon_math_runs()) return;
    float wx = 0;
    double w = sweep(neon_gelu_tanh8, gelu_tanh_ref, 0.0f, 1e30f, 1021, &wx);
    ck_assert_msg(w <= 4.0, "gelu_tanh x > 0: %.3f ulp at %a", w, (double)wx);
    float x[8], y[8];
    for (uint64_t o = ord(-9.4f); o + 8 * 397 <= ord(-0.0f); o += 8 * 397) {
        for (int i = 0; i < 8; i++)
            x[i] = unord((uint32_t)(o + (uint64_t)i * 397));
        neon_gelu_tanh8(y, x);
        for (int i = 0; i < 8; i++) {
            double z = 1.5957691216057308 * fabs(x[i]) * (1 + 0.044715 * x[i] * x[i]);
            double want = gelu_tanh_ref(x[i]), e = fabs((double)y[i] - want);
            ck_assert_msg(ulps(y[i], want) <= 8.0 || e <= fabs(want) * z * 0x1p-22,
                          "gelu_tanh(%a) = %a, want %a", (double)x[i], (double)y[i], want);
        }
    }
    const float sp[8] = {INFINITY, -INFINITY, NAN, -0.0f, -3e19f, 3e19f, -1e30f, 0.0f};
    neon_gelu_tanh8(y, sp);
    ck_assert(y[0] == INFINITY && y[1] == 0 && signbit(y[1]) && isnan(y[2]));
    ck_assert(y[3] == 0 && y[4] == 0 && y[5] == 3e19f && y[6] == 0 && y[7] == 0);
}
END_TEST
#endif

static Suite *simd_math_suite(void) {
    Suite *s = suite_create("simd_math");
    TCase *tc = tcase_create("avx2");
    tcase_set_timeout(tc, 120);
#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)
    tcase_add_test(tc, avx2_exp_ulp);
    tcase_add_test(tc, avx2_exp_nonpos_ulp);
    tcase_add_test(tc, avx2_silu_ulp);
    tcase_add_test(tc, avx2_silu_block_bitexact);
#endif
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("neon");
    tcase_set_timeout(tn, 120);
#ifdef NEON_MATH
    tcase_add_test(tn, neon_exp_ulp);
    tcase_add_test(tn, neon_exp_nonpos_ulp);
    tcase_add_test(tn, neon_silu_ulp);
    tcase_add_test(tn, neon_erfc_ulp);
    tcase_add_test(tn, neon_gelu_erf_ulp);
    tcase_add_test(tn, neon_gelu_tanh_ulp);
#endif
    suite_add_tcase(s, tn);
    return s;
}

int main(void) { return tu_run(simd_math_suite()); }
