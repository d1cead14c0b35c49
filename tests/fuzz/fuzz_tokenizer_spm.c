/* tests/fuzz/fuzz_tokenizer_spm.c - libFuzzer target for SentencePiece encoding and decoding
 * (models/tokenizer/: tokenizer.c, spm.c, decode.c) on the LLaMA vocabulary of llama.cpp's test
 * vectors (ggml-vocab-llama-spm.gguf: space prefix, byte fallback, <s> added first).
 *
 * Invariants, beyond crashes and sanitizer reports: every id in range; with byte fallback every
 * character is encodable, so decoding gives back the input with invalid UTF-8 replaced by
 * U+FFFD and U+2581 by a space (SentencePiece writes spaces as U+2581, so one in the text is
 * read back as a space; the space the encoder puts in front is the one the decoder takes off the
 * first piece);
 * with LM_TOK_ADD_SPECIAL the first id is BOS and decoding with LM_TOK_SKIP_SPECIAL still gives
 * the input back; stream chunks are whole UTF-8 and concatenate to the one-call decode. With
 * LM_TOK_PARSE_SPECIAL ("<s>" in the text becomes the control token) only the range and stream
 * checks apply. Replayed over tests/fuzz/corpus/tokenizer_spm in `ninja test`.
 */
#include "tok_fuzz.h"

static struct lm_tokenizer *tok;

/* Encode under flags; when want is set, decoding under dflags must give it back. */
static void run(const char *text, size_t n, unsigned flags, unsigned dflags,
                const struct lm_text *want) {
    struct lm_tokens ids = {0};
    struct lm_text full = {0};
    if (lm_tokenize(tok, text, n, flags, &ids) == LM_OK) { /* only ENOMEM can fail */
        if (flags & LM_TOK_ADD_SPECIAL)
            tf_check(ids.n > 0 && ids.ids[0] == lm_tokenizer_special(tok, LM_TOK_BOS),
                     "BOS missing");
        tf_decode_checked(tok, &ids, dflags, &full);
        if (want) tf_check(tf_same(&full, want), "decode(encode(x)) differs from x");
    }
    lm_tokens_free(&ids);
    lm_text_free(&full);
}

/* s[0..n) with U+2581 written as ' ', in place; returns the new length */
static size_t unmeta(char *s, size_t n) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 3 <= n && !memcmp(s + i, "\xe2\x96\x81", 3))
            s[m++] = ' ', i += 2;
        else
            s[m++] = s[i];
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok) tok = tf_load("ggml-vocab-llama-spm.gguf");
    char *copy = malloc(size ? size : 1); /* exact size: a read past the end is an ASan report */
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct lm_text want = {0};
    lm_status s;
    tok_utf8_sanitize(&want, copy, size, true, &s);
    if (s == LM_OK) {
        want.n = unmeta(want.s, want.n);
        run(copy, size, 0, 0, &want);
        run(copy, size, LM_TOK_ADD_SPECIAL, LM_TOK_SKIP_SPECIAL, &want);
        run(copy, size, LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL, 0, NULL);
    }
    lm_text_free(&want);
    free(copy);
    return 0;
}
