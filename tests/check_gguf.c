/* tests/check_gguf.c - the GGUF reader (rt/gguf.c, rt/gguf_kv.c).
 *
 * Hand-made files: the test writes a small valid v3 file (every metadata type, nested arrays,
 * three tensors) and its v2 twin into a mkdtemp directory and reads them back; then patches one
 * field at a time and checks that each corruption gets its own status and message, and that
 * every truncation of the header fails cleanly. Split sets are written as three parts.
 * The real file: SmolLM2-135M's GGUF against tests/data/readers/smollm2_gguf.tsv, the table
 * tools/gen_reader_golden.py made with gguf-py's GGUFReader (every key with type and value,
 * every tensor with type, shape, offset and its first bytes). Models come from $LMRT_MODELS
 * (default build/models; tools/fetch_models.sh fetches them): a missing model fails.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../rt/gguf.h"
#include "golden_tsv.h"
#include "testutil.h"

/* ---- a GGUF writer with named marks, so tests can patch one field ------------------------- */

struct gb {
    uint8_t *p;
    size_t n, cap;
    struct {
        const char *name;
        size_t at;
    } marks[64];
    int n_marks;
};

static void gb_put(struct gb *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
static void gb_mark(struct gb *b, const char *name) {
    ck_assert_int_lt(b->n_marks, 64);
    b->marks[b->n_marks].name = name;
    b->marks[b->n_marks++].at = b->n;
}
static size_t gb_at(const struct gb *b, const char *name) {
    for (int i = 0; i < b->n_marks; i++)
        if (!strcmp(b->marks[i].name, name)) return b->marks[i].at;
    ck_abort_msg("no mark %s", name);
    return 0;
}
static void u8(struct gb *b, uint8_t v) { gb_put(b, &v, 1); }
static void u32(struct gb *b, uint32_t v) { gb_put(b, &v, 4); }
static void u64(struct gb *b, uint64_t v) { gb_put(b, &v, 8); }
static void str(struct gb *b, const char *s, size_t n) {
    u64(b, n);
    gb_put(b, s, n);
}
static void key(struct gb *b, const char *k, enum lm_gguf_type t) {
    str(b, k, strlen(k));
    u32(b, t);
}
static void pad_to(struct gb *b, size_t align) {
    while (b->n % align)
        u8(b, 0);
}
static void patch32(struct gb *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }
static void patch64(struct gb *b, size_t at, uint64_t v) { memcpy(b->p + at, &v, 8); }

static char tmpdir[64];

static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/check_gguf.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}
static void rm_tmpdir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
static const char *write_file(const char *name, const void *p, size_t n) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* The three tensors of the small file: (name, ggml type, ne, bytes). */
#define T_A_BYTES (4 * 3 * 4)
#define T_B_BYTES (2 * 2 * 18)
#define T_C_BYTES (5 * 2)

