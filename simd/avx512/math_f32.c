/* simd/avx512/math_f32.c - row wrappers of avx512.h's inline exp and SiLU, for the tests.
 *
 * tests/check_simd_math.c sweeps the 16-lane helpers against double-precision libm. The suite
 * is one object linked both against the native library and against build/emu/liblmrt.a, so it
 * cannot include the helpers itself: it calls these, which this directory compiles either
 * way. Not in the kernel table. 16 lanes per step; the tail (n % 16) is a masked load and
 * store, nothing past the row is touched.
 */
#include "avx512.h"

void lm_exp_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, lm_avx512_exp(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, lm_avx512_exp(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void lm_exp_nonpos_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, lm_avx512_exp_nonpos(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, lm_avx512_exp_nonpos(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void lm_silu16_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, lm_avx512_silu(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = lm_avx512_tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, lm_avx512_silu(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
