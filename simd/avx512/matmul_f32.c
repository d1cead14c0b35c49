/* simd/avx512/matmul_f32.c - the AVX-512 matmul tile for F32 weights: y = x W^T (x, y F32).
 *
 * Contract (simd/kernels.h, lm_mm_kernel): y rows [0, M) x columns [n0, n1); x read in place
 * (no prep), n_step 32, scratch lm_gemm_scratch_avx512(M, K) bytes. The path is picked by M only:
 * - M <= LM_X512_GEMV_MAX_M (8, decode): GEMV in gemm.h. Each W row is streamed from memory
 *   once and dotted with all M x rows; up to 8 rows in flight, one 16-lane f32 accumulator per
 *   (m, n), unaligned loads, masked loads for K % 16 (never past a row).
 * - larger M: the GEMM in gemm_f32.c: for M <= 32 W rows are read in place as the broadcast
 *   operand of a transposed-x kernel; above that, the 12x32 register kernel over W panels
 *   packed from the f32 rows by 16x16 transposes (kc 192, mc 168, nc 1024).
 * Accumulator: f32 FMA chains (see gemm.h for the order); results do not depend on the split of
 * columns across threads.
 */
#include "gemm.h"

static void pack_w_f32(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                       const uint8_t *next, int64_t next_nr, int64_t next_kc) {
    lm_x512_pack_w(dst, w, ldw, nr, kc, next, next_nr, next_kc, LM_F32);
}

static const struct lm_gemm512_wtype wtype = {pack_w_f32, NULL, sizeof(float)};

void lm_mm_tile_f32_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M <= LM_X512_GEMV_MAX_M)
        lm_gemv_avx512(a, n0, n1, LM_F32);
    else
        lm_gemm_avx512(a, n0, n1, scratch, &wtype);
}
