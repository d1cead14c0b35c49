/* tests/check_tokenizer.c - tokenizers (models/tokenizer/): loaders, byte-level BPE, special
 * tokens, decoding and streaming, bad files.
 *
 * References, none of them ours:
 * - llama.cpp's vocab test vectors (ggml-vocab-{gpt-2,llama-spm,bert-bge}.gguf + .inp/.out) from
 *   build/models/peer-vectors/ (staged there by tools/fetch_models.sh): every case
 *   must give exactly the ids listed, with one generic harness for the three files;
 * - ids from Hugging Face `tokenizers` for 334 varied strings (tests/data/tok/, written by
 *   tools/gen_tok_golden.py): LFM2's tokenizer.json, all-MiniLM's tokenizer.json, and SmolLM2's
 *   GGUF vocabulary and merges under SmolLM2's pre-tokenizer. Models come from $LMRT_MODELS
 *   (default build/models); a missing file fails;
 * - sentencepiece's ids for Mistral v0.1 (tests/data/tok/mistral-v1.tsv) against a
 *   SentencePiece-style tokenizer.json the test builds from that vocabulary as HF's converter
 *   does (Prepend/Replace normalizers, byte fallback, merges ordered by piece score).
 * Round trips: decode(encode(s)) == s for byte-level BPE on all those strings and on random
 * UTF-8, and for SentencePiece on its vector strings; a 1 MB input without spaces (its time is
 * printed, not asserted: a quadratic merge loop would time the suite out); the stream decoder fed
 * one id at a time emits only whole UTF-8 characters and concatenates to the full decode. Hand-made
 * tokenizer.json and GGUF files check lstrip/rstrip/single_word, post processors and that every bad
 * file gets a named error.
 */
#define _GNU_SOURCE
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/tokenizer/tok.h"
#include "testutil.h"

/* ---- files ---- */

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    p[len] = '\0';
    if (n) *n = (size_t)len;
    return p;
}

static const char *peer_path(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "peer-vectors/%s", name);
    return tu_model_path(rel);
}

static const char *model_path(const char *rel) { return tu_model_path(rel); }

static struct lm_tokenizer *load_gguf(const char *path) {
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s: %s", path, lm_last_error());
    struct lm_tokenizer *t;
    lm_status s = lm_tokenizer_from_gguf(g, &t);
    lm_gguf_close(g);
    ck_assert_msg(s == LM_OK, "%s: %s", path, lm_last_error());
    return t;
}

static struct lm_tokenizer *load_json(const char *path) {
    struct lm_tokenizer *t;
    ck_assert_msg(lm_tokenizer_from_json(path, &t) == LM_OK, "%s: %s", path, lm_last_error());
    return t;
}

/* Shared by the tests: loaded once before Check forks. */
static struct lm_tokenizer *gpt2, *lfm2, *smol;

static void load_all(void) {
    gpt2 = load_gguf(peer_path("ggml-vocab-gpt-2.gguf"));
    lfm2 = load_json(model_path("lfm2/tokenizer.json"));
    smol = load_gguf(model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"));
}
static void free_all(void) {
    lm_tokenizer_free(gpt2);
    lm_tokenizer_free(lfm2);
    lm_tokenizer_free(smol);
}

/* ---- helpers ---- */

static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int need;
        int len = tok_utf8_char((const unsigned char *)s + i, n - i, &need);
        if (len == 0) return false;
        i += (size_t)len;
    }
    return true;
}

static void encode_ok(const struct lm_tokenizer *t, const char *s, size_t n, unsigned flags,
                      struct lm_tokens *out) {
    out->n = 0;
    ck_assert_msg(lm_tokenize(t, s, n, flags, out) == LM_OK, "%s", lm_last_error());
}

static bool same_ids(const struct lm_tokens *a, const int32_t *b, int64_t nb) {
    if (a->n != nb) return false;
    for (int64_t i = 0; i < nb; i++)
        if (a->ids[i] != b[i]) return false;
    return true;
}

static void print_ids(const char *label, const int32_t *ids, int64_t n) {
    fprintf(stderr, "  %s:", label);
    for (int64_t i = 0; i < n && i < 40; i++)
        fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "%s\n", n > 40 ? " ..." : "");
}

/* decode(ids) in one call, and one id at a time through the stream: every chunk whole UTF-8,
 * the chunks concatenating to the full decode. Returns the full decode (caller frees). */
static char *decode_n(const struct lm_tokenizer *t, const int32_t *ids, int64_t n, unsigned flags,
                      size_t *len) {
    struct lm_text full = {0}, cat = {0}, chunk = {0};
    ck_assert_msg(lm_detokenize(t, ids, n, flags, &full) == LM_OK, "%s", lm_last_error());
    ck_assert(valid_utf8(full.s, full.n));
    struct lm_detok_stream st = {0};
    for (int64_t i = 0; i <= n; i++) {
        chunk.n = 0;
        lm_status s =
            i < n ? lm_detok_push(t, &st, ids[i], flags, &chunk) : lm_detok_flush(&st, &chunk);
        ck_assert_msg(s == LM_OK, "%s", lm_last_error());
        ck_assert_msg(valid_utf8(chunk.s, chunk.n), "stream chunk %lld is not whole UTF-8",
                      (long long)i);
        ck_assert_int_eq(lm_text_append(&cat, chunk.s, chunk.n), LM_OK);
    }
    ck_assert_int_eq(lm_text_append(&cat, "", 0), LM_OK);
    ck_assert_msg(cat.n == full.n && memcmp(cat.s, full.s, full.n) == 0, "stream '%s' != full '%s'",
                  cat.s, full.s);
    lm_text_free(&cat);
    lm_text_free(&chunk);
    if (len) *len = full.n;
    return full.s;
}

