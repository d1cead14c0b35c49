/* simd/amx/table.c - the avx512+amx level: AMX tile GEMMs for prefill-shaped matmuls over the
 * avx512+vnni table. dispatch.c calls it only after CPUID showed AMX and the kernel granted
 * tile data (arch_prctl).
 *
 * Each AMX matmul handles M >= LM_AMX_MIN_M itself and hands smaller M (decode) to the kernel
 * the table held before (kept in lm_amx_below), so its n_step is a multiple of that kernel's and
 * its scratch covers both. The quantized dtypes keep the level below's prep: its 8-bit x blocks
 * are a fixed format (quant_legacy.h), read by the tiles as they are. BF16 and F16 get a prep of
 * their own that writes the level below's row first (the lower kernel reads that) and the bf16
 * pieces of x after it.
 */
#include "amx.h"

struct lm_mm_kernel lm_amx_below[LM_DTYPE_COUNT];

static int32_t lcm16(int32_t step) {
    int32_t a = step > 0 ? step : 1, b = 16;
    while (b) {
        int32_t t = a % b;
        a = b, b = t;
    }
    return (step > 0 ? step : 1) / a * 16;
}

void lm_kernels_fill_amx(struct lm_kernels *k) {
    for (int t = 0; t < LM_DTYPE_COUNT; t++)
        lm_amx_below[t] = k->mm[t];

    /* int8 tiles: Q8_0 and Q4_0 (tdpbssd), Q4_1 (tdpbsud); the level below's x blocks */
    k->mm[LM_Q8_0].tile = lm_mm_q8_0_amx;
    k->mm[LM_Q8_0].scratch_size = lm_mm_q8_0_scratch_amx;
    k->mm[LM_Q8_0].n_step = lcm16(lm_amx_below[LM_Q8_0].n_step);
    k->mm[LM_Q4_0].tile = lm_mm_q4_0_amx;
    k->mm[LM_Q4_0].scratch_size = lm_mm_q4_0_scratch_amx;
    k->mm[LM_Q4_0].n_step = lcm16(lm_amx_below[LM_Q4_0].n_step);
    k->mm[LM_Q4_1].tile = lm_mm_q4_1_amx;
    k->mm[LM_Q4_1].scratch_size = lm_mm_q4_1_scratch_amx;
    k->mm[LM_Q4_1].n_step = lcm16(lm_amx_below[LM_Q4_1].n_step);

    /* bf16 tiles (tdpbf16ps): BF16 and F16 W, x split into three bf16 pieces by prep */
    k->mm[LM_BF16] = (struct lm_mm_kernel){.prep = lm_prep_split_amx_bf16,
                                           .prep_size = lm_prep_split_size_amx_bf16,
                                           .tile = lm_mm_bf16_amx,
                                           .scratch_size = lm_mm_bf16_scratch_amx,
                                           .n_step = lcm16(lm_amx_below[LM_BF16].n_step)};
    k->mm[LM_F16] = (struct lm_mm_kernel){.prep = lm_prep_split_amx_f16,
                                          .prep_size = lm_prep_split_size_amx_f16,
                                          .tile = lm_mm_f16_amx,
                                          .scratch_size = lm_mm_f16_scratch_amx,
                                          .n_step = lcm16(lm_amx_below[LM_F16].n_step)};
}
