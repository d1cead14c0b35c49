/* tests/check_tokenizer_real.c - lmrt's tokenizers on the four real vocabularies, against ids
 * written by independent implementations (tools/gen_tokenizer_refs.py: `tokenizers`,
 * transformers' GGUF conversion as a cross-check, `sentencepiece`).
 *
 *   smollm2  GGUF (byte-level BPE, pre "smollm")       $LMRT_MODELS/smollm2/...Q4_1.gguf
 *   minilm   tokenizer.json (WordPiece)                 $LMRT_MODELS/minilm/tokenizer.json
 *   lfm2     tokenizer.json (byte-level BPE, 507 added) $LMRT_MODELS/lfm2/tokenizer.json
 *   mistral  GGUF made from tokenizer.model.v1 (SPM)    tests/data/tok/mistral-v1-vocab.gguf
 *
 * Every record of tests/data/tok/corpus.bin (2,400 strings: all scripts, whitespace runs,
 * numbers, code, special-token strings, contractions, invalid UTF-8, 10k-letter words) is
 * encoded with flags 0, LM_TOK_PARSE_SPECIAL and LM_TOK_ADD_SPECIAL|PARSE_SPECIAL and compared
 * id for id; records the reference decodes losslessly must decode (whole and streamed) back to
 * their bytes; the 1 MB bulk text is encoded in one call and compared by block hashes. A
 * failure names the tokenizer, the record (escaped) and both id lists from the first
 * difference. Models come from $LMRT_MODELS (default build/models; tools/fetch_models.sh, run
 * by `ninja test`); a missing one fails the test. File formats: see the generator's docstring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define DATA "tests/data/tok/"

struct idvec {
    int32_t *v;
    int64_t n;
    bool present;
};

struct corpus {
    int64_t n;
    const char **s;
    uint32_t *len;
    char *blob;
};

/* Whole file into a NUL-terminated buffer; fails the test naming the path. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s (run from the repository root; models: tools/fetch_models.sh)",
                  path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_msg(n >= 0 && n < (1L << 30), "%s: size %ld", path, n);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_msg(fread(buf, 1, (size_t)n, f) == (size_t)n, "%s: short read", path);
    fclose(f);
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

static struct corpus corpus_load(void) {
    struct corpus c = {0};
    size_t n;
    c.blob = slurp(DATA "corpus.bin", &n);
    int64_t cap = 0;
    for (size_t off = 0; off < n;) {
        ck_assert_msg(n - off >= 4, "corpus.bin: truncated length at byte %zu", off);
        uint32_t len = (uint32_t)(unsigned char)c.blob[off] |
                       (uint32_t)(unsigned char)c.blob[off + 1] << 8 |
                       (uint32_t)(unsigned char)c.blob[off + 2] << 16 |
                       (uint32_t)(unsigned char)c.blob[off + 3] << 24;
        off += 4;
        ck_assert_msg(len <= n - off, "corpus.bin: record %ld runs past the end", (long)c.n);
        if (c.n == cap) {
            cap = cap ? 2 * cap : 1024;
            c.s = realloc(c.s, (size_t)cap * sizeof *c.s);
            c.len = realloc(c.len, (size_t)cap * sizeof *c.len);
            ck_assert(c.s && c.len);
        }
        c.s[c.n] = c.blob + off;
        c.len[c.n++] = len;
        off += len;
    }
    return c;
}

static void corpus_free(struct corpus *c) { free(c->s), free(c->len), free(c->blob); }

/* Parse space-separated ids from p up to the end of the line into v; returns the line end. */
static const char *parse_ids(const char *path, const char *p, struct idvec *v) {
    int64_t cap = 0;
    v->present = true;
    while (*p && *p != '\n') {
        char *end;
        errno = 0;
        long id = strtol(p, &end, 10);
        ck_assert_msg(end != p && errno == 0 && id >= 0 && id < INT32_MAX,
                      "%s: bad id near '%.20s'", path, p);
        if (v->n == cap) {
            cap = cap ? 2 * cap : 16;
            v->v = realloc(v->v, (size_t)cap * sizeof *v->v);
            ck_assert_ptr_nonnull(v->v);
        }
        v->v[v->n++] = (int32_t)id;
        p = end;
        while (*p == ' ')
            p++;
    }
    return p;
}

