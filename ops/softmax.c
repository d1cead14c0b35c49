/* ops/softmax.c - y = softmax(x * scale) per row, and its scalar reference kernel.
 *
 * Contract (also in lmrt.h): v = x * scale is rounded to f32 first (so a SIMD kernel that
 * multiplies in f32 lanes sees the same v), then y = exp(v - max v) / sum exp(v - max v).
 * Special rows: every v = -inf gives all zeros (a fully masked row contributes nothing, as a
 * query with no visible key does in lm_attention; PyTorch would give NaN); a NaN anywhere, or
 * a +inf (inf - inf), gives an all-NaN row.
 *
 * The reference subtracts the max and sums in double, so it is the accurate side of every
 * comparison. The op splits rows across threads; strided input rows are gathered first.
 */
#include <math.h>

#include "ops.h"

void lm_softmax_ref(float *y, const float *x, float scale, int64_t n) {
    float m = -INFINITY;
    bool has_nan = false;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] * scale;
        if (isnan(v))
            has_nan = true;
        else if (v > m)
            m = v;
    }
    if (has_nan || m == -INFINITY) {
        /* all-NaN for a NaN, zeros for a row with nothing visible */
        for (int64_t i = 0; i < n; i++)
            y[i] = has_nan ? NAN : 0.0f;
        return;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += exp((double)(x[i] * scale) - (double)m);
    /* m = +inf makes every term NaN or 0 and the sum NaN: the row comes out NaN */
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)(exp((double)(x[i] * scale) - (double)m) / sum);
}

struct softmax_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    float scale;
};

static void softmax_task(void *arg, int ith, int nth) {
    struct softmax_task *t = arg;
    float *tmp = lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)t->x->ne[0] * sizeof(float));
    int64_t r0, r1;
    lm_split(lm_tensor_nrows(t->x), 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        t->ctx->k->softmax((float *)lm_row_ptr(t->y, r), lm_row_f32(t->x, r, tmp), t->scale,
                           t->x->ne[0]);
}

lm_status lm_softmax(struct lm_tensor *y, const struct lm_tensor *x, float scale,
                     struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "softmax")) || (s = lm_check_f32(x, "softmax", "x")) ||
        (s = lm_check_f32_out(y, "softmax", "y")) ||
        (s = lm_check_same_shape(y, x, "softmax", "y", "x")))
        return s;
    if (!isfinite(scale))
        return lm_error(LM_EINVAL, "softmax: scale %g is not finite", (double)scale);
    int nth = lm_ctx_threads(ctx);
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)x->ne[0] * sizeof(float)))))
        return s;
    struct softmax_task t = {ctx, y, x, scale};
    lm_pool_run(ctx->pool, softmax_task, &t);
    return LM_OK;
}
