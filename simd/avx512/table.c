/* simd/avx512/table.c - the AVX-512 levels: which kernels each overrides in the table below it.
 *
 * Compiled with the AVX-512 flags but executes none of it: it only stores function pointers,
 * and dispatch.c calls each fill only after cpuinfo confirmed the level's extensions.
 */
#include "avx512.h"

/* avx512: F/BW/VL/DQ, over the avx2 table */
void lm_kernels_fill_avx512(struct lm_kernels *k) {
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
void lm_kernels_fill_avx512_vnni(struct lm_kernels *k) { (void)k; }
