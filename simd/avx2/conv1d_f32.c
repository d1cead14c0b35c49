/* simd/avx2/conv1d_f32.c - one time step of a causal depthwise conv, AVX2 + FMA.
 *
 * y[c] = sum_j w[j*C + c] * rows[j][c] over C channels and k taps (contract in kernels.h: w is
 * tap-major, so 8 channels of one tap are one contiguous load). 8 channels per vector, taps in
 * order j = 0..k-1 as one multiply then an FMA chain (f32 accumulator, k roundings). Blocks of
 * channels are independent, so the out-of-order core overlaps their FMA chains. The channel
 * tail (C % 8) uses masked loads of w and every row and a masked store: no scalar loop, nothing
 * touched past C. Unaligned access throughout. y may alias rows[k-1] (in-place conv): each
 * block is loaded before it is stored.
 */
#include "avx2.h"

void lm_conv1d_avx2(float *y, const float *const *rows, const float *w, int64_t C, int64_t k) {
    int64_t c = 0;
    for (; c + 8 <= C; c += 8) {
        __m256 acc = _mm256_mul_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(rows[0] + c));
        for (int64_t j = 1; j < k; j++)
            acc =
                _mm256_fmadd_ps(_mm256_loadu_ps(w + j * C + c), _mm256_loadu_ps(rows[j] + c), acc);
        _mm256_storeu_ps(y + c, acc);
    }
    if (c < C) {
        __m256i m = lm_avx2_tail_mask(C - c);
        __m256 acc =
            _mm256_mul_ps(_mm256_maskload_ps(w + c, m), _mm256_maskload_ps(rows[0] + c, m));
        for (int64_t j = 1; j < k; j++)
            acc = _mm256_fmadd_ps(_mm256_maskload_ps(w + j * C + c, m),
                                  _mm256_maskload_ps(rows[j] + c, m), acc);
        _mm256_maskstore_ps(y + c, m, acc);
    }
}
