/* tests/check_convert.c - `lmrt quantize` and `lmrt convert` as library calls
 * (models/convert_quant.c, models/convert_hf.c).
 *
 * quantize: the real SmolLM2-135M Q4_1 file to q8_0, q4_0 and f16; every tensor must equal
 * dequantize(original) within the target type's rounding (per 32-block bounds derived from the
 * block's largest magnitude), tensors the rules keep must be byte-identical, every key copied.
 * The q4_k plan must follow llama.cpp's Q4_K_M rules and row-size fallbacks.
 * convert: all-MiniLM-L6-v2 (bert, F32) must hold every safetensors tensor bit for bit under
 * its GGUF name, and its GGUF tokenizer must encode as the tokenizer.json does. Tiny random
 * llama and lfm2 directories (written here, with the real LFM2 tokenizer.json) check the Q/K
 * row permutation, the conv squeeze and the per-layer KV head array.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../models/convert.h"
#include "../models/names.h"
#include "testutil.h"

#define OK(x) ck_assert_msg((x) == LM_OK, "%s: %s", #x, lm_last_error())

/* one thread at the best level: the suite shares the machine */
static struct lm_ctx *best_ctx(void) {
    struct lm_ctx *ctx;
    OK(lm_ctx_create(1, &ctx));
    return ctx;
}

