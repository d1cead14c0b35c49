/* ops/conv1d.c - causal depthwise 1-D convolution over time (LFM2 short conv, Mamba conv).
 *
 * x, y (C, T); w (k, C): the k taps of channel c are contiguous, oldest first; state (C, k-1)
 * holds the k-1 inputs before x[0] (row 0 the oldest) or is NULL (zeros, not kept). With xx =
 * state rows followed by x rows (k-1+T rows):
 *     y[t][c] = sum_j w[c][j] * xx[t+j][c]
 * and state becomes the last k-1 rows of xx, so calling chunk by chunk gives exactly the result
 * of one call over the whole sequence (each y[t] is computed the same way either way).
 *
 * Work split: pool chunks split channels in 16-channel (64-byte) groups, so in-place use
 * (y == x) is safe without a barrier: a chunk owns its channels across all time steps. Per
 * chunk, in its worker's scratch:
 *   1. transpose its slice of w to tap-major (wt[j*cw + c], the kernel's layout);
 *   2. if x is strided along ne[0], gather its channels of all T rows into scratch;
 *   3. copy the new state (last k-1 rows of xx) into scratch before anything is written;
 *   4. for t = T-1 down to 0: point rows[j] at xx[t+j] and call the kernel. Descending t keeps
 *      y == x correct: y[t] reads x[t-k+1..t], none of which has been overwritten yet;
 *   5. write the saved state back.
 * The reference kernel accumulates in double: the accurate side of the comparisons.
 */
#include <string.h>

#include "ops.h"

void lm_conv1d_ref(float *y, const float *const *rows, const float *w, int64_t C, int64_t k) {
    for (int64_t c = 0; c < C; c++) {
        double acc = 0;
        for (int64_t j = 0; j < k; j++)
            acc += (double)w[j * C + c] * rows[j][c];
        y[c] = (float)acc;
    }
}

struct conv_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y, *state;
    const struct lm_tensor *x, *w;
    bool gather;  /* x strided along ne[0] */
    size_t slice; /* scratch bytes per thread */
    int64_t cw_max;
};

/* The rows one thread reads: xx = state (or zeros) then x, from channel c0 on. */
struct xx {
    const struct lm_tensor *x, *state;
    const float *zero, *xg; /* xg: x gathered (T rows, ld apart), or NULL to read x in place */
    int64_t k, c0, ld;
};

static inline const float *xx_row(const struct xx *v, int64_t u) {
    if (u < v->k - 1)
        return v->state ? (const float *)lm_tensor_row(v->state, u, 0, 0) + v->c0 : v->zero;
    u -= v->k - 1;
    return v->xg ? v->xg + u * v->ld : (const float *)lm_tensor_row(v->x, u, 0, 0) + v->c0;
}

