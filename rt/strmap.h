/* rt/strmap.h - a string -> index hash map for the file readers' name lookups (GGUF keys and
 * tensor names, safetensors tensor names).
 *
 * Keys are not copied: they must outlive the map (the readers keep them in their pools).
 * Lookups never write to the map, so any number of threads may look up at once (stb_ds's
 * lookups write a temporary into the map's header, which is why this exists). Open addressing
 * with linear probing, at most half full.
 */
#ifndef LMRT_STRMAP_H
#define LMRT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lm_strmap {
    const char **keys; /* NULL = empty slot */
    int64_t *vals;
    size_t cap, n; /* cap is a power of two (0 before the first put) */
};

/* Index of key, or -1. */
int64_t lm_strmap_get(const struct lm_strmap *m, const char *key);
/* Insert key -> v. Returns 1 if inserted, 0 if key was already there (nothing changed), -1 if
 * memory ran out. */
int lm_strmap_put(struct lm_strmap *m, const char *key, int64_t v);
void lm_strmap_free(struct lm_strmap *m);

#endif
