/* tools/serve_api.c - OpenAI request bodies into jobs (tools/serve_api.h); the response bodies
 * are tools/serve_reply.c's.
 *
 * The rules are OpenAI's (API reference: chat/completions, completions, embeddings), with
 * llama.cpp-server's extra sampling fields top_k, min_p and repeat_penalty:
 *   - JSON null is the same as an absent field; unknown fields are ignored, but fields that ask
 *     for something lmrt does not do (n > 1, logprobs, echo, best_of > 1, suffix, tools, a
 *     response_format other than text, images) are a 400 naming the field, never silently
 *     dropped: the answer would not be what was asked for.
 *   - Defaults: temperature 1, top_p 1 (OpenAI); top_k 0, min_p 0, repeat_penalty 1 (off, so a
 *     request that names only OpenAI fields samples exactly as OpenAI describes); penalties over
 *     every token so far (penalty_last_n -1); no seed: a fresh one per request; max_tokens
 *     unlimited for chat (until an end token or the context is full) and 16 for completions.
 *   - A prompt must leave room for one generated token in the slot's context; an embedding
 *     input given as token ids must fit the embedding model (text inputs are truncated by the
 *     worker, like `lmrt embed`). Both are 400 naming the limit.
 * The body is checked for valid UTF-8 before parsing (cJSON does not check), and for \u0000
 * escapes, which cJSON would turn into a C string cut short.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_api.h"

#define MAX_STOP                      4     /* OpenAI: up to 4 stop sequences */
#define MAX_STOP_BYTES                65536 /* lm_stop_create's limit on one stop string */
#define MAX_BIAS                      4096  /* logit_bias entries */
#define MAX_INPUTS                    2048  /* OpenAI: embedding inputs per request */
#define MAX_INT32                     2147483647.0
#define COMPLETION_DEFAULT_MAX_TOKENS 16

void srv_api_fail(struct srv_api_error *e, int status, const char *type, const char *code,
                  const char *param, const char *fmt, ...) {
    e->status = status;
    e->type = type;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

#define BAD(e, param, ...)                                                                         \
    (srv_api_fail(e, 400, "invalid_request_error", NULL, param, __VA_ARGS__), false)

/* ---- UTF-8 ------------------------------------------------------------------------------- */

/* Bytes of the character at s[0..n): > 0 for a whole valid one, 0 when invalid, -k when s holds
 * a valid but incomplete start of one that needs k more bytes. */
static int utf8_char(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    int len;
    unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0)
        len = 2;
    else if (c < 0xF0) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c < 0xF5) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return -(len - i);
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
    }
    return len;
}

size_t srv_api_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int k = utf8_char(u + i, n - i);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return n;
}

size_t srv_api_utf8_complete(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    /* only the last 3 bytes can start an incomplete character */
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned c = u[n - back];
        if ((c & 0xC0) == 0x80) continue; /* a continuation byte: look further back */
        if (c < 0x80) return n;           /* ASCII: whatever follows is invalid, not pending */
        return utf8_char(u + n - back, back) < 0 ? n - back : n;
    }
    return n;
}

/* ---- fields ------------------------------------------------------------------------------ */

