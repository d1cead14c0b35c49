/* tools/serve_reply.c - jobs into OpenAI response bodies (tools/serve_reply.h): a small JSON
 * writer over lm_text that puts out back as it was when memory runs out, and the bodies and
 * server-sent events built on it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_reply.h"

/* ---- responses: a small JSON writer over lm_text ----------------------------------------- */

/* Writes append to out; the first failed growth sets oom, later writes do nothing, and end()
 * puts out back as it was. */
struct jw {
    struct lm_text *out;
    size_t start;
    bool oom;
};

static struct jw jw_begin(struct lm_text *out) { return (struct jw){out, out->n, false}; }

static void jw_raw(struct jw *w, const char *s, size_t n) {
    if (!w->oom && lm_text_append(w->out, s, n) != LM_OK) w->oom = true;
}

static void jw_cat(struct jw *w, const char *s) { jw_raw(w, s, strlen(s)); }

static void jw_fmt(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jw_fmt(struct jw *w, const char *fmt, ...) {
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) { /* only short numbers come through here */
        w->oom = true;
        return;
    }
    jw_raw(w, buf, (size_t)n);
}

/* Bytes of the valid UTF-8 character at u[0..n) (lead byte >= 0x80), 0 when it is not one. */
static int char_len(const unsigned char *u, size_t n) {
    const size_t len = u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
    return len <= n && srv_api_utf8_valid((const char *)u, len) == len ? (int)len : 0;
}

/* A JSON string of s[0..n): quotes, backslashes and control characters escaped, invalid UTF-8
 * replaced by U+FFFD (one per bad byte). */
static void jw_str(struct jw *w, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    jw_raw(w, "\"", 1);
    size_t run = 0; /* start of the bytes that need no change */
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        int k = c < 0x80 ? 1 : char_len(u + i, n - i);
        const char *rep = NULL;
        char esc[8];
        if (k <= 0)
            rep = "\xEF\xBF\xBD", k = 1;
        else if (c == '"')
            rep = "\\\"";
        else if (c == '\\')
            rep = "\\\\";
        else if (c == '\n')
            rep = "\\n";
        else if (c == '\r')
            rep = "\\r";
        else if (c == '\t')
            rep = "\\t";
        else if (c < 0x20)
            snprintf(esc, sizeof esc, "\\u%04x", c), rep = esc;
        if (rep) {
            jw_raw(w, s + run, i - run);
            jw_cat(w, rep);
            run = i + (size_t)k;
        }
        i += (size_t)k;
    }
    jw_raw(w, s + run, n - run);
    jw_raw(w, "\"", 1);
}

static void jw_cstr(struct jw *w, const char *s) {
    if (s)
        jw_str(w, s, strlen(s));
    else
        jw_cat(w, "null");
}

static lm_status jw_end(struct jw *w) {
    if (!w->oom) return LM_OK;
    if (w->out->s) w->out->s[w->out->n = w->start] = '\0';
    return lm_error(LM_ENOMEM, "serve_api: out of memory writing a response");
}

static const char *finish_name(enum srv_finish fin) {
    return fin == SRV_LENGTH ? "length" : "stop";
}

static void jw_usage(struct jw *w, int32_t n_prompt, int32_t n_gen) {
    jw_fmt(w, "{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%lld}", n_prompt,
           n_gen, (long long)n_prompt + n_gen);
}

/* {"id":..,"object":..,"created":..,"model":.., */
static void jw_head(struct jw *w, const struct srv_api_meta *m, const char *object) {
    jw_cat(w, "{\"id\":");
    jw_cstr(w, m->id);
    jw_cat(w, ",\"object\":\"");
    jw_cat(w, object);
    jw_fmt(w, "\",\"created\":%lld,\"model\":", (long long)m->created);
    jw_cstr(w, m->model);
    jw_cat(w, ",");
}

