/* tests/check_gguf_write.c - the GGUF writer (rt/gguf_write.c) and the HF <-> GGUF name table
 * (models/names.c).
 *
 * Round trips: a file with every metadata type, string arrays, replaced and removed keys and
 * tensors of several types and odd sizes, written in uneven chunks, must read back through
 * lm_gguf_open with the same keys, values, shapes and bytes, each tensor aligned; every key of
 * the real SmolLM2 file (nested arrays, 49k-string vocabularies) must survive copy_kv. Misuse
 * and I/O failures (a missing directory, a file-size limit hit mid-write) must return a status
 * naming the path or tensor, and leave no partial file behind.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../models/names.h"
#include "../rt/gguf.h"
#include "testutil.h"

static char tmpdir[64];

static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/check_gguf_write.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}
static void rm_tmpdir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
static const char *tmp_path(const char *name) {
    static char path[4][256];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

#define OK(x) ck_assert_msg((x) == LM_OK, "%s: %s", #x, lm_last_error())

/* Tensor bytes: byte i of tensor t is (i * 13 + t * 7) & 255. */
static uint8_t *pattern(size_t n, int t) {
    uint8_t *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 13 + (size_t)t * 7) & 255);
    return p;
}

static const struct {
    const char *name;
    int32_t type; /* GGML id */
    int ndim;
    int64_t ne[4];
    size_t bytes;
} tens[] = {
    {"a.weight", 0, 2, {3, 5}, 3 * 5 * 4},            /* f32, 60 bytes: padding follows */
    {"b.weight", 2, 3, {64, 3, 2}, 2 * 3 * 2 * 18},   /* q4_0 */
    {"c", 1, 1, {7}, 14},                             /* f16 */
    {"d.weight", 12, 2, {256, 3}, 3 * 144},           /* q4_K */
    {"e", 6, 1, {32}, 22},                            /* q5_0: a type lmrt does not compute */
    {"f.weight", 30, 4, {2, 3, 1, 2}, 2 * 3 * 2 * 2}, /* bf16 */
};
#define N_TENS (int)(sizeof tens / sizeof tens[0])

