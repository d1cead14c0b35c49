/* tests/check_tok_encoders.c - the SentencePiece BPE (spm.c) and WordPiece (wpm.c) encoders,
 * on vocabularies read by the real loaders.
 *
 * Against independent references: llama.cpp's peer vectors (ggml-vocab-llama-spm.gguf and
 * ggml-vocab-bert-bge.gguf with their .inp/.out, staged in build/models/peer-vectors/ by
 * tools/fetch_models.sh), and ids from sentencepiece (Mistral 7B v0.1,
 * tests/data/tok/mistral-v1-vocab.gguf made by tools/spm_to_gguf.py) and Hugging Face tokenizers
 * (all-MiniLM-L6-v2's tokenizer.json from $LMRT_MODELS, default build/models) on 422 varied
 * strings (tools/gen_tok_encoder_refs.py -> tests/data/tok/minilm.tsv, mistral-v1.tsv): every
 * case must be identical. Then the rules one at a time on small hand-made vocabularies, and 1 MB
 * inputs without spaces (time printed, not asserted; correctness asserted).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../models/tokenizer/tok.h"
#include "testutil.h"

/* ---- files ---------------------------------------------------------------------------- */

/* the llama.cpp peer vectors, staged by tools/fetch_models.sh */
static const char *peer(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "peer-vectors/%s", name);
    return tu_model_path(rel);
}

static const char *model(const char *rel) { return tu_model_path(rel); }

static struct lm_tokenizer *load_gguf(const char *path) {
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s: %s", path, lm_last_error());
    struct lm_tokenizer *t;
    ck_assert_msg(lm_tokenizer_from_gguf(g, &t) == LM_OK, "%s: %s", path, lm_last_error());
    lm_gguf_close(g);
    return t;
}

static struct lm_tokenizer *load_json(const char *path) {
    struct lm_tokenizer *t;
    ck_assert_msg(lm_tokenizer_from_json(path, &t) == LM_OK, "%s: %s", path, lm_last_error());
    return t;
}

/* ---- reference cases ------------------------------------------------------------------ */

typedef lm_status (*encode_fn)(const struct lm_tokenizer *, const char *, size_t,
                               struct lm_tokens *);

static void show_ids(char *buf, size_t cap, const int32_t *ids, int64_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int64_t i = 0; i < n && k + 16 < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, " %d", ids[i]);
}

/* Encode text and compare with want[0..n_want); returns whether equal, printing the case. */
static bool check_case(encode_fn enc, const struct lm_tokenizer *t, const char *where,
                       const char *text, size_t len, const int32_t *want, int64_t n_want) {
    struct lm_tokens got = {0};
    lm_status s = enc(t, text, len, &got);
    bool ok = s == LM_OK && got.n == n_want &&
              (n_want == 0 || memcmp(got.ids, want, (size_t)n_want * 4) == 0);
    if (!ok) {
        char g[1024], w[1024];
        show_ids(g, sizeof g, got.ids, got.n);
        show_ids(w, sizeof w, want, n_want);
        fprintf(stderr, "%s: \"%.*s\"\n  got (status %d):%s\n  want:%s\n", where, (int)len, text, s,
                g, w);
    }
    free(got.ids);
    return ok;
}

