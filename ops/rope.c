/* ops/rope.c - rotary position embedding over (hd, n_head, n_tok), and its reference kernel.
 *
 * For token t at position p = pos[t], pair i < n_rot/2 is rotated by
 *   theta_i = p * freq_scale * base^(-2i / n_rot) / freq_factors[i]
 * computed in double: the frequencies fs * base^(-2i/n_rot) / ff_i once per call (shared by
 * the threads), then per token theta and its (cos, sin), rounded to f32 into per-thread
 * scratch and shared by every head of that token. Pairs are (x[2i], x[2i+1]) for
 * LM_ROPE_ADJACENT and (x[i], x[i + n_rot/2]) for LM_ROPE_HALF; dims [n_rot, hd) are copied.
 *
 * Threads split the n_tok * n_head rows evenly (decode has one token and many heads), and a
 * thread recomputes the table whenever its token changes, so every row's result is the same
 * whatever the split. Strided input rows are gathered first; y may alias x.
 */
#include <math.h>

#include "ops.h"

/* y[0..1] = rotation of (a, b) by (c, s), in double then rounded once. Both inputs are read
 * before either output is written, so y may alias x. */
static inline void rot_ref(float *y0, float *y1, float a, float b, float c, float s) {
    double r0 = (double)a * c - (double)b * s, r1 = (double)a * s + (double)b * c;
    *y0 = (float)r0;
    *y1 = (float)r1;
}

void lm_rope_ref(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                 enum lm_rope_mode mode) {
    const int64_t h = n_rot / 2;
    for (int64_t i = 0; i < h; i++) {
        if (mode == LM_ROPE_ADJACENT)
            rot_ref(&y[2 * i], &y[2 * i + 1], x[2 * i], x[2 * i + 1], cs[2 * i], cs[2 * i + 1]);
        else
            rot_ref(&y[i], &y[i + h], x[i], x[i + h], cs[2 * i], cs[2 * i + 1]);
    }
    for (int64_t i = n_rot; i < hd; i++)
        y[i] = x[i];
}

struct rope_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *x;
    const struct lm_tensor *pos;
    const struct lm_rope_params *p;
    int64_t n_rot;
    const double *freq; /* (n_rot/2) */
    uint8_t *scratch;   /* per-worker slices of `each` bytes: cs table, then a gather row */
    size_t each;
};

/* (cos, sin) of every pair for position p. */
static void rope_table(float *cs, int32_t p, const struct rope_task *t) {
    for (int64_t i = 0; i < t->n_rot / 2; i++) {
        double th = (double)p * t->freq[i];
        cs[2 * i] = (float)cos(th);
        cs[2 * i + 1] = (float)sin(th);
    }
}

static void rope_task(void *arg, int ith, int nth) {
    struct rope_task *t = arg;
    uint8_t *scr = t->scratch + (size_t)lm_pool_worker() * t->each;
    float *cs = (float *)scr, *tmp = (float *)(scr + lm_round64((size_t)t->n_rot * sizeof(float)));
    const int64_t hd = t->x->ne[0], n_head = t->x->ne[1];
    int64_t r0, r1, cur = -1;
    lm_split(n_head * t->x->ne[2], 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t tok = r / n_head;
        if (tok != cur) {
            rope_table(cs, *(const int32_t *)((const char *)t->pos->data + tok * t->pos->nb[0]), t);
            cur = tok;
        }
        t->ctx->k->rope((float *)lm_row_ptr(t->y, r), lm_row_f32(t->x, r, tmp), cs, hd, t->n_rot,
                        t->p->mode);
    }
}

lm_status lm_rope(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *pos,
                  const struct lm_rope_params *p, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "rope")) || (s = lm_check_f32(x, "rope", "x")) ||
        (s = lm_check_f32_out(y, "rope", "y")) || (s = lm_check_same_shape(y, x, "rope", "y", "x")))
        return s;
    if (!p) return lm_error(LM_EINVAL, "rope: params are NULL");
    if (x->ne[3] != 1)
        return lm_error(LM_EINVAL, "rope: x must be (hd, n_head, n_tok), has ne[3] = %lld",
                        (long long)x->ne[3]);
    if (!pos || !pos->data) return lm_error(LM_EINVAL, "rope: pos is NULL");
    if (pos->dtype != LM_I32)
        return lm_error(LM_EINVAL, "rope: pos is %s, expected i32", lm_dtype_name(pos->dtype));
    if (pos->ne[0] != x->ne[2] || pos->ne[1] != 1 || pos->ne[2] != 1 || pos->ne[3] != 1)
        return lm_error(LM_EINVAL,
                        "rope: pos has (%lld, %lld, %lld, %lld) elements, x has %lld tokens",
                        (long long)pos->ne[0], (long long)pos->ne[1], (long long)pos->ne[2],
                        (long long)pos->ne[3], (long long)x->ne[2]);
    const int64_t hd = x->ne[0], n_rot = p->n_rot ? p->n_rot : hd;
    if (n_rot < 0 || n_rot % 2 || n_rot > hd)
        return lm_error(LM_EINVAL, "rope: n_rot %lld must be even and in [0, head dim %lld]",
                        (long long)p->n_rot, (long long)hd);
    if (p->mode != LM_ROPE_ADJACENT && p->mode != LM_ROPE_HALF)
        return lm_error(LM_EINVAL, "rope: unknown mode %d", (int)p->mode);
    if (!(p->base > 0) || !isfinite(p->base))
        return lm_error(LM_EINVAL, "rope: base %g must be finite and > 0", (double)p->base);
    if (!isfinite(p->freq_scale) || p->freq_scale < 0)
        return lm_error(LM_EINVAL, "rope: freq_scale %g must be finite and >= 0",
                        (double)p->freq_scale);
    if (p->freq_factors)
        for (int64_t i = 0; i < n_rot / 2; i++)
            if (!(p->freq_factors[i] > 0) || !isfinite(p->freq_factors[i]))
                return lm_error(LM_EINVAL, "rope: freq_factors[%lld] = %g must be finite and > 0",
                                (long long)i, (double)p->freq_factors[i]);

    const int nth = lm_ctx_threads(ctx);
    const size_t fbytes = lm_round64((size_t)(n_rot / 2) * sizeof(double));
    const size_t each =
        lm_round64((size_t)n_rot * sizeof(float)) + lm_round64((size_t)hd * sizeof(float));
    if ((s = lm_ctx_reserve(ctx, fbytes + (size_t)nth * each))) return s;
    double *freq = (double *)ctx->work;
    const double fs = p->freq_scale ? (double)p->freq_scale : 1.0;
    for (int64_t i = 0; i < n_rot / 2; i++)
        freq[i] = fs * pow((double)p->base, -2.0 * (double)i / (double)n_rot) /
                  (p->freq_factors ? (double)p->freq_factors[i] : 1.0);
    struct rope_task t = {.ctx = ctx,
                          .y = y,
                          .x = x,
                          .pos = pos,
                          .p = p,
                          .n_rot = n_rot,
                          .freq = freq,
                          .scratch = ctx->work + fbytes,
                          .each = each};
    lm_pool_run(ctx->pool, rope_task, &t);
    return LM_OK;
}
