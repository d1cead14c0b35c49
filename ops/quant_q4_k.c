/* ops/quant_q4_k.c - Q4_K reference dequantizer and quantizer, and the asymmetric sub-block fit
 * that Q4_K and Q5_K share. Layout: simd/quant_k.h.
 *
 * Quantizer (per super-block of 256):
 *   1. For each sub-block of 32 find (scale, min) with x ~ scale*q - min, q in 0..15, by a small
 *      search over candidate scales around (max - min)/15, each refined by weighted least
 *      squares, keeping the one with the least weighted squared error (lm_k_fit_asym). Weights
 *      are rms(sub-block) + |x|, so large values count more, as in llama.cpp's reference.
 *   2. d = max scale / 63 and dmin = max min / 63 (fp16); each sub-block's scale and min become
 *      6-bit multiples of the stored d and dmin.
 *   3. Every value is re-quantized against the stored (rounded) d*sc and dmin*m.
 * It is not bit-identical to llama.cpp but follows the same method; the error measured on
 * N(0,1) data is in tests/check_quant_k.c. Zero rows give all-zero blocks; NaN never reaches a
 * float-to-int conversion (lm_k_round_clamp), and scales past fp16 saturate.
 */
#include <math.h>

#include "../simd/quant_k.h"
#include "ops.h"

void lm_q4_k_to_f32_ref(float *y, const void *x, int64_t n) {
    const struct lm_block_q4_k *b = x;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, y += LM_QK_K) {
        uint8_t sm[16];
        lm_k_unpack_scales(b->scales, sm);
        float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int c = 0; c < 4; c++) {
            const uint8_t *q = b->qs + 32 * c;
            float d1 = d * sm[2 * c], m1 = dmin * sm[8 + 2 * c];
            float d2 = d * sm[2 * c + 1], m2 = dmin * sm[8 + 2 * c + 1];
            for (int l = 0; l < 32; l++) {
                y[64 * c + l] = d1 * (float)(q[l] & 15) - m1;
                y[64 * c + 32 + l] = d2 * (float)(q[l] >> 4) - m2;
            }
        }
    }
}

/* Weighted squared error of x ~ a*L + b. Double: the sums must not overflow for |x| near
 * FLT_MAX, and a few hundred extra flops per sub-block do not matter to a one-off conversion. */
static double fit_error(const float *x, const float *w, const uint8_t *L, int n, float a, float b) {
    double e = 0;
    for (int i = 0; i < n; i++) {
        double r = (double)a * L[i] + b - x[i];
        e += w[i] * r * r;
    }
    return e;
}

float lm_k_fit_asym(const float *x, const float *w, int n, int nmax, float rmin, float rdelta,
                    int nstep, uint8_t *L, float *min) {
    float lo = 0, hi = 0;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (x[i] != x[i]) continue; /* NaN: the fit ignores it */
        if (!seen || x[i] < lo) lo = x[i];
        if (!seen || x[i] > hi) hi = x[i];
        seen = 1;
    }
    if (lo > 0) lo = 0; /* the min is stored as a non-negative offset */
    float range = hi - lo;
    if (!(range > 0) || !isfinite(range)) {
        /* all equal (or NaN/inf): q = 0 and the offset alone reproduces x = lo */
        for (int i = 0; i < n; i++)
            L[i] = 0;
        *min = isfinite(lo) ? -lo : 0;
        return 0;
    }
    double sw = 0, swx = 0;
    for (int i = 0; i < n; i++) {
        sw += w[i];
        swx += (double)w[i] * x[i];
    }
    /* start: the plain min/max grid */
    float iscale = (float)nmax / range, scale = range / (float)nmax, off = lo;
    for (int i = 0; i < n; i++)
        L[i] = (uint8_t)lm_k_round_clamp(iscale * (x[i] - lo), 0, nmax);
    double best = fit_error(x, w, L, n, scale, off);
    uint8_t La[32];
    for (int s = 0; s <= nstep; s++) {
        iscale = (rmin + rdelta * (float)s + (float)nmax) / range;
        double sl = 0, sl2 = 0, sxl = 0;
        for (int i = 0; i < n; i++) {
            La[i] = (uint8_t)lm_k_round_clamp(iscale * (x[i] - lo), 0, nmax);
            sl += (double)w[i] * La[i];
            sl2 += (double)w[i] * La[i] * La[i];
            sxl += (double)w[i] * La[i] * x[i];
        }
        /* least squares for (a, b) in x ~ a*L + b, with b <= 0 */
        double D = sw * sl2 - sl * sl;
        if (!(D > 0)) continue;
        double a = (sw * sxl - swx * sl) / D, b = (sl2 * swx - sl * sxl) / D;
        if (b > 0) {
            b = 0;
            a = sxl / sl2;
        }
        double e = fit_error(x, w, La, n, (float)a, (float)b);
        if (e < best) {
            best = e;
            scale = (float)a;
            off = (float)b;
            for (int i = 0; i < n; i++)
                L[i] = La[i];
        }
    }
    *min = -off;
    return scale;
}

