/* rt/safetensors.h - internal to the safetensors reader (rt/safetensors.c): opening a buffer in
 * memory (fuzzers, tests) and the facts struct lm_tensor does not carry (shape in file order,
 * byte offsets, the shard, __metadata__).
 */
#ifndef LMRT_SAFETENSORS_H
#define LMRT_SAFETENSORS_H

#include "lmrt.h"

#define LM_ST_MAX_HEADER ((uint64_t)100 << 20) /* JSON headers past 100 MB are refused */
#define LM_ST_MAX_RANK   8

/* Parse one safetensors image in memory (not copied: data must outlive the result). label
 * names it in errors (NULL = "<memory>"). */
lm_status lm_st_open_memory(const void *data, size_t size, const char *label, struct lm_st **out);

struct lm_st_tensor_info {
    const char *name, *dtype; /* dtype as the file spells it: "F32", "I64", ... */
    int32_t rank;
    int64_t shape[LM_ST_MAX_RANK]; /* as in the file (row-major, outermost first) */
    uint64_t begin, end;           /* data_offsets, from the start of the data area */
    uint64_t file_offset;          /* of the first byte, from the start of its file */
    int32_t shard;                 /* index of its file (0 for a single file) */
    const void *data;
};
lm_status lm_st_tensor_info(const struct lm_st *st, int64_t i, struct lm_st_tensor_info *out);

/* __metadata__ of the (first) file: string -> string, in file order. */
int64_t lm_st_n_meta(const struct lm_st *st);
lm_status lm_st_meta(const struct lm_st *st, int64_t i, const char **key, const char **value);
int32_t lm_st_n_shards(const struct lm_st *st);

#endif
