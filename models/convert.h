/* models/convert.h - writing GGUF files (internal; `lmrt quantize` and `lmrt convert` are thin
 * clients): requantizing a GGUF (models/convert_quant.c) and converting a Hugging Face
 * directory (models/convert_hf.c). Both stream: one tensor (or a chunk of its rows) is held in
 * memory at a time, and the work is split over the threads of the given lm_ctx.
 */
#ifndef LMRT_CONVERT_H
#define LMRT_CONVERT_H

#include "../rt/gguf.h"

/* What a conversion did, for the CLI's summary line. */
struct lm_convert_report {
    int64_t n_tensors;
    int64_t n_converted; /* tensors whose type changed (or, for convert, that were cast) */
    int64_t n_fallback;  /* tensors given another type than asked: shape or llama.cpp's rules */
    uint64_t bytes_in, bytes_out; /* tensor data only */
};

/* llama.cpp's file type id (general.file_type) of a quantize target: q4_k and q5_k are its
 * Q4_K_M and Q5_K_M mixtures. -1 for a dtype that is no target (i32). */
int32_t lm_convert_ftype(enum lm_dtype target);

/* Target GGML type of every tensor of g when quantizing to target, by llama.cpp's rules (see
 * convert_quant.c): types[i] for tensor i. fallback[i] (may be NULL) is set when the rules
 * or the row size moved the tensor off target for a reason other than keeping it as it is. */
lm_status lm_convert_quant_plan(const struct lm_gguf *g, enum lm_dtype target, int32_t *types,
                                bool *fallback);

/* The order llama.cpp's quantizer visits and writes tensors in (by the layer number of a
 * "blk.N." prefix, other tensors first, then by name): order[k] = index of the k-th. */
lm_status lm_convert_quant_order(const struct lm_gguf *g, int64_t *order);

/* Requantize GGUF in_path into out_path (which must not be the same file): every key copied,
 * general.file_type and general.quantization_version set, split.* keys dropped, each tensor
 * written in its planned type (bytes copied when it does not change). rep may be NULL. */
lm_status lm_convert_quantize(const char *in_path, const char *out_path, enum lm_dtype target,
                              struct lm_ctx *ctx, struct lm_convert_report *rep);

/* Convert a Hugging Face model directory (config.json, *.safetensors, tokenizer.json, and
 * tokenizer_config.json / 1_Pooling when present) to GGUF as llama.cpp's convert_hf_to_gguf.py
 * does for llama/mistral, lfm2 and bert. outtype: F32, F16, BF16 or Q8_0 for 2-D weights
 * (1-D tensors stay F32, as the converter keeps them). */
lm_status lm_convert_hf(const char *dir, const char *out_path, enum lm_dtype outtype,
                        struct lm_ctx *ctx, struct lm_convert_report *rep);

/* Shared by both: write tensor data of src (any readable dtype, contiguous, rows of ne[0]) as
 * dtype dst_type through w, converting in chunks of rows on ctx's threads. */
lm_status lm_convert_stream(struct lm_gguf_writer *w, const struct lm_tensor *src,
                            enum lm_dtype dst_type, struct lm_ctx *ctx);

#endif
