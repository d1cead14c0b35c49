/* simd/avx512/avx512.h - AVX-512 kernel declarations and the small helpers they share.
 *
 * Files in simd/avx512/ are compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq (plus the
 * AVX2 level's -mavx2 -mfma -mf16c); a file named *_vnni.c adds -mavx512vnni and *_dpbf16.c
 * adds -mavx512bf16, so an instruction a sub-level may lack appears only in that sub-level's
 * files. In the test build (LMRT_EMU, build/emu/) the same files compile against SIMDe, whose
 * native aliases give the intrinsics their usual names on any AVX2 CPU.
 */
#ifndef LMRT_SIMD_AVX512_H
#define LMRT_SIMD_AVX512_H

#ifdef LMRT_EMU
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde_x86_extra.h> /* tests/emu: what SIMDe 0.7.4 lacks; add missing intrinsics there */
#else
#include <immintrin.h>
#endif

#include "../avx2/avx2.h"
#include "../kernels.h"

#endif
