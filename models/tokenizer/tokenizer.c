/* models/tokenizer/tokenizer.c - the tokenizer framework: the public lm_tokenizer_* API, the
 * piece -> id index (stb_ds string map), UTF-8 repair, special/added-token matching, BOS/EOS
 * and CLS/SEP, and the helpers the loaders share.
 *
 * lm_tokenize: the text is first made valid UTF-8 (each maximal invalid subpart becomes U+FFFD,
 * the rule Python's bytes.decode(errors="replace") follows), then split at added tokens
 * (leftmost match, longest first at a position, lstrip/rstrip/single_word as tokenizer.json
 * says), and every plain fragment in between goes to the kind's encoder. User-defined tokens
 * (GGUF USER_DEFINED, tokenizer.json added tokens with "special": false) always match, as in HF
 * tokenizers and llama.cpp; control and unknown tokens match only under LM_TOK_PARSE_SPECIAL. The
 * special tokens are bucketed by first byte so the scan is one pass over the text whatever the
 * number of added tokens (LFM2 has 507).
 */
#include <stdlib.h>
#include <string.h>

#include <stb_ds.h>
#include <utf8proc.h>

#include "tok.h"

/* ---- small helpers ---- */

lm_status tok_push(struct lm_tokens *out, int32_t id) {
    if (out->n == out->cap) {
        int64_t cap = out->cap ? out->cap * 2 : 64;
        int32_t *p = realloc(out->ids, (size_t)cap * sizeof *p);
        if (!p) return lm_error(LM_ENOMEM, "tokenize: %lld ids", (long long)cap);
        out->ids = p, out->cap = cap;
    }
    out->ids[out->n++] = id;
    return LM_OK;
}

lm_status lm_text_append(struct lm_text *out, const char *s, size_t n) {
    if (out->n + n + 1 > out->cap) {
        size_t cap = out->cap ? out->cap : 64;
        while (cap < out->n + n + 1)
            cap *= 2;
        char *p = realloc(out->s, cap);
        if (!p) return lm_error(LM_ENOMEM, "out of memory for %zu bytes of text", cap);
        out->s = p, out->cap = cap;
    }
    if (n) memcpy(out->s + out->n, s, n);
    out->n += n;
    out->s[out->n] = '\0';
    return LM_OK;
}

void lm_tokens_free(struct lm_tokens *v) {
    if (!v) return;
    free(v->ids);
    v->ids = NULL, v->n = v->cap = 0;
}

void lm_text_free(struct lm_text *v) {
    if (!v) return;
    free(v->s);
    v->s = NULL, v->n = v->cap = 0;
}

/* ---- UTF-8 ---- */

/* A complete valid character at s: its length. Otherwise 0, with *prefix the bytes that form a
 * valid start of one (0 when s[0] cannot start a character) and *need > 0 when s[0..n) is such a
 * start cut short by the end of the buffer. */
static int utf8_scan(const unsigned char *s, size_t n, int *need, int *prefix) {
    *need = 0, *prefix = 0;
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int len;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c == 0xe0)
        len = 3, lo = 0xa0;
    else if (c == 0xed)
        len = 3, hi = 0x9f; /* no surrogates */
    else if (c >= 0xe1 && c <= 0xef)
        len = 3;
    else if (c == 0xf0)
        len = 4, lo = 0x90;
    else if (c == 0xf4)
        len = 4, hi = 0x8f; /* nothing past U+10FFFF */
    else if (c >= 0xf1 && c <= 0xf3)
        len = 4;
    else
        return 0;
    for (int i = 1; i < len; i++) {
        *prefix = i;
        if ((size_t)i >= n) {
            *need = len - i;
            return 0;
        }
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return 0;
    }
    *prefix = 0;
    return len;
}

int tok_utf8_char(const unsigned char *s, size_t n, int *need) {
    int prefix;
    return utf8_scan(s, n, need, &prefix);
}

size_t tok_utf8_sanitize(struct lm_text *out, const char *s, size_t n, bool final, lm_status *st) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* s[run..i) is valid and not yet copied */
    *st = LM_OK;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int need, prefix, len = utf8_scan(u + i, n - i, &need, &prefix);
        if (len) {
            i += (size_t)len;
            continue;
        }
        if (need > 0 && !final) break; /* incomplete at the end: wait for more */
        if ((*st = lm_text_append(out, s + run, i - run)) != LM_OK) return i;
        if ((*st = lm_text_append(out, "\xef\xbf\xbd", 3)) != LM_OK) return i;
        i += prefix > 0 ? (size_t)prefix : 1; /* the maximal subpart becomes one U+FFFD */
        run = i;
    }
    if ((*st = lm_text_append(out, s + run, i - run)) != LM_OK) return run;
    return i;
}

