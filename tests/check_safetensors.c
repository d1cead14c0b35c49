/* tests/check_safetensors.c - the safetensors reader (rt/safetensors.c).
 *
 * Hand-made files written into a mkdtemp directory: a valid file with every case the format
 * allows (metadata, scalar, empty tensor, dtypes lmrt only lists), each corruption with its own
 * message, every truncation, sharded sets through index.json and through a directory. The real
 * file: all-MiniLM-L6-v2's model.safetensors against tests/data/readers/minilm_safetensors.tsv
 * (tools/gen_reader_golden.py, plain struct + json), every tensor and metadata entry. Models
 * come from $LMRT_MODELS (default build/models); a missing model fails.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../rt/safetensors.h"
#include "golden_tsv.h"
#include "testutil.h"

static char tmpdir[64];

static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/check_st.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}
static void rm_tmpdir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
static const char *tmp_path(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}
static const char *write_raw(const char *name, const void *p, size_t n) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* A safetensors image: header length, JSON padded with spaces to a multiple of 8 (as the HF
 * writer does, so the data area is 8-byte aligned), data. Caller frees. */
static uint8_t *st_image(const char *json, const void *data, size_t n_data, size_t *n) {
    uint64_t h = (strlen(json) + 7) & ~(size_t)7;
    *n = 8 + h + n_data;
    uint8_t *p = malloc(*n ? *n : 1);
    memcpy(p, &h, 8);
    memset(p + 8, ' ', h);
    memcpy(p + 8, json, strlen(json));
    if (n_data) memcpy(p + 8 + h, data, n_data);
    return p;
}
static const char *write_st(const char *name, const char *json, const void *data, size_t n_data) {
    size_t n;
    uint8_t *p = st_image(json, data, n_data, &n);
    const char *path = write_raw(name, p, n);
    free(p);
    return path;
}

/* data: 6 f32, 4 f16, 1 bf16, 5 u8 = 24 + 8 + 2 + 5 = 39 bytes */
static const char *valid_json =
    "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9\"},"
    "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"v\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
    "\"s\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[32,34]},"
    "\"e\":{\"dtype\":\"I64\",\"shape\":[0,3],\"data_offsets\":[34,34]},"
    "\"u\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[34,39]}}   ";

static void valid_data(uint8_t d[39]) {
    for (int i = 0; i < 6; i++) {
        float f = (float)i + 0.5f;
        memcpy(d + 4 * i, &f, 4);
    }
    for (int i = 0; i < 4; i++) {
        uint16_t h = lm_f32_to_f16((float)-i);
        memcpy(d + 24 + 2 * i, &h, 2);
    }
    uint16_t b = lm_f32_to_bf16(2.0f);
    memcpy(d + 32, &b, 2);
    for (int i = 0; i < 5; i++)
        d[34 + i] = (uint8_t)(100 + i);
}

