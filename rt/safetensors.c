/* rt/safetensors.c - Hugging Face safetensors reader over mmap, single file or sharded.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON (an object: tensor name ->
 * {dtype, shape, data_offsets}, and an optional __metadata__ object of strings), then the data
 * area that data_offsets index. N is bounded by the file and by LM_ST_MAX_HEADER before the JSON
 * is parsed (cJSON). Every tensor is checked at open: dtype known, dims non-negative integers,
 * end - begin == elements * dtype size without overflow, extents inside the data area, no two
 * non-empty tensors overlapping. F32/F16/BF16 tensors become zero-copy views with the shape
 * reversed into ggml order (HF [out, in] -> ne = {in, out}); others are listed only.
 *
 * Sharded models: model.safetensors.index.json names a shard per tensor ("weight_map"); each
 * shard is opened once, and a tensor the index lists but its shard lacks is an error naming
 * both. A directory path picks model.safetensors, else model.safetensors.index.json, inside it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "safetensors.h"
#include "strmap.h"

struct st_dtype {
    const char *name;
    uint32_t size;
    int lm; /* enum lm_dtype, or -1 when listed only */
};

static const struct st_dtype dtypes[] = {
    {"F64", 8, -1},  {"F32", 4, LM_F32}, {"F16", 2, LM_F16}, {"BF16", 2, LM_BF16},
    {"I64", 8, -1},  {"I32", 4, -1},     {"I16", 2, -1},     {"I8", 1, -1},
    {"U64", 8, -1},  {"U32", 4, -1},     {"U16", 2, -1},     {"U8", 1, -1},
    {"BOOL", 1, -1}, {"F8_E4M3", 1, -1}, {"F8_E5M2", 1, -1}, {"F8_E8M0", 1, -1},
    {"C64", 8, -1},
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

struct st_tensor {
    const char *name;
    int32_t dtype; /* index into dtypes */
    int32_t rank;
    int64_t shape[LM_ST_MAX_RANK];
    uint64_t begin, end;
    int32_t shard;
};

struct st_shard {
    struct lm_mapped_file map; /* empty when opened from memory */
    const uint8_t *data;       /* start of the data area */
    uint64_t data_size, data_at;
    char *names; /* one pool for this shard's tensor names and metadata strings */
};

struct lm_st {
    const char *label;
    struct st_shard *shards;
    int32_t n_shards;
    struct st_tensor *t;
    int64_t n, cap;
    struct lm_strmap idx;
    const char **meta; /* key, value pairs */
    int64_t n_meta;
    char *label_buf;
};

/* ---- one file ----------------------------------------------------------------------------- */

/* A JSON number that is an integer in [0, 2^53] (exact in a double). */
static bool json_uint(const cJSON *j, uint64_t *v) {
    if (!cJSON_IsNumber(j)) return false;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d)) return false;
    *v = (uint64_t)d;
    return true;
}

static char *pool_put(char **at, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = memcpy(*at, s, n);
    *at += n;
    return p;
}

static lm_status parse_tensor(struct lm_st *st, const char *file, const cJSON *e,
                              struct st_tensor *t, uint64_t data_size) {
    const char *name = e->string;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return lm_error(LM_EFORMAT,
                        "%s: tensor '%s' is not an object with dtype (string), shape "
                        "and data_offsets (arrays)",
                        file, name);
    t->dtype = -1;
    for (int k = 0; k < N_DTYPES; k++)
        if (!strcmp(dt->valuestring, dtypes[k].name)) t->dtype = k;
    if (t->dtype < 0)
        return lm_error(LM_EFORMAT, "%s: tensor '%s' has unknown dtype '%.32s'", file, name,
                        dt->valuestring);
    int rank = cJSON_GetArraySize(shape);
    if (rank > LM_ST_MAX_RANK)
        return lm_error(LM_EFORMAT, "%s: tensor '%s' has rank %d (at most %d read)", file, name,
                        rank, LM_ST_MAX_RANK);
    t->rank = rank;
    uint64_t nel = 1;
    int d = 0;
    for (const cJSON *x = shape->child; x; x = x->next, d++) {
        uint64_t v;
        if (!json_uint(x, &v))
            return lm_error(LM_EFORMAT, "%s: tensor '%s' shape[%d] is not a non-negative integer",
                            file, name, d);
        t->shape[d] = (int64_t)v;
        if (__builtin_mul_overflow(nel, v, &nel) || nel > ((uint64_t)1 << 62))
            return lm_error(LM_EFORMAT, "%s: tensor '%s' shape overflows at dim %d", file, name, d);
    }
    uint64_t b, en;
    if (cJSON_GetArraySize(offs) != 2 || !json_uint(offs->child, &b) ||
        !json_uint(offs->child->next, &en))
        return lm_error(LM_EFORMAT, "%s: tensor '%s' data_offsets is not two non-negative integers",
                        file, name);
    if (b > en)
        return lm_error(LM_EFORMAT, "%s: tensor '%s' data_offsets [%llu, %llu) run backwards", file,
                        name, (unsigned long long)b, (unsigned long long)en);
    if (en > data_size)
        return lm_error(LM_EFORMAT,
                        "%s: tensor '%s' data_offsets [%llu, %llu) lie past the end of "
                        "the %llu-byte data area",
                        file, name, (unsigned long long)b, (unsigned long long)en,
                        (unsigned long long)data_size);
    uint64_t want = nel * dtypes[t->dtype].size; /* nel <= 2^62 / 8 fits after the check below */
    if (nel > UINT64_MAX / 8 || en - b != want)
        return lm_error(LM_EFORMAT,
                        "%s: tensor '%s' spans %llu bytes but its shape and dtype %s "
                        "need %llu",
                        file, name, (unsigned long long)(en - b), dtypes[t->dtype].name,
                        (unsigned long long)want);
    t->begin = b, t->end = en;
    (void)st;
    return LM_OK;
}

