/* models/hparams.c - model hyper-parameters from GGUF metadata or a Hugging Face config.json.
 *
 * Contract: struct lm_hparams is filled completely or the call fails with the key at fault in
 * the message: LM_EFORMAT for a missing required key or a wrong type, LM_ERANGE for a value
 * outside what lmrt can hold or a combination that cannot be a model (heads that do not divide
 * the width, KV heads that do not divide the heads), LM_EUNSUPPORTED for an architecture,
 * RoPE scaling or pooling lmrt does not run. Nothing here allocates into the result, so there is
 * nothing to free. Defaults for optional keys are the ones llama.cpp (GGUF) and transformers
 * (config.json) use, so a file means here what it means there.
 */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../rt/lmrt.h"

/* Bounds on what a file may claim: wide enough for any released model of these families,
 * tight enough that products of them (n_embd * n_vocab, n_head * head_dim) fit an int64. */
#define MAX_VOCAB (1 << 24)
#define MAX_CTX   (1 << 24)
#define MAX_EMBD  (1 << 16)
#define MAX_FF    (1 << 20)
#define MAX_HEADS 1024
#define MAX_HDIM  1024

static const char *const arch_names[LM_ARCH_COUNT] = {"llama", "mistral", "lfm2", "bert"};

const char *lm_arch_name(enum lm_arch a) {
    return (unsigned)a < LM_ARCH_COUNT ? arch_names[a] : "?";
}

const char *lm_pooling_name(enum lm_pooling p) {
    static const char *const names[] = {"none", "mean", "cls", "last"};
    return (unsigned)p <= LM_POOLING_LAST ? names[p] : "?";
}

static void defaults(struct lm_hparams *hp, enum lm_arch arch) {
    memset(hp, 0, sizeof *hp);
    hp->arch = arch;
    hp->rope_base = 10000.0f;
    hp->rope_factor = 1.0f;
    hp->rope_scaling = LM_ROPE_SCALING_NONE;
    hp->pooling = LM_POOLING_NONE;
}

/* Checks shared by both sources, once every field is read. src names the file kind; the
 * *_key arguments name the keys the message should point at. */
