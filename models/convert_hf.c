/* models/convert_hf.c - a Hugging Face directory to GGUF (`lmrt convert`), writing the keys,
 * tensor names and tokenizer metadata llama.cpp's convert_hf_to_gguf.py writes for llama /
 * mistral (architecture "llama"), lfm2 and bert. Facts from that converter and gguf-py; the
 * code is ours.
 *
 *  - Hyper-parameters come from models/hparams.c (config.json, sentence-transformers pooling).
 *  - Tensors: names through models/names.c; llama/mistral q_proj/k_proj rows are permuted for
 *    adjacent-pair RoPE; lfm2's conv weight [C,1,L] becomes ne {L, C}; bert's pooler,
 *    position_ids and MLM head are dropped (the converter drops them too). 1-D tensors, norms,
 *    biases, position_embd, token_types and shortconv.conv stay F32; other weights take the
 *    out type (Q8_0 rows that are not whole blocks fall back to F16, as the converter does).
 *  - llama3 rope scaling: the converter's rope_freqs tensor (per-frequency divisors).
 *  - Tokenizer: read with our tokenizer.json loader; tokens, types, scores (SentencePiece
 *    style) and merges (byte-level BPE, read from the file in rank order); bert's WordPiece
 *    vocabulary is rewritten ("##x" -> "x", other non-control "w" -> "▁w"). Special ids from
 *    the tokenizer, then config.json's *_token_id for those still missing. tokenizer.ggml.pre
 *    is the name whose regexes match the file's pre-tokenizer (see pre_name); WordPiece and
 *    SentencePiece get "default" (llama.cpp derives a name from a hash of token ids; for
 *    all-MiniLM-L6-v2 it writes "jina-v2-en", which names the same WordPiece behaviour).
 *  - Mistral's sliding_window is written as llama.attention.sliding_window (llama.cpp's
 *    converter leaves it out and its llama graph ignores it; lmrt honours it).
 */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../rt/safetensors.h"
#include "convert.h"
#include "names.h"
#include "tokenizer/tok.h"

#define PATH_CAP 4096

struct conv {
    const char *dir;
    struct lm_hparams hp;
    struct lm_st *st;
    struct lm_tokenizer *tok;
    cJSON *tokjson, *tokcfg, *config; /* tokcfg may be NULL */
    struct lm_gguf_writer *w;
    char key[160];
};

/* GGUF architecture name: Mistral is written as llama (its graph is llama's) */
static const char *arch_name(const struct conv *c) {
    return c->hp.arch == LM_ARCH_MISTRAL ? "llama" : lm_arch_name(c->hp.arch);
}

/* "<arch>.<suffix>" in c->key */
static const char *K(struct conv *c, const char *suffix) {
    snprintf(c->key, sizeof c->key, "%s.%s", arch_name(c), suffix);
    return c->key;
}

