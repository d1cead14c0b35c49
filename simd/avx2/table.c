/* simd/avx2/table.c - the AVX2 level: which kernels it overrides in the reference table.
 *
 * Compiled with the AVX2 flags but executes no AVX2 instruction itself: it only stores
 * function pointers, and dispatch.c calls it only after cpuinfo confirmed AVX2, FMA and F16C.
 */
#include "../quant_k.h"
#include "avx2.h"

void lm_kernels_fill_avx2(struct lm_kernels *k) {
    /* conversion */
    k->to_f32[LM_F16] = lm_f16_to_f32_avx2;
    k->from_f32[LM_F16] = lm_f32_to_f16_avx2;
    k->to_f32[LM_BF16] = lm_bf16_to_f32_avx2;
    k->from_f32[LM_BF16] = lm_f32_to_bf16_avx2;

    /* matmul: F32, F16, BF16 share the f32 GEMV/GEMM (gemm.h, gemm_f32.c) */
    k->mm[LM_F32] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f32_avx2, .scratch_size = lm_gemm_scratch_avx2, .n_step = 16};
    k->mm[LM_F16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f16_avx2, .scratch_size = lm_gemm_scratch_avx2, .n_step = 16};
    k->mm[LM_BF16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_bf16_avx2, .scratch_size = lm_gemm_scratch_avx2, .n_step = 16};

    /* matmul: Q8_0, Q4_0, Q4_1 against 32-blocks of 8-bit x (prep_size as in the reference) */
    k->mm[LM_Q8_0].prep = lm_prep_q8x_avx2;
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_avx2;
    k->mm[LM_Q8_0].scratch_size = lm_mm_q8_0_scratch_avx2;
    k->mm[LM_Q8_0].n_step = 8;
    k->mm[LM_Q4_0].prep = lm_prep_q8x_avx2;
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_avx2;
    k->mm[LM_Q4_0].scratch_size = lm_mm_q4_0_scratch_avx2;
    k->mm[LM_Q4_0].n_step = 8;
    k->mm[LM_Q4_1].prep = lm_prep_q8xs_avx2;
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_avx2;
    k->mm[LM_Q4_1].scratch_size = lm_mm_q4_1_scratch_avx2;
    k->mm[LM_Q4_1].n_step = 8;

    /* matmul: K-quants against 256-blocks of 8-bit x with 16-value sums (Q8_K) */
    k->mm[LM_Q4_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_avx2,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = lm_mm_q4_k_tile_avx2,
                                           .n_step = 1};
    k->mm[LM_Q5_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_avx2,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = lm_mm_q5_k_tile_avx2,
                                           .n_step = 1};
    k->mm[LM_Q6_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_avx2,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = lm_mm_q6_k_tile_avx2,
                                           .n_step = 1};

    /* quantize / dequantize (K-quant quantizers stay on the reference: an offline search) */
    k->to_f32[LM_Q8_0] = lm_q8_0_to_f32_avx2;
    k->from_f32[LM_Q8_0] = lm_q8_0_from_f32_avx2;
    k->to_f32[LM_Q4_0] = lm_q4_0_to_f32_avx2;
    k->from_f32[LM_Q4_0] = lm_q4_0_from_f32_avx2;
    k->to_f32[LM_Q4_1] = lm_q4_1_to_f32_avx2;
    k->from_f32[LM_Q4_1] = lm_q4_1_from_f32_avx2;
    k->to_f32[LM_Q4_K] = lm_q4_k_to_f32_avx2;
    k->to_f32[LM_Q5_K] = lm_q5_k_to_f32_avx2;
    k->to_f32[LM_Q6_K] = lm_q6_k_to_f32_avx2;

    /* norms, softmax, rope, attention */
    k->rmsnorm = lm_rmsnorm_avx2;
    k->layernorm = lm_layernorm_avx2;
    k->l2norm = lm_l2norm_avx2;
    k->softmax = lm_softmax_avx2;
    k->rope = lm_rope_avx2;
    k->attn = lm_attn_avx2;
    k->attn_scratch_floats = lm_attn_scratch_floats_avx2;

    /* elementwise, gather, conv */
    k->silu = lm_silu_avx2;
    k->gelu_erf = lm_gelu_erf_avx2;
    k->gelu_tanh = lm_gelu_tanh_avx2;
    k->swiglu = lm_swiglu_avx2;
    k->add = lm_add_avx2;
    k->mul = lm_mul_avx2;
    k->scale = lm_scale_avx2;
    k->conv1d = lm_conv1d_avx2;
}
