/* simd/neon/matmul_q4_k.c - y = x W^T for Q4_K W against Q8_K-prepared x rows, ARMv8 NEON.
 *
 * The math, tiling, pass order and exactness are matmul_k_neon.h's (shared by both NEON
 * levels): one W row against up to 4 x rows per pass, exact int32 sums per super-block, then
 * the reference's f32 operations, so the output is bit-identical to the reference tile.
 * This file gives the integer dots of its level: codes are at most 63 and x at most 127 in
 * magnitude, so up to four products share an int16 lane (4 * 63 * 127 < 2^15) before vpaddlq_s16
 * widens them (vmull_s8, vmlal_s8, vmlal_high_s8).
 */
#include "quant_k_neon.h"

static inline int32x4_t kq_dot32(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
    return lmq_neon_dot32_small(a0, a1, b0, b1);
}

static inline int32x4_t kq_dot16(int8x16_t a, int8x16_t b) { return lmq_neon_dot16(a, b); }

#include "matmul_k_neon.h"

void lm_mm_q4_k_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    lmk_neon_mm(a, LM_Q4_K, n0, n1);
}