static void check_valid(struct lm_st *st) {
    ck_assert_int_eq(lm_st_n_tensors(st), 5);
    ck_assert_str_eq(lm_st_tensor_name(st, 0), "w");
    ck_assert_str_eq(lm_st_tensor_dtype(st, 3), "I64");
    ck_assert_ptr_null(lm_st_tensor_name(st, 5));
    ck_assert_int_eq(lm_st_n_meta(st), 2);
    const char *k, *v;
    ck_assert_int_eq(lm_st_meta(st, 1, &k, &v), LM_OK);
    ck_assert_str_eq(k, "note");
    ck_assert_str_eq(v, "caf\xc3\xa9");
    struct lm_tensor t;
    ck_assert_int_eq(lm_st_find_tensor(st, "w", &t), LM_OK);
    ck_assert_int_eq(t.dtype, LM_F32);
    ck_assert_int_eq(t.ndim, 2);
    ck_assert_int_eq(t.ne[0], 3); /* [2, 3] row-major -> ne = {3, 2} */
    ck_assert_int_eq(t.ne[1], 2);
    ck_assert_int_eq(t.nb[1], 12);
    ck_assert(((const float *)t.data)[5] == 5.5f);
    ck_assert_str_eq(t.name, "w");
    ck_assert_int_eq(lm_st_find_tensor(st, "v", &t), LM_OK);
    ck_assert_int_eq(t.dtype, LM_F16);
    ck_assert(lm_f16_to_f32(((const uint16_t *)t.data)[3]) == -3.0f);
    ck_assert_int_eq(lm_st_find_tensor(st, "s", &t), LM_OK); /* scalar: ne = {1} */
    ck_assert_int_eq(t.dtype, LM_BF16);
    ck_assert_int_eq(t.ndim, 1);
    ck_assert_int_eq(t.ne[0], 1);
    ck_assert(lm_bf16_to_f32(*(const uint16_t *)t.data) == 2.0f);
    ck_assert_int_eq(lm_st_find_tensor(st, "e", &t), LM_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'e' has dtype I64"));
    ck_assert_int_eq(lm_st_find_tensor(st, "u", &t), LM_EUNSUPPORTED);
    ck_assert_int_eq(lm_st_find_tensor(st, "nope", &t), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'nope' not found"));
    ck_assert_int_eq(lm_st_tensor(st, 5, &t), LM_ERANGE);
    struct lm_st_tensor_info ti;
    ck_assert_int_eq(lm_st_tensor_info(st, 3, &ti), LM_OK);
    ck_assert_int_eq(ti.rank, 2);
    ck_assert_int_eq(ti.shape[0], 0);
    ck_assert_int_eq(ti.shape[1], 3);
    ck_assert_int_eq(lm_st_tensor_info(st, 4, &ti), LM_OK);
    ck_assert_uint_eq(((const uint8_t *)ti.data)[4], 104);
    ck_assert_uint_eq(ti.file_offset, 8 + ((strlen(valid_json) + 7) & ~(size_t)7) + 34);
}

START_TEST(valid_file) {
    make_tmpdir();
    uint8_t d[39];
    valid_data(d);
    struct lm_st *st;
    const char *path = write_st("m.safetensors", valid_json, d, sizeof d);
    ck_assert_msg(lm_st_open(path, &st) == LM_OK, "%s", lm_last_error());
    check_valid(st);
    lm_st_close(st);
    /* a directory holding model.safetensors */
    write_st("model.safetensors", valid_json, d, sizeof d);
    ck_assert_msg(lm_st_open(tmpdir, &st) == LM_OK, "%s", lm_last_error());
    check_valid(st);
    lm_st_close(st);
    lm_st_close(NULL);
    /* no tensors at all (found by fuzz_safetensors: crash_empty_object) */
    ck_assert_msg(lm_st_open(write_st("e.safetensors", "{}", NULL, 0), &st) == LM_OK, "%s",
                  lm_last_error());
    ck_assert_int_eq(lm_st_n_tensors(st), 0);
    ck_assert_int_eq(lm_st_n_meta(st), 0);
    lm_st_close(st);
    rm_tmpdir();
}
END_TEST

struct st_bad {
    const char *what, *json;
    size_t n_data;
    lm_status status;
    const char *msg;
};

static const struct st_bad bad[] = {
    {"bad JSON", "{\"a\": }", 0, LM_EFORMAT, "header JSON is malformed near byte"},
    {"not an object", "[1, 2]", 0, LM_EFORMAT, "header is not a JSON object"},
    {"tensor not an object", "{\"a\": 3}", 0, LM_EFORMAT, "tensor 'a' is not an object"},
    {"wrong dtype", "{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     LM_EFORMAT, "tensor 'a' has unknown dtype 'F31'"},
    {"offsets out of range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8,
     LM_EFORMAT, "tensor 'a' data_offsets [4, 12) lie past the end of the 8-byte data area"},
    {"offsets backwards", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8,
     LM_EFORMAT, "data_offsets [8, 4) run backwards"},
    {"offset not an integer", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}",
     8, LM_EFORMAT, "data_offsets is not two non-negative integers"},
    {"three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
     LM_EFORMAT, "data_offsets is not two non-negative integers"},
    {"size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24,
     LM_EFORMAT, "tensor 'a' spans 20 bytes but its shape and dtype F32 need 24"},
    {"overlap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
     "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[16,24]}}",
     24, LM_EFORMAT, "tensors 'a' [0, 24) and 'b' [16, 24) overlap"},
    {"negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0,
     LM_EFORMAT, "tensor 'a' shape[0] is not a non-negative integer"},
    {"shape overflow",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[4503599627370496,4503599627370496],"
     "\"data_offsets\":[0,0]}}",
     0, LM_EFORMAT, "tensor 'a' shape overflows at dim 1"},
    {"rank 9", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
     LM_EFORMAT, "tensor 'a' has rank 9"},
    {"duplicate name",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
     "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
     2, LM_EFORMAT, "duplicate tensor name 'a'"},
    {"junk after JSON", "{}x", 0, LM_EFORMAT, "bytes after the header JSON at byte 10"},
    {"metadata not strings", "{\"__metadata__\":{\"k\":1}}", 0, LM_EFORMAT,
     "__metadata__ 'k' is not a string"},
    {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, LM_EFORMAT,
     "__metadata__ is given twice"},
};

START_TEST(corruptions_named) {
    make_tmpdir();
    uint8_t zeros[64] = {0};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct lm_st *st = (struct lm_st *)1;
        lm_clear_error();
        lm_status s =
            lm_st_open(write_st("bad.safetensors", bad[k].json, zeros, bad[k].n_data), &st);
        ck_assert_msg(s == bad[k].status, "%s: status %d (%s)", bad[k].what, s, lm_last_error());
        ck_assert_ptr_null(st);
        ck_assert_msg(strstr(lm_last_error(), bad[k].msg), "%s: message '%s' lacks '%s'",
                      bad[k].what, lm_last_error(), bad[k].msg);
        ck_assert_msg(strstr(lm_last_error(), "bad.safetensors"), "%s: '%s' lacks the file",
                      bad[k].what, lm_last_error());
    }
    struct lm_st *st;
    /* header length past the file, and past the 100 MB limit (a sparse file) */
    uint64_t h = 1000;
    ck_assert_int_eq(lm_st_open(write_raw("len.safetensors", &h, 8), &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "bad header length 1000 (file of 8 bytes"));
    const char *big = tmp_path("big.safetensors");
    int fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    h = LM_ST_MAX_HEADER + 1;
    ck_assert_int_eq(write(fd, &h, 8), 8);
    ck_assert_int_eq(ftruncate(fd, (off_t)LM_ST_MAX_HEADER + 64), 0);
    close(fd);
    ck_assert_int_eq(lm_st_open(big, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "bad header length 104857601"));
    /* a header length that leaves F32 data misaligned: listed, but no view */
    const char *mis = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    uint8_t img[128] = {0};
    h = strlen(mis) + 1; /* 8 + h is odd */
    ck_assert_uint_eq((8 + h) % 2, 1);
    memcpy(img, &h, 8);
    memset(img + 8, ' ', h);
    memcpy(img + 8, mis, strlen(mis));
    ck_assert_int_eq(lm_st_open(write_raw("mis.safetensors", img, 8 + h + 4), &st), LM_OK);
    struct lm_tensor t;
    ck_assert_int_eq(lm_st_tensor(st, 0, &t), LM_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'a' data at file offset 63 is not "
                                                  "aligned to its 4-byte elements"));
    lm_st_close(st);
    ck_assert_int_eq(lm_st_open(write_raw("short.safetensors", "abc", 3), &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "3 bytes is too short"));
    ck_assert_int_eq(lm_st_open(tmp_path("absent.safetensors"), &st), LM_ENOTFOUND);
    ck_assert_int_eq(lm_st_open(NULL, &st), LM_EINVAL);
    rm_tmpdir();
}
END_TEST

