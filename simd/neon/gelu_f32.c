/* simd/neon/gelu_f32.c - GELU, ARMv8 Advanced SIMD, elementwise, both forms.
 *
 *   erf form:  y = h * (1 + erf(x / sqrt 2)),                        h = x / 2
 *   tanh form: y = h * (1 + tanh(sqrt(2/pi) * x * (1 + 0.044715 x^2)))
 *
 * No SLEEF (its AdvSIMD entry points need the real registers, which the SIMDe test build does
 * not have): lm_neon_gelu_erf evaluates 1 + erf as erfc(|u|) or 2 - erfc(|u|) with an inline
 * erfc (neon.h), lm_neon_gelu_tanh as x sigmoid(2v) with the inline exp. Neither form cancels
 * for x < 0, so results are within a few ulp relative (tests/check_simd_math.c), inside the
 * suite's tolerance, which allows the f32 cancellation of 1 + erf. gelu(-inf) = -0, gelu(+inf)
 * = +inf, NaN propagates. Two vectors per step (two independent chains in flight); the n % 4
 * tail is a zero-padded local copy and a partial store, so nothing past the row is touched.
 * y may alias x.
 */
#include "neon.h"

void lm_gelu_erf_neon(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = lm_neon_gelu_erf(vld1q_f32(x + i));
        const float32x4_t b = lm_neon_gelu_erf(vld1q_f32(x + i + 4));
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, lm_neon_gelu_erf(vld1q_f32(x + i)));
    if (i < n) lm_neon_store_tail(y + i, lm_neon_gelu_erf(lm_neon_load_tail(x + i, n - i)), n - i);
}

void lm_gelu_tanh_neon(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = lm_neon_gelu_tanh(vld1q_f32(x + i));
        const float32x4_t b = lm_neon_gelu_tanh(vld1q_f32(x + i + 4));
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, lm_neon_gelu_tanh(vld1q_f32(x + i)));
    if (i < n) lm_neon_store_tail(y + i, lm_neon_gelu_tanh(lm_neon_load_tail(x + i, n - i)), n - i);
}
