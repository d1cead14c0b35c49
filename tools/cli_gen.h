/* tools/cli_gen.h - the generation loop and sampling options `lmrt run` and `lmrt chat` share
 * (tools/cli_gen.c).
 */
#ifndef LMRT_CLI_GEN_H
#define LMRT_CLI_GEN_H

#include "cli.h"

struct cli_stats {
    int64_t prompt_tokens, gen_tokens;
    uint64_t prompt_ns, gen_ns, first_token_ns; /* first_token_ns: a time stamp */
};
/* Parse argv[*i] (and its value) when it is a sampling option: 1 consumed (*i advanced), 0 not
 * a sampling option, -1 a bad value (printed). */
int cli_sampling_option(int argc, char **argv, int *i, struct lm_sampler_params *p);
/* The options `run` and `chat` share: -m, --system, --template, -n, -t, --ctx and sampling. */
struct cli_gen_opts {
    const char *model, *system, *tmpl;
    int n_gen;
    struct lm_session_opts session;
    struct lm_sampler_params sampling;
};
struct cli_gen_opts cli_gen_defaults(int n_gen);
/* Like cli_sampling_option, for all of struct cli_gen_opts. */
int cli_gen_option(int argc, char **argv, int *i, struct cli_gen_opts *g);
extern const char *cli_sampling_help;
/* Forward ids into sequence 0 (in n_batch pieces). */
int cli_feed(struct lm_session *s, const int32_t *ids, int64_t n, struct cli_stats *st);
/* Sample from the last logits, stream text to stdout, forward each token; up to max_tokens
 * (-1: until an end token or a full context). reply and ids (each may be NULL) get the text
 * and the ids of the tokens forwarded (the end token is not). */
int cli_generate(struct lm_session *s, struct lm_sampler *smp, const struct lm_tokenizer *tok,
                 int max_tokens, struct lm_text *reply, struct lm_tokens *ids,
                 struct cli_stats *st);
int cli_tokens_push(struct lm_tokens *v, int32_t id);
void cli_print_stats(const struct cli_stats *st, uint64_t start_ns);

#endif
