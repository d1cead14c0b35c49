/* simd/neon/layernorm_f32.c - LayerNorm row kernel, ARMv8 Advanced SIMD.
 *
 * Three passes over the row (which a row-sized op keeps in L1/L2): the sum, then the centred
 * sum of squares sum((x - mean)^2), then (x - mean) * r * w + b. Two passes for the variance
 * avoid the cancellation of E[x^2] - mean^2 when |mean| >> std. Each reduction runs in four
 * independent 4-lane f32 accumulators, summed pairwise. The n % 4 tail is a zero-padded local
 * copy and a partial store; in the centred pass the padded lanes are cleared after subtracting
 * (0 - mean is not 0). Nothing is read or written past the row.
 */
#include "neon.h"

static float row_sum(const float *x, int64_t n) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vaddq_f32(acc0, vld1q_f32(x + i));
        acc1 = vaddq_f32(acc1, vld1q_f32(x + i + 4));
        acc2 = vaddq_f32(acc2, vld1q_f32(x + i + 8));
        acc3 = vaddq_f32(acc3, vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4)
        acc0 = vaddq_f32(acc0, vld1q_f32(x + i));
    if (i < n) acc1 = vaddq_f32(acc1, lm_neon_load_tail(x + i, n - i));
    return lm_neon_hsum(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
}

/* sum((x - m)^2) */
static float row_centred_ss(const float *x, int64_t n, float32x4_t m) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vsubq_f32(vld1q_f32(x + i), m);
        float32x4_t b = vsubq_f32(vld1q_f32(x + i + 4), m);
        float32x4_t c = vsubq_f32(vld1q_f32(x + i + 8), m);
        float32x4_t d = vsubq_f32(vld1q_f32(x + i + 12), m);
        acc0 = vfmaq_f32(acc0, a, a);
        acc1 = vfmaq_f32(acc1, b, b);
        acc2 = vfmaq_f32(acc2, c, c);
        acc3 = vfmaq_f32(acc3, d, d);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t a = vsubq_f32(vld1q_f32(x + i), m);
        acc0 = vfmaq_f32(acc0, a, a);
    }
    if (i < n) { /* padded lanes: (0 - m) cleared to 0 */
        static const uint32_t keep[7] = {~0u, ~0u, ~0u, 0, 0, 0, 0};
        const uint32x4_t k = vld1q_u32(keep + 3 - (n - i));
        float32x4_t a = vsubq_f32(lm_neon_load_tail(x + i, n - i), m);
        a = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), k));
        acc1 = vfmaq_f32(acc1, a, a);
    }
    return lm_neon_hsum(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
}

/* (x - m) * r * w + b for one vector; w, b NULL-able (the branches are loop-invariant) */
static inline float32x4_t ln_out(float32x4_t x, float32x4_t m, float32x4_t r, float32x4_t w,
                                 float32x4_t b, bool has_w, bool has_b) {
    float32x4_t v = vmulq_f32(vsubq_f32(x, m), r);
    if (has_w) v = vmulq_f32(v, w);
    if (has_b) v = vaddq_f32(v, b);
    return v;
}

void lm_layernorm_neon(float *y, const float *x, const float *w, const float *b, int64_t n,
                       float eps) {
    const float mean = row_sum(x, n) / (float)n;
    const float32x4_t m = vdupq_n_f32(mean);
    const float var = row_centred_ss(x, n, m) / (float)n;
    const float32x4_t r = vdupq_n_f32(1.0f / sqrtf(var + eps)), z = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, ln_out(vld1q_f32(x + i), m, r, w ? vld1q_f32(w + i) : z,
                                b ? vld1q_f32(b + i) : z, w, b));
    if (i < n) {
        const int64_t t = n - i;
        lm_neon_store_tail(y + i,
                           ln_out(lm_neon_load_tail(x + i, t), m, r,
                                  w ? lm_neon_load_tail(w + i, t) : z,
                                  b ? lm_neon_load_tail(b + i, t) : z, w, b),
                           t);
    }
}