static lm_status finish(struct lm_hparams *hp, const char *src, const char *head_key,
                        const char *kv_key, const char *hdim_key, const char *rot_key) {
    if (hp->head_dim == 0) {
        if (hp->n_embd % hp->n_head)
            return lm_error(LM_ERANGE, "%s: %s = %d does not divide the width %d", src, head_key,
                            hp->n_head, hp->n_embd);
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    if (hp->head_dim < 1 || hp->head_dim > MAX_HDIM)
        return lm_error(LM_ERANGE, "%s: %s = %d out of [1, %d]", src, hdim_key, hp->head_dim,
                        MAX_HDIM);
    if (hp->n_rot == 0) hp->n_rot = hp->head_dim;
    if (hp->n_rot < 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return lm_error(LM_ERANGE, "%s: %s = %d: must be even and at most the head size %d", src,
                        rot_key, hp->n_rot, hp->head_dim);
    hp->n_head_kv = 0; /* an lfm2 of conv layers only is odd but valid: 0 stays */
    for (int32_t il = 0; il < hp->n_layer; il++) {
        int32_t kv = hp->n_head_kv_layer[il];
        if (kv < 0 || kv > hp->n_head || (kv > 0 && hp->n_head % kv))
            return lm_error(LM_ERANGE, "%s: %s = %d (layer %d) must divide %s = %d", src, kv_key,
                            kv, il, head_key, hp->n_head);
        if (kv == 0 && hp->arch != LM_ARCH_LFM2)
            return lm_error(LM_ERANGE,
                            "%s: %s is 0 at layer %d (only lfm2 has attention-free layers)", src,
                            kv_key, il);
        if (kv > hp->n_head_kv) hp->n_head_kv = kv;
    }
    if (!(hp->rope_base > 0 && isfinite(hp->rope_base)))
        return lm_error(LM_ERANGE, "%s: RoPE base %g must be positive", src, (double)hp->rope_base);
    if (!(hp->rope_factor > 0 && isfinite(hp->rope_factor)))
        return lm_error(LM_ERANGE, "%s: RoPE scaling factor %g must be positive", src,
                        (double)hp->rope_factor);
    if (hp->arch == LM_ARCH_LFM2 && (hp->conv_l_cache < 1 || hp->conv_l_cache > 64))
        return lm_error(LM_ERANGE, "%s: lfm2 conv L_cache %d out of [1, 64]", src,
                        hp->conv_l_cache);
    return LM_OK;
}

/* ---- GGUF ------------------------------------------------------------------------------- */

struct gsrc {
    const struct lm_gguf *g;
    const char *arch;
    char key[128];
};

static const char *gkey(struct gsrc *s, const char *suffix) {
    snprintf(s->key, sizeof s->key, "%s.%s", s->arch, suffix);
    return s->key;
}

/* "<arch>.suffix" as an integer in [lo, hi]; def when absent and not required. */
static lm_status gint(struct gsrc *s, const char *suffix, bool required, int32_t lo, int32_t hi,
                      int32_t def, int32_t *out) {
    const char *key = gkey(s, suffix);
    if (lm_gguf_find_kv(s->g, key) < 0) {
        if (required) return lm_error(LM_EFORMAT, "GGUF: required key %s is missing", key);
        *out = def;
        return LM_OK;
    }
    int32_t v;
    lm_status st = lm_gguf_get_i32(s->g, key, &v);
    if (st) return st;
    if (v < lo || v > hi)
        return lm_error(LM_ERANGE, "GGUF: %s = %d out of [%d, %d]", key, v, lo, hi);
    *out = v;
    return LM_OK;
}

static lm_status gfloat(struct gsrc *s, const char *suffix, bool required, float def, float *out) {
    const char *key = gkey(s, suffix);
    if (lm_gguf_find_kv(s->g, key) < 0) {
        if (required) return lm_error(LM_EFORMAT, "GGUF: required key %s is missing", key);
        *out = def;
        return LM_OK;
    }
    lm_status st = lm_gguf_get_f32(s->g, key, out);
    if (st) return st;
    if (!isfinite(*out))
        return lm_error(LM_ERANGE, "GGUF: %s = %g is not finite", key, (double)*out);
    return LM_OK;
}

/* head_count_kv: a scalar, or (lfm2 and others) one value per layer. */
static lm_status g_head_kv(struct gsrc *s, struct lm_hparams *hp) {
    const char *key = gkey(s, "attention.head_count_kv");
    int64_t i = lm_gguf_find_kv(s->g, key);
    if (i >= 0 && lm_gguf_kv_type(s->g, i) == LM_GGUF_ARR) {
        struct lm_gguf_arr a;
        lm_status st = lm_gguf_get_arr(s->g, key, &a);
        if (st) return st;
        if (a.n != (uint64_t)hp->n_layer)
            return lm_error(LM_EFORMAT, "GGUF: %s has %llu entries for %d layers", key,
                            (unsigned long long)a.n, hp->n_layer);
        for (int32_t il = 0; il < hp->n_layer; il++) {
            int64_t v;
            if ((st = lm_gguf_arr_int(&a, (uint64_t)il, &v))) return st;
            if (v < 0 || v > MAX_HEADS)
                return lm_error(LM_ERANGE, "GGUF: %s[%d] = %lld out of [0, %d]", key, il,
                                (long long)v, MAX_HEADS);
            hp->n_head_kv_layer[il] = (int32_t)v;
        }
        return LM_OK;
    }
    int32_t kv;
    lm_status st = gint(s, "attention.head_count_kv", false, 1, MAX_HEADS, hp->n_head, &kv);
    for (int32_t il = 0; il < hp->n_layer && !st; il++)
        hp->n_head_kv_layer[il] = kv;
    return st;
}

static lm_status g_rope_scaling(struct gsrc *s, struct lm_hparams *hp) {
    const char *key = gkey(s, "rope.scaling.type");
    lm_status st;
    if (lm_gguf_find_kv(s->g, key) >= 0) {
        const char *type;
        if ((st = lm_gguf_get_str(s->g, key, &type))) return st;
        if (!strcmp(type, "none"))
            hp->rope_scaling = LM_ROPE_SCALING_NONE;
        else if (!strcmp(type, "linear"))
            hp->rope_scaling = LM_ROPE_SCALING_LINEAR;
        else if (!strcmp(type, "yarn"))
            hp->rope_scaling = LM_ROPE_SCALING_YARN;
        else
            return lm_error(LM_EUNSUPPORTED, "GGUF: %s = '%s' is not supported", key, type);
        if ((st = gfloat(s, "rope.scaling.factor", hp->rope_scaling != LM_ROPE_SCALING_NONE, 1.0f,
                         &hp->rope_factor)))
            return st;
        if (hp->rope_factor == 0) hp->rope_factor = 1.0f; /* llama.cpp: 0 means unset */
        return gint(s, "rope.scaling.original_context_length", false, 0, MAX_CTX, 0,
                    &hp->rope_n_ctx_orig);
    }
    /* older files: a bare linear scale */
    float lin;
    if ((st = gfloat(s, "rope.scale_linear", false, 1.0f, &lin))) return st;
    if (lin != 1.0f && lin != 0.0f) {
        hp->rope_scaling = LM_ROPE_SCALING_LINEAR;
        hp->rope_factor = lin;
    }
    return LM_OK;
}

lm_status lm_hparams_from_gguf(const struct lm_gguf *g, struct lm_hparams *hp) {
    if (!g || !hp) return lm_error(LM_EINVAL, "lm_hparams_from_gguf: NULL argument");
    const char *arch;
    lm_status st = lm_gguf_get_str(g, "general.architecture", &arch);
    if (st) return st;
    enum lm_arch a = LM_ARCH_COUNT;
    for (int i = 0; i < LM_ARCH_COUNT; i++)
        if (!strcmp(arch, arch_names[i])) a = (enum lm_arch)i;
    if (a == LM_ARCH_COUNT)
        return lm_error(LM_EUNSUPPORTED,
                        "GGUF: general.architecture = '%s' is not supported "
                        "(llama, mistral, lfm2, bert)",
                        arch);
    defaults(hp, a);
    struct gsrc s = {.g = g, .arch = arch};

    /* vocabulary: the arch key, else the tokenizer's token list */
    if (lm_gguf_find_kv(g, gkey(&s, "vocab_size")) >= 0) {
        if ((st = gint(&s, "vocab_size", true, 1, MAX_VOCAB, 0, &hp->n_vocab))) return st;
    } else {
        struct lm_gguf_arr toks;
        if ((st = lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks)))
            return lm_error(st, "GGUF: neither %s.vocab_size nor tokenizer.ggml.tokens", arch);
        if (toks.n < 1 || toks.n > MAX_VOCAB)
            return lm_error(LM_ERANGE, "GGUF: tokenizer.ggml.tokens has %llu entries",
                            (unsigned long long)toks.n);
        hp->n_vocab = (int32_t)toks.n;
    }
    if ((st = gint(&s, "context_length", true, 1, MAX_CTX, 0, &hp->n_ctx_train)) ||
        (st = gint(&s, "embedding_length", true, 1, MAX_EMBD, 0, &hp->n_embd)) ||
        (st = gint(&s, "block_count", true, 1, LM_MAX_LAYERS, 0, &hp->n_layer)) ||
        (st = gint(&s, "feed_forward_length", true, 1, MAX_FF, 0, &hp->n_ff)) ||
        (st = gint(&s, "attention.head_count", true, 1, MAX_HEADS, 0, &hp->n_head)) ||
        (st = g_head_kv(&s, hp)) ||
        (st = gint(&s, "attention.key_length", false, 1, MAX_HDIM, 0, &hp->head_dim)) ||
        (st = gint(&s, "rope.dimension_count", false, 0, MAX_HDIM, 0, &hp->n_rot)) ||
        (st = gfloat(&s, "rope.freq_base", false, hp->rope_base, &hp->rope_base)) ||
        (st = g_rope_scaling(&s, hp)) ||
        (st = gint(&s, "attention.sliding_window", false, 0, MAX_CTX, 0, &hp->sliding_window)))
        return st;
    const char *eps_key =
        a == LM_ARCH_BERT ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon";
    if ((st = gfloat(&s, eps_key, true, 0, &hp->norm_eps))) return st;
    if (!(hp->norm_eps > 0 && hp->norm_eps < 1))
        return lm_error(LM_ERANGE, "GGUF: %s.%s = %g out of (0, 1)", arch, eps_key,
                        (double)hp->norm_eps);

    struct lm_tensor t;
    hp->tied_output =
        a != LM_ARCH_BERT && lm_gguf_find_tensor(g, "output.weight", &t) == LM_ENOTFOUND;
    lm_clear_error();
    if (a == LM_ARCH_BERT) {
        int32_t pool;
        if ((st = gint(&s, "pooling_type", false, 0, 4, 0, &pool))) return st;
        if (pool == 4)
            return lm_error(LM_EUNSUPPORTED, "GGUF: %s.pooling_type = 4 (rank) is not supported",
                            arch);
        hp->pooling = (enum lm_pooling)pool; /* llama.cpp: 0 none, 1 mean, 2 cls, 3 last */
        if (lm_gguf_find_tensor(g, "token_types.weight", &t) == LM_OK && t.ne[1] <= MAX_VOCAB)
            hp->n_type_vocab = (int32_t)t.ne[1];
        lm_clear_error();
    }
    if (a == LM_ARCH_LFM2 &&
        (st = gint(&s, "shortconv.l_cache", true, 1, 64, 0, &hp->conv_l_cache)))
        return st;
    char hk[128], kk[128], dk[128], rk[128];
    snprintf(hk, sizeof hk, "%s.attention.head_count", arch);
    snprintf(kk, sizeof kk, "%s.attention.head_count_kv", arch);
    snprintf(dk, sizeof dk, "%s.attention.key_length", arch);
    snprintf(rk, sizeof rk, "%s.rope.dimension_count", arch);
    return finish(hp, "GGUF", hk, kk, dk, rk);
}

/* ---- config.json -------------------------------------------------------------------------- */

static const cJSON *jget(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v) ? v : NULL; /* null means "not set", as in transformers */
}

