/* models/session.c - sessions: the KV cache, conv state and activation arena of one stream of
 * work, and lm_forward, which validates a batch and hands it to the architecture's graph.
 *
 * KV cache layout: for each attention layer, for each sequence, K then V as (hd, n_head_kv,
 * n_ctx) in kv_dtype, so a sequence's keys at positions [0, n) are one contiguous tensor and
 * attention reads them with no gather. A cell's index is its position: sequences only grow at
 * their end (lm_session_seq_keep cuts them back), so cells [0, len) are always written.
 *
 * Batch validation happens here, once, before any weight is touched: token ids in the
 * vocabulary, sequence ids in range, positions continuing each sequence, the context and the
 * sizes the session was made for. A failed forward leaves every sequence length as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"
#include "model.h"

static lm_status fill_defaults(const struct lm_model *m, struct lm_session_opts *o) {
    const struct lm_hparams *hp = &m->hp;
    const bool bert = hp->arch == LM_ARCH_BERT;
    if (o->n_ctx < 0 || o->n_seq < 0 || o->n_batch < 0 || o->n_outputs < 0 || o->n_threads < 0)
        return lm_error(LM_EINVAL,
                        "session: negative size in the options (n_ctx %d, n_seq %d, "
                        "n_batch %d, n_outputs %d, n_threads %d)",
                        o->n_ctx, o->n_seq, o->n_batch, o->n_outputs, o->n_threads);
    if (o->n_ctx == 0) {
        int32_t train = hp->n_ctx_train > 0 ? hp->n_ctx_train : 4096;
        o->n_ctx = bert || train < 4096 ? train : 4096;
    }
    if (bert && hp->n_ctx_train > 0 && o->n_ctx > hp->n_ctx_train)
        return lm_error(LM_ERANGE, "session: n_ctx %d is more than the %d positions of %s",
                        o->n_ctx, hp->n_ctx_train, m->name);
    if (o->n_seq == 0) o->n_seq = bert ? 64 : 1;
    if (o->n_batch == 0) o->n_batch = 512;
    if (o->n_outputs == 0) o->n_outputs = o->n_seq;
    if (o->n_outputs > o->n_batch) o->n_outputs = o->n_batch;
    if (o->kv_dtype != LM_F32 && o->kv_dtype != LM_F16)
        return lm_error(LM_EINVAL, "session: KV cache dtype %s (f32 or f16 only)",
                        lm_dtype_name(o->kv_dtype));
    /* Caps that keep every size product below in range of size_t and int32. */
    if (o->n_ctx > (1 << 24) || o->n_seq > (1 << 16) || o->n_batch > (1 << 20))
        return lm_error(LM_ERANGE, "session: n_ctx %d / n_seq %d / n_batch %d too large", o->n_ctx,
                        o->n_seq, o->n_batch);
    return LM_OK;
}