static int cmp_begin(const void *a, const void *b) {
    const struct st_tensor *x = *(const struct st_tensor *const *)a,
                           *y = *(const struct st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static lm_status check_overlap(const char *file, struct st_tensor *t, int64_t n) {
    if (n < 2) return LM_OK;
    struct st_tensor **by = malloc((size_t)n * sizeof *by);
    if (!by) return lm_error(LM_ENOMEM, "%s: no memory to sort %lld tensors", file, (long long)n);
    for (int64_t i = 0; i < n; i++)
        by[i] = &t[i];
    qsort(by, (size_t)n, sizeof *by, cmp_begin);
    lm_status s = LM_OK;
    const struct st_tensor *last = NULL; /* the non-empty tensor reaching furthest so far */
    for (int64_t i = 0; i < n && !s; i++) {
        if (by[i]->begin == by[i]->end) continue;
        if (last && by[i]->begin < last->end)
            s = lm_error(LM_EFORMAT, "%s: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap",
                         file, last->name, (unsigned long long)last->begin,
                         (unsigned long long)last->end, by[i]->name,
                         (unsigned long long)by[i]->begin, (unsigned long long)by[i]->end);
        if (!last || by[i]->end > last->end) last = by[i];
    }
    free(by);
    return s;
}

static lm_status grow_tensors(struct lm_st *st, int64_t more) {
    if (st->n + more <= st->cap) return LM_OK;
    int64_t cap = st->cap * 2 > st->n + more ? st->cap * 2 : st->n + more;
    struct st_tensor *t = realloc(st->t, (size_t)cap * sizeof *t);
    if (!t) return lm_error(LM_ENOMEM, "%s: no memory for %lld tensors", st->label, (long long)cap);
    st->t = t, st->cap = cap;
    return LM_OK;
}

/* Parse one file image as shard k of st (its tensors appended; metadata kept for shard 0). */
static lm_status parse_file(struct lm_st *st, int32_t k, const uint8_t *p, size_t size,
                            const char *file) {
    struct st_shard *sh = &st->shards[k];
    uint64_t n;
    if (size < 8)
        return lm_error(LM_EFORMAT, "%s: %zu bytes is too short for the 8-byte header length", file,
                        size);
    memcpy(&n, p, 8);
    if (n > size - 8 || n > LM_ST_MAX_HEADER)
        return lm_error(LM_EFORMAT, "%s: bad header length %llu (file of %zu bytes, limit %llu)",
                        file, (unsigned long long)n, size, (unsigned long long)LM_ST_MAX_HEADER);
    if (n < 2 || p[8] != '{') return lm_error(LM_EFORMAT, "%s: header is not a JSON object", file);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)p + 8, (size_t)n, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        size_t at = end ? (size_t)(end - (const char *)p) : 8;
        if (!root && cJSON_GetErrorPtr()) at = (size_t)(cJSON_GetErrorPtr() - (const char *)p);
        cJSON_Delete(root);
        return lm_error(LM_EFORMAT, "%s: header JSON is malformed near byte %zu", file, at);
    }
    for (const char *q = end; q < (const char *)p + 8 + n; q++) /* padding: whitespace only */
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            cJSON_Delete(root);
            return lm_error(LM_EFORMAT, "%s: bytes after the header JSON at byte %zu", file,
                            (size_t)(q - (const char *)p));
        }
    sh->data = p + 8 + n;
    sh->data_at = 8 + n;
    sh->data_size = size - 8 - n;
    /* names and metadata strings fit in the header's own size */
    lm_status s = LM_OK;
    char *pool = sh->names = malloc((size_t)n + 1);
    int64_t count = cJSON_GetArraySize(root), first = st->n;
    if (!pool) s = lm_error(LM_ENOMEM, "%s: no memory for the header strings", file);
    if (!s) s = grow_tensors(st, count);
    bool seen_meta = false;
    for (const cJSON *e = root->child; e && !s; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (!cJSON_IsObject(e) || seen_meta) {
                s = lm_error(LM_EFORMAT, "%s: __metadata__ is %s", file,
                             seen_meta ? "given twice" : "not an object");
                break;
            }
            seen_meta = true;
            int64_t m = cJSON_GetArraySize(e);
            if (k == 0 && m && !(st->meta = malloc((size_t)m * 2 * sizeof *st->meta))) {
                s = lm_error(LM_ENOMEM, "%s: no memory for metadata", file);
                break;
            }
            for (const cJSON *x = e->child; x && !s; x = x->next) {
                if (!cJSON_IsString(x))
                    s = lm_error(LM_EFORMAT, "%s: __metadata__ '%s' is not a string", file,
                                 x->string);
                else if (k == 0) {
                    st->meta[2 * st->n_meta] = pool_put(&pool, x->string);
                    st->meta[2 * st->n_meta++ + 1] = pool_put(&pool, x->valuestring);
                }
            }
            continue;
        }
        struct st_tensor *t = &st->t[st->n];
        memset(t, 0, sizeof *t);
        if ((s = parse_tensor(st, file, e, t, sh->data_size))) break;
        t->name = pool_put(&pool, e->string);
        t->shard = k;
        int r = lm_strmap_put(&st->idx, t->name, st->n);
        if (r <= 0)
            s = r ? lm_error(LM_ENOMEM, "%s: no memory for the name index", file)
                  : lm_error(LM_EFORMAT, "%s: duplicate tensor name '%s'", file, t->name);
        else
            st->n++;
    }
    cJSON_Delete(root);
    if (!s) s = check_overlap(file, st->t + first, st->n - first);
    return s;
}

