/* simd/avx512/conv1d_f32.c - one time step of a causal depthwise conv, AVX-512F.
 *
 * y[c] = sum_j w[j*C + c] * rows[j][c] over C channels and k taps (contract in kernels.h: w is
 * tap-major, so 16 channels of one tap are one contiguous load). 16 channels per zmm, taps in
 * order j = 0..k-1 as one multiply then an FMA chain (f32 accumulator, k roundings, the same
 * order as the AVX2 kernel). Blocks of channels are independent, so the out-of-order core
 * overlaps their FMA chains. The channel tail (C % 16) uses zero-masked loads of w and every
 * row and a masked store: no scalar loop, nothing touched past C. Unaligned access throughout.
 * y may alias rows[k-1] (in-place conv): each block is loaded before it is stored.
 */
#include "avx512.h"

void lm_conv1d_avx512(float *y, const float *const *rows, const float *w, int64_t C, int64_t k) {
    int64_t c = 0;
    for (; c + 16 <= C; c += 16) {
        __m512 acc = _mm512_mul_ps(_mm512_loadu_ps(w + c), _mm512_loadu_ps(rows[0] + c));
        for (int64_t j = 1; j < k; j++)
            acc =
                _mm512_fmadd_ps(_mm512_loadu_ps(w + j * C + c), _mm512_loadu_ps(rows[j] + c), acc);
        _mm512_storeu_ps(y + c, acc);
    }
    if (c < C) {
        const __mmask16 m = lm_avx512_tail_mask(C - c);
        __m512 acc =
            _mm512_mul_ps(_mm512_maskz_loadu_ps(m, w + c), _mm512_maskz_loadu_ps(m, rows[0] + c));
        for (int64_t j = 1; j < k; j++)
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + j * C + c),
                                  _mm512_maskz_loadu_ps(m, rows[j] + c), acc);
        _mm512_mask_storeu_ps(y + c, m, acc);
    }
}
