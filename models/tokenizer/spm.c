/* models/tokenizer/spm.c - SentencePiece BPE (Llama 2 / Mistral v0.1; GGUF model "llama").
 *
 * tok_spm_encode appends the ids of one plain-text fragment, as SentencePiece's BPE model and
 * llama.cpp's SPM tokenizer do:
 *  1. Space prefix: when add_space_prefix is set, a space goes before the fragment. llama.cpp
 *     adds it to a fragment that starts the text or follows a special token; the framework
 *     only hands over fragments that do (two plain fragments are never adjacent, and empty
 *     ones are never passed: an empty fragment gives no ids, not a lone "▁").
 *  2. Every ' ' (U+0020 only; tabs and newlines stay) becomes U+2581 "▁".
 *  3. Each UTF-8 character is a symbol. Repeatedly the adjacent pair whose concatenation is a
 *     vocabulary piece with the highest score is merged (ties: the leftmost pair). Candidates sit
 *     in a binary heap and symbols in a linked list, so the whole is O(n log n); a heap entry
 *     whose symbols changed since it was pushed is recognised by its byte length and skipped.
 *     As in SentencePiece, only normal, user-defined and unused pieces can be formed by a merge:
 *     control, unknown and byte pieces ("<s>", "<0x41>") are never produced from plain text.
 *  4. Output: a symbol that is a piece gives its id. A merged symbol whose piece is not usable as
 *     output is resegmented into the two symbols it was merged from, recursively: llama.cpp does
 *     this for merged text that is not a token (its map from merged text back to the pair), and
 *     SentencePiece for pieces marked unused; both cases are handled here. A character that is
 *     not a piece gives its UTF-8 bytes as <0xXX> tokens when byte_fallback is set (and all of
 *     them exist), otherwise the unknown id.
 *
 * Speed (same output): the merges run word by word when the vocabulary proves that no merge
 * can cross the start of a word, and a word seen before in the fragment reuses its ids.
 *  - A word starts at a "▁" that follows a character other than "▁" (so a run of "▁" begins
 *    the word after it, as in SentencePiece's own split). Every symbol is a character or a
 *    mergeable piece, so when no mergeable piece holds a non-"▁" character followed by "▁"
 *    (tok_spm_prepare checks the whole vocabulary; true for Llama 2 / Mistral, whose
 *    whitespace pieces are all "▁" runs), no candidate pair ever spans a word start. Merges on
 *    either side of it then never meet, so running the queue per word gives the same merges
 *    in the same order within each word, hence the same ids.
 *  - Pieces are found in a private open-addressing table hashed over the bytes in place
 *    (tok_find copies the key and hashes a NUL-terminated string); a pair longer than the
 *    longest piece is not looked up at all.
 *  - Per call, a map from word bytes to the ids it gave (words up to CACHE_WORD bytes) skips
 *    the merges of repeated words. It lives in the call, so the const tokenizer stays safe to
 *    share between threads.
 */
#include <stdlib.h>
#include <string.h>

#include "tok.h"

/* A span of the escaped text: a character, or the merge of nodes a and b (a, b = -1 for a
 * character). The tree of merges is kept so that a merged span can be resegmented. */
struct node {
    uint32_t off, len;
    int32_t id; /* piece id of the span, -1 if none */
    int32_t a, b;
};

/* A live symbol in the linked list; it spans node `node`. len 0 = merged away. */
struct sym {
    int32_t prev, next;
    int32_t node;
    uint32_t len;
};

/* A candidate merge of the adjacent symbols left, right into piece id of size bytes. */
struct cand {
    float score;
    int32_t left, right;
    uint32_t size;
    int32_t id;
};

/* The piece table (t->spm): slot -> id + 1 (0 = empty), with the hash of its piece. */
struct spm_table {
    uint32_t mask;
    bool ws_split; /* no mergeable piece has "▁" after another character: split into words */
    uint32_t *hash;
    int32_t *slot;
};

/* Words up to this many bytes are cached per call; longer ones are rare and cheap to redo
 * relative to their length. */
#define CACHE_WORD 64

/* The per-call word cache: open addressing, slot -> entry + 1 (0 = empty). */
struct cache_entry {
    uint32_t off, len; /* the word in the escaped text */
    uint32_t first, n; /* its ids in ids[] */
    uint32_t hash;
};
struct cache {
    uint32_t mask, n;
    uint32_t *slot;
    struct cache_entry *e;
    int32_t *ids;
    size_t n_ids, cap_ids;
};

