/* models/tokenizer/load_json.c - a Hugging Face tokenizer.json (+ tokenizer_config.json beside
 * it when present) into a struct lm_tokenizer.
 *
 * Supported: model BPE with a ByteLevel pre-tokenizer (alone, or after Split regexes / Digits,
 * e.g. LFM2's Split + ByteLevel(use_regex=false)), NFC or no normalizer; model WordPiece with
 * BertNormalizer (or Lowercase / StripAccents / NFD) and BertPreTokenizer; added_tokens with
 * their special / lstrip / rstrip / single_word flags; post processors TemplateProcessing,
 * RobertaProcessing, BertProcessing, ByteLevel and Sequence, reduced to "one token before, one
 * after" (BOS/EOS, or CLS/SEP for WordPiece). Anything else is LM_EUNSUPPORTED naming the
 * component (SentencePiece-style BPE with Metaspace, Unigram, WordLevel, Split behaviours other
 * than Isolated, dropout...). Every id is bounded (0..TOK_MAX_VOCAB) before it sizes anything.
 * tokenizer_config.json may switch add_bos_token / add_eos_token and names the special tokens.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "tok.h"

#define W "tokenizer.json"

static const char *type_of(const cJSON *o) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static bool flag(const cJSON *o, const char *key, bool dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* An id from a JSON number: integral, 0..TOK_MAX_VOCAB-1 */
static lm_status json_id(const cJSON *v, const char *what, const char *name, int32_t *id) {
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!cJSON_IsNumber(v) || d != floor(d) || d < 0 || d >= TOK_MAX_VOCAB)
        return lm_error(LM_EFORMAT, W ": %s '%s': id is not an integer in 0..%d", what,
                        name ? name : "?", TOK_MAX_VOCAB - 1);
    *id = (int32_t)d;
    return LM_OK;
}

/* ---- pre-tokenizer and normalizer ---- */

struct pre {
    const char *pat[8];
    char *owned[8]; /* escaped literal patterns */
    int n, prefix_level;
    bool byte_level, metaspace;
};

static lm_status add_pattern(struct pre *p, const char *pat, char *owned) {
    if (p->n == 8) {
        free(owned);
        return lm_error(LM_EUNSUPPORTED, W ": pre_tokenizer: more than 8 splits");
    }
    p->owned[p->n] = owned;
    p->pat[p->n++] = pat;
    return LM_OK;
}

static lm_status parse_pre(const cJSON *o, struct pre *p, int depth) {
    if (!o || cJSON_IsNull(o)) return LM_OK;
    const char *ty = type_of(o);
    if (!ty || depth > 8) return lm_error(LM_EFORMAT, W ": pre_tokenizer without a type");
    if (p->byte_level && strcmp(ty, "ByteLevel") != 0)
        return lm_error(LM_EUNSUPPORTED, W ": pre_tokenizer %s after ByteLevel", ty);
    if (!strcmp(ty, "Sequence")) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers"), *e;
        if (!cJSON_IsArray(l)) return lm_error(LM_EFORMAT, W ": pre_tokenizer Sequence: no list");
        cJSON_ArrayForEach(e, l) {
            lm_status s = parse_pre(e, p, depth + 1);
            if (s != LM_OK) return s;
        }
        return LM_OK;
    }
    if (!strcmp(ty, "ByteLevel")) {
        p->byte_level = true;
        p->prefix_level = flag(o, "add_prefix_space", true) ? p->n : -1;
        return flag(o, "use_regex", true) ? add_pattern(p, tok_gpt2_pattern, NULL) : LM_OK;
    }
    if (!strcmp(ty, "Digits"))
        return add_pattern(p, flag(o, "individual_digits", false) ? "\\p{N}" : "\\p{N}+", NULL);
    if (!strcmp(ty, "Split")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern");
        const cJSON *beh = cJSON_GetObjectItemCaseSensitive(o, "behavior");
        const char *b = cJSON_IsString(beh) ? beh->valuestring : "?";
        if (strcmp(b, "Isolated") != 0)
            return lm_error(LM_EUNSUPPORTED, W ": pre_tokenizer Split behavior '%s'", b);
        if (flag(o, "invert", false))
            return lm_error(LM_EUNSUPPORTED, W ": pre_tokenizer Split with invert");
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        const cJSON *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
        if (cJSON_IsString(re)) return add_pattern(p, re->valuestring, NULL);
        if (!cJSON_IsString(str) || !str->valuestring[0])
            return lm_error(LM_EFORMAT, W ": pre_tokenizer Split without a pattern");
        size_t len = strlen(str->valuestring); /* a literal: \Q...\E, with any \E in it split */
        char *q = malloc(6 * len + 5), *w = q;
        if (!q) return lm_error(LM_ENOMEM, W ": Split pattern");
        w += sprintf(w, "\\Q");
        for (const char *c = str->valuestring; *c; c++) {
            if (c[0] == '\\' && c[1] == 'E')
                w += sprintf(w, "\\E\\\\\\Q"), c++, *w++ = 'E';
            else
                *w++ = *c;
        }
        strcpy(w, "\\E");
        return add_pattern(p, q, q);
    }
    if (!strcmp(ty, "Metaspace")) {
        p->metaspace = true;
        return LM_OK;
    }
    if (!strcmp(ty, "BertPreTokenizer")) return LM_OK; /* checked by the WordPiece path */
    return lm_error(LM_EUNSUPPORTED, W ": pre_tokenizer '%s'", ty);
}