static void write_sample(const char *path, uint32_t align) {
    struct lm_gguf_writer *w;
    OK(lm_gguf_writer_open(path, &w));
    OK(lm_gguf_writer_set_str(w, "general.architecture", "llama", 5));
    if (align) OK(lm_gguf_writer_set_u32(w, "general.alignment", align));
    uint8_t u8v = 200;
    int8_t i8v = -100;
    uint16_t u16v = 60000;
    int16_t i16v = -30000;
    uint64_t u64v = (1ull << 63) + 5;
    int64_t i64v = -(1ll << 40);
    double f64v = 3.25;
    OK(lm_gguf_writer_set_scalar(w, "t.u8", LM_GGUF_U8, &u8v));
    OK(lm_gguf_writer_set_scalar(w, "t.i8", LM_GGUF_I8, &i8v));
    OK(lm_gguf_writer_set_scalar(w, "t.u16", LM_GGUF_U16, &u16v));
    OK(lm_gguf_writer_set_scalar(w, "t.i16", LM_GGUF_I16, &i16v));
    OK(lm_gguf_writer_set_u32(w, "t.u32", 4000000000u));
    OK(lm_gguf_writer_set_i32(w, "t.i32", -2000000000));
    OK(lm_gguf_writer_set_f32(w, "t.f32", 1.5f));
    OK(lm_gguf_writer_set_bool(w, "t.bool", true));
    OK(lm_gguf_writer_set_str(w, "t.str", "h\xc3\xa9llo\0x", 8)); /* embedded NUL kept */
    OK(lm_gguf_writer_set_scalar(w, "t.u64", LM_GGUF_U64, &u64v));
    OK(lm_gguf_writer_set_scalar(w, "t.i64", LM_GGUF_I64, &i64v));
    OK(lm_gguf_writer_set_scalar(w, "t.f64", LM_GGUF_F64, &f64v));
    int32_t arr[3] = {-1, 0, 70000};
    OK(lm_gguf_writer_set_arr(w, "t.arr_i32", LM_GGUF_I32, arr, 3));
    OK(lm_gguf_writer_set_arr(w, "t.arr_empty", LM_GGUF_F32, NULL, 0));
    const char *strs[3] = {"a", "", "c\0d"};
    size_t lens[3] = {1, 0, 3};
    OK(lm_gguf_writer_set_arr_str(w, "t.arr_str", strs, lens, 3));
    OK(lm_gguf_writer_set_u32(w, "t.replaced", 1));
    OK(lm_gguf_writer_set_u32(w, "t.removed", 9));
    OK(lm_gguf_writer_set_u32(w, "t.after", 3));
    OK(lm_gguf_writer_set_str(w, "t.replaced", "now a string", 12)); /* keeps its place */
    OK(lm_gguf_writer_remove(w, "t.removed"));
    OK(lm_gguf_writer_remove(w, "t.never_set"));
    for (int t = 0; t < N_TENS; t++)
        OK(lm_gguf_writer_add_tensor(w, tens[t].name, tens[t].type, tens[t].ndim, tens[t].ne));
    OK(lm_gguf_writer_begin_data(w));
    /* stream every tensor in chunks of 1, 2, 3, ... bytes, some crossing tensor ends */
    size_t total = 0;
    for (int t = 0; t < N_TENS; t++)
        total += tens[t].bytes;
    uint8_t *all = malloc(total);
    size_t at = 0;
    for (int t = 0; t < N_TENS; t++) {
        uint8_t *p = pattern(tens[t].bytes, t);
        memcpy(all + at, p, tens[t].bytes);
        at += tens[t].bytes;
        free(p);
    }
    for (size_t pos = 0, k = 1; pos < total; pos += k, k++) {
        size_t n = total - pos < k ? total - pos : k;
        OK(lm_gguf_writer_write(w, all + pos, n));
    }
    free(all);
    ck_assert_ptr_null(lm_gguf_writer_current(w));
    OK(lm_gguf_writer_finish(w));
}