/* The valid small file. Tensor data bytes are (i * 7 + tensor) & 255 so views can be checked. */
static void build_small(struct gb *b, uint32_t version) {
    memset(b, 0, sizeof *b);
    gb_mark(b, "magic");
    gb_put(b, "GGUF", 4);
    gb_mark(b, "version");
    u32(b, version);
    gb_mark(b, "n_tensors");
    u64(b, 3);
    gb_mark(b, "n_kv");
    u64(b, 22);
    gb_mark(b, "kv.alignment");
    key(b, "general.alignment", LM_GGUF_U32);
    gb_mark(b, "alignment");
    u32(b, 32);
    key(b, "t.u8", LM_GGUF_U8), u8(b, 200);
    key(b, "t.i8", LM_GGUF_I8), u8(b, (uint8_t)-100);
    key(b, "t.u16", LM_GGUF_U16), gb_put(b, &(uint16_t){60000}, 2);
    key(b, "t.i16", LM_GGUF_I16), gb_put(b, &(int16_t){-30000}, 2);
    key(b, "t.u32", LM_GGUF_U32), u32(b, 4000000000u);
    gb_mark(b, "kv.i32");
    key(b, "t.i32", LM_GGUF_I32);
    gb_mark(b, "kv.i32.value");
    u32(b, (uint32_t)-2000000000);
    key(b, "t.f32", LM_GGUF_F32), gb_put(b, &(float){1.5f}, 4);
    gb_mark(b, "kv.bool");
    key(b, "t.bool", LM_GGUF_BOOL), u8(b, 1);
    gb_mark(b, "kv.str");
    key(b, "t.str", LM_GGUF_STR);
    gb_mark(b, "kv.str.len");
    str(b, "h\xc3\xa9llo", 6);
    key(b, "t.u64", LM_GGUF_U64), u64(b, (1ull << 63) + 5);
    key(b, "t.i64", LM_GGUF_I64), u64(b, (uint64_t) - (1ll << 40));
    key(b, "t.f64", LM_GGUF_F64), gb_put(b, &(double){3.25}, 8);
    gb_mark(b, "kv.arr_u32");
    key(b, "t.arr_u32", LM_GGUF_ARR), u32(b, LM_GGUF_U32);
    gb_mark(b, "kv.arr_u32.n");
    u64(b, 3), u32(b, 1), u32(b, 2), u32(b, 3);
    key(b, "t.arr_str", LM_GGUF_ARR), u32(b, LM_GGUF_STR), u64(b, 3);
    str(b, "a", 1), str(b, "", 0), str(b, "c\0d", 3);
    key(b, "t.arr_arr", LM_GGUF_ARR), u32(b, LM_GGUF_ARR), u64(b, 2);
    u32(b, LM_GGUF_I32), u64(b, 2), u32(b, (uint32_t)-7), u32(b, 8);
    u32(b, LM_GGUF_ARR), u64(b, 1); /* [[-7, 8], [["x", "yz"]]] */
    u32(b, LM_GGUF_STR), u64(b, 2), str(b, "x", 1), str(b, "yz", 2);
    key(b, "t.arr_f32", LM_GGUF_ARR), u32(b, LM_GGUF_F32), u64(b, 2);
    gb_put(b, &(float){0.25f}, 4), gb_put(b, &(float){-4.0f}, 4);
    key(b, "t.arr_f64", LM_GGUF_ARR), u32(b, LM_GGUF_F64), u64(b, 1), gb_put(b, &(double){0.1}, 8);
    key(b, "t.arr_bool", LM_GGUF_ARR), u32(b, LM_GGUF_BOOL), u64(b, 2), u8(b, 0), u8(b, 1);
    key(b, "t.arr_i64", LM_GGUF_ARR), u32(b, LM_GGUF_I64), u64(b, 1), u64(b, (uint64_t)-5);
    key(b, "t.arr_u64", LM_GGUF_ARR), u32(b, LM_GGUF_U64), u64(b, 1), u64(b, UINT64_MAX);
    key(b, "t.arr_empty", LM_GGUF_ARR), u32(b, LM_GGUF_U8), u64(b, 0);
    /* tensors: a F32 {4, 3} @0, b Q4_0 {64, 2} @64, c F16 {5} @160 */
    gb_mark(b, "t.a");
    str(b, "a", 1);
    gb_mark(b, "t.a.ndim");
    u32(b, 2);
    gb_mark(b, "t.a.ne");
    u64(b, 4), u64(b, 3);
    gb_mark(b, "t.a.type");
    u32(b, 0);
    gb_mark(b, "t.a.offset");
    u64(b, 0);
    gb_mark(b, "t.b");
    str(b, "b", 1), u32(b, 2);
    gb_mark(b, "t.b.ne");
    u64(b, 64), u64(b, 2);
    gb_mark(b, "t.b.type");
    u32(b, 2);
    gb_mark(b, "t.b.offset");
    u64(b, 64);
    gb_mark(b, "t.c");
    str(b, "c", 1), u32(b, 1), u64(b, 5), u32(b, 1);
    gb_mark(b, "t.c.offset");
    u64(b, 160);
    gb_mark(b, "infos_end");
    pad_to(b, 32);
    gb_mark(b, "data");
    const size_t off[3] = {0, 64, 160}, len[3] = {T_A_BYTES, T_B_BYTES, T_C_BYTES};
    size_t data = b->n;
    for (int t = 0; t < 3; t++) {
        while (b->n < data + off[t])
            u8(b, 0xee);
        for (size_t i = 0; i < len[t]; i++)
            u8(b, (uint8_t)(i * 7 + (size_t)t));
    }
    pad_to(b, 32);
}

static struct lm_gguf *open_ok(const struct gb *b, const char *name) {
    struct lm_gguf *g;
    const char *path = write_file(name, b->p, b->n);
    lm_status s = lm_gguf_open(path, &g);
    ck_assert_msg(s == LM_OK, "%s: %s", name, lm_last_error());
    return g;
}

/* ---- the valid small file ----------------------------------------------------------------- */

