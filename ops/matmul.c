/* ops/matmul.c - y (N, M) = x (K, M) W^T for W (K, N) of any dtype; x, y F32.
 *
 * Two tasks on the pool. Phase 1: chunks prepare their share of x rows in the format the
 * level's kernel reads (8-bit blocks for quantized W; F32 copies only when x is strided); with
 * fewer rows than chunks (decode) the caller does it alone. Phase 2, once phase 1 has ended:
 * chunks split the N output columns in multiples of the kernel's n_step and run tile() over
 * all M rows, so each W row is read once per call (decode is bandwidth-bound on
 * W). The float reference kernels here accumulate in double: the accurate side of the tests.
 */
#include "../simd/quant_k.h"
#include "../simd/quant_legacy.h"
#include "ops.h"

/* ---- reference tiles for the float dtypes ------------------------------------------------ */

/* W element k of a float-dtype row, exactly as stored */
static inline double w_at(const uint8_t *w, enum lm_dtype t, int64_t k) {
    switch (t) {
    case LM_F16: return lm_f16_to_f32(((const uint16_t *)w)[k]);
    case LM_BF16: return lm_bf16_to_f32(((const uint16_t *)w)[k]);
    default: return ((const float *)w)[k];
    }
}

static void mm_tile_float_ref(const struct lm_mm *a, int64_t n0, int64_t n1, enum lm_dtype t) {
    for (int64_t m = 0; m < a->M; m++) {
        const float *x = (const float *)(a->x + (size_t)m * a->ldx);
        for (int64_t n = n0; n < n1; n++) {
            const uint8_t *w = a->w + (size_t)n * a->ldw;
            double acc = 0;
            for (int64_t k = 0; k < a->K; k++)
                acc += (double)x[k] * w_at(w, t, k);
            a->y[m * a->ldy + n] = (float)acc;
        }
    }
}

static void mm_tile_f32_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    mm_tile_float_ref(a, n0, n1, LM_F32);
}

static void mm_tile_f16_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    mm_tile_float_ref(a, n0, n1, LM_F16);
}

static void mm_tile_bf16_ref(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch) {
    (void)scratch;
    mm_tile_float_ref(a, n0, n1, LM_BF16);
}

void lm_mm_fill_ref(struct lm_kernels *k) {
    k->mm[LM_F32] = (struct lm_mm_kernel){.tile = mm_tile_f32_ref, .n_step = 1};
    k->mm[LM_F16] = (struct lm_mm_kernel){.tile = mm_tile_f16_ref, .n_step = 1};
    k->mm[LM_BF16] = (struct lm_mm_kernel){.tile = mm_tile_bf16_ref, .n_step = 1};
    /* quantized dtypes: ops/matmul_<dtype>.c */
    lm_mm_k_fill_ref(k); /* Q4_K, Q5_K, Q6_K: ops/matmul_k.c */
    k->mm[LM_Q8_0] = (struct lm_mm_kernel){.prep = lm_prep_q8x_ref,
                                           .prep_size = lm_prep_q8x_size,
                                           .tile = lm_mm_q8_0_ref,
                                           .n_step = 1};
    k->mm[LM_Q4_0] = (struct lm_mm_kernel){.prep = lm_prep_q8x_ref,
                                           .prep_size = lm_prep_q8x_size,
                                           .tile = lm_mm_q4_0_ref,
                                           .n_step = 1};
    k->mm[LM_Q4_1] = (struct lm_mm_kernel){.prep = lm_prep_q8xs_ref,
                                           .prep_size = lm_prep_q8xs_size,
                                           .tile = lm_mm_q4_1_ref,
                                           .n_step = 1};
}

/* ---- the op ------------------------------------------------------------------------------ */

struct mm_task {
    struct lm_ctx *ctx;
    const struct lm_mm_kernel *kern;
    struct lm_mm mm;
    const struct lm_tensor *x;
    uint8_t *xprep;   /* prepared rows, or NULL when x is read in place */
    uint8_t *scratch; /* one slice of scratch_each bytes per worker */
    size_t scratch_each;
};

/* Rows [r0, r1) of x in the format the kernel reads; tmp gathers a strided row. */
static void prep_rows(const struct mm_task *t, int64_t r0, int64_t r1, float *tmp) {
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = lm_row_f32(t->x, r, tmp);
        uint8_t *dst = t->xprep + (size_t)r * t->mm.ldx;
        if (t->kern->prep)
            t->kern->prep(dst, xr, t->mm.K);
        else
            t->ctx->k->to_f32[LM_F32]((float *)dst, xr, t->mm.K);
    }
}

/* Phase 1: chunk ith's share of the x rows. */
static void mm_prep_task(void *arg, int ith, int nth) {
    struct mm_task *t = arg;
    int64_t r0, r1;
    lm_split(t->mm.M, 1, ith, nth, &r0, &r1);
    prep_rows(t, r0, r1, (float *)(t->scratch + (size_t)lm_pool_worker() * t->scratch_each));
}

