/* simd/quant_legacy.h - the "legacy" GGUF quant blocks (Q8_0, Q4_0, Q4_1), the 8-bit activation
 * blocks their matmuls read, and the reference kernels of this family (internal).
 *
 * Weight blocks are byte-for-byte the GGUF layouts (llama.cpp reads what we write and we read its
 * files): 32 values per block, scales as IEEE half in a u16, nibble j of qs[] holding element j
 * (low 4 bits) and element j + 16 (high 4 bits).
 *
 * Activation blocks (what lm_mm_kernel.prep writes for these dtypes): 32 int8 values in
 * [-127, 127] with an f32 scale, x ~= d * q. f32 rather than fp16 for d because (1) it is read
 * once per block per W row in the inner loop, where an f32 broadcast is one load and an fp16
 * one needs a conversion; (2) an f32 scale cannot overflow or underflow for any finite row
 * (fp16 d overflows once |x| > 65504 * 127 and flushes small rows to zero); (3) it keeps the
 * activation error at the int8 rounding alone. The 2 extra bytes per 32 values are noise next to
 * the weights. Q4_1 needs the block sum too, stored premultiplied (s = d * sum(q)) so the min
 * term of the dot product is one multiply per block: dot = dw*dx*sum(qw*qx) + mw*s.
 *
 * Out-of-range inputs (defined here, identical in every level): finite blocks whose scale fits
 * a half give exactly llama.cpp's reference blocks. Otherwise: a block holding a NaN becomes a
 * NaN block (d = NaN, so every value dequantizes to NaN); +-inf counts as +-FLT_MAX; a scale (and
 * Q4_1's min/max) past the half range saturates at the largest f32 that rounds to a finite half
 * (LM_F16_SAT, stored as 65504) and the codes clamp; a scale so small that 1/d overflows gives
 * all-zero codes. Activation rows: any non-finite value in a block gives d = NaN, q = 0 (the
 * outputs it touches become NaN, as an F32 matmul would make inf or NaN).
 */
#ifndef LMRT_SIMD_QUANT_LEGACY_H
#define LMRT_SIMD_QUANT_LEGACY_H

#include <assert.h>

#include "kernels.h"

#define LM_QK 32 /* values per block, all three dtypes */

struct lm_block_q8_0 {
    uint16_t d; /* fp16 scale */
    int8_t qs[LM_QK];
};
struct lm_block_q4_0 {
    uint16_t d;            /* fp16 scale; x = d * (nibble - 8) */
    uint8_t qs[LM_QK / 2]; /* qs[j]: element j low nibble, element j + 16 high nibble */
};
struct lm_block_q4_1 {
    uint16_t d, m; /* fp16 scale and min; x = d * nibble + m */
    uint8_t qs[LM_QK / 2];
};

/* Activation blocks (prepared x rows are K/32 of these, back to back). */
struct lm_block_q8x {
    float d; /* x ~= d * q */
    int8_t qs[LM_QK];
};
struct lm_block_q8xs {
    float d, s; /* s = d * sum(qs), exactly the f32 product of d and the integer sum */
    int8_t qs[LM_QK];
};

static_assert(sizeof(struct lm_block_q8_0) == 34, "Q8_0 block is 34 bytes in GGUF");
static_assert(sizeof(struct lm_block_q4_0) == 18, "Q4_0 block is 18 bytes in GGUF");
static_assert(sizeof(struct lm_block_q4_1) == 20, "Q4_1 block is 20 bytes in GGUF");
static_assert(sizeof(struct lm_block_q8x) == 36, "activation block: f32 d + 32 int8");
static_assert(sizeof(struct lm_block_q8xs) == 40, "activation block: f32 d, s + 32 int8");

/* Largest f32 that lm_f32_to_f16 rounds to a finite half (65504): 65520 - 2^-8 (bits
 * 0x477fefff). Scales are clamped to it so a stored scale is never infinite. */
#define LM_F16_SAT 65519.99609375f
#define LM_F16_NAN 0x7e00u /* the quiet NaN half that NaN blocks store */

/* +-inf -> +-FLT_MAX; finite values unchanged (callers have handled NaN). */
static inline float lm_q_sat(float v) {
    return v > 3.40282347e38f ? 3.40282347e38f : v < -3.40282347e38f ? -3.40282347e38f : v;
}

/* 1/d, or 0 when d is 0 or 1/d overflows (|d| < 2^-128): the codes are then all zero. */
static inline float lm_q_inv(float d) {
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    return id - id == 0.0f ? id : 0.0f;
}

/* ---- reference kernels (ops/quant_<dtype>.c, ops/matmul_legacy.c) ------------------------ */

void lm_q8_0_to_f32_ref(float *y, const void *x, int64_t n);
void lm_q8_0_from_f32_ref(void *y, const float *x, int64_t n);
void lm_q4_0_to_f32_ref(float *y, const void *x, int64_t n);
void lm_q4_0_from_f32_ref(void *y, const float *x, int64_t n);
void lm_q4_1_to_f32_ref(float *y, const void *x, int64_t n);
void lm_q4_1_from_f32_ref(void *y, const float *x, int64_t n);

/* Activation rows of K (a multiple of 32) -> K/32 lm_block_q8x / lm_block_q8xs. */
void lm_prep_q8x_ref(void *dst, const float *x, int64_t K);
void lm_prep_q8xs_ref(void *dst, const float *x, int64_t K);
size_t lm_prep_q8x_size(int64_t K);
size_t lm_prep_q8xs_size(int64_t K);

/* Tiles: y[m][n] for n in [n0, n1), all m; integer dot per block, f32 accumulation. */
void lm_mm_q8_0_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_0_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_1_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);

#endif