/* Dense ("ids per line", n lines) or sparse ("i: ids" lines) reference file -> n idvecs. */
static struct idvec *refs_load(const char *name, const char *suffix, int64_t n, bool sparse) {
    char path[256];
    snprintf(path, sizeof path, DATA "ref_%s%s", name, suffix);
    char *buf = slurp(path, NULL);
    struct idvec *r = calloc((size_t)n, sizeof *r);
    ck_assert_ptr_nonnull(r);
    const char *p = buf;
    for (int64_t line = 0; *p; line++) {
        int64_t i = line;
        if (sparse) {
            char *end;
            i = strtoll(p, &end, 10);
            ck_assert_msg(end != p && *end == ':', "%s: line %ld has no 'index:'", path,
                          (long)line);
            p = end + 1;
            while (*p == ' ')
                p++;
        }
        ck_assert_msg(i >= 0 && i < n && !r[i].present, "%s: record %ld out of range or repeated",
                      path, (long)i);
        p = parse_ids(path, p, &r[i]);
        if (*p == '\n') p++;
    }
    if (!sparse)
        for (int64_t i = 0; i < n; i++)
            ck_assert_msg(r[i].present, "%s: %ld lines for %ld records", path, (long)i, (long)n);
    free(buf);
    return r;
}

static void refs_free(struct idvec *r, int64_t n) {
    if (!r) return;
    for (int64_t i = 0; i < n; i++)
        free(r[i].v);
    free(r);
}

/* Printable, truncated form of a record for failure messages. */
static void escape(char *dst, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == '"')
            o += (size_t)snprintf(dst + o, cap - o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
        if (i + 1 < n && o + 8 >= cap) o += (size_t)snprintf(dst + o, cap - o, "...");
    }
    dst[o < cap ? o : cap - 1] = 0;
}

/* "[a b c ...]" of v[from .. from+32) */
static void fmt_ids(char *dst, size_t cap, const int32_t *v, int64_t n, int64_t from) {
    size_t o = (size_t)snprintf(dst, cap, "%s[", from > 0 ? "..." : "");
    for (int64_t i = from; i < n && i < from + 32 && o + 16 < cap; i++)
        o += (size_t)snprintf(dst + o, cap - o, "%s%d", i > from ? " " : "", v[i]);
    snprintf(dst + o, cap - o, "%s] (%ld ids)", n > from + 32 ? " ..." : "", (long)n);
}

static int64_t first_diff(const int32_t *a, int64_t na, const int32_t *b, int64_t nb) {
    int64_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i == na && i == nb ? -1 : i;
}

struct tk {
    struct lm_tokenizer *tok;
    struct lm_gguf *g;
};

static struct tk load_gguf(const char *path) {
    struct tk t = {0};
    lm_status s = lm_gguf_open(path, &t.g);
    ck_assert_msg(s == LM_OK, "%s: %s (models: tools/fetch_models.sh)", path, lm_last_error());
    s = lm_tokenizer_from_gguf(t.g, &t.tok);
    ck_assert_msg(s == LM_OK, "%s: tokenizer: %s", path, lm_last_error());
    return t;
}

static struct tk load_json(const char *path) {
    struct tk t = {0};
    lm_status s = lm_tokenizer_from_json(path, &t.tok);
    ck_assert_msg(s == LM_OK, "%s: %s (models: tools/fetch_models.sh)", path, lm_last_error());
    return t;
}

static void tk_free(struct tk *t) {
    lm_tokenizer_free(t->tok);
    lm_gguf_close(t->g);
}

/* Encode every record with flags and compare with want (records without a reference are
 * skipped; fallback, if set, stands in for absent ones). Returns the number compared. */
static int64_t compare_variant(const char *name, const char *variant,
                               const struct lm_tokenizer *tok, const struct corpus *c,
                               unsigned flags, const struct idvec *want,
                               const struct idvec *fallback) {
    int64_t same = 0, total = 0;
    struct lm_tokens got = {0};
    for (int64_t i = 0; i < c->n; i++) {
        const struct idvec *w = want[i].present ? &want[i] : fallback ? &fallback[i] : NULL;
        if (!w) continue;
        got.n = 0;
        lm_status s = lm_tokenize(tok, c->s[i], c->len[i], flags, &got);
        char text[320], a[640], b[640];
        escape(text, sizeof text, c->s[i], c->len[i]);
        ck_assert_msg(s == LM_OK, "%s %s: record %ld \"%s\": %s", name, variant, (long)i, text,
                      lm_last_error());
        total++;
        int64_t d = first_diff(got.ids, got.n, w->v, w->n);
        if (d < 0) {
            same++;
            continue;
        }
        int64_t from = d > 4 ? d - 4 : 0;
        fmt_ids(a, sizeof a, got.ids, got.n, from);
        fmt_ids(b, sizeof b, w->v, w->n, from);
        ck_abort_msg("%s %s: record %ld \"%s\" (%u bytes) differs at id %ld:\n  lmrt %s\n  ref  %s",
                     name, variant, (long)i, text, c->len[i], (long)d, a, b);
    }
    lm_tokens_free(&got);
    fprintf(stderr, "tokenizer_real: %-8s %-8s %ld/%ld records identical\n", name, variant,
            (long)same, (long)total);
    return total;
}

