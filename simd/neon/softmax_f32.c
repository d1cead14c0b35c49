/* simd/neon/softmax_f32.c - softmax row kernel, ARMv8 Advanced SIMD with the inline exp of
 * neon.h.
 *
 * Three passes over the row, 4 lanes at a time (two vectors per step where it pays):
 *   1. max of v = x * scale, and a flag for NaN (v != v): fmax would propagate a NaN but the
 *      flag says it without relying on that (SIMDe's fmax in the test build need not); a NaN
 *      or +inf row is NaN and an all -inf row zeros, decided here;
 *   2. e = exp(v - max) with lm_neon_exp_nonpos (arguments are <= 0 or -inf once pass 1 ruled
 *      out NaN and +inf; <= 2 ulp, and terms below 2.7e-38 of the max dropped), stored into y
 *      and summed in two f32 accumulators;
 *   3. y *= 1 / sum.
 * v is the f32 product x * scale, recomputed in pass 2 (the reference rounds it the same way).
 * The n % 4 tail is a zero-padded local copy: in pass 1 the padded lanes are replaced by -inf
 * (for the max), in pass 2 they are dropped from the sum, and only the n % 4 real elements are
 * stored. Nothing is read or written past the row; y may alias x.
 * Special rows follow lm_softmax_ref: all -inf -> zeros, any NaN or +inf -> NaN.
 */
#include "neon.h"

/* lanes [0, t) set, for t in 0..4 */
static inline uint32x4_t lanes_below(int64_t t) {
    static const uint32_t ramp[8] = {~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0};
    return vld1q_u32(ramp + 4 - t);
}

void lm_softmax_neon(float *y, const float *x, float scale, int64_t n) {
    const float32x4_t s = vdupq_n_f32(scale), ninf = vdupq_n_f32(-INFINITY);
    float32x4_t m0 = ninf, m1 = ninf;
    uint32x4_t ok0 = vdupq_n_u32(~0u), ok1 = ok0; /* all lanes so far not NaN */
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = vmulq_f32(vld1q_f32(x + i), s);
        const float32x4_t b = vmulq_f32(vld1q_f32(x + i + 4), s);
        m0 = vmaxq_f32(m0, a);
        m1 = vmaxq_f32(m1, b);
        ok0 = vandq_u32(ok0, vceqq_f32(a, a));
        ok1 = vandq_u32(ok1, vceqq_f32(b, b));
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t a = vmulq_f32(vld1q_f32(x + i), s);
        m0 = vmaxq_f32(m0, a);
        ok0 = vandq_u32(ok0, vceqq_f32(a, a));
    }
    const int64_t nt = n - i; /* tail lanes, 0..3 */
    const uint32x4_t tm = lanes_below(nt);
    if (nt) { /* padded lanes: -inf for the max, never NaN */
        const float32x4_t v = vmulq_f32(lm_neon_load_tail(x + i, nt), s);
        m1 = vmaxq_f32(m1, vbslq_f32(tm, v, ninf));
        ok1 = vandq_u32(ok1, vorrq_u32(vceqq_f32(v, v), vmvnq_u32(tm)));
    }
    const float mx = lm_neon_hmax(vmaxq_f32(m0, m1));
    const bool has_nan = vminvq_u32(vandq_u32(ok0, ok1)) == 0 || mx != mx;
    if (has_nan || mx == INFINITY || mx == -INFINITY) {
        /* a NaN or +inf makes the row NaN; nothing above -inf makes it zeros */
        const float32x4_t f = vdupq_n_f32(has_nan || mx == INFINITY ? NAN : 0.0f);
        for (i = 0; i + 4 <= n; i += 4)
            vst1q_f32(y + i, f);
        if (nt) lm_neon_store_tail(y + i, f, nt);
        return;
    }

    /* pass 2: exp and sum */
    const float32x4_t m = vdupq_n_f32(mx);
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
    for (i = 0; i + 8 <= n; i += 8) {
        const float32x4_t e0 = lm_neon_exp_nonpos(vsubq_f32(vmulq_f32(vld1q_f32(x + i), s), m));
        const float32x4_t e1 = lm_neon_exp_nonpos(vsubq_f32(vmulq_f32(vld1q_f32(x + i + 4), s), m));
        vst1q_f32(y + i, e0);
        vst1q_f32(y + i + 4, e1);
        s0 = vaddq_f32(s0, e0);
        s1 = vaddq_f32(s1, e1);
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t e = lm_neon_exp_nonpos(vsubq_f32(vmulq_f32(vld1q_f32(x + i), s), m));
        vst1q_f32(y + i, e);
        s0 = vaddq_f32(s0, e);
    }
    if (nt) {
        const float32x4_t v = vmulq_f32(lm_neon_load_tail(x + i, nt), s);
        float32x4_t e = lm_neon_exp_nonpos(vsubq_f32(v, m));
        e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), tm));
        lm_neon_store_tail(y + i, e, nt);
        s1 = vaddq_f32(s1, e);
    }

    /* pass 3: normalise */
    const float32x4_t r = vdupq_n_f32(1.0f / lm_neon_hsum(vaddq_f32(s0, s1)));
    for (i = 0; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(y + i), r));
        vst1q_f32(y + i + 4, vmulq_f32(vld1q_f32(y + i + 4), r));
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(y + i), r));
    if (nt) lm_neon_store_tail(y + i, vmulq_f32(lm_neon_load_tail(y + i, nt), r), nt);
}
