/* simd/amx/matmul_f16.c - y = x W^T for F16 W, split into two bf16 pieces while packing: six dot
 * products per 32-k chunk, on AMX bf16 tiles (tdpbf16ps), M >= LM_AMX_MIN_M; smaller M runs the
 * level below's kernel. The split of x, the accuracy bound, the layout and tails: mm_bf16.h.
 */
#include "mm_bf16.h"

size_t lm_prep_split_size_amx_f16(int64_t K) { return amx_split_size(LM_F16, K); }

void lm_prep_split_amx_f16(void *dst, const float *x, int64_t K) {
    amx_split_prep(dst, x, K, LM_F16);
}

size_t lm_mm_f16_scratch_amx(int64_t M, int64_t K) { return amx_bf_scratch(LM_F16, M, K); }

void lm_mm_f16_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    amx_bf_gemm(a, n0, n1, scratch, LM_F16);
}
