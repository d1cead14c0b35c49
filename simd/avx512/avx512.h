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
#include <avx512_emu_mm.h>   /* the float matmuls' masked loads/stores and widenings (x512mm) */
#else
#include <immintrin.h>
#endif

#include "../avx2/avx2.h"
#include "../kernels.h"

/* ---- float matmuls (x512mm): matmul_<dtype>.c, GEMV and packing in gemm.h, GEMM in
 * gemm_f32.c; scratch_size of all of them: lm_gemm_scratch_avx512 ---------------------------- */
void lm_mm_tile_f32_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_f16_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_tile_bf16_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_gemm_scratch_avx512(int64_t M, int64_t K);
/* AVX512-BF16 (matmul_bf16_dpbf16.c): x split into bf16 hi + lo by prep */
void lm_mm_bf16_prep_dpbf16(void *dst, const float *x, int64_t K);
size_t lm_mm_bf16_prep_size_dpbf16(int64_t K);
void lm_mm_tile_bf16_dpbf16(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);

#endif
