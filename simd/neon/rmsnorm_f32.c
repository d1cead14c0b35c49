/* simd/neon/rmsnorm_f32.c - RMSNorm row kernel, ARMv8 Advanced SIMD.
 *
 * Two passes over the row: the sum of squares in four independent 4-lane f32 accumulators
 * (fmla latency 4, two pipes on big cores: four chains keep them busy), summed pairwise; then
 * y = x * r (* w). The n % 4 tail is a zero-padded local copy (zeros add nothing to the sum)
 * and a partial store: nothing is read or written past the row. Accumulator: f32 lanes.
 */
#include "neon.h"

void lm_rmsnorm_neon(float *y, const float *x, const float *w, int64_t n, float eps) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        float32x4_t c = vld1q_f32(x + i + 8), d = vld1q_f32(x + i + 12);
        acc0 = vfmaq_f32(acc0, a, a);
        acc1 = vfmaq_f32(acc1, b, b);
        acc2 = vfmaq_f32(acc2, c, c);
        acc3 = vfmaq_f32(acc3, d, d);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t a = vld1q_f32(x + i);
        acc0 = vfmaq_f32(acc0, a, a);
    }
    if (i < n) {
        float32x4_t a = lm_neon_load_tail(x + i, n - i);
        acc1 = vfmaq_f32(acc1, a, a);
    }
    float ss = lm_neon_hsum(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    const float32x4_t r = vdupq_n_f32(1.0f / sqrtf(ss / (float)n + eps));
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t v = vmulq_f32(vld1q_f32(x + i), r);
        if (w) v = vmulq_f32(v, vld1q_f32(w + i));
        vst1q_f32(y + i, v);
    }
    if (i < n) {
        float32x4_t v = vmulq_f32(lm_neon_load_tail(x + i, n - i), r);
        if (w) v = vmulq_f32(v, lm_neon_load_tail(w + i, n - i));
        lm_neon_store_tail(y + i, v, n - i);
    }
}
