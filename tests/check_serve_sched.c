/* tests/check_serve_sched.c - the workers of `lmrt serve` (tools/serve_sched.c), driven
 * directly, without HTTP, on the real SmolLM2-135M Q4_1 and all-MiniLM-L6-v2 files.
 *
 * - Continuous batching changes nothing: at temperature 0, eight jobs submitted at once to four
 *   slots (so half of them queue, and prompts prefill beside other slots' decoding) each get
 *   exactly the text a lone greedy loop over lm_forward gives.
 * - The same prompt again (its KV prefix kept in a slot), and a prompt that extends it, give
 *   the same text as from scratch.
 * - max_tokens ends with "length" after exactly that many tokens, a stop string with "stop"
 *   and the text before it, a seeded sampler repeats itself.
 * - A cancelled job ends within a step and its slot serves the next job; a full queue, a prompt
 *   over the context and a job kind no model serves are refused with the limit named; drain
 *   cancels what outlives the grace period and refuses new jobs.
 * - Embedding jobs give exactly lm_embed's vectors, texts over the limit cut the same way.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/serve_job.h"
#include "../tools/serve_metrics.h"
#include "../tools/serve_sched.h"
#include "testutil.h"

static struct lm_model *smollm, *minilm;

static void load_models(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s", tu_model_path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"));
    ck_assert_msg(lm_model_load(path, &smollm) == LM_OK, "%s", lm_last_error());
    snprintf(path, sizeof path, "%s", tu_model_path("minilm"));
    ck_assert_msg(lm_model_load(path, &minilm) == LM_OK, "%s", lm_last_error());
}

static void free_models(void) {
    lm_model_free(smollm);
    lm_model_free(minilm);
    smollm = minilm = NULL;
}

static const char *const prompts[] = {
    "The capital of France is",
    "def fibonacci(n):\n    ",
    "Once upon a time, in a small village by the sea, there lived an old fisherman who",
    "List three colors:",
    "The quick brown fox",
    "In 1492, Columbus",
    "Water boils at",
    "My favourite recipe for pancakes starts with",
};
#define N_PROMPTS 8
#define N_GEN     24

static struct srv_job *gen_job(const char *prompt, int max_tokens) {
    struct srv_job *j = srv_job_new(SRV_COMPLETION);
    ck_assert(j);
    ck_assert(lm_tokenize(lm_model_tokenizer(smollm), prompt, strlen(prompt), LM_TOK_ADD_SPECIAL,
                          &j->prompt) == LM_OK);
    j->max_tokens = max_tokens;
    j->sampling = lm_sampler_defaults();
    j->sampling.temp = 0;
    return j;
}

/* A job that runs until cancelled (or its 256-token context fills): sampled at temperature
 * 1 with every end-of-generation token banned. */
static struct srv_job *endless_job(const char *prompt, uint64_t seed) {
    struct srv_job *j = gen_job(prompt, -1);
    const struct lm_tokenizer *tok = lm_model_tokenizer(smollm);
    const int32_t V = lm_model_hparams(smollm)->n_vocab;
    j->bias = malloc(16 * sizeof *j->bias);
    for (int32_t id = 0; id < V && j->sampling.n_bias < 16; id++)
        if (lm_tokenizer_is_eog(tok, id))
            j->bias[j->sampling.n_bias++] = (struct lm_logit_bias){id, -INFINITY};
    ck_assert_int_gt(j->sampling.n_bias, 0);
    j->sampling.temp = 1, j->sampling.seed = seed;
    return j;
}

/* Wait for the end of j; out gets its text. */
static enum srv_finish finish(struct srv_job *j, struct lm_text *out) {
    enum srv_finish f;
    uint64_t t0 = lm_time_ns();
    while ((f = srv_job_wait(j, 100, out)) == SRV_RUNNING)
        ck_assert_msg(lm_time_ns() - t0 < 120ull * 1000000000, "job %s did not finish", j->id);
    return f;
}

