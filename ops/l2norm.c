/* ops/l2norm.c - L2 normalisation: y = x / max(||x||, eps), per row (F.normalize).
 *
 * A NaN norm propagates (every output of that row is NaN) rather than being replaced by eps.
 * The reference sums squares in double and divides in double, so it is the accurate side of
 * every comparison; SIMD kernels sum in f32 lanes and multiply by the f32 reciprocal.
 */
#include <math.h>

#include "ops.h"

void lm_l2norm_ref(float *y, const float *x, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    double norm = sqrt(ss);
    if (norm < eps) norm = eps; /* false for NaN: it propagates */
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)(x[i] / norm);
}

struct l2norm_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    float eps;
};

static void l2norm_task(void *arg, int ith, int nth) {
    struct l2norm_task *t = arg;
    float *tmp = lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)t->x->ne[0] * sizeof(float));
    int64_t r0, r1;
    lm_split(lm_tensor_nrows(t->x), 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        t->ctx->k->l2norm((float *)lm_row_ptr(t->y, r), lm_row_f32(t->x, r, tmp), t->x->ne[0],
                          t->eps);
}

lm_status lm_l2norm(struct lm_tensor *y, const struct lm_tensor *x, float eps, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "l2norm")) || (s = lm_check_f32(x, "l2norm", "x")) ||
        (s = lm_check_f32_out(y, "l2norm", "y")) ||
        (s = lm_check_same_shape(y, x, "l2norm", "y", "x")))
        return s;
    if (!(eps >= 0)) return lm_error(LM_EINVAL, "l2norm: eps %g is not >= 0", (double)eps);
    int nth = lm_ctx_threads(ctx);
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)x->ne[0] * sizeof(float)))))
        return s;
    struct l2norm_task t = {ctx, y, x, eps};
    lm_pool_run(ctx->pool, l2norm_task, &t);
    return LM_OK;
}