/* The field, or NULL when absent or null. */
static const cJSON *field(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool get_number(const cJSON *o, const char *name, double lo, double hi, float *out,
                       struct srv_api_error *e) {
    const cJSON *v = field(o, name);
    if (!v) return true;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return BAD(e, name, "'%s' must be a number between %g and %g", name, lo, hi);
    *out = (float)v->valuedouble;
    return true;
}

static bool is_integer(const cJSON *v, double lo, double hi) {
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
           v->valuedouble == floor(v->valuedouble);
}

static bool get_int(const cJSON *o, const char *name, double lo, double hi, int64_t *out,
                    struct srv_api_error *e) {
    const cJSON *v = field(o, name);
    if (!v) return true;
    if (!is_integer(v, lo, hi))
        return BAD(e, name, "'%s' must be an integer between %.0f and %.0f", name, lo, hi);
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool get_bool(const cJSON *o, const char *name, bool *out, struct srv_api_error *e) {
    const cJSON *v = field(o, name);
    if (!v) return true;
    if (!cJSON_IsBool(v)) return BAD(e, name, "'%s' must be a boolean", name);
    *out = cJSON_IsTrue(v);
    return true;
}

/* A field that must be absent, null or the given harmless value. */
static bool refuse(const cJSON *o, const char *name, struct srv_api_error *e) {
    const cJSON *v = field(o, name);
    if (!v || cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0) ||
        (cJSON_IsString(v) && !v->valuestring[0]) || (cJSON_IsArray(v) && !cJSON_GetArraySize(v)))
        return true;
    return BAD(e, name, "'%s' is not supported by this server", name);
}

/* ---- the model --------------------------------------------------------------------------- */

/* Which served model the request names: kind's own when "model" is absent. */
static bool pick_model(const cJSON *root, enum srv_kind kind, const struct srv_api_served *sv,
                       struct srv_api_request *rq, struct srv_api_error *e) {
    bool embed = kind == SRV_EMBEDDING;
    const char *want = embed ? sv->embed_id : sv->gen_id;
    const char *other = embed ? sv->gen_id : sv->embed_id;
    const char *what = embed ? "embedding" : "text generation";
    const cJSON *v = field(root, "model");
    if (v && !cJSON_IsString(v)) return BAD(e, "model", "'model' must be a string");
    const char *name = v ? v->valuestring : NULL;
    if (name && want && !strcmp(name, want)) return rq->model = want, true;
    if (name && other && !strcmp(name, other)) {
        srv_api_fail(e, 404, "not_found_error", "model_not_found", "model",
                     "the model '%.200s' is not a%s model: it does not serve this endpoint", name,
                     embed ? "n embedding" : " text generation");
        return false;
    }
    if (name) {
        char served[300] = "nothing";
        if (sv->gen_id && sv->embed_id)
            snprintf(served, sizeof served, "'%.120s' and '%.120s'", sv->gen_id, sv->embed_id);
        else if (sv->gen_id || sv->embed_id)
            snprintf(served, sizeof served, "'%.120s'", sv->gen_id ? sv->gen_id : sv->embed_id);
        srv_api_fail(e, 404, "not_found_error", "model_not_found", "model",
                     "the model '%.200s' does not exist: this server serves %s", name, served);
        return false;
    }
    if (!want) {
        srv_api_fail(e, 404, "not_found_error", "model_not_found", "model",
                     "this server serves no %s model", what);
        return false;
    }
    rq->model = want;
    return true;
}

/* ---- sampling, stop, limits (chat and completions) ---------------------------------------- */

static uint64_t fresh_seed(void) {
    static _Atomic uint64_t counter;
    uint64_t z = lm_time_ns() ^ (atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull; /* splitmix64 finaliser */
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static bool parse_stop(const cJSON *root, struct srv_job *job, struct srv_api_error *e) {
    const cJSON *v = field(root, "stop");
    if (!v) return true;
    int n = cJSON_IsString(v) ? 1 : cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 0 || n > MAX_STOP)
        return BAD(e, "stop", "'stop' must be a string or an array of up to %d strings", MAX_STOP);
    if (!n) return true;
    if (!(job->stop = calloc((size_t)n, sizeof *job->stop)))
        return srv_api_fail(e, 500, "server_error", NULL, NULL, "out of memory"), false;
    job->n_stop = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_IsString(v) ? v : cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(s)) return BAD(e, "stop", "'stop[%d]' must be a string", i);
        size_t len = strlen(s->valuestring);
        if (!len) continue; /* an empty stop string stops nothing */
        if (len > MAX_STOP_BYTES)
            return BAD(e, "stop", "'stop[%d]' is longer than %d bytes", i, MAX_STOP_BYTES);
        if (!(job->stop[job->n_stop] = strdup(s->valuestring)))
            return srv_api_fail(e, 500, "server_error", NULL, NULL, "out of memory"), false;
        job->n_stop++;
    }
    return true;
}

