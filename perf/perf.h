/* perf/perf.h - the microbenchmark harness: timing, this machine's measured peaks, TSV rows.
 *
 * Every benchmark validates its kernel against the reference before timing it, times the
 * fastest of repeats after a warm-up, and prints one TSV row per case with the fraction of the
 * peak that bounds it (FMA throughput or read bandwidth, measured here by perf/peak).
 */
#ifndef LMRT_PERF_H
#define LMRT_PERF_H

#include "../rt/lmrt.h"

struct perf_peak {
    double gflops_1t, gflops_all; /* f32 FMA GFLOP/s: one core, all cores */
    double gbs_1t, gbs_all;       /* read bandwidth GB/s, buffer far past the caches */
    int threads;                  /* cores used for the _all figures */
};

/* Measure the peaks (about a second). */
void perf_peak_measure(struct perf_peak *p, int threads);
/* build/perf/peak.tsv if perf/peak wrote it, else measure now. */
void perf_peak_get(struct perf_peak *p);
void perf_peak_write(const struct perf_peak *p, const char *path);

/* Fastest ns per call of fn(arg) over repeats lasting at least min_s seconds (and >= 5 calls),
 * after one warm-up call. The fastest, not the median: on a shared machine the slower repeats
 * measure the neighbours, and the peaks it is divided by are best-of measurements too. */
double perf_time_ns(void (*fn)(void *), void *arg, double min_s);

void perf_header(void);
/* One TSV row. flops and bytes are per call; the fraction is of the larger of the two peaks'
 * shares, for the thread count given, and `bound` says which one. */
void perf_row(const char *op, const char *dtype, const char *shape, int threads, double ns,
              double flops, double bytes, const struct perf_peak *pk);

/* Thread counts to run: 1 and the physical core count (LMRT_PERF_THREADS=1,2 overrides). */
int perf_thread_counts(int *out, int max);

/* Evict caches between timed calls that must stream from memory: touch 64 MiB. */
void perf_flush_caches(void);

#endif
