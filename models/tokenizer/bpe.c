/* models/tokenizer/bpe.c - byte-level BPE (GPT-2 style): pre-tokenizer regexes, the byte <->
 * unicode-char map, the merge table and the merge loop.
 *
 * Pre-tokenization: a list of PCRE2 patterns (UTF + UCP, JIT when the library has it), applied
 * one after another; each splits every piece into its matches and the gaps between them (HF's
 * Split with behaviour "Isolated", and what llama.cpp does with its list per `pre` name). A
 * pattern only sees its piece: a lookahead stops at the piece's end, as in HF.
 *
 * Merging: each byte of a pre-token is one symbol (the id of its GPT-2 char); symbols form a
 * linked list and every adjacent pair with a merge sits in a 4-ary heap keyed by (rank, left
 * position). Popping the best pair, checking it is still current (both symbols alive, same
 * ids), merging it and pushing the two new neighbour pairs makes a word of n bytes cost
 * O(n log n): a megabyte without a single space is one word and still takes milliseconds.
 * The merge table (hash.h) maps (left id, right id) to (rank, merged id).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include <stb_ds.h>

#include "tok.h"

#define MAX_PATTERNS 8

struct pretok {
    int n, prefix_level;
    pcre2_code *re[MAX_PATTERNS];
};

/* ---- the GPT-2 byte map: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * (controls, space, DEL..NBSP, soft hyphen) for U+0100.. in byte order ---- */

uint32_t tok_byte_to_cp(uint8_t b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 256u + 33u + (b - 127u);
    return 256u + 33u + 34u; /* 173 */
}

int tok_cp_to_byte(uint32_t c) {
    if ((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255)) return (int)c;
    if (c >= 256 && c <= 288) return (int)(c - 256);
    if (c >= 289 && c <= 322) return (int)(c - 289 + 127);
    if (c == 323) return 173;
    return -1;
}

/* ---- pre-tokenizer patterns (facts from HF tokenizer.json files and llama.cpp's list) ---- */

const char *const tok_gpt2_pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static const char *const pat_gpt2[] = {tok_gpt2_pattern};
static const char *const pat_smollm[] = {"\\p{N}", tok_gpt2_pattern};
static const char *const pat_llama3[] = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const pat_qwen2[] = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const pat_default[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", tok_gpt2_pattern, "\\p{N}+",
                                          "[0-9][0-9][0-9]"};

struct pre_name {
    const char *name;
    const char *const *pat;
    int n;
    bool ignore_merges, add_bos;
};
#define PAT(p) p, (int)(sizeof p / sizeof p[0])
static const struct pre_name pre_names[] = {
    {"gpt2", PAT(pat_gpt2), false, false},        {"gpt-2", PAT(pat_gpt2), false, false},
    {"phi-2", PAT(pat_gpt2), false, false},       {"mpt", PAT(pat_gpt2), false, false},
    {"olmo", PAT(pat_gpt2), false, false},        {"jais", PAT(pat_gpt2), false, false},
    {"roberta-bpe", PAT(pat_gpt2), false, false}, {"exaone4", PAT(pat_gpt2), false, false},
    {"smollm", PAT(pat_smollm), false, false},    {"starcoder", PAT(pat_smollm), false, false},
    {"refact", PAT(pat_smollm), false, false},    {"command-r", PAT(pat_smollm), false, false},
    {"codeshell", PAT(pat_smollm), false, false}, {"exaone", PAT(pat_smollm), false, false},
    {"llama3", PAT(pat_llama3), true, true},      {"llama-v3", PAT(pat_llama3), true, true},
    {"llama-bpe", PAT(pat_llama3), true, true},   {"falcon3", PAT(pat_llama3), true, true},
    {"pixtral", PAT(pat_llama3), true, true},     {"lfm2", PAT(pat_llama3), true, true},
    {"dbrx", PAT(pat_llama3), false, false},      {"smaug-bpe", PAT(pat_llama3), false, false},
    {"qwen2", PAT(pat_qwen2), false, false},      {"stablelm2", PAT(pat_qwen2), false, false},
    {"default", PAT(pat_default), false, false},
};

const char *const *tok_bpe_pre_patterns(const char *pre, int *n, bool *ignore_merges,
                                        bool *add_bos) {
    for (size_t i = 0; i < sizeof pre_names / sizeof pre_names[0]; i++) {
        if (strcmp(pre, pre_names[i].name) != 0) continue;
        *n = pre_names[i].n;
        *ignore_merges = pre_names[i].ignore_merges;
        *add_bos = pre_names[i].add_bos;
        return pre_names[i].pat;
    }
    return NULL;
}

