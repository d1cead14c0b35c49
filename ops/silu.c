/* ops/silu.c - SiLU (swish): y = x * sigmoid(x) = x / (1 + exp(-x)), elementwise.
 *
 * Values at the edges are the limits: silu(+inf) = +inf, silu(-inf) = -0, NaN stays NaN. The
 * reference evaluates in double with libm exp, so it is correctly rounded to f32 for all but a
 * vanishing set of inputs and is the accurate side of every comparison; f32 SIMD kernels
 * (SLEEF exp, 1 ulp) land within a few ulp of it.
 */
#include <math.h>

#include "ops.h"

static inline double silu_d(double x) {
    if (x == -INFINITY) return -0.0; /* x / (1 + exp(-x)) would be -inf / inf */
    return x / (1.0 + exp(-x));
}

void lm_silu_ref(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)silu_d(x[i]);
}

lm_status lm_silu(struct lm_tensor *y, const struct lm_tensor *x, struct lm_ctx *ctx) {
    if (!ctx) return lm_check_ctx(ctx, "silu");
    struct lm_unary_op op = {"silu", ctx->k->silu, NULL, 0};
    return lm_unary_run(y, x, &op, ctx);
}
