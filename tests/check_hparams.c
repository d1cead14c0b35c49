/* tests/check_hparams.c - model hyper-parameters (models/hparams.c).
 *
 * Real files: SmolLM2-135M's GGUF and all-MiniLM-L6-v2's sentence-transformers directory, with
 * the values their model cards publish (../shared/REFERENCE.md). Hand-written config.json
 * texts with the published values of Llama-3.1-8B, Mistral-7B-v0.1 and LFM2-350M (whose MLP
 * width transformers adjusts: 6656 -> 4608), GGUF files written here for lfm2 (per-layer KV
 * heads), and broken variants of each: every error must name the key at fault.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../rt/gguf.h"
#include "testutil.h"

/* Expect status want and a message mentioning what. */
#define expect_err(call, want, what)                                                               \
    do {                                                                                           \
        lm_clear_error();                                                                          \
        lm_status st_ = (call);                                                                    \
        ck_assert_msg(st_ == (want), "%s: status %d (%s), want %d", #call, st_, lm_last_error(),   \
                      want);                                                                       \
        ck_assert_msg(strstr(lm_last_error(), what), "%s: message '%s' does not name '%s'", #call, \
                      lm_last_error(), what);                                                      \
    } while (0)

static lm_status cfg(const char *json, struct lm_hparams *hp) {
    return lm_hparams_from_config(json, strlen(json), hp);
}

/* ---- real files ---------------------------------------------------------------------------- */

