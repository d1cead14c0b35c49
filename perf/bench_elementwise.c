/* perf/bench_elementwise.c - row norms and elementwise ops, conv1d and get_rows, through the
 * ops on the best kernel level, at 1 thread and all cores.
 *
 * Cases: rmsnorm, layernorm, silu, gelu (erf and tanh), swiglu and add over 1M floats (1024 rows
 * of 1024: 4-12 MB in all, so the data sits in a 32 MB L3 between calls) and over 16M floats
 * (4096 x 4096: 64 MB per array, streamed from memory every call); conv1d over C = 1024 x
 * T = 512 with k = 3 (LFM2's short conv); get_rows of 512 rows of 576 from an F16 table of
 * 49152 rows (SmolLM2-135M's embedding; 56 MB), with a fresh random index set per call so the
 * rows come from memory.
 *
 * bytes = bytes read + bytes written by the op (weights included); the bar for these
 * memory-bound ops is >= 70% of the measured read bandwidth (perf/peak). flops are nominal:
 * the arithmetic the kernel spells out, each SLEEF exp/erf/tanh call counted as one, so
 * peak_frac stays the memory fraction the bar is about even where SLEEF's cost bounds a case.
 * Each case is validated first: sampled rows (first, middle, last) against the _ref kernels,
 * or the whole output against the ref level for conv1d and get_rows; a mismatch exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"
#include "perf.h"

enum op { RMSNORM, LAYERNORM, SILU, GELU_ERF, GELU_TANH, SWIGLU, ADD, N_OPS };
static const char *op_names[N_OPS] = {"rmsnorm",   "layernorm", "silu", "gelu_erf",
                                      "gelu_tanh", "swiglu",    "add"};
static const double op_bytes[N_OPS] = {8, 8, 8, 8, 8, 12, 12}; /* per element */
static const double op_flops[N_OPS] = {3, 5, 5, 3, 7, 6, 1};   /* per element, nominal */

struct ew_case {
    enum op op;
    struct lm_ctx *ctx;
    struct lm_tensor x, u, y, w, b;
};

static void run_ew(void *arg) {
    struct ew_case *c = arg;
    lm_status s = LM_OK;
    switch (c->op) {
    case RMSNORM: s = lm_rmsnorm(&c->y, &c->x, &c->w, 1e-5f, c->ctx); break;
    case LAYERNORM: s = lm_layernorm(&c->y, &c->x, &c->w, &c->b, 1e-5f, c->ctx); break;
    case SILU: s = lm_silu(&c->y, &c->x, c->ctx); break;
    case GELU_ERF: s = lm_gelu(&c->y, &c->x, LM_GELU_ERF, c->ctx); break;
    case GELU_TANH: s = lm_gelu(&c->y, &c->x, LM_GELU_TANH, c->ctx); break;
    case SWIGLU: s = lm_swiglu(&c->y, &c->x, &c->u, c->ctx); break;
    case ADD: s = lm_add(&c->y, &c->x, &c->u, c->ctx); break;
    default: break;
    }
    if (s) {
        fprintf(stderr, "%s: %s\n", op_names[c->op], lm_last_error());
        exit(1);
    }
}

/* The op's output row r against the reference kernel on the same input row. */
static int check_row(const struct ew_case *c, int64_t r, float *want) {
    int64_t n = c->x.ne[0];
    const float *x = (const float *)lm_row_ptr(&c->x, r), *u = (const float *)lm_row_ptr(&c->u, r);
    const float *y = (const float *)lm_row_ptr(&c->y, r);
    switch (c->op) {
    case RMSNORM: lm_rmsnorm_ref(want, x, c->w.data, n, 1e-5f); break;
    case LAYERNORM: lm_layernorm_ref(want, x, c->w.data, c->b.data, n, 1e-5f); break;
    case SILU: lm_silu_ref(want, x, n); break;
    case GELU_ERF: lm_gelu_erf_ref(want, x, n); break;
    case GELU_TANH: lm_gelu_tanh_ref(want, x, n); break;
    case SWIGLU: lm_swiglu_ref(want, x, u, n); break;
    case ADD: lm_add_ref(want, x, u, n); break;
    default: break;
    }
    for (int64_t i = 0; i < n; i++) {
        /* test-suite tolerances: 1e-6 relative, gelu also 1.2e-7 |x|, layernorm 1e-6 abs */
        double tol = 1e-6 * fabs((double)want[i]) + 1.2e-7 * fabs((double)x[i]) + 1e-6;
        if (!(fabs((double)y[i] - want[i]) <= tol)) {
            fprintf(stderr, "%s: row %lld [%lld] got %.9g want %.9g\n", op_names[c->op],
                    (long long)r, (long long)i, (double)y[i], (double)want[i]);
            return 1;
        }
    }
    return 0;
}