struct norm {
    bool nfc, lowercase, strip_accents, split_cjk, spm, any_bert;
};

static lm_status parse_norm(const cJSON *o, struct norm *n, int depth) {
    if (!o || cJSON_IsNull(o)) return LM_OK;
    const char *ty = type_of(o);
    if (!ty || depth > 8) return lm_error(LM_EFORMAT, W ": normalizer without a type");
    if (!strcmp(ty, "Sequence")) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "normalizers"), *e;
        if (!cJSON_IsArray(l)) return lm_error(LM_EFORMAT, W ": normalizer Sequence: no list");
        cJSON_ArrayForEach(e, l) {
            lm_status s = parse_norm(e, n, depth + 1);
            if (s != LM_OK) return s;
        }
        return LM_OK;
    }
    if (!strcmp(ty, "NFC"))
        n->nfc = true;
    else if (!strcmp(ty, "BertNormalizer")) {
        n->any_bert = true;
        n->lowercase = flag(o, "lowercase", true);
        n->strip_accents = flag(o, "strip_accents", n->lowercase); /* null: as lowercase */
        n->split_cjk = flag(o, "handle_chinese_chars", true);
    } else if (!strcmp(ty, "Lowercase"))
        n->lowercase = true, n->any_bert = true;
    else if (!strcmp(ty, "StripAccents"))
        n->strip_accents = true, n->any_bert = true;
    else if (!strcmp(ty, "NFD"))
        n->any_bert = true; /* WordPiece decomposes when stripping */
    else if (!strcmp(ty, "Prepend") || !strcmp(ty, "Replace"))
        n->spm = true;
    else
        return lm_error(LM_EUNSUPPORTED, W ": normalizer '%s'", ty);
    return LM_OK;
}

/* ---- post processor: the ids added before and after the text ---- */

struct post {
    int32_t pre[2], post[2];
    int n_pre, n_post;
};

static lm_status post_add(struct post *p, bool before, int32_t id) {
    int *n = before ? &p->n_pre : &p->n_post;
    if (*n == 2) return lm_error(LM_EUNSUPPORTED, W ": post_processor adds more than 2 tokens");
    (before ? p->pre : p->post)[(*n)++] = id;
    return LM_OK;
}

