/* tools/serve_metrics.c - the counters, gauges and histograms of `lmrt serve` and their
 * Prometheus text exposition (format 0.0.4), as declared in tools/serve_metrics.h.
 *
 * One mutex guards everything: every update is a few additions, far cheaper than the HTTP
 * request or the forward pass that causes it, and a scrape then sees one consistent snapshot.
 * Request counts are kept per route and per status code (100..599, a fixed table: no allocation
 * after create); a status outside that range is not an HTTP status and is not counted.
 * Histogram buckets are cumulative only when rendered; each observation lands in exactly one
 * bucket (the first bound >= the value) or in +Inf. Negative and non-finite observations are
 * dropped: they can only come from a clock going backwards, and would poison _sum forever.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_metrics.h"

#define STATUS_MIN 100
#define STATUS_MAX 599

/* Time to first token covers queueing plus a prompt's prefill: milliseconds to a minute. */
static const double ttft_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                     1,     2.5,  5,     10,   30,  60};
/* Time per output token is one scheduler step: about a millisecond to a second. */
static const double tpot_bounds[] = {0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
                                     0.05,  0.075,  0.1,   0.15,   0.25, 0.5,   1,    2.5};
#define N_TTFT      (sizeof ttft_bounds / sizeof ttft_bounds[0])
#define N_TPOT      (sizeof tpot_bounds / sizeof tpot_bounds[0])
#define MAX_BUCKETS 16

struct histogram {
    const double *bounds;
    int n_bounds;
    uint64_t counts[MAX_BUCKETS + 1]; /* the last one is +Inf */
    uint64_t count;
    double sum;
};

struct values { /* everything a scrape shows, copied out under the lock */
    uint64_t requests[SRV_ROUTE_COUNT][STATUS_MAX - STATUS_MIN + 1];
    uint64_t prompt_tokens, generated_tokens;
    struct histogram ttft, tpot;
    int gen_queue, embed_queue, slots_busy, slots_total;
    int64_t kv_used, kv_total;
};

struct srv_metrics {
    pthread_mutex_t mu;
    struct values v;
};

_Static_assert(N_TTFT <= MAX_BUCKETS && N_TPOT <= MAX_BUCKETS, "MAX_BUCKETS too small");

static const char *const route_names[SRV_ROUTE_COUNT] = {
    [SRV_ROUTE_CHAT] = "/v1/chat/completions",
    [SRV_ROUTE_COMPLETIONS] = "/v1/completions",
    [SRV_ROUTE_EMBEDDINGS] = "/v1/embeddings",
    [SRV_ROUTE_MODELS] = "/v1/models",
    [SRV_ROUTE_HEALTH] = "/health",
    [SRV_ROUTE_METRICS] = "/metrics",
    [SRV_ROUTE_OTHER] = "other",
};

const char *srv_route_name(enum srv_route r) {
    return (unsigned)r < SRV_ROUTE_COUNT ? route_names[r] : "other";
}

struct srv_metrics *srv_metrics_create(void) {
    struct srv_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    if (pthread_mutex_init(&m->mu, NULL)) {
        free(m);
        return NULL;
    }
    m->v.ttft = (struct histogram){.bounds = ttft_bounds, .n_bounds = (int)N_TTFT};
    m->v.tpot = (struct histogram){.bounds = tpot_bounds, .n_bounds = (int)N_TPOT};
    return m;
}

