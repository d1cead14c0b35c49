/* simd/neon/rope_f32.c - rotary embedding of one head, ARMv8 Advanced SIMD.
 *
 * cs holds n_rot/2 (cos, sin) pairs, interleaved; vld2q splits 4 of them into a cos and a sin
 * vector, so neither mode shuffles inside registers.
 *   ADJACENT: 4 pairs of x (8 floats) are split by vld2q into their first (a) and second (b)
 *     elements, rotated (a c - b s, b c + a s) and re-interleaved by vst2q.
 *   HALF: 4 first-half and 4 second-half elements against 4 (cos, sin) pairs.
 * Tails (the last 1..3 pairs of either mode) go through zero-padded local copies, and the
 * copied dims [n_rot, hd) are copied 4 at a time plus a partial tail: nothing is read or
 * written past the row. Each step loads its inputs before it stores and no later step reads
 * what an earlier one wrote, so y may alias x. f32 throughout; b s and a s are fused into the
 * second operation (one rounding less than the reference's products and sum, well within its
 * tolerance).
 */
#include "neon.h"

/* (a c - b s, a s + b c) */
static inline void rot(float32x4_t *ra, float32x4_t *rb, float32x4_t a, float32x4_t b,
                       float32x4_t c, float32x4_t s) {
    *ra = vfmaq_f32(vmulq_f32(a, c), vnegq_f32(b), s);
    *rb = vfmaq_f32(vmulq_f32(b, c), a, s);
}

static void rope_adjacent(float *y, const float *x, const float *cs, int64_t n_rot) {
    int64_t i = 0;
    for (; i + 8 <= n_rot; i += 8) {
        const float32x4x2_t v = vld2q_f32(x + i), t = vld2q_f32(cs + i);
        float32x4x2_t r;
        rot(&r.val[0], &r.val[1], v.val[0], v.val[1], t.val[0], t.val[1]);
        vst2q_f32(y + i, r);
    }
    if (i < n_rot) { /* 1..3 pairs: 2..6 floats of x and of cs */
        const size_t nb = (size_t)(n_rot - i) * sizeof(float);
        float xb[8] = {0}, tb[8] = {0};
        memcpy(xb, x + i, nb);
        memcpy(tb, cs + i, nb);
        const float32x4x2_t v = vld2q_f32(xb), t = vld2q_f32(tb);
        float32x4x2_t r;
        rot(&r.val[0], &r.val[1], v.val[0], v.val[1], t.val[0], t.val[1]);
        vst2q_f32(xb, r);
        memcpy(y + i, xb, nb);
    }
}

static void rope_half(float *y, const float *x, const float *cs, int64_t n_rot) {
    const int64_t h = n_rot / 2;
    int64_t i = 0;
    for (; i + 4 <= h; i += 4) {
        const float32x4x2_t t = vld2q_f32(cs + 2 * i);
        float32x4_t ra, rb;
        rot(&ra, &rb, vld1q_f32(x + i), vld1q_f32(x + i + h), t.val[0], t.val[1]);
        vst1q_f32(y + i, ra);
        vst1q_f32(y + i + h, rb);
    }
    if (i < h) { /* 1..3 pairs */
        const int64_t r = h - i;
        float tb[8] = {0};
        memcpy(tb, cs + 2 * i, (size_t)(2 * r) * sizeof(float));
        const float32x4x2_t t = vld2q_f32(tb);
        float32x4_t ra, rb;
        rot(&ra, &rb, lm_neon_load_tail(x + i, r), lm_neon_load_tail(x + i + h, r), t.val[0],
            t.val[1]);
        lm_neon_store_tail(y + i, ra, r);
        lm_neon_store_tail(y + i + h, rb, r);
    }
}

void lm_rope_neon(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                  enum lm_rope_mode mode) {
    if (mode == LM_ROPE_ADJACENT)
        rope_adjacent(y, x, cs, n_rot);
    else
        rope_half(y, x, cs, n_rot);
    if (y == x) return; /* the unrotated dims are already in place */
    int64_t i = n_rot;
    for (; i + 4 <= hd; i += 4)
        vst1q_f32(y + i, vld1q_f32(x + i));
    if (i < hd) lm_neon_store_tail(y + i, lm_neon_load_tail(x + i, hd - i), hd - i);
}
