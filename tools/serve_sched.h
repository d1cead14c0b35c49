/* tools/serve_sched.h - the workers of `lmrt serve` (tools/serve_sched.c): a continuous-
 * batching scheduler for generation and a worker for embeddings, each a thread that owns its
 * session. See tools/serve_job.h for how a job travels between them and the HTTP threads.
 */
#ifndef LMRT_SERVE_SCHED_H
#define LMRT_SERVE_SCHED_H

#include "serve_job.h"
#include "serve_metrics.h"

struct srv_sched_opts {
    int slots;       /* sequences decoded together (default 8) */
    int32_t n_ctx;   /* positions per slot (0: the model's, at most 4096) */
    int32_t n_batch; /* most tokens per forward (default 512) */
    int n_threads;   /* 0: physical cores */
    int max_queue;   /* jobs waiting for a slot before submit says full (default 64) */
};

struct srv_sched;

/* Start the workers: gen (a decoder) and/or embed (an encoder); either may be NULL, not both.
 * The models must outlive the scheduler. metrics may be NULL. */
lm_status srv_sched_create(struct lm_model *gen, struct lm_model *embed,
                           const struct srv_sched_opts *o, struct srv_metrics *metrics,
                           struct srv_sched **out);
/* Hand a job to its worker. LM_OK: the worker owns one reference and will finish the job.
 * LM_ERANGE: the queue is full (answer 429). LM_EUNSUPPORTED: no model of that kind is served.
 * LM_EINVAL: the job cannot run (its prompt does not fit the context; lm_last_error names the
 * limit). LM_EIO: the server is shutting down (answer 503). Not LM_OK: the job is untouched and the
 * caller keeps both references. */
lm_status srv_sched_submit(struct srv_sched *s, struct srv_job *j);
/* Positions per generation slot (0 when no generation model is served). */
int32_t srv_sched_n_ctx(const struct srv_sched *s);
/* Most tokens one embedding input may have (0 when no embedding model is served). */
int32_t srv_sched_embed_limit(const struct srv_sched *s);
/* Stop taking jobs (submit then returns LM_EIO, "shutting down": answer 503), cancel those still
 * queued, let running ones finish for up to grace_ms, then cancel them; returns when every job
 * has been finished. After this only srv_sched_free may be called. */
void srv_sched_drain(struct srv_sched *s, int grace_ms);
void srv_sched_free(struct srv_sched *s);

#endif