lm_status tok_bpe_set_pretok(struct lm_tokenizer *t, const char *const *patterns, int n,
                             int prefix_level) {
    if (n < 0 || n > MAX_PATTERNS)
        return lm_error(LM_EUNSUPPORTED, "pre-tokenizer: %d regexes (at most %d)", n, MAX_PATTERNS);
    struct pretok *p = calloc(1, sizeof *p);
    if (!p) return lm_error(LM_ENOMEM, "pre-tokenizer");
    if (t->pretok) {
        struct pretok *old = t->pretok;
        for (int i = 0; i < old->n; i++)
            pcre2_code_free(old->re[i]);
        free(old);
    }
    t->pretok = p;
    p->prefix_level = prefix_level > n ? n : prefix_level;
    for (int i = 0; i < n; i++) {
        int err;
        PCRE2_SIZE off;
        p->re[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
        if (!p->re[i]) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(err, msg, sizeof msg);
            return lm_error(LM_EFORMAT, "pre-tokenizer regex %d: %s at offset %zu", i,
                            (const char *)msg, (size_t)off);
        }
        p->n = i + 1;
        pcre2_jit_compile(p->re[i], PCRE2_JIT_COMPLETE); /* an interpreter fallback is fine */
    }
    return LM_OK;
}

/* ---- merges ---- */

static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

lm_status tok_bpe_add_merge(struct lm_tokenizer *t, const char *left, size_t nl, const char *right,
                            size_t nr, int64_t index, const char *what) {
    int32_t a = tok_find(t, left, nl), b = tok_find(t, right, nr);
    if (a < 0 || b < 0)
        return lm_error(LM_EFORMAT, "%s: merge %lld: '%.*s' is not in the vocabulary", what,
                        (long long)index, (int)(a < 0 ? nl : nr), a < 0 ? left : right);
    if (index > INT32_MAX) return lm_error(LM_ERANGE, "%s: merge %lld", what, (long long)index);
    char small[256], *joined = small;
    if (nl + nr > sizeof small && !(joined = malloc(nl + nr)))
        return lm_error(LM_ENOMEM, "%s: merge %lld", what, (long long)index);
    memcpy(joined, left, nl);
    memcpy(joined + nl, right, nr);
    int32_t id = tok_find(t, joined, nl + nr);
    if (joined != small) free(joined);
    if (id < 0)
        return lm_error(LM_EFORMAT, "%s: merge %lld: '%.*s%.*s' is not in the vocabulary", what,
                        (long long)index, (int)nl, left, (int)nr, right);
    /* a repeated pair keeps its first (best) rank */
    if (!tok_pair_map_put(&t->merges, pair_key(a, b), (int32_t)index, id))
        return lm_error(LM_ENOMEM, "%s: merge %lld", what, (long long)index);
    if (index + 1 > t->n_merges) t->n_merges = index + 1;
    return LM_OK;
}

void tok_bpe_free(struct lm_tokenizer *t) {
    tok_pair_map_free(&t->merges);
    struct pretok *p = t->pretok;
    if (p) {
        for (int i = 0; i < p->n; i++)
            pcre2_code_free(p->re[i]);
        free(p);
    }
    t->pretok = NULL;
}

/* ---- encoding ---- */

/* A symbol of the word being merged. rank/merged: the merge of this symbol with its right
 * neighbour (-1 when none), kept current by try_pair, so a heap entry is still valid exactly
 * when its symbol is alive and still has the entry's rank (ranks are unique per pair). */
struct sym {
    int32_t id, prev, next, rank, merged;
};

struct work {
    const struct lm_tokenizer *t;
    struct lm_tokens *out;
    pcre2_match_data *md[MAX_PATTERNS];
    struct sym *sym;
    uint64_t *heap; /* rank << 32 | position: one integer compare orders (rank, position) */
    char *mapped, *prefixed;
    size_t sym_cap, heap_n, heap_cap, mapped_cap, prefixed_cap;
};

/* A 4-ary min-heap: half the depth of a binary one, and the four children share a cache line,
 * which matters once a megabyte-long word puts millions of entries in it. */
static void heap_push(struct work *w, uint64_t c) {
    size_t i = w->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 4;
        if (c >= w->heap[p]) break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = c;
}

static uint64_t heap_pop(struct work *w) {
    uint64_t top = w->heap[0], last = w->heap[--w->heap_n];
    size_t i = 0, n = w->heap_n;
    for (;;) {
        size_t c = 4 * i + 1, end = c + 4 < n ? c + 4 : n;
        if (c >= n) break;
        size_t best = c;
        for (size_t k = c + 1; k < end; k++)
            if (w->heap[k] < w->heap[best]) best = k;
        if (w->heap[best] >= last) break;
        w->heap[i] = w->heap[best];
        i = best;
    }
    if (n) w->heap[i] = last;
    return top;
}

static void try_pair(struct work *w, int32_t pos) {
    if (pos < 0) return;
    struct sym *l = &w->sym[pos];
    l->rank = -1;
    if (l->next < 0) return;
    const struct tok_pair_map *m = &w->t->merges;
    int64_t k = tok_pair_map_find(m, pair_key(l->id, w->sym[l->next].id));
    if (k < 0) return;
    l->rank = m->rank[k], l->merged = m->id[k];
    heap_push(w, (uint64_t)(uint32_t)l->rank << 32 | (uint32_t)pos);
}

