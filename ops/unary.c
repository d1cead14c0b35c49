/* ops/unary.c - the driver shared by the unary elementwise ops (silu, gelu, scale).
 *
 * Contract (ops.h): y = op(x) with x F32 of any strides and y F32 with contiguous rows, same
 * shape; y may alias x. When x and y are both fully contiguous the data is one flat array and
 * each thread takes one contiguous range of it, cut at multiples of 16 floats (64 bytes) so no
 * two threads write the same cache line. Otherwise threads split rows, and a row of x that is
 * strided along ne[0] is gathered into the thread's scratch before the kernel sees it. Kernels
 * are elementwise, so the result never depends on how the work is split.
 */
#include "ops.h"

struct unary_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    const struct lm_unary_op *op;
    bool flat;
};

static inline void unary_call(const struct lm_unary_op *op, float *y, const float *x, int64_t n) {
    if (op->fn)
        op->fn(y, x, n);
    else
        op->fn_s(y, x, op->s, n);
}

static void unary_task(void *arg, int ith, int nth) {
    struct unary_task *t = arg;
    int64_t i0, i1;
    if (t->flat) {
        lm_split(lm_tensor_nelem(t->x), 16, ith, nth, &i0, &i1);
        if (i0 < i1)
            unary_call(t->op, (float *)t->y->data + i0, (const float *)t->x->data + i0, i1 - i0);
        return;
    }
    float *tmp = lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)t->x->ne[0] * sizeof(float));
    lm_split(lm_tensor_nrows(t->x), 1, ith, nth, &i0, &i1);
    for (int64_t r = i0; r < i1; r++)
        unary_call(t->op, (float *)lm_row_ptr(t->y, r), lm_row_f32(t->x, r, tmp), t->x->ne[0]);
}

lm_status lm_unary_run(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_unary_op *op,
                       struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, op->name)) || (s = lm_check_f32(x, op->name, "x")) ||
        (s = lm_check_f32_out(y, op->name, "y")) ||
        (s = lm_check_same_shape(y, x, op->name, "y", "x")))
        return s;
    if (lm_tensor_nelem(x) <= 0) return LM_OK;
    bool flat = lm_tensor_is_contiguous(x) && lm_tensor_is_contiguous(y);
    if (!flat) {
        int nth = lm_ctx_threads(ctx);
        if ((s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)x->ne[0] * sizeof(float)))))
            return s;
    }
    struct unary_task t = {ctx, y, x, op, flat};
    lm_pool_run(ctx->pool, unary_task, &t);
    return LM_OK;
}
