/* models/names.c - the HF <-> GGUF tensor-name table (see names.h for the contract).
 *
 * Facts from llama.cpp's gguf-py (constants.py: the GGUF names of each architecture;
 * tensor_mapping.py: which HF keys become them) and from transformers' modeling files; the
 * table is ours. One row maps a GGUF base name to an HF base name; '#' stands for the layer
 * number on both sides, and the ".weight" / ".bias" suffix is carried over unchanged. Rows are
 * searched in order, so for a name with two spellings the first row is the canonical one.
 */
#include "names.h"

#include <stdio.h>
#include <string.h>

enum {
    A_LLAMA = 1 << LM_ARCH_LLAMA,
    A_MISTRAL = 1 << LM_ARCH_MISTRAL,
    A_LFM2 = 1 << LM_ARCH_LFM2,
    A_BERT = 1 << LM_ARCH_BERT,
    A_LL = A_LLAMA | A_MISTRAL,
};

/* GGUF_ONLY: an extra GGUF spelling read from files (never written, never the answer of
 * lm_names_gguf). */
enum { GGUF_ONLY = 1 };

struct row {
    unsigned arch;
    const char *gguf, *hf;
    unsigned xform; /* LM_NAMES_* */
    unsigned flags;
};

static const struct row table[] = {
    /* llama, mistral */
    {A_LL, "token_embd", "model.embed_tokens", 0, 0},
    {A_LL, "output_norm", "model.norm", 0, 0},
    {A_LL, "output", "lm_head", 0, 0},
    {A_LL, "blk.#.attn_norm", "model.layers.#.input_layernorm", 0, 0},
    {A_LL, "blk.#.attn_q", "model.layers.#.self_attn.q_proj", LM_NAMES_PERMUTE_Q, 0},
    {A_LL, "blk.#.attn_k", "model.layers.#.self_attn.k_proj", LM_NAMES_PERMUTE_K, 0},
    {A_LL, "blk.#.attn_v", "model.layers.#.self_attn.v_proj", 0, 0},
    {A_LL, "blk.#.attn_output", "model.layers.#.self_attn.o_proj", 0, 0},
    {A_LL, "blk.#.ffn_norm", "model.layers.#.post_attention_layernorm", 0, 0},
    {A_LL, "blk.#.ffn_gate", "model.layers.#.mlp.gate_proj", 0, 0},
    {A_LL, "blk.#.ffn_up", "model.layers.#.mlp.up_proj", 0, 0},
    {A_LL, "blk.#.ffn_down", "model.layers.#.mlp.down_proj", 0, 0},
    /* lfm2: the final norm is "embedding_norm" in HF and token_embd_norm in llama.cpp's GGUF;
     * some converters write output_norm */
    {A_LFM2, "token_embd", "model.embed_tokens", 0, 0},
    {A_LFM2, "token_embd_norm", "model.embedding_norm", 0, 0},
    {A_LFM2, "output_norm", "model.embedding_norm", 0, GGUF_ONLY},
    {A_LFM2, "output", "lm_head", 0, 0},
    {A_LFM2, "blk.#.attn_norm", "model.layers.#.operator_norm", 0, 0},
    {A_LFM2, "blk.#.ffn_norm", "model.layers.#.ffn_norm", 0, 0},
    {A_LFM2, "blk.#.attn_q", "model.layers.#.self_attn.q_proj", 0, 0},
    {A_LFM2, "blk.#.attn_k", "model.layers.#.self_attn.k_proj", 0, 0},
    {A_LFM2, "blk.#.attn_v", "model.layers.#.self_attn.v_proj", 0, 0},
    {A_LFM2, "blk.#.attn_output", "model.layers.#.self_attn.out_proj", 0, 0},
    {A_LFM2, "blk.#.attn_q_norm", "model.layers.#.self_attn.q_layernorm", 0, 0},
    {A_LFM2, "blk.#.attn_k_norm", "model.layers.#.self_attn.k_layernorm", 0, 0},
    {A_LFM2, "blk.#.shortconv.conv", "model.layers.#.conv.conv", LM_NAMES_SQUEEZE, 0},
    {A_LFM2, "blk.#.shortconv.in_proj", "model.layers.#.conv.in_proj", 0, 0},
    {A_LFM2, "blk.#.shortconv.out_proj", "model.layers.#.conv.out_proj", 0, 0},
    {A_LFM2, "blk.#.ffn_gate", "model.layers.#.feed_forward.w1", 0, 0},
    {A_LFM2, "blk.#.ffn_up", "model.layers.#.feed_forward.w3", 0, 0},
    {A_LFM2, "blk.#.ffn_down", "model.layers.#.feed_forward.w2", 0, 0},
    /* bert (HF names after the optional "bert." prefix) */
    {A_BERT, "token_embd", "embeddings.word_embeddings", 0, 0},
    {A_BERT, "token_types", "embeddings.token_type_embeddings", 0, 0},
    {A_BERT, "position_embd", "embeddings.position_embeddings", 0, 0},
    {A_BERT, "token_embd_norm", "embeddings.LayerNorm", 0, 0},
    {A_BERT, "blk.#.attn_q", "encoder.layer.#.attention.self.query", 0, 0},
    {A_BERT, "blk.#.attn_k", "encoder.layer.#.attention.self.key", 0, 0},
    {A_BERT, "blk.#.attn_v", "encoder.layer.#.attention.self.value", 0, 0},
    {A_BERT, "blk.#.attn_output", "encoder.layer.#.attention.output.dense", 0, 0},
    {A_BERT, "blk.#.attn_output_norm", "encoder.layer.#.attention.output.LayerNorm", 0, 0},
    {A_BERT, "blk.#.ffn_up", "encoder.layer.#.intermediate.dense", 0, 0},
    {A_BERT, "blk.#.ffn_down", "encoder.layer.#.output.dense", 0, 0},
    {A_BERT, "blk.#.layer_output_norm", "encoder.layer.#.output.LayerNorm", 0, 0},
};
#define N_ROWS (sizeof table / sizeof table[0])

