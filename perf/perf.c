/* perf/perf.c - benchmark harness (see perf.h). Peak loops use explicit AVX2 when the CPU has it,
 * compiled per function with target attributes so this file builds for any x86-64. */
#define _GNU_SOURCE
#include "perf.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FMA_ITERS 20000000L
#define BW_BYTES  ((size_t)512 << 20)
#define PEAK_REPS 12 /* best of: a shared machine has slow moments, never fast ones */

/* 12 independent FMA chains in named registers (an array here ends up in memory): enough to
 * cover 4-cycle latency on two FMA ports. */
__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters) {
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
           a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
           a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
           a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    for (long it = 0; it < iters; it++) {
        a0 = _mm256_fmadd_ps(a0, m, c), a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c), a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c), a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c), a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c), a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c), a11 = _mm256_fmadd_ps(a11, m, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

/* Reads n floats as 8 interleaved streams (8 equal parts walked side by side): a kernel that
 * streams several weight rows at once keeps more misses in flight than one sequential stream,
 * and the peak must be the most the memory system gives, not what one stream gets. */
__attribute__((target("avx2"))) static float read_loop_avx2(const float *p, size_t n) {
    const size_t part = n / 8 / 8 * 8;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 16 <= part; i += 16)
        for (int k = 0; k < 8; k += 2) {
            const float *a = p + (size_t)k * part + i, *b = a + part;
            s0 = _mm256_add_ps(s0, _mm256_load_ps(a));
            s1 = _mm256_add_ps(s1, _mm256_load_ps(a + 8));
            s2 = _mm256_add_ps(s2, _mm256_load_ps(b));
            s3 = _mm256_add_ps(s3, _mm256_load_ps(b + 8));
        }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return out[0];
}

struct peak_job {
    int kind; /* 0 fma, 1 read */
    const float *p;
    size_t n;
    volatile float sink;
};

static void *peak_thread(void *arg) {
    struct peak_job *j = arg;
    j->sink = j->kind == 0 ? fma_loop_avx2(FMA_ITERS) : read_loop_avx2(j->p, j->n);
    return NULL;
}

/* Run n jobs concurrently, return wall seconds (best of reps). */
static double run_jobs(struct peak_job *jobs, int n, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        pthread_t t[64];
        uint64_t t0 = lm_time_ns();
        for (int i = 1; i < n; i++)
            pthread_create(&t[i], NULL, peak_thread, &jobs[i]);
        peak_thread(&jobs[0]);
        for (int i = 1; i < n; i++)
            pthread_join(t[i], NULL);
        double s = (double)(lm_time_ns() - t0) * 1e-9;
        if (s < best) best = s;
    }
    return best;
}

void perf_peak_measure(struct perf_peak *pk, int threads) {
    memset(pk, 0, sizeof *pk);
    if (threads < 1) threads = lm_cpu_physical_cores();
    if (threads > 64) threads = 64;
    pk->threads = threads;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
    struct peak_job jobs[64];
    for (int i = 0; i < threads; i++)
        jobs[i] = (struct peak_job){.kind = 0};
    double flops = (double)FMA_ITERS * 12 * 8 * 2;
    pk->gflops_1t = flops / run_jobs(jobs, 1, PEAK_REPS) * 1e-9;
    pk->gflops_all = flops * threads / run_jobs(jobs, threads, PEAK_REPS) * 1e-9;
    float *buf = lm_aligned_alloc(BW_BYTES);
    if (!buf) return;
    size_t n = BW_BYTES / sizeof(float);
    for (size_t i = 0; i < n; i += 1024)
        buf[i] = 1.0f; /* fault every page in */
    jobs[0] = (struct peak_job){.kind = 1, .p = buf, .n = n};
    pk->gbs_1t = (double)BW_BYTES / run_jobs(jobs, 1, PEAK_REPS) * 1e-9;
    for (int i = 0; i < threads; i++)
        jobs[i] = (struct peak_job){.kind = 1, .p = buf + n / threads * i, .n = n / threads};
    pk->gbs_all = (double)BW_BYTES / run_jobs(jobs, threads, PEAK_REPS) * 1e-9;
    lm_aligned_free(buf);
}

void perf_peak_write(const struct perf_peak *p, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "gflops_1t\t%.2f\ngflops_all\t%.2f\ngbs_1t\t%.2f\ngbs_all\t%.2f\nthreads\t%d\n",
            p->gflops_1t, p->gflops_all, p->gbs_1t, p->gbs_all, p->threads);
    fclose(f);
}

void perf_peak_get(struct perf_peak *p) {
    FILE *f = fopen("build/perf/peak.tsv", "r");
    if (f) {
        char key[32];
        double v;
        memset(p, 0, sizeof *p);
        while (fscanf(f, "%31s %lf", key, &v) == 2) {
            if (!strcmp(key, "gflops_1t")) p->gflops_1t = v;
            if (!strcmp(key, "gflops_all")) p->gflops_all = v;
            if (!strcmp(key, "gbs_1t")) p->gbs_1t = v;
            if (!strcmp(key, "gbs_all")) p->gbs_all = v;
            if (!strcmp(key, "threads")) p->threads = (int)v;
        }
        fclose(f);
        if (p->gflops_1t > 0 && p->gbs_1t > 0) return;
    }
    perf_peak_measure(p, 0);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double perf_time_ns(void (*fn)(void *), void *arg, double min_s) {
    enum { MAX = 4096 };
    static double t[MAX];
    fn(arg);
    int n = 0;
    uint64_t start = lm_time_ns();
    while (n < MAX && (n < 5 || (double)(lm_time_ns() - start) * 1e-9 < min_s)) {
        uint64_t t0 = lm_time_ns();
        fn(arg);
        t[n++] = (double)(lm_time_ns() - t0);
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[0];
}

void perf_header(void) {
    printf("op\tdtype\tshape\tthreads\ttime_us\tGFLOP/s\tGB/s\tpeak_frac\tbound\n");
}

void perf_row(const char *op, const char *dtype, const char *shape, int threads, double ns,
              double flops, double bytes, const struct perf_peak *pk) {
    double gf = flops / ns, gb = bytes / ns;
    double pf = threads > 1 ? pk->gflops_all : pk->gflops_1t;
    double pb = threads > 1 ? pk->gbs_all : pk->gbs_1t;
    double ff = pf > 0 ? gf / pf : 0, fb = pb > 0 ? gb / pb : 0;
    printf("%s\t%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.3f\t%s\n", op, dtype, shape, threads, ns * 1e-3, gf,
           gb, ff > fb ? ff : fb, ff > fb ? "compute" : "memory");
    fflush(stdout);
}

int perf_thread_counts(int *out, int max) {
    const char *env = getenv("LMRT_PERF_THREADS");
    int n = 0;
    if (env) {
        char *end;
        for (const char *s = env; *s && n < max; s = end) {
            long v = strtol(s, &end, 10);
            if (end == s) break;
            if (v > 0) out[n++] = (int)v;
            if (*end == ',') end++;
        }
        if (n) return n;
    }
    out[n++] = 1;
    int c = lm_cpu_physical_cores();
    if (c > 1 && n < max) out[n++] = c;
    return n;
}

void perf_flush_caches(void) {
    static uint8_t *junk;
    const size_t n = (size_t)64 << 20;
    if (!junk) junk = lm_aligned_alloc(n);
    if (!junk) return;
    for (size_t i = 0; i < n; i += 64)
        junk[i]++;
}