struct spm {
    const struct lm_tokenizer *t;
    const struct spm_table *tab; /* NULL: tok_find */
    const char *text;
    struct node *nodes;
    int32_t n_nodes;
    struct sym *syms;
    struct cand *heap;
    size_t n_heap, cap_heap;
};

/* 32-bit hash of s[0..n), 8 bytes at a time (any good spread will do: keys are short). */
static uint32_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        s += 8, n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDull;
    return (uint32_t)(h >> 32);
}

/* id of piece s[0..n) as tok_find gives it (same keys: non-empty pieces without a NUL, the
 * last id of a repeated piece), or -1 */
static int32_t find(const struct spm *m, const char *s, size_t n) {
    const struct spm_table *tb = m->tab;
    if (!tb) return tok_find(m->t, s, n);
    if (n == 0 || n > m->t->max_piece_len) return -1;
    uint32_t h = hash_bytes(s, n);
    for (uint32_t i = h & tb->mask;; i = (i + 1) & tb->mask) {
        int32_t v = tb->slot[i];
        if (!v) return -1;
        int32_t id = v - 1;
        if (tb->hash[i] == h && m->t->piece_len[id] == n && !memcmp(m->t->piece[id], s, n))
            return id;
    }
}

/* a pops before b: higher score, then the leftmost pair */
static bool cand_before(const struct cand *a, const struct cand *b) {
    if (a->score != b->score) return a->score > b->score;
    return a->left < b->left;
}

static lm_status heap_push(struct spm *m, struct cand c) {
    if (m->n_heap == m->cap_heap) {
        size_t cap = m->cap_heap ? m->cap_heap * 2 : 256;
        if (cap > SIZE_MAX / sizeof *m->heap) return lm_error(LM_ENOMEM, "spm: merge queue");
        struct cand *h = realloc(m->heap, cap * sizeof *h);
        if (!h) return lm_error(LM_ENOMEM, "spm: merge queue of %zu entries", cap);
        m->heap = h, m->cap_heap = cap;
    }
    size_t i = m->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_before(&c, &m->heap[p])) break;
        m->heap[i] = m->heap[p];
        i = p;
    }
    m->heap[i] = c;
    return LM_OK;
}

static struct cand heap_pop(struct spm *m) {
    struct cand top = m->heap[0];
    struct cand last = m->heap[--m->n_heap];
    size_t n = m->n_heap, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cand_before(&m->heap[c + 1], &m->heap[c])) c++;
        if (!cand_before(&m->heap[c], &last)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n) m->heap[i] = last;
    return top;
}

/* Pieces a merge may form (SentencePiece keeps control, unknown and byte pieces out of its
 * merge table). Type 0 (not set by a loader) counts as normal. */
static bool mergeable(const struct lm_tokenizer *t, int32_t id) {
    uint8_t ty = t->type ? t->type[id] : TOK_NORMAL;
    return ty != TOK_CONTROL && ty != TOK_UNKNOWN && ty != TOK_BYTE;
}

static lm_status try_pair(struct spm *m, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return LM_OK;
    const struct node *l = &m->nodes[m->syms[left].node];
    uint32_t size = m->syms[left].len + m->syms[right].len;
    if (m->tab && size > m->t->max_piece_len) return LM_OK;
    int32_t id = find(m, m->text + l->off, size);
    if (id < 0 || id >= m->t->n_vocab || !mergeable(m->t, id)) return LM_OK;
    float score = m->t->score ? m->t->score[id] : 0.0f;
    return heap_push(m, (struct cand){score, left, right, size, id});
}

/* The bytes of character node k as <0xXX> tokens, or the unknown id. off0 is the length of the
 * space prefix, so error offsets refer to the caller's fragment. */
