/* models/llama.c - the Llama graph (Llama 1-3, SmolLM2, Mistral): pre-RMSNorm, GQA attention
 * with RoPE over the session's KV cache, SwiGLU FFN, final RMSNorm, output projection (the token
 * embedding when tied).
 *
 * One forward runs every token of the batch through each matmul together (prefill, decode and
 * many sequences are one path); only attention is split, into the batch's runs of one sequence,
 * each against that sequence's cache. Mistral's sliding window is the attention window; optional
 * Q/K/V/O biases are added when the file has them. RoPE pairing follows the file kind (GGUF rows
 * are permuted for adjacent pairs, HF weights use the half split): model->rope_mode.
 */
#include <math.h>
#include <string.h>

#include "model.h"

/* llama3 RoPE scaling as divisors of each frequency (what GGUF stores as rope_freqs.weight):
 * long wavelengths are stretched by the factor, short ones kept, the band between blended. */
static lm_status llama3_factors(struct lm_model *m) {
    const struct lm_hparams *hp = &m->hp;
    const int64_t n = hp->n_rot / 2;
    float *f = lm_aligned_alloc((size_t)n * sizeof *f);
    if (!f) return LM_ENOMEM;
    m->rope_freq_factors = f;
    const double orig = hp->rope_n_ctx_orig > 0 ? hp->rope_n_ctx_orig : hp->n_ctx_train;
    const double lo_wav = orig / hp->rope_low_freq, hi_wav = orig / hp->rope_high_freq;
    for (int64_t i = 0; i < n; i++) {
        double freq = pow(hp->rope_base, -2.0 * (double)i / hp->n_rot);
        double wav = 2 * 3.14159265358979323846 / freq;
        if (wav < hi_wav) {
            f[i] = 1.0f;
        } else if (wav > lo_wav) {
            f[i] = hp->rope_factor;
        } else {
            double smooth =
                (orig / wav - hp->rope_low_freq) / (hp->rope_high_freq - hp->rope_low_freq);
            f[i] = (float)(1.0 / ((1 - smooth) / hp->rope_factor + smooth));
        }
    }
    return LM_OK;
}

lm_status lm_bind_swiglu_ffn(struct lm_model *m, int il) {
    struct lm_layer *L = &m->layers[il];
    const int64_t d = m->hp.n_embd, ff = m->hp.n_ff;
    lm_status s;
    if ((s = lm_model_weight(m, &L->ffn_norm, true, 1, (int64_t[]){d}, "blk.%d.ffn_norm.weight",
                             il)) ||
        (s = lm_model_weight(m, &L->w_gate, true, 2, (int64_t[]){d, ff}, "blk.%d.ffn_gate.weight",
                             il)) ||
        (s = lm_model_weight(m, &L->w_up, true, 2, (int64_t[]){d, ff}, "blk.%d.ffn_up.weight",
                             il)) ||
        (s = lm_model_weight(m, &L->w_down, true, 2, (int64_t[]){ff, d}, "blk.%d.ffn_down.weight",
                             il)))
        return s;
    return LM_OK;
}

lm_status lm_llama_bind(struct lm_model *m) {
    const struct lm_hparams *hp = &m->hp;
    const int64_t d = hp->n_embd, hd = hp->head_dim, nq = hd * hp->n_head, V = hp->n_vocab;
    lm_status s;
    if ((s = lm_model_weight(m, &m->tok_embd, true, 2, (int64_t[]){d, V}, "token_embd.weight")) ||
        (s = lm_model_weight(m, &m->out_norm, true, 1, (int64_t[]){d}, "output_norm.weight")) ||
        (s = lm_model_weight(m, &m->output, !hp->tied_output, 2, (int64_t[]){d, V},
                             "output.weight")))
        return s;
    if (hp->tied_output || !m->output.data) m->output = m->tok_embd;
    for (int il = 0; il < hp->n_layer; il++) {
        struct lm_layer *L = &m->layers[il];
        const int64_t nkv = hd * hp->n_head_kv_layer[il];
        L->is_attn = true;
        if ((s = lm_model_weight(m, &L->attn_norm, true, 1, (int64_t[]){d},
                                 "blk.%d.attn_norm.weight", il)) ||
            (s = lm_model_weight(m, &L->wq, true, 2, (int64_t[]){d, nq}, "blk.%d.attn_q.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->wk, true, 2, (int64_t[]){d, nkv}, "blk.%d.attn_k.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->wv, true, 2, (int64_t[]){d, nkv}, "blk.%d.attn_v.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->wo, true, 2, (int64_t[]){nq, d},
                                 "blk.%d.attn_output.weight", il)) ||
            (s = lm_model_weight(m, &L->bq, false, 1, (int64_t[]){nq}, "blk.%d.attn_q.bias", il)) ||
            (s = lm_model_weight(m, &L->bk, false, 1, (int64_t[]){nkv}, "blk.%d.attn_k.bias",
                                 il)) ||
            (s = lm_model_weight(m, &L->bv, false, 1, (int64_t[]){nkv}, "blk.%d.attn_v.bias",
                                 il)) ||
            (s = lm_model_weight(m, &L->bo, false, 1, (int64_t[]){d}, "blk.%d.attn_output.bias",
                                 il)) ||
            (s = lm_bind_swiglu_ffn(m, il)))
            return s;
    }
    switch (hp->rope_scaling) {
    case LM_ROPE_SCALING_NONE:
    case LM_ROPE_SCALING_LINEAR: break;
    case LM_ROPE_SCALING_LLAMA3: {
        struct lm_tensor ff;
        if ((s = lm_model_weight(m, &ff, false, 1, (int64_t[]){hp->n_rot / 2},
                                 "rope_freqs.weight")))
            return s;
        if (ff.data)
            m->rope_freqs = ff;
        else if ((s = llama3_factors(m)))
            return s;
        break;
    }
    default:
        return lm_error(LM_EUNSUPPORTED, "%s: YaRN RoPE scaling is not implemented for llama",
                        m->name);
    }
    return LM_OK;
}

