/* simd/avx512/matmul_f16.c - the AVX-512 matmul tile for F16 (IEEE half) weights: y = x W^T.
 *
 * Contract (simd/kernels.h, lm_mm_kernel): y rows [0, M) x columns [n0, n1); x F32 read in
 * place (no prep), n_step 32, scratch lm_gemm_scratch_avx512(M, K) bytes. Paths by M only:
 * - M <= LM_X512_GEMV_MAX_M (8, decode): GEMV in gemm.h; 16 halves of a W row per 32-byte
 *   load, widened exactly by vcvtph2ps zmm in registers, so decode reads half the bytes of
 *   F32. The K % 16 tail is a masked 16-bit load (vmovdqu16 with zeroing), never past a row.
 * - larger M: the f32 GEMM of gemm_f32.c, with W widened once on the way in, not once per x
 *   row: for M <= 32 whole W rows are widened into a small row buffer and broadcast; above,
 *   W panels are widened while they are packed (vcvtph2ps + 16x16 transpose).
 * Accumulator: f32 FMA chains; the widening is exact, so the only error is the f32 summation.
 */
#include "gemm.h"

static void pack_w_f16(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                       const uint8_t *next, int64_t next_nr, int64_t next_kc) {
    lm_x512_pack_w(dst, w, ldw, nr, kc, next, next_nr, next_kc, LM_F16);
}

static void row_f16(float *y, const uint8_t *w, int64_t n) { lm_x512_row_to_f32(y, w, n, LM_F16); }

static const struct lm_gemm512_wtype wtype = {pack_w_f16, row_f16, sizeof(uint16_t)};

void lm_mm_tile_f16_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M <= LM_X512_GEMV_MAX_M)
        lm_gemv_avx512(a, n0, n1, LM_F16);
    else
        lm_gemm_avx512(a, n0, n1, scratch, &wtype);
}