static lm_status jint(const cJSON *o, const char *key, bool required, int32_t lo, int32_t hi,
                      int32_t def, int32_t *out) {
    const cJSON *v = jget(o, key);
    if (!v) {
        if (required) return lm_error(LM_EFORMAT, "config.json: required key '%s' is missing", key);
        *out = def;
        return LM_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return lm_error(LM_EFORMAT, "config.json: '%s' must be an integer", key);
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return lm_error(LM_ERANGE, "config.json: '%s' = %g out of [%d, %d]", key, v->valuedouble,
                        lo, hi);
    *out = (int32_t)v->valuedouble;
    return LM_OK;
}

static lm_status jfloat(const cJSON *o, const char *key, double lo, double hi, float def,
                        float *out) {
    const cJSON *v = jget(o, key);
    if (!v) {
        *out = def;
        return LM_OK;
    }
    if (!cJSON_IsNumber(v)) return lm_error(LM_EFORMAT, "config.json: '%s' must be a number", key);
    float f = (float)v->valuedouble; /* the bounds hold for what is kept: 1e-120 is 0 in float */
    if (!(f > lo && f < hi && isfinite(f)))
        return lm_error(LM_ERANGE, "config.json: '%s' = %g out of (%g, %g) as a float", key,
                        v->valuedouble, lo, hi);
    *out = f;
    return LM_OK;
}

static lm_status jbool(const cJSON *o, const char *key, bool def, bool *out) {
    const cJSON *v = jget(o, key);
    if (!v) {
        *out = def;
        return LM_OK;
    }
    if (!cJSON_IsBool(v))
        return lm_error(LM_EFORMAT, "config.json: '%s' must be true or false", key);
    *out = cJSON_IsTrue(v);
    return LM_OK;
}

/* rope_theta (top level or in rope_parameters) and rope_scaling / rope_parameters. */
static lm_status j_rope(const cJSON *root, struct lm_hparams *hp, float def_base) {
    const cJSON *params = jget(root, "rope_parameters");
    if (params && !cJSON_IsObject(params))
        return lm_error(LM_EFORMAT, "config.json: 'rope_parameters' must be an object");
    lm_status st = jfloat(root, "rope_theta", 0, INFINITY, def_base, &hp->rope_base);
    if (!st && params)
        st = jfloat(params, "rope_theta", 0, INFINITY, hp->rope_base, &hp->rope_base);
    if (st) return st;
    const cJSON *sc = jget(root, "rope_scaling");
    if (sc && !cJSON_IsObject(sc))
        return lm_error(LM_EFORMAT, "config.json: 'rope_scaling' must be an object");
    if (!sc) sc = params;
    if (!sc) return LM_OK;
    const cJSON *type = jget(sc, "rope_type");
    if (!type) type = jget(sc, "type");
    if (!type) return LM_OK;
    if (!cJSON_IsString(type))
        return lm_error(LM_EFORMAT, "config.json: rope scaling 'rope_type' must be a string");
    const char *t = type->valuestring;
    if (!strcmp(t, "default")) return LM_OK;
    if (!strcmp(t, "linear"))
        hp->rope_scaling = LM_ROPE_SCALING_LINEAR;
    else if (!strcmp(t, "yarn"))
        hp->rope_scaling = LM_ROPE_SCALING_YARN;
    else if (!strcmp(t, "llama3"))
        hp->rope_scaling = LM_ROPE_SCALING_LLAMA3;
    else
        return lm_error(LM_EUNSUPPORTED, "config.json: rope scaling type '%s' is not supported", t);
    if (!jget(sc, "factor"))
        return lm_error(LM_EFORMAT, "config.json: rope scaling '%s' needs 'factor'", t);
    if ((st = jfloat(sc, "factor", 0, 1e6, 1.0f, &hp->rope_factor)) ||
        (st =
             jint(sc, "original_max_position_embeddings",
                  hp->rope_scaling != LM_ROPE_SCALING_LINEAR, 1, MAX_CTX, 0, &hp->rope_n_ctx_orig)))
        return st;
    if (hp->rope_scaling == LM_ROPE_SCALING_LLAMA3 &&
        ((st = jfloat(sc, "low_freq_factor", 0, 1e6, 1.0f, &hp->rope_low_freq)) ||
         (st = jfloat(sc, "high_freq_factor", 0, 1e6, 4.0f, &hp->rope_high_freq))))
        return st;
    return LM_OK;
}

/* lfm2: which layers attend (layer_types, or the older full_attn_idxs; all when neither). */
static lm_status j_lfm2_layers(const cJSON *root, struct lm_hparams *hp, int32_t n_kv) {
    const cJSON *types = jget(root, "layer_types"), *idxs = jget(root, "full_attn_idxs");
    for (int32_t il = 0; il < hp->n_layer; il++)
        hp->n_head_kv_layer[il] = types || idxs ? 0 : n_kv;
    if (types) {
        if (!cJSON_IsArray(types) || cJSON_GetArraySize(types) != hp->n_layer)
            return lm_error(LM_EFORMAT, "config.json: 'layer_types' must list %d layers",
                            hp->n_layer);
        int32_t il = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, types) {
            if (!cJSON_IsString(e))
                return lm_error(LM_EFORMAT, "config.json: 'layer_types'[%d] must be a string", il);
            if (!strcmp(e->valuestring, "full_attention"))
                hp->n_head_kv_layer[il] = n_kv;
            else if (strcmp(e->valuestring, "conv"))
                return lm_error(LM_EUNSUPPORTED, "config.json: 'layer_types'[%d] = '%s'", il,
                                e->valuestring);
            il++;
        }
    } else if (idxs) {
        if (!cJSON_IsArray(idxs))
            return lm_error(LM_EFORMAT, "config.json: 'full_attn_idxs' must be an array");
        const cJSON *e;
        cJSON_ArrayForEach(e, idxs) {
            if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
                !(e->valuedouble >= 0 && e->valuedouble < hp->n_layer))
                return lm_error(LM_ERANGE, "config.json: 'full_attn_idxs' entry out of [0, %d)",
                                hp->n_layer);
            hp->n_head_kv_layer[(int32_t)e->valuedouble] = n_kv;
        }
    }
    return LM_OK;
}