START_TEST(every_truncation_fails) {
    uint8_t d[39];
    valid_data(d);
    size_t n;
    uint8_t *img = st_image(valid_json, d, sizeof d, &n);
    struct lm_st *st;
    ck_assert_int_eq(lm_st_open_memory(img, n, NULL, &st), LM_OK);
    lm_st_close(st);
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(k ? k : 1); /* exact size: ASan sees a read past it */
        memcpy(copy, img, k);
        ck_assert_msg(lm_st_open_memory(copy, k, "cut", &st) == LM_EFORMAT, "prefix %zu", k);
        free(copy);
    }
    free(img);
}
END_TEST

/* ---- shards ------------------------------------------------------------------------------- */

static void write_index(const char *json) {
    write_raw("model.safetensors.index.json", json, strlen(json));
}

START_TEST(sharded) {
    make_tmpdir();
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    write_st("s1.safetensors",
             "{\"__metadata__\":{\"format\":\"pt\"},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
             a, sizeof a);
    write_st("s2.safetensors", "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
             b, sizeof b);
    write_index("{\"metadata\":{\"total_size\":24},"
                "\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
    struct lm_st *st;
    for (int via_dir = 0; via_dir < 2; via_dir++) {
        const char *p = via_dir ? tmpdir : tmp_path("model.safetensors.index.json");
        ck_assert_msg(lm_st_open(p, &st) == LM_OK, "%s", lm_last_error());
        ck_assert_int_eq(lm_st_n_shards(st), 2);
        ck_assert_int_eq(lm_st_n_tensors(st), 2);
        ck_assert_int_eq(lm_st_n_meta(st), 1);
        struct lm_tensor t;
        ck_assert_int_eq(lm_st_find_tensor(st, "b", &t), LM_OK);
        ck_assert(((const float *)t.data)[1] == 6.0f);
        ck_assert_int_eq(lm_st_find_tensor(st, "a", &t), LM_OK);
        ck_assert(((const float *)t.data)[3] == 4.0f);
        lm_st_close(st);
    }
    /* a name listed but missing from its shard names both */
    write_index("{\"weight_map\":{\"a\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'c' is listed for shard s2.safetensors "
                                                  "but that shard lacks it"));
    write_index("{\"weight_map\":{\"a\":\"s2.safetensors\",\"b\":\"s2.safetensors\"}}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'a' is listed for shard s2"));
    /* a missing shard */
    write_index("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s3.safetensors\"}}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "s3.safetensors is missing"));
    /* shard names must be files beside the index */
    write_index("{\"weight_map\":{\"a\":\"../s1.safetensors\"}}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "weight_map['a'] is not a file name"));
    write_index("{\"weight_map\":[]}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "no weight_map object"));
    write_index("{\"weight_map\":{\"a\":\"s1.safetensors\"}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "not a JSON object"));
    /* two shards holding the same tensor */
    write_st("s2.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
             b, sizeof b);
    write_index("{\"weight_map\":{\"a\":\"s1.safetensors\",\"x\":\"s2.safetensors\"}}");
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "duplicate tensor name 'a'"));
    /* a directory with neither file */
    ck_assert_int_eq(unlink(tmp_path("model.safetensors.index.json")), 0);
    ck_assert_int_eq(lm_st_open(tmpdir, &st), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "holds neither model.safetensors"));
    rm_tmpdir();
}
END_TEST

