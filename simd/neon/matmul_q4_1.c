/* simd/neon/matmul_q4_1.c - y = x W^T for Q4_1 W against 8-bit activation rows, ARMv8 NEON.
 *
 * The tiling, pass order, tails and exactness are matmul_legacy_neon.h's (shared by both NEON
 * levels): 4 W rows by up to 4 x rows per register tile, exact int32 block sums, then the
 * reference's f32 multiplies and adds, so the output is bit-identical to lm_mm_q4_1_ref.
 * This file gives the block dot of its level: codes are 0..15, so all four products of an int16
 * lane (4 * 15 * 127 < 2^15) gather before one widening (lmq_neon_dot32_small: vmull_s8, three
 * vmlal, vpaddlq_s16).
 */
#include "quant_neon.h"

static inline int32x4_t mm_dot(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    return lmq_neon_dot32_small(w0, w1, x0, x1);
}

#include "matmul_legacy_neon.h"

void lm_mm_q4_1_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    lmq_neon_mm(a, LM_Q4_1, n0, n1);
}
