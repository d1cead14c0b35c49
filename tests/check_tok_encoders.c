/* tests/check_tok_encoders.c - the SentencePiece BPE (spm.c) and WordPiece (wpm.c) encoders.
 *
 * Against independent references: llama.cpp's peer vectors (ggml-vocab-llama-spm.gguf and
 * ggml-vocab-bert-bge.gguf with their .inp/.out; $LMRT_PEER_VECTORS, default
 * /work/shared/peer-vectors/tokenizers), and ids from sentencepiece (Mistral 7B v0.1,
 * tests/data/tok/mistral-v1-vocab.gguf made by tools/spm_to_gguf.py) and Hugging Face
 * tokenizers (all-MiniLM-L6-v2, build/models/minilm) on 400 varied strings
 * (tools/gen_tok_encoder_refs.py -> tests/data/tok/minilm.tsv, mistral-v1.tsv). Then the rules one
 * at a time on small hand-made vocabularies, and 1 MB inputs without spaces (time printed, not
 * asserted).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../models/tokenizer/tok.h"
#include "testutil.h"

/* ---- until the bpe branch's loaders merge: tok_find / tok_push and test-built vocabularies */

struct tt {
    struct lm_tokenizer t; /* first: tok_find gets &tt->t */
    int32_t *slot;         /* open addressing over piece ids, -1 = empty */
    size_t cap;
};

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

int32_t tok_find(const struct lm_tokenizer *t, const char *s, size_t n) {
    const struct tt *x = (const struct tt *)t;
    for (size_t i = hash_bytes(s, n) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
        int32_t id = x->slot[i];
        if (id < 0) return -1;
        if (t->piece_len[id] == n && memcmp(t->piece[id], s, n) == 0) return id;
    }
}

lm_status tok_push(struct lm_tokens *out, int32_t id) {
    if (out->n == out->cap) {
        int64_t cap = out->cap ? 2 * out->cap : 64;
        int32_t *v = realloc(out->ids, (size_t)cap * sizeof *v);
        if (!v) return lm_error(LM_ENOMEM, "tokens");
        out->ids = v, out->cap = cap;
    }
    out->ids[out->n++] = id;
    return LM_OK;
}

static struct tt *tt_new(enum lm_tok_kind kind, int32_t n) {
    struct tt *x = calloc(1, sizeof *x);
    x->t.kind = kind;
    x->t.n_vocab = n;
    x->t.piece = calloc((size_t)n, sizeof(char *));
    x->t.piece_len = calloc((size_t)n, sizeof(uint32_t));
    x->t.score = calloc((size_t)n, sizeof(float));
    x->t.type = malloc((size_t)n);
    memset(x->t.type, TOK_NORMAL, (size_t)n);
    for (int i = 0; i < LM_TOK_SPECIAL_COUNT; i++)
        x->t.special[i] = -1;
    for (int i = 0; i < 256; i++)
        x->t.byte_token[i] = -1;
    return x;
}

static void tt_set(struct tt *x, int32_t id, const char *s, size_t n) {
    x->t.piece[id] = malloc(n + 1);
    memcpy(x->t.piece[id], s, n);
    x->t.piece[id][n] = 0;
    x->t.piece_len[id] = (uint32_t)n;
}

/* index, byte tokens */
static void tt_finish(struct tt *x) {
    struct lm_tokenizer *t = &x->t;
    x->cap = 64;
    while (x->cap < 2 * (size_t)t->n_vocab)
        x->cap *= 2;
    x->slot = malloc(x->cap * sizeof *x->slot);
    memset(x->slot, 0xff, x->cap * sizeof *x->slot);
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (tok_find(t, t->piece[id], t->piece_len[id]) >= 0) continue; /* first id wins */
        size_t i = hash_bytes(t->piece[id], t->piece_len[id]) & (x->cap - 1);
        while (x->slot[i] >= 0)
            i = (i + 1) & (x->cap - 1);
        x->slot[i] = id;
        unsigned b;
        if (t->type[id] == TOK_BYTE && sscanf(t->piece[id], "<0x%2X>", &b) == 1)
            t->byte_token[b] = id;
    }
}