static lm_status parse_post(const cJSON *o, struct post *p, int depth) {
    if (!o || cJSON_IsNull(o)) return LM_OK;
    const char *ty = type_of(o);
    lm_status s;
    if (!ty || depth > 8) return lm_error(LM_EFORMAT, W ": post_processor without a type");
    if (!strcmp(ty, "ByteLevel")) return LM_OK;
    if (!strcmp(ty, "Sequence")) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "processors"), *e;
        if (!cJSON_IsArray(l)) return lm_error(LM_EFORMAT, W ": post_processor Sequence: no list");
        cJSON_ArrayForEach(e, l) {
            if ((s = parse_post(e, p, depth + 1)) != LM_OK) return s;
        }
        return LM_OK;
    }
    if (!strcmp(ty, "RobertaProcessing") || !strcmp(ty, "BertProcessing")) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o, "cls");
        const cJSON *sep = cJSON_GetObjectItemCaseSensitive(o, "sep");
        int32_t a, b;
        if (!cJSON_IsArray(cls) || !cJSON_IsArray(sep))
            return lm_error(LM_EFORMAT, W ": post_processor %s without cls/sep", ty);
        if ((s = json_id(cJSON_GetArrayItem(cls, 1), "post_processor", "cls", &a)) != LM_OK ||
            (s = json_id(cJSON_GetArrayItem(sep, 1), "post_processor", "sep", &b)) != LM_OK)
            return s;
        if ((s = post_add(p, true, a)) != LM_OK) return s;
        return post_add(p, false, b);
    }
    if (strcmp(ty, "TemplateProcessing") != 0)
        return lm_error(LM_EUNSUPPORTED, W ": post_processor '%s'", ty);
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(o, "single"), *e;
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(o, "special_tokens");
    if (!cJSON_IsArray(single))
        return lm_error(LM_EFORMAT, W ": post_processor TemplateProcessing without 'single'");
    bool seen_a = false;
    cJSON_ArrayForEach(e, single) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
            seen_a = true;
            continue;
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(sp, "id");
        if (!cJSON_IsString(name))
            return lm_error(LM_EFORMAT, W ": post_processor template item without a token");
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(specials, name->valuestring);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids"), *v;
        if (!cJSON_IsArray(ids))
            return lm_error(LM_EFORMAT, W ": post_processor: special token '%s' has no ids",
                            name->valuestring);
        cJSON_ArrayForEach(v, ids) {
            int32_t id;
            if ((s = json_id(v, "post_processor", name->valuestring, &id)) != LM_OK ||
                (s = post_add(p, !seen_a, id)) != LM_OK)
                return s;
        }
    }
    return LM_OK;
}

/* ---- vocabulary ---- */

static lm_status load_vocab(const cJSON *root, const cJSON *model, enum lm_tok_kind kind,
                            struct lm_tokenizer **out) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab"), *e;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab)) return lm_error(LM_EFORMAT, W ": model.vocab is not an object");
    if (added && !cJSON_IsArray(added) && !cJSON_IsNull(added))
        return lm_error(LM_EFORMAT, W ": added_tokens is not a list");
    int64_t n = 0;
    int32_t id;
    lm_status s;
    cJSON_ArrayForEach(e, vocab) {
        if ((s = json_id(e, "model.vocab", e->string, &id)) != LM_OK) return s;
        if (id + 1 > n) n = id + 1;
    }
    cJSON_ArrayForEach(e, added) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsString(c)) return lm_error(LM_EFORMAT, W ": added_tokens: no content");
        if ((s = json_id(cJSON_GetObjectItemCaseSensitive(e, "id"), "added_tokens", c->valuestring,
                         &id)) != LM_OK)
            return s;
        if (id + 1 > n) n = id + 1;
    }
    struct lm_tokenizer *t;
    if ((s = tok_new(kind, n, W, &t)) != LM_OK) return s;
    cJSON_ArrayForEach(e, vocab) {
        id = (int32_t)e->valuedouble;
        size_t len = strlen(e->string);
        if (t->piece[id] && (t->piece_len[id] != len || memcmp(t->piece[id], e->string, len))) {
            s = lm_error(LM_EFORMAT, W ": model.vocab: id %d is both '%s' and '%s'", id,
                         t->piece[id], e->string);
            goto fail;
        }
        if ((s = tok_set_piece(t, id, e->string, len)) != LM_OK) goto fail;
    }
    cJSON_ArrayForEach(e, added) {
        const char *c = cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring;
        id = (int32_t)cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble;
        if ((s = tok_set_piece(t, id, c, strlen(c))) != LM_OK) goto fail;
        t->type[id] = flag(e, "special", false) ? TOK_CONTROL : TOK_USER;
        t->flags[id] = (uint8_t)((flag(e, "lstrip", false) ? TOK_F_LSTRIP : 0) |
                                 (flag(e, "rstrip", false) ? TOK_F_RSTRIP : 0) |
                                 (flag(e, "single_word", false) ? TOK_F_SINGLE_WORD : 0));
    }
    if ((s = tok_finish(t, W)) != LM_OK) goto fail;
    *out = t;
    return LM_OK;
