/* ops/swiglu.c - SwiGLU gate: y = silu(gate) * up, elementwise, gate and up of one shape.
 *
 * gate and up are often two halves of one fused projection: any strided views are accepted
 * (same shape, no broadcast); y has contiguous rows and may alias either input. The reference
 * evaluates silu(g) * u in double (libm exp), the accurate side of the comparisons; silu at the
 * edges is its limit (silu(-inf) = -0, so -inf gate times finite up is a signed zero).
 */
#include <math.h>

#include "ops.h"

static inline double silu_d(double x) {
    if (x == -INFINITY) return -0.0; /* x / (1 + exp(-x)) would be -inf / inf */
    return x / (1.0 + exp(-x));
}

void lm_swiglu_ref(float *y, const float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)(silu_d(g[i]) * u[i]);
}

lm_status lm_swiglu(struct lm_tensor *y, const struct lm_tensor *gate, const struct lm_tensor *up,
                    struct lm_ctx *ctx) {
    if (!ctx) return lm_check_ctx(ctx, "swiglu");
    struct lm_binary_op op = {"swiglu", "gate", "up", ctx->k->swiglu, NULL, false};
    return lm_binary_run(y, gate, up, &op, ctx);
}