static void conv_task(void *arg, int ith, int nth) {
    struct conv_task *t = arg;
    const struct lm_tensor *x = t->x, *w = t->w;
    const int64_t C = x->ne[0], T = x->ne[1], k = w->ne[0];
    int64_t c0, c1;
    lm_split(C, 16, ith, nth, &c0, &c1);
    if (c0 >= c1) return;
    const int64_t cw = c1 - c0, ld = t->cw_max; /* floats between scratch rows */

    /* scratch: rows pointers (k), wt (k rows), new state (k-1 rows), zeros (1 row), x (T rows) */
    const float **rows = lm_ctx_slice(t->ctx, lm_pool_worker(), t->slice);
    float *wt = (float *)((char *)rows + lm_round64((size_t)k * sizeof(float *)));
    float *ns = wt + k * ld, *zero = ns + (k - 1) * ld, *xg = zero + ld;

    for (int64_t j = 0; j < k; j++)
        for (int64_t c = 0; c < cw; c++)
            wt[j * cw + c] =
                *(const float *)((const char *)w->data + j * w->nb[0] + (c0 + c) * w->nb[1]);
    memset(zero, 0, (size_t)cw * sizeof(float));
    if (t->gather)
        for (int64_t r = 0; r < T; r++) {
            const char *src = (const char *)x->data + r * x->nb[1] + c0 * x->nb[0];
            for (int64_t c = 0; c < cw; c++)
                xg[r * ld + c] = *(const float *)(src + c * x->nb[0]);
        }

    struct xx v = {x, t->state, zero, t->gather ? xg : NULL, k, c0, ld};
    if (t->state)
        for (int64_t j = 0; j < k - 1; j++)
            memcpy(ns + j * ld, xx_row(&v, T + j), (size_t)cw * sizeof(float));
    for (int64_t tt = T - 1; tt >= 0; tt--) {
        for (int64_t j = 0; j < k; j++)
            rows[j] = xx_row(&v, tt + j);
        t->ctx->k->conv1d((float *)lm_tensor_row(t->y, tt, 0, 0) + c0, rows, wt, cw, k);
    }
    if (t->state)
        for (int64_t j = 0; j < k - 1; j++)
            memcpy((float *)lm_tensor_row(t->state, j, 0, 0) + c0, ns + j * ld,
                   (size_t)cw * sizeof(float));
}

lm_status lm_conv1d_causal(struct lm_tensor *y, const struct lm_tensor *x,
                           const struct lm_tensor *w, struct lm_tensor *state, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "conv1d")) || (s = lm_check_f32(x, "conv1d", "x")) ||
        (s = lm_check_f32_out(y, "conv1d", "y")) ||
        (s = lm_check_same_shape(y, x, "conv1d", "y", "x")) || (s = lm_check_f32(w, "conv1d", "w")))
        return s;
    if (x->ne[2] != 1 || x->ne[3] != 1)
        return lm_error(LM_EINVAL, "conv1d: x must be 2-D (C, T), has ne[2..3] = %lld, %lld",
                        (long long)x->ne[2], (long long)x->ne[3]);
    const int64_t C = x->ne[0], T = x->ne[1], k = w->ne[0];
    if (k < 1 || w->ne[1] != C || w->ne[2] != 1 || w->ne[3] != 1)
        return lm_error(LM_EINVAL, "conv1d: w is (%lld, %lld, %lld, %lld), expected (k, %lld)",
                        (long long)w->ne[0], (long long)w->ne[1], (long long)w->ne[2],
                        (long long)w->ne[3], (long long)C);
    if (state) {
        if ((s = lm_check_f32_out(state, "conv1d", "state"))) return s;
        if (k < 2)
            return lm_error(LM_EINVAL, "conv1d: state must be NULL for a kernel of %lld tap",
                            (long long)k);
        if (state->ne[0] != C || state->ne[1] != k - 1 || state->ne[2] != 1 || state->ne[3] != 1)
            return lm_error(
                LM_EINVAL, "conv1d: state is (%lld, %lld, %lld, %lld), expected (%lld, %lld)",
                (long long)state->ne[0], (long long)state->ne[1], (long long)state->ne[2],
                (long long)state->ne[3], (long long)C, (long long)(k - 1));
    }
    /* a worker's slice holds one pool chunk's channels at a time */
    int nth = lm_ctx_threads(ctx), nch = lm_pool_chunks(ctx->pool);
    int64_t chunks = (C + 15) / 16, cw_max = (chunks + nch - 1) / nch * 16;
    bool gather = x->nb[0] != sizeof(float);
    int64_t nrows = k + (k - 1) + 1 + (gather ? T : 0);
    size_t slice = lm_round64((size_t)k * sizeof(float *)) +
                   lm_round64((size_t)(nrows * cw_max) * sizeof(float));
    if ((s = lm_ctx_reserve(ctx, (size_t)nth * slice))) return s;
    struct conv_task t = {ctx, y, state, x, w, gather, slice, cw_max};
    lm_pool_run(ctx->pool, conv_task, &t);
    return LM_OK;
}