static lm_status read_json(const char *dir, const char *name, bool required, cJSON **out) {
    char path[PATH_CAP];
    *out = NULL;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return lm_error(LM_ERANGE, "convert: path too long: %s/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return required ? lm_error(LM_ENOTFOUND, "convert: %s is missing", path) : LM_OK;
    struct lm_mapped_file f;
    lm_status s = lm_file_map(path, &f);
    if (s) return s;
    *out = f.size ? cJSON_ParseWithLength((const char *)f.data, f.size) : NULL;
    lm_file_unmap(&f);
    return *out ? LM_OK : lm_error(LM_EFORMAT, "convert: %s is not valid JSON", path);
}

/* ---- hyper-parameters --------------------------------------------------------------------- */

static lm_status write_hparams(struct conv *c, int32_t ftype) {
    const struct lm_hparams *hp = &c->hp;
    struct lm_gguf_writer *w = c->w;
    const char *slash = strrchr(c->dir, '/');
    const char *name = slash && slash[1] ? slash + 1 : c->dir;
    lm_status s;
    if ((s = lm_gguf_writer_set_str(w, "general.architecture", arch_name(c),
                                    strlen(arch_name(c)))) ||
        (s = lm_gguf_writer_set_str(w, "general.type", "model", 5)) ||
        (s = lm_gguf_writer_set_str(w, "general.name", name, strlen(name))) ||
        (s = lm_gguf_writer_set_u32(w, K(c, "block_count"), (uint32_t)hp->n_layer)) ||
        (s = lm_gguf_writer_set_u32(w, K(c, "context_length"), (uint32_t)hp->n_ctx_train)) ||
        (s = lm_gguf_writer_set_u32(w, K(c, "embedding_length"), (uint32_t)hp->n_embd)) ||
        (s = lm_gguf_writer_set_u32(w, K(c, "feed_forward_length"), (uint32_t)hp->n_ff)) ||
        (s = lm_gguf_writer_set_u32(w, K(c, "attention.head_count"), (uint32_t)hp->n_head)))
        return s;
    if (hp->arch == LM_ARCH_LFM2) { /* per layer: 0 marks a short-conv layer */
        if ((s = lm_gguf_writer_set_arr(w, K(c, "attention.head_count_kv"), LM_GGUF_I32,
                                        hp->n_head_kv_layer, (uint64_t)hp->n_layer)))
            return s;
    } else if (hp->arch != LM_ARCH_BERT) {
        if ((s = lm_gguf_writer_set_u32(w, K(c, "attention.head_count_kv"),
                                        (uint32_t)hp->n_head_kv)))
            return s;
    }
    if (hp->arch == LM_ARCH_BERT) {
        if ((s = lm_gguf_writer_set_f32(w, K(c, "attention.layer_norm_epsilon"), hp->norm_eps)))
            return s;
    } else {
        if ((s = lm_gguf_writer_set_f32(w, K(c, "rope.freq_base"), hp->rope_base)) ||
            (s = lm_gguf_writer_set_f32(w, K(c, "attention.layer_norm_rms_epsilon"), hp->norm_eps)))
            return s;
    }
    const cJSON *hd = cJSON_GetObjectItemCaseSensitive(c->config, "head_dim");
    if (cJSON_IsNumber(hd) &&
        ((s = lm_gguf_writer_set_u32(w, K(c, "attention.key_length"), (uint32_t)hp->head_dim)) ||
         (s = lm_gguf_writer_set_u32(w, K(c, "attention.value_length"), (uint32_t)hp->head_dim))))
        return s;
    if ((s = lm_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype))) return s;
    switch (hp->arch) {
    case LM_ARCH_LLAMA:
    case LM_ARCH_MISTRAL:
        if ((s = lm_gguf_writer_set_u32(w, K(c, "vocab_size"), (uint32_t)hp->n_vocab)) ||
            (s = lm_gguf_writer_set_u32(w, K(c, "rope.dimension_count"), (uint32_t)hp->n_rot)))
            return s;
        if (hp->rope_scaling == LM_ROPE_SCALING_LINEAR ||
            hp->rope_scaling == LM_ROPE_SCALING_YARN) {
            const char *ty = hp->rope_scaling == LM_ROPE_SCALING_LINEAR ? "linear" : "yarn";
            if ((s = lm_gguf_writer_set_str(w, K(c, "rope.scaling.type"), ty, strlen(ty))) ||
                (s = lm_gguf_writer_set_f32(w, K(c, "rope.scaling.factor"), hp->rope_factor)))
                return s;
            if (hp->rope_scaling == LM_ROPE_SCALING_YARN &&
                (s = lm_gguf_writer_set_u32(w, K(c, "rope.scaling.original_context_length"),
                                            (uint32_t)hp->rope_n_ctx_orig)))
                return s;
        }
        if (hp->sliding_window > 0 &&
            (s = lm_gguf_writer_set_u32(w, K(c, "attention.sliding_window"),
                                        (uint32_t)hp->sliding_window)))
            return s;
        break;
    case LM_ARCH_LFM2:
        if ((s = lm_gguf_writer_set_u32(w, K(c, "vocab_size"), (uint32_t)hp->n_vocab)) ||
            (s = lm_gguf_writer_set_u32(w, K(c, "shortconv.l_cache"), (uint32_t)hp->conv_l_cache)))
            return s;
        break;
    case LM_ARCH_BERT:
        if ((s = lm_gguf_writer_set_bool(w, K(c, "attention.causal"), false))) return s;
        if (hp->pooling != LM_POOLING_NONE &&
            (s = lm_gguf_writer_set_u32(w, K(c, "pooling_type"), (uint32_t)hp->pooling)))
            return s;
        break;
    default: break;
    }
    return lm_gguf_writer_set_u32(w, "general.quantization_version", 2);
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

/* Regexes of a tokenizer.json pre_tokenizer, as our loader would apply them (Split regexes,
 * Digits, ByteLevel's own regex); false when it holds something else. */
static bool collect_pre(const cJSON *o, const char **pat, int *n, int depth) {
    if (!o || cJSON_IsNull(o)) return true;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsString(ty) || depth > 8 || *n >= 8) return false;
    const char *t = ty->valuestring;
    if (!strcmp(t, "Sequence")) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "pretokenizers")) {
            if (!collect_pre(e, pat, n, depth + 1)) return false;
        }
        return true;
    }
    if (!strcmp(t, "ByteLevel")) {
        if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "use_regex")))
            pat[(*n)++] = tok_gpt2_pattern;
        return true;
    }
    if (!strcmp(t, "Digits")) {
        bool each = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "individual_digits"));
        pat[(*n)++] = each ? "\\p{N}" : "\\p{N}+";
        return true;
    }
    if (!strcmp(t, "Split")) {
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o, "pattern"), "Regex");
        if (!cJSON_IsString(re)) return false;
        pat[(*n)++] = re->valuestring;
        return true;
    }
    return false;
}

