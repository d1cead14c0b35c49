/* rt/arena.c - 64-byte-aligned bump arena and aligned allocation.
 *
 * Sessions size one arena up front from a worst-case plan; forward passes only bump and reset
 * it, so they never call malloc. Alignment is 64 bytes: a cache line, and whole AVX-512 vectors.
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lmrt.h"

/* Every block carries a 64-byte header in front of it saying how it was made. Large blocks
 * come straight from mmap: the kernel hands out zero pages lazily, so a big KV cache costs
 * nothing until it is written (a memset would touch, and so commit, every page at creation). */
#define HDR        LM_ALIGN
#define MMAP_BYTES ((size_t)1 << 20)
struct hdr {
    size_t total; /* bytes mapped, or 0 for aligned_alloc */
};

void *lm_aligned_alloc(size_t n) {
    size_t rounded = (n + LM_ALIGN - 1) / LM_ALIGN * LM_ALIGN;
    if (rounded < n || rounded > SIZE_MAX - HDR - 4096) {
        lm_error(LM_ENOMEM, "allocation of %zu bytes overflows", n);
        return NULL;
    }
    uint8_t *base;
    size_t total = 0;
    if (rounded >= MMAP_BYTES) {
        total = rounded + HDR;
        base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) base = NULL;
    } else {
        base = aligned_alloc(LM_ALIGN, rounded + HDR);
        if (base) memset(base + HDR, 0, rounded);
    }
    if (!base) {
        lm_error(LM_ENOMEM, "could not allocate %zu bytes", n);
        return NULL;
    }
    ((struct hdr *)base)->total = total;
    return base + HDR;
}

void lm_aligned_free(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - HDR;
    size_t total = ((struct hdr *)base)->total;
    if (total)
        munmap(base, total);
    else
        free(base);
}

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
