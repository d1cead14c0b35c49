/* simd/neon/quant_neon.h - the NEON quantized kernels (Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K
 * matmuls; quantize, dequantize and activation prep) of both NEON levels, and the helpers
 * their files share.
 *
 * Only simd/neon/{quant,matmul}_q*.c include this. Every helper is exact: integer sums are
 * exact, min/max reductions are exact in any order, round-half-away-from-zero is rebuilt from
 * truncation (ARMv8's FRINTA/FCVTAS would do it in one instruction, but SIMDe 0.7, which the
 * x86 test build compiles these files against, lacks them), and every float product or sum is
 * a single vmulq/vaddq/vsubq in the reference's order, never vmla/vfma. The project builds
 * with -std=c11, under which GCC does not contract a * b + c into fmadd
 * (-ffp-contract=off is the ISO default), so the scalar references are not fused either.
 */
#ifndef LMRT_SIMD_NEON_QUANT_H
#define LMRT_SIMD_NEON_QUANT_H

#include <string.h>

#include "../quant_k.h"
#include "../quant_legacy.h"
#include "neon.h"

/* ---- kernels (one file each: simd/neon/<op>_<dtype>.c; *_dotprod.c: neon+dotprod) -------- */

/* matmul tiles (struct lm_mm_kernel.tile); legacy ones have n_step 4, the K-quants 1 */
void lm_mm_q8_0_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_0_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_1_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_k_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q5_k_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q6_k_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q8_0_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_0_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_1_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_k_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q5_k_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q6_k_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);

/* activation rows (the same bytes as lm_prep_q8x_ref, lm_prep_q8xs_ref, lm_q8_k_prep_ref) */
void lm_prep_q8x_neon(void *dst, const float *x, int64_t K);
void lm_prep_q8xs_neon(void *dst, const float *x, int64_t K);
void lm_q8_k_prep_neon(void *dst, const float *x, int64_t K);

/* quantize / dequantize (K-quant quantizers stay on the reference: an offline search) */
void lm_q8_0_to_f32_neon(float *y, const void *x, int64_t n);
void lm_q8_0_from_f32_neon(void *y, const float *x, int64_t n);
void lm_q4_0_to_f32_neon(float *y, const void *x, int64_t n);
void lm_q4_0_from_f32_neon(void *y, const float *x, int64_t n);
void lm_q4_1_to_f32_neon(float *y, const void *x, int64_t n);
void lm_q4_1_from_f32_neon(void *y, const float *x, int64_t n);
void lm_q4_k_to_f32_neon(float *y, const void *x, int64_t n);
void lm_q5_k_to_f32_neon(float *y, const void *x, int64_t n);
void lm_q6_k_to_f32_neon(float *y, const void *x, int64_t n);

/* ---- float helpers ----------------------------------------------------------------------- */

#define LMQ_NEON_FLT_MAX 3.40282347e38f

/* roundf() per lane: truncate (FRINTZ), then step away from zero when the exact fraction is
 * >= 1/2. */
static inline float32x4_t lmq_neon_round_away(float32x4_t v) {
    const uint32x4_t sign = vdupq_n_u32(0x80000000u);
    float32x4_t t = vrndq_f32(v);
    uint32x4_t up = vcgeq_f32(vabsq_f32(vsubq_f32(v, t)), vdupq_n_f32(0.5f));
    uint32x4_t one = vorrq_u32(vandq_u32(vreinterpretq_u32_f32(v), sign),
                               vreinterpretq_u32_f32(vdupq_n_f32(1.0f))); /* +-1 */
    return vaddq_f32(t, vreinterpretq_f32_u32(vandq_u32(up, one)));
}

/* lo <= v <= hi for v without NaN. */
static inline float32x4_t lmq_neon_clamp(float32x4_t v, float lo, float hi) {
    return vminq_f32(vmaxq_f32(v, vdupq_n_f32(lo)), vdupq_n_f32(hi));
}

/* Load the 32 floats of a block. */
static inline void lmq_neon_load32(float32x4_t v[8], const float *x) {
    for (int j = 0; j < 8; j++)
        v[j] = vld1q_f32(x + 4 * j);
}

/* Nonzero if any of the 32 floats is NaN. */
static inline int lmq_neon_any_nan(const float32x4_t v[8]) {
    uint32x4_t ok = vceqq_f32(v[0], v[0]);
    for (int j = 1; j < 8; j++)
        ok = vandq_u32(ok, vceqq_f32(v[j], v[j]));
    return vminvq_u32(ok) == 0;
}

