/* tools/cmd_info.c - `lmrt info MODEL [--json]`: what a model file holds.
 *
 * MODEL is a GGUF file, a Hugging Face directory or a bare tokenizer.json. Sections: the
 * architecture and hyper-parameters (models/hparams.c), the tokenizer (kind, pre-tokenizer,
 * vocabulary size, special ids), and the tensor table (name, dtype, ne with the contiguous
 * dimension first as everywhere in lmrt, bytes) with totals. The same facts go out as text or as
 * one JSON object. A section that cannot be read is an error on stderr and exit status 1, after
 * the sections that could be read are printed; an HF directory without config.json, tokenizer
 * or weights simply has no such section.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rt/gguf.h"
#include "../rt/safetensors.h"
#include "cli.h"

static const char *const scaling_names[] = {"none", "linear", "yarn", "llama3"};

/* A float as the short decimal it was written as (1e-05, not 9.99999975e-06). */
static double fnum(float f) {
    char b[32];
    snprintf(b, sizeof b, "%.7g", (double)f);
    return strtod(b, NULL);
}

static cJSON *hparams_json(const struct lm_hparams *hp) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n_vocab", hp->n_vocab);
    cJSON_AddNumberToObject(o, "n_ctx_train", hp->n_ctx_train);
    cJSON_AddNumberToObject(o, "n_embd", hp->n_embd);
    cJSON_AddNumberToObject(o, "n_layer", hp->n_layer);
    cJSON_AddNumberToObject(o, "n_head", hp->n_head);
    cJSON_AddNumberToObject(o, "n_head_kv", hp->n_head_kv);
    cJSON_AddNumberToObject(o, "head_dim", hp->head_dim);
    cJSON_AddNumberToObject(o, "n_ff", hp->n_ff);
    if (hp->arch != LM_ARCH_BERT) { /* BERT has learned positions, no RoPE */
        cJSON_AddNumberToObject(o, "n_rot", hp->n_rot);
        cJSON_AddNumberToObject(o, "rope_base", fnum(hp->rope_base));
    }
    if (hp->rope_scaling != LM_ROPE_SCALING_NONE) {
        cJSON_AddStringToObject(o, "rope_scaling", scaling_names[hp->rope_scaling]);
        cJSON_AddNumberToObject(o, "rope_factor", fnum(hp->rope_factor));
        cJSON_AddNumberToObject(o, "rope_n_ctx_orig", hp->rope_n_ctx_orig);
    }
    cJSON_AddNumberToObject(o, "norm_eps", fnum(hp->norm_eps));
    cJSON_AddNumberToObject(o, "sliding_window", hp->sliding_window);
    cJSON_AddBoolToObject(o, "tied_output", hp->tied_output);
    if (hp->arch == LM_ARCH_BERT) {
        cJSON_AddStringToObject(o, "pooling", lm_pooling_name(hp->pooling));
        cJSON_AddNumberToObject(o, "n_type_vocab", hp->n_type_vocab);
    }
    if (hp->arch == LM_ARCH_LFM2) {
        cJSON_AddNumberToObject(o, "conv_l_cache", hp->conv_l_cache);
        cJSON *attn = cJSON_AddArrayToObject(o, "attention_layers");
        for (int32_t il = 0; il < hp->n_layer; il++)
            if (hp->n_head_kv_layer[il] > 0) cJSON_AddItemToArray(attn, cJSON_CreateNumber(il));
    }
    return o;
}

static cJSON *tokenizer_json(const struct lm_tokenizer *t) {
    static const char *const kinds[] = {"bpe", "spm", "wpm"};
    static const char *const specials[LM_TOK_SPECIAL_COUNT] = {"bos", "eos", "eot", "unk",
                                                               "pad", "sep", "cls", "mask"};
    cJSON *o = cJSON_CreateObject();
    enum lm_tok_kind k = lm_tokenizer_kind(t);
    cJSON_AddStringToObject(o, "kind", (unsigned)k <= LM_TOK_WPM ? kinds[k] : "?");
    cJSON_AddStringToObject(o, "pre", lm_tokenizer_pre(t));
    cJSON_AddNumberToObject(o, "n_vocab", lm_tokenizer_n_vocab(t));
    cJSON *sp = cJSON_AddObjectToObject(o, "special");
    for (int i = 0; i < LM_TOK_SPECIAL_COUNT; i++) {
        int32_t id = lm_tokenizer_special(t, (enum lm_tok_special)i);
        if (id < 0) continue;
        cJSON *e = cJSON_AddObjectToObject(sp, specials[i]);
        cJSON_AddNumberToObject(e, "id", id);
        const char *piece = lm_tokenizer_piece(t, id);
        cJSON_AddStringToObject(e, "piece", piece ? piece : "");
    }
    return o;
}

