/* tests/check_serve_api.c - the OpenAI bodies of `lmrt serve` (tools/serve_api.c) against the
 * real SmolLM2-135M Q4_1 and all-MiniLM-L6-v2 files.
 *
 * - Requests: chat (string and part-array contents, every sampling field), completions (the
 *   four prompt forms give the same ids), embeddings (texts with the model's specials, token
 *   arrays as given); the prompt ids are checked against the chat template rendered and
 *   tokenized here, and decode back to the rendered text.
 * - Every error path: a table of bodies, each with the status, the field ("param") and words
 *   the message must hold; the context and embedding limits at their exact boundaries.
 * - Responses: every body and stream event the server writes is parsed back with cJSON and its
 *   fields checked; escapes and invalid UTF-8 in text; float embeddings round-trip to the same
 *   float32; base64 against RFC 4648's vectors and decoded back.
 * - Metrics (tools/serve_metrics.c): the Prometheus text read back line by line: counters by
 *   route and status, cumulative histogram buckets against the observations, gauges.
 */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/serve_api.h"
#include "../tools/serve_reply.h"
#include "../tools/serve_job.h"
#include "../tools/serve_metrics.h"
#include "testutil.h"

static struct lm_model *smollm, *minilm;
static struct srv_api_served served;

static void load_models(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s", tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"));
    ck_assert_msg(lm_model_load(path, &smollm) == LM_OK, "%s", lm_last_error());
    snprintf(path, sizeof path, "%s", tu_model_path("minilm"));
    ck_assert_msg(lm_model_load(path, &minilm) == LM_OK, "%s", lm_last_error());
    const char *family = NULL;
    ck_assert(lm_chat_detect(lm_model_chat_template(smollm), &family) == LM_OK);
    served = (struct srv_api_served){.gen_id = "smollm2",
                                     .gen = smollm,
                                     .chat_template = family,
                                     .n_ctx = 2048,
                                     .embed_id = "minilm",
                                     .embed = minilm,
                                     .embed_limit = 512};
}

static void free_models(void) {
    lm_model_free(smollm);
    lm_model_free(minilm);
    smollm = minilm = NULL;
}

/* Parse body as kind with sv; the job is returned (release it) and ok says how it went. */
static struct srv_job *parse_as(enum srv_kind kind, const char *body,
                                const struct srv_api_served *sv, struct srv_api_request *rq,
                                struct srv_api_error *e, bool *ok) {
    struct srv_job *j = srv_job_new(kind);
    ck_assert(j);
    memset(e, 0, sizeof *e);
    *ok = srv_api_parse(j, body, strlen(body), sv, rq, e);
    return j;
}

static void release(struct srv_job *j) {
    srv_job_release(j);
    srv_job_release(j); /* the worker's reference, never handed over here */
}

static struct srv_job *parse_ok(enum srv_kind kind, const char *body, struct srv_api_request *rq) {
    struct srv_api_error e;
    bool ok;
    struct srv_job *j = parse_as(kind, body, &served, rq, &e, &ok);
    ck_assert_msg(ok, "%s: %d %s (param %s)", body, e.status, e.message, e.param);
    return j;
}

static struct lm_tokens tokenize(const struct lm_model *m, const char *text, unsigned flags) {
    struct lm_tokens t = {0};
    ck_assert(lm_tokenize(lm_model_tokenizer(m), text, strlen(text), flags, &t) == LM_OK);
    return t;
}

static void assert_ids(const struct lm_tokens *got, const struct lm_tokens *want,
                       const char *what) {
    ck_assert_msg(got->n == want->n, "%s: %lld tokens, want %lld", what, (long long)got->n,
                  (long long)want->n);
    for (int64_t i = 0; i < got->n; i++)
        ck_assert_msg(got->ids[i] == want->ids[i], "%s: token %lld is %d, want %d", what,
                      (long long)i, got->ids[i], want->ids[i]);
}

/* The ids lm_chat_render + lm_tokenize(PARSE_SPECIAL) give for msgs. */
static struct lm_tokens chat_ids(const struct lm_chat_msg *msgs, int n, struct lm_text *text) {
    ck_assert(lm_chat_render(served.chat_template, msgs, n, true, lm_model_tokenizer(smollm),
                             text) == LM_OK);
    struct lm_tokens t = {0};
    ck_assert(lm_tokenize(lm_model_tokenizer(smollm), text->s, text->n, LM_TOK_PARSE_SPECIAL, &t) ==
              LM_OK);
    return t;
}

START_TEST(chat_request) {
    struct srv_api_request rq;
    struct srv_job *j = parse_ok(SRV_CHAT,
                                 "{\"model\":\"smollm2\",\"messages\":[{\"role\":\"system\","
                                 "\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":"
                                 "\"What is 2+2?\"}]}",
                                 &rq);
    struct lm_chat_msg msgs[] = {{"system", "Be brief."}, {"user", "What is 2+2?"}};
    struct lm_text text = {0};
    struct lm_tokens want = chat_ids(msgs, 2, &text);
    assert_ids(&j->prompt, &want, "chat prompt");
    ck_assert(strstr(text.s, "<|im_start|>user\nWhat is 2+2?<|im_end|>"));
    /* the specials were parsed: <|im_start|> is one token, and the ids decode to the text */
    struct lm_text back = {0};
    ck_assert(lm_detokenize(lm_model_tokenizer(smollm), j->prompt.ids, j->prompt.n, 0, &back) ==
              LM_OK);
    ck_assert_str_eq(back.s, text.s);
    ck_assert_int_lt(j->prompt.n, (int64_t)text.n / 2);
    /* OpenAI's defaults, llama.cpp's extras off */
    ck_assert_str_eq(rq.model, "smollm2");
    ck_assert(!rq.include_usage && !j->stream);
    ck_assert_int_eq(j->max_tokens, -1);
    ck_assert(j->sampling.temp == 1 && j->sampling.top_p == 1 && j->sampling.top_k == 0 &&
              j->sampling.min_p == 0 && j->sampling.repeat_penalty == 1 &&
              j->sampling.presence_penalty == 0 && j->sampling.frequency_penalty == 0);
    ck_assert_int_eq(j->sampling.penalty_last_n, -1);
    ck_assert(j->n_stop == 0 && j->sampling.n_bias == 0 && !j->bias);
    uint64_t seed1 = j->sampling.seed;
    release(j);
    /* no seed: each request gets its own */
    j = parse_ok(SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &rq);
    ck_assert_str_eq(rq.model, "smollm2"); /* no "model": the served one */
    ck_assert(j->sampling.seed != seed1);
    release(j);
    lm_tokens_free(&want);
    lm_text_free(&text);
    lm_text_free(&back);
}
END_TEST