static int64_t parse_ids(char *s, int32_t *ids, int64_t cap) {
    int64_t n = 0;
    for (char *p = strtok(s, " \n"); p; p = strtok(NULL, " \n")) {
        ck_assert_int_lt(n, cap);
        ids[n++] = (int32_t)strtol(p, NULL, 10);
    }
    return n;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: cannot open (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* llama.cpp's format: inputs separated by "\n__ggml_vocab_test__\n", one output line each. */
static void run_peer(const char *vocab, encode_fn enc) {
    char inp[600], outp[600];
    snprintf(inp, sizeof inp, "%s.inp", peer(vocab));
    snprintf(outp, sizeof outp, "%s.out", peer(vocab));
    struct lm_tokenizer *t = load_gguf(peer(vocab));
    size_t ni, no;
    char *in = slurp(inp, &ni), *out = slurp(outp, &no);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *p = in, *q = out;
    int n = 0, bad = 0;
    int32_t want[4096];
    for (char *e; (e = strstr(p, sep)) != NULL; p = e + strlen(sep)) {
        char *nl = strchr(q, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = 0;
        int64_t nw = parse_ids(q, want, 4096);
        q = nl + 1;
        bad += !check_case(enc, t, vocab, p, (size_t)(e - p), want, nw);
        n++;
    }
    printf("%s: %d/%d cases identical\n", vocab, n - bad, n);
    ck_assert_int_ge(n, 40);
    ck_assert_int_eq(bad, 0);
    free(in), free(out);
    lm_tokenizer_free(t);
}

/* tests/data/tok/<name>.tsv: hex of the UTF-8 input, a tab, the ids. */
static void run_tsv(const char *path, const struct lm_tokenizer *t, encode_fn enc) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: cannot open (run from the repository root)", path);
    char *line = NULL, *text = NULL;
    size_t cap = 0;
    int n = 0, bad = 0;
    static int32_t want[1 << 16];
    while (getline(&line, &cap, f) > 0) {
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        size_t len = (size_t)(tab - line) / 2;
        text = realloc(text, len + 1);
        for (size_t i = 0; i < len; i++) {
            unsigned b;
            ck_assert(sscanf(line + 2 * i, "%2x", &b) == 1);
            text[i] = (char)b;
        }
        int64_t nw = parse_ids(tab + 1, want, 1 << 16);
        bad += !check_case(enc, t, path, text, len, want, nw);
        n++;
    }
    printf("%s: %d/%d cases identical\n", path, n - bad, n);
    ck_assert_int_ge(n, 300);
    ck_assert_int_eq(bad, 0);
    free(line), free(text);
    fclose(f);
}

START_TEST(spm_llama_peer_vectors) { run_peer("ggml-vocab-llama-spm.gguf", tok_spm_encode); }
END_TEST

START_TEST(wpm_bge_peer_vectors) { run_peer("ggml-vocab-bert-bge.gguf", tok_wpm_encode); }
END_TEST

START_TEST(spm_mistral_vs_sentencepiece) {
    struct lm_tokenizer *t = load_gguf("tests/data/tok/mistral-v1-vocab.gguf");
    run_tsv("tests/data/tok/mistral-v1.tsv", t, tok_spm_encode);
    lm_tokenizer_free(t);
}
END_TEST

START_TEST(wpm_minilm_vs_hf) {
    struct lm_tokenizer *t = load_json(model("minilm/tokenizer.json"));
    run_tsv("tests/data/tok/minilm.tsv", t, tok_wpm_encode);
    lm_tokenizer_free(t);
}
END_TEST

/* ---- the rules on hand-made vocabularies ---------------------------------------------- */

/* A tokenizer of the given pieces (and scores); the caller sets types and flags, then
 * finishes it with tok_finish. */
static struct lm_tokenizer *small_vocab(enum lm_tok_kind kind, const char *const *pieces,
                                        const float *scores, int n) {
    struct lm_tokenizer *t;
    ck_assert_int_eq(tok_new(kind, n, "test", &t), LM_OK);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(tok_set_piece(t, i, pieces[i], strlen(pieces[i])), LM_OK);
        if (scores) t->score[i] = scores[i];
    }
    return t;
}

static int64_t enc(encode_fn f, const struct lm_tokenizer *t, const char *s, int32_t *ids) {
    struct lm_tokens v = {0};
    ck_assert_msg(f(t, s, strlen(s), &v) == LM_OK, "%s", lm_last_error());
    if (v.n) memcpy(ids, v.ids, (size_t)v.n * sizeof *ids);
    int64_t n = v.n;
    free(v.ids);
    return n;
}

#define ASSERT_IDS(got, n, ...)                                                                    \
    do {                                                                                           \
        const int32_t want_[] = {__VA_ARGS__};                                                     \
        int64_t nw_ = (int64_t)(sizeof want_ / sizeof want_[0]);                                   \
        ck_assert_int_eq(n, nw_);                                                                  \
        for (int64_t i_ = 0; i_ < nw_; i_++)                                                       \
            ck_assert_msg(got[i_] == want_[i_], "id %ld: got %d want %d", (long)i_, got[i_],       \
                          want_[i_]);                                                              \
    } while (0)

START_TEST(spm_rules) {
    /* clang-format off */
    static const char *const p[] = {
        "<unk>", "<s>", "a", "b", "c", "ab", "bc", "x", "y", "z", "xy", "yz", "<", "s", ">", "<s",
        "d", "e", "f", "de", "def", "<0xC3>", "<0xA9>", "\342\226\201", "\342\226\201a"};
    /* clang-format on */
    static const float sc[] = {0, 0, 0,  0, 0, -1, -1, 0, 0, 0, -2, -1, 0,
                               0, 0, -1, 0, 0, 0,  10, 5, 0, 0, 0,  -3};
    struct lm_tokenizer *t = small_vocab(LM_TOK_SPM, p, sc, 25);
    t->type[0] = TOK_UNKNOWN, t->type[1] = TOK_CONTROL;
    t->type[19] = TOK_UNUSED; /* "de" */
    t->type[21] = t->type[22] = TOK_BYTE;
    t->special[LM_TOK_UNK] = 0;
    t->byte_fallback = true;
    ck_assert_int_eq(tok_finish(t, "test"), LM_OK);
    int32_t ids[64];
    int64_t n;
    n = enc(tok_spm_encode, t, "abc", ids);
    ASSERT_IDS(ids, n, 5, 4); /* ab and bc tie: the left pair merges */
    n = enc(tok_spm_encode, t, "xyz", ids);
    ASSERT_IDS(ids, n, 7, 11); /* yz scores higher than xy */
    n = enc(tok_spm_encode, t, "<s>", ids);
    ASSERT_IDS(ids, n, 15, 14); /* "<s" + ">" would be the control piece: never formed */
    n = enc(tok_spm_encode, t, "de", ids);
    ASSERT_IDS(ids, n, 16, 17); /* "de" is unused: resegmented into its halves */
    n = enc(tok_spm_encode, t, "def", ids);
    ASSERT_IDS(ids, n, 20); /* ... but it still carries the merge to "def" */
    n = enc(tok_spm_encode, t, "a\303\251b", ids);
    ASSERT_IDS(ids, n, 2, 21, 22, 3); /* é: not a piece, its bytes are */
    n = enc(tok_spm_encode, t, "\xc3\xbc", ids);
    ASSERT_IDS(ids, n, 0); /* ü: <0xBC> is missing, so the unknown id */
    n = enc(tok_spm_encode, t, "a a", ids);
    ASSERT_IDS(ids, n, 2, 24); /* space -> ▁, no prefix */
    t->add_space_prefix = true;
    n = enc(tok_spm_encode, t, "a", ids);
    ASSERT_IDS(ids, n, 24);
    n = enc(tok_spm_encode, t, "", ids);
    ck_assert_int_eq(n, 0); /* an empty fragment: nothing, not a lone "▁" */
    n = enc(tok_spm_encode, t, "\ta", ids);
    ASSERT_IDS(ids, n, 23, 0, 2); /* only U+0020 becomes ▁; \t is unknown (no <0x09>) */
    t->byte_fallback = false;
    n = enc(tok_spm_encode, t, "\xc3\xa9", ids);
    ASSERT_IDS(ids, n, 23, 0);
    t->special[LM_TOK_UNK] = -1;
    struct lm_tokens v = {0};
    ck_assert_int_eq(tok_spm_encode(t, "ab?", 3, &v), LM_EFORMAT);
    ck_assert_msg(strstr(lm_last_error(), "byte 2") != NULL, "%s", lm_last_error());
    free(v.ids);
    lm_tokenizer_free(t);
}
END_TEST

START_TEST(wpm_rules) {
    static const char *const p[] = {"[UNK]", "un",    "##aff",        "##able",
                                    "a",     "##b",   "abc",          "##c",
                                    ",",     "hello", "h\xc3\xa9llo", "\xe4\xb8\xad"};
    struct lm_tokenizer *t = small_vocab(LM_TOK_WPM, p, NULL, 12);
    t->special[LM_TOK_UNK] = 0;
    t->max_input_chars_per_word = 5;
    ck_assert_int_eq(tok_finish(t, "test"), LM_OK);
    int32_t ids[64];
    int64_t n;
    n = enc(tok_wpm_encode, t, "unaff", ids);
    ASSERT_IDS(ids, n, 1, 2);
    t->max_input_chars_per_word = 100;
    n = enc(tok_wpm_encode, t, "unaffable", ids);
    ASSERT_IDS(ids, n, 1, 2, 3);
    n = enc(tok_wpm_encode, t, "abcb abc", ids);
    ASSERT_IDS(ids, n, 6, 5, 6); /* longest first: abc, not a ##b ##c */
    n = enc(tok_wpm_encode, t, "unaffablex un", ids);
    ASSERT_IDS(ids, n, 0, 1); /* no piece for x: the whole word is unknown */
    n = enc(tok_wpm_encode, t, "hello,un\t\n,", ids);
    ASSERT_IDS(ids, n, 9, 8, 1, 8);
    n = enc(tok_wpm_encode, t, "HÉLLO", ids);
    ASSERT_IDS(ids, n, 0); /* as is: neither lowercased nor stripped */
    t->lowercase = true;
    n = enc(tok_wpm_encode, t, "HÉLLO", ids);
    ASSERT_IDS(ids, n, 10);
    t->strip_accents = true;
    n = enc(tok_wpm_encode, t, "HÉLLO He\xcc\x81llo", ids);
    ASSERT_IDS(ids, n, 9, 9);
    n = enc(tok_wpm_encode, t, "a\344\270\255b", ids);
    ASSERT_IDS(ids, n, 0); /* without split_cjk 中 is part of the word */
    t->split_cjk = true;
    n = enc(tok_wpm_encode, t, "a\344\270\255abc", ids);
    ASSERT_IDS(ids, n, 4, 11, 6);
    t->max_input_chars_per_word = 5;
    n = enc(tok_wpm_encode, t, "abcbb abcbbb", ids);
    ASSERT_IDS(ids, n, 6, 5, 5, 0); /* 5 characters are allowed, 6 are not */
    t->special[LM_TOK_UNK] = -1;
    struct lm_tokens v = {0};
    ck_assert_int_eq(tok_wpm_encode(t, "abc", 3, &v), LM_EFORMAT);
    free(v.ids);
    lm_tokenizer_free(t);

    /* GGUF form: word starts carry U+2581, continuations are bare */
    static const char *const g[] = {"[UNK]", "\xe2\x96\x81un", "aff", "able",
                                    "\xe2\x96\x81"
                                    "aff"};
    t = small_vocab(LM_TOK_WPM, g, NULL, 5);
    t->special[LM_TOK_UNK] = 0;
    t->wpm_gguf_form = true;
    ck_assert_int_eq(tok_finish(t, "test"), LM_OK);
    n = enc(tok_wpm_encode, t, "unaffable aff able", ids);
    ASSERT_IDS(ids, n, 1, 2, 3, 4, 0);
    lm_tokenizer_free(t);
}
END_TEST

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 1 MB without spaces: letters, digits, accents, CJK, emoji. The pieces of the ids put back
 * together (byte tokens as their bytes) must give "▁" + the text. */
START_TEST(spm_1mb_no_spaces) {
    struct lm_tokenizer *t = load_gguf("tests/data/tok/mistral-v1-vocab.gguf");
    static const char *const parts[] = {"token",        "ization",          "42", "\xc3\xa9",
                                        "\xe4\xb8\xad", "\xf0\x9f\xa6\x99", "Q",  "-",
                                        "\xe1\x9e\x80"};
    size_t cap = 1 << 20, len = 0;
    char *s = malloc(cap + 8);
    struct tu_rng r = tu_rng(7);
    while (len < cap) {
        const char *q = parts[tu_next(&r) % 9];
        memcpy(s + len, q, strlen(q)), len += strlen(q);
    }
    struct lm_tokens v = {0};
    double t0 = now();
    ck_assert_int_eq(tok_spm_encode(t, s, len, &v), LM_OK);
    double dt = now() - t0;
    printf("spm: %zu bytes without spaces -> %ld ids in %.3f s\n", len, (long)v.n, dt);
    char *back = malloc(len + 3);
    size_t k = 0;
    bool fits = true;
    for (int64_t i = 0; i < v.n && fits; i++) {
        int32_t id = v.ids[i];
        unsigned b;
        if (id < 0 || id >= t->n_vocab)
            fits = false;
        else if (t->type[id] == TOK_BYTE && sscanf(t->piece[id], "<0x%2X>", &b) == 1) {
            if ((fits = k < len + 3)) back[k++] = (char)b;
        } else if ((fits = k + t->piece_len[id] <= len + 3)) {
            memcpy(back + k, t->piece[id], t->piece_len[id]);
            k += t->piece_len[id];
        }
    }
    ck_assert(fits);
    ck_assert_uint_eq(k, len + 3);
    ck_assert(memcmp(back, "\xe2\x96\x81", 3) == 0 && memcmp(back + 3, s, len) == 0);
    free(back), free(v.ids), free(s);
    lm_tokenizer_free(t);
}
END_TEST

/* 1 MB without spaces for WordPiece: one 1 MB word (unknown at once), words split by
 * punctuation, and CJK (every character a word). */
START_TEST(wpm_1mb_no_spaces) {
    struct lm_tokenizer *t = load_json(model("minilm/tokenizer.json"));
    size_t cap = 1 << 20;
    char *s = malloc(cap + 8);
    struct lm_tokens v = {0};
    int32_t tok = tok_find(t, "token", 5), iz = tok_find(t, "##ization", 9),
            comma = tok_find(t, ",", 1), zh = tok_find(t, "\xe4\xb8\xad", 3);
    ck_assert(tok >= 0 && iz >= 0 && comma >= 0 && zh >= 0);

    memset(s, 'a', cap);
    double t0 = now();
    ck_assert_int_eq(tok_wpm_encode(t, s, cap, &v), LM_OK);
    printf("wpm: 1 MB of 'a' -> %ld ids in %.3f s\n", (long)v.n, now() - t0);
    ck_assert_int_eq(v.n, 1);
    ck_assert_int_eq(v.ids[0], t->special[LM_TOK_UNK]);

    size_t len = 0;
    while (len + 13 <= cap)
        memcpy(s + len, "Tokenization,", 13), len += 13;
    v.n = 0;
    t0 = now();
    ck_assert_int_eq(tok_wpm_encode(t, s, len, &v), LM_OK);
    printf("wpm: %zu bytes of \"Tokenization,\" -> %ld ids in %.3f s\n", len, (long)v.n,
           now() - t0);
    ck_assert_int_eq(v.n, (int64_t)(len / 13 * 3));
    int64_t bad = 0; /* counted, then asserted once: a Check assert per id costs a write */
    for (int64_t i = 0; i < v.n; i += 3)
        bad += !(v.ids[i] == tok && v.ids[i + 1] == iz && v.ids[i + 2] == comma);
    ck_assert_int_eq(bad, 0);

    for (len = 0; len + 3 <= cap; len += 3)
        memcpy(s + len, "\xe4\xb8\xad", 3);
    v.n = 0;
    t0 = now();
    ck_assert_int_eq(tok_wpm_encode(t, s, len, &v), LM_OK);
    printf("wpm: %zu bytes of CJK -> %ld ids in %.3f s\n", len, (long)v.n, now() - t0);
    ck_assert_int_eq(v.n, (int64_t)(len / 3));
    for (int64_t i = 0; i < v.n; i++)
        bad += v.ids[i] != zh;
    ck_assert_int_eq(bad, 0);
    free(v.ids), free(s);
    lm_tokenizer_free(t);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("tok_encoders");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, spm_llama_peer_vectors);
    tcase_add_test(tc, wpm_bge_peer_vectors);
    tcase_add_test(tc, spm_mistral_vs_sentencepiece);
    tcase_add_test(tc, wpm_minilm_vs_hf);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, spm_rules);
    tcase_add_test(tc, wpm_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("size");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, spm_1mb_no_spaces);
    tcase_add_test(tc, wpm_1mb_no_spaces);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }
