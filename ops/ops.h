/* ops/ops.h - what the ops share (internal): the context, work memory, row walking, checks.
 *
 * An op checks shapes once, reserves the work memory it needs, then runs one task on the pool;
 * the task splits rows by (ith, nth) (chunk ith of the pool's nth chunks, claimed by whichever
 * worker is free) and calls kernels from ctx->k on contiguous rows. Input rows that are strided
 * along ne[0] are gathered into the running worker's scratch slice (lm_pool_worker()) first.
 */
#ifndef LMRT_OPS_H
#define LMRT_OPS_H

#include "../simd/kernels.h"

struct lm_ctx {
    struct lm_pool *pool;
    const struct lm_kernels *k;
    uint8_t *work; /* 64-byte aligned, work_size bytes, grown on demand */
    size_t work_size;
};

/* Make ctx->work at least n bytes (reallocates only when it grows). */
lm_status lm_ctx_reserve(struct lm_ctx *ctx, size_t n);

/* Per-worker slices of the work memory: slice i (lm_pool_worker() inside a task) of
 * lm_ctx_threads(ctx), each `each` bytes rounded to 64. */
static inline size_t lm_round64(size_t n) { return (n + 63) & ~(size_t)63; }
static inline void *lm_ctx_slice(struct lm_ctx *ctx, int i, size_t each) {
    return ctx->work + (size_t)i * lm_round64(each);
}

/* [*i0, *i1): chunk ith's share of n items, in steps of `step` (the last may be short). */
static inline void lm_split(int64_t n, int64_t step, int ith, int nth, int64_t *i0, int64_t *i1) {
    int64_t chunks = (n + step - 1) / step;
    int64_t c0 = chunks * ith / nth, c1 = chunks * (ith + 1) / nth;
    *i0 = c0 * step < n ? c0 * step : n;
    *i1 = c1 * step < n ? c1 * step : n;
}

/* Flat row r of t (over ne[1..3]) -> pointer to its first element. */
static inline char *lm_row_ptr(const struct lm_tensor *t, int64_t r) {
    int64_t i1 = r % t->ne[1], i2 = (r / t->ne[1]) % t->ne[2], i3 = r / (t->ne[1] * t->ne[2]);
    return (char *)t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* Row r of an F32 tensor as a contiguous array: in place, or gathered into tmp (ne[0] floats)
 * when the row is strided. */
static inline const float *lm_row_f32(const struct lm_tensor *t, int64_t r, float *tmp) {
    const char *p = lm_row_ptr(t, r);
    if (t->nb[0] == sizeof(float)) return (const float *)p;
    for (int64_t i = 0; i < t->ne[0]; i++)
        tmp[i] = *(const float *)(p + i * t->nb[0]);
    return tmp;
}

/* Checks shared by the ops; each returns LM_EINVAL with a message naming the op. */
lm_status lm_check_ctx(const struct lm_ctx *ctx, const char *op);
lm_status lm_check_f32(const struct lm_tensor *t, const char *op, const char *what);
/* F32, with contiguous rows (nb[0] == 4): what an op writes. */
lm_status lm_check_f32_out(const struct lm_tensor *t, const char *op, const char *what);
lm_status lm_check_same_shape(const struct lm_tensor *a, const struct lm_tensor *b, const char *op,
                              const char *an, const char *bn);

/* ---- elementwise drivers (ops/unary.c, ops/binary.c) -------------------------------------
 * Shared by silu, gelu, scale (unary) and add, mul, swiglu (binary). When every tensor is
 * contiguous the drivers treat the data as one flat array and give each thread one contiguous
 * range (in 64-byte steps, so threads never share a cache line of y); otherwise they walk rows
 * and gather strided input rows into per-thread scratch. */

struct lm_unary_op {
    const char *name;                                           /* for error messages */
    void (*fn)(float *y, const float *x, int64_t n);            /* y = f(x), or NULL ... */
    void (*fn_s)(float *y, const float *x, float s, int64_t n); /* ... then y = f(x, s) */
    float s;
};
/* y = op(x): x F32 any strides, y F32 with contiguous rows, same shape (y may alias x). */
lm_status lm_unary_run(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_unary_op *op,
                       struct lm_ctx *ctx);

struct lm_binary_op {
    const char *name, *a_name, *b_name; /* for error messages */
    void (*fn)(float *y, const float *a, const float *b, int64_t n);
    /* Optional: used for rows where b has a single element (y = a op s). */
    void (*fn_s)(float *y, const float *a, float s, int64_t n);
    bool broadcast; /* allow b->ne[i] dividing a->ne[i]; else shapes must match */
};
/* y = op(a, b): a, b F32 any strides, y F32 with contiguous rows, shaped like a. b row
 * (i1 % b.ne1, i2 % b.ne2, i3 % b.ne3) pairs with a row (i1, i2, i3); a b row shorter than a's
 * repeats along ne[0]. */
lm_status lm_binary_run(struct lm_tensor *y, const struct lm_tensor *a, const struct lm_tensor *b,
                        const struct lm_binary_op *op, struct lm_ctx *ctx);

#endif
