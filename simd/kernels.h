/* simd/kernels.h - the kernel table: one contract per op, one implementation per ISA level.
 *
 * Kernels are the inner loops. They see contiguous rows and plain pointers, never tensors; the
 * ops in ops/ check shapes, walk strided views, split work across threads and call these. Every
 * entry has a scalar `_ref` twin in ops/<op>.c that is the oracle for the tests. A level's table
 * starts as a copy of the reference table and its ISA file overrides what it implements.
 * Kernels never fail: anything that can fail was checked by the op.
 */
#ifndef LMRT_SIMD_KERNELS_H
#define LMRT_SIMD_KERNELS_H

#include "../rt/lmrt.h"

/* One matmul problem as the kernels see it: y[m*ldy + n] = dot(x row m, W row n) over K. */
struct lm_mm {
    float *y;
    int64_t ldy;      /* floats between y rows */
    const uint8_t *w; /* W (K, N): N rows of K in the weight dtype */
    size_t ldw;       /* bytes between W rows */
    const uint8_t *x; /* M prepared x rows (see lm_mm_kernel.prep) */
    size_t ldx;       /* bytes between prepared x rows */
    int64_t M, N, K;
};

struct lm_mm_kernel {
    /* Convert one F32 row of K into the format tile() reads (e.g. 8-bit blocks); NULL means
     * tile() reads F32 x directly. prep_size(K) is the byte size of one prepared row. */
    void (*prep)(void *dst, const float *x, int64_t K);
    size_t (*prep_size)(int64_t K);
    /* y rows [0, M) x columns [n0, n1). scratch is this thread's, scratch_size(M, K) bytes,
     * 64-byte aligned (scratch_size NULL = none needed). */
    void (*tile)(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch);
    size_t (*scratch_size)(int64_t M, int64_t K);
    int32_t n_step; /* threads split columns in multiples of this (>= 1) */
};

/* Attention of G queries that share one K/V head (a GQA group) over keys [0, n_kv). */
struct lm_attn_row {
    float *o; /* G outputs of hd, ldo floats apart */
    size_t ldo;
    const float *q; /* G queries of hd, ldq floats apart */
    size_t ldq;
    int64_t G;
    const void *k, *v; /* n_kv rows of hd in kv_type (F32 or F16), ldk/ldv bytes apart */
    size_t ldk, ldv;
    enum lm_dtype kv_type;
    int64_t hd, n_kv;
    const uint8_t *mask; /* (n_kv) nonzero = visible, or NULL = all visible */
    float scale;
    float *scratch; /* attn_scratch_floats(G, hd) floats, 64-byte aligned */
    float *lse;     /* (G) or NULL: receives max score + log(sum of exp) of each query (-inf if
                     * no key was visible), so partial results over key ranges can be merged */
};

struct lm_kernels {
    enum lm_isa isa;

    /* rows of n elements (n a whole number of blocks) to and from F32 */
    void (*to_f32[LM_DTYPE_COUNT])(float *y, const void *x, int64_t n);
    void (*from_f32[LM_DTYPE_COUNT])(void *y, const float *x, int64_t n);

    struct lm_mm_kernel mm[LM_DTYPE_COUNT];

    void (*rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps);
    void (*layernorm)(float *y, const float *x, const float *w, const float *b, int64_t n,
                      float eps);
    void (*l2norm)(float *y, const float *x, int64_t n, float eps);
    void (*softmax)(float *y, const float *x, float scale, int64_t n);
    /* One head: rotate the first n_rot of hd by cs = (cos, sin) pairs, (n_rot/2) of them;
     * copy the rest. */
    void (*rope)(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                 enum lm_rope_mode mode);
    void (*attn)(const struct lm_attn_row *a);
    size_t (*attn_scratch_floats)(int64_t G, int64_t hd);

    void (*silu)(float *y, const float *x, int64_t n);
    void (*gelu_erf)(float *y, const float *x, int64_t n);
    void (*gelu_tanh)(float *y, const float *x, int64_t n);
    void (*swiglu)(float *y, const float *g, const float *u, int64_t n);
    void (*add)(float *y, const float *a, const float *b, int64_t n);
    void (*mul)(float *y, const float *a, const float *b, int64_t n);
    void (*scale)(float *y, const float *x, float s, int64_t n);
    /* One time step of a causal depthwise conv over C channels: y[c] = sum_j w[j*C + c] *
     * rows[j][c], rows[0] the oldest of the k inputs. w is tap-major (row j holds tap j of
     * every channel, so a vector of channels loads contiguously); the op transposes the
     * model's (k, C) weight into this layout once per call. */
    void (*conv1d)(float *y, const float *const *rows, const float *w, int64_t C, int64_t k);
};

/* The table for isa, filled on first use; NULL if the build or the CPU lacks it. */
const struct lm_kernels *lm_kernels_get(enum lm_isa isa);

/* Filled by each level: the reference table (simd/dispatch.c), then the overrides of each level
 * on the way up (dispatch.c's fill_level). Each lives in simd/<isa>/table.c. */
void lm_kernels_fill_ref(struct lm_kernels *k);
void lm_kernels_fill_avx2(struct lm_kernels *k);
void lm_kernels_fill_avx512(struct lm_kernels *k);       /* F/BW/VL/DQ */
void lm_kernels_fill_avx512_bf16(struct lm_kernels *k);  /* + AVX512-BF16, where the CPU has it */
void lm_kernels_fill_avx512_vnni(struct lm_kernels *k);  /* + AVX512-VNNI */
void lm_kernels_fill_amx(struct lm_kernels *k);          /* + AMX-TILE/INT8/BF16 */
void lm_kernels_fill_neon(struct lm_kernels *k);         /* ARMv8 Advanced SIMD */
void lm_kernels_fill_neon_dotprod(struct lm_kernels *k); /* + ARMv8.2 dotprod */

/* ---- reference kernels (ops/<op>.c): the oracle ------------------------------------------ */

void lm_rmsnorm_ref(float *y, const float *x, const float *w, int64_t n, float eps);
void lm_layernorm_ref(float *y, const float *x, const float *w, const float *b, int64_t n,
                      float eps);
void lm_l2norm_ref(float *y, const float *x, int64_t n, float eps);
void lm_softmax_ref(float *y, const float *x, float scale, int64_t n);
void lm_rope_ref(float *y, const float *x, const float *cs, int64_t hd, int64_t n_rot,
                 enum lm_rope_mode mode);
void lm_attn_ref(const struct lm_attn_row *a);
size_t lm_attn_scratch_floats_ref(int64_t G, int64_t hd);
void lm_silu_ref(float *y, const float *x, int64_t n);
void lm_gelu_erf_ref(float *y, const float *x, int64_t n);
void lm_gelu_tanh_ref(float *y, const float *x, int64_t n);
void lm_swiglu_ref(float *y, const float *g, const float *u, int64_t n);
void lm_add_ref(float *y, const float *a, const float *b, int64_t n);
void lm_mul_ref(float *y, const float *a, const float *b, int64_t n);
void lm_scale_ref(float *y, const float *x, float s, int64_t n);
void lm_conv1d_ref(float *y, const float *const *rows, const float *w, int64_t C, int64_t k);

/* Each dtype family fills its own slots of the reference table (ops/quant_*.c, ops/matmul_*.c). */
void lm_quant_fill_ref(struct lm_kernels *k);
void lm_mm_fill_ref(struct lm_kernels *k);

#endif