/* lfm2's MLP width: transformers adjusts intermediate_size (2/3, multiplier, round up). */
static lm_status j_lfm2_ff(const cJSON *root, struct lm_hparams *hp) {
    bool adjust;
    float mult = 1.0f;
    int32_t multiple;
    lm_status st;
    if ((st = jbool(root, "block_auto_adjust_ff_dim", true, &adjust)) ||
        (st = jint(root, "block_multiple_of", false, 1, MAX_FF, 256, &multiple)))
        return st;
    if (!adjust) return LM_OK;
    bool has_mult =
        !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "block_ffn_dim_multiplier"));
    if (has_mult && (st = jfloat(root, "block_ffn_dim_multiplier", 0, 64, 1.0f, &mult))) return st;
    int64_t ff = (int64_t)(2.0 * hp->n_ff / 3.0);
    if (has_mult) {
        ff = (int64_t)((double)mult * (double)ff);
        ff = (ff + multiple - 1) / multiple * multiple;
    }
    if (ff < 1 || ff > MAX_FF)
        return lm_error(LM_ERANGE, "config.json: adjusted lfm2 MLP width %lld out of [1, %d]",
                        (long long)ff, MAX_FF);
    hp->n_ff = (int32_t)ff;
    return LM_OK;
}

static lm_status from_json(const cJSON *root, struct lm_hparams *hp) {
    if (!cJSON_IsObject(root)) return lm_error(LM_EFORMAT, "config.json: not a JSON object");
    const cJSON *mt = jget(root, "model_type");
    if (!mt || !cJSON_IsString(mt))
        return lm_error(LM_EFORMAT, "config.json: required key 'model_type' is missing");
    enum lm_arch a = LM_ARCH_COUNT;
    for (int i = 0; i < LM_ARCH_COUNT; i++)
        if (!strcmp(mt->valuestring, arch_names[i])) a = (enum lm_arch)i;
    if (a == LM_ARCH_COUNT)
        return lm_error(LM_EUNSUPPORTED,
                        "config.json: model_type '%s' is not supported "
                        "(llama, mistral, lfm2, bert)",
                        mt->valuestring);
    defaults(hp, a);
    lm_status st;
    const char *ff_key =
        a == LM_ARCH_LFM2 && jget(root, "block_ff_dim") ? "block_ff_dim" : "intermediate_size";
    if ((st = jint(root, "vocab_size", true, 1, MAX_VOCAB, 0, &hp->n_vocab)) ||
        (st = jint(root, "max_position_embeddings", true, 1, MAX_CTX, 0, &hp->n_ctx_train)) ||
        (st = jint(root, "hidden_size", true, 1, MAX_EMBD, 0, &hp->n_embd)) ||
        (st = jint(root, "num_hidden_layers", true, 1, LM_MAX_LAYERS, 0, &hp->n_layer)) ||
        (st = jint(root, "num_attention_heads", true, 1, MAX_HEADS, 0, &hp->n_head)) ||
        (st = jint(root, ff_key, true, 1, MAX_FF, 0, &hp->n_ff)) ||
        (st = jint(root, "head_dim", false, 1, MAX_HDIM, 0, &hp->head_dim)))
        return st;
    int32_t n_kv = hp->n_head;
    if (a != LM_ARCH_BERT &&
        (st = jint(root, "num_key_value_heads", false, 1, MAX_HEADS, hp->n_head, &n_kv)))
        return st;
    for (int32_t il = 0; il < hp->n_layer; il++)
        hp->n_head_kv_layer[il] = n_kv;

    switch (a) {
    case LM_ARCH_LLAMA:
    case LM_ARCH_MISTRAL:
        if ((st = jfloat(root, "rms_norm_eps", 0, 1, 1e-6f, &hp->norm_eps)) ||
            (st = j_rope(root, hp, 10000.0f)) ||
            (st = jbool(root, "tie_word_embeddings", false, &hp->tied_output)))
            return st;
        /* MistralConfig defaults to a 4096 window; null (or absent for llama) means none */
        if ((st = jint(root, "sliding_window", false, 0, MAX_CTX,
                       a == LM_ARCH_MISTRAL &&
                               !cJSON_GetObjectItemCaseSensitive(root, "sliding_window")
                           ? 4096
                           : 0,
                       &hp->sliding_window)))
            return st;
        if (jget(root, "partial_rotary_factor")) {
            float f;
            if ((st = jfloat(root, "partial_rotary_factor", 0, 1.000001, 1.0f, &f))) return st;
            hp->n_rot =
                (int32_t)((double)f * (hp->head_dim ? hp->head_dim : hp->n_embd / hp->n_head));
        }
        break;
    case LM_ARCH_LFM2: {
        bool tie_old;
        if ((st = jfloat(root, "norm_eps", 0, 1, 1e-5f, &hp->norm_eps)) ||
            (st = j_rope(root, hp, 1e6f)) || (st = j_lfm2_layers(root, hp, n_kv)) ||
            (st = j_lfm2_ff(root, hp)) ||
            (st = jint(root, "conv_L_cache", false, 1, 64, 3, &hp->conv_l_cache)) ||
            (st = jbool(root, "tie_word_embeddings", true, &hp->tied_output)) ||
            (st = jbool(root, "tie_embedding", hp->tied_output, &tie_old)))
            return st;
        hp->tied_output = tie_old; /* transformers lets the older key win */
        break;
    }
    case LM_ARCH_BERT: {
        if ((st = jfloat(root, "layer_norm_eps", 0, 1, 1e-12f, &hp->norm_eps)) ||
            (st = jint(root, "type_vocab_size", false, 0, MAX_VOCAB, 2, &hp->n_type_vocab)))
            return st;
        const cJSON *pe = jget(root, "position_embedding_type");
        if (pe && (!cJSON_IsString(pe) || strcmp(pe->valuestring, "absolute")))
            return lm_error(LM_EUNSUPPORTED,
                            "config.json: 'position_embedding_type' must be \"absolute\"");
        break;
    }
    default: break;
    }
    return finish(hp, "config.json", "num_attention_heads", "num_key_value_heads", "head_dim",
                  "partial_rotary_factor");
}