/* Steps 1-2 for Q4_K and Q5_K: fit the 8 sub-blocks of xb with q in 0..nmax, store d, dmin
 * and the packed 6-bit scales, and return the 8 scales and mins as integers. */
void lm_k_fit_superblock(const float *xb, int nmax, float rmin, float rdelta, int nstep,
                         uint16_t *d, uint16_t *dmin, uint8_t scales[12], uint8_t sc[8],
                         uint8_t m[8]) {
    float fs[8], fm[8], w[32];
    uint8_t L[32];
    float max_s = 0, max_m = 0;
    for (int j = 0; j < 8; j++) {
        const float *x = xb + 32 * j;
        double ss = 0;
        for (int l = 0; l < 32; l++)
            ss += (double)x[l] * x[l];
        float av = (float)sqrt(ss / 32);
        for (int l = 0; l < 32; l++)
            w[l] = av + fabsf(x[l]);
        fs[j] = lm_k_fit_asym(x, w, 32, nmax, rmin, rdelta, nstep, L, &fm[j]);
        if (fs[j] > max_s) max_s = fs[j];
        if (fm[j] > max_m) max_m = fm[j];
    }
    /* the 6-bit multiples are taken of the stored (fp16-rounded) d and dmin: for small data
     * they are fp16 subnormals with few bits, and rounding against them keeps the scales right */
    *d = lm_k_f16_sat(max_s / 63.0f);
    *dmin = lm_k_f16_sat(max_m / 63.0f);
    float dd = lm_f16_to_f32(*d), dm = lm_f16_to_f32(*dmin);
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(dd > 0 ? lm_k_round_clamp(fs[j] / dd, 0, 63) : 0);
        m[j] = (uint8_t)(dm > 0 ? lm_k_round_clamp(fm[j] / dm, 0, 63) : 0);
    }
    lm_k_pack_scales(scales, sc, m);
}

/* Step 3: q = round((x + dmin*m) / (d*sc)) in 0..nmax for one sub-block of 32. */
void lm_k_requant_asym(const float *x, float d, float dmin, int sc, int m, int nmax, uint8_t *L) {
    float dd = d * (float)sc, dm = dmin * (float)m;
    for (int l = 0; l < 32; l++)
        L[l] = dd > 0 ? (uint8_t)lm_k_round_clamp((x[l] + dm) / dd, 0, nmax) : 0;
}

void lm_q4_k_from_f32_ref(void *y, const float *x, int64_t n) {
    struct lm_block_q4_k *b = y;
    for (int64_t i = 0; i < n / LM_QK_K; i++, b++, x += LM_QK_K) {
        uint8_t sc[8], m[8], L[256];
        lm_k_fit_superblock(x, 15, -1.0f, 0.1f, 20, &b->d, &b->dmin, b->scales, sc, m);
        float d = lm_f16_to_f32(b->d), dmin = lm_f16_to_f32(b->dmin);
        for (int j = 0; j < 8; j++)
            lm_k_requant_asym(x + 32 * j, d, dmin, sc[j], m[j], 15, L + 32 * j);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b->qs[32 * c + l] = (uint8_t)(L[64 * c + l] | L[64 * c + 32 + l] << 4);
    }
}
