/* ops/scale.c - y = x * s elementwise, for a scalar s.
 *
 * The reference is exact (one f32 multiply per element, as the SIMD kernels do), so kernels
 * must match it bit for bit. mul also uses the scale kernel for one-element b rows.
 */
#include <math.h>

#include "ops.h"

void lm_scale_ref(float *y, const float *x, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * s;
}

lm_status lm_scale(struct lm_tensor *y, const struct lm_tensor *x, float s, struct lm_ctx *ctx) {
    if (!ctx) return lm_check_ctx(ctx, "scale");
    struct lm_unary_op op = {"scale", NULL, ctx->k->scale, s};
    return lm_unary_run(y, x, &op, ctx);
}