START_TEST(chat_parts_and_roles) {
    struct srv_api_request rq;
    /* text parts join with "\n"; developer is system; an assistant turn may have no content */
    struct srv_job *j = parse_ok(
        SRV_CHAT,
        "{\"messages\":[{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"A\"},"
        "{\"type\":\"text\",\"text\":\"B\"}]},{\"role\":\"user\",\"content\":\"Q\",\"name\":"
        "\"x\"},{\"role\":\"assistant\",\"content\":null},{\"role\":\"user\",\"content\":"
        "[{\"type\":\"text\",\"text\":\"\\u00e9\\n\\\"\"}]}]}",
        &rq);
    struct lm_chat_msg msgs[] = {
        {"system", "A\nB"}, {"user", "Q"}, {"assistant", ""}, {"user", "\xc3\xa9\n\""}};
    struct lm_text text = {0};
    struct lm_tokens want = chat_ids(msgs, 4, &text);
    assert_ids(&j->prompt, &want, "chat parts");
    release(j);
    lm_tokens_free(&want);
    lm_text_free(&text);
}
END_TEST

START_TEST(chat_sampling_fields) {
    struct srv_api_request rq;
    struct srv_job *j = parse_ok(
        SRV_CHAT,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0.5,\"top_p\":"
        "0.9,\"top_k\":40,\"min_p\":0.1,\"repeat_penalty\":1.1,\"presence_penalty\":-1,"
        "\"frequency_penalty\":1.5,\"seed\":42,\"stop\":[\"a\",\"\",\"\\n\\n\"],\"logit_bias\":"
        "{\"15\":-100,\"49151\":5.5},\"max_tokens\":3,\"max_completion_tokens\":7,\"n\":1,"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"logprobs\":false,"
        "\"tools\":[],\"response_format\":{\"type\":\"text\"},\"user\":\"u\"}",
        &rq);
    const struct lm_sampler_params *p = &j->sampling;
    ck_assert(p->temp == 0.5f && p->top_p == 0.9f && p->top_k == 40 && p->min_p == 0.1f);
    ck_assert(p->repeat_penalty == 1.1f && p->presence_penalty == -1 &&
              p->frequency_penalty == 1.5f);
    ck_assert_uint_eq(p->seed, 42);
    ck_assert_int_eq(j->max_tokens, 7); /* max_completion_tokens wins */
    ck_assert(j->stream && rq.include_usage);
    ck_assert_int_eq(j->n_stop, 2); /* the empty one is dropped */
    ck_assert_str_eq(j->stop[0], "a");
    ck_assert_str_eq(j->stop[1], "\n\n");
    ck_assert_int_eq(p->n_bias, 2);
    ck_assert(p->bias == j->bias);
    ck_assert(j->bias[0].token == 15 && j->bias[0].bias == -INFINITY);
    ck_assert(j->bias[1].token == 49151 && j->bias[1].bias == 5.5f);
    /* the sampler takes what the parser made */
    struct lm_sampler *smp;
    ck_assert_msg(lm_sampler_create(p, lm_tokenizer_n_vocab(lm_model_tokenizer(smollm)), &smp) ==
                      LM_OK,
                  "%s", lm_last_error());
    lm_sampler_free(smp);
    release(j);
    /* a stop string, a negative seed, temperature 0 */
    j = parse_ok(SRV_CHAT,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":\"END\","
                 "\"seed\":-1,\"temperature\":0}",
                 &rq);
    ck_assert_int_eq(j->n_stop, 1);
    ck_assert_str_eq(j->stop[0], "END");
    ck_assert_uint_eq(j->sampling.seed, UINT64_MAX);
    ck_assert(j->sampling.temp == 0);
    release(j);
}
END_TEST

START_TEST(completion_prompt_forms) {
    struct srv_api_request rq;
    const char *text = "The capital of France is";
    struct lm_tokens want = tokenize(smollm, text, LM_TOK_ADD_SPECIAL);
    char ids[512] = "", body[1024];
    for (int64_t i = 0; i < want.n; i++)
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%d", i ? "," : "", want.ids[i]);
    const char *forms[] = {"\"%s\"", "[\"%s\"]", "[%s]", "[[%s]]"};
    for (int f = 0; f < 4; f++) {
        char prompt[600];
        snprintf(prompt, sizeof prompt, forms[f], f < 2 ? text : ids);
        snprintf(body, sizeof body, "{\"model\":\"smollm2\",\"prompt\":%s}", prompt);
        struct srv_job *j = parse_ok(SRV_COMPLETION, body, &rq);
        assert_ids(&j->prompt, &want, body);
        ck_assert_int_eq(j->max_tokens, 16); /* OpenAI's default for completions */
        release(j);
    }
    lm_tokens_free(&want);
}
END_TEST