static void check_small(struct lm_gguf *g, uint32_t version) {
    ck_assert_uint_eq(lm_gguf_version(g), version);
    ck_assert_int_eq(lm_gguf_n_kv(g), 22);
    ck_assert_int_eq(lm_gguf_n_tensors(g), 3);
    ck_assert_str_eq(lm_gguf_kv_key(g, 1), "t.u8");
    ck_assert_int_eq(lm_gguf_kv_type(g, 1), LM_GGUF_U8);
    ck_assert_ptr_null(lm_gguf_kv_key(g, 22));
    ck_assert_int_eq(lm_gguf_kv_type(g, -1), LM_GGUF_TYPE_COUNT);
    ck_assert_int_eq(lm_gguf_find_kv(g, "t.f64"), 12);
    ck_assert_int_eq(lm_gguf_find_kv(g, "t.nope"), -1);
    ck_assert_str_eq(lm_gguf_type_name(LM_GGUF_ARR), "arr");

    uint32_t u;
    int32_t i;
    uint64_t q;
    float f;
    bool bo;
    const char *s;
    ck_assert_int_eq(lm_gguf_get_u32(g, "general.alignment", &u), LM_OK);
    ck_assert_uint_eq(u, 32);
    ck_assert_int_eq(lm_gguf_get_u32(g, "t.u8", &u), LM_OK);
    ck_assert_uint_eq(u, 200);
    ck_assert_int_eq(lm_gguf_get_i32(g, "t.i8", &i), LM_OK);
    ck_assert_int_eq(i, -100);
    ck_assert_int_eq(lm_gguf_get_i32(g, "t.u16", &i), LM_OK);
    ck_assert_int_eq(i, 60000);
    ck_assert_int_eq(lm_gguf_get_i32(g, "t.i16", &i), LM_OK);
    ck_assert_int_eq(i, -30000);
    ck_assert_int_eq(lm_gguf_get_u32(g, "t.u32", &u), LM_OK);
    ck_assert_uint_eq(u, 4000000000u);
    ck_assert_int_eq(lm_gguf_get_i32(g, "t.i32", &i), LM_OK);
    ck_assert_int_eq(i, -2000000000);
    ck_assert_int_eq(lm_gguf_get_u64(g, "t.u64", &q), LM_OK);
    ck_assert_uint_eq(q, (1ull << 63) + 5);
    ck_assert_int_eq(lm_gguf_get_u64(g, "t.u32", &q), LM_OK);
    ck_assert_uint_eq(q, 4000000000u);
    ck_assert_int_eq(lm_gguf_get_f32(g, "t.f32", &f), LM_OK);
    ck_assert(f == 1.5f);
    ck_assert_int_eq(lm_gguf_get_f32(g, "t.f64", &f), LM_OK);
    ck_assert(f == 3.25f);
    ck_assert_int_eq(lm_gguf_get_bool(g, "t.bool", &bo), LM_OK);
    ck_assert(bo);
    ck_assert_int_eq(lm_gguf_get_str(g, "t.str", &s), LM_OK);
    ck_assert_str_eq(s, "h\xc3\xa9llo");

    /* conversions that do not fit, wrong types, missing keys: each names the key */
    ck_assert_int_eq(lm_gguf_get_i32(g, "t.u32", &i), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "'t.u32' = 4000000000 (u32) does not fit i32"));
    ck_assert_int_eq(lm_gguf_get_u32(g, "t.i8", &u), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "'t.i8' = -100 (i8) does not fit u32"));
    ck_assert_int_eq(lm_gguf_get_u64(g, "t.i64", &q), LM_EFORMAT);
    ck_assert_int_eq(lm_gguf_get_i32(g, "t.i64", &i), LM_EFORMAT);
    ck_assert_int_eq(lm_gguf_get_u32(g, "t.str", &u), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "key 't.str' is str, not u32"));
    ck_assert_int_eq(lm_gguf_get_f32(g, "t.u8", &f), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "key 't.u8' is u8, not f32"));
    ck_assert_int_eq(lm_gguf_get_str(g, "t.bool", &s), LM_EFORMAT);
    ck_assert_int_eq(lm_gguf_get_bool(g, "t.u8", &bo), LM_EFORMAT);
    struct lm_gguf_arr a, sub, sub2;
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.str", &a), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "key 't.str' is str, not arr"));
    ck_assert_int_eq(lm_gguf_get_u32(g, "llama.block_count", &u), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "key 'llama.block_count' not found"));

    /* arrays */
    int64_t iv;
    double dv;
    size_t len;
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_u32", &a), LM_OK);
    ck_assert_int_eq(a.type, LM_GGUF_U32);
    ck_assert_uint_eq(a.n, 3);
    for (uint64_t k = 0; k < 3; k++) {
        ck_assert_int_eq(lm_gguf_arr_int(&a, k, &iv), LM_OK);
        ck_assert_int_eq(iv, (int64_t)k + 1);
    }
    ck_assert_int_eq(lm_gguf_arr_int(&a, 3, &iv), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "index 3 out of range (n = 3)"));
    ck_assert_int_eq(lm_gguf_arr_str(&a, 0, &s, &len), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "element 0 is u32, not str"));
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_str", &a), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_str(&a, 0, &s, &len), LM_OK);
    ck_assert_str_eq(s, "a");
    ck_assert_int_eq(lm_gguf_arr_str(&a, 1, &s, NULL), LM_OK);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(lm_gguf_arr_str(&a, 2, &s, &len), LM_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(s, "c\0d", 4), 0);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 0, &iv), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "element 0 is str, not number"));
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_arr", &a), LM_OK);
    ck_assert_int_eq(a.type, LM_GGUF_ARR);
    ck_assert_uint_eq(a.n, 2);
    ck_assert_int_eq(lm_gguf_arr_sub(&a, 0, &sub), LM_OK);
    ck_assert_int_eq(sub.type, LM_GGUF_I32);
    ck_assert_uint_eq(sub.n, 2);
    ck_assert_int_eq(lm_gguf_arr_int(&sub, 0, &iv), LM_OK);
    ck_assert_int_eq(iv, -7);
    ck_assert_int_eq(lm_gguf_arr_num(&sub, 1, &dv), LM_OK);
    ck_assert(dv == 8.0);
    ck_assert_int_eq(lm_gguf_arr_sub(&a, 1, &sub), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_sub(&sub, 0, &sub2), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_str(&sub2, 1, &s, &len), LM_OK);
    ck_assert_str_eq(s, "yz");
    ck_assert_int_eq(lm_gguf_arr_sub(&sub2, 0, &sub), LM_EFORMAT);
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_f32", &a), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_num(&a, 0, &dv), LM_OK);
    ck_assert(dv == 0.25);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 1, &iv), LM_OK); /* -4.0 holds an integer */
    ck_assert_int_eq(iv, -4);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 0, &iv), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "element 0 = 0.25 (f32) is not an int64"));
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_f64", &a), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_num(&a, 0, &dv), LM_OK);
    ck_assert(dv == 0.1);
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_bool", &a), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 1, &iv), LM_OK);
    ck_assert_int_eq(iv, 1);
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_i64", &a), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 0, &iv), LM_OK);
    ck_assert_int_eq(iv, -5);
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_u64", &a), LM_OK);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 0, &iv), LM_EFORMAT);
    ck_assert_int_eq(lm_gguf_arr_num(&a, 0, &dv), LM_OK);
    ck_assert(dv == 18446744073709551615.0);
    ck_assert_int_eq(lm_gguf_get_arr(g, "t.arr_empty", &a), LM_OK);
    ck_assert_uint_eq(a.n, 0);
    ck_assert_int_eq(lm_gguf_arr_int(&a, 0, &iv), LM_ERANGE);

    /* tensors: zero-copy views with ggml shapes and the bytes written */
    struct lm_tensor t;
    ck_assert_int_eq(lm_gguf_find_tensor(g, "a", &t), LM_OK);
    ck_assert_int_eq(t.dtype, LM_F32);
    ck_assert_int_eq(t.ndim, 2);
    ck_assert_int_eq(t.ne[0], 4);
    ck_assert_int_eq(t.ne[1], 3);
    ck_assert_int_eq(t.ne[2], 1);
    ck_assert_int_eq(t.nb[1], 16);
    ck_assert_str_eq(t.name, "a");
    ck_assert_int_eq(lm_gguf_find_tensor(g, "b", &t), LM_OK);
    ck_assert_int_eq(t.dtype, LM_Q4_0);
    ck_assert_int_eq(t.nb[0], 18);
    ck_assert_int_eq(t.nb[1], 36);
    ck_assert_uint_eq(lm_tensor_nbytes(&t), T_B_BYTES);
    for (int k = 0; k < T_B_BYTES; k++)
        ck_assert_uint_eq(((const uint8_t *)t.data)[k], (uint8_t)(k * 7 + 1));
    ck_assert_int_eq(lm_gguf_tensor(g, 2, &t), LM_OK);
    ck_assert_str_eq(t.name, "c");
    ck_assert_int_eq(t.dtype, LM_F16);
    ck_assert_int_eq(t.ndim, 1);
    ck_assert_uint_eq(((const uint8_t *)t.data)[9], 9 * 7 + 2);
    struct lm_gguf_tensor_info ti;
    ck_assert_int_eq(lm_gguf_tensor_info(g, 1, &ti), LM_OK);
    ck_assert_uint_eq(ti.offset, 64);
    ck_assert_str_eq(ti.type_name, "q4_0");
    ck_assert_uint_eq(ti.file_offset % 32, 0);
    ck_assert_int_eq(lm_gguf_tensor(g, 3, &t), LM_ERANGE);
    ck_assert_int_eq(lm_gguf_find_tensor(g, "d", &t), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'd' not found"));
}