/* The llama.cpp pre-tokenizer name for a byte-level BPE tokenizer.json: the first candidate
 * (the architecture's own name first) whose regexes are the file's. */
static lm_status pre_name(struct conv *c, const char **out) {
    static const char *const llama_names[] = {"smollm", "llama-bpe", "qwen2", "gpt-2"};
    static const char *const lfm2_names[] = {"lfm2", "smollm", "qwen2", "gpt-2"};
    const char *const *cand = c->hp.arch == LM_ARCH_LFM2 ? lfm2_names : llama_names;
    const char *pat[8];
    int n = 0;
    if (!collect_pre(cJSON_GetObjectItemCaseSensitive(c->tokjson, "pre_tokenizer"), pat, &n, 0))
        n = -1;
    for (int i = 0; n >= 0 && i < 4; i++) {
        int kn;
        bool im, ab;
        const char *const *kp = tok_bpe_pre_patterns(cand[i], &kn, &im, &ab);
        if (!kp || kn != n) continue;
        int j = 0;
        while (j < n && !strcmp(kp[j], pat[j]))
            j++;
        if (j == n) {
            *out = cand[i];
            return LM_OK;
        }
    }
    return lm_error(LM_EUNSUPPORTED,
                    "convert: %s/tokenizer.json: the pre-tokenizer matches none that llama.cpp "
                    "names (smollm, llama-bpe, lfm2, qwen2, gpt-2)",
                    c->dir);
}

/* model.merges in rank order as "left right" strings (pairs joined; a space inside a part
 * becomes U+0120, as llama.cpp's gguf-py writes it). */
static lm_status write_merges(struct conv *c) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->tokjson, "model"), "merges");
    int n = cJSON_GetArraySize(m);
    if (!cJSON_IsArray(m) || n == 0) return LM_OK;
    char **strs = calloc((size_t)n, sizeof *strs);
    if (!strs) return lm_error(LM_ENOMEM, "convert: merges");
    lm_status s = LM_OK;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, m) {
        if (cJSON_IsString(e)) {
            strs[i] = strdup(e->valuestring);
        } else if (cJSON_GetArraySize(e) == 2 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            const char *p[2] = {cJSON_GetArrayItem(e, 0)->valuestring,
                                cJSON_GetArrayItem(e, 1)->valuestring};
            size_t len = 2 * (strlen(p[0]) + strlen(p[1])) + 2;
            char *o = strs[i] = malloc(len);
            for (int k = 0; o && k < 2; k++) {
                if (k) *o++ = ' ';
                for (const char *q = p[k]; *q; q++)
                    if (*q == ' ')
                        *o++ = (char)0xc4, *o++ = (char)0xa0; /* U+0120 */
                    else
                        *o++ = *q;
                *o = 0;
            }
        } else {
            s = lm_error(LM_EFORMAT, "convert: tokenizer.json: merge %d is not a string or pair",
                         i);
            break;
        }
        if (!strs[i]) {
            s = lm_error(LM_ENOMEM, "convert: merges");
            break;
        }
        i++;
    }
    if (!s)
        s = lm_gguf_writer_set_arr_str(c->w, "tokenizer.ggml.merges", (const char *const *)strs,
                                       NULL, (uint64_t)n);
    for (int k = 0; k < n; k++)
        free(strs[k]);
    free(strs);
    return s;
}

