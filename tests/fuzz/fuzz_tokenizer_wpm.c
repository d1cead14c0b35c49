/* tests/fuzz/fuzz_tokenizer_wpm.c - libFuzzer target for WordPiece encoding and decoding
 * (models/tokenizer/: tokenizer.c, wpm.c, decode.c) on the BERT vocabulary of llama.cpp's test
 * vectors (ggml-vocab-bert-bge.gguf: lowercasing, accent stripping, CJK split, [CLS] .. [SEP]).
 *
 * WordPiece loses information (case, accents, whitespace, unknown words become [UNK]), so there
 * is no round trip to check. Invariants, beyond crashes and sanitizer reports: every id in
 * range; plain text (no LM_TOK_PARSE_SPECIAL) never yields [CLS], [SEP], [PAD] or [MASK], and
 * with LM_TOK_ADD_SPECIAL is framed by exactly [CLS] first and [SEP] last; the decode is valid
 * UTF-8; stream chunks are whole UTF-8 and concatenate to the one-call decode (with and without
 * LM_TOK_SKIP_SPECIAL). Replayed over tests/fuzz/corpus/tokenizer_wpm in `ninja test`.
 */
#include "tok_fuzz.h"

static struct lm_tokenizer *tok;

static bool framing(int32_t id) {
    return id == lm_tokenizer_special(tok, LM_TOK_CLS) ||
           id == lm_tokenizer_special(tok, LM_TOK_SEP) ||
           id == lm_tokenizer_special(tok, LM_TOK_PAD) ||
           id == lm_tokenizer_special(tok, LM_TOK_MASK);
}

static void run(const char *text, size_t n, unsigned flags) {
    struct lm_tokens ids = {0};
    if (lm_tokenize(tok, text, n, flags, &ids) == LM_OK) { /* only ENOMEM can fail */
        if (!(flags & LM_TOK_PARSE_SPECIAL)) {
            int64_t lo = 0, hi = ids.n;
            if (flags & LM_TOK_ADD_SPECIAL) {
                tf_check(ids.n >= 2 && ids.ids[0] == lm_tokenizer_special(tok, LM_TOK_CLS) &&
                             ids.ids[ids.n - 1] == lm_tokenizer_special(tok, LM_TOK_SEP),
                         "not framed by [CLS] .. [SEP]");
                lo = 1, hi = ids.n - 1;
            }
            for (int64_t i = lo; i < hi; i++)
                tf_check(!framing(ids.ids[i]), "plain text gave a control token");
        }
        for (unsigned dflags = 0; dflags <= LM_TOK_SKIP_SPECIAL; dflags += LM_TOK_SKIP_SPECIAL) {
            struct lm_text full = {0};
            tf_decode_checked(tok, &ids, dflags, &full);
            lm_text_free(&full);
        }
    }
    lm_tokens_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok) tok = tf_load("ggml-vocab-bert-bge.gguf");
    char *copy = malloc(size ? size : 1); /* exact size: a read past the end is an ASan report */
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    run(copy, size, 0);
    run(copy, size, LM_TOK_ADD_SPECIAL);
    run(copy, size, LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL);
    free(copy);
    return 0;
}
