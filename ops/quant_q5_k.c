/* ops/quant_q5_k.c - Q5_K reference dequantizer and quantizer. Layout: simd/quant_k.h.
 *
 * Q5_K is Q4_K with a fifth bit per value in qh (bit j of qh[l] for value l of sub-block j), so
 * values run 0..31. The quantizer is Q4_K's (ops/quant_q4_k.c) with nmax = 31 and a finer
 * candidate search (rmin -0.5, step 0.1, 15 steps), then the bits are split into qs and qh.
 */
#include <string.h>

#include "../simd/quant_k.h"
#include "ops.h"

void lm_q5_k_to_f32_ref(float *y, const void *x, int64_t n) {
    const struct lm_block_q5_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int c = 0; c < 4; c++) {
            const uint8_t *q = b->qs + 32 * c;
            int j1 = 2 * c, j2 = 2 * c + 1;
            float d1 = d * sm[j1], m1 = dmin * sm[8 + j1];
            float d2 = d * sm[j2], m2 = dmin * sm[8 + j2];
            for (int l = 0; l < 32; l++) {
                int q1 = (q[l] & 15) | ((b->qh[l] >> j1) & 1) << 4;
                int q2 = (q[l] >> 4) | ((b->qh[l] >> j2) & 1) << 4;
                y[64 * c + l] = d1 * (float)q1 - m1;
                y[64 * c + 32 + l] = d2 * (float)q2 - m2;
            }
        }
    }
}

void lm_q5_k_from_f32_ref(void *y, const float *x, int64_t n) {
    struct lm_block_q5_k *b = y;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, x += LM_QK_K) {
        uint8_t sc[8], m[8], L[256];
        lm_k_fit_superblock(x, 31, -0.5f, 0.1f, 15, &b->d, &b->dmin, b->scales, sc, m);
        float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int j = 0; j < 8; j++)
            lm_k_requant_asym(x + 32 * j, d, dmin, sc[j], m[j], 31, L + 32 * j);
        memset(b->qh, 0, sizeof b->qh);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int q1 = L[64 * c + l], q2 = L[64 * c + 32 + l];
                b->qs[32 * c + l] = (uint8_t)((q1 & 15) | (q2 & 15) << 4);
                b->qh[l] |= (uint8_t)((q1 >> 4) << (2 * c) | (q2 >> 4) << (2 * c + 1));
            }
    }
}