static void tt_free(struct tt *x) {
    for (int32_t i = 0; i < x->t.n_vocab; i++)
        free(x->t.piece[i]);
    free(x->t.piece), free(x->t.piece_len), free(x->t.score), free(x->t.type), free(x->slot);
    free(x);
}

static const char *peer(const char *name) {
    static char path[4][512];
    static int k;
    const char *d = getenv("LMRT_PEER_VECTORS");
    char *p = path[k++ & 3];
    snprintf(p, 512, "%s/%s", d && *d ? d : "/work/shared/peer-vectors/tokenizers", name);
    ck_assert_msg(access(p, R_OK) == 0, "%s is missing (set LMRT_PEER_VECTORS)", p);
    return p;
}

static const char *model(const char *rel) {
    static char path[512];
    const char *d = getenv("LMRT_MODELS");
    snprintf(path, sizeof path, "%s/%s", d && *d ? d : "build/models", rel);
    ck_assert_msg(access(path, R_OK) == 0, "%s is missing: run tools/fetch_models.sh", path);
    return path;
}

/* A GGUF vocabulary as the loaders will read it (model "llama" or "bert"). */
static struct tt *load_gguf(const char *path) {
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s: %s", path, lm_last_error());
    const char *model;
    ck_assert_int_eq(lm_gguf_get_str(g, "tokenizer.ggml.model", &model), LM_OK);
    bool spm = strcmp(model, "llama") == 0;
    struct lm_gguf_arr tok, score = {0}, type;
    ck_assert_int_eq(lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &tok), LM_OK);
    ck_assert_int_eq(lm_gguf_get_arr(g, "tokenizer.ggml.token_type", &type), LM_OK);
    if (spm) ck_assert_int_eq(lm_gguf_get_arr(g, "tokenizer.ggml.scores", &score), LM_OK);
    struct tt *x = tt_new(spm ? LM_TOK_SPM : LM_TOK_WPM, (int32_t)tok.n);
    for (uint64_t i = 0; i < tok.n; i++) {
        const char *s;
        size_t n;
        int64_t ty;
        ck_assert_int_eq(lm_gguf_arr_str(&tok, i, &s, &n), LM_OK);
        tt_set(x, (int32_t)i, s, n);
        ck_assert_int_eq(lm_gguf_arr_int(&type, i, &ty), LM_OK);
        x->t.type[i] = (uint8_t)ty;
        double sc;
        if (spm) {
            ck_assert_int_eq(lm_gguf_arr_num(&score, i, &sc), LM_OK);
            x->t.score[i] = (float)sc;
        }
    }
    uint32_t unk;
    ck_assert_int_eq(lm_gguf_get_u32(g, "tokenizer.ggml.unknown_token_id", &unk), LM_OK);
    x->t.special[LM_TOK_UNK] = (int32_t)unk;
    x->t.add_space_prefix = spm; /* llama.cpp's default: the key is absent in these files */
    x->t.byte_fallback = spm;
    x->t.lowercase = x->t.strip_accents = x->t.split_cjk = !spm; /* uncased BERT */
    x->t.wpm_gguf_form = !spm;
    x->t.max_input_chars_per_word = 100;
    lm_gguf_close(g);
    tt_finish(x);
    return x;
}

