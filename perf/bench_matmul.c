/* perf/bench_matmul.c - lm_matmul with F32, F16 and BF16 weights: prefill GEMM and decode GEMV.
 *
 * Cases (shape column "M<m> K<k> N<n>": y (N, M) = x (K, M) W^T with W (K, N)):
 * - f32 GEMM 1024^3, ours ("matmul") and OpenBLAS cblas_sgemm ("openblas_sgemm", same layout:
 *   RowMajor, NoTrans x, Trans W) timed alternately in the same run for each thread count; the
 *   ratio ours / OpenBLAS (GFLOP/s) and our 2-thread / 1-thread speed-up go to stderr.
 * - prefill M=512 with W 576x1536 and 1536x576 (K x N), f32/f16/bf16.
 * - decode M=1 with W 576x1536, 1536x576, 2048x8192, f32/f16/bf16. bytes = W bytes, and W is
 *   out of cache: every call reads the next of enough copies of W to span > 96 MiB.
 * Every case is first checked (its last 40 rows) against the reference kernels (double
 * accumulation) with the bound |got - want| <= (K + 2) * 2^-24 * sum_k |x_k w_k| of
 * tests/check_matmul.c, or for a kernel that splits x into bf16 hi + lo (AVX512-BF16) the
 * bound its file states, (2^-15 + (K + 8) * 1.02 * 2^-24) * sum_k |x_k w_k| + a tiny term.
 * "matmul" is the best kernel level of this CPU (lm_isa_select: LMRT_ISA forces one), named on
 * stderr; where that is above avx2, each case also runs the avx2 level as "matmul_avx2".
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/kernels.h"
#include "perf.h"

#define MIN_S 0.3 /* seconds of repeats per timing */

static void die(const char *what) {
    fprintf(stderr, "bench_matmul: %s: %s\n", what, lm_last_error());
    exit(1);
}

static void *xalloc(size_t n) {
    void *p = lm_aligned_alloc(n);
    if (!p) die("alloc");
    return p;
}

static struct lm_ctx *make_ctx(int threads, enum lm_isa isa) {
    struct lm_ctx *ctx;
    if (lm_ctx_create(threads, &ctx) || lm_ctx_set_isa(ctx, isa)) die("context");
    return ctx;
}

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) { /* uniform [-1, 1) */
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * 0x1p-23) - 1.0f;
}

/* W (K, N) of dtype dt with random values, plus its f32 widening (for checks and OpenBLAS). */
static void make_w(enum lm_dtype dt, int64_t K, int64_t N, void **w, float **wf) {
    *wf = xalloc((size_t)(K * N) * 4);
    *w = xalloc(lm_row_size(dt, K) * (size_t)N);
    for (int64_t i = 0; i < K * N; i++) {
        float v = frand();
        if (dt == LM_F16) {
            ((uint16_t *)*w)[i] = lm_f32_to_f16(v);
            v = lm_f16_to_f32(((uint16_t *)*w)[i]);
        } else if (dt == LM_BF16) {
            ((uint16_t *)*w)[i] = lm_f32_to_bf16(v);
            v = lm_bf16_to_f32(((uint16_t *)*w)[i]);
        } else {
            ((float *)*w)[i] = v;
        }
        (*wf)[i] = v;
    }
}

/* Check the last (up to) 40 rows of got (N, M) against the reference level (all rows would take
 * seconds in double; the last rows hold the edge tiles). The bound needs sum_k |x_k w_k|,
 * computed by the reference on |x| and |W| widened to f32. */
