/* simd/amx/matmul_bf16.c - y = x W^T for BF16 W: three dot products per 32-k chunk (xh, xm, xl
 * against w), on AMX bf16 tiles (tdpbf16ps), M >= LM_AMX_MIN_M; smaller M runs the level below's
 * kernel. The split of x, the accuracy bound, the layout and tails: mm_bf16.h.
 */
#include "mm_bf16.h"

size_t lm_prep_split_size_amx_bf16(int64_t K) { return amx_split_size(LM_BF16, K); }

void lm_prep_split_amx_bf16(void *dst, const float *x, int64_t K) {
    amx_split_prep(dst, x, K, LM_BF16);
}

size_t lm_mm_bf16_scratch_amx(int64_t M, int64_t K) { return amx_bf_scratch(LM_BF16, M, K); }

void lm_mm_bf16_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    amx_bf_gemm(a, n0, n1, scratch, LM_BF16);
}