START_TEST(embedding_inputs) {
    struct srv_api_request rq;
    struct srv_job *j = parse_ok(SRV_EMBEDDING, "{\"input\":\"hello world\"}", &rq);
    struct lm_tokens want = tokenize(minilm, "hello world", LM_TOK_ADD_SPECIAL);
    ck_assert_str_eq(rq.model, "minilm");
    ck_assert(j->from_text && !rq.base64);
    ck_assert_int_eq(j->n_inputs, 1);
    assert_ids(&j->inputs[0], &want, "one text");
    ck_assert_int_eq(want.ids[0], lm_tokenizer_special(lm_model_tokenizer(minilm), LM_TOK_CLS));
    release(j);
    lm_tokens_free(&want);

    j = parse_ok(SRV_EMBEDDING,
                 "{\"model\":\"minilm\",\"input\":[\"a cat\",\"a dog\",\"x\"],"
                 "\"encoding_format\":\"base64\",\"dimensions\":384}",
                 &rq);
    ck_assert(rq.base64 && j->from_text);
    ck_assert_int_eq(j->n_inputs, 3);
    const char *texts[] = {"a cat", "a dog", "x"};
    for (int i = 0; i < 3; i++) {
        want = tokenize(minilm, texts[i], LM_TOK_ADD_SPECIAL);
        assert_ids(&j->inputs[i], &want, texts[i]);
        lm_tokens_free(&want);
    }
    release(j);

    j = parse_ok(SRV_EMBEDDING, "{\"input\":[101,7592,102]}", &rq);
    ck_assert(!j->from_text);
    ck_assert_int_eq(j->n_inputs, 1);
    ck_assert(j->inputs[0].n == 3 && j->inputs[0].ids[1] == 7592);
    release(j);
    j = parse_ok(SRV_EMBEDDING, "{\"input\":[[7592],[1,2,3]],\"encoding_format\":\"float\"}", &rq);
    ck_assert(!j->from_text && !rq.base64);
    ck_assert(j->n_inputs == 2 && j->inputs[0].n == 1 && j->inputs[1].n == 3);
    ck_assert_int_eq(j->inputs[1].ids[2], 3);
    release(j);
}
END_TEST

struct bad {
    enum srv_kind kind;
    const char *body;
    int status;
    const char *param; /* "" = null */
    const char *words; /* in the message */
};

