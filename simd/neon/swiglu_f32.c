/* simd/neon/swiglu_f32.c - SwiGLU gate, ARMv8 Advanced SIMD: y = silu(g) * u, elementwise.
 *
 * lm_neon_silu (neon.h, within 5 ulp) times u: one more rounding. Two vectors per step; the
 * n % 4 tail is a zero-padded local copy of g and u and a partial store: nothing is read or
 * written past the rows. y may alias g or u.
 */
#include "neon.h"

void lm_swiglu_neon(float *y, const float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = vmulq_f32(lm_neon_silu(vld1q_f32(g + i)), vld1q_f32(u + i));
        const float32x4_t b = vmulq_f32(lm_neon_silu(vld1q_f32(g + i + 4)), vld1q_f32(u + i + 4));
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(lm_neon_silu(vld1q_f32(g + i)), vld1q_f32(u + i)));
    if (i < n) {
        const float32x4_t v = lm_neon_silu(lm_neon_load_tail(g + i, n - i));
        lm_neon_store_tail(y + i, vmulq_f32(v, lm_neon_load_tail(u + i, n - i)), n - i);
    }
}