/* ---- construction ---- */

/* Ids no file names (holes in a tokenizer.json vocabulary) share this empty piece. */
static char empty_piece[1];

lm_status tok_new(enum lm_tok_kind kind, int64_t n_vocab, const char *what,
                  struct lm_tokenizer **out) {
    *out = NULL;
    if (n_vocab < 1 || n_vocab > TOK_MAX_VOCAB)
        return lm_error(LM_ERANGE, "%s: vocabulary of %lld tokens (1..%d)", what,
                        (long long)n_vocab, TOK_MAX_VOCAB);
    struct lm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lm_error(LM_ENOMEM, "%s: tokenizer", what);
    t->kind = kind;
    t->n_vocab = (int32_t)n_vocab;
    t->piece = calloc((size_t)n_vocab, sizeof *t->piece);
    t->piece_len = calloc((size_t)n_vocab, sizeof *t->piece_len);
    t->score = calloc((size_t)n_vocab, sizeof *t->score);
    t->type = malloc((size_t)n_vocab);
    t->flags = calloc((size_t)n_vocab, 1);
    if (!t->piece || !t->piece_len || !t->score || !t->type || !t->flags) {
        lm_tokenizer_free(t);
        return lm_error(LM_ENOMEM, "%s: vocabulary of %lld tokens", what, (long long)n_vocab);
    }
    memset(t->type, TOK_NORMAL, (size_t)n_vocab);
    for (int i = 0; i < LM_TOK_SPECIAL_COUNT; i++)
        t->special[i] = -1;
    for (int i = 0; i < 256; i++)
        t->byte_token[i] = -1;
    t->max_input_chars_per_word = 100;
    *out = t;
    return LM_OK;
}

lm_status tok_set_piece(struct lm_tokenizer *t, int32_t id, const char *s, size_t n) {
    if (n > UINT32_MAX - 1) return lm_error(LM_ERANGE, "token %d: piece of %zu bytes", id, n);
    char *p = malloc(n + 1);
    if (!p) return lm_error(LM_ENOMEM, "token %d: piece of %zu bytes", id, n);
    memcpy(p, s, n);
    p[n] = '\0';
    if (t->piece[id] != empty_piece) free(t->piece[id]);
    t->piece[id] = p;
    t->piece_len[id] = (uint32_t)n;
    return LM_OK;
}

