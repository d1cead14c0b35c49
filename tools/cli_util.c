/* tools/cli_util.c - helpers the model-running subcommands share: number parsing with range
 * checks that name the option, and loading the model a command was given (a path, a pulled
 * name, or the default model of its kind).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

int cli_parse_int(const char *s, int lo, int hi, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) {
        fprintf(stderr, "lmrt: '%s' is not a whole number in [%d, %d]\n", s, lo, hi);
        return CLI_USAGE;
    }
    *v = (int)x;
    return CLI_OK;
}

int cli_parse_float(const char *s, double lo, double hi, float *v) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "lmrt: '%s' is not a number in [%g, %g]\n", s, lo, hi);
        return CLI_USAGE;
    }
    *v = (float)x;
    return CLI_OK;
}

int cli_load_model(const char *arg, enum cli_model_kind kind, struct lm_model **out) {
    char path[4096];
    if (cli_resolve_model(arg, kind, path, sizeof path) != LM_OK)
        return cli_fail("model", "%s", arg ? arg : "the default model");
    if (lm_model_load(path, out) != LM_OK) return cli_fail("model", "loading %s", path);
    return CLI_OK;
}