/* all-MiniLM's vocab.txt: one piece a line, id = line number ("##" continuations). */
static struct tt *load_vocab_txt(const char *path) {
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *line = NULL;
    size_t cap = 0;
    int32_t n = 0;
    while (getline(&line, &cap, f) > 0)
        n++;
    rewind(f);
    struct tt *x = tt_new(LM_TOK_WPM, n);
    for (int32_t i = 0; i < n; i++) {
        ssize_t l = getline(&line, &cap, f);
        ck_assert(l > 0);
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            l--;
        tt_set(x, i, line, (size_t)l);
    }
    free(line);
    fclose(f);
    x->t.lowercase = x->t.strip_accents = x->t.split_cjk = true;
    x->t.max_input_chars_per_word = 100;
    tt_finish(x);
    x->t.special[LM_TOK_UNK] = tok_find(&x->t, "[UNK]", 5);
    return x;
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
    struct tt *x = load_gguf(peer(vocab));
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
        bad += !check_case(enc, &x->t, vocab, p, (size_t)(e - p), want, nw);
        n++;
    }
    printf("%s: %d/%d cases identical\n", vocab, n - bad, n);
    ck_assert_int_ge(n, 40);
    ck_assert_int_eq(bad, 0);
    free(in), free(out);
    tt_free(x);
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
    struct tt *x = load_gguf("tests/data/tok/mistral-v1-vocab.gguf");
    run_tsv("tests/data/tok/mistral-v1.tsv", &x->t, tok_spm_encode);
    tt_free(x);
}
END_TEST

START_TEST(wpm_minilm_vs_hf) {
    struct tt *x = load_vocab_txt(model("minilm/vocab.txt"));
    run_tsv("tests/data/tok/minilm.tsv", &x->t, tok_wpm_encode);
    tt_free(x);
}
END_TEST

/* ---- the rules on hand-made vocabularies ---------------------------------------------- */

static struct tt *small_vocab(enum lm_tok_kind kind, const char *const *pieces, const float *scores,
                              int n) {
    struct tt *x = tt_new(kind, n);
    for (int i = 0; i < n; i++) {
        tt_set(x, i, pieces[i], strlen(pieces[i]));
        if (scores) x->t.score[i] = scores[i];
    }
    return x;
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
    struct tt *x = small_vocab(LM_TOK_SPM, p, sc, 25);
    x->t.type[0] = TOK_UNKNOWN, x->t.type[1] = TOK_CONTROL;
    x->t.type[19] = TOK_UNUSED; /* "de" */
    x->t.type[21] = x->t.type[22] = TOK_BYTE;
    x->t.special[LM_TOK_UNK] = 0;
    x->t.byte_fallback = true;
    tt_finish(x);
    int32_t ids[64];
    int64_t n;
    n = enc(tok_spm_encode, &x->t, "abc", ids);
    ASSERT_IDS(ids, n, 5, 4); /* ab and bc tie: the left pair merges */
    n = enc(tok_spm_encode, &x->t, "xyz", ids);
    ASSERT_IDS(ids, n, 7, 11); /* yz scores higher than xy */
    n = enc(tok_spm_encode, &x->t, "<s>", ids);
    ASSERT_IDS(ids, n, 15, 14); /* "<s" + ">" would be the control piece: never formed */
    n = enc(tok_spm_encode, &x->t, "de", ids);
    ASSERT_IDS(ids, n, 16, 17); /* "de" is unused: resegmented into its halves */
    n = enc(tok_spm_encode, &x->t, "def", ids);
    ASSERT_IDS(ids, n, 20); /* ... but it still carries the merge to "def" */
    n = enc(tok_spm_encode, &x->t, "a\303\251b", ids);
    ASSERT_IDS(ids, n, 2, 21, 22, 3); /* é: not a piece, its bytes are */
    n = enc(tok_spm_encode, &x->t, "\xc3\xbc", ids);
    ASSERT_IDS(ids, n, 0); /* ü: <0xBC> is missing, so the unknown id */
    n = enc(tok_spm_encode, &x->t, "a a", ids);
    ASSERT_IDS(ids, n, 2, 24); /* space -> ▁, no prefix */
    x->t.add_space_prefix = true;
    n = enc(tok_spm_encode, &x->t, "a", ids);
    ASSERT_IDS(ids, n, 24);
    n = enc(tok_spm_encode, &x->t, "", ids);
    ck_assert_int_eq(n, 0); /* an empty fragment: nothing, not a lone "▁" */
    n = enc(tok_spm_encode, &x->t, "\ta", ids);
    ASSERT_IDS(ids, n, 23, 0, 2); /* only U+0020 becomes ▁; \t is unknown (no <0x09>) */
    x->t.byte_fallback = false;
    n = enc(tok_spm_encode, &x->t, "\xc3\xa9", ids);
    ASSERT_IDS(ids, n, 23, 0);
    x->t.special[LM_TOK_UNK] = -1;
    struct lm_tokens v = {0};
    ck_assert_int_eq(tok_spm_encode(&x->t, "ab?", 3, &v), LM_EFORMAT);
    ck_assert_msg(strstr(lm_last_error(), "byte 2") != NULL, "%s", lm_last_error());
    free(v.ids);
    tt_free(x);
}
END_TEST

