/* tests/check_gguf_golden.c - the GGUF reader on a real file: SmolLM2-135M's GGUF against
 * tests/data/readers/smollm2_gguf.tsv, the table tools/gen_reader_golden.py made with gguf-py's
 * GGUFReader (an independent implementation): every key with its type and value (arrays by
 * length, an FNV-1a hash of all elements and the end elements), every tensor with type, shape,
 * file offset, size and its first and last 16 bytes read through the lmrt view. Also that opening
 * grows the resident set by far less than the weights (only header pages are touched).
 * Models come from $LMRT_MODELS (default build/models; tools/fetch_models.sh fetches them): a
 * missing model fails.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../rt/gguf.h"
#include "golden_tsv.h"
#include "testutil.h"

static const enum lm_gguf_type by_name_types[] = {
    LM_GGUF_U8,   LM_GGUF_I8,  LM_GGUF_U16, LM_GGUF_I16, LM_GGUF_U32, LM_GGUF_I32, LM_GGUF_F32,
    LM_GGUF_BOOL, LM_GGUF_STR, LM_GGUF_ARR, LM_GGUF_U64, LM_GGUF_I64, LM_GGUF_F64};

static enum lm_gguf_type type_by_name(const char *n) {
    for (size_t i = 0; i < sizeof by_name_types / sizeof by_name_types[0]; i++)
        if (!strcmp(lm_gguf_type_name(by_name_types[i]), n)) return by_name_types[i];
    ck_abort_msg("unknown type name %s", n);
    return LM_GGUF_TYPE_COUNT;
}

static bool is_float(enum lm_gguf_type t) { return t == LM_GGUF_F32 || t == LM_GGUF_F64; }
static bool is_signed(enum lm_gguf_type t) {
    return t == LM_GGUF_I8 || t == LM_GGUF_I16 || t == LM_GGUF_I32 || t == LM_GGUF_I64;
}
static size_t elem_size(enum lm_gguf_type t) {
    switch (t) {
    case LM_GGUF_U8:
    case LM_GGUF_I8:
    case LM_GGUF_BOOL: return 1;
    case LM_GGUF_U16:
    case LM_GGUF_I16: return 2;
    case LM_GGUF_U32:
    case LM_GGUF_I32:
    case LM_GGUF_F32: return 4;
    default: return 8;
    }
}

/* Element i of a, through the API, as the golden hash encodes it; returns the text compare
 * value in *num (numbers) or the string in *s and *len. */
static uint64_t hash_elem(uint64_t h, const struct lm_gguf_arr *a, uint64_t i, double *num,
                          const char **s, size_t *len) {
    if (a->type == LM_GGUF_STR) {
        ck_assert_int_eq(lm_gguf_arr_str(a, i, s, len), LM_OK);
        uint64_t n = *len;
        return gt_fnv(gt_fnv(h, &n, 8), *s, *len);
    }
    unsigned char b[8];
    if (a->type == LM_GGUF_F32) {
        ck_assert_int_eq(lm_gguf_arr_num(a, i, num), LM_OK);
        float f = (float)*num;
        memcpy(b, &f, 4);
    } else if (a->type == LM_GGUF_F64) {
        ck_assert_int_eq(lm_gguf_arr_num(a, i, num), LM_OK);
        memcpy(b, num, 8);
    } else { /* integers: the low bytes of the two's complement value */
        int64_t v;
        if (a->type == LM_GGUF_U64) {
            ck_assert_int_eq(lm_gguf_arr_num(a, i, num), LM_OK);
            ck_abort_msg("u64 arrays are not in the real file");
        }
        ck_assert_int_eq(lm_gguf_arr_int(a, i, &v), LM_OK);
        memcpy(b, &v, 8);
        *num = (double)v;
    }
    return gt_fnv(h, b, elem_size(a->type));
}

static void check_end_elem(const char *key, const struct lm_gguf_arr *a, uint64_t i,
                           const char *want) {
    double num = 0;
    const char *s;
    size_t len;
    hash_elem(0, a, i, &num, &s, &len);
    if (a->type == LM_GGUF_STR) {
        gt_assert_bytes(key, s, len, want);
    } else {
        ck_assert_msg(num == strtod(want, NULL), "%s[%llu] = %g, golden %s", key,
                      (unsigned long long)i, num, want);
    }
}

