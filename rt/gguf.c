/* rt/gguf.c - GGUF v2/v3 parser over a read-only mapping, and split sets.
 *
 * Contract: the whole header (metadata, tensor infos) is validated at open; after that every
 * query is a lookup. Every count and length read from the file is bounded by the bytes left
 * before anything is allocated for it, so a hostile file costs at most a small multiple of its
 * own header size in memory. Tensor data is never read: views point into the mapping, so opening
 * touches only the header pages. Strings go into one chunked pool (one malloc per chunk, not per
 * string): SmolLM2's 98k vocabulary and merge strings cost a handful of allocations.
 *
 * Split sets ("name-00001-of-00003.gguf", written by llama.cpp's gguf-split): any part's name
 * opens all of them; metadata comes from the first part; every part contributes its tensors and
 * must carry split.no (0-based) and split.count agreeing with its file name.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gguf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF reader maps little-endian files in place: big-endian hosts are not supported"
#endif

/* ---- string pool -------------------------------------------------------------------------- */

struct gguf_pool_blk {
    struct gguf_pool_blk *next;
    size_t cap, used;
    _Alignas(16) unsigned char mem[];
};

#define POOL_MIN_CHUNK ((size_t)64 << 10)
#define POOL_MAX_CHUNK ((size_t)8 << 20)

static void *pool_alloc(struct gguf_pool_blk **head, size_t n, size_t align) {
    struct gguf_pool_blk *b = *head;
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->cap && n <= b->cap - at) {
            b->used = at + n;
            return b->mem + at;
        }
    }
    /* chunks double up to 8 MiB, so a big vocabulary takes few mallocs and a tiny file little */
    size_t cap = b ? b->cap * 2 : POOL_MIN_CHUNK;
    if (cap > POOL_MAX_CHUNK) cap = POOL_MAX_CHUNK;
    if (cap < n) cap = n;
    struct gguf_pool_blk *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->next = b, nb->cap = cap, nb->used = n;
    *head = nb;
    return nb->mem;
}

static void pool_free(struct gguf_pool_blk *b) {
    while (b) {
        struct gguf_pool_blk *next = b->next;
        free(b);
        b = next;
    }
}

