/* rt/gguf_write.c - GGUF v3 writer (declared in rt/gguf.h).
 *
 * Contract: metadata and tensor declarations are collected first (each value serialised at
 * once, so the caller's buffers need not outlive the call); lm_gguf_writer_begin_data writes
 * the header, the metadata, the tensor infos and the padding; then the tensors' bytes are
 * streamed in declaration order through lm_gguf_writer_write, in chunks of any size, so no
 * whole-model buffer is ever needed. Each tensor starts at a multiple of the alignment
 * (general.alignment when the caller sets it as a u32 power of two, else 32) and is padded to
 * one with zeros, as llama.cpp's writers do. Setting a key twice replaces its value in place.
 *
 * Errors are sticky: after a failed write every later call returns the same status, and
 * lm_gguf_writer_finish removes the partial file (only when it is a regular file: a device
 * node given as the output is never unlinked). Every I/O error names the path.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF writer stores host-order values: big-endian hosts are not supported"
#endif

#define GGML_MAX_NAME 64 /* llama.cpp rejects tensor names of this many bytes or more */

struct wbuf {
    uint8_t *p;
    size_t n, cap;
};

struct wkv {
    char *key;
    struct wbuf val; /* u32 type + value, as stored in the file */
};

struct wtensor {
    char *name;
    int32_t type;
    int32_t ndim;
    int64_t ne[LM_MAX_DIMS];
    uint64_t nbytes, offset;
};

struct lm_gguf_writer {
    char *path;
    FILE *f;
    bool regular; /* the output is a regular file (removed on failure) */
    lm_status err;
    struct wkv *kv;
    int64_t n_kv, cap_kv;
    struct wtensor *t;
    int64_t n_t, cap_t;
    struct lm_strmap t_idx;
    bool in_data;
    uint32_t align;
    int64_t cur;      /* tensor being streamed */
    uint64_t written; /* bytes of it so far */
};

/* ---- growable buffers --------------------------------------------------------------------- */

static bool wb_put(struct wbuf *b, const void *x, size_t n) {
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->n < n) {
            if (cap > SIZE_MAX / 2) return false;
            cap *= 2;
        }
        uint8_t *p = realloc(b->p, cap);
        if (!p) return false;
        b->p = p, b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, x, n);
    b->n += n;
    return true;
}

static bool wb_u32(struct wbuf *b, uint32_t v) { return wb_put(b, &v, 4); }
static bool wb_u64(struct wbuf *b, uint64_t v) { return wb_put(b, &v, 8); }
static bool wb_str(struct wbuf *b, const char *s, size_t n) {
    return wb_u64(b, n) && wb_put(b, s, n);
}

static size_t scalar_size(enum lm_gguf_type t) {
    static const uint8_t sz[LM_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < LM_GGUF_TYPE_COUNT ? sz[t] : 0;
}

static bool grow(void **p, int64_t *cap, int64_t need, size_t each) {
    if (need <= *cap) return true;
    int64_t c = *cap ? *cap * 2 : 16;
    if (c < need) c = need;
    void *np = realloc(*p, (size_t)c * each);
    if (!np) return false;
    *p = np, *cap = c;
    return true;
}

/* ---- open / metadata ---------------------------------------------------------------------- */

lm_status lm_gguf_writer_open(const char *path, struct lm_gguf_writer **out) {
    if (!path || !out) return lm_error(LM_EINVAL, "lm_gguf_writer_open: NULL argument");
    *out = NULL;
    struct lm_gguf_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return lm_error(LM_ENOMEM, "%s: no memory for the GGUF writer", path);
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        lm_status s = lm_error(LM_EIO, "%s: cannot create: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return s;
    }
    struct stat sb;
    w->regular = fstat(fileno(w->f), &sb) == 0 && S_ISREG(sb.st_mode);
    setvbuf(w->f, NULL, _IOFBF, (size_t)1 << 20);
    w->align = GGUF_DEFAULT_ALIGNMENT;
    *out = w;
    return LM_OK;
}

static lm_status check_key(struct lm_gguf_writer *w, const char *key) {
    if (!w || !key) return lm_error(LM_EINVAL, "gguf writer: NULL argument");
    if (w->err) return w->err;
    if (w->in_data)
        return lm_error(LM_EINVAL, "%s: '%s' added after the tensor data began", w->path, key);
    if (!*key) return lm_error(LM_EINVAL, "%s: empty key or tensor name", w->path);
    return LM_OK;
}

/* Store the serialised value v (type + body) under key, replacing an earlier value. */
static lm_status put_kv(struct lm_gguf_writer *w, const char *key, struct wbuf *v) {
    for (int64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].val.p);
            w->kv[i].val = *v;
            return LM_OK;
        }
    char *k = strdup(key);
    if (!k || !grow((void **)&w->kv, &w->cap_kv, w->n_kv + 1, sizeof *w->kv)) {
        free(k);
        free(v->p);
        return lm_error(LM_ENOMEM, "%s: no memory for key '%s'", w->path, key);
    }
    w->kv[w->n_kv++] = (struct wkv){k, *v};
    return LM_OK;
}