static bool parse_bias(const cJSON *root, struct srv_job *job, int32_t n_vocab,
                       struct srv_api_error *e) {
    const cJSON *v = field(root, "logit_bias");
    if (!v) return true;
    if (!cJSON_IsObject(v))
        return BAD(e, "logit_bias", "'logit_bias' must be an object of token id -> bias");
    int n = cJSON_GetArraySize(v);
    if (n > MAX_BIAS)
        return BAD(e, "logit_bias", "'logit_bias' has %d entries; at most %d are taken", n,
                   MAX_BIAS);
    if (!n) return true;
    if (!(job->bias = calloc((size_t)n, sizeof *job->bias)))
        return srv_api_fail(e, 500, "server_error", NULL, NULL, "out of memory"), false;
    int k = 0;
    for (const cJSON *c = v->child; c; c = c->next, k++) {
        const char *key = c->string;
        long long id = 0;
        size_t i = 0;
        for (; key[i] >= '0' && key[i] <= '9' && i < 10; i++)
            id = id * 10 + (key[i] - '0');
        if (!i || key[i] || id >= n_vocab)
            return BAD(e, "logit_bias",
                       "'logit_bias' key '%.40s' is not a token id of this model (0..%d)", key,
                       n_vocab - 1);
        if (!cJSON_IsNumber(c) || !(c->valuedouble >= -100 && c->valuedouble <= 100))
            return BAD(e, "logit_bias",
                       "'logit_bias' value for token %lld must be a number between -100 and 100",
                       id);
        job->bias[k].token = (int32_t)id;
        /* -100 bans the token, as OpenAI says; the rest adds to the logit */
        job->bias[k].bias = c->valuedouble <= -100 ? -INFINITY : (float)c->valuedouble;
    }
    job->sampling.bias = job->bias;
    job->sampling.n_bias = n;
    return true;
}

