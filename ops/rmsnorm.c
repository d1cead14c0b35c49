/* ops/rmsnorm.c - RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, per row.
 *
 * The reference accumulates the sum of squares in double, so it is the accurate side of every
 * comparison; SIMD kernels accumulate in f32 lanes and must stay within the test tolerance.
 */
#include <math.h>

#include "ops.h"

void lm_rmsnorm_ref(float *y, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * r * (w ? w[i] : 1.0f);
}

struct rmsnorm_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    const float *w;
    float eps;
};

static void rmsnorm_task(void *arg, int ith, int nth) {
    struct rmsnorm_task *t = arg;
    float *tmp = lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)t->x->ne[0] * sizeof(float));
    int64_t r0, r1;
    lm_split(lm_tensor_nrows(t->x), 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        t->ctx->k->rmsnorm((float *)lm_row_ptr(t->y, r), lm_row_f32(t->x, r, tmp), t->w,
                           t->x->ne[0], t->eps);
}

lm_status lm_rmsnorm(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                     float eps, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "rmsnorm")) || (s = lm_check_f32(x, "rmsnorm", "x")) ||
        (s = lm_check_f32_out(y, "rmsnorm", "y")) ||
        (s = lm_check_same_shape(y, x, "rmsnorm", "y", "x")))
        return s;
    if (w) {
        if ((s = lm_check_f32_out(w, "rmsnorm", "w"))) return s;
        if (w->ne[0] != x->ne[0] || lm_tensor_nrows(w) != 1)
            return lm_error(LM_EINVAL, "rmsnorm: w has %lld x %lld elements, x rows have %lld",
                            (long long)w->ne[0], (long long)lm_tensor_nrows(w),
                            (long long)x->ne[0]);
    }
    if (!(eps >= 0)) return lm_error(LM_EINVAL, "rmsnorm: eps %g is not >= 0", (double)eps);
    int nth = lm_ctx_threads(ctx);
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)x->ne[0] * sizeof(float)))))
        return s;
    struct rmsnorm_task t = {ctx, y, x, w ? w->data : NULL, eps};
    lm_pool_run(ctx->pool, rmsnorm_task, &t);
    return LM_OK;
}
