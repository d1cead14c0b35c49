/* rt/gguf_kv.c - queries on an open GGUF (rt/gguf.c parses it): metadata lookup, typed getters
 * with checked integer conversion, array elements, and zero-copy tensor views.
 *
 * Getters convert between integer types only when the value fits the target, and between f32
 * and f64; anything else is LM_EFORMAT naming the key, its type and the type asked for, so a
 * model loader's message says exactly which key of which file is wrong.
 */
#include <math.h>
#include <string.h>

#include "gguf.h"

static const char *const type_names[LM_GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};

const char *lm_gguf_type_name(enum lm_gguf_type t) {
    return (unsigned)t < LM_GGUF_TYPE_COUNT ? type_names[t] : "invalid";
}

uint32_t lm_gguf_version(const struct lm_gguf *g) { return g ? g->version : 0; }
int64_t lm_gguf_n_kv(const struct lm_gguf *g) { return g ? g->n_kv : 0; }
int64_t lm_gguf_n_tensors(const struct lm_gguf *g) { return g ? g->n_tensors : 0; }
uint32_t lm_gguf_alignment(const struct lm_gguf *g) { return g ? g->alignment : 0; }
int32_t lm_gguf_n_parts(const struct lm_gguf *g) { return g ? g->n_parts : 0; }

const char *lm_gguf_kv_key(const struct lm_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].key : NULL;
}

enum lm_gguf_type lm_gguf_kv_type(const struct lm_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].type : LM_GGUF_TYPE_COUNT;
}

int64_t lm_gguf_find_kv(const struct lm_gguf *g, const char *key) {
    if (!g || !key) return -1;
    return lm_strmap_get(&g->kv_idx, key);
}

/* The kv for key, or an error: LM_ENOTFOUND if absent. */
static lm_status lookup(const struct lm_gguf *g, const char *key, const struct gguf_kv **kv) {
    if (!g || !key) return lm_error(LM_EINVAL, "gguf getter: NULL %s", g ? "key" : "gguf");
    int64_t i = lm_strmap_get(&g->kv_idx, key);
    if (i < 0) return lm_error(LM_ENOTFOUND, "%s: key '%s' not found", g->path, key);
    *kv = &g->kv[i];
    return LM_OK;
}

static lm_status wrong_type(const struct lm_gguf *g, const struct gguf_kv *kv, const char *want) {
    return lm_error(LM_EFORMAT, "%s: key '%s' is %s, not %s", g->path, kv->key,
                    lm_gguf_type_name(kv->type), want);
}

/* Integer key into [lo, hi] (lo <= 0 given as a magnitude in neg_lim). */
static lm_status get_int(const struct lm_gguf *g, const char *key, const char *want,
                         uint64_t neg_lim, uint64_t hi, bool *neg, uint64_t *mag) {
    const struct gguf_kv *kv = NULL;
    lm_status s = lookup(g, key, &kv);
    if (s) return s;
    if (!gguf_kv_int(kv, neg, mag)) return wrong_type(g, kv, want);
    if (*neg ? *mag > neg_lim : *mag > hi)
        return lm_error(LM_EFORMAT, "%s: key '%s' = %s%llu (%s) does not fit %s", g->path, key,
                        *neg ? "-" : "", (unsigned long long)*mag, lm_gguf_type_name(kv->type),
                        want);
    return LM_OK;
}

lm_status lm_gguf_get_u32(const struct lm_gguf *g, const char *key, uint32_t *v) {
    bool neg;
    uint64_t m;
    lm_status s = get_int(g, key, "u32", 0, UINT32_MAX, &neg, &m);
    if (!s) *v = (uint32_t)m;
    return s;
}

lm_status lm_gguf_get_i32(const struct lm_gguf *g, const char *key, int32_t *v) {
    bool neg;
    uint64_t m;
    lm_status s = get_int(g, key, "i32", (uint64_t)INT32_MAX + 1, INT32_MAX, &neg, &m);
    if (!s) *v = neg ? (int32_t)(0 - (int64_t)(m - 1) - 1) : (int32_t)m;
    return s;
}

lm_status lm_gguf_get_u64(const struct lm_gguf *g, const char *key, uint64_t *v) {
    bool neg;
    uint64_t m;
    lm_status s = get_int(g, key, "u64", 0, UINT64_MAX, &neg, &m);
    if (!s) *v = m;
    return s;
}

lm_status lm_gguf_get_f32(const struct lm_gguf *g, const char *key, float *v) {
    const struct gguf_kv *kv = NULL;
    lm_status s = lookup(g, key, &kv);
    if (s) return s;
    if (kv->type != LM_GGUF_F32 && kv->type != LM_GGUF_F64) return wrong_type(g, kv, "f32");
    *v = (float)kv->v.f;
    return LM_OK;
}

