/* tests/check_models.c - the model graphs against independent references, on tiny random-weight
 * models (tests/data/models/<name>/, made by tools/gen_model_golden.py): each as a Hugging Face
 * directory and as the GGUF llama.cpp's own converter writes, with logits from transformers (f32)
 * and from llama-cpp-python, and embeddings from sentence-transformers and llama-cpp-python.
 *
 * Causal models (llama, llama-tied with biases and linear RoPE scaling, mistral with an 8-token
 * sliding window under 39-44-token prompts, lfm2): every position's logits within 1e-4 of the
 * reference's logit range, argmax identical at every position, for both file kinds; run four
 * ways: both prompts as two sequences in one prefill, token by token, both sequences
 * interleaved one token each per forward (the KV cache and lfm2's conv state kept apart), and
 * after clearing a sequence for reuse.
 * BERT (mean and CLS pooling): our tokenization equals the reference ids; embeddings of all
 * texts in one batch within 1e-5 (max abs) and cosine >= 0.99999 of sentence-transformers'.
 * Every test runs once per kernel level available (the loop index is the level), so the emulated
 * build (build/tests/emu) and the qemu-aarch64 run hold every level's whole-model output to the
 * same references.
 */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define DATA        "tests/data/models/"
#define MAX_PROMPTS 8

struct ref {
    int32_t n_vocab, n_embd, n;
    int32_t *ids[MAX_PROMPTS];
    int32_t len[MAX_PROMPTS];
    char *text[MAX_PROMPTS];
    int32_t total; /* rows: the positions of prompt 0, then of prompt 1, ... */
};

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (tools/gen_model_golden.py makes it)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return buf;
}

static struct ref load_ref(const char *name) {
    char path[256];
    snprintf(path, sizeof path, DATA "%s/ref.json", name);
    char *js = slurp(path, NULL);
    cJSON *root = cJSON_Parse(js);
    ck_assert_msg(root != NULL, "%s: bad JSON", path);
    struct ref r = {0};
    r.n_vocab = cJSON_GetObjectItem(root, "n_vocab")->valueint;
    r.n_embd = cJSON_GetObjectItem(root, "n_embd")->valueint;
    const cJSON *list = cJSON_GetObjectItem(root, "prompts");
    if (!list) list = cJSON_GetObjectItem(root, "texts");
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        ck_assert(r.n < MAX_PROMPTS);
        const cJSON *ids = cJSON_GetObjectItem(e, "ids");
        int k = cJSON_GetArraySize(ids), i = 0;
        r.ids[r.n] = malloc((size_t)k * sizeof(int32_t));
        const cJSON *v;
        cJSON_ArrayForEach(v, ids) r.ids[r.n][i++] = v->valueint;
        r.len[r.n] = k;
        r.text[r.n] = strdup(cJSON_GetObjectItem(e, "text")->valuestring);
        r.total += k;
        r.n++;
    }
    cJSON_Delete(root);
    free(js);
    return r;
}

static void free_ref(struct ref *r) {
    for (int i = 0; i < r->n; i++)
        free(r->ids[i]), free(r->text[i]);
}

static float *load_f32(const char *name, const char *file, size_t n) {
    char path[256];
    snprintf(path, sizeof path, DATA "%s/%s", name, file);
    size_t len;
    char *buf = slurp(path, &len);
    ck_assert_msg(len == n * sizeof(float), "%s: %zu bytes, want %zu", path, len, n * 4);
    return (float *)buf;
}

static struct lm_model *load(const char *name, const char *file) {
    char path[256];
    snprintf(path, sizeof path, DATA "%s/%s", name, file);
    struct lm_model *m;
    ck_assert_msg(lm_model_load(path, &m) == LM_OK, "%s: %s", path, lm_last_error());
    return m;
}

/* ---- causal models ------------------------------------------------------------------------ */

struct cmp {
    const char *label;
    const float *want; /* (total, n_vocab) */
    float range, worst;
};

/* Row `row` of the reference against got: within 1e-4 of the range, same argmax. */
static void check_row(struct cmp *c, const struct ref *r, int32_t row, const float *got,
                      const char *how) {
    const float *w = c->want + (size_t)row * r->n_vocab;
    int32_t ag = 0, aw = 0;
    float worst = 0;
    for (int32_t i = 0; i < r->n_vocab; i++) {
        float d = fabsf(got[i] - w[i]);
        if (!(d <= worst)) worst = d; /* NaN is the worst */
        if (got[i] > got[ag]) ag = i;
        if (w[i] > w[aw]) aw = i;
    }
    ck_assert_msg(worst <= 1e-4f * c->range, "%s (%s) row %d: max |diff| %g > 1e-4 of range %g",
                  c->label, how, row, (double)worst, (double)c->range);
    ck_assert_msg(ag == aw, "%s (%s) row %d: argmax %d, reference %d", c->label, how, row, ag, aw);
    if (worst / c->range > c->worst) c->worst = worst / c->range;
}

