/* perf/bench_open.c - opening model files to a ready index: lm_gguf_open / lm_st_open, then
 * looking up every tensor by name (what a model loader does before its first forward).
 *
 * Cases: SmolLM2-135M's GGUF (98 MB, 272 tensors, 33 keys with a 49152-string vocabulary and
 * 48900 merges) and all-MiniLM-L6-v2's model.safetensors (91 MB, 104 tensors). Each is opened
 * and closed 20 times after one warm-up; the row reports the median. RSS (/proc/self/statm)
 * is read before an open and after its lookups, with the handle still open: the readers touch
 * only the header pages, so the growth should be a few MB, not the size of the weights.
 *
 * stdout: one perf TSV row per case (time_us = median; GB/s = header bytes parsed per second;
 * no FLOPs and no peak fraction: this is latency, bound by parsing). stderr: one "bar" line per
 * case, open time against 20 ms and RSS growth against the file size.
 * Models come from $LMRT_MODELS (default build/models; tools/fetch_models.sh); a missing model
 * is an error (exit 1).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../rt/gguf.h"
#include "../rt/safetensors.h"
#include "perf.h"

#define RUNS   20
#define BAR_MS 20.0

static size_t rss_bytes(void) {
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void die(const char *what) {
    fprintf(stderr, "bench_open: %s: %s\n", what, lm_last_error());
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct result {
    double median_ns;
    size_t rss_growth, file_size, header_bytes;
    int64_t n_tensors;
};

/* Open + look up every tensor; keep the handle open when keep != NULL. */
static void open_gguf(const char *path, struct lm_gguf **keep, struct result *r) {
    struct lm_gguf *g;
    if (lm_gguf_open(path, &g)) die(path);
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        struct lm_gguf_tensor_info ti;
        struct lm_tensor t;
        if (lm_gguf_tensor_info(g, i, &ti) || lm_gguf_find_tensor(g, ti.name, &t)) die(path);
    }
    r->n_tensors = lm_gguf_n_tensors(g);
    r->header_bytes = g->data_offset[0];
    if (keep)
        *keep = g;
    else
        lm_gguf_close(g);
}

static void open_st(const char *path, struct lm_st **keep, struct result *r) {
    struct lm_st *st;
    if (lm_st_open(path, &st)) die(path);
    size_t data_at = 0;
    for (int64_t i = 0; i < lm_st_n_tensors(st); i++) {
        struct lm_st_tensor_info ti;
        struct lm_tensor t;
        if (lm_st_tensor_info(st, i, &ti)) die(path);
        lm_status s = lm_st_find_tensor(st, ti.name, &t);
        if (s && s != LM_EUNSUPPORTED) die(path);
        data_at = ti.file_offset - ti.begin;
    }
    r->n_tensors = lm_st_n_tensors(st);
    r->header_bytes = data_at;
    if (keep)
        *keep = st;
    else
        lm_st_close(st);
}

static void bench(const char *name, const char *dtype, const char *path, bool gguf) {
    if (access(path, R_OK) != 0) {
        fprintf(stderr,
                "bench_open: %s is missing: run tools/fetch_models.sh (or set "
                "LMRT_MODELS)\n",
                path);
        exit(1);
    }
    struct result r = {0};
    struct stat sb;
    if (stat(path, &sb) == 0) r.file_size = (size_t)sb.st_size;
    /* RSS growth of one open with its handle held */
    struct lm_gguf *g = NULL;
    struct lm_st *st = NULL;
    size_t rss0 = rss_bytes();
    if (gguf)
        open_gguf(path, &g, &r);
    else
        open_st(path, &st, &r);
    size_t rss1 = rss_bytes();
    r.rss_growth = rss1 > rss0 ? rss1 - rss0 : 0;
    lm_gguf_close(g);
    lm_st_close(st);
    double ns[RUNS];
    for (int k = 0; k < RUNS; k++) {
        uint64_t t0 = lm_time_ns();
        if (gguf)
            open_gguf(path, NULL, &r);
        else
            open_st(path, NULL, &r);
        ns[k] = (double)(lm_time_ns() - t0);
    }
    qsort(ns, RUNS, sizeof ns[0], cmp_double);
    r.median_ns = (ns[RUNS / 2 - 1] + ns[RUNS / 2]) / 2;
    char shape[64];
    snprintf(shape, sizeof shape, "%lld tensors", (long long)r.n_tensors);
    printf("%s\t%s\t%s\t1\t%.2f\t0.00\t%.2f\t-\tlatency\n", name, dtype, shape, r.median_ns * 1e-3,
           (double)r.header_bytes / r.median_ns);
    fflush(stdout);
    double ms = r.median_ns * 1e-6, mb = 1.0 / (1 << 20);
    fprintf(stderr,
            "bar\t%s\topen + %lld lookups %.2f ms (median of %d) vs %.0f ms\t%s\tRSS +%.1f "
            "MB = %.1f%% of the %.1f MB file\t%s\n",
            name, (long long)r.n_tensors, ms, RUNS, BAR_MS, ms < BAR_MS ? "ok" : "OVER",
            (double)r.rss_growth * mb, 100.0 * (double)r.rss_growth / (double)r.file_size,
            (double)r.file_size * mb, r.rss_growth < r.file_size / 10 ? "ok" : "TOUCHES WEIGHTS");
}

int main(void) {
    const char *dir = getenv("LMRT_MODELS");
    if (!dir || !*dir) dir = "build/models";
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
    snprintf(p2, sizeof p2, "%s/minilm/model.safetensors", dir);
    perf_header();
    bench("open_gguf", "q4_1", p1, true);
    bench("open_safetensors", "f32", p2, false);
    return 0;
}