lm_status lm_gguf_get_bool(const struct lm_gguf *g, const char *key, bool *v) {
    const struct gguf_kv *kv = NULL;
    lm_status s = lookup(g, key, &kv);
    if (s) return s;
    if (kv->type != LM_GGUF_BOOL) return wrong_type(g, kv, "bool");
    *v = kv->v.b;
    return LM_OK;
}

lm_status lm_gguf_get_str(const struct lm_gguf *g, const char *key, const char **v) {
    const struct gguf_kv *kv = NULL;
    lm_status s = lookup(g, key, &kv);
    if (s) return s;
    if (kv->type != LM_GGUF_STR) return wrong_type(g, kv, "str");
    *v = kv->v.str.s;
    return LM_OK;
}

lm_status lm_gguf_get_arr(const struct lm_gguf *g, const char *key, struct lm_gguf_arr *v) {
    const struct gguf_kv *kv = NULL;
    lm_status s = lookup(g, key, &kv);
    if (s) return s;
    if (kv->type != LM_GGUF_ARR) return wrong_type(g, kv, "arr");
    *v = kv->v.arr;
    return LM_OK;
}

/* ---- array elements ----------------------------------------------------------------------- */

static lm_status arr_check(const struct lm_gguf_arr *a, uint64_t i, const char *want) {
    if (!a) return lm_error(LM_EINVAL, "gguf array: NULL");
    if (i >= a->n)
        return lm_error(LM_ERANGE, "gguf array of %s: index %llu out of range (n = %llu)",
                        lm_gguf_type_name(a->type), (unsigned long long)i,
                        (unsigned long long)a->n);
    bool num = a->type != LM_GGUF_STR && a->type != LM_GGUF_ARR;
    bool ok = !strcmp(want, "number") ? num
              : !strcmp(want, "str")  ? a->type == LM_GGUF_STR
                                      : a->type == LM_GGUF_ARR;
    if (!ok || (unsigned)a->type >= LM_GGUF_TYPE_COUNT)
        return lm_error(LM_EFORMAT, "gguf array element %llu is %s, not %s", (unsigned long long)i,
                        lm_gguf_type_name(a->type), want);
    return LM_OK;
}

/* Element i of a numeric array as an exact integer (neg, mag) or, for floats, a double. */
static void arr_elem(const struct lm_gguf_arr *a, uint64_t i, bool *is_float, double *f, bool *neg,
                     uint64_t *mag) {
    const uint8_t *p = a->impl;
    *is_float = false, *neg = false, *mag = 0;
    int64_t sv = 0;
    switch (a->type) {
    case LM_GGUF_U8:
    case LM_GGUF_BOOL: *mag = p[i]; return;
    case LM_GGUF_I8: sv = (int8_t)p[i]; break;
    case LM_GGUF_U16: {
        uint16_t x;
        memcpy(&x, p + 2 * i, 2);
        *mag = x;
    }
        return;
    case LM_GGUF_I16: {
        int16_t x;
        memcpy(&x, p + 2 * i, 2);
        sv = x;
    } break;
    case LM_GGUF_U32: {
        uint32_t x;
        memcpy(&x, p + 4 * i, 4);
        *mag = x;
    }
        return;
    case LM_GGUF_I32: {
        int32_t x;
        memcpy(&x, p + 4 * i, 4);
        sv = x;
    } break;
    case LM_GGUF_U64: memcpy(mag, p + 8 * i, 8); return;
    case LM_GGUF_I64: memcpy(&sv, p + 8 * i, 8); break;
    case LM_GGUF_F32: {
        float x;
        memcpy(&x, p + 4 * i, 4);
        *f = x;
        *is_float = true;
    }
        return;
    case LM_GGUF_F64:
        memcpy(f, p + 8 * i, 8);
        *is_float = true;
        return;
    default: return;
    }
    *neg = sv < 0;
    *mag = *neg ? 0 - (uint64_t)sv : (uint64_t)sv;
}

lm_status lm_gguf_arr_int(const struct lm_gguf_arr *a, uint64_t i, int64_t *v) {
    lm_status s = arr_check(a, i, "number");
    if (s) return s;
    bool isf, neg;
    double f = 0;
    uint64_t m;
    arr_elem(a, i, &isf, &f, &neg, &m);
    if (isf) { /* floats convert when they hold an integer in range */
        if (!(f >= -0x1p63 && f < 0x1p63) || f != floor(f))
            return lm_error(LM_EFORMAT, "gguf array element %llu = %g (%s) is not an int64",
                            (unsigned long long)i, f, lm_gguf_type_name(a->type));
        *v = (int64_t)f;
        return LM_OK;
    }
    if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
        return lm_error(LM_EFORMAT, "gguf array element %llu = %llu (%s) does not fit int64",
                        (unsigned long long)i, (unsigned long long)m, lm_gguf_type_name(a->type));
    *v = neg ? (int64_t)(0 - (m - 1)) - 1 : (int64_t)m;
    return LM_OK;
}

