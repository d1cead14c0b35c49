/* simd/amx/matmul_q4_1.c - y = x W^T for Q4_1 W (nibbles 0..15 unsigned against signed x: tdpbsud;
 * the min term mw * sx per block) on AMX tiles, M >= LM_AMX_MIN_M; smaller M runs the level below's
 * kernel. Layout, tails and the float order (bit-identical to lm_mm_q4_1_ref): mm_int8.h.
 */
#include "mm_int8.h"

size_t lm_mm_q4_1_scratch_amx(int64_t M, int64_t K) { return amx_q_scratch(LM_Q4_1, M, K); }

void lm_mm_q4_1_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    amx_q_gemm(a, n0, n1, scratch, LM_Q4_1, AMX_Q4_1);
}