START_TEST(wpm_rules) {
    static const char *const p[] = {"[UNK]", "un",    "##aff",        "##able",
                                    "a",     "##b",   "abc",          "##c",
                                    ",",     "hello", "h\xc3\xa9llo", "\xe4\xb8\xad"};
    struct tt *x = small_vocab(LM_TOK_WPM, p, NULL, 12);
    x->t.special[LM_TOK_UNK] = 0;
    x->t.max_input_chars_per_word = 5;
    tt_finish(x);
    int32_t ids[64];
    int64_t n;
    n = enc(tok_wpm_encode, &x->t, "unaff", ids);
    ASSERT_IDS(ids, n, 1, 2);
    x->t.max_input_chars_per_word = 100;
    n = enc(tok_wpm_encode, &x->t, "unaffable", ids);
    ASSERT_IDS(ids, n, 1, 2, 3);
    n = enc(tok_wpm_encode, &x->t, "abcb abc", ids);
    ASSERT_IDS(ids, n, 6, 5, 6); /* longest first: abc, not a ##b ##c */
    n = enc(tok_wpm_encode, &x->t, "unaffablex un", ids);
    ASSERT_IDS(ids, n, 0, 1); /* no piece for x: the whole word is unknown */
    n = enc(tok_wpm_encode, &x->t, "hello,un\t\n,", ids);
    ASSERT_IDS(ids, n, 9, 8, 1, 8);
    n = enc(tok_wpm_encode, &x->t, "HÉLLO", ids);
    ASSERT_IDS(ids, n, 0); /* as is: neither lowercased nor stripped */
    x->t.lowercase = true;
    n = enc(tok_wpm_encode, &x->t, "HÉLLO", ids);
    ASSERT_IDS(ids, n, 10);
    x->t.strip_accents = true;
    n = enc(tok_wpm_encode, &x->t, "HÉLLO He\xcc\x81llo", ids);
    ASSERT_IDS(ids, n, 9, 9);
    n = enc(tok_wpm_encode, &x->t, "a\344\270\255b", ids);
    ASSERT_IDS(ids, n, 0); /* without split_cjk 中 is part of the word */
    x->t.split_cjk = true;
    n = enc(tok_wpm_encode, &x->t, "a\344\270\255abc", ids);
    ASSERT_IDS(ids, n, 4, 11, 6);
    x->t.max_input_chars_per_word = 5;
    n = enc(tok_wpm_encode, &x->t, "abcbb abcbbb", ids);
    ASSERT_IDS(ids, n, 6, 5, 5, 0); /* 5 characters are allowed, 6 are not */
    x->t.special[LM_TOK_UNK] = -1;
    struct lm_tokens v = {0};
    ck_assert_int_eq(tok_wpm_encode(&x->t, "abc", 3, &v), LM_EFORMAT);
    free(v.ids);
    tt_free(x);

    /* GGUF form: word starts carry U+2581, continuations are bare */
    static const char *const g[] = {"[UNK]", "\xe2\x96\x81un", "aff", "able",
                                    "\xe2\x96\x81"
                                    "aff"};
    x = small_vocab(LM_TOK_WPM, g, NULL, 5);
    x->t.special[LM_TOK_UNK] = 0;
    x->t.wpm_gguf_form = true;
    tt_finish(x);
    n = enc(tok_wpm_encode, &x->t, "unaffable aff able", ids);
    ASSERT_IDS(ids, n, 1, 2, 3, 4, 0);
    tt_free(x);
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
    struct tt *x = load_gguf("tests/data/tok/mistral-v1-vocab.gguf");
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
    ck_assert_int_eq(tok_spm_encode(&x->t, s, len, &v), LM_OK);
    double dt = now() - t0;
    printf("spm: %zu bytes without spaces -> %ld ids in %.3f s\n", len, (long)v.n, dt);
    char *back = malloc(len + 3);
    size_t k = 0;
    for (int64_t i = 0; i < v.n; i++) {
        int32_t id = v.ids[i];
        ck_assert(id >= 0 && id < x->t.n_vocab);
        unsigned b;
        if (x->t.type[id] == TOK_BYTE && sscanf(x->t.piece[id], "<0x%2X>", &b) == 1) {
            back[k++] = (char)b;
        } else {
            ck_assert_uint_le(k + x->t.piece_len[id], len + 3);
            memcpy(back + k, x->t.piece[id], x->t.piece_len[id]), k += x->t.piece_len[id];
        }
    }
    ck_assert_uint_eq(k, len + 3);
    ck_assert(memcmp(back, "\xe2\x96\x81", 3) == 0 && memcmp(back + 3, s, len) == 0);
    free(back), free(v.ids), free(s);
    tt_free(x);
}
END_TEST

