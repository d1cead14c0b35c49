/* models/tokenizer/load_gguf.c - the tokenizer.ggml.* metadata of a GGUF file into a struct
 * lm_tokenizer.
 *
 * tokenizer.ggml.model picks the kind (gpt2 = byte-level BPE, llama = SentencePiece BPE, bert =
 * WordPiece in the GGUF form where word starts carry U+2581); tokens, scores, token_type and
 * merges fill the vocabulary; .pre names the pre-tokenizer regexes (bpe.c's table); the special
 * ids and add_bos_token / add_eos_token / add_space_prefix override the per-kind defaults
 * llama.cpp uses. Every array must have one entry per token, every id must be below the
 * vocabulary size, and every error names the key (and index) at fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

#define K "tokenizer.ggml."

static lm_status opt_bool(const struct lm_gguf *g, const char *key, bool *v) {
    lm_status s = lm_gguf_get_bool(g, key, v);
    return s == LM_ENOTFOUND ? LM_OK : s;
}

/* The array key with exactly n entries (n < 0: any count, set from it); *have false if absent. */
static lm_status opt_arr(const struct lm_gguf *g, const char *key, int64_t *n,
                         struct lm_gguf_arr *a, bool *have) {
    lm_status s = lm_gguf_get_arr(g, key, a);
    *have = s == LM_OK;
    if (s == LM_ENOTFOUND) return LM_OK;
    if (s != LM_OK) return s;
    if (*n >= 0 && a->n != (uint64_t)*n)
        return lm_error(LM_EFORMAT, "%s: %llu entries for %lld tokens", key,
                        (unsigned long long)a->n, (long long)*n);
    if (*n < 0) *n = a->n > (uint64_t)TOK_MAX_VOCAB + 1 ? TOK_MAX_VOCAB + 1 : (int64_t)a->n;
    return LM_OK;
}

static lm_status load_vocab(const struct lm_gguf *g, struct lm_tokenizer *t) {
    struct lm_gguf_arr tok, sc, ty;
    int64_t n = t->n_vocab;
    bool have_sc, have_ty, have_tok;
    lm_status s = opt_arr(g, K "tokens", &n, &tok, &have_tok);
    if (s == LM_OK) s = opt_arr(g, K "scores", &n, &sc, &have_sc);
    if (s == LM_OK) s = opt_arr(g, K "token_type", &n, &ty, &have_ty);
    if (s != LM_OK) return s;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        const char *p;
        size_t len;
        if ((s = lm_gguf_arr_str(&tok, (uint64_t)i, &p, &len)) != LM_OK) return s;
        if ((s = tok_set_piece(t, i, p, len)) != LM_OK) return s;
        if (have_sc) {
            double d;
            if ((s = lm_gguf_arr_num(&sc, (uint64_t)i, &d)) != LM_OK) return s;
            t->score[i] = (float)d;
        }
        if (have_ty) {
            int64_t v;
            if ((s = lm_gguf_arr_int(&ty, (uint64_t)i, &v)) != LM_OK) return s;
            if (v < 0 || v > TOK_BYTE)
                return lm_error(LM_EFORMAT, K "token_type[%d]: %lld is not a token type (0..6)", i,
                                (long long)v);
            t->type[i] = v == 0 ? TOK_NORMAL : (uint8_t)v; /* 0: undefined, read as normal */
            if (v == TOK_BYTE) t->byte_fallback = true;
        }
    }
    return LM_OK;
}

static lm_status load_merges(const struct lm_gguf *g, struct lm_tokenizer *t) {
    struct lm_gguf_arr m;
    int64_t n = -1;
    bool have;
    lm_status s = opt_arr(g, K "merges", &n, &m, &have);
    if (s != LM_OK) return s;
    if (!have) return lm_error(LM_ENOTFOUND, K "merges: missing (needed by a gpt2 tokenizer)");
    for (uint64_t i = 0; i < m.n; i++) {
        const char *p;
        size_t len;
        if ((s = lm_gguf_arr_str(&m, i, &p, &len)) != LM_OK) return s;
        const char *sp = len > 1 ? memchr(p + 1, ' ', len - 1) : NULL;
        if (!sp)
            return lm_error(LM_EFORMAT, K "merges[%llu]: '%.*s' is not 'a b'",
                            (unsigned long long)i, (int)(len > 64 ? 64 : len), p);
        size_t nl = (size_t)(sp - p);
        if ((s = tok_bpe_add_merge(t, p, nl, sp + 1, len - nl - 1, (int64_t)i, K "merges")) !=
            LM_OK)
            return s;
    }
    return LM_OK;
}