static lm_status nomem(struct lm_gguf_writer *w, const char *key, struct wbuf *v) {
    free(v->p);
    return lm_error(LM_ENOMEM, "%s: no memory for the value of '%s'", w->path, key);
}

lm_status lm_gguf_writer_set_scalar(struct lm_gguf_writer *w, const char *key,
                                    enum lm_gguf_type type, const void *val) {
    lm_status s = check_key(w, key);
    if (s) return s;
    size_t n = scalar_size(type);
    if (!n || !val)
        return lm_error(LM_EINVAL, "%s: key '%s': %s is not a scalar type", w->path, key,
                        lm_gguf_type_name(type));
    if (type == LM_GGUF_BOOL && *(const uint8_t *)val > 1)
        return lm_error(LM_EINVAL, "%s: key '%s': bool byte %u", w->path, key,
                        *(const uint8_t *)val);
    struct wbuf v = {0};
    if (!wb_u32(&v, type) || !wb_put(&v, val, n)) return nomem(w, key, &v);
    return put_kv(w, key, &v);
}

lm_status lm_gguf_writer_set_u32(struct lm_gguf_writer *w, const char *key, uint32_t v) {
    return lm_gguf_writer_set_scalar(w, key, LM_GGUF_U32, &v);
}
lm_status lm_gguf_writer_set_i32(struct lm_gguf_writer *w, const char *key, int32_t v) {
    return lm_gguf_writer_set_scalar(w, key, LM_GGUF_I32, &v);
}
lm_status lm_gguf_writer_set_f32(struct lm_gguf_writer *w, const char *key, float v) {
    return lm_gguf_writer_set_scalar(w, key, LM_GGUF_F32, &v);
}
lm_status lm_gguf_writer_set_bool(struct lm_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v;
    return lm_gguf_writer_set_scalar(w, key, LM_GGUF_BOOL, &b);
}

lm_status lm_gguf_writer_set_str(struct lm_gguf_writer *w, const char *key, const char *str,
                                 size_t len) {
    lm_status s = check_key(w, key);
    if (s) return s;
    if (!str) return lm_error(LM_EINVAL, "%s: key '%s': NULL string", w->path, key);
    struct wbuf v = {0};
    if (!wb_u32(&v, LM_GGUF_STR) || !wb_str(&v, str, len)) return nomem(w, key, &v);
    return put_kv(w, key, &v);
}

lm_status lm_gguf_writer_set_arr(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type,
                                 const void *data, uint64_t n) {
    lm_status s = check_key(w, key);
    if (s) return s;
    size_t es = scalar_size(type);
    if (!es || (n && !data))
        return lm_error(LM_EINVAL, "%s: key '%s': array of %s (numbers only here)", w->path, key,
                        lm_gguf_type_name(type));
    if (n > SIZE_MAX / es)
        return lm_error(LM_ERANGE, "%s: key '%s': array of %llu elements is too large", w->path,
                        key, (unsigned long long)n);
    if (type == LM_GGUF_BOOL)
        for (uint64_t i = 0; i < n; i++)
            if (((const uint8_t *)data)[i] > 1)
                return lm_error(LM_EINVAL, "%s: key '%s': bool element %llu is not 0 or 1", w->path,
                                key, (unsigned long long)i);
    struct wbuf v = {0};
    if (!wb_u32(&v, LM_GGUF_ARR) || !wb_u32(&v, type) || !wb_u64(&v, n) ||
        !wb_put(&v, data, (size_t)n * es))
        return nomem(w, key, &v);
    return put_kv(w, key, &v);
}