static bool parse_generation(const cJSON *root, struct srv_job *job, int32_t n_vocab,
                             struct srv_api_request *rq, struct srv_api_error *e) {
    struct lm_sampler_params *p = &job->sampling;
    *p = (struct lm_sampler_params){
        .temp = 1, .top_p = 1, .repeat_penalty = 1, .penalty_last_n = -1, .seed = fresh_seed()};
    int64_t top_k = 0, n = 1, seed = 0, max_tokens = -1;
    if (!get_number(root, "temperature", 0, 2, &p->temp, e) ||
        !get_number(root, "top_p", 0, 1, &p->top_p, e) ||
        !get_int(root, "top_k", 0, MAX_INT32, &top_k, e) ||
        !get_number(root, "min_p", 0, 1, &p->min_p, e) ||
        !get_number(root, "repeat_penalty", 0.01, 100, &p->repeat_penalty, e) ||
        !get_number(root, "presence_penalty", -2, 2, &p->presence_penalty, e) ||
        !get_number(root, "frequency_penalty", -2, 2, &p->frequency_penalty, e) ||
        !get_int(root, "n", 1, 128, &n, e))
        return false;
    p->top_k = (int32_t)top_k;
    if (n != 1) return BAD(e, "n", "'n' must be 1: this server makes one choice per request");
    /* a seed is any 64-bit integer; doubles past 2^63 cannot be told apart anyway */
    if (field(root, "seed")) {
        if (!get_int(root, "seed", -9223372036854775808.0, 9223372036854774784.0, &seed, e))
            return false;
        p->seed = (uint64_t)seed;
    }
    if (job->kind == SRV_COMPLETION) max_tokens = COMPLETION_DEFAULT_MAX_TOKENS;
    const char *mt = field(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (!get_int(root, mt, 1, MAX_INT32, &max_tokens, e)) return false;
    job->max_tokens = (int32_t)max_tokens;

    if (!get_bool(root, "stream", &job->stream, e)) return false;
    const cJSON *so = field(root, "stream_options");
    if (so) {
        if (!job->stream)
            return BAD(e, "stream_options",
                       "'stream_options' is only allowed when 'stream' is true");
        if (!cJSON_IsObject(so))
            return BAD(e, "stream_options", "'stream_options' must be an object");
        if (!get_bool(so, "include_usage", &rq->include_usage, e)) {
            snprintf(e->param, sizeof e->param, "stream_options.include_usage");
            snprintf(e->message, sizeof e->message,
                     "'stream_options.include_usage' must be a boolean");
            return false;
        }
    }
    if (!refuse(root, "top_logprobs", e) || !refuse(root, "tools", e) ||
        !refuse(root, "functions", e))
        return false;
    const cJSON *lp = field(root, "logprobs");
    if (lp && !cJSON_IsFalse(lp) && !(cJSON_IsNumber(lp) && lp->valuedouble == 0))
        return BAD(e, "logprobs", "'logprobs' is not supported by this server");
    const cJSON *rf = field(root, "response_format");
    if (rf) {
        const cJSON *t = cJSON_IsObject(rf) ? field(rf, "type") : NULL;
        if (!cJSON_IsString(t) || strcmp(t->valuestring, "text"))
            return BAD(e, "response_format",
                       "'response_format' must be {\"type\": \"text\"}: structured output is not "
                       "supported by this server");
    }
    return parse_stop(root, job, e) && parse_bias(root, job, n_vocab, e);
}

static bool check_fit(const struct srv_job *job, const struct srv_api_served *sv, const char *param,
                      struct srv_api_error *e) {
    if (job->prompt.n < 1) return BAD(e, param, "'%s' gives an empty prompt", param);
    if (job->prompt.n + 1 > sv->n_ctx) {
        srv_api_fail(e, 400, "invalid_request_error", "context_length_exceeded", param,
                     "the prompt is %lld tokens, but the context of this server holds %d tokens "
                     "(prompt and at least one generated token)",
                     (long long)job->prompt.n, sv->n_ctx);
        return false;
    }
    return true;
}

static bool oom(struct srv_api_error *e) {
    srv_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    return false;
}

/* ---- chat -------------------------------------------------------------------------------- */

/* The text of message i's content: a string, or the text parts of an array joined by "\n". */
static bool message_text(const cJSON *c, int i, char **owned, const char **text,
                         struct srv_api_error *e) {
    char param[64];
    snprintf(param, sizeof param, "messages[%d].content", i);
    if (cJSON_IsString(c)) return *text = c->valuestring, true;
    if (!cJSON_IsArray(c))
        return BAD(e, param, "'%s' must be a string or an array of text parts", param);
    size_t len = 0;
    int n = 0;
    for (const cJSON *part = c->child; part; part = part->next, n++) {
        const cJSON *type = cJSON_IsObject(part) ? field(part, "type") : NULL;
        const cJSON *t = cJSON_IsObject(part) ? field(part, "text") : NULL;
        if (!cJSON_IsString(type))
            return BAD(e, param, "'%s[%d]' must be an object with a string 'type'", param, n);
        if (strcmp(type->valuestring, "text"))
            return BAD(e, param, "'%s[%d]' has type '%.40s': only text parts are supported", param,
                       n, type->valuestring);
        if (!cJSON_IsString(t)) return BAD(e, param, "'%s[%d].text' must be a string", param, n);
        len += strlen(t->valuestring) + 1;
    }
    if (!(*owned = malloc(len + 1))) return oom(e);
    size_t at = 0;
    for (const cJSON *part = c->child; part; part = part->next) {
        const char *t = field(part, "text")->valuestring;
        if (part != c->child) (*owned)[at++] = '\n';
        size_t k = strlen(t);
        memcpy(*owned + at, t, k);
        at += k;
    }
    (*owned)[at] = '\0';
    *text = *owned;
    return true;
}

static bool parse_chat(const cJSON *root, struct srv_job *job, const struct srv_api_served *sv,
                       struct srv_api_error *e) {
    if (!sv->chat_template)
        return BAD(e, "messages",
                   "the model '%s' has no chat template this server knows: use /v1/completions",
                   sv->gen_id);
    const cJSON *msgs = field(root, "messages");
    if (!msgs) return BAD(e, "messages", "'messages' is required");
    if (!cJSON_IsArray(msgs) || !cJSON_GetArraySize(msgs))
        return BAD(e, "messages", "'messages' must be a non-empty array of messages");
    int n = cJSON_GetArraySize(msgs);
    struct lm_chat_msg *m = calloc((size_t)n, sizeof *m);
    char **owned = calloc((size_t)n, sizeof *owned);
    struct lm_text text = {0};
    bool ok = m && owned ? true : oom(e);
    int i = 0;
    for (const cJSON *msg = msgs->child; ok && msg; msg = msg->next, i++) {
        char param[64];
        snprintf(param, sizeof param, "messages[%d]", i);
        const cJSON *role = cJSON_IsObject(msg) ? field(msg, "role") : NULL;
        if (!cJSON_IsObject(msg)) {
            ok = BAD(e, param, "'%s' must be an object", param);
            break;
        }
        if (!cJSON_IsString(role)) {
            ok = BAD(e, param, "'%s.role' must be a string", param);
            break;
        }
        const char *r = role->valuestring;
        if (!strcmp(r, "developer")) r = "system"; /* OpenAI's newer name for it */
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant")) {
            ok = BAD(e, param, "'%s.role' '%.40s' is not supported: system, user or assistant",
                     param, r);
            break;
        }
        m[i].role = r;
        if (!refuse(msg, "tool_calls", e) || !refuse(msg, "function_call", e)) {
            snprintf(e->param, sizeof e->param, "%s", param);
            ok = false;
            break;
        }
        const cJSON *c = field(msg, "content");
        if (!c && !strcmp(r, "assistant")) {
            m[i].content = ""; /* an assistant turn may have no content */
            continue;
        }
        if (!c) {
            ok = BAD(e, param, "'%s.content' is required", param);
            break;
        }
        ok = message_text(c, i, &owned[i], &m[i].content, e);
    }
    if (ok) {
        const struct lm_tokenizer *tok = lm_model_tokenizer(sv->gen);
        lm_clear_error();
        lm_status s = lm_chat_render(sv->chat_template, m, n, true, tok, &text);
        if (s == LM_EINVAL)
            ok = BAD(e, "messages", "'messages' cannot be rendered by the %s template: %s",
                     sv->chat_template, lm_last_error());
        else if (s != LM_OK)
            ok = oom(e);
        else if (lm_tokenize(tok, text.s, text.n, LM_TOK_PARSE_SPECIAL, &job->prompt) != LM_OK)
            ok = oom(e);
        else
            ok = check_fit(job, sv, "messages", e);
    }
    for (int k = 0; owned && k < n; k++)
        free(owned[k]);
    free(owned);
    free(m);
    lm_text_free(&text);
    return ok;
}

