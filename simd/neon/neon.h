/* simd/neon/neon.h - NEON kernel declarations and the small helpers they share.
 *
 * Files in simd/neon/ are compiled for ARMv8-A (Advanced SIMD is part of it); a file named
 * *_dotprod.c adds +dotprod (ARMv8.2 sdot/udot), so only the neon+dotprod level's files hold
 * those instructions. In the x86 test build (LMRT_EMU, build/emu/) the same files compile
 * against SIMDe's NEON, whose native aliases give the intrinsics their usual names.
 */
#ifndef LMRT_SIMD_NEON_H
#define LMRT_SIMD_NEON_H

#ifdef LMRT_EMU
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#else
#include <arm_neon.h>
#endif

#include "../kernels.h"

#endif
