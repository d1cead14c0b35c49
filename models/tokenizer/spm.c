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

struct spm {
    const struct lm_tokenizer *t;
    const char *text;
    struct node *nodes;
    int32_t n_nodes;
    struct sym *syms;
    struct cand *heap;
    size_t n_heap, cap_heap;
};

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
    int32_t id = tok_find(m->t, m->text + l->off, size);
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

    struct spm m = {.t = t, .text = text};
    m.nodes = malloc(2 * len * sizeof *m.nodes); /* characters, then at most len-1 merges */
    m.syms = malloc(len * sizeof *m.syms);
    int32_t *stack = malloc(2 * len * sizeof *stack);
    lm_status st = LM_OK;
    if (!m.nodes || !m.syms || !stack) {
        st = lm_error(LM_ENOMEM, "spm: symbols for %zu bytes", len);
        goto done;
    }

    /* one symbol per UTF-8 character (a stray byte stands alone: input is meant to be valid) */
    int32_t n_sym = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        size_t cl = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (cl > len - i) cl = len - i;
        m.nodes[n_sym] =
            (struct node){(uint32_t)i, (uint32_t)cl, tok_find(t, text + i, cl), -1, -1};
        if (m.nodes[n_sym].id >= t->n_vocab) m.nodes[n_sym].id = -1;
        m.syms[n_sym] = (struct sym){n_sym - 1, -1, n_sym, (uint32_t)cl};
        if (n_sym > 0) m.syms[n_sym - 1].next = n_sym;
        n_sym++;
        i += cl;
    }
    m.n_nodes = n_sym;

    for (int32_t i = 1; i < n_sym && !st; i++)
        st = try_pair(&m, i - 1, i);
    while (!st && m.n_heap > 0) {
        struct cand c = heap_pop(&m);
        struct sym *l = &m.syms[c.left], *r = &m.syms[c.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != c.size) continue; /* stale */
        int32_t k = m.n_nodes++;
        m.nodes[k] = (struct node){m.nodes[l->node].off, c.size, c.id, l->node, r->node};
        l->node = k;
        l->len = c.size;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) m.syms[r->next].prev = c.left;
        st = try_pair(&m, l->prev, c.left);
        if (!st) st = try_pair(&m, c.left, l->next);
    }

    /* symbol 0 is never merged away (merges fold the right symbol into the left) */
    for (int32_t i = 0; !st && i >= 0 && n_sym > 0; i = m.syms[i].next)
        st = emit(&m, m.syms[i].node, stack, out, off0);

done:
    free(stack);
    free(m.heap);
    free(m.syms);
    free(m.nodes);
    free(text);
    return st;
}
