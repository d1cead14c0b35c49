/* rt/threads.c - the persistent thread pool and its barrier.
 *
 * One pool runs one task at a time on all of its workers; the caller is worker 0. Ops split
 * rows by (ith, nth) and separate phases with lm_pool_barrier. Idle workers spin briefly (a
 * decode step issues ops microseconds apart) and then sleep on a condition variable, so an idle
 * process costs no CPU. The generation counter, not the condition, is the source of truth:
 * a worker rechecks it under the mutex before sleeping, so no wake-up is lost.
 */
#define _GNU_SOURCE
#include <cpuinfo.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "lmrt.h"

#define SPIN_ITERS 20000 /* ~0.5 ms of pause instructions before sleeping */

struct worker {
    struct lm_pool *pool;
    int ith;
    pthread_t tid;
};

struct lm_pool {
    int n;
    struct worker *workers;
    lm_task_fn fn;
    void *arg;
    _Atomic uint32_t gen; /* bumped once per run */
    _Atomic int pending;  /* workers 1..n-1 still in the current run */
    _Atomic int sleepers; /* workers (or the caller) blocked on a condition */
    _Atomic bool stop;
    _Atomic int bar_count; /* arrivals at the current barrier */
    _Atomic uint32_t bar_gen;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

int lm_cpu_physical_cores(void) {
    int n = 0;
    if (cpuinfo_initialize()) n = (int)cpuinfo_get_cores_count();
    if (n < 1) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

static void *worker_main(void *p_) {
    struct worker *w = p_;
    struct lm_pool *p = w->pool;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g = atomic_load(&p->gen);
        for (int i = 0; g == seen && i < SPIN_ITERS; i++) {
            cpu_relax();
            g = atomic_load(&p->gen);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv_work, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        p->fn(p->arg, w->ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

lm_status lm_pool_create(int n_threads, struct lm_pool **out) {
    *out = NULL;
    if (n_threads < 0) return lm_error(LM_EINVAL, "thread count %d is negative", n_threads);
    if (n_threads == 0) n_threads = lm_cpu_physical_cores();
    if (n_threads > 1024) return lm_error(LM_ERANGE, "thread count %d exceeds 1024", n_threads);
    struct lm_pool *p = calloc(1, sizeof *p);
    struct worker *ws = calloc((size_t)n_threads, sizeof *ws);
    if (!p || !ws) {
        free(p), free(ws);
        return lm_error(LM_ENOMEM, "thread pool of %d threads", n_threads);
    }
    p->n = n_threads;
    p->workers = ws;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    for (int i = 1; i < n_threads; i++) {
        ws[i] = (struct worker){.pool = p, .ith = i};
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            p->n = i; /* free only what started */
            lm_pool_free(p);
            return lm_error(LM_ENOMEM, "could not start thread %d of %d", i, n_threads);
        }
    }
    *out = p;
    return LM_OK;
}

void lm_pool_free(struct lm_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    atomic_fetch_add(&p->gen, 1);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->workers[i].tid, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    free(p->workers);
    free(p);
}

int lm_pool_size(const struct lm_pool *p) { return p->n; }

void lm_pool_run(struct lm_pool *p, lm_task_fn fn, void *arg) {
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->gen, 1); /* publishes fn/arg to the spinning workers */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv_work);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p->n);
    for (int i = 0; atomic_load(&p->pending) > 0 && i < SPIN_ITERS; i++)
        cpu_relax();
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0)
            pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void lm_pool_barrier(struct lm_pool *p) {
    if (p->n == 1) return;
    uint32_t g = atomic_load(&p->bar_gen);
    if (atomic_fetch_add(&p->bar_count, 1) == p->n - 1) {
        atomic_store(&p->bar_count, 0);
        atomic_fetch_add(&p->bar_gen, 1);
        return;
    }
    for (int i = 0; atomic_load(&p->bar_gen) == g; i++) {
        cpu_relax();
        if (i >= SPIN_ITERS) sched_yield(); /* more threads than free cores: let others run */
    }
}
