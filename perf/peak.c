/* perf/peak.c - measure this machine's f32 FMA throughput and read bandwidth (1 core and all
 * physical cores), print them, and save build/perf/peak.tsv for the other benchmarks. */
#include <stdio.h>

#include "perf.h"

int main(void) {
    struct perf_peak p;
    perf_peak_measure(&p, 0);
    printf("peak\tGFLOP/s f32 FMA\t1 thread %.1f\t%d threads %.1f\n", p.gflops_1t, p.threads,
           p.gflops_all);
    printf("peak\tGB/s read\t1 thread %.1f\t%d threads %.1f\n", p.gbs_1t, p.threads, p.gbs_all);
    perf_peak_write(&p, "build/perf/peak.tsv");
    return p.gflops_1t > 0 ? 0 : 1;
}
