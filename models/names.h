/* models/names.h - tensor names of Hugging Face checkpoints and of GGUF files, both ways
 * (internal; models/names.c holds the table).
 *
 * GGUF names are the ones llama.cpp's converter writes ("blk.3.attn_q.weight"); HF names are
 * the safetensors keys of transformers' checkpoints ("model.layers.3.self_attn.q_proj.weight").
 * The model loader binds a safetensors directory through these, and `lmrt convert` writes a
 * GGUF through them. A name carries its ".weight" / ".bias" suffix on both sides.
 *
 * Besides the name, some tensors change on the way from HF to GGUF (lm_names_xform):
 *   LM_NAMES_PERMUTE_Q / _K  llama/mistral q_proj and k_proj rows are reordered so that RoPE
 *                            rotates adjacent pairs (x[2i], x[2i+1]) instead of the HF
 *                            half-split pairs (x[i], x[i+d/2]); _Q uses n_head heads, _K uses
 *                            n_head_kv heads. A loader reading HF weights directly keeps the HF
 *                            order and uses LM_ROPE_HALF instead.
 *   LM_NAMES_SQUEEZE         lfm2's conv weight [C, 1, L] drops its middle dim: ne {L, C}.
 */
#ifndef LMRT_NAMES_H
#define LMRT_NAMES_H

#include "../rt/lmrt.h"

enum {
    LM_NAMES_PERMUTE_Q = 1,
    LM_NAMES_PERMUTE_K = 2,
    LM_NAMES_SQUEEZE = 4,
};

/* The HF name of GGUF tensor gguf_name for arch, written to buf[0..n) (NUL-terminated);
 * returns buf, or NULL when the name has no HF counterpart in the table or does not fit. */
const char *lm_names_hf(enum lm_arch arch, const char *gguf_name, char *buf, size_t n);

/* The GGUF name of HF tensor hf_name, likewise. Accepted spellings besides the canonical one:
 * bert's "bert." prefix and LayerNorm ".gamma" / ".beta" suffixes. NULL for a tensor that is
 * not in the table (e.g. bert's pooler and position_ids, which the converter drops). */
const char *lm_names_gguf(enum lm_arch arch, const char *hf_name, char *buf, size_t n);

/* LM_NAMES_* flags for the GGUF tensor gguf_name of arch (0 for most). */
unsigned lm_names_xform(enum lm_arch arch, const char *gguf_name);

/* Row permutation of LM_NAMES_PERMUTE_*: GGUF row r of a (rows, cols) q/k weight or bias holds
 * HF row lm_names_permute_row(r, rows, n_heads). rows must be a multiple of 2 * n_heads. */
int64_t lm_names_permute_row(int64_t r, int64_t rows, int64_t n_heads);

#endif
