/* ops/quant.c - quantize and dequantize rows, and the plain-type converters.
 *
 * lm_quantize / lm_dequantize walk rows and call the level's from_f32 / to_f32 for the dtype.
 * The reference converters for F32, F16 and BF16 live here; each quantized dtype has its own
 * file (ops/quant_<dtype>.c) with its block layout, reference quantizer and dequantizer.
 */
#include <string.h>

#include "../simd/quant_k.h"
#include "../simd/quant_legacy.h"
#include "ops.h"

static void f32_to_f32(float *y, const void *x, int64_t n) {
    memmove(y, x, (size_t)n * sizeof(float));
}

static void f32_from_f32(void *y, const float *x, int64_t n) {
    memmove(y, x, (size_t)n * sizeof(float));
}

static void f16_to_f32_ref(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    for (int64_t i = 0; i < n; i++)
        y[i] = lm_f16_to_f32(h[i]);
}

static void f16_from_f32_ref(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    for (int64_t i = 0; i < n; i++)
        h[i] = lm_f32_to_f16(x[i]);
}

static void bf16_to_f32_ref(float *y, const void *x, int64_t n) {
    const uint16_t *h = x;
    for (int64_t i = 0; i < n; i++)
        y[i] = lm_bf16_to_f32(h[i]);
}

static void bf16_from_f32_ref(void *y, const float *x, int64_t n) {
    uint16_t *h = y;
    for (int64_t i = 0; i < n; i++)
        h[i] = lm_f32_to_bf16(x[i]);
}

void lm_quant_fill_ref(struct lm_kernels *k) {
    k->to_f32[LM_F32] = f32_to_f32;
    k->from_f32[LM_F32] = f32_from_f32;
    k->to_f32[LM_F16] = f16_to_f32_ref;
    k->from_f32[LM_F16] = f16_from_f32_ref;
    k->to_f32[LM_BF16] = bf16_to_f32_ref;
    k->from_f32[LM_BF16] = bf16_from_f32_ref;
    /* quantized dtypes: ops/quant_<dtype>.c */
    k->to_f32[LM_Q4_K] = lm_q4_k_to_f32_ref;
    k->from_f32[LM_Q4_K] = lm_q4_k_from_f32_ref;
    k->to_f32[LM_Q5_K] = lm_q5_k_to_f32_ref;
    k->from_f32[LM_Q5_K] = lm_q5_k_from_f32_ref;
    k->to_f32[LM_Q6_K] = lm_q6_k_to_f32_ref;
    k->from_f32[LM_Q6_K] = lm_q6_k_from_f32_ref;
    k->to_f32[LM_Q8_0] = lm_q8_0_to_f32_ref;
    k->from_f32[LM_Q8_0] = lm_q8_0_from_f32_ref;
    k->to_f32[LM_Q4_0] = lm_q4_0_to_f32_ref;
    k->from_f32[LM_Q4_0] = lm_q4_0_from_f32_ref;
    k->to_f32[LM_Q4_1] = lm_q4_1_to_f32_ref;
    k->from_f32[LM_Q4_1] = lm_q4_1_from_f32_ref;
}

struct convert_task {
    struct lm_ctx *ctx;
    const struct lm_tensor *dst, *src;
    bool quantize;
};

static void convert_task(void *arg, int ith, int nth) {
    struct convert_task *t = arg;
    const struct lm_tensor *f = t->quantize ? t->src : t->dst; /* the F32 side */
    enum lm_dtype q = t->quantize ? t->dst->dtype : t->src->dtype;
    float *tmp = lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)f->ne[0] * sizeof(float));
    int64_t r0, r1;
    lm_split(lm_tensor_nrows(f), 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        if (t->quantize)
            t->ctx->k->from_f32[q](lm_row_ptr(t->dst, r), lm_row_f32(t->src, r, tmp), f->ne[0]);
        else
            t->ctx->k->to_f32[q]((float *)lm_row_ptr(t->dst, r), lm_row_ptr(t->src, r), f->ne[0]);
    }
}

static lm_status convert(struct lm_tensor *dst, const struct lm_tensor *src, bool quantize,
                         struct lm_ctx *ctx) {
    const char *op = quantize ? "quantize" : "dequantize";
    const struct lm_tensor *f = quantize ? src : dst, *q = quantize ? dst : src;
    lm_status s;
    if ((s = lm_check_ctx(ctx, op)) || (s = lm_check_f32(f, op, quantize ? "src" : "dst")) ||
        (s = lm_check_same_shape(dst, src, op, "dst", "src")))
        return s;
    if (!q->data) return lm_error(LM_EINVAL, "%s: %s is NULL", op, quantize ? "dst" : "src");
    if (!lm_dtype_info(q->dtype) || !ctx->k->to_f32[q->dtype] || !ctx->k->from_f32[q->dtype])
        return lm_error(LM_EUNSUPPORTED, "%s: no %s converter", op, lm_dtype_name(q->dtype));
    const struct lm_dtype_info *qi = lm_dtype_info(q->dtype);
    if (f->ne[0] % qi->blck)
        return lm_error(LM_EINVAL,
                        "%s: rows of %lld elements are not a whole number of %s blocks of %d", op,
                        (long long)f->ne[0], qi->name, (int)qi->blck);
    if (q->nb[0] != (int64_t)qi->size)
        return lm_error(LM_EINVAL, "%s: %s rows must be contiguous", op, lm_dtype_name(q->dtype));
    if (!quantize && dst->nb[0] != sizeof(float))
        return lm_error(LM_EINVAL, "dequantize: dst rows must be contiguous");
    int nth = lm_ctx_threads(ctx);
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)f->ne[0] * sizeof(float)))))
        return s;
    struct convert_task t = {ctx, dst, src, quantize};
    lm_pool_run(ctx->pool, convert_task, &t);
    return LM_OK;
}

lm_status lm_quantize(struct lm_tensor *dst, const struct lm_tensor *src, struct lm_ctx *ctx) {
    return convert(dst, src, true, ctx);
}

lm_status lm_dequantize(struct lm_tensor *dst, const struct lm_tensor *src, struct lm_ctx *ctx) {
    return convert(dst, src, false, ctx);
}