/* ref_<name>.rt: records (valid UTF-8) that decode back to their bytes, whole and streamed. */
static void check_roundtrip(const char *name, const struct lm_tokenizer *tok,
                            const struct corpus *c, const struct idvec *ids) {
    char path[256];
    snprintf(path, sizeof path, DATA "ref_%s.rt", name);
    size_t n;
    char *rt = slurp(path, &n);
    ck_assert_msg(n == 2 * (size_t)c->n, "%s: %zu bytes for %ld records", path, n, (long)c->n);
    int64_t ok = 0, want = 0;
    struct lm_text whole = {0}, streamed = {0};
    for (int64_t i = 0; i < c->n; i++) {
        if (rt[2 * i] != '1') continue;
        want++;
        whole.n = 0, streamed.n = 0;
        if (whole.s) whole.s[0] = 0;
        if (streamed.s) streamed.s[0] = 0;
        char text[320];
        escape(text, sizeof text, c->s[i], c->len[i]);
        lm_status s = lm_detokenize(tok, ids[i].v, ids[i].n, 0, &whole);
        ck_assert_msg(s == LM_OK, "%s decode: record %ld \"%s\": %s", name, (long)i, text,
                      lm_last_error());
        struct lm_detok_stream st = {0};
        for (int64_t k = 0; k < ids[i].n && s == LM_OK; k++)
            s = lm_detok_push(tok, &st, ids[i].v[k], 0, &streamed);
        if (s == LM_OK) s = lm_detok_flush(&st, &streamed);
        ck_assert_msg(s == LM_OK, "%s stream decode: record %ld: %s", name, (long)i,
                      lm_last_error());
        char got[320];
        escape(got, sizeof got, whole.s ? whole.s : "", whole.n);
        ck_assert_msg(whole.n == c->len[i] && memcmp(whole.s, c->s[i], whole.n) == 0,
                      "%s decode: record %ld \"%s\" came back as \"%s\"", name, (long)i, text, got);
        escape(got, sizeof got, streamed.s ? streamed.s : "", streamed.n);
        ck_assert_msg(streamed.n == whole.n && memcmp(streamed.s, whole.s, whole.n) == 0,
                      "%s stream decode: record %ld \"%s\" came back as \"%s\"", name, (long)i,
                      text, got);
        ok++;
    }
    lm_text_free(&whole), lm_text_free(&streamed);
    free(rt);
    fprintf(stderr, "tokenizer_real: %-8s %-8s %ld/%ld records decode to their bytes\n", name,
            "decode", (long)ok, (long)want);
}

static uint64_t fnv1a64_ids(const int32_t *v, int64_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            h = (h ^ (((uint32_t)v[i] >> (8 * k)) & 0xff)) * 0x100000001B3ull;
    return h;
}

/* The bulk text in one call, compared block by block with ref_<name>.bulk. */
static void check_bulk(const char *name, const struct lm_tokenizer *tok) {
    char path[256];
    snprintf(path, sizeof path, DATA "ref_%s.bulk", name);
    char *ref = slurp(path, NULL);
    long n_ids, block;
    int rt, used = 0;
    ck_assert_msg(sscanf(ref, "ids %ld block %ld rt %d\n%n", &n_ids, &block, &rt, &used) == 3 &&
                      used > 0 && block > 0,
                  "%s: bad header", path);
    size_t len;
    char *text = slurp(DATA "bulk.txt", &len);
    struct lm_tokens got = {0};
    uint64_t t0 = lm_time_ns();
    lm_status s = lm_tokenize(tok, text, len, 0, &got);
    double sec = (double)(lm_time_ns() - t0) * 1e-9;
    ck_assert_msg(s == LM_OK, "%s bulk: %s", name, lm_last_error());
    const char *p = ref + used;
    for (int64_t b = 0; b * block < (n_ids > got.n ? n_ids : got.n); b++) {
        char *end;
        unsigned long long want = strtoull(p, &end, 16);
        ck_assert_msg(end != p, "%s: %ld hashes for %ld ids", path, (long)b, n_ids);
        p = *end == '\n' ? end + 1 : end;
        int64_t from = b * block, cnt = got.n - from < block ? got.n - from : block;
        if (cnt > 0 && fnv1a64_ids(got.ids + from, cnt) == want && (cnt == block || got.n == n_ids))
            continue;
        char a[640];
        fmt_ids(a, sizeof a, got.ids, got.n, from < got.n ? from : got.n);
        ck_abort_msg(
            "%s bulk: %ld ids (ref %ld); block %ld (ids %ld..) differs:\n  lmrt %s\n  ref: "
            "python3 tools/gen_tokenizer_refs.py --show-bulk %s %ld",
            name, (long)got.n, n_ids, (long)b, (long)from, a, name, (long)b);
    }
    ck_assert_msg(got.n == n_ids, "%s bulk: %ld ids, ref %ld", name, (long)got.n, n_ids);
    if (rt) {
        struct lm_text back = {0};
        ck_assert_int_eq(lm_detokenize(tok, got.ids, got.n, 0, &back), LM_OK);
        ck_assert_msg(back.n == len && memcmp(back.s, text, len) == 0,
                      "%s bulk: decode differs from the text (%zu vs %zu bytes)", name, back.n,
                      len);
        lm_text_free(&back);
    }
    fprintf(stderr, "tokenizer_real: %-8s %-8s %ld ids identical (%.1f MB/s)%s\n", name, "bulk",
            (long)got.n, (double)len / 1e6 / (sec > 0 ? sec : 1e-9), rt ? ", decodes back" : "");
    lm_tokens_free(&got);
    free(text), free(ref);
}

