/* simd/avx2/table.c - the AVX2 level: which kernels it overrides in the reference table.
 *
 * Compiled with the AVX2 flags but executes no AVX2 instruction itself: it only stores
 * function pointers, and dispatch.c calls it only after cpuinfo confirmed AVX2, FMA and F16C.
 */
#include "avx2.h"

void lm_kernels_fill_avx2(struct lm_kernels *k) {
    /* conversion */
    k->to_f32[LM_F16] = lm_f16_to_f32_avx2;
    k->from_f32[LM_F16] = lm_f32_to_f16_avx2;
    k->to_f32[LM_BF16] = lm_bf16_to_f32_avx2;
    k->from_f32[LM_BF16] = lm_f32_to_bf16_avx2;

    /* matmul */
    k->mm[LM_F32] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f32_avx2, .scratch_size = lm_gemm_scratch_avx2, .n_step = 16};
    k->mm[LM_F16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f16_avx2, .scratch_size = lm_gemm_scratch_avx2, .n_step = 16};
    k->mm[LM_BF16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_bf16_avx2, .scratch_size = lm_gemm_scratch_avx2, .n_step = 16};

    /* quantize / dequantize */

    /* norms, softmax, rope, attention */
    k->rmsnorm = lm_rmsnorm_avx2;

    /* elementwise, gather, conv */
}
