/* simd/avx512/matmul_bf16_dpbf16.c - BF16 weights with AVX512-BF16 (vdpbf16ps): y = x W^T.
 *
 * vdpbf16ps multiplies pairs of bf16 and adds both products to an f32 lane, so W rows load
 * as they are stored, 32 elements per zmm, with no widening. The op's contract is F32 x, and x
 * rounded to bf16 (8 significant bits) would miss the suite's tolerances by orders of
 * magnitude, so prep splits every x element in two bf16: hi = x with its low 16 bits cut
 * (truncation, so the remainder has x's sign), lo = rem rounded to nearest even, rem = x - hi
 * (exact in f32), and the kernel accumulates dpbf16(hi, w) + dpbf16(lo, w): twice the
 * multiply-adds of a plain bf16 dot, half the W bytes of widened f32 and no conversion.
 *
 * Prepared row (prep_size(K) bytes, a multiple of 64): hi[Kp] bf16, lo[Kp] bf16 (Kp = K
 * rounded up to 32, zero-padded, so x pairs load whole and the K tail needs only W's mask),
 * then x itself as f32 (K rounded up to 16 floats) for the GEMM path.
 * Zero, infinite and tiny x: for x = +-0, hi = lo = 0. For any other x, hi and lo are normal
 * bf16 of x's sign: a subnormal hi or a zero or subnormal lo becomes +-2^-126 (the hardware
 * treats subnormal inputs as zero, and a zero lo times an infinite w would be NaN where x w is
 * infinite); an infinite x has hi = inf, lo = +-2^-126; NaN x has a quiet NaN hi. So hi w and lo
 * w have the same sign and class as x w (an overflow gives inf, never inf - inf).
 *
 * Paths by M only, as matmul_bf16.c:
 * - M <= LM_X512_GEMV_MAX_M (8, decode): GEMV with vdpbf16ps. NW W rows in flight, one f32
 *   accumulator per (m, n); per 32 k one 64-byte load per W row, then two vdpbf16ps (hi, lo)
 *   per x row. K % 32 tail: one masked 16-bit load of W (vmovdqu16 with zeroing, never past a
 *   row); x's padding is zero. Lanes summed by lm_x512_hsum16 (gemm.h): results do not depend
 *   on how columns were split across threads.
 * - larger M: the f32 GEMM of gemm_f32.c on the prepared f32 copy of x and W widened exactly
 *   (lm_gemm512_wtype_bf16): in a register-blocked GEMM the split would cost two vdpbf16ps per
 *   pair of k where f32 needs two FMAs, so it buys nothing there, and the GEMM stays exact.
 *
 * Error bound of the GEMV, with S = sum_k |x_k w_k|, A = sum_k |w_k|, X = sum_k |x_k|:
 *   |y - sum_k x_k w_k| <= (2^-15 + (K/8 + 8) * 1.02 * 2^-24) * S + 2^-124 * (A + X + K + 16).
 * Why: |x - hi - lo| <= |rem - lo| <= 2^-8 |rem| < 2^-15 |x| (rem < 2^-7 |x| after truncating to
 * 8 significant bits), plus 2^-125 where a tiny part was replaced by +-2^-126. The products of
 * bf16 pairs are exact in f32; each lane adds 4 of them per 32 k, and the lane sum has 4 levels,
 * so every product passes through at most K/8 + 8 roundings (Higham's gamma bound, 1.02 covering
 * gamma's denominator and |hi| + |lo| <= (1 + 2^-7) |x|). vdpbf16ps flushes subnormal results
 * and inputs to zero: at most 2^-126 per product and per addition (4K + 64 of them) and
 * 2^-126 |x_k| for a subnormal w_k. Relative to S this is ~3e-5 plus the f32 summation error,
 * where x rounded to bf16 would be 2^-9 = 2e-3. tests/check_matmul.c checks this bound (with
 * K + 8 roundings, which also covers the GEMM path's f32 bound) on every shape it runs.
 */
#include "gemm.h"

/* Kp: K rounded up to 32 (x pairs load whole); bytes of the hi and lo halves and the f32 copy */
static int64_t kpad(int64_t K) { return (K + 31) & ~(int64_t)31; }

size_t lm_mm_bf16_prep_size_dpbf16(int64_t K) {
    return (size_t)kpad(K) * 2 * sizeof(uint16_t) + (size_t)((K + 15) & ~(int64_t)15) * 4;
}

/* hi and lo (as the top 16 bits of 32-bit lanes) of 16 x (see the top). */
static inline __attribute__((always_inline)) void split16(__m512 x, __m512i *hi, __m512i *lo) {
    const __m512i b = _mm512_castps_si512(x), exp = _mm512_set1_epi32(0x7f800000);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i mag = _mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff));
    const __m512i minnorm = _mm512_or_si512(_mm512_andnot_si512(mag, b), /* sign | 2^-126 */
                                            _mm512_set1_epi32(0x00800000));
    const __mmask16 nonzero = _mm512_test_epi32_mask(mag, mag);
    const __mmask16 finite = _mm512_cmpgt_epi32_mask(exp, mag);
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(mag, exp);
    __m512i h = _mm512_and_si512(b, _mm512_set1_epi32((int)0xffff0000u));
    h = _mm512_mask_or_epi32(h, nan, h, _mm512_set1_epi32(0x00400000)); /* quiet NaN */
    /* rem = x - hi, exact; zero for inf and NaN */
    const __m512 rem = _mm512_maskz_sub_ps(finite, x, _mm512_castsi512_ps(h));
    /* hi subnormal (x subnormal): +-2^-126, from which rem was not taken */
    const __mmask16 h_tiny = _mm512_cmpeq_epi32_mask(_mm512_and_si512(h, exp), zero) & nonzero;
    h = _mm512_mask_mov_epi32(h, h_tiny, minnorm);
    const __m512i r = _mm512_castps_si512(rem);
    __m512i l = _mm512_add_epi32(
        r, _mm512_add_epi32(_mm512_set1_epi32(0x7fff),
                            _mm512_and_si512(_mm512_srli_epi32(r, 16), _mm512_set1_epi32(1))));
    l = _mm512_and_si512(l, _mm512_set1_epi32((int)0xffff0000u));
    /* lo zero or subnormal for nonzero x: +-2^-126 */
    const __mmask16 l_tiny = _mm512_cmpeq_epi32_mask(_mm512_and_si512(l, exp), zero) & nonzero;
    *hi = h;
    *lo = _mm512_mask_mov_epi32(l, l_tiny, minnorm);
}

