/* tools/serve_sched.c - the workers of `lmrt serve`: continuous batching for generation, and
 * embeddings (contract in tools/serve_sched.h and tools/serve_job.h).
 *
 * Generation. One session holds `slots` sequences; slot i is sequence i. A step:
 *   1. admit: queued jobs take free slots, each the free slot whose cached tokens share the
 *      longest prefix with its prompt (that prefix of the KV cache is kept, the rest cleared);
 *   2. drop the slots whose client went away;
 *   3. build one batch: the next token of every decoding slot, then prompt chunks of prefilling
 *      slots, oldest first, in what is left of n_batch; a slot's row has logits only when it is
 *      its decode token or the last token of its prompt;
 *   4. one lm_forward;
 *   5. every slot with logits samples with its own sampler, streams its text through its stop
 *      strings into its job, and ends on an end token, a stop string, max_tokens or a full
 *      context.
 * Rows do not depend on what else is in the batch (every op is row-wise or per sequence, and
 * the kernels' results do not depend on the row count), so at temperature 0 a request gets
 * the same text alone or among fifteen others.
 *
 * Embeddings. A second thread owns the encoder session and runs one job at a time, packing its
 * inputs into forwards as lm_embed does, so a text embeds to exactly what `lmrt embed` gives.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve_sched.h"

enum slot_state { SLOT_FREE, SLOT_PREFILL, SLOT_DECODE };

struct slot {
    enum slot_state state;
    struct srv_job *job;
    struct lm_tokens cache; /* the tokens the session holds for this sequence */
    int32_t n_fed;          /* prompt tokens forwarded so far (cache.n while prefilling) */
    int32_t next;           /* decode: the token to forward */
    int32_t n_gen;
    struct lm_sampler *smp;
    struct lm_stop *stop;
    struct lm_detok_stream ds;
    uint64_t t_admit, t_last;
    int64_t order; /* admission order: older prompts prefill first */
};

/* A FIFO of jobs, bounded. */
struct queue {
    struct srv_job **v;
    int head, n, cap;
};

struct worker {
    struct srv_sched *s;
    pthread_t thread;
    bool started;
    struct lm_session *sess;
    struct queue q;
};

struct srv_sched {
    pthread_mutex_t mu;       /* guards both queues, draining, stopping */
    pthread_cond_t cv;        /* a job arrived, or drain/stop */
    bool draining;            /* submit refuses new jobs */
    bool cancel_all;          /* the workers cancel every job they hold */
    bool stopping;            /* the workers exit once their queues are empty */
    int gen_busy, embed_busy; /* jobs a worker has taken from its queue */
    struct srv_metrics *metrics;

    struct lm_model *gen_model;
    struct worker gen;
    struct slot *slots;
    int n_slots;
    int64_t admitted;
    int32_t *b_tok, *b_seq; /* batch buffers, n_batch each */
    int8_t *b_logits;
    struct lm_text piece, out; /* scratch for one token's text */

    struct lm_model *embed_model;
    struct worker embed;
};

/* ---- queue (callers hold s->mu) ------------------------------------------------------------ */

static bool queue_push(struct queue *q, struct srv_job *j) {
    if (q->n == q->cap) return false;
    q->v[(q->head + q->n++) % q->cap] = j;
    return true;
}

static struct srv_job *queue_pop(struct queue *q) {
    if (!q->n) return NULL;
    struct srv_job *j = q->v[q->head];
    q->head = (q->head + 1) % q->cap, q->n--;
    return j;
}

/* ---- generation ---------------------------------------------------------------------------- */

static int32_t common_prefix(const struct lm_tokens *a, const struct lm_tokens *b) {
    int64_t n = a->n < b->n ? a->n : b->n, i = 0;
    while (i < n && a->ids[i] == b->ids[i])
        i++;
    return (int32_t)i;
}

/* Report the job's tokens, drop the slot's reference to it and free the slot. The session
 * keeps the sequence's tokens (cache) for a later job with the same prefix. */
static void slot_free(struct srv_sched *s, struct slot *sl) {
    if (s->metrics) srv_metrics_tokens(s->metrics, sl->job->n_prompt, sl->n_gen);
    srv_job_release(sl->job);
    lm_sampler_free(sl->smp);
    lm_stop_free(sl->stop);
    sl->smp = NULL, sl->stop = NULL, sl->job = NULL;
    sl->state = SLOT_FREE;
}

