/* models/tokenizer/hash.h - the tokenizer's two lookup tables (models/tokenizer/hash.c):
 * piece bytes -> id, and a pair of ids -> merge (rank, id).
 *
 * Both are open addressing with linear probing, at most half full (a put that would pass half
 * doubles the table; init with the expected count avoids that while loading 50-250k entries),
 * and read-only after loading, so any number of threads may look up at once. The piece table stores
 * a 32-bit hash beside each id so that a probe compares bytes only when the hashes agree.
 */
#ifndef LMRT_TOK_HASH_H
#define LMRT_TOK_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tok_piece_map {
    uint64_t *slots; /* hash32 << 32 | (id + 1); 0 = empty */
    uint64_t mask, n;
};
struct tok_pair_map {
    uint64_t *keys; /* pair key + 1; 0 = empty */
    int32_t *rank, *id;
    uint64_t mask, n;
};

/* Room for n entries without growing. false when memory runs out. */
bool tok_piece_map_init(struct tok_piece_map *m, int64_t n);
/* pieces[id] / lens[id] give each id's bytes: the map keeps ids only. A piece already present
 * gets the new id (the last one wins, as a dict built in vocabulary order). false: no memory. */
bool tok_piece_map_put(struct tok_piece_map *m, const char *const *pieces, const uint32_t *lens,
                       int32_t id);
int32_t tok_piece_map_get(const struct tok_piece_map *m, const char *const *pieces,
                          const uint32_t *lens, const char *s, size_t n); /* -1 if absent */
void tok_piece_map_free(struct tok_piece_map *m);

bool tok_pair_map_init(struct tok_pair_map *m, int64_t n);
/* Insert key -> (rank, id) unless key is present (the first, best-ranked merge stays). false:
 * no memory. */
bool tok_pair_map_put(struct tok_pair_map *m, uint64_t key, int32_t rank, int32_t id);
/* Slot of key or -1; m->rank[slot], m->id[slot] hold the value. */
int64_t tok_pair_map_find(const struct tok_pair_map *m, uint64_t key);
void tok_pair_map_free(struct tok_pair_map *m);

#endif
