/* ops/layernorm.c - LayerNorm: y = (x - mean) / sqrt(var + eps) * w + b, per row.
 *
 * var is the biased variance (divide by n), as PyTorch and ggml use. w and b are optional rows
 * of n (NULL = 1 and 0). The reference computes the mean and then the centred sum of squares in
 * double (two passes, no E[x^2] - mean^2 cancellation) and evaluates the output in double, so
 * it is the accurate side of every comparison; SIMD kernels do the same passes in f32 lanes.
 */
#include <math.h>

#include "ops.h"

void lm_layernorm_ref(float *y, const float *x, const float *w, const float *b, int64_t n,
                      float eps) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n, ss = 0;
    for (int64_t i = 0; i < n; i++)
        ss += ((double)x[i] - mean) * ((double)x[i] - mean);
    double r = 1.0 / sqrt(ss / (double)n + eps);
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)(((double)x[i] - mean) * r * (w ? w[i] : 1.0) + (b ? b[i] : 0.0));
}

struct layernorm_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    const float *w, *b;
    float eps;
};

static void layernorm_task(void *arg, int ith, int nth) {
    struct layernorm_task *t = arg;
    float *tmp = lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)t->x->ne[0] * sizeof(float));
    int64_t r0, r1;
    lm_split(lm_tensor_nrows(t->x), 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        t->ctx->k->layernorm((float *)lm_row_ptr(t->y, r), lm_row_f32(t->x, r, tmp), t->w, t->b,
                             t->x->ne[0], t->eps);
}

/* w or b: NULL, or one contiguous F32 row of n. */
static lm_status check_param(const struct lm_tensor *p, const char *what, int64_t n) {
    if (!p) return LM_OK;
    lm_status s = lm_check_f32_out(p, "layernorm", what);
    if (s) return s;
    if (p->ne[0] != n || lm_tensor_nrows(p) != 1)
        return lm_error(LM_EINVAL, "layernorm: %s has %lld x %lld elements, x rows have %lld", what,
                        (long long)p->ne[0], (long long)lm_tensor_nrows(p), (long long)n);
    return LM_OK;
}

lm_status lm_layernorm(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                       const struct lm_tensor *b, float eps, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "layernorm")) || (s = lm_check_f32(x, "layernorm", "x")) ||
        (s = lm_check_f32_out(y, "layernorm", "y")) ||
        (s = lm_check_same_shape(y, x, "layernorm", "y", "x")) ||
        (s = check_param(w, "w", x->ne[0])) || (s = check_param(b, "b", x->ne[0])))
        return s;
    if (!(eps >= 0)) return lm_error(LM_EINVAL, "layernorm: eps %g is not >= 0", (double)eps);
    int nth = lm_ctx_threads(ctx);
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)x->ne[0] * sizeof(float)))))
        return s;
    struct layernorm_task t = {ctx, y, x, w ? w->data : NULL, b ? b->data : NULL, eps};
    lm_pool_run(ctx->pool, layernorm_task, &t);
    return LM_OK;
}