START_TEST(small_v3) {
    make_tmpdir();
    struct gb b;
    build_small(&b, 3);
    struct lm_gguf *g = open_ok(&b, "small.gguf");
    check_small(g, 3);
    ck_assert_uint_eq(lm_gguf_alignment(g), 32);
    lm_gguf_close(g);
    /* the same image from memory */
    ck_assert_int_eq(lm_gguf_open_memory(b.p, b.n, "mem", &g), LM_OK);
    check_small(g, 3);
    lm_gguf_close(g);
    lm_gguf_close(NULL);
    free(b.p);
    rm_tmpdir();
}
END_TEST

START_TEST(small_v2) {
    make_tmpdir();
    struct gb b;
    build_small(&b, 2);
    struct lm_gguf *g = open_ok(&b, "small2.gguf");
    check_small(g, 2);
    lm_gguf_close(g);
    free(b.p);
    rm_tmpdir();
}
END_TEST

/* ---- corruptions: each gets its own status and message ------------------------------------ */

enum patch_kind { P32, P64, P8 };
struct corruption {
    const char *what, *mark;
    size_t delta; /* bytes after the mark */
    enum patch_kind kind;
    uint64_t value;
    lm_status status;
    const char *msg; /* substring of lm_last_error() */
};

static const struct corruption corruptions[] = {
    {"bad magic", "magic", 3, P8, 'X', LM_EFORMAT, "bad magic 47 47 55 58"},
    {"bad version", "version", 0, P32, 4, LM_EFORMAT, "bad version 4"},
    {"version 1", "version", 0, P32, 1, LM_EFORMAT, "version 1 is obsolete"},
    {"big-endian", "version", 0, P32, 0x03000000, LM_EFORMAT, "big-endian"},
    {"huge tensor count", "n_tensors", 0, P64, 1ull << 60, LM_EFORMAT,
     "tensor count 1152921504606846976 exceeds"},
    {"huge kv count", "n_kv", 0, P64, UINT64_MAX, LM_EFORMAT,
     "kv count 18446744073709551615 exceeds"},
    {"huge string length", "kv.str.len", 0, P64, 1ull << 62, LM_EFORMAT,
     "key 't.str': string length 4611686018427387904 at byte"},
    {"huge key length", "kv.i32", 0, P64, UINT64_MAX - 3, LM_EFORMAT,
     "metadata key: string length 18446744073709551612"},
    {"huge array count", "kv.arr_u32.n", 0, P64, 1ull << 61, LM_EFORMAT,
     "key 't.arr_u32': array count 2305843009213693952"},
    {"key not UTF-8", "kv.i32", 8 + 1, P8, 0xc0, LM_EFORMAT, "is not valid UTF-8"},
    {"duplicate key", "kv.i32", 8 + 2, P8, 'u', LM_EFORMAT, "duplicate key 't.u32'"},
    {"unknown value type", "kv.i32", 8 + 5, P32, 13, LM_EFORMAT,
     "key 't.i32': unknown value type 13"},
    {"unknown array type", "kv.arr_u32", 8 + 9 + 4, P32, 99, LM_EFORMAT,
     "key 't.arr_u32': unknown array element type 99"},
    {"bool not 0/1", "kv.bool", 8 + 6 + 4, P8, 2, LM_EFORMAT, "key 't.bool': bool byte 2"},
    {"unknown ggml type", "t.a.type", 0, P32, 4, LM_EFORMAT,
     "tensor 'a' has unknown GGML type id 4"},
    {"ggml type past the table", "t.a.type", 0, P32, 0x80000000u, LM_EFORMAT,
     "unknown GGML type id 2147483648"},
    {"n_dims 0", "t.a.ndim", 0, P32, 0, LM_EFORMAT, "tensor 'a' has n_dims 0"},
    {"n_dims 5", "t.a.ndim", 0, P32, 5, LM_EFORMAT, "tensor 'a' has n_dims 5"},
    {"dim 0", "t.a.ne", 8, P64, 0, LM_EFORMAT, "tensor 'a' dim 1 = 0 is zero"},
    {"dim past int64", "t.a.ne", 0, P64, 1ull << 63, LM_EFORMAT, "dim 0 = 9223372036854775808"},
    {"dims overflow", "t.b.ne", 8, P64, 1ull << 60, LM_EFORMAT,
     "tensor 'b' dim 1 = 1152921504606846976 is too large (overflow)"},
    {"partial block", "t.b.ne", 0, P64, 48, LM_EFORMAT,
     "tensor 'b': ne[0] = 48 is not a whole number of q4_0 blocks of 32"},
    {"offset past the end", "t.c.offset", 0, P64, 4096, LM_EFORMAT,
     "tensor 'c' bytes [4096, 4096 + 10) lie past the end"},
    {"offset near 2^64", "t.c.offset", 0, P64, UINT64_MAX - 31, LM_EFORMAT, "lie past the end"},
    {"misaligned offset", "t.b.offset", 0, P64, 65, LM_EFORMAT,
     "tensor 'b' offset 65 is not a multiple of the alignment 32"},
    {"overlap", "t.b.offset", 0, P64, 32, LM_EFORMAT, "tensors 'a' [0, +48) and 'b' [32, +72)"},
    {"alignment 0", "alignment", 0, P32, 0, LM_EFORMAT,
     "general.alignment = 0 is not a nonzero power of two"},
    {"alignment 48", "alignment", 0, P32, 48, LM_EFORMAT,
     "general.alignment = 48 is not a nonzero power of two"},
    {"alignment not an integer", "kv.alignment", 8 + 17, P32, LM_GGUF_F32, LM_EFORMAT,
     "key 'general.alignment' is f32, not an integer"},
    {"duplicate tensor", "t.c", 8, P8, 'a', LM_EFORMAT, "duplicate tensor name 'a'"},
};