/* The text a plain greedy loop over lm_forward gives (the reference, no scheduler). */
static void greedy_alone(const char *prompt, int n_gen, struct lm_text *out) {
    const struct lm_tokenizer *tok = lm_model_tokenizer(smollm);
    const int32_t V = lm_model_hparams(smollm)->n_vocab;
    struct lm_session *s;
    struct lm_session_opts o = {.n_ctx = 256};
    ck_assert(lm_session_create(smollm, &o, &s) == LM_OK);
    struct lm_tokens t = {0};
    ck_assert(lm_tokenize(tok, prompt, strlen(prompt), LM_TOK_ADD_SPECIAL, &t) == LM_OK);
    struct lm_batch b = {.n_tokens = (int32_t)t.n, .tokens = t.ids};
    ck_assert(lm_forward(s, &b) == LM_OK);
    struct lm_detok_stream ds = {0};
    for (int k = 0; k < n_gen; k++) {
        const float *x = lm_session_logits(s, 0);
        int32_t id = 0;
        for (int32_t i = 1; i < V; i++)
            if (x[i] > x[id]) id = i;
        if (lm_tokenizer_is_eog(tok, id)) break;
        ck_assert(lm_detok_push(tok, &ds, id, LM_TOK_SKIP_SPECIAL, out) == LM_OK);
        struct lm_batch d = {.n_tokens = 1, .tokens = &id};
        ck_assert(lm_forward(s, &d) == LM_OK);
    }
    lm_detok_flush(&ds, out);
    lm_tokens_free(&t);
    lm_session_free(s);
}

static struct srv_sched *sched(int slots, int max_queue, bool gen, bool embed,
                               struct srv_metrics *mx) {
    struct srv_sched_opts o = {.slots = slots, .n_ctx = 256, .max_queue = max_queue};
    struct srv_sched *s;
    ck_assert_msg(srv_sched_create(gen ? smollm : NULL, embed ? minilm : NULL, &o, mx, &s) == LM_OK,
                  "%s", lm_last_error());
    return s;
}

START_TEST(batched_equals_alone) {
    struct srv_metrics *mx = srv_metrics_create();
    struct srv_sched *s = sched(4, 16, true, false, mx);
    struct srv_job *jobs[N_PROMPTS];
    for (int p = 0; p < N_PROMPTS; p++) {
        jobs[p] = gen_job(prompts[p], N_GEN);
        ck_assert_msg(srv_sched_submit(s, jobs[p]) == LM_OK, "%s", lm_last_error());
    }
    for (int p = 0; p < N_PROMPTS; p++) {
        struct lm_text got = {0}, want = {0};
        enum srv_finish f = finish(jobs[p], &got);
        greedy_alone(prompts[p], N_GEN, &want);
        ck_assert_msg(f == SRV_LENGTH || f == SRV_STOP, "prompt %d: finish %d", p, f);
        ck_assert_msg(got.n == want.n && !memcmp(got.s, want.s, got.n),
                      "prompt %d: batched '%s', alone '%s'", p, got.s ? got.s : "",
                      want.s ? want.s : "");
        if (f == SRV_LENGTH) ck_assert_int_eq(jobs[p]->n_gen, N_GEN);
        ck_assert_int_eq(jobs[p]->n_prompt, (int)jobs[p]->prompt.n);
        lm_text_free(&got);
        lm_text_free(&want);
        srv_job_release(jobs[p]);
    }
    /* The metrics saw the work: tokens counted, slots idle again. */
    struct lm_text m = {0};
    ck_assert(srv_metrics_render(mx, &m) == LM_OK);
    ck_assert_msg(strstr(m.s, "lmrt_slots_total 4"), "%s", m.s);
    ck_assert_msg(strstr(m.s, "lmrt_slots_busy 0"), "%s", m.s);
    lm_text_free(&m);
    srv_sched_free(s);
    srv_metrics_free(mx);
}
END_TEST

START_TEST(prefix_reuse) {
    struct srv_sched *s = sched(1, 4, true, false, NULL);
    const char *longer = "The capital of France is Paris. The capital of Italy is";
    const char *order[] = {prompts[0], prompts[0], "The capital of France is Paris.", longer,
                           prompts[2]};
    for (int i = 0; i < 5; i++) {
        struct srv_job *j = gen_job(order[i], 12);
        ck_assert(srv_sched_submit(s, j) == LM_OK);
        struct lm_text got = {0}, want = {0};
        finish(j, &got);
        greedy_alone(order[i], 12, &want);
        ck_assert_msg(got.n == want.n && !memcmp(got.s, want.s, got.n),
                      "run %d '%s': got '%s', want '%s'", i, order[i], got.s, want.s);
        lm_text_free(&got);
        lm_text_free(&want);
        srv_job_release(j);
    }
    srv_sched_free(s);
}
END_TEST

