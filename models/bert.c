/* models/bert.c - BERT encoders (all-MiniLM, bge, ...): x = LN(tok + type0 + pos), then per layer
 * x = LN(x + Wo attn(x)) and x = LN(x + Wdown gelu(Wup x)) (post-LN, exact erf GELU, biases
 * everywhere), then pooling per text (mean over its tokens, its CLS token, or its last token)
 * and L2 normalisation.
 *
 * Many texts go through one forward packed end to end, no padding: every matmul sees all tokens
 * of all texts, and attention runs once per text over that text's tokens only (bidirectional),
 * so no compute is spent on padding and no mask is needed.
 */
#include <string.h>

#include "model.h"

lm_status lm_bert_bind(struct lm_model *m) {
    const struct lm_hparams *hp = &m->hp;
    const int64_t d = hp->n_embd, V = hp->n_vocab, ff = hp->n_ff;
    lm_status s;
    if ((s = lm_model_weight(m, &m->tok_embd, true, 2, (int64_t[]){d, V}, "token_embd.weight")) ||
        (s = lm_model_weight(m, &m->pos_embd, true, 2, (int64_t[]){d, hp->n_ctx_train},
                             "position_embd.weight")) ||
        (s = lm_model_weight(m, &m->type_embd, false, 2, (int64_t[]){d, 0},
                             "token_types.weight")) ||
        (s = lm_model_weight(m, &m->embd_norm, true, 1, (int64_t[]){d},
                             "token_embd_norm.weight")) ||
        (s = lm_model_weight(m, &m->embd_norm_b, true, 1, (int64_t[]){d}, "token_embd_norm.bias")))
        return s;
    for (int il = 0; il < hp->n_layer; il++) {
        struct lm_layer *L = &m->layers[il];
        L->is_attn = true;
        if ((s = lm_model_weight(m, &L->wq, true, 2, (int64_t[]){d, d}, "blk.%d.attn_q.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->bq, true, 1, (int64_t[]){d}, "blk.%d.attn_q.bias", il)) ||
            (s = lm_model_weight(m, &L->wk, true, 2, (int64_t[]){d, d}, "blk.%d.attn_k.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->bk, true, 1, (int64_t[]){d}, "blk.%d.attn_k.bias", il)) ||
            (s = lm_model_weight(m, &L->wv, true, 2, (int64_t[]){d, d}, "blk.%d.attn_v.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->bv, true, 1, (int64_t[]){d}, "blk.%d.attn_v.bias", il)) ||
            (s = lm_model_weight(m, &L->wo, true, 2, (int64_t[]){d, d}, "blk.%d.attn_output.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->bo, true, 1, (int64_t[]){d}, "blk.%d.attn_output.bias",
                                 il)) ||
            (s = lm_model_weight(m, &L->attn_norm, true, 1, (int64_t[]){d},
                                 "blk.%d.attn_output_norm.weight", il)) ||
            (s = lm_model_weight(m, &L->attn_norm_b, true, 1, (int64_t[]){d},
                                 "blk.%d.attn_output_norm.bias", il)) ||
            (s = lm_model_weight(m, &L->w_up, true, 2, (int64_t[]){d, ff}, "blk.%d.ffn_up.weight",
                                 il)) ||
            (s = lm_model_weight(m, &L->b_up, true, 1, (int64_t[]){ff}, "blk.%d.ffn_up.bias",
                                 il)) ||
            (s = lm_model_weight(m, &L->w_down, true, 2, (int64_t[]){ff, d},
                                 "blk.%d.ffn_down.weight", il)) ||
            (s = lm_model_weight(m, &L->b_down, true, 1, (int64_t[]){d}, "blk.%d.ffn_down.bias",
                                 il)) ||
            (s = lm_model_weight(m, &L->out_norm, true, 1, (int64_t[]){d},
                                 "blk.%d.layer_output_norm.weight", il)) ||
            (s = lm_model_weight(m, &L->out_norm_b, true, 1, (int64_t[]){d},
                                 "blk.%d.layer_output_norm.bias", il)))
            return s;
    }
    return LM_OK;
}

size_t lm_bert_arena_bytes(const struct lm_session *s) {
    const struct lm_hparams *hp = &s->m->hp;
    const size_t n = (size_t)s->o.n_batch, d = (size_t)hp->n_embd;
    const size_t floats = n * (6 * d + (size_t)hp->n_ff) + (size_t)s->o.n_seq * d;
    return (floats + (size_t)s->o.n_seq + 1) * 4 + 16 * LM_ALIGN;
}

static lm_status new_f32(struct lm_session *s, struct lm_tensor *t, int64_t ne0, int64_t ne1) {
    return lm_arena_tensor(&s->arena, t, LM_F32, 2, (int64_t[]){ne0, ne1});
}

/* y = W x + b */
static lm_status linear(struct lm_tensor *y, const struct lm_tensor *x, const struct lm_tensor *w,
                        const struct lm_tensor *b, struct lm_ctx *ctx) {
    lm_status st = lm_matmul(y, x, w, ctx);
    return st ? st : lm_add(y, y, b, ctx);
}

/* Pool each text (run) of x (d, n) into s->embd and normalise. */
static lm_status pool(struct lm_session *s, const struct lm_tensor *x) {
    const int64_t d = s->m->hp.n_embd;
    struct lm_ctx *ctx = s->ctx;
    struct lm_tensor pooled;
    lm_status st;
    if ((st = new_f32(s, &pooled, d, s->n_runs))) return st;
    if (s->pooling == LM_POOLING_MEAN) {
        int32_t *off = lm_arena_alloc(&s->arena, (size_t)(s->n_runs + 1) * sizeof *off);
        if (!off) return LM_ENOMEM;
        for (int32_t r = 0; r < s->n_runs; r++)
            off[r] = s->runs[r].i0;
        off[s->n_runs] = s->runs[s->n_runs - 1].i0 + s->runs[s->n_runs - 1].n;
        if ((st = lm_mean_pool(&pooled, x, off, s->n_runs, ctx))) return st;
    } else {
        int32_t *idx = lm_arena_alloc(&s->arena, (size_t)s->n_runs * sizeof *idx);
        if (!idx) return LM_ENOMEM;
        for (int32_t r = 0; r < s->n_runs; r++)
            idx[r] =
                s->pooling == LM_POOLING_CLS ? s->runs[r].i0 : s->runs[r].i0 + s->runs[r].n - 1;
        struct lm_tensor it = lm_tensor_1d(LM_I32, s->n_runs, idx);
        if ((st = lm_get_rows(&pooled, x, &it, ctx))) return st;
    }
    /* sentence-transformers' Normalize: x / max(||x||, 1e-12) */
    if (!s->o.no_normalize && (st = lm_l2norm(&pooled, &pooled, 1e-12f, ctx))) return st;
    memset(s->embd_ok, 0, (size_t)s->o.n_seq * sizeof *s->embd_ok);
    for (int32_t r = 0; r < s->n_runs; r++) {
        memcpy(s->embd + (size_t)s->runs[r].seq * d, (float *)pooled.data + (size_t)r * d,
               (size_t)d * sizeof(float));
        s->embd_ok[s->runs[r].seq] = true;
    }
    return LM_OK;
}

lm_status lm_bert_forward(struct lm_session *s, const struct lm_batch *b) {
    const struct lm_model *m = s->m;
    const struct lm_hparams *hp = &m->hp;
    struct lm_ctx *ctx = s->ctx;
    const int64_t n = b->n_tokens, d = hp->n_embd, hd = hp->head_dim;
    struct lm_tensor x, h, q, k, v, att, f;
    lm_status st;
    if (s->pooling == LM_POOLING_NONE)
        return lm_error(LM_EUNSUPPORTED, "%s names no pooling; choose mean, cls or last", m->name);
    for (int32_t r = 0; r < s->n_runs; r++) /* each text whole and once */
        for (int32_t r2 = 0; r2 < r; r2++)
            if (s->runs[r2].seq == s->runs[r].seq)
                return lm_error(LM_EINVAL, "forward: text %d appears twice in the batch",
                                s->runs[r].seq);
    for (int32_t i = 0; i < n; i++)
        if (s->pos[i] >= hp->n_ctx_train)
            return lm_error(LM_ERANGE,
                            "forward: a text of more than %d tokens (the model's "
                            "position limit)",
                            hp->n_ctx_train);
    if ((st = new_f32(s, &x, d, n)) || (st = new_f32(s, &h, d, n)) || (st = new_f32(s, &q, d, n)) ||
        (st = new_f32(s, &k, d, n)) || (st = new_f32(s, &v, d, n)) ||
        (st = new_f32(s, &att, d, n)) || (st = new_f32(s, &f, hp->n_ff, n)))
        return st;
    struct lm_tensor tokens = lm_tensor_1d(LM_I32, n, (void *)b->tokens);
    struct lm_tensor pos = lm_tensor_1d(LM_I32, n, s->pos);
    /* x = LN(tok + pos + type 0) */
    if ((st = lm_get_rows(&x, &m->tok_embd, &tokens, ctx)) ||
        (st = lm_get_rows(&h, &m->pos_embd, &pos, ctx)) || (st = lm_add(&x, &x, &h, ctx)))
        return st;
    if (m->type_embd.data) { /* every token has type 0: add row 0 to all */
        int32_t zero = 0;
        struct lm_tensor idx = lm_tensor_1d(LM_I32, 1, &zero);
        struct lm_tensor row = lm_tensor_2d(LM_F32, d, 1, h.data);
        if ((st = lm_get_rows(&row, &m->type_embd, &idx, ctx)) || (st = lm_add(&x, &x, &row, ctx)))
            return st;
    }
    if ((st = lm_layernorm(&x, &x, &m->embd_norm, &m->embd_norm_b, hp->norm_eps, ctx))) return st;

    struct lm_tensor q3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, q.data);
    struct lm_tensor k3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, k.data);
    struct lm_tensor v3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, v.data);
    struct lm_tensor o3 = lm_tensor_3d(LM_F32, hd, hp->n_head, n, att.data);
    for (int il = 0; il < hp->n_layer; il++) {
        const struct lm_layer *L = &m->layers[il];
        if ((st = linear(&q, &x, &L->wq, &L->bq, ctx)) ||
            (st = linear(&k, &x, &L->wk, &L->bk, ctx)) ||
            (st = linear(&v, &x, &L->wv, &L->bv, ctx)))
            return st;
        for (int32_t r = 0; r < s->n_runs; r++) { /* each text attends to itself only */
            const struct lm_run *run = &s->runs[r];
            struct lm_tensor qr, kr, vr, or ;
            struct lm_attn_params ap = {.causal = false};
            if ((st = lm_tensor_slice(&qr, &q3, 2, run->i0, run->n)) ||
                (st = lm_tensor_slice(&kr, &k3, 2, run->i0, run->n)) ||
                (st = lm_tensor_slice(&vr, &v3, 2, run->i0, run->n)) ||
                (st = lm_tensor_slice(& or, &o3, 2, run->i0, run->n)) ||
                (st = lm_attention(& or, &qr, &kr, &vr, &ap, ctx)))
                return st;
        }
        /* x = LN(x + Wo att + bo); x = LN(x + Wdown gelu(Wup x + bup) + bdown) */
        if ((st = linear(&h, &att, &L->wo, &L->bo, ctx)) || (st = lm_add(&x, &x, &h, ctx)) ||
            (st = lm_layernorm(&x, &x, &L->attn_norm, &L->attn_norm_b, hp->norm_eps, ctx)) ||
            (st = linear(&f, &x, &L->w_up, &L->b_up, ctx)) ||
            (st = lm_gelu(&f, &f, LM_GELU_ERF, ctx)) ||
            (st = linear(&h, &f, &L->w_down, &L->b_down, ctx)) || (st = lm_add(&x, &x, &h, ctx)) ||
            (st = lm_layernorm(&x, &x, &L->out_norm, &L->out_norm_b, hp->norm_eps, ctx)))
            return st;
    }
    return pool(s, &x);
}
