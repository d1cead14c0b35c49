/* simd/neon/table.c - the NEON levels: which kernels each overrides in the table below it.
 *
 * Stores function pointers only; dispatch.c calls neon_dotprod's fill only after cpuinfo (or
 * the auxiliary vector) showed the dotprod extension.
 */
#include "neon.h"

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
}

/* neon+dotprod: sdot/udot, over the neon table */
void lm_kernels_fill_neon_dotprod(struct lm_kernels *k) { (void)k; }
