/* tests/fuzz/fuzz_gguf.c - libFuzzer target for the GGUF reader (rt/gguf.c, rt/gguf_kv.c).
 *
 * Parses the input as a GGUF image in memory; when it opens, walks everything a loader would
 * touch: every key through every typed getter, every array element (nested arrays
 * recursively), every tensor's info and view, and lookups by name. Any crash, sanitizer report
 * or a view reaching outside the input is a bug. Built by `ninja fuzz` (clang) and replayed
 * over tests/fuzz/corpus/gguf by build/tests/replay_gguf in `ninja test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rt/gguf.h"

static volatile uint64_t sink; /* keeps the reads */

static void walk_arr(const struct lm_gguf_arr *a, int depth) {
    for (uint64_t i = 0; i < a->n; i++) {
        int64_t v;
        double d;
        const char *s;
        size_t len;
        struct lm_gguf_arr sub;
        if (lm_gguf_arr_int(a, i, &v) == LM_OK) sink += (uint64_t)v;
        if (lm_gguf_arr_num(a, i, &d) == LM_OK) sink += (uint64_t)(d == d);
        if (lm_gguf_arr_str(a, i, &s, &len) == LM_OK) sink += len ? (unsigned char)s[len - 1] : 0;
        if (lm_gguf_arr_sub(a, i, &sub) == LM_OK) walk_arr(&sub, depth + 1);
    }
    int64_t v;
    (void)lm_gguf_arr_int(a, a->n, &v); /* out of range */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so a read one byte past the input is an ASan report */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct lm_gguf *g;
    if (lm_gguf_open_memory(copy, size, "fuzz", &g) != LM_OK) {
        free(copy);
        return 0;
    }
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++) {
        const char *key = lm_gguf_kv_key(g, i);
        if (lm_gguf_find_kv(g, key) != i) abort(); /* keys are unique */
        uint32_t u;
        int32_t s32;
        uint64_t u64;
        float f;
        bool b;
        const char *s;
        struct lm_gguf_arr a;
        if (lm_gguf_get_u32(g, key, &u) == LM_OK) sink += u;
        if (lm_gguf_get_i32(g, key, &s32) == LM_OK) sink += (uint64_t)s32;
        if (lm_gguf_get_u64(g, key, &u64) == LM_OK) sink += u64;
        if (lm_gguf_get_f32(g, key, &f) == LM_OK) sink += f == f;
        if (lm_gguf_get_bool(g, key, &b) == LM_OK) sink += b;
        if (lm_gguf_get_str(g, key, &s) == LM_OK) sink += strlen(s);
        if (lm_gguf_get_arr(g, key, &a) == LM_OK) walk_arr(&a, 0);
    }
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        struct lm_gguf_tensor_info ti;
        struct lm_tensor t, t2;
        if (lm_gguf_tensor_info(g, i, &ti) != LM_OK) abort();
        const uint8_t *p = ti.data;
        if (p < copy || ti.nbytes > size || p + ti.nbytes > copy + size) abort(); /* inside */
        if (ti.nbytes) sink += p[0] + p[ti.nbytes - 1];
        if (lm_gguf_tensor(g, i, &t) == LM_OK) {
            if (t.data != ti.data || lm_tensor_nbytes(&t) != ti.nbytes) abort();
            if (lm_gguf_find_tensor(g, ti.name, &t2) != LM_OK || t2.data != t.data) abort();
        }
    }
    lm_gguf_close(g);
    free(copy);
    return 0;
}
