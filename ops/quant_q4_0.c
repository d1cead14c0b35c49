/* ops/quant_q4_0.c - Q4_0 rows: reference quantizer and dequantizer (the oracle).
 *
 * Block (simd/quant_legacy.h): fp16 d, u8 qs[16]; element j is the low nibble of qs[j] and
 * element j + 16 the high nibble; x = d * (nibble - 8).
 * Quantizer, as llama.cpp's quantize_row_q4_0_ref (checked against ggml-quants.c): max = the
 * first element of largest magnitude, with its sign (0 for an all-zero block), d = max / -8 in
 * f32, id = 1/d (0 when d == 0), q = min(15, (int)(x * id + 8.5f)) truncated - so the extreme
 * element maps to code 0 (value -8 * d = max) and codes 0..15 span [max, -7/8 max]. d is stored
 * as fp16. An all-zero block gets d = -0 (0x8000) and codes 8, as llama.cpp writes it.
 * Error for finite data: |x - d16*(q-8)| <= |d|/2 + 8|d16 - d| except on the side opposite
 * max, where values beyond +7|d| clamp: up to |d| (|x| <= 8|d| there). So |err| <= |d| +
 * 8|d| * 2^-11 = amax/8 * (1 + 2^-8) in the worst case, amax/16 + fp16 term elsewhere.
 *
 * Beyond llama.cpp: a block with a NaN is stored as d = NaN, codes 8; +-inf counts as
 * +-FLT_MAX; |d| saturates at LM_F16_SAT; codes clamp to [0, 15]; if 1/d overflows, codes 8.
 */
#include <math.h>
#include <string.h>

#include "../simd/quant_legacy.h"

/* x * id + 8.5 truncated into [0, 15]; equal to llama.cpp's min(15, (int8_t)v) for v >= 0. */
static inline uint8_t code(float x, float id) {
    float v = lm_q_sat(x) * id + 8.5f;
    return (uint8_t)(v >= 15.0f ? 15 : v > 0.0f ? (int)v : 0);
}

static void quantize_block(struct lm_block_q4_0 *b, const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < LM_QK; j++) {
        if (isnan(x[j])) {
            b->d = LM_F16_NAN;
            memset(b->qs, 0x88, sizeof b->qs);
            return;
        }
        float v = lm_q_sat(x[j]);
        if (amax < fabsf(v)) amax = fabsf(v), max = v;
    }
    float d = max / -8.0f;
    if (d > LM_F16_SAT) d = LM_F16_SAT;
    if (d < -LM_F16_SAT) d = -LM_F16_SAT;
    float id = lm_q_inv(d);
    b->d = lm_f32_to_f16(d);
    for (int j = 0; j < LM_QK / 2; j++)
        b->qs[j] = (uint8_t)(code(x[j], id) | code(x[j + LM_QK / 2], id) << 4);
}

void lm_q4_0_from_f32_ref(void *y, const float *x, int64_t n) {
    struct lm_block_q4_0 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++)
        quantize_block(&b[i], x + i * LM_QK);
}

void lm_q4_0_to_f32_ref(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_0 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        float d = lm_f16_to_f32(b[i].d);
        for (int j = 0; j < LM_QK / 2; j++) {
            y[j] = d * (float)((b[i].qs[j] & 15) - 8);
            y[j + LM_QK / 2] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}