START_TEST(length_stop_seed) {
    struct srv_sched *s = sched(2, 4, true, false, NULL);
    /* max_tokens */
    struct srv_job *j = gen_job(prompts[2], 5);
    ck_assert(srv_sched_submit(s, j) == LM_OK);
    struct lm_text t = {0};
    ck_assert_int_eq(finish(j, &t), SRV_LENGTH);
    ck_assert_int_eq(j->n_gen, 5);
    srv_job_release(j);
    lm_text_free(&t);
    /* a stop string cut from the greedy text itself: the reply is what came before it */
    struct lm_text full = {0};
    greedy_alone(prompts[2], 16, &full);
    ck_assert(full.n > 12);
    char stop[5];
    memcpy(stop, full.s + 8, 4);
    stop[4] = 0;
    const char *at = strstr(full.s, stop);
    j = gen_job(prompts[2], 16);
    j->n_stop = 1;
    j->stop = malloc(sizeof *j->stop);
    j->stop[0] = strdup(stop);
    ck_assert(srv_sched_submit(s, j) == LM_OK);
    ck_assert_int_eq(finish(j, &t), SRV_STOP);
    ck_assert_msg(t.n == (size_t)(at - full.s) && !memcmp(t.s, full.s, t.n),
                  "stop '%s': got '%s' of '%s'", stop, t.s, full.s);
    srv_job_release(j);
    lm_text_free(&t);
    lm_text_free(&full);
    /* the same seed at temperature 1 gives the same text, twice at once */
    struct srv_job *a = gen_job(prompts[3], 16), *b = gen_job(prompts[3], 16);
    a->sampling.temp = b->sampling.temp = 1;
    a->sampling.seed = b->sampling.seed = 1234;
    ck_assert(srv_sched_submit(s, a) == LM_OK && srv_sched_submit(s, b) == LM_OK);
    struct lm_text ta = {0}, tb = {0};
    finish(a, &ta);
    finish(b, &tb);
    ck_assert_msg(ta.n == tb.n && !memcmp(ta.s, tb.s, ta.n), "'%s' vs '%s'", ta.s, tb.s);
    srv_job_release(a);
    srv_job_release(b);
    lm_text_free(&ta);
    lm_text_free(&tb);
    srv_sched_free(s);
}
END_TEST

START_TEST(cancel_and_limits) {
    struct srv_sched *s = sched(1, 2, true, false, NULL);
    /* an endless job, cancelled once it streams: it ends within a step, the slot serves on */
    struct srv_job *j = endless_job(prompts[1], 7);
    ck_assert(srv_sched_submit(s, j) == LM_OK);
    struct lm_text t = {0};
    while (t.n == 0)
        ck_assert_int_eq(srv_job_wait(j, 1000, &t), SRV_RUNNING);
    /* while it runs: one queued job fits (max_queue 2 with one more), the third does not */
    struct srv_job *q1 = gen_job(prompts[0], 3), *q2 = gen_job(prompts[0], 3),
                   *q3 = gen_job(prompts[0], 3);
    ck_assert(srv_sched_submit(s, q1) == LM_OK);
    ck_assert(srv_sched_submit(s, q2) == LM_OK);
    lm_clear_error();
    ck_assert_int_eq(srv_sched_submit(s, q3), LM_ERANGE);
    ck_assert_msg(strstr(lm_last_error(), "queue is full"), "%s", lm_last_error());
    uint64_t t0 = lm_time_ns();
    srv_job_cancel(j);
    ck_assert_int_eq(finish(j, &t), SRV_CANCELLED);
    ck_assert_msg(lm_time_ns() - t0 < 2000000000ull, "cancel took %.3f s",
                  (lm_time_ns() - t0) * 1e-9);
    ck_assert_int_eq(finish(q1, &t), SRV_LENGTH);
    ck_assert_int_eq(finish(q2, &t), SRV_LENGTH);
    srv_job_release(j);
    srv_job_release(q1);
    srv_job_release(q2);
    srv_job_release(q3); /* never taken: both references are ours */
    srv_job_release(q3);
    /* a prompt that leaves no room in the 256-token context */
    struct srv_job *big = srv_job_new(SRV_COMPLETION);
    for (int i = 0; i < 256; i++) {
        const char *w = " hello";
        lm_tokenize(lm_model_tokenizer(smollm), w, strlen(w), 0, &big->prompt);
    }
    lm_clear_error();
    ck_assert_int_eq(srv_sched_submit(s, big), LM_EINVAL);
    ck_assert_msg(strstr(lm_last_error(), "256"), "%s", lm_last_error());
    /* no embedding model here */
    struct srv_job *e = srv_job_new(SRV_EMBEDDING);
    ck_assert_int_eq(srv_sched_submit(s, e), LM_EUNSUPPORTED);
    for (int k = 0; k < 2; k++)
        srv_job_release(big), srv_job_release(e);
    lm_text_free(&t);
    srv_sched_free(s);
}
END_TEST

