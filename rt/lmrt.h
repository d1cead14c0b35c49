/* lmrt.h - the one public header of lmrt, a transformer runtime in C11.
 *
 * Contract: every fallible call returns an lm_status (LM_OK = 0, errors negative) and, on error,
 * leaves a per-thread message naming what is wrong (lm_last_error()). Nothing here aborts on bad
 * input or prints to stdout. Tensors never own memory: they view an mmap, an arena or a buffer.
 * Ops take the destination first, inputs const, and the context last.
 */
#ifndef LMRT_H
#define LMRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------------------------ */

typedef enum lm_status {
    LM_OK = 0,
    LM_EIO = -1,          /* a file could not be opened, read or mapped */
    LM_EFORMAT = -2,      /* a file or message is malformed or truncated */
    LM_ENOMEM = -3,       /* an allocation failed or an arena is full */
    LM_EINVAL = -4,       /* a bad argument: shape, dtype, null, mixed devices */
    LM_EUNSUPPORTED = -5, /* valid but not implemented here (dtype, ISA, feature) */
    LM_ERANGE = -6,       /* a value past a limit: context length, index, count */
    LM_ENOTFOUND = -7,    /* a named key, tensor or file is absent */
} lm_status;

const char *lm_status_str(lm_status s);
/* The message of the last error raised on this thread ("" if none). */
const char *lm_last_error(void);
/* Record an error for this thread and return s, so callers can `return lm_error(...)`. */
lm_status lm_error(lm_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lm_clear_error(void);

/* ---- logging (stderr; level from LMRT_LOG=error|warn|info|debug, default warn) ------------ */

enum lm_log_level { LM_LOG_ERROR, LM_LOG_WARN, LM_LOG_INFO, LM_LOG_DEBUG };
void lm_log(enum lm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool lm_log_enabled(enum lm_log_level level);

/* ---- time -------------------------------------------------------------------------------- */

uint64_t lm_time_ns(void); /* monotonic */

/* ---- dtypes ------------------------------------------------------------------------------ */

enum lm_dtype {
    LM_F32,
    LM_F16,
    LM_BF16,
    LM_Q8_0,
    LM_Q4_0,
    LM_Q4_1,
    LM_Q4_K,
    LM_Q5_K,
    LM_Q6_K,
    LM_I32,
    LM_DTYPE_COUNT
};

struct lm_dtype_info {
    const char *name;  /* "f32", "q4_0", ... as llama.cpp names them */
    int32_t blck;      /* elements per block (1 for plain types) */
    uint32_t size;     /* bytes per block */
    int32_t gguf_type; /* GGML type id in GGUF files */
    bool quantized;
};

const struct lm_dtype_info *lm_dtype_info(enum lm_dtype t); /* NULL if t is out of range */
const char *lm_dtype_name(enum lm_dtype t);
/* dtype for a GGUF type id; LM_EUNSUPPORTED naming the id if lmrt does not read it. */
lm_status lm_dtype_from_gguf(int32_t gguf_type, enum lm_dtype *out);
/* Bytes of a row of n elements; 0 if n is not a whole number of blocks. */
size_t lm_row_size(enum lm_dtype t, int64_t n);

/* IEEE half and bfloat16 scalars (round to nearest even; NaN stays NaN). */
float lm_f16_to_f32(uint16_t h);
uint16_t lm_f32_to_f16(float f);
float lm_bf16_to_f32(uint16_t h);
uint16_t lm_f32_to_bf16(float f);

/* ---- tensors ----------------------------------------------------------------------------- */

#define LM_MAX_DIMS 4

struct lm_buffer; /* a device buffer (rt/backend.h); NULL for host memory */

struct lm_tensor {
    enum lm_dtype dtype;
    int32_t ndim;
    int64_t ne[LM_MAX_DIMS]; /* elements per dim; ne[0] is contiguous; unused dims are 1 */
    int64_t nb[LM_MAX_DIMS]; /* byte strides; nb[0] is the block size for quantized types */
    void *data;
    struct lm_buffer *buf;
    const char *name;
};

/* A contiguous tensor over data. LM_EINVAL if ne[0] is not a whole number of blocks or a dim < 1.
 */
lm_status lm_tensor_init(struct lm_tensor *t, enum lm_dtype dtype, int ndim, const int64_t *ne,
                         void *data);
/* Contiguous 1-4 dim shorthands for callers that know their shapes are valid. */
struct lm_tensor lm_tensor_1d(enum lm_dtype dtype, int64_t ne0, void *data);
struct lm_tensor lm_tensor_2d(enum lm_dtype dtype, int64_t ne0, int64_t ne1, void *data);
struct lm_tensor lm_tensor_3d(enum lm_dtype dtype, int64_t ne0, int64_t ne1, int64_t ne2,
                              void *data);

int64_t lm_tensor_nelem(const struct lm_tensor *t);
int64_t lm_tensor_nrows(const struct lm_tensor *t); /* ne[1]*ne[2]*ne[3] */
size_t lm_tensor_nbytes(const struct lm_tensor *t); /* span from data to the last byte + 1 */
bool lm_tensor_is_contiguous(const struct lm_tensor *t);
bool lm_tensor_same_shape(const struct lm_tensor *a, const struct lm_tensor *b);
/* Pointer to element row (i1, i2, i3). */
static inline void *lm_tensor_row(const struct lm_tensor *t, int64_t i1, int64_t i2, int64_t i3) {
    return (char *)t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* Views share src's data. slice: elements [start, start+len) of dim (blocks for dim 0 of a
 * quantized type must stay whole). reshape: src must be contiguous. transpose: swap dims d0, d1
 * (not dim 0 of a quantized type). */
lm_status lm_tensor_slice(struct lm_tensor *dst, const struct lm_tensor *src, int dim,
                          int64_t start, int64_t len);
lm_status lm_tensor_reshape(struct lm_tensor *dst, const struct lm_tensor *src, int ndim,
                            const int64_t *ne);
lm_status lm_tensor_transpose(struct lm_tensor *dst, const struct lm_tensor *src, int d0, int d1);

/* ---- memory: 64-byte-aligned arena ------------------------------------------------------- */

#define LM_ALIGN 64

struct lm_arena {
    uint8_t *base;
    size_t size, used;
};

lm_status lm_arena_init(struct lm_arena *a, size_t size);
void lm_arena_free(struct lm_arena *a);
/* n bytes, 64-byte aligned; NULL and LM_ENOMEM (naming sizes) when the arena is full. */
void *lm_arena_alloc(struct lm_arena *a, size_t n);
/* Allocate a contiguous tensor of the given shape from the arena. */
lm_status lm_arena_tensor(struct lm_arena *a, struct lm_tensor *t, enum lm_dtype dtype, int ndim,
                          const int64_t *ne);
static inline size_t lm_arena_mark(const struct lm_arena *a) { return a->used; }
static inline void lm_arena_reset(struct lm_arena *a, size_t mark) { a->used = mark; }

void *lm_aligned_alloc(size_t n); /* 64-byte aligned, zeroed; NULL + LM_ENOMEM on failure */
void lm_aligned_free(void *p);

/* ---- read-only file mapping -------------------------------------------------------------- */

struct lm_mapped_file {
    const uint8_t *data;
    size_t size;
};

lm_status lm_file_map(const char *path, struct lm_mapped_file *out);
void lm_file_unmap(struct lm_mapped_file *f);

/* ---- threads ----------------------------------------------------------------------------- */

struct lm_pool;
/* One chunk of a task: chunk ith of nth (nth = lm_pool_chunks), to split work by. */
typedef void (*lm_task_fn)(void *arg, int ith, int nth);

int lm_cpu_physical_cores(void);
/* n_threads 0 = physical cores. The calling thread is worker 0. */
lm_status lm_pool_create(int n_threads, struct lm_pool **out);
void lm_pool_free(struct lm_pool *p);
int lm_pool_size(const struct lm_pool *p);
/* Chunks per run: 1 for one thread, else a few per thread. */
int lm_pool_chunks(const struct lm_pool *p);
/* Run fn(arg, ith, nth) once for every chunk ith in [0, nth), on whichever workers claim them,
 * and wait for all; a descheduled worker's share is taken by the others. Chunks of one run may
 * not wait for each other (no barrier: a two-phase op runs two tasks). Not reentrant. */
void lm_pool_run(struct lm_pool *p, lm_task_fn fn, void *arg);
/* Inside a task: the index in [0, lm_pool_size) of the worker running this chunk (the caller
 * is 0); chunks running at the same time have different ones, for per-worker scratch. */
int lm_pool_worker(void);

/* ---- kernel levels ----------------------------------------------------------------------- */

/* Each level's table starts from the one below it on the same architecture and overrides what
 * it implements: avx512 = F/BW/VL/DQ (+ AVX512-BF16 dot products where the CPU has them);
 * avx512+vnni adds vpdpbusd quantized dot products; avx512+amx adds AMX tile GEMMs for
 * prefill-shaped matmuls; neon is ARMv8 Advanced SIMD, neon+dotprod adds sdot (ARMv8.2). */
enum lm_isa {
    LM_ISA_REF,
    LM_ISA_AVX2,
    LM_ISA_AVX512,
    LM_ISA_AVX512_VNNI,
    LM_ISA_AMX,
    LM_ISA_NEON,
    LM_ISA_NEON_DOTPROD,
    LM_ISA_COUNT
};

const char *lm_isa_name(enum lm_isa isa);
/* ISA from its name: "ref", "avx2", "avx512", "avx512+vnni", "avx512+amx", "neon",
 * "neon+dotprod"; LM_EINVAL for an unknown name. */
lm_status lm_isa_parse(const char *name, enum lm_isa *out);
/* True when this build has kernels for isa and this CPU can run them. */
bool lm_isa_available(enum lm_isa isa);
/* The level to use: LMRT_ISA if set (LM_EUNSUPPORTED if unavailable), else the best one. */
lm_status lm_isa_select(enum lm_isa *out);

/* ---- op context: thread pool + kernel table + scratch ------------------------------------ */
/* A context runs one op at a time (its pool and work memory are shared by that op's threads):
 * threads that issue ops concurrently each need their own context. */

struct lm_ctx;

/* n_threads 0 = physical cores; ISA from lm_isa_select(). */
lm_status lm_ctx_create(int n_threads, struct lm_ctx **out);
void lm_ctx_free(struct lm_ctx *ctx);
/* Force a kernel level (LM_EUNSUPPORTED if unavailable). */
lm_status lm_ctx_set_isa(struct lm_ctx *ctx, enum lm_isa isa);
enum lm_isa lm_ctx_isa(const struct lm_ctx *ctx);
int lm_ctx_threads(const struct lm_ctx *ctx);

/* ---- ops ---------------------------------------------------------------------------------
 * Shapes use ggml order: ne[0] first. Unless said otherwise inputs and outputs are F32, the op
 * runs over every row (ne[1..3]), and dst may alias an input of the same shape. Output rows
 * must be contiguous (nb[0] == element size); inputs may be any strided view.
 */

/* y (N, M) = x (K, M) W^T, W (K, N) any dtype, x and y F32. Quantized W: x rows are quantized
 * to 8-bit blocks and dotted with integer arithmetic. Extra dims of x/y broadcast over W. */
lm_status lm_matmul(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                    struct lm_ctx *ctx);

/* y = x / rms(x) * w per row (w (n) or NULL). */
lm_status lm_rmsnorm(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                     float eps, struct lm_ctx *ctx);
/* y = (x - mean) / sqrt(var + eps) * w + b per row (w, b (n) or NULL). */
lm_status lm_layernorm(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                       const struct lm_tensor *b, float eps, struct lm_ctx *ctx);
/* y = x / max(||x||, eps) per row. */
lm_status lm_l2norm(struct lm_tensor *y, const struct lm_tensor *x, float eps, struct lm_ctx *ctx);

enum lm_rope_mode {
    LM_ROPE_ADJACENT, /* rotate (x[2i], x[2i+1]): GGUF llama */
    LM_ROPE_HALF,     /* rotate (x[i], x[i+n_rot/2]): HF / NeoX */
};
struct lm_rope_params {
    int64_t n_rot;             /* leading dims rotated (even, <= head dim); 0 = head dim */
    float base;                /* theta base, e.g. 10000 */
    float freq_scale;          /* positions are multiplied by this; 0 = 1 */
    const float *freq_factors; /* (n_rot/2) divisors of each frequency, or NULL */
    enum lm_rope_mode mode;
};
/* x, y (hd, n_head, n_tok); pos I32 (n_tok). */
lm_status lm_rope(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *pos,
                  const struct lm_rope_params *p, struct lm_ctx *ctx);

/* y = softmax(x * scale) per row (x * scale rounded to f32, then max-subtracted). A row that is
 * all -inf becomes all zeros (PyTorch gives NaN): a fully masked row contributes nothing. A NaN
 * or +inf anywhere in a row makes the whole row NaN. scale must be finite. */
lm_status lm_softmax(struct lm_tensor *y, const struct lm_tensor *x, float scale,
                     struct lm_ctx *ctx);

/* Key j is visible to query i when seq ids match (k_seq[j] == q_seq[i]; a negative k_seq marks
 * padding), and, if causal, k_pos[j] <= q_pos[i], and, if window > 0, q_pos[i] - k_pos[j] <
 * window. NULL arrays mean: q_pos[i] = n_kv - n_q + i, k_pos[j] = j, all seq ids 0. A query
 * with no visible key gets zeros. Checked: positions >= 0 (except padding keys'), window >= 0,
 * scale finite, and n_q <= n_kv when q_pos is NULL. */
struct lm_attn_params {
    float scale; /* 0 = 1/sqrt(hd) */
    bool causal;
    int32_t window;
    const int32_t *q_pos, *k_pos; /* (n_q), (n_kv) */
    const int32_t *q_seq, *k_seq; /* (n_q), (n_kv) */
};
/* o, q (hd, n_head, n_q); k, v (hd, n_kv_head, n_kv) F32 or F16; n_head % n_kv_head == 0 (GQA).
 * Keys are visited in tiles with an online softmax: no (n_q, n_kv) score matrix is formed. */
lm_status lm_attention(struct lm_tensor *o, const struct lm_tensor *q, const struct lm_tensor *k,
                       const struct lm_tensor *v, const struct lm_attn_params *p,
                       struct lm_ctx *ctx);

enum lm_gelu_kind { LM_GELU_ERF, LM_GELU_TANH };
lm_status lm_silu(struct lm_tensor *y, const struct lm_tensor *x, struct lm_ctx *ctx);
lm_status lm_gelu(struct lm_tensor *y, const struct lm_tensor *x, enum lm_gelu_kind kind,
                  struct lm_ctx *ctx);
/* y = silu(gate) * up. */
lm_status lm_swiglu(struct lm_tensor *y, const struct lm_tensor *gate, const struct lm_tensor *up,
                    struct lm_ctx *ctx);
/* y = a + b, y = a * b; b broadcasts when each b->ne[i] divides a->ne[i]. */
lm_status lm_add(struct lm_tensor *y, const struct lm_tensor *a, const struct lm_tensor *b,
                 struct lm_ctx *ctx);
lm_status lm_mul(struct lm_tensor *y, const struct lm_tensor *a, const struct lm_tensor *b,
                 struct lm_ctx *ctx);
lm_status lm_scale(struct lm_tensor *y, const struct lm_tensor *x, float s, struct lm_ctx *ctx);

/* y (n, n_idx) F32 = rows idx (I32 (n_idx)) of table (n, n_rows) of any dtype. An index out of
 * range is LM_ERANGE naming it. */
lm_status lm_get_rows(struct lm_tensor *y, const struct lm_tensor *table,
                      const struct lm_tensor *idx, struct lm_ctx *ctx);

/* Causal depthwise conv over time: x, y (C, T); w (k, C); state (C, k-1) holds the previous
 * k-1 inputs (oldest first) and is updated to the last k-1; NULL state = zeros, not kept. */
lm_status lm_conv1d_causal(struct lm_tensor *y, const struct lm_tensor *x,
                           const struct lm_tensor *w, struct lm_tensor *state, struct lm_ctx *ctx);

/* y (n, n_seq) = mean of the rows of x (n, T) in [offsets[s], offsets[s+1]). */
lm_status lm_mean_pool(struct lm_tensor *y, const struct lm_tensor *x, const int32_t *offsets,
                       int64_t n_seq, struct lm_ctx *ctx);

/* dst (n, ...) any dtype = quantized src F32 rows; and back. Same shape. */
lm_status lm_quantize(struct lm_tensor *dst, const struct lm_tensor *src, struct lm_ctx *ctx);
lm_status lm_dequantize(struct lm_tensor *dst, const struct lm_tensor *src, struct lm_ctx *ctx);

/* ---- GGUF (rt/gguf.c) ---------------------------------------------------------------------
 * Reader for GGUF v2 and v3 over mmap. Every count, length and offset is bounded by the file;
 * a bad file is LM_EFORMAT naming the key, tensor or byte offset. Strings returned are
 * NUL-terminated copies owned by the lm_gguf (keys and values may hold any bytes; the length
 * is given where embedded NULs matter). "model-00001-of-00003.gguf" opens all three parts. */

/* clang-format off */
enum lm_gguf_type {
    LM_GGUF_U8, LM_GGUF_I8, LM_GGUF_U16, LM_GGUF_I16, LM_GGUF_U32, LM_GGUF_I32, LM_GGUF_F32,
    LM_GGUF_BOOL, LM_GGUF_STR, LM_GGUF_ARR, LM_GGUF_U64, LM_GGUF_I64, LM_GGUF_F64,
    LM_GGUF_TYPE_COUNT
};
/* clang-format on */
struct lm_gguf;
/* An array value: n elements of type (numbers read with lm_gguf_arr_num/_int, strings with
 * lm_gguf_arr_str, nested arrays with lm_gguf_arr_sub). */
struct lm_gguf_arr {
    enum lm_gguf_type type;
    uint64_t n;
    const void *impl;
};

lm_status lm_gguf_open(const char *path, struct lm_gguf **out);
void lm_gguf_close(struct lm_gguf *g);
uint32_t lm_gguf_version(const struct lm_gguf *g);
int64_t lm_gguf_n_kv(const struct lm_gguf *g);
const char *lm_gguf_kv_key(const struct lm_gguf *g, int64_t i);
enum lm_gguf_type lm_gguf_kv_type(const struct lm_gguf *g, int64_t i);
int64_t lm_gguf_find_kv(const struct lm_gguf *g, const char *key); /* -1 if absent */
const char *lm_gguf_type_name(enum lm_gguf_type t);
/* Typed getters: LM_ENOTFOUND for a missing key, LM_EFORMAT for a wrong type or a value out of
 * the target's range (any integer type converts when the value fits; f32 and f64 both read as
 * float), each naming the key. */
lm_status lm_gguf_get_u32(const struct lm_gguf *g, const char *key, uint32_t *v);
lm_status lm_gguf_get_i32(const struct lm_gguf *g, const char *key, int32_t *v);
lm_status lm_gguf_get_u64(const struct lm_gguf *g, const char *key, uint64_t *v);
lm_status lm_gguf_get_f32(const struct lm_gguf *g, const char *key, float *v);
lm_status lm_gguf_get_bool(const struct lm_gguf *g, const char *key, bool *v);
lm_status lm_gguf_get_str(const struct lm_gguf *g, const char *key, const char **v);
lm_status lm_gguf_get_arr(const struct lm_gguf *g, const char *key, struct lm_gguf_arr *v);
/* Element i of a numeric array (LM_EFORMAT naming the index for a string/array element). */
lm_status lm_gguf_arr_int(const struct lm_gguf_arr *a, uint64_t i, int64_t *v);
lm_status lm_gguf_arr_num(const struct lm_gguf_arr *a, uint64_t i, double *v);
/* Element i of a string array (len may be NULL), of an array of arrays. */
lm_status lm_gguf_arr_str(const struct lm_gguf_arr *a, uint64_t i, const char **s, size_t *len);
lm_status lm_gguf_arr_sub(const struct lm_gguf_arr *a, uint64_t i, struct lm_gguf_arr *sub);
/* Tensors: zero-copy views into the mapping, name set. A tensor of a GGUF type lmrt has no
 * dtype for (Q5_0, Q2_K, ...) is listed but LM_EUNSUPPORTED naming it when asked for. */
int64_t lm_gguf_n_tensors(const struct lm_gguf *g);
lm_status lm_gguf_tensor(const struct lm_gguf *g, int64_t i, struct lm_tensor *t);
lm_status lm_gguf_find_tensor(const struct lm_gguf *g, const char *name, struct lm_tensor *t);

/* ---- safetensors (rt/safetensors.c) ------------------------------------------------------
 * path: a .safetensors file, a model.safetensors.index.json (shards beside it), or a directory
 * holding either. F32, F16 and BF16 tensors are zero-copy views (HF shape [out, in] becomes
 * ne = {in, out}); other dtypes are listed but LM_EUNSUPPORTED when asked for. */
struct lm_st;
lm_status lm_st_open(const char *path, struct lm_st **out);
void lm_st_close(struct lm_st *st);
int64_t lm_st_n_tensors(const struct lm_st *st);
/* Name and safetensors dtype string ("F32", "I64", ...) of tensor i. */
const char *lm_st_tensor_name(const struct lm_st *st, int64_t i);
const char *lm_st_tensor_dtype(const struct lm_st *st, int64_t i);
lm_status lm_st_tensor(const struct lm_st *st, int64_t i, struct lm_tensor *t);
lm_status lm_st_find_tensor(const struct lm_st *st, const char *name, struct lm_tensor *t);

/* ---- tokenizers (models/tokenizer/) -------------------------------------------------------
 * Byte-level BPE (GPT-2 style), SentencePiece BPE and WordPiece, from GGUF metadata or from a
 * Hugging Face tokenizer.json (+ tokenizer_config.json beside it). */

/* clang-format off */
enum lm_tok_kind { LM_TOK_BPE, LM_TOK_SPM, LM_TOK_WPM };
enum lm_tok_special { LM_TOK_BOS, LM_TOK_EOS, LM_TOK_EOT, LM_TOK_UNK, LM_TOK_PAD, LM_TOK_SEP,
                      LM_TOK_CLS, LM_TOK_MASK, LM_TOK_SPECIAL_COUNT };
/* clang-format on */
enum {
    LM_TOK_ADD_SPECIAL = 1,   /* encode: add BOS/EOS or CLS/SEP as the model's flags say */
    LM_TOK_PARSE_SPECIAL = 2, /* encode: special (control) tokens written in the text match;
                               * user-defined added tokens always match, as in HF and llama.cpp */
    LM_TOK_SKIP_SPECIAL = 4,  /* decode: control tokens produce no text */
};
struct lm_tokenizer;
struct lm_tokens {
    int32_t *ids;
    int64_t n, cap;
};
struct lm_text {
    char *s; /* NUL-terminated */
    size_t n, cap;
};
lm_status lm_tokenizer_from_gguf(const struct lm_gguf *g, struct lm_tokenizer **out);
lm_status lm_tokenizer_from_json(const char *path, struct lm_tokenizer **out);
void lm_tokenizer_free(struct lm_tokenizer *t);
enum lm_tok_kind lm_tokenizer_kind(const struct lm_tokenizer *t);
const char *lm_tokenizer_pre(const struct lm_tokenizer *t); /* pre-tokenizer name, or "" */
int32_t lm_tokenizer_n_vocab(const struct lm_tokenizer *t);
int32_t lm_tokenizer_special(const struct lm_tokenizer *t, enum lm_tok_special which); /* -1 */
const char *lm_tokenizer_piece(const struct lm_tokenizer *t, int32_t id); /* vocab string */
/* Append the ids of text[0..len) to out (grown with realloc). Invalid UTF-8 is encoded as the
 * model's tokenizer does (bytes or U+FFFD), never rejected. */
lm_status lm_tokenize(const struct lm_tokenizer *t, const char *text, size_t len, unsigned flags,
                      struct lm_tokens *out);
/* Append the text of ids to out; LM_ERANGE naming an id outside the vocabulary. */
lm_status lm_detokenize(const struct lm_tokenizer *t, const int32_t *ids, int64_t n, unsigned flags,
                        struct lm_text *out);
/* Streaming decode: feed one id at a time; only whole UTF-8 characters reach out, the bytes of
 * a partial one wait in the stream (an invalid sequence comes out as U+FFFD). */
struct lm_detok_stream {
    unsigned char pending[8];
    int n_pending;
    bool started;
};
lm_status lm_detok_push(const struct lm_tokenizer *t, struct lm_detok_stream *st, int32_t id,
                        unsigned flags, struct lm_text *out);
lm_status lm_detok_flush(struct lm_detok_stream *st, struct lm_text *out);
void lm_tokens_free(struct lm_tokens *v);
void lm_text_free(struct lm_text *v);
/* Append s[0..n) to out, keeping it NUL-terminated; LM_ENOMEM leaves out as it was. */
lm_status lm_text_append(struct lm_text *out, const char *s, size_t n);

/* ---- model hyper-parameters (models/hparams.c) ----------------------------------------------
 * From GGUF metadata (general.architecture + "<arch>.*" keys) or a Hugging Face config.json
 * (model_type llama, mistral, lfm2, bert; defaults as transformers has them). A missing key, a
 * wrong type or a value out of range is LM_EFORMAT / LM_ERANGE naming the key; an architecture
 * or setting lmrt does not run is LM_EUNSUPPORTED naming it. */
#define LM_MAX_LAYERS 256
enum lm_arch { LM_ARCH_LLAMA, LM_ARCH_MISTRAL, LM_ARCH_LFM2, LM_ARCH_BERT, LM_ARCH_COUNT };
enum lm_rope_scaling {
    LM_ROPE_SCALING_NONE,
    LM_ROPE_SCALING_LINEAR,
    LM_ROPE_SCALING_YARN,
    LM_ROPE_SCALING_LLAMA3
};
enum lm_pooling { LM_POOLING_NONE, LM_POOLING_MEAN, LM_POOLING_CLS, LM_POOLING_LAST };
struct lm_hparams {
    enum lm_arch arch;
    int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_ff;
    int32_t n_head, n_head_kv;              /* n_head_kv: the largest over layers */
    int32_t head_dim, n_rot;                /* n_rot: leading dims of a head that RoPE rotates */
    int32_t n_head_kv_layer[LM_MAX_LAYERS]; /* per layer; lfm2: 0 = short-conv layer */
    float rope_base, norm_eps;              /* norm_eps: RMSNorm, or LayerNorm for bert */
    enum lm_rope_scaling rope_scaling;
    float rope_factor;                   /* 1 when not scaled */
    int32_t rope_n_ctx_orig;             /* context the scaling stretches (0 = n_ctx_train) */
    float rope_low_freq, rope_high_freq; /* llama3 scaling factors */
    int32_t sliding_window;              /* 0 = full attention */
    bool tied_output;                    /* the output projection is the token embedding */
    enum lm_pooling pooling; /* bert: sentence-transformers pooling (NONE if not given) */
    int32_t n_type_vocab;    /* bert: token types (0 if unknown) */
    int32_t conv_l_cache;    /* lfm2: short-conv kernel length */
};
const char *lm_arch_name(enum lm_arch a); /* "llama", ...; "?" if out of range */
const char *lm_pooling_name(enum lm_pooling p);
lm_status lm_hparams_from_gguf(const struct lm_gguf *g, struct lm_hparams *hp);
/* json[0..len): the text of a config.json (need not be NUL-terminated). */
lm_status lm_hparams_from_config(const char *json, size_t len, struct lm_hparams *hp);
/* path: a config.json or the directory holding it; in a sentence-transformers directory the
 * pooling comes from modules.json and the Pooling module's config.json. */
lm_status lm_hparams_from_dir(const char *path, struct lm_hparams *hp);

/* ---- models and sessions (models/) -------------------------------------------------------
 * A model is the weights (zero-copy views of the mmap where dtype allows), hyper-parameters and
 * tokenizer of one file: a .gguf (any part of a split set) or a Hugging Face directory
 * (config.json + safetensors + tokenizer.json). A session owns what one stream of work needs:
 * the op context, the KV cache (f32 or f16), per-sequence conv state and one activation arena
 * sized at creation; lm_forward never allocates. Many sessions may share one model. */
struct lm_model;
struct lm_session;

lm_status lm_model_load(const char *path, struct lm_model **out);
void lm_model_free(struct lm_model *m);
const struct lm_hparams *lm_model_hparams(const struct lm_model *m);
const struct lm_tokenizer *lm_model_tokenizer(const struct lm_model *m);
const char *lm_model_name(const struct lm_model *m);          /* general.name or directory */
const char *lm_model_chat_template(const struct lm_model *m); /* Jinja source, or NULL */
size_t lm_model_weight_bytes(const struct lm_model *m);       /* bytes of all bound weights */

struct lm_session_opts {
    int32_t n_ctx;           /* positions per sequence; 0 = min(n_ctx_train, 4096) */
    int32_t n_seq;           /* sequences held at once; 0 = 1 (bert: 64) */
    int32_t n_batch;         /* most tokens per lm_forward; 0 = 512 */
    int32_t n_outputs;       /* most rows with logits per lm_forward; 0 = n_seq */
    int n_threads;           /* 0 = physical cores */
    enum lm_dtype kv_dtype;  /* LM_F32 (the zero value) or LM_F16 */
    enum lm_pooling pooling; /* bert: LM_POOLING_NONE = the model's own */
    bool no_normalize;       /* bert: skip the L2 normalisation of pooled embeddings */
    bool no_truncate;        /* bert: a text over the position limit is LM_ERANGE, not cut */
};
lm_status lm_session_create(struct lm_model *m, const struct lm_session_opts *opts,
                            struct lm_session **out); /* opts NULL = all defaults */
void lm_session_free(struct lm_session *s);
struct lm_ctx *lm_session_ctx(struct lm_session *s);
int32_t lm_session_n_ctx(const struct lm_session *s);
int32_t lm_session_n_seq(const struct lm_session *s);
int32_t lm_session_n_batch(const struct lm_session *s);
/* Tokens held for sequence seq (its next position); -1 if seq is out of range. */
int32_t lm_session_seq_len(const struct lm_session *s, int32_t seq);
/* Keep the first n positions of seq (0 clears it, conv state included). Conv state cannot be
 * rewound: on lfm2 only n == 0 or n == length is allowed (else LM_EUNSUPPORTED). */
lm_status lm_session_seq_keep(struct lm_session *s, int32_t seq, int32_t n);

/* Tokens of one or many sequences. Each sequence's tokens continue it in order: the k-th token
 * of sequence s in the batch has position seq_len(s) + k (pos, when given, must say so). A
 * sequence's tokens need not be adjacent. bert: each sequence is a whole text, from position 0,
 * and its tokens are adjacent. */
struct lm_batch {
    int32_t n_tokens;
    const int32_t *tokens; /* (n_tokens) */
    const int32_t *pos;    /* (n_tokens) or NULL */
    const int32_t *seq;    /* (n_tokens) or NULL: all sequence 0 */
    const int8_t *logits;  /* (n_tokens) nonzero = want this row's logits; NULL = the last
                            * token of each sequence in the batch */
};
/* Run the model over the batch. LM_ERANGE names the limit when the batch is larger than
 * n_batch, asks for more than n_outputs rows, or a sequence would pass n_ctx. On an error the
 * session is unchanged for sequences the batch did not touch. */
lm_status lm_forward(struct lm_session *s, const struct lm_batch *b);
/* After lm_forward: rows with logits, in batch order; row i (n_vocab floats) or NULL. */
int32_t lm_session_n_outputs(const struct lm_session *s);
const float *lm_session_logits(const struct lm_session *s, int32_t i);
/* bert after lm_forward: the pooled embedding (n_embd floats) of sequence seq, or NULL. */
const float *lm_session_embedding(const struct lm_session *s, int32_t seq);
/* Tokenize, batch and embed n texts (as many forwards as n_batch and n_seq need): out holds
 * n * n_embd floats. */
lm_status lm_embed(struct lm_session *s, const char *const *texts, int64_t n, float *out);

/* ---- sampling (models/sampler.c) ----------------------------------------------------------
 * Order, as llama.cpp applies it: logit bias, repetition/presence/frequency penalties over the
 * last penalty_last_n accepted tokens, then greedy when temp <= 0, else top-k, top-p, min-p,
 * temperature and a draw from a seeded generator (same seed and logits, same token). */
struct lm_logit_bias {
    int32_t token;
    float bias; /* -INFINITY bans the token */
};
struct lm_sampler_params {
    float temp;           /* <= 0: greedy */
    int32_t top_k;        /* <= 0: off */
    float top_p;          /* >= 1: off */
    float min_p;          /* <= 0: off */
    float repeat_penalty; /* 1: off (divides positive logits, multiplies negative ones) */
    float presence_penalty, frequency_penalty; /* 0: off (OpenAI semantics) */
    int32_t penalty_last_n;                    /* tokens the penalties look at; -1 = all */
    uint64_t seed;
    const struct lm_logit_bias *bias; /* copied at creation */
    int32_t n_bias;
};
struct lm_sampler;
/* llama.cpp's CLI defaults: temp 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat 1, last_n 64. */
struct lm_sampler_params lm_sampler_defaults(void);
/* LM_EINVAL naming the field for a NaN or out-of-range value or a bias token >= n_vocab. */
lm_status lm_sampler_create(const struct lm_sampler_params *p, int32_t n_vocab,
                            struct lm_sampler **out);
void lm_sampler_free(struct lm_sampler *s);
/* Pick a token from logits (n_vocab, not modified) and accept it into the history. */
lm_status lm_sampler_sample(struct lm_sampler *s, const float *logits, int32_t *token);
/* Add tokens to the history without sampling them (the prompt, for the penalties). */
void lm_sampler_accept(struct lm_sampler *s, int32_t token);
void lm_sampler_reset(struct lm_sampler *s); /* clears the history, reseeds */
/* True for end-of-generation tokens: EOS, EOT and the tokenizer's other end markers. */
bool lm_tokenizer_is_eog(const struct lm_tokenizer *t, int32_t id);

/* Stop strings over streamed text: push each new piece; text that cannot begin a stop string
 * is released to out at once, the rest waits until it can be told apart. */
struct lm_stop;
lm_status lm_stop_create(const char *const *stops, int n, struct lm_stop **out);
void lm_stop_free(struct lm_stop *st);
/* Returns true when a stop string completed (out gets the text before it, not the stop). */
bool lm_stop_push(struct lm_stop *st, const char *piece, size_t len, struct lm_text *out);
void lm_stop_flush(struct lm_stop *st, struct lm_text *out); /* at the end: release the rest */

/* ---- chat templates (models/chat.c) -------------------------------------------------------
 * The families lmrt runs, rendered in C (no Jinja engine): "chatml" (plain <|im_start|> turns),
 * "smollm2" (chatml plus SmolLM2's default system message), "lfm2", "mistral" ([INST], v0.1 /
 * v0.2), "llama3" (3.1 / 3.2 / 3.3). Detection reads the model's tokenizer.chat_template; the
 * output equals what transformers' apply_chat_template gives. The output carries BOS where the
 * template writes it: tokenize it with LM_TOK_PARSE_SPECIAL and without LM_TOK_ADD_SPECIAL. */
struct lm_chat_msg {
    const char *role; /* "system", "user", "assistant" */
    const char *content;
};
/* The template family of Jinja source src: LM_ENOTFOUND when src is NULL or matches none. */
lm_status lm_chat_detect(const char *src, const char **name);
/* LM_EINVAL listing the known names when name is unknown. */
lm_status lm_chat_check_name(const char *name);
/* Append the prompt for msgs to out; add_assistant opens the assistant's turn. A role the
 * template does not take is LM_EINVAL naming it. */
lm_status lm_chat_render(const char *name, const struct lm_chat_msg *msgs, int n,
                         bool add_assistant, const struct lm_tokenizer *tok, struct lm_text *out);

#ifdef __cplusplus
}
#endif
#endif /* LMRT_H */