static void fill(float *p, int64_t n, float lo, float hi, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        p[i] = lo + (hi - lo) * (float)(((s * 0x2545F4914F6CDD1Dull) >> 40) * 0x1p-24);
    }
}

static int bench_elementwise(const struct perf_peak *pk, const int *ths, int nth) {
    const int64_t dims[2] = {1024, 4096}; /* square: 1M and 16M floats */
    for (int d = 0; d < 2; d++) {
        const int64_t n = dims[d], N = n * n;
        float *x = lm_aligned_alloc((size_t)N * 4), *u = lm_aligned_alloc((size_t)N * 4),
              *y = lm_aligned_alloc((size_t)N * 4), *w = lm_aligned_alloc((size_t)n * 4),
              *b = lm_aligned_alloc((size_t)n * 4), *want = lm_aligned_alloc((size_t)n * 4);
        if (!x || !u || !y || !w || !b || !want) {
            fprintf(stderr, "bench_elementwise: %s\n", lm_last_error());
            return 1;
        }
        fill(x, N, -6, 6, 1);
        fill(u, N, -2, 2, 2);
        fill(w, n, 0.5f, 1.5f, 3);
        fill(b, n, -0.5f, 0.5f, 4);
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)n, (long long)n);
        for (int t = 0; t < nth; t++) {
            struct lm_ctx *ctx;
            if (lm_ctx_create(ths[t], &ctx)) {
                fprintf(stderr, "bench_elementwise: %s\n", lm_last_error());
                return 1;
            }
            for (int op = 0; op < N_OPS; op++) {
                struct ew_case c = {(enum op)op,
                                    ctx,
                                    lm_tensor_2d(LM_F32, n, n, x),
                                    lm_tensor_2d(LM_F32, n, n, u),
                                    lm_tensor_2d(LM_F32, n, n, y),
                                    lm_tensor_1d(LM_F32, n, w),
                                    lm_tensor_1d(LM_F32, n, b)};
                run_ew(&c);
                if (check_row(&c, 0, want) || check_row(&c, n / 2, want) ||
                    check_row(&c, n - 1, want))
                    return 1;
                double ns = perf_time_ns(run_ew, &c, d ? 0.5 : 0.2);
                double bytes = op_bytes[op] * (double)N + (op == RMSNORM     ? 4.0 * n
                                                           : op == LAYERNORM ? 8.0 * n
                                                                             : 0);
                perf_row(op_names[op], lm_isa_name(lm_ctx_isa(ctx)), shape, ths[t], ns,
                         op_flops[op] * (double)N, bytes, pk);
            }
            lm_ctx_free(ctx);
        }
        lm_aligned_free(x), lm_aligned_free(u), lm_aligned_free(y), lm_aligned_free(w);
        lm_aligned_free(b), lm_aligned_free(want);
    }
    return 0;
}

/* ---- conv1d ------------------------------------------------------------------------------ */

struct conv_case {
    struct lm_ctx *ctx;
    struct lm_tensor y, x, w, st;
};

static void run_conv(void *arg) {
    struct conv_case *c = arg;
    if (lm_conv1d_causal(&c->y, &c->x, &c->w, &c->st, c->ctx)) {
        fprintf(stderr, "conv1d: %s\n", lm_last_error());
        exit(1);
    }
}

