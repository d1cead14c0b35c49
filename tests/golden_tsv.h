/* tests/golden_tsv.h - reading the reader golden tables (tests/data/readers/, written by
 * tools/gen_reader_golden.py) in check_gguf.c and check_safetensors.c: one fact per line,
 * tab-separated fields, strings and bytes as lowercase hex. Also where the real models are.
 * Header-only (static functions): two suites share it.
 */
#ifndef LMRT_GOLDEN_TSV_H
#define LMRT_GOLDEN_TSV_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define GT_MAX_FIELDS 10

struct gt_file {
    FILE *f;
    char *line;
    size_t cap;
    int n;                    /* fields in the current line */
    char *fld[GT_MAX_FIELDS]; /* NUL-terminated, inside line */
    int lineno;
    const char *path;
};

static inline void gt_open(struct gt_file *g, const char *path) {
    memset(g, 0, sizeof *g);
    g->path = path;
    g->f = fopen(path, "r");
    ck_assert_msg(g->f != NULL, "%s: cannot open (run from the repository root)", path);
}

/* Next line split into fields; false at the end. */
static inline bool gt_next(struct gt_file *g) {
    ssize_t n = getline(&g->line, &g->cap, g->f);
    if (n < 0) return false;
    g->lineno++;
    if (n && g->line[n - 1] == '\n') g->line[--n] = 0;
    g->n = 0;
    char *p = g->line;
    for (;;) {
        ck_assert_msg(g->n < GT_MAX_FIELDS, "%s:%d: too many fields", g->path, g->lineno);
        g->fld[g->n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    return true;
}

static inline void gt_close(struct gt_file *g) {
    fclose(g->f);
    free(g->line);
}

/* Decode hex into a malloc'd buffer (NUL-terminated); *n = bytes. */
static inline unsigned char *gt_unhex(const char *h, size_t *n) {
    size_t len = strlen(h);
    ck_assert_msg(len % 2 == 0, "odd hex length %zu", len);
    unsigned char *out = malloc(len / 2 + 1);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    out[len / 2] = 0;
    *n = len / 2;
    return out;
}

/* Compare n bytes at p with hex h (whose length says how many). */
static inline void gt_assert_bytes(const char *label, const void *p, size_t n, const char *h) {
    size_t hn;
    unsigned char *want = gt_unhex(h, &hn);
    ck_assert_msg(hn == n, "%s: %zu bytes, golden has %zu", label, n, hn);
    ck_assert_msg(!memcmp(p, want, n), "%s: bytes differ from the golden table", label);
    free(want);
}

static inline uint64_t gt_fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}
#define GT_FNV_INIT 0xcbf29ce484222325ull

/* Resident set size in bytes (/proc/self/statm). */
static inline size_t gt_rss(void) {
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

#endif
