/* simd/avx512/table.c - the AVX-512 levels: which kernels each overrides in the table below it.
 *
 * Compiled with the AVX-512 flags but executes none of it: it only stores function pointers,
 * and dispatch.c calls each fill only after cpuinfo confirmed the level's extensions.
 */
#include "avx512.h"

/* avx512: F/BW/VL/DQ, over the avx2 table */
void lm_kernels_fill_avx512(struct lm_kernels *k) {
    /* x512f: conversions, norms, softmax, rope, attention, elementwise, conv */
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
}

/* + AVX512-BF16 (vdpbf16ps), where the CPU has it, at avx512 and every level above */
void lm_kernels_fill_avx512_bf16(struct lm_kernels *k) { (void)k; }

/* avx512+vnni: vpdpbusd dot products, over the avx512 table */
void lm_kernels_fill_avx512_vnni(struct lm_kernels *k) { (void)k; }