static char *decode_both(const struct lm_tokenizer *t, const int32_t *ids, int64_t n,
                         unsigned flags) {
    return decode_n(t, ids, n, flags, NULL);
}

/* ---- llama.cpp's vocab vectors: one harness for the three kinds ---- */

/* Returns the number of cases; fails listing the first mismatches. */
static int run_peer(const char *name, bool roundtrip) {
    char inp_name[128], out_name[128];
    snprintf(inp_name, sizeof inp_name, "%s.inp", name);
    snprintf(out_name, sizeof out_name, "%s.out", name);
    struct lm_tokenizer *t = load_gguf(peer_path(name));
    char *inp = slurp(peer_path(inp_name), NULL), *outs = slurp(peer_path(out_name), NULL);
    ck_assert_ptr_nonnull(inp);
    ck_assert_ptr_nonnull(outs);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    struct lm_tokens got = {0};
    int n_cases = 0, n_bad = 0;
    char *p = inp, *line = outs;
    for (char *e; (e = strstr(p, sep)) != NULL; p = e + strlen(sep)) {
        char *nl = strchr(line, '\n');
        ck_assert_msg(nl != NULL, "%s: fewer expected lines than cases", out_name);
        *nl = '\0';
        int32_t want[512];
        int n_want = 0;
        for (char *q = line, *end; n_want < 512; q = end) {
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[n_want++] = (int32_t)v;
        }
        line = nl + 1;
        got.n = 0;
        lm_status s = lm_tokenize(t, p, (size_t)(e - p), 0, &got);
        ck_assert_msg(s == LM_OK, "%s case %d: %s", name, n_cases, lm_last_error());
        n_cases++;
        if (!same_ids(&got, want, n_want)) {
            if (n_bad++ < 5) {
                fprintf(stderr, "%s case %d: '%.*s'\n", name, n_cases - 1, (int)(e - p), p);
                print_ids("want", want, n_want);
                print_ids("got ", got.ids, got.n);
            }
        } else if (roundtrip) {
            char *back = decode_both(t, got.ids, got.n, 0);
            ck_assert_msg(strlen(back) == (size_t)(e - p) && !memcmp(back, p, (size_t)(e - p)),
                          "%s case %d: decode gives '%s'", name, n_cases - 1, back);
            free(back);
        }
    }
    fprintf(stderr, "%s: %d/%d cases identical\n", name, n_cases - n_bad, n_cases);
    ck_assert_msg(n_bad == 0, "%s: %d of %d cases differ", name, n_bad, n_cases);
    lm_tokens_free(&got);
    free(inp);
    free(outs);
    lm_tokenizer_free(t);
    return n_cases;
}

START_TEST(peer_gpt2) { ck_assert_int_eq(run_peer("ggml-vocab-gpt-2.gguf", true), 46); }
END_TEST

START_TEST(peer_spm) { ck_assert_int_eq(run_peer("ggml-vocab-llama-spm.gguf", true), 46); }
END_TEST

START_TEST(peer_bert) {
    ck_assert_int_eq(run_peer("ggml-vocab-bert-bge.gguf", false), 46);
    /* GGUF WordPiece form: U+2581 starts a word; [CLS]/[SEP] come with LM_TOK_ADD_SPECIAL */
    struct lm_tokenizer *t = load_gguf(peer_path("ggml-vocab-bert-bge.gguf"));
    struct lm_tokens ids = {0};
    encode_ok(t, "Hello World tokenization", 24, LM_TOK_ADD_SPECIAL, &ids);
    ck_assert_int_eq(ids.ids[0], 101);
    ck_assert_int_eq(ids.ids[ids.n - 1], 102);
    ck_assert_int_gt(ids.n, 5); /* "token" "##ization" */
    char *s = decode_both(t, ids.ids, ids.n, LM_TOK_SKIP_SPECIAL);
    ck_assert_str_eq(s, "hello world tokenization");
    free(s);
    lm_tokens_free(&ids);
    lm_tokenizer_free(t);
}
END_TEST

/* ---- Hugging Face reference ids ---- */

/* want[0..nw) from the JSON id array ids (allocated; the caller frees it) */
static int32_t *json_ids(const cJSON *ids, int *nw) {
    const cJSON *v;
    int32_t *want = malloc(sizeof *want * (size_t)(cJSON_GetArraySize(ids) + 1));
    ck_assert_ptr_nonnull(want);
    *nw = 0;
    cJSON_ArrayForEach(v, ids) want[(*nw)++] = (int32_t)v->valuedouble;
    return want;
}

/* Every case of data twice: "ids" (`tokenizers`' default encode, every added token in the text
 * matches) under LM_TOK_PARSE_SPECIAL, and "plain" (encode_special_tokens: special tokens are
 * text, non-special added tokens still match) under flags 0. */
