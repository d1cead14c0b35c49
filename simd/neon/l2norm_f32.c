/* simd/neon/l2norm_f32.c - L2 normalisation row kernel, ARMv8 Advanced SIMD:
 * y = x / max(||x||, eps).
 *
 * Two passes: the sum of squares in four independent 4-lane f32 accumulators, summed pairwise;
 * then y = x * (1 / max(sqrt(ss), eps)), where a NaN norm propagates as in the reference. The
 * n % 4 tail is a zero-padded local copy and a partial store: nothing is read or written past
 * the row. Accumulator: f32 lanes.
 */
#include "neon.h"

void lm_l2norm_neon(float *y, const float *x, int64_t n, float eps) {
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
    float norm = sqrtf(lm_neon_hsum(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3))));
    if (norm < eps) norm = eps; /* false for NaN: it propagates */
    const float32x4_t r = vdupq_n_f32(1.0f / norm);
    for (i = 0; i + 16 <= n; i += 16) {
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(x + i), r));
        vst1q_f32(y + i + 4, vmulq_f32(vld1q_f32(x + i + 4), r));
        vst1q_f32(y + i + 8, vmulq_f32(vld1q_f32(x + i + 8), r));
        vst1q_f32(y + i + 12, vmulq_f32(vld1q_f32(x + i + 12), r));
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(x + i), r));
    if (i < n) lm_neon_store_tail(y + i, vmulq_f32(lm_neon_load_tail(x + i, n - i), r), n - i);
}