lm_status lm_session_create(struct lm_model *m, const struct lm_session_opts *opts,
                            struct lm_session **out) {
    if (!m || !out) return lm_error(LM_EINVAL, "lm_session_create: NULL argument");
    *out = NULL;
    struct lm_session *s = calloc(1, sizeof *s);
    if (!s) return lm_error(LM_ENOMEM, "lm_session_create: out of memory");
    s->m = m;
    if (opts) s->o = *opts;
    lm_status st = fill_defaults(m, &s->o);
    const struct lm_hparams *hp = &m->hp;
    const struct lm_session_opts *o = &s->o;
    s->pooling = o->pooling != LM_POOLING_NONE ? o->pooling : hp->pooling;
    if (!st) st = lm_ctx_create(o->n_threads, &s->ctx);

    /* KV cache and conv state. */
    int32_t n_attn = 0, n_conv = 0;
    if (!st && !(s->kv_slot = malloc((size_t)hp->n_layer * sizeof *s->kv_slot)))
        st = lm_error(LM_ENOMEM, "session: out of memory");
    for (int32_t il = 0; !st && il < hp->n_layer; il++) {
        bool attn = hp->arch != LM_ARCH_BERT && hp->n_head_kv_layer[il] > 0;
        s->kv_slot[il] = attn ? n_attn++ : (hp->arch == LM_ARCH_LFM2 ? -1 - n_conv++ : -1);
    }
    if (!st && n_attn) {
        size_t el = o->kv_dtype == LM_F16 ? 2 : 4;
        s->kv_layer_bytes = (size_t)hp->head_dim * hp->n_head_kv * o->n_ctx * el;
        size_t total = s->kv_layer_bytes * 2 * (size_t)n_attn * o->n_seq;
        if (!(s->kv = lm_aligned_alloc(total)))
            st = lm_error(LM_ENOMEM, "session: KV cache of %.1f MiB", (double)total / (1 << 20));
    }
    if (!st && n_conv) {
        size_t n = (size_t)n_conv * o->n_seq * (size_t)(hp->conv_l_cache - 1) * hp->n_embd;
        if (n && !(s->conv_state = lm_aligned_alloc(n * sizeof(float))))
            st = lm_error(LM_ENOMEM, "session: conv state");
    }

    /* Per-forward memory: the arena (activations), batch bookkeeping, outputs. */
    size_t arena = 0;
    if (!st) {
        arena = hp->arch == LM_ARCH_BERT   ? lm_bert_arena_bytes(s)
                : hp->arch == LM_ARCH_LFM2 ? lm_lfm2_arena_bytes(s)
                                           : lm_llama_arena_bytes(s);
        st = lm_arena_init(&s->arena, arena);
    }
    if (!st) {
        s->seq_len = calloc((size_t)o->n_seq, sizeof *s->seq_len);
        s->seq_next = calloc((size_t)o->n_seq, sizeof *s->seq_next);
        s->runs = malloc((size_t)o->n_batch * sizeof *s->runs);
        s->pos = malloc((size_t)o->n_batch * sizeof *s->pos);
        s->out_idx = malloc((size_t)o->n_outputs * sizeof *s->out_idx);
        if (hp->arch == LM_ARCH_BERT) {
            s->embd = lm_aligned_alloc((size_t)hp->n_embd * o->n_seq * sizeof(float));
            s->embd_ok = calloc((size_t)o->n_seq, sizeof *s->embd_ok);
        } else {
            s->logits = lm_aligned_alloc((size_t)hp->n_vocab * o->n_outputs * sizeof(float));
        }
        if (!s->seq_len || !s->seq_next || !s->runs || !s->pos || !s->out_idx ||
            (hp->arch == LM_ARCH_BERT ? !s->embd || !s->embd_ok : !s->logits))
            st = lm_error(LM_ENOMEM, "session: out of memory");
    }
    if (st) {
        lm_session_free(s);
        return st;
    }
    lm_log(LM_LOG_INFO, "session: n_ctx %d, n_seq %d, n_batch %d, KV %.1f MiB %s, arena %.1f MiB",
           o->n_ctx, o->n_seq, o->n_batch,
           (double)s->kv_layer_bytes * 2 * n_attn * o->n_seq / (1 << 20),
           lm_dtype_name(o->kv_dtype), (double)arena / (1 << 20));
    *out = s;
    return LM_OK;
}

void lm_session_free(struct lm_session *s) {
    if (!s) return;
    lm_ctx_free(s->ctx);
    lm_aligned_free(s->kv);
    lm_aligned_free(s->conv_state);
    lm_arena_free(&s->arena);
    free(s->kv_slot);
    free(s->seq_len);
    free(s->seq_next);
    free(s->runs);
    free(s->pos);
    free(s->out_idx);
    lm_aligned_free(s->logits);
    lm_aligned_free(s->embd);
    free(s->embd_ok);
    free(s);
}

struct lm_ctx *lm_session_ctx(struct lm_session *s) {
    return s->ctx;
}
int32_t lm_session_n_ctx(const struct lm_session *s) { return s->o.n_ctx; }
int32_t lm_session_n_seq(const struct lm_session *s) { return s->o.n_seq; }
int32_t lm_session_n_batch(const struct lm_session *s) { return s->o.n_batch; }