static void patch(struct gb *b, const struct corruption *c) {
    size_t at = gb_at(b, c->mark) + c->delta;
    switch (c->kind) {
    case P8: b->p[at] = (uint8_t)c->value; break;
    case P32: patch32(b, at, (uint32_t)c->value); break;
    case P64: patch64(b, at, c->value); break;
    }
}

START_TEST(corruptions_named) {
    make_tmpdir();
    for (size_t k = 0; k < sizeof corruptions / sizeof corruptions[0]; k++) {
        const struct corruption *c = &corruptions[k];
        struct gb b;
        build_small(&b, 3);
        patch(&b, c);
        struct lm_gguf *g = (struct lm_gguf *)1;
        lm_clear_error();
        lm_status s = lm_gguf_open(write_file("bad.gguf", b.p, b.n), &g);
        ck_assert_msg(s == c->status, "%s: status %d, want %d (%s)", c->what, s, c->status,
                      lm_last_error());
        ck_assert_ptr_null(g);
        ck_assert_msg(strstr(lm_last_error(), c->msg), "%s: message '%s' lacks '%s'", c->what,
                      lm_last_error(), c->msg);
        ck_assert_msg(strstr(lm_last_error(), "bad.gguf"), "%s: message '%s' lacks the file",
                      c->what, lm_last_error());
        free(b.p);
    }
    struct lm_gguf *g;
    ck_assert_int_eq(lm_gguf_open("/nonexistent/x.gguf", &g), LM_EIO);
    ck_assert_int_eq(lm_gguf_open(write_file("empty.gguf", "", 0), &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "truncated at byte 0 reading the magic"));
    ck_assert_int_eq(lm_gguf_open(NULL, &g), LM_EINVAL);
    rm_tmpdir();
}
END_TEST

