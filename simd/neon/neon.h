/* simd/neon/neon.h - NEON kernel declarations and the small helpers they share.
 *
 * Files in simd/neon/ are compiled for ARMv8-A (Advanced SIMD is part of it); a file named
 * *_dotprod.c adds +dotprod (ARMv8.2 sdot/udot), so only the neon+dotprod level's files hold
 * those instructions. In the x86 test build (LMRT_EMU, build/emu/) the same files compile
 * against SIMDe's NEON, whose native aliases give the intrinsics their usual names.
 */
#ifndef LMRT_SIMD_NEON_H
#define LMRT_SIMD_NEON_H

#ifdef LMRT_EMU
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#else
#include <arm_neon.h>
#endif

#include "../kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- float helpers (owner: the float kernels; the quantized kernels may call them) ------- */

/* NEON has no masked loads: a row's last n % 4 elements go through a zero-padded local copy,
 * which reads and writes only the n (0..3) elements that exist. */
static inline float32x4_t lm_neon_load_tail(const float *p, int64_t n) {
    float b[4] = {0, 0, 0, 0};
    memcpy(b, p, (size_t)n * sizeof(float));
    return vld1q_f32(b);
}

static inline void lm_neon_store_tail(float *p, float32x4_t v, int64_t n) {
    float b[4];
    vst1q_f32(b, v);
    memcpy(p, b, (size_t)n * sizeof(float));
}

/* Sum of the 4 lanes: lanes 0+1 and 2+3, then those two (faddp twice). Spelled out with
 * vpaddq so the order is the same in SIMDe (its vaddvq_f32 may add in sequence), which lets
 * kernels build several sums at once with the same bits (gemm.h). */
static inline float lm_neon_hsum(float32x4_t v) {
    const float32x4_t p = vpaddq_f32(v, v);
    return vgetq_lane_f32(vpaddq_f32(p, p), 0);
}

/* Max of the 4 lanes (fmaxv). */
static inline float lm_neon_hmax(float32x4_t v) { return vmaxvq_f32(v); }

/* 1 / d for 4 lanes of d in [1, 2^64]: frecpe (8 bits), one frecps step (16 bits), then one
 * fma Newton step r + r (1 - d r), which lands within 1 ulp of the true reciprocal. AArch64
 * has fdiv, but SIMDe's NEON (the x86 test build) lacks vdivq_f32, and this is cheaper. */
static inline float32x4_t lm_neon_recip(float32x4_t d) {
    float32x4_t r = vrecpeq_f32(d);
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    const float32x4_t e = vfmaq_f32(vdupq_n_f32(1.0f), vnegq_f32(d), r);
    return vfmaq_f32(r, r, e);
}

/* exp(x) for 4 lanes. x = n ln2 + r: n = round(x / ln2) by the 1.5 * 2^23 shifter (t's low
 * mantissa bits hold n, no convert instruction), r in [-ln2/2, ln2/2] with ln2 split hi + lo so
 * r is exact to ~2^-30; e^r by a degree-6 polynomial (near-minimax, relative error 4e-9), in
 * Estrin's scheme (3 dependent fmas instead of 6); then 2^n applied as two factors 2^(n/2) and
 * 2^(n - n/2), so results in the subnormal range are rounded once. x is clamped to [-104, 89]
 * first: below, the result is 0; above, +inf. NaN propagates (fmin/fmax return NaN).
 * Error against double exp: <= 2 ulp over [-104, 89] (tests/check_simd_math.c). */
static inline float32x4_t lm_neon_exp_reduce(float32x4_t x, float32x4_t *t) {
    const float32x4_t shifter = vdupq_n_f32(12582912.0f);
    *t = vfmaq_f32(shifter, x, vdupq_n_f32(1.44269504088896341f));
    const float32x4_t n = vsubq_f32(*t, shifter);
    float32x4_t r = vfmaq_f32(x, n, vdupq_n_f32(-0.693145751953125f));
    r = vfmaq_f32(r, n, vdupq_n_f32(-1.428606765330187e-06f));
    const float32x4_t r2 = vmulq_f32(r, r), r4 = vmulq_f32(r2, r2);
    const float32x4_t c23 = vfmaq_f32(vdupq_n_f32(0.4999999404f), vdupq_n_f32(0.1666652113f), r);
    const float32x4_t c45 = vfmaq_f32(vdupq_n_f32(0.04166838899f), vdupq_n_f32(0.008368710056f), r);
    const float32x4_t hi = vfmaq_f32(c45, vdupq_n_f32(0.001381461276f), r2);
    const float32x4_t lo = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), c23, r2);
    return vfmaq_f32(lo, hi, r4);
}

/* n of the reduction above, from the shifter's bits */
static inline int32x4_t lm_neon_exp_n(float32x4_t t) {
    return vsubq_s32(vreinterpretq_s32_f32(t), vdupq_n_s32(0x4b400000));
}