int32_t lm_session_seq_len(const struct lm_session *s, int32_t seq) {
    return seq >= 0 && seq < s->o.n_seq ? s->seq_len[seq] : -1;
}

/* Conv state of conv layer il (kv_slot -1 - k) for sequence seq: (L-1) rows of n_embd. */
static float *conv_state_of(const struct lm_session *s, int il, int32_t seq) {
    const struct lm_hparams *hp = &s->m->hp;
    size_t per = (size_t)(hp->conv_l_cache - 1) * hp->n_embd;
    size_t k = (size_t)(-1 - s->kv_slot[il]);
    return s->conv_state + (k * s->o.n_seq + (size_t)seq) * per;
}

lm_status lm_session_seq_keep(struct lm_session *s, int32_t seq, int32_t n) {
    if (!s || seq < 0 || seq >= s->o.n_seq)
        return lm_error(LM_ERANGE, "session: sequence %d out of [0, %d)", seq, s ? s->o.n_seq : 0);
    if (n < 0 || n > s->seq_len[seq])
        return lm_error(LM_ERANGE, "session: cannot keep %d positions of sequence %d (it has %d)",
                        n, seq, s->seq_len[seq]);
    const struct lm_hparams *hp = &s->m->hp;
    if (hp->arch == LM_ARCH_LFM2 && n != 0 && n != s->seq_len[seq])
        return lm_error(LM_EUNSUPPORTED,
                        "session: lfm2 conv state cannot be rewound to position %d of %d (keep 0 "
                        "or all of sequence %d)",
                        n, s->seq_len[seq], seq);
    if (n == 0 && s->conv_state)
        for (int il = 0; il < hp->n_layer; il++)
            if (s->kv_slot[il] < 0)
                memset(conv_state_of(s, il, seq), 0,
                       (size_t)(hp->conv_l_cache - 1) * hp->n_embd * sizeof(float));
    s->seq_len[seq] = n;
    return LM_OK;
}

struct lm_tensor lm_session_kv(const struct lm_session *s, int il, int32_t seq, bool v, int32_t n) {
    const struct lm_hparams *hp = &s->m->hp;
    size_t slot = (size_t)s->kv_slot[il];
    uint8_t *p = s->kv + ((slot * s->o.n_seq + (size_t)seq) * 2 + v) * s->kv_layer_bytes;
    return lm_tensor_3d(s->o.kv_dtype, hp->head_dim, hp->n_head_kv, n, p);
}

float *lm_session_conv_state(const struct lm_session *s, int il, int32_t seq) {
    return conv_state_of(s, il, seq);
}

void lm_session_kv_store(struct lm_session *s, int il, const struct lm_tensor *k,
                         const struct lm_tensor *v, const struct lm_batch *b) {
    const int64_t row = k->ne[0]; /* hd * n_head_kv */
    void (*to16)(void *, const float *, int64_t) = s->ctx->k->from_f32[LM_F16];
    for (int32_t i = 0; i < b->n_tokens; i++) {
        int32_t seq = b->seq ? b->seq[i] : 0, pos = s->pos[i];
        for (int w = 0; w < 2; w++) {
            const struct lm_tensor *src = w ? v : k;
            struct lm_tensor c = lm_session_kv(s, il, seq, w, pos + 1);
            const float *x = (const float *)((const char *)src->data + (size_t)i * src->nb[1]);
            uint8_t *dst = (uint8_t *)c.data + (size_t)pos * c.nb[2];
            if (s->o.kv_dtype == LM_F16)
                to16(dst, x, row);
            else
                memcpy(dst, x, (size_t)row * sizeof(float));
        }
    }
}

/* ---- lm_forward -------------------------------------------------------------------------- */

