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

/* ---- legacy quants: Q8_0, Q4_0, Q4_1 (simd/avx512/{quant,matmul}_<dtype>{,_vnni}.c; helpers in
 * quant_legacy_avx512.h) ------------------------------------------------------------------ */
void lm_q8_0_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q8_0_from_f32_avx512(void *y, const float *x, int64_t n);
void lm_q4_0_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q4_0_from_f32_avx512(void *y, const float *x, int64_t n);
void lm_q4_1_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q4_1_from_f32_avx512(void *y, const float *x, int64_t n);
void lm_prep_q8x_avx512(void *dst, const float *x, int64_t K);  /* activation rows, Q8_0/Q4_0 */
void lm_prep_q8xs_avx512(void *dst, const float *x, int64_t K); /* activation rows, Q4_1 */
void lm_mm_q8_0_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q8_0_scratch_avx512(int64_t M, int64_t K);
void lm_mm_q4_0_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_0_scratch_avx512(int64_t M, int64_t K);
void lm_mm_q4_1_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_1_scratch_avx512(int64_t M, int64_t K);
void lm_mm_q8_0_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q8_0_scratch_avx512_vnni(int64_t M, int64_t K);
void lm_mm_q4_0_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_0_scratch_avx512_vnni(int64_t M, int64_t K);
void lm_mm_q4_1_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q4_1_scratch_avx512_vnni(int64_t M, int64_t K);

#endif