static void run_hf(const struct lm_tokenizer *t, const char *data, bool roundtrip) {
    char *js = slurp(data, NULL);
    ck_assert_msg(js != NULL, "%s missing (tools/gen_tok_golden.py)", data);
    cJSON *root = cJSON_Parse(js), *c;
    ck_assert(cJSON_IsArray(root));
    struct lm_tokens got = {0};
    int n = 0, bad = 0, differ = 0;
    cJSON_ArrayForEach(c, root) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        cJSON *jids = cJSON_GetObjectItem(c, "ids"), *jplain = cJSON_GetObjectItem(c, "plain");
        ck_assert_msg(cJSON_IsArray(jids) && cJSON_IsArray(jplain),
                      "%s: case %d lacks \"ids\" or \"plain\" (tools/gen_tok_golden.py)", data, n);
        int nw[2];
        int32_t *want[2] = {json_ids(jids, &nw[0]), json_ids(jplain, &nw[1])};
        differ += nw[0] != nw[1] || memcmp(want[0], want[1], (size_t)nw[0] * sizeof *want[0]);
        for (int plain = 0; plain < 2; plain++) {
            got.n = 0;
            lm_status s =
                lm_tokenize(t, text, strlen(text), plain ? 0 : LM_TOK_PARSE_SPECIAL, &got);
            ck_assert_msg(s == LM_OK, "%s", lm_last_error());
            if (!same_ids(&got, want[plain], nw[plain])) {
                if (bad++ < 5) {
                    fprintf(stderr, "%s case %d (%s): '%s'\n", data, n,
                            plain ? "flags 0" : "PARSE_SPECIAL", text);
                    print_ids("want", want[plain], nw[plain]);
                    print_ids("got ", got.ids, got.n);
                }
            } else if (roundtrip && !plain) {
                char *back = decode_both(t, got.ids, got.n, 0);
                ck_assert_msg(!strcmp(back, text), "decode '%s' -> '%s'", text, back);
                free(back);
            }
        }
        free(want[0]);
        free(want[1]);
        n++;
    }
    fprintf(stderr,
            "%s: %d/%d encodings identical (%d cases, PARSE_SPECIAL and flags 0; they differ on "
            "%d)\n",
            data, 2 * n - bad, 2 * n, n, differ);
    ck_assert_msg(bad == 0, "%s: %d of %d encodings differ", data, bad, 2 * n);
    ck_assert_int_gt(n, 300);
    ck_assert_int_gt(differ, 0); /* the special tokens are in the cases */
    lm_tokens_free(&got);
    cJSON_Delete(root);
    free(js);
}

START_TEST(lfm2_json_vs_hf) {
    ck_assert_int_eq(lm_tokenizer_kind(lfm2), LM_TOK_BPE);
    ck_assert_int_eq(lm_tokenizer_n_vocab(lfm2), 64400);
    ck_assert_int_eq(lm_tokenizer_special(lfm2, LM_TOK_BOS), 1);
    ck_assert_str_eq(lm_tokenizer_piece(lfm2, 6), "<|im_start|>");
    run_hf(lfm2, "tests/data/tok/lfm2.json", true);
    /* the post processor's <|startoftext|> comes with LM_TOK_ADD_SPECIAL only */
    struct lm_tokens a = {0}, b = {0};
    encode_ok(lfm2, "Hi there", 8, 0, &a);
    encode_ok(lfm2, "Hi there", 8, LM_TOK_ADD_SPECIAL, &b);
    ck_assert_int_eq(b.n, a.n + 1);
    ck_assert_int_eq(b.ids[0], 1);
    ck_assert_mem_eq(b.ids + 1, a.ids, (size_t)a.n * sizeof *a.ids);
    lm_tokens_free(&a);
    lm_tokens_free(&b);
}
END_TEST

START_TEST(smollm2_gguf_vs_hf) {
    ck_assert_str_eq(lm_tokenizer_pre(smol), "smollm");
    ck_assert_int_eq(lm_tokenizer_n_vocab(smol), 49152);
    ck_assert_int_eq(lm_tokenizer_special(smol, LM_TOK_EOS), 2);
    run_hf(smol, "tests/data/tok/smollm2.json", true);
    struct lm_tokens a = {0};
    encode_ok(smol, "x", 1, LM_TOK_ADD_SPECIAL, &a); /* SmolLM2 GGUFs set add_bos_token false */
    ck_assert_int_eq(a.n, 1);
    lm_tokens_free(&a);
}
END_TEST