#define MSG "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
static const struct bad bads[] = {
    /* the body */
    {SRV_CHAT, "", 400, "", "not valid JSON"},
    {SRV_CHAT, "{\"messages\":", 400, "", "not valid JSON"},
    {SRV_CHAT, "{" MSG "} x", 400, "", "after its JSON value"},
    {SRV_CHAT, "[1]", 400, "", "JSON object"},
    {SRV_CHAT, "\"x\"", 400, "", "JSON object"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", 400, "", "UTF-8"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc0\x80\"}]}", 400, "", "UTF-8"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xed\xa0\x80\"}]}", 400, "",
     "UTF-8"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xe2\x82\"}]}", 400, "", "UTF-8"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}", 400, "",
     "\\u0000"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800\"}]}", 400, "",
     "not valid JSON"},
    /* the model */
    {SRV_CHAT, "{\"model\":\"gpt-4\"," MSG "}", 404, "model", "'gpt-4' does not exist"},
    {SRV_CHAT, "{\"model\":\"minilm\"," MSG "}", 404, "model", "not a text generation model"},
    {SRV_CHAT, "{\"model\":5," MSG "}", 400, "model", "'model' must be a string"},
    {SRV_EMBEDDING, "{\"model\":\"smollm2\",\"input\":\"x\"}", 404, "model",
     "not an embedding model"},
    /* sampling */
    {SRV_CHAT, "{" MSG ",\"temperature\":\"hot\"}", 400, "temperature",
     "'temperature' must be a number between 0 and 2"},
    {SRV_CHAT, "{" MSG ",\"temperature\":2.5}", 400, "temperature", "between 0 and 2"},
    {SRV_CHAT, "{" MSG ",\"temperature\":-0.1}", 400, "temperature", "between 0 and 2"},
    {SRV_CHAT, "{" MSG ",\"temperature\":true}", 400, "temperature", "a number"},
    {SRV_CHAT, "{" MSG ",\"top_p\":1.5}", 400, "top_p", "between 0 and 1"},
    {SRV_CHAT, "{" MSG ",\"top_k\":1.5}", 400, "top_k", "an integer"},
    {SRV_CHAT, "{" MSG ",\"top_k\":-1}", 400, "top_k", "an integer"},
    {SRV_CHAT, "{" MSG ",\"min_p\":2}", 400, "min_p", "between 0 and 1"},
    {SRV_CHAT, "{" MSG ",\"repeat_penalty\":0}", 400, "repeat_penalty", "a number"},
    {SRV_CHAT, "{" MSG ",\"presence_penalty\":3}", 400, "presence_penalty", "between -2 and 2"},
    {SRV_CHAT, "{" MSG ",\"frequency_penalty\":-2.5}", 400, "frequency_penalty",
     "between -2 and 2"},
    {SRV_CHAT, "{" MSG ",\"n\":2}", 400, "n", "'n' must be 1"},
    {SRV_CHAT, "{" MSG ",\"n\":0}", 400, "n", "an integer"},
    {SRV_CHAT, "{" MSG ",\"seed\":1.5}", 400, "seed", "an integer"},
    {SRV_CHAT, "{" MSG ",\"seed\":\"7\"}", 400, "seed", "an integer"},
    {SRV_CHAT, "{" MSG ",\"seed\":1e30}", 400, "seed", "an integer"},
    {SRV_CHAT, "{" MSG ",\"max_tokens\":0}", 400, "max_tokens", "between 1 and"},
    {SRV_CHAT, "{" MSG ",\"max_tokens\":2.5}", 400, "max_tokens", "an integer"},
    {SRV_CHAT, "{" MSG ",\"max_tokens\":3e9}", 400, "max_tokens", "an integer"},
    {SRV_CHAT, "{" MSG ",\"max_completion_tokens\":-1}", 400, "max_completion_tokens",
     "an integer"},
    {SRV_CHAT, "{" MSG ",\"stream\":\"yes\"}", 400, "stream", "a boolean"},
    {SRV_CHAT, "{" MSG ",\"stream_options\":{\"include_usage\":true}}", 400, "stream_options",
     "only allowed when 'stream' is true"},
    {SRV_CHAT, "{" MSG ",\"stream\":true,\"stream_options\":5}", 400, "stream_options",
     "an object"},
    {SRV_CHAT, "{" MSG ",\"stream\":true,\"stream_options\":{\"include_usage\":1}}", 400,
     "stream_options.include_usage", "a boolean"},
    {SRV_CHAT, "{" MSG ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", 400, "stop",
     "up to 4 strings"},
    {SRV_CHAT, "{" MSG ",\"stop\":[1]}", 400, "stop", "'stop[0]' must be a string"},
    {SRV_CHAT, "{" MSG ",\"stop\":3}", 400, "stop", "a string or an array"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":[]}", 400, "logit_bias", "an object"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":{\"abc\":1}}", 400, "logit_bias",
     "'abc' is not a token id"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":{\"-1\":1}}", 400, "logit_bias", "not a token id"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":{\"49152\":1}}", 400, "logit_bias", "(0..49151)"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":{\"99999999999\":1}}", 400, "logit_bias", "not a token id"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":{\"5\":101}}", 400, "logit_bias", "between -100 and 100"},
    {SRV_CHAT, "{" MSG ",\"logit_bias\":{\"5\":\"x\"}}", 400, "logit_bias", "token 5"},
    {SRV_CHAT, "{" MSG ",\"logprobs\":true}", 400, "logprobs", "not supported"},
    {SRV_CHAT, "{" MSG ",\"top_logprobs\":2}", 400, "top_logprobs", "not supported"},
    {SRV_CHAT, "{" MSG ",\"tools\":[{\"type\":\"function\"}]}", 400, "tools", "not supported"},
    {SRV_CHAT, "{" MSG ",\"response_format\":{\"type\":\"json_object\"}}", 400, "response_format",
     "structured output"},
    /* messages */
    {SRV_CHAT, "{}", 400, "messages", "'messages' is required"},
    {SRV_CHAT, "{\"messages\":[]}", 400, "messages", "non-empty array"},
    {SRV_CHAT, "{\"messages\":\"hi\"}", 400, "messages", "non-empty array"},
    {SRV_CHAT, "{\"messages\":[1]}", 400, "messages[0]", "'messages[0]' must be an object"},
    {SRV_CHAT, "{\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0]",
     "'messages[0].role' must be a string"},
    {SRV_CHAT,
     "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"tool\","
     "\"content\":\"x\"}]}",
     400, "messages[1]", "'tool' is not supported"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\"}]}", 400, "messages[0]",
     "'messages[0].content' is required"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400, "messages[0].content",
     "a string or an array of text parts"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", 400,
     "messages[0].content", "only text parts"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}", 400,
     "messages[0].content", "'messages[0].content[0].text' must be a string"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[5]}]}", 400, "messages[0].content",
     "string 'type'"},
    {SRV_CHAT, "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":[{}]}]}",
     400, "messages[0]", "'tool_calls' is not supported"},
    /* completions */
    {SRV_COMPLETION, "{}", 400, "prompt", "'prompt' is required"},
    {SRV_COMPLETION, "{\"prompt\":5}", 400, "prompt", "must be a string"},
    {SRV_COMPLETION, "{\"prompt\":[\"a\",\"b\"]}", 400, "prompt", "holds 2 prompts"},
    {SRV_COMPLETION, "{\"prompt\":[1,-1]}", 400, "prompt", "'prompt[1]' must be a token id"},
    {SRV_COMPLETION, "{\"prompt\":[1,49152]}", 400, "prompt", "(0..49151)"},
    {SRV_COMPLETION, "{\"prompt\":[1,\"a\"]}", 400, "prompt", "'prompt[1]'"},
    {SRV_COMPLETION, "{\"prompt\":[]}", 400, "prompt", "'prompt' is an empty array"},
    {SRV_COMPLETION, "{\"prompt\":[[]]}", 400, "prompt", "empty array"},
    {SRV_COMPLETION, "{\"prompt\":\"\"}", 400, "prompt", "empty prompt"},
    {SRV_COMPLETION, "{\"prompt\":\"a\",\"echo\":true}", 400, "echo", "not supported"},
    {SRV_COMPLETION, "{\"prompt\":\"a\",\"suffix\":\"b\"}", 400, "suffix", "not supported"},
    {SRV_COMPLETION, "{\"prompt\":\"a\",\"best_of\":2}", 400, "best_of", "must be 1"},
    {SRV_COMPLETION, "{\"prompt\":\"a\",\"logprobs\":2}", 400, "logprobs", "not supported"},
    /* embeddings */
    {SRV_EMBEDDING, "{}", 400, "input", "'input' is required"},
    {SRV_EMBEDDING, "{\"input\":\"\"}", 400, "input", "empty string"},
    {SRV_EMBEDDING, "{\"input\":[\"a\",\"\"]}", 400, "input", "'input[1]' must not be an empty"},
    {SRV_EMBEDDING, "{\"input\":[]}", 400, "input", "empty array"},
    {SRV_EMBEDDING, "{\"input\":5}", 400, "input", "must be a string"},
    {SRV_EMBEDDING, "{\"input\":[\"a\",1]}", 400, "input", "'input[1]' must be a string"},
    {SRV_EMBEDDING, "{\"input\":[[1],\"a\"]}", 400, "input", "'input[1]' must be a token id"},
    {SRV_EMBEDDING, "{\"input\":[1,\"a\"]}", 400, "input", "'input[1]' must be a token id"},
    {SRV_EMBEDDING, "{\"input\":[[]]}", 400, "input", "'input[0]' is an empty array"},
    {SRV_EMBEDDING, "{\"input\":[[30522]]}", 400, "input", "(0..30521)"},
    {SRV_EMBEDDING, "{\"input\":\"a\",\"encoding_format\":\"hex\"}", 400, "encoding_format",
     "\"float\" or \"base64\""},
    {SRV_EMBEDDING, "{\"input\":\"a\",\"dimensions\":10}", 400, "dimensions", "embeddings of 384"},
};

START_TEST(bad_requests) {
    const struct bad *b = &bads[_i];
    struct srv_api_request rq;
    struct srv_api_error e;
    bool ok;
    struct srv_job *j = parse_as(b->kind, b->body, &served, &rq, &e, &ok);
    ck_assert_msg(!ok, "%s: accepted", b->body);
    ck_assert_msg(e.status == b->status, "%s: status %d, want %d (%s)", b->body, e.status,
                  b->status, e.message);
    ck_assert_msg(!strcmp(e.param, b->param), "%s: param '%s', want '%s' (%s)", b->body, e.param,
                  b->param, e.message);
    ck_assert_msg(strstr(e.message, b->words), "%s: message '%s' lacks '%s'", b->body, e.message,
                  b->words);
    ck_assert_str_eq(e.type, b->status == 404 ? "not_found_error" : "invalid_request_error");
    release(j);
}
END_TEST

