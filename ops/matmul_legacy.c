/* ops/matmul_legacy.c - reference matmul tiles for Q8_0, Q4_0 and Q4_1 weights (the oracle).
 *
 * x rows arrive prepared as 8-bit activation blocks (simd/quant_legacy.h): lm_block_q8x (f32 d,
 * int8 q[32]) for Q8_0 and Q4_0 weights, lm_block_q8xs (plus s = d * sum(q)) for Q4_1. Per
 * block the dot product is exact in int32 (|sum| <= 32 * 128 * 127 < 2^20, and so exact again
 * as an f32); the block result is scaled by the f32 product dx * dw and accumulated in f32,
 * block after block:
 *   Q8_0, Q4_0: y += (dx * dw) * sum(qw * qx)          (Q4_0: qw = nibble - 8)
 *   Q4_1:       y += (dx * dw) * sum(qw * qx) + mw * s  (mw * dx * sum(qx): the min term)
 * The SIMD tiles do the same per-block arithmetic with other summation orders (lanes, FMA), so
 * both are compared with a double-precision product in the tests, not with each other.
 */
#include "../simd/quant_legacy.h"

void lm_mm_q8_0_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    const int64_t nb = a->K / LM_QK;
    for (int64_t m = 0; m < a->M; m++) {
        const struct lm_block_q8x *x = (const struct lm_block_q8x *)(a->x + (size_t)m * a->ldx);
        for (int64_t n = n0; n < n1; n++) {
            const struct lm_block_q8_0 *w =
                (const struct lm_block_q8_0 *)(a->w + (size_t)n * a->ldw);
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                int32_t isum = 0;
                for (int j = 0; j < LM_QK; j++)
                    isum += (int32_t)w[b].qs[j] * x[b].qs[j];
                acc += (x[b].d * lm_f16_to_f32(w[b].d)) * (float)isum;
            }
            a->y[m * a->ldy + n] = acc;
        }
    }
}

void lm_mm_q4_0_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    const int64_t nb = a->K / LM_QK;
    for (int64_t m = 0; m < a->M; m++) {
        const struct lm_block_q8x *x = (const struct lm_block_q8x *)(a->x + (size_t)m * a->ldx);
        for (int64_t n = n0; n < n1; n++) {
            const struct lm_block_q4_0 *w =
                (const struct lm_block_q4_0 *)(a->w + (size_t)n * a->ldw);
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                int32_t isum = 0;
                for (int j = 0; j < LM_QK / 2; j++) {
                    isum += ((w[b].qs[j] & 15) - 8) * x[b].qs[j];
                    isum += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + LM_QK / 2];
                }
                acc += (x[b].d * lm_f16_to_f32(w[b].d)) * (float)isum;
            }
            a->y[m * a->ldy + n] = acc;
        }
    }
}

void lm_mm_q4_1_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    const int64_t nb = a->K / LM_QK;
    for (int64_t m = 0; m < a->M; m++) {
        const struct lm_block_q8xs *x = (const struct lm_block_q8xs *)(a->x + (size_t)m * a->ldx);
        for (int64_t n = n0; n < n1; n++) {
            const struct lm_block_q4_1 *w =
                (const struct lm_block_q4_1 *)(a->w + (size_t)n * a->ldw);
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                int32_t isum = 0;
                for (int j = 0; j < LM_QK / 2; j++) {
                    isum += (w[b].qs[j] & 15) * x[b].qs[j];
                    isum += (w[b].qs[j] >> 4) * x[b].qs[j + LM_QK / 2];
                }
                acc +=
                    (x[b].d * lm_f16_to_f32(w[b].d)) * (float)isum + lm_f16_to_f32(w[b].m) * x[b].s;
            }
            a->y[m * a->ldy + n] = acc;
        }
    }
}