static void causal(const char *name, const char *file, const char *ref_file, enum lm_isa isa) {
    if (!lm_isa_available(isa)) return;
    struct ref r = load_ref(name);
    struct cmp c = {.want = load_f32(name, ref_file, (size_t)r.total * r.n_vocab)};
    char label[128];
    snprintf(label, sizeof label, "%s/%s vs %s [%s]", name, file, ref_file, lm_isa_name(isa));
    c.label = label;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)r.total * r.n_vocab; i++)
        lo = fminf(lo, c.want[i]), hi = fmaxf(hi, c.want[i]);
    c.range = hi - lo;
    struct lm_model *m = load(name, file);
    ck_assert_int_eq(lm_model_hparams(m)->n_vocab, r.n_vocab);
    struct lm_session_opts o = {
        .n_ctx = 64, .n_seq = r.n, .n_batch = r.total, .n_outputs = r.total};
    struct lm_session *s;
    ck_assert_msg(lm_session_create(m, &o, &s) == LM_OK, "%s", lm_last_error());
    ck_assert_msg(lm_ctx_set_isa(lm_session_ctx(s), isa) == LM_OK, "%s", lm_last_error());
    int32_t *tok = malloc((size_t)r.total * sizeof *tok), *seq = malloc((size_t)r.total * 4);
    int8_t *all = malloc((size_t)r.total);
    memset(all, 1, (size_t)r.total);
    int32_t start[MAX_PROMPTS];

    /* 1. every prompt a sequence, one prefill */
    int32_t k = 0;
    for (int p = 0; p < r.n; p++) {
        start[p] = k;
        for (int32_t i = 0; i < r.len[p]; i++)
            tok[k] = r.ids[p][i], seq[k++] = p;
    }
    struct lm_batch b = {.n_tokens = r.total, .tokens = tok, .seq = seq, .logits = all};
    ck_assert_msg(lm_forward(s, &b) == LM_OK, "%s", lm_last_error());
    for (int32_t i = 0; i < r.total; i++)
        check_row(&c, &r, i, lm_session_logits(s, i), "one batch");

    /* 2. all sequences advanced one token per forward, together */
    for (int p = 0; p < r.n; p++)
        ck_assert(lm_session_seq_keep(s, p, 0) == LM_OK);
    int32_t maxlen = 0;
    for (int p = 0; p < r.n; p++)
        if (r.len[p] > maxlen) maxlen = r.len[p];
    for (int32_t i = 0; i < maxlen; i++) {
        int32_t t[MAX_PROMPTS], sq[MAX_PROMPTS], row[MAX_PROMPTS], n = 0;
        for (int p = 0; p < r.n; p++)
            if (i < r.len[p]) t[n] = r.ids[p][i], sq[n] = p, row[n++] = start[p] + i;
        struct lm_batch d = {.n_tokens = n, .tokens = t, .seq = sq};
        ck_assert_msg(lm_forward(s, &d) == LM_OK, "%s", lm_last_error());
        for (int32_t j = 0; j < n; j++)
            check_row(&c, &r, row[j], lm_session_logits(s, j), "interleaved decode");
    }

    /* 3. reuse: clear sequence 0 and run the last prompt in it, token by token */
    ck_assert(lm_session_seq_keep(s, 0, 0) == LM_OK);
    const int last = r.n - 1;
    for (int32_t i = 0; i < r.len[last]; i++) {
        struct lm_batch d = {.n_tokens = 1, .tokens = &r.ids[last][i]};
        ck_assert_msg(lm_forward(s, &d) == LM_OK, "%s", lm_last_error());
        check_row(&c, &r, start[last] + i, lm_session_logits(s, 0), "reused sequence");
    }
    fprintf(stderr, "%s: max |diff| / range %.2e over %d rows x 3 ways\n", label, (double)c.worst,
            r.total);
    lm_session_free(s);
    lm_model_free(m);
    free(tok), free(seq), free(all), free((void *)c.want);
    free_ref(&r);
}

START_TEST(llama_hf) { causal("llama", "hf", "logits_hf.f32", _i); }
END_TEST
START_TEST(llama_gguf) {
    causal("llama", "model-f32.gguf", "logits_hf.f32", _i);
    causal("llama", "model-f32.gguf", "logits_gguf.f32", _i);
}
END_TEST
START_TEST(llama_tied_hf) { causal("llama-tied", "hf", "logits_hf.f32", _i); }
END_TEST
START_TEST(llama_tied_gguf) {
    causal("llama-tied", "model-f32.gguf", "logits_hf.f32", _i);
    causal("llama-tied", "model-f32.gguf", "logits_gguf.f32", _i);
}
END_TEST
/* Mistral: the window is in config.json (HF) and in the -swa GGUF; the converter's GGUF has
 * none, so it must match transformers without the window and llama.cpp. */
