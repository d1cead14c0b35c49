/* tools/cmd_bench.c - `lmrt bench -m MODEL [-p 512] [-n 128] [-t 1,2] [-r 5]`: prefill and
 * decode speed as TSV, one line per (threads, test), the median of r timed repeats after one
 * untimed warm-up.
 *
 * As llama-bench measures: pp<P> is one forward of P tokens from an empty sequence; tg<N> is N
 * forwards of one token each, from an empty sequence. Tokens are drawn at random from the
 * vocabulary with a fixed seed (speed does not depend on which tokens). An encoder (bert) has
 * no decode: its line is pp<P>, one text of P tokens, pooled.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt bench [-m MODEL] [-p TOKENS] [-n TOKENS] [-t T1,T2,...] [-r REPS]\n"
               "  prefill (-p, default 512) and decode (-n, default 128) speed as TSV:\n"
               "  model, threads, test, tok/s (median), min, max, repeats\n"
               "  -p 0 or -n 0 skips that test; -t lists thread counts (default: physical "
               "cores)\n");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed test; returns seconds, or a negative number on failure (error already set). */
static double run_once(struct lm_session *s, const int32_t *toks, int p, int n) {
    if (lm_session_seq_keep(s, 0, 0) != LM_OK) return -1;
    uint64_t t0 = lm_time_ns();
    if (p > 0) {
        struct lm_batch b = {.n_tokens = p, .tokens = toks};
        if (lm_forward(s, &b) != LM_OK) return -1;
    }
    for (int i = 0; i < n; i++) {
        struct lm_batch b = {.n_tokens = 1, .tokens = toks + i};
        if (lm_forward(s, &b) != LM_OK) return -1;
    }
    return (double)(lm_time_ns() - t0) * 1e-9;
}

static int bench_one(struct lm_model *m, const char *name, int threads, int p, int n, int reps,
                     const int32_t *toks) {
    const bool bert = lm_model_hparams(m)->arch == LM_ARCH_BERT;
    for (int test = 0; test < 2; test++) {
        int tp = test == 0 ? p : 0, tn = test == 1 ? n : 0;
        if (tp + tn == 0 || (bert && test == 1)) continue;
        struct lm_session_opts o = {.n_threads = threads,
                                    .n_ctx = bert ? 0 : tp + tn + 1,
                                    .n_batch = tp > 0 ? tp : 1,
                                    .n_seq = 1};
        struct lm_session *s;
        if (lm_session_create(m, &o, &s) != LM_OK)
            return cli_fail("bench", "session for %d threads", threads);
        double *t = malloc((size_t)reps * sizeof *t);
        int rc = t ? CLI_OK : cli_fail("bench", "out of memory");
        for (int r = -1; !rc && r < reps; r++) { /* r = -1: warm-up */
            double sec = run_once(s, toks, tp, tn);
            if (sec < 0) rc = cli_fail("bench", "%s %d tokens", tp ? "prefill" : "decode", tp + tn);
            if (r >= 0) t[r] = sec;
        }
        if (!rc) {
            qsort(t, (size_t)reps, sizeof *t, cmp_double);
            int k = tp + tn;
            printf("%s\t%d\t%s%d\t%.2f\t%.2f\t%.2f\t%d\n", name, lm_ctx_threads(lm_session_ctx(s)),
                   tp ? "pp" : "tg", k, k / t[reps / 2], k / t[reps - 1], k / t[0], reps);
            fflush(stdout);
        }
        free(t);
        lm_session_free(s);
        if (rc) return rc;
    }
    return CLI_OK;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *tlist = "0";
    int p = 512, n = 128, reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = CLI_OK;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-m") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(a, "-p") && i + 1 < argc) {
            rc = cli_parse_int(argv[++i], 0, 1 << 16, &p);
        } else if (!strcmp(a, "-n") && i + 1 < argc) {
            rc = cli_parse_int(argv[++i], 0, 1 << 16, &n);
        } else if (!strcmp(a, "-r") && i + 1 < argc) {
            rc = cli_parse_int(argv[++i], 1, 1000, &reps);
        } else if (!strcmp(a, "-t") && i + 1 < argc) {
            tlist = argv[++i];
        } else {
            fprintf(stderr, "lmrt bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
        if (rc) return rc;
    }
    int threads[64], nt = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", tlist);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nt == 64) {
            fprintf(stderr, "lmrt bench: at most 64 thread counts\n");
            return CLI_USAGE;
        }
        if (cli_parse_int(tok, 0, 1024, &threads[nt++])) return CLI_USAGE;
    }
    if (nt == 0) return cli_parse_int(tlist, 0, 1024, &threads[0]);
    struct lm_model *m;
    int rc = cli_load_model(model, CLI_MODEL_TEXT, &m);
    if (rc) return rc;
    const struct lm_hparams *hp = lm_model_hparams(m);
    if (hp->arch == LM_ARCH_BERT && hp->n_ctx_train > 0 && p > hp->n_ctx_train) {
        fprintf(stderr, "lmrt bench: -p %d is more than %s's %d positions\n", p, lm_model_name(m),
                hp->n_ctx_train);
        lm_model_free(m);
        return CLI_USAGE;
    }
    int32_t *toks = malloc((size_t)(p + n + 1) * sizeof *toks);
    if (!toks) rc = cli_fail("bench", "out of memory");
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; toks && i < p + n; i++) { /* xorshift64: fixed, reproducible tokens */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        toks[i] = (int32_t)(x % (uint64_t)hp->n_vocab);
    }
    if (!rc) printf("model\tthreads\ttest\ttok_s\tmin\tmax\treps\n");
    for (int i = 0; !rc && i < nt; i++)
        rc = bench_one(m, lm_model_name(m), threads[i], p, n, reps, toks);
    free(toks);
    lm_model_free(m);
    return rc;
}
