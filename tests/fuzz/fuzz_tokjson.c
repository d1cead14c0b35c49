/* tests/fuzz/fuzz_tokjson.c - libFuzzer target for the tokenizer.json loader
 * (models/tokenizer/load_json.c) through its memory entry point tok_from_json_mem.
 *
 * The input up to its first NUL byte is tokenizer.json; what follows, if anything, is
 * tokenizer_config.json. When it loads, a fixed text (with special-token markers, digits,
 * CJK, emoji and an invalid byte) is encoded with every flag combination, every id is checked
 * against the vocabulary, the ids are decoded in one call and streamed, and the first pieces
 * are decoded one by one. Loading errors are fine; crashes, sanitizer reports, leaks and ids
 * outside the vocabulary are bugs. Replayed over tests/fuzz/corpus/tokjson in `ninja test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../models/tokenizer/tok.h"

static const char sample[] = "Hello, world! <s></s>[CLS] it's 12345 <|im_start|>user\n"
                             "\t  naïve 日本語 🚀 \xff x ##ing";

static void exercise(const struct lm_tokenizer *t) {
    for (unsigned flags = 0; flags < 4; flags++) {
        struct lm_tokens ids = {0};
        if (lm_tokenize(t, sample, sizeof sample - 1, flags, &ids) == LM_OK) {
            for (int64_t i = 0; i < ids.n; i++)
                if (ids.ids[i] < 0 || ids.ids[i] >= lm_tokenizer_n_vocab(t)) abort();
            struct lm_text out = {0};
            (void)lm_detokenize(t, ids.ids, ids.n, flags & 1 ? LM_TOK_SKIP_SPECIAL : 0, &out);
            struct lm_detok_stream st = {0};
            for (int64_t i = 0; i < ids.n; i++)
                (void)lm_detok_push(t, &st, ids.ids[i], 0, &out);
            (void)lm_detok_flush(&st, &out);
            lm_text_free(&out);
        }
        lm_tokens_free(&ids);
    }
    int32_t n = lm_tokenizer_n_vocab(t);
    for (int32_t id = 0; id < n && id < 300; id++) {
        struct lm_text out = {0};
        (void)lm_detokenize(t, &id, 1, 0, &out);
        lm_text_free(&out);
    }
    for (int k = 0; k < LM_TOK_SPECIAL_COUNT; k++) {
        int32_t id = lm_tokenizer_special(t, (enum lm_tok_special)k);
        if (id < -1 || id >= n) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t n_json = nul ? (size_t)(nul - data) : size;
    size_t n_cfg = nul ? size - n_json - 1 : 0;
    /* exact-size copies: a read past either end is an ASan report */
    char *json = malloc(n_json ? n_json : 1), *cfg = nul ? malloc(n_cfg ? n_cfg : 1) : NULL;
    if (!json || (nul && !cfg)) {
        free(json);
        free(cfg);
        return 0;
    }
    memcpy(json, data, n_json);
    if (cfg) memcpy(cfg, nul + 1, n_cfg);
    struct lm_tokenizer *t;
    if (tok_from_json_mem(json, n_json, cfg, n_cfg, &t) == LM_OK) {
        exercise(t);
        lm_tokenizer_free(t);
    }
    free(json);
    free(cfg);
    return 0;
}