static lm_status write_tokenizer(struct conv *c) {
    const struct lm_tokenizer *t = c->tok;
    struct lm_gguf_writer *w = c->w;
    lm_status s = LM_OK;
    int32_t n = t->n_vocab;
    if (c->hp.arch == LM_ARCH_BERT &&
        (s = lm_gguf_writer_set_u32(w, "tokenizer.ggml.token_type_count",
                                    (uint32_t)c->hp.n_type_vocab)))
        return s;
    const char *model = t->kind == LM_TOK_BPE ? "gpt2" : t->kind == LM_TOK_SPM ? "llama" : "bert";
    const char *pre = "default";
    if (t->kind == LM_TOK_BPE && (s = pre_name(c, &pre))) return s;
    if ((s = lm_gguf_writer_set_str(w, "tokenizer.ggml.model", model, strlen(model))) ||
        (s = lm_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, strlen(pre))))
        return s;
    char **pieces = malloc((size_t)n * sizeof *pieces);
    size_t *lens = malloc((size_t)n * sizeof *lens);
    int32_t *types = malloc((size_t)n * sizeof *types);
    char **owned = t->kind == LM_TOK_WPM ? calloc((size_t)n, sizeof *owned) : NULL;
    if (!pieces || !lens || !types || (t->kind == LM_TOK_WPM && !owned)) {
        s = lm_error(LM_ENOMEM, "convert: vocabulary of %d", (int)n);
        goto done;
    }
    for (int32_t i = 0; i < n; i++) {
        pieces[i] = t->piece[i], lens[i] = t->piece_len[i], types[i] = t->type[i];
        if (!owned || t->type[i] == TOK_CONTROL) continue;
        /* WordPiece in GGUF: continuation "##x" -> "x", word start "w" -> "\u2581w" */
        if (lens[i] >= 2 && !memcmp(pieces[i], "##", 2)) {
            pieces[i] += 2, lens[i] -= 2;
            continue;
        }
        if (!(owned[i] = malloc(lens[i] + 4))) {
            s = lm_error(LM_ENOMEM, "convert: vocabulary of %d", (int)n);
            goto done;
        }
        memcpy(owned[i], "\xe2\x96\x81", 3);
        memcpy(owned[i] + 3, t->piece[i], lens[i] + 1);
        pieces[i] = owned[i], lens[i] += 3;
    }
    if ((s = lm_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)pieces,
                                        lens, (uint64_t)n)) ||
        (s = lm_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", LM_GGUF_I32, types,
                                    (uint64_t)n)))
        goto done;
    if (t->kind == LM_TOK_SPM && (s = lm_gguf_writer_set_arr(w, "tokenizer.ggml.scores",
                                                             LM_GGUF_F32, t->score, (uint64_t)n)))
        goto done;
    if (t->kind == LM_TOK_BPE && (s = write_merges(c))) goto done;
    /* special ids: the tokenizer's, then config.json's for the rest; bert's BOS/EOS are its
     * CLS/SEP, as llama.cpp's converter takes them */
    static const struct {
        const char *key, *cfg;
        int which, alt;
    } sp[] = {
        {"tokenizer.ggml.bos_token_id", "bos_token_id", LM_TOK_BOS, LM_TOK_CLS},
        {"tokenizer.ggml.eos_token_id", "eos_token_id", LM_TOK_EOS, LM_TOK_SEP},
        {"tokenizer.ggml.unknown_token_id", "unk_token_id", LM_TOK_UNK, -1},
        {"tokenizer.ggml.seperator_token_id", "sep_token_id", LM_TOK_SEP, -1},
        {"tokenizer.ggml.padding_token_id", "pad_token_id", LM_TOK_PAD, -1},
        {"tokenizer.ggml.mask_token_id", "mask_token_id", LM_TOK_MASK, -1},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        int32_t id = t->special[sp[i].which];
        if (id < 0 && sp[i].alt >= 0 && t->kind == LM_TOK_WPM) id = t->special[sp[i].alt];
        const cJSON *cv = cJSON_GetObjectItemCaseSensitive(c->config, sp[i].cfg);
        if (id < 0 && cJSON_IsNumber(cv) && cv->valuedouble >= 0 && cv->valuedouble < n &&
            cv->valuedouble == floor(cv->valuedouble))
            id = (int32_t)cv->valuedouble;
        if (id >= 0 && (s = lm_gguf_writer_set_u32(w, sp[i].key, (uint32_t)id))) goto done;
    }
    bool add_bos = t->kind == LM_TOK_WPM ? t->add_sep : t->add_bos;
    bool add_eos = t->kind == LM_TOK_WPM ? t->add_sep : t->add_eos;
    if ((s = lm_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", add_bos)) ||
        (s = lm_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", add_eos)))
        goto done;
    if (t->kind == LM_TOK_WPM &&
        ((s = lm_gguf_writer_set_bool(w, "tokenizer.ggml.add_sep_token", false)) ||
         (s = lm_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.lowercase", t->lowercase))))
        goto done;
    if (t->kind == LM_TOK_SPM &&
        (s = lm_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", t->add_space_prefix)))
        goto done;
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(c->tokcfg, "chat_template");
    if (cJSON_IsString(tmpl))
        s = lm_gguf_writer_set_str(w, "tokenizer.chat_template", tmpl->valuestring,
                                   strlen(tmpl->valuestring));
done:
    if (owned)
        for (int32_t i = 0; i < n; i++)
            free(owned[i]);
    free(owned);
    free(pieces);
    free(lens);
    free(types);
    return s;
}

/* ---- tensors ------------------------------------------------------------------------------ */

struct plan {
    int64_t src; /* safetensors index, or -1 for the generated rope_freqs */
    char name[64];
    enum lm_dtype type;
    int ndim;
    int64_t ne[LM_MAX_DIMS];
    unsigned xform;
};

/* Tensors the converter drops (not weights of the graph). */
static bool dropped(enum lm_arch arch, const char *name) {
    if (strstr(name, "rotary_emb.inv_freq")) return true;
    if (arch != LM_ARCH_BERT) return false;
    if (!strncmp(name, "bert.", 5)) name += 5;
    return !strcmp(name, "embeddings.position_ids") || !strncmp(name, "pooler.", 7) ||
           !strncmp(name, "cls.", 4);
}

/* The converter's out type for GGUF tensor name of ndim dims. */
static enum lm_dtype out_type(const char *name, int ndim, int64_t ne0, enum lm_dtype outtype) {
    size_t n = strlen(name);
    bool weight = n > 7 && !strcmp(name + n - 7, ".weight");
    if (ndim <= 1 || !weight || strstr(name, "_norm.weight") ||
        !strcmp(name, "position_embd.weight") || !strcmp(name, "token_types.weight") ||
        strstr(name, "shortconv.conv.weight"))
        return LM_F32;
    if (outtype == LM_Q8_0 && ne0 % 32) return LM_F16; /* the converter's QuantError fallback */
    return outtype;
}

/* llama3 rope scaling: one divisor per rotated frequency (the converter's rope_freqs). */
static void llama3_factors(const struct lm_hparams *hp, float *out, int64_t n) {
    double old_ctx = hp->rope_n_ctx_orig > 0 ? hp->rope_n_ctx_orig : 8192;
    double lo = hp->rope_low_freq, hi = hp->rope_high_freq, f = hp->rope_factor;
    int64_t dim = 2 * n;
    for (int64_t i = 0; i < n; i++) {
        double freq = 1.0 / pow(hp->rope_base, (double)(2 * i) / (double)dim);
        double wavelen = 2 * 3.14159265358979323846 / freq;
        if (wavelen < old_ctx / hi)
            out[i] = 1.0f;
        else if (wavelen > old_ctx / lo)
            out[i] = (float)f;
        else {
            double smooth = (old_ctx / wavelen - lo) / (hi - lo);
            out[i] = (float)(1.0 / ((1 - smooth) / f + smooth));
        }
    }
}

static lm_status make_plan(struct conv *c, enum lm_dtype outtype, struct plan **out,
                           int64_t *n_out) {
    int64_t n = lm_st_n_tensors(c->st), k = 0;
    struct plan *p = calloc((size_t)n + 1, sizeof *p);
    if (!p) return lm_error(LM_ENOMEM, "convert: %lld tensors", (long long)n);
    lm_status s = LM_OK;
    for (int64_t i = 0; i < n && !s; i++) {
        const char *hf = lm_st_tensor_name(c->st, i);
        struct plan *q = &p[k];
        if (!lm_names_gguf(c->hp.arch, hf, q->name, sizeof q->name)) {
            if (dropped(c->hp.arch, hf)) continue;
            s = lm_error(LM_EUNSUPPORTED, "convert: %s: tensor '%s' has no GGUF name for %s",
                         c->dir, hf, lm_arch_name(c->hp.arch));
            break;
        }
        struct lm_st_tensor_info info;
        if ((s = lm_st_tensor_info(c->st, i, &info))) break;
        if (info.rank < 1 || info.rank > LM_MAX_DIMS) {
            s = lm_error(LM_EUNSUPPORTED, "convert: tensor '%s' has %d dims", hf, (int)info.rank);
            break;
        }
        q->src = i;
        q->xform = lm_names_xform(c->hp.arch, q->name);
        q->ndim = info.rank;
        for (int d = 0; d < LM_MAX_DIMS; d++)
            q->ne[d] = d < info.rank ? info.shape[info.rank - 1 - d] : 1;
        if (q->xform & LM_NAMES_SQUEEZE) { /* [C, 1, L] -> ne {L, C} */
            if (q->ndim != 3 || q->ne[1] != 1) {
                s = lm_error(LM_EFORMAT, "convert: tensor '%s' is not [C, 1, L]", hf);
                break;
            }
            q->ne[1] = q->ne[2], q->ne[2] = 1, q->ndim = 2;
        }
        q->type = out_type(q->name, q->ndim, q->ne[0], outtype);
        k++;
    }
    if (!s && c->hp.rope_scaling == LM_ROPE_SCALING_LLAMA3 &&
        (c->hp.arch == LM_ARCH_LLAMA || c->hp.arch == LM_ARCH_MISTRAL)) {
        struct plan *q = &p[k++];
        q->src = -1;
        strcpy(q->name, "rope_freqs.weight");
        q->type = LM_F32, q->ndim = 1;
        q->ne[0] = c->hp.n_rot / 2, q->ne[1] = q->ne[2] = q->ne[3] = 1;
    }
    if (s) {
        free(p);
        return s;
    }
    *out = p, *n_out = k;
    return LM_OK;
}

/* A copy of t with its rows reordered for adjacent-pair RoPE (q/k weights and biases). */
static lm_status permute(const struct conv *c, const struct plan *q, const struct lm_tensor *t,
                         void **buf) {
    int64_t n_heads = q->xform & LM_NAMES_PERMUTE_Q ? c->hp.n_head : c->hp.n_head_kv;
    size_t es = lm_row_size(t->dtype, 1);
    int64_t rows = t->ndim == 1 ? t->ne[0] : t->ne[1];
    size_t row_bytes = t->ndim == 1 ? es : (size_t)t->ne[0] * es;
    if (t->ndim > 2 || n_heads < 1 || rows % (2 * n_heads))
        return lm_error(LM_EFORMAT,
                        "convert: tensor '%s': %lld rows do not split into %lld heads "
                        "of pairs",
                        q->name, (long long)rows, (long long)n_heads);
    uint8_t *p = lm_aligned_alloc((size_t)rows * row_bytes);
    if (!p) return lm_error(LM_ENOMEM, "convert: permuting '%s'", q->name);
    for (int64_t r = 0; r < rows; r++)
        memcpy(p + (size_t)r * row_bytes,
               (const uint8_t *)t->data +
                   (size_t)lm_names_permute_row(r, rows, n_heads) * row_bytes,
               row_bytes);
    *buf = p;
    return LM_OK;
}

static lm_status write_tensor(struct conv *c, const struct plan *q, struct lm_ctx *ctx,
                              struct lm_convert_report *r) {
    if (q->src < 0) {  /* rope_freqs */
        float f[1024]; /* head dims up to 2048 */
        if (q->ne[0] > (int64_t)(sizeof f / sizeof f[0]))
            return lm_error(LM_ERANGE, "convert: rope_freqs of %lld", (long long)q->ne[0]);
        llama3_factors(&c->hp, f, q->ne[0]);
        r->bytes_out += (uint64_t)q->ne[0] * 4;
        return lm_gguf_writer_write(c->w, f, (size_t)q->ne[0] * 4);
    }
    struct lm_tensor t;
    lm_status s = lm_st_tensor(c->st, q->src, &t);
    if (s) return s;
    void *perm = NULL;
    if ((q->xform & (LM_NAMES_PERMUTE_Q | LM_NAMES_PERMUTE_K)) && (s = permute(c, q, &t, &perm)))
        return s;
    struct lm_tensor v = t;
    if ((s = lm_tensor_init(&v, t.dtype, q->ndim, q->ne, perm ? perm : t.data))) {
        lm_aligned_free(perm);
        return s;
    }
    v.name = q->name;
    r->bytes_in += lm_tensor_nbytes(&t);
    r->bytes_out += (uint64_t)lm_row_size(q->type, q->ne[0]) * (uint64_t)lm_tensor_nrows(&v);
    r->n_converted += t.dtype != q->type;
    s = lm_convert_stream(c->w, &v, q->type, ctx);
    lm_aligned_free(perm);
    return s;
}

lm_status lm_convert_hf(const char *dir, const char *out_path, enum lm_dtype outtype,
                        struct lm_ctx *ctx, struct lm_convert_report *rep) {
    if (!dir || !out_path || !ctx) return lm_error(LM_EINVAL, "convert: NULL argument");
    if (outtype != LM_F32 && outtype != LM_F16 && outtype != LM_BF16 && outtype != LM_Q8_0)
        return lm_error(LM_EINVAL, "convert: out type %s (f32, f16, bf16 or q8_0)",
                        lm_dtype_name(outtype));
    struct conv c = {.dir = dir};
    struct lm_convert_report r = {0};
    struct plan *plan = NULL;
    int64_t n_plan = 0;
    char path[PATH_CAP];
    lm_status s;
    if ((s = lm_hparams_from_dir(dir, &c.hp)) ||
        (s = read_json(dir, "config.json", true, &c.config)) ||
        (s = read_json(dir, "tokenizer.json", true, &c.tokjson)) ||
        (s = read_json(dir, "tokenizer_config.json", false, &c.tokcfg)))
        goto done;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if ((s = lm_tokenizer_from_json(path, &c.tok)) || (s = lm_st_open(dir, &c.st)) ||
        (s = make_plan(&c, outtype, &plan, &n_plan)))
        goto done;
    if ((s = lm_gguf_writer_open(out_path, &c.w))) goto done;
    int32_t ftype = lm_convert_ftype(outtype);
    if ((s = write_hparams(&c, ftype)) || (s = write_tokenizer(&c))) goto done;
    for (int64_t i = 0; i < n_plan && !s; i++)
        s = lm_gguf_writer_add_tensor(c.w, plan[i].name, lm_dtype_info(plan[i].type)->gguf_type,
                                      plan[i].ndim, plan[i].ne);
    if (!s) s = lm_gguf_writer_begin_data(c.w);
    for (int64_t i = 0; i < n_plan && !s; i++)
        s = write_tensor(&c, &plan[i], ctx, &r);
    r.n_tensors = n_plan;
    if (!s) {
        s = lm_gguf_writer_finish(c.w);
        c.w = NULL;
    }
done:
    lm_gguf_writer_free(c.w); /* after an error: removes the partial file */
    free(plan);
    lm_st_close(c.st);
    lm_tokenizer_free(c.tok);
    cJSON_Delete(c.config);
    cJSON_Delete(c.tokjson);
    cJSON_Delete(c.tokcfg);
    if (!s && rep) *rep = r;
    return s;
}