static void validate(const char *what, const float *got, const float *x, const void *w,
                     const float *wf, enum lm_dtype dt, int64_t M, int64_t K, int64_t N,
                     bool split) {
    int64_t r0 = M > 40 ? M - 40 : 0;
    got += r0 * N, x += r0 * K, M -= r0;
    struct lm_ctx *ref = make_ctx(0, LM_ISA_REF);
    float *want = xalloc((size_t)(M * N) * 4), *bound = xalloc((size_t)(M * N) * 4);
    float *ax = xalloc((size_t)(M * K) * 4), *aw = xalloc((size_t)(K * N) * 4);
    for (int64_t i = 0; i < M * K; i++)
        ax[i] = fabsf(x[i]);
    for (int64_t i = 0; i < K * N; i++)
        aw[i] = fabsf(wf[i]);
    struct lm_tensor tx = lm_tensor_2d(LM_F32, K, M, (void *)x),
                     tw = lm_tensor_2d(dt, K, N, (void *)w);
    struct lm_tensor ty = lm_tensor_2d(LM_F32, N, M, want);
    struct lm_tensor tax = lm_tensor_2d(LM_F32, K, M, ax), taw = lm_tensor_2d(LM_F32, K, N, aw);
    struct lm_tensor tb = lm_tensor_2d(LM_F32, N, M, bound);
    if (lm_matmul(&ty, &tx, &tw, ref) || lm_matmul(&tb, &tax, &taw, ref)) die("reference");
    double worst = 0;
    for (int64_t i = 0; i < M * N; i++) {
        double tol = split ? (0x1p-15 + (double)(K + 8) * 1.02 * 0x1p-24) * bound[i] +
                                 0x1p-124 * (double)(4 * K + 16) + 1e-30
                           : (double)(K + 2) * 0x1p-24 * bound[i] + 1e-30;
        double e = fabs((double)got[i] - want[i]) / tol;
        if (!(e <= worst)) worst = e;
    }
    if (!(worst <= 1.0)) {
        fprintf(stderr, "bench_matmul: %s: error %.3g x the bound\n", what, worst);
        exit(1);
    }
    lm_aligned_free(want), lm_aligned_free(bound), lm_aligned_free(ax), lm_aligned_free(aw);
    lm_ctx_free(ref);
}

/* ---- one timed call ---------------------------------------------------------------------- */

struct job {
    struct lm_ctx *ctx;
    struct lm_tensor y, x;
    struct lm_tensor *w; /* ncopies views of W (identical contents), used in turn */
    int ncopies, next;
    const float *bx, *bw; /* OpenBLAS operands */
    float *by;
    int64_t M, N, K;
};

static void run_ours(void *arg) {
    struct job *j = arg;
    if (lm_matmul(&j->y, &j->x, &j->w[j->next], j->ctx)) die("matmul");
    j->next = (j->next + 1) % j->ncopies;
}

static void run_openblas(void *arg) {
    struct job *j = arg;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->M, (int)j->N, (int)j->K, 1.0f,
                j->bx, (int)j->K, j->bw, (int)j->K, 0.0f, j->by, (int)j->N);
}

/* ---- cases ------------------------------------------------------------------------------- */

static enum lm_isa best; /* the level "matmul" runs */

/* Levels to time: the best one, and avx2 below it when the best is higher. */
static int levels(enum lm_isa out[2], const char *names[2]) {
    int n = 0;
    out[n] = best, names[n++] = "matmul";
    if (best != LM_ISA_AVX2 && best != LM_ISA_REF && lm_isa_available(LM_ISA_AVX2))
        out[n] = LM_ISA_AVX2, names[n++] = "matmul_avx2";
    return n;
}

static bool split_kernel(enum lm_isa isa, enum lm_dtype dt) {
    return lm_kernels_get(isa)->mm[dt].prep != NULL;
}

static void gemm_vs_openblas(const struct perf_peak *pk, const int *th, int nth) {
    const int64_t M = 1024, N = 1024, K = 1024;
    void *w;
    float *wf, *x = xalloc((size_t)(M * K) * 4), *y = xalloc((size_t)(M * N) * 4);
    float *yb = xalloc((size_t)(M * N) * 4);
    make_w(LM_F32, K, N, &w, &wf);
    for (int64_t i = 0; i < M * K; i++)
        x[i] = frand();
    struct lm_tensor tw = lm_tensor_2d(LM_F32, K, N, w);
    struct job j = {.x = lm_tensor_2d(LM_F32, K, M, x),
                    .y = lm_tensor_2d(LM_F32, N, M, y),
                    .w = &tw,
                    .ncopies = 1,
                    .bx = x,
                    .bw = wf,
                    .by = yb,
                    .M = M,
                    .N = N,
                    .K = K};
    double flops = 2.0 * M * N * K, bytes = (double)(M * K + K * N + M * N) * 4;
    double ours_1t = 0;
    for (int t = 0; t < nth; t++) {
        j.ctx = make_ctx(th[t], best);
        openblas_set_num_threads(th[t]);
        run_ours(&j), run_openblas(&j);
        if (t == 0) {
            validate("f32 1024^3", y, x, w, wf, LM_F32, M, K, N, false);
            validate("openblas 1024^3", yb, x, w, wf, LM_F32, M, K, N, false);
        }
        double ns_ours = 1e30, ns_blas = 1e30;
        for (int round = 0; round < 3; round++) { /* alternate: both see the same machine */
            double a = perf_time_ns(run_ours, &j, MIN_S), b = perf_time_ns(run_openblas, &j, MIN_S);
            if (a < ns_ours) ns_ours = a;
            if (b < ns_blas) ns_blas = b;
        }
        perf_row("matmul", "f32", "M1024 K1024 N1024", th[t], ns_ours, flops, bytes, pk);
        perf_row("openblas_sgemm", "f32", "M1024 K1024 N1024", th[t], ns_blas, flops, bytes, pk);
        fprintf(stderr, "ratio_vs_openblas\tf32\tM1024 K1024 N1024\t%d threads\t%.3f\t%s\n", th[t],
                ns_blas / ns_ours, lm_isa_name(best));
        if (t == 0)
            ours_1t = ns_ours;
        else
            fprintf(stderr, "speedup_vs_1_thread\tf32\tM1024 K1024 N1024\t%d threads\t%.3f\n",
                    th[t], ours_1t / ns_ours);
        lm_ctx_free(j.ctx);
    }
    lm_aligned_free(w), lm_aligned_free(wf), lm_aligned_free(x), lm_aligned_free(y);
    lm_aligned_free(yb);
}