static void add_tensor(cJSON *arr, const char *name, const char *dtype, int ndim, const int64_t *ne,
                       uint64_t bytes, double *n_params, double *n_bytes) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "dtype", dtype);
    cJSON *shape = cJSON_AddArrayToObject(o, "ne");
    double n = 1;
    for (int d = 0; d < ndim; d++) {
        cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ne[d]));
        n *= (double)ne[d];
    }
    cJSON_AddNumberToObject(o, "bytes", (double)bytes);
    cJSON_AddItemToArray(arr, o);
    *n_params += n, *n_bytes += (double)bytes;
}

static int gguf_tensors(const struct lm_gguf *g, cJSON *arr, double *np, double *nb) {
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        struct lm_gguf_tensor_info ti;
        if (lm_gguf_tensor_info(g, i, &ti) != LM_OK)
            return cli_fail("info", "tensor %lld", (long long)i);
        add_tensor(arr, ti.name, ti.type_name, ti.ndim, ti.ne, ti.nbytes, np, nb);
    }
    return CLI_OK;
}

static int st_tensors(const char *dir, cJSON *arr, double *np, double *nb, bool *found) {
    struct lm_st *st;
    lm_status s = lm_st_open(dir, &st);
    if (s == LM_ENOTFOUND) return CLI_OK; /* a directory without weights (tokenizer only) */
    if (s != LM_OK) return cli_fail("info", "%s: weights", dir);
    *found = true;
    int rc = CLI_OK;
    for (int64_t i = 0; i < lm_st_n_tensors(st) && rc == CLI_OK; i++) {
        struct lm_st_tensor_info ti;
        if (lm_st_tensor_info(st, i, &ti) != LM_OK) {
            rc = cli_fail("info", "tensor %lld", (long long)i);
            break;
        }
        int64_t ne[LM_ST_MAX_RANK];
        for (int d = 0; d < ti.rank; d++)
            ne[d] = ti.shape[ti.rank - 1 - d];
        add_tensor(arr, ti.name, ti.dtype, ti.rank, ne, ti.end - ti.begin, np, nb);
    }
    lm_st_close(st);
    return rc;
}

static void print_fields(const cJSON *o, const char *indent) {
    const cJSON *e;
    cJSON_ArrayForEach(e, o) {
        printf("%s%-16s ", indent, e->string);
        if (cJSON_IsString(e))
            printf("%s\n", e->valuestring);
        else if (cJSON_IsBool(e))
            printf("%s\n", cJSON_IsTrue(e) ? "true" : "false");
        else if (cJSON_IsNumber(e))
            printf("%.9g\n", e->valuedouble);
        else if (cJSON_IsArray(e)) {
            const cJSON *x;
            int k = 0;
            cJSON_ArrayForEach(x, e) printf(k++ ? " %.9g" : "%.9g", x->valuedouble);
            printf("\n");
        } else if (cJSON_IsObject(e)) { /* special tokens: "bos 1 '<s>'" */
            const cJSON *x;
            int k = 0;
            cJSON_ArrayForEach(x, e) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
                const cJSON *pc = cJSON_GetObjectItemCaseSensitive(x, "piece");
                printf("%s%s %d '%s'", k++ ? ", " : "", x->string, (int)id->valuedouble,
                       pc->valuestring);
            }
            printf("\n");
        }
    }
}

