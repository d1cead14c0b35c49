/* ops/matmul_k.c - reference matmul for K-quant weights (Q4_K, Q5_K, Q6_K) and the Q8_K
 * activation prep they share. The oracle for simd/<isa>/matmul_q*_k.c.
 *
 * prep: each x row of K (a multiple of 256; ops/matmul.c checks it) becomes K/256 Q8_K blocks
 *   (simd/quant_k.h): d = max|x| / 127, q = round-to-nearest-even(x * (127 / max|x|)) clamped to
 *   [-127, 127] (a NaN product clamps to 127), bsums = sums of each 16 q. A block whose max|x|
 *   is below 1e-30 (zeros, denormals) is all zero, so 127 / max|x| never overflows. A block
 *   holding a NaN gets d = NaN (the canonical quiet NaN), so NaN inputs give NaN outputs. SIMD
 * preps must produce the same bytes: the product and the clamp are single IEEE operations and the
 *   sums are exact integers.
 * tile: for every (x row m, W row n) and super-block, exact integer dot products per sub-block,
 *   combined with the integer scales; the K-quant mins and the Q6_K offset of 32 come from the
 *   bsums (dot(mins, bsums)); then one f32 multiply-add per super-block:
 *     Q4_K/Q5_K: acc += (d_w*d_x) * sum_j sc_j*dot_j - (dmin_w*d_x) * sum_j m_j*bsum32_j
 *     Q6_K:      acc += (d_w*d_x) * (sum_g sc_g*dot_g - 32 * sum_g sc_g*bsum_g)
 *   Accumulator: int32 within a super-block (|sum| < 2^31 for any inputs: 256 * 127 * 63 * 127
 *   at most), f32 across super-blocks.
 */
#include <math.h>
#include <string.h>

#include "../simd/quant_k.h"
#include "ops.h"

size_t lm_q8_k_prep_size(int64_t K) { return (size_t)(K / LM_QK_K) * sizeof(struct lm_block_q8_k); }

void lm_q8_k_prep_ref(void *dst, const float *x, int64_t K) {
    struct lm_block_q8_k *b = dst;
    for (int64_t i = 0; i < K / LM_QK_K; i++, b++, x += LM_QK_K) {
        float amax = 0;
        int nan = 0;
        for (int l = 0; l < LM_QK_K; l++) {
            float a = fabsf(x[l]);
            if (a > amax) amax = a; /* NaN never compares greater */
            nan |= x[l] != x[l];
        }
        if (!(amax >= 1e-30f)) {
            memset(b, 0, sizeof *b);
            if (nan) b->d = NAN;
            continue;
        }
        float id = 127.0f / amax;
        b->d = amax / 127.0f;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int l = 16 * g; l < 16 * g + 16; l++) {
                float v = x[l] * id;
                v = v < 127.0f ? v : 127.0f; /* as minps / maxps: NaN takes the bound */
                v = v > -127.0f ? v : -127.0f;
                b->qs[l] = (int8_t)lrintf(v);
                sum += b->qs[l];
            }
            b->bsums[g] = (int16_t)sum;
        }
        if (nan) b->d = NAN; /* the integers cannot carry it: the scale does */
    }
}

/* Sum over a super-block of sc_j * dot(q_j, x_j) for Q4_K/Q5_K: q[256] holds the values in
 * order (0..15 or 0..31). */
static float dot_asym(const uint8_t *q, const uint8_t sm[16], float d, float dmin,
                      const struct lm_block_q8_k *xb) {
    int32_t isum = 0, msum = 0;
    for (int j = 0; j < 8; j++) {
        int32_t dot = 0;
        for (int l = 0; l < 32; l++)
            dot += q[32 * j + l] * xb->qs[32 * j + l];
        isum += sm[j] * dot;
        msum += sm[8 + j] * (xb->bsums[2 * j] + xb->bsums[2 * j + 1]);
    }
    return (d * xb->d) * (float)isum - (dmin * xb->d) * (float)msum;
}