lm_status lm_gguf_arr_num(const struct lm_gguf_arr *a, uint64_t i, double *v) {
    lm_status s = arr_check(a, i, "number");
    if (s) return s;
    bool isf, neg;
    double f = 0;
    uint64_t m;
    arr_elem(a, i, &isf, &f, &neg, &m);
    *v = isf ? f : neg ? -(double)m : (double)m;
    return LM_OK;
}

lm_status lm_gguf_arr_str(const struct lm_gguf_arr *a, uint64_t i, const char **s, size_t *len) {
    lm_status st = arr_check(a, i, "str");
    if (st) return st;
    const struct gguf_str *e = (const struct gguf_str *)a->impl + i;
    *s = e->s;
    if (len) *len = e->len;
    return LM_OK;
}

lm_status lm_gguf_arr_sub(const struct lm_gguf_arr *a, uint64_t i, struct lm_gguf_arr *sub) {
    lm_status s = arr_check(a, i, "arr");
    if (s) return s;
    *sub = ((const struct lm_gguf_arr *)a->impl)[i];
    return LM_OK;
}

/* ---- tensors ------------------------------------------------------------------------------ */

lm_status lm_gguf_tensor_info(const struct lm_gguf *g, int64_t i, struct lm_gguf_tensor_info *out) {
    if (!g || !out) return lm_error(LM_EINVAL, "lm_gguf_tensor_info: NULL argument");
    if (i < 0 || i >= g->n_tensors)
        return lm_error(LM_ERANGE, "%s: tensor index %lld out of range (%lld tensors)", g->path,
                        (long long)i, (long long)g->n_tensors);
    const struct gguf_tensor *t = &g->tensors[i];
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->ggml_type = t->ggml_type;
    out->type_name = gguf_type_info(t->ggml_type)->name;
    out->ndim = t->ndim;
    memcpy(out->ne, t->ne, sizeof out->ne);
    out->offset = t->offset;
    out->file_offset = g->data_offset[t->part] + t->offset;
    out->nbytes = t->nbytes;
    out->part = t->part;
    out->data = t->data;
    return LM_OK;
}

static lm_status view(const struct lm_gguf *g, int64_t i, struct lm_tensor *out) {
    const struct gguf_tensor *t = &g->tensors[i];
    enum lm_dtype dt = LM_DTYPE_COUNT;
    for (int d = 0; d < LM_DTYPE_COUNT; d++)
        if (lm_dtype_info((enum lm_dtype)d)->gguf_type == t->ggml_type) dt = (enum lm_dtype)d;
    if (dt == LM_DTYPE_COUNT)
        return lm_error(LM_EUNSUPPORTED,
                        "%s: tensor '%s' has type %s (GGML id %d), which lmrt "
                        "does not compute with",
                        g->path, t->name, gguf_type_info(t->ggml_type)->name, (int)t->ggml_type);
    /* plain types are loaded as their element type by kernels; a file whose alignment leaves
     * them misaligned (general.alignment 1 or 2) gets no view rather than undefined loads */
    const struct lm_dtype_info *di = lm_dtype_info(dt);
    if (!di->quantized && (uintptr_t)t->data % di->size)
        return lm_error(LM_EUNSUPPORTED,
                        "%s: tensor '%s' data at file offset %llu is not aligned "
                        "to its %u-byte elements",
                        g->path, t->name, (unsigned long long)(g->data_offset[t->part] + t->offset),
                        di->size);
    /* the shape was validated at open; the view is read-only by convention (PROT_READ) */
    lm_status s = lm_tensor_init(out, dt, t->ndim, t->ne, (void *)(uintptr_t)t->data);
    if (s) return s;
    out->name = t->name;
    return LM_OK;
}

lm_status lm_gguf_tensor(const struct lm_gguf *g, int64_t i, struct lm_tensor *t) {
    if (!g || !t) return lm_error(LM_EINVAL, "lm_gguf_tensor: NULL argument");
    if (i < 0 || i >= g->n_tensors)
        return lm_error(LM_ERANGE, "%s: tensor index %lld out of range (%lld tensors)", g->path,
                        (long long)i, (long long)g->n_tensors);
    return view(g, i, t);
}

lm_status lm_gguf_find_tensor(const struct lm_gguf *g, const char *name, struct lm_tensor *t) {
    if (!g || !name || !t) return lm_error(LM_EINVAL, "lm_gguf_find_tensor: NULL argument");
    int64_t i = lm_strmap_get(&g->tensor_idx, name);
    if (i < 0) return lm_error(LM_ENOTFOUND, "%s: tensor '%s' not found", g->path, name);
    return view(g, i, t);
}
