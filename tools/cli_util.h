/* tools/cli_util.h - option parsing and model loading shared by the subcommands that run a model
 * (tools/cli_util.c).
 */
#ifndef LMRT_CLI_UTIL_H
#define LMRT_CLI_UTIL_H

#include "cli.h"
#include "registry.h"

/* Numbers from the command line; out of [lo, hi] or not a number prints why: CLI_USAGE. */
int cli_parse_int(const char *s, int lo, int hi, int *v);
int cli_parse_float(const char *s, double lo, double hi, float *v);

/* Load the model a command runs: arg is a path (.gguf, HF directory), a known name (pulled into
 * the cache on first use) or NULL for the default model of the kind (tools/registry.h). Prints
 * the error and returns CLI_FAIL. */
int cli_load_model(const char *arg, enum cli_model_kind kind, struct lm_model **out);

#endif
