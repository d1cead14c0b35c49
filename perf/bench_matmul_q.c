/* perf/bench_matmul_q.c - lm_matmul with Q8_0, Q4_0 and Q4_1 weights at the best kernel level.
 *
 * Decode: M = 1 against W (K x N) = 576x1536, 1536x576 and 2048x8192, at each thread count.
 * Decode streams W once per call, so the figure that matters is W bytes / time against the
 * machine's read bandwidth (perf_peak_get); the bar is >= 80% of it. W must come from memory,
 * not cache: each case rotates over enough copies of W to total more than 64 MiB, so a copy
 * is evicted before it is used again. bytes = W bytes only (x and y are a few KiB).
 * Prefill: the four matmul shapes of a SmolLM2-135M layer (K 576 -> N 576, 192, 1536 and
 * K 1536 -> N 576) at M = 64 and 512, reported in GFLOP/s (2 M K N; int8 multiply-adds counted
 * as flops) and as the fraction of the f32 FMA peak, W resident in cache. Next to each, OpenBLAS
 * sgemm on the same x and the dequantized W (f32), timed in alternation with ours so both see
 * the same neighbours on a shared machine (the best of 3 rounds each); stderr gets the ratio.
 * `bench_matmul_q decode` or `bench_matmul_q prefill` runs one half.
 * Before timing, each case checks the kernel against the reference level on the same inputs:
 * |y - y_ref| <= (K/32 + 8) * 2^-22 * sum_k |w_k x_k| (see tests/check_matmul_legacy.c).
 * Prints TSV rows (perf_row) on stdout; on stderr, one line per decode case against the bar.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "perf.h"

#define COPY_TOTAL ((size_t)96 << 20) /* > 64 MiB of W copies per case */

struct run {
    struct lm_ctx *ctx;
    struct lm_tensor *w; /* ncopy views, one per copy */
    int ncopy, next;
    struct lm_tensor x, y;
    const float *bx, *bw; /* OpenBLAS operands: x (M, K), dequantized W (N, K), y (M, N) */
    float *by;
    int64_t M, N, K;
};

static void run_once(void *arg) {
    struct run *r = arg;
    lm_matmul(&r->y, &r->x, &r->w[r->next], r->ctx);
    r->next = (r->next + 1) % r->ncopy;
}

static void run_openblas(void *arg) {
    struct run *r = arg;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)r->M, (int)r->N, (int)r->K, 1.0f,
                r->bx, (int)r->K, r->bw, (int)r->K, 0.0f, r->by, (int)r->N);
}

static void die(const char *what) {
    fprintf(stderr, "bench_matmul_q: %s: %s\n", what, lm_last_error());
    exit(1);
}

/* Kernel level vs reference on one problem; exits on a mismatch. */
static void validate(const struct lm_tensor *w, const float *x, int64_t K, int64_t N, int64_t M,
                     struct lm_ctx *best, const char *label) {
    struct lm_ctx *ref;
    if (lm_ctx_create(1, &ref) || lm_ctx_set_isa(ref, LM_ISA_REF)) die("ref context");
    float *y0 = malloc(sizeof(float) * N * M), *y1 = malloc(sizeof(float) * N * M);
    float *wrow = malloc(sizeof(float) * K);
    double *s = calloc((size_t)(N * M), sizeof(double));
    if (!y0 || !y1 || !wrow || !s) die("alloc");
    struct lm_tensor xt = lm_tensor_2d(LM_F32, K, M, (void *)x);
    struct lm_tensor t0 = lm_tensor_2d(LM_F32, N, M, y0), t1 = lm_tensor_2d(LM_F32, N, M, y1);
    if (lm_matmul(&t0, &xt, w, ref) || lm_matmul(&t1, &xt, w, best)) die("matmul");
    for (int64_t n = 0; n < N; n++) {
        struct lm_tensor wr, fr = lm_tensor_1d(LM_F32, K, wrow);
        if (lm_tensor_slice(&wr, w, 1, n, 1) || lm_dequantize(&fr, &wr, ref)) die("dequantize");
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++)
                s[m * N + n] += fabs((double)wrow[k] * x[m * K + k]);
    }
    for (int64_t i = 0; i < N * M; i++) {
        double tol = (double)(K / 32 + 8) * 0x1p-22 * s[i] + 1e-30;
        if (!(fabs((double)y1[i] - y0[i]) <= tol)) {
            fprintf(stderr, "bench_matmul_q: %s: y[%lld] = %g, reference %g (bound %g)\n", label,
                    (long long)i, (double)y1[i], (double)y0[i], tol);
            exit(1);
        }
    }
    free(y0), free(y1), free(wrow), free(s);
    lm_ctx_free(ref);
}