/* The context and the embedding limit, at their boundaries; what is not served. */
START_TEST(limits) {
    struct srv_api_request rq;
    struct srv_api_error e;
    bool ok;
    struct srv_api_served sv = served;
    sv.n_ctx = 5;
    struct srv_job *j = parse_as(SRV_COMPLETION, "{\"prompt\":[1,2,3,4]}", &sv, &rq, &e, &ok);
    ck_assert_msg(ok, "%s", e.message); /* 4 prompt tokens + 1 generated = 5 */
    release(j);
    j = parse_as(SRV_COMPLETION, "{\"prompt\":[1,2,3,4,5]}", &sv, &rq, &e, &ok);
    ck_assert(!ok && e.status == 400);
    ck_assert_str_eq(e.code, "context_length_exceeded");
    ck_assert_str_eq(e.param, "prompt");
    ck_assert_msg(strstr(e.message, "5 tokens") && strstr(e.message, "holds 5 tokens"), "%s",
                  e.message);
    release(j);
    j = parse_as(SRV_CHAT, "{" MSG "}", &sv, &rq, &e, &ok); /* the template's tokens count */
    ck_assert(!ok && e.status == 400 && !strcmp(e.param, "messages"));
    ck_assert_str_eq(e.code, "context_length_exceeded");
    release(j);

    sv.embed_limit = 3;
    j = parse_as(SRV_EMBEDDING, "{\"input\":[[1,2,3],[4,5,6]]}", &sv, &rq, &e, &ok);
    ck_assert_msg(ok, "%s", e.message);
    release(j);
    j = parse_as(SRV_EMBEDDING, "{\"input\":[[1,2,3],[4,5,6,7]]}", &sv, &rq, &e, &ok);
    ck_assert(!ok && e.status == 400 && !strcmp(e.param, "input"));
    ck_assert_msg(strstr(e.message, "'input[1]' has 4 tokens") && strstr(e.message, "at most 3"),
                  "%s", e.message);
    release(j);
    /* texts are truncated by the worker, not refused */
    j = parse_as(SRV_EMBEDDING, "{\"input\":\"one two three four five\"}", &sv, &rq, &e, &ok);
    ck_assert(ok && j->from_text && j->inputs[0].n > 3);
    release(j);

    /* 2048 inputs are taken, 2049 are not */
    size_t cap = 2049 * 4 + 64;
    char *body = malloc(cap);
    for (int n = 2048; n <= 2049; n++) {
        strcpy(body, "{\"input\":[");
        for (int i = 0; i < n; i++)
            strcat(body, i ? ",\"a\"" : "\"a\"");
        strcat(body, "]}");
        j = parse_as(SRV_EMBEDDING, body, &served, &rq, &e, &ok);
        ck_assert_msg(ok == (n == 2048), "%d inputs: %s", n, e.message);
        if (!ok) ck_assert(strstr(e.message, "at most 2048"));
        release(j);
    }
    free(body);

    /* what is not served */
    sv = served;
    sv.chat_template = NULL;
    j = parse_as(SRV_CHAT, "{" MSG "}", &sv, &rq, &e, &ok);
    ck_assert(!ok && e.status == 400 && strstr(e.message, "no chat template"));
    release(j);
    sv.gen_id = NULL, sv.gen = NULL;
    j = parse_as(SRV_COMPLETION, "{\"prompt\":\"x\"}", &sv, &rq, &e, &ok);
    ck_assert(!ok && e.status == 404 && strstr(e.message, "serves no text generation model"));
    release(j);
    j = parse_as(SRV_COMPLETION, "{\"model\":\"smollm2\",\"prompt\":\"x\"}", &sv, &rq, &e, &ok);
    ck_assert(!ok && e.status == 404 && strstr(e.message, "serves 'minilm'"));
    release(j);
}
END_TEST

/* ---- responses ------------------------------------------------------------------------- */

static cJSON *parse_json(const char *s, size_t n) {
    const char *end;
    cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, false);
    ck_assert_msg(v, "not JSON: %.*s", (int)n, s);
    ck_assert_msg(end == s + n, "bytes after the JSON: %s", end);
    return v;
}

static const cJSON *get(const cJSON *o, const char *path) {
    const cJSON *v = o;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok(buf, "."); k; k = strtok(NULL, "."))
        v = k[0] >= '0' && k[0] <= '9' ? cJSON_GetArrayItem(v, atoi(k))
                                       : cJSON_GetObjectItemCaseSensitive(v, k);
    ck_assert_msg(v, "no %s", path);
    return v;
}

static void expect_str(const cJSON *o, const char *path, const char *want) {
    const cJSON *v = get(o, path);
    ck_assert_msg(cJSON_IsString(v), "%s is not a string", path);
    ck_assert_msg(!strcmp(v->valuestring, want), "%s is '%s', want '%s'", path, v->valuestring,
                  want);
}

static void expect_num(const cJSON *o, const char *path, double want) {
    const cJSON *v = get(o, path);
    ck_assert_msg(cJSON_IsNumber(v) && v->valuedouble == want, "%s is not %g", path, want);
}

static void expect_null(const cJSON *o, const char *path) {
    ck_assert_msg(cJSON_IsNull(get(o, path)), "%s is not null", path);
}

static const struct srv_api_meta chat_meta = {SRV_CHAT, "chatcmpl-1", 1700000000, "smollm2", false};

