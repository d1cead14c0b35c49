/* simd/avx2/matmul_f32.c - the AVX2 matmul tile for F32 weights: y = x W^T (x, y F32).
 *
 * Contract (simd/kernels.h, lm_mm_kernel): y rows [0, M) x columns [n0, n1); x read in place
 * (no prep), n_step 16, scratch lm_gemm_scratch_avx2(M, K) bytes. The path is picked by M only:
 * - M <= LM_GEMV_MAX_M (decode): GEMV in gemm.h. Each W row is streamed from memory once and
 *   dotted with all M x rows; up to 8 rows in flight, one f32 accumulator per (m, n), unaligned
 *   loads, masked loads for K % 8 (never past a row).
 * - larger M: the GEMM in gemm_f32.c (6x16 register kernel; kc 256, mc 144, nc 1024): for
 *   M <= 16 W rows are read in place as the broadcast operand, above that W panels are packed
 *   from the f32 rows by 8x8 transposes.
 * Accumulator: f32 FMA chains (see gemm.h for the order); results do not depend on the split of
 * columns across threads.
 */
#include "gemm.h"

static void pack_w_f32(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                       const uint8_t *next, int64_t next_nr, int64_t next_kc) {
    lm_gemm_pack_w(dst, w, ldw, nr, kc, next, next_nr, next_kc, LM_F32);
}

static const struct lm_gemm_wtype wtype = {pack_w_f32, NULL, sizeof(float)};

void lm_mm_tile_f32_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M <= LM_GEMV_MAX_M)
        lm_gemv_avx2(a, n0, n1, LM_F32);
    else
        lm_gemm_avx2(a, n0, n1, scratch, &wtype);
}
