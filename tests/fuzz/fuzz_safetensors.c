/* tests/fuzz/fuzz_safetensors.c - libFuzzer target for the safetensors reader
 * (rt/safetensors.c).
 *
 * Parses the input as one safetensors image in memory; when it opens, reads every tensor's
 * info, view and first/last byte, looks each up by name, and reads the metadata. A crash, a
 * sanitizer report or an extent outside the input is a bug. Built by `ninja fuzz` (clang),
 * replayed over tests/fuzz/corpus/safetensors by build/tests/replay_safetensors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rt/safetensors.h"

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1); /* exact size: a read past it is an ASan report */
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct lm_st *st;
    if (lm_st_open_memory(copy, size, "fuzz", &st) != LM_OK) {
        free(copy);
        return 0;
    }
    for (int64_t i = 0; i < lm_st_n_meta(st); i++) {
        const char *k, *v;
        if (lm_st_meta(st, i, &k, &v) != LM_OK) abort();
        sink += strlen(k) + strlen(v);
    }
    for (int64_t i = 0; i < lm_st_n_tensors(st); i++) {
        struct lm_st_tensor_info ti;
        struct lm_tensor t, t2;
        if (lm_st_tensor_info(st, i, &ti) != LM_OK) abort();
        const uint8_t *p = ti.data;
        uint64_t n = ti.end - ti.begin;
        if (p < copy || n > size || p + n > copy + size) abort(); /* inside the input */
        if (n) sink += p[0] + p[n - 1];
        sink += strlen(lm_st_tensor_name(st, i)) + strlen(lm_st_tensor_dtype(st, i));
        if (lm_st_tensor(st, i, &t) == LM_OK) {
            if (t.data != ti.data || lm_tensor_nbytes(&t) != n) abort();
            if (lm_st_find_tensor(st, ti.name, &t2) != LM_OK || t2.data != t.data) abort();
        }
    }
    lm_st_close(st);
    free(copy);
    return 0;
}
