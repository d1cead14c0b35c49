/* tools/cmd_embed.c - `lmrt embed -m MODEL [--pooling mean|cls|last] [--no-normalize]
 * [--no-truncate] [-t N]`: one text per line on stdin -> one JSON array of floats per line on
 * stdout, in order. An empty line is an empty text (a [CLS] [SEP] embedding). Texts longer than
 * the model's position limit are truncated (the --no-truncate flag makes them an error). Texts
 * are embedded in groups so that memory stays bounded for any input length.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt embed [-m MODEL] [--pooling mean|cls|last] [--no-normalize]\n"
               "                  [--no-truncate] [-t THREADS] < texts\n"
               "  one text per line on stdin -> one JSON array of floats per line on stdout\n"
               "  -m MODEL        a BERT-family model: .gguf, HF directory or pulled name\n"
               "                  (default: the default embedding model)\n"
               "  --pooling P     override the model's pooling\n"
               "  --no-normalize  skip the L2 normalisation\n"
               "  --no-truncate   a text over the position limit is an error, not cut\n"
               "  -t THREADS      worker threads (default: physical cores)\n");
}

#define GROUP 256 /* texts per lm_embed call */

/* Embed and print texts[0..n), then free them (also on failure). */
static int flush(struct lm_session *s, char **texts, int n, float *out, int64_t d) {
    int rc = CLI_OK;
    if (lm_embed(s, (const char *const *)texts, n, out) != LM_OK)
        rc = cli_fail("embed", "embedding %d texts", n);
    for (int i = 0; i < n; i++) {
        if (!rc) {
            putchar('[');
            for (int64_t k = 0; k < d; k++)
                printf(k ? ", %.8g" : "%.8g", (double)out[(size_t)i * d + k]);
            fputs("]\n", stdout);
        }
        free(texts[i]);
    }
    fflush(stdout);
    return rc;
}

int cmd_embed(int argc, char **argv) {
    const char *model = NULL;
    struct lm_session_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-m") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(a, "-t") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 1024, &o.n_threads)) return CLI_USAGE;
        } else if (!strcmp(a, "--pooling") && i + 1 < argc) {
            const char *p = argv[++i];
            o.pooling = !strcmp(p, "mean")   ? LM_POOLING_MEAN
                        : !strcmp(p, "cls")  ? LM_POOLING_CLS
                        : !strcmp(p, "last") ? LM_POOLING_LAST
                                             : LM_POOLING_NONE;
            if (o.pooling == LM_POOLING_NONE) {
                fprintf(stderr, "lmrt embed: --pooling %s: use mean, cls or last\n", p);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--no-normalize")) {
            o.no_normalize = true;
        } else if (!strcmp(a, "--no-truncate")) {
            o.no_truncate = true;
        } else {
            fprintf(stderr, "lmrt embed: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    struct lm_model *m = NULL;
    struct lm_session *s = NULL;
    int rc = cli_load_model(model, CLI_MODEL_EMBEDDING, &m);
    if (rc) return rc;
    if (lm_model_hparams(m)->arch != LM_ARCH_BERT) {
        const char *arch = lm_arch_name(lm_model_hparams(m)->arch);
        lm_model_free(m);
        lm_clear_error();
        return cli_fail("embed", "%s is a %s model; embed needs an encoder (bert)", model, arch);
    }
    if (lm_session_create(m, &o, &s) != LM_OK) {
        lm_model_free(m);
        return cli_fail("embed", "creating a session");
    }
    const int64_t d = lm_model_hparams(m)->n_embd;
    float *out = malloc((size_t)GROUP * d * sizeof *out);
    char *texts[GROUP];
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    rc = out ? CLI_OK : cli_fail("embed", "out of memory");
    while (!rc && (len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        if (!(texts[n] = strdup(line))) {
            rc = cli_fail("embed", "out of memory");
            break;
        }
        if (++n == GROUP) {
            rc = flush(s, texts, n, out, d);
            n = 0;
        }
    }
    if (n && !rc)
        rc = flush(s, texts, n, out, d);
    else
        for (int i = 0; i < n; i++)
            free(texts[i]);
    free(line);
    free(out);
    lm_session_free(s);
    lm_model_free(m);
    return rc;
}