START_TEST(completion_bodies) {
    struct lm_text out = {0};
    /* quotes, backslash, controls, non-ASCII, an invalid byte, a cut character */
    const char text[] = "a\"b\\c\n\t\x01 \xc3\xa9 \xff \xe2\x82";
    ck_assert(srv_api_completion_json(&chat_meta, text, sizeof text - 1, SRV_STOP, 12, 3, &out) ==
              LM_OK);
    cJSON *v = parse_json(out.s, out.n);
    expect_str(v, "id", "chatcmpl-1");
    expect_str(v, "object", "chat.completion");
    expect_num(v, "created", 1700000000);
    expect_str(v, "model", "smollm2");
    ck_assert_int_eq(cJSON_GetArraySize(get(v, "choices")), 1);
    expect_num(v, "choices.0.index", 0);
    expect_str(v, "choices.0.message.role", "assistant");
    expect_str(v, "choices.0.message.content",
               "a\"b\\c\n\t\x01 \xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
    expect_null(v, "choices.0.logprobs");
    expect_str(v, "choices.0.finish_reason", "stop");
    expect_num(v, "usage.prompt_tokens", 12);
    expect_num(v, "usage.completion_tokens", 3);
    expect_num(v, "usage.total_tokens", 15);
    cJSON_Delete(v);

    struct srv_api_meta m = {SRV_COMPLETION, "cmpl-9", 5, "smollm2", false};
    out.n = 0;
    ck_assert(srv_api_completion_json(&m, "xyz", 3, SRV_LENGTH, 4, 16, &out) == LM_OK);
    v = parse_json(out.s, out.n);
    expect_str(v, "object", "text_completion");
    expect_str(v, "choices.0.text", "xyz");
    expect_str(v, "choices.0.finish_reason", "length");
    expect_num(v, "usage.total_tokens", 20);
    cJSON_Delete(v);
    lm_text_free(&out);
}
END_TEST

/* One "data: {json}\n\n" event at s; returns its JSON and moves *s past it. */
static cJSON *next_event(const char **s) {
    ck_assert_msg(!strncmp(*s, "data: ", 6), "event does not start with 'data: ': %s", *s);
    const char *end = strstr(*s, "\n\n");
    ck_assert(end);
    cJSON *v = parse_json(*s + 6, (size_t)(end - *s - 6));
    *s = end + 2;
    return v;
}

START_TEST(stream_events) {
    for (int usage = 0; usage < 2; usage++) {
        struct srv_api_meta m = chat_meta;
        m.include_usage = usage;
        struct lm_text out = {0};
        ck_assert(srv_api_sse_role(&m, &out) == LM_OK);
        ck_assert(srv_api_sse_text(&m, "Hel", 3, &out) == LM_OK);
        ck_assert(srv_api_sse_text(&m, "lo\n", 3, &out) == LM_OK);
        ck_assert(srv_api_sse_finish(&m, SRV_LENGTH, &out) == LM_OK);
        if (usage) ck_assert(srv_api_sse_usage(&m, 7, 2, &out) == LM_OK);
        ck_assert(srv_api_sse_done(&out) == LM_OK);
        const char *s = out.s;
        cJSON *v = next_event(&s);
        expect_str(v, "object", "chat.completion.chunk");
        expect_str(v, "id", "chatcmpl-1");
        expect_str(v, "choices.0.delta.role", "assistant");
        expect_str(v, "choices.0.delta.content", "");
        expect_null(v, "choices.0.finish_reason");
        if (usage)
            expect_null(v, "usage");
        else
            ck_assert(!cJSON_GetObjectItem(v, "usage"));
        cJSON_Delete(v);
        const char *parts[] = {"Hel", "lo\n"};
        for (int i = 0; i < 2; i++) {
            v = next_event(&s);
            expect_str(v, "choices.0.delta.content", parts[i]);
            ck_assert(!cJSON_GetObjectItem(get(v, "choices.0.delta"), "role"));
            expect_null(v, "choices.0.finish_reason");
            cJSON_Delete(v);
        }
        v = next_event(&s);
        ck_assert_int_eq(cJSON_GetArraySize(get(v, "choices.0.delta")), 0);
        expect_str(v, "choices.0.finish_reason", "length");
        cJSON_Delete(v);
        if (usage) {
            v = next_event(&s);
            ck_assert(cJSON_IsArray(get(v, "choices")) && !cJSON_GetArraySize(get(v, "choices")));
            expect_num(v, "usage.prompt_tokens", 7);
            expect_num(v, "usage.completion_tokens", 2);
            expect_num(v, "usage.total_tokens", 9);
            cJSON_Delete(v);
        }
        ck_assert_str_eq(s, "data: [DONE]\n\n");
        lm_text_free(&out);
    }
    /* completions stream: text chunks and a final one with empty text */
    struct srv_api_meta m = {SRV_COMPLETION, "cmpl-2", 1, "smollm2", false};
    struct lm_text out = {0};
    ck_assert(srv_api_sse_text(&m, "ab", 2, &out) == LM_OK);
    ck_assert(srv_api_sse_finish(&m, SRV_STOP, &out) == LM_OK);
    const char *s = out.s;
    cJSON *v = next_event(&s);
    expect_str(v, "object", "text_completion");
    expect_str(v, "choices.0.text", "ab");
    expect_null(v, "choices.0.finish_reason");
    cJSON_Delete(v);
    v = next_event(&s);
    expect_str(v, "choices.0.text", "");
    expect_str(v, "choices.0.finish_reason", "stop");
    cJSON_Delete(v);
    ck_assert_str_eq(s, "");
    lm_text_free(&out);
}
END_TEST

START_TEST(error_bodies) {
    struct srv_api_error e;
    srv_api_fail(&e, 400, "invalid_request_error", NULL, "temperature", "'%s' \"bad\"",
                 "temperature");
    struct lm_text out = {0};
    ck_assert(srv_api_error_json(&e, &out) == LM_OK);
    cJSON *v = parse_json(out.s, out.n);
    expect_str(v, "error.message", "'temperature' \"bad\"");
    expect_str(v, "error.type", "invalid_request_error");
    expect_str(v, "error.param", "temperature");
    expect_null(v, "error.code");
    cJSON_Delete(v);
    srv_api_fail(&e, 404, "not_found_error", "model_not_found", NULL, "no");
    out.n = 0;
    ck_assert(srv_api_sse_error(&e, &out) == LM_OK);
    const char *s = out.s;
    v = next_event(&s);
    expect_null(v, "error.param");
    expect_str(v, "error.code", "model_not_found");
    cJSON_Delete(v);
    ck_assert_str_eq(s, "");
    lm_text_free(&out);
}
END_TEST

static int b64_value(char c) {
    const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(abc, c);
    return c && p ? (int)(p - abc) : -1;
}

/* Decode base64 s into out (cap bytes); returns the byte count. */
static size_t b64_decode(const char *s, unsigned char *out, size_t cap) {
    size_t n = strlen(s), k = 0;
    ck_assert_int_eq(n % 4, 0);
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            int d = s[i + j] == '=' ? (pad++, 0) : b64_value(s[i + j]);
            ck_assert(d >= 0);
            v = v << 6 | (uint32_t)d;
        }
        for (int j = 0; j < 3 - pad; j++) {
            ck_assert(k < cap);
            out[k++] = (unsigned char)(v >> (16 - 8 * j));
        }
    }
    return k;
}

