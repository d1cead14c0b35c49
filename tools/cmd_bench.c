/* tools/cmd_bench.c - `lmrt bench -m MODEL [-p 512] [-n 128] [-t 1,2] [-s 1,8] [-r 5]`:
 * prefill and decode speed as TSV, one line per (threads, test), the median of r timed repeats
 * after one untimed warm-up.
 *
 * As llama-bench measures: pp<P> is one forward of P tokens from an empty sequence; tg<N> is N
 * forwards of one token each, from an empty sequence. With -s, tg<N>x<S> decodes S sequences
 * at once (one forward of S tokens per step, as the server batches S streams) and reports the
 * tokens of all of them per second. Tokens are drawn at random from the
 * vocabulary with a fixed seed (speed does not depend on which tokens). An encoder (bert) has
 * no decode: its line is pp<P>, one text of P tokens, pooled.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

#define LM_BENCH_MAX_SEQ 64

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt bench [-m MODEL] [-p TOKENS] [-n TOKENS] [-t T1,T2,...] [-r REPS]\n"
               "  prefill (-p, default 512) and decode (-n, default 128) speed as TSV:\n"
               "  model, threads, test, tok/s (median), min, max, repeats\n"
               "  -p 0 or -n 0 skips that test; -t lists thread counts (default: physical "
               "cores)\n"
               "  -s lists sequences decoded at once (default 1): tg<N>x<S>, tokens of all\n");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed test; returns seconds, or a negative number on failure (error already set). */
static double run_once(struct lm_session *s, const int32_t *toks, int p, int n, int ns) {
    for (int q = 0; q < ns; q++)
        if (lm_session_seq_keep(s, q, 0) != LM_OK) return -1;
    int32_t seq[LM_BENCH_MAX_SEQ];
    for (int q = 0; q < ns; q++)
        seq[q] = q;
    uint64_t t0 = lm_time_ns();
    if (p > 0) {
        struct lm_batch b = {.n_tokens = p, .tokens = toks};
        if (lm_forward(s, &b) != LM_OK) return -1;
    }
    for (int i = 0; i < n; i++) { /* sequence q's i-th token is toks[i + q] */
        struct lm_batch b = {.n_tokens = ns, .tokens = toks + i, .seq = seq};
        if (lm_forward(s, &b) != LM_OK) return -1;
    }
    return (double)(lm_time_ns() - t0) * 1e-9;
}

static int bench_one(struct lm_model *m, const char *name, int threads, int p, int n,
                     const int *seqs, int n_seqs, int reps, const int32_t *toks) {
    const bool bert = lm_model_hparams(m)->arch == LM_ARCH_BERT;
    for (int test = 0; test < 1 + n_seqs; test++) { /* pp, then tg at each -s */
        int tp = test == 0 ? p : 0, tn = test > 0 ? n : 0, ns = test > 0 ? seqs[test - 1] : 1;
        if (tp + tn == 0 || (bert && test > 0)) continue;
        struct lm_session_opts o = {.n_threads = threads,
                                    .n_ctx = bert ? 0 : tp + tn + 1,
                                    .n_batch = tp > 0 ? tp : ns,
                                    .n_seq = ns};
        struct lm_session *s;
        if (lm_session_create(m, &o, &s) != LM_OK)
            return cli_fail("bench", "session for %d threads", threads);
        double *t = malloc((size_t)reps * sizeof *t);
        int rc = t ? CLI_OK : cli_fail("bench", "out of memory");
        for (int r = -1; !rc && r < reps; r++) { /* r = -1: warm-up */
            double sec = run_once(s, toks, tp, tn, ns);
            if (sec < 0) rc = cli_fail("bench", "%s %d tokens", tp ? "prefill" : "decode", tp + tn);
            if (r >= 0) t[r] = sec;
        }
        if (!rc) {
            qsort(t, (size_t)reps, sizeof *t, cmp_double);
            int k = tp + tn;
            char test_name[32];
            snprintf(test_name, sizeof test_name, ns > 1 ? "%s%dx%d" : "%s%d", tp ? "pp" : "tg", k,
                     ns);
            k *= ns;
            printf("%s\t%d\t%s\t%.2f\t%.2f\t%.2f\t%d\n", name, lm_ctx_threads(lm_session_ctx(s)),
                   test_name, k / t[reps / 2], k / t[reps - 1], k / t[0], reps);
            fflush(stdout);
        }
        free(t);
        lm_session_free(s);
        if (rc) return rc;
    }
    return CLI_OK;
}

/* "1,2,4" -> out (at most 64 numbers in [lo, hi]); the count, or -1 after printing why. */
static int parse_list(const char *opt, const char *list, int lo, int hi, int *out) {
    char buf[256];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 64) {
            fprintf(stderr, "lmrt bench: at most 64 values for %s\n", opt);
            return -1;
        }
        if (cli_parse_int(tok, lo, hi, &out[n++])) return -1;
    }
    if (n == 0) {
        fprintf(stderr, "lmrt bench: %s needs a comma-separated list of numbers\n", opt);
        return -1;
    }
    return n;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *tlist = "0", *slist = "1";
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
        } else if (!strcmp(a, "-s") && i + 1 < argc) {
            slist = argv[++i];
        } else {
            fprintf(stderr, "lmrt bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
        if (rc) return rc;
    }
    int threads[64], seqs[64], nt, ns;
    if ((nt = parse_list("-t", tlist, 0, 1024, threads)) < 0 ||
        (ns = parse_list("-s", slist, 1, LM_BENCH_MAX_SEQ, seqs)) < 0)
        return CLI_USAGE;
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
    const int nx = p + n + LM_BENCH_MAX_SEQ;
    int32_t *toks = malloc((size_t)nx * sizeof *toks);
    if (!toks) rc = cli_fail("bench", "out of memory");
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; toks && i < nx; i++) { /* xorshift64: fixed, reproducible tokens */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        toks[i] = (int32_t)(x % (uint64_t)hp->n_vocab);
    }
    if (!rc) printf("model\tthreads\ttest\ttok_s\tmin\tmax\treps\n");
    for (int i = 0; !rc && i < nt; i++)
        rc = bench_one(m, lm_model_name(m), threads[i], p, n, seqs, ns, reps, toks);
    free(toks);
    lm_model_free(m);
    return rc;
}