/* Activations of one forward, in the order llama_forward takes them from the arena. */
size_t lm_llama_arena_bytes(const struct lm_session *s) {
    const struct lm_hparams *hp = &s->m->hp;
    const size_t n = (size_t)s->o.n_batch, d = (size_t)hp->n_embd;
    const size_t nq = (size_t)hp->head_dim * hp->n_head, nkv = (size_t)hp->head_dim * hp->n_head_kv;
    const size_t floats =
        n * (2 * d + 2 * nq + 2 * nkv + 2 * (size_t)hp->n_ff) + (size_t)s->o.n_outputs * d;
    return (floats + n + (size_t)s->o.n_outputs) * 4 + 16 * LM_ALIGN;
}

static lm_status new_f32(struct lm_session *s, struct lm_tensor *t, int64_t ne0, int64_t ne1) {
    return lm_arena_tensor(&s->arena, t, LM_F32, 2, (int64_t[]){ne0, ne1});
}

/* RoPE parameters of the model (per-head dims rotated, base, scaling). */
void lm_model_rope_params(const struct lm_model *m, struct lm_rope_params *rp) {
    const struct lm_hparams *hp = &m->hp;
    *rp = (struct lm_rope_params){
        .n_rot = hp->n_rot,
        .base = hp->rope_base,
        .freq_scale = hp->rope_scaling == LM_ROPE_SCALING_LINEAR ? 1.0f / hp->rope_factor : 1.0f,
        .freq_factors = m->rope_freq_factors ? m->rope_freq_factors
                        : m->rope_freqs.data ? (const float *)m->rope_freqs.data
                                             : NULL,
        .mode = m->rope_mode,
    };
}

/* q, k, v (hd*heads, n) -> attention output o (hd*n_head, n) over the cache of layer il. Shared
 * by llama.c and lfm2.c: stores k, v in the cache, then attends each run of one sequence. */
lm_status lm_attend_cached(struct lm_session *s, int il, struct lm_tensor *o,
                           const struct lm_tensor *q, const struct lm_tensor *k,
                           const struct lm_tensor *v, const struct lm_batch *b) {
    const struct lm_hparams *hp = &s->m->hp;
    const int64_t hd = hp->head_dim, n = b->n_tokens;
    lm_session_kv_store(s, il, k, v, b);
    struct lm_tensor q3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, q->data);
    struct lm_tensor o3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, o->data);
    for (int32_t r = 0; r < s->n_runs; r++) {
        const struct lm_run *run = &s->runs[r];
        struct lm_tensor qr, or ;
        lm_status st;
        if ((st = lm_tensor_slice(&qr, &q3, 2, run->i0, run->n)) ||
            (st = lm_tensor_slice(& or, &o3, 2, run->i0, run->n)))
            return st;
        struct lm_tensor kc = lm_session_kv(s, il, run->seq, false, run->pos0 + run->n);
        struct lm_tensor vc = lm_session_kv(s, il, run->seq, true, run->pos0 + run->n);
        if (hp->n_head_kv_layer[il] != hp->n_head_kv) { /* fewer KV heads here than the max */
            kc.ne[1] = vc.ne[1] = hp->n_head_kv_layer[il];
            kc.nb[2] = vc.nb[2] = kc.nb[1] * hp->n_head_kv;
        }
        struct lm_attn_params ap = {
            .causal = true, .window = hp->sliding_window, .q_pos = s->pos + run->i0};
        if ((st = lm_attention(& or, &qr, &kc, &vc, &ap, s->ctx))) return st;
    }
    return LM_OK;
}

