/* tools/serve_http.h - the HTTP side of `lmrt serve` on libmicrohttpd (tools/serve_http.c):
 * routes, API key, body limits, OpenAI request and response bodies (tools/serve_api.c),
 * server-sent events, error bodies, one log line per request.
 *
 * The daemon starts before the models load, so GET /health can answer 503 while loading; the
 * API routes answer 503 too until srv_http_ready hands over what is served.
 */
#ifndef LMRT_SERVE_HTTP_H
#define LMRT_SERVE_HTTP_H

#include "serve_metrics.h"
#include "serve_sched.h"

struct srv_config {
    const char *host;    /* address to bind ("127.0.0.1") */
    int port;            /* 0: any free port (srv_http_port says which) */
    const char *api_key; /* NULL: none needed; else "Authorization: Bearer KEY" */
    size_t max_body;     /* request bodies over this many bytes: 413 */
    int max_connections; /* more at once are refused */
    int timeout_s;       /* a connection idle this long is closed (slowloris) */
};

/* What is served; set once loading is done. Pointers must outlive the daemon. */
struct srv_models {
    struct srv_sched *sched;
    const char *gen_id; /* the id clients name in "model"; NULL: no text model */
    const struct lm_model *gen;
    const char *chat_template; /* lm_chat_render family of gen; NULL: chat answers 400 */
    const char *embed_id;      /* NULL: no embedding model */
    const struct lm_model *embed;
};

struct srv_http;
/* Bind and start serving (/health answers 503 until ready); LM_EIO naming the address when
 * it cannot bind. */
lm_status srv_http_start(const struct srv_config *c, struct srv_metrics *m, struct srv_http **out);
int srv_http_port(const struct srv_http *h); /* the bound port */
void srv_http_ready(struct srv_http *h, const struct srv_models *models);
/* Stop accepting connections; requests in progress go on. */
void srv_http_quiesce(struct srv_http *h);
/* Close every connection, join the HTTP threads and free. Call after srv_sched_drain, so no
 * response still waits on a job. */
void srv_http_stop(struct srv_http *h);

#endif
