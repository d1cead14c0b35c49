/* tools/serve_reply.h - the response bodies of `lmrt serve` (tools/serve_reply.c): OpenAI's
 * completion, chunk, embedding, model-list and error JSON, and the server-sent events of a
 * stream. The requests are parsed in tools/serve_api.c.
 */
#ifndef LMRT_SERVE_REPLY_H
#define LMRT_SERVE_REPLY_H

#include "serve_api.h"

/* Identity of a response: the job's kind, id and created time, the model id answered with. */
struct srv_api_meta {
    enum srv_kind kind;
    const char *id;
    int64_t created;
    const char *model;
    bool include_usage; /* streams: every chunk carries "usage" (null but the last) */
};

/* Every function below appends to out and returns LM_ENOMEM (out as it was) when out of memory.
 * Text that is not valid UTF-8 is written with U+FFFD in place of each bad sequence. */

/* The error body. */
lm_status srv_api_error_json(const struct srv_api_error *e, struct lm_text *out);
/* A whole chat.completion or text_completion (fin: SRV_STOP or SRV_LENGTH). */
lm_status srv_api_completion_json(const struct srv_api_meta *m, const char *text, size_t n,
                                  enum srv_finish fin, int32_t n_prompt, int32_t n_gen,
                                  struct lm_text *out);
/* Server-sent events of a stream, each "data: <json>\n\n". Chat opens with the role chunk
 * (delta {"role":"assistant","content":""}); then one text chunk per piece; then the finish chunk
 * (empty delta or text, finish_reason); with include_usage the usage chunk (choices []); then
 * "data: [DONE]". A stream that fails after it began ends with an error event instead. */
lm_status srv_api_sse_role(const struct srv_api_meta *m, struct lm_text *out);
lm_status srv_api_sse_text(const struct srv_api_meta *m, const char *text, size_t n,
                           struct lm_text *out);
lm_status srv_api_sse_finish(const struct srv_api_meta *m, enum srv_finish fin,
                             struct lm_text *out);
lm_status srv_api_sse_usage(const struct srv_api_meta *m, int32_t n_prompt, int32_t n_gen,
                            struct lm_text *out);
lm_status srv_api_sse_done(struct lm_text *out);
lm_status srv_api_sse_error(const struct srv_api_error *e, struct lm_text *out);
/* {"object":"list","data":[{"object":"embedding","index":i,"embedding":[...] or "<base64>"}],
 * "model","usage":{"prompt_tokens","total_tokens"}}; LM_ERANGE naming the input for a NaN or
 * infinite value (JSON has no such number). */
lm_status srv_api_embeddings_json(const char *model, const float *embd, int32_t n_inputs,
                                  int32_t n_embd, bool base64, int32_t n_prompt,
                                  struct lm_text *out);
/* GET /v1/models: the served models as a list; id non-NULL: that one model object, or
 * LM_ENOTFOUND when it is not served. */
lm_status srv_api_models_json(const struct srv_api_served *sv, const char *id, int64_t created,
                              struct lm_text *out);

/* Base64 (RFC 4648, padded) of n bytes, appended to out. */
lm_status srv_api_base64(const void *data, size_t n, struct lm_text *out);

#endif
