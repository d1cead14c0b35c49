/* tests/fuzz/tok_fuzz.h - what the tokenizer fuzz targets share (fuzz_tokenizer_spm.c,
 * fuzz_tokenizer_wpm.c): loading a peer-vector vocabulary once, the abort-on-broken-invariant
 * check, and the stream check that holds for every kind (each chunk lm_detok_push emits is
 * whole UTF-8 and the chunks concatenate to lm_detokenize's output). Static functions only:
 * each target includes it once.
 */
#ifndef LMRT_TOK_FUZZ_H
#define LMRT_TOK_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../models/tokenizer/tok.h"

static void tf_check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "tokenizer fuzz: %s\n", what);
        abort();
    }
}

/* The tokenizer of $LMRT_MODELS/peer-vectors/<file> (default build/models, staged by
 * tools/fetch_models.sh); aborts when it cannot be loaded, as a fuzzer without its vocabulary
 * would test nothing. */
static struct lm_tokenizer *tf_load(const char *file) {
    const char *dir = getenv("LMRT_MODELS");
    char path[1024];
    snprintf(path, sizeof path, "%s/peer-vectors/%s", dir && *dir ? dir : "build/models", file);
    struct lm_tokenizer *t = NULL;
    struct lm_gguf *g;
    if (lm_gguf_open(path, &g) == LM_OK) {
        if (lm_tokenizer_from_gguf(g, &t) != LM_OK) t = NULL;
        lm_gguf_close(g);
    }
    if (!t) {
        fprintf(stderr, "tokenizer fuzz: %s: %s (tools/fetch_models.sh stages it)\n", path,
                lm_last_error());
        abort();
    }
    return t;
}

static bool tf_whole_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int need, len = tok_utf8_char((const unsigned char *)s + i, n - i, &need);
        if (len == 0) return false;
        i += (size_t)len;
    }
    return true;
}

static bool tf_same(const struct lm_text *a, const struct lm_text *b) {
    return a->n == b->n && (a->n == 0 || !memcmp(a->s, b->s, a->n));
}

/* Every id in range; the one-call decode of ids under dflags into *full (valid UTF-8), and the
 * stream decode, id by id, checked against it. */
static void tf_decode_checked(const struct lm_tokenizer *t, const struct lm_tokens *ids,
                              unsigned dflags, struct lm_text *full) {
    for (int64_t i = 0; i < ids->n; i++)
        tf_check(ids->ids[i] >= 0 && ids->ids[i] < lm_tokenizer_n_vocab(t), "id out of range");
    tf_check(lm_detokenize(t, ids->ids, ids->n, dflags, full) == LM_OK, "detokenize failed");
    tf_check(tf_whole_utf8(full->s, full->n), "decode is not valid UTF-8");
    struct lm_text cat = {0};
    struct lm_detok_stream st = {0};
    for (int64_t i = 0; i <= ids->n; i++) {
        size_t n0 = cat.n;
        lm_status s = i < ids->n ? lm_detok_push(t, &st, ids->ids[i], dflags, &cat)
                                 : lm_detok_flush(&st, &cat);
        tf_check(s == LM_OK, "stream failed");
        tf_check(tf_whole_utf8(cat.s + n0, cat.n - n0), "stream chunk is not whole UTF-8");
    }
    tf_check(tf_same(&cat, full), "stream differs from the one-call decode");
    lm_text_free(&cat);
}

#endif