START_TEST(mistral_hf) { causal("mistral", "hf", "logits_hf.f32", _i); }
END_TEST
START_TEST(mistral_gguf_swa) { causal("mistral", "model-f32-swa.gguf", "logits_hf.f32", _i); }
END_TEST
START_TEST(mistral_gguf) {
    causal("mistral", "model-f32.gguf", "logits_hf_nowindow.f32", _i);
    causal("mistral", "model-f32.gguf", "logits_gguf.f32", _i);
}
END_TEST
START_TEST(lfm2_hf) { causal("lfm2", "hf", "logits_hf.f32", _i); }
END_TEST
/* llama.cpp's own lfm2 output is 1.3e-4 of the range from transformers' (its f32 kernels sum
 * in another order): the GGUF is held to transformers, as the HF directory is. */
START_TEST(lfm2_gguf) { causal("lfm2", "model-f32.gguf", "logits_hf.f32", _i); }
END_TEST

/* ---- bert ----------------------------------------------------------------------------------- */

static void bert(const char *name, const char *file, const char *ref_file, enum lm_isa isa) {
    if (!lm_isa_available(isa)) return;
    struct ref r = load_ref(name);
    float *want = load_f32(name, ref_file, (size_t)r.n * r.n_embd);
    struct lm_model *m = load(name, file);
    const struct lm_tokenizer *tok = lm_model_tokenizer(m);
    for (int i = 0; i < r.n; i++) { /* the tokenizer agrees with the reference's ids */
        struct lm_tokens t = {0};
        ck_assert(lm_tokenize(tok, r.text[i], strlen(r.text[i]), LM_TOK_ADD_SPECIAL, &t) == 0);
        ck_assert_msg(t.n == r.len[i], "%s text %d: %lld ids, want %d", name, i, (long long)t.n,
                      r.len[i]);
        for (int j = 0; j < r.len[i]; j++)
            ck_assert_msg(t.ids[j] == r.ids[i][j], "%s text %d id %d: %d, want %d", name, i, j,
                          t.ids[j], r.ids[i][j]);
        lm_tokens_free(&t);
    }
    struct lm_session *s;
    ck_assert_msg(lm_session_create(m, NULL, &s) == LM_OK, "%s", lm_last_error());
    ck_assert_msg(lm_ctx_set_isa(lm_session_ctx(s), isa) == LM_OK, "%s", lm_last_error());
    float *got = malloc((size_t)r.n * r.n_embd * sizeof *got);
    ck_assert_msg(lm_embed(s, (const char *const *)r.text, r.n, got) == LM_OK, "%s",
                  lm_last_error());
    for (int i = 0; i < r.n; i++) {
        const float *g = got + (size_t)i * r.n_embd, *w = want + (size_t)i * r.n_embd;
        double dot = 0, gg = 0, ww = 0, worst = 0;
        for (int k = 0; k < r.n_embd; k++) {
            dot += (double)g[k] * w[k], gg += (double)g[k] * g[k], ww += (double)w[k] * w[k];
            worst = fmax(worst, fabs((double)g[k] - w[k]));
        }
        double cos = dot / sqrt(gg * ww);
        ck_assert_msg(cos >= 0.99999 && worst <= 1e-5,
                      "%s/%s vs %s [%s] text %d: cosine %.8f, max |diff| %g", name, file, ref_file,
                      lm_isa_name(isa), i, cos, worst);
    }
    lm_session_free(s);
    lm_model_free(m);
    free(got), free(want);
    free_ref(&r);
}

START_TEST(bert_mean) {
    bert("bert-mean", "hf", "emb_st.f32", _i);
    bert("bert-mean", "model-f32.gguf", "emb_st.f32", _i);
}
END_TEST
START_TEST(bert_cls) {
    bert("bert-cls", "hf", "emb_st.f32", _i);
    bert("bert-cls", "model-f32.gguf", "emb_st.f32", _i);
}
END_TEST

int main(void) {
    Suite *s = suite_create("models");
    TCase *tc = tcase_create("tiny");
    tcase_add_loop_test(tc, llama_hf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, llama_gguf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, llama_tied_hf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, llama_tied_gguf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, mistral_hf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, mistral_gguf_swa, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, mistral_gguf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, lfm2_hf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, lfm2_gguf, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, bert_mean, 0, LM_ISA_COUNT);
    tcase_add_loop_test(tc, bert_cls, 0, LM_ISA_COUNT);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
