/* tools/cli.h - what the lmrt subcommands share (tools/lmrt.c implements it).
 *
 * One file per subcommand (tools/cmd_<name>.c) exports int cmd_<name>(int argc, char **argv)
 * with argv[0] = the subcommand's name; it returns the process exit status: 0 done, 1 a failure
 * (bad model, bad input; reported on stderr), 2 a usage error. Nothing here exits or aborts, so
 * subcommands can also be driven from tests.
 */
#ifndef LMRT_CLI_H
#define LMRT_CLI_H

#include <stdio.h>

#include "../rt/lmrt.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* A model named on the command line: a GGUF file, a Hugging Face directory (config.json,
 * tokenizer.json, *.safetensors; any of them may be absent) or a bare tokenizer.json. */
struct cli_model {
    const char *path;
    struct lm_gguf *gguf;           /* set for a GGUF file */
    char dir[4096];                 /* the directory of an HF model or of a bare tokenizer.json */
    char tokenizer_json[4096 + 32]; /* "" when there is none */
    bool has_config;                /* dir/config.json exists */
};

/* Open path as a model; prints the error (naming path) and returns CLI_FAIL on failure. */
int cli_model_open(const char *path, struct cli_model *m);
void cli_model_close(struct cli_model *m);
/* The model's tokenizer (GGUF metadata or tokenizer.json); prints and returns CLI_FAIL. */
int cli_model_tokenizer(const struct cli_model *m, struct lm_tokenizer **out);

/* "lmrt <cmd>: <message>: <lm_last_error()>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* All of stream into a malloc'd, NUL-terminated buffer (NULL + message on failure). */
char *cli_read_all(FILE *f, size_t *len);

#endif
