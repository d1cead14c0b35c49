/* models/tokenizer/decode.c - ids back to text, whole or streamed one id at a time.
 *
 * Per kind, a token's bytes are:
 *   BPE  each char of the piece through the GPT-2 byte map (a piece with a char outside the map,
 *        e.g. an added token, is its own UTF-8 as HF's ByteLevel decoder does); control and
 *        user-defined tokens are their text.
 *   SPM  U+2581 -> ' ', byte tokens <0xXX> -> that byte, and the first piece of the output loses
 *        one leading space when the model adds a space prefix.
 *   WPM  "##x" joins the previous word, other pieces start a new word after a space (GGUF form:
 *        a leading U+2581 starts a word, other pieces join).
 * LM_TOK_SKIP_SPECIAL drops control tokens (and the "first piece" state ignores them).
 * Bytes that are not valid UTF-8 come out as U+FFFD (maximal subparts). The stream keeps the
 * bytes of a character that is not complete yet (at most 3) until the next id or the flush, so
 * the chunks it emits are always whole characters and concatenate to lm_detokenize's output.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tok.h"

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The byte of an SPM "<0xXX>" piece, or -1 */
static int spm_byte(const char *p, size_t n) {
    if (n != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>') return -1;
    int hi = hexval(p[3]), lo = hexval(p[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static lm_status bpe_piece(const struct lm_tokenizer *t, int32_t id, struct lm_text *raw) {
    const unsigned char *p = (const unsigned char *)t->piece[id];
    size_t n = t->piece_len[id];
    if (t->type[id] == TOK_CONTROL || t->type[id] == TOK_USER)
        return lm_text_append(raw, (const char *)p, n);
    char small[256], *buf = small;
    if (n > sizeof small && !(buf = malloc(n))) return lm_error(LM_ENOMEM, "detokenize");
    size_t m = 0;
    bool mapped = true;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
        int b = k > 0 ? tok_cp_to_byte((uint32_t)cp) : -1;
        if (b < 0) {
            mapped = false;
            break;
        }
        buf[m++] = (char)b;
        i += (size_t)k;
    }
    lm_status st = mapped ? lm_text_append(raw, buf, m) : lm_text_append(raw, (const char *)p, n);
    if (buf != small) free(buf);
    return st;
}

static lm_status spm_piece(const struct lm_tokenizer *t, int32_t id, bool first,
                           struct lm_text *raw) {
    const char *p = t->piece[id];
    size_t n = t->piece_len[id];
    int b = (t->type[id] == TOK_BYTE || t->byte_fallback) ? spm_byte(p, n) : -1;
    if (b >= 0) {
        char c = (char)b;
        if (first && t->add_space_prefix && c == ' ') return LM_OK;
        return lm_text_append(raw, &c, 1);
    }
    if (t->type[id] == TOK_CONTROL) return lm_text_append(raw, p, n);
    bool strip = first && t->add_space_prefix;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 3 <= n && memcmp(p + i, "\xe2\x96\x81", 3) == 0) {
            lm_status st = lm_text_append(raw, p + run, i - run);
            if (st == LM_OK && !(strip && i == 0)) st = lm_text_append(raw, " ", 1);
            if (st != LM_OK) return st;
            i += 2;
            run = i + 1;
        }
    }
    return lm_text_append(raw, p + run, n - run);
}

static lm_status wpm_piece(const struct lm_tokenizer *t, int32_t id, bool first,
                           struct lm_text *raw) {
    const char *p = t->piece[id];
    size_t n = t->piece_len[id];
    lm_status st = LM_OK;
    bool control = t->type[id] == TOK_CONTROL || t->type[id] == TOK_UNKNOWN;
    if (t->wpm_gguf_form && !control) {
        if (n >= 3 && memcmp(p, "\xe2\x96\x81", 3) == 0) {
            if (!first) st = lm_text_append(raw, " ", 1);
            p += 3, n -= 3;
        }
        return st == LM_OK ? lm_text_append(raw, p, n) : st;
    }
    if (!control && n >= 2 && p[0] == '#' && p[1] == '#' && !first)
        return lm_text_append(raw, p + 2, n - 2);
    if (!first) st = lm_text_append(raw, " ", 1);
    return st == LM_OK ? lm_text_append(raw, p, n) : st;
}

/* Append the bytes of id to raw; *emitted says whether the token counts as output. */
static lm_status piece_bytes(const struct lm_tokenizer *t, int32_t id, unsigned flags, bool first,
                             struct lm_text *raw, bool *emitted) {
    *emitted = false;
    if ((flags & LM_TOK_SKIP_SPECIAL) && t->type[id] == TOK_CONTROL) return LM_OK;
    *emitted = true;
    switch (t->kind) {
    case LM_TOK_BPE: return bpe_piece(t, id, raw);
    case LM_TOK_SPM: return spm_piece(t, id, first, raw);
    case LM_TOK_WPM: return wpm_piece(t, id, first, raw);
    }
    return lm_error(LM_EINVAL, "detokenize: tokenizer kind %d", (int)t->kind);
}

static lm_status check_id(const struct lm_tokenizer *t, int32_t id, int64_t at) {
    if (id < 0 || id >= t->n_vocab)
        return lm_error(LM_ERANGE, "detokenize: id %d at position %lld outside the vocabulary (%d)",
                        id, (long long)at, t->n_vocab);
    return LM_OK;
}

lm_status lm_detokenize(const struct lm_tokenizer *t, const int32_t *ids, int64_t n, unsigned flags,
                        struct lm_text *out) {
    if (!t || !out || (!ids && n > 0))
        return lm_error(LM_EINVAL, "detokenize: null tokenizer, ids or output");
    struct lm_text raw = {0};
    lm_status st = lm_text_append(&raw, "", 0);
    bool first = true;
    for (int64_t i = 0; st == LM_OK && i < n; i++) {
        bool emitted;
        if ((st = check_id(t, ids[i], i)) == LM_OK &&
            (st = piece_bytes(t, ids[i], flags, first, &raw, &emitted)) == LM_OK && emitted)
            first = false;
    }
    if (st == LM_OK) {
        size_t n0 = out->n;
        tok_utf8_sanitize(out, raw.s, raw.n, true, &st);
        if (st != LM_OK && out->s) out->n = n0, out->s[n0] = '\0';
    }
    lm_text_free(&raw);
    return st;
}

lm_status lm_detok_push(const struct lm_tokenizer *t, struct lm_detok_stream *st, int32_t id,
                        unsigned flags, struct lm_text *out) {
    if (!t || !st || !out) return lm_error(LM_EINVAL, "detok_push: null argument");
    if (st->n_pending < 0 || st->n_pending > 3)
        return lm_error(LM_EINVAL, "detok_push: stream holds %d pending bytes", st->n_pending);
    lm_status s = check_id(t, id, 0);
    if (s != LM_OK) return s;
    struct lm_text raw = {0};
    bool emitted = false;
    if ((s = lm_text_append(&raw, (const char *)st->pending, (size_t)st->n_pending)) == LM_OK)
        s = piece_bytes(t, id, flags, !st->started, &raw, &emitted);
    if (s == LM_OK && out->n + 1 > out->cap) s = lm_text_append(out, "", 0);
    if (s == LM_OK) {
        size_t used = tok_utf8_sanitize(out, raw.s, raw.n, false, &s);
        if (s == LM_OK) {
            st->n_pending = (int)(raw.n - used); /* a valid but incomplete character: <= 3 */
            memcpy(st->pending, raw.s + used, (size_t)st->n_pending);
            if (emitted) st->started = true;
        }
    }
    lm_text_free(&raw);
    return s;
}

lm_status lm_detok_flush(struct lm_detok_stream *st, struct lm_text *out) {
    if (!st || !out) return lm_error(LM_EINVAL, "detok_flush: null argument");
    lm_status s = lm_text_append(out, "", 0);
    if (s == LM_OK && st->n_pending > 0 && st->n_pending <= 3)
        tok_utf8_sanitize(out, (const char *)st->pending, (size_t)st->n_pending, true, &s);
    st->n_pending = 0;
    st->started = false;
    return s;
}