lm_status lm_hparams_from_config(const char *json, size_t len, struct lm_hparams *hp) {
    if (!json || !hp) return lm_error(LM_EINVAL, "lm_hparams_from_config: NULL argument");
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : len;
        return lm_error(LM_EFORMAT, "config.json: invalid JSON near byte %zu", off);
    }
    lm_status st = from_json(root, hp);
    cJSON_Delete(root);
    return st;
}

/* ---- directories ------------------------------------------------------------------------- */

static lm_status read_json(const char *path, cJSON **out) {
    struct lm_mapped_file f;
    lm_status st = lm_file_map(path, &f);
    if (st) return st;
    *out = f.size ? cJSON_ParseWithLength((const char *)f.data, f.size) : NULL;
    lm_file_unmap(&f);
    return *out ? LM_OK : lm_error(LM_EFORMAT, "%s: invalid JSON", path);
}

#define PATH_CAP 4096

/* dst = a/b, or LM_ERANGE when it does not fit */
static lm_status join(char *dst, const char *a, const char *b) {
    int n = snprintf(dst, PATH_CAP, "%s/%s", a, b);
    if (n < 0 || n >= PATH_CAP) return lm_error(LM_ERANGE, "path too long: %s/%s", a, b);
    return LM_OK;
}

/* sentence-transformers: modules.json names the Pooling module's directory. */
static lm_status st_pooling(const char *dir, struct lm_hparams *hp) {
    char path[PATH_CAP];
    if (join(path, dir, "modules.json")) return LM_ERANGE;
    struct stat sb;
    if (stat(path, &sb) != 0) return LM_OK;
    cJSON *mods;
    lm_status st = read_json(path, &mods);
    if (st) return st;
    const char *sub = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, mods) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "path");
        if (cJSON_IsString(type) && strstr(type->valuestring, "Pooling") && cJSON_IsString(p))
            sub = p->valuestring;
    }
    if (!sub || strstr(sub, "..")) {
        st = sub ? lm_error(LM_EFORMAT, "%s: Pooling path '%s' leaves the directory", path, sub)
                 : LM_OK;
        cJSON_Delete(mods);
        return st;
    }
    char sub_dir[PATH_CAP], cfg[PATH_CAP];
    st = join(sub_dir, dir, sub);
    cJSON_Delete(mods);
    if (st || (st = join(cfg, sub_dir, "config.json"))) return st;
    cJSON *pc;
    if ((st = read_json(cfg, &pc))) return st;
    static const struct {
        const char *key;
        int mode; /* enum lm_pooling, or -1: a mode lmrt does not run */
    } modes[] = {
        {"pooling_mode_cls_token", LM_POOLING_CLS},  {"pooling_mode_mean_tokens", LM_POOLING_MEAN},
        {"pooling_mode_lasttoken", LM_POOLING_LAST}, {"pooling_mode_max_tokens", -1},
        {"pooling_mode_mean_sqrt_len_tokens", -1},   {"pooling_mode_weightedmean_tokens", -1}};
    int n_on = 0;
    /* sentence-transformers 5+ writes one string instead of the flags */
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(pc, "pooling_mode");
    if (cJSON_IsString(mode)) {
        static const struct {
            const char *name;
            enum lm_pooling p;
        } names[] = {
            {"cls", LM_POOLING_CLS}, {"mean", LM_POOLING_MEAN}, {"lasttoken", LM_POOLING_LAST}};
        bool known = false;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (!strcmp(mode->valuestring, names[i].name)) hp->pooling = names[i].p, known = true;
        if (!known)
            st = lm_error(LM_EUNSUPPORTED,
                          "%s: pooling_mode \"%s\" is not supported (cls, mean or lasttoken)", cfg,
                          mode->valuestring);
        n_on = 1;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0] && !st; i++) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pc, modes[i].key))) continue;
        if (modes[i].mode < 0 || ++n_on > 1)
            st = lm_error(LM_EUNSUPPORTED, "%s: %s is not supported (one of cls, mean, lasttoken)",
                          cfg, modes[i].key);
        else
            hp->pooling = (enum lm_pooling)modes[i].mode;
    }
    cJSON_Delete(pc);
    return st;
}