fail:
    lm_tokenizer_free(t);
    return s;
}

static lm_status load_merges(struct lm_tokenizer *t, const cJSON *model) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges"), *e;
    if (!cJSON_IsArray(merges)) return lm_error(LM_EFORMAT, W ": model.merges is not a list");
    int64_t i = 0;
    cJSON_ArrayForEach(e, merges) {
        const char *a, *b;
        size_t na, nb;
        if (cJSON_IsString(e)) {
            a = e->valuestring;
            const char *sp = strchr(a + (a[0] != '\0'), ' ');
            if (!sp)
                return lm_error(LM_EFORMAT, W ": merge %lld: '%s' is not 'a b'", (long long)i, a);
            na = (size_t)(sp - a), b = sp + 1, nb = strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            a = cJSON_GetArrayItem(e, 0)->valuestring, na = strlen(a);
            b = cJSON_GetArrayItem(e, 1)->valuestring, nb = strlen(b);
        } else
            return lm_error(LM_EFORMAT, W ": merge %lld is neither 'a b' nor [a, b]", (long long)i);
        lm_status s = tok_bpe_add_merge(t, a, na, b, nb, i, W);
        if (s != LM_OK) return s;
        i++;
    }
    return LM_OK;
}

/* ---- specials: post processor, model.unk_token, tokenizer_config.json ---- */

static void config_token(struct lm_tokenizer *t, const cJSON *cfg, const char *key,
                         enum lm_tok_special which) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (!cJSON_IsString(v)) return;
    int32_t id = tok_find(t, v->valuestring, strlen(v->valuestring));
    if (id >= 0) t->special[which] = id;
}

static lm_status set_specials(struct lm_tokenizer *t, const cJSON *root, const cJSON *model,
                              const cJSON *cfg) {
    struct post p = {0};
    lm_status s = parse_post(cJSON_GetObjectItemCaseSensitive(root, "post_processor"), &p, 0);
    if (s != LM_OK) return s;
    for (int i = 0; i < p.n_pre; i++)
        if (p.pre[i] >= t->n_vocab) goto range;
    for (int i = 0; i < p.n_post; i++)
        if (p.post[i] >= t->n_vocab) goto range;
    if (p.n_pre > 1 || p.n_post > 1)
        return lm_error(LM_EUNSUPPORTED, W ": post_processor adds %d tokens before, %d after",
                        p.n_pre, p.n_post);
    if (t->kind == LM_TOK_WPM) {
        if (p.n_pre != p.n_post)
            return lm_error(LM_EUNSUPPORTED, W ": WordPiece post_processor is not [CLS] A [SEP]");
        if (p.n_pre) t->special[LM_TOK_CLS] = p.pre[0], t->special[LM_TOK_SEP] = p.post[0];
        t->add_sep = p.n_pre == 1;
    } else {
        if (p.n_pre) t->special[LM_TOK_BOS] = p.pre[0], t->add_bos = true;
        if (p.n_post) t->special[LM_TOK_EOS] = p.post[0], t->add_eos = true;
    }
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk)) {
        int32_t id = tok_find(t, unk->valuestring, strlen(unk->valuestring));
        if (id < 0 && t->kind == LM_TOK_WPM)
            return lm_error(LM_EFORMAT, W ": model.unk_token '%s' is not in the vocabulary",
                            unk->valuestring);
        t->special[LM_TOK_UNK] = id;
    }
    if (cfg) {
        config_token(t, cfg, "bos_token", LM_TOK_BOS);
        config_token(t, cfg, "eos_token", LM_TOK_EOS);
        config_token(t, cfg, "unk_token", LM_TOK_UNK);
        config_token(t, cfg, "pad_token", LM_TOK_PAD);
        config_token(t, cfg, "cls_token", LM_TOK_CLS);
        config_token(t, cfg, "sep_token", LM_TOK_SEP);
        config_token(t, cfg, "mask_token", LM_TOK_MASK);
        t->add_bos = flag(cfg, "add_bos_token", t->add_bos) && t->special[LM_TOK_BOS] >= 0;
        t->add_eos = flag(cfg, "add_eos_token", t->add_eos) && t->special[LM_TOK_EOS] >= 0;
    }
    return LM_OK;
