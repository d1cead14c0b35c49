/* perf/bench_tokenizer.c - tokenizer throughput on the four real vocabularies, one thread.
 *
 * Cases per tokenizer (smollm2 GGUF byte-level BPE, minilm tokenizer.json WordPiece, lfm2
 * tokenizer.json byte-level BPE with 507 added tokens, mistral GGUF SentencePiece):
 *   tok_load    loading the tokenizer (GGUF metadata or tokenizer.json) to ready
 *   tok_encode  lm_tokenize of the whole text, flags 0
 *   tok_decode  lm_detokenize of those ids
 * The text is tests/data/tok/bulk.txt (1 MB of generated multilingual prose, code and numbers)
 * unless --text names another file. Before timing, the encode is validated: on bulk.txt its ids
 * must hash to ref_<name>.bulk (tools/gen_tokenizer_refs.py), or the run fails. Each case is
 * timed over --repeats runs (default 5, or LMRT_PERF_REPEATS) after one warm-up; the row
 * reports the median (tokenizing is one thread of branchy code, so the median of a few runs is
 * steadier than the fastest on a shared machine).
 *
 * stdout: perf TSV rows (dtype = tokenizer name; GB/s = text bytes per second; no FLOPs or peak
 * fraction: bound by control flow). stderr: one "bar" line per tokenizer with MB/s and ids/s.
 * perf/tokenizer_vs_hf.py runs this next to Hugging Face `tokenizers` and prints the ratio.
 *   usage: bench_tokenizer [--text FILE] [--repeats N] [NAME...]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

#define MAX_REPEATS 1000

static const char *models_dir(void) {
    const char *m = getenv("LMRT_MODELS");
    return m && *m ? m : "build/models";
}

static void die(const char *what) {
    fprintf(stderr, "bench_tokenizer: %s: %s\n", what, lm_last_error());
    exit(1);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        lm_error(LM_EIO, "cannot open (models: tools/fetch_models.sh)");
        die(path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        lm_error(LM_EIO, "cannot read");
        die(path);
    }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct tk {
    const char *name;
    struct lm_gguf *g;
    struct lm_tokenizer *tok;
};

static void load(struct tk *t) {
    char path[1024];
    lm_status s;
    if (!strcmp(t->name, "smollm2") || !strcmp(t->name, "mistral")) {
        if (!strcmp(t->name, "smollm2"))
            snprintf(path, sizeof path, "%s/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", models_dir());
        else
            snprintf(path, sizeof path, "tests/data/tok/mistral-v1-vocab.gguf");
        if ((s = lm_gguf_open(path, &t->g)) == LM_OK) s = lm_tokenizer_from_gguf(t->g, &t->tok);
    } else {
        snprintf(path, sizeof path, "%s/%s/tokenizer.json", models_dir(), t->name);
        s = lm_tokenizer_from_json(path, &t->tok);
    }
    if (s != LM_OK) die(path);
}

static void unload(struct tk *t) {
    lm_tokenizer_free(t->tok);
    lm_gguf_close(t->g);
    t->tok = NULL, t->g = NULL;
}

static uint64_t fnv1a64_ids(const int32_t *v, int64_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            h = (h ^ (((uint32_t)v[i] >> (8 * k)) & 0xff)) * 0x100000001B3ull;
    return h;
}

/* The ids of bulk.txt against ref_<name>.bulk: the count and every block hash. */
static void validate(const char *name, const struct lm_tokens *ids) {
    char path[256];
    size_t len;
    snprintf(path, sizeof path, "tests/data/tok/ref_%s.bulk", name);
    char *ref = slurp(path, &len);
    long n_ids, block;
    int rt, used = 0;
    if (sscanf(ref, "ids %ld block %ld rt %d\n%n", &n_ids, &block, &rt, &used) != 3 || block <= 0) {
        lm_error(LM_EFORMAT, "bad header");
        die(path);
    }
    if (ids->n != n_ids) {
        lm_error(LM_EINVAL, "%ld ids, the reference has %ld", (long)ids->n, n_ids);
        die(name);
    }
    const char *p = ref + used;
    for (int64_t b = 0; b * block < n_ids; b++) {
        char *end;
        unsigned long long want = strtoull(p, &end, 16);
        int64_t from = b * block, cnt = n_ids - from < block ? n_ids - from : block;
        if (end == p || fnv1a64_ids(ids->ids + from, cnt) != want) {
            lm_error(LM_EINVAL,
                     "ids of block %lld differ from the reference (check_tokenizer_real)",
                     (long long)b);
            die(name);
        }
        p = end;
    }
    free(ref);
}