lm_status lm_hparams_from_dir(const char *path, struct lm_hparams *hp) {
    if (!path || !hp) return lm_error(LM_EINVAL, "lm_hparams_from_dir: NULL argument");
    struct stat sb;
    if (stat(path, &sb) != 0) return lm_error(LM_EIO, "%s: not found", path);
    char dir[PATH_CAP], cfg[PATH_CAP];
    if (strlen(path) >= PATH_CAP) return lm_error(LM_ERANGE, "path too long: %s", path);
    if (S_ISDIR(sb.st_mode)) {
        strcpy(dir, path);
        if (join(cfg, path, "config.json")) return LM_ERANGE;
    } else {
        strcpy(cfg, path), strcpy(dir, path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            strcpy(dir, ".");
    }
    struct lm_mapped_file f;
    lm_status st = lm_file_map(cfg, &f);
    if (st) return st;
    st = lm_hparams_from_config((const char *)f.data ? (const char *)f.data : "", f.size, hp);
    lm_file_unmap(&f);
    if (st) {
        char msg[512];
        const char *m = lm_last_error();
        snprintf(msg, sizeof msg, "%s", strncmp(m, "config.json: ", 13) ? m : m + 13);
        return lm_error(st, "%s: %s", cfg, msg);
    }
    return hp->arch == LM_ARCH_BERT ? st_pooling(dir, hp) : LM_OK;
}