/* Phase 2: chunk ith's share of the output columns over all M rows. */
static void mm_task(void *arg, int ith, int nth) {
    struct mm_task *t = arg;
    int64_t n0, n1;
    lm_split(t->mm.N, t->kern->n_step, ith, nth, &n0, &n1);
    if (n0 < n1)
        t->kern->tile(&t->mm, n0, n1, t->scratch + (size_t)lm_pool_worker() * t->scratch_each);
}

/* Rows of t (over ne[1..3]) are evenly spaced: row r at data + r * nb[1]. */
static bool rows_uniform(const struct lm_tensor *t) {
    return (t->ne[2] == 1 || t->nb[2] == t->nb[1] * t->ne[1]) &&
           (t->ne[3] == 1 || t->nb[3] == t->nb[2] * t->ne[2]);
}

lm_status lm_matmul(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                    struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "matmul")) || (s = lm_check_f32(x, "matmul", "x")) ||
        (s = lm_check_f32_out(y, "matmul", "y")))
        return s;
    if (!w || !w->data) return lm_error(LM_EINVAL, "matmul: W is NULL");
    const struct lm_dtype_info *wi = lm_dtype_info(w->dtype);
    const struct lm_mm_kernel *kern = wi ? &ctx->k->mm[w->dtype] : NULL;
    if (!kern || !kern->tile)
        return lm_error(LM_EUNSUPPORTED, "matmul: no kernel for %s weights%s%s",
                        lm_dtype_name(w->dtype), w->name ? " in " : "", w->name ? w->name : "");
    const char *wn = w->name ? w->name : "W";
    if (w->ne[2] != 1 || w->ne[3] != 1)
        return lm_error(LM_EINVAL, "matmul: %s must be 2-D, has ne[2..3] = %lld, %lld", wn,
                        (long long)w->ne[2], (long long)w->ne[3]);
    if (x->ne[0] != w->ne[0])
        return lm_error(LM_EINVAL, "matmul: x rows have %lld elements, %s rows %lld",
                        (long long)x->ne[0], wn, (long long)w->ne[0]);
    if (y->ne[0] != w->ne[1] || y->ne[1] != x->ne[1] || y->ne[2] != x->ne[2] ||
        y->ne[3] != x->ne[3])
        return lm_error(
            LM_EINVAL, "matmul: y is (%lld, %lld, %lld, %lld), expected (%lld, %lld, %lld, %lld)",
            (long long)y->ne[0], (long long)y->ne[1], (long long)y->ne[2], (long long)y->ne[3],
            (long long)w->ne[1], (long long)x->ne[1], (long long)x->ne[2], (long long)x->ne[3]);
    if (w->ne[0] % wi->blck)
        return lm_error(
            LM_EINVAL, "matmul: %s rows of %lld elements are not a whole number of %s blocks of %d",
            wn, (long long)w->ne[0], wi->name, (int)wi->blck);
    if (w->nb[0] != (int64_t)wi->size)
        return lm_error(LM_EINVAL, "matmul: %s rows must be contiguous", wn);
    if (!rows_uniform(y)) return lm_error(LM_EINVAL, "matmul: y rows must be evenly spaced");

    int nth = lm_ctx_threads(ctx);
    int64_t M = lm_tensor_nrows(x), K = x->ne[0];
    bool in_place = !kern->prep && x->nb[0] == sizeof(float) && rows_uniform(x);
    size_t ldx = kern->prep ? kern->prep_size(K) : (size_t)K * sizeof(float);
    size_t prep_bytes = in_place ? 0 : lm_round64(ldx * (size_t)M);
    size_t each = kern->scratch_size ? kern->scratch_size(M, K) : 0;
    if (each < (size_t)K * sizeof(float)) each = (size_t)K * sizeof(float); /* gather buffer */
    each = lm_round64(each);
    if ((s = lm_ctx_reserve(ctx, prep_bytes + each * (size_t)nth))) return s;

    struct mm_task t = {
        .ctx = ctx,
        .kern = kern,
        .mm = {.y = y->data,
               .ldy = y->nb[1] / (int64_t)sizeof(float),
               .w = w->data,
               .ldw = (size_t)w->nb[1],
               .x = in_place ? x->data : ctx->work,
               .ldx = in_place ? (size_t)x->nb[1] : ldx,
               .M = M,
               .N = w->ne[1],
               .K = K},
        .x = x,
        .xprep = in_place ? NULL : ctx->work,
        .scratch = ctx->work + prep_bytes,
        .scratch_each = each,
    };
    /* Fewer rows than chunks (decode): one row's prep costs less than starting a run. */
    if (t.xprep && M < lm_pool_chunks(ctx->pool))
        prep_rows(&t, 0, M, (float *)t.scratch);
    else if (t.xprep)
        lm_pool_run(ctx->pool, mm_prep_task, &t);
    lm_pool_run(ctx->pool, mm_task, &t);
    return LM_OK;
}