/* x (d, n) final hidden states -> logits of the rows the batch asked for. */
lm_status lm_output_logits(struct lm_session *s, const struct lm_tensor *x,
                           const struct lm_tensor *norm_w) {
    const struct lm_model *m = s->m;
    const int64_t d = m->hp.n_embd;
    struct lm_tensor xo, idx = lm_tensor_1d(LM_I32, s->n_out, s->out_idx);
    struct lm_tensor logits = lm_tensor_2d(LM_F32, m->hp.n_vocab, s->n_out, s->logits);
    lm_status st;
    if (s->n_out == 0) return LM_OK;
    if ((st = new_f32(s, &xo, d, s->n_out)) || (st = lm_get_rows(&xo, x, &idx, s->ctx)) ||
        (st = lm_rmsnorm(&xo, &xo, norm_w, m->hp.norm_eps, s->ctx)) ||
        (st = lm_matmul(&logits, &xo, &m->output, s->ctx)))
        return st;
    return LM_OK;
}

static lm_status add_bias(struct lm_tensor *y, const struct lm_tensor *b, struct lm_ctx *ctx) {
    return b->data ? lm_add(y, y, b, ctx) : LM_OK;
}

lm_status lm_llama_forward(struct lm_session *s, const struct lm_batch *b) {
    const struct lm_model *m = s->m;
    const struct lm_hparams *hp = &m->hp;
    struct lm_ctx *ctx = s->ctx;
    const int64_t n = b->n_tokens, d = hp->n_embd, hd = hp->head_dim;
    const int64_t nq = hd * hp->n_head, nkv = hd * hp->n_head_kv;
    struct lm_tensor x, h, q, k, v, att, g, u;
    lm_status st;
    if ((st = new_f32(s, &x, d, n)) || (st = new_f32(s, &h, d, n)) ||     /* (d, n) */
        (st = new_f32(s, &q, nq, n)) || (st = new_f32(s, &att, nq, n)) || /* (hd*n_head, n) */
        (st = new_f32(s, &k, nkv, n)) || (st = new_f32(s, &v, nkv, n)) || /* (hd*n_kv, n) */
        (st = new_f32(s, &g, hp->n_ff, n)) || (st = new_f32(s, &u, hp->n_ff, n)))
        return st;
    struct lm_tensor tokens = lm_tensor_1d(LM_I32, n, (void *)b->tokens);
    struct lm_tensor pos = lm_tensor_1d(LM_I32, n, s->pos);
    struct lm_rope_params rp;
    lm_model_rope_params(m, &rp);
    if ((st = lm_get_rows(&x, &m->tok_embd, &tokens, ctx))) return st;

    for (int il = 0; il < hp->n_layer; il++) {
        const struct lm_layer *L = &m->layers[il];
        const int64_t nkv_l = hd * hp->n_head_kv_layer[il];
        struct lm_tensor kl = lm_tensor_2d(LM_F32, nkv_l, n, k.data);
        struct lm_tensor vl = lm_tensor_2d(LM_F32, nkv_l, n, v.data);
        struct lm_tensor q3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, q.data);
        struct lm_tensor k3 = lm_tensor_3d(LM_F32, hd, hp->n_head_kv_layer[il], n, k.data);
        /* attention: x += Wo attn(rope(Wq h), rope(Wk h), Wv h), h = rms(x) */
        if ((st = lm_rmsnorm(&h, &x, &L->attn_norm, hp->norm_eps, ctx)) ||
            (st = lm_matmul(&q, &h, &L->wq, ctx)) || (st = add_bias(&q, &L->bq, ctx)) ||
            (st = lm_matmul(&kl, &h, &L->wk, ctx)) || (st = add_bias(&kl, &L->bk, ctx)) ||
            (st = lm_matmul(&vl, &h, &L->wv, ctx)) || (st = add_bias(&vl, &L->bv, ctx)) ||
            (st = lm_rope(&q3, &q3, &pos, &rp, ctx)) || (st = lm_rope(&k3, &k3, &pos, &rp, ctx)) ||
            (st = lm_attend_cached(s, il, &att, &q, &kl, &vl, b)) ||
            (st = lm_matmul(&h, &att, &L->wo, ctx)) || (st = add_bias(&h, &L->bo, ctx)) ||
            (st = lm_add(&x, &x, &h, ctx)))
            return st;
        /* FFN: x += W_down (silu(W_gate h) * W_up h), h = rms(x) */
        if ((st = lm_rmsnorm(&h, &x, &L->ffn_norm, hp->norm_eps, ctx)) ||
            (st = lm_matmul(&g, &h, &L->w_gate, ctx)) || (st = lm_matmul(&u, &h, &L->w_up, ctx)) ||
            (st = lm_swiglu(&g, &g, &u, ctx)) || (st = lm_matmul(&h, &g, &L->w_down, ctx)) ||
            (st = lm_add(&x, &x, &h, ctx)))
            return st;
    }
    return lm_output_logits(s, &x, &m->out_norm);
}