lm_status lm_gguf_writer_set_arr_str(struct lm_gguf_writer *w, const char *key,
                                     const char *const *strs, const size_t *lens, uint64_t n) {
    lm_status s = check_key(w, key);
    if (s) return s;
    if (n && !strs) return lm_error(LM_EINVAL, "%s: key '%s': NULL strings", w->path, key);
    struct wbuf v = {0};
    bool ok = wb_u32(&v, LM_GGUF_ARR) && wb_u32(&v, LM_GGUF_STR) && wb_u64(&v, n);
    for (uint64_t i = 0; ok && i < n; i++) {
        if (!strs[i]) {
            free(v.p);
            return lm_error(LM_EINVAL, "%s: key '%s': string %llu is NULL", w->path, key,
                            (unsigned long long)i);
        }
        ok = wb_str(&v, strs[i], lens ? lens[i] : strlen(strs[i]));
    }
    if (!ok) return nomem(w, key, &v);
    return put_kv(w, key, &v);
}

/* The body of array a (element type, count, elements) as the reader holds it. */
static bool ser_arr(struct wbuf *v, const struct lm_gguf_arr *a, int depth) {
    if (depth > GGUF_MAX_NESTING || !wb_u32(v, a->type) || !wb_u64(v, a->n)) return false;
    size_t es = scalar_size(a->type);
    if (es) return a->n <= SIZE_MAX / es && wb_put(v, a->impl, (size_t)a->n * es);
    for (uint64_t i = 0; i < a->n; i++) {
        if (a->type == LM_GGUF_STR) {
            const struct gguf_str *e = (const struct gguf_str *)a->impl + i;
            if (!wb_str(v, e->s, e->len)) return false;
        } else if (!ser_arr(v, (const struct lm_gguf_arr *)a->impl + i, depth + 1)) {
            return false;
        }
    }
    return true;
}

lm_status lm_gguf_writer_copy_kv(struct lm_gguf_writer *w, const struct lm_gguf *g, int64_t i) {
    if (!g || i < 0 || i >= lm_gguf_n_kv(g))
        return lm_error(LM_EINVAL, "gguf writer: copy of key %lld: no such key", (long long)i);
    const struct gguf_kv *kv = &g->kv[i];
    lm_status s = check_key(w, kv->key);
    if (s) return s;
    struct wbuf v = {0};
    bool ok = wb_u32(&v, kv->type);
    switch (kv->type) {
    case LM_GGUF_U8:
    case LM_GGUF_U16:
    case LM_GGUF_U32:
    case LM_GGUF_U64: ok = ok && wb_put(&v, &kv->v.u, scalar_size(kv->type)); break;
    case LM_GGUF_I8:
    case LM_GGUF_I16:
    case LM_GGUF_I32:
    case LM_GGUF_I64: ok = ok && wb_put(&v, &kv->v.i, scalar_size(kv->type)); break;
    case LM_GGUF_F32: {
        float f = (float)kv->v.f; /* exact: the reader widened an f32 */
        ok = ok && wb_put(&v, &f, 4);
    } break;
    case LM_GGUF_F64: ok = ok && wb_put(&v, &kv->v.f, 8); break;
    case LM_GGUF_BOOL: {
        uint8_t b = kv->v.b;
        ok = ok && wb_put(&v, &b, 1);
    } break;
    case LM_GGUF_STR: ok = ok && wb_str(&v, kv->v.str.s, kv->v.str.len); break;
    case LM_GGUF_ARR: ok = ok && ser_arr(&v, &kv->v.arr, 0); break;
    default: ok = false;
    }
    if (!ok) return nomem(w, kv->key, &v);
    return put_kv(w, kv->key, &v);
}

lm_status lm_gguf_writer_remove(struct lm_gguf_writer *w, const char *key) {
    lm_status s = check_key(w, key);
    if (s) return s;
    for (int64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].key);
            free(w->kv[i].val.p);
            memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - i - 1) * sizeof *w->kv);
            w->n_kv--;
            return LM_OK;
        }
    return LM_OK;
}

/* ---- tensors ------------------------------------------------------------------------------ */

