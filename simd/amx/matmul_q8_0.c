/* simd/amx/matmul_q8_0.c - y = x W^T for Q8_0 W (codes as stored, signed x signed: tdpbssd) on AMX
 * tiles, M >= LM_AMX_MIN_M; smaller M runs the level below's kernel. Layout, tails and the float
 * order (bit-identical to lm_mm_q8_0_ref): mm_int8.h.
 */
#include "mm_int8.h"

size_t lm_mm_q8_0_scratch_amx(int64_t M, int64_t K) { return amx_q_scratch(LM_Q8_0, M, K); }

void lm_mm_q8_0_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    amx_q_gemm(a, n0, n1, scratch, LM_Q8_0, AMX_Q8_0);
}