lm_status srv_api_error_json(const struct srv_api_error *e, struct lm_text *out) {
    struct jw w = jw_begin(out);
    jw_cat(&w, "{\"error\":{\"message\":");
    jw_cstr(&w, e->message);
    jw_cat(&w, ",\"type\":");
    jw_cstr(&w, e->type ? e->type : "server_error");
    jw_cat(&w, ",\"param\":");
    jw_cstr(&w, e->param[0] ? e->param : NULL);
    jw_cat(&w, ",\"code\":");
    jw_cstr(&w, e->code);
    jw_cat(&w, "}}");
    return jw_end(&w);
}

lm_status srv_api_completion_json(const struct srv_api_meta *m, const char *text, size_t n,
                                  enum srv_finish fin, int32_t n_prompt, int32_t n_gen,
                                  struct lm_text *out) {
    struct jw w = jw_begin(out);
    bool chat = m->kind == SRV_CHAT;
    jw_head(&w, m, chat ? "chat.completion" : "text_completion");
    jw_cat(&w, "\"choices\":[{\"index\":0,");
    if (chat) {
        jw_cat(&w, "\"message\":{\"role\":\"assistant\",\"content\":");
        jw_str(&w, text, n);
        jw_cat(&w, ",\"refusal\":null},");
    } else {
        jw_cat(&w, "\"text\":");
        jw_str(&w, text, n);
        jw_cat(&w, ",");
    }
    jw_fmt(&w, "\"logprobs\":null,\"finish_reason\":\"%s\"}],\"usage\":", finish_name(fin));
    jw_usage(&w, n_prompt, n_gen);
    jw_cat(&w, "}");
    return jw_end(&w);
}