static char tmpdir[64];
static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/check_convert.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}
static void rm_tmpdir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
static const char *tmp_path(const char *name) {
    static char path[4][256];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

/* rows [r0, r0+nr) of t as f32 into out */
static void deq_rows(const struct lm_tensor *t, int64_t r0, int64_t nr, float *out,
                     struct lm_ctx *ctx) {
    size_t rs = lm_row_size(t->dtype, t->ne[0]);
    struct lm_tensor in = lm_tensor_2d(t->dtype, t->ne[0], nr, (char *)t->data + r0 * rs);
    struct lm_tensor o = lm_tensor_2d(LM_F32, t->ne[0], nr, out);
    OK(lm_dequantize(&o, &in, ctx));
}

/* Largest |error| allowed for x in a block whose largest magnitude is amax. */
static float bound(enum lm_dtype t, float x, float amax) {
    switch (t) {
    case LM_F16: return fabsf(x) * 0x1p-11f + 0x1p-24f;
    case LM_Q8_0: return amax * (1.0f / 254 + 1.0f / 1024) + 1e-7f; /* half step + fp16 scale */
    case LM_Q4_0: return amax * (1.0f / 8 + 1.0f / 1024) + 1e-7f;   /* one step at the clamp */
    default: return 0;
    }
}

static void check_quantized(const char *src, const char *dst, enum lm_dtype target,
                            struct lm_ctx *ctx) {
    struct lm_gguf *a, *b;
    OK(lm_gguf_open(src, &a));
    OK(lm_gguf_open(dst, &b));
    ck_assert_int_eq(lm_gguf_n_kv(b), lm_gguf_n_kv(a) +
                                          (lm_gguf_find_kv(a, "general.file_type") < 0) +
                                          (lm_gguf_find_kv(a, "general.quantization_version") < 0));
    for (int64_t i = 0; i < lm_gguf_n_kv(a); i++)
        ck_assert_int_ge(lm_gguf_find_kv(b, lm_gguf_kv_key(a, i)), 0);
    uint32_t ft;
    OK(lm_gguf_get_u32(b, "general.file_type", &ft));
    ck_assert_int_eq((int)ft, lm_convert_ftype(target));
    ck_assert_int_eq(lm_gguf_n_tensors(a), lm_gguf_n_tensors(b));
    const int64_t chunk = 1024;
    float *x = tu_alloc(sizeof(float) * 1536 * chunk);
    float *y = tu_alloc(sizeof(float) * 1536 * chunk);
    int n_target = 0;
    for (int64_t i = 0; i < lm_gguf_n_tensors(a); i++) {
        struct lm_tensor ta, tb;
        OK(lm_gguf_tensor(a, i, &ta));
        OK(lm_gguf_find_tensor(b, ta.name, &tb));
        ck_assert(lm_tensor_same_shape(&ta, &tb));
        bool keep = ta.ndim == 1 || (!strcmp(ta.name, "token_embd.weight") && target != LM_F16);
        if (keep) { /* 1-D and (tied, Q6_K -> Q8_0 fallback) token_embd: bytes copied */
            ck_assert_msg(tb.dtype == (ta.ndim == 1 ? ta.dtype : LM_Q8_0), "%s", ta.name);
            ck_assert_msg(!memcmp(ta.data, tb.data, lm_tensor_nbytes(&ta)), "%s", ta.name);
            continue;
        }
        ck_assert_msg(tb.dtype == target, "%s is %s", ta.name, lm_dtype_name(tb.dtype));
        n_target++;
        ck_assert_int_le(ta.ne[0], 1536);
        for (int64_t r0 = 0; r0 < lm_tensor_nrows(&ta); r0 += chunk) {
            int64_t nr = lm_tensor_nrows(&ta) - r0 < chunk ? lm_tensor_nrows(&ta) - r0 : chunk;
            deq_rows(&ta, r0, nr, x, ctx);
            deq_rows(&tb, r0, nr, y, ctx);
            for (int64_t k0 = 0; k0 < nr * ta.ne[0]; k0 += 32) {
                float amax = 0;
                for (int k = 0; k < 32; k++)
                    amax = fmaxf(amax, fabsf(x[k0 + k]));
                for (int k = 0; k < 32; k++) {
                    /* plain test first: a Check assertion per element costs a syscall */
                    float e = fabsf(x[k0 + k] - y[k0 + k]);
                    if (e <= bound(target, x[k0 + k], amax)) continue;
                    ck_abort_msg("%s -> %s: row %lld elem %lld: %g vs %g (block max %g)", ta.name,
                                 lm_dtype_name(target), (long long)r0, (long long)(k0 + k),
                                 x[k0 + k], y[k0 + k], amax);
                }
            }
        }
    }
    ck_assert_int_eq(n_target, 30 * 7 + (target == LM_F16));
    lm_aligned_free(x);
    lm_aligned_free(y);
    lm_gguf_close(a);
    lm_gguf_close(b);
}

START_TEST(quantize_real) {
    static const enum lm_dtype targets[] = {LM_Q8_0, LM_Q4_0, LM_F16};
    make_tmpdir();
    const char *src = tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    struct lm_ctx *ctx = best_ctx();
    lm_status s;
    for (int i = 0; i < 3; i++) {
        const char *dst = tmp_path("out.gguf");
        struct lm_convert_report rep;
        OK(s = lm_convert_quantize(src, dst, targets[i], ctx, &rep));
        ck_assert_int_eq(rep.n_tensors, 272);
        ck_assert_int_eq(rep.n_converted, 30 * 7 + (targets[i] == LM_F16));
        check_quantized(src, dst, targets[i], ctx);
    }
    /* the input is never its own output; a type that is no target is refused */
    s = lm_convert_quantize(src, src, LM_Q8_0, ctx, NULL);
    ck_assert_int_eq(s, LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "is the input file"));
    ck_assert_int_eq(lm_convert_quantize(src, tmp_path("x.gguf"), LM_I32, ctx, NULL), LM_EINVAL);
    ck_assert_int_ne(access(tmp_path("x.gguf"), F_OK), 0);
    lm_ctx_free(ctx);
    rm_tmpdir();
}
END_TEST

/* llama.cpp's Q4_K_M rules on SmolLM2: 576-wide rows are no whole 256-blocks (Q8_0 instead of
 * its Q5_0), ffn_down (1536 wide) is Q6_K on the "more bits" layers and Q4_K elsewhere. */