START_TEST(minilm_json) {
    struct lm_tokenizer *t = load_json(model_path("minilm/tokenizer.json"));
    ck_assert_int_eq(lm_tokenizer_kind(t), LM_TOK_WPM);
    ck_assert_int_eq(lm_tokenizer_n_vocab(t), 30522);
    ck_assert_int_eq(lm_tokenizer_special(t, LM_TOK_CLS), 101);
    ck_assert_int_eq(lm_tokenizer_special(t, LM_TOK_SEP), 102);
    ck_assert_int_eq(lm_tokenizer_special(t, LM_TOK_UNK), 100);
    ck_assert_int_eq(lm_tokenizer_special(t, LM_TOK_PAD), 0);
    ck_assert_int_eq(lm_tokenizer_special(t, LM_TOK_MASK), 103);
    ck_assert(t->lowercase && t->strip_accents && t->split_cjk && t->add_sep && !t->wpm_gguf_form);
    ck_assert_int_eq(t->max_input_chars_per_word, 100);
    run_hf(t, "tests/data/tok/minilm.json", false);
    /* decoding does not need the encoder: "##" pieces join, others start words */
    int32_t ids[] = {101, tok_find(t, "token", 5), tok_find(t, "##izer", 6),
                     tok_find(t, "works", 5), 102};
    ck_assert(ids[1] > 0 && ids[2] > 0 && ids[3] > 0);
    char *s = decode_both(t, ids, 5, LM_TOK_SKIP_SPECIAL);
    ck_assert_str_eq(s, "tokenizer works");
    free(s);
    s = decode_both(t, ids, 5, 0);
    ck_assert_str_eq(s, "[CLS] tokenizer works [SEP]");
    free(s);
    lm_tokenizer_free(t);
}
END_TEST

/* SentencePiece-style tokenizer.json: built here from Mistral v0.1's vocabulary (the GGUF
 * tools/spm_to_gguf.py made) the way HF's converter does it (every split of a normal piece into
 * two pieces is a merge, ordered by the piece's score), loaded through the JSON path and checked
 * against sentencepiece's own ids (tests/data/tok/mistral-v1.tsv). */
struct mrg {
    float score;
    int32_t a, b;
};
static int cmp_mrg(const void *x, const void *y) {
    const struct mrg *p = x, *q = y;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

static char *spm_style_json(const struct lm_tokenizer *g) {
    cJSON *root = cJSON_CreateObject(), *model = cJSON_AddObjectToObject(root, "model");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab"),
          *merges = cJSON_AddArrayToObject(model, "merges");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddStringToObject(model, "unk_token", "<unk>");
    cJSON_AddBoolToObject(model, "byte_fallback", true);
    struct mrg *m = malloc(sizeof *m * 200000);
    int64_t nm = 0;
    for (int32_t i = 0; i < g->n_vocab; i++) {
        cJSON_AddNumberToObject(vocab, g->piece[i], i);
        if (g->type[i] == TOK_CONTROL || g->type[i] == TOK_UNKNOWN) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "id", i);
            cJSON_AddStringToObject(a, "content", g->piece[i]);
            cJSON_AddBoolToObject(a, "special", true);
            cJSON_AddItemToArray(added, a);
        }
        if (g->type[i] != TOK_NORMAL) continue;
        for (uint32_t k = 1; k < g->piece_len[i]; k++) {
            if (((unsigned char)g->piece[i][k] & 0xc0) == 0x80) continue; /* char boundaries */
            int32_t a = tok_find(g, g->piece[i], k),
                    b = tok_find(g, g->piece[i] + k, g->piece_len[i] - k);
            if (a >= 0 && b >= 0) {
                ck_assert_int_lt(nm, 200000);
                m[nm++] = (struct mrg){g->score[i], a, b};
            }
        }
    }
    qsort(m, (size_t)nm, sizeof *m, cmp_mrg);
    for (int64_t i = 0; i < nm; i++) {
        const char *pair[2] = {g->piece[m[i].a], g->piece[m[i].b]};
        cJSON_AddItemToArray(merges, cJSON_CreateStringArray(pair, 2));
    }
    free(m);
    cJSON *norm = cJSON_AddObjectToObject(root, "normalizer"), *list, *e;
    cJSON_AddStringToObject(norm, "type", "Sequence");
    list = cJSON_AddArrayToObject(norm, "normalizers");
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", "Prepend");
    cJSON_AddStringToObject(e, "prepend", "\xe2\x96\x81");
    cJSON_AddItemToArray(list, e);
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", "Replace");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "pattern"), "String", " ");
    cJSON_AddStringToObject(e, "content", "\xe2\x96\x81");
    cJSON_AddItemToArray(list, e);
    char *js = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return js;
}

START_TEST(spm_style_json_vs_sentencepiece) {
    struct lm_tokenizer *g = load_gguf("tests/data/tok/mistral-v1-vocab.gguf"), *t;
    char *js = spm_style_json(g);
    lm_status st = tok_from_json_mem(js, strlen(js), NULL, 0, &t);
    free(js);
    ck_assert_msg(st == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(lm_tokenizer_kind(t), LM_TOK_SPM);
    ck_assert(t->add_space_prefix && t->byte_fallback);
    ck_assert_int_eq(t->type[t->byte_token['\n']], TOK_BYTE);
    ck_assert_int_eq(lm_tokenizer_special(t, LM_TOK_UNK), 0);
    FILE *f = fopen("tests/data/tok/mistral-v1.tsv", "r");
    ck_assert_msg(f != NULL, "tests/data/tok/mistral-v1.tsv missing");
    static char line[1 << 16], text[1 << 15];
    struct lm_tokens got = {0};
    int n = 0, bad = 0, rt = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t'), *q, *end;
        ck_assert_ptr_nonnull(tab);
        size_t len = (size_t)(tab - line) / 2;
        for (size_t i = 0; i < len; i++) {
            unsigned v;
            ck_assert_int_eq(sscanf(line + 2 * i, "%2x", &v), 1);
            text[i] = (char)v;
        }
        int32_t want[4096];
        int nw = 0;
        for (q = tab + 1; nw < 4096; q = end) {
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[nw++] = (int32_t)v;
        }
        encode_ok(t, text, len, 0, &got);
        n++;
        if (!same_ids(&got, want, nw)) {
            if (bad++ < 5) {
                fprintf(stderr, "mistral case %d: '%.*s'\n", n - 1, (int)len, text);
                print_ids("want", want, nw);
                print_ids("got ", got.ids, got.n);
            }
            continue;
        }
        size_t nb;
        char *back = decode_n(t, got.ids, got.n, 0, &nb);
        rt += nb == len && !memcmp(back, text, len);
        free(back);
    }
    fclose(f);
    fprintf(stderr,
            "SentencePiece-style tokenizer.json vs sentencepiece: %d/%d cases identical, "
            "%d decode back exactly\n",
            n - bad, n, rt);
    ck_assert_msg(bad == 0, "%d of %d cases differ", bad, n);
    ck_assert_int_ge(n, 400);
    ck_assert_int_ge(rt, n * 9 / 10); /* not all: SentencePiece drops some control characters */
    lm_tokens_free(&got);
    lm_tokenizer_free(t);
    lm_tokenizer_free(g);
}
END_TEST