static int cmp_match(const void *a, const void *b, void *ctx) {
    const struct lm_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    unsigned char fx = (unsigned char)t->piece[x][0], fy = (unsigned char)t->piece[y][0];
    if (fx != fy) return fx < fy ? -1 : 1;
    if (t->piece_len[x] != t->piece_len[y]) return t->piece_len[x] > t->piece_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* qsort has no context argument in C11: a small insertion-merge sort of our own would do, but
 * the list is short (hundreds), so a plain insertion sort is enough and keeps it portable. */
static void sort_matchable(struct lm_tokenizer *t) {
    for (int64_t i = 1; i < t->n_matchable; i++) {
        int32_t v = t->matchable[i];
        int64_t j = i;
        while (j > 0 && cmp_match(&t->matchable[j - 1], &v, t) > 0) {
            t->matchable[j] = t->matchable[j - 1];
            j--;
        }
        t->matchable[j] = v;
    }
}

lm_status tok_finish(struct lm_tokenizer *t, const char *what) {
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (!t->piece[i]) t->piece[i] = empty_piece, t->piece_len[i] = 0, t->type[i] = TOK_UNUSED;
        if (t->piece_len[i] > t->max_piece_len) t->max_piece_len = t->piece_len[i];
    }
    tok_piece_map_free(&t->index);
    if (!tok_piece_map_init(&t->index, t->n_vocab))
        return lm_error(LM_ENOMEM, "%s: piece index of %d", what, t->n_vocab);
    int64_t n_indexed = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        /* Empty pieces are never looked up; a piece with a NUL inside is left out as well, as
         * the index always has (text lookups stop at no NUL, but vocab files hold none). */
        if (t->piece_len[i] == 0 || strlen(t->piece[i]) != t->piece_len[i]) continue;
        if (!tok_piece_map_put(&t->index, (const char *const *)t->piece, t->piece_len, i))
            return lm_error(LM_ENOMEM, "%s: piece index of %d", what, t->n_vocab);
        n_indexed++;
    }
    if (t->n_vocab && !n_indexed) return lm_error(LM_EFORMAT, "%s: every piece is empty", what);

    int64_t n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        uint8_t ty = t->type[i];
        if ((ty == TOK_CONTROL || ty == TOK_USER || ty == TOK_UNKNOWN) && t->piece_len[i] > 0) n++;
    }
    free(t->matchable);
    t->matchable = n ? malloc((size_t)n * sizeof *t->matchable) : NULL;
    if (n && !t->matchable)
        return lm_error(LM_ENOMEM, "%s: %lld special tokens", what, (long long)n);
    t->n_matchable = t->n_user_matchable = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        uint8_t ty = t->type[i];
        if ((ty == TOK_CONTROL || ty == TOK_USER || ty == TOK_UNKNOWN) && t->piece_len[i] > 0)
            t->matchable[t->n_matchable++] = i;
        if (ty == TOK_USER && t->piece_len[i] > 0) t->n_user_matchable++;
    }
    sort_matchable(t);
    int64_t k = 0;
    for (int b = 0; b <= 256; b++) {
        while (k < t->n_matchable && (unsigned char)t->piece[t->matchable[k]][0] < b)
            k++;
        t->match_start[b] = (int32_t)k;
    }

    for (int b = 0; b < 256; b++) {
        char buf[8];
        size_t len;
        if (t->kind == LM_TOK_BPE) {
            len = (size_t)utf8proc_encode_char((utf8proc_int32_t)tok_byte_to_cp((uint8_t)b),
                                               (utf8proc_uint8_t *)buf);
        } else if (t->kind == LM_TOK_SPM) {
            static const char hex[] = "0123456789ABCDEF";
            memcpy(buf, "<0x", 3), buf[3] = hex[b >> 4], buf[4] = hex[b & 15], buf[5] = '>';
            len = 6;
        } else
            break;
        t->byte_token[b] = tok_find(t, buf, len);
    }
    return t->kind == LM_TOK_SPM ? tok_spm_prepare(t, what) : LM_OK;
}

void lm_tokenizer_free(struct lm_tokenizer *t) {
    if (!t) return;
    tok_bpe_free(t);
    tok_spm_free(t);
    tok_piece_map_free(&t->index);
    if (t->piece)
        for (int32_t i = 0; i < t->n_vocab; i++)
            if (t->piece[i] != empty_piece) free(t->piece[i]);
    free(t->piece);
    free(t->piece_len);
    free(t->score);
    free(t->type);
    free(t->flags);
    free(t->matchable);
    free(t);
}

/* ---- queries ---- */

int32_t tok_find(const struct lm_tokenizer *t, const char *s, size_t n) {
    if (n == 0) return -1;
    return tok_piece_map_get(&t->index, (const char *const *)t->piece, t->piece_len, s, n);
}

enum lm_tok_kind lm_tokenizer_kind(const struct lm_tokenizer *t) { return t->kind; }
const char *lm_tokenizer_pre(const struct lm_tokenizer *t) { return t->pre; }
int32_t lm_tokenizer_n_vocab(const struct lm_tokenizer *t) { return t->n_vocab; }

int32_t lm_tokenizer_special(const struct lm_tokenizer *t, enum lm_tok_special which) {
    if ((int)which < 0 || which >= LM_TOK_SPECIAL_COUNT) return -1;
    return t->special[which];
}

const char *lm_tokenizer_piece(const struct lm_tokenizer *t, int32_t id) {
    if (id < 0 || id >= t->n_vocab) return NULL;
    return t->piece[id];
}

/* ---- encoding ---- */

static bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Is the character ending just before s[i] (or starting at s[i]) a word character? */
static bool word_char_at(const char *s, size_t n, size_t i, bool before) {
    const unsigned char *u = (const unsigned char *)s;
    if (before) {
        if (i == 0) return false;
        size_t j = i - 1;
        while (j > 0 && (u[j] & 0xc0) == 0x80)
            j--;
        i = j;
    } else if (i >= n)
        return false;
    utf8proc_int32_t cp;
    if (utf8proc_iterate(u + i, (utf8proc_ssize_t)(n - i), &cp) < 0) return false;
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) || cp == '_';
}