static lm_status plan_batch(struct lm_session *s, const struct lm_batch *b, int32_t *next) {
    const struct lm_hparams *hp = &s->m->hp;
    const struct lm_session_opts *o = &s->o;
    const bool bert = hp->arch == LM_ARCH_BERT;
    if (!b || b->n_tokens < 1 || !b->tokens) return lm_error(LM_EINVAL, "forward: empty batch");
    if (b->n_tokens > o->n_batch)
        return lm_error(LM_ERANGE,
                        "forward: %d tokens in one batch; this session takes at most %d "
                        "(n_batch)",
                        b->n_tokens, o->n_batch);
    memcpy(next, s->seq_len, (size_t)o->n_seq * sizeof *next);
    if (bert) memset(next, 0, (size_t)o->n_seq * sizeof *next);
    s->n_runs = 0;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        int32_t tok = b->tokens[i], seq = b->seq ? b->seq[i] : 0;
        if (tok < 0 || tok >= hp->n_vocab)
            return lm_error(LM_ERANGE,
                            "forward: token %d (batch row %d) is outside the "
                            "vocabulary of %d",
                            tok, i, hp->n_vocab);
        if (seq < 0 || seq >= o->n_seq)
            return lm_error(LM_ERANGE, "forward: sequence id %d (batch row %d) out of [0, %d)", seq,
                            i, o->n_seq);
        int32_t pos = next[seq]++;
        if (pos >= o->n_ctx)
            return lm_error(LM_ERANGE,
                            "forward: sequence %d reaches position %d; the context is %d tokens "
                            "(n_ctx)",
                            seq, pos + 1, o->n_ctx);
        if (b->pos && b->pos[i] != pos)
            return lm_error(LM_EINVAL,
                            "forward: batch row %d of sequence %d has position %d; it must "
                            "continue the sequence at %d",
                            i, seq, b->pos[i], pos);
        s->pos[i] = pos;
        struct lm_run *r = s->n_runs ? &s->runs[s->n_runs - 1] : NULL;
        if (r && r->seq == seq) {
            r->n++;
        } else {
            if (bert && pos != 0)
                return lm_error(LM_EINVAL,
                                "forward: the tokens of text %d are not adjacent in "
                                "the batch (row %d)",
                                seq, i);
            s->runs[s->n_runs++] = (struct lm_run){seq, i, 1, pos};
        }
    }
    /* Rows with logits. */
    s->n_out = 0;
    if (bert) return LM_OK;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        bool want;
        if (b->logits) {
            want = b->logits[i] != 0;
        } else { /* the last token of its sequence in this batch */
            int32_t seq = b->seq ? b->seq[i] : 0;
            want = s->pos[i] == next[seq] - 1;
        }
        if (!want) continue;
        if (s->n_out == o->n_outputs)
            return lm_error(LM_ERANGE,
                            "forward: the batch asks for more than %d rows of logits "
                            "(n_outputs)",
                            o->n_outputs);
        s->out_idx[s->n_out++] = i;
    }
    return LM_OK;
}

lm_status lm_forward(struct lm_session *s, const struct lm_batch *b) {
    if (!s) return lm_error(LM_EINVAL, "forward: NULL session");
    int32_t *next = s->seq_next;
    lm_status st = plan_batch(s, b, next);
    if (!st) {
        lm_arena_reset(&s->arena, 0);
        switch (s->m->hp.arch) {
        case LM_ARCH_BERT: st = lm_bert_forward(s, b); break;
        case LM_ARCH_LFM2: st = lm_lfm2_forward(s, b); break;
        default: st = lm_llama_forward(s, b); break;
        }
    }
    if (!st && s->m->hp.arch != LM_ARCH_BERT)
        memcpy(s->seq_len, next, (size_t)s->o.n_seq * sizeof *next);
    if (st) s->n_out = 0;
    return st;
}

int32_t lm_session_n_outputs(const struct lm_session *s) { return s->n_out; }

const float *lm_session_logits(const struct lm_session *s, int32_t i) {
    if (!s->logits || i < 0 || i >= s->n_out) return NULL;
    return s->logits + (size_t)i * s->m->hp.n_vocab;
}

const float *lm_session_embedding(const struct lm_session *s, int32_t seq) {
    if (!s->embd || seq < 0 || seq >= s->o.n_seq || !s->embd_ok[seq]) return NULL;
    return s->embd + (size_t)seq * s->m->hp.n_embd;
}