START_TEST(base64_vectors) {
    /* RFC 4648 section 10 */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        struct lm_text out = {0};
        ck_assert(srv_api_base64(in[i], strlen(in[i]), &out) == LM_OK);
        ck_assert_str_eq(out.s ? out.s : "", want[i]);
        lm_text_free(&out);
    }
}
END_TEST

START_TEST(embedding_bodies) {
    enum { N = 3, D = 7 };
    float e[N * D];
    struct tu_rng r = tu_rng(5);
    tu_fill(e, N * D, &r, -1, 1);
    e[3] = 1e-30f, e[4] = -0.0f, e[5] = 3.4e38f;
    for (int b64 = 0; b64 < 2; b64++) {
        struct lm_text out = {0};
        ck_assert(srv_api_embeddings_json("minilm", e, N, D, b64, 21, &out) == LM_OK);
        cJSON *v = parse_json(out.s, out.n);
        expect_str(v, "object", "list");
        expect_str(v, "model", "minilm");
        expect_num(v, "usage.prompt_tokens", 21);
        expect_num(v, "usage.total_tokens", 21);
        ck_assert_int_eq(cJSON_GetArraySize(get(v, "data")), N);
        for (int i = 0; i < N; i++) {
            char path[64];
            snprintf(path, sizeof path, "data.%d", i);
            const cJSON *d = get(v, path);
            expect_str(d, "object", "embedding");
            expect_num(d, "index", i);
            float got[D];
            const cJSON *emb = get(d, "embedding");
            if (b64) {
                unsigned char bytes[4 * D + 4];
                ck_assert(cJSON_IsString(emb));
                ck_assert_int_eq(b64_decode(emb->valuestring, bytes, sizeof bytes), 4 * D);
                for (int k = 0; k < D; k++) { /* little-endian float32 */
                    uint32_t u = 0;
                    for (int j = 0; j < 4; j++)
                        u |= (uint32_t)bytes[4 * k + j] << (8 * j);
                    memcpy(&got[k], &u, 4);
                }
            } else {
                ck_assert_int_eq(cJSON_GetArraySize(emb), D);
                for (int k = 0; k < D; k++)
                    got[k] = (float)cJSON_GetArrayItem(emb, k)->valuedouble;
            }
            tu_assert_equal_f32(b64 ? "base64" : "float", got, e + i * D, D);
        }
        cJSON_Delete(v);
        lm_text_free(&out);
    }
    e[9] = NAN;
    struct lm_text out = {0};
    lm_clear_error();
    ck_assert(srv_api_embeddings_json("minilm", e, N, D, false, 1, &out) == LM_ERANGE);
    ck_assert(strstr(lm_last_error(), "embedding 1") && strstr(lm_last_error(), "at 2"));
    ck_assert_int_eq(out.n, 0);
    lm_text_free(&out);
}
END_TEST

START_TEST(model_bodies) {
    const struct srv_api_served served = {.gen_id = "smollm2", .embed_id = "minilm"};
    struct lm_text out = {0};
    ck_assert(srv_api_models_json(&served, NULL, 99, &out) == LM_OK);
    cJSON *v = parse_json(out.s, out.n);
    expect_str(v, "object", "list");
    ck_assert_int_eq(cJSON_GetArraySize(get(v, "data")), 2);
    expect_str(v, "data.0.id", "smollm2");
    expect_str(v, "data.0.object", "model");
    expect_num(v, "data.0.created", 99);
    expect_str(v, "data.0.owned_by", "lmrt");
    expect_str(v, "data.1.id", "minilm");
    cJSON_Delete(v);
    out.n = 0;
    ck_assert(srv_api_models_json(&served, "minilm", 99, &out) == LM_OK);
    v = parse_json(out.s, out.n);
    expect_str(v, "id", "minilm");
    cJSON_Delete(v);
    out.n = 0;
    ck_assert(srv_api_models_json(&served, "nope", 99, &out) == LM_ENOTFOUND);
    ck_assert_int_eq(out.n, 0);
    struct srv_api_served one = served;
    one.gen_id = NULL;
    ck_assert(srv_api_models_json(&one, NULL, 1, &out) == LM_OK);
    v = parse_json(out.s, out.n);
    ck_assert_int_eq(cJSON_GetArraySize(get(v, "data")), 1);
    expect_str(v, "data.0.id", "minilm");
    cJSON_Delete(v);
    lm_text_free(&out);
}
END_TEST

START_TEST(utf8_checks) {
    struct {
        const char *s;
        size_t valid, complete;
    } cases[] = {
        {"abc", 3, 3},
        {"a\xc3\xa9", 3, 3},
        {"a\xc3", 1, 1},            /* cut after the lead byte */
        {"a\xe2\x82", 1, 1},        /* cut 3-byte character */
        {"a\xf0\x9f\x98", 1, 1},    /* cut 4-byte character */
        {"\xf0\x9f\x98\x80", 4, 4}, /* U+1F600 */
        {"a\xff", 1, 2},            /* invalid, not pending */
        {"\xc0\x80", 0, 2},         /* overlong NUL */
        {"\xe0\x80\x80", 0, 3},     /* overlong */
        {"\xed\xa0\x80", 0, 3},     /* surrogate */
        {"\xf4\x90\x80\x80", 0, 4}, /* past U+10FFFF */
        {"\x80", 0, 1},             /* lone continuation */
        {"ab\xe2\x82\xac", 5, 5},   /* euro sign */
        {"\xe2\x82\xac\xe2", 3, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].s);
        ck_assert_msg(srv_api_utf8_valid(cases[i].s, n) == cases[i].valid, "valid case %zu", i);
        ck_assert_msg(srv_api_utf8_complete(cases[i].s, n) == cases[i].complete,
                      "complete case %zu: %zu", i, srv_api_utf8_complete(cases[i].s, n));
    }
}
END_TEST