static void row(const char *op, const char *name, const char *shape, double ns, double bytes) {
    printf("%s\t%s\t%s\t1\t%.2f\t0.00\t%.4f\t-\tcontrol\n", op, name, shape, ns * 1e-3, bytes / ns);
    fflush(stdout);
}

static void bench(const char *name, const char *text, size_t len, bool is_bulk, int repeats) {
    struct tk t = {.name = name};
    double ns[MAX_REPEATS + 1];
    load(&t); /* warm-up: file cache, allocator */
    unload(&t);
    for (int k = 0; k < repeats; k++) {
        uint64_t t0 = lm_time_ns();
        load(&t);
        ns[k] = (double)(lm_time_ns() - t0);
        if (k + 1 < repeats) unload(&t);
    }
    double load_ns = median(ns, repeats);

    struct lm_tokens ids = {0};
    if (lm_tokenize(t.tok, text, len, 0, &ids) != LM_OK) die("encode");
    if (is_bulk) validate(name, &ids);
    for (int k = 0; k < repeats; k++) {
        ids.n = 0;
        uint64_t t0 = lm_time_ns();
        if (lm_tokenize(t.tok, text, len, 0, &ids) != LM_OK) die("encode");
        ns[k] = (double)(lm_time_ns() - t0);
    }
    double enc_ns = median(ns, repeats);

    struct lm_text out = {0};
    if (lm_detokenize(t.tok, ids.ids, ids.n, 0, &out) != LM_OK) die("decode");
    for (int k = 0; k < repeats; k++) {
        out.n = 0;
        uint64_t t0 = lm_time_ns();
        if (lm_detokenize(t.tok, ids.ids, ids.n, 0, &out) != LM_OK) die("decode");
        ns[k] = (double)(lm_time_ns() - t0);
    }
    double dec_ns = median(ns, repeats);

    char shape[64];
    snprintf(shape, sizeof shape, "%zu bytes %lld ids", len, (long long)ids.n);
    row("tok_load", name, "vocab", load_ns, 0);
    row("tok_encode", name, shape, enc_ns, (double)len);
    row("tok_decode", name, shape, dec_ns, (double)len);
    fprintf(stderr,
            "bar\t%s\tencode %.2f MB/s, %.2f M ids/s; decode %.1f MB/s; load %.1f ms "
            "(median of %d)\n",
            name, (double)len / enc_ns * 1e3, (double)ids.n / enc_ns * 1e3,
            (double)len / dec_ns * 1e3, load_ns * 1e-6, repeats);
    lm_tokens_free(&ids);
    lm_text_free(&out);
    unload(&t);
}

int main(int argc, char **argv) {
    const char *text_path = "tests/data/tok/bulk.txt";
    const char *env = getenv("LMRT_PERF_REPEATS");
    int repeats = env && *env ? atoi(env) : 5;
    const char *names[8];
    int n_names = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--text") && i + 1 < argc)
            text_path = argv[++i];
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (argv[i][0] != '-' && n_names < 8)
            names[n_names++] = argv[i];
        else {
            fprintf(stderr, "usage: bench_tokenizer [--text FILE] [--repeats N] [NAME...]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > MAX_REPEATS) {
        fprintf(stderr, "bench_tokenizer: repeats must be in [1, %d]\n", MAX_REPEATS);
        return 2;
    }
    static const char *all[] = {"smollm2", "minilm", "lfm2", "mistral"};
    if (!n_names)
        for (int i = 0; i < 4; i++)
            names[n_names++] = all[i];
    size_t len;
    char *text = slurp(text_path, &len);
    bool is_bulk = !strcmp(text_path, "tests/data/tok/bulk.txt");
    perf_header();
    for (int i = 0; i < n_names; i++) {
        bool known = false;
        for (int k = 0; k < 4; k++)
            known |= !strcmp(names[i], all[k]);
        if (!known) {
            fprintf(stderr,
                    "bench_tokenizer: unknown tokenizer '%s' (smollm2 minilm lfm2 mistral)\n",
                    names[i]);
            return 2;
        }
        bench(names[i], text, len, is_bulk, repeats);
    }
    free(text);
    return 0;
}