/* ref_<name>.meta: kind and vocabulary size as the reference reports them. */
static void check_meta(const char *name, const struct lm_tokenizer *tok) {
    char path[256], kind[16];
    snprintf(path, sizeof path, DATA "ref_%s.meta", name);
    char *m = slurp(path, NULL);
    long n_vocab;
    ck_assert_msg(sscanf(m, "kind %15s n_vocab %ld", kind, &n_vocab) == 2, "%s: bad", path);
    const char *kinds[] = {[LM_TOK_BPE] = "bpe", [LM_TOK_SPM] = "spm", [LM_TOK_WPM] = "wpm"};
    enum lm_tok_kind k = lm_tokenizer_kind(tok);
    ck_assert_msg(k <= LM_TOK_WPM && strcmp(kinds[k], kind) == 0, "%s: kind %d, ref %s", name, k,
                  kind);
    ck_assert_msg(lm_tokenizer_n_vocab(tok) == n_vocab, "%s: n_vocab %d, ref %ld", name,
                  lm_tokenizer_n_vocab(tok), n_vocab);
    free(m);
}

/* One tokenizer through every check its reference files support. */
static void run_all(const char *name, const struct lm_tokenizer *tok, bool has_special,
                    bool has_add, unsigned add_flags, bool has_rt) {
    struct corpus c = corpus_load();
    check_meta(name, tok);
    struct idvec *base = refs_load(name, ".ids", c.n, false);
    compare_variant(name, "ids", tok, &c, 0, base, NULL);
    if (has_special) {
        struct idvec *sp = refs_load(name, ".special.ids", c.n, true);
        compare_variant(name, "special", tok, &c, LM_TOK_PARSE_SPECIAL, sp, base);
        refs_free(sp, c.n);
    }
    if (has_add) {
        struct idvec *add = refs_load(name, ".add.ids", c.n, true);
        compare_variant(name, "add", tok, &c, add_flags, add, NULL);
        refs_free(add, c.n);
    }
    if (has_rt) check_roundtrip(name, tok, &c, base);
    check_bulk(name, tok);
    refs_free(base, c.n);
    corpus_free(&c);
}

START_TEST(smollm2_gguf) {
    char path[512];
    snprintf(path, sizeof path, "%s", tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"));
    struct tk t = load_gguf(path);
    run_all("smollm2", t.tok, true, false, 0, true);
    tk_free(&t);
}
END_TEST

START_TEST(minilm_json) {
    char path[512];
    snprintf(path, sizeof path, "%s", tu_model_path("minilm/tokenizer.json"));
    struct tk t = load_json(path);
    run_all("minilm", t.tok, true, true, LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL, false);
    tk_free(&t);
}
END_TEST

START_TEST(lfm2_json) {
    char path[512];
    snprintf(path, sizeof path, "%s", tu_model_path("lfm2/tokenizer.json"));
    struct tk t = load_json(path);
    run_all("lfm2", t.tok, true, true, LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL, true);
    tk_free(&t);
}
END_TEST

START_TEST(mistral_gguf) {
    struct tk t = load_gguf(DATA "mistral-v1-vocab.gguf");
    run_all("mistral", t.tok, false, true, LM_TOK_ADD_SPECIAL, true);
    tk_free(&t);
}
END_TEST

int main(void) {
    Suite *s = suite_create("tokenizer_real");
    TCase *tc = tcase_create("real");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, smollm2_gguf);
    tcase_add_test(tc, minilm_json);
    tcase_add_test(tc, lfm2_json);
    tcase_add_test(tc, mistral_gguf);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
