/* models/model.c - loading a model: open the file (GGUF, or a Hugging Face directory of
 * config.json + safetensors + tokenizer.json), read hyper-parameters and tokenizer, then let the
 * architecture's bind function take named, shape-checked views of the weights.
 *
 * Contract: lm_model_load either returns a complete model or frees everything and returns the
 * status of the first failure, with a message naming the file and the key or tensor at fault.
 * The model is read-only after load, so any number of sessions (threads) may share it.
 */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <stb_ds.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "names.h"

/* ---- weights ----------------------------------------------------------------------------- */

/* The tensor called gguf_name in the model's file (translated for a Hugging Face directory). */
static lm_status find_weight(const struct lm_model *m, const char *gguf_name, struct lm_tensor *t,
                             char *shown, size_t n_shown) {
    snprintf(shown, n_shown, "%s", gguf_name);
    if (m->gguf) return lm_gguf_find_tensor(m->gguf, gguf_name, t);
    char hf[256];
    if (!lm_names_hf(m->hp.arch, gguf_name, hf, sizeof hf))
        return lm_error(LM_ENOTFOUND, "no Hugging Face name for %s", gguf_name);
    snprintf(shown, n_shown, "%s", hf);
    lm_status s = lm_st_find_tensor(m->st, hf, t);
    /* Some checkpoints keep the architecture prefix of the base model ("bert.", "model."): try
     * the name without it, and with it, before giving up. */
    for (int k = 0; s == LM_ENOTFOUND && k < 2; k++) {
        char alt[300];
        const char *pre = m->hp.arch == LM_ARCH_BERT ? "bert." : "model.";
        size_t np = strlen(pre);
        if (k == 0 && !strncmp(hf, pre, np))
            snprintf(alt, sizeof alt, "%s", hf + np);
        else if (k == 1 && strncmp(hf, pre, np))
            snprintf(alt, sizeof alt, "%s%s", pre, hf);
        else
            continue;
        s = lm_st_find_tensor(m->st, alt, t);
    }
    return s;
}

static lm_status to_f32(struct lm_model *m, struct lm_tensor *t) {
    if (t->dtype == LM_F32) return LM_OK;
    const int64_t n = lm_tensor_nelem(t);
    float *f = lm_aligned_alloc((size_t)n * sizeof(float));
    if (!f) return LM_ENOMEM;
    arrput(m->owned, f);
    struct lm_tensor dst;
    lm_status s = lm_tensor_init(&dst, LM_F32, t->ndim, t->ne, f);
    if (!s) {
        struct lm_tensor src = *t;
        if (t->dtype == LM_F16 || t->dtype == LM_BF16) {
            const uint16_t *h = t->data;
            for (int64_t i = 0; i < n; i++)
                f[i] = t->dtype == LM_F16 ? lm_f16_to_f32(h[i]) : lm_bf16_to_f32(h[i]);
        } else {
            s = lm_dequantize(&dst, &src, NULL);
        }
    }
    if (s)
        return lm_error(s, "%s: converting %s to f32: %s", t->name, lm_dtype_name(t->dtype),
                        lm_last_error());
    dst.name = t->name;
    *t = dst;
    return LM_OK;
}

lm_status lm_model_weight(struct lm_model *m, struct lm_tensor *t, bool required, int ndim,
                          const int64_t *ne, const char *fmt, ...) {
    char name[128], shown[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    memset(t, 0, sizeof *t);
    lm_status s = find_weight(m, name, t, shown, sizeof shown);
    if (s == LM_ENOTFOUND && !required) {
        memset(t, 0, sizeof *t);
        lm_clear_error();
        return LM_OK;
    }
    if (s == LM_ENOTFOUND) return lm_error(s, "%s: tensor %s is missing", m->name, shown);
    if (s) return s;
    /* A trailing dim of 1 (HF [C, 1, L] conv weights, GGUF 1-row matrices) is not a dim. */
    int tdim = t->ndim;
    while (tdim > 1 && t->ne[tdim - 1] == 1)
        tdim--;
    int want = ndim;
    while (want > 1 && ne[want - 1] == 1)
        want--;
    bool ok = tdim <= want;
    for (int i = 0; ok && i < want; i++)
        ok = ne[i] == 0 || t->ne[i] == ne[i];
    if (!ok) {
        char got[96] = "", exp[96] = "";
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "",
                     (long long)t->ne[i]);
        for (int i = 0; i < ndim; i++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%lld", i ? ", " : "",
                     (long long)ne[i]);
        return lm_error(LM_EFORMAT, "%s: tensor %s has shape {%s}, expected {%s}", m->name, shown,
                        got, exp);
    }
    if (ndim == 2 && t->ndim == 3) { /* {L, 1, C} -> {L, C} */
        int64_t ne2[2] = {t->ne[0], t->ne[2] * t->ne[1]};
        const char *nm = t->name;
        if ((s = lm_tensor_reshape(t, t, 2, ne2))) return s;
        t->name = nm;
    }
    if (want == 1 && (s = to_f32(m, t))) return s;
    m->weight_bytes += lm_tensor_nbytes(t);
    return LM_OK;
}