/* Index of the first of 32 lanes whose mask (m[j], lanes 4j..4j+3) is set; 32 if none. The
 * masks narrow to one byte per lane, and a shift-right-narrow of the 16-bit pairs leaves 4
 * bits per lane in a 64-bit word, whose trailing zeros count the lanes before the first. */
static inline int lmq_neon_first32(const uint32x4_t m[8]) {
    for (int h = 0; h < 2; h++) {
        const uint32x4_t *p = m + 4 * h;
        uint16x8_t a = vcombine_u16(vmovn_u32(p[0]), vmovn_u32(p[1]));
        uint16x8_t b = vcombine_u16(vmovn_u32(p[2]), vmovn_u32(p[3]));
        uint8x16_t bytes = vcombine_u8(vmovn_u16(a), vmovn_u16(b));
        uint64_t bits =
            vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(bytes), 4)), 0);
        if (bits) return 16 * h + __builtin_ctzll(bits) / 4;
    }
    return 32;
}

/* ---- integer helpers --------------------------------------------------------------------- */

/* Four vectors of 4 int32 already within int8 range -> 16 int8 in order. */
static inline int8x16_t lmq_neon_narrow_i8(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    int16x8_t ab = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
    int16x8_t cd = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    return vcombine_s8(vmovn_s16(ab), vmovn_s16(cd));
}

/* The lane sums of a, b, c, d as one vector (integer adds: exact in any order). */
static inline int32x4_t lmq_neon_hsum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

/* 16 int8 codes -> 4 vectors of 4 f32. */
static inline void lmq_neon_i8_to_f32(float32x4_t f[4], int8x16_t q) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    f[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
    f[1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
    f[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
    f[3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
}

/* 16 unsigned codes -> 4 vectors of 4 f32. */
static inline void lmq_neon_u8_to_f32(float32x4_t f[4], uint8x16_t q) {
    uint16x8_t lo = vmovl_u8(vget_low_u8(q)), hi = vmovl_u8(vget_high_u8(q));
    f[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo)));
    f[1] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo)));
    f[2] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi)));
    f[3] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi)));
}

/* Integer dot of 16 int8 pairs whose products pairwise fit int16 (|a b| + |a' b'| < 2^15:
 * every case here, x being in [-127, 127]) -> 4 int32 partial sums: vmull_s8 on the low
 * halves, vmlal_high_s8 adds the high halves' products, vpaddlq_s16 widens pairwise. */
static inline int32x4_t lmq_neon_dot16(int8x16_t a, int8x16_t b) {
    return vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
}

/* Integer dot of 32 int8 pairs (a0, a1 against b0, b1) with |a| <= 63, |b| <= 127: four
 * products per int16 lane reach at most 4 * 63 * 127 = 32004 < 2^15, so one int16 stage
 * holds all 32 products before the widening. For Q4_0 (|a| <= 8), Q4_1 and the K-quants. */
static inline int32x4_t lmq_neon_dot32_small(int8x16_t a0, int8x16_t a1, int8x16_t b0,
                                             int8x16_t b1) {
    int16x8_t p = vmull_s8(vget_low_s8(a0), vget_low_s8(b0));
    p = vmlal_high_s8(p, a0, b0);
    p = vmlal_s8(p, vget_low_s8(a1), vget_low_s8(b1));
    p = vmlal_high_s8(p, a1, b1);
    return vpaddlq_s16(p);
}

/* The same for any int8 a (Q8_0, -128 included) against |b| <= 127: two products per int16
 * lane (<= 2 * 128 * 127 = 32512), then both halves widen into int32 (vpadalq_s16). */
static inline int32x4_t lmq_neon_dot32_wide(int8x16_t a0, int8x16_t a1, int8x16_t b0,
                                            int8x16_t b1) {
    int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(a0), vget_low_s8(b0)), a0, b0);
    int16x8_t q = vmlal_high_s8(vmull_s8(vget_low_s8(a1), vget_low_s8(b1)), a1, b1);
    return vpadalq_s16(vpaddlq_s16(p), q);
}

/* Store the first nr (1..4) lanes of v at y. */
static inline void lmq_neon_store_cols(float *y, float32x4_t v, int nr) {
    if (nr == 4) {
        vst1q_f32(y, v);
    } else {
        float t[4];
        vst1q_f32(t, v);
        for (int r = 0; r < nr; r++)
            y[r] = t[r];
    }
}

#endif
