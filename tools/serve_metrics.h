/* tools/serve_metrics.h - the counters, gauges and histograms of `lmrt serve`, rendered as
 * Prometheus text on GET /metrics (tools/serve_metrics.c). Every function is thread-safe: HTTP
 * threads count requests, the workers count tokens and latencies and set the gauges.
 */
#ifndef LMRT_SERVE_METRICS_H
#define LMRT_SERVE_METRICS_H

#include <stdint.h>

#include "../rt/lmrt.h"

enum srv_route {
    SRV_ROUTE_CHAT,        /* POST /v1/chat/completions */
    SRV_ROUTE_COMPLETIONS, /* POST /v1/completions */
    SRV_ROUTE_EMBEDDINGS,  /* POST /v1/embeddings */
    SRV_ROUTE_MODELS,      /* GET /v1/models */
    SRV_ROUTE_HEALTH,      /* GET /health */
    SRV_ROUTE_METRICS,     /* GET /metrics */
    SRV_ROUTE_OTHER,       /* anything else (404/405) */
    SRV_ROUTE_COUNT
};
const char *srv_route_name(enum srv_route r); /* "/v1/chat/completions", ..., "other" */

struct srv_metrics;
struct srv_metrics *srv_metrics_create(void); /* NULL when out of memory */
void srv_metrics_free(struct srv_metrics *m);

/* One finished HTTP request: its route and status code. */
void srv_metrics_request(struct srv_metrics *m, enum srv_route r, int status);
/* Tokens of a finished job: prompt (embeddings: input) tokens and generated tokens. */
void srv_metrics_tokens(struct srv_metrics *m, int64_t prompt, int64_t generated);
/* Seconds from submit to a job's first generated token. */
void srv_metrics_ttft(struct srv_metrics *m, double seconds);
/* Seconds between two consecutive tokens of one job. */
void srv_metrics_token_latency(struct srv_metrics *m, double seconds);
/* Gauges, set by the scheduler after each step (and by the embedding worker: its queue). */
void srv_metrics_gen_state(struct srv_metrics *m, int queue_depth, int slots_busy, int slots_total,
                           int64_t kv_used, int64_t kv_total);
void srv_metrics_embed_queue(struct srv_metrics *m, int queue_depth);
/* The Prometheus text exposition (format 0.0.4) of everything above, appended to out. */
lm_status srv_metrics_render(struct srv_metrics *m, struct lm_text *out);

#endif
