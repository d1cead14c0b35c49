/* simd/neon/matmul_q5_k_dotprod.c - y = x W^T for Q5_K W against Q8_K-prepared x rows, ARMv8.2 NEON
 * + dotprod.
 *
 * The math, tiling, pass order and exactness are matmul_k_neon.h's (shared by both NEON
 * levels): one W row against up to 4 x rows per pass, exact int32 sums per super-block, then
 * the reference's f32 operations, so the output is bit-identical to the reference tile.
 * This file gives the integer dots of its level: sdot (vdotq_s32), 16 int8 products into 4 int32
 * lanes per instruction, exact.
 */
#include "quant_k_neon.h"

static inline int32x4_t kq_dot32(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, b0), a1, b1);
}

static inline int32x4_t kq_dot16(int8x16_t a, int8x16_t b) {
    return vdotq_s32(vdupq_n_s32(0), a, b);
}

#include "matmul_k_neon.h"

void lm_mm_q5_k_neon_dotprod(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    lmk_neon_mm(a, LM_Q5_K, n0, n1);
}
