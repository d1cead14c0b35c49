/* simd/neon/convert_f16.c - F16 and BF16 rows to and from F32, ARMv8 Advanced SIMD.
 *
 * F16: fcvtl / fcvtn (vcvt_f32_f16, vcvt_f16_f32), 8 per step as two halves of 4, round to
 * nearest even (the FPCR default). Widening is exact, except that fcvtl quiets a signalling NaN
 * where the reference (rt/dtype.c) keeps its bits: NaN lanes are rebuilt by integer ops (sign,
 * all-ones exponent, payload << 13). Narrowing matches the reference bit for bit as it is: a
 * NaN keeps its sign and top payload bits with the quiet bit set (rebuilt by integer ops, see
 * f32x4_to_f16), 65520 and above round to infinity, halves below 2^-14 are rounded
 * subnormals.
 * BF16: widening is a zip with zeros (the half becomes the high 16 bits of the f32). Narrowing
 * rounds to nearest even in integer lanes, x + 0x7fff + bit 16 of x, then keeps the high halves
 * (uzp2); a NaN instead keeps its high half with the quiet bit (0x40 of the half) set, as the
 * reference does.
 * Tails (n % 8) go through a zeroed local copy of 8 elements, so nothing is read or written past
 * the row.
 */
#include "neon.h"

/* 4 halves (in the low 64 bits of h) to f32, NaN bits as the reference */
static inline float32x4_t f16x4_to_f32(uint16x4_t h) {
    const float32x4_t f = vcvt_f32_f16(vreinterpret_f16_u16(h));
    const uint32x4_t w = vmovl_u16(h), a = vandq_u32(w, vdupq_n_u32(0x7fff));
    const uint32x4_t nan = vcgtq_u32(a, vdupq_n_u32(0x7c00));
    const uint32x4_t bits = vorrq_u32(
        vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x8000)), 16),
        vorrq_u32(vdupq_n_u32(0x7f800000), vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x3ff)), 13)));
    return vbslq_f32(nan, vreinterpretq_f32_u32(bits), f);
}

static inline void f16x8_to_f32(float *y, const uint16_t *h) {
    vst1q_f32(y, f16x4_to_f32(vld1_u16(h)));
    vst1q_f32(y + 4, f16x4_to_f32(vld1_u16(h + 4)));
}

void lm_f16_to_f32_neon(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        f16x8_to_f32(y + i, h + i);
    if (i < n) {
        uint16_t hb[8] = {0};
        float yb[8];
        memcpy(hb, h + i, (size_t)(n - i) * sizeof(uint16_t));
        f16x8_to_f32(yb, hb);
        memcpy(y + i, yb, (size_t)(n - i) * sizeof(float));
    }
}

/* 4 floats to halves; NaN lanes rebuilt as the reference writes them (sign, 0x7e00, the top
 * 10 payload bits), which fcvtn already gives with FPCR.DN clear: the rebuild makes the bits
 * independent of that mode and of the emulation (SIMDe's conversion loses the payload). */
static inline uint16x4_t f32x4_to_f16(float32x4_t v) {
    const uint16x4_t h = vreinterpret_u16_f16(vcvt_f16_f32(v));
    const uint32x4_t x = vreinterpretq_u32_f32(v);
    const uint32x4_t q = vorrq_u32(
        vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(0x8000)),
        vorrq_u32(vdupq_n_u32(0x7e00), vandq_u32(vshrq_n_u32(x, 13), vdupq_n_u32(0x3ff))));
    const uint16x4_t nan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
    return vbsl_u16(nan, vmovn_u32(q), h);
}

static inline void f32x8_to_f16(uint16_t *h, const float *y) {
    vst1_u16(h, f32x4_to_f16(vld1q_f32(y)));
    vst1_u16(h + 4, f32x4_to_f16(vld1q_f32(y + 4)));
}

void lm_f32_to_f16_neon(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        f32x8_to_f16(h + i, x + i);
    if (i < n) {
        float xb[8] = {0};
        uint16_t hb[8];
        memcpy(xb, x + i, (size_t)(n - i) * sizeof(float));
        f32x8_to_f16(hb, xb);
        memcpy(h + i, hb, (size_t)(n - i) * sizeof(uint16_t));
    }
}

static inline void bf16x8_to_f32(float *y, const uint16_t *h) {
    const uint16x8_t v = vld1q_u16(h), z = vdupq_n_u16(0);
    vst1q_f32(y, vreinterpretq_f32_u16(vzip1q_u16(z, v)));
    vst1q_f32(y + 4, vreinterpretq_f32_u16(vzip2q_u16(z, v)));
}

void lm_bf16_to_f32_neon(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        bf16x8_to_f32(y + i, h + i);
    if (i < n) {
        uint16_t hb[8] = {0};
        float yb[8];
        memcpy(hb, h + i, (size_t)(n - i) * sizeof(uint16_t));
        bf16x8_to_f32(yb, hb);
        memcpy(y + i, yb, (size_t)(n - i) * sizeof(float));
    }
}

/* 4 floats to bf16 in the high 16 bits of each u32 lane (round to nearest even, NaN quieted) */
static inline uint32x4_t f32x4_to_bf16_hi(float32x4_t v) {
    const uint32x4_t x = vreinterpretq_u32_f32(v);
    const uint32x4_t lsb = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
    const uint32x4_t r = vaddq_u32(x, vaddq_u32(lsb, vdupq_n_u32(0x7fff)));
    const uint32x4_t q = vorrq_u32(x, vdupq_n_u32(0x400000));
    return vbslq_u32(vceqq_f32(v, v), r, q); /* v == v: not NaN */
}

static inline void f32x8_to_bf16(uint16_t *h, const float *x) {
    const uint32x4_t a = f32x4_to_bf16_hi(vld1q_f32(x)), b = f32x4_to_bf16_hi(vld1q_f32(x + 4));
    vst1q_u16(h, vuzp2q_u16(vreinterpretq_u16_u32(a), vreinterpretq_u16_u32(b)));
}

void lm_f32_to_bf16_neon(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        f32x8_to_bf16(h + i, x + i);
    if (i < n) {
        float xb[8] = {0};
        uint16_t hb[8];
        memcpy(xb, x + i, (size_t)(n - i) * sizeof(float));
        f32x8_to_bf16(hb, xb);
        memcpy(h + i, hb, (size_t)(n - i) * sizeof(uint16_t));
    }
}
