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
    k->mm[LM_Q8_0].prep = lm_prep_q8x_avx2;
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_avx2;
    k->mm[LM_Q8_0].n_step = 8;
    k->mm[LM_Q4_0].prep = lm_prep_q8x_avx2;
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_avx2;
    k->mm[LM_Q4_0].scratch_size = lm_mm_q4_0_scratch_avx2;
    k->mm[LM_Q4_0].n_step = 8;
    k->mm[LM_Q4_1].prep = lm_prep_q8xs_avx2;
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_avx2;
    k->mm[LM_Q4_1].n_step = 8;

    /* quantize / dequantize */
    k->to_f32[LM_Q8_0] = lm_q8_0_to_f32_avx2;
    k->from_f32[LM_Q8_0] = lm_q8_0_from_f32_avx2;
    k->to_f32[LM_Q4_0] = lm_q4_0_to_f32_avx2;
    k->from_f32[LM_Q4_0] = lm_q4_0_from_f32_avx2;
    k->to_f32[LM_Q4_1] = lm_q4_1_to_f32_avx2;
    k->from_f32[LM_Q4_1] = lm_q4_1_from_f32_avx2;

    /* norms, softmax, rope, attention */
    k->rmsnorm = lm_rmsnorm_avx2;

    /* elementwise, gather, conv */
}
