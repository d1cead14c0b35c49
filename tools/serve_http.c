/* tools/serve_http.c - the HTTP side of `lmrt serve` on libmicrohttpd (tools/serve_http.h).
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a handler may block while its job
 * runs, and a stream's content callback blocks in srv_job_wait until text comes, so a token
 * reaches the client as soon as the scheduler emits it. The connection timeout (slowloris) is
 * lifted while a request is being worked on (a long generation is not an idle client) and put
 * back whenever bytes are handed to MHD, so it measures the client's silence, never ours.
 *
 * A request's state (struct req) is made on the handler's first call and has two possible
 * owners: the connection (until MHD's completion callback) and a streaming response (until
 * MHD frees it); whichever lets go last frees it, and with it releases the HTTP side's job
 * reference, exactly once (twice when submit failed: then the worker never got its own). A
 * job still running then (the client went away) is cancelled first, so its slot frees within
 * a scheduler step. While waiting, the connection's socket is polled (no wait) for POLLRDHUP /
 * POLLHUP / POLLERR between waits of 20 ms: a client that hung up is noticed within ~20 ms
 * even when no byte is being written to it.
 *
 * Bodies: Content-Length over max_body is 413 before a byte is read; a chunked body is counted
 * as it comes and answered 413 at its end (what follows the limit is read and dropped, up to
 * as much again; past that the connection is closed).
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve_reply.h"
#include "serve_http.h"

#define WAIT_MS 20

struct srv_http {
    struct MHD_Daemon *d;
    struct srv_config cfg;
    char *api_key; /* a copy; NULL when none */
    struct srv_metrics *metrics;
    int port;
    int64_t started; /* unix seconds: "created" of the model objects */
    pthread_mutex_t mu;
    bool ready; /* guarded by mu, with models and served */
    struct srv_models models;
    struct srv_api_served served;
    atomic_bool stopping;
    atomic_int live; /* requests begun and not yet freed */
};

struct req {
    struct srv_http *h;
    struct MHD_Connection *conn;
    atomic_int refs;
    enum srv_route route;
    enum srv_kind kind;
    char method[8];
    char path[80];
    uint64_t t0;
    int status;       /* answered with */
    bool client_gone; /* noticed while waiting, or the stream was cut */
    /* the body */
    char *body;
    size_t n, cap, dropped;
    bool too_big;
    /* the job */
    struct srv_job *job;
    int job_refs; /* references this side holds */
    struct srv_api_request rq;
    struct srv_api_meta meta;
    /* a stream */
    struct lm_text got; /* text taken from the job, not yet sent (a cut UTF-8 tail waits) */
    struct lm_text out; /* events formatted, not yet handed to MHD */
    size_t out_at;      /* bytes of out handed over */
    bool began, ended;
};

/* ---- requests ---------------------------------------------------------------------------- */

static void req_unref(struct req *r) {
    if (atomic_fetch_sub(&r->refs, 1) != 1) return;
    atomic_fetch_sub(&r->h->live, 1);
    if (r->job) {
        if (r->job_refs == 1) srv_job_cancel(r->job); /* a no-op when it has finished */
        for (int i = 0; i < r->job_refs; i++)
            srv_job_release(r->job);
    }
    free(r->body);
    lm_text_free(&r->got);
    lm_text_free(&r->out);
    free(r);
}

static bool client_gone(struct req *r) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
        r->client_gone = true;
    return r->client_gone;
}

/* The connection timeout: off while we work, back on (which restarts its clock) when we hand
 * bytes to MHD. */
static void timeout_off(struct req *r) {
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
}
static void timeout_on(struct req *r) {
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)r->h->cfg.timeout_s);
}

/* ---- answers ----------------------------------------------------------------------------- */

static enum MHD_Result answer(struct req *r, int status, const char *type, const char *body,
                              size_t n, const char *hname, const char *hvalue) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (hname) MHD_add_response_header(resp, hname, hvalue);
    r->status = status;
    timeout_on(r);
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result answer_json(struct req *r, int status, const struct lm_text *t) {
    return answer(r, status, "application/json", t->s ? t->s : "", t->n, NULL, NULL);
}

static enum MHD_Result answer_error(struct req *r, const struct srv_api_error *e, const char *hname,
                                    const char *hvalue) {
    struct lm_text t = {0};
    enum MHD_Result ok;
    if (srv_api_error_json(e, &t) == LM_OK)
        ok = answer(r, e->status, "application/json", t.s, t.n, hname, hvalue);
    else
        ok = answer(r, 500, "text/plain", "out of memory\n", 14, NULL, NULL);
    lm_text_free(&t);
    return ok;
}