lm_status lm_gguf_writer_add_tensor(struct lm_gguf_writer *w, const char *name, int32_t ggml_type,
                                    int ndim, const int64_t *ne) {
    lm_status s = check_key(w, name); /* same preconditions as a key */
    if (s) return s;
    size_t len = strlen(name);
    if (len >= GGML_MAX_NAME)
        return lm_error(LM_EINVAL, "%s: tensor name '%s' is %zu bytes (llama.cpp takes < %d)",
                        w->path, name, len, GGML_MAX_NAME);
    const struct gguf_type_info *ti = gguf_type_info(ggml_type);
    if (!ti)
        return lm_error(LM_EINVAL, "%s: tensor '%s': unknown GGML type %d", w->path, name,
                        (int)ggml_type);
    if (ndim < 1 || ndim > LM_MAX_DIMS || !ne)
        return lm_error(LM_EINVAL, "%s: tensor '%s': %d dims (1..%d)", w->path, name, ndim,
                        LM_MAX_DIMS);
    struct wtensor t = {.type = ggml_type, .ndim = ndim, .ne = {1, 1, 1, 1}};
    uint64_t elems = 1;
    for (int d = 0; d < ndim; d++) {
        if (ne[d] < 1 || (uint64_t)ne[d] > ((uint64_t)1 << 62) / elems)
            return lm_error(LM_EINVAL, "%s: tensor '%s': dim %d = %lld is out of range", w->path,
                            name, d, (long long)ne[d]);
        t.ne[d] = ne[d];
        elems *= (uint64_t)ne[d];
    }
    if (t.ne[0] % ti->blck)
        return lm_error(LM_EINVAL,
                        "%s: tensor '%s': rows of %lld are not a whole number of %s blocks of %d",
                        w->path, name, (long long)t.ne[0], ti->name, (int)ti->blck);
    t.nbytes = elems / (uint64_t)ti->blck * ti->size;
    if (lm_strmap_get(&w->t_idx, name) >= 0)
        return lm_error(LM_EINVAL, "%s: tensor '%s' added twice", w->path, name);
    if (!(t.name = strdup(name)) || !grow((void **)&w->t, &w->cap_t, w->n_t + 1, sizeof *w->t)) {
        free(t.name);
        return lm_error(LM_ENOMEM, "%s: no memory for tensor '%s'", w->path, name);
    }
    w->t[w->n_t] = t;
    if (lm_strmap_put(&w->t_idx, w->t[w->n_t].name, w->n_t) < 0) {
        free(t.name);
        return lm_error(LM_ENOMEM, "%s: no memory for tensor '%s'", w->path, name);
    }
    w->n_t++;
    return LM_OK;
}

/* ---- data --------------------------------------------------------------------------------- */

static lm_status fail_io(struct lm_gguf_writer *w, const char *what) {
    w->err = lm_error(LM_EIO, "%s: %s failed: %s", w->path, what,
                      errno ? strerror(errno) : "unknown error");
    return w->err;
}

static lm_status out(struct lm_gguf_writer *w, const void *p, size_t n) {
    errno = 0;
    if (n && fwrite(p, 1, n, w->f) != n) return fail_io(w, "write");
    return LM_OK;
}

static lm_status out_zeros(struct lm_gguf_writer *w, size_t n) {
    static const uint8_t zeros[64];
    lm_status s = LM_OK;
    while (n && !s) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        s = out(w, zeros, k);
        n -= k;
    }
    return s;
}

static uint64_t pad_len(uint64_t at, uint32_t align) { return (align - at % align) % align; }

/* Pad the current tensor and move to the next one that has bytes to receive. */
static lm_status next_tensor(struct lm_gguf_writer *w) {
    lm_status s = LM_OK;
    while (w->cur < w->n_t && w->written == w->t[w->cur].nbytes) {
        if ((s = out_zeros(w, pad_len(w->t[w->cur].nbytes, w->align)))) return s;
        w->cur++, w->written = 0;
    }
    return s;
}

