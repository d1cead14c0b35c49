/* models/lfm2.c - the LFM2 hybrid graph: each layer is x += op(rms(x)), x += ffn(rms(x)), where
 * op is either GQA attention (per-head RMSNorm on q and k, half-split RoPE, the KV cache) or a
 * gated short convolution, and ffn is SwiGLU.
 *
 * Short conv, per token: [B | C | X] = in_proj(h) (3 n_embd), bx = B * X, a causal depthwise
 * convolution of length L over time (conv state: the last L-1 bx of the sequence), y = C * conv,
 * out = out_proj(y). The state lives in the session per conv layer and sequence, so sequences
 * never see each other's state; each run of a sequence in the batch continues its state, and a
 * run starting at position 0 starts from zeros.
 */
#include <string.h>

#include "model.h"

lm_status lm_lfm2_bind(struct lm_model *m) {
    const struct lm_hparams *hp = &m->hp;
    const int64_t d = hp->n_embd, hd = hp->head_dim, nq = hd * hp->n_head, V = hp->n_vocab;
    const int64_t Lc = hp->conv_l_cache;
    lm_status s;
    if ((s = lm_model_weight(m, &m->tok_embd, true, 2, (int64_t[]){d, V}, "token_embd.weight")) ||
        (s = lm_model_weight(m, &m->out_norm, false, 1, (int64_t[]){d}, "token_embd_norm.weight")))
        return s;
    /* llama.cpp's converter writes the final norm as token_embd_norm; others say output_norm. */
    if (!m->out_norm.data &&
        (s = lm_model_weight(m, &m->out_norm, true, 1, (int64_t[]){d}, "output_norm.weight")))
        return lm_error(s,
                        "%s (the final norm is stored as token_embd_norm.weight or "
                        "output_norm.weight)",
                        lm_last_error());
    if ((s = lm_model_weight(m, &m->output, !hp->tied_output, 2, (int64_t[]){d, V},
                             "output.weight")))
        return s;
    if (hp->tied_output || !m->output.data) m->output = m->tok_embd;
    for (int il = 0; il < hp->n_layer; il++) {
        struct lm_layer *L = &m->layers[il];
        const int64_t nkv = hd * hp->n_head_kv_layer[il];
        L->is_attn = nkv > 0;
        if ((s = lm_model_weight(m, &L->attn_norm, true, 1, (int64_t[]){d},
                                 "blk.%d.attn_norm.weight", il)) ||
            (s = lm_bind_swiglu_ffn(m, il)))
            return s;
        if (L->is_attn) {
            if ((s = lm_model_weight(m, &L->wq, true, 2, (int64_t[]){d, nq}, "blk.%d.attn_q.weight",
                                     il)) ||
                (s = lm_model_weight(m, &L->wk, true, 2, (int64_t[]){d, nkv},
                                     "blk.%d.attn_k.weight", il)) ||
                (s = lm_model_weight(m, &L->wv, true, 2, (int64_t[]){d, nkv},
                                     "blk.%d.attn_v.weight", il)) ||
                (s = lm_model_weight(m, &L->wo, true, 2, (int64_t[]){nq, d},
                                     "blk.%d.attn_output.weight", il)) ||
                (s = lm_model_weight(m, &L->q_norm, true, 1, (int64_t[]){hd},
                                     "blk.%d.attn_q_norm.weight", il)) ||
                (s = lm_model_weight(m, &L->k_norm, true, 1, (int64_t[]){hd},
                                     "blk.%d.attn_k_norm.weight", il)))
                return s;
        } else {
            if ((s = lm_model_weight(m, &L->conv_in, true, 2, (int64_t[]){d, 3 * d},
                                     "blk.%d.shortconv.in_proj.weight", il)) ||
                (s = lm_model_weight(m, &L->conv, true, 2, (int64_t[]){Lc, d},
                                     "blk.%d.shortconv.conv.weight", il)) ||
                (s = lm_model_weight(m, &L->conv_out, true, 2, (int64_t[]){d, d},
                                     "blk.%d.shortconv.out_proj.weight", il)))
                return s;
            if (L->conv.dtype != LM_F32 &&
                (s = lm_error(LM_EUNSUPPORTED, "%s: blk.%d.shortconv.conv.weight is %s (f32 only)",
                              m->name, il, lm_dtype_name(L->conv.dtype))))
                return s;
        }
    }
    return LM_OK;
}

size_t lm_lfm2_arena_bytes(const struct lm_session *s) {
    const struct lm_hparams *hp = &s->m->hp;
    const size_t n = (size_t)s->o.n_batch, d = (size_t)hp->n_embd;
    const size_t nq = (size_t)hp->head_dim * hp->n_head, nkv = (size_t)hp->head_dim * hp->n_head_kv;
    const size_t floats =
        n * (2 * d + 2 * nq + 2 * nkv + 2 * (size_t)hp->n_ff + 5 * d) + (size_t)s->o.n_outputs * d;
    return floats * 4 + 16 * LM_ALIGN;
}

static lm_status new_f32(struct lm_session *s, struct lm_tensor *t, int64_t ne0, int64_t ne1) {
    return lm_arena_tensor(&s->arena, t, LM_F32, 2, (int64_t[]){ne0, ne1});
}