static enum MHD_Result fail(struct req *r, int status, const char *type, const char *code,
                            const char *msg) {
    struct srv_api_error e;
    srv_api_fail(&e, status, type, code, NULL, "%s", msg);
    return answer_error(r, &e, NULL, NULL);
}

/* ---- routes ------------------------------------------------------------------------------ */

static bool snapshot(struct srv_http *h, struct srv_models *m, struct srv_api_served *sv) {
    pthread_mutex_lock(&h->mu);
    bool ready = h->ready;
    if (ready) *m = h->models, *sv = h->served;
    pthread_mutex_unlock(&h->mu);
    return ready;
}

/* Constant-time comparison: the key is not given away a byte at a time. */
static bool key_ok(struct srv_http *h, struct MHD_Connection *c) {
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!v || strncasecmp(v, "Bearer ", 7)) return false;
    v += 7;
    while (*v == ' ')
        v++;
    size_t a = strlen(v), b = strlen(h->api_key);
    unsigned diff = a != b;
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned)(unsigned char)h->api_key[i] ^ (unsigned char)(i < a ? v[i] : 0);
    return !diff;
}

static enum MHD_Result get_route(struct req *r, const char *url) {
    struct srv_http *h = r->h;
    struct srv_models m;
    struct srv_api_served sv;
    bool ready = snapshot(h, &m, &sv);
    struct lm_text t = {0};
    enum MHD_Result ok;
    if (r->route == SRV_ROUTE_HEALTH) {
        const char *s = ready ? "{\"status\":\"ok\"}" : "{\"status\":\"loading\"}";
        return answer(r, ready ? 200 : 503, "application/json", s, strlen(s), NULL, NULL);
    }
    if (r->route == SRV_ROUTE_METRICS) {
        if (srv_metrics_render(h->metrics, &t) != LM_OK)
            return fail(r, 500, "server_error", NULL, "out of memory");
        ok = answer(r, 200, "text/plain; version=0.0.4; charset=utf-8", t.s ? t.s : "", t.n, NULL,
                    NULL);
        lm_text_free(&t);
        return ok;
    }
    if (!ready) return fail(r, 503, "server_error", NULL, "the server is loading its models");
    const char *id = strlen(url) > strlen("/v1/models/") ? url + strlen("/v1/models/") : NULL;
    lm_status s = srv_api_models_json(&sv, id, h->started, &t);
    if (s == LM_ENOTFOUND) {
        char msg[300];
        snprintf(msg, sizeof msg, "the model '%.200s' does not exist", id);
        ok = fail(r, 404, "not_found_error", "model_not_found", msg);
    } else if (s != LM_OK) {
        ok = fail(r, 500, "server_error", NULL, "out of memory");
    } else {
        ok = answer_json(r, 200, &t);
    }
    lm_text_free(&t);
    return ok;
}

/* ---- streams ----------------------------------------------------------------------------- */

