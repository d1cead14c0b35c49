/* simd/neon/table.c - the NEON levels: which kernels each overrides in the table below it.
 *
 * Stores function pointers only; dispatch.c calls neon_dotprod's fill only after cpuinfo (or
 * the auxiliary vector) showed the dotprod extension.
 */
#include "neon.h"

/* neon: ARMv8 Advanced SIMD, over the reference table */
void lm_kernels_fill_neon(struct lm_kernels *k) { (void)k; }

/* neon+dotprod: sdot/udot, over the neon table */
void lm_kernels_fill_neon_dotprod(struct lm_kernels *k) { (void)k; }
