/* simd/avx512/quant_k_avx512.h - helpers and declarations of the AVX-512 K-quant kernels
 * (Q4_K, Q5_K, Q6_K matmuls against Q8_K x, their dequantizers, the Q8_K prep).
 *
 * The 512-bit kernels work on "chunks": 64 W values in a zmm whose bytes line up with 64
 * consecutive x.qs bytes of the Q8_K block, so one unaligned 64-byte x load feeds one product.
 *   Q4_K/Q5_K chunk t (0..3) = sub-blocks 2t (bytes 0-31) and 2t+1 (bytes 32-63), x.qs[64t ..].
 *     The file stores sub-blocks 4c, 4c+2 in the low nibbles of qs[64c ..] and 4c+1, 4c+3 in
 *     the high nibbles, so the nibbles of one 64-byte load are recombined by 128-bit lanes.
 *   Q6_K chunk (h, j) = values 128h + 64j .. +63 = groups 8h+4j .. 8h+4j+3, one per 128-bit lane:
 *     the low (j = 0) or high (j = 1) nibbles of ql[64h ..] are already in that order.
 * Scale vectors are 16-bit lanes for madd / dpwssd, built with vpermw from the 8 or 16 scales
 * widened to 16 bits (lm_k512_widx gives the index vectors).
 * Per-row sums are int32 zmm; at the end of a super-block they are folded to 8 lanes (exact
 * integer adds) and finished by the AVX2 level's code (quant_k_avx2.h: f32 FMAs, 8 lanes), as
 * is the walk over (W row, group of up to 4 x rows) and the row store.
 *
 * SIMDe 0.7.4 (the LMRT_EMU build) lacks several zmm conversions (vpmovzxbd, vcvtdq2ps,
 * vcvt(t)ps2dq, vextractf32x8 and the reductions), so these kernels do without them: bytes are
 * widened by vpermd + vpshufb, unsigned dwords converted with vcvtudq2ps, the prep rounds with
 * the 1.5 * 2^23 shifter, and sums and maxima are reduced through the 256-bit halves.
 */
#ifndef LMRT_SIMD_AVX512_QUANT_K_H
#define LMRT_SIMD_AVX512_QUANT_K_H

#include "avx512.h"

#include "../avx2/quant_k_avx2.h"

/* Index vector for vpermw: 128-bit lane k holds word p[2k] in its 16-bit elements 0-3 and
 * word p[2k+1] in elements 4-7 (arguments are compile-time constants once inlined). */
static inline __m512i lm_k512_widx(int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7) {
    const int d[8] = {p0 * 0x10001, p1 * 0x10001, p2 * 0x10001, p3 * 0x10001,
                      p4 * 0x10001, p5 * 0x10001, p6 * 0x10001, p7 * 0x10001};
    return _mm512_setr_epi32(d[0], d[0], d[1], d[1], d[2], d[2], d[3], d[3], d[4], d[4], d[5], d[5],
                             d[6], d[6], d[7], d[7]);
}

/* The 8 Q4_K/Q5_K scales (from lm_k_avx2_scales: bytes 0-7) widened to words 0-7 of a zmm (the
 * mins follow in words 8-15; the upper half is don't-care for the vpermw indices used). */
static inline __m512i lm_k512_scales16(__m128i sm) {
    return _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm));
}

/* Q4_K/Q5_K: the 4-bit codes of qs[64c .. 64c+63] as chunks 2c (*a) and 2c+1 (*b). */
static inline __attribute__((always_inline)) void lm_k512_nibbles(const uint8_t *qs, __m512i *a,
                                                                  __m512i *b) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    __m512i q = _mm512_loadu_si512(qs);
    __m512i lo = _mm512_and_si512(q, low4);                       /* sub-blocks 4c | 4c+2 */
    __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4); /* 4c+1 | 4c+3 */
    *a = _mm512_shuffle_i32x4(lo, hi, 0x44); /* lanes lo.0 lo.1 hi.0 hi.1: 4c, 4c+1 */
    *b = _mm512_shuffle_i32x4(lo, hi, 0xee); /* lanes lo.2 lo.3 hi.2 hi.3: 4c+2, 4c+3 */
}

