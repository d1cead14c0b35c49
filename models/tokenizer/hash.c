/* models/tokenizer/hash.c - piece and merge-pair tables (see hash.h).
 *
 * Hashes: pieces use FNV-1a over the bytes, then a 64-bit finaliser so that the low bits used
 * for the slot and the high 32 bits kept for comparison are both well mixed; pair keys (two
 * 32-bit ids) use the same finaliser alone.
 */
#include "hash.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h) { /* the murmur3 / splitmix finaliser */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return mix(h);
}

static uint64_t cap_for(int64_t n) {
    uint64_t c = 16;
    while (c < (uint64_t)(n > 0 ? n : 1) * 2)
        c <<= 1;
    return c;
}

bool tok_piece_map_init(struct tok_piece_map *m, int64_t n) {
    uint64_t cap = cap_for(n);
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1, m->n = 0;
    return m->slots != NULL;
}

/* Slot for piece (s, n) with hash h: where it is, or the empty slot where it goes. */
static uint64_t piece_slot(const struct tok_piece_map *m, const char *const *pieces,
                           const uint32_t *lens, const char *s, size_t n, uint64_t h) {
    const uint64_t tag = h >> 32 << 32;
    for (uint64_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t e = m->slots[i];
        if (e == 0) return i;
        int32_t id = (int32_t)(uint32_t)e - 1;
        if ((e >> 32 << 32) == tag && lens[id] == n && !memcmp(pieces[id], s, n)) return i;
    }
}

bool tok_piece_map_put(struct tok_piece_map *m, const char *const *pieces, const uint32_t *lens,
                       int32_t id) {
    if (!m->slots && !tok_piece_map_init(m, 0)) return false;
    if ((m->n + 1) * 2 > m->mask + 1) { /* double, re-placing every id */
        struct tok_piece_map g;
        if (!tok_piece_map_init(&g, (int64_t)(m->mask + 1))) return false;
        for (uint64_t i = 0; i <= m->mask; i++) {
            uint64_t e = m->slots[i];
            if (!e) continue;
            int32_t k = (int32_t)(uint32_t)e - 1;
            g.slots[piece_slot(&g, pieces, lens, pieces[k], lens[k],
                               hash_bytes(pieces[k], lens[k]))] = e;
        }
        g.n = m->n;
        free(m->slots);
        *m = g;
    }
    const uint64_t h = hash_bytes(pieces[id], lens[id]);
    const uint64_t i = piece_slot(m, pieces, lens, pieces[id], lens[id], h);
    if (m->slots[i] == 0) m->n++;
    m->slots[i] = h >> 32 << 32 | (uint32_t)(id + 1);
    return true;
}

int32_t tok_piece_map_get(const struct tok_piece_map *m, const char *const *pieces,
                          const uint32_t *lens, const char *s, size_t n) {
    if (!m->slots) return -1;
    uint64_t e = m->slots[piece_slot(m, pieces, lens, s, n, hash_bytes(s, n))];
    return e ? (int32_t)(uint32_t)e - 1 : -1;
}

void tok_piece_map_free(struct tok_piece_map *m) {
    free(m->slots);
    m->slots = NULL;
}

bool tok_pair_map_init(struct tok_pair_map *m, int64_t n) {
    uint64_t cap = cap_for(n);
    m->keys = calloc(cap, sizeof *m->keys);
    m->rank = malloc(cap * sizeof *m->rank);
    m->id = malloc(cap * sizeof *m->id);
    m->mask = cap - 1, m->n = 0;
    if (m->keys && m->rank && m->id) return true;
    tok_pair_map_free(m);
    return false;
}

static uint64_t pair_slot(const struct tok_pair_map *m, uint64_t key) {
    for (uint64_t i = mix(key) & m->mask;; i = (i + 1) & m->mask)
        if (m->keys[i] == key + 1 || m->keys[i] == 0) return i;
}

bool tok_pair_map_put(struct tok_pair_map *m, uint64_t key, int32_t rank, int32_t id) {
    if (!m->keys && !tok_pair_map_init(m, 0)) return false;
    if ((m->n + 1) * 2 > m->mask + 1) {
        struct tok_pair_map g;
        if (!tok_pair_map_init(&g, (int64_t)(m->mask + 1))) return false;
        for (uint64_t i = 0; i <= m->mask; i++) {
            if (!m->keys[i]) continue;
            uint64_t j = pair_slot(&g, m->keys[i] - 1);
            g.keys[j] = m->keys[i], g.rank[j] = m->rank[i], g.id[j] = m->id[i];
        }
        g.n = m->n;
        tok_pair_map_free(m);
        *m = g;
    }
    uint64_t i = pair_slot(m, key);
    if (m->keys[i]) return true;
    m->keys[i] = key + 1, m->rank[i] = rank, m->id[i] = id;
    m->n++;
    return true;
}

int64_t tok_pair_map_find(const struct tok_pair_map *m, uint64_t key) {
    if (!m->keys) return -1;
    uint64_t i = pair_slot(m, key);
    return m->keys[i] ? (int64_t)i : -1;
}

void tok_pair_map_free(struct tok_pair_map *m) {
    free(m->keys);
    free(m->rank);
    free(m->id);
    m->keys = NULL, m->rank = m->id = NULL;
}
