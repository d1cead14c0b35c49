/* ops/quant_q8_0.c - Q8_0 rows: reference quantizer and dequantizer (the oracle).
 *
 * Block (simd/quant_legacy.h): fp16 d, int8 q[32]; x = d * q.
 * Quantizer, as llama.cpp's quantize_row_q8_0_ref (checked against ggml-quants.c): amax = max
 * |x| over the block, d = amax / 127 in f32, id = 1/d (0 when d == 0), q = roundf(x * id) -
 * a multiply by the reciprocal, not a division, and round half away from zero - with d stored
 * as fp16 (round to nearest even). Codes are computed from the f32 d, not the rounded fp16 one.
 * So for finite data |x - d16*q| <= d/2 + |x| * |d16 - d| / d: half a step plus the fp16
 * rounding of the scale (2^-11 relative), i.e. <= amax/254 + amax * 2^-11.
 *
 * Beyond llama.cpp (whose reference has undefined behaviour there): a block with a NaN is
 * stored as d = NaN, q = 0; +-inf counts as +-FLT_MAX; d saturates at LM_F16_SAT (stored 65504)
 * and q clamps to [-127, 127]; if 1/d overflows, q = 0.
 */
#include <math.h>
#include <string.h>

#include "../simd/quant_legacy.h"

static void quantize_block(struct lm_block_q8_0 *b, const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < LM_QK; j++) {
        if (isnan(x[j])) {
            b->d = LM_F16_NAN;
            memset(b->qs, 0, sizeof b->qs);
            return;
        }
        float a = fabsf(lm_q_sat(x[j]));
        amax = a > amax ? a : amax;
    }
    float d = amax / 127.0f;
    if (d > LM_F16_SAT) d = LM_F16_SAT;
    float id = lm_q_inv(d);
    b->d = lm_f32_to_f16(d);
    for (int j = 0; j < LM_QK; j++) {
        float q = roundf(lm_q_sat(x[j]) * id);
        b->qs[j] = (int8_t)(q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q);
    }
}

void lm_q8_0_from_f32_ref(void *y, const float *x, int64_t n) {
    struct lm_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++)
        quantize_block(&b[i], x + i * LM_QK);
}

void lm_q8_0_to_f32_ref(float *y, const void *x, int64_t n) {
    const struct lm_block_q8_0 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++) {
        float d = lm_f16_to_f32(b[i].d);
        for (int j = 0; j < LM_QK; j++)
            y[i * LM_QK + j] = d * (float)b[i].qs[j];
    }
}

/* ---- activation rows for the Q8_0 / Q4_0 / Q4_1 matmuls ----------------------------------
 * The same rounding as the Q8_0 quantizer (so these blocks are Q8_0 blocks with an f32 scale),
 * but d stays f32 and any non-finite value makes the block d = NaN, q = 0. */

static float prep_block(int8_t *q, const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < LM_QK; j++) {
        float a = fabsf(x[j]);
        if (!(a <= 3.40282347e38f)) { /* NaN or inf */
            memset(q, 0, LM_QK);
            return NAN;
        }
        amax = a > amax ? a : amax;
    }
    float d = amax / 127.0f, id = lm_q_inv(d);
    for (int j = 0; j < LM_QK; j++) {
        float v = roundf(x[j] * id);
        q[j] = (int8_t)(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
    }
    return d;
}

void lm_prep_q8x_ref(void *dst, const float *x, int64_t K) {
    struct lm_block_q8x *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++)
        b[i].d = prep_block(b[i].qs, x + i * LM_QK);
}

void lm_prep_q8xs_ref(void *dst, const float *x, int64_t K) {
    struct lm_block_q8xs *b = dst;
    for (int64_t i = 0; i < K / LM_QK; i++) {
        b[i].d = prep_block(b[i].qs, x + i * LM_QK);
        int sum = 0;
        for (int j = 0; j < LM_QK; j++)
            sum += b[i].qs[j];
        b[i].s = b[i].d * (float)sum;
    }
}

size_t lm_prep_q8x_size(int64_t K) { return (size_t)(K / LM_QK) * sizeof(struct lm_block_q8x); }
size_t lm_prep_q8xs_size(int64_t K) { return (size_t)(K / LM_QK) * sizeof(struct lm_block_q8xs); }
