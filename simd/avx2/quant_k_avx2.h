/* simd/avx2/quant_k_avx2.h - helpers the AVX2 K-quant kernels share (Q4_K, Q5_K, Q6_K):
 * scale unpacking, the scale broadcast, the Q4_K/Q5_K dot step and super-block finish, the
 * row store, the tile walker that orders (W row, x row group) passes
 * (simd/avx2/matmul_q*_k.c), and the 32-value store of the Q4_K/Q5_K dequantizers.
 */
#ifndef LMRT_SIMD_AVX2_QUANT_K_H
#define LMRT_SIMD_AVX2_QUANT_K_H

#include "../quant_k.h"
#include "avx2.h"

/* The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K/Q5_K scales[12], unpacked in one
 * register (the same masks as lm_k_unpack_scales, one 32-bit word per lane). Reads 16 bytes
 * from `scales`: the 4 past the field are the next field of the same block. */
static inline __m128i lm_k_avx2_scales(const uint8_t *scales) {
    __m128i v = _mm_loadu_si128((const __m128i *)scales);      /* w0 w1 w2 . */
    __m128i a = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)); /* w0 w2 w1 w2 */
    __m128i b = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)); /* w0 w0 w1 w1 */
    __m128i low = _mm_and_si128(_mm_srlv_epi32(a, _mm_setr_epi32(0, 0, 0, 4)),
                                _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    __m128i top = _mm_and_si128(_mm_srli_epi32(b, 6), _mm_setr_epi32(0, 0x03030303, 0, 0x03030303));
    return _mm_or_si128(low, _mm_slli_epi32(top, 4));
}

/* Copy 16-bit element j (0..7) of each 128-bit lane to all 8 of that lane's 16-bit elements: a
 * pshufb whose control is the byte pair (2j, 2j+1) repeated (a constant once j is known). */
static inline __m256i lm_k_avx2_bcast16(__m256i v, int j) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)((2 * j + 1) << 8 | 2 * j)));
}

/* Dequantizers: y[i] = d*q[i] - m for the 32 unsigned bytes of q, as a multiply then a subtract
 * (not an FMA), the IEEE operations of the reference, so the output is bit-identical. */
static inline void lm_k_avx2_store32_asym(float *y, __m256i q, float d, float m) {
    __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m128i part[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; k++) {
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part[k]));
        _mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(vd, f), vm));
    }
}

/* Q4_K/Q5_K inner step: the 64 values of sub-blocks 2c and 2c+1 as unsigned codes lo and hi,
 * dotted with each of the mr x rows (maddubs, then madd with the sub-block scales s0 and s1
 * broadcast in 16-bit lanes) and added to that row's int32 sums. */
static inline __attribute__((always_inline)) void
lm_k_avx2_dot64(__m256i isum[4], const struct lm_block_q8_k *const x[4], int64_t i, int c, int mr,
                __m256i lo, __m256i hi, __m256i s0, __m256i s1) {
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        const int8_t *xq = x[r][i].qs + 64 * c;
        __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)xq));
        __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(xq + 32)));
        p0 = _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1));
        isum[r] = _mm256_add_epi32(isum[r], p0);
    }
}

/* Q4_K/Q5_K end of super-block i: acc += (d_w d_x) isum - (dmin_w d_x) (mins . bsums). */
static inline __attribute__((always_inline)) void
lm_k_avx2_finish_asym(__m256 acc[4], const __m256i isum[4], const struct lm_block_q8_k *const x[4],
                      int64_t i, int mr, __m256i mins, uint16_t d, uint16_t dmin) {
    const float dw = _cvtsh_ss(d), dmw = _cvtsh_ss(dmin);
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        const struct lm_block_q8_k *xb = &x[r][i];
        __m256i mp = _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)xb->bsums));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb->d), _mm256_cvtepi32_ps(isum[r]), acc[r]);
        acc[r] = _mm256_fnmadd_ps(_mm256_set1_ps(dmw * xb->d), _mm256_cvtepi32_ps(mp), acc[r]);
    }
}

/* y[m0 + r][n] = the lane sum of acc[r], for the mr rows of a pass. */
static inline __attribute__((always_inline)) void
lm_k_avx2_store_rows(const struct lm_mm *a, int64_t n, int64_t m0, int mr, const __m256 acc[4]) {
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
        a->y[(m0 + r) * a->ldy + n] = lm_avx2_hsum(acc[r]);
}

/* One pass: W row n against x rows m0 .. m0+mr-1 (the function for mr = i+1 is fn[i]). */
typedef void (*lm_k_rows_fn)(const struct lm_mm *a, int64_t n, int64_t m0);

/* W bytes per column block when M > 4: the block stays in L2 while every group of 4 x rows
 * passes over it, so W is read from memory once and x once per block. */
#define LM_K_WBLOCK_BYTES (128 * 1024)

/* Columns [n0, n1) of y for all M rows. Each (n, m) is computed by the same instructions in
 * the same order whatever the group it falls in, so results do not depend on the split. */
static inline void lm_k_avx2_walk(const struct lm_mm *a, int64_t n0, int64_t n1,
                                  const lm_k_rows_fn fn[4]) {
    if (a->M <= 4) {
        for (int64_t n = n0; n < n1; n++)
            fn[a->M - 1](a, n, 0);
        return;
    }
    int64_t nb = (int64_t)(LM_K_WBLOCK_BYTES / a->ldw);
    if (nb < 1) nb = 1;
    for (int64_t b0 = n0; b0 < n1; b0 += nb) {
        int64_t b1 = b0 + nb < n1 ? b0 + nb : n1;
        for (int64_t m0 = 0; m0 < a->M; m0 += 4) {
            int64_t mr = a->M - m0 < 4 ? a->M - m0 : 4;
            for (int64_t n = b0; n < b1; n++)
                fn[mr - 1](a, n, m0);
        }
    }
}

#endif
