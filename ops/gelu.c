/* ops/gelu.c - GELU, elementwise, in its two common forms.
 *
 *   LM_GELU_ERF  (exact; BERT, Hugging Face "gelu"):  y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
 *   LM_GELU_TANH (GPT-2 "gelu_new", ggml's gelu):      y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715
 * x^3)))
 *
 * Values at the edges are the limits: gelu(+inf) = +inf, gelu(-inf) = -0, NaN stays NaN.
 * The references evaluate in double in forms without cancellation on the negative side, so
 * they are accurate where 1 + erf or 1 + tanh would lose digits: Phi(x) = erfc(-x / sqrt 2) / 2
 * and 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)). f32 SIMD kernels that add 1 + erf in f32 lose
 * about |x| * 2^-24 absolute for negative x; the tests allow for that explicitly.
 */
#include <math.h>

#include "ops.h"

void lm_gelu_erf_ref(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        /* erfc(+inf) = 0 would give -inf * 0 */
        y[i] = v == -INFINITY ? -0.0f : (float)(0.5 * v * erfc(-v * 0.70710678118654752440));
    }
}

void lm_gelu_tanh_ref(float *y, const float *x, int64_t n) {
    const double c = 0.79788456080286535588; /* sqrt(2 / pi) */
    for (int64_t i = 0; i < n; i++) {
        double v = x[i], u = c * (v + 0.044715 * v * v * v);
        /* exp(-2u) = inf would give -inf / inf */
        y[i] = v == -INFINITY ? -0.0f : (float)(v / (1.0 + exp(-2.0 * u)));
    }
}

lm_status lm_gelu(struct lm_tensor *y, const struct lm_tensor *x, enum lm_gelu_kind kind,
                  struct lm_ctx *ctx) {
    if (!ctx) return lm_check_ctx(ctx, "gelu");
    if (kind != LM_GELU_ERF && kind != LM_GELU_TANH)
        return lm_error(LM_EINVAL, "gelu: kind %d is neither LM_GELU_ERF nor LM_GELU_TANH",
                        (int)kind);
    struct lm_unary_op op = {"gelu", kind == LM_GELU_ERF ? ctx->k->gelu_erf : ctx->k->gelu_tanh,
                             NULL, 0};
    return lm_unary_run(y, x, &op, ctx);
}