START_TEST(quant_plan_q4_k) {
    struct lm_gguf *g;
    OK(lm_gguf_open(tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"), &g));
    int64_t n = lm_gguf_n_tensors(g);
    int32_t *types = malloc((size_t)n * sizeof *types);
    bool *fb = malloc((size_t)n);
    OK(lm_convert_quant_plan(g, LM_Q4_K, types, fb));
    int i_down = 0, n_q6 = 0, n_q4 = 0;
    for (int64_t i = 0; i < n; i++) {
        struct lm_gguf_tensor_info ti;
        OK(lm_gguf_tensor_info(g, i, &ti));
        if (ti.ndim == 1) {
            ck_assert_int_eq(types[i], ti.ggml_type);
            ck_assert(!fb[i]);
        } else if (strstr(ti.name, "ffn_down")) {
            /* llama.cpp visits tensors by layer, so its counter is the layer number */
            int nl = 30, il = atoi(ti.name + 4);
            bool more = il < nl / 8 || il >= 7 * nl / 8 || (il - nl / 8) % 3 == 2;
            ck_assert_int_eq(types[i], more ? 14 : 12);
            n_q6 += more, n_q4 += !more, i_down++;
        } else {
            ck_assert_msg(types[i] == 8 && fb[i], "%s: %d", ti.name, types[i]);
        }
    }
    ck_assert_int_eq(i_down, 30);
    ck_assert(n_q6 > 0 && n_q4 > 0);
    free(types);
    free(fb);
    lm_gguf_close(g);
}
END_TEST

/* ---- convert ------------------------------------------------------------------------------ */

static void same_tokens(const struct lm_tokenizer *a, const struct lm_tokenizer *b) {
    static const char *texts[] = {"Hello world", "  The quick brown fox, jumped! 12345",
                                  "naïve café — ünïcödé", "<|im_start|>user\nhi<|im_end|>",
                                  "don't [SEP] stop"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct lm_tokens x = {0}, y = {0};
        unsigned fl = LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL;
        OK(lm_tokenize(a, texts[i], strlen(texts[i]), fl, &x));
        OK(lm_tokenize(b, texts[i], strlen(texts[i]), fl, &y));
        ck_assert_int_eq(x.n, y.n);
        for (int64_t k = 0; k < x.n; k++)
            ck_assert_msg(x.ids[k] == y.ids[k], "'%s' token %lld", texts[i], (long long)k);
        lm_tokens_free(&x);
        lm_tokens_free(&y);
    }
}

/* Every GGUF tensor against its HF source; permuted rows per LM_NAMES_PERMUTE_*. */
static void check_converted(const char *dir, const char *out, enum lm_arch arch, int n_head,
                            int n_head_kv) {
    struct lm_gguf *g;
    struct lm_st *st;
    OK(lm_gguf_open(out, &g));
    OK(lm_st_open(dir, &st));
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        struct lm_tensor t, h;
        OK(lm_gguf_tensor(g, i, &t));
        char hf[128];
        ck_assert_ptr_nonnull(lm_names_hf(arch, t.name, hf, sizeof hf));
        OK(lm_st_find_tensor(st, hf, &h));
        ck_assert_int_eq(t.dtype, LM_F32);
        ck_assert_int_eq(lm_tensor_nelem(&t), lm_tensor_nelem(&h));
        ck_assert_int_eq(t.ne[0], h.ne[0]);
        unsigned xf = lm_names_xform(arch, t.name);
        int64_t rows = t.ndim == 1 ? t.ne[0] : lm_tensor_nrows(&t);
        size_t rb = t.ndim == 1 ? 4 : (size_t)t.ne[0] * 4;
        int heads = xf & LM_NAMES_PERMUTE_Q ? n_head : n_head_kv;
        for (int64_t r = 0; r < rows; r++) {
            int64_t s = xf & (LM_NAMES_PERMUTE_Q | LM_NAMES_PERMUTE_K)
                            ? lm_names_permute_row(r, rows, heads)
                            : r;
            if (memcmp((char *)t.data + r * rb, (char *)h.data + s * rb, rb))
                ck_abort_msg("%s row %lld differs from HF row %lld", t.name, (long long)r,
                             (long long)s);
        }
    }
    lm_st_close(st);
    lm_gguf_close(g);
}

START_TEST(convert_minilm) {
    make_tmpdir();
    const char *dir = tu_model_path("minilm");
    const char *out = tmp_path("minilm.gguf");
    struct lm_ctx *ctx = best_ctx();
    struct lm_convert_report rep;
    OK(lm_convert_hf(dir, out, LM_F32, ctx, &rep));
    ck_assert_int_eq(rep.n_tensors, 6 * 16 + 5);
    check_converted(dir, out, LM_ARCH_BERT, 12, 12);
    struct lm_gguf *g;
    OK(lm_gguf_open(out, &g));
    struct lm_hparams hp, hd;
    OK(lm_hparams_from_gguf(g, &hp));
    OK(lm_hparams_from_dir(dir, &hd));
    ck_assert_int_eq(hp.pooling, LM_POOLING_MEAN);
    ck_assert_int_eq(hp.n_layer, hd.n_layer);
    ck_assert_int_eq(hp.n_ctx_train, 512);
    ck_assert_float_eq(hp.norm_eps, hd.norm_eps);
    const char *s;
    OK(lm_gguf_get_str(g, "tokenizer.ggml.model", &s));
    ck_assert_str_eq(s, "bert");
    struct lm_tokenizer *a, *b;
    OK(lm_tokenizer_from_gguf(g, &a));
    OK(lm_tokenizer_from_json(tu_model_path("minilm/tokenizer.json"), &b));
    same_tokens(a, b);
    lm_tokenizer_free(a);
    lm_tokenizer_free(b);
    lm_gguf_close(g);
    /* f16: 2-D weights cast, norms and embeddings of positions/types stay f32 */
    OK(lm_convert_hf(dir, out, LM_F16, ctx, NULL));
    OK(lm_gguf_open(out, &g));
    struct lm_tensor t;
    OK(lm_gguf_find_tensor(g, "blk.0.attn_q.weight", &t));
    ck_assert_int_eq(t.dtype, LM_F16);
    OK(lm_gguf_find_tensor(g, "position_embd.weight", &t));
    ck_assert_int_eq(t.dtype, LM_F32);
    OK(lm_gguf_find_tensor(g, "blk.0.attn_q.bias", &t));
    ck_assert_int_eq(t.dtype, LM_F32);
    lm_gguf_close(g);
    /* not a model directory */
    ck_assert_int_ne(lm_convert_hf(tmpdir, tmp_path("none.gguf"), LM_F32, ctx, NULL), LM_OK);
    ck_assert_int_ne(access(tmp_path("none.gguf"), F_OK), 0);
    lm_ctx_free(ctx);
    rm_tmpdir();
}
END_TEST

/* ---- tiny random HF directories ----------------------------------------------------------- */

struct st_out {
    char hdr[16384];
    size_t hn;
    float *data;
    size_t n, cap; /* floats */
};

static void st_add(struct st_out *o, struct tu_rng *rng, const char *name, int rank, int64_t d0,
                   int64_t d1, int64_t d2) {
    int64_t shape[3] = {d0, d1, d2}, n = 1;
    for (int i = 0; i < rank; i++)
        n *= shape[i];
    if (o->n + (size_t)n > o->cap) {
        o->cap = (o->n + (size_t)n) * 2;
        o->data = realloc(o->data, o->cap * sizeof(float));
        ck_assert_ptr_nonnull(o->data);
    }
    for (int64_t i = 0; i < n; i++)
        o->data[o->n + (size_t)i] = tu_normal(rng) * 0.1f;
    o->hn += (size_t)snprintf(o->hdr + o->hn, sizeof o->hdr - o->hn,
                              "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", o->hn ? "," : "{", name);
    for (int i = 0; i < rank; i++)
        o->hn += (size_t)snprintf(o->hdr + o->hn, sizeof o->hdr - o->hn, "%s%lld", i ? "," : "",
                                  (long long)shape[i]);
    o->hn += (size_t)snprintf(o->hdr + o->hn, sizeof o->hdr - o->hn,
                              "],\"data_offsets\":[%zu,%zu]}", o->n * 4, (o->n + (size_t)n) * 4);
    ck_assert_uint_lt(o->hn, sizeof o->hdr - 16);
    o->n += (size_t)n;
}

static void st_write(struct st_out *o, const char *path) {
    o->hdr[o->hn++] = '}';
    while (o->hn % 8)
        o->hdr[o->hn++] = ' ';
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint64_t hn = o->hn;
    ck_assert_uint_eq(fwrite(&hn, 8, 1, f), 1);
    ck_assert_uint_eq(fwrite(o->hdr, 1, o->hn, f), o->hn);
    ck_assert_uint_eq(fwrite(o->data, 4, o->n, f), o->n);
    ck_assert_int_eq(fclose(f), 0);
    free(o->data);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A model directory of arch (llama or lfm2) with 2 layers, d 32, 4 heads, 2 KV heads, the
 * real LFM2 tokenizer (64400 ids). */
static const char *tiny_dir(enum lm_arch arch, struct st_out *o) {
    static char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, lm_arch_name(arch));
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    ck_assert_int_eq(symlink(realpath(tu_model_path("lfm2/tokenizer.json"), q), p), 0);
    snprintf(p, sizeof p, "%s/config.json", dir);
    write_text(p, arch == LM_ARCH_LLAMA
                      ? "{\"model_type\":\"llama\",\"vocab_size\":64400,\"hidden_size\":32,"
                        "\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                        "\"num_key_value_heads\":2,\"intermediate_size\":48,"
                        "\"max_position_embeddings\":256,\"rms_norm_eps\":1e-5,"
                        "\"rope_theta\":10000,\"tie_word_embeddings\":true,\"eos_token_id\":7}"
                      : "{\"model_type\":\"lfm2\",\"vocab_size\":64400,\"hidden_size\":32,"
                        "\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                        "\"num_key_value_heads\":2,\"block_ff_dim\":48,"
                        "\"block_auto_adjust_ff_dim\":false,\"max_position_embeddings\":256,"
                        "\"norm_eps\":1e-5,\"conv_L_cache\":3,\"rope_theta\":1e6,"
                        "\"layer_types\":[\"conv\",\"full_attention\"],\"eos_token_id\":7}");
    struct tu_rng rng = tu_rng(arch + 1);
    memset(o, 0, sizeof *o);
    st_add(o, &rng, "model.embed_tokens.weight", 2, 64400, 32, 0);
    st_add(o, &rng, arch == LM_ARCH_LLAMA ? "model.norm.weight" : "model.embedding_norm.weight", 1,
           32, 0, 0);
    for (int l = 0; l < 2; l++) {
        char n[128];
#define T(fmt, ...)                                                                                \
    (snprintf(n, sizeof n, "model.layers.%d." fmt, l), st_add(o, &rng, n, __VA_ARGS__))
        if (arch == LM_ARCH_LLAMA) {
            T("input_layernorm.weight", 1, 32, 0, 0);
            T("post_attention_layernorm.weight", 1, 32, 0, 0);
            T("self_attn.q_proj.weight", 2, 32, 32, 0);
            T("self_attn.k_proj.weight", 2, 16, 32, 0);
            T("self_attn.v_proj.weight", 2, 16, 32, 0);
            T("self_attn.o_proj.weight", 2, 32, 32, 0);
            T("mlp.gate_proj.weight", 2, 48, 32, 0);
            T("mlp.up_proj.weight", 2, 48, 32, 0);
            T("mlp.down_proj.weight", 2, 32, 48, 0);
        } else {
            T("operator_norm.weight", 1, 32, 0, 0);
            T("ffn_norm.weight", 1, 32, 0, 0);
            T("feed_forward.w1.weight", 2, 48, 32, 0);
            T("feed_forward.w3.weight", 2, 48, 32, 0);
            T("feed_forward.w2.weight", 2, 32, 48, 0);
            if (l == 0) {
                T("conv.conv.weight", 3, 32, 1, 3);
                T("conv.in_proj.weight", 2, 96, 32, 0);
                T("conv.out_proj.weight", 2, 32, 32, 0);
            } else {
                T("self_attn.q_proj.weight", 2, 32, 32, 0);
                T("self_attn.k_proj.weight", 2, 16, 32, 0);
                T("self_attn.v_proj.weight", 2, 16, 32, 0);
                T("self_attn.out_proj.weight", 2, 32, 32, 0);
                T("self_attn.q_layernorm.weight", 1, 8, 0, 0);
                T("self_attn.k_layernorm.weight", 1, 8, 0, 0);
            }
        }
#undef T
    }
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    st_write(o, p);
    return dir;
}

START_TEST(convert_tiny_llama_lfm2) {
    make_tmpdir();
    struct lm_ctx *ctx = best_ctx();
    struct lm_tokenizer *json;
    OK(lm_tokenizer_from_json(tu_model_path("lfm2/tokenizer.json"), &json));
    for (enum lm_arch arch = LM_ARCH_LLAMA; arch <= LM_ARCH_LFM2; arch += LM_ARCH_LFM2) {
        struct st_out o;
        const char *dir = tiny_dir(arch, &o);
        const char *out = tmp_path("tiny.gguf");
        OK(lm_convert_hf(dir, out, LM_F32, ctx, NULL));
        check_converted(dir, out, arch, 4, 2);
        struct lm_gguf *g;
        OK(lm_gguf_open(out, &g));
        struct lm_hparams hp, hd;
        OK(lm_hparams_from_gguf(g, &hp));
        OK(lm_hparams_from_dir(dir, &hd));
        ck_assert_int_eq(hp.arch, arch);
        ck_assert_int_eq(hp.n_ff, 48);
        ck_assert_int_eq(hp.n_head_kv, 2);
        for (int l = 0; l < 2; l++)
            ck_assert_int_eq(hp.n_head_kv_layer[l], hd.n_head_kv_layer[l]);
        ck_assert_float_eq(hp.rope_base, hd.rope_base);
        const char *pre;
        OK(lm_gguf_get_str(g, "tokenizer.ggml.pre", &pre));
        ck_assert_str_eq(pre, arch == LM_ARCH_LFM2 ? "lfm2" : "llama-bpe");
        uint32_t eos;
        OK(lm_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &eos)); /* from config.json */
        ck_assert_uint_eq(eos, 7);
        if (arch == LM_ARCH_LFM2) {
            struct lm_tensor t;
            OK(lm_gguf_find_tensor(g, "blk.0.shortconv.conv.weight", &t));
            ck_assert_int_eq(t.ndim, 2);
            ck_assert_int_eq(t.ne[0], 3);
            ck_assert_int_eq(t.ne[1], 32);
        }
        struct lm_tokenizer *tg;
        OK(lm_tokenizer_from_gguf(g, &tg));
        same_tokens(tg, json);
        lm_tokenizer_free(tg);
        lm_gguf_close(g);
    }
    lm_tokenizer_free(json);
    lm_ctx_free(ctx);
    rm_tmpdir();
}
END_TEST

static Suite *convert_suite(void) {
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("convert");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, quantize_real);
    tcase_add_test(tc, quant_plan_q4_k);
    tcase_add_test(tc, convert_minilm);
    tcase_add_test(tc, convert_tiny_llama_lfm2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(convert_suite()); }
