/* ops/quant_q4_1.c - Q4_1 rows: reference quantizer and dequantizer (the oracle).
 *
 * Block (simd/quant_legacy.h): fp16 d, fp16 m, u8 qs[16] (same nibble order as Q4_0);
 * x = d * nibble + m.
 * Quantizer, as llama.cpp's quantize_row_q4_1_ref (checked against ggml-quants.c): min and max
 * of the block, d = (max - min) / 15 in f32, id = 1/d (0 when d == 0), m = min, q =
 * min(15, (int)((x - min) * id + 0.5f)) truncated; d and m stored as fp16. Codes use the f32
 * min and d. Error for finite data: half a step d/2, plus the fp16 roundings of m
 * (|m| * 2^-11) and d (15 |d| * 2^-11).
 * Dequantize: d * q + m as a multiply then an add (two f32 roundings; every level does the same).
 *
 * Beyond llama.cpp: a block with a NaN is stored as d = m = NaN, codes 0; +-inf counts as
 * +-FLT_MAX; min clamps to +-LM_F16_SAT (max is raised to it if below), d saturates at
 * LM_F16_SAT, codes clamp to [0, 15]; if 1/d overflows, codes 0.
 */
#include <math.h>
#include <string.h>

#include "../simd/quant_legacy.h"

static inline uint8_t code(float x, float lo, float id) {
    float v = (lm_q_sat(x) - lo) * id + 0.5f;
    return (uint8_t)(v >= 15.0f ? 15 : v > 0.0f ? (int)v : 0);
}

static void quantize_block(struct lm_block_q4_1 *b, const float *x) {
    float min = 3.40282347e38f, max = -3.40282347e38f;
    for (int j = 0; j < LM_QK; j++) {
        if (isnan(x[j])) {
            b->d = b->m = LM_F16_NAN;
            memset(b->qs, 0, sizeof b->qs);
            return;
        }
        float v = lm_q_sat(x[j]);
        if (v < min) min = v;
        if (v > max) max = v;
    }
    if (min < -LM_F16_SAT) min = -LM_F16_SAT;
    if (min > LM_F16_SAT) min = LM_F16_SAT;
    if (max < min) max = min;
    float d = (max - min) / 15.0f;
    if (d > LM_F16_SAT) d = LM_F16_SAT;
    float id = lm_q_inv(d);
    b->d = lm_f32_to_f16(d);
    b->m = lm_f32_to_f16(min);
    for (int j = 0; j < LM_QK / 2; j++)
        b->qs[j] = (uint8_t)(code(x[j], min, id) | code(x[j + LM_QK / 2], min, id) << 4);
}

void lm_q4_1_from_f32_ref(void *y, const float *x, int64_t n) {
    struct lm_block_q4_1 *b = y;
    for (int64_t i = 0; i < n / LM_QK; i++)
        quantize_block(&b[i], x + i * LM_QK);
}

void lm_q4_1_to_f32_ref(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_1 *b = x;
    for (int64_t i = 0; i < n / LM_QK; i++, y += LM_QK) {
        float d = lm_f16_to_f32(b[i].d), m = lm_f16_to_f32(b[i].m);
        for (int j = 0; j < LM_QK / 2; j++) {
            y[j] = d * (float)(b[i].qs[j] & 15) + m;
            y[j + LM_QK / 2] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}
