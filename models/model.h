/* models/model.h - internal: the bound weights of a model, the session it runs in, and the entry
 * points each architecture file (llama.c, lfm2.c, bert.c) gives models/session.c.
 *
 * Weights are named by their GGUF names ("blk.3.attn_q.weight"); a Hugging Face directory is read
 * through models/names.c, which maps those names to the HF ones. Every bound tensor has been shape-
 * checked against the hyper-parameters once, at load: the graphs never check a weight again.
 * Small vectors (norms, biases) that are not F32 in the file are converted into model-owned F32
 * memory so the ops see F32; matrices stay zero-copy views of the mapping in their file dtype.
 */
#ifndef LMRT_MODEL_H
#define LMRT_MODEL_H

#include "../rt/lmrt.h"

/* One layer's weights; a NULL data pointer means the file has no such tensor (optional biases,
 * and the halves of the lfm2 layer kind it is not). Shapes in ggml order (ne[0] first). */
struct lm_layer {
    struct lm_tensor attn_norm, attn_norm_b; /* (n_embd) */
    struct lm_tensor wq, wk, wv;             /* (n_embd, n_head*hd), (n_embd, n_kv*hd) x2 */
    struct lm_tensor bq, bk, bv;             /* (n_head*hd), (n_kv*hd) x2 */
    struct lm_tensor wo, bo;                 /* (n_head*hd, n_embd), (n_embd) */
    struct lm_tensor q_norm, k_norm;         /* lfm2: (hd) per-head RMSNorm */
    struct lm_tensor ffn_norm, ffn_norm_b;   /* (n_embd) */
    struct lm_tensor w_gate, w_up, w_down;   /* (n_embd, n_ff) x2, (n_ff, n_embd) */
    struct lm_tensor b_up, b_down;           /* bert: (n_ff), (n_embd) */
    struct lm_tensor out_norm, out_norm_b;   /* bert: LN after the FFN (n_embd) */
    struct lm_tensor conv_in;                /* lfm2: (n_embd, 3*n_embd) */
    struct lm_tensor conv;                   /* lfm2: (L, n_embd) */
    struct lm_tensor conv_out;               /* lfm2: (n_embd, n_embd) */
    bool is_attn;                            /* lfm2: attention (else short-conv) layer */
};

struct lm_model {
    struct lm_hparams hp;
    struct lm_tokenizer *tok;
    struct lm_gguf *gguf; /* one of gguf / st holds the weights */
    struct lm_st *st;
    char *name;
    char *chat_template;
    enum lm_rope_mode rope_mode; /* adjacent for GGUF llama (Q/K rows permuted), else half */
    struct lm_tensor tok_embd;   /* (n_embd, n_vocab) */
    struct lm_tensor pos_embd;   /* bert: (n_embd, n_ctx_train) */
    struct lm_tensor type_embd;  /* bert: (n_embd, n_type_vocab); row 0 is used */
    struct lm_tensor embd_norm, embd_norm_b; /* bert: LN of the embeddings (n_embd) */
    struct lm_tensor out_norm;               /* final RMSNorm (n_embd) */
    struct lm_tensor output;                 /* (n_embd, n_vocab): tok_embd when tied */
    struct lm_layer *layers;                 /* (n_layer) */
    struct lm_tensor rope_freqs;             /* llama3 scaling from the file (n_rot/2), or */
    float *rope_freq_factors;                /* the same computed from hparams, or NULL */
    void **owned;                            /* stb_ds array of converted copies to free */
    size_t weight_bytes;
};

/* Look up weight `name` (GGUF naming; printf-style with the layer index) and check its shape
 * against ne (ndim dims, each > 0; a 0 skips the check of that dim). required false: a missing
 * tensor leaves t zeroed and returns LM_OK. 1-D tensors come back F32 (converted if need be). */