void srv_metrics_free(struct srv_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void srv_metrics_request(struct srv_metrics *m, enum srv_route r, int status) {
    if (!m || status < STATUS_MIN || status > STATUS_MAX) return;
    if ((unsigned)r >= SRV_ROUTE_COUNT) r = SRV_ROUTE_OTHER;
    pthread_mutex_lock(&m->mu);
    m->v.requests[r][status - STATUS_MIN]++;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_tokens(struct srv_metrics *m, int64_t prompt, int64_t generated) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    if (prompt > 0) m->v.prompt_tokens += (uint64_t)prompt;
    if (generated > 0) m->v.generated_tokens += (uint64_t)generated;
    pthread_mutex_unlock(&m->mu);
}

static void observe(struct srv_metrics *m, struct histogram *h, double v) {
    if (!m || !isfinite(v) || v < 0) return;
    int b = 0;
    while (b < h->n_bounds && v > h->bounds[b])
        b++;
    pthread_mutex_lock(&m->mu);
    h->counts[b]++;
    h->count++;
    h->sum += v;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_ttft(struct srv_metrics *m, double seconds) {
    if (m) observe(m, &m->v.ttft, seconds);
}

void srv_metrics_token_latency(struct srv_metrics *m, double seconds) {
    if (m) observe(m, &m->v.tpot, seconds);
}

void srv_metrics_gen_state(struct srv_metrics *m, int queue_depth, int slots_busy, int slots_total,
                           int64_t kv_used, int64_t kv_total) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->v.gen_queue = queue_depth;
    m->v.slots_busy = slots_busy;
    m->v.slots_total = slots_total;
    m->v.kv_used = kv_used;
    m->v.kv_total = kv_total;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_embed_queue(struct srv_metrics *m, int queue_depth) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->v.embed_queue = queue_depth;
    pthread_mutex_unlock(&m->mu);
}

/* Appends to out; false (and out unchanged past its old end) when out of memory. */
static bool put(struct lm_text *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool put(struct lm_text *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    size_t need = out->n + (size_t)n + 1;
    if (need > out->cap) {
        size_t cap = out->cap ? out->cap : 1024;
        while (cap < need)
            cap *= 2;
        char *p = realloc(out->s, cap);
        if (!p) return false;
        out->s = p, out->cap = cap;
    }
    if ((size_t)n < sizeof small) {
        memcpy(out->s + out->n, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(out->s + out->n, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    out->n += (size_t)n;
    return true;
}

static bool put_header(struct lm_text *out, const char *name, const char *type, const char *help) {
    return put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A double as Prometheus reads it: shortest round-trip form. */
static void fmt_double(char *buf, size_t n, double v) {
    snprintf(buf, n, "%.17g", v);
    for (int prec = 1; prec < 17; prec++) { /* shorter when it reads back the same */
        char t[40];
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) {
            snprintf(buf, n, "%s", t);
            return;
        }
    }
}

static bool put_histogram(struct lm_text *out, const char *name, const char *help,
                          const struct histogram *h) {
    if (!put_header(out, name, "histogram", help)) return false;
    uint64_t cum = 0;
    char le[40];
    for (int b = 0; b < h->n_bounds; b++) {
        cum += h->counts[b];
        snprintf(le, sizeof le, "%g", h->bounds[b]); /* "0.005", "60": exact for these */
        if (!put(out, "%s_bucket{le=\"%s\"} %llu\n", name, le, (unsigned long long)cum))
            return false;
    }
    cum += h->counts[h->n_bounds];
    fmt_double(le, sizeof le, h->sum);
    return put(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %s\n%s_count %llu\n", name,
               (unsigned long long)cum, name, le, name, (unsigned long long)h->count);
}

lm_status srv_metrics_render(struct srv_metrics *m, struct lm_text *out) {
    if (!m || !out) return lm_error(LM_EINVAL, "metrics_render: null argument");
    size_t old_n = out->n;
    pthread_mutex_lock(&m->mu);
    struct values snap = m->v; /* render outside the lock: a scrape never stalls a worker */
    pthread_mutex_unlock(&m->mu);

    bool ok = put_header(out, "lmrt_requests_total", "counter",
                         "HTTP requests answered, by route and status code.");
    for (int r = 0; ok && r < SRV_ROUTE_COUNT; r++)
        for (int s = 0; ok && s <= STATUS_MAX - STATUS_MIN; s++)
            if (snap.requests[r][s])
                ok = put(out, "lmrt_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                         route_names[r], s + STATUS_MIN, (unsigned long long)snap.requests[r][s]);
    ok = ok &&
         put_header(out, "lmrt_prompt_tokens_total", "counter",
                    "Prompt tokens of finished jobs (embeddings: input tokens, as truncated).") &&
         put(out, "lmrt_prompt_tokens_total %llu\n", (unsigned long long)snap.prompt_tokens) &&
         put_header(out, "lmrt_generated_tokens_total", "counter",
                    "Tokens generated by finished jobs.") &&
         put(out, "lmrt_generated_tokens_total %llu\n", (unsigned long long)snap.generated_tokens);
    ok = ok &&
         put_histogram(out, "lmrt_time_to_first_token_seconds",
                       "Seconds from a job's submission to its first generated token.",
                       &snap.ttft) &&
         put_histogram(out, "lmrt_time_per_output_token_seconds",
                       "Seconds between two consecutive generated tokens of one job.", &snap.tpot);
    ok = ok &&
         put_header(out, "lmrt_queue_depth", "gauge", "Jobs waiting for a worker, by worker.") &&
         put(out, "lmrt_queue_depth{worker=\"gen\"} %d\nlmrt_queue_depth{worker=\"embed\"} %d\n",
             snap.gen_queue, snap.embed_queue) &&
         put_header(out, "lmrt_slots_busy", "gauge", "Generation slots holding a sequence.") &&
         put(out, "lmrt_slots_busy %d\n", snap.slots_busy) &&
         put_header(out, "lmrt_slots_total", "gauge", "Generation slots.") &&
         put(out, "lmrt_slots_total %d\n", snap.slots_total);
    char ratio[40];
    fmt_double(ratio, sizeof ratio,
               snap.kv_total > 0 ? (double)snap.kv_used / (double)snap.kv_total : 0.0);
    ok = ok &&
         put_header(out, "lmrt_kv_cache_used_ratio", "gauge",
                    "Share of the KV cache's positions (all slots) holding a token.") &&
         put(out, "lmrt_kv_cache_used_ratio %s\n", ratio) &&
         put_header(out, "lmrt_kv_cache_tokens_used", "gauge",
                    "KV cache positions holding a token, all slots.") &&
         put(out, "lmrt_kv_cache_tokens_used %lld\n", (long long)snap.kv_used) &&
         put_header(out, "lmrt_kv_cache_tokens_total", "gauge", "KV cache positions, all slots.") &&
         put(out, "lmrt_kv_cache_tokens_total %lld\n", (long long)snap.kv_total);
    if (!ok) {
        if (out->s) out->s[out->n = old_n] = '\0';
        return lm_error(LM_ENOMEM, "metrics_render: out of memory");
    }
    return LM_OK;
}
