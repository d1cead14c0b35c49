/* simd/neon/conv1d_f32.c - one time step of a causal depthwise conv, ARMv8 Advanced SIMD.
 *
 * y[c] = sum_j w[j*C + c] * rows[j][c] over C channels and k taps (kernels.h: w is tap-major,
 * so 4 channels of one tap are one contiguous load). 4 channels per vector, two vectors per
 * step (two independent chains), taps in order j = 0..k-1 as one multiply then an fmla chain
 * (f32 accumulator, k roundings, as the AVX2 twin). The channel tail (C % 4) reads w and every
 * row through zero-padded local copies and stores only C % 4 lanes: nothing is touched past C.
 * y may alias rows[k-1] (in-place conv): each block is loaded before it is stored.
 */
#include "neon.h"

void lm_conv1d_neon(float *y, const float *const *rows, const float *w, int64_t C, int64_t k) {
    int64_t c = 0;
    for (; c + 8 <= C; c += 8) {
        float32x4_t a0 = vmulq_f32(vld1q_f32(w + c), vld1q_f32(rows[0] + c));
        float32x4_t a1 = vmulq_f32(vld1q_f32(w + c + 4), vld1q_f32(rows[0] + c + 4));
        for (int64_t j = 1; j < k; j++) {
            a0 = vfmaq_f32(a0, vld1q_f32(w + j * C + c), vld1q_f32(rows[j] + c));
            a1 = vfmaq_f32(a1, vld1q_f32(w + j * C + c + 4), vld1q_f32(rows[j] + c + 4));
        }
        vst1q_f32(y + c, a0);
        vst1q_f32(y + c + 4, a1);
    }
    for (; c + 4 <= C; c += 4) {
        float32x4_t a = vmulq_f32(vld1q_f32(w + c), vld1q_f32(rows[0] + c));
        for (int64_t j = 1; j < k; j++)
            a = vfmaq_f32(a, vld1q_f32(w + j * C + c), vld1q_f32(rows[j] + c));
        vst1q_f32(y + c, a);
    }
    if (c < C) {
        const int64_t t = C - c;
        float32x4_t a = vmulq_f32(lm_neon_load_tail(w + c, t), lm_neon_load_tail(rows[0] + c, t));
        for (int64_t j = 1; j < k; j++)
            a = vfmaq_f32(a, lm_neon_load_tail(w + j * C + c, t),
                          lm_neon_load_tail(rows[j] + c, t));
        lm_neon_store_tail(y + c, a, t);
    }
}