/* ---- round trips, long input, streaming ---- */

static size_t put_cp(char *o, uint32_t c) {
    if (c < 0x80) return o[0] = (char)c, 1;
    if (c < 0x800) return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 63)), 2;
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 63));
        o[2] = (char)(0x80 | (c & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 63));
    o[2] = (char)(0x80 | (c >> 6 & 63)), o[3] = (char)(0x80 | (c & 63));
    return 4;
}

/* random valid UTF-8 of about n bytes, weighted towards ASCII, spaces and newlines */
static size_t random_text(struct tu_rng *r, char *o, size_t n) {
    size_t m = 0;
    while (m + 4 < n) {
        uint64_t k = tu_next(r) % 16;
        uint32_t c;
        if (k < 8)
            c = 32 + (uint32_t)(tu_next(r) % 95);
        else if (k < 10)
            c = " \n\t\r"[tu_next(r) % 4];
        else if (k < 12)
            c = 0x80 + (uint32_t)(tu_next(r) % 0x780);
        else if (k < 14)
            c = 0x800 + (uint32_t)(tu_next(r) % 0xf800);
        else if (k < 15)
            c = 0x10000 + (uint32_t)(tu_next(r) % 0x30000); /* lead byte F0 */
        else
            c = (uint32_t)(tu_next(r) % 32);
        if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
        m += put_cp(o + m, c);
    }
    return m;
}

START_TEST(roundtrip_random) {
    struct tu_rng r = tu_rng(7);
    char buf[600];
    struct lm_tokens ids = {0};
    const struct lm_tokenizer *ts[] = {gpt2, lfm2, smol};
    for (int it = 0; it < 300; it++) {
        size_t n = random_text(&r, buf, 1 + tu_next(&r) % sizeof buf);
        const struct lm_tokenizer *t = ts[it % 3];
        /* SmolLM2's vocabulary lacks a few control bytes (and F1, F2): HF drops such bytes */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] < 0x80 && t->byte_token[(unsigned char)buf[i]] < 0)
                buf[i] = '?';
        encode_ok(t, buf, n, LM_TOK_PARSE_SPECIAL, &ids);
        size_t nb;
        char *back = decode_n(t, ids.ids, ids.n, 0, &nb); /* NULs included */
        size_t at = 0;
        while (at < n && at < nb && back[at] == buf[at])
            at++;
        ck_assert_msg(nb == n && at == n,
                      "round trip %d: %zu bytes back for %zu, first at %zu: %02x", it, nb, n, at,
                      at < n ? (unsigned char)buf[at] : 0);
        free(back);
    }
    lm_tokens_free(&ids);
}
END_TEST

START_TEST(megabyte_without_spaces) {
    size_t n = 1 << 20;
    char *s = malloc(n);
    struct tu_rng r = tu_rng(3);
    for (size_t i = 0; i < n; i++)
        s[i] = "etaoinshrdlu"[tu_next(&r) % 12]; /* one long word */
    const struct lm_tokenizer *ts[] = {gpt2, lfm2};
    const char *names[] = {"gpt-2", "lfm2"};
    for (int k = 0; k < 2; k++) {
        struct lm_tokens ids = {0};
        uint64_t t0 = lm_time_ns();
        encode_ok(ts[k], s, n, 0, &ids);
        double ms = (double)(lm_time_ns() - t0) * 1e-6;
        fprintf(stderr, "%s: 1 MiB without spaces -> %lld tokens in %.1f ms\n", names[k],
                (long long)ids.n, ms);
        ck_assert_int_gt(ids.n, 1000);
        struct lm_text back = {0};
        ck_assert_int_eq(lm_detokenize(ts[k], ids.ids, ids.n, 0, &back), LM_OK);
        ck_assert(back.n == n && !memcmp(back.s, s, n));
        lm_text_free(&back);
        lm_tokens_free(&ids);
    }
    free(s);
}
END_TEST

