/* rt/strmap.c - string -> index hash map (see strmap.h): FNV-1a hashing, linear probing,
 * doubling when half full. */
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static uint64_t hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

int64_t lm_strmap_get(const struct lm_strmap *m, const char *key) {
    if (!m->cap) return -1;
    for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (!strcmp(m->keys[i], key)) return m->vals[i];
    }
}

static int grow(struct lm_strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    const char **keys = calloc(cap, sizeof *keys);
    int64_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t j = 0; j < m->cap; j++) {
        if (!m->keys[j]) continue;
        size_t i = hash(m->keys[j]) & (cap - 1);
        while (keys[i])
            i = (i + 1) & (cap - 1);
        keys[i] = m->keys[j], vals[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys, m->vals = vals, m->cap = cap;
    return 0;
}

int lm_strmap_put(struct lm_strmap *m, const char *key, int64_t v) {
    if (2 * (m->n + 1) > m->cap && grow(m)) return -1;
    size_t i = hash(key) & (m->cap - 1);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (!strcmp(m->keys[i], key)) return 0;
    m->keys[i] = key, m->vals[i] = v;
    m->n++;
    return 1;
}

void lm_strmap_free(struct lm_strmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