/* p * 2^n as p * 2^(n/2) * 2^(n - n/2) */
static inline float32x4_t lm_neon_exp_scale(float32x4_t p, float32x4_t t) {
    const int32x4_t n = lm_neon_exp_n(t), n1 = vshrq_n_s32(n, 1), n2 = vsubq_s32(n, n1);
    const int32x4_t bias = vdupq_n_s32(127);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
    const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

static inline float32x4_t lm_neon_exp(float32x4_t x) {
    x = vmaxq_f32(vdupq_n_f32(-104.0f), vminq_f32(vdupq_n_f32(89.0f), x));
    float32x4_t t;
    const float32x4_t p = lm_neon_exp_reduce(x, &t);
    return lm_neon_exp_scale(p, t);
}

/* exp(x) for x <= 0 or -inf (softmax's x - max): 2^n goes straight into p's exponent field (p
 * in [0.7, 1.5] and n >= -125 keep it normal), and x < -86.5 gives 0 instead of a value below
 * 2.7e-38, which cannot move a sum that holds 1. Not for NaN or x > 0: callers rule them out.
 * Same <= 2 ulp above -86.5. */
static inline float32x4_t lm_neon_exp_nonpos(float32x4_t x) {
    float32x4_t t;
    const float32x4_t p = lm_neon_exp_reduce(x, &t); /* NaN for -inf: masked off below */
    const int32x4_t e = vaddq_s32(vreinterpretq_s32_f32(p), vshlq_n_s32(lm_neon_exp_n(t), 23));
    const uint32x4_t keep = vcgeq_f32(x, vdupq_n_f32(-86.5f));
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_s32(e), keep));
}

/* x * sigmoid(x) given e = exp(-|x|) in [0, 1]: sigmoid(|x|) = 1 / (1 + e), sigmoid(-|x|) =
 * e / (1 + e), picked by x's sign bit; exp never overflows and nothing cancels. x is clamped
 * to >= -FLT_MAX for the product, so x = -inf gives -FLT_MAX * 0 = -0; NaN propagates.
 * Error: exp 2 ulp, 1 + e, reciprocal 1 ulp, products: within 5 ulp while exp(-|x|) is normal
 * (x >= -87); below, an absolute error <= |x| 2^-149. Also GELU's tanh form (gelu_f32.c). */
static inline float32x4_t lm_neon_sigmoid_mul(float32x4_t x, float32x4_t z, float32x4_t e) {
    const float32x4_t r = lm_neon_recip(vaddq_f32(vdupq_n_f32(1.0f), e));
    const uint32x4_t neg = vreinterpretq_u32_s32(vshrq_n_s32(vreinterpretq_s32_f32(z), 31));
    const float32x4_t s = vbslq_f32(neg, vmulq_f32(e, r), r);
    return vmulq_f32(vmaxq_f32(vdupq_n_f32(-FLT_MAX), x), s);
}

/* silu(x) = x sigmoid(x) for 4 lanes (silu_f32.c, swiglu_f32.c) */
static inline float32x4_t lm_neon_silu(float32x4_t x) {
    return lm_neon_sigmoid_mul(x, x, lm_neon_exp(vnegq_f32(vabsq_f32(x))));
}

/* erfc(t) for 4 lanes of t in [0, 11], given t and t^2 as hi + lo (hi = fl(t^2), lo its
 * rounding error, so |lo| <= 2^-24 hi); t >= 10.2 gives 0 (exp(-t^2) is below the exp clamp).
 * erfc(t) = exp(-t^2) R(w), w = 1 / (1 + t/2): R(w) = erfc(t) exp(t^2) is smooth in w on
 * (1/6.5, 1] and a degree-10 polynomial (least squares on Chebyshev nodes of t in [0, 10],
 * relative error 7e-9 in double, 3e-7 evaluated in f32 with w rounded) gives it. exp(-t^2) is
 * exp(-hi) (1 - lo): t^2's rounding alone would cost up to 100 * 2^-24 relative at t = 10.
 * Within 7 ulp wherever the result is a normal float (tests/check_simd_math.c). */