/* The end of a slot's job (SRV_STOP, SRV_LENGTH or SRV_CANCELLED): release the text still
 * held by the UTF-8 decoder and the stop strings, finish, free the slot. */
static void slot_end(struct srv_sched *s, struct slot *sl, enum srv_finish how) {
    if (how != SRV_CANCELLED) {
        s->piece.n = 0, s->out.n = 0;
        lm_detok_flush(&sl->ds, &s->piece);
        if (lm_stop_push(sl->stop, s->piece.s ? s->piece.s : "", s->piece.n, &s->out))
            how = SRV_STOP;
        else
            lm_stop_flush(sl->stop, &s->out);
        if (s->out.n) srv_job_emit(sl->job, s->out.s, s->out.n);
    }
    srv_job_finish(sl->job, how);
    slot_free(s, sl);
}

/* A failure of ours while a slot runs: the job fails with 500 and the sequence is cleared. */
static void slot_fail(struct srv_sched *s, struct slot *sl, const char *what) {
    lm_log(LM_LOG_ERROR, "serve: job %s: %s: %s", sl->job->id, what, lm_last_error());
    srv_job_fail(sl->job, 500, "%s: %s", what, lm_last_error());
    slot_free(s, sl);
    lm_session_seq_keep(s->gen.sess, (int32_t)(sl - s->slots), 0);
    sl->cache.n = 0;
}