/* h (d, n) -> out (d, n): the gated short conv of layer il, state per sequence run. */
static lm_status short_conv(struct lm_session *s, int il, struct lm_tensor *out,
                            const struct lm_tensor *h, struct lm_tensor *bcx, struct lm_tensor *bx,
                            struct lm_tensor *y) {
    const struct lm_model *m = s->m;
    const struct lm_layer *L = &m->layers[il];
    const int64_t d = m->hp.n_embd, Lc = m->hp.conv_l_cache;
    struct lm_ctx *ctx = s->ctx;
    struct lm_tensor B, C, X;
    lm_status st;
    if ((st = lm_matmul(bcx, h, &L->conv_in, ctx)) || /* (3d, n) */
        (st = lm_tensor_slice(&B, bcx, 0, 0, d)) || (st = lm_tensor_slice(&C, bcx, 0, d, d)) ||
        (st = lm_tensor_slice(&X, bcx, 0, 2 * d, d)) || (st = lm_mul(bx, &B, &X, ctx)))
        return st;
    for (int32_t r = 0; r < s->n_runs; r++) {
        const struct lm_run *run = &s->runs[r];
        struct lm_tensor xr, yr;
        float *state = lm_session_conv_state(s, il, run->seq);
        if (run->pos0 == 0) memset(state, 0, (size_t)(Lc - 1) * d * sizeof(float));
        struct lm_tensor st_t = lm_tensor_2d(LM_F32, d, Lc - 1, state);
        if ((st = lm_tensor_slice(&xr, bx, 1, run->i0, run->n)) ||
            (st = lm_tensor_slice(&yr, y, 1, run->i0, run->n)) ||
            (st = lm_conv1d_causal(&yr, &xr, &L->conv, Lc > 1 ? &st_t : NULL, ctx)))
            return st;
    }
    if ((st = lm_mul(y, &C, y, ctx)) || (st = lm_matmul(out, y, &L->conv_out, ctx))) return st;
    return LM_OK;
}

lm_status lm_lfm2_forward(struct lm_session *s, const struct lm_batch *b) {
    const struct lm_model *m = s->m;
    const struct lm_hparams *hp = &m->hp;
    struct lm_ctx *ctx = s->ctx;
    const int64_t n = b->n_tokens, d = hp->n_embd, hd = hp->head_dim;
    const int64_t nq = hd * hp->n_head, nkv = hd * hp->n_head_kv;
    struct lm_tensor x, h, q, k, v, att, g, u, bcx, bx, y;
    lm_status st;
    if ((st = new_f32(s, &x, d, n)) || (st = new_f32(s, &h, d, n)) ||     /* (d, n) */
        (st = new_f32(s, &q, nq, n)) || (st = new_f32(s, &att, nq, n)) || /* (hd*n_head, n) */
        (st = new_f32(s, &k, nkv, n)) || (st = new_f32(s, &v, nkv, n)) || /* (hd*n_kv, n) */
        (st = new_f32(s, &g, hp->n_ff, n)) || (st = new_f32(s, &u, hp->n_ff, n)) ||
        (st = new_f32(s, &bcx, 3 * d, n)) || (st = new_f32(s, &bx, d, n)) ||
        (st = new_f32(s, &y, d, n)))
        return st;
    struct lm_tensor tokens = lm_tensor_1d(LM_I32, n, (void *)b->tokens);
    struct lm_tensor pos = lm_tensor_1d(LM_I32, n, s->pos);
    struct lm_rope_params rp;
    lm_model_rope_params(m, &rp);
    if ((st = lm_get_rows(&x, &m->tok_embd, &tokens, ctx))) return st;

    for (int il = 0; il < hp->n_layer; il++) {
        const struct lm_layer *L = &m->layers[il];
        if ((st = lm_rmsnorm(&h, &x, &L->attn_norm, hp->norm_eps, ctx))) return st;
        if (L->is_attn) {
            const int64_t nkv_l = hd * hp->n_head_kv_layer[il];
            struct lm_tensor kl = lm_tensor_2d(LM_F32, nkv_l, n, k.data);
            struct lm_tensor vl = lm_tensor_2d(LM_F32, nkv_l, n, v.data);
            struct lm_tensor q3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, q.data);
            struct lm_tensor k3 = lm_tensor_3d(LM_F32, hd, hp->n_head_kv_layer[il], n, k.data);
            if ((st = lm_matmul(&q, &h, &L->wq, ctx)) || (st = lm_matmul(&kl, &h, &L->wk, ctx)) ||
                (st = lm_matmul(&vl, &h, &L->wv, ctx)) ||
                (st = lm_rmsnorm(&q3, &q3, &L->q_norm, hp->norm_eps, ctx)) || /* per head */
                (st = lm_rmsnorm(&k3, &k3, &L->k_norm, hp->norm_eps, ctx)) ||
                (st = lm_rope(&q3, &q3, &pos, &rp, ctx)) ||
                (st = lm_rope(&k3, &k3, &pos, &rp, ctx)) ||
                (st = lm_attend_cached(s, il, &att, &q, &kl, &vl, b)) ||
                (st = lm_matmul(&h, &att, &L->wo, ctx)))
                return st;
        } else if ((st = short_conv(s, il, &h, &h, &bcx, &bx, &y))) {
            return st;
        }
        if ((st = lm_add(&x, &x, &h, ctx)) ||
            (st = lm_rmsnorm(&h, &x, &L->ffn_norm, hp->norm_eps, ctx)) ||
            (st = lm_matmul(&g, &h, &L->w_gate, ctx)) || (st = lm_matmul(&u, &h, &L->w_up, ctx)) ||
            (st = lm_swiglu(&g, &g, &u, ctx)) || (st = lm_matmul(&h, &g, &L->w_down, ctx)) ||
            (st = lm_add(&x, &x, &h, ctx)))
            return st;
    }
    return lm_output_logits(s, &x, &m->out_norm);
}