/* Q5_K: chunk t of 4-bit codes plus the fifth bits: h is qh[32] broadcast to both 256-bit
 * halves; bit 2t of qh[l] belongs to value l of the low half, bit 2t+1 to the high half. A
 * byte test against that bit gives a mask, and the masked add of 16 sets bit 4. */
static inline __attribute__((always_inline)) __m512i lm_k512_q5_high(__m512i q, __m512i h, int t) {
    __m512i bit = _mm512_mask_blend_epi32(0xff00, _mm512_set1_epi8((char)(1 << (2 * t))),
                                          _mm512_set1_epi8((char)(1 << (2 * t + 1))));
    return _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(h, bit), q, _mm512_set1_epi8(16));
}

/* Q6_K half h: the 6-bit codes (0..63) of chunks (h, 0) and (h, 1). ql[64h ..] gives the low
 * nibbles of both; qh[32h ..] (broadcast to both halves) gives two bits per value: for chunk
 * (h, 0) bits 0-1 (low half) and 2-3 (high half), moved to bits 4-5 by 16-bit shifts of 4 and 2;
 * for (h, 1) bits 4-5 and 6-7, shifts of 0 and 2 right. A bit shifted across a byte boundary
 * lands outside 0x30 and is masked away. */
static inline __attribute__((always_inline)) void
lm_k512_q6_codes(const struct lm_block_q6_k *w, int h, __m512i *v0, __m512i *v1) {
    const __m512i low4 = _mm512_set1_epi8(0x0f), bits45 = _mm512_set1_epi8(0x30);
    const __m512i c42 = _mm512_mask_blend_epi32(0xff00, _mm512_set1_epi16(4), _mm512_set1_epi16(2));
    const __m512i c02 =
        _mm512_mask_blend_epi32(0xff00, _mm512_setzero_si512(), _mm512_set1_epi16(2));
    __m512i l = _mm512_loadu_si512(w->ql + 64 * h);
    __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qh + 32 * h)));
    __m512i h0 = _mm512_and_si512(_mm512_sllv_epi16(qh, c42), bits45);
    __m512i h1 = _mm512_and_si512(_mm512_srlv_epi16(qh, c02), bits45);
    *v0 = _mm512_or_si512(_mm512_and_si512(l, low4), h0);
    *v1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4), h1);
}

/* The 16 int32 lanes of an integer row sum folded to 8 (exact), for the AVX2 finish. */
static inline __m256i lm_k512_fold(__m512i v) {
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Dequantizers: the 64 unsigned bytes of v as 4 x 16 floats, out[g] = bytes 16g .. 16g+15 in
 * order. vpermd transposes the 4x4 dwords (lane k gets dword k of each lane), then one vpshufb
 * per output zero-extends the 4 bytes of dword g of every lane. */
static inline __attribute__((always_inline)) void lm_k512_u8_to_f32(__m512i v, __m512 out[4]) {
    const __m512i tr = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i t = _mm512_permutexvar_epi32(tr, v);
#pragma GCC unroll 4
    for (int g = 0; g < 4; g++) {
        const int z = (int)0x80808000u; /* bytes 1-3 of each dword: zero */
        __m512i ctl = _mm512_broadcast_i32x4(
            _mm_setr_epi32(z | (4 * g), z | (4 * g + 1), z | (4 * g + 2), z | (4 * g + 3)));
        out[g] = _mm512_cvtepu32_ps(_mm512_shuffle_epi8(t, ctl));
    }
}

/* ---- kernels ------------------------------------------------------------------------------ */

/* Q8_K activation rows (quant_q8_k.c): the same bytes as lm_q8_k_prep_ref */
void lm_q8_k_prep_avx512(void *dst, const float *x, int64_t K);

/* dequantizers (quant_q*_k.c): bit-identical to the reference */
void lm_q4_k_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q5_k_to_f32_avx512(float *y, const void *x, int64_t n);
void lm_q6_k_to_f32_avx512(float *y, const void *x, int64_t n);

/* matmul tiles against Q8_K x: AVX-512BW (matmul_q*_k.c), + VNNI (matmul_q*_k_vnni.c) */
void lm_mm_q4_k_tile_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q5_k_tile_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q6_k_tile_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q4_k_tile_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q5_k_tile_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
void lm_mm_q6_k_tile_avx512_vnni(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);

#endif