/* The value of the sample line that starts with name (labels included) in text. */
static double sample(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, name, n) && l[n] == ' ') return strtod(l + n + 1, NULL);
    ck_abort_msg("no sample %s in:\n%s", name, text);
    return 0;
}

START_TEST(metrics_text) {
    struct srv_metrics *m = srv_metrics_create();
    ck_assert(m);
    srv_metrics_request(m, SRV_ROUTE_CHAT, 200);
    srv_metrics_request(m, SRV_ROUTE_CHAT, 200);
    srv_metrics_request(m, SRV_ROUTE_CHAT, 400);
    srv_metrics_request(m, SRV_ROUTE_OTHER, 404);
    srv_metrics_request(m, SRV_ROUTE_HEALTH, 42); /* not an HTTP status: not counted */
    srv_metrics_tokens(m, 10, 3);
    srv_metrics_tokens(m, 5, 0);
    const double ttft[] = {0.004, 0.05, 0.3, 0.3, 100, -1, NAN, INFINITY};
    for (int i = 0; i < 8; i++)
        srv_metrics_ttft(m, ttft[i]);
    srv_metrics_token_latency(m, 0.02);
    srv_metrics_gen_state(m, 3, 2, 8, 300, 1200);
    srv_metrics_embed_queue(m, 1);
    struct lm_text t = {0};
    ck_assert(srv_metrics_render(m, &t) == LM_OK);
    const char *s = t.s;
    ck_assert_double_eq(
        sample(s, "lmrt_requests_total{route=\"/v1/chat/completions\",status=\"200\"}"), 2);
    ck_assert_double_eq(
        sample(s, "lmrt_requests_total{route=\"/v1/chat/completions\",status=\"400\"}"), 1);
    ck_assert_double_eq(sample(s, "lmrt_requests_total{route=\"other\",status=\"404\"}"), 1);
    ck_assert(!strstr(s, "route=\"/health\""));
    ck_assert_double_eq(sample(s, "lmrt_prompt_tokens_total"), 15);
    ck_assert_double_eq(sample(s, "lmrt_generated_tokens_total"), 3);
    /* buckets are cumulative; the negative and non-finite observations were dropped */
    const char *h = "lmrt_time_to_first_token_seconds";
    char name[128];
    const struct {
        const char *le;
        double n;
    } b[] = {{"0.005", 1}, {"0.01", 1}, {"0.05", 2}, {"0.25", 2},
             {"0.5", 4},   {"60", 4},   {"+Inf", 5}};
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "%s_bucket{le=\"%s\"}", h, b[i].le);
        ck_assert_msg(sample(s, name) == b[i].n, "%s is %g, want %g", name, sample(s, name),
                      b[i].n);
    }
    snprintf(name, sizeof name, "%s_count", h);
    ck_assert_double_eq(sample(s, name), 5);
    snprintf(name, sizeof name, "%s_sum", h);
    ck_assert_double_eq_tol(sample(s, name), 100.654, 1e-9);
    ck_assert_double_eq(sample(s, "lmrt_time_per_output_token_seconds_bucket{le=\"0.015\"}"), 0);
    ck_assert_double_eq(sample(s, "lmrt_time_per_output_token_seconds_bucket{le=\"0.02\"}"), 1);
    ck_assert_double_eq(sample(s, "lmrt_queue_depth{worker=\"gen\"}"), 3);
    ck_assert_double_eq(sample(s, "lmrt_queue_depth{worker=\"embed\"}"), 1);
    ck_assert_double_eq(sample(s, "lmrt_slots_busy"), 2);
    ck_assert_double_eq(sample(s, "lmrt_slots_total"), 8);
    ck_assert_double_eq(sample(s, "lmrt_kv_cache_used_ratio"), 0.25);
    ck_assert_double_eq(sample(s, "lmrt_kv_cache_tokens_used"), 300);
    /* every family has HELP and TYPE, every line ends with a newline */
    const char *fam[] = {"lmrt_requests_total counter",
                         "lmrt_time_to_first_token_seconds histogram", "lmrt_slots_busy gauge",
                         "lmrt_kv_cache_used_ratio gauge"};
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "# TYPE %s\n", fam[i]);
        ck_assert_msg(strstr(s, name), "no '%s'", name);
    }
    ck_assert(strstr(s, "# HELP lmrt_queue_depth "));
    ck_assert(t.n > 0 && s[t.n - 1] == '\n');
    lm_text_free(&t);
    srv_metrics_free(m);
    ck_assert_str_eq(srv_route_name(SRV_ROUTE_EMBEDDINGS), "/v1/embeddings");
}
END_TEST

int main(void) {
    Suite *s = suite_create("serve_api");
    TCase *tc = tcase_create("smollm2+minilm");
    tcase_add_unchecked_fixture(tc, load_models, free_models);
    tcase_add_test(tc, chat_request);
    tcase_add_test(tc, chat_parts_and_roles);
    tcase_add_test(tc, chat_sampling_fields);
    tcase_add_test(tc, completion_prompt_forms);
    tcase_add_test(tc, embedding_inputs);
    tcase_add_loop_test(tc, bad_requests, 0, (int)(sizeof bads / sizeof bads[0]));
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    TCase *out = tcase_create("responses");
    tcase_add_test(out, completion_bodies);
    tcase_add_test(out, stream_events);
    tcase_add_test(out, error_bodies);
    tcase_add_test(out, base64_vectors);
    tcase_add_test(out, embedding_bodies);
    tcase_add_test(out, model_bodies);
    tcase_add_test(out, utf8_checks);
    tcase_add_test(out, metrics_text);
    suite_add_tcase(s, out);
    return tu_run(s);
}
