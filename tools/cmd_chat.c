/* tools/cmd_chat.c - `lmrt chat [-m MODEL] [--system TEXT] [--template NAME] [-n N] [sampling]`:
 * an interactive conversation on stdin/stdout through the model's chat template.
 *
 * Each turn renders the whole conversation and tokenizes it; the KV cache keeps the longest
 * prefix it shares with what it already holds, so a turn only runs its new tokens. (A model
 * whose state cannot be rewound, lfm2's conv state, starts over when the prefix is shorter than
 * the cache.) One line of input is one user message; end with EOF (Ctrl-D) or "/exit";
 * "/reset" forgets the conversation.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_gen.h"
#include "cli_util.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: lmrt chat [-m MODEL] [--system TEXT] [--template NAME] [-n N] [options]\n"
        "  talk to MODEL: one line on stdin is one message; /reset forgets, /exit ends\n"
        "  -m MODEL     .gguf, HF directory or pulled name (default: the default text model)\n"
        "  --system S   a system message\n"
        "  --template NAME  chatml, smollm2, lfm2, mistral or llama3 (default: from the model)\n"
        "  -n N         most tokens per reply (default 1024; -1 = until the end token)\n"
        "  -t THREADS   worker threads (default: physical cores)\n"
        "  --ctx N      context length (default: the model's, at most 4096)\n"
        "%s",
        cli_sampling_help);
}

struct convo {
    struct lm_chat_msg *msgs;
    int n, cap;
};

static int convo_add(struct convo *c, const char *role, const char *content) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 16;
        struct lm_chat_msg *p = realloc(c->msgs, (size_t)cap * sizeof *p);
        if (!p) return lm_error(LM_ENOMEM, "out of memory"), CLI_FAIL;
        c->msgs = p, c->cap = cap;
    }
    char *dup = strdup(content);
    if (!dup) return lm_error(LM_ENOMEM, "out of memory"), CLI_FAIL;
    c->msgs[c->n++] = (struct lm_chat_msg){role, dup};
    return CLI_OK;
}

static void convo_clear(struct convo *c, int keep) {
    for (int i = keep; i < c->n; i++)
        free((char *)c->msgs[i].content);
    c->n = keep;
}

/* Bring the cache (holding held->ids) to ids[0..n) minus what generation will add: keep the
 * common prefix (at least one token must be fed so there are logits to sample). */
static int sync_cache(struct lm_session *s, struct lm_tokens *held, const struct lm_tokens *ids,
                      struct cli_stats *st) {
    int64_t p = 0;
    while (p < held->n && p < ids->n && held->ids[p] == ids->ids[p])
        p++;
    if (p == ids->n) p--; /* re-run the last token for its logits */
    if (p < 0) p = 0;
    if (lm_session_seq_keep(s, 0, (int32_t)p) != LM_OK) {
        lm_clear_error();
        p = 0;
        if (lm_session_seq_keep(s, 0, 0) != LM_OK) return cli_fail("chat", "clearing the cache");
    }
    held->n = 0;
    for (int64_t i = 0; i < ids->n; i++)
        if (cli_tokens_push(held, ids->ids[i])) return cli_fail("chat", "out of memory");
    return cli_feed(s, ids->ids + p, ids->n - p, st);
}

int cmd_chat(int argc, char **argv) {
    const uint64_t start = lm_time_ns();
    int rc = CLI_OK;
    struct cli_gen_opts g = cli_gen_defaults(1024);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k = cli_gen_option(argc, argv, &i, &g);
        if (k < 0) return CLI_USAGE;
        if (k > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "lmrt chat: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (g.tmpl && lm_chat_check_name(g.tmpl) != LM_OK) {
        fprintf(stderr, "lmrt chat: %s\n", lm_last_error());
        return CLI_USAGE;
    }
    struct lm_model *m = NULL;
    struct lm_session *s = NULL;
    struct lm_sampler *smp = NULL;
    struct lm_tokens ids = {0}, held = {0};
    struct lm_text text = {0}, reply = {0};
    struct convo c = {0};
    struct cli_stats st = {0};
    char *line = NULL;
    size_t cap = 0;
    const bool tty = isatty(STDIN_FILENO);
    if ((rc = cli_load_model(g.model, CLI_MODEL_TEXT, &m))) goto done;
    const struct lm_tokenizer *tok = lm_model_tokenizer(m);
    const char *name = g.tmpl;
    if (!name && lm_chat_detect(lm_model_chat_template(m), &name) != LM_OK) {
        rc = cli_fail("chat", "%s: no chat template lmrt knows (use --template)", lm_model_name(m));
        goto done;
    }
    if (lm_session_create(m, &g.session, &s) != LM_OK ||
        lm_sampler_create(&g.sampling, lm_model_hparams(m)->n_vocab, &smp) != LM_OK) {
        rc = cli_fail("chat", "setting up");
        goto done;
    }
    if (g.system && (rc = convo_add(&c, "system", g.system))) goto done;
    const int base = c.n;
    if (tty)
        fprintf(stderr, "lmrt chat: %s, template %s; /reset, /exit or Ctrl-D\n", lm_model_name(m),
                name);
    for (;;) {
        if (tty) fputs("> ", stderr);
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0) break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!strcmp(line, "/exit")) break;
        if (!strcmp(line, "/reset")) {
            convo_clear(&c, base);
            continue;
        }
        if (len == 0) continue;
        if ((rc = convo_add(&c, "user", line))) break;
        text.n = 0, ids.n = 0, reply.n = 0;
        if (lm_chat_render(name, c.msgs, c.n, true, tok, &text) != LM_OK ||
            lm_tokenize(tok, text.s, text.n, LM_TOK_PARSE_SPECIAL, &ids) != LM_OK) {
            rc = cli_fail("chat", "rendering the conversation");
            break;
        }
        lm_sampler_reset(smp);
        for (int64_t i = 0; i < ids.n; i++)
            lm_sampler_accept(smp, ids.ids[i]);
        if ((rc = sync_cache(s, &held, &ids, &st)) ||
            (rc = cli_generate(s, smp, tok, g.n_gen, &reply, &held, &st)))
            break;
        fputc('\n', stdout);
        fflush(stdout);
        if ((rc = convo_add(&c, "assistant", reply.s ? reply.s : ""))) break;
    }
    if (!rc && tty) cli_print_stats(&st, start);
done:
    convo_clear(&c, 0);
    free(c.msgs);
    free(line);
    lm_sampler_free(smp);
    lm_session_free(s);
    lm_model_free(m);
    lm_tokens_free(&ids);
    lm_tokens_free(&held);
    lm_text_free(&text);
    lm_text_free(&reply);
    return rc;
}