/* ---- loading ----------------------------------------------------------------------------- */

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static lm_status open_gguf(struct lm_model *m, const char *path) {
    lm_status s;
    if ((s = lm_gguf_open(path, &m->gguf)) || (s = lm_hparams_from_gguf(m->gguf, &m->hp)) ||
        (s = lm_tokenizer_from_gguf(m->gguf, &m->tok)))
        return s;
    const char *v = NULL;
    if (lm_gguf_get_str(m->gguf, "general.name", &v) == LM_OK) m->name = dup_str(v);
    if (lm_gguf_get_str(m->gguf, "tokenizer.chat_template", &v) == LM_OK)
        m->chat_template = dup_str(v);
    lm_clear_error();
    /* llama.cpp's converter permutes Q/K rows of llama-family models so that RoPE rotates
     * adjacent pairs; lfm2 (and bert, which has no RoPE) are written unpermuted. */
    m->rope_mode = m->hp.arch == LM_ARCH_LFM2 ? LM_ROPE_HALF : LM_ROPE_ADJACENT;
    return LM_OK;
}

/* tokenizer_config.json's chat_template: a string, or a list of {name, template} of which the
 * one named "default" (else the first) is the chat template. Absent is fine. */
static char *read_chat_template(const char *dir) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/tokenizer_config.json", dir) >= sizeof path)
        return NULL;
    struct lm_mapped_file f;
    if (lm_file_map(path, &f)) {
        lm_clear_error();
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength((const char *)f.data, f.size);
    lm_file_unmap(&f);
    char *out = NULL;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
    if (cJSON_IsString(ct)) {
        out = dup_str(ct->valuestring);
    } else if (cJSON_IsArray(ct)) {
        const cJSON *e, *pick = NULL;
        cJSON_ArrayForEach(e, ct) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (!pick || (cJSON_IsString(nm) && !strcmp(nm->valuestring, "default"))) pick = e;
        }
        const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(pick, "template");
        if (cJSON_IsString(tpl)) out = dup_str(tpl->valuestring);
    }
    cJSON_Delete(root);
    return out;
}

static lm_status open_hf(struct lm_model *m, const char *dir) {
    char path[4096];
    lm_status s;
    if ((s = lm_hparams_from_dir(dir, &m->hp)) || (s = lm_st_open(dir, &m->st))) return s;
    if ((size_t)snprintf(path, sizeof path, "%s/tokenizer.json", dir) >= sizeof path)
        return lm_error(LM_ERANGE, "%s: path too long", dir);
    if ((s = lm_tokenizer_from_json(path, &m->tok))) return s;
    m->chat_template = read_chat_template(dir);
    const char *base = strrchr(dir, '/');
    while (base && base[1] == '\0' && base > dir) { /* "dir/" */
        const char *p = base - 1;
        while (p > dir && *p != '/')
            p--;
        base = p;
    }
    m->name = dup_str(base && base[1] ? base + 1 : dir);
    if (m->name) {
        size_t n = strlen(m->name);
        while (n && m->name[n - 1] == '/')
            m->name[--n] = '\0';
    }
    m->rope_mode = LM_ROPE_HALF; /* HF keeps the half-split (NeoX) order */
    return LM_OK;
}

lm_status lm_model_load(const char *path, struct lm_model **out) {
    if (!path || !out) return lm_error(LM_EINVAL, "lm_model_load: NULL argument");
    *out = NULL;
    struct lm_model *m = calloc(1, sizeof *m);
    if (!m) return lm_error(LM_ENOMEM, "lm_model_load: out of memory");
    lm_status s;
    if (is_dir(path)) {
        s = open_hf(m, path);
    } else {
        size_t n = strlen(path);
        if (n > 12 && !strcmp(path + n - 12, ".safetensors"))
            s = lm_error(LM_EINVAL,
                         "%s: give the model's directory (config.json, tokenizer.json and "
                         "safetensors together), not one safetensors file",
                         path);
        else
            s = open_gguf(m, path);
    }
    if (!s && !m->name) m->name = dup_str(path);
    if (!s && !m->name) s = lm_error(LM_ENOMEM, "lm_model_load: out of memory");
    if (!s) {
        m->layers = calloc((size_t)m->hp.n_layer, sizeof *m->layers);
        if (!m->layers) s = lm_error(LM_ENOMEM, "lm_model_load: out of memory");
    }
    if (!s) {
        switch (m->hp.arch) {
        case LM_ARCH_LLAMA:
        case LM_ARCH_MISTRAL: s = lm_llama_bind(m); break;
        case LM_ARCH_LFM2: s = lm_lfm2_bind(m); break;
        case LM_ARCH_BERT: s = lm_bert_bind(m); break;
        default: s = lm_error(LM_EUNSUPPORTED, "%s: architecture %d", path, (int)m->hp.arch);
        }
    }
    if (s) {
        lm_model_free(m);
        return s;
    }
    lm_log(LM_LOG_INFO, "model %s: %s, %d layers, d %d, %.1f MiB of weights", m->name,
           lm_arch_name(m->hp.arch), m->hp.n_layer, m->hp.n_embd,
           (double)m->weight_bytes / (1 << 20));
    *out = m;
    return LM_OK;
}

void lm_model_free(struct lm_model *m) {
    if (!m) return;
    for (ptrdiff_t i = 0; i < arrlen(m->owned); i++)
        lm_aligned_free(m->owned[i]);
    arrfree(m->owned);
    free(m->layers);
    lm_aligned_free(m->rope_freq_factors);
    free(m->name);
    free(m->chat_template);
    lm_tokenizer_free(m->tok);
    lm_gguf_close(m->gguf);
    lm_st_close(m->st);
    free(m);
}

const struct lm_hparams *lm_model_hparams(const struct lm_model *m) { return &m->hp; }
const struct lm_tokenizer *lm_model_tokenizer(const struct lm_model *m) { return m->tok; }
const char *lm_model_name(const struct lm_model *m) { return m->name; }
const char *lm_model_chat_template(const struct lm_model *m) { return m->chat_template; }
size_t lm_model_weight_bytes(const struct lm_model *m) { return m->weight_bytes; }