/* 1 MB without spaces for WordPiece: one 1 MB word (unknown at once), words split by
 * punctuation, and CJK (every character a word). */
START_TEST(wpm_1mb_no_spaces) {
    struct tt *x = load_vocab_txt(model("minilm/vocab.txt"));
    size_t cap = 1 << 20;
    char *s = malloc(cap + 8);
    struct lm_tokens v = {0};
    int32_t tok = tok_find(&x->t, "token", 5), iz = tok_find(&x->t, "##ization", 9),
            comma = tok_find(&x->t, ",", 1), zh = tok_find(&x->t, "\xe4\xb8\xad", 3);
    ck_assert(tok >= 0 && iz >= 0 && comma >= 0 && zh >= 0);

    memset(s, 'a', cap);
    double t0 = now();
    ck_assert_int_eq(tok_wpm_encode(&x->t, s, cap, &v), LM_OK);
    printf("wpm: 1 MB of 'a' -> %ld ids in %.3f s\n", (long)v.n, now() - t0);
    ck_assert_int_eq(v.n, 1);
    ck_assert_int_eq(v.ids[0], x->t.special[LM_TOK_UNK]);

    size_t len = 0;
    while (len + 13 <= cap)
        memcpy(s + len, "Tokenization,", 13), len += 13;
    v.n = 0;
    t0 = now();
    ck_assert_int_eq(tok_wpm_encode(&x->t, s, len, &v), LM_OK);
    printf("wpm: %zu bytes of \"Tokenization,\" -> %ld ids in %.3f s\n", len, (long)v.n,
           now() - t0);
    ck_assert_int_eq(v.n, (int64_t)(len / 13 * 3));
    for (int64_t i = 0; i < v.n; i += 3)
        ck_assert(v.ids[i] == tok && v.ids[i + 1] == iz && v.ids[i + 2] == comma);

    for (len = 0; len + 3 <= cap; len += 3)
        memcpy(s + len, "\xe4\xb8\xad", 3);
    v.n = 0;
    t0 = now();
    ck_assert_int_eq(tok_wpm_encode(&x->t, s, len, &v), LM_OK);
    printf("wpm: %zu bytes of CJK -> %ld ids in %.3f s\n", len, (long)v.n, now() - t0);
    ck_assert_int_eq(v.n, (int64_t)(len / 3));
    for (int64_t i = 0; i < v.n; i++)
        ck_assert_int_eq(v.ids[i], zh);
    free(v.ids), free(s);
    tt_free(x);
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