START_TEST(stream_partial_chars) {
    /* "€" = E2 82 AC and "😀" = F0 9F 98 80 as one byte-level token per byte */
    const unsigned char bytes[] = {'a', 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 'b'};
    int32_t ids[16];
    for (int i = 0; i < 9; i++)
        ck_assert_int_ge(ids[i] = gpt2->byte_token[bytes[i]], 0);
    struct lm_detok_stream st = {0};
    struct lm_text out = {0};
    const int sizes[] = {1, 0, 0, 3, 0, 0, 0, 4, 1}; /* bytes emitted after each id */
    for (int i = 0; i < 9; i++) {
        size_t n0 = out.n;
        ck_assert_int_eq(lm_detok_push(gpt2, &st, ids[i], 0, &out), LM_OK);
        ck_assert_int_eq(out.n - n0, sizes[i]);
    }
    ck_assert_int_eq(lm_detok_flush(&st, &out), LM_OK);
    ck_assert_str_eq(out.s, "a\xe2\x82\xac\xf0\x9f\x98\x80"
                            "b");
    /* invalid bytes become U+FFFD; an unfinished character at the flush too */
    out.n = 0;
    int32_t bad[] = {gpt2->byte_token[0xff], gpt2->byte_token['x'], gpt2->byte_token[0xe2],
                     gpt2->byte_token[0x82]};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(lm_detok_push(gpt2, &st, bad[i], 0, &out), LM_OK);
    ck_assert_str_eq(out.s, "\xef\xbf\xbdx");
    ck_assert_int_eq(lm_detok_flush(&st, &out), LM_OK);
    ck_assert_str_eq(out.s, "\xef\xbf\xbdx\xef\xbf\xbd");
    char *full = decode_both(gpt2, bad, 4, 0);
    ck_assert_str_eq(full, out.s);
    free(full);
    ck_assert_int_eq(lm_detok_push(gpt2, &st, 50257, 0, &out), LM_ERANGE);
    ck_assert_int_eq(lm_detokenize(gpt2, bad, 0, 0, &out), LM_OK);
    int32_t oob[] = {5, -1};
    ck_assert_int_eq(lm_detokenize(gpt2, oob, 2, 0, &out), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "-1"));
    lm_text_free(&out);
}
END_TEST

START_TEST(invalid_utf8_input) {
    /* each maximal invalid subpart is one U+FFFD, as bytes.decode(errors="replace") does */
    static const struct {
        const char *in, *same_as;
    } cases[] = {
        {"\xff", "\xef\xbf\xbd"},
        {"a\xe2\x82", "a\xef\xbf\xbd"},
        {"\xe2\x82"
         "b",
         "\xef\xbf\xbd"
         "b"},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf0\x9f\x98"
         "\xf0\x9f\x98\x80",
         "\xef\xbf\xbd\xf0\x9f\x98\x80"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    };
    struct lm_tokens a = {0}, b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        encode_ok(lfm2, cases[i].in, strlen(cases[i].in), 0, &a);
        encode_ok(lfm2, cases[i].same_as, strlen(cases[i].same_as), 0, &b);
        ck_assert_msg(a.n == b.n && !memcmp(a.ids, b.ids, (size_t)a.n * 4), "case %zu", i);
    }
    lm_tokens_free(&a);
    lm_tokens_free(&b);
}
END_TEST

START_TEST(special_tokens) {
    const char *text = "<|im_start|>user\nhi<|im_end|>";
    struct lm_tokens a = {0};
    encode_ok(lfm2, text, strlen(text), LM_TOK_PARSE_SPECIAL, &a);
    ck_assert_int_eq(a.ids[0], 6);
    ck_assert_int_eq(a.ids[a.n - 1], 7);
    char *s = decode_both(lfm2, a.ids, a.n, LM_TOK_SKIP_SPECIAL);
    ck_assert_str_eq(s, "user\nhi");
    free(s);
    encode_ok(lfm2, text, strlen(text), 0, &a); /* without the flag: plain text */
    for (int64_t i = 0; i < a.n; i++)
        ck_assert(a.ids[i] != 6 && a.ids[i] != 7);
    s = decode_both(lfm2, a.ids, a.n, LM_TOK_SKIP_SPECIAL);
    ck_assert_str_eq(s, text);
    free(s);
    lm_tokens_free(&a);
}
END_TEST

/* ---- hand-made tokenizer.json files ---- */

/* A tiny byte-level BPE: every byte char, merges for "ab" and "abc", added tokens with flags. */
static char *tiny_json(const char *extra_added, const char *post, const char *pre) {
    char *js = malloc(40000), *w = js;
    w += sprintf(w, "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
    for (int b = 0; b < 256; b++) {
        char c[8];
        size_t n = put_cp(c, tok_byte_to_cp((uint8_t)b));
        c[n] = 0;
        w += sprintf(w, "%s\"%s%s\": %d", b ? ", " : "", (c[0] == '"' || c[0] == '\\') ? "\\" : "",
                     c, b);
    }
    w += sprintf(w,
                 ", \"ab\": 256, \"abc\": 257, \"ĠX\": 258}, \"merges\": [\"a b\", [\"ab\", "
                 "\"c\"], \"Ġ X\"]}, \"added_tokens\": [{\"id\": 259, \"content\": \"<s>\", "
                 "\"special\": true}, {\"id\": 260, \"content\": \"[L]\", \"lstrip\": true, "
                 "\"special\": true}, {\"id\": 261, \"content\": \"[R]\", \"rstrip\": true}, "
                 "{\"id\": 262, \"content\": \"wd\", \"single_word\": true}%s], "
                 "\"pre_tokenizer\": %s, \"post_processor\": %s}",
                 extra_added, pre, post);
    return js;
}

static const char *byte_level = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}";

