/* tests/fuzz/fuzz_chat.c - libFuzzer target for chat templates (models/chat.c) and stop strings
 * (models/stop.c): the inputs a server takes from a model file and from a request.
 *
 * The input is used three ways:
 *   1. as Jinja source for lm_chat_detect (up to its first NUL): the answer is a known name or
 *      LM_ENOTFOUND with a message;
 *   2. split at 0x1F into role, content, role, content, ... for lm_chat_render with every family,
 *      with and without the generation prompt: LM_OK with a NUL-terminated result (for chatml,
 *      exactly the turns' bytes; for the ChatML-like families, every content whole in it), or
 *      LM_EINVAL with out untouched and a message;
 *   3. its first two fields as stop strings (when lm_stop_create takes them) over the remaining
 *      bytes pushed in pieces whose sizes come from the bytes themselves: the output must equal
 *      the text before the first stop to complete, found by brute force.
 * Crashes, sanitizer reports, leaks and broken invariants are bugs. Built by `ninja fuzz`
 * (clang) and replayed over tests/fuzz/corpus/chat in `ninja test`.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rt/lmrt.h"

#define MAX_FIELDS 64

static const char *const families[] = {"chatml", "smollm2", "lfm2", "mistral", "llama3"};

static void check_detect(const char *src) {
    const char *name = "unset";
    lm_clear_error();
    lm_status s = lm_chat_detect(src, &name);
    if (s == LM_OK) {
        if (!name || lm_chat_check_name(name) != LM_OK) abort();
    } else if (s != LM_ENOTFOUND || name != NULL || !*lm_last_error()) {
        abort();
    }
}

static void check_render(const struct lm_chat_msg *m, int n) {
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (int gen = 0; gen < 2; gen++) {
            struct lm_text out = {0};
            lm_clear_error();
            lm_status s = lm_chat_render(families[f], m, n, gen, NULL, &out);
            if (s != LM_OK) {
                if (s != LM_EINVAL || out.n != 0 || !*lm_last_error()) abort();
                lm_text_free(&out);
                continue;
            }
            if (!out.s || out.s[out.n] != '\0' || strlen(out.s) != out.n) abort();
            if (f == 0) { /* chatml: the turns and nothing else */
                size_t want = gen ? strlen("<|im_start|>assistant\n") : 0;
                for (int i = 0; i < n; i++)
                    want += strlen("<|im_start|>\n<|im_end|>\n") + strlen(m[i].role) +
                            strlen(m[i].content);
                if (out.n != want) abort();
            }
            /* chatml, smollm2, lfm2: every content appears whole (llama3 trims and quotes,
             * mistral drops a system message no user message follows) */
            for (int i = 0; i < n && f <= 2; i++)
                if (!strstr(out.s, m[i].content)) abort();
            lm_text_free(&out);
        }
}

/* Where the first stop to complete starts in t[0..n), or n. */
static size_t first_stop(const char *t, size_t n, char *const *stops, int ns, int *hit) {
    for (size_t e = 1; e <= n; e++) {
        size_t best = (size_t)-1;
        for (int k = 0; k < ns; k++) {
            size_t len = strlen(stops[k]);
            if (len <= e && !memcmp(t + e - len, stops[k], len) && e - len < best) best = e - len;
        }
        if (best != (size_t)-1) return *hit = 1, best;
    }
    *hit = 0;
    return n;
}

static void check_stop(char *const *stops, int ns, const char *text, size_t n) {
    struct lm_stop *st;
    lm_clear_error();
    if (lm_stop_create((const char *const *)stops, ns, &st) != LM_OK) {
        if (!*lm_last_error()) abort();
        return;
    }
    struct lm_text out = {0};
    int got = 0;
    size_t pos = 0;
    while (pos < n && !got) {
        size_t piece = 1 + (unsigned char)text[pos] % 7;
        if (piece > n - pos) piece = n - pos;
        got = lm_stop_push(st, text + pos, piece, &out);
        pos += piece;
    }
    if (!got) lm_stop_flush(st, &out);
    int hit;
    size_t want = first_stop(text, n, stops, ns, &hit);
    if (got != hit || out.n != want || (want && memcmp(out.s, text, want))) abort();
    lm_text_free(&out);
    lm_stop_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so a read one byte past the input is an ASan report */
    char *src = malloc(size + 1);
    if (!src) return 0;
    if (size) memcpy(src, data, size);
    src[size] = '\0';
    check_detect(src);

    char *field[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    int nf = 0;
    for (size_t at = 0; at <= size && nf < MAX_FIELDS;) {
        const char *end = memchr(src + at, 0x1f, size - at);
        size_t n = end ? (size_t)(end - (src + at)) : size - at;
        if (!(field[nf] = malloc(n + 1))) break;
        memcpy(field[nf], src + at, n), field[nf][n] = '\0';
        len[nf++] = n;
        at += n + 1;
    }
    struct lm_chat_msg msgs[MAX_FIELDS / 2];
    int n_msgs = 0;
    for (int i = 0; i + 1 < nf; i += 2)
        msgs[n_msgs++] = (struct lm_chat_msg){field[i], field[i + 1]};
    check_render(msgs, n_msgs);

    if (nf >= 3) { /* stops: fields 0 and 1; text: the rest of the input after them */
        size_t off = len[0] + len[1] + 2;
        check_stop(field, 2, src + off, off <= size ? size - off : 0);
    }
    for (int i = 0; i < nf; i++)
        free(field[i]);
    free(src);
    return 0;
}