static char *pool_strdup(struct gguf_pool_blk **head, const void *s, size_t len) {
    char *p = pool_alloc(head, len + 1, 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

/* ---- type tables -------------------------------------------------------------------------- */

/* Block sizes and bytes per block of every ggml type (from ggml's block structs); ids 4, 5,
 * 31-33 and 36-38 were removed from ggml and are unknown here. Q8_1 is 36 bytes (two halves and
 * 32 int8). Needed to bound tensors of types lmrt does not compute with. */
static const struct gguf_type_info ggml_types[] = {
    [0] = {"f32", 1, 4},         [1] = {"f16", 1, 2},         [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},      [6] = {"q5_0", 32, 22},      [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},      [9] = {"q8_1", 32, 36},      [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},   [12] = {"q4_K", 256, 144},   [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},   [15] = {"q8_K", 256, 292},   [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74},  [18] = {"iq3_xxs", 256, 98}, [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},   [21] = {"iq3_s", 256, 110},  [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136}, [24] = {"i8", 1, 1},         [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},        [27] = {"i64", 1, 8},        [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},   [30] = {"bf16", 1, 2},       [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},   [39] = {"mxfp4", 32, 17},    [40] = {"nvfp4", 64, 36},
    [41] = {"q1_0", 128, 18},
};

const struct gguf_type_info *gguf_type_info(int32_t t) {
    if (t < 0 || (size_t)t >= sizeof ggml_types / sizeof ggml_types[0] || !ggml_types[t].name)
        return NULL;
    return &ggml_types[t];
}

/* Bytes of one scalar of a metadata type; 0 for STR and ARR. */
static size_t scalar_size(enum lm_gguf_type t) {
    static const uint8_t sz[LM_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < LM_GGUF_TYPE_COUNT ? sz[t] : 0;
}

/* ---- cursor ------------------------------------------------------------------------------- */

struct cur {
    const uint8_t *p;
    size_t size, pos;
    const char *file;
    struct gguf_pool_blk **pool;
};

static lm_status truncated(const struct cur *c, const char *what, size_t need) {
    return lm_error(LM_EFORMAT, "%s: truncated at byte %zu reading %s (%zu bytes needed, %zu left)",
                    c->file, c->pos, what, need, c->size - c->pos);
}

static inline bool has(const struct cur *c, size_t n) { return n <= c->size - c->pos; }

static lm_status rd_u32(struct cur *c, uint32_t *v, const char *what) {
    if (!has(c, 4)) return truncated(c, what, 4);
    memcpy(v, c->p + c->pos, 4);
    c->pos += 4;
    return LM_OK;
}

static lm_status rd_u64(struct cur *c, uint64_t *v, const char *what) {
    if (!has(c, 8)) return truncated(c, what, 8);
    memcpy(v, c->p + c->pos, 8);
    c->pos += 8;
    return LM_OK;
}

/* A GGUF string (u64 length + bytes), copied into the pool. what/idx name it in errors. */
static lm_status rd_str(struct cur *c, struct gguf_str *out, const char *what, const char *key,
                        uint64_t idx) {
    uint64_t len;
    if (!has(c, 8)) return truncated(c, what, 8);
    memcpy(&len, c->p + c->pos, 8);
    if (len > c->size - c->pos - 8) {
        if (idx != UINT64_MAX)
            return lm_error(LM_EFORMAT,
                            "%s: %s '%s' element %llu: string length %llu at byte %zu exceeds the "
                            "%zu bytes left",
                            c->file, what, key, (unsigned long long)idx, (unsigned long long)len,
                            c->pos, c->size - c->pos - 8);
        return lm_error(LM_EFORMAT,
                        "%s: %s%s%s%s: string length %llu at byte %zu exceeds the %zu bytes left",
                        c->file, what, key ? " '" : "", key ? key : "", key ? "'" : "",
                        (unsigned long long)len, c->pos, c->size - c->pos - 8);
    }
    c->pos += 8;
    char *s = pool_strdup(c->pool, c->p + c->pos, (size_t)len);
    if (!s)
        return lm_error(LM_ENOMEM, "%s: no memory for a %llu-byte string", c->file,
                        (unsigned long long)len);
    c->pos += (size_t)len;
    out->s = s, out->len = (size_t)len;
    return LM_OK;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n, size_t *bad) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            *bad = i;
            return false;
        }
        if (n - i <= k) {
            *bad = i;
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            unsigned d = s[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xbf)) {
                *bad = i;
                return false;
            }
        }
        i += k + 1;
    }
    return true;
}

/* ---- metadata values ---------------------------------------------------------------------- */

static lm_status rd_scalar(struct cur *c, enum lm_gguf_type t, struct gguf_kv *kv) {
    size_t n = scalar_size(t);
    if (!has(c, n)) return truncated(c, kv->key, n);
    const uint8_t *p = c->p + c->pos;
    c->pos += n;
    switch (t) {
    case LM_GGUF_U8: kv->v.u = p[0]; break;
    case LM_GGUF_I8: kv->v.i = (int8_t)p[0]; break;
    case LM_GGUF_U16: {
        uint16_t x;
        memcpy(&x, p, 2);
        kv->v.u = x;
    } break;
    case LM_GGUF_I16: {
        int16_t x;
        memcpy(&x, p, 2);
        kv->v.i = x;
    } break;
    case LM_GGUF_U32: {
        uint32_t x;
        memcpy(&x, p, 4);
        kv->v.u = x;
    } break;
    case LM_GGUF_I32: {
        int32_t x;
        memcpy(&x, p, 4);
        kv->v.i = x;
    } break;
    case LM_GGUF_U64: memcpy(&kv->v.u, p, 8); break;
    case LM_GGUF_I64: memcpy(&kv->v.i, p, 8); break;
    case LM_GGUF_F32: {
        float x;
        memcpy(&x, p, 4);
        kv->v.f = x;
    } break;
    case LM_GGUF_F64: memcpy(&kv->v.f, p, 8); break;
    case LM_GGUF_BOOL:
        if (p[0] > 1)
            return lm_error(LM_EFORMAT, "%s: key '%s': bool byte %u at byte %zu (must be 0 or 1)",
                            c->file, kv->key, p[0], c->pos - 1);
        kv->v.b = p[0];
        break;
    default: break;
    }
    return LM_OK;
}