static lm_status emit_char(struct spm *m, const struct node *k, struct lm_tokens *out,
                           uint32_t off0) {
    const struct lm_tokenizer *t = m->t;
    const unsigned char *p = (const unsigned char *)m->text + k->off;
    bool bytes = t->byte_fallback;
    for (uint32_t j = 0; bytes && j < k->len; j++)
        bytes = t->byte_token[p[j]] >= 0;
    if (bytes) {
        for (uint32_t j = 0; j < k->len; j++) {
            lm_status s = tok_push(out, t->byte_token[p[j]]);
            if (s) return s;
        }
        return LM_OK;
    }
    int32_t unk = t->special[LM_TOK_UNK];
    if (unk < 0 || unk >= t->n_vocab) {
        long at = k->off >= off0 ? (long)(k->off - off0) : 0;
        return lm_error(LM_EFORMAT,
                        "spm: character at byte %ld of the fragment is not in the vocabulary, "
                        "which has neither byte tokens nor an unknown token",
                        at);
    }
    return tok_push(out, unk);
}

/* Append the ids of node k, resegmenting merged spans that are not usable pieces. Iterative
 * (an explicit stack of node ids): a chain of merges can be as deep as the fragment is long. */
static lm_status emit(struct spm *m, int32_t k, int32_t *stack, struct lm_tokens *out,
                      uint32_t off0) {
    const struct lm_tokenizer *t = m->t;
    int64_t top = 0;
    stack[top++] = k;
    while (top > 0) {
        const struct node *nd = &m->nodes[stack[--top]];
        bool merged = nd->a >= 0;
        bool usable = nd->id >= 0 && !(merged && t->type && t->type[nd->id] == TOK_UNUSED);
        lm_status s;
        if (usable) {
            s = tok_push(out, nd->id);
        } else if (merged) {
            stack[top++] = nd->b; /* right after left */
            stack[top++] = nd->a;
            continue;
        } else {
            s = emit_char(m, nd, out, off0);
        }
        if (s) return s;
    }
    return LM_OK;
}

/* ---- the piece table ---- */

static bool is_mark(const char *p) { return p[0] == '\xe2' && p[1] == '\x96' && p[2] == '\x81'; }

/* Does piece p[0..n) hold "▁" right after a character other than "▁"? */
static bool mark_inside(const char *p, size_t n) {
    bool prev_other = false;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        size_t cl = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (cl > n - i) cl = n - i;
        bool mark = cl == 3 && is_mark(p + i);
        if (mark && prev_other) return true;
        prev_other = !mark;
        i += cl;
    }
    return false;
}

void tok_spm_free(struct lm_tokenizer *t) {
    struct spm_table *tb = t->spm;
    if (!tb) return;
    free(tb->hash);
    free(tb->slot);
    free(tb);
    t->spm = NULL;
}

lm_status tok_spm_prepare(struct lm_tokenizer *t, const char *what) {
    tok_spm_free(t);
    uint32_t cap = 64;
    while (cap < 2u * (uint32_t)t->n_vocab) /* n_vocab <= TOK_MAX_VOCAB: no overflow */
        cap *= 2;
    struct spm_table *tb = calloc(1, sizeof *tb);
    if (tb) tb->hash = calloc(cap, sizeof *tb->hash), tb->slot = calloc(cap, sizeof *tb->slot);
    if (!tb || !tb->hash || !tb->slot) {
        if (tb) free(tb->hash), free(tb->slot), free(tb);
        return lm_error(LM_ENOMEM, "%s: piece table of %u slots", what, cap);
    }
    tb->mask = cap - 1;
    tb->ws_split = true;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *p = t->piece[id];
        size_t n = t->piece_len[id];
        if (n == 0 || strlen(p) != n) continue; /* not in tok_find's index either */
        if (tb->ws_split && mergeable(t, id) && mark_inside(p, n)) tb->ws_split = false;
        uint32_t h = hash_bytes(p, n), i = h & tb->mask;
        for (;; i = (i + 1) & tb->mask) {
            int32_t v = tb->slot[i];
            if (!v) break;
            if (tb->hash[i] == h && t->piece_len[v - 1] == n && !memcmp(t->piece[v - 1], p, n))
                break; /* a repeated piece: the last id wins, as in tok_find */
        }
        tb->hash[i] = h;
        tb->slot[i] = id + 1;
    }
    t->spm = tb;
    return LM_OK;
}

/* ---- one word ---- */