/* ---- objects ------------------------------------------------------------------------------ */

static struct lm_st *st_new(const char *label, int32_t n_shards) {
    struct lm_st *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->label = st->label_buf = strdup(label);
    st->shards = calloc((size_t)n_shards, sizeof *st->shards);
    st->n_shards = n_shards;
    if (!st->label_buf || !st->shards) {
        lm_st_close(st);
        return NULL;
    }
    return st;
}

void lm_st_close(struct lm_st *st) {
    if (!st) return;
    for (int32_t i = 0; st->shards && i < st->n_shards; i++) {
        lm_file_unmap(&st->shards[i].map);
        free(st->shards[i].names);
    }
    free(st->shards);
    free(st->t);
    free(st->meta);
    lm_strmap_free(&st->idx);
    free(st->label_buf);
    free(st);
}

lm_status lm_st_open_memory(const void *data, size_t size, const char *label, struct lm_st **out) {
    *out = NULL;
    if (!label) label = "<memory>";
    if (!data && size) return lm_error(LM_EINVAL, "%s: NULL data", label);
    struct lm_st *st = st_new(label, 1);
    if (!st) return lm_error(LM_ENOMEM, "%s: no memory", label);
    lm_status s = parse_file(st, 0, data ? data : (const uint8_t *)"", size, st->label);
    if (s) {
        lm_st_close(st);
        return s;
    }
    *out = st;
    return LM_OK;
}

