/* ops/ctx.c - the op context (thread pool + kernel table + work memory) and shared checks. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

lm_status lm_ctx_create(int n_threads, struct lm_ctx **out) {
    *out = NULL;
    enum lm_isa isa;
    lm_status s = lm_isa_select(&isa);
    if (s) return s;
    struct lm_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return lm_error(LM_ENOMEM, "op context");
    s = lm_pool_create(n_threads, &ctx->pool);
    if (s) {
        free(ctx);
        return s;
    }
    ctx->k = lm_kernels_get(isa);
    lm_log(LM_LOG_DEBUG, "context: %d threads, %s kernels", lm_pool_size(ctx->pool),
           lm_isa_name(isa));
    *out = ctx;
    return LM_OK;
}

void lm_ctx_free(struct lm_ctx *ctx) {
    if (!ctx) return;
    lm_pool_free(ctx->pool);
    lm_aligned_free(ctx->work);
    free(ctx);
}

lm_status lm_ctx_set_isa(struct lm_ctx *ctx, enum lm_isa isa) {
    const struct lm_kernels *k = lm_kernels_get(isa);
    if (!k)
        return lm_error(LM_EUNSUPPORTED, "ISA level %s is not available on this build or CPU",
                        lm_isa_name(isa));
    ctx->k = k;
    return LM_OK;
}

enum lm_isa lm_ctx_isa(const struct lm_ctx *ctx) { return ctx->k->isa; }

int lm_ctx_threads(const struct lm_ctx *ctx) { return lm_pool_size(ctx->pool); }

lm_status lm_ctx_reserve(struct lm_ctx *ctx, size_t n) {
    if (n <= ctx->work_size) return LM_OK;
    uint8_t *w = lm_aligned_alloc(n);
    if (!w) return LM_ENOMEM;
    lm_aligned_free(ctx->work);
    ctx->work = w;
    ctx->work_size = n;
    return LM_OK;
}

lm_status lm_check_ctx(const struct lm_ctx *ctx, const char *op) {
    return ctx ? LM_OK : lm_error(LM_EINVAL, "%s: context is NULL", op);
}

lm_status lm_check_f32(const struct lm_tensor *t, const char *op, const char *what) {
    if (!t || !t->data) return lm_error(LM_EINVAL, "%s: %s is NULL", op, what);
    if (t->dtype != LM_F32)
        return lm_error(LM_EINVAL, "%s: %s is %s, expected f32", op, what, lm_dtype_name(t->dtype));
    return LM_OK;
}

lm_status lm_check_f32_out(const struct lm_tensor *t, const char *op, const char *what) {
    lm_status s = lm_check_f32(t, op, what);
    if (s) return s;
    if (t->nb[0] != sizeof(float))
        return lm_error(LM_EINVAL, "%s: %s rows must be contiguous (nb[0] = %lld)", op, what,
                        (long long)t->nb[0]);
    return LM_OK;
}

lm_status lm_check_same_shape(const struct lm_tensor *a, const struct lm_tensor *b, const char *op,
                              const char *an, const char *bn) {
    if (lm_tensor_same_shape(a, b)) return LM_OK;
    return lm_error(
        LM_EINVAL, "%s: %s (%lld, %lld, %lld, %lld) and %s (%lld, %lld, %lld, %lld) differ", op, an,
        (long long)a->ne[0], (long long)a->ne[1], (long long)a->ne[2], (long long)a->ne[3], bn,
        (long long)b->ne[0], (long long)b->ne[1], (long long)b->ne[2], (long long)b->ne[3]);
}