static void bench_case(enum lm_dtype dt, int64_t K, int64_t N, int64_t M, const int *ths, int nth,
                       const struct perf_peak *pk) {
    size_t wbytes = lm_row_size(dt, K) * (size_t)N;
    int ncopy = M == 1 ? (int)(COPY_TOTAL / wbytes) + 1 : 1;
    if (ncopy < 2 && M == 1) ncopy = 2;
    float *wf = lm_aligned_alloc(sizeof(float) * (size_t)(K * N));
    float *x = lm_aligned_alloc(sizeof(float) * (size_t)(K * M));
    float *y = lm_aligned_alloc(sizeof(float) * (size_t)(N * M));
    uint8_t *wq = lm_aligned_alloc(wbytes * (size_t)ncopy);
    struct lm_tensor *wv = calloc((size_t)ncopy, sizeof *wv);
    if (!wf || !x || !y || !wq || !wv) die("alloc");
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(K * 31 + N + dt);
    for (int64_t i = 0; i < K * N; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        wf[i] = (float)((double)(s * 0x2545F4914F6CDD1Dull >> 11) * 0x1p-53 - 0.5);
    }
    for (int64_t i = 0; i < K * M; i++)
        x[i] = sinf((float)i * 0.37f) * (1.0f + (float)(i % 5));
    struct lm_ctx *ctx;
    if (lm_ctx_create(ths[nth - 1], &ctx)) die("context");
    struct lm_tensor src = lm_tensor_2d(LM_F32, K, N, wf);
    wv[0] = lm_tensor_2d(dt, K, N, wq);
    if (lm_quantize(&wv[0], &src, ctx)) die("quantize");
    for (int c = 1; c < ncopy; c++) {
        wv[c] = lm_tensor_2d(dt, K, N, wq + wbytes * (size_t)c);
        memcpy(wv[c].data, wq, wbytes);
    }
    char shape[64];
    snprintf(shape, sizeof shape, "%s K=%lld N=%lld M=%lld", M == 1 ? "decode" : "prefill",
             (long long)K, (long long)N, (long long)M);
    validate(&wv[0], x, K, N, M, ctx, shape);
    /* OpenBLAS gets W as the f32 values our kernels see (dequantized blocks) */
    struct lm_tensor wft = lm_tensor_2d(LM_F32, K, N, wf);
    if (M > 1 && lm_dequantize(&wft, &wv[0], ctx)) die("dequantize");
    lm_ctx_free(ctx);

    for (int t = 0; t < nth; t++) {
        if (lm_ctx_create(ths[t], &ctx)) die("context");
        struct run r = {.ctx = ctx,
                        .w = wv,
                        .ncopy = ncopy,
                        .x = lm_tensor_2d(LM_F32, K, M, x),
                        .y = lm_tensor_2d(LM_F32, N, M, y),
                        .bx = x,
                        .bw = wf,
                        .by = y,
                        .M = M,
                        .N = N,
                        .K = K};
        double flops = 2.0 * (double)K * (double)N * (double)M;
        double bytes = (double)wbytes + (M == 1 ? 0 : 4.0 * (double)(K * M + N * M));
        double ns = 1e30, ns_blas = 1e30;
        if (M == 1) {
            ns = perf_time_ns(run_once, &r, 0.4);
        } else {
            openblas_set_num_threads(ths[t]);
            for (int round = 0; round < 3; round++) { /* alternate: both see the same machine */
                double a = perf_time_ns(run_once, &r, 0.3), b = perf_time_ns(run_openblas, &r, 0.3);
                if (a < ns) ns = a;
                if (b < ns_blas) ns_blas = b;
            }
        }
        perf_row("matmul", lm_dtype_name(dt), shape, ths[t], ns, flops, bytes, pk);
        if (M > 1) {
            perf_row("openblas_sgemm", "f32", shape, ths[t], ns_blas, flops,
                     4.0 * (double)(K * N + K * M + N * M), pk);
            fprintf(stderr, "ratio_vs_openblas\t%s\t%s\t%d threads\t%.2f\n", lm_dtype_name(dt),
                    shape, ths[t], ns_blas / ns);
        }
        if (M == 1) {
            double bw = ths[t] > 1 ? pk->gbs_all : pk->gbs_1t, got = (double)wbytes / ns;
            fprintf(stderr, "bar\t%s\t%s\t%d threads\t%.1f GB/s = %.0f%% of %.1f GB/s\t%s\n",
                    lm_dtype_name(dt), shape, ths[t], got, 100 * got / bw, bw,
                    got >= 0.8 * bw ? "ok" : "BELOW 80%");
        }
        lm_ctx_free(ctx);
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(wq), lm_aligned_free(wf);
    free(wv);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : "";
    bool decode = !*only || !strcmp(only, "decode"), prefill = !*only || !strcmp(only, "prefill");
    if (!decode && !prefill) {
        fprintf(stderr, "usage: bench_matmul_q [decode|prefill]\n");
        return 2;
    }
    struct perf_peak pk;
    perf_peak_get(&pk);
    int ths[8];
    int nth = perf_thread_counts(ths, 8);
    perf_header();
    const enum lm_dtype dts[3] = {LM_Q8_0, LM_Q4_0, LM_Q4_1};
    const int64_t shapes[3][2] = {{576, 1536}, {1536, 576}, {2048, 8192}};
    for (int d = 0; d < 3 && decode; d++)
        for (int s = 0; s < 3; s++)
            bench_case(dts[d], shapes[s][0], shapes[s][1], 1, ths, nth, &pk);
    /* SmolLM2-135M: q/o projections, k/v projections, gate/up, down */
    const int64_t pshapes[4][2] = {{576, 576}, {576, 192}, {576, 1536}, {1536, 576}};
    const int64_t pms[2] = {64, 512};
    for (int d = 0; d < 3 && prefill; d++)
        for (int mi = 0; mi < 2; mi++)
            for (int s = 0; s < 4; s++)
                bench_case(dts[d], pshapes[s][0], pshapes[s][1], pms[mi], ths, nth, &pk);
    return 0;
}