static lm_status map_shard(struct lm_st *st, int32_t k, const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return lm_error(LM_ENOTFOUND, "%s: file %s is missing", st->label, path);
    lm_status s = lm_file_map(path, &st->shards[k].map);
    if (s) return s;
    return parse_file(st, k, st->shards[k].map.data, st->shards[k].map.size, path);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Read a small text file (an index) whole. */
static lm_status slurp(const char *path, struct lm_mapped_file *m) {
    lm_status s = lm_file_map(path, m);
    if (s) return s;
    if (m->size > LM_ST_MAX_HEADER)
        return lm_error(LM_EFORMAT, "%s: index of %zu bytes is past the %llu-byte limit", path,
                        m->size, (unsigned long long)LM_ST_MAX_HEADER);
    return LM_OK;
}

static lm_status open_index(const char *path, struct lm_st **out);

lm_status lm_st_open(const char *path, struct lm_st **out) {
    if (!out) return lm_error(LM_EINVAL, "lm_st_open: NULL out");
    *out = NULL;
    if (!path) return lm_error(LM_EINVAL, "lm_st_open: NULL path");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t n = strlen(path) + 48;
        char *p = malloc(n);
        if (!p) return lm_error(LM_ENOMEM, "%s: no memory", path);
        lm_status s;
        snprintf(p, n, "%s/model.safetensors", path);
        if (stat(p, &sb) == 0)
            s = lm_st_open(p, out);
        else {
            snprintf(p, n, "%s/model.safetensors.index.json", path);
            s = stat(p, &sb) == 0 ? open_index(p, out)
                                  : lm_error(LM_ENOTFOUND,
                                             "%s: holds neither model.safetensors "
                                             "nor model.safetensors.index.json",
                                             path);
        }
        free(p);
        return s;
    }
    if (ends_with(path, ".json")) return open_index(path, out);
    struct lm_st *st = st_new(path, 1);
    if (!st) return lm_error(LM_ENOMEM, "%s: no memory", path);
    lm_status s = map_shard(st, 0, path);
    if (s) {
        lm_st_close(st);
        return s;
    }
    *out = st;
    return LM_OK;
}

/* model.safetensors.index.json: {"weight_map": {tensor: shard file}} with shards beside it. */
static lm_status open_index(const char *path, struct lm_st **out) {
    struct lm_mapped_file m;
    lm_status s = slurp(path, &m);
    cJSON *root = NULL;
    struct lm_strmap shards = {0};
    const char **names = NULL; /* shard file names in order of first mention */
    int32_t n_shards = 0;
    struct lm_st *st = NULL;
    char *fp = NULL;
    if (!s) {
        root = cJSON_ParseWithLength((const char *)m.data, m.size);
        if (!cJSON_IsObject(root)) s = lm_error(LM_EFORMAT, "%s: not a JSON object", path);
    }
    const cJSON *wm = s ? NULL : cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!s && !cJSON_IsObject(wm)) s = lm_error(LM_EFORMAT, "%s: no weight_map object", path);
    int n_entries = s ? 0 : cJSON_GetArraySize(wm);
    if (!s && !(names = malloc(((size_t)n_entries + 1) * sizeof *names)))
        s = lm_error(LM_ENOMEM, "%s: no memory", path);
    for (const cJSON *e = s ? NULL : wm->child; e && !s; e = e->next) {
        const char *f = cJSON_IsString(e) ? e->valuestring : NULL;
        if (!f || !*f || strchr(f, '/') || !strcmp(f, "..") || !strcmp(f, ".")) {
            s = lm_error(LM_EFORMAT, "%s: weight_map['%s'] is not a file name beside the index",
                         path, e->string);
            break;
        }
        int r = lm_strmap_put(&shards, f, n_shards);
        if (r < 0)
            s = lm_error(LM_ENOMEM, "%s: no memory", path);
        else if (r)
            names[n_shards++] = f;
    }
    if (!s && n_shards == 0) s = lm_error(LM_EFORMAT, "%s: weight_map is empty", path);
    if (!s && !(st = st_new(path, n_shards))) s = lm_error(LM_ENOMEM, "%s: no memory", path);
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    for (int32_t k = 0; k < n_shards && !s; k++) {
        free(fp);
        size_t n = dir + strlen(names[k]) + 1;
        if (!(fp = malloc(n))) {
            s = lm_error(LM_ENOMEM, "%s: no memory", path);
            break;
        }
        snprintf(fp, n, "%.*s%s", (int)dir, path, names[k]);
        s = map_shard(st, k, fp);
    }
    for (const cJSON *e = s ? NULL : wm->child; e && !s; e = e->next) {
        int64_t i = lm_strmap_get(&st->idx, e->string);
        int64_t want = lm_strmap_get(&shards, e->valuestring);
        if (i < 0 || st->t[i].shard != want)
            s = lm_error(LM_EFORMAT,
                         "%s: tensor '%s' is listed for shard %s but that shard lacks "
                         "it",
                         path, e->string, e->valuestring);
    }
    free(fp);
    free(names);
    lm_strmap_free(&shards);
    cJSON_Delete(root);
    lm_file_unmap(&m);
    if (s) {
        lm_st_close(st);
        return s;
    }
    *out = st;
    return LM_OK;
}