/* Format what the job has for the client into r->out; false when out of memory. */
static bool stream_step(struct req *r) {
    struct srv_job *j = r->job;
    const struct srv_api_meta *m = &r->meta;
    if (!r->began) {
        r->began = true;
        return m->kind != SRV_CHAT || srv_api_sse_role(m, &r->out) == LM_OK;
    }
    enum srv_finish f = srv_job_wait(j, WAIT_MS, &r->got);
    size_t whole = f == SRV_RUNNING ? srv_api_utf8_complete(r->got.s, r->got.n) : r->got.n;
    if (whole) {
        if (srv_api_sse_text(m, r->got.s, whole, &r->out) != LM_OK) return false;
        memmove(r->got.s, r->got.s + whole, r->got.n - whole + 1);
        r->got.n -= whole;
    }
    if (f == SRV_RUNNING) return true;
    r->ended = true;
    pthread_mutex_lock(&j->mu);
    int32_t n_prompt = j->n_prompt, n_gen = j->n_gen, status = j->http_status;
    struct srv_api_error e;
    if (f == SRV_FAILED)
        srv_api_fail(&e, status ? status : 500,
                     status < 500 ? "invalid_request_error" : "server_error", NULL, NULL, "%s",
                     j->error);
    pthread_mutex_unlock(&j->mu);
    if (f == SRV_CANCELLED)
        srv_api_fail(&e, 503, "server_error", NULL, NULL,
                     "the request was cancelled: the server is shutting down");
    if (f == SRV_FAILED || f == SRV_CANCELLED) return srv_api_sse_error(&e, &r->out) == LM_OK;
    return srv_api_sse_finish(m, f, &r->out) == LM_OK &&
           (!r->rq.include_usage || srv_api_sse_usage(m, n_prompt, n_gen, &r->out) == LM_OK) &&
           srv_api_sse_done(&r->out) == LM_OK;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    struct req *r = cls;
    timeout_off(r);
    while (r->out_at == r->out.n) {
        r->out.n = r->out_at = 0;
        if (r->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        if (!stream_step(r)) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (r->out.n) break;
        if (client_gone(r) || atomic_load(&r->h->stopping)) {
            srv_job_cancel(r->job);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t k = r->out.n - r->out_at < max ? r->out.n - r->out_at : max;
    memcpy(buf, r->out.s + r->out_at, k);
    r->out_at += k;
    timeout_on(r);
    return (ssize_t)k;
}

static void stream_free(void *cls) { req_unref(cls); }

static enum MHD_Result start_stream(struct req *r) {
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, r, stream_free);
    if (!resp) return fail(r, 500, "server_error", NULL, "out of memory");
    atomic_fetch_add(&r->refs, 1); /* the response's; stream_free gives it back */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    r->status = 200;
    enum MHD_Result ok = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* ---- generation and embedding requests --------------------------------------------------- */

static enum MHD_Result wait_and_answer(struct req *r) {
    struct srv_job *j = r->job;
    struct lm_text text = {0};
    enum srv_finish f;
    while ((f = srv_job_wait(j, WAIT_MS, &text)) == SRV_RUNNING)
        if (client_gone(r) || atomic_load(&r->h->stopping)) {
            srv_job_cancel(j);
            lm_text_free(&text);
            r->status = r->client_gone ? 499 : 503; /* 499: nginx's "client closed request" */
            return MHD_NO;                          /* close the connection */
        }
    pthread_mutex_lock(&j->mu);
    int32_t n_prompt = j->n_prompt, n_gen = j->n_gen, status = j->http_status;
    struct srv_api_error e;
    if (f == SRV_FAILED)
        srv_api_fail(&e, status ? status : 500,
                     status && status < 500 ? "invalid_request_error" : "server_error", NULL, NULL,
                     "%s", j->error);
    pthread_mutex_unlock(&j->mu);
    enum MHD_Result ok;
    if (f == SRV_FAILED) {
        ok = answer_error(r, &e, NULL, NULL);
    } else if (f == SRV_CANCELLED) {
        ok = fail(r, 503, "server_error", NULL,
                  "the request was cancelled: the server is shutting down");
    } else {
        struct lm_text body = {0};
        lm_status s = j->kind == SRV_EMBEDDING
                          ? srv_api_embeddings_json(r->meta.model, j->embd, j->n_inputs, j->n_embd,
                                                    r->rq.base64, n_prompt, &body)
                          : srv_api_completion_json(&r->meta, text.s ? text.s : "", text.n, f,
                                                    n_prompt, n_gen, &body);
        ok = s == LM_OK ? answer_json(r, 200, &body)
                        : fail(r, 500, "server_error", NULL, lm_last_error());
        lm_text_free(&body);
    }
    lm_text_free(&text);
    return ok;
}

static enum MHD_Result run_request(struct req *r) {
    struct srv_http *h = r->h;
    struct srv_models m;
    struct srv_api_served sv;
    if (r->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is over the limit of %zu bytes",
                 h->cfg.max_body);
        return fail(r, 413, "invalid_request_error", "request_too_large", msg);
    }
    if (!snapshot(h, &m, &sv))
        return fail(r, 503, "server_error", NULL, "the server is loading its models");
    if (!(r->job = srv_job_new(r->kind)))
        return fail(r, 500, "server_error", NULL, "out of memory");
    r->job_refs = 2; /* until the worker takes its own */
    struct srv_api_error e;
    if (!srv_api_parse(r->job, r->body ? r->body : "", r->n, &sv, &r->rq, &e))
        return answer_error(r, &e, NULL, NULL);
    r->meta = (struct srv_api_meta){r->kind, r->job->id, r->job->created, r->rq.model,
                                    r->rq.include_usage};
    lm_clear_error();
    lm_status s = srv_sched_submit(m.sched, r->job);
    if (s != LM_OK) {
        const char *why = *lm_last_error() ? lm_last_error() : lm_status_str(s);
        if (s == LM_ERANGE) return fail(r, 429, "rate_limit_error", "rate_limit_exceeded", why);
        if (s == LM_EINVAL) return fail(r, 400, "invalid_request_error", NULL, why);
        if (s == LM_EUNSUPPORTED) return fail(r, 404, "not_found_error", "model_not_found", why);
        return fail(r, 503, "server_error", NULL, why);
    }
    r->job_refs = 1;
    return r->job->stream ? start_stream(r) : wait_and_answer(r);
}

/* ---- the handler ------------------------------------------------------------------------- */

struct route {
    const char *path;
    const char *method; /* "GET" also takes HEAD */
    enum srv_route route;
    enum srv_kind kind;
    bool prefix;
};
static const struct route routes[] = {
    {"/v1/chat/completions", "POST", SRV_ROUTE_CHAT, SRV_CHAT, false},
    {"/v1/completions", "POST", SRV_ROUTE_COMPLETIONS, SRV_COMPLETION, false},
    {"/v1/embeddings", "POST", SRV_ROUTE_EMBEDDINGS, SRV_EMBEDDING, false},
    {"/v1/models", "GET", SRV_ROUTE_MODELS, SRV_CHAT, false},
    {"/v1/models/", "GET", SRV_ROUTE_MODELS, SRV_CHAT, true},
    {"/health", "GET", SRV_ROUTE_HEALTH, SRV_CHAT, false},
    {"/metrics", "GET", SRV_ROUTE_METRICS, SRV_CHAT, false},
};

static const struct route *find_route(const char *url) {
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].path);
        if (routes[i].prefix ? !strncmp(url, routes[i].path, n) && url[n]
                             : !strcmp(url, routes[i].path))
            return &routes[i];
    }
    return NULL;
}