/* An array body (element type, count, elements) for key; depth counts enclosing arrays. */
static lm_status rd_arr(struct cur *c, struct lm_gguf_arr *a, const char *key, int depth) {
    uint32_t et;
    uint64_t n;
    lm_status s;
    if ((s = rd_u32(c, &et, key)) || (s = rd_u64(c, &n, key))) return s;
    if (et >= LM_GGUF_TYPE_COUNT)
        return lm_error(LM_EFORMAT, "%s: key '%s': unknown array element type %u at byte %zu",
                        c->file, key, et, c->pos - 12);
    if (et == LM_GGUF_ARR && depth + 1 >= GGUF_MAX_NESTING)
        return lm_error(LM_EFORMAT, "%s: key '%s': arrays nested deeper than %d at byte %zu",
                        c->file, key, GGUF_MAX_NESTING, c->pos);
    /* bound the count by the smallest encoding of an element before allocating anything */
    size_t esz = scalar_size(et), min = esz ? esz : et == LM_GGUF_STR ? 8 : 12;
    if (n > (c->size - c->pos) / min)
        return lm_error(
            LM_EFORMAT,
            "%s: key '%s': array count %llu at byte %zu exceeds what the %zu bytes left "
            "can hold",
            c->file, key, (unsigned long long)n, c->pos - 8, c->size - c->pos);
    a->type = (enum lm_gguf_type)et;
    a->n = n;
    if (esz) { /* numbers stay in the mapping */
        const uint8_t *p = c->p + c->pos;
        if (et == LM_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (p[i] > 1)
                    return lm_error(LM_EFORMAT,
                                    "%s: key '%s': bool element %llu is %u at byte %zu (must be "
                                    "0 or 1)",
                                    c->file, key, (unsigned long long)i, p[i], c->pos + (size_t)i);
        a->impl = p;
        c->pos += (size_t)n * esz;
        return LM_OK;
    }
    if (et == LM_GGUF_STR) {
        struct gguf_str *e = n ? pool_alloc(c->pool, (size_t)n * sizeof *e, 16) : NULL;
        if (n && !e)
            return lm_error(LM_ENOMEM, "%s: key '%s': no memory for %llu strings", c->file, key,
                            (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++)
            if ((s = rd_str(c, &e[i], "array", key, i))) return s;
        a->impl = e;
        return LM_OK;
    }
    struct lm_gguf_arr *e = n ? pool_alloc(c->pool, (size_t)n * sizeof *e, 16) : NULL;
    if (n && !e)
        return lm_error(LM_ENOMEM, "%s: key '%s': no memory for %llu arrays", c->file, key,
                        (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++)
        if ((s = rd_arr(c, &e[i], key, depth + 1))) return s;
    a->impl = e;
    return LM_OK;
}

static lm_status rd_kv(struct cur *c, struct gguf_kv *kv, int64_t i) {
    struct gguf_str k;
    size_t at = c->pos;
    lm_status s = rd_str(c, &k, "metadata key", NULL, UINT64_MAX);
    if (s) return s;
    size_t bad;
    if (!utf8_valid((const unsigned char *)k.s, k.len, &bad))
        return lm_error(LM_EFORMAT,
                        "%s: metadata key %lld at byte %zu is not valid UTF-8 (byte %zu)", c->file,
                        (long long)i, at, bad);
    if (k.len == 0 || memchr(k.s, 0, k.len))
        return lm_error(LM_EFORMAT, "%s: metadata key %lld at byte %zu is empty or holds a NUL",
                        c->file, (long long)i, at);
    kv->key = k.s;
    uint32_t t;
    if ((s = rd_u32(c, &t, k.s))) return s;
    if (t >= LM_GGUF_TYPE_COUNT)
        return lm_error(LM_EFORMAT, "%s: key '%s': unknown value type %u at byte %zu", c->file, k.s,
                        t, c->pos - 4);
    kv->type = (enum lm_gguf_type)t;
    if (t == LM_GGUF_STR) return rd_str(c, &kv->v.str, "key", k.s, UINT64_MAX);
    if (t == LM_GGUF_ARR) return rd_arr(c, &kv->v.arr, k.s, 0);
    return rd_scalar(c, kv->type, kv);
}

bool gguf_kv_int(const struct gguf_kv *kv, bool *neg, uint64_t *mag) {
    switch (kv->type) {
    case LM_GGUF_U8:
    case LM_GGUF_U16:
    case LM_GGUF_U32:
    case LM_GGUF_U64: *neg = false, *mag = kv->v.u; return true;
    case LM_GGUF_I8:
    case LM_GGUF_I16:
    case LM_GGUF_I32:
    case LM_GGUF_I64:
        *neg = kv->v.i < 0;
        *mag = *neg ? 0 - (uint64_t)kv->v.i : (uint64_t)kv->v.i;
        return true;
    default: return false;
    }
}

static const struct gguf_kv *find_kv(const struct gguf_kv *kv, int64_t n, const char *key) {
    for (int64_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key)) return &kv[i];
    return NULL;
}

/* Integer value of an optional key that must fit u32; *present says whether it was there. */
static lm_status kv_u32(const char *file, const struct gguf_kv *kv, int64_t n, const char *key,
                        uint32_t *v, bool *present) {
    const struct gguf_kv *e = find_kv(kv, n, key);
    *present = e != NULL;
    if (!e) return LM_OK;
    bool neg;
    uint64_t m;
    if (!gguf_kv_int(e, &neg, &m))
        return lm_error(LM_EFORMAT, "%s: key '%s' is %s, not an integer", file, key,
                        lm_gguf_type_name(e->type));
    if (neg || m > UINT32_MAX)
        return lm_error(LM_EFORMAT, "%s: key '%s' = %s%llu is out of range", file, key,
                        neg ? "-" : "", (unsigned long long)m);
    *v = (uint32_t)m;
    return LM_OK;
}

/* ---- tensors ------------------------------------------------------------------------------ */

static lm_status rd_tensor(struct cur *c, struct gguf_tensor *t, int64_t i) {
    struct gguf_str name;
    size_t at = c->pos;
    lm_status s = rd_str(c, &name, "tensor name", NULL, UINT64_MAX);
    if (s) return s;
    if (memchr(name.s, 0, name.len))
        return lm_error(LM_EFORMAT, "%s: tensor %lld name at byte %zu holds a NUL", c->file,
                        (long long)i, at);
    t->name = name.s;
    uint32_t nd, type;
    if ((s = rd_u32(c, &nd, name.s))) return s;
    if (nd < 1 || nd > LM_MAX_DIMS)
        return lm_error(LM_EFORMAT, "%s: tensor '%s' has n_dims %u (1..%d allowed)", c->file,
                        name.s, nd, LM_MAX_DIMS);
    t->ndim = (int32_t)nd;
    uint64_t nel = 1;
    for (int d = 0; d < LM_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < (int)nd && (s = rd_u64(c, &ne, name.s))) return s;
        if (ne < 1 || ne > INT64_MAX || __builtin_mul_overflow(nel, ne, &nel) || nel > INT64_MAX)
            return lm_error(LM_EFORMAT, "%s: tensor '%s' dim %d = %llu is %s", c->file, name.s, d,
                            (unsigned long long)ne, ne < 1 ? "zero" : "too large (overflow)");
        t->ne[d] = (int64_t)ne;
    }
    if ((s = rd_u32(c, &type, name.s)) || (s = rd_u64(c, &t->offset, name.s))) return s;
    const struct gguf_type_info *ti = gguf_type_info((int32_t)type);
    if (type > INT32_MAX || !ti)
        return lm_error(LM_EFORMAT, "%s: tensor '%s' has unknown GGML type id %u", c->file, name.s,
                        type);
    t->ggml_type = (int32_t)type;
    if (t->ne[0] % ti->blck)
        return lm_error(LM_EFORMAT,
                        "%s: tensor '%s': ne[0] = %lld is not a whole number of %s "
                        "blocks of %d",
                        c->file, name.s, (long long)t->ne[0], ti->name, ti->blck);
    uint64_t bytes = (uint64_t)(t->ne[0] / ti->blck) * ti->size; /* < 2^63 * 292 / 32: fits */
    if ((uint64_t)(t->ne[0] / ti->blck) > UINT64_MAX / ti->size ||
        __builtin_mul_overflow(bytes, (uint64_t)(nel / (uint64_t)t->ne[0]), &bytes))
        return lm_error(LM_EFORMAT, "%s: tensor '%s' byte size overflows", c->file, name.s);
    t->nbytes = bytes;
    return LM_OK;
}

static int cmp_extent(const void *a, const void *b) {
    const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a,
                             *y = *(const struct gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Extents of the tensors of one part: aligned, inside the data section, not overlapping. */
static lm_status check_extents(const char *file, struct gguf_tensor *t, int64_t n, uint32_t align,
                               uint64_t data_size) {
    for (int64_t i = 0; i < n; i++) {
        if (t[i].offset % align)
            return lm_error(LM_EFORMAT,
                            "%s: tensor '%s' offset %llu is not a multiple of the "
                            "alignment %u",
                            file, t[i].name, (unsigned long long)t[i].offset, align);
        if (t[i].offset > data_size || t[i].nbytes > data_size - t[i].offset)
            return lm_error(LM_EFORMAT,
                            "%s: tensor '%s' bytes [%llu, %llu + %llu) lie past the end "
                            "of the %llu-byte data section",
                            file, t[i].name, (unsigned long long)t[i].offset,
                            (unsigned long long)t[i].offset, (unsigned long long)t[i].nbytes,
                            (unsigned long long)data_size);
    }
    if (n < 2) return LM_OK;
    struct gguf_tensor **by = malloc((size_t)n * sizeof *by);
    if (!by) return lm_error(LM_ENOMEM, "%s: no memory to sort %lld tensors", file, (long long)n);
    for (int64_t i = 0; i < n; i++)
        by[i] = &t[i];
    qsort(by, (size_t)n, sizeof *by, cmp_extent);
    lm_status s = LM_OK;
    for (int64_t i = 1; i < n && !s; i++)
        if (by[i]->offset < by[i - 1]->offset + by[i - 1]->nbytes)
            s = lm_error(LM_EFORMAT,
                         "%s: tensors '%s' [%llu, +%llu) and '%s' [%llu, +%llu) overlap", file,
                         by[i - 1]->name, (unsigned long long)by[i - 1]->offset,
                         (unsigned long long)by[i - 1]->nbytes, by[i]->name,
                         (unsigned long long)by[i]->offset, (unsigned long long)by[i]->nbytes);
    free(by);
    return s;
}

/* ---- one part ----------------------------------------------------------------------------- */

struct part_meta { /* what a part says about its place in a split set */
    bool has_no, has_count;
    uint32_t no, count;
};

/* Parse one file image into g: metadata into g->kv when part == 0 (else only the split keys
 * are kept), tensors appended to g->tensors. */
static lm_status parse_part(struct lm_gguf *g, const uint8_t *data, size_t size, const char *file,
                            int32_t part, struct part_meta *pm) {
    struct cur c = {data, size, 0, file, &g->pool};
    uint32_t magic, version;
    uint64_t n_t, n_kv;
    lm_status s;
    if ((s = rd_u32(&c, &magic, "the magic"))) return s;
    if (memcmp(&magic, "GGUF", 4))
        return lm_error(LM_EFORMAT, "%s: bad magic %02x %02x %02x %02x (not a GGUF file)", file,
                        data[0], data[1], data[2], data[3]);
    if ((s = rd_u32(&c, &version, "the version"))) return s;
    if (version != 2 && version != 3)
        return lm_error(LM_EFORMAT, "%s: bad version %u (GGUF 2 and 3 are read%s)", file, version,
                        version == 1           ? "; version 1 is obsolete"
                        : (version >> 24) == 3 ? "; this one is big-endian"
                                               : "");
    if (part == 0) g->version = version;
    if ((s = rd_u64(&c, &n_t, "the tensor count")) || (s = rd_u64(&c, &n_kv, "the kv count")))
        return s;
    /* a kv takes at least 13 bytes (empty key, type, one byte); a tensor info at least 32 */
    if (n_kv > (size - c.pos) / 13)
        return lm_error(LM_EFORMAT, "%s: kv count %llu exceeds what the %zu-byte file can hold",
                        file, (unsigned long long)n_kv, size);
    if (n_t > (size - c.pos) / 32)
        return lm_error(LM_EFORMAT, "%s: tensor count %llu exceeds what the %zu-byte file can hold",
                        file, (unsigned long long)n_t, size);

    struct gguf_kv *kv = n_kv ? calloc((size_t)n_kv, sizeof *kv) : NULL;
    if (n_kv && !kv)
        return lm_error(LM_ENOMEM, "%s: no memory for %llu keys", file, (unsigned long long)n_kv);
    struct lm_strmap idx = {0};
    int64_t got = 0;
    for (; got < (int64_t)n_kv; got++) {
        if ((s = rd_kv(&c, &kv[got], got))) break;
        int r = lm_strmap_put(&idx, kv[got].key, got);
        if (r <= 0) {
            s = r ? lm_error(LM_ENOMEM, "%s: no memory for the key index", file)
                  : lm_error(LM_EFORMAT, "%s: duplicate key '%s' (kv %lld)", file, kv[got].key,
                             (long long)got);
            break;
        }
    }
    uint32_t align = GGUF_DEFAULT_ALIGNMENT;
    bool present;
    if (!s && !(s = kv_u32(file, kv, got, "general.alignment", &align, &present)) &&
        (align == 0 || (align & (align - 1))))
        s = lm_error(LM_EFORMAT, "%s: general.alignment = %u is not a nonzero power of two", file,
                     align);
    if (!s && !(s = kv_u32(file, kv, got, "split.no", &pm->no, &pm->has_no)))
        s = kv_u32(file, kv, got, "split.count", &pm->count, &pm->has_count);
    if (part == 0 && !s) {
        g->kv = kv, g->n_kv = got, g->kv_idx = idx, g->alignment = align;
    } else {
        lm_strmap_free(&idx);
        free(kv);
    }
    if (s) return s;

    /* tensor infos, appended after the earlier parts' */
    int64_t base = g->n_tensors;
    struct gguf_tensor *nt = realloc(g->tensors, (size_t)(base + (int64_t)n_t) * sizeof *nt + 1);
    if (!nt)
        return lm_error(LM_ENOMEM, "%s: no memory for %llu tensors", file, (unsigned long long)n_t);
    g->tensors = nt;
    for (int64_t i = 0; i < (int64_t)n_t; i++) {
        struct gguf_tensor *t = &g->tensors[base + i];
        memset(t, 0, sizeof *t);
        if ((s = rd_tensor(&c, t, i))) return s;
        t->part = part;
        g->n_tensors = base + i + 1;
        int r = lm_strmap_put(&g->tensor_idx, t->name, base + i);
        if (r <= 0)
            return r ? lm_error(LM_ENOMEM, "%s: no memory for the tensor index", file)
                     : lm_error(LM_EFORMAT, "%s: duplicate tensor name '%s'", file, t->name);
    }
    uint64_t data_at = ((uint64_t)c.pos + align - 1) & ~(uint64_t)(align - 1);
    uint64_t data_size = data_at <= size ? size - data_at : 0;
    g->data_offset[part] = data_at;
    if ((s = check_extents(file, g->tensors + base, (int64_t)n_t, align, data_size))) return s;
    for (int64_t i = 0; i < (int64_t)n_t; i++)
        g->tensors[base + i].data = data + data_at + g->tensors[base + i].offset;
    return LM_OK;
}

static struct lm_gguf *gguf_new(int32_t n_parts, const char *label) {
    struct lm_gguf *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->n_parts = n_parts;
    g->data_offset = calloc((size_t)n_parts, sizeof *g->data_offset);
    g->path = g->data_offset ? pool_strdup(&g->pool, label, strlen(label)) : NULL;
    if (!g->path) {
        lm_gguf_close(g);
        return NULL;
    }
    return g;
}

lm_status lm_gguf_open_memory(const void *data, size_t size, const char *label,
                              struct lm_gguf **out) {
    *out = NULL;
    if (!label) label = "<memory>";
    if (!data && size) return lm_error(LM_EINVAL, "%s: NULL data", label);
    struct lm_gguf *g = gguf_new(1, label);
    if (!g) return lm_error(LM_ENOMEM, "%s: no memory", label);
    struct part_meta pm = {0};
    lm_status s = parse_part(g, data ? data : (const uint8_t *)"", size, g->path, 0, &pm);
    if (!s && pm.has_count && pm.count > 1)
        s = lm_error(LM_EFORMAT, "%s: is part of a %u-part split set", g->path, pm.count);
    if (s) {
        lm_gguf_close(g);
        return s;
    }
    *out = g;
    return LM_OK;
}

/* ---- split sets and files ----------------------------------------------------------------- */

/* "<prefix>-NNNNN-of-MMMMM.gguf" (at least 5 digits each): prefix length, part number (1-based)
 * and count; false when path is not so named. */
static bool split_name(const char *path, size_t *prefix_len, uint32_t *no, uint32_t *count) {
    size_t n = strlen(path);
    if (n < 5 || strcmp(path + n - 5, ".gguf")) return false;
    size_t e = n - 5, d = e;
    while (d > 0 && path[d - 1] >= '0' && path[d - 1] <= '9')
        d--;
    if (e - d < 5 || e - d > 9 || d < 4 || memcmp(path + d - 4, "-of-", 4)) return false;
    size_t e2 = d - 4, d2 = e2;
    while (d2 > 0 && path[d2 - 1] >= '0' && path[d2 - 1] <= '9')
        d2--;
    if (e2 - d2 < 5 || e2 - d2 > 9 || d2 < 1 || path[d2 - 1] != '-') return false;
    *no = (uint32_t)strtoul(path + d2, NULL, 10);
    *count = (uint32_t)strtoul(path + d, NULL, 10);
    *prefix_len = d2 - 1;
    return *no >= 1 && *no <= *count && *count <= 65535;
}

lm_status lm_gguf_open(const char *path, struct lm_gguf **out) {
    if (!out) return lm_error(LM_EINVAL, "lm_gguf_open: NULL out");
    *out = NULL;
    if (!path) return lm_error(LM_EINVAL, "lm_gguf_open: NULL path");
    size_t plen = 0;
    uint32_t no = 1, count = 1;
    bool is_split = split_name(path, &plen, &no, &count);
    struct lm_gguf *g = gguf_new((int32_t)count, path);
    if (!g) return lm_error(LM_ENOMEM, "%s: no memory", path);
    lm_status s = LM_OK;
    if (!(g->maps = calloc(count, sizeof *g->maps)))
        s = lm_error(LM_ENOMEM, "%s: no memory for %u parts", path, count);
    char *ppath = malloc(plen + 32);
    if (!s && !ppath) s = lm_error(LM_ENOMEM, "%s: no memory", path);
    for (uint32_t i = 0; i < count && !s; i++) {
        const char *fp = path;
        if (is_split) {
            snprintf(ppath, plen + 32, "%.*s-%05u-of-%05u.gguf", (int)plen, path, i + 1, count);
            fp = ppath;
            struct stat st;
            if (stat(fp, &st) != 0 && errno == ENOENT) {
                s = lm_error(LM_ENOTFOUND, "%s: split part %u of %u is missing: %s", path, i + 1,
                             count, fp);
                break;
            }
        }
        if ((s = lm_file_map(fp, &g->maps[i]))) break;
        const char *label = i == 0 ? g->path : pool_strdup(&g->pool, fp, strlen(fp));
        if (!label) {
            s = lm_error(LM_ENOMEM, "%s: no memory", fp);
            break;
        }
        struct part_meta pm = {0};
        if ((s = parse_part(g, g->maps[i].data, g->maps[i].size, label, (int32_t)i, &pm))) break;
        uint32_t says = pm.has_count ? pm.count : 1;
        if (count > 1 && (!pm.has_no || !pm.has_count))
            s = lm_error(LM_EFORMAT,
                         "%s: named as split part %u of %u but lacks split.no / split.count", label,
                         i + 1, count);
        else if (says != count || (pm.has_no && pm.no != i))
            s = lm_error(LM_EFORMAT, "%s: split.no = %u, split.count = %u, but %s part %u of %u",
                         label, pm.has_no ? pm.no : 0, says,
                         is_split ? "its name says" : "an unsplit name means", i + 1, count);
    }
    free(ppath);
    uint32_t total;
    bool present;
    if (!s && !(s = kv_u32(g->path, g->kv, g->n_kv, "split.tensors.count", &total, &present)) &&
        present && total != (uint64_t)g->n_tensors)
        s = lm_error(LM_EFORMAT,
                     "%s: split.tensors.count = %u but the %u part(s) hold %lld tensors", path,
                     total, count, (long long)g->n_tensors);
    if (s) {
        lm_gguf_close(g);
        return s;
    }
    *out = g;
    return LM_OK;
}

void lm_gguf_close(struct lm_gguf *g) {
    if (!g) return;
    if (g->maps)
        for (int32_t i = 0; i < g->n_parts; i++)
            lm_file_unmap(&g->maps[i]);
    free(g->maps);
    free(g->kv);
    free(g->tensors);
    free(g->data_offset);
    lm_strmap_free(&g->kv_idx);
    lm_strmap_free(&g->tensor_idx);
    pool_free(g->pool);
    free(g);
}