/* M x (K, N) with W of dtype dt; cold: rotate over copies of W spanning > 96 MiB. */
static void matmul_case(const struct perf_peak *pk, const int *th, int nth, enum lm_dtype dt,
                        int64_t M, int64_t K, int64_t N, bool cold) {
    void *w;
    float *wf, *x = xalloc((size_t)(M * K) * 4), *y = xalloc((size_t)(M * N) * 4);
    make_w(dt, K, N, &w, &wf);
    for (int64_t i = 0; i < M * K; i++)
        x[i] = frand();
    size_t wbytes = lm_row_size(dt, K) * (size_t)N;
    int ncopies = cold ? (int)(((size_t)96 << 20) / wbytes) + 2 : 1;
    struct lm_tensor *tw = calloc((size_t)ncopies, sizeof *tw);
    if (!tw) die("alloc");
    tw[0] = lm_tensor_2d(dt, K, N, w);
    for (int c = 1; c < ncopies; c++) {
        void *wc = xalloc(wbytes);
        memcpy(wc, w, wbytes);
        tw[c] = lm_tensor_2d(dt, K, N, wc);
    }
    struct job j = {.x = lm_tensor_2d(LM_F32, K, M, x),
                    .y = lm_tensor_2d(LM_F32, N, M, y),
                    .w = tw,
                    .ncopies = ncopies,
                    .M = M,
                    .N = N,
                    .K = K};
    char shape[64];
    snprintf(shape, sizeof shape, "M%lld K%lld N%lld", (long long)M, (long long)K, (long long)N);
    double flops = 2.0 * M * N * K;
    double bytes = cold ? (double)wbytes : (double)wbytes + (double)(M * K + M * N) * 4;
    enum lm_isa lv[2];
    const char *names[2];
    int nl = levels(lv, names);
    for (int l = 0; l < nl; l++)
        for (int t = 0; t < nth; t++) {
            j.ctx = make_ctx(th[t], lv[l]);
            if (t == 0) {
                run_ours(&j);
                validate(shape, y, x, w, wf, dt, M, K, N, split_kernel(lv[l], dt));
            }
            perf_row(names[l], lm_dtype_name(dt), shape, th[t], perf_time_ns(run_ours, &j, MIN_S),
                     flops, bytes, pk);
            lm_ctx_free(j.ctx);
        }
    for (int c = 0; c < ncopies; c++)
        lm_aligned_free(tw[c].data);
    free(tw);
    lm_aligned_free(wf), lm_aligned_free(x), lm_aligned_free(y);
}

int main(void) {
    struct perf_peak pk;
    perf_peak_get(&pk);
    int th[8];
    int nth = perf_thread_counts(th, 8);
    if (lm_isa_select(&best)) die("LMRT_ISA");
    perf_header();
    fprintf(stderr, "bench_matmul: kernels %s, OpenBLAS core %s\n", lm_isa_name(best),
            openblas_get_corename());
    gemm_vs_openblas(&pk, th, nth);
    const enum lm_dtype dts[3] = {LM_F32, LM_F16, LM_BF16};
    const int64_t prefill[2][2] = {{576, 1536}, {1536, 576}};
    const int64_t decode[3][2] = {{576, 1536}, {1536, 576}, {2048, 8192}};
    for (int d = 0; d < 3; d++)
        for (int s = 0; s < 2; s++)
            matmul_case(&pk, th, nth, dts[d], 512, prefill[s][0], prefill[s][1], false);
    for (int d = 0; d < 3; d++)
        for (int s = 0; s < 3; s++)
            matmul_case(&pk, th, nth, dts[d], 1, decode[s][0], decode[s][1], true);
    return 0;
}