range:
    return lm_error(LM_EFORMAT, W ": post_processor token id outside the vocabulary (%d)",
                    t->n_vocab);
}

/* ---- the two models ---- */

static lm_status load_bpe(const cJSON *root, const cJSON *model, struct lm_tokenizer **out) {
    struct pre p = {0};
    struct norm nm = {0};
    struct lm_tokenizer *t = NULL;
    lm_status s = parse_pre(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), &p, 0);
    if (s == LM_OK) s = parse_norm(cJSON_GetObjectItemCaseSensitive(root, "normalizer"), &nm, 0);
    if (s != LM_OK) goto done;
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    const cJSON *cont = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
    const cJSON *eow = cJSON_GetObjectItemCaseSensitive(model, "end_of_word_suffix");
    if (p.metaspace || nm.spm || !p.byte_level) {
        s = lm_error(LM_EUNSUPPORTED, W ": BPE without a ByteLevel pre_tokenizer (SentencePiece "
                                        "style Metaspace/Replace/Prepend is not supported)");
    } else if (nm.any_bert) {
        s = lm_error(LM_EUNSUPPORTED, W ": byte-level BPE with a lowercasing/accent normalizer");
    } else if (cJSON_IsNumber(dropout) && dropout->valuedouble > 0) {
        s = lm_error(LM_EUNSUPPORTED, W ": BPE dropout %g", dropout->valuedouble);
    } else if ((cJSON_IsString(cont) && cont->valuestring[0]) ||
               (cJSON_IsString(eow) && eow->valuestring[0])) {
        s = lm_error(LM_EUNSUPPORTED, W ": BPE continuing_subword_prefix / end_of_word_suffix");
    }
    if (s != LM_OK) goto done;
    if ((s = load_vocab(root, model, LM_TOK_BPE, &t)) != LM_OK) goto done;
    t->ignore_merges = flag(model, "ignore_merges", false);
    t->byte_fallback = flag(model, "byte_fallback", false);
    t->nfc = nm.nfc;
    if ((s = load_merges(t, model)) != LM_OK) goto done;
    s = tok_bpe_set_pretok(t, p.pat, p.n, p.prefix_level);
done:
    for (int i = 0; i < p.n; i++)
        free(p.owned[i]);
    if (s != LM_OK) lm_tokenizer_free(t), t = NULL;
    *out = t;
    return s;
}