/* Put job j into free slot sl: keep the longest usable prefix of the slot's cached tokens. */
static void slot_admit(struct srv_sched *s, struct slot *sl, struct srv_job *j) {
    const int32_t seq = (int32_t)(sl - s->slots);
    int32_t keep = common_prefix(&sl->cache, &j->prompt);
    if (keep == j->prompt.n) keep--; /* forward at least one token, for its logits */
    if (lm_session_seq_keep(s->gen.sess, seq, keep) != LM_OK) {
        keep = 0; /* lfm2's conv state cannot rewind: start over */
        lm_session_seq_keep(s->gen.sess, seq, 0);
    }
    sl->cache.n = keep;
    sl->job = j;
    sl->n_fed = keep;
    sl->n_gen = 0;
    sl->ds = (struct lm_detok_stream){0};
    sl->t_admit = sl->t_last = lm_time_ns();
    sl->order = s->admitted++;
    struct lm_sampler_params p = j->sampling;
    p.bias = j->bias; /* the job owns them */
    if (lm_sampler_create(&p, lm_model_hparams(s->gen_model)->n_vocab, &sl->smp) != LM_OK ||
        lm_stop_create((const char *const *)j->stop, j->n_stop, &sl->stop) != LM_OK) {
        /* the HTTP side validated these; what is left is ours (out of memory) or a bad value */
        srv_job_fail(j, 400, "%s", lm_last_error());
        slot_free(s, sl);
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->n_prompt = (int32_t)j->prompt.n;
    pthread_mutex_unlock(&j->mu);
    sl->state = SLOT_PREFILL;
}

/* A sampled token: stream it, or end the job. Returns false when the job ended. */
static bool slot_token(struct srv_sched *s, struct slot *sl, int32_t id) {
    struct srv_job *j = sl->job;
    const struct lm_tokenizer *tok = lm_model_tokenizer(s->gen_model);
    uint64_t now = lm_time_ns();
    if (s->metrics) {
        if (sl->n_gen == 0)
            srv_metrics_ttft(s->metrics, (now - j->t_submit) * 1e-9);
        else
            srv_metrics_token_latency(s->metrics, (now - sl->t_last) * 1e-9);
    }
    sl->t_last = now;
    if (sl->n_gen == 0) {
        pthread_mutex_lock(&j->mu);
        j->t_first = now;
        pthread_mutex_unlock(&j->mu);
    }
    if (lm_tokenizer_is_eog(tok, id)) {
        slot_end(s, sl, SRV_STOP);
        return false;
    }
    sl->n_gen++;
    pthread_mutex_lock(&j->mu);
    j->n_gen = sl->n_gen;
    pthread_mutex_unlock(&j->mu);
    s->piece.n = 0, s->out.n = 0;
    if (lm_detok_push(tok, &sl->ds, id, LM_TOK_SKIP_SPECIAL, &s->piece) != LM_OK) {
        slot_fail(s, sl, "decoding a sampled token");
        return false;
    }
    bool stopped = lm_stop_push(sl->stop, s->piece.s ? s->piece.s : "", s->piece.n, &s->out);
    if (!srv_job_emit(sl->job, s->out.s ? s->out.s : "", s->out.n)) {
        slot_end(s, sl, SRV_CANCELLED);
        return false;
    }
    if (stopped) { /* the stop string and what follows are dropped: nothing more to send */
        srv_job_finish(j, SRV_STOP);
        slot_free(s, sl);
        return false;
    }
    const int32_t seq = (int32_t)(sl - s->slots);
    if ((j->max_tokens >= 0 && sl->n_gen >= j->max_tokens) ||
        lm_session_seq_len(s->gen.sess, seq) + 1 >= lm_session_n_ctx(s->gen.sess)) {
        slot_end(s, sl, SRV_LENGTH);
        return false;
    }
    sl->next = id;
    sl->state = SLOT_DECODE;
    return true;
}

/* Jobs waiting and slots free: admit (s->mu held). Cancelled queued jobs end here. */
static void admit(struct srv_sched *s) {
    for (;;) {
        struct slot *best = NULL;
        int32_t best_p = -1;
        struct srv_job *j = s->gen.q.n ? s->gen.q.v[s->gen.q.head] : NULL;
        if (!j) return;
        if (srv_job_cancelled(j)) {
            queue_pop(&s->gen.q);
            srv_job_finish(j, SRV_CANCELLED);
            srv_job_release(j);
            continue;
        }
        for (int i = 0; i < s->n_slots; i++) {
            if (s->slots[i].state != SLOT_FREE) continue;
            int32_t p = common_prefix(&s->slots[i].cache, &j->prompt);
            if (p > best_p) best = &s->slots[i], best_p = p;
        }
        if (!best) return;
        queue_pop(&s->gen.q);
        slot_admit(s, best, j);
    }
}

/* One step; false when there was nothing to do. */
static bool gen_step(struct srv_sched *s) {
    pthread_mutex_lock(&s->mu);
    if (s->cancel_all) { /* shutting down, grace over: cancel the queued and the running */
        for (int i = 0; i < s->gen.q.n; i++)
            srv_job_cancel(s->gen.q.v[(s->gen.q.head + i) % s->gen.q.cap]);
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].state != SLOT_FREE) srv_job_cancel(s->slots[i].job);
    }
    admit(s);
    int queued = s->gen.q.n;
    pthread_mutex_unlock(&s->mu);

    const int32_t nb = lm_session_n_batch(s->gen.sess);
    int32_t n = 0, busy = 0;
    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state == SLOT_FREE) continue;
        if (srv_job_cancelled(sl->job)) {
            slot_end(s, sl, SRV_CANCELLED);
            continue;
        }
        busy++;
        if (sl->state != SLOT_DECODE) continue;
        sl->cache.ids[sl->cache.n++] = sl->next; /* room for n_ctx: made at create */
        s->b_tok[n] = sl->next, s->b_seq[n] = i, s->b_logits[n] = 1;
        n++;
    }
    /* prompt chunks, oldest admission first, in what is left of the batch */
    for (;;) {
        struct slot *sl = NULL;
        for (int i = 0; i < s->n_slots; i++) {
            struct slot *c = &s->slots[i];
            bool waiting = c->state == SLOT_PREFILL && c->n_fed < c->job->prompt.n;
            if (waiting && (!sl || c->order < sl->order)) sl = c;
        }
        if (!sl || n == nb) break;
        const struct lm_tokens *p = &sl->job->prompt;
        int32_t k = (int32_t)(p->n - sl->n_fed);
        if (k > nb - n) k = nb - n;
        for (int32_t t = 0; t < k; t++) {
            int32_t id = p->ids[sl->n_fed + t];
            s->b_tok[n] = id, s->b_seq[n] = (int32_t)(sl - s->slots), s->b_logits[n] = 0;
            sl->cache.ids[sl->cache.n++] = id;
            n++;
        }
        sl->n_fed += k;
        if (sl->n_fed == p->n) s->b_logits[n - 1] = 1;
    }
    pthread_mutex_lock(&s->mu);
    s->gen_busy = busy;
    pthread_mutex_unlock(&s->mu);
    if (s->metrics) {
        int64_t used = 0;
        for (int i = 0; i < s->n_slots; i++)
            used += lm_session_seq_len(s->gen.sess, i);
        srv_metrics_gen_state(s->metrics, queued, busy, s->n_slots, used,
                              (int64_t)s->n_slots * lm_session_n_ctx(s->gen.sess));
    }
    if (n == 0) return busy > 0;

    struct lm_batch b = {.n_tokens = n, .tokens = s->b_tok, .seq = s->b_seq, .logits = s->b_logits};
    if (lm_forward(s->gen.sess, &b) != LM_OK) {
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].state != SLOT_FREE) slot_fail(s, &s->slots[i], "forward");
        return true;
    }
    /* logits rows come in batch order, one per flagged token, one per slot */
    int32_t row = 0;
    for (int32_t t = 0; t < n; t++) {
        if (!s->b_logits[t]) continue;
        struct slot *sl = &s->slots[s->b_seq[t]];
        const float *logits = lm_session_logits(s->gen.sess, row++);
        if (sl->state == SLOT_FREE) continue; /* cancelled since */
        int32_t id; /* the sampler's penalties look at generated tokens only, as OpenAI's */
        if (lm_sampler_sample(sl->smp, logits, &id) != LM_OK) {
            slot_fail(s, sl, "sampling");
            continue;
        }
        slot_token(s, sl, id);
    }
    return true;
}