static struct lm_tokenizer *tiny(const char *post, const char *pre) {
    char *js = tiny_json("", post, pre);
    struct lm_tokenizer *t;
    lm_status s = tok_from_json_mem(js, strlen(js), NULL, 0, &t);
    free(js);
    ck_assert_msg(s == LM_OK, "%s", lm_last_error());
    return t;
}

static void expect(const struct lm_tokenizer *t, const char *text, unsigned flags,
                   const int32_t *want, int n) {
    struct lm_tokens a = {0};
    encode_ok(t, text, strlen(text), flags, &a);
    if (!same_ids(&a, want, n)) {
        print_ids("want", want, n);
        print_ids("got ", a.ids, a.n);
        ck_abort_msg("'%s' encodes differently", text);
    }
    lm_tokens_free(&a);
}

START_TEST(json_added_token_flags) {
    struct lm_tokenizer *t = tiny("null", byte_level);
    const int32_t sp = t->byte_token[' '], x = t->byte_token['x'], w = t->byte_token['w'];
    expect(t, "abc", 0, (int32_t[]){257}, 1);
    expect(t, "abab", 0, (int32_t[]){256, 256}, 2);
    expect(t, " X", 0, (int32_t[]){258}, 1);
    expect(t, "x <s> x", LM_TOK_PARSE_SPECIAL, (int32_t[]){x, sp, 259, sp, x}, 5);
    expect(t, "x  [L]x", LM_TOK_PARSE_SPECIAL, (int32_t[]){x, 260, x}, 3); /* lstrip */
    expect(t, "x[R]  x", LM_TOK_PARSE_SPECIAL, (int32_t[]){x, 261, x}, 3); /* rstrip */
    expect(t, "x wd x", LM_TOK_PARSE_SPECIAL, (int32_t[]){x, sp, 262, sp, x}, 5);
    expect(t, "xwd", LM_TOK_PARSE_SPECIAL, (int32_t[]){x, w, t->byte_token['d']},
           3); /* single_word */
    expect(t, "<s>", 0, (int32_t[]){t->byte_token['<'], t->byte_token['s'], t->byte_token['>']}, 3);
    /* without LM_TOK_PARSE_SPECIAL only the special ones are text: "[R]" and "wd" are added
     * tokens with "special" false, which match anyway (HF tokenizers, llama.cpp) */
    expect(t, "x[R]  x", 0, (int32_t[]){x, 261, x}, 3);
    expect(t, "x wd x", 0, (int32_t[]){x, sp, 262, sp, x}, 5);
    expect(t, "xwd", 0, (int32_t[]){x, w, t->byte_token['d']}, 3);
    expect(t, "x[L]", 0, (int32_t[]){x, t->byte_token['['], t->byte_token['L'], t->byte_token[']']},
           4);
    lm_tokenizer_free(t);
    /* post processors: which ids come with LM_TOK_ADD_SPECIAL */
    t = tiny("{\"type\": \"RobertaProcessing\", \"cls\": [\"<s>\", 259], \"sep\": [\"[R]\", 261]}",
             byte_level);
    expect(t, "ab", LM_TOK_ADD_SPECIAL, (int32_t[]){259, 256, 261}, 3);
    lm_tokenizer_free(t);
    t = tiny("{\"type\": \"TemplateProcessing\", \"single\": [{\"Sequence\": {\"id\": \"A\"}}, "
             "{\"SpecialToken\": {\"id\": \"</s>\"}}], \"special_tokens\": {\"</s>\": {\"ids\": "
             "[260]}}}",
             "{\"type\": \"ByteLevel\", \"add_prefix_space\": true}");
    expect(t, "X", LM_TOK_ADD_SPECIAL, (int32_t[]){258, 260}, 2); /* and the prefix space */
    lm_tokenizer_free(t);
}
END_TEST

static void json_error(const char *js, lm_status want, const char *needle) {
    struct lm_tokenizer *t = NULL;
    lm_status s = tok_from_json_mem(js, strlen(js), NULL, 0, &t);
    ck_assert_msg(s == want, "status %d (%s), want %d", s, lm_last_error(), want);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(lm_last_error(), needle), "'%s' does not name '%s'", lm_last_error(),
                  needle);
}