START_TEST(drain) {
    struct srv_sched *s = sched(2, 4, true, false, NULL);
    struct srv_job *j = endless_job(prompts[1], 3), *quick = gen_job(prompts[0], 2);
    ck_assert(srv_sched_submit(s, j) == LM_OK && srv_sched_submit(s, quick) == LM_OK);
    struct lm_text t = {0};
    /* the quick one ends on its own while the endless one streams; then the drain's grace
     * runs out on the endless one, which is cancelled */
    ck_assert_int_eq(finish(quick, &t), SRV_LENGTH);
    while (t.n == 0)
        srv_job_wait(j, 1000, &t);
    srv_sched_drain(s, 300);
    ck_assert_int_eq(finish(j, &t), SRV_CANCELLED);
    struct srv_job *late = gen_job(prompts[0], 2);
    lm_clear_error();
    ck_assert_int_eq(srv_sched_submit(s, late), LM_EIO);
    srv_job_release(late), srv_job_release(late);
    srv_job_release(j);
    srv_job_release(quick);
    lm_text_free(&t);
    srv_sched_free(s);
}
END_TEST

START_TEST(embeddings) {
    static const char *const texts[] = {"A man is eating food.", "A cheetah runs fast.",
                                        "Paris is the capital of France.", NULL};
    char *long_text = malloc(4000) /* 700 x 5 + 1 */;
    long_text[0] = 0;
    for (int i = 0; i < 700; i++) /* 700 tokens: over MiniLM's 512 positions */
        strcat(long_text, "word ");
    const char *all[4] = {texts[0], texts[1], texts[2], long_text};
    const int32_t d = lm_model_hparams(minilm)->n_embd;
    struct lm_session *es;
    ck_assert(lm_session_create(minilm, NULL, &es) == LM_OK);
    float *want = malloc(4 * (size_t)d * sizeof *want);
    ck_assert_msg(lm_embed(es, all, 4, want) == LM_OK, "%s", lm_last_error());
    lm_session_free(es);

    struct srv_sched *s = sched(1, 4, false, true, NULL);
    struct srv_job *j = srv_job_new(SRV_EMBEDDING);
    j->n_inputs = 4, j->from_text = true;
    j->inputs = calloc(4, sizeof *j->inputs);
    for (int i = 0; i < 4; i++)
        ck_assert(lm_tokenize(lm_model_tokenizer(minilm), all[i], strlen(all[i]),
                              LM_TOK_ADD_SPECIAL, &j->inputs[i]) == LM_OK);
    ck_assert(srv_sched_submit(s, j) == LM_OK);
    struct lm_text t = {0};
    ck_assert_int_eq(finish(j, &t), SRV_STOP);
    ck_assert_int_eq(j->n_embd, d);
    tu_assert_equal_f32("embeddings", j->embd, want, 4 * (int64_t)d);
    ck_assert_int_le(j->n_prompt, 3 * 16 + srv_sched_embed_limit(s));
    srv_job_release(j);
    /* the same over-long input as tokens is refused, naming the limit */
    j = srv_job_new(SRV_EMBEDDING);
    j->n_inputs = 1;
    j->inputs = calloc(1, sizeof *j->inputs);
    lm_tokenize(lm_model_tokenizer(minilm), long_text, strlen(long_text), LM_TOK_ADD_SPECIAL,
                &j->inputs[0]);
    ck_assert(srv_sched_submit(s, j) == LM_OK);
    ck_assert_int_eq(finish(j, &t), SRV_FAILED);
    ck_assert_int_eq(j->http_status, 400);
    ck_assert_msg(strstr(j->error, "limit"), "%s", j->error);
    srv_job_release(j);
    /* no text model here */
    j = gen_job(prompts[0], 2);
    ck_assert_int_eq(srv_sched_submit(s, j), LM_EUNSUPPORTED);
    srv_job_release(j), srv_job_release(j);
    lm_text_free(&t);
    free(want);
    free(long_text);
    srv_sched_free(s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("serve_sched");
    TCase *tc = tcase_create("sched");
    tcase_add_unchecked_fixture(tc, load_models, free_models);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, batched_equals_alone);
    tcase_add_test(tc, prefix_reuse);
    tcase_add_test(tc, length_stop_seed);
    tcase_add_test(tc, cancel_and_limits);
    tcase_add_test(tc, drain);
    tcase_add_test(tc, embeddings);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