static lm_status grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return LM_OK;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return lm_error(LM_ENOMEM, "bpe: work space for %zu symbols", need);
    *p = q, *cap = c;
    return LM_OK;
}

static lm_status bpe_word(struct work *w, const unsigned char *s, size_t n) {
    const struct lm_tokenizer *t = w->t;
    lm_status st;
    if (n == 0) return LM_OK;
    if (n > INT32_MAX / 2) return lm_error(LM_ERANGE, "bpe: a pre-token of %zu bytes", n);
    if (t->ignore_merges) { /* the whole pre-token, in GPT-2 chars, may be one token */
        if ((st = grow((void **)&w->mapped, &w->mapped_cap, 2 * n, 1)) != LM_OK) return st;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t c = tok_byte_to_cp(s[i]);
            if (c < 0x80)
                w->mapped[m++] = (char)c;
            else
                w->mapped[m++] = (char)(0xc0 | c >> 6), w->mapped[m++] = (char)(0x80 | (c & 63));
        }
        int32_t id = tok_find(t, w->mapped, m);
        if (id >= 0) return tok_push(w->out, id);
    }
    if ((st = grow((void **)&w->sym, &w->sym_cap, n, sizeof *w->sym)) != LM_OK) return st;
    if ((st = grow((void **)&w->heap, &w->heap_cap, 3 * n, sizeof *w->heap)) != LM_OK) return st;
    int32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_token[s[i]];
        if (id < 0) continue; /* a byte the vocabulary lacks is dropped, as HF does */
        w->sym[m] = (struct sym){id, m - 1, m + 1, -1, -1};
        m++;
    }
    if (m == 0) return LM_OK;
    w->sym[m - 1].next = -1;
    w->heap_n = 0;
    for (int32_t i = 0; i < m; i++)
        try_pair(w, i);
    while (w->heap_n) {
        uint64_t c = heap_pop(w);
        int32_t pos = (int32_t)(uint32_t)c, rank = (int32_t)(c >> 32);
        struct sym *l = &w->sym[pos];
        if (l->id < 0 || l->rank != rank) continue; /* stale: the pair changed since */
        int32_t r = l->next;
        l->id = l->merged;
        l->next = w->sym[r].next;
        if (l->next >= 0) w->sym[l->next].prev = pos;
        w->sym[r].id = -1;
        try_pair(w, l->prev);
        try_pair(w, pos);
    }
    for (int32_t i = 0; i >= 0; i = w->sym[i].next)
        if ((st = tok_push(w->out, w->sym[i].id)) != LM_OK) return st;
    return LM_OK;
}

/* Split s[0..n) with pattern k (matches and gaps), handing each piece to pattern k + 1. */
static lm_status split(struct work *w, int k, const char *s, size_t n) {
    const struct pretok *p = w->t->pretok;
    lm_status st;
    if (p && k == p->prefix_level && s[0] != ' ') { /* at most one level: one buffer */
        if ((st = grow((void **)&w->prefixed, &w->prefixed_cap, n + 1, 1)) != LM_OK) return st;
        w->prefixed[0] = ' ';
        memcpy(w->prefixed + 1, s, n);
        s = w->prefixed, n++;
    }
    if (!p || k >= p->n) return bpe_word(w, (const unsigned char *)s, n);
    size_t at = 0, gap = 0;
    while (at < n) {
        int rc = pcre2_match(p->re[k], (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, w->md[k], NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return lm_error(LM_EUNSUPPORTED, "pre-tokenizer regex %d at byte %zu: %s", k, at,
                            (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md[k]);
        size_t b = ov[0], e = ov[1];
        if (e <= b) { /* an empty match splits nothing: step one character */
            at = b + 1;
            while (at < n && ((unsigned char)s[at] & 0xc0) == 0x80)
                at++;
            continue;
        }
        if (b > gap && (st = split(w, k + 1, s + gap, b - gap)) != LM_OK) return st;
        if ((st = split(w, k + 1, s + b, e - b)) != LM_OK) return st;
        at = gap = e;
    }
    if (gap < n) return split(w, k + 1, s + gap, n - gap);
    return LM_OK;
}

lm_status tok_bpe_encode(const struct lm_tokenizer *t, const char *s, size_t n,
                         struct lm_tokens *out) {
    if (!t->merges.keys && t->n_merges) return lm_error(LM_EINVAL, "bpe: merges missing");
    struct work w = {.t = t, .out = out};
    const struct pretok *p = t->pretok;
    lm_status st = LM_OK;
    for (int i = 0; p && i < p->n; i++)
        if (!(w.md[i] = pcre2_match_data_create_from_pattern(p->re[i], NULL))) {
            st = lm_error(LM_ENOMEM, "bpe: regex match data");
            goto done;
        }
    st = split(&w, 0, s, n);
done:
    for (int i = 0; i < MAX_PATTERNS; i++)
        pcre2_match_data_free(w.md[i]);
    free(w.sym);
    free(w.heap);
    free(w.mapped);
    free(w.prefixed);
    return st;
}