/* The longest matchable token at s[i..n) (user-defined ones only when !specials), or -1 */
static int32_t match_at(const struct lm_tokenizer *t, const char *s, size_t n, size_t i,
                        bool specials) {
    unsigned char b = (unsigned char)s[i];
    for (int32_t k = t->match_start[b]; k < t->match_start[b + 1]; k++) {
        int32_t id = t->matchable[k];
        if (!specials && t->type[id] != TOK_USER) continue;
        size_t len = t->piece_len[id];
        if (len > n - i || memcmp(s + i, t->piece[id], len) != 0) continue;
        if ((t->flags[id] & TOK_F_SINGLE_WORD) &&
            (word_char_at(s, n, i, true) || word_char_at(s, n, i + len, false)))
            continue;
        return id;
    }
    return -1;
}

static lm_status encode_fragment(const struct lm_tokenizer *t, const char *s, size_t n,
                                 struct lm_tokens *out) {
    if (n == 0) return LM_OK;
    utf8proc_uint8_t *nfc = NULL;
    if (t->nfc) {
        utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &nfc,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (m < 0) return lm_error(LM_ENOMEM, "tokenize: NFC of %zu bytes", n);
        s = (const char *)nfc, n = (size_t)m;
    }
    lm_status st;
    switch (t->kind) {
    case LM_TOK_BPE: st = tok_bpe_encode(t, s, n, out); break;
    case LM_TOK_SPM: st = tok_spm_encode(t, s, n, out); break;
    case LM_TOK_WPM: st = tok_wpm_encode(t, s, n, out); break;
    default: st = lm_error(LM_EINVAL, "tokenize: tokenizer kind %d", (int)t->kind);
    }
    free(nfc);
    return st;
}

static lm_status encode_text(const struct lm_tokenizer *t, const char *s, size_t n, unsigned flags,
                             struct lm_tokens *out) {
    bool specials = (flags & LM_TOK_PARSE_SPECIAL) != 0;
    if (specials ? t->n_matchable == 0 : t->n_user_matchable == 0)
        return encode_fragment(t, s, n, out);
    size_t frag = 0, i = 0;
    while (i < n) {
        int32_t id = t->match_start[(unsigned char)s[i]] < t->match_start[(unsigned char)s[i] + 1]
                         ? match_at(t, s, n, i, specials)
                         : -1;
        if (id < 0) {
            i++;
            continue;
        }
        size_t end = i;
        if (t->flags[id] & TOK_F_LSTRIP)
            while (end > frag && is_space((unsigned char)s[end - 1]))
                end--;
        lm_status st = encode_fragment(t, s + frag, end - frag, out);
        if (st == LM_OK) st = tok_push(out, id);
        if (st != LM_OK) return st;
        i += t->piece_len[id];
        if (t->flags[id] & TOK_F_RSTRIP)
            while (i < n && is_space((unsigned char)s[i]))
                i++;
        frag = i;
    }
    return encode_fragment(t, s + frag, n - frag, out);
}

lm_status lm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, unsigned flags,
                      struct lm_tokens *out) {
    if (!t || !out || (!text && len))
        return lm_error(LM_EINVAL, "tokenize: null tokenizer, text or output");
    int64_t n0 = out->n;
    struct lm_text clean = {0};
    lm_status st;
    tok_utf8_sanitize(&clean, text ? text : "", len, true, &st);
    if (st != LM_OK) goto fail;

    bool add = (flags & LM_TOK_ADD_SPECIAL) != 0;
    int32_t first = -1, last = -1;
    if (add && t->kind == LM_TOK_WPM && t->add_sep) {
        first = t->special[LM_TOK_CLS] >= 0 ? t->special[LM_TOK_CLS] : t->special[LM_TOK_BOS];
        last = t->special[LM_TOK_SEP] >= 0 ? t->special[LM_TOK_SEP] : t->special[LM_TOK_EOS];
    } else if (add) {
        if (t->add_bos) first = t->special[LM_TOK_BOS];
        if (t->add_eos) last = t->special[LM_TOK_EOS];
    }
    if (first >= 0 && (st = tok_push(out, first)) != LM_OK) goto fail;
    if ((st = encode_text(t, clean.s, clean.n, flags, out)) != LM_OK) goto fail;
    if (last >= 0 && (st = tok_push(out, last)) != LM_OK) goto fail;
    lm_text_free(&clean);
    return LM_OK;
fail:
    lm_text_free(&clean);
    out->n = n0;
    return st;
}