lm_status lm_model_weight(struct lm_model *m, struct lm_tensor *t, bool required, int ndim,
                          const int64_t *ne, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* RoPE parameters of the model: rotated dims, base, scaling, pairing. */
void lm_model_rope_params(const struct lm_model *m, struct lm_rope_params *rp);

/* Per-architecture entry points. bind: fill the model's weights from the file. */
lm_status lm_llama_bind(struct lm_model *m);
lm_status lm_lfm2_bind(struct lm_model *m);
lm_status lm_bert_bind(struct lm_model *m);

/* ---- sessions ---------------------------------------------------------------------------- */

/* One contiguous run of batch tokens of one sequence: tokens [i0, i0 + n), positions
 * [pos0, pos0 + n). Runs are what attention and the conv see. */
struct lm_run {
    int32_t seq, i0, n, pos0;
};

struct lm_session {
    struct lm_model *m;
    struct lm_ctx *ctx;
    struct lm_session_opts o; /* with defaults filled in */
    enum lm_pooling pooling;
    /* KV cache: per attention layer and sequence, K and V (hd, n_kv, n_ctx) of kv_dtype. */
    uint8_t *kv;
    size_t kv_layer_bytes; /* one of K or V, one sequence, one layer */
    int32_t *kv_slot;      /* (n_layer): index among attention layers, -1 for conv layers */
    /* lfm2 conv state per conv layer and sequence: (L-1, n_embd) floats, oldest first. */
    float *conv_state;
    int32_t *seq_len;  /* (n_seq) */
    int32_t *seq_next; /* (n_seq) lengths after the batch being planned */
    /* Per forward. */
    struct lm_arena arena;
    struct lm_run *runs; /* (n_batch) */
    int32_t n_runs;
    int32_t *pos;     /* (n_batch) positions of the batch's tokens */
    int32_t *out_idx; /* (n_outputs) batch rows with logits */
    int32_t n_out;
    float *logits; /* (n_vocab, n_outputs) */
    float *embd;   /* bert: (n_embd, n_seq) pooled */
    bool *embd_ok; /* (n_seq) sequences pooled by the last forward */
};

/* Graphs: run the validated batch (s->runs, s->pos, s->out_idx filled). */
lm_status lm_llama_forward(struct lm_session *s, const struct lm_batch *b);
lm_status lm_lfm2_forward(struct lm_session *s, const struct lm_batch *b);
lm_status lm_bert_forward(struct lm_session *s, const struct lm_batch *b);
/* Activation bytes one forward of n_batch tokens needs (the arena is sized from this). */
size_t lm_llama_arena_bytes(const struct lm_session *s);
size_t lm_lfm2_arena_bytes(const struct lm_session *s);
size_t lm_bert_arena_bytes(const struct lm_session *s);

/* K or V cache of attention layer il for sequence seq, first n positions: (hd, n_kv, n). */
struct lm_tensor lm_session_kv(const struct lm_session *s, int il, int32_t seq, bool v, int32_t n);
/* lfm2: conv state of conv layer il for sequence seq: (n_embd, L-1) floats, oldest first. */
float *lm_session_conv_state(const struct lm_session *s, int il, int32_t seq);
/* Write k, v (hd*n_kv, n_tokens) of layer il into the cache at each token's sequence/position. */
void lm_session_kv_store(struct lm_session *s, int il, const struct lm_tensor *k,
                         const struct lm_tensor *v, const struct lm_batch *b);

/* Bind layer il's SwiGLU FFN (ffn_norm, ffn_gate, ffn_up, ffn_down): llama and lfm2. */
lm_status lm_bind_swiglu_ffn(struct lm_model *m, int il);

/* Shared graph pieces (models/llama.c). attend_cached: store k, v (hd*n_kv, n) of layer il in
 * the cache, then o (hd*n_head, n) = attention of q over each run's sequence. output_logits:
 * final norm and output projection of the rows the batch wants. */
lm_status lm_attend_cached(struct lm_session *s, int il, struct lm_tensor *o,
                           const struct lm_tensor *q, const struct lm_tensor *k,
                           const struct lm_tensor *v, const struct lm_batch *b);
lm_status lm_output_logits(struct lm_session *s, const struct lm_tensor *x,
                           const struct lm_tensor *norm_w);

#endif