static void check_kv_line(const struct lm_gguf *g, int64_t i, struct gt_file *gt) {
    const char *key = gt->fld[1], *type = gt->fld[2];
    ck_assert_msg(!strcmp(lm_gguf_kv_key(g, i) ? lm_gguf_kv_key(g, i) : "", key),
                  "kv %lld is '%s', golden '%s'", (long long)i, lm_gguf_kv_key(g, i), key);
    if (!strncmp(type, "arr:", 4)) {
        ck_assert_int_eq(gt->n, 7);
        struct lm_gguf_arr a;
        ck_assert_int_eq(lm_gguf_get_arr(g, key, &a), LM_OK);
        ck_assert_int_eq(a.type, type_by_name(type + 4));
        ck_assert_uint_eq(a.n, strtoull(gt->fld[3], NULL, 10));
        uint64_t h = GT_FNV_INIT;
        double num;
        const char *s;
        size_t len;
        for (uint64_t k = 0; k < a.n; k++)
            h = hash_elem(h, &a, k, &num, &s, &len);
        ck_assert_msg(h == strtoull(gt->fld[4], NULL, 16), "%s: element hash %016llx, golden %s",
                      key, (unsigned long long)h, gt->fld[4]);
        if (a.n) {
            check_end_elem(key, &a, 0, gt->fld[5]);
            check_end_elem(key, &a, a.n - 1, gt->fld[6]);
        }
        return;
    }
    enum lm_gguf_type t = type_by_name(type);
    ck_assert_int_eq(lm_gguf_kv_type(g, i), t);
    const char *want = gt->fld[3];
    if (t == LM_GGUF_STR) {
        const char *s;
        ck_assert_int_eq(lm_gguf_get_str(g, key, &s), LM_OK);
        gt_assert_bytes(key, s, strlen(s), want);
    } else if (t == LM_GGUF_BOOL) {
        bool b;
        ck_assert_int_eq(lm_gguf_get_bool(g, key, &b), LM_OK);
        ck_assert_int_eq(b, atoi(want));
    } else if (is_float(t)) {
        float f;
        ck_assert_int_eq(lm_gguf_get_f32(g, key, &f), LM_OK);
        ck_assert_msg(f == (float)strtod(want, NULL), "%s = %a, golden %s", key, (double)f, want);
    } else if (is_signed(t)) {
        int32_t v;
        ck_assert_int_eq(lm_gguf_get_i32(g, key, &v), LM_OK);
        ck_assert_int_eq(v, strtoll(want, NULL, 10));
    } else {
        uint64_t v;
        ck_assert_int_eq(lm_gguf_get_u64(g, key, &v), LM_OK);
        ck_assert_uint_eq(v, strtoull(want, NULL, 10));
    }
}

static void check_tensor_line(const struct lm_gguf *g, int64_t i, struct gt_file *gt) {
    ck_assert_int_eq(gt->n, 8);
    struct lm_gguf_tensor_info ti;
    struct lm_tensor t;
    ck_assert_int_eq(lm_gguf_tensor_info(g, i, &ti), LM_OK);
    ck_assert_str_eq(ti.name, gt->fld[1]);
    ck_assert_msg(!strcasecmp(ti.type_name, gt->fld[2]), "%s: type %s, golden %s", ti.name,
                  ti.type_name, gt->fld[2]);
    char ne[128] = "";
    for (int d = 0; d < ti.ndim; d++)
        snprintf(ne + strlen(ne), sizeof ne - strlen(ne), "%s%lld", d ? "," : "",
                 (long long)ti.ne[d]);
    ck_assert_str_eq(ne, gt->fld[3]);
    ck_assert_uint_eq(ti.file_offset, strtoull(gt->fld[4], NULL, 10));
    ck_assert_uint_eq(ti.nbytes, strtoull(gt->fld[5], NULL, 10));
    /* the bytes through the view (by index and by name) */
    ck_assert_msg(lm_gguf_tensor(g, i, &t) == LM_OK, "%s", lm_last_error());
    ck_assert_ptr_eq(t.data, ti.data);
    ck_assert_uint_eq(lm_tensor_nbytes(&t), ti.nbytes);
    gt_assert_bytes(ti.name, t.data, 16, gt->fld[6]);
    gt_assert_bytes(ti.name, (const char *)t.data + ti.nbytes - 16, 16, gt->fld[7]);
    struct lm_tensor t2;
    ck_assert_int_eq(lm_gguf_find_tensor(g, ti.name, &t2), LM_OK);
    ck_assert_ptr_eq(t2.data, t.data);
}

START_TEST(smollm2_golden) {
    const char *path = tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    size_t rss0 = gt_rss();
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s", lm_last_error());
    size_t rss1 = gt_rss();
    struct gt_file gt;
    gt_open(&gt, "tests/data/readers/smollm2_gguf.tsv");
    int64_t n_kv = 0, n_t = 0;
    while (gt_next(&gt)) {
        const char *k = gt.fld[0];
        unsigned long long v = gt.n > 1 ? strtoull(gt.fld[1], NULL, 10) : 0;
        if (!strcmp(k, "file_size"))
            ck_assert_uint_eq(g->maps[0].size, v);
        else if (!strcmp(k, "version"))
            ck_assert_uint_eq(lm_gguf_version(g), v);
        else if (!strcmp(k, "alignment"))
            ck_assert_uint_eq(lm_gguf_alignment(g), v);
        else if (!strcmp(k, "data_offset"))
            ck_assert_uint_eq(g->data_offset[0], v);
        else if (!strcmp(k, "n_kv"))
            ck_assert_int_eq(lm_gguf_n_kv(g), (int64_t)v);
        else if (!strcmp(k, "n_tensors"))
            ck_assert_int_eq(lm_gguf_n_tensors(g), (int64_t)v);
        else if (!strcmp(k, "kv"))
            check_kv_line(g, n_kv++, &gt);
        else if (!strcmp(k, "tensor"))
            check_tensor_line(g, n_t++, &gt);
        else
            ck_abort_msg("%s:%d: unknown line kind %s", gt.path, gt.lineno, k);
    }
    gt_close(&gt);
    ck_assert_int_eq(n_kv, lm_gguf_n_kv(g));
    ck_assert_int_eq(n_t, lm_gguf_n_tensors(g));
    /* opening reads the header only: resident growth far below the 98 MB of weights */
    ck_assert_msg(rss1 - rss0 < g->maps[0].size / 8, "open grew RSS by %zu bytes", rss1 - rss0);
    lm_gguf_close(g);
}
END_TEST

static Suite *gguf_golden_suite(void) {
    Suite *s = suite_create("gguf_golden");
    TCase *tc = tcase_create("gguf_golden");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, smollm2_golden);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(gguf_golden_suite()); }