/* ---- the real file ------------------------------------------------------------------------ */

static void check_st_tensor_line(const struct lm_st *st, int64_t i, struct gt_file *gt) {
    ck_assert_int_eq(gt->n, 8);
    struct lm_st_tensor_info ti;
    ck_assert_int_eq(lm_st_tensor_info(st, i, &ti), LM_OK);
    ck_assert_str_eq(ti.name, gt->fld[1]);
    ck_assert_str_eq(ti.dtype, gt->fld[2]);
    char shape[128] = "";
    for (int d = 0; d < ti.rank; d++)
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? "," : "",
                 (long long)ti.shape[d]);
    ck_assert_str_eq(shape, gt->fld[3]);
    ck_assert_uint_eq(ti.begin, strtoull(gt->fld[4], NULL, 10));
    ck_assert_uint_eq(ti.end, strtoull(gt->fld[5], NULL, 10));
    size_t n = ti.end - ti.begin, k = n < 16 ? n : 16;
    struct lm_tensor t;
    lm_status s = lm_st_tensor(st, i, &t);
    if (!strcmp(ti.dtype, "F32") || !strcmp(ti.dtype, "F16") || !strcmp(ti.dtype, "BF16")) {
        ck_assert_msg(s == LM_OK, "%s", lm_last_error());
        ck_assert_int_eq(t.ndim, ti.rank ? ti.rank : 1);
        for (int d = 0; d < ti.rank; d++) /* ggml order: reversed */
            ck_assert_int_eq(t.ne[d], ti.shape[ti.rank - 1 - d]);
        ck_assert_uint_eq(lm_tensor_nbytes(&t), n);
        gt_assert_bytes(ti.name, t.data, k, gt->fld[6]);
        gt_assert_bytes(ti.name, (const char *)t.data + n - k, k, gt->fld[7]);
        struct lm_tensor t2;
        ck_assert_int_eq(lm_st_find_tensor(st, ti.name, &t2), LM_OK);
        ck_assert_ptr_eq(t2.data, t.data);
    } else {
        ck_assert_int_eq(s, LM_EUNSUPPORTED);
        gt_assert_bytes(ti.name, ti.data, k, gt->fld[6]);
        gt_assert_bytes(ti.name, (const char *)ti.data + n - k, k, gt->fld[7]);
    }
}

