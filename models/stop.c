/* models/stop.c - stop strings over streamed text.
 *
 * Contract (rt/lmrt.h): text is pushed piece by piece as it is generated; what cannot be the
 * start of a stop string goes to out at once, the rest is held until the next bytes tell. When a
 * stop string completes, out gets the text before it and push returns true; the stop string
 * and anything after it are dropped, and later pushes return true and add nothing.
 *
 * The result does not depend on how the text is cut into pieces: the stop that completes first
 * (the earliest end; among those the earliest start) wins, exactly as if the text came one byte
 * at a time. Held text is the longest tail of the text that is a proper prefix of some stop
 * string, so at most (longest stop - 1) bytes wait. UTF-8 is kept whole: stop strings must be
 * valid UTF-8 (so a held tail starts on a character), and a piece that ends inside a character
 * (a caller feeding raw token bytes) has that partial character held too, at most 3 bytes, until
 * it completes or lm_stop_flush releases it.
 *
 * Memory: one buffer of fixed size made at create (held bytes plus a chunk of the piece); a long
 * piece is walked through it chunk by chunk, so push allocates nothing but out's growth. A failed
 * growth of out loses that text and leaves LM_ENOMEM in lm_last_error() (push returns a bool).
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok.h"

#define MAX_STOPS    1024
#define MAX_STOP_LEN 65536
#define CHUNK        1024

struct lm_stop {
    char **s;
    size_t *len;
    int n;
    size_t max_len;     /* longest stop */
    unsigned char *buf; /* held bytes, then the chunk being looked at */
    size_t n_buf, cap;
    bool done;
};

lm_status lm_stop_create(const char *const *stops, int n, struct lm_stop **out) {
    if (!out) return lm_error(LM_EINVAL, "stop_create: null out");
    *out = NULL;
    if (n < 0 || n > MAX_STOPS || (n > 0 && !stops))
        return lm_error(LM_EINVAL, "stop_create: %d stop strings (0..%d)", n, MAX_STOPS);
    struct lm_stop *st = calloc(1, sizeof *st);
    if (!st) return lm_error(LM_ENOMEM, "stop_create: %zu bytes", sizeof *st);
    lm_status s = LM_OK;
    if (n && (!(st->s = calloc((size_t)n, sizeof *st->s)) ||
              !(st->len = calloc((size_t)n, sizeof *st->len)))) {
        s = lm_error(LM_ENOMEM, "stop_create: %d stop strings", n);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (!stops[i] || !stops[i][0]) {
            s = lm_error(LM_EINVAL, "stop_create: stop[%d] is %s", i, stops[i] ? "empty" : "null");
            goto fail;
        }
        size_t len = strnlen(stops[i], MAX_STOP_LEN + 1);
        if (len > MAX_STOP_LEN) {
            s = lm_error(LM_EINVAL, "stop_create: stop[%d] is longer than %d bytes", i,
                         MAX_STOP_LEN);
            goto fail;
        }
        for (size_t at = 0; at < len;) {
            int need, c = tok_utf8_char((const unsigned char *)stops[i] + at, len - at, &need);
            if (c == 0) {
                s = lm_error(LM_EINVAL, "stop_create: stop[%d]: invalid UTF-8 at byte %zu", i, at);
                goto fail;
            }
            at += (size_t)c;
        }
        if (!(st->s[i] = malloc(len + 1))) {
            s = lm_error(LM_ENOMEM, "stop_create: stop[%d]", i);
            goto fail;
        }
        memcpy(st->s[i], stops[i], len + 1);
        st->len[i] = len;
        st->n = i + 1;
        if (len > st->max_len) st->max_len = len;
    }
    /* held: max_len - 1 for a stop prefix (+3 should it have to back up over a character) or
     * 3 of a partial character; then a chunk */
    st->cap = st->max_len + 4 + CHUNK;
    if (!(st->buf = malloc(st->cap))) {
        s = lm_error(LM_ENOMEM, "stop_create: %zu bytes of buffer", st->cap);
        goto fail;
    }
    *out = st;
    return LM_OK;
fail:
    lm_stop_free(st);
    return s;
}

void lm_stop_free(struct lm_stop *st) {
    if (!st) return;
    for (int i = 0; i < st->n; i++)
        free(st->s[i]);
    free(st->s), free(st->len), free(st->buf);
    free(st);
}

static void emit(struct lm_text *out, const unsigned char *p, size_t n) {
    if (out && n) lm_text_append(out, (const char *)p, n); /* ENOMEM: message kept, text lost */
}

/* Where the tail of b[0..n) that must wait begins. */
static size_t hold_from(const struct lm_stop *st, const unsigned char *b, size_t n) {
    size_t r = n;
    /* the longest tail that is a proper prefix of a stop: start as far left as possible */
    size_t keep = st->max_len ? st->max_len - 1 : 0, lo = n > keep ? n - keep : 0;
    for (size_t i = lo; i < n && r == n; i++)
        for (int k = 0; k < st->n; k++)
            if (n - i < st->len[k] && !memcmp(b + i, st->s[k], n - i)) {
                r = i;
                break;
            }
    /* never cut a character: back up over continuation bytes (only if the input split one) */
    for (int back = 0; back < 3 && r > 0 && r < n && (b[r] & 0xc0) == 0x80; back++)
        r--;
    /* a character the piece cut short waits for its other bytes */
    size_t q = n;
    for (int back = 0; back < 3 && q > 0 && (b[q - 1] & 0xc0) == 0x80; back++)
        q--;
    if (q > 0) {
        unsigned c = b[q - 1];
        size_t want = c >= 0xf8 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (c >= 0xc0 && q - 1 + want > n && q - 1 < r) r = q - 1;
    }
    return r;
}

/* The earliest-ending stop in b[0..n): its start in *at, or false. */
static bool find_stop(const struct lm_stop *st, const unsigned char *b, size_t n, size_t *at) {
    size_t best_end = (size_t)-1, best_start = 0;
    for (int k = 0; k < st->n; k++) {
        const unsigned char *p = memmem(b, n, st->s[k], st->len[k]);
        if (!p) continue;
        size_t start = (size_t)(p - b), end = start + st->len[k];
        if (end < best_end || (end == best_end && start < best_start))
            best_end = end, best_start = start;
    }
    if (best_end == (size_t)-1) return false;
    *at = best_start;
    return true;
}

bool lm_stop_push(struct lm_stop *st, const char *piece, size_t len, struct lm_text *out) {
    if (!st) return false;
    if (st->done) return true;
    if (!piece) len = 0;
    const unsigned char *p = (const unsigned char *)piece;
    do {
        size_t take = st->cap - st->n_buf;
        if (take > len) take = len;
        if (take) memcpy(st->buf + st->n_buf, p, take);
        p += take, len -= take, st->n_buf += take;
        size_t at;
        if (find_stop(st, st->buf, st->n_buf, &at)) {
            emit(out, st->buf, at);
            st->n_buf = 0, st->done = true;
            return true;
        }
        size_t r = hold_from(st, st->buf, st->n_buf);
        emit(out, st->buf, r);
        memmove(st->buf, st->buf + r, st->n_buf - r);
        st->n_buf -= r;
    } while (len > 0);
    return false;
}

void lm_stop_flush(struct lm_stop *st, struct lm_text *out) {
    if (!st || st->done) return;
    emit(out, st->buf, st->n_buf);
    st->n_buf = 0;
}
