/* simd/neon/silu_f32.c - SiLU, ARMv8 Advanced SIMD: y = x * sigmoid(x), elementwise.
 *
 * lm_neon_silu (neon.h): e = exp(-|x|) with the inline exp, then x / (1 + e) or x e / (1 + e)
 * by the sign of x; within 5 ulp of the double reference; silu(-inf) = -0, silu(+inf) = +inf,
 * NaN propagates. Two vectors per step so two exp chains are in flight. The n % 4 tail is a
 * zero-padded local copy and a partial store: nothing is read or written past the row. y may
 * alias x.
 */
#include "neon.h"

void lm_silu_neon(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = lm_neon_silu(vld1q_f32(x + i));
        const float32x4_t b = lm_neon_silu(vld1q_f32(x + i + 4));
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, lm_neon_silu(vld1q_f32(x + i)));
    if (i < n) lm_neon_store_tail(y + i, lm_neon_silu(lm_neon_load_tail(x + i, n - i)), n - i);
}
