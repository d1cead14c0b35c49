/* perf/bench_pool.c - what the thread pool costs per op, at decode sizes.
 *
 * Decode issues a few hundred small ops per token, each one lm_pool_run, so the pool's own cost
 * per run (publishing the task, claiming chunks, waiting for the last one) must stay far below
 * an op's work. Cases, at each thread count:
 *   - run:    lm_pool_run of a task that does nothing (the pure dispatch and wait);
 *   - matmul: Q4_0 decode (M = 1) at K=576 N=576 and K=576 N=1536 (SmolLM2-135M's shapes), W
 *             resident in cache, so the pool overhead is not hidden behind memory time;
 *   - rmsnorm: one row of 576.
 * Each sample is the mean over a batch of back-to-back calls (as decode issues them); the row
 * on stdout is the fastest sample (the harness's convention), stderr adds the median sample,
 * which shows what neighbours and descheduled workers cost. Only the public API is used, so
 * the same file builds against an older library for a side-by-side run.
 * Validation first: the run task sees every chunk index in [0, nth) exactly once per run, and
 * the ops give the same bits at every thread count as on one thread.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

#define BATCH   64
#define SAMPLES 200

static void die(const char *what) {
    fprintf(stderr, "bench_pool: %s: %s\n", what, lm_last_error());
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* fastest and median ns per call over SAMPLES batches of BATCH calls, after a warm-up batch */
static void time_calls(void (*fn)(void *), void *arg, double *fastest, double *median) {
    static double t[SAMPLES];
    for (int i = 0; i < BATCH; i++)
        fn(arg);
    for (int s = 0; s < SAMPLES; s++) {
        uint64_t t0 = lm_time_ns();
        for (int i = 0; i < BATCH; i++)
            fn(arg);
        t[s] = (double)(lm_time_ns() - t0) / BATCH;
    }
    qsort(t, SAMPLES, sizeof t[0], cmp_double);
    *fastest = t[0];
    *median = t[SAMPLES / 2];
}

/* ---- the empty task ---------------------------------------------------------------------- */

struct count {
    _Atomic int calls[1024];
    _Atomic int nth;
};

static void count_task(void *arg, int ith, int nth) {
    struct count *c = arg;
    atomic_store(&c->nth, nth);
    if (ith >= 0 && ith < 1024) atomic_fetch_add(&c->calls[ith], 1);
}

static void empty_task(void *arg, int ith, int nth) { (void)arg, (void)ith, (void)nth; }

static void run_empty(void *arg) { lm_pool_run(arg, empty_task, NULL); }

static void bench_run(int threads, const struct perf_peak *pk) {
    struct lm_pool *p;
    if (lm_pool_create(threads, &p)) die("pool");
    static struct count c;
    for (int rep = 0; rep < 100; rep++) {
        memset(&c, 0, sizeof c);
        lm_pool_run(p, count_task, &c);
        const int nth = atomic_load(&c.nth);
        if (nth < 1 || nth > 1024) die("run: chunk count out of range");
        for (int i = 0; i < 1024; i++)
            if (atomic_load(&c.calls[i]) != (i < nth)) {
                fprintf(stderr, "bench_pool: chunk %d of %d ran %d times\n", i, nth,
                        atomic_load(&c.calls[i]));
                exit(1);
            }
    }
    double fast, med;
    time_calls(run_empty, p, &fast, &med);
    perf_row("pool_run", "-", "empty task", threads, fast, 0, 0, pk);
    fprintf(stderr, "bench_pool: pool_run empty, %d threads: fastest %.2f us, median %.2f us\n",
            threads, fast * 1e-3, med * 1e-3);
    lm_pool_free(p);
}

/* ---- decode-sized ops -------------------------------------------------------------------- */

struct op_run {
    struct lm_ctx *ctx;
    struct lm_tensor y, x, w;
    bool norm; /* rmsnorm instead of matmul */
};

static void run_op(void *arg) {
    struct op_run *r = arg;
    lm_status s = r->norm ? lm_rmsnorm(&r->y, &r->x, &r->w, 1e-5f, r->ctx)
                          : lm_matmul(&r->y, &r->x, &r->w, r->ctx);
    if (s) die("op");
}