/* ---- queries ------------------------------------------------------------------------------ */

int64_t lm_st_n_tensors(const struct lm_st *st) { return st ? st->n : 0; }
int32_t lm_st_n_shards(const struct lm_st *st) { return st ? st->n_shards : 0; }
int64_t lm_st_n_meta(const struct lm_st *st) { return st ? st->n_meta : 0; }

const char *lm_st_tensor_name(const struct lm_st *st, int64_t i) {
    return st && i >= 0 && i < st->n ? st->t[i].name : NULL;
}

const char *lm_st_tensor_dtype(const struct lm_st *st, int64_t i) {
    return st && i >= 0 && i < st->n ? dtypes[st->t[i].dtype].name : NULL;
}

lm_status lm_st_meta(const struct lm_st *st, int64_t i, const char **key, const char **value) {
    if (!st || i < 0 || i >= st->n_meta)
        return lm_error(LM_ERANGE, "safetensors metadata index %lld out of range", (long long)i);
    *key = st->meta[2 * i], *value = st->meta[2 * i + 1];
    return LM_OK;
}

static lm_status check_index(const struct lm_st *st, int64_t i) {
    if (!st) return lm_error(LM_EINVAL, "safetensors: NULL handle");
    if (i < 0 || i >= st->n)
        return lm_error(LM_ERANGE, "%s: tensor index %lld out of range (%lld tensors)", st->label,
                        (long long)i, (long long)st->n);
    return LM_OK;
}

lm_status lm_st_tensor_info(const struct lm_st *st, int64_t i, struct lm_st_tensor_info *out) {
    lm_status s = check_index(st, i);
    if (s) return s;
    const struct st_tensor *t = &st->t[i];
    const struct st_shard *sh = &st->shards[t->shard];
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->dtype = dtypes[t->dtype].name;
    out->rank = t->rank;
    memcpy(out->shape, t->shape, sizeof out->shape);
    out->begin = t->begin, out->end = t->end;
    out->file_offset = sh->data_at + t->begin;
    out->shard = t->shard;
    out->data = sh->data + t->begin;
    return LM_OK;
}

lm_status lm_st_tensor(const struct lm_st *st, int64_t i, struct lm_tensor *out) {
    lm_status s = check_index(st, i);
    if (s) return s;
    const struct st_tensor *t = &st->t[i];
    const struct st_dtype *dt = &dtypes[t->dtype];
    if (dt->lm < 0)
        return lm_error(LM_EUNSUPPORTED,
                        "%s: tensor '%s' has dtype %s, which lmrt does not "
                        "compute with (F32, F16, BF16 are read)",
                        st->label, t->name, dt->name);
    if (t->rank > LM_MAX_DIMS)
        return lm_error(LM_EUNSUPPORTED, "%s: tensor '%s' has rank %d (at most %d)", st->label,
                        t->name, t->rank, LM_MAX_DIMS);
    int64_t ne[LM_MAX_DIMS] = {1, 1, 1, 1};
    for (int d = 0; d < t->rank; d++) {
        if (t->shape[d] == 0)
            return lm_error(LM_EUNSUPPORTED, "%s: tensor '%s' has no elements (dim %d is 0)",
                            st->label, t->name, d);
        ne[t->rank - 1 - d] = t->shape[d]; /* row-major [.., out, in] -> ne = {in, out, ..} */
    }
    const uint8_t *data = st->shards[t->shard].data + t->begin;
    /* the mapping is page-aligned, so this is the file offset's alignment; kernels load
     * elements as their type, which a misaligned view would make undefined */
    if ((uintptr_t)data % dt->size)
        return lm_error(LM_EUNSUPPORTED,
                        "%s: tensor '%s' data at file offset %llu is not aligned "
                        "to its %u-byte elements",
                        st->label, t->name,
                        (unsigned long long)(st->shards[t->shard].data_at + t->begin), dt->size);
    s = lm_tensor_init(out, (enum lm_dtype)dt->lm, t->rank ? t->rank : 1, ne,
                       (void *)(uintptr_t)data);
    if (s) return s;
    out->name = t->name;
    return LM_OK;
}

lm_status lm_st_find_tensor(const struct lm_st *st, const char *name, struct lm_tensor *t) {
    if (!st || !name) return lm_error(LM_EINVAL, "lm_st_find_tensor: NULL argument");
    int64_t i = lm_strmap_get(&st->idx, name);
    if (i < 0) return lm_error(LM_ENOTFOUND, "%s: tensor '%s' not found", st->label, name);
    return lm_st_tensor(st, i, t);
}