/* Every prefix of the file (header, data and padding) fails cleanly with LM_EFORMAT. */
START_TEST(every_truncation_fails) {
    struct gb b;
    build_small(&b, 3);
    size_t data = gb_at(&b, "data");
    for (size_t n = 0; n < data + 160 + T_C_BYTES; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees any read past it */
        memcpy(copy, b.p, n);
        struct lm_gguf *g;
        lm_status s = lm_gguf_open_memory(copy, n, "cut", &g);
        ck_assert_msg(s == LM_EFORMAT, "prefix of %zu bytes: status %d", n, s);
        ck_assert_msg(strlen(lm_last_error()) > 0, "prefix of %zu: no message", n);
        free(copy);
    }
    free(b.p);
}
END_TEST

/* A tensor of a type lmrt does not compute with is listed, and unsupported when asked for. */
START_TEST(unsupported_type_listed) {
    struct gb b;
    build_small(&b, 3);
    patch32(&b, gb_at(&b, "t.b.type"), 6); /* Q5_0: 2 rows of 2 blocks of 22 bytes */
    struct lm_gguf *g;
    ck_assert_msg(lm_gguf_open_memory(b.p, b.n, NULL, &g) == LM_OK, "%s", lm_last_error());
    ck_assert_int_eq(lm_gguf_n_tensors(g), 3);
    struct lm_tensor t;
    ck_assert_int_eq(lm_gguf_find_tensor(g, "b", &t), LM_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "tensor 'b' has type q5_0 (GGML id 6)"));
    ck_assert_int_eq(lm_gguf_tensor(g, 1, &t), LM_EUNSUPPORTED);
    struct lm_gguf_tensor_info ti;
    ck_assert_int_eq(lm_gguf_tensor_info(g, 1, &ti), LM_OK);
    ck_assert_uint_eq(ti.nbytes, 88);
    ck_assert_int_eq(lm_gguf_find_tensor(g, "a", &t), LM_OK);
    lm_gguf_close(g);
    free(b.p);
}
END_TEST

