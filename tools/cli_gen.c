/* tools/cli_gen.c - the generation loop `lmrt run` and `lmrt chat` share, and their sampling
 * options.
 *
 * cli_feed puts prompt tokens into sequence 0 in n_batch-sized forwards; cli_generate then
 * samples, streams whole UTF-8 characters to stdout as they form, and stops at an end-of-
 * generation token, at max_tokens, or when the context is full (said on stderr). Timing for the
 * stats line is kept in struct cli_stats.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_gen.h"
#include "cli_util.h"

int cli_sampling_option(int argc, char **argv, int *i, struct lm_sampler_params *p) {
    const char *a = argv[*i];
    if (*i + 1 >= argc) return 0;
    const char *v = argv[*i + 1];
    int rc;
    int k;
    if (!strcmp(a, "--temp"))
        rc = cli_parse_float(v, 0, 100, &p->temp);
    else if (!strcmp(a, "--top-k"))
        rc = cli_parse_int(v, 0, 1 << 30, &k), p->top_k = k;
    else if (!strcmp(a, "--top-p"))
        rc = cli_parse_float(v, 0, 1, &p->top_p);
    else if (!strcmp(a, "--min-p"))
        rc = cli_parse_float(v, 0, 1, &p->min_p);
    else if (!strcmp(a, "--repeat-penalty"))
        rc = cli_parse_float(v, 0, 100, &p->repeat_penalty);
    else if (!strcmp(a, "--presence-penalty"))
        rc = cli_parse_float(v, -2, 2, &p->presence_penalty);
    else if (!strcmp(a, "--frequency-penalty"))
        rc = cli_parse_float(v, -2, 2, &p->frequency_penalty);
    else if (!strcmp(a, "--seed")) {
        char *end;
        unsigned long long s = strtoull(v, &end, 10);
        if (*v == '-' || end == v || *end) {
            fprintf(stderr, "lmrt: --seed '%s' is not a non-negative whole number\n", v);
            return -1;
        }
        p->seed = s;
        rc = CLI_OK;
    } else
        return 0;
    if (rc) return -1;
    (*i)++;
    return 1;
}

struct cli_gen_opts cli_gen_defaults(int n_gen) {
    return (struct cli_gen_opts){.n_gen = n_gen, .sampling = lm_sampler_defaults()};
}

int cli_gen_option(int argc, char **argv, int *i, struct cli_gen_opts *g) {
    int k = cli_sampling_option(argc, argv, i, &g->sampling);
    if (k || *i + 1 >= argc) return k;
    const char *a = argv[*i], *v = argv[*i + 1];
    int rc = CLI_OK;
    if (!strcmp(a, "-m"))
        g->model = v;
    else if (!strcmp(a, "--system"))
        g->system = v;
    else if (!strcmp(a, "--template"))
        g->tmpl = v;
    else if (!strcmp(a, "-n"))
        rc = cli_parse_int(v, -1, 1 << 30, &g->n_gen);
    else if (!strcmp(a, "-t"))
        rc = cli_parse_int(v, 1, 1024, &g->session.n_threads);
    else if (!strcmp(a, "--ctx"))
        rc = cli_parse_int(v, 1, 1 << 24, &g->session.n_ctx);
    else
        return 0;
    if (rc) return -1;
    (*i)++;
    return 1;
}

const char *cli_sampling_help =
    "  --temp T              temperature (0 = greedy; default 0.8)\n"
    "  --top-k K             keep the K most likely tokens (0 = off; default 40)\n"
    "  --top-p P             keep the smallest set with probability >= P (1 = off; 0.95)\n"
    "  --min-p M             drop tokens below M x the top probability (0 = off; 0.05)\n"
    "  --repeat-penalty R    penalise the last 64 tokens (1 = off; default 1)\n"
    "  --presence-penalty X  --frequency-penalty X   OpenAI-style penalties (default 0)\n"
    "  --seed S              random seed (default 0: same seed, same text)\n";

int cli_tokens_push(struct lm_tokens *v, int32_t id) {
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 256;
        int32_t *p = realloc(v->ids, (size_t)cap * sizeof *p);
        if (!p) return lm_error(LM_ENOMEM, "out of memory"), CLI_FAIL;
        v->ids = p, v->cap = cap;
    }
    v->ids[v->n++] = id;
    return CLI_OK;
}

int cli_feed(struct lm_session *s, const int32_t *ids, int64_t n, struct cli_stats *st) {
    const int32_t nb = lm_session_n_batch(s), ctx = lm_session_n_ctx(s);
    if (lm_session_seq_len(s, 0) + n >= ctx) {
        lm_error(LM_ERANGE,
                 "%lld prompt tokens with %d already held leave no room in the %d-token "
                 "context (--ctx)",
                 (long long)n, lm_session_seq_len(s, 0), ctx);
        return cli_fail("generate", "prompt too long");
    }
    uint64_t t0 = lm_time_ns();
    for (int64_t i = 0; i < n; i += nb) {
        int32_t k = n - i < nb ? (int32_t)(n - i) : nb;
        struct lm_batch b = {.n_tokens = k, .tokens = ids + i};
        if (lm_forward(s, &b) != LM_OK) return cli_fail("generate", "prompt forward");
    }
    st->prompt_tokens += n;
    st->prompt_ns += lm_time_ns() - t0;
    return CLI_OK;
}

int cli_generate(struct lm_session *s, struct lm_sampler *smp, const struct lm_tokenizer *tok,
                 int max_tokens, struct lm_text *reply, struct lm_tokens *ids,
                 struct cli_stats *st) {
    struct lm_detok_stream ds = {0};
    struct lm_text piece = {0};
    const int32_t ctx = lm_session_n_ctx(s);
    uint64_t t0 = lm_time_ns();
    int rc = CLI_OK;
    for (int i = 0; max_tokens < 0 || i < max_tokens; i++) {
        int32_t id;
        if (lm_sampler_sample(smp, lm_session_logits(s, 0), &id) != LM_OK) {
            rc = cli_fail("generate", "sampling");
            break;
        }
        if (i == 0 && st->first_token_ns == 0) st->first_token_ns = lm_time_ns();
        if (lm_tokenizer_is_eog(tok, id)) break;
        piece.n = 0;
        if (piece.s) piece.s[0] = 0;
        if (lm_detok_push(tok, &ds, id, LM_TOK_SKIP_SPECIAL, &piece) != LM_OK) {
            rc = cli_fail("generate", "decoding token %d", id);
            break;
        }
        fwrite(piece.s, 1, piece.n, stdout);
        fflush(stdout);
        if (reply && lm_text_append(reply, piece.s, piece.n) != LM_OK) {
            rc = cli_fail("generate", "out of memory");
            break;
        }
        st->gen_tokens++;
        if (ids && cli_tokens_push(ids, id)) {
            rc = cli_fail("generate", "out of memory");
            break;
        }
        if (lm_session_seq_len(s, 0) + 1 >= ctx) {
            fprintf(stderr, "\n[context full: %d tokens; use --ctx for more]\n", ctx);
            break;
        }
        struct lm_batch b = {.n_tokens = 1, .tokens = &id};
        if (lm_forward(s, &b) != LM_OK) {
            rc = cli_fail("generate", "decode forward");
            break;
        }
    }
    piece.n = 0;
    lm_detok_flush(&ds, &piece);
    if (piece.n) {
        fwrite(piece.s, 1, piece.n, stdout);
        if (reply && lm_text_append(reply, piece.s, piece.n) != LM_OK && !rc)
            rc = cli_fail("generate", "out of memory");
    }
    fflush(stdout);
    st->gen_ns += lm_time_ns() - t0;
    lm_text_free(&piece);
    return rc;
}

void cli_print_stats(const struct cli_stats *st, uint64_t start_ns) {
    double pp = st->prompt_ns ? st->prompt_tokens / (st->prompt_ns * 1e-9) : 0;
    double tg = st->gen_ns && st->gen_tokens ? st->gen_tokens / (st->gen_ns * 1e-9) : 0;
    fprintf(stderr,
            "\n[prompt %lld tokens, %.1f tok/s | generated %lld tokens, %.1f tok/s | first token "
            "%.0f ms | cpu]\n",
            (long long)st->prompt_tokens, pp, (long long)st->gen_tokens, tg,
            st->first_token_ns ? (st->first_token_ns - start_ns) * 1e-6 : 0.0);
}