static const struct {
    const char *key;
    enum lm_tok_special which;
} special_keys[] = {
    {K "bos_token_id", LM_TOK_BOS},     {K "eos_token_id", LM_TOK_EOS},
    {K "eot_token_id", LM_TOK_EOT},     {K "unknown_token_id", LM_TOK_UNK},
    {K "padding_token_id", LM_TOK_PAD}, {K "seperator_token_id", LM_TOK_SEP},
    {K "cls_token_id", LM_TOK_CLS},     {K "mask_token_id", LM_TOK_MASK},
};

static lm_status load_specials(const struct lm_gguf *g, struct lm_tokenizer *t) {
    for (size_t i = 0; i < sizeof special_keys / sizeof special_keys[0]; i++) {
        uint64_t v;
        lm_status s = lm_gguf_get_u64(g, special_keys[i].key, &v);
        if (s == LM_ENOTFOUND) continue;
        if (s != LM_OK) return s;
        if (v >= (uint64_t)t->n_vocab)
            return lm_error(LM_ERANGE, "%s: token id %llu outside the vocabulary (%d)",
                            special_keys[i].key, (unsigned long long)v, t->n_vocab);
        t->special[special_keys[i].which] = (int32_t)v;
    }
    lm_status s = opt_bool(g, K "add_bos_token", &t->add_bos);
    if (s == LM_OK) s = opt_bool(g, K "add_eos_token", &t->add_eos);
    if (s == LM_OK) s = opt_bool(g, K "add_space_prefix", &t->add_space_prefix);
    return s;
}

lm_status lm_tokenizer_from_gguf(const struct lm_gguf *g, struct lm_tokenizer **out) {
    if (!g || !out) return lm_error(LM_EINVAL, "tokenizer_from_gguf: null argument");
    *out = NULL;
    const char *model, *pre = "default";
    lm_status s = lm_gguf_get_str(g, K "model", &model);
    if (s != LM_OK) return s;
    if ((s = lm_gguf_get_str(g, K "pre", &pre)) == LM_ENOTFOUND)
        pre = "default";
    else if (s != LM_OK)
        return s;

    enum lm_tok_kind kind;
    if (!strcmp(model, "gpt2"))
        kind = LM_TOK_BPE;
    else if (!strcmp(model, "llama"))
        kind = LM_TOK_SPM;
    else if (!strcmp(model, "bert"))
        kind = LM_TOK_WPM;
    else
        return lm_error(LM_EUNSUPPORTED, K "model: '%s' (gpt2, llama, bert are read)", model);

    const char *const *pats = NULL;
    int n_pats = 0;
    bool ignore_merges = false, add_bos = false;
    if (kind == LM_TOK_BPE &&
        !(pats = tok_bpe_pre_patterns(pre, &n_pats, &ignore_merges, &add_bos)))
        return lm_error(LM_EUNSUPPORTED, K "pre: pre-tokenizer '%s' is not known", pre);

    struct lm_gguf_arr tok;
    if ((s = lm_gguf_get_arr(g, K "tokens", &tok)) != LM_OK) return s;
    if (tok.type != LM_GGUF_STR)
        return lm_error(LM_EFORMAT, K "tokens: array of %s, not of strings",
                        lm_gguf_type_name(tok.type));
    struct lm_tokenizer *t;
    int64_t n_tok = tok.n > (uint64_t)TOK_MAX_VOCAB ? TOK_MAX_VOCAB + 1 : (int64_t)tok.n;
    if ((s = tok_new(kind, n_tok, K "tokens", &t)) != LM_OK) return s;
    snprintf(t->pre, sizeof t->pre, "%s", pre);
    switch (kind) { /* llama.cpp's defaults, before the file's flags */
    case LM_TOK_BPE: t->add_bos = add_bos, t->ignore_merges = ignore_merges; break;
    case LM_TOK_SPM: t->add_bos = true, t->add_space_prefix = true; break;
    case LM_TOK_WPM:
        t->add_sep = true, t->wpm_gguf_form = true;
        t->lowercase = t->strip_accents = t->split_cjk = true;
        break;
    }
    if ((s = load_vocab(g, t)) != LM_OK || (s = tok_finish(t, K "tokens")) != LM_OK ||
        (s = load_specials(g, t)) != LM_OK)
        goto fail;
    if (kind == LM_TOK_BPE && ((s = load_merges(g, t)) != LM_OK ||
                               (s = tok_bpe_set_pretok(t, pats, n_pats, -1)) != LM_OK))
        goto fail;
    *out = t;
    return LM_OK;
fail:
    lm_tokenizer_free(t);
    return s;
}