START_TEST(smollm2_gguf) {
    char path[512];
    snprintf(path, sizeof path, "%s", tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"));
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s (tools/fetch_models.sh)", lm_last_error());
    struct lm_hparams hp;
    ck_assert_msg(lm_hparams_from_gguf(g, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_str_eq(lm_arch_name(hp.arch), "llama");
    ck_assert_int_eq(hp.n_vocab, 49152);
    ck_assert_int_eq(hp.n_ctx_train, 8192);
    ck_assert_int_eq(hp.n_embd, 576);
    ck_assert_int_eq(hp.n_layer, 30);
    ck_assert_int_eq(hp.n_head, 9);
    ck_assert_int_eq(hp.n_head_kv, 3);
    for (int il = 0; il < 30; il++)
        ck_assert_int_eq(hp.n_head_kv_layer[il], 3);
    ck_assert_int_eq(hp.n_ff, 1536);
    ck_assert_int_eq(hp.head_dim, 64);
    ck_assert_int_eq(hp.n_rot, 64);
    ck_assert_float_eq(hp.rope_base, 100000.0f);
    ck_assert_float_eq_tol(hp.norm_eps, 1e-5f, 1e-12f);
    ck_assert_int_eq(hp.rope_scaling, LM_ROPE_SCALING_NONE);
    ck_assert(hp.tied_output); /* the file has no output.weight */
    ck_assert_int_eq(hp.sliding_window, 0);
    lm_gguf_close(g);
}
END_TEST

START_TEST(minilm_dir) {
    char path[512];
    snprintf(path, sizeof path, "%s", tu_model_path("minilm"));
    struct lm_hparams hp;
    ck_assert_msg(lm_hparams_from_dir(path, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_str_eq(lm_arch_name(hp.arch), "bert");
    ck_assert_int_eq(hp.n_vocab, 30522);
    ck_assert_int_eq(hp.n_ctx_train, 512);
    ck_assert_int_eq(hp.n_embd, 384);
    ck_assert_int_eq(hp.n_layer, 6);
    ck_assert_int_eq(hp.n_head, 12);
    ck_assert_int_eq(hp.n_head_kv, 12);
    ck_assert_int_eq(hp.n_ff, 1536);
    ck_assert_int_eq(hp.head_dim, 32);
    ck_assert_float_eq_tol(hp.norm_eps, 1e-12f, 1e-18f);
    ck_assert_int_eq(hp.n_type_vocab, 2);
    ck_assert_str_eq(lm_pooling_name(hp.pooling), "mean"); /* 1_Pooling/config.json */
    /* the config.json path itself finds the same directory */
    struct lm_hparams hp2;
    snprintf(path, sizeof path, "%s", tu_model_path("minilm/config.json"));
    ck_assert_msg(lm_hparams_from_dir(path, &hp2) == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(memcmp(&hp, &hp2, sizeof hp), 0);
}
END_TEST

/* ---- hand-written config.json ------------------------------------------------------------- */

static const char llama31[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": 128256,"
    " \"max_position_embeddings\": 131072, \"hidden_size\": 4096, \"intermediate_size\": 14336,"
    " \"num_hidden_layers\": 32, \"num_attention_heads\": 32, \"num_key_value_heads\": 8,"
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"tie_word_embeddings\": false,"
    " \"rope_scaling\": {\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
    " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
    " \"torch_dtype\": \"bfloat16\", \"hidden_act\": \"silu\", \"attention_bias\": false}";

static const char mistral7b[] =
    "{\"architectures\": [\"MistralForCausalLM\"], \"bos_token_id\": 1, \"eos_token_id\": 2,"
    " \"hidden_act\": \"silu\", \"hidden_size\": 4096, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 14336, \"max_position_embeddings\": 32768, \"model_type\": "
    "\"mistral\","
    " \"num_attention_heads\": 32, \"num_hidden_layers\": 32, \"num_key_value_heads\": 8,"
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"sliding_window\": 4096,"
    " \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"use_cache\": true,"
    " \"vocab_size\": 32000}";

static const char lfm2_350m[] =
    "{\"architectures\": [\"Lfm2ForCausalLM\"], \"block_auto_adjust_ff_dim\": true,"
    " \"block_dim\": 1024, \"block_ff_dim\": 6656, \"block_ffn_dim_multiplier\": 1.0,"
    " \"block_mlp_init_scale\": 1.0, \"block_multiple_of\": 256, \"block_norm_eps\": 1e-05,"
    " \"block_out_init_scale\": 1.0, \"block_use_swiglu\": true, \"block_use_xavier_init\": true,"
    " \"bos_token_id\": 1, \"conv_L_cache\": 3, \"conv_bias\": false, \"conv_dim\": 1024,"
    " \"conv_dim_out\": 1024, \"conv_use_xavier_init\": true, \"eos_token_id\": 7,"
    " \"hidden_size\": 1024, \"initializer_range\": 0.02, \"intermediate_size\": 6656,"
    " \"layer_types\": [\"conv\", \"conv\", \"full_attention\", \"conv\", \"conv\","
    " \"full_attention\", \"conv\", \"conv\", \"full_attention\", \"conv\", \"full_attention\","
    " \"conv\", \"full_attention\", \"conv\", \"full_attention\", \"conv\"],"
    " \"max_position_embeddings\": 128000, \"model_type\": \"lfm2\", \"norm_eps\": 1e-05,"
    " \"num_attention_heads\": 16, \"num_heads\": 16, \"num_hidden_layers\": 16,"
    " \"num_key_value_heads\": 8, \"pad_token_id\": 0, \"rope_theta\": 1000000.0,"
    " \"theta\": 1000000.0, \"tie_embedding\": true, \"torch_dtype\": \"bfloat16\","
    " \"use_cache\": true, \"use_pos_enc\": true, \"vocab_size\": 65536}";

static const int lfm2_attn[] = {2, 5, 8, 10, 12, 14};

static void assert_lfm2_layers(const struct lm_hparams *hp) {
    for (int il = 0, k = 0; il < 16; il++) {
        bool attn = k < 6 && lfm2_attn[k] == il;
        ck_assert_msg(hp->n_head_kv_layer[il] == (attn ? 8 : 0), "layer %d: %d KV heads", il,
                      hp->n_head_kv_layer[il]);
        k += attn;
    }
}

/* A copy of json with the first occurrence of from replaced by to. */
static char *patch(const char *json, const char *from, const char *to) {
    const char *at = strstr(json, from);
    ck_assert_msg(at != NULL, "patch: '%s' not in the text", from);
    size_t n = strlen(json) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    ck_assert_ptr_nonnull(out);
    size_t pre = (size_t)(at - json);
    memcpy(out, json, pre);
    strcpy(out + pre, to);
    strcat(out, at + strlen(from));
    return out;
}

START_TEST(llama_config) {
    struct lm_hparams hp;
    ck_assert_msg(cfg(llama31, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(hp.arch, LM_ARCH_LLAMA);
    ck_assert_int_eq(hp.n_vocab, 128256);
    ck_assert_int_eq(hp.n_ctx_train, 131072);
    ck_assert_int_eq(hp.n_embd, 4096);
    ck_assert_int_eq(hp.n_layer, 32);
    ck_assert_int_eq(hp.n_head, 32);
    ck_assert_int_eq(hp.n_head_kv, 8);
    ck_assert_int_eq(hp.n_ff, 14336);
    ck_assert_int_eq(hp.head_dim, 128);
    ck_assert_int_eq(hp.n_rot, 128);
    ck_assert_float_eq(hp.rope_base, 500000.0f);
    ck_assert_int_eq(hp.rope_scaling, LM_ROPE_SCALING_LLAMA3);
    ck_assert_float_eq(hp.rope_factor, 8.0f);
    ck_assert_int_eq(hp.rope_n_ctx_orig, 8192);
    ck_assert_float_eq(hp.rope_low_freq, 1.0f);
    ck_assert_float_eq(hp.rope_high_freq, 4.0f);
    ck_assert(!hp.tied_output);
    ck_assert_int_eq(hp.sliding_window, 0);
    /* transformers' newer spelling: rope_parameters carries theta and the scaling */
    const char *v5 =
        "{\"model_type\": \"llama\", \"vocab_size\": 49152, \"max_position_embeddings\": "
        "8192, \"hidden_size\": 576, \"intermediate_size\": 1536, \"num_hidden_layers\": "
        "30, \"num_attention_heads\": 9, \"num_key_value_heads\": 3, \"rms_norm_eps\": "
        "1e-05, \"tie_word_embeddings\": true, \"rope_parameters\": {\"rope_type\": "
        "\"linear\", \"rope_theta\": 100000.0, \"factor\": 2.0}}";
    ck_assert_msg(cfg(v5, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_float_eq(hp.rope_base, 100000.0f);
    ck_assert_int_eq(hp.rope_scaling, LM_ROPE_SCALING_LINEAR);
    ck_assert_float_eq(hp.rope_factor, 2.0f);
    ck_assert_int_eq(hp.head_dim, 64);
    ck_assert(hp.tied_output);
    /* an explicit head_dim wins over width / heads */
    char *hd = patch(llama31, "\"hidden_size\": 4096,", "\"hidden_size\": 4096, \"head_dim\": 64,");
    ck_assert_msg(cfg(hd, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(hp.head_dim, 64);
    free(hd);
}
END_TEST

START_TEST(mistral_config) {
    struct lm_hparams hp;
    ck_assert_msg(cfg(mistral7b, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_str_eq(lm_arch_name(hp.arch), "mistral");
    ck_assert_int_eq(hp.n_vocab, 32000);
    ck_assert_int_eq(hp.n_ctx_train, 32768);
    ck_assert_int_eq(hp.n_head_kv, 8);
    ck_assert_int_eq(hp.head_dim, 128);
    ck_assert_int_eq(hp.sliding_window, 4096);
    ck_assert_float_eq(hp.rope_base, 10000.0f);
    ck_assert(!hp.tied_output);
    char *nul = patch(mistral7b, "\"sliding_window\": 4096", "\"sliding_window\": null");
    ck_assert_int_eq(cfg(nul, &hp), LM_OK);
    ck_assert_int_eq(hp.sliding_window, 0); /* null: full attention (Mistral v0.2+) */
    free(nul);
    char *gone = patch(mistral7b, "\"sliding_window\": 4096,", "");
    ck_assert_int_eq(cfg(gone, &hp), LM_OK);
    ck_assert_int_eq(hp.sliding_window, 4096); /* MistralConfig's default */
    free(gone);
}
END_TEST

START_TEST(lfm2_config) {
    struct lm_hparams hp;
    ck_assert_msg(cfg(lfm2_350m, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_str_eq(lm_arch_name(hp.arch), "lfm2");
    ck_assert_int_eq(hp.n_vocab, 65536);
    ck_assert_int_eq(hp.n_ctx_train, 128000);
    ck_assert_int_eq(hp.n_embd, 1024);
    ck_assert_int_eq(hp.n_layer, 16);
    ck_assert_int_eq(hp.n_head, 16);
    ck_assert_int_eq(hp.n_head_kv, 8);
    ck_assert_int_eq(hp.n_ff, 4608); /* int(2 * 6656 / 3) = 4437, rounded up to 256s */
    ck_assert_int_eq(hp.head_dim, 64);
    ck_assert_float_eq(hp.rope_base, 1e6f);
    ck_assert_float_eq_tol(hp.norm_eps, 1e-5f, 1e-12f);
    ck_assert_int_eq(hp.conv_l_cache, 3);
    ck_assert(hp.tied_output);
    assert_lfm2_layers(&hp);
    /* the older full_attn_idxs spelling */
    const char *types = strstr(lfm2_350m, "\"layer_types\"");
    const char *end = strstr(types, "],") + 2;
    char *old = malloc(strlen(lfm2_350m) + 64);
    memcpy(old, lfm2_350m, (size_t)(types - lfm2_350m));
    sprintf(old + (types - lfm2_350m), "\"full_attn_idxs\": [2, 5, 8, 10, 12, 14],%s", end);
    ck_assert_msg(cfg(old, &hp) == LM_OK, "%s", lm_last_error());
    assert_lfm2_layers(&hp);
    free(old);
    /* no adjustment: the width is taken as written */
    char *raw = patch(lfm2_350m, "\"block_auto_adjust_ff_dim\": true",
                      "\"block_auto_adjust_ff_dim\": false");
    ck_assert_int_eq(cfg(raw, &hp), LM_OK);
    ck_assert_int_eq(hp.n_ff, 6656);
    free(raw);
    /* a null multiplier: 2/3 only, no rounding (as transformers' Lfm2MLP does) */
    char *nm =
        patch(lfm2_350m, "\"block_ffn_dim_multiplier\": 1.0", "\"block_ffn_dim_multiplier\": null");
    ck_assert_int_eq(cfg(nm, &hp), LM_OK);
    ck_assert_int_eq(hp.n_ff, 4437);
    free(nm);
}
END_TEST

START_TEST(bad_configs) {
    struct lm_hparams hp;
    expect_err(cfg("{\"model_type\": \"llama\",", &hp), LM_EFORMAT, "invalid JSON");
    expect_err(cfg("[1, 2]", &hp), LM_EFORMAT, "object");
    expect_err(cfg("{\"vocab_size\": 5}", &hp), LM_EFORMAT, "model_type");
    expect_err(cfg("{\"model_type\": \"gpt2\"}", &hp), LM_EUNSUPPORTED, "gpt2");
    expect_err(lm_hparams_from_config(llama31, 40, &hp), LM_EFORMAT, "invalid JSON"); /* cut */
    static const struct {
        const char *from, *to;
        lm_status st;
        const char *names;
    } cases[] = {
        {"\"hidden_size\": 4096,", "", LM_EFORMAT, "hidden_size"},
        {"\"hidden_size\": 4096", "\"hidden_size\": \"4096\"", LM_EFORMAT, "hidden_size"},
        {"\"hidden_size\": 4096", "\"hidden_size\": 4096.5", LM_EFORMAT, "hidden_size"},
        {"\"hidden_size\": 4096", "\"hidden_size\": -4096", LM_ERANGE, "hidden_size"},
        {"\"hidden_size\": 4096", "\"hidden_size\": 1e300", LM_ERANGE, "hidden_size"},
        {"\"num_hidden_layers\": 32", "\"num_hidden_layers\": 100000", LM_ERANGE,
         "num_hidden_layers"},
        {"\"num_hidden_layers\": 32", "\"num_hidden_layers\": 0", LM_ERANGE, "num_hidden_layers"},
        {"\"vocab_size\": 128256", "\"vocab_size\": 4294967296", LM_ERANGE, "vocab_size"},
        {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5", LM_ERANGE,
         "num_key_value_heads"},
        {"\"num_attention_heads\": 32", "\"num_attention_heads\": 30", LM_ERANGE,
         "num_attention_heads"},
        {"\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 0", LM_ERANGE, "rms_norm_eps"},
        {"\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": true", LM_EFORMAT, "rms_norm_eps"},
        {"\"rope_theta\": 500000.0", "\"rope_theta\": -1", LM_ERANGE, "rope_theta"},
        {"\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 1e-120", LM_ERANGE, "rms_norm_eps"},
        {"\"rope_theta\": 500000.0", "\"rope_theta\": 1e300", LM_ERANGE, "rope_theta"},
        {"\"tie_word_embeddings\": false", "\"tie_word_embeddings\": 0", LM_EFORMAT,
         "tie_word_embeddings"},
        {"\"rope_type\": \"llama3\"", "\"rope_type\": \"dynamic\"", LM_EUNSUPPORTED, "dynamic"},
        {"\"factor\": 8.0,", "", LM_EFORMAT, "factor"},
        {"\"original_max_position_embeddings\": 8192,", "", LM_EFORMAT,
         "original_max_position_embeddings"},
        {"\"rope_scaling\": {", "\"rope_scaling\": 3, \"x\": {", LM_EFORMAT, "rope_scaling"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = patch(llama31, cases[i].from, cases[i].to);
        lm_clear_error();
        lm_status st = cfg(j, &hp);
        ck_assert_msg(st == cases[i].st && strstr(lm_last_error(), cases[i].names),
                      "case %zu (%s -> %s): status %d '%s'", i, cases[i].from, cases[i].to, st,
                      lm_last_error());
        free(j);
    }
    char *j = patch(lfm2_350m, "\"conv\", \"conv\", \"full", "\"conv\", \"mamba\", \"full");
    expect_err(cfg(j, &hp), LM_EUNSUPPORTED, "layer_types");
    free(j);
    j = patch(lfm2_350m, "[\"conv\", \"conv\", ", "[\"conv\", ");
    expect_err(cfg(j, &hp), LM_EFORMAT, "layer_types");
    free(j);
    j = patch(lfm2_350m, "\"conv_L_cache\": 3", "\"conv_L_cache\": 0");
    expect_err(cfg(j, &hp), LM_ERANGE, "conv_L_cache");
    free(j);
    j = patch(mistral7b, "\"model_type\": \"mistral\"", "\"model_type\": \"bert\"");
    ck_assert_int_eq(cfg(j, &hp), LM_OK); /* bert needs none of the decoder keys */
    free(j);
    j = patch(mistral7b, "\"model_type\": \"mistral\"",
              "\"model_type\": \"bert\", \"position_embedding_type\": \"relative_key\"");
    expect_err(cfg(j, &hp), LM_EUNSUPPORTED, "position_embedding_type");
    free(j);
    expect_err(lm_hparams_from_config(NULL, 0, &hp), LM_EINVAL, "NULL");
    expect_err(lm_hparams_from_dir("/nonexistent/lmrt", &hp), LM_EIO, "/nonexistent/lmrt");
}
END_TEST

/* ---- sentence-transformers directories ---------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(pooling_dirs) {
    char dir[] = "/tmp/lmrt_hparams_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[600];
    snprintf(sub, sizeof sub, "%s/pool", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *bert = patch(mistral7b, "\"model_type\": \"mistral\"", "\"model_type\": \"bert\"");
    write_file(dir, "config.json", bert);
    free(bert);
    struct lm_hparams hp;
    ck_assert_int_eq(lm_hparams_from_dir(dir, &hp), LM_OK);
    ck_assert_int_eq(hp.pooling, LM_POOLING_NONE); /* plain HF directory */
    write_file(
        dir, "modules.json",
        "[{\"idx\": 0, \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
        " {\"idx\": 1, \"path\": \"pool\", \"type\": \"sentence_transformers.models.Pooling\"}]");
    write_file(sub, "config.json",
               "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false}");
    ck_assert_msg(lm_hparams_from_dir(dir, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(hp.pooling, LM_POOLING_CLS);
    write_file(sub, "config.json", "{\"pooling_mode_lasttoken\": true}");
    ck_assert_int_eq(lm_hparams_from_dir(dir, &hp), LM_OK);
    ck_assert_int_eq(hp.pooling, LM_POOLING_LAST);
    write_file(sub, "config.json", "{\"pooling_mode_max_tokens\": true}");
    expect_err(lm_hparams_from_dir(dir, &hp), LM_EUNSUPPORTED, "pooling_mode_max_tokens");
    write_file(sub, "config.json",
               "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}");
    expect_err(lm_hparams_from_dir(dir, &hp), LM_EUNSUPPORTED, "pooling_mode_mean_tokens");
    write_file(sub, "config.json", "{\"pooling_mode_cls_token\": tru");
    expect_err(lm_hparams_from_dir(dir, &hp), LM_EFORMAT, "pool/config.json");
    write_file(dir, "modules.json", "[{\"path\": \"../x\", \"type\": \"Pooling\"}]");
    expect_err(lm_hparams_from_dir(dir, &hp), LM_EFORMAT, "../x");
    write_file(dir, "config.json", "{\"model_type\": \"bert\"}");
    expect_err(lm_hparams_from_dir(dir, &hp), LM_EFORMAT, "config.json: required key 'vocab_size'");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -r '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- hand-made GGUF ---------------------------------------------------------------------- */

struct gw {
    uint8_t *p;
    size_t n, cap;
    uint64_t n_kv;
};

static void put(struct gw *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
static void put_u32(struct gw *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct gw *b, uint64_t v) { put(b, &v, 8); }
static void put_str(struct gw *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void kv_head(struct gw *b, const char *key, enum lm_gguf_type t) {
    put_str(b, key);
    put_u32(b, t);
    b->n_kv++;
}
static void kv_u32(struct gw *b, const char *key, uint32_t v) {
    kv_head(b, key, LM_GGUF_U32);
    put_u32(b, v);
}
static void kv_f32(struct gw *b, const char *key, float v) {
    kv_head(b, key, LM_GGUF_F32);
    put(b, &v, 4);
}
static void kv_str(struct gw *b, const char *key, const char *v) {
    kv_head(b, key, LM_GGUF_STR);
    put_str(b, v);
}
static void kv_arr_i32(struct gw *b, const char *key, const int32_t *v, int n) {
    kv_head(b, key, LM_GGUF_ARR);
    put_u32(b, LM_GGUF_I32);
    put_u64(b, (uint64_t)n);
    put(b, v, 4 * (size_t)n);
}

/* An lfm2 GGUF with LFM2-350M's metadata; skip drops one key, kv_n sets the length of the
 * per-layer KV-head array and kv_attn its value at attention layers, and output adds an
 * output.weight tensor. */
static struct lm_gguf *lfm2_gguf(struct gw *b, const char *skip, int kv_n, int32_t kv_attn,
                                 bool output, const char *arch) {
    memset(b, 0, sizeof *b);
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u64(b, output ? 1 : 0);
    size_t kv_at = b->n;
    put_u64(b, 0);
    int32_t kv[16] = {0};
    for (int k = 0; k < 6; k++)
        kv[lfm2_attn[k]] = kv_attn;
#define SKIP(k) (skip && !strcmp(skip, k))
    kv_str(b, "general.architecture", arch);
    if (!SKIP("lfm2.vocab_size")) kv_u32(b, "lfm2.vocab_size", 65536);
    if (!SKIP("lfm2.context_length")) kv_u32(b, "lfm2.context_length", 128000);
    if (!SKIP("lfm2.embedding_length")) kv_u32(b, "lfm2.embedding_length", 1024);
    if (!SKIP("lfm2.block_count")) kv_u32(b, "lfm2.block_count", 16);
    if (!SKIP("lfm2.feed_forward_length")) kv_u32(b, "lfm2.feed_forward_length", 4608);
    if (!SKIP("lfm2.attention.head_count")) kv_u32(b, "lfm2.attention.head_count", 16);
    if (!SKIP("lfm2.attention.head_count_kv"))
        kv_arr_i32(b, "lfm2.attention.head_count_kv", kv, kv_n);
    if (!SKIP("lfm2.rope.freq_base")) kv_f32(b, "lfm2.rope.freq_base", 1e6f);
    if (!SKIP("lfm2.attention.layer_norm_rms_epsilon"))
        kv_f32(b, "lfm2.attention.layer_norm_rms_epsilon", 1e-5f);
    if (!SKIP("lfm2.shortconv.l_cache")) kv_u32(b, "lfm2.shortconv.l_cache", 3);
#undef SKIP
    if (output) {
        put_str(b, "output.weight");
        put_u32(b, 2);
        put_u64(b, 32), put_u64(b, 4);
        put_u32(b, 0); /* F32 */
        put_u64(b, 0);
    }
    while (b->n % 32)
        put(b, "", 1);
    if (output)
        for (int i = 0; i < 32 * 4; i++)
            put(b, &(float){0.5f}, 4);
    memcpy(b->p + kv_at, &b->n_kv, 8);
    struct lm_gguf *g = NULL;
    ck_assert_msg(lm_gguf_open_memory(b->p, b->n, "lfm2-test", &g) == LM_OK, "%s", lm_last_error());
    return g;
}

START_TEST(lfm2_gguf_keys) {
    struct gw b;
    struct lm_hparams hp;
    struct lm_gguf *g = lfm2_gguf(&b, NULL, 16, 8, false, "lfm2");
    ck_assert_msg(lm_hparams_from_gguf(g, &hp) == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(hp.arch, LM_ARCH_LFM2);
    ck_assert_int_eq(hp.n_ff, 4608);
    ck_assert_int_eq(hp.n_head_kv, 8);
    ck_assert_int_eq(hp.conv_l_cache, 3);
    ck_assert_float_eq(hp.rope_base, 1e6f);
    ck_assert(hp.tied_output);
    assert_lfm2_layers(&hp);
    lm_gguf_close(g), free(b.p);

    g = lfm2_gguf(&b, NULL, 16, 8, true, "lfm2");
    ck_assert_int_eq(lm_hparams_from_gguf(g, &hp), LM_OK);
    ck_assert(!hp.tied_output);
    lm_gguf_close(g), free(b.p);

    static const char *required[] = {
        "lfm2.context_length",       "lfm2.embedding_length",
        "lfm2.block_count",          "lfm2.feed_forward_length",
        "lfm2.attention.head_count", "lfm2.attention.layer_norm_rms_epsilon",
        "lfm2.shortconv.l_cache"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        g = lfm2_gguf(&b, required[i], 16, 8, false, "lfm2");
        expect_err(lm_hparams_from_gguf(g, &hp), LM_EFORMAT, required[i]);
        lm_gguf_close(g), free(b.p);
    }
    /* no vocab_size key and no token list */
    g = lfm2_gguf(&b, "lfm2.vocab_size", 16, 8, false, "lfm2");
    expect_err(lm_hparams_from_gguf(g, &hp), LM_ENOTFOUND, "tokenizer.ggml.tokens");
    lm_gguf_close(g), free(b.p);
    g = lfm2_gguf(&b, NULL, 15, 8, false, "lfm2");
    expect_err(lm_hparams_from_gguf(g, &hp), LM_EFORMAT, "lfm2.attention.head_count_kv");
    lm_gguf_close(g), free(b.p);
    g = lfm2_gguf(&b, NULL, 16, 8, false, "gpt2");
    expect_err(lm_hparams_from_gguf(g, &hp), LM_EUNSUPPORTED, "gpt2");
    lm_gguf_close(g), free(b.p);
    g = lfm2_gguf(&b, NULL, 16, 5, false, "lfm2"); /* 5 KV heads cannot serve 16 heads */
    expect_err(lm_hparams_from_gguf(g, &hp), LM_ERANGE, "lfm2.attention.head_count_kv");
    lm_gguf_close(g), free(b.p);
    expect_err(lm_hparams_from_gguf(NULL, &hp), LM_EINVAL, "NULL");
}
END_TEST

int main(void) {
    Suite *s = suite_create("hparams");
    TCase *tc = tcase_create("hparams");
    tcase_add_test(tc, smollm2_gguf);
    tcase_add_test(tc, minilm_dir);
    tcase_add_test(tc, llama_config);
    tcase_add_test(tc, mistral_config);
    tcase_add_test(tc, lfm2_config);
    tcase_add_test(tc, bad_configs);
    tcase_add_test(tc, pooling_dirs);
    tcase_add_test(tc, lfm2_gguf_keys);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