static void *gen_main(void *arg) {
    struct srv_sched *s = arg;
    for (;;) {
        if (gen_step(s)) continue;
        /* idle: sleep until a job comes or we are told to stop */
        pthread_mutex_lock(&s->mu);
        while (!s->gen.q.n && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        bool stop = s->stopping && !s->gen.q.n;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
    }
    return NULL;
}

/* ---- embeddings ---------------------------------------------------------------------------- */

/* Embed every input of j into j->embd, packed into forwards in order (lm_embed's packing). */
static void embed_job(struct srv_sched *s, struct srv_job *j) {
    struct lm_session *sess = s->embed.sess;
    const struct lm_model *m = s->embed_model;
    const int32_t limit = srv_sched_embed_limit(s), nb = lm_session_n_batch(sess);
    const int32_t n_seq = lm_session_n_seq(sess), d = lm_model_hparams(m)->n_embd;
    const int32_t sep = lm_tokenizer_special(lm_model_tokenizer(m), LM_TOK_SEP);
    int32_t total = 0;
    /* Texts over the limit are cut as `lmrt embed` cuts them: the first limit - 1 tokens and
     * the closing [SEP]. Token inputs are the caller's: over the limit is an error. */
    for (int32_t i = 0; i < j->n_inputs; i++) {
        struct lm_tokens *t = &j->inputs[i];
        if (t->n == 0) {
            srv_job_fail(j, 400, "input %d has no tokens", i);
            return;
        }
        if (t->n > limit) {
            if (!j->from_text) {
                srv_job_fail(j, 400, "input %d has %lld tokens; the limit is %d", i,
                             (long long)t->n, limit);
                return;
            }
            int32_t last = t->ids[t->n - 1];
            t->n = limit;
            if (last == sep) t->ids[t->n - 1] = sep;
        }
        total += (int32_t)t->n;
    }
    float *out = malloc((size_t)j->n_inputs * d * sizeof *out);
    int32_t *tok = malloc((size_t)nb * sizeof *tok), *seq = malloc((size_t)nb * sizeof *seq);
    if (!out || !tok || !seq) {
        srv_job_fail(j, 500, "out of memory for %d embeddings", j->n_inputs);
        goto done;
    }
    for (int32_t i = 0; i < j->n_inputs;) {
        int32_t nt = 0, ns = 0, k = i;
        while (k < j->n_inputs && ns < n_seq && nt + j->inputs[k].n <= nb) {
            memcpy(tok + nt, j->inputs[k].ids, (size_t)j->inputs[k].n * sizeof *tok);
            for (int64_t t = 0; t < j->inputs[k].n; t++)
                seq[nt + t] = ns;
            nt += (int32_t)j->inputs[k++].n;
            ns++;
        }
        struct lm_batch b = {.n_tokens = nt, .tokens = tok, .seq = seq};
        if (lm_forward(sess, &b) != LM_OK) {
            srv_job_fail(j, 500, "embedding forward: %s", lm_last_error());
            goto done;
        }
        for (int32_t q = 0; q < ns; q++)
            memcpy(out + (size_t)(i + q) * d, lm_session_embedding(sess, q),
                   (size_t)d * sizeof *out);
        i = k;
        if (srv_job_cancelled(j)) {
            srv_job_finish(j, SRV_CANCELLED);
            goto done;
        }
    }
    pthread_mutex_lock(&j->mu);
    j->embd = out, j->n_embd = d, j->n_prompt = total;
    pthread_mutex_unlock(&j->mu);
    out = NULL;
    srv_job_finish(j, SRV_STOP);
    if (s->metrics) srv_metrics_tokens(s->metrics, total, 0);
done:
    free(out);
    free(tok);
    free(seq);
}

static void *embed_main(void *arg) {
    struct srv_sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->embed.q.n && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        struct srv_job *j = queue_pop(&s->embed.q);
        int left = s->embed.q.n;
        if (j && s->cancel_all) srv_job_cancel(j);
        s->embed_busy = j != NULL;
        pthread_mutex_unlock(&s->mu);
        if (!j) break; /* stopping, and nothing queued */
        if (s->metrics) srv_metrics_embed_queue(s->metrics, left);
        if (srv_job_cancelled(j))
            srv_job_finish(j, SRV_CANCELLED);
        else
            embed_job(s, j);
        srv_job_release(j);
        pthread_mutex_lock(&s->mu);
        s->embed_busy = 0;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* ---- life cycle ---------------------------------------------------------------------------- */

int32_t srv_sched_n_ctx(const struct srv_sched *s) {
    return s->gen.sess ? lm_session_n_ctx(s->gen.sess) : 0;
}

int32_t srv_sched_embed_limit(const struct srv_sched *s) {
    if (!s->embed.sess) return 0;
    int32_t c = lm_session_n_ctx(s->embed.sess), b = lm_session_n_batch(s->embed.sess);
    return c < b ? c : b;
}

static lm_status worker_start(struct srv_sched *s, struct worker *w, void *(*fn)(void *),
                              int max_queue) {
    w->q.cap = max_queue;
    if (!(w->q.v = calloc((size_t)max_queue, sizeof *w->q.v)))
        return lm_error(LM_ENOMEM, "serve: out of memory");
    if (pthread_create(&w->thread, NULL, fn, s))
        return lm_error(LM_ENOMEM, "serve: cannot start a worker thread");
    w->started = true;
    return LM_OK;
}

lm_status srv_sched_create(struct lm_model *gen, struct lm_model *embed,
                           const struct srv_sched_opts *o, struct srv_metrics *metrics,
                           struct srv_sched **out) {
    *out = NULL;
    if (!gen && !embed) return lm_error(LM_EINVAL, "serve: no model to serve");
    if (gen && lm_model_hparams(gen)->arch == LM_ARCH_BERT)
        return lm_error(LM_EINVAL, "serve: %s is an encoder; serve it with --embed-model",
                        lm_model_name(gen));
    if (embed && lm_model_hparams(embed)->arch != LM_ARCH_BERT)
        return lm_error(LM_EINVAL, "serve: %s is not an embedding (bert) model",
                        lm_model_name(embed));
    struct srv_sched *s = calloc(1, sizeof *s);
    if (!s) return lm_error(LM_ENOMEM, "serve: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->metrics = metrics;
    s->gen.s = s->embed.s = s;
    const int max_queue = o && o->max_queue > 0 ? o->max_queue : 64;
    lm_status st = LM_OK;
    if (gen) {
        s->gen_model = gen;
        s->n_slots = o && o->slots > 0 ? o->slots : 8;
        struct lm_session_opts so = {
            .n_ctx = o ? o->n_ctx : 0,
            .n_seq = s->n_slots,
            .n_batch = o && o->n_batch > 0 ? o->n_batch : 512,
            .n_outputs = s->n_slots,
            .n_threads = o ? o->n_threads : 0,
        };
        if ((st = lm_session_create(gen, &so, &s->gen.sess))) goto fail;
        const int32_t nb = lm_session_n_batch(s->gen.sess), nc = lm_session_n_ctx(s->gen.sess);
        s->slots = calloc((size_t)s->n_slots, sizeof *s->slots);
        s->b_tok = malloc((size_t)nb * sizeof *s->b_tok);
        s->b_seq = malloc((size_t)nb * sizeof *s->b_seq);
        s->b_logits = malloc((size_t)nb);
        if (!s->slots || !s->b_tok || !s->b_seq || !s->b_logits) goto oom;
        for (int i = 0; i < s->n_slots; i++) {
            s->slots[i].cache.cap = nc;
            if (!(s->slots[i].cache.ids = malloc((size_t)nc * sizeof(int32_t)))) goto oom;
        }
        if ((st = worker_start(s, &s->gen, gen_main, max_queue))) goto fail;
    }
    if (embed) {
        s->embed_model = embed;
        struct lm_session_opts so = {.n_threads = o ? o->n_threads : 0};
        if ((st = lm_session_create(embed, &so, &s->embed.sess))) goto fail;
        if ((st = worker_start(s, &s->embed, embed_main, max_queue))) goto fail;
    }
    *out = s;
    return LM_OK;
oom:
    st = lm_error(LM_ENOMEM, "serve: out of memory for %d slots", s->n_slots);
fail:
    srv_sched_free(s);
    return st;
}

lm_status srv_sched_submit(struct srv_sched *s, struct srv_job *j) {
    struct worker *w = j->kind == SRV_EMBEDDING ? &s->embed : &s->gen;
    if (!w->sess)
        return lm_error(LM_EUNSUPPORTED, "no %s model is served",
                        j->kind == SRV_EMBEDDING ? "embedding" : "text generation");
    if (j->kind != SRV_EMBEDDING) {
        const int32_t nc = lm_session_n_ctx(w->sess);
        if (j->prompt.n == 0) return lm_error(LM_EINVAL, "the prompt has no tokens");
        if (j->prompt.n + 1 > nc)
            return lm_error(LM_EINVAL,
                            "the prompt has %lld tokens; the context holds %d, room for the "
                            "prompt and at least one generated token",
                            (long long)j->prompt.n, nc);
    } else if (j->n_inputs == 0)
        return lm_error(LM_EINVAL, "no input to embed");
    j->t_submit = lm_time_ns();
    pthread_mutex_lock(&s->mu);
    lm_status st = LM_OK;
    if (s->draining)
        st = lm_error(LM_EIO, "the server is shutting down");
    else if (!queue_push(&w->q, j))
        st = lm_error(LM_ERANGE, "the queue is full (%d requests waiting); retry later", w->q.cap);
    else
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void stop_workers(struct srv_sched *s) {
    pthread_mutex_lock(&s->mu);
    s->draining = s->cancel_all = s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (struct worker *w = &s->gen; w; w = w == &s->gen ? &s->embed : NULL)
        if (w->started) pthread_join(w->thread, NULL), w->started = false;
}

void srv_sched_drain(struct srv_sched *s, int grace_ms) {
    pthread_mutex_lock(&s->mu);
    s->draining = true;
    pthread_mutex_unlock(&s->mu);
    /* What was taken runs on for the grace period; then the rest is cancelled. */
    const uint64_t until = lm_time_ns() + (uint64_t)grace_ms * 1000000u;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool idle = !s->gen.q.n && !s->embed.q.n && !s->gen_busy && !s->embed_busy;
        pthread_mutex_unlock(&s->mu);
        if (idle || lm_time_ns() >= until) break;
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    }
    stop_workers(s);
}

void srv_sched_free(struct srv_sched *s) {
    if (!s) return;
    stop_workers(s);
    for (int i = 0; s->slots && i < s->n_slots; i++)
        lm_tokens_free(&s->slots[i].cache); /* no job is left in a slot: the workers ended */
    for (struct worker *w = &s->gen; w; w = w == &s->gen ? &s->embed : NULL) {
        while (w->q.n) { /* a worker that never started */
            struct srv_job *j = queue_pop(&w->q);
            srv_job_finish(j, SRV_CANCELLED);
            srv_job_release(j);
        }
        free(w->q.v);
        lm_session_free(w->sess);
    }
    free(s->slots);
    free(s->b_tok);
    free(s->b_seq);
    free(s->b_logits);
    lm_text_free(&s->piece);
    lm_text_free(&s->out);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
