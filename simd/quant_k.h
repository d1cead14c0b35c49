/* simd/quant_k.h - K-quant super-blocks (Q4_K, Q5_K, Q6_K) as GGUF / llama.cpp store them, the
 * Q8_K activation block the K-quant matmuls read, and the small scalar helpers every level shares.
 *
 * A super-block holds 256 values. Layouts (little-endian, fp16 = IEEE half as u16):
 *
 *   Q4_K (144 B): d, dmin (fp16); scales[12]; qs[128].
 *     8 sub-blocks of 32, each with a 6-bit scale sc[j] and a 6-bit min m[j] packed in scales[]:
 *       j < 4:  sc = scales[j] & 63,  m = scales[j+4] & 63
 *       j >= 4: sc = (scales[j+4] & 15) | (scales[j-4] >> 6) << 4,
 *               m  = (scales[j+4] >> 4) | (scales[j]   >> 6) << 4
 *     Value i of sub-block j is x = d*sc[j]*q - dmin*m[j], q 4 bits. Sub-blocks 2c and 2c+1
 *     share qs[32c .. 32c+31]: byte l holds value l of sub-block 2c in its low nibble and value
 *     l of sub-block 2c+1 in its high nibble.
 *   Q5_K (176 B): d, dmin; scales[12] (as Q4_K); qh[32]; qs[128] (as Q4_K).
 *     q = nibble | ((qh[l] >> j) & 1) << 4 for value l of sub-block j (5 bits, 0..31).
 *   Q6_K (210 B): ql[128]; qh[64]; int8 scales[16]; d (fp16, last).
 *     16 groups of 16 values, value i scaled by d*scales[i/16]; q = 6 bits - 32. Each half
 *     h (values 128h .. 128h+127) uses ql[64h ..], qh[32h ..]; for l in 0..31:
 *       value 128h+l    = ql[64h+l]    & 15 | ((qh[32h+l] >> 0) & 3) << 4
 *       value 128h+32+l = ql[64h+32+l] & 15 | ((qh[32h+l] >> 2) & 3) << 4
 *       value 128h+64+l = ql[64h+l]    >> 4 | ((qh[32h+l] >> 4) & 3) << 4
 *       value 128h+96+l = ql[64h+32+l] >> 4 | ((qh[32h+l] >> 6) & 3) << 4
 *
 * Q8_K (ours, never in files; 292 B): f32 d, int8 qs[256], int16 bsums[16] (the sum of each 16
 * consecutive qs). x = d*q with |q| <= 127, d = max|x| / 127. The sums turn the K-quant min
 * and the Q6_K offset of 32 into one short dot product per super-block.
 */
#ifndef LMRT_SIMD_QUANT_K_H
#define LMRT_SIMD_QUANT_K_H

#include <math.h>
#include <string.h>

#include "kernels.h"

#define LM_QK_K 256 /* values per super-block */

struct lm_block_q4_k {
    uint16_t d, dmin;   /* fp16: scale of the 6-bit scales, of the 6-bit mins */
    uint8_t scales[12]; /* 8 scales + 8 mins, 6 bits each (packing above) */
    uint8_t qs[128];    /* 4-bit values, two sub-blocks per 32 bytes */
};

struct lm_block_q5_k {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];  /* bit j of qh[l]: high bit of value l of sub-block j */
    uint8_t qs[128]; /* low 4 bits, as Q4_K */
};

struct lm_block_q6_k {
    uint8_t ql[128]; /* low 4 bits */
    uint8_t qh[64];  /* high 2 bits, four values per byte */
    int8_t scales[16];
    uint16_t d; /* fp16 */
};

struct lm_block_q8_k {
    float d;
    int8_t qs[256];
    int16_t bsums[16];
};

_Static_assert(sizeof(struct lm_block_q4_k) == 144, "Q4_K block is 144 bytes");
_Static_assert(sizeof(struct lm_block_q5_k) == 176, "Q5_K block is 176 bytes");
_Static_assert(sizeof(struct lm_block_q6_k) == 210, "Q6_K block is 210 bytes");
_Static_assert(sizeof(struct lm_block_q8_k) == 292, "Q8_K block is 292 bytes");