static void print_text(const cJSON *doc) {
    const cJSON *e;
    cJSON_ArrayForEach(e, doc) {
        if (cJSON_IsString(e))
            printf("%-18s %s\n", e->string, e->valuestring);
        else if (cJSON_IsNumber(e))
            printf("%-18s %.15g\n", e->string, e->valuedouble);
        else if (!strcmp(e->string, "tensors")) {
            printf("tensors\n  %-40s %-6s %-24s %s\n", "name", "dtype", "ne", "bytes");
            const cJSON *t;
            cJSON_ArrayForEach(t, e) {
                char shape[64] = "";
                size_t o = 0;
                const cJSON *d;
                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(t, "ne")) o +=
                    (size_t)snprintf(shape + o, o < sizeof shape ? sizeof shape - o : 0,
                                     o ? " x %.0f" : "%.0f", d->valuedouble);
                printf("  %-40s %-6s %-24s %.0f\n",
                       cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring,
                       cJSON_GetObjectItemCaseSensitive(t, "dtype")->valuestring, shape,
                       cJSON_GetObjectItemCaseSensitive(t, "bytes")->valuedouble);
            }
        } else if (cJSON_IsObject(e)) {
            printf("%s\n", e->string);
            print_fields(e, "  ");
        }
    }
}

int cmd_info(int argc, char **argv) {
    const char *model = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: lmrt info MODEL [--json]\n");
            return CLI_OK;
        } else if (argv[i][0] == '-' || model) {
            fprintf(stderr,
                    "lmrt info: unexpected argument '%s'\nusage: lmrt info MODEL [--json]\n",
                    argv[i]);
            return CLI_USAGE;
        } else
            model = argv[i];
    }
    if (!model) {
        fprintf(stderr, "usage: lmrt info MODEL [--json]\n");
        return CLI_USAGE;
    }
    struct cli_model m;
    if (cli_model_open(model, &m) != CLI_OK) return CLI_FAIL;
    int rc = CLI_OK;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "model", model);
    struct lm_hparams hp;
    bool have_hp = false;
    if (m.gguf) {
        cJSON_AddStringToObject(doc, "format", "gguf");
        cJSON_AddNumberToObject(doc, "gguf_version", lm_gguf_version(m.gguf));
        cJSON_AddNumberToObject(doc, "metadata_keys", (double)lm_gguf_n_kv(m.gguf));
        if (lm_hparams_from_gguf(m.gguf, &hp) == LM_OK)
            have_hp = true;
        else
            rc = cli_fail("info", "%s: hyper-parameters", model);
    } else {
        cJSON_AddStringToObject(doc, "format",
                                *m.tokenizer_json && !strcmp(m.dir, model) ? "hf"
                                : *m.tokenizer_json                        ? "tokenizer.json"
                                                                           : "hf");
        if (m.has_config) {
            if (lm_hparams_from_dir(m.dir, &hp) == LM_OK)
                have_hp = true;
            else
                rc = cli_fail("info", "%s: hyper-parameters", model);
        }
    }
    if (have_hp) {
        cJSON_AddStringToObject(doc, "arch", lm_arch_name(hp.arch));
        cJSON_AddItemToObject(doc, "hparams", hparams_json(&hp));
    }
    struct lm_tokenizer *tok = NULL;
    if (m.gguf ? lm_gguf_find_kv(m.gguf, "tokenizer.ggml.model") >= 0 : *m.tokenizer_json != 0) {
        if (cli_model_tokenizer(&m, &tok) == CLI_OK)
            cJSON_AddItemToObject(doc, "tokenizer", tokenizer_json(tok));
        else
            rc = CLI_FAIL;
    }
    cJSON *tensors = cJSON_CreateArray();
    double n_params = 0, n_bytes = 0;
    bool has_weights = m.gguf != NULL;
    int trc = m.gguf ? gguf_tensors(m.gguf, tensors, &n_params, &n_bytes)
              : !strcmp(m.dir, model)
                  ? st_tensors(m.dir, tensors, &n_params, &n_bytes, &has_weights)
                  : CLI_OK;
    if (trc != CLI_OK) rc = trc;
    if (has_weights) {
        cJSON_AddItemToObject(doc, "tensors", tensors);
        cJSON_AddNumberToObject(doc, "n_tensors", cJSON_GetArraySize(tensors));
        cJSON_AddNumberToObject(doc, "n_params", n_params);
        cJSON_AddNumberToObject(doc, "bytes", n_bytes);
    } else
        cJSON_Delete(tensors);
    if (json) {
        char *s = cJSON_Print(doc);
        if (s)
            printf("%s\n", s);
        else
            rc = cli_fail("info", "out of memory printing JSON");
        free(s);
    } else
        print_text(doc);
    cJSON_Delete(doc);
    lm_tokenizer_free(tok);
    cli_model_close(&m);
    return rc;
}
