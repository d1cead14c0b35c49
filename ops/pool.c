/* ops/pool.c - mean pooling over packed variable-length sequences (sentence embeddings).
 *
 * y (n, n_seq) = mean of the rows of x (n, T) in [offsets[s], offsets[s+1]) for each sequence s.
 * offsets has n_seq + 1 entries, each in [0, T] (LM_ERANGE otherwise) and strictly increasing:
 * a decreasing pair or an empty segment is LM_EINVAL; both messages name the offending index.
 * Rows before offsets[0] and after offsets[n_seq] are ignored.
 *
 * No kernel-table entry: the work is one pass over x. Threads split the n columns in 16-float
 * (64-byte) chunks and each sums its columns down the rows in double, so the mean is accurate
 * to f32 rounding for any T and identical for any thread count. x may be any strided view; y
 * rows are contiguous.
 */
#include "ops.h"

struct pool_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    const int32_t *offsets;
    int64_t n_seq;
    size_t slice;
};

static void pool_task(void *arg, int ith, int nth) {
    struct pool_task *t = arg;
    int64_t c0, c1;
    lm_split(t->x->ne[0], 16, ith, nth, &c0, &c1);
    if (c0 >= c1) return;
    double *acc = lm_ctx_slice(t->ctx, lm_pool_worker(), t->slice);
    const int64_t nc = c1 - c0, es = t->x->nb[0];
    for (int64_t s = 0; s < t->n_seq; s++) {
        for (int64_t c = 0; c < nc; c++)
            acc[c] = 0;
        for (int64_t r = t->offsets[s]; r < t->offsets[s + 1]; r++) {
            const char *row = (const char *)t->x->data + r * t->x->nb[1] + c0 * es;
            if (es == sizeof(float)) {
                const float *xr = (const float *)row;
                for (int64_t c = 0; c < nc; c++)
                    acc[c] += xr[c];
            } else {
                for (int64_t c = 0; c < nc; c++)
                    acc[c] += *(const float *)(row + c * es);
            }
        }
        double inv = 1.0 / (double)(t->offsets[s + 1] - t->offsets[s]);
        float *yr = (float *)lm_row_ptr(t->y, s) + c0;
        for (int64_t c = 0; c < nc; c++)
            yr[c] = (float)(acc[c] * inv);
    }
}

lm_status lm_mean_pool(struct lm_tensor *y, const struct lm_tensor *x, const int32_t *offsets,
                       int64_t n_seq, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "mean_pool")) || (s = lm_check_f32(x, "mean_pool", "x")) ||
        (s = lm_check_f32_out(y, "mean_pool", "y")))
        return s;
    if (!offsets) return lm_error(LM_EINVAL, "mean_pool: offsets is NULL");
    if (n_seq < 1) return lm_error(LM_EINVAL, "mean_pool: n_seq %lld < 1", (long long)n_seq);
    if (x->ne[2] != 1 || x->ne[3] != 1)
        return lm_error(LM_EINVAL, "mean_pool: x must be 2-D (n, T), has ne[2..3] = %lld, %lld",
                        (long long)x->ne[2], (long long)x->ne[3]);
    if (y->ne[0] != x->ne[0] || lm_tensor_nrows(y) != n_seq)
        return lm_error(LM_EINVAL, "mean_pool: y has rows of %lld x %lld, expected %lld x %lld",
                        (long long)y->ne[0], (long long)lm_tensor_nrows(y), (long long)x->ne[0],
                        (long long)n_seq);
    const int64_t T = x->ne[1];
    for (int64_t i = 0; i <= n_seq; i++) {
        if (offsets[i] < 0 || offsets[i] > T)
            return lm_error(LM_ERANGE, "mean_pool: offsets[%lld] = %d is outside [0, %lld]",
                            (long long)i, (int)offsets[i], (long long)T);
        if (i > 0 && offsets[i] < offsets[i - 1])
            return lm_error(LM_EINVAL, "mean_pool: offsets[%lld] = %d is below offsets[%lld] = %d",
                            (long long)i, (int)offsets[i], (long long)(i - 1), (int)offsets[i - 1]);
        if (i > 0 && offsets[i] == offsets[i - 1])
            return lm_error(
                LM_EINVAL, "mean_pool: sequence %lld is empty (offsets[%lld] = offsets[%lld] = %d)",
                (long long)(i - 1), (long long)(i - 1), (long long)i, (int)offsets[i]);
    }
    /* a worker's slice holds one pool chunk's columns at a time */
    int nth = lm_ctx_threads(ctx), nch = lm_pool_chunks(ctx->pool);
    int64_t chunks = (x->ne[0] + 15) / 16;
    size_t slice = lm_round64((size_t)((chunks + nch - 1) / nch) * 16 * sizeof(double));
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * slice))) return s;
    struct pool_task t = {ctx, y, x, offsets, n_seq, slice};
    lm_pool_run(ctx->pool, pool_task, &t);
    return LM_OK;
}