/* general.alignment 1 can leave an F32 tensor misaligned: listed, no view. */
START_TEST(misaligned_view_refused) {
    for (int name_len = 1; name_len <= 4; name_len++) {
        struct gb b;
        memset(&b, 0, sizeof b);
        gb_put(&b, "GGUF", 4), u32(&b, 3), u64(&b, 1), u64(&b, 1);
        key(&b, "general.alignment", LM_GGUF_U32), u32(&b, 1);
        str(&b, "wxyz", (size_t)name_len), u32(&b, 1), u64(&b, 1), u32(&b, 0), u64(&b, 0);
        gb_put(&b, &(float){1.0f}, 4);
        uint8_t *copy = aligned_alloc(64, 128); /* a page-like aligned base */
        memcpy(copy, b.p, b.n);
        struct lm_gguf *g;
        ck_assert_msg(lm_gguf_open_memory(copy, b.n, NULL, &g) == LM_OK, "%s", lm_last_error());
        struct lm_tensor t;
        lm_status s = lm_gguf_tensor(g, 0, &t);
        if ((b.n - 4) % 4) {
            ck_assert_int_eq(s, LM_EUNSUPPORTED);
            ck_assert_ptr_nonnull(strstr(lm_last_error(), "is not aligned to its 4-byte elements"));
        } else {
            ck_assert_int_eq(s, LM_OK);
            ck_assert(*(const float *)t.data == 1.0f);
        }
        lm_gguf_close(g);
        free(copy);
        free(b.p);
    }
}
END_TEST

/* Arrays of arrays nest up to the limit and no deeper. */
static void build_nested(struct gb *b, int depth) {
    memset(b, 0, sizeof *b);
    gb_put(b, "GGUF", 4), u32(b, 3), u64(b, 0), u64(b, 1);
    key(b, "deep", LM_GGUF_ARR);
    for (int d = 1; d < depth; d++)
        u32(b, LM_GGUF_ARR), u64(b, 1);
    u32(b, LM_GGUF_U8), u64(b, 1), u8(b, 42);
}

START_TEST(nesting_bounded) {
    struct gb b;
    struct lm_gguf *g;
    build_nested(&b, GGUF_MAX_NESTING);
    ck_assert_msg(lm_gguf_open_memory(b.p, b.n, NULL, &g) == LM_OK, "%s", lm_last_error());
    struct lm_gguf_arr a;
    ck_assert_int_eq(lm_gguf_get_arr(g, "deep", &a), LM_OK);
    for (int d = 1; d < GGUF_MAX_NESTING; d++)
        ck_assert_int_eq(lm_gguf_arr_sub(&a, 0, &a), LM_OK);
    int64_t v;
    ck_assert_int_eq(lm_gguf_arr_int(&a, 0, &v), LM_OK);
    ck_assert_int_eq(v, 42);
    lm_gguf_close(g);
    free(b.p);
    build_nested(&b, GGUF_MAX_NESTING + 1);
    ck_assert_int_eq(lm_gguf_open_memory(b.p, b.n, NULL, &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "key 'deep': arrays nested deeper than 16"));
    free(b.p);
}
END_TEST

/* ---- split sets --------------------------------------------------------------------------- */

/* Part no (0-based) of count: split keys, one F32 tensor "t<no>" of 4 floats = no + k. */
static void build_part(struct gb *b, int no, int count, int total, const char *tname) {
    memset(b, 0, sizeof *b);
    gb_put(b, "GGUF", 4), u32(b, 3), u64(b, 1), u64(b, no == 0 ? 4 : 2);
    if (no == 0) {
        key(b, "general.name", LM_GGUF_STR), str(b, "split", 5);
        key(b, "split.tensors.count", LM_GGUF_I32), u32(b, (uint32_t)total);
    }
    key(b, "split.no", LM_GGUF_U16), gb_put(b, &(uint16_t){(uint16_t)no}, 2);
    key(b, "split.count", LM_GGUF_U16), gb_put(b, &(uint16_t){(uint16_t)count}, 2);
    str(b, tname, strlen(tname)), u32(b, 1), u64(b, 4), u32(b, 0), u64(b, 0);
    pad_to(b, 32);
    for (int k = 0; k < 4; k++)
        gb_put(b, &(float){(float)(no + k)}, 4);
}