static lm_status load_wordpiece(const cJSON *root, const cJSON *model, struct lm_tokenizer **out) {
    struct norm nm = {0};
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const char *pty = type_of(pre);
    if (!pty || strcmp(pty, "BertPreTokenizer") != 0)
        return lm_error(LM_EUNSUPPORTED, W ": WordPiece with pre_tokenizer '%s'",
                        pty ? pty : "null");
    lm_status s = parse_norm(cJSON_GetObjectItemCaseSensitive(root, "normalizer"), &nm, 0);
    if (s != LM_OK) return s;
    if (nm.nfc || nm.spm) return lm_error(LM_EUNSUPPORTED, W ": WordPiece with that normalizer");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
    if (cJSON_IsString(prefix) && strcmp(prefix->valuestring, "##") != 0)
        return lm_error(LM_EUNSUPPORTED, W ": WordPiece continuing_subword_prefix '%s'",
                        prefix->valuestring);
    struct lm_tokenizer *t;
    if ((s = load_vocab(root, model, LM_TOK_WPM, &t)) != LM_OK) return s;
    t->lowercase = nm.lowercase, t->strip_accents = nm.strip_accents, t->split_cjk = nm.split_cjk;
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(model, "max_input_chars_per_word");
    if (cJSON_IsNumber(mx)) {
        if (mx->valuedouble < 1 || mx->valuedouble > 1e6) {
            lm_tokenizer_free(t);
            return lm_error(LM_EFORMAT, W ": max_input_chars_per_word %g", mx->valuedouble);
        }
        t->max_input_chars_per_word = (int32_t)mx->valuedouble;
    }
    *out = t;
    return LM_OK;
}

lm_status tok_from_json_mem(const char *json, size_t n, const char *config, size_t config_n,
                            struct lm_tokenizer **out) {
    if (!out || (!json && n)) return lm_error(LM_EINVAL, W ": null argument");
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(json ? json : "", n), *cfg = NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return lm_error(LM_EFORMAT, W ": not a JSON object (malformed JSON?)");
    }
    lm_status s = LM_OK;
    struct lm_tokenizer *t = NULL;
    if (config) {
        cfg = cJSON_ParseWithLength(config, config_n);
        if (!cJSON_IsObject(cfg)) {
            s = lm_error(LM_EFORMAT, "tokenizer_config.json: not a JSON object");
            goto done;
        }
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) {
        s = lm_error(LM_EFORMAT, W ": no model object");
        goto done;
    }
    const char *ty = type_of(model);
    if (!ty) ty = cJSON_GetObjectItemCaseSensitive(model, "merges") ? "BPE" : "?";
    if (!strcmp(ty, "BPE"))
        s = load_bpe(root, model, &t);
    else if (!strcmp(ty, "WordPiece"))
        s = load_wordpiece(root, model, &t);
    else
        s = lm_error(LM_EUNSUPPORTED, W ": model.type '%s'", ty);
    if (s == LM_OK) s = set_specials(t, root, model, cfg);
    if (s != LM_OK) lm_tokenizer_free(t), t = NULL;
done:
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    *out = t;
    return s;
}

lm_status lm_tokenizer_from_json(const char *path, struct lm_tokenizer **out) {
    if (!path || !out) return lm_error(LM_EINVAL, W ": null argument");
    *out = NULL;
    struct lm_mapped_file f = {0}, c = {0};
    lm_status s = lm_file_map(path, &f);
    if (s != LM_OK) return s;
    /* tokenizer_config.json beside it, when there is one */
    size_t dl = strlen(path);
    while (dl > 0 && path[dl - 1] != '/')
        dl--;
    char *cpath = malloc(dl + sizeof "tokenizer_config.json");
    struct stat sb;
    bool have_cfg = false;
    if (!cpath)
        s = lm_error(LM_ENOMEM, W ": path");
    else {
        memcpy(cpath, path, dl);
        strcpy(cpath + dl, "tokenizer_config.json");
        if (stat(cpath, &sb) == 0 && S_ISREG(sb.st_mode)) {
            s = lm_file_map(cpath, &c);
            have_cfg = s == LM_OK;
        }
    }
    if (s == LM_OK)
        s = tok_from_json_mem((const char *)f.data, f.size, have_cfg ? (const char *)c.data : NULL,
                              c.size, out);
    if (s != LM_OK && strstr(lm_last_error(), path) == NULL) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", lm_last_error());
        lm_error(s, "%s: %s", path, msg);
    }
    if (have_cfg) lm_file_unmap(&c);
    lm_file_unmap(&f);
    free(cpath);
    return s;
}