void lm_mm_bf16_prep_dpbf16(void *dst, const float *x, int64_t K) {
    const int64_t Kp = kpad(K);
    uint16_t *hi = dst, *lo = hi + Kp;
    float *xf = (float *)(lo + Kp);
    for (int64_t k = 0; k < Kp; k += 16) {
        const __mmask16 m = lm_x512_mask16(K - k);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + k); /* zero past K */
        __m512i h, l;
        split16(v, &h, &l);
        _mm256_storeu_si256((__m256i *)(hi + k), _mm512_cvtepi32_epi16(_mm512_srli_epi32(h, 16)));
        _mm256_storeu_si256((__m256i *)(lo + k), _mm512_cvtepi32_epi16(_mm512_srli_epi32(l, 16)));
        if (k < K) _mm512_storeu_ps(xf + k, v); /* the f32 copy: K rounded up to 16 */
    }
}

/* y[m][n + j] for m < MR, j < NW: MR*NW accumulators, two vdpbf16ps (hi, lo) per x row and W
 * row per 32 k. */
static inline __attribute__((always_inline)) void gemv_block(const struct lm_mm *a, int64_t n,
                                                             int MR, int NW) {
    const int64_t K = a->K, Kp = kpad(K);
    const uint16_t *xh[8];
    const uint16_t *w[12];
    __m512 acc[8][12];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        xh[i] = (const uint16_t *)(a->x + (size_t)i * a->ldx);
#pragma GCC unroll 12
    for (int j = 0; j < NW; j++)
        w[j] = (const uint16_t *)(a->w + (size_t)(n + j) * a->ldw);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 12
        for (int j = 0; j < NW; j++)
            acc[i][j] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
#pragma GCC unroll 12
        for (int j = 0; j < NW; j++) {
            const __m512bh wv = (__m512bh)_mm512_loadu_si512(w[j] + k);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                acc[i][j] =
                    _mm512_dpbf16_ps(acc[i][j], (__m512bh)_mm512_loadu_si512(xh[i] + k), wv);
                acc[i][j] =
                    _mm512_dpbf16_ps(acc[i][j], (__m512bh)_mm512_loadu_si512(xh[i] + Kp + k), wv);
            }
        }
    }
    if (k < K) {
        const __mmask32 m = (__mmask32)(0xffffffffu >> (32 - (K - k)));
#pragma GCC unroll 12
        for (int j = 0; j < NW; j++) {
            const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, w[j] + k);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                acc[i][j] =
                    _mm512_dpbf16_ps(acc[i][j], (__m512bh)_mm512_loadu_si512(xh[i] + k), wv);
                acc[i][j] =
                    _mm512_dpbf16_ps(acc[i][j], (__m512bh)_mm512_loadu_si512(xh[i] + Kp + k), wv);
            }
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        _mm512_mask_storeu_ps(a->y + i * a->ldy + n, lm_x512_mask16(NW),
                              lm_x512_hsum16(acc[i], NW));
}

static inline __attribute__((always_inline)) void gemv_rows(const struct lm_mm *a, int64_t n0,
                                                            int64_t n1, int MR, int NW) {
    int64_t n = n0;
    for (; n + NW <= n1; n += NW)
        gemv_block(a, n, MR, NW);
    for (; n < n1; n++)
        gemv_block(a, n, MR, 1);
}

void lm_mm_tile_bf16_dpbf16(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    if (a->M > LM_X512_GEMV_MAX_M) { /* the f32 GEMM on the f32 copy of x */
        struct lm_mm b = *a;
        b.x = a->x + (size_t)kpad(a->K) * 2 * sizeof(uint16_t);
        lm_gemm_avx512(&b, n0, n1, scratch, &lm_gemm512_wtype_bf16);
        return;
    }
    /* W rows in flight: 12 for M = 1 (each accumulator takes two dependent vdpbf16ps per
     * step, so more chains than an FMA GEMV), then 6, 4, 3, 3, 2, 2, 2 */
    switch (a->M) {
    case 1: gemv_rows(a, n0, n1, 1, 12); break;
    case 2: gemv_rows(a, n0, n1, 2, 6); break;
    case 3: gemv_rows(a, n0, n1, 3, 4); break;
    case 4: gemv_rows(a, n0, n1, 4, 3); break;
    case 5: gemv_rows(a, n0, n1, 5, 3); break;
    case 6: gemv_rows(a, n0, n1, 6, 2); break;
    case 7: gemv_rows(a, n0, n1, 7, 2); break;
    default: gemv_rows(a, n0, n1, 8, 2); break;
    }
}
