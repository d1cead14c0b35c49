/* tools/serve_api.h - the OpenAI request bodies of `lmrt serve` (tools/serve_api.c): a request
 * body (JSON text) becomes the inputs of a struct srv_job. What a job produced becomes a
 * response body, the server-sent events of a stream or an error body in tools/serve_reply.h.
 *
 * No I/O and no threads here: serve_http.c reads the request and writes what these functions
 * build, so every rule of the API (field names, types, ranges, defaults, the prompt's fit in
 * the context) can be tested without a socket. A bad request is never an abort: it fills a
 * struct srv_api_error with the HTTP status and an OpenAI-style message naming the field.
 */
#ifndef LMRT_SERVE_API_H
#define LMRT_SERVE_API_H

#include "serve_job.h"

/* What is served, as the parser needs it. */
struct srv_api_served {
    const char *gen_id; /* the "model" name of the text model; NULL: none */
    const struct lm_model *gen;
    const char *chat_template; /* lm_chat_render family; NULL: /v1/chat/completions answers 400 */
    int32_t n_ctx;             /* positions per generation slot (srv_sched_n_ctx) */
    const char *embed_id;      /* NULL: no embedding model */
    const struct lm_model *embed;
    int32_t embed_limit; /* most tokens of one embedding input (srv_sched_embed_limit) */
};

/* An error answer: {"error": {"message", "type", "param", "code"}} with status. */
struct srv_api_error {
    int status;       /* HTTP status: 400, 401, 404, 405, 413, 429, 500, 503 */
    const char *type; /* "invalid_request_error", "authentication_error", "not_found_error",
                       * "rate_limit_error", "server_error" */
    const char *code; /* NULL (JSON null) or e.g. "model_not_found", "context_length_exceeded" */
    char param[96];   /* the field at fault ("messages[1].content"), "" = null */
    char message[512];
};

/* Fill e (param NULL or "" = none). */
void srv_api_fail(struct srv_api_error *e, int status, const char *type, const char *code,
                  const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* What the HTTP side needs from the request beyond the job's inputs. */
struct srv_api_request {
    const char *model;  /* the served id the request resolved to (points into the served ids) */
    bool include_usage; /* stream_options.include_usage */
    bool base64;        /* embeddings: encoding_format "base64" */
};

/* Parse body[0..len) for job->kind (set by srv_job_new) into the job's inputs: for chat and
 * completions prompt, max_tokens, sampling (+ bias), stop, stream; for embeddings inputs,
 * n_inputs, from_text. true on success; false with e filled (the job may then hold some of its
 * inputs, which srv_job_release frees). The body must be valid UTF-8 JSON. */
bool srv_api_parse(struct srv_job *job, const char *body, size_t len,
                   const struct srv_api_served *sv, struct srv_api_request *rq,
                   struct srv_api_error *e);

/* Length of the valid UTF-8 prefix of s[0..n) that ends on a whole character (n when all valid);
 * strict: no overlong forms, no surrogates, nothing past U+10FFFF. */
size_t srv_api_utf8_valid(const char *s, size_t n);
/* n less the bytes of a valid character s[0..n) ends in the middle of (a stream holds them back
 * until the rest comes). */
size_t srv_api_utf8_complete(const char *s, size_t n);

#endif
