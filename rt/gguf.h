/* rt/gguf.h - internal to the GGUF reader (rt/gguf.c parses, rt/gguf_kv.c answers queries), and
 * the extra entry points tests, fuzzers and tools use: opening a buffer in memory and reading a
 * tensor's raw file facts (GGUF type id, offsets) that struct lm_tensor does not carry.
 *
 * Layout of a parsed file: every string (keys, string values, string array elements, tensor
 * names) is a NUL-terminated copy in one chunked pool; numeric arrays point into the mapping
 * (little-endian, possibly unaligned: read with memcpy); string arrays hold struct gguf_str
 * elements in the pool, arrays of arrays hold struct lm_gguf_arr elements in the pool.
 */
#ifndef LMRT_GGUF_H
#define LMRT_GGUF_H

#include "lmrt.h"
#include "strmap.h"

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_NESTING       16 /* arrays of arrays deeper than this are rejected */

struct gguf_str {
    const char *s; /* NUL-terminated copy; may hold embedded NULs (len counts them) */
    size_t len;
};

struct gguf_kv {
    const char *key;
    enum lm_gguf_type type;
    union {
        uint64_t u; /* U8 U16 U32 U64 */
        int64_t i;  /* I8 I16 I32 I64 */
        double f;   /* F32 F64 */
        bool b;
        struct gguf_str str;
        struct lm_gguf_arr arr;
    } v;
};

struct gguf_tensor {
    const char *name;
    int32_t ggml_type;
    int32_t ndim;
    int64_t ne[LM_MAX_DIMS];
    uint64_t offset;     /* from the start of its part's data section */
    uint64_t nbytes;     /* bytes the tensor spans */
    const uint8_t *data; /* in the mapping of its part */
    int32_t part;        /* 0-based split part */
};

struct gguf_pool_blk; /* chunk of the string pool (rt/gguf.c) */

struct lm_gguf {
    uint32_t version;
    uint32_t alignment;
    const char *path; /* in the pool; "<memory>" for lm_gguf_open_memory */
    struct gguf_kv *kv;
    int64_t n_kv;
    struct gguf_tensor *tensors;
    int64_t n_tensors;
    struct lm_strmap kv_idx, tensor_idx; /* name -> index */
    struct lm_mapped_file *maps;         /* one per split part; NULL when opened from memory */
    int32_t n_parts;
    uint64_t *data_offset; /* file offset of each part's data section */
    struct gguf_pool_blk *pool;
};

/* Facts about a GGUF tensor type id (all of ggml's, not only those lmrt computes with). NULL
 * for an id no ggml version defines. */
struct gguf_type_info {
    const char *name;
    int32_t blck;
    uint32_t size;
};
const struct gguf_type_info *gguf_type_info(int32_t ggml_type);

/* Parse a GGUF image in memory (not copied: data must outlive the result). No split handling:
 * it is one part. label names the buffer in error messages (NULL = "<memory>"). */
lm_status lm_gguf_open_memory(const void *data, size_t size, const char *label,
                              struct lm_gguf **out);

/* The file facts of tensor i, for any type (supported or not). */
struct lm_gguf_tensor_info {
    const char *name;
    int32_t ggml_type;
    const char *type_name; /* "q4_1", "q5_0", ... */
    int32_t ndim;
    int64_t ne[LM_MAX_DIMS];
    uint64_t offset;      /* from the start of its part's data section */
    uint64_t file_offset; /* from the start of its part's file */
    uint64_t nbytes;
    int32_t part;
    const void *data;
};
lm_status lm_gguf_tensor_info(const struct lm_gguf *g, int64_t i, struct lm_gguf_tensor_info *out);
uint32_t lm_gguf_alignment(const struct lm_gguf *g);
int32_t lm_gguf_n_parts(const struct lm_gguf *g);

/* ---- writer (rt/gguf_write.c): GGUF v3, streamed ----------------------------------------------
 * open -> set_* / copy_kv / remove / add_tensor (any order) -> begin_data -> write the tensors'
 * bytes in add order, in chunks of any size -> finish. Keys keep the order they were first set
 * in; setting one again replaces its value. finish (which also frees) reports a short tensor or
 * an I/O error naming the path and then removes the partial file; free abandons a writer (and
 * its file). After an error every call returns it again. */
struct lm_gguf_writer;
lm_status lm_gguf_writer_open(const char *path, struct lm_gguf_writer **out);
lm_status lm_gguf_writer_set_scalar(struct lm_gguf_writer *w, const char *key,
                                    enum lm_gguf_type type, const void *val);
lm_status lm_gguf_writer_set_u32(struct lm_gguf_writer *w, const char *key, uint32_t v);
lm_status lm_gguf_writer_set_i32(struct lm_gguf_writer *w, const char *key, int32_t v);
lm_status lm_gguf_writer_set_f32(struct lm_gguf_writer *w, const char *key, float v);
lm_status lm_gguf_writer_set_bool(struct lm_gguf_writer *w, const char *key, bool v);
lm_status lm_gguf_writer_set_str(struct lm_gguf_writer *w, const char *key, const char *str,
                                 size_t len);
/* A numeric array: n elements of type, host (= little-endian) order, bools as bytes 0/1. */
lm_status lm_gguf_writer_set_arr(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type,
                                 const void *data, uint64_t n);
/* A string array; lens NULL = strlen of each. */
lm_status lm_gguf_writer_set_arr_str(struct lm_gguf_writer *w, const char *key,
                                     const char *const *strs, const size_t *lens, uint64_t n);
/* Key i of g with its value, any type (nested arrays included). */
lm_status lm_gguf_writer_copy_kv(struct lm_gguf_writer *w, const struct lm_gguf *g, int64_t i);
lm_status lm_gguf_writer_remove(struct lm_gguf_writer *w, const char *key); /* absent: no-op */
/* Declare a tensor: name < 64 bytes, unique; ggml_type any known GGML id; ne[0] whole blocks. */
lm_status lm_gguf_writer_add_tensor(struct lm_gguf_writer *w, const char *name, int32_t ggml_type,
                                    int ndim, const int64_t *ne);
lm_status lm_gguf_writer_begin_data(struct lm_gguf_writer *w);
lm_status lm_gguf_writer_write(struct lm_gguf_writer *w, const void *data, size_t n);
/* Name of the tensor the next bytes go to (NULL before begin_data or when all are written). */
const char *lm_gguf_writer_current(const struct lm_gguf_writer *w);
lm_status lm_gguf_writer_finish(struct lm_gguf_writer *w);
void lm_gguf_writer_free(struct lm_gguf_writer *w);

/* Shared by the parser and the getters: integer value of a scalar integer kv, as a sign and
 * magnitude pair; false for non-integer types. */
bool gguf_kv_int(const struct gguf_kv *kv, bool *neg, uint64_t *mag);

#endif