/* Whatever the request is answered with before its body: the key, the route, the method. */
static enum MHD_Result check_route(struct req *r, const struct route *rt, const char *url,
                                   const char *method) {
    struct srv_http *h = r->h;
    if (h->api_key && r->route != SRV_ROUTE_HEALTH && !key_ok(h, r->conn)) {
        struct srv_api_error e;
        srv_api_fail(&e, 401, "authentication_error", "invalid_api_key", NULL,
                     "a valid API key is needed: send 'Authorization: Bearer <key>'");
        return answer_error(r, &e, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    }
    if (!rt) {
        char msg[160];
        snprintf(msg, sizeof msg, "no route %s %.100s", method, url);
        return fail(r, 404, "not_found_error", NULL, msg);
    }
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (strcmp(method, rt->method) && !(get && !strcmp(rt->method, "GET"))) {
        struct srv_api_error e;
        srv_api_fail(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
                     "%s takes %s, not %s", rt->path, rt->method, method);
        return answer_error(r, &e, MHD_HTTP_HEADER_ALLOW,
                            strcmp(rt->method, "GET") ? rt->method : "GET, HEAD");
    }
    return MHD_YES; /* nothing said yet */
}

/* The first call: headers are in, no body yet. A request that is to be refused is answered
 * now, before its body is read (MHD then drops the body and closes the connection); the rest,
 * and every request without a body, are answered on the last call, which keeps the
 * connection open for the next request. */
static enum MHD_Result begin(struct req *r, const char *url, const char *method) {
    struct srv_http *h = r->h;
    const struct route *rt = find_route(url);
    r->route = rt ? rt->route : SRV_ROUTE_OTHER;
    if (rt) r->kind = rt->kind;
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
    if (!len && !te) return MHD_YES; /* no body: all is said on the last call */
    enum MHD_Result ok = check_route(r, rt, url, method);
    if (ok != MHD_YES || r->status) return ok;
    if (len > h->cfg.max_body) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is over the limit of %zu bytes",
                 h->cfg.max_body);
        return fail(r, 413, "invalid_request_error", "request_too_large", msg);
    }
    if (len) {
        size_t first = len < (1u << 20) ? (size_t)len + 1 : (1u << 20) + 1; /* grown as it comes */
        if (!(r->body = malloc(first))) return fail(r, 500, "server_error", NULL, "out of memory");
        r->cap = first;
    }
    return MHD_YES;
}

/* The last call: the whole request is in. */
static enum MHD_Result respond(struct req *r, const char *url, const char *method) {
    const struct route *rt = find_route(url);
    enum MHD_Result ok = check_route(r, rt, url, method);
    if (ok != MHD_YES || r->status) return ok;
    if (!strcmp(rt->method, "GET")) return get_route(r, url);
    timeout_off(r);
    return run_request(r);
}

