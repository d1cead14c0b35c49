/* tests/fuzz/fuzz_serve_api.c - libFuzzer target for the request bodies of `lmrt serve`
 * (tools/serve_api.c: srv_api_parse) and the bodies it writes back.
 *
 * The first input byte picks the endpoint (chat, completions, embeddings) and the limits the
 * parser is given (context 2..4096 positions, embedding inputs of 4 or 512 tokens); the rest is
 * the body, parsed against the real SmolLM2-135M and all-MiniLM-L6-v2 (from $LMRT_MODELS,
 * default build/models; the target aborts without them). Then:
 *   - accepted: the job must be within every limit (prompt 1..n_ctx-1 ids in the vocabulary,
 *     up to 4 non-empty valid UTF-8 stop strings, bias entries in range, 1..2048 embedding
 *     inputs, token inputs within the limit), lm_sampler_create must take its sampling
 *     parameters, and the response, stream events and embeddings body written for it must be
 *     valid UTF-8 JSON;
 *   - refused: a 400/404 with a message, whose error body is valid UTF-8 JSON.
 * Crashes, sanitizer reports, leaks and broken invariants are bugs. Built by `ninja fuzz`
 * (clang) and replayed over tests/fuzz/corpus/serve_api in `ninja test`.
 */
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/serve_api.h"
#include "../../tools/serve_reply.h"
#include "../../tools/serve_job.h"

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "serve_api fuzz: %s\n", what);
        abort();
    }
}

static struct lm_model *load(const char *rel) {
    const char *dir = getenv("LMRT_MODELS");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "build/models", rel);
    struct lm_model *m = NULL;
    if (lm_model_load(path, &m) != LM_OK) {
        fprintf(stderr, "serve_api fuzz: %s: %s (tools/fetch_models.sh fetches it)\n", path,
                lm_last_error());
        abort();
    }
    return m;
}

/* out is one JSON value (a stream: "data: <json>\n\n" events), all valid UTF-8 */
static void check_json(const struct lm_text *out, bool events) {
    check(out->s && srv_api_utf8_valid(out->s, out->n) == out->n, "output is not valid UTF-8");
    const char *s = out->s, *end = out->s + out->n;
    while (s < end) {
        const char *stop = end;
        if (events) {
            check(!strncmp(s, "data: ", 6), "event without 'data: '");
            s += 6;
            stop = strstr(s, "\n\n");
            check(stop != NULL, "event without its blank line");
        }
        const char *after;
        cJSON *v = cJSON_ParseWithLengthOpts(s, (size_t)(stop - s), &after, false);
        check(v && after == stop, "output is not one JSON value");
        cJSON_Delete(v);
        s = events ? stop + 2 : stop;
    }
}

static void check_job(const struct srv_job *j, const struct srv_api_served *sv,
                      const struct srv_api_request *rq) {
    if (j->kind == SRV_EMBEDDING) {
        const int32_t nv = lm_tokenizer_n_vocab(lm_model_tokenizer(sv->embed));
        check(rq->model == sv->embed_id, "embedding model");
        check(j->n_inputs >= 1 && j->n_inputs <= 2048 && j->inputs, "input count");
        for (int32_t i = 0; i < j->n_inputs; i++) {
            const struct lm_tokens *t = &j->inputs[i];
            check(t->n >= 1 && (j->from_text || t->n <= sv->embed_limit), "input length");
            for (int64_t k = 0; k < t->n; k++)
                check(t->ids[k] >= 0 && t->ids[k] < nv, "input id outside the vocabulary");
        }
        return;
    }
    const int32_t nv = lm_tokenizer_n_vocab(lm_model_tokenizer(sv->gen));
    check(rq->model == sv->gen_id, "generation model");
    check(j->prompt.n >= 1 && j->prompt.n + 1 <= sv->n_ctx, "prompt does not fit");
    for (int64_t k = 0; k < j->prompt.n; k++)
        check(j->prompt.ids[k] >= 0 && j->prompt.ids[k] < nv, "prompt id outside the vocabulary");
    check(j->max_tokens == -1 || j->max_tokens >= 1, "max_tokens");
    check(j->n_stop >= 0 && j->n_stop <= 4, "stop count");
    for (int i = 0; i < j->n_stop; i++)
        check(j->stop[i][0] &&
                  srv_api_utf8_valid(j->stop[i], strlen(j->stop[i])) == strlen(j->stop[i]),
              "stop string empty or not UTF-8");
    check(j->sampling.bias == j->bias && j->sampling.n_bias >= 0, "bias");
    for (int32_t i = 0; i < j->sampling.n_bias; i++)
        check(j->bias[i].token >= 0 && j->bias[i].token < nv && !isnan(j->bias[i].bias) &&
                  j->bias[i].bias <= 100,
              "bias entry");
    struct lm_sampler *smp = NULL;
    check(lm_sampler_create(&j->sampling, nv, &smp) == LM_OK, "the sampler refuses the params");
    lm_sampler_free(smp);
}

