/* rt/threads.c - the persistent thread pool.
 *
 * A run splits a task into lm_pool_chunks(p) chunks (a few per thread) that the threads,
 * the caller included (it is worker 0), claim one at a time from one atomic word; the task
 * runs as fn(arg, chunk, n_chunks). The run is over when every chunk is done: completion is
 * counted in chunks, not threads. So when another process holds a core and the OS deschedules
 * one of our workers, the threads still running take its share, and the caller waits for a
 * late worker only if it was preempted inside a chunk (a few microseconds of work in decode),
 * never for a worker that has not started. With a fixed split per thread, as before, every op
 * of a decode step waited for the descheduled worker's time slice.
 *
 * The claim word is (generation << 32) | chunks not yet claimed. A claim is a compare-exchange
 * that succeeds only for the generation the worker woke for, so a worker that wakes late for a
 * finished run can never take a chunk of the next run with the old fn/arg. fn, arg and the
 * chunk count are read only after a successful claim: the run cannot end before that chunk
 * does, so the caller cannot be rewriting them for the next run.
 *
 * Idle workers spin briefly (a decode step issues ops microseconds apart), yielding now and
 * then in case they share a core with a thread that has work, and then sleep on a condition
 * variable, so an idle process costs no CPU. The claim word, not the condition, is the source
 * of truth: a worker rechecks it under the mutex before sleeping, so no wake-up is lost. The
 * caller waits for the last chunks the same way (spin, then cv_done).
 *
 * Tasks may keep scratch per worker: lm_pool_worker() is the index of the thread running the
 * chunk, and no two chunks run at the same time on one worker. There is no barrier inside a
 * run (a chunk waiting for chunks nobody has claimed yet would wait forever); an op with two
 * phases runs two tasks.
 */
#define _GNU_SOURCE
#include <cpuinfo.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmrt.h"

#define SPIN_ITERS        20000 /* ~0.5 ms of pause instructions before sleeping */
#define YIELD_EVERY       256   /* pauses between sched_yield calls while spinning */
#define CHUNKS_PER_THREAD 4     /* enough to rebalance a lost thread, few enough to be free */

struct worker {
    struct lm_pool *pool;
    int ith;
    pthread_t tid;
};

struct lm_pool {
    int n, n_chunks;
    struct worker *workers;
    /* the current run: written by the caller before it publishes the claim word */
    lm_task_fn fn;
    void *arg;
    uint32_t gen; /* the caller's count of runs; only the caller touches it */
    _Alignas(64) _Atomic uint64_t claim; /* (gen << 32) | chunks left to claim */
    _Alignas(64) _Atomic int done;       /* chunks of the current run finished */
    _Atomic bool caller_waits;           /* the caller sleeps on cv_done */
    _Atomic int sleepers;                /* workers blocked on cv_work */
    _Atomic bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
};

/* The worker index of this thread in the pool whose chunk it runs (0 for a caller). */
static _Thread_local int tls_worker;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A spin step: pause, and every YIELD_EVERY steps let another runnable thread on this core
 * (one of ours with work, when there are fewer free cores than threads) have it. */
static inline void spin_step(int i) {
    cpu_relax();
    if (i % YIELD_EVERY == YIELD_EVERY - 1) sched_yield();
}

static inline uint32_t claim_gen(uint64_t c) { return (uint32_t)(c >> 32); }

int lm_cpu_physical_cores(void) {
    int n = 0;
    if (cpuinfo_initialize()) n = (int)cpuinfo_get_cores_count();
    if (n < 1) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

/* Claim and run chunks of run g until none is left (or the pool has moved past run g), then
 * count them done in one step: the run cannot end while chunks it ran are uncounted, so the
 * task fields it read after the first claim stay valid until then. */
static void work(struct lm_pool *p, uint32_t g) {
    int ran = 0, nch = 0;
    uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
    for (;;) {
        if (claim_gen(c) != g || (uint32_t)c == 0) break;
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &c, c - 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* c now holds the current word */
        nch = p->n_chunks;
        p->fn(p->arg, nch - (int)(uint32_t)c, nch);
        ran++;
        c = atomic_load_explicit(&p->claim, memory_order_acquire);
    }
    if (ran && atomic_fetch_add(&p->done, ran) + ran == nch && atomic_load(&p->caller_waits)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Wait for a run newer than `seen` (or stop); returns its generation. */
static uint32_t wait_run(struct lm_pool *p, uint32_t seen) {
    uint32_t g = claim_gen(atomic_load(&p->claim));
    for (int i = 0; g == seen && i < SPIN_ITERS; i++) {
        spin_step(i);
        g = claim_gen(atomic_load(&p->claim));
    }
    if (g != seen) return g;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while ((g = claim_gen(atomic_load(&p->claim))) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cv_work, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *p_) {
    struct worker *w = p_;
    struct lm_pool *p = w->pool;
    tls_worker = w->ith;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_run(p, seen);
        if (atomic_load(&p->stop)) return NULL;
        work(p, seen);
    }
}

lm_status lm_pool_create(int n_threads, struct lm_pool **out) {
    *out = NULL;
    if (n_threads < 0) return lm_error(LM_EINVAL, "thread count %d is negative", n_threads);
    if (n_threads == 0) n_threads = lm_cpu_physical_cores();
    if (n_threads > 1024) return lm_error(LM_ERANGE, "thread count %d exceeds 1024", n_threads);
    /* aligned: the claim word and the done count sit on cache lines of their own */
    struct lm_pool *p = aligned_alloc(_Alignof(struct lm_pool), sizeof *p);
    struct worker *ws = calloc((size_t)n_threads, sizeof *ws);
    if (!p || !ws) {
        free(p), free(ws);
        return lm_error(LM_ENOMEM, "thread pool of %d threads", n_threads);
    }
    memset(p, 0, sizeof *p);
    p->n = n_threads;
    p->n_chunks = n_threads == 1 ? 1 : n_threads * CHUNKS_PER_THREAD;
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
    atomic_store(&p->claim, (uint64_t)(p->gen + 1) << 32); /* wakes spinners, nothing to claim */
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

int lm_pool_chunks(const struct lm_pool *p) { return p->n_chunks; }

int lm_pool_worker(void) { return tls_worker; }

void lm_pool_run(struct lm_pool *p, lm_task_fn fn, void *arg) {
    const int saved = tls_worker; /* a worker of another pool may be the caller of this one */
    tls_worker = 0;
    if (p->n == 1) {
        fn(arg, 0, 1);
        tls_worker = saved;
        return;
    }
    const int nch = p->n_chunks;
    p->fn = fn;
    p->arg = arg;
    /* The previous run's chunks are all counted, so nobody else touches done now; the
     * seq_cst store of the claim word below publishes it with fn and arg. */
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    const uint32_t g = ++p->gen;
    atomic_store(&p->claim, (uint64_t)g << 32 | (uint32_t)nch);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv_work);
        pthread_mutex_unlock(&p->mu);
    }
    work(p, g);
    for (int i = 0; atomic_load(&p->done) < nch && i < SPIN_ITERS; i++)
        spin_step(i);
    if (atomic_load(&p->done) < nch) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_waits, true);
        while (atomic_load(&p->done) < nch)
            pthread_cond_wait(&p->cv_done, &p->mu);
        atomic_store(&p->caller_waits, false);
        pthread_mutex_unlock(&p->mu);
    }
    tls_worker = saved;
}
