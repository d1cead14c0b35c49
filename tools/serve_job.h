/* tools/serve_job.h - one request of `lmrt serve` as the HTTP side and the workers share it
 * (tools/serve_job.c).
 *
 * The server has three kinds of thread:
 *   HTTP threads (serve_http.c, one per connection): read and bound the request, check the key,
 *     parse the body (serve_api.c) into a job, tokenize it, submit it (serve_sched.c), then
 *     stream or wait for what the worker writes into the job, and answer.
 *   The scheduler thread (serve_sched.c): owns the generation session. Each step is one
 *     lm_forward over every busy slot's next token plus chunks of waiting prompts; then every
 *     slot with logits samples with its own parameters and appends its text to its job.
 *   The embedding worker (serve_sched.c): owns the embedding session, one job at a time.
 *
 * A job has two owners, the HTTP thread and the worker, and is freed by whichever releases it
 * last. Inputs are written by the HTTP thread before it submits, and are read-only after. The
 * channel fields are guarded by mu: the worker appends text and finally sets finish; the HTTP
 * thread takes the text as it comes and may set cancel (client gone), which the scheduler
 * honours at its next step.
 */
#ifndef LMRT_SERVE_JOB_H
#define LMRT_SERVE_JOB_H

#include <pthread.h>

#include "../rt/lmrt.h"

enum srv_kind { SRV_CHAT, SRV_COMPLETION, SRV_EMBEDDING };

enum srv_finish {
    SRV_RUNNING,   /* queued or generating */
    SRV_STOP,      /* end-of-generation token or a stop string: finish_reason "stop" */
    SRV_LENGTH,    /* max_tokens or the context is full: finish_reason "length" */
    SRV_CANCELLED, /* the client went away, or the server is shutting down */
    SRV_FAILED,    /* error[] says why; http_status is the status to answer with */
};

struct srv_job {
    /* ---- inputs: written by the HTTP thread before submitting, then read-only ---- */
    enum srv_kind kind;
    char id[48];     /* "chatcmpl-...", "cmpl-...", "embd-..." */
    int64_t created; /* unix seconds */
    /* generation */
    struct lm_tokens prompt;           /* prompt ids, specials and chat template applied */
    int32_t max_tokens;                /* -1: until an end token or the context is full */
    struct lm_sampler_params sampling; /* .bias/.n_bias point at bias below */
    struct lm_logit_bias *bias;        /* malloc'd, n_bias entries; freed with the job */
    char **stop;                       /* malloc'd strings, n_stop of them; freed with the job */
    int n_stop;
    bool stream;
    /* embeddings: n_inputs token lists, each with the model's specials when from_text */
    struct lm_tokens *inputs; /* malloc'd array; each freed with the job */
    int32_t n_inputs;
    bool from_text; /* inputs were texts: over-long ones are truncated like `lmrt embed` */

    /* ---- channel: guarded by mu ---- */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lm_text text;    /* generated text the HTTP thread has not taken yet */
    int32_t n_prompt;       /* usage: prompt tokens (embeddings: all inputs, as truncated) */
    int32_t n_gen;          /* usage: generated tokens */
    enum srv_finish finish; /* SRV_RUNNING until the worker is done with the job */
    int http_status;        /* with SRV_FAILED: 400 for a bad request, 500 for ours */
    char error[256];        /* with SRV_FAILED */
    bool cancel;            /* set by the HTTP thread */
    float *embd;            /* SRV_EMBEDDING: n_inputs * n_embd floats, set when finished */
    int32_t n_embd;
    uint64_t t_submit, t_first, t_done; /* lm_time_ns stamps: submitted, first token, done */

    int refs; /* owners left (guarded by mu) */
};

/* A zeroed job of kind with two references (the HTTP thread's and the worker's), a fresh id
 * and created time; NULL when out of memory. */
struct srv_job *srv_job_new(enum srv_kind kind);
/* Drop one reference; the last one frees the job and everything it owns. */
void srv_job_release(struct srv_job *j);

/* HTTP side. Mark the job cancelled (the worker stops it at its next step). */
void srv_job_cancel(struct srv_job *j);
/* Wait up to timeout_ms for new text or the end: moves the text not yet taken into out
 * (appending) and returns the finish state (SRV_RUNNING: still going, maybe with text). */
enum srv_finish srv_job_wait(struct srv_job *j, int timeout_ms, struct lm_text *out);

/* Worker side. Append generated text (n may be 0, to count a token) and wake the waiter;
 * false when the HTTP side has cancelled (the worker then stops the job) or out of memory. */
bool srv_job_emit(struct srv_job *j, const char *s, size_t n);
/* Finish the job: status is SRV_STOP, SRV_LENGTH or SRV_CANCELLED; wakes the waiter. */
void srv_job_finish(struct srv_job *j, enum srv_finish status);
/* Finish with SRV_FAILED, an HTTP status and a message. */
void srv_job_fail(struct srv_job *j, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool srv_job_cancelled(struct srv_job *j);

#endif