static void check_minilm(const char *path) {
    struct lm_st *st;
    ck_assert_msg(lm_st_open(path, &st) == LM_OK, "%s", lm_last_error());
    struct gt_file gt;
    gt_open(&gt, "tests/data/readers/minilm_safetensors.tsv");
    int64_t n_t = 0, n_meta = 0;
    uint64_t file_size = 0;
    while (gt_next(&gt)) {
        const char *k = gt.fld[0];
        unsigned long long v = gt.n > 1 ? strtoull(gt.fld[1], NULL, 10) : 0;
        struct lm_st_tensor_info ti;
        if (!strcmp(k, "file_size")) {
            file_size = v;
        } else if (!strcmp(k, "st_header_len")) {
            ck_assert_int_eq(lm_st_tensor_info(st, 0, &ti), LM_OK);
            ck_assert_uint_eq(ti.file_offset - ti.begin, 8 + v);
        } else if (!strcmp(k, "st_n_tensors")) {
            ck_assert_int_eq(lm_st_n_tensors(st), (int64_t)v);
        } else if (!strcmp(k, "st_meta")) {
            const char *key, *val;
            ck_assert_int_eq(lm_st_meta(st, n_meta++, &key, &val), LM_OK);
            ck_assert_str_eq(key, gt.fld[1]);
            gt_assert_bytes(key, val, strlen(val), gt.fld[2]);
        } else if (!strcmp(k, "st_tensor")) {
            check_st_tensor_line(st, n_t++, &gt);
        } else {
            ck_abort_msg("%s:%d: unknown line kind %s", gt.path, gt.lineno, k);
        }
    }
    gt_close(&gt);
    ck_assert_int_eq(n_t, lm_st_n_tensors(st));
    ck_assert_int_eq(n_meta, lm_st_n_meta(st));
    for (int64_t i = 0; i < n_t; i++) { /* every extent inside the file */
        struct lm_st_tensor_info ti;
        ck_assert_int_eq(lm_st_tensor_info(st, i, &ti), LM_OK);
        ck_assert_uint_le(ti.file_offset + (ti.end - ti.begin), file_size);
    }
    lm_st_close(st);
}

START_TEST(minilm_golden) {
    const char *file = tu_model_path("minilm/model.safetensors");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", file);
    *strrchr(dir, '/') = 0;
    check_minilm(file);
    check_minilm(dir); /* the sentence-transformers directory picks model.safetensors */
}
END_TEST

static Suite *st_suite(void) {
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, valid_file);
    tcase_add_test(tc, corruptions_named);
    tcase_add_test(tc, every_truncation_fails);
    tcase_add_test(tc, sharded);
    tcase_add_test(tc, minilm_golden);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(st_suite()); }