/* data: one chunk with a choice of the given delta/text and finish_reason (NULL: null) */
static lm_status sse_chunk(const struct srv_api_meta *m, const char *delta_role, const char *text,
                           size_t n, const char *finish, struct lm_text *out) {
    struct jw w = jw_begin(out);
    bool chat = m->kind == SRV_CHAT;
    jw_cat(&w, "data: ");
    jw_head(&w, m, chat ? "chat.completion.chunk" : "text_completion");
    jw_cat(&w, "\"choices\":[{\"index\":0,");
    if (chat) {
        jw_cat(&w, "\"delta\":{");
        if (delta_role) {
            jw_cat(&w, "\"role\":");
            jw_cstr(&w, delta_role);
            if (text) jw_cat(&w, ",");
        }
        if (text) {
            jw_cat(&w, "\"content\":");
            jw_str(&w, text, n);
        }
        jw_cat(&w, "},");
    } else {
        jw_cat(&w, "\"text\":");
        jw_str(&w, text ? text : "", text ? n : 0);
        jw_cat(&w, ",");
    }
    jw_cat(&w, "\"logprobs\":null,\"finish_reason\":");
    jw_cstr(&w, finish);
    jw_cat(&w, m->include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
    return jw_end(&w);
}

lm_status srv_api_sse_role(const struct srv_api_meta *m, struct lm_text *out) {
    return sse_chunk(m, "assistant", "", 0, NULL, out);
}

lm_status srv_api_sse_text(const struct srv_api_meta *m, const char *text, size_t n,
                           struct lm_text *out) {
    return sse_chunk(m, NULL, text, n, NULL, out);
}

lm_status srv_api_sse_finish(const struct srv_api_meta *m, enum srv_finish fin,
                             struct lm_text *out) {
    return sse_chunk(m, NULL, NULL, 0, finish_name(fin), out);
}

lm_status srv_api_sse_usage(const struct srv_api_meta *m, int32_t n_prompt, int32_t n_gen,
                            struct lm_text *out) {
    struct jw w = jw_begin(out);
    jw_cat(&w, "data: ");
    jw_head(&w, m, m->kind == SRV_CHAT ? "chat.completion.chunk" : "text_completion");
    jw_cat(&w, "\"choices\":[],\"usage\":");
    jw_usage(&w, n_prompt, n_gen);
    jw_cat(&w, "}\n\n");
    return jw_end(&w);
}

lm_status srv_api_sse_done(struct lm_text *out) {
    struct jw w = jw_begin(out);
    jw_cat(&w, "data: [DONE]\n\n");
    return jw_end(&w);
}

lm_status srv_api_sse_error(const struct srv_api_error *e, struct lm_text *out) {
    size_t start = out->n;
    struct jw w = jw_begin(out);
    jw_cat(&w, "data: ");
    if (jw_end(&w) != LM_OK || srv_api_error_json(e, out) != LM_OK) goto fail;
    w = jw_begin(out);
    jw_cat(&w, "\n\n");
    if (jw_end(&w) == LM_OK) return LM_OK;
fail:
    if (out->s) out->s[out->n = start] = '\0';
    return lm_error(LM_ENOMEM, "serve_api: out of memory writing an error event");
}

lm_status srv_api_base64(const void *data, size_t n, struct lm_text *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    struct jw w = jw_begin(out);
    char q[4];
    for (size_t i = 0; i < n && !w.oom; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        q[0] = abc[v >> 18], q[1] = abc[(v >> 12) & 63];
        q[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? abc[v & 63] : '=';
        jw_raw(&w, q, 4);
    }
    return jw_end(&w);
}

lm_status srv_api_embeddings_json(const char *model, const float *embd, int32_t n_inputs,
                                  int32_t n_embd, bool base64, int32_t n_prompt,
                                  struct lm_text *out) {
    for (int64_t i = 0; i < (int64_t)n_inputs * n_embd; i++)
        if (!isfinite(embd[i]))
            return lm_error(LM_ERANGE, "serve_api: embedding %lld has a non-finite value at %lld",
                            (long long)(i / n_embd), (long long)(i % n_embd));
    struct jw w = jw_begin(out);
    jw_cat(&w, "{\"object\":\"list\",\"data\":[");
    unsigned char *le = base64 ? malloc((size_t)n_embd * 4 + 1) : NULL;
    if (base64 && !le) w.oom = true;
    for (int32_t i = 0; i < n_inputs && !w.oom; i++) {
        const float *v = embd + (size_t)i * (size_t)n_embd;
        jw_fmt(&w, "%s{\"object\":\"embedding\",\"index\":%d,\"embedding\":", i ? "," : "", i);
        if (base64) {
            for (int32_t k = 0; k < n_embd; k++) { /* little-endian float32, whatever the host */
                uint32_t b;
                memcpy(&b, &v[k], 4);
                for (int j = 0; j < 4; j++)
                    le[4 * k + j] = (unsigned char)(b >> (8 * j));
            }
            jw_raw(&w, "\"", 1);
            if (!w.oom && srv_api_base64(le, (size_t)n_embd * 4, out) != LM_OK) w.oom = true;
            jw_raw(&w, "\"}", 2);
        } else {
            jw_raw(&w, "[", 1);
            for (int32_t k = 0; k < n_embd && !w.oom; k++)
                jw_fmt(&w, k ? ",%.9g" : "%.9g", (double)v[k]); /* 9 digits: float32 exact */
            jw_raw(&w, "]}", 2);
        }
    }
    free(le);
    jw_cat(&w, "],\"model\":");
    jw_cstr(&w, model);
    jw_fmt(&w, ",\"usage\":{\"prompt_tokens\":%d,\"total_tokens\":%d}}", n_prompt, n_prompt);
    return jw_end(&w);
}

static void jw_model(struct jw *w, const char *id, int64_t created) {
    jw_cat(w, "{\"id\":");
    jw_cstr(w, id);
    jw_fmt(w, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"lmrt\"}", (long long)created);
}

lm_status srv_api_models_json(const struct srv_api_served *sv, const char *id, int64_t created,
                              struct lm_text *out) {
    const char *ids[2] = {sv->gen_id, sv->embed_id};
    struct jw w = jw_begin(out);
    if (id) {
        for (int i = 0; i < 2; i++)
            if (ids[i] && !strcmp(ids[i], id)) {
                jw_model(&w, ids[i], created);
                return jw_end(&w);
            }
        return lm_error(LM_ENOTFOUND, "the model '%.200s' does not exist", id);
    }
    jw_cat(&w, "{\"object\":\"list\",\"data\":[");
    for (int i = 0, k = 0; i < 2; i++)
        if (ids[i]) {
            if (k++) jw_cat(&w, ",");
            jw_model(&w, ids[i], created);
        }
    jw_cat(&w, "]}");
    return jw_end(&w);
}