/* Merge the characters of text[off..off+len) and append their ids. */
static lm_status encode_word(struct spm *m, uint32_t off, uint32_t len, int32_t *stack,
                             struct lm_tokens *out, uint32_t off0) {
    const struct lm_tokenizer *t = m->t;
    const char *text = m->text;
    int32_t n_sym = 0;
    for (uint32_t i = off, end = off + len; i < end;) {
        unsigned char c = (unsigned char)text[i];
        uint32_t cl = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (cl > end - i) cl = end - i; /* a stray byte stands alone: input is meant valid */
        int32_t id = find(m, text + i, cl);
        m->nodes[n_sym] = (struct node){i, cl, id < t->n_vocab ? id : -1, -1, -1};
        m->syms[n_sym] = (struct sym){n_sym - 1, -1, n_sym, cl};
        if (n_sym > 0) m->syms[n_sym - 1].next = n_sym;
        n_sym++;
        i += cl;
    }
    m->n_nodes = n_sym;
    m->n_heap = 0;

    lm_status st = LM_OK;
    for (int32_t i = 1; i < n_sym && !st; i++)
        st = try_pair(m, i - 1, i);
    while (!st && m->n_heap > 0) {
        struct cand c = heap_pop(m);
        struct sym *l = &m->syms[c.left], *r = &m->syms[c.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != c.size) continue; /* stale */
        int32_t k = m->n_nodes++;
        m->nodes[k] = (struct node){m->nodes[l->node].off, c.size, c.id, l->node, r->node};
        l->node = k;
        l->len = c.size;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) m->syms[r->next].prev = c.left;
        st = try_pair(m, l->prev, c.left);
        if (!st) st = try_pair(m, c.left, l->next);
    }

    /* symbol 0 is never merged away (merges fold the right symbol into the left) */
    for (int32_t i = 0; !st && i >= 0 && n_sym > 0; i = m->syms[i].next)
        st = emit(m, m->syms[i].node, stack, out, off0);
    return st;
}

/* ---- the per-call word cache ---- */

static void cache_free(struct cache *c) {
    free(c->slot);
    free(c->e);
    free(c->ids);
}

/* Slot of word text[off..off+len) with hash h: its entry, or the empty slot it would take. */
static uint32_t cache_slot(const struct cache *c, const char *text, uint32_t off, uint32_t len,
                           uint32_t h) {
    for (uint32_t i = h & c->mask;; i = (i + 1) & c->mask) {
        uint32_t v = c->slot[i];
        if (!v) return i;
        const struct cache_entry *e = &c->e[v - 1];
        if (e->hash == h && e->len == len && !memcmp(text + e->off, text + off, len)) return i;
    }
}

/* Remember that the word gave ids[0..n); on running out of memory the cache just stops
 * growing (it only saves time). */
static void cache_add(struct cache *c, const char *text, uint32_t off, uint32_t len, uint32_t h,
                      const int32_t *ids, int64_t n) {
    if (n <= 0 || n > CACHE_WORD) return;
    if (2 * (c->n + 1) > c->mask + 1) { /* keep the load at most 1/2 */
        uint32_t cap = c->mask ? 2 * (c->mask + 1) : 1024;
        if (cap > (1u << 30)) return;
        uint32_t *slot = calloc(cap, sizeof *slot);
        struct cache_entry *e = realloc(c->e, (cap / 2) * sizeof *e);
        if (e) c->e = e;
        if (!slot || !e) {
            free(slot);
            return;
        }
        free(c->slot);
        c->slot = slot, c->mask = cap - 1;
        for (uint32_t k = 0; k < c->n; k++) {
            uint32_t i = c->e[k].hash & c->mask;
            while (c->slot[i])
                i = (i + 1) & c->mask;
            c->slot[i] = k + 1;
        }
    }
    if (c->n_ids + (size_t)n > c->cap_ids) {
        size_t cap = c->cap_ids ? 2 * c->cap_ids : 4096;
        if (cap > UINT32_MAX) return;
        int32_t *p = realloc(c->ids, cap * sizeof *p);
        if (!p) return;
        c->ids = p, c->cap_ids = cap;
    }
    memcpy(c->ids + c->n_ids, ids, (size_t)n * sizeof *ids);
    c->e[c->n] = (struct cache_entry){off, len, (uint32_t)c->n_ids, (uint32_t)n, h};
    c->slot[cache_slot(c, text, off, len, h)] = ++c->n;
    c->n_ids += (size_t)n;
}

