/* simd/amx/amx.h - AMX tile kernel declarations and what they share.
 *
 * Files in simd/amx/ are compiled with -mamx-tile -mamx-int8 -mamx-bf16 on top of the AVX-512
 * flags (with VNNI and BF16). In the test build (LMRT_EMU) they compile against
 * tests/emu/amx_emu.h instead, which gives the tile intrinsics the same names and Intel's
 * published semantics in plain C, so the kernel source runs on any x86 CPU.
 *
 * The tile intrinsics take tile numbers as literal constants (the real ones paste them into
 * the instruction), so kernels name tiles with the TMM_* constants below or literals, never
 * with variables.
 */
#ifndef LMRT_SIMD_AMX_H
#define LMRT_SIMD_AMX_H

#include "../avx512/avx512.h"

#ifdef LMRT_EMU
#include <amx_emu.h> /* after SIMDe: it fills the AVX-512 gaps SIMDe leaves */
#endif

/* ---- the avx512+amx level (table.c, matmul_*.c) ------------------------------------------ */

/* Prefill-shaped matmuls (M >= LM_AMX_MIN_M) run on the tiles; smaller M (decode) calls the
 * kernel of the level below (avx512+vnni), which table.c keeps in lm_amx_below before it
 * writes the AMX kernels over it. */
#define LM_AMX_MIN_M 16

extern struct lm_mm_kernel lm_amx_below[LM_DTYPE_COUNT];

/* The palette-1 tile configuration, LDTILECFG's 64-byte layout. */
struct lm_amx_cfg {
    uint8_t palette, start_row;
    uint8_t reserved0[14];
    uint16_t colsb[8];
    uint8_t reserved1[16];
    uint8_t rows[8];
    uint8_t reserved2[8];
};
_Static_assert(sizeof(struct lm_amx_cfg) == 64, "LDTILECFG reads 64 bytes");

/* Q8_0, Q4_0, Q4_1 against the level below's 8-bit x blocks (matmul_q*.c, mm_int8.h). */
void lm_mm_q8_0_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_0_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_1_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_q8_0_scratch_amx(int64_t M, int64_t K);
size_t lm_mm_q4_0_scratch_amx(int64_t M, int64_t K);
size_t lm_mm_q4_1_scratch_amx(int64_t M, int64_t K);

/* BF16 and F16 W against F32 x split into three bf16 pieces (matmul_bf16.c, matmul_f16.c,
 * mm_bf16.h): prep writes the level below's row and the pieces after it. */
void lm_prep_split_amx_bf16(void *dst, const float *x, int64_t K);
void lm_prep_split_amx_f16(void *dst, const float *x, int64_t K);
size_t lm_prep_split_size_amx_bf16(int64_t K);
size_t lm_prep_split_size_amx_f16(int64_t K);
void lm_mm_bf16_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_f16_amx(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
size_t lm_mm_bf16_scratch_amx(int64_t M, int64_t K);
size_t lm_mm_f16_scratch_amx(int64_t M, int64_t K);

#endif
