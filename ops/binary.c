/* ops/binary.c - y = a + b and y = a * b with ggml-style broadcast of b, and the driver that
 * swiglu shares.
 *
 * Broadcast: b->ne[i] must divide a->ne[i] for every dim. Row (i1, i2, i3) of a pairs with row
 * (i1 % b.ne1, i2 % b.ne2, i3 % b.ne3) of b, and a b row shorter than a row repeats along ne[0]
 * (b (n) is a row bias, b (1) a scalar, b (1, rows) a per-row scale). y has a's shape and
 * contiguous rows; a and b may be any strided views; y may alias a (or b when shapes match).
 *
 * Work split: all-contiguous same-shape operands are one flat array cut into per-thread ranges
 * at 64-byte steps. Otherwise threads split rows; strided rows are gathered into scratch, and a
 * short b row is repeated into a full-length scratch row once per distinct b row (the thread
 * remembers which b row it last expanded), except that a one-element b row goes straight to
 * fn_s (mul uses the scale kernel) when the op has one.
 *
 * The reference kernels are exact: one f32 add or mul per element, as the SIMD kernels do.
 */
#include <string.h>

#include "ops.h"

void lm_add_ref(float *y, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}

void lm_mul_ref(float *y, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] * b[i];
}

struct binary_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *a, *b;
    const struct lm_binary_op *op;
    bool flat;
    size_t slice; /* bytes of scratch per thread */
};

/* Row of b that pairs with flat row r of a. */
static const char *b_row(const struct lm_tensor *a, const struct lm_tensor *b, int64_t r) {
    int64_t i1 = r % a->ne[1], i2 = (r / a->ne[1]) % a->ne[2], i3 = r / (a->ne[1] * a->ne[2]);
    return (const char *)b->data + (i1 % b->ne[1]) * b->nb[1] + (i2 % b->ne[2]) * b->nb[2] +
           (i3 % b->ne[3]) * b->nb[3];
}

static void binary_task(void *arg, int ith, int nth) {
    struct binary_task *t = arg;
    const struct lm_binary_op *op = t->op;
    int64_t i0, i1;
    if (t->flat) {
        lm_split(lm_tensor_nelem(t->a), 16, ith, nth, &i0, &i1);
        if (i0 < i1)
            op->fn((float *)t->y->data + i0, (const float *)t->a->data + i0,
                   (const float *)t->b->data + i0, i1 - i0);
        return;
    }
    const int64_t n = t->a->ne[0], bn = t->b->ne[0];
    /* scratch: a gathered (n), b gathered (bn), b repeated to n */
    float *atmp = lm_ctx_slice(t->ctx, lm_pool_worker(), t->slice);
    float *btmp = atmp + lm_round64((size_t)n * sizeof(float)) / sizeof(float);
    float *bexp = btmp + lm_round64((size_t)bn * sizeof(float)) / sizeof(float);
    const char *expanded = NULL; /* the b row bexp holds */
    lm_split(lm_tensor_nrows(t->a), 1, ith, nth, &i0, &i1);
    for (int64_t r = i0; r < i1; r++) {
        float *yr = (float *)lm_row_ptr(t->y, r);
        const float *ar = lm_row_f32(t->a, r, atmp);
        const char *bp = b_row(t->a, t->b, r);
        if (bn == 1 && op->fn_s) {
            op->fn_s(yr, ar, *(const float *)bp, n);
            continue;
        }
        const float *br;
        if (t->b->nb[0] == sizeof(float)) {
            br = (const float *)bp;
        } else {
            for (int64_t i = 0; i < bn; i++)
                btmp[i] = *(const float *)(bp + i * t->b->nb[0]);
            br = btmp;
        }
        if (bn < n) {
            if (bp != expanded) {
                for (int64_t i = 0; i < n; i += bn)
                    memcpy(bexp + i, br, (size_t)bn * sizeof(float));
                expanded = bp;
            }
            br = bexp;
        }
        op->fn(yr, ar, br, n);
    }
}

lm_status lm_binary_run(struct lm_tensor *y, const struct lm_tensor *a, const struct lm_tensor *b,
                        const struct lm_binary_op *op, struct lm_ctx *ctx) {
    const char *name = op->name, *an = op->a_name, *bn = op->b_name;
    lm_status s;
    if ((s = lm_check_ctx(ctx, name)) || (s = lm_check_f32(a, name, an)) ||
        (s = lm_check_f32(b, name, bn)) || (s = lm_check_f32_out(y, name, "y")) ||
        (s = lm_check_same_shape(y, a, name, "y", an)))
        return s;
    if (!op->broadcast) {
        if ((s = lm_check_same_shape(a, b, name, an, bn))) return s;
    } else {
        for (int i = 0; i < LM_MAX_DIMS; i++)
            if (b->ne[i] < 1 || a->ne[i] % b->ne[i])
                return lm_error(LM_EINVAL,
                                "%s: b (%lld, %lld, %lld, %lld) does not broadcast to a (%lld, "
                                "%lld, %lld, %lld): b->ne[%d] must divide a->ne[%d]",
                                name, (long long)b->ne[0], (long long)b->ne[1], (long long)b->ne[2],
                                (long long)b->ne[3], (long long)a->ne[0], (long long)a->ne[1],
                                (long long)a->ne[2], (long long)a->ne[3], i, i);
    }
    if (lm_tensor_nelem(a) <= 0) return LM_OK;
    bool flat = lm_tensor_same_shape(a, b) && lm_tensor_is_contiguous(a) &&
                lm_tensor_is_contiguous(b) && lm_tensor_is_contiguous(y);
    size_t slice = 0;
    if (!flat) {
        size_t rn = lm_round64((size_t)a->ne[0] * sizeof(float));
        slice = 2 * rn + lm_round64((size_t)b->ne[0] * sizeof(float));
        if ((s = lm_ctx_reserve(ctx, (size_t)lm_ctx_threads(ctx) * lm_round64(slice)))) return s;
    }
    struct binary_task t = {ctx, y, a, b, op, flat, slice};
    lm_pool_run(ctx->pool, binary_task, &t);
    return LM_OK;
}

lm_status lm_add(struct lm_tensor *y, const struct lm_tensor *a, const struct lm_tensor *b,
                 struct lm_ctx *ctx) {
    if (!ctx) return lm_check_ctx(ctx, "add");
    struct lm_binary_op op = {"add", "a", "b", ctx->k->add, NULL, true};
    return lm_binary_run(y, a, b, &op, ctx);
}

lm_status lm_mul(struct lm_tensor *y, const struct lm_tensor *a, const struct lm_tensor *b,
                 struct lm_ctx *ctx) {
    if (!ctx) return lm_check_ctx(ctx, "mul");
    struct lm_binary_op op = {"mul", "a", "b", ctx->k->mul, ctx->k->scale, true};
    return lm_binary_run(y, a, b, &op, ctx);
}