static void write_part(int no, int count, int total, const char *tname, int file_no) {
    struct gb b;
    char name[64];
    build_part(&b, no, count, total, tname);
    snprintf(name, sizeof name, "set-%05d-of-%05d.gguf", file_no + 1, count);
    write_file(name, b.p, b.n);
    free(b.p);
}

static lm_status open_set(const char *part_name, struct lm_gguf **g) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, part_name);
    return lm_gguf_open(path, g);
}

START_TEST(split_sets) {
    make_tmpdir();
    for (int i = 0; i < 3; i++) {
        char t[16];
        snprintf(t, sizeof t, "t%d", i);
        write_part(i, 3, 3, t, i);
    }
    /* any part's name opens the set */
    for (int i = 1; i <= 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "set-%05d-of-00003.gguf", i);
        struct lm_gguf *g;
        ck_assert_msg(open_set(name, &g) == LM_OK, "%s", lm_last_error());
        ck_assert_int_eq(lm_gguf_n_parts(g), 3);
        ck_assert_int_eq(lm_gguf_n_tensors(g), 3);
        ck_assert_int_eq(lm_gguf_n_kv(g), 4); /* the first part's metadata */
        const char *s;
        ck_assert_int_eq(lm_gguf_get_str(g, "general.name", &s), LM_OK);
        for (int k = 0; k < 3; k++) {
            char t[16];
            snprintf(t, sizeof t, "t%d", k);
            struct lm_tensor v;
            ck_assert_int_eq(lm_gguf_find_tensor(g, t, &v), LM_OK);
            ck_assert(((const float *)v.data)[3] == (float)(k + 3));
            struct lm_gguf_tensor_info ti;
            ck_assert_int_eq(lm_gguf_tensor_info(g, k, &ti), LM_OK);
            ck_assert_int_eq(ti.part, k);
        }
        lm_gguf_close(g);
    }
    struct lm_gguf *g;
    /* split.no disagreeing with the name */
    write_part(2, 3, 3, "t1x", 1);
    ck_assert_int_eq(open_set("set-00001-of-00003.gguf", &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "split.no = 2, split.count = 3, but its name "
                                                  "says part 2 of 3"));
    /* the same tensor name in two parts */
    write_part(1, 3, 3, "t0", 1);
    ck_assert_int_eq(open_set("set-00003-of-00003.gguf", &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "duplicate tensor name 't0'"));
    /* split.tensors.count wrong */
    write_part(1, 3, 3, "t1", 1);
    write_part(0, 3, 5, "t0", 0);
    ck_assert_int_eq(open_set("set-00002-of-00003.gguf", &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "split.tensors.count = 5 but the 3 part(s) "
                                                  "hold 3 tensors"));
    write_part(0, 3, 3, "t0", 0);
    /* a missing part */
    char path[256];
    snprintf(path, sizeof path, "%s/set-00003-of-00003.gguf", tmpdir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(open_set("set-00001-of-00003.gguf", &g), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "split part 3 of 3 is missing"));
    /* a part renamed so its name no longer says it is split */
    struct gb b;
    build_part(&b, 0, 3, 3, "t0");
    ck_assert_int_eq(lm_gguf_open(write_file("renamed.gguf", b.p, b.n), &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "an unsplit name means part 1 of 1"));
    ck_assert_int_eq(lm_gguf_open_memory(b.p, b.n, NULL, &g), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "is part of a 3-part split set"));
    free(b.p);
    rm_tmpdir();
}
END_TEST

/* ---- the real file against gguf-py's table ----------------------------------------------- */

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
    const char *path = gt_model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
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

static Suite *gguf_suite(void) {
    Suite *s = suite_create("gguf");
    TCase *tc = tcase_create("gguf");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, small_v3);
    tcase_add_test(tc, small_v2);
    tcase_add_test(tc, corruptions_named);
    tcase_add_test(tc, every_truncation_fails);
    tcase_add_test(tc, unsupported_type_listed);
    tcase_add_test(tc, misaligned_view_refused);
    tcase_add_test(tc, nesting_bounded);
    tcase_add_test(tc, split_sets);
    tcase_add_test(tc, smollm2_golden);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(gguf_suite()); }