/* ---- completions ------------------------------------------------------------------------- */

/* Token ids from a JSON array of integers into out (appended), each checked against n_vocab. */
static bool token_array(const cJSON *a, int32_t n_vocab, const char *param, struct lm_tokens *out,
                        struct srv_api_error *e) {
    int n = cJSON_GetArraySize(a), i = 0;
    if (!n) return BAD(e, param, "'%s' is an empty array", param);
    int32_t *ids = realloc(out->ids, ((size_t)out->n + (size_t)n) * sizeof *ids);
    if (!ids) return oom(e);
    out->ids = ids, out->cap = out->n + n;
    for (const cJSON *c = a->child; c; c = c->next, i++) {
        if (!is_integer(c, 0, n_vocab - 1))
            return BAD(e, param, "'%s[%d]' must be a token id of this model (0..%d)", param, i,
                       n_vocab - 1);
        out->ids[out->n++] = (int32_t)c->valuedouble;
    }
    return true;
}

static bool parse_completion(const cJSON *root, struct srv_job *job,
                             const struct srv_api_served *sv, struct srv_api_error *e) {
    if (!refuse(root, "echo", e) || !refuse(root, "suffix", e)) return false;
    int64_t best_of = 1;
    if (!get_int(root, "best_of", 1, 20, &best_of, e)) return false;
    if (best_of != 1) return BAD(e, "best_of", "'best_of' must be 1 on this server");
    const struct lm_tokenizer *tok = lm_model_tokenizer(sv->gen);
    const int32_t n_vocab = lm_tokenizer_n_vocab(tok);
    const cJSON *p = field(root, "prompt");
    if (!p) return BAD(e, "prompt", "'prompt' is required");
    /* one prompt: a string, an array of one string, an array of ids, an array of one id array */
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) >= 1 && !cJSON_IsNumber(p->child)) {
        int n = cJSON_GetArraySize(p);
        if (n > 1)
            return BAD(e, "prompt", "'prompt' holds %d prompts: this server takes one per request",
                       n);
        if (cJSON_IsString(p->child) || cJSON_IsArray(p->child)) p = p->child;
    }
    if (cJSON_IsString(p)) {
        if (lm_tokenize(tok, p->valuestring, strlen(p->valuestring), LM_TOK_ADD_SPECIAL,
                        &job->prompt) != LM_OK)
            return oom(e);
    } else if (cJSON_IsArray(p)) {
        if (!token_array(p, n_vocab, "prompt", &job->prompt, e)) return false;
    } else {
        return BAD(e, "prompt",
                   "'prompt' must be a string, an array of one string, or an array of token ids");
    }
    return check_fit(job, sv, "prompt", e);
}

