/* tools/cmd_run.c - `lmrt run [-m MODEL] -p TEXT [-n N] [sampling] [-t THREADS] [--ctx N]
 * [--chat [--system TEXT] [--template NAME]]`: complete a prompt, streaming the text as it is
 * generated, then a stats line on stderr (prompt and generation tok/s, time to first token).
 *
 * The prompt is taken as raw text with the model's BOS (as llama.cpp's completion does); with
 * --chat it is the user's message of a one-turn conversation rendered by the model's chat
 * template (or --template). Without -p the prompt is read from stdin.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_gen.h"
#include "cli_util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: lmrt run [-m MODEL] [-p TEXT] [-n N] [options]\n"
            "  complete TEXT (stdin without -p) and stream the continuation to stdout\n"
            "  -m MODEL     .gguf, HF directory or pulled name (default: the default text model)\n"
            "  -n N         most tokens to generate (default 256; -1 = until the end token)\n"
            "  -t THREADS   worker threads (default: physical cores)\n"
            "  --ctx N      context length (default: the model's, at most 4096)\n"
            "  --chat       treat TEXT as a user message through the chat template\n"
            "  --system S   with --chat: a system message\n"
            "  --template NAME  with --chat: chatml, smollm2, lfm2, mistral or llama3\n"
            "                   (default: detected from the model)\n"
            "%s",
            cli_sampling_help);
}

int cmd_run(int argc, char **argv) {
    const uint64_t start = lm_time_ns();
    const char *prompt = NULL;
    int rc = CLI_OK;
    bool chat = false;
    struct cli_gen_opts g = cli_gen_defaults(256);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k = cli_gen_option(argc, argv, &i, &g);
        if (k < 0) return CLI_USAGE;
        if (k > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--chat")) {
            chat = true;
        } else if (!strcmp(a, "-p") && i + 1 < argc) {
            prompt = argv[++i];
        } else {
            fprintf(stderr, "lmrt run: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if ((g.system || g.tmpl) && !chat) {
        fprintf(stderr, "lmrt run: --system and --template need --chat\n");
        return CLI_USAGE;
    }
    if (g.tmpl && lm_chat_check_name(g.tmpl) != LM_OK) {
        fprintf(stderr, "lmrt run: %s\n", lm_last_error());
        return CLI_USAGE;
    }
    char *in = NULL;
    if (!prompt) {
        size_t len;
        if (!(in = cli_read_all(stdin, &len))) return cli_fail("run", "reading the prompt");
        prompt = in;
    }
    struct lm_model *m = NULL;
    struct lm_session *s = NULL;
    struct lm_sampler *smp = NULL;
    struct lm_tokens ids = {0};
    struct lm_text text = {0};
    struct cli_stats st = {0};
    if ((rc = cli_load_model(g.model, CLI_MODEL_TEXT, &m))) goto done;
    const struct lm_tokenizer *tok = lm_model_tokenizer(m);
    if (lm_model_hparams(m)->arch == LM_ARCH_BERT) {
        lm_clear_error();
        rc = cli_fail("run", "%s is an encoder (bert): use lmrt embed", lm_model_name(m));
        goto done;
    }
    unsigned flags = LM_TOK_ADD_SPECIAL;
    if (chat) {
        const char *name = g.tmpl;
        if (!name && lm_chat_detect(lm_model_chat_template(m), &name) != LM_OK) {
            rc = cli_fail("run", "%s: no chat template lmrt knows (use --template)",
                          lm_model_name(m));
            goto done;
        }
        struct lm_chat_msg msgs[2];
        int nm = 0;
        if (g.system) msgs[nm++] = (struct lm_chat_msg){"system", g.system};
        msgs[nm++] = (struct lm_chat_msg){"user", prompt};
        if (lm_chat_render(name, msgs, nm, true, tok, &text) != LM_OK) {
            rc = cli_fail("run", "chat template %s", name);
            goto done;
        }
        prompt = text.s;
        flags = LM_TOK_PARSE_SPECIAL; /* the template writes BOS and the turn markers itself */
    }
    if (lm_tokenize(tok, prompt, strlen(prompt), flags, &ids) != LM_OK) {
        rc = cli_fail("run", "tokenizing the prompt");
        goto done;
    }
    if (ids.n == 0) {
        lm_error(LM_EINVAL, "the prompt has no tokens");
        rc = cli_fail("run", "empty prompt");
        goto done;
    }
    if (lm_session_create(m, &g.session, &s) != LM_OK ||
        lm_sampler_create(&g.sampling, lm_model_hparams(m)->n_vocab, &smp) != LM_OK) {
        rc = cli_fail("run", "setting up");
        goto done;
    }
    for (int64_t i = 0; i < ids.n; i++)
        lm_sampler_accept(smp, ids.ids[i]);
    if (!(rc = cli_feed(s, ids.ids, ids.n, &st)))
        rc = cli_generate(s, smp, tok, g.n_gen, NULL, NULL, &st);
    if (!rc) cli_print_stats(&st, start);
done:
    lm_sampler_free(smp);
    lm_session_free(s);
    lm_model_free(m);
    lm_tokens_free(&ids);
    lm_text_free(&text);
    free(in);
    return rc;
}
