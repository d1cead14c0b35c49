/* simd/neon/matmul_f32.c - the NEON matmul tile for F32 weights: y = x W^T (x, y F32).
 *
 * Contract (simd/kernels.h, lm_mm_kernel): y rows [0, M) x columns [n0, n1); x F32 read in
 * place (no prep), n_step 12, scratch lm_gemm_scratch_neon(M, K) bytes. The path is picked by
 * M only (gemm.h):
 * - M <= LM_NEON_GEMV_MAX_M (decode): the GEMV of gemm.h. Each W row is streamed from memory
 *   once and dotted with all M x rows; up to 6 rows in flight, two f32 accumulators per
 *   (m, n), K % 8 tails through zero-padded local copies (never past a row).
 * - larger M: the GEMM of gemm_f32.c (8 x 12 register kernel; kc 256, mc 128, nc 384).
 * W is read as is: 16-byte loads in the GEMV, 4 x 4 transposes while packing.
 * Accumulator: f32 fma chains (see gemm.h for the order); results do not depend on the split
 * of columns across threads.
 */
#include "gemm.h"

static void pack_w_f32(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t k0,
                       int64_t kc) {
    lm_neon_pack_w(dst, w, ldw, nr, k0, kc, LM_F32);
}

void lm_mm_tile_f32_neon(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M <= LM_NEON_GEMV_MAX_M)
        lm_neon_gemv(a, n0, n1, LM_F32);
    else
        lm_gemm_neon(a, n0, n1, scratch, pack_w_f32);
}
