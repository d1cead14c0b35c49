/* tools/serve_job.c - the job channel between an HTTP thread and a worker of `lmrt serve`
 * (contract in tools/serve_job.h).
 *
 * Two references from the start: the HTTP thread's and the worker's. The worker never waits on
 * the HTTP thread (a slow client does not stall the batch): it appends text and moves on, and
 * the HTTP thread takes what has piled up whenever it can send.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "serve_job.h"

/* Ids: a per-process random key, scrambled with a counter through a bijection (splitmix64's
 * finaliser), so ids never repeat within a process and do not tell clients how many requests
 * came before theirs. */
static uint64_t id_key;
static _Atomic uint64_t id_counter;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void id_seed(void) {
    if (getrandom(&id_key, sizeof id_key, 0) != (ssize_t)sizeof id_key)
        id_key = lm_time_ns() ^ ((uint64_t)time(NULL) << 32);
}

static void make_id(char *out, size_t cap, const char *prefix) {
    pthread_once(&id_once, id_seed);
    uint64_t z = id_key + (atomic_fetch_add(&id_counter, 1) + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    snprintf(out, cap, "%s%016llx", prefix, (unsigned long long)z);
}

struct srv_job *srv_job_new(enum srv_kind kind) {
    struct srv_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    j->kind = kind;
    j->refs = 2;
    j->max_tokens = -1;
    j->created = (int64_t)time(NULL);
    make_id(j->id, sizeof j->id,
            kind == SRV_CHAT         ? "chatcmpl-"
            : kind == SRV_COMPLETION ? "cmpl-"
                                     : "embd-");
    return j;
}

void srv_job_release(struct srv_job *j) {
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left > 0) return;
    lm_tokens_free(&j->prompt);
    free(j->bias);
    for (int i = 0; i < j->n_stop; i++)
        free(j->stop[i]);
    free(j->stop);
    for (int32_t i = 0; i < j->n_inputs; i++)
        lm_tokens_free(&j->inputs[i]);
    free(j->inputs);
    lm_text_free(&j->text);
    free(j->embd);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

void srv_job_cancel(struct srv_job *j) {
    pthread_mutex_lock(&j->mu);
    j->cancel = true;
    pthread_mutex_unlock(&j->mu);
}

bool srv_job_cancelled(struct srv_job *j) {
    pthread_mutex_lock(&j->mu);
    bool c = j->cancel;
    pthread_mutex_unlock(&j->mu);
    return c;
}

enum srv_finish srv_job_wait(struct srv_job *j, int timeout_ms, struct lm_text *out) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_mutex_lock(&j->mu);
    while (j->finish == SRV_RUNNING && j->text.n == 0)
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT) break;
    enum srv_finish f = j->finish;
    /* Text is handed over whole or not at all: on out of memory it stays for the next call. */
    if (j->text.n && lm_text_append(out, j->text.s, j->text.n) == LM_OK) j->text.n = 0;
    if (j->text.n) f = SRV_RUNNING; /* not all taken yet: the caller comes back */
    pthread_mutex_unlock(&j->mu);
    return f;
}

bool srv_job_emit(struct srv_job *j, const char *s, size_t n) {
    pthread_mutex_lock(&j->mu);
    bool ok = !j->cancel && (n == 0 || lm_text_append(&j->text, s, n) == LM_OK);
    if (n) pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return ok;
}

void srv_job_finish(struct srv_job *j, enum srv_finish status) {
    pthread_mutex_lock(&j->mu);
    j->finish = status;
    j->t_done = lm_time_ns();
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void srv_job_fail(struct srv_job *j, int http_status, const char *fmt, ...) {
    pthread_mutex_lock(&j->mu);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->error, sizeof j->error, fmt, ap);
    va_end(ap);
    j->http_status = http_status;
    j->finish = SRV_FAILED;
    j->t_done = lm_time_ns();
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}