static bool body_append(struct req *r, const char *data, size_t n) {
    size_t limit = r->h->cfg.max_body;
    if (r->too_big || n > limit - r->n) {
        r->too_big = true;
        r->dropped += n;
        return r->dropped <= limit; /* past that: close instead of reading on */
    }
    if (r->n + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->n + n + 1)
            cap *= 2;
        char *p = realloc(r->body, cap);
        if (!p) return false;
        r->body = p, r->cap = cap;
    }
    memcpy(r->body + r->n, data, n);
    r->n += n;
    r->body[r->n] = '\0';
    return true;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
    struct srv_http *h = cls;
    struct req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        r->h = h, r->conn = c, r->t0 = lm_time_ns();
        atomic_init(&r->refs, 1);
        atomic_fetch_add(&h->live, 1);
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        for (char *p = r->path; *p; p++) /* the log line stays one line */
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        *con_cls = r;
        return begin(r, url, method);
    }
    if (*upload_size) {
        bool ok = body_append(r, upload, *upload_size);
        *upload_size = 0;
        if (!ok) r->status = r->too_big ? 413 : 500; /* closed without an answer */
        return ok ? MHD_YES : MHD_NO;
    }
    return respond(r, url, method);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    struct srv_http *h = cls;
    struct req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    int32_t n_prompt = 0, n_gen = 0;
    if (r->job) {
        pthread_mutex_lock(&r->job->mu);
        n_prompt = r->job->n_prompt, n_gen = r->job->n_gen;
        pthread_mutex_unlock(&r->job->mu);
    }
    int status = r->status ? r->status : 500;
    bool cut = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
    if (cut && r->status == 200 && r->job && r->job->stream && !r->ended) r->client_gone = true;
    srv_metrics_request(h->metrics, r->route, status);
    fprintf(stderr, "lmrt serve: %s %s %s %d prompt=%d gen=%d %.1f ms%s\n",
            r->job ? r->job->id : "-", r->method, r->path, status, n_prompt, n_gen,
            (lm_time_ns() - r->t0) * 1e-6,
            r->client_gone ? " (client gone)"
            : cut          ? " (connection closed early)"
                           : "");
    req_unref(r);
}

/* ---- the daemon -------------------------------------------------------------------------- */

lm_status srv_http_start(const struct srv_config *c, struct srv_metrics *m, struct srv_http **out) {
    if (!c || !out) return lm_error(LM_EINVAL, "http_start: null argument");
    *out = NULL;
    if (c->port < 0 || c->port > 65535)
        return lm_error(LM_EINVAL, "http_start: port %d is not in 0..65535", c->port);
    if (c->max_body < 1 || c->max_connections < 1 || c->timeout_s < 1)
        return lm_error(LM_EINVAL, "http_start: max_body, max_connections and timeout_s must be "
                                   "positive");
    const char *host = c->host ? c->host : "127.0.0.1";
    char port[8];
    snprintf(port, sizeof port, "%d", c->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) return lm_error(LM_EIO, "http_start: address %s: %s", host, gai_strerror(gai));
    struct srv_http *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        return lm_error(LM_ENOMEM, "http_start: out of memory");
    }
    h->cfg = *c;
    h->metrics = m;
    h->started = (int64_t)time(NULL);
    pthread_mutex_init(&h->mu, NULL);
    atomic_init(&h->stopping, false);
    atomic_init(&h->live, 0);
    if (c->api_key && !(h->api_key = strdup(c->api_key))) {
        freeaddrinfo(ai);
        srv_http_stop(h);
        return lm_error(LM_ENOMEM, "http_start: out of memory");
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
                            ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->d) {
        srv_http_stop(h);
        return lm_error(LM_EIO,
                        "http_start: cannot listen on %s:%d (in use, or not an address "
                        "of this machine?)",
                        host, c->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : c->port;
    *out = h;
    return LM_OK;
}

int srv_http_port(const struct srv_http *h) { return h ? h->port : 0; }

void srv_http_ready(struct srv_http *h, const struct srv_models *models) {
    if (!h || !models) return;
    pthread_mutex_lock(&h->mu);
    h->models = *models;
    h->served = (struct srv_api_served){
        .gen_id = models->gen_id,
        .gen = models->gen,
        .chat_template = models->chat_template,
        .n_ctx = srv_sched_n_ctx(models->sched),
        .embed_id = models->embed_id,
        .embed = models->embed,
        .embed_limit = srv_sched_embed_limit(models->sched),
    };
    h->ready = true;
    pthread_mutex_unlock(&h->mu);
}

void srv_http_quiesce(struct srv_http *h) {
    if (!h || !h->d) return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

void srv_http_stop(struct srv_http *h) {
    if (!h) return;
    atomic_store(&h->stopping, true); /* anything still waiting on a job lets go */
    /* Responses whose jobs have finished (srv_sched_drain ran first) get a moment to send
     * their last bytes, so a stream ends with its final event rather than a cut connection. */
    for (int i = 0; i < 200 && atomic_load(&h->live) > 0; i++)
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    if (h->d) MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h->api_key);
    free(h);
}