static void check_bodies(const struct srv_job *j, const struct srv_api_served *sv,
                         const struct srv_api_request *rq) {
    struct lm_text out = {0}, text = {0};
    if (j->kind == SRV_EMBEDDING) {
        int32_t n = j->n_inputs, d = 3;
        float *e = calloc((size_t)n * d, sizeof *e);
        check(e != NULL, "out of memory");
        for (int32_t i = 0; i < n * d; i++)
            e[i] = (float)j->inputs[i / d].n / (float)(i % d + 1);
        check(srv_api_embeddings_json(rq->model, e, n, d, rq->base64, 1, &out) == LM_OK,
              "embeddings body");
        check_json(&out, false);
        free(e);
        lm_text_free(&out);
        return;
    }
    /* the prompt's own text stands in for generated text: any bytes the vocabulary makes */
    check(lm_detokenize(lm_model_tokenizer(sv->gen), j->prompt.ids, j->prompt.n, 0, &text) == LM_OK,
          "detokenize");
    struct srv_api_meta m = {j->kind, j->id, j->created, rq->model, rq->include_usage};
    check(srv_api_completion_json(&m, text.s, text.n, SRV_LENGTH, 1, 2, &out) == LM_OK,
          "completion body");
    check_json(&out, false);
    out.n = 0;
    size_t half = srv_api_utf8_complete(text.s, text.n / 2);
    check((m.kind != SRV_CHAT || srv_api_sse_role(&m, &out) == LM_OK) &&
              srv_api_sse_text(&m, text.s, half, &out) == LM_OK &&
              srv_api_sse_text(&m, text.s + half, text.n - half, &out) == LM_OK &&
              srv_api_sse_finish(&m, SRV_STOP, &out) == LM_OK &&
              srv_api_sse_usage(&m, 1, 2, &out) == LM_OK,
          "stream events");
    check_json(&out, true);
    lm_text_free(&out);
    lm_text_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct lm_model *gen, *embed;
    static const char *family;
    if (!gen) {
        gen = load("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
        embed = load("minilm");
        check(lm_chat_detect(lm_model_chat_template(gen), &family) == LM_OK, "chat template");
    }
    if (size < 1) return 0;
    static const int32_t n_ctx[] = {4096, 64, 8, 2};
    static const enum srv_kind kinds[] = {SRV_CHAT, SRV_COMPLETION, SRV_EMBEDDING, SRV_CHAT};
    const struct srv_api_served sv = {.gen_id = "gen",
                                      .gen = gen,
                                      .chat_template = family,
                                      .n_ctx = n_ctx[(data[0] >> 2) & 3],
                                      .embed_id = "embed",
                                      .embed = embed,
                                      .embed_limit = data[0] & 16 ? 4 : 512};
    char *body = malloc(size - 1 ? size - 1 : 1); /* exact size: a read past it is reported */
    check(body != NULL, "out of memory");
    memcpy(body, data + 1, size - 1);
    struct srv_job *j = srv_job_new(kinds[data[0] & 3]);
    check(j != NULL, "out of memory");
    struct srv_api_request rq;
    struct srv_api_error e;
    memset(&e, 0, sizeof e);
    if (srv_api_parse(j, body, size - 1, &sv, &rq, &e)) {
        check_job(j, &sv, &rq);
        check_bodies(j, &sv, &rq);
    } else {
        check((e.status == 400 || e.status == 404) && e.message[0] && e.type, "error");
        struct lm_text out = {0};
        check(srv_api_error_json(&e, &out) == LM_OK, "error body");
        check_json(&out, false);
        lm_text_free(&out);
    }
    srv_job_release(j);
    srv_job_release(j);
    free(body);
    return 0;
}
