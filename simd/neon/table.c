/* simd/neon/table.c - the NEON levels: which kernels each overrides in the table below it.
 *
 * Stores function pointers only; dispatch.c calls neon_dotprod's fill only after cpuinfo (or
 * the auxiliary vector) showed the dotprod extension.
 */
#include "neon.h"
#include "quant_neon.h"

/* neon: ARMv8 Advanced SIMD, over the reference table */
void lm_kernels_fill_neon(struct lm_kernels *k) {
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
