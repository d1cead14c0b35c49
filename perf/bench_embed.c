/* perf/bench_embed.c - sentence embeddings end to end with all-MiniLM-L6-v2 (tokenize + forward +
 * pool + normalise through lm_embed), one thread unless LMRT_PERF_THREADS says otherwise.
 *
 * Cases, each the median of 20 timed calls after a warm-up: t10 (one ~10-token text), t128 (one
 * text of ~128 tokens: sentences of tests/data/real/minilm_sentences.txt joined), batch32 (the
 * first 32 sentences in one call). stdout: TSV case, tokens, ms, items/s. The texts are the ones
 * perf/embed_vs_peers.py gives llama.cpp and sentence-transformers.
 * Model: $LMRT_MODELS/minilm (default build/models); argv[1] overrides.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

#define REPS 20

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_ms(struct lm_session *s, const char *const *t, int n, float *out) {
    double ms[REPS];
    if (lm_embed(s, t, n, out)) return -1;
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = lm_time_ns();
        if (lm_embed(s, t, n, out)) return -1;
        ms[r] = (lm_time_ns() - t0) * 1e-6;
    }
    qsort(ms, REPS, sizeof *ms, cmp);
    return ms[REPS / 2];
}

int main(int argc, char **argv) {
    char path[1024];
    const char *dir = getenv("LMRT_MODELS");
    snprintf(path, sizeof path, "%s", argc > 1 ? argv[1] : "");
    if (argc < 2) snprintf(path, sizeof path, "%s/minilm", dir ? dir : "build/models");
    FILE *f = fopen("tests/data/real/minilm_sentences.txt", "r");
    if (!f) return fprintf(stderr, "bench_embed: no tests/data/real/minilm_sentences.txt\n"), 1;
    static char lines[64][512];
    int n = 0;
    while (n < 64 && fgets(lines[n], sizeof lines[n], f)) {
        lines[n][strcspn(lines[n], "\n")] = 0;
        n++;
    }
    fclose(f);
    struct lm_model *m;
    struct lm_session *s;
    int threads[4], nt = perf_thread_counts(threads, 4);
    if (!getenv("LMRT_PERF_THREADS")) threads[0] = 1, nt = 1;
    if (lm_model_load(path, &m)) return fprintf(stderr, "bench_embed: %s\n", lm_last_error()), 1;
    const struct lm_tokenizer *tok = lm_model_tokenizer(m);
    /* t128: sentences joined until the text reaches 128 tokens with [CLS] and [SEP] */
    static char long_text[8192];
    for (int i = 0; i < n; i++) {
        struct lm_tokens t = {0};
        lm_tokenize(tok, long_text, strlen(long_text), LM_TOK_ADD_SPECIAL, &t);
        int64_t k = t.n;
        lm_tokens_free(&t);
        if (k >= 120) break;
        if (*long_text) strcat(long_text, " ");
        strcat(long_text, lines[i]);
    }
    const char *t10[] = {"A man is eating food at the table."};
    const char *t128[] = {long_text};
    const char *b32[32];
    for (int i = 0; i < 32; i++)
        b32[i] = lines[i];
    float *out = malloc(32 * 384 * sizeof *out);
    printf("case\tthreads\ttokens\tms\titems_per_s\n");
    for (int ti = 0; ti < nt; ti++) {
        struct lm_session_opts o = {.n_threads = threads[ti]};
        if (lm_session_create(m, &o, &s)) return fprintf(stderr, "%s\n", lm_last_error()), 1;
        struct {
            const char *name;
            const char *const *t;
            int n;
        } cases[] = {{"t10", t10, 1}, {"t128", t128, 1}, {"batch32", b32, 32}};
        for (int c = 0; c < 3; c++) {
            int64_t toks = 0;
            for (int i = 0; i < cases[c].n; i++) {
                struct lm_tokens t = {0};
                lm_tokenize(tok, cases[c].t[i], strlen(cases[c].t[i]), LM_TOK_ADD_SPECIAL, &t);
                toks += t.n;
                lm_tokens_free(&t);
            }
            double ms = median_ms(s, cases[c].t, cases[c].n, out);
            if (ms < 0) return fprintf(stderr, "%s\n", lm_last_error()), 1;
            printf("%s\t%d\t%lld\t%.3f\t%.1f\n", cases[c].name, threads[ti], (long long)toks, ms,
                   cases[c].n / (ms * 1e-3));
        }
        lm_session_free(s);
    }
    free(out);
    lm_model_free(m);
    return 0;
}
