/* ops/quant_q6_k.c - Q6_K reference dequantizer and quantizer. Layout: simd/quant_k.h.
 *
 * Quantizer (per super-block of 256), symmetric:
 *   1. For each group of 16 find a scale s with x ~ s*q, q in -32..31: the value of largest
 *      magnitude is mapped to -32 (the side with one more level), and 19 candidate scales around
 *      that are tried, each refined by least squares weighted by x^2; the one with the largest
 *      explained energy (sum w*x*q)^2 / (sum w*q^2) - i.e. the least weighted error - wins.
 *   2. The group scales become int8 multiples of d (fp16, stored first, then each scale is
 *      rounded against the stored value): the largest in magnitude maps to -128 (so d carries
 *      its sign), others round to -128..127.
 *   3. Every value is re-quantized against the stored d*scale and offset by 32 to 0..63.
 * Same method as llama.cpp's reference, written independently; error in tests/check_quant_k.c.
 */
#include <math.h>

#include "../simd/quant_k.h"
#include "ops.h"

void lm_q6_k_to_f32_ref(float *y, const void *x, int64_t n) {
    const struct lm_block_q6_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        float d = lm_f16_to_f32(b->d);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
            const int8_t *sc = b->scales + 8 * h;
            float *yh = y + 128 * h;
            for (int l = 0; l < 32; l++) {
                int g = l / 16; /* group of value l inside each 32-run */
                int q0 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q1 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q2 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q3 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                yh[l] = (d * (float)sc[g]) * (float)q0;
                yh[l + 32] = (d * (float)sc[g + 2]) * (float)q1;
                yh[l + 64] = (d * (float)sc[g + 4]) * (float)q2;
                yh[l + 96] = (d * (float)sc[g + 6]) * (float)q3;
            }
        }
    }
}

/* Step 1 for one group of 16: returns the scale (0 for an all-zero or non-finite group). */
static float fit_sym16(const float *x) {
    float amax = 0, vmax = 0;
    for (int i = 0; i < 16; i++) {
        float a = fabsf(x[i]);
        if (a > amax) { /* NaN never compares greater: ignored */
            amax = a;
            vmax = x[i];
        }
    }
    if (!(amax >= 1e-30f) || !isfinite(amax)) return 0;
    float best_scale = 0;
    double best = -1;
    for (int s = -9; s <= 9; s++) {
        float iscale = -(32.0f + 0.1f * (float)s) / vmax;
        double slx = 0, sl2 = 0;
        for (int i = 0; i < 16; i++) {
            if (x[i] != x[i]) continue;
            int q = lm_k_round_clamp(iscale * x[i], -32, 31);
            double w = (double)x[i] * x[i];
            slx += w * x[i] * q;
            sl2 += w * q * q;
        }
        if (sl2 > 0 && slx * slx > best * sl2) {
            best = slx * slx / sl2;
            best_scale = (float)(slx / sl2);
        }
    }
    return best_scale;
}

void lm_q6_k_from_f32_ref(void *y, const float *x, int64_t n) {
    struct lm_block_q6_k *b = y;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, x += LM_QK_K) {
        float fs[16], smax = 0, amax = 0;
        for (int g = 0; g < 16; g++) {
            fs[g] = fit_sym16(x + 16 * g);
            if (fabsf(fs[g]) > amax) {
                amax = fabsf(fs[g]);
                smax = fs[g];
            }
        }
        /* d carries the sign of the largest scale, which becomes -128; |d| is saturated to the
         * fp16 range */
        float iscale = amax > 0 ? -128.0f / smax : 0;
        float dv = amax > 0 ? 1.0f / iscale : 0;
        uint16_t dh = lm_k_f16_sat(fabsf(dv));
        b->d = dv < 0 ? (uint16_t)(dh | 0x8000) : dh;
        /* multiples of the stored (fp16-rounded, maybe subnormal) d */
        float d = lm_f16_to_f32(b->d);
        for (int g = 0; g < 16; g++)
            b->scales[g] = (int8_t)(d != 0 ? lm_k_round_clamp(fs[g] / d, -128, 127) : 0);
        uint8_t L[256];
        for (int g = 0; g < 16; g++) {
            float dd = d * (float)b->scales[g];
            for (int l = 0; l < 16; l++) {
                int q = dd != 0 ? lm_k_round_clamp(x[16 * g + l] / dd, -32, 31) : 0;
                L[16 * g + l] = (uint8_t)(q + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            const uint8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                b->ql[64 * h + l] = (uint8_t)((Lh[l] & 15) | (Lh[l + 64] & 15) << 4);
                b->ql[64 * h + 32 + l] = (uint8_t)((Lh[l + 32] & 15) | (Lh[l + 96] & 15) << 4);
                b->qh[32 * h + l] = (uint8_t)((Lh[l] >> 4) | (Lh[l + 32] >> 4) << 2 |
                                              (Lh[l + 64] >> 4) << 4 | (Lh[l + 96] >> 4) << 6);
            }
        }
    }
}
