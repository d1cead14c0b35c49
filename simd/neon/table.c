/* simd/neon/table.c - the NEON levels: which kernels each overrides in the table below it.
 *
 * Stores function pointers only; dispatch.c calls neon_dotprod's fill only after cpuinfo (or
 * the auxiliary vector) showed the dotprod extension.
 */
#include "neon.h"
#include "quant_neon.h"

/* neon: ARMv8 Advanced SIMD, over the reference table */
void lm_kernels_fill_neon(struct lm_kernels *k) {
    /* float kernels: conversion, norms, softmax, rope, elementwise, conv */
    k->to_f32[LM_F16] = lm_f16_to_f32_neon;
    k->from_f32[LM_F16] = lm_f32_to_f16_neon;
    k->to_f32[LM_BF16] = lm_bf16_to_f32_neon;
    k->from_f32[LM_BF16] = lm_f32_to_bf16_neon;
    k->rmsnorm = lm_rmsnorm_neon;
    k->layernorm = lm_layernorm_neon;
    k->l2norm = lm_l2norm_neon;
    k->softmax = lm_softmax_neon;
    k->rope = lm_rope_neon;
    k->attn = lm_attn_neon;
    k->attn_scratch_floats = lm_attn_scratch_floats_neon;
    k->silu = lm_silu_neon;
    k->gelu_erf = lm_gelu_erf_neon;
    k->gelu_tanh = lm_gelu_tanh_neon;
    k->swiglu = lm_swiglu_neon;
    k->add = lm_add_neon;
    k->mul = lm_mul_neon;
    k->scale = lm_scale_neon;
    k->conv1d = lm_conv1d_neon;
    /* float matmul: F32, F16, BF16 share the GEMV and the 8x12 GEMM (gemm.h, gemm_f32.c) */
    k->mm[LM_F32] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f32_neon, .scratch_size = lm_gemm_scratch_neon, .n_step = 12};
    k->mm[LM_F16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f16_neon, .scratch_size = lm_gemm_scratch_neon, .n_step = 12};
    k->mm[LM_BF16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_bf16_neon, .scratch_size = lm_gemm_scratch_neon, .n_step = 12};
    /* quantized matmuls (quant_neon.h): Q8_0 / Q4_0 / Q4_1 against 32-blocks of 8-bit x
     * (prep_size as in the reference), K-quants against Q8_K; bit-identical to the reference */
    k->mm[LM_Q8_0].prep = lm_prep_q8x_neon;
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_neon;
    k->mm[LM_Q8_0].scratch_size = NULL;
    k->mm[LM_Q8_0].n_step = 4;
    k->mm[LM_Q4_0].prep = lm_prep_q8x_neon;
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_neon;
    k->mm[LM_Q4_0].scratch_size = NULL;
    k->mm[LM_Q4_0].n_step = 4;
    k->mm[LM_Q4_1].prep = lm_prep_q8xs_neon;
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_neon;
    k->mm[LM_Q4_1].scratch_size = NULL;
    k->mm[LM_Q4_1].n_step = 4;
    k->mm[LM_Q4_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_neon,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = lm_mm_q4_k_neon,
                                           .n_step = 1};
    k->mm[LM_Q5_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_neon,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = lm_mm_q5_k_neon,
                                           .n_step = 1};
    k->mm[LM_Q6_K] = (struct lm_mm_kernel){.prep = lm_q8_k_prep_neon,
                                           .prep_size = lm_q8_k_prep_size,
                                           .tile = lm_mm_q6_k_neon,
                                           .n_step = 1};
    /* quantize / dequantize (K-quant quantizers stay on the reference: an offline search) */
    k->to_f32[LM_Q8_0] = lm_q8_0_to_f32_neon;
    k->from_f32[LM_Q8_0] = lm_q8_0_from_f32_neon;
    k->to_f32[LM_Q4_0] = lm_q4_0_to_f32_neon;
    k->from_f32[LM_Q4_0] = lm_q4_0_from_f32_neon;
    k->to_f32[LM_Q4_1] = lm_q4_1_to_f32_neon;
    k->from_f32[LM_Q4_1] = lm_q4_1_from_f32_neon;
    k->to_f32[LM_Q4_K] = lm_q4_k_to_f32_neon;
    k->to_f32[LM_Q5_K] = lm_q5_k_to_f32_neon;
    k->to_f32[LM_Q6_K] = lm_q6_k_to_f32_neon;
}

/* neon+dotprod: sdot/udot, over the neon table */
void lm_kernels_fill_neon_dotprod(struct lm_kernels *k) {
    /* quantized matmuls: the neon tiles with sdot block dots (same preps, same results) */
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_neon_dotprod;
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_neon_dotprod;
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_neon_dotprod;
    k->mm[LM_Q4_K].tile = lm_mm_q4_k_neon_dotprod;
    k->mm[LM_Q5_K].tile = lm_mm_q5_k_neon_dotprod;
    k->mm[LM_Q6_K].tile = lm_mm_q6_k_neon_dotprod;
}