static float row_q4_k(const struct lm_block_q4_k *w, const struct lm_block_q8_k *x, int64_t nb) {
    float acc = 0;
    for (int64_t i = 0; i < nb; i++) {
        uint8_t q[256], sm[16];
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                q[64 * c + l] = w[i].qs[32 * c + l] & 15;
                q[64 * c + 32 + l] = w[i].qs[32 * c + l] >> 4;
            }
        lm_k_unpack_scales(w[i].scales, sm);
        acc += dot_asym(q, sm, lm_f16_to_f32(w[i].d), lm_f16_to_f32(w[i].dmin), &x[i]);
    }
    return acc;
}

static float row_q5_k(const struct lm_block_q5_k *w, const struct lm_block_q8_k *x, int64_t nb) {
    float acc = 0;
    for (int64_t i = 0; i < nb; i++) {
        uint8_t q[256], sm[16];
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int hb = w[i].qh[l] >> (2 * c);
                q[64 * c + l] = (uint8_t)((w[i].qs[32 * c + l] & 15) | (hb & 1) << 4);
                q[64 * c + 32 + l] = (uint8_t)((w[i].qs[32 * c + l] >> 4) | (hb & 2) << 3);
            }
        lm_k_unpack_scales(w[i].scales, sm);
        acc += dot_asym(q, sm, lm_f16_to_f32(w[i].d), lm_f16_to_f32(w[i].dmin), &x[i]);
    }
    return acc;
}

static float row_q6_k(const struct lm_block_q6_k *w, const struct lm_block_q8_k *x, int64_t nb) {
    float acc = 0;
    for (int64_t i = 0; i < nb; i++) {
        uint8_t q[256]; /* 0..63, offset 32 not yet removed */
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *ql = w[i].ql + 64 * h;
                int qh = w[i].qh[32 * h + l];
                q[128 * h + l] = (uint8_t)((ql[l] & 15) | (qh & 3) << 4);
                q[128 * h + 32 + l] = (uint8_t)((ql[l + 32] & 15) | ((qh >> 2) & 3) << 4);
                q[128 * h + 64 + l] = (uint8_t)((ql[l] >> 4) | ((qh >> 4) & 3) << 4);
                q[128 * h + 96 + l] = (uint8_t)((ql[l + 32] >> 4) | ((qh >> 6) & 3) << 4);
            }
        int32_t isum = 0, osum = 0;
        for (int g = 0; g < 16; g++) {
            int32_t dot = 0;
            for (int l = 16 * g; l < 16 * g + 16; l++)
                dot += q[l] * x[i].qs[l];
            isum += w[i].scales[g] * dot;
            osum += w[i].scales[g] * x[i].bsums[g];
        }
        acc += (lm_f16_to_f32(w[i].d) * x[i].d) * (float)(isum - 32 * osum);
    }
    return acc;
}

static void tile_q4_k_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    for (int64_t m = 0; m < a->M; m++)
        for (int64_t n = n0; n < n1; n++)
            a->y[m * a->ldy + n] =
                row_q4_k((const void *)(a->w + (size_t)n * a->ldw),
                         (const void *)(a->x + (size_t)m * a->ldx), a->K / LM_QK_K);
}

static void tile_q5_k_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    for (int64_t m = 0; m < a->M; m++)
        for (int64_t n = n0; n < n1; n++)
            a->y[m * a->ldy + n] =
                row_q5_k((const void *)(a->w + (size_t)n * a->ldw),
                         (const void *)(a->x + (size_t)m * a->ldx), a->K / LM_QK_K);
}

static void tile_q6_k_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    for (int64_t m = 0; m < a->M; m++)
        for (int64_t n = n0; n < n1; n++)
            a->y[m * a->ldy + n] =
                row_q6_k((const void *)(a->w + (size_t)n * a->ldw),
                         (const void *)(a->x + (size_t)m * a->ldx), a->K / LM_QK_K);
}

void lm_mm_k_fill_ref(struct lm_kernels *k) {
    k->mm[LM_Q4_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_ref,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = tile_q4_k_ref,
                                           .n_step = 1};
    k->mm[LM_Q5_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_ref,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = tile_q5_k_ref,
                                           .n_step = 1};
    k->mm[LM_Q6_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_ref,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = tile_q6_k_ref,
                                           .n_step = 1};
}