static void check_sample(const char *path, uint32_t align) {
    struct lm_gguf *g;
    OK(lm_gguf_open(path, &g));
    ck_assert_uint_eq(lm_gguf_version(g), 3);
    ck_assert_uint_eq(lm_gguf_alignment(g), align ? align : 32);
    const char *order[] = {"general.architecture", "general.alignment", "t.u8", "t.i8"};
    ck_assert_str_eq(lm_gguf_kv_key(g, 0), order[0]);
    if (align) ck_assert_str_eq(lm_gguf_kv_key(g, 1), order[1]);
    ck_assert_int_eq(lm_gguf_n_kv(g), align ? 19 : 18);
    ck_assert_int_eq(lm_gguf_find_kv(g, "t.removed"), -1);
    uint32_t u32v;
    int32_t i32v;
    uint64_t u64v;
    float f;
    bool b;
    const char *s;
    OK(lm_gguf_get_u32(g, "t.u8", &u32v));
    ck_assert_uint_eq(u32v, 200);
    OK(lm_gguf_get_i32(g, "t.i8", &i32v));
    ck_assert_int_eq(i32v, -100);
    OK(lm_gguf_get_u32(g, "t.u16", &u32v));
    ck_assert_uint_eq(u32v, 60000);
    OK(lm_gguf_get_i32(g, "t.i16", &i32v));
    ck_assert_int_eq(i32v, -30000);
    OK(lm_gguf_get_u32(g, "t.u32", &u32v));
    ck_assert_uint_eq(u32v, 4000000000u);
    OK(lm_gguf_get_i32(g, "t.i32", &i32v));
    ck_assert_int_eq(i32v, -2000000000);
    OK(lm_gguf_get_f32(g, "t.f32", &f));
    ck_assert_float_eq(f, 1.5f);
    OK(lm_gguf_get_bool(g, "t.bool", &b));
    ck_assert(b);
    OK(lm_gguf_get_u64(g, "t.u64", &u64v));
    ck_assert_uint_eq(u64v, (1ull << 63) + 5);
    OK(lm_gguf_get_f32(g, "t.f64", &f));
    ck_assert_float_eq(f, 3.25f);
    ck_assert_int_eq(lm_gguf_kv_type(g, lm_gguf_find_kv(g, "t.i64")), LM_GGUF_I64);
    OK(lm_gguf_get_str(g, "t.replaced", &s));
    ck_assert_str_eq(s, "now a string");
    ck_assert_int_lt(lm_gguf_find_kv(g, "t.replaced"), lm_gguf_find_kv(g, "t.after"));
    const struct gguf_kv *kv = &g->kv[lm_gguf_find_kv(g, "t.str")];
    ck_assert_uint_eq(kv->v.str.len, 8);
    ck_assert(!memcmp(kv->v.str.s, "h\xc3\xa9llo\0x", 8));
    struct lm_gguf_arr a;
    int64_t iv;
    OK(lm_gguf_get_arr(g, "t.arr_i32", &a));
    ck_assert_uint_eq(a.n, 3);
    OK(lm_gguf_arr_int(&a, 2, &iv));
    ck_assert_int_eq(iv, 70000);
    OK(lm_gguf_arr_int(&a, 0, &iv));
    ck_assert_int_eq(iv, -1);
    OK(lm_gguf_get_arr(g, "t.arr_empty", &a));
    ck_assert_uint_eq(a.n, 0);
    ck_assert_int_eq(a.type, LM_GGUF_F32);
    size_t len;
    OK(lm_gguf_get_arr(g, "t.arr_str", &a));
    ck_assert_uint_eq(a.n, 3);
    OK(lm_gguf_arr_str(&a, 2, &s, &len));
    ck_assert_uint_eq(len, 3);
    ck_assert(!memcmp(s, "c\0d", 3));
    OK(lm_gguf_arr_str(&a, 1, &s, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(lm_gguf_n_tensors(g), N_TENS);
    for (int t = 0; t < N_TENS; t++) {
        struct lm_gguf_tensor_info ti;
        OK(lm_gguf_tensor_info(g, t, &ti));
        ck_assert_str_eq(ti.name, tens[t].name);
        ck_assert_int_eq(ti.ggml_type, tens[t].type);
        ck_assert_int_eq(ti.ndim, tens[t].ndim);
        for (int d = 0; d < tens[t].ndim; d++)
            ck_assert_int_eq(ti.ne[d], tens[t].ne[d]);
        ck_assert_uint_eq(ti.nbytes, tens[t].bytes);
        ck_assert_uint_eq(ti.file_offset % (align ? align : 32), 0);
        uint8_t *p = pattern(tens[t].bytes, t);
        ck_assert_msg(!memcmp(ti.data, p, tens[t].bytes), "tensor %s bytes", ti.name);
        free(p);
    }
    lm_gguf_close(g);
}

START_TEST(round_trip) {
    make_tmpdir();
    write_sample(tmp_path("a.gguf"), 0);
    check_sample(tmp_path("a.gguf"), 0);
    write_sample(tmp_path("b.gguf"), 64);
    check_sample(tmp_path("b.gguf"), 64);
    rm_tmpdir();
}
END_TEST

/* Every key of the real file, copied (and tensor infos kept), reads back equal. */
START_TEST(copy_real_keys) {
    make_tmpdir();
    struct lm_gguf *g, *h;
    OK(lm_gguf_open(tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"), &g));
    struct lm_gguf_writer *w;
    const char *out = tmp_path("keys.gguf");
    OK(lm_gguf_writer_open(out, &w));
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++)
        OK(lm_gguf_writer_copy_kv(w, g, i));
    OK(lm_gguf_writer_finish(w)); /* metadata only: finish writes the header itself */
    OK(lm_gguf_open(out, &h));
    ck_assert_int_eq(lm_gguf_n_kv(h), lm_gguf_n_kv(g));
    ck_assert_int_eq(lm_gguf_n_tensors(h), 0);
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++) {
        const struct gguf_kv *a = &g->kv[i], *b = &h->kv[i];
        ck_assert_str_eq(a->key, b->key);
        ck_assert_int_eq(a->type, b->type);
        if (a->type == LM_GGUF_STR) {
            ck_assert_uint_eq(a->v.str.len, b->v.str.len);
            ck_assert(!memcmp(a->v.str.s, b->v.str.s, a->v.str.len));
        } else if (a->type == LM_GGUF_ARR) {
            ck_assert_int_eq(a->v.arr.type, b->v.arr.type);
            ck_assert_uint_eq(a->v.arr.n, b->v.arr.n);
            for (uint64_t k = 0; k < a->v.arr.n; k++) {
                if (a->v.arr.type == LM_GGUF_STR) {
                    const char *sa, *sb;
                    size_t la, lb;
                    OK(lm_gguf_arr_str(&a->v.arr, k, &sa, &la));
                    OK(lm_gguf_arr_str(&b->v.arr, k, &sb, &lb));
                    ck_assert_msg(la == lb && !memcmp(sa, sb, la), "%s[%llu]", a->key,
                                  (unsigned long long)k);
                } else {
                    double da, db;
                    OK(lm_gguf_arr_num(&a->v.arr, k, &da));
                    OK(lm_gguf_arr_num(&b->v.arr, k, &db));
                    ck_assert_msg(da == db, "%s[%llu]", a->key, (unsigned long long)k);
                }
            }
        } else {
            ck_assert_msg(!memcmp(&a->v, &b->v, sizeof a->v), "%s", a->key);
        }
    }
    lm_gguf_close(h);
    lm_gguf_close(g);
    rm_tmpdir();
}
END_TEST

static void expect(lm_status got, lm_status want, const char *needle) {
    ck_assert_msg(got == want, "status %d, want %d (%s)", got, want, lm_last_error());
    ck_assert_msg(strstr(lm_last_error(), needle), "'%s' not in '%s'", needle, lm_last_error());
}

START_TEST(misuse_named) {
    make_tmpdir();
    struct lm_gguf_writer *w;
    const char *p = tmp_path("m.gguf");
    OK(lm_gguf_writer_open(p, &w));
    int64_t ne[2] = {33, 2};
    expect(lm_gguf_writer_add_tensor(w, "q", 8, 2, ne), LM_EINVAL, "'q'"); /* 33 % 32 */
    ne[0] = 64;
    expect(lm_gguf_writer_add_tensor(w, "x", 99, 2, ne), LM_EINVAL, "unknown GGML type 99");
    expect(lm_gguf_writer_add_tensor(w, "x", 0, 5, ne), LM_EINVAL, "'x'");
    int64_t bad[2] = {4, 0};
    expect(lm_gguf_writer_add_tensor(w, "x", 0, 2, bad), LM_EINVAL, "dim 1");
    char longname[80];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    expect(lm_gguf_writer_add_tensor(w, longname, 0, 2, ne), LM_EINVAL, "nnnn");
    OK(lm_gguf_writer_add_tensor(w, "ok", 0, 2, ne));
    expect(lm_gguf_writer_add_tensor(w, "ok", 0, 2, ne), LM_EINVAL, "'ok' added twice");
    expect(lm_gguf_writer_write(w, "x", 1), LM_EINVAL, "before begin_data");
    expect(lm_gguf_writer_set_arr(w, "k", LM_GGUF_STR, "x", 1), LM_EINVAL, "'k'");
    uint8_t two = 2;
    expect(lm_gguf_writer_set_scalar(w, "k", LM_GGUF_BOOL, &two), LM_EINVAL, "'k'");
    expect(lm_gguf_writer_set_u32(w, "", 1), LM_EINVAL, "empty");
    OK(lm_gguf_writer_begin_data(w));
    expect(lm_gguf_writer_set_u32(w, "late", 1), LM_EINVAL, "'late'");
    float data[64 * 2] = {0};
    OK(lm_gguf_writer_write(w, data, 100));
    ck_assert_str_eq(lm_gguf_writer_current(w), "ok");
    expect(lm_gguf_writer_finish(w), LM_EINVAL, "'ok' got 100 of its 512 bytes");
    ck_assert_int_ne(access(p, F_OK), 0); /* the partial file is gone */

    OK(lm_gguf_writer_open(p, &w));
    OK(lm_gguf_writer_add_tensor(w, "ok", 0, 2, ne));
    OK(lm_gguf_writer_begin_data(w));
    OK(lm_gguf_writer_write(w, data, sizeof data));
    expect(lm_gguf_writer_write(w, data, 4), LM_EINVAL, "past the last tensor");
    expect(lm_gguf_writer_finish(w), LM_EINVAL, "past the last tensor"); /* sticky */
    ck_assert_int_ne(access(p, F_OK), 0);

    OK(lm_gguf_writer_open(p, &w));
    OK(lm_gguf_writer_set_u32(w, "general.alignment", 48));
    expect(lm_gguf_writer_begin_data(w), LM_EINVAL, "general.alignment");
    lm_gguf_writer_free(w);
    ck_assert_int_ne(access(p, F_OK), 0);
    lm_gguf_writer_free(NULL);
    rm_tmpdir();
}
END_TEST

START_TEST(io_errors_name_path) {
    make_tmpdir();
    struct lm_gguf_writer *w = NULL;
    expect(lm_gguf_writer_open(tmp_path("no/such/dir.gguf"), &w), LM_EIO, "no/such/dir.gguf");
    ck_assert_ptr_null(w);
    /* a file-size limit makes a write fail part way (EFBIG; SIGXFSZ ignored): Check runs each
     * test in its own process, so the limit ends with it */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {1 << 20, 1 << 20};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    const char *p = tmp_path("big.gguf");
    OK(lm_gguf_writer_open(p, &w));
    int64_t ne[2] = {1024, 1024};
    OK(lm_gguf_writer_add_tensor(w, "big", 0, 2, ne));
    OK(lm_gguf_writer_begin_data(w));
    static float row[1024];
    lm_status s = LM_OK;
    for (int r = 0; r < 1024 && !s; r++)
        s = lm_gguf_writer_write(w, row, sizeof row);
    if (!s)
        s = lm_gguf_writer_finish(w);
    else
        ck_assert_int_eq(lm_gguf_writer_finish(w), s);
    expect(s, LM_EIO, "big.gguf");
    ck_assert_int_ne(access(p, F_OK), 0);
    rm_tmpdir();
}
END_TEST

/* ---- names --------------------------------------------------------------------------------- */

START_TEST(names_both_ways) {
    char a[128], b[128];
    static const struct {
        enum lm_arch arch;
        const char *gguf, *hf;
    } pairs[] = {
        {LM_ARCH_LLAMA, "token_embd.weight", "model.embed_tokens.weight"},
        {LM_ARCH_LLAMA, "blk.12.attn_q.weight", "model.layers.12.self_attn.q_proj.weight"},
        {LM_ARCH_LLAMA, "blk.0.attn_k.bias", "model.layers.0.self_attn.k_proj.bias"},
        {LM_ARCH_MISTRAL, "blk.31.ffn_down.weight", "model.layers.31.mlp.down_proj.weight"},
        {LM_ARCH_LLAMA, "output.weight", "lm_head.weight"},
        {LM_ARCH_LFM2, "token_embd_norm.weight", "model.embedding_norm.weight"},
        {LM_ARCH_LFM2, "blk.3.shortconv.conv.weight", "model.layers.3.conv.conv.weight"},
        {LM_ARCH_LFM2, "blk.2.attn_output.weight", "model.layers.2.self_attn.out_proj.weight"},
        {LM_ARCH_LFM2, "blk.2.attn_k_norm.weight", "model.layers.2.self_attn.k_layernorm.weight"},
        {LM_ARCH_LFM2, "blk.9.ffn_up.weight", "model.layers.9.feed_forward.w3.weight"},
        {LM_ARCH_BERT, "blk.5.layer_output_norm.bias", "encoder.layer.5.output.LayerNorm.bias"},
        {LM_ARCH_BERT, "token_types.weight", "embeddings.token_type_embeddings.weight"},
        {LM_ARCH_BERT, "blk.0.ffn_up.weight", "encoder.layer.0.intermediate.dense.weight"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ck_assert_ptr_nonnull(lm_names_hf(pairs[i].arch, pairs[i].gguf, a, sizeof a));
        ck_assert_str_eq(a, pairs[i].hf);
        ck_assert_ptr_nonnull(lm_names_gguf(pairs[i].arch, pairs[i].hf, b, sizeof b));
        ck_assert_str_eq(b, pairs[i].gguf);
    }
    /* other spellings: bert's prefix and gamma/beta, lfm2's output_norm (read, not written) */
    ck_assert_str_eq(
        lm_names_gguf(LM_ARCH_BERT, "bert.encoder.layer.1.output.LayerNorm.gamma", a, sizeof a),
        "blk.1.layer_output_norm.weight");
    ck_assert_str_eq(lm_names_gguf(LM_ARCH_BERT, "bert.embeddings.LayerNorm.beta", a, sizeof a),
                     "token_embd_norm.bias");
    ck_assert_str_eq(lm_names_hf(LM_ARCH_LFM2, "output_norm.weight", a, sizeof a),
                     "model.embedding_norm.weight");
    /* no counterpart, wrong arch, malformed layer numbers, no room */
    ck_assert_ptr_null(lm_names_gguf(LM_ARCH_BERT, "embeddings.position_ids", a, sizeof a));
    ck_assert_ptr_null(lm_names_gguf(LM_ARCH_BERT, "pooler.dense.weight", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_BERT, "blk.0.attn_norm.weight", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_LLAMA, "blk.01.attn_q.weight", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_LLAMA, "blk..attn_q.weight", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_LLAMA, "blk.1x.attn_q.weight", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_LLAMA, "blk.1.attn_q", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_COUNT, "output.weight", a, sizeof a));
    ck_assert_ptr_null(lm_names_hf(LM_ARCH_LLAMA, "blk.1.attn_q.weight", a, 10));
    /* transforms */
    ck_assert_uint_eq(lm_names_xform(LM_ARCH_LLAMA, "blk.4.attn_q.weight"), LM_NAMES_PERMUTE_Q);
    ck_assert_uint_eq(lm_names_xform(LM_ARCH_MISTRAL, "blk.4.attn_k.bias"), LM_NAMES_PERMUTE_K);
    ck_assert_uint_eq(lm_names_xform(LM_ARCH_LFM2, "blk.4.attn_q.weight"), 0);
    ck_assert_uint_eq(lm_names_xform(LM_ARCH_LFM2, "blk.0.shortconv.conv.weight"),
                      LM_NAMES_SQUEEZE);
}
END_TEST

/* The permutation is a bijection that pairs x[i] with x[i + hd/2] of each head. */
START_TEST(permute_rows) {
    for (int64_t heads = 1; heads <= 4; heads++)
        for (int64_t hd = 2; hd <= 16; hd += 2) {
            int64_t rows = heads * hd;
            int seen[64] = {0};
            for (int64_t r = 0; r < rows; r++) {
                int64_t s = lm_names_permute_row(r, rows, heads);
                ck_assert(s >= 0 && s < rows);
                seen[s]++;
                if (r % 2 == 0) /* GGUF pair (r, r+1) is HF pair (s, s + hd/2) */
                    ck_assert_int_eq(lm_names_permute_row(r + 1, rows, heads), s + hd / 2);
                ck_assert_int_eq(s / hd, r / hd); /* within the head */
            }
            for (int64_t r = 0; r < rows; r++)
                ck_assert_int_eq(seen[r], 1);
        }
}
END_TEST

static Suite *gguf_write_suite(void) {
    Suite *s = suite_create("gguf_write");
    TCase *tc = tcase_create("gguf_write");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, copy_real_keys);
    tcase_add_test(tc, misuse_named);
    tcase_add_test(tc, io_errors_name_path);
    tcase_add_test(tc, names_both_ways);
    tcase_add_test(tc, permute_rows);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(gguf_write_suite()); }
