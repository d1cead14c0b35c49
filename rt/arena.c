/* rt/arena.c - 64-byte-aligned bump arena and aligned allocation.
 *
 * Sessions size one arena up front from a worst-case plan; forward passes only bump and reset
 * it, so they never call malloc. Alignment is 64 bytes: a cache line, and whole AVX-512 vectors.
 */
#include <stdlib.h>
#include <string.h>

#include "lmrt.h"

void *lm_aligned_alloc(size_t n) {
    size_t rounded = (n + LM_ALIGN - 1) / LM_ALIGN * LM_ALIGN;
    if (rounded < n) {
        lm_error(LM_ENOMEM, "allocation of %zu bytes overflows", n);
        return NULL;
    }
    void *p = aligned_alloc(LM_ALIGN, rounded ? rounded : LM_ALIGN);
    if (!p) {
        lm_error(LM_ENOMEM, "could not allocate %zu bytes", n);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void lm_aligned_free(void *p) { free(p); }

lm_status lm_arena_init(struct lm_arena *a, size_t size) {
    memset(a, 0, sizeof *a);
    a->base = lm_aligned_alloc(size);
    if (!a->base) return LM_ENOMEM;
    a->size = size;
    return LM_OK;
}

void lm_arena_free(struct lm_arena *a) {
    if (!a) return;
    lm_aligned_free(a->base);
    memset(a, 0, sizeof *a);
}

void *lm_arena_alloc(struct lm_arena *a, size_t n) {
    size_t start = (a->used + LM_ALIGN - 1) / LM_ALIGN * LM_ALIGN;
    if (start > a->size || n > a->size - start) {
        lm_error(LM_ENOMEM, "arena of %zu bytes has %zu used; %zu more do not fit", a->size,
                 a->used, n);
        return NULL;
    }
    a->used = start + n;
    return a->base + start;
}

lm_status lm_arena_tensor(struct lm_arena *a, struct lm_tensor *t, enum lm_dtype dtype, int ndim,
                          const int64_t *ne) {
    lm_status s = lm_tensor_init(t, dtype, ndim, ne, NULL);
    if (s) return s;
    size_t n = lm_tensor_nbytes(t); /* lm_tensor_init bounded it */
    t->data = lm_arena_alloc(a, n);
    return t->data ? LM_OK : LM_ENOMEM;
}
