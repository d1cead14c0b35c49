/* simd/neon/matmul_q8_0_dotprod.c - y = x W^T for Q8_0 W against 8-bit activation rows, ARMv8.2
 * NEON + dotprod.
 *
 * The tiling, pass order, tails and exactness are matmul_legacy_neon.h's (shared by both NEON
 * levels): 4 W rows by up to 4 x rows per register tile, exact int32 block sums, then the
 * reference's f32 multiplies and adds, so the output is bit-identical to lm_mm_q8_0_ref.
 * This file gives the block dot of its level: two sdot (vdotq_s32), each summing 16 int8 products
 * into 4 int32 lanes, exact.
 */
#include "quant_neon.h"

static inline int32x4_t mm_dot(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
}

#include "matmul_legacy_neon.h"

void lm_mm_q8_0_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    lmq_neon_mm(a, LM_Q8_0, n0, n1);
}
