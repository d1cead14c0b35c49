/* simd/avx2/matmul_f16.c - the AVX2 matmul tile for F16 (IEEE half) weights: y = x W^T.
 *
 * Contract (simd/kernels.h, lm_mm_kernel): y rows [0, M) x columns [n0, n1); x F32 read in
 * place (no prep), n_step 16, scratch lm_gemm_scratch_avx2(M, K) bytes. Paths by M only:
 * - M <= LM_GEMV_MAX_M (decode): GEMV in gemm.h; 8 halves of a W row per 16-byte load, widened
 *   exactly with F16C vcvtph2ps in registers, so decode reads half the bytes of F32. The K % 8
 *   tail of a W row is copied into a zeroed 8-half buffer (no 16-bit masked load in AVX2).
 * - larger M: the f32 GEMM of gemm_f32.c, with W widened once on the way in, not once per x
 *   row: for M <= 16 whole W rows are widened into a small row buffer (lm_f16_to_f32_avx2) and
 *   broadcast; above, W panels are widened while they are packed (vcvtph2ps + 8x8 transpose).
 * Accumulator: f32 FMA chains; the widening is exact, so the only error is the f32 summation.
 */
#include "gemm.h"

static void pack_w_f16(float *dst, const uint8_t *w, size_t ldw, int64_t nr, int64_t kc,
                       const uint8_t *next, int64_t next_nr, int64_t next_kc) {
    lm_gemm_pack_w(dst, w, ldw, nr, kc, next, next_nr, next_kc, LM_F16);
}

static const struct lm_gemm_wtype wtype = {pack_w_f16, lm_f16_to_f32_avx2, sizeof(uint16_t)};

void lm_mm_tile_f16_avx2(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M <= LM_GEMV_MAX_M)
        lm_gemv_avx2(a, n0, n1, LM_F16);
    else
        lm_gemm_avx2(a, n0, n1, scratch, &wtype);
}