static void bench_op(bool norm, int64_t K, int64_t N, const int *ths, int nth,
                     const struct perf_peak *pk) {
    const enum lm_dtype dt = norm ? LM_F32 : LM_Q4_0;
    const int64_t ny = norm ? K : N; /* y elements */
    const size_t wbytes = norm ? (size_t)K * sizeof(float) : lm_row_size(dt, K) * (size_t)N;
    float *wf = lm_aligned_alloc(sizeof(float) * (size_t)(K * N));
    float *x = lm_aligned_alloc(sizeof(float) * (size_t)K);
    float *y = lm_aligned_alloc(sizeof(float) * (size_t)ny);
    float *y1 = lm_aligned_alloc(sizeof(float) * (size_t)ny);
    uint8_t *wq = lm_aligned_alloc(wbytes);
    if (!wf || !x || !y || !y1 || !wq) die("alloc");
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(K * 31 + N);
    for (int64_t i = 0; i < K * N; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        wf[i] = (float)((double)(s * 0x2545F4914F6CDD1Dull >> 11) * 0x1p-53 - 0.5);
    }
    for (int64_t i = 0; i < K; i++)
        x[i] = (float)(i % 7) * 0.25f - 0.7f;
    struct lm_ctx *ctx;
    if (lm_ctx_create(1, &ctx)) die("context");
    struct op_run r = {.ctx = ctx,
                       .y = lm_tensor_2d(LM_F32, ny, 1, y1),
                       .x = lm_tensor_2d(LM_F32, K, 1, x),
                       .norm = norm};
    if (norm) {
        memcpy(wq, wf, wbytes);
        r.w = lm_tensor_1d(LM_F32, K, wq);
    } else {
        struct lm_tensor src = lm_tensor_2d(LM_F32, K, N, wf);
        r.w = lm_tensor_2d(dt, K, N, wq);
        if (lm_quantize(&r.w, &src, ctx)) die("quantize");
    }
    run_op(&r); /* one thread: the bits every thread count must give */
    lm_ctx_free(ctx);
    char shape[64];
    snprintf(shape, sizeof shape, "decode K=%lld N=%lld M=1", (long long)K, (long long)N);
    if (norm) snprintf(shape, sizeof shape, "decode n=%lld rows=1", (long long)K);
    for (int t = 0; t < nth; t++) {
        if (lm_ctx_create(ths[t], &ctx)) die("context");
        r.ctx = ctx;
        r.y = lm_tensor_2d(LM_F32, ny, 1, y);
        memset(y, 0xff, sizeof(float) * (size_t)ny);
        run_op(&r);
        if (memcmp(y, y1, sizeof(float) * (size_t)ny)) {
            fprintf(stderr, "bench_pool: %s %s: %d threads differ from 1\n",
                    norm ? "rmsnorm" : "matmul", shape, ths[t]);
            exit(1);
        }
        double fast, med;
        time_calls(run_op, &r, &fast, &med);
        const double flops = norm ? 3.0 * (double)K : 2.0 * (double)K * (double)N;
        perf_row(norm ? "rmsnorm" : "matmul", norm ? "f32" : "q4_0", shape, ths[t], fast, flops,
                 (double)wbytes, pk);
        fprintf(stderr, "bench_pool: %s %s, %d threads: fastest %.2f us, median %.2f us\n",
                norm ? "rmsnorm" : "matmul", shape, ths[t], fast * 1e-3, med * 1e-3);
        lm_ctx_free(ctx);
    }
    lm_aligned_free(wf), lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(y1);
    lm_aligned_free(wq);
}

int main(void) {
    struct perf_peak pk;
    perf_peak_get(&pk);
    int ths[8];
    const int nth = perf_thread_counts(ths, 8);
    perf_header();
    for (int t = 0; t < nth; t++)
        bench_run(ths[t], &pk);
    bench_op(false, 576, 576, ths, nth, &pk);
    bench_op(false, 576, 1536, ths, nth, &pk);
    bench_op(true, 576, 1, ths, nth, &pk);
    return 0;
}