static lm_status push_ids(struct lm_tokens *out, const int32_t *ids, uint32_t n) {
    if (out->cap - out->n < (int64_t)n) {
        int64_t cap = out->cap ? out->cap : 64;
        while (cap - out->n < (int64_t)n)
            cap *= 2;
        int32_t *p = realloc(out->ids, (size_t)cap * sizeof *p);
        if (!p) return lm_error(LM_ENOMEM, "tokenize: %lld ids", (long long)cap);
        out->ids = p, out->cap = cap;
    }
    memcpy(out->ids + out->n, ids, (size_t)n * sizeof *ids);
    out->n += n;
    return LM_OK;
}

/* ---- the fragment ---- */

lm_status tok_spm_encode(const struct lm_tokenizer *t, const char *s, size_t n,
                         struct lm_tokens *out) {
    if (n == 0) return LM_OK;
    /* escaped length: prefix + every space as 3 bytes; symbols and nodes are int32-indexed */
    if (n > (INT32_MAX / 2 - 3) / 3)
        return lm_error(LM_ERANGE, "spm: fragment of %zu bytes is too long (limit %d)", n,
                        (INT32_MAX / 2 - 3) / 3);
    static const char mark[3] = {'\xe2', '\x96', '\x81'}; /* U+2581 */
    size_t cap = 3 * (n + 1);
    char *text = malloc(cap);
    if (!text) return lm_error(LM_ENOMEM, "spm: %zu bytes of text", cap);
    size_t len = 0;
    uint32_t off0 = 0;
    if (t->add_space_prefix) memcpy(text, mark, 3), len = 3, off0 = 3;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            memcpy(text + len, mark, 3), len += 3;
        else
            text[len++] = s[i];
    }

    const struct spm_table *tab = t->spm;
    bool split = tab && tab->ws_split;
    struct spm m = {.t = t, .tab = tab, .text = text};
    struct cache cache = {0};
    /* the longest word bounds the symbols (characters, then at most one merge fewer) */
    size_t wmax = len;
    if (split) {
        wmax = 0;
        for (size_t i = 0, w0 = 0; i <= len; i++)
            if (i == len || (i > w0 && i + 3 <= len && is_mark(text + i) &&
                             (i < 3 || !is_mark(text + i - 3)))) {
                if (i - w0 > wmax) wmax = i - w0;
                w0 = i;
            }
    }
    m.nodes = malloc(2 * wmax * sizeof *m.nodes);
    m.syms = malloc(wmax * sizeof *m.syms);
    int32_t *stack = malloc(2 * wmax * sizeof *stack);
    lm_status st = LM_OK;
    if (!m.nodes || !m.syms || !stack) {
        st = lm_error(LM_ENOMEM, "spm: symbols for %zu bytes", wmax);
        goto done;
    }

    if (!split) {
        st = encode_word(&m, 0, (uint32_t)len, stack, out, off0);
        goto done;
    }
    /* a word ends before a "▁" that follows another character; each is looked up in the
     * cache, or merged and remembered */
    uint32_t w0 = 0;
    for (uint32_t i = 0; !st && i <= len;) {
        bool end = i == len || (i > w0 && i + 3 <= len && is_mark(text + i) &&
                                (i < 3 || !is_mark(text + i - 3)));
        if (!end) {
            unsigned char c = (unsigned char)text[i];
            i += c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (i > len) i = (uint32_t)len;
            continue;
        }
        uint32_t wl = i - w0;
        if (wl <= CACHE_WORD) {
            uint32_t h = hash_bytes(text + w0, wl);
            uint32_t v = cache.mask ? cache.slot[cache_slot(&cache, text, w0, wl, h)] : 0;
            if (v) {
                const struct cache_entry *e = &cache.e[v - 1];
                st = push_ids(out, cache.ids + e->first, e->n);
            } else {
                int64_t before = out->n;
                st = encode_word(&m, w0, wl, stack, out, off0);
                if (!st) cache_add(&cache, text, w0, wl, h, out->ids + before, out->n - before);
            }
        } else {
            st = encode_word(&m, w0, wl, stack, out, off0);
        }
        w0 = i;
        if (i == len) break;
    }

done:
    cache_free(&cache);
    free(stack);
    free(m.heap);
    free(m.syms);
    free(m.nodes);
    free(text);
    return st;
}