static int bench_conv1d(const struct perf_peak *pk, const int *ths, int nth) {
    const int64_t C = 1024, T = 512, k = 3;
    float *x = lm_aligned_alloc(C * T * 4), *y = lm_aligned_alloc(C * T * 4),
          *yr = lm_aligned_alloc(C * T * 4), *w = lm_aligned_alloc(C * k * 4),
          *st = lm_aligned_alloc(C * (k - 1) * 4), *st0 = lm_aligned_alloc(C * (k - 1) * 4);
    if (!x || !y || !yr || !w || !st || !st0) return 1;
    fill(x, C * T, -1, 1, 5);
    fill(w, C * k, -1, 1, 6);
    fill(st0, C * (k - 1), -1, 1, 7);
    struct lm_ctx *ref;
    if (lm_ctx_create(1, &ref) || lm_ctx_set_isa(ref, LM_ISA_REF)) return 1;
    struct conv_case c = {ref, lm_tensor_2d(LM_F32, C, T, yr), lm_tensor_2d(LM_F32, C, T, x),
                          lm_tensor_2d(LM_F32, k, C, w), lm_tensor_2d(LM_F32, C, k - 1, st)};
    memcpy(st, st0, C * (k - 1) * 4);
    run_conv(&c);
    lm_ctx_free(ref);
    c.y = lm_tensor_2d(LM_F32, C, T, y);
    for (int t = 0; t < nth; t++) {
        if (lm_ctx_create(ths[t], &c.ctx)) return 1;
        memcpy(st, st0, C * (k - 1) * 4);
        run_conv(&c);
        for (int64_t i = 0; i < C * T; i++)
            if (!(fabsf(y[i] - yr[i]) <= 2e-6f + 1e-6f * fabsf(yr[i]))) {
                fprintf(stderr, "conv1d: [%lld] got %.9g want %.9g\n", (long long)i, (double)y[i],
                        (double)yr[i]);
                return 1;
            }
        double ns = perf_time_ns(run_conv, &c, 0.2);
        perf_row("conv1d", lm_isa_name(lm_ctx_isa(c.ctx)), "C1024xT512,k3", ths[t], ns,
                 2.0 * k * C * T, 8.0 * C * T + 4.0 * k * C + 8.0 * C * (k - 1), pk);
        lm_ctx_free(c.ctx);
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(yr), lm_aligned_free(w);
    lm_aligned_free(st), lm_aligned_free(st0);
    return 0;
}

/* ---- get_rows ---------------------------------------------------------------------------- */

enum { GR_SETS = 64 };

struct rows_case {
    struct lm_ctx *ctx;
    struct lm_tensor y, table, idx[GR_SETS];
    int next;
};

static void run_rows(void *arg) {
    struct rows_case *c = arg;
    if (lm_get_rows(&c->y, &c->table, &c->idx[c->next], c->ctx)) {
        fprintf(stderr, "get_rows: %s\n", lm_last_error());
        exit(1);
    }
    c->next = (c->next + 1) % GR_SETS;
}

static int bench_get_rows(const struct perf_peak *pk, const int *ths, int nth) {
    const int64_t n = 576, n_rows = 49152, n_idx = 512;
    uint16_t *tab = lm_aligned_alloc((size_t)(n * n_rows) * 2);
    int32_t *idx = lm_aligned_alloc((size_t)(n_idx * GR_SETS) * 4);
    float *y = lm_aligned_alloc((size_t)(n * n_idx) * 4);
    if (!tab || !idx || !y) return 1;
    for (int64_t r = 0; r < n_rows; r += 64) { /* fill in slabs: cheap, distinct rows */
        int64_t m = n_rows - r < 64 ? n_rows - r : 64;
        float *tmp = lm_aligned_alloc((size_t)(n * m) * 4);
        if (!tmp) return 1;
        fill(tmp, n * m, -1, 1, (uint64_t)r + 8);
        for (int64_t i = 0; i < n * m; i++)
            tab[r * n + i] = lm_f32_to_f16(tmp[i]);
        lm_aligned_free(tmp);
    }
    uint64_t s = 99;
    for (int64_t i = 0; i < n_idx * GR_SETS; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        idx[i] = (int32_t)(s % (uint64_t)n_rows);
    }
    struct rows_case c = {.y = lm_tensor_2d(LM_F32, n, n_idx, y),
                          .table = lm_tensor_2d(LM_F16, n, n_rows, tab)};
    for (int i = 0; i < GR_SETS; i++)
        c.idx[i] = lm_tensor_1d(LM_I32, n_idx, idx + i * n_idx);
    for (int t = 0; t < nth; t++) {
        if (lm_ctx_create(ths[t], &c.ctx)) return 1;
        c.next = 0;
        run_rows(&c);
        for (int64_t p = 0; p < n_idx; p++)
            for (int64_t e = 0; e < n; e++)
                if (y[p * n + e] != lm_f16_to_f32(tab[idx[p] * n + e])) {
                    fprintf(stderr, "get_rows: row %lld [%lld] wrong\n", (long long)p,
                            (long long)e);
                    return 1;
                }
        double ns = perf_time_ns(run_rows, &c, 0.2);
        perf_row("get_rows", lm_isa_name(lm_ctx_isa(c.ctx)), "512 of 49152x576", ths[t], ns, 0,
                 (double)n_idx * n * (2 + 4) + n_idx * 4.0, pk);
        lm_ctx_free(c.ctx);
    }
    lm_aligned_free(tab), lm_aligned_free(idx), lm_aligned_free(y);
    return 0;
}

int main(void) {
    struct perf_peak pk;
    perf_peak_get(&pk);
    int ths[8];
    int nth = perf_thread_counts(ths, 8);
    perf_header();
    if (bench_elementwise(&pk, ths, nth)) return 1;
    if (bench_conv1d(&pk, ths, nth)) return 1;
    if (bench_get_rows(&pk, ths, nth)) return 1;
    return 0;
}