lm_status lm_gguf_writer_begin_data(struct lm_gguf_writer *w) {
    if (!w) return lm_error(LM_EINVAL, "gguf writer: NULL");
    if (w->err) return w->err;
    if (w->in_data) return lm_error(LM_EINVAL, "%s: tensor data already began", w->path);
    for (int64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, "general.alignment")) {
            uint32_t type, a = 0;
            memcpy(&type, w->kv[i].val.p, 4);
            if (type == LM_GGUF_U32) memcpy(&a, w->kv[i].val.p + 4, 4);
            if (type != LM_GGUF_U32 || a == 0 || (a & (a - 1)))
                return lm_error(LM_EINVAL,
                                "%s: general.alignment must be a u32 power of two (GGUF spec)",
                                w->path);
            w->align = a;
        }
    uint64_t off = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        off += w->t[i].nbytes + pad_len(w->t[i].nbytes, w->align);
    }
    struct wbuf h = {0};
    bool ok = wb_put(&h, "GGUF", 4) && wb_u32(&h, 3) && wb_u64(&h, (uint64_t)w->n_t) &&
              wb_u64(&h, (uint64_t)w->n_kv);
    for (int64_t i = 0; ok && i < w->n_kv; i++)
        ok = wb_str(&h, w->kv[i].key, strlen(w->kv[i].key)) &&
             wb_put(&h, w->kv[i].val.p, w->kv[i].val.n);
    for (int64_t i = 0; ok && i < w->n_t; i++) {
        const struct wtensor *t = &w->t[i];
        ok = wb_str(&h, t->name, strlen(t->name)) && wb_u32(&h, (uint32_t)t->ndim);
        for (int d = 0; ok && d < t->ndim; d++)
            ok = wb_u64(&h, (uint64_t)t->ne[d]);
        ok = ok && wb_u32(&h, (uint32_t)t->type) && wb_u64(&h, t->offset);
    }
    if (!ok) {
        free(h.p);
        return w->err = lm_error(LM_ENOMEM, "%s: no memory for the GGUF header", w->path);
    }
    w->in_data = true;
    lm_status s = out(w, h.p, h.n);
    if (!s) s = out_zeros(w, pad_len(h.n, w->align));
    free(h.p);
    if (!s) s = next_tensor(w); /* skips nothing unless a tensor is empty (impossible) */
    return s;
}

lm_status lm_gguf_writer_write(struct lm_gguf_writer *w, const void *data, size_t n) {
    if (!w || (n && !data)) return lm_error(LM_EINVAL, "gguf writer: NULL argument");
    if (w->err) return w->err;
    if (!w->in_data)
        return lm_error(LM_EINVAL, "%s: tensor data written before begin_data", w->path);
    const uint8_t *p = data;
    while (n) {
        if (w->cur >= w->n_t)
            return w->err = lm_error(LM_EINVAL, "%s: %zu bytes written past the last tensor",
                                     w->path, n);
        const struct wtensor *t = &w->t[w->cur];
        uint64_t room = t->nbytes - w->written;
        size_t k = n < room ? n : (size_t)room;
        lm_status s = out(w, p, k);
        if (s) return s;
        p += k, n -= k, w->written += k;
        if ((s = next_tensor(w))) return s;
    }
    return LM_OK;
}

const char *lm_gguf_writer_current(const struct lm_gguf_writer *w) {
    return w && w->in_data && w->cur < w->n_t ? w->t[w->cur].name : NULL;
}

static void destroy(struct lm_gguf_writer *w) {
    for (int64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].val.p);
    }
    for (int64_t i = 0; i < w->n_t; i++)
        free(w->t[i].name);
    free(w->kv);
    free(w->t);
    lm_strmap_free(&w->t_idx);
    free(w->path);
    free(w);
}

lm_status lm_gguf_writer_finish(struct lm_gguf_writer *w) {
    if (!w) return lm_error(LM_EINVAL, "gguf writer: NULL");
    lm_status s = w->err;
    if (!s && !w->in_data) s = lm_gguf_writer_begin_data(w); /* metadata-only files */
    if (!s && w->cur < w->n_t)
        s = lm_error(LM_EINVAL, "%s: tensor '%s' got %llu of its %llu bytes", w->path,
                     w->t[w->cur].name, (unsigned long long)w->written,
                     (unsigned long long)w->t[w->cur].nbytes);
    errno = 0;
    if (!s && fflush(w->f) != 0) s = fail_io(w, "write");
    int rc = fclose(w->f);
    if (!s && rc != 0) s = fail_io(w, "close");
    if (s && w->regular) unlink(w->path);
    destroy(w);
    return s;
}

void lm_gguf_writer_free(struct lm_gguf_writer *w) {
    if (!w) return;
    fclose(w->f);
    if (w->regular) unlink(w->path);
    destroy(w);
}
