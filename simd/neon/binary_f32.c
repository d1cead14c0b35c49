/* simd/neon/binary_f32.c - elementwise add, mul and scale, ARMv8 Advanced SIMD.
 *
 * Streaming kernels: 16 floats per step in four independent vectors (enough loads in flight to
 * keep the load pipes busy), then 4 per step, then the n % 4 tail through a zero-padded local
 * copy (lm_neon_load_tail / lm_neon_store_tail): nothing is read or written past the rows.
 * One f32 operation per element, so results equal the reference bit for bit. y may alias an
 * input (each vector is loaded before it is stored).
 */
#include "neon.h"

void lm_add_neon(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t v0 = vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        float32x4_t v1 = vaddq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        float32x4_t v2 = vaddq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        float32x4_t v3 = vaddq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
        vst1q_f32(y + i, v0);
        vst1q_f32(y + i + 4, v1);
        vst1q_f32(y + i + 8, v2);
        vst1q_f32(y + i + 12, v3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    if (i < n)
        lm_neon_store_tail(
            y + i, vaddq_f32(lm_neon_load_tail(a + i, n - i), lm_neon_load_tail(b + i, n - i)),
            n - i);
}

void lm_mul_neon(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t v0 = vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        float32x4_t v1 = vmulq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        float32x4_t v2 = vmulq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        float32x4_t v3 = vmulq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
        vst1q_f32(y + i, v0);
        vst1q_f32(y + i + 4, v1);
        vst1q_f32(y + i + 8, v2);
        vst1q_f32(y + i + 12, v3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    if (i < n)
        lm_neon_store_tail(
            y + i, vmulq_f32(lm_neon_load_tail(a + i, n - i), lm_neon_load_tail(b + i, n - i)),
            n - i);
}

void lm_scale_neon(float *y, const float *x, float s, int64_t n) {
    const float32x4_t sv = vdupq_n_f32(s);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t v0 = vmulq_f32(vld1q_f32(x + i), sv);
        float32x4_t v1 = vmulq_f32(vld1q_f32(x + i + 4), sv);
        float32x4_t v2 = vmulq_f32(vld1q_f32(x + i + 8), sv);
        float32x4_t v3 = vmulq_f32(vld1q_f32(x + i + 12), sv);
        vst1q_f32(y + i, v0);
        vst1q_f32(y + i + 4, v1);
        vst1q_f32(y + i + 8, v2);
        vst1q_f32(y + i + 12, v3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(x + i), sv));
    if (i < n) lm_neon_store_tail(y + i, vmulq_f32(lm_neon_load_tail(x + i, n - i), sv), n - i);
}