/* Match name against pattern ('#' = a layer number of 1-9 digits without a leading zero,
 * unless it is "0"). On success *layer is the number (-1 when the pattern has no '#'). */
static bool match(const char *pat, const char *name, size_t name_len, long *layer) {
    *layer = -1;
    const char *hash = strchr(pat, '#');
    if (!hash) return strlen(pat) == name_len && !memcmp(pat, name, name_len);
    size_t pre = (size_t)(hash - pat), post = strlen(hash + 1);
    if (name_len < pre + 1 + post || memcmp(name, pat, pre) != 0) return false;
    const char *d = name + pre, *end = name + name_len - post;
    if (memcmp(end, hash + 1, post) != 0) return false;
    size_t nd = (size_t)(end - d);
    if (nd < 1 || nd > 9 || (nd > 1 && d[0] == '0')) return false;
    long v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < '0' || d[i] > '9') return false;
        v = v * 10 + (d[i] - '0');
    }
    *layer = v;
    return true;
}

/* Write pattern with '#' replaced by layer, then suffix, into buf; NULL if it does not fit. */
static const char *expand(const char *pat, long layer, const char *suffix, char *buf, size_t n) {
    const char *hash = strchr(pat, '#');
    int w = hash ? snprintf(buf, n, "%.*s%ld%s%s", (int)(hash - pat), pat, layer, hash + 1, suffix)
                 : snprintf(buf, n, "%s%s", pat, suffix);
    return w >= 0 && (size_t)w < n ? buf : NULL;
}

/* Split name into base and ".weight" / ".bias" suffix; NULL suffix when it has neither. */
static const char *split_suffix(const char *name, size_t *base_len) {
    static const char *const sfx[] = {".weight", ".bias"};
    size_t len = strlen(name);
    for (int i = 0; i < 2; i++) {
        size_t sl = strlen(sfx[i]);
        if (len > sl && !strcmp(name + len - sl, sfx[i])) {
            *base_len = len - sl;
            return sfx[i];
        }
    }
    return NULL;
}

static const struct row *find_gguf(enum lm_arch arch, const char *name, long *layer,
                                   const char **suffix) {
    if ((unsigned)arch >= LM_ARCH_COUNT || !name) return NULL;
    size_t base;
    *suffix = split_suffix(name, &base);
    if (!*suffix) return NULL;
    for (size_t i = 0; i < N_ROWS; i++)
        if ((table[i].arch & (1u << arch)) && match(table[i].gguf, name, base, layer))
            return &table[i];
    return NULL;
}

const char *lm_names_hf(enum lm_arch arch, const char *gguf_name, char *buf, size_t n) {
    long layer;
    const char *suffix;
    const struct row *r = find_gguf(arch, gguf_name, &layer, &suffix);
    return r ? expand(r->hf, layer, suffix, buf, n) : NULL;
}

const char *lm_names_gguf(enum lm_arch arch, const char *hf_name, char *buf, size_t n) {
    if ((unsigned)arch >= LM_ARCH_COUNT || !hf_name) return NULL;
    char tmp[256];
    const char *name = hf_name;
    if (arch == LM_ARCH_BERT) {
        /* BertForMaskedLM and friends nest the encoder under "bert."; old checkpoints call
         * the LayerNorm parameters gamma and beta */
        if (!strncmp(name, "bert.", 5)) name += 5;
        size_t len = strlen(name);
        if (len < sizeof tmp && len > 6 && !strcmp(name + len - 6, ".gamma")) {
            snprintf(tmp, sizeof tmp, "%.*s.weight", (int)(len - 6), name);
            name = tmp;
        } else if (len < sizeof tmp && len > 5 && !strcmp(name + len - 5, ".beta")) {
            snprintf(tmp, sizeof tmp, "%.*s.bias", (int)(len - 5), name);
            name = tmp;
        }
    }
    size_t base;
    const char *suffix = split_suffix(name, &base);
    if (!suffix) return NULL;
    for (size_t i = 0; i < N_ROWS; i++) {
        long layer;
        if (!(table[i].arch & (1u << arch)) || (table[i].flags & GGUF_ONLY)) continue;
        if (match(table[i].hf, name, base, &layer))
            return expand(table[i].gguf, layer, suffix, buf, n);
    }
    return NULL;
}

unsigned lm_names_xform(enum lm_arch arch, const char *gguf_name) {
    long layer;
    const char *suffix;
    const struct row *r = find_gguf(arch, gguf_name, &layer, &suffix);
    return r ? r->xform : 0;
}

int64_t lm_names_permute_row(int64_t r, int64_t rows, int64_t n_heads) {
    /* HF keeps each head's rotated pairs half a head apart: (i, i + hd/2); GGUF interleaves
     * them: (2i, 2i+1). GGUF row h*hd + 2j + s comes from HF row h*hd + s*hd/2 + j. */
    int64_t hd = rows / n_heads;
    int64_t h = r / hd, w = r % hd;
    return h * hd + (w % 2) * (hd / 2) + w / 2;
}