/* Unpack the 8 scales (out[0..7]) and 8 mins (out[8..15]) of a Q4_K / Q5_K scales[12]. Works on
 * three 32-bit words: bytes 0-3 carry sc[0..3] (low 6 bits) and the top bits of sc[4..7], bytes
 * 4-7 the same for the mins, bytes 8-11 the low 4 bits of sc[4..7] (low nibbles) and of m[4..7]
 * (high nibbles). */
static inline void lm_k_unpack_scales(const uint8_t *scales, uint8_t out[16]) {
    uint32_t w0, w1, w2, o[4];
    memcpy(&w0, scales, 4);
    memcpy(&w1, scales + 4, 4);
    memcpy(&w2, scales + 8, 4);
    o[0] = w0 & 0x3f3f3f3fu;
    o[1] = (w2 & 0x0f0f0f0fu) | ((w0 >> 6) & 0x03030303u) << 4;
    o[2] = w1 & 0x3f3f3f3fu;
    o[3] = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 6) & 0x03030303u) << 4;
    memcpy(out, o, 16);
}

/* The inverse: pack sc[0..7], m[0..7] (each 0..63) into scales[12]. */
static inline void lm_k_pack_scales(uint8_t *scales, const uint8_t sc[8], const uint8_t m[8]) {
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
        scales[j + 4] = (uint8_t)((m[j] & 63) | (m[j + 4] >> 4) << 6);
        scales[j + 8] = (uint8_t)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
    }
}

/* fp16 of a non-negative super-block scale, saturated to the largest finite half (65504) so a
 * row with values past the format's range decodes to clamped numbers, not inf or NaN; NaN -> 0.
 */
static inline uint16_t lm_k_f16_sat(float v) {
    if (!(v >= 0)) return 0;
    return lm_f32_to_f16(v < 65504.0f ? v : 65504.0f);
}

/* round(v) clamped to [lo, hi]; NaN -> lo. Quantizers convert through this only, so no float
 * to int conversion ever sees a value out of range. */
static inline int lm_k_round_clamp(float v, int lo, int hi) {
    if (!(v >= (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)lrintf(v);
}

/* ---- reference kernels (ops/quant_q*_k.c, ops/matmul_k.c) ---------------------------------- */

void lm_q4_k_to_f32_ref(float *y, const void *x, int64_t n);
void lm_q4_k_from_f32_ref(void *y, const float *x, int64_t n);
void lm_q5_k_to_f32_ref(float *y, const void *x, int64_t n);
void lm_q5_k_from_f32_ref(void *y, const float *x, int64_t n);
void lm_q6_k_to_f32_ref(float *y, const void *x, int64_t n);
void lm_q6_k_from_f32_ref(void *y, const float *x, int64_t n);

/* Fit x ~ scale*q - min over one sub-block of n values, q integers in 0..nmax, minimizing the
 * squared error weighted by w; min >= 0 (the sub-block's low end is clamped to <= 0). Writes
 * the chosen q to L and returns the scale. Shared by the Q4_K and Q5_K quantizers. */
float lm_k_fit_asym(const float *x, const float *w, int n, int nmax, float rmin, float rdelta,
                    int nstep, uint8_t *L, float *min);
/* Fit the 8 sub-blocks of one super-block xb (q in 0..nmax) with lm_k_fit_asym and quantize
 * their scales and mins to 6 bits: writes d, dmin, the packed scales[12], and sc[8], m[8]. */
void lm_k_fit_superblock(const float *xb, int nmax, float rmin, float rdelta, int nstep,
                         uint16_t *d, uint16_t *dmin, uint8_t scales[12], uint8_t sc[8],
                         uint8_t m[8]);
/* q = round((x + dmin*m) / (d*sc)) clamped to 0..nmax for the 32 values of one sub-block. */
void lm_k_requant_asym(const float *x, float d, float dmin, int sc, int m, int nmax, uint8_t *L);

/* Q8_K activation rows: K (a multiple of 256) floats -> K/256 blocks. */
void lm_q8_k_prep_ref(void *dst, const float *x, int64_t K);
size_t lm_q8_k_prep_size(int64_t K);

/* The reference tables' K-quant matmul entries (ops/matmul_k.c). */
void lm_mm_k_fill_ref(struct lm_kernels *k);

#endif