static inline float32x4_t lm_neon_erfc_split(float32x4_t t, float32x4_t hi, float32x4_t lo) {
    const float32x4_t w = lm_neon_recip(vfmaq_f32(vdupq_n_f32(1.0f), t, vdupq_n_f32(0.5f)));
    float32x4_t r = vdupq_n_f32(2.681584097e-02f);
    r = vfmaq_f32(vdupq_n_f32(-2.046069205e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(6.275746226e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(-9.479248524e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(6.672950983e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(-2.419480979e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(2.814044356e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(2.243840396e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(2.851400375e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(2.818577290e-01f), r, w);
    r = vfmaq_f32(vdupq_n_f32(8.044236893e-06f), r, w);
    float32x4_t e = lm_neon_exp(vnegq_f32(hi));
    e = vfmaq_f32(e, e, vnegq_f32(lo));
    return vmulq_f32(e, r);
}

/* erfc(t), t in [0, 11] */
static inline float32x4_t lm_neon_erfc(float32x4_t t) {
    const float32x4_t hi = vmulq_f32(t, t);
    return lm_neon_erfc_split(t, hi, vfmaq_f32(vnegq_f32(hi), t, t));
}

/* GELU, erf form, 4 lanes: h (1 + erf(u)) with h = x/2, u = x / sqrt 2. 1 + erf(u) is taken
 * as erfc(|u|) for x < 0 and 2 - erfc(|u|) for x >= 0, so it never cancels: the result is
 * within 10 ulp for every x whose result is normal (tests/check_simd_math.c), where the f32
 * form 1 + erf would leave an absolute error near 2^-24 |x|. h uses x clamped to >= -FLT_MAX so
 * gelu(-inf) = -FLT_MAX/2 * 0 = -0; +inf gives +inf; NaN propagates. */
static inline float32x4_t lm_neon_gelu_erf(float32x4_t x) {
    /* a = min(|x|, 15.5), t = a / sqrt 2 <= 10.97; t^2 = a^2 / 2 from a's exact square (hi +
     * lo, halved exactly), not from the rounded t: at x = -13 that rounding alone would be
     * ~200 ulp of the result */
    const float32x4_t a = vminq_f32(vabsq_f32(x), vdupq_n_f32(15.5f)), half = vdupq_n_f32(0.5f);
    const float32x4_t hi = vmulq_f32(a, a), lo = vfmaq_f32(vnegq_f32(hi), a, a);
    const float32x4_t c = lm_neon_erfc_split(vmulq_f32(a, vdupq_n_f32(0.70710678118654752f)),
                                             vmulq_f32(hi, half), vmulq_f32(lo, half));
    const uint32x4_t neg = vreinterpretq_u32_s32(vshrq_n_s32(vreinterpretq_s32_f32(x), 31));
    const float32x4_t onep = vbslq_f32(neg, c, vsubq_f32(vdupq_n_f32(2.0f), c));
    const float32x4_t h = vmulq_f32(vmaxq_f32(vdupq_n_f32(-FLT_MAX), x), half);
    return vmulq_f32(h, onep);
}

/* GELU, tanh form, 4 lanes: h (1 + tanh(v)) with v = sqrt(2/pi) x (1 + 0.044715 x^2), which
 * equals x sigmoid(2 v): lm_neon_sigmoid_mul with z = 2v, no tanh and no cancellation for
 * x < 0. Error: within 4 ulp for x >= 0; for x < 0, exp(-|z|) carries z's own f32 rounding
 * (four roundings, |z| 2^-22 relative), so within 8 ulp + |z| 2^-22 relative (at x = -9,
 * |z| = 66: about 270 ulp of a result near 1e-28; the suite's |x| 1.2e-7 absolute term is
 * far larger). x^2 may overflow to inf for |x| > 1.8e19: then z = +-inf and sigmoid gives 1 or 0,
 * the right limits; gelu(-inf) = -0, gelu(+inf) = +inf, NaN propagates. */
static inline float32x4_t lm_neon_gelu_tanh(float32x4_t x) {
    const float32x4_t p = vfmaq_f32(vdupq_n_f32(1.0f), vmulq_f32(x, x), vdupq_n_f32(0.044715f));
    const float32x4_t z = vmulq_f32(vmulq_f32(x, vdupq_n_f32(1.5957691216057308f)), p);
    return lm_neon_sigmoid_mul(x, z, lm_neon_exp(vnegq_f32(vabsq_f32(z))));
}

/* ---- float kernels (one file each: simd/neon/<op>_<dtype>.c) ------------------------------ */

void lm_f16_to_f32_neon(float *y, const void *x, int64_t n);
void lm_f32_to_f16_neon(void *y, const float *x, int64_t n);
void lm_bf16_to_f32_neon(float *y, const void *x, int64_t n);
void lm_f32_to_bf16_neon(void *y, const float *x, int64_t n);

void lm_rmsnorm_neon(float *y, const float *x, const float *w, int64_t n, float eps);
void lm_layernorm_neon(float *y, const float *x, const float *w, const float *b, int64_t n,
                       float eps);
void lm_l2norm_neon(float *y, const float *x, int64_t n, float eps);
void lm_softmax_neon(float *y, const float *x, float scale, int64_t n);
void lm_rope_neon(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                  enum lm_rope_mode mode);
void lm_attn_neon(const struct lm_attn_row *a); /* F32 and F16 K/V */
size_t lm_attn_scratch_floats_neon(int64_t G, int64_t hd);

void lm_silu_neon(float *y, const float *x, int64_t n);
void lm_gelu_erf_neon(float *y, const float *x, int64_t n);
void lm_gelu_tanh_neon(float *y, const float *x, int64_t n);
void lm_swiglu_neon(float *y, const float *g, const float *u, int64_t n);
void lm_add_neon(float *y, const float *a, const float *b, int64_t n);
void lm_mul_neon(float *y, const float *a, const float *b, int64_t n);
void lm_scale_neon(float *y, const float *x, float s, int64_t n);
void lm_conv1d_neon(float *y, const float *const *rows, const float *w, int64_t C, int64_t k);

/* matmul with F32, F16, BF16 weights (matmul_<dtype>.c; GEMV and GEMM in gemm.h) */
void lm_mm_tile_f32_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_f16_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_bf16_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_gemm_scratch_neon(int64_t M, int64_t K); /* scratch_size of all three */

#endif