START_TEST(json_bad_files) {
    json_error("{\"model\": ", LM_EFORMAT, "JSON");
    json_error("[1, 2]", LM_EFORMAT, "JSON object");
    json_error("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", LM_EUNSUPPORTED, "Unigram");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": -3}, \"merges\": []},"
               "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
               LM_EFORMAT, "'b'");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 99999999}, \"merges\": []},"
               "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
               LM_EFORMAT, "'a'");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 5000000}, "
               "\"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
               LM_EFORMAT, "ids up to 5000000");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": "
               "[\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
               LM_EFORMAT, "merge 0: 'ab'");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a q\"]},"
               "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
               LM_EFORMAT, "'q'");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [7]},"
               "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
               LM_EFORMAT, "merge 0");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
               "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"x\"}, "
               "\"behavior\": \"Removed\"}}",
               LM_EUNSUPPORTED, "Removed");
    json_error(
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
        "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
        "\"pattern\": {\"Regex\": \"(\"}, \"behavior\": \"Isolated\"}, {\"type\": "
        "\"ByteLevel\"}]}}",
        LM_EFORMAT, "regex");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
               "\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"_\"}}",
               LM_EUNSUPPORTED, "replacement '_'");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
               "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": "
               "\"Metaspace\"}, {\"type\": \"ByteLevel\"}]}}",
               LM_EUNSUPPORTED, "mixed");
    json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
               LM_EUNSUPPORTED, "ByteLevel or Metaspace");
    json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"unk_token\": "
               "\"[UNK]\"}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}",
               LM_EFORMAT, "[UNK]");
    char *js = tiny_json("",
                         "{\"type\": \"BertProcessing\", \"cls\": [\"x\", 5000], \"sep\": [\"y\", "
                         "1]}",
                         byte_level);
    json_error(js, LM_EFORMAT, "post_processor");
    free(js);
    js = tiny_json("", "{\"type\": \"Funky\"}", byte_level);
    json_error(js, LM_EUNSUPPORTED, "Funky");
    free(js);
    struct lm_tokenizer *t;
    ck_assert_int_eq(lm_tokenizer_from_json("/nonexistent/tokenizer.json", &t), LM_EIO);
}
END_TEST

/* ---- hand-made GGUF files: named errors ---- */

struct gb {
    char *p;
    size_t n;
};
static void put(struct gb *b, const void *x, size_t n) {
    b->p = realloc(b->p, b->n + n);
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
static void put_u32(struct gb *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct gb *b, uint64_t v) { put(b, &v, 8); }
static void put_str(struct gb *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void kv_str(struct gb *b, const char *k, const char *v) {
    put_str(b, k), put_u32(b, LM_GGUF_STR), put_str(b, v);
}
static void kv_u32(struct gb *b, const char *k, uint32_t v) {
    put_str(b, k), put_u32(b, LM_GGUF_U32), put_u32(b, v);
}
static void kv_strs(struct gb *b, const char *k, const char *const *v, int n) {
    put_str(b, k), put_u32(b, LM_GGUF_ARR), put_u32(b, LM_GGUF_STR), put_u64(b, (uint64_t)n);
    for (int i = 0; i < n; i++)
        put_str(b, v[i]);
}

/* gpt2 tokenizer of 4 tokens; `bad` picks one fault */
static lm_status gguf_case(int bad) {
    static const char *const toks[] = {"a", "b", "ab", "<|e|>"}, *merges[] = {"a b"},
                             *badm[] = {"a zz"};
    struct gb b = {0};
    put(&b, "GGUF", 4), put_u32(&b, 3), put_u64(&b, 0), put_u64(&b, bad == 4 ? 5 : 4);
    kv_str(&b, "tokenizer.ggml.model", "gpt2");
    kv_str(&b, "tokenizer.ggml.pre", bad == 1 ? "klingon" : "gpt-2");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 4);
    kv_strs(&b, "tokenizer.ggml.merges", bad == 2 ? badm : merges, 1);
    if (bad == 4) kv_u32(&b, "tokenizer.ggml.eos_token_id", 4);
    char path[] = "/tmp/lmrt_tok_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b.p, b.n), (ssize_t)b.n);
    close(fd);
    free(b.p);
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s", lm_last_error());
    struct lm_tokenizer *t = NULL;
    lm_status s = lm_tokenizer_from_gguf(g, &t);
    if (s == LM_OK) {
        struct lm_tokens ids = {0};
        encode_ok(t, "ab", 2, 0, &ids);
        ck_assert_int_eq(ids.n, 1);
        ck_assert_int_eq(ids.ids[0], 2);
        lm_tokens_free(&ids);
    }
    lm_tokenizer_free(t);
    lm_gguf_close(g);
    unlink(path);
    return s;
}

START_TEST(gguf_bad_files) {
    ck_assert_int_eq(gguf_case(0), LM_OK);
    ck_assert_int_eq(gguf_case(1), LM_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "klingon"));
    ck_assert_int_eq(gguf_case(2), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tokenizer.ggml.merges"));
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "zz"));
    ck_assert_int_eq(gguf_case(4), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tokenizer.ggml.eos_token_id"));
}
END_TEST

static Suite *tokenizer_suite(void) {
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("tokenizer");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, load_all, free_all);
    tcase_add_test(tc, peer_gpt2);
    tcase_add_test(tc, peer_spm);
    tcase_add_test(tc, peer_bert);
    tcase_add_test(tc, lfm2_json_vs_hf);
    tcase_add_test(tc, smollm2_gguf_vs_hf);
    tcase_add_test(tc, minilm_json);
    tcase_add_test(tc, spm_style_json_vs_sentencepiece);
    tcase_add_test(tc, roundtrip_random);
    tcase_add_test(tc, megabyte_without_spaces);
    tcase_add_test(tc, stream_partial_chars);
    tcase_add_test(tc, invalid_utf8_input);
    tcase_add_test(tc, special_tokens);
    tcase_add_test(tc, json_added_token_flags);
    tcase_add_test(tc, json_bad_files);
    tcase_add_test(tc, gguf_bad_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(tokenizer_suite()); }
