/* simd/amx/amx.h - AMX tile kernel declarations.
 *
 * Files in simd/amx/ are compiled with -mamx-tile -mamx-int8 -mamx-bf16 on top of the AVX-512
 * flags (with VNNI and BF16). In the test build (LMRT_EMU) they compile against
 * tests/emu/amx_emu.h instead, which gives the tile intrinsics the same names and Intel's
 * published semantics in plain C, so the kernel source runs on any x86 CPU.
 */
#ifndef LMRT_SIMD_AMX_H
#define LMRT_SIMD_AMX_H

#ifdef LMRT_EMU
#include <amx_emu.h>
#endif

#include "../avx512/avx512.h"

#endif
