/* tests/fuzz/fuzz_tokenizer.c - libFuzzer target for byte-level BPE encoding and decoding
 * (models/tokenizer/: tokenizer.c, bpe.c, decode.c).
 *
 * Loads the GPT-2 vocabulary of llama.cpp's test vectors once ($LMRT_MODELS/peer-vectors, default
 * build/models, staged by tools/fetch_models.sh), then
 * encodes the input with and without LM_TOK_PARSE_SPECIAL, decodes the ids in one call and one
 * id at a time through the stream. Beyond crashes and sanitizer reports it aborts when an
 * invariant breaks: decoding gives back the input with invalid UTF-8 replaced by U+FFFD (the
 * GPT-2 vocabulary has every byte), every stream chunk is whole UTF-8, and the chunks
 * concatenate to the one-call decode. Replayed over tests/fuzz/corpus/tokenizer in `ninja test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../models/tokenizer/tok.h"

static struct lm_tokenizer *tok;

static void load_once(void) {
    if (tok) return;
    const char *dir = getenv("LMRT_MODELS");
    char path[1024];
    snprintf(path, sizeof path, "%s/peer-vectors/ggml-vocab-gpt-2.gguf",
             dir && *dir ? dir : "build/models");
    struct lm_gguf *g;
    if (lm_gguf_open(path, &g) == LM_OK) {
        if (lm_tokenizer_from_gguf(g, &tok) != LM_OK) tok = NULL;
        lm_gguf_close(g);
    }
    if (!tok) {
        fprintf(stderr, "fuzz_tokenizer: %s: %s (tools/fetch_models.sh stages it)\n", path,
                lm_last_error());
        abort();
    }
}

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_tokenizer: %s\n", what);
        abort();
    }
}

static bool whole_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int need, len = tok_utf8_char((const unsigned char *)s + i, n - i, &need);
        if (len == 0) return false;
        i += (size_t)len;
    }
    return true;
}

static void round_trip(const char *text, size_t n, unsigned flags, const struct lm_text *want) {
    struct lm_tokens ids = {0};
    struct lm_text full = {0}, cat = {0};
    if (lm_tokenize(tok, text, n, flags, &ids) != LM_OK) {
        lm_tokens_free(&ids);
        return; /* only ENOMEM can fail */
    }
    check(lm_detokenize(tok, ids.ids, ids.n, 0, &full) == LM_OK, "detokenize failed");
    check(full.n == want->n && (full.n == 0 || !memcmp(full.s, want->s, full.n)),
          "decode(encode(x)) differs from x");
    struct lm_detok_stream st = {0};
    for (int64_t i = 0; i <= ids.n; i++) {
        size_t n0 = cat.n;
        lm_status s = i < ids.n ? lm_detok_push(tok, &st, ids.ids[i], flags, &cat)
                                : lm_detok_flush(&st, &cat);
        check(s == LM_OK, "stream failed");
        check(whole_utf8(cat.s + n0, cat.n - n0), "stream chunk is not whole UTF-8");
    }
    check(cat.n == full.n && (full.n == 0 || !memcmp(cat.s, full.s, full.n)),
          "stream differs from the one-call decode");
    struct lm_text skip = {0}; /* dropping control tokens must not crash either */
    check(lm_detokenize(tok, ids.ids, ids.n, LM_TOK_SKIP_SPECIAL, &skip) == LM_OK, "skip");
    lm_text_free(&skip);
    lm_tokens_free(&ids);
    lm_text_free(&full);
    lm_text_free(&cat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_once();
    char *copy = malloc(size ? size : 1); /* exact size: a read past the end is an ASan report */
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct lm_text want = {0};
    lm_status s;
    tok_utf8_sanitize(&want, copy, size, true, &s);
    if (s == LM_OK) {
        round_trip(copy, size, 0, &want);
        round_trip(copy, size, LM_TOK_PARSE_SPECIAL | LM_TOK_ADD_SPECIAL, &want);
    }
    lm_text_free(&want);
    free(copy);
    return 0;
}