/* ---- embeddings -------------------------------------------------------------------------- */

static bool parse_embedding(const cJSON *root, struct srv_job *job, const struct srv_api_served *sv,
                            struct srv_api_request *rq, struct srv_api_error *e) {
    const struct lm_tokenizer *tok = lm_model_tokenizer(sv->embed);
    const int32_t n_vocab = lm_tokenizer_n_vocab(tok);
    const cJSON *fmt = field(root, "encoding_format");
    if (fmt && !(cJSON_IsString(fmt) &&
                 (!strcmp(fmt->valuestring, "float") || !strcmp(fmt->valuestring, "base64"))))
        return BAD(e, "encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
    rq->base64 = fmt && !strcmp(fmt->valuestring, "base64");
    const cJSON *dim = field(root, "dimensions");
    int32_t n_embd = lm_model_hparams(sv->embed)->n_embd;
    if (dim && !(is_integer(dim, n_embd, n_embd)))
        return BAD(e, "dimensions",
                   "'dimensions' cannot be chosen: the model '%s' makes embeddings of %d",
                   sv->embed_id, n_embd);
    const cJSON *in = field(root, "input");
    if (!in) return BAD(e, "input", "'input' is required");
    /* a string, an array of strings, an array of ids (one input), an array of id arrays */
    bool one = cJSON_IsString(in) || (cJSON_IsArray(in) && cJSON_IsNumber(in->child));
    if (!one && !cJSON_IsArray(in))
        return BAD(e, "input",
                   "'input' must be a string, an array of strings, an array of token ids or an "
                   "array of token id arrays");
    int n = one ? 1 : cJSON_GetArraySize(in);
    if (n < 1) return BAD(e, "input", "'input' is an empty array");
    if (n > MAX_INPUTS)
        return BAD(e, "input", "'input' has %d inputs; at most %d are taken", n, MAX_INPUTS);
    if (!(job->inputs = calloc((size_t)n, sizeof *job->inputs))) return oom(e);
    job->n_inputs = n;
    const cJSON *item = one ? in : in->child;
    bool texts = cJSON_IsString(item);
    job->from_text = texts;
    for (int i = 0; i < n; i++, item = item->next) {
        char param[40];
        snprintf(param, sizeof param, one ? "input" : "input[%d]", i);
        if (texts != cJSON_IsString(item) || (!texts && !cJSON_IsArray(item) && !one))
            return BAD(e, "input", "'%s' must be a %s like the first input", param,
                       texts ? "string" : "token id array");
        struct lm_tokens *t = &job->inputs[i];
        if (texts) {
            if (!item->valuestring[0])
                return BAD(e, "input", "'%s' must not be an empty string", param);
            if (lm_tokenize(tok, item->valuestring, strlen(item->valuestring), LM_TOK_ADD_SPECIAL,
                            t) != LM_OK)
                return oom(e);
        } else {
            if (!token_array(item, n_vocab, param, t, e)) {
                snprintf(e->param, sizeof e->param, "input");
                return false;
            }
            if (t->n > sv->embed_limit)
                return BAD(e, "input",
                           "'%s' has %lld tokens, but the model '%s' takes at most %d per input",
                           param, (long long)t->n, sv->embed_id, sv->embed_limit);
        }
        if (one) break;
    }
    return true;
}

/* ---- entry ------------------------------------------------------------------------------- */

/* \u0000 in a JSON string would become a NUL that cuts the C string cJSON hands over. */
static bool has_nul_escape(const char *s, size_t n) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\') continue;
        if (s[i + 1] == 'u' && i + 5 < n && !memcmp(s + i + 2, "0000", 4)) return true;
        i++; /* the escaped character */
    }
    return false;
}

