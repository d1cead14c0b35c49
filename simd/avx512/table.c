/* simd/avx512/table.c - the AVX-512 levels: which kernels each overrides in the table below it.
 *
 * Compiled with the AVX-512 flags but executes none of it: it only stores function pointers,
 * and dispatch.c calls each fill only after cpuinfo confirmed the level's extensions.
 */
#include "avx512.h"

/* avx512: F/BW/VL/DQ, over the avx2 table */
void lm_kernels_fill_avx512(struct lm_kernels *k) { (void)k; }

/* + AVX512-BF16 (vdpbf16ps), where the CPU has it, at avx512 and every level above */
void lm_kernels_fill_avx512_bf16(struct lm_kernels *k) { (void)k; }

/* avx512+vnni: vpdpbusd dot products, over the avx512 table */
void lm_kernels_fill_avx512_vnni(struct lm_kernels *k) { (void)k; }
