/* simd/avx512/table.c - the AVX-512 levels: which kernels each overrides in the table below it.
 *
 * Compiled with the AVX-512 flags but executes none of it: it only stores function pointers,
 * and dispatch.c calls each fill only after cpuinfo confirmed the level's extensions.
 */
#include "avx512.h"
#include "quant_k_avx512.h"

/* avx512: F/BW/VL/DQ, over the avx2 table */
void lm_kernels_fill_avx512(struct lm_kernels *k) {
    /* legacy quants: Q8_0, Q4_0, Q4_1 rows, their 8-bit x rows and matmuls (vpmaddubsw) */
    k->to_f32[LM_Q8_0] = lm_q8_0_to_f32_avx512;
    k->from_f32[LM_Q8_0] = lm_q8_0_from_f32_avx512;
    k->to_f32[LM_Q4_0] = lm_q4_0_to_f32_avx512;
    k->from_f32[LM_Q4_0] = lm_q4_0_from_f32_avx512;
    k->to_f32[LM_Q4_1] = lm_q4_1_to_f32_avx512;
    k->from_f32[LM_Q4_1] = lm_q4_1_from_f32_avx512;
    k->mm[LM_Q8_0].prep = lm_prep_q8x_avx512;
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_avx512;
    k->mm[LM_Q8_0].scratch_size = lm_mm_q8_0_scratch_avx512;
    k->mm[LM_Q8_0].n_step = 16;
    k->mm[LM_Q4_0].prep = lm_prep_q8x_avx512;
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_avx512;
    k->mm[LM_Q4_0].scratch_size = lm_mm_q4_0_scratch_avx512;
    k->mm[LM_Q4_0].n_step = 16;
    k->mm[LM_Q4_1].prep = lm_prep_q8xs_avx512;
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_avx512;
    k->mm[LM_Q4_1].scratch_size = lm_mm_q4_1_scratch_avx512;
    k->mm[LM_Q4_1].n_step = 16;
    /* K-quants: matmuls against Q8_K x, the Q8_K prep, the dequantizers */
    k->mm[LM_Q4_K].prep = k->mm[LM_Q5_K].prep = k->mm[LM_Q6_K].prep = lm_q8_k_prep_avx512;
    k->mm[LM_Q4_K].tile = lm_mm_q4_k_tile_avx512;
    k->mm[LM_Q5_K].tile = lm_mm_q5_k_tile_avx512;
    k->mm[LM_Q6_K].tile = lm_mm_q6_k_tile_avx512;
    k->to_f32[LM_Q4_K] = lm_q4_k_to_f32_avx512;
    k->to_f32[LM_Q5_K] = lm_q5_k_to_f32_avx512;
    k->to_f32[LM_Q6_K] = lm_q6_k_to_f32_avx512;
    /* conversions, norms, softmax, rope, attention, elementwise, conv */
    k->to_f32[LM_F16] = lm_f16_to_f32_avx512;
    k->from_f32[LM_F16] = lm_f32_to_f16_avx512;
    k->to_f32[LM_BF16] = lm_bf16_to_f32_avx512;
    k->from_f32[LM_BF16] = lm_f32_to_bf16_avx512;
    k->rmsnorm = lm_rmsnorm_avx512;
    k->layernorm = lm_layernorm_avx512;
    k->l2norm = lm_l2norm_avx512;
    k->softmax = lm_softmax_avx512;
    k->rope = lm_rope_avx512;
    k->attn = lm_attn_avx512;
    k->attn_scratch_floats = lm_attn_scratch_floats_avx512;
    k->silu = lm_silu_avx512;
    k->gelu_erf = lm_gelu_erf_avx512;
    k->gelu_tanh = lm_gelu_tanh_avx512;
    k->swiglu = lm_swiglu_avx512;
    k->add = lm_add_avx512;
    k->mul = lm_mul_avx512;
    k->scale = lm_scale_avx512;
    k->conv1d = lm_conv1d_avx512;
    /* matmul: F32, F16, BF16 share the f32 GEMV/GEMM (gemm.h, gemm_f32.c) */
    k->mm[LM_F32] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f32_avx512, .scratch_size = lm_gemm_scratch_avx512, .n_step = 32};
    k->mm[LM_F16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_f16_avx512, .scratch_size = lm_gemm_scratch_avx512, .n_step = 32};
    k->mm[LM_BF16] = (struct lm_mm_kernel){
        .tile = lm_mm_tile_bf16_avx512, .scratch_size = lm_gemm_scratch_avx512, .n_step = 32};
}

/* + AVX512-BF16 (vdpbf16ps), where the CPU has it, at avx512 and every level above */
void lm_kernels_fill_avx512_bf16(struct lm_kernels *k) {
    /* matmul BF16: vdpbf16ps decode on x split into bf16 hi + lo (matmul_bf16_dpbf16.c) */
    k->mm[LM_BF16] = (struct lm_mm_kernel){.prep = lm_mm_bf16_prep_dpbf16,
                                           .prep_size = lm_mm_bf16_prep_size_dpbf16,
                                           .tile = lm_mm_tile_bf16_dpbf16,
                                           .scratch_size = lm_gemm_scratch_avx512,
                                           .n_step = 32};
}

/* avx512+vnni: vpdpbusd dot products, over the avx512 table */
void lm_kernels_fill_avx512_vnni(struct lm_kernels *k) {
    /* legacy quants: the Q8_0, Q4_0, Q4_1 matmuls with vpdpbusd (prep as avx512) */
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_avx512_vnni;
    k->mm[LM_Q8_0].scratch_size = lm_mm_q8_0_scratch_avx512_vnni;
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_avx512_vnni;
    k->mm[LM_Q4_0].scratch_size = lm_mm_q4_0_scratch_avx512_vnni;
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_avx512_vnni;
    k->mm[LM_Q4_1].scratch_size = lm_mm_q4_1_scratch_avx512_vnni;
    /* K-quants: vpdpbusd + vpdpwssd dot products; prep and dequantizers as avx512 */
    k->mm[LM_Q4_K].tile = lm_mm_q4_k_tile_avx512_vnni;
    k->mm[LM_Q5_K].tile = lm_mm_q5_k_tile_avx512_vnni;
    k->mm[LM_Q6_K].tile = lm_mm_q6_k_tile_avx512_vnni;
}