/* cJSON takes raw control characters (below 0x20) anywhere, JSON (RFC 8259) nowhere but
 * tab, CR and LF between tokens: the offset of the first one out of place, or n. Run on a body
 * cJSON parsed, so quotes and escapes are balanced. */
static size_t raw_control_at(const char *s, size_t n) {
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && (in_string || (c != '\t' && c != '\r' && c != '\n'))) return i;
        if (in_string && c == '\\')
            i++; /* the escaped character: cJSON took it, so it is one of "\/bfnrtu */
        else if (c == '"')
            in_string = !in_string;
    }
    return n;
}

bool srv_api_parse(struct srv_job *job, const char *body, size_t len,
                   const struct srv_api_served *sv, struct srv_api_request *rq,
                   struct srv_api_error *e) {
    *rq = (struct srv_api_request){0};
    size_t bad = srv_api_utf8_valid(body, len);
    if (bad < len) return BAD(e, NULL, "the request body is not valid UTF-8 (byte %zu)", bad);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root) {
        size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        return BAD(e, NULL, "the request body is not valid JSON (near byte %zu)", at);
    }
    bool ok = true;
    for (const char *p = end; ok && p < body + len; p++)
        if (!strchr(" \t\r\n", *p))
            ok = BAD(e, NULL, "the request body has bytes after its JSON value (byte %zu)",
                     (size_t)(p - body));
    size_t ctl = ok ? raw_control_at(body, len) : len;
    if (ctl < len)
        ok = BAD(e, NULL,
                 "the request body has a raw control character (byte %zu); JSON needs "
                 "it escaped",
                 ctl);
    if (ok && !cJSON_IsObject(root)) ok = BAD(e, NULL, "the request body must be a JSON object");
    if (ok && has_nul_escape(body, len))
        ok = BAD(e, NULL, "a string in the request body holds \\u0000, which is not accepted");
    if (ok) ok = pick_model(root, job->kind, sv, rq, e);
    if (ok && job->kind != SRV_EMBEDDING)
        ok = parse_generation(root, job, lm_tokenizer_n_vocab(lm_model_tokenizer(sv->gen)), rq, e);
    if (ok) {
        if (job->kind == SRV_CHAT)
            ok = parse_chat(root, job, sv, e);
        else if (job->kind == SRV_COMPLETION)
            ok = parse_completion(root, job, sv, e);
        else
            ok = parse_embedding(root, job, sv, rq, e);
    }
    cJSON_Delete(root);
    return ok;
}
