/* tests/check_sampler.c - the sampler (models/sampler.c), end-of-generation tokens and stop
 * strings (models/stop.c).
 *
 * The sampler is only seen through lm_sampler_sample, so each filter is checked by what it lets
 * through: a brute-force reference in this file (sort the whole vocabulary, softmax in double,
 * keep what llama.cpp's definitions keep) gives the kept set and the probabilities, and many
 * seeded draws must (a) never leave the kept set and (b) match the probabilities by a
 * chi-square test whose bound is loose (mean + 6 sd: a fixed seed makes it deterministic
 * anyway) yet far below what a wrong distribution gives; each such test also scores its draws
 * against a wrong reference (another temperature, a smaller p) and must reject it. Boundary
 * cases are kept away from rounding: generated logits whose cumulative mass or min-p ratio falls
 * within 1e-4 of the cut are redrawn. Penalties are probed exactly with greedy: a competitor
 * token just above / just below the expected penalised logit must win / lose.
 *
 * Stop strings are checked against a reference that scans the whole text for the stop that
 * ends first, over random texts (ASCII, 2- and 3-byte characters) cut into random pieces, whole
 * characters or single bytes.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../models/tokenizer/tok.h"
#include "testutil.h"

/* ---- the brute-force reference ---- */

struct ref_item {
    float l;
    int32_t id;
};

static int by_logit(const void *a, const void *b) {
    const struct ref_item *x = a, *y = b;
    if (x->l != y->l) return x->l > y->l ? -1 : 1;
    return x->id < y->id ? -1 : 1;
}

/* prob[id] after the chain (no bias, no penalties); returns how many are kept. *margin gets the
 * closest the data came to a top-p or min-p cut (relative), so callers can redraw near-ties. */
static int ref_chain(const float *logits, int n, int top_k, float top_p, float min_p, float temp,
                     double *prob, double *margin) {
    struct ref_item *it = malloc((size_t)n * sizeof *it);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (logits[i] > -INFINITY) it[m++] = (struct ref_item){logits[i], i};
    qsort(it, (size_t)m, sizeof *it, by_logit);
    *margin = 1;
    if (top_k > 0 && top_k < m) m = top_k;
    if (top_p < 1) {
        double sum = 0, cum = 0;
        for (int i = 0; i < m; i++)
            sum += exp((double)it[i].l - it[0].l);
        int keep = m;
        for (int i = 0; i < m; i++) {
            cum += exp((double)it[i].l - it[0].l) / sum;
            if (fabs(cum - top_p) < *margin) *margin = fabs(cum - top_p);
            if (cum >= top_p) {
                keep = i + 1;
                break;
            }
        }
        m = keep;
    }
    if (min_p > 0) {
        int keep = 0;
        for (int i = 0; i < m; i++) {
            double r = exp((double)it[i].l - it[0].l);
            if (fabs(r - min_p) < *margin) *margin = fabs(r - min_p);
            if (r >= min_p) keep = i + 1;
        }
        m = keep;
    }
    for (int i = 0; i < n; i++)
        prob[i] = 0;
    double sum = 0;
    for (int i = 0; i < m; i++)
        sum += exp(((double)it[i].l - it[0].l) / temp);
    for (int i = 0; i < m; i++)
        prob[it[i].id] = exp(((double)it[i].l - it[0].l) / temp) / sum;
    free(it);
    return m;
}

static struct lm_sampler_params plain(float temp) {
    struct lm_sampler_params p = lm_sampler_defaults();
    p.temp = temp, p.top_k = 0, p.top_p = 1, p.min_p = 0, p.penalty_last_n = 0;
    return p;
}

static struct lm_sampler *make(const struct lm_sampler_params *p, int n) {
    struct lm_sampler *s;
    ck_assert_msg(lm_sampler_create(p, n, &s) == LM_OK, "%s", lm_last_error());
    return s;
}

/* Chi-square of counts against prob, pooling cells expected below 5; *df gets the degrees. */
static double chi2(const int *count, const double *prob, int n, int draws, int *df) {
    double stat = 0, pool_e = 0, pool_o = 0;
    int cells = 0;
    for (int i = 0; i < n; i++) {
        double e = prob[i] * draws;
        if (e < 5) {
            pool_e += e, pool_o += count[i];
            continue;
        }
        stat += (count[i] - e) * (count[i] - e) / e, cells++;
    }
    if (pool_e > 0)
        stat += (pool_o - pool_e) * (pool_o - pool_e) / pool_e, cells++;
    else if (pool_o > 0)
        stat = INFINITY; /* draws where nothing was expected */
    *df = cells > 1 ? cells - 1 : 1;
    return stat;
}

static double chi2_bound(int df) { return df + 6 * sqrt(2.0 * df) + 10; }

/* Draw `draws` tokens with p; every one must have prob > 0 and the counts must pass chi-square
 * against prob. Returns the counts (caller frees) for checks against wrong references. */
static int *draw_and_check(const float *logits, int n, const struct lm_sampler_params *p,
                           const double *prob, int draws, const char *label) {
    struct lm_sampler *s = make(p, n);
    int *count = calloc((size_t)n, sizeof *count);
    for (int d = 0; d < draws; d++) {
        int32_t t;
        ck_assert_int_eq(lm_sampler_sample(s, logits, &t), LM_OK);
        ck_assert_msg(t >= 0 && t < n && prob[t] > 0, "%s: drew %d, outside the kept set", label,
                      t);
        count[t]++;
    }
    lm_sampler_free(s);
    int df;
    double x = chi2(count, prob, n, draws, &df);
    ck_assert_msg(x <= chi2_bound(df), "%s: chi-square %.1f over %d df (bound %.1f)", label, x, df,
                  chi2_bound(df));
    return count;
}

static void assert_rejects(const int *count, const double *wrong, int n, int draws,
                           const char *label) {
    int df;
    double x = chi2(count, wrong, n, draws, &df);
    ck_assert_msg(x > chi2_bound(df), "%s: a wrong distribution passed (chi-square %.1f, %d df)",
                  label, x, df);
}

/* Logits for a filter test: normal * scale, redrawn until no cut is within 1e-4. */
static void logits_for(float *l, int n, float scale, uint64_t seed, int top_k, float top_p,
                       float min_p, double *prob) {
    for (uint64_t k = 0;; k++) {
        struct tu_rng r = tu_rng(seed + 1000 * k);
        for (int i = 0; i < n; i++)
            l[i] = tu_normal(&r) * scale;
        double margin;
        ref_chain(l, n, top_k, top_p, min_p, 1, prob, &margin);
        if (margin > 1e-4) return;
    }
}

/* ---- parameters ---- */

static void expect_einval(struct lm_sampler_params p, int n, const char *field) {
    struct lm_sampler *s = (struct lm_sampler *)&p; /* must be cleared */
    ck_assert_int_eq(lm_sampler_create(&p, n, &s), LM_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(lm_last_error(), field), "'%s' does not name %s", lm_last_error(), field);
}

START_TEST(params) {
    struct lm_sampler_params d = lm_sampler_defaults();
    ck_assert(d.temp == 0.8f && d.top_k == 40 && d.top_p == 0.95f && d.min_p == 0.05f);
    ck_assert(d.repeat_penalty == 1.0f && d.penalty_last_n == 64);
    ck_assert(d.presence_penalty == 0 && d.frequency_penalty == 0 && d.n_bias == 0);
    lm_sampler_free(NULL);
    lm_sampler_reset(NULL);
    lm_sampler_accept(NULL, 3);
    struct lm_sampler_params p;
    p = d, p.temp = NAN, expect_einval(p, 10, "temp");
    p = d, p.temp = INFINITY, expect_einval(p, 10, "temp");
    p = d, p.top_p = NAN, expect_einval(p, 10, "top_p");
    p = d, p.top_p = -0.5f, expect_einval(p, 10, "top_p");
    p = d, p.min_p = NAN, expect_einval(p, 10, "min_p");
    p = d, p.min_p = 1.5f, expect_einval(p, 10, "min_p");
    p = d, p.repeat_penalty = 0, expect_einval(p, 10, "repeat_penalty");
    p = d, p.repeat_penalty = NAN, expect_einval(p, 10, "repeat_penalty");
    p = d, p.presence_penalty = INFINITY, expect_einval(p, 10, "presence_penalty");
    p = d, p.frequency_penalty = NAN, expect_einval(p, 10, "frequency_penalty");
    p = d, p.penalty_last_n = -2, expect_einval(p, 10, "penalty_last_n");
    p = d, p.penalty_last_n = 1 << 30, expect_einval(p, 10, "penalty_last_n");
    expect_einval(d, 0, "n_vocab");
    struct lm_logit_bias b[2] = {{1, 0.5f}, {10, 1.0f}};
    p = d, p.bias = b, p.n_bias = 2, expect_einval(p, 10, "bias[1]");
    b[1] = (struct lm_logit_bias){-1, 1.0f}, expect_einval(p, 10, "bias[1]");
    b[1] = (struct lm_logit_bias){3, NAN}, expect_einval(p, 10, "bias[1]");
    b[1] = (struct lm_logit_bias){3, INFINITY}, expect_einval(p, 10, "bias[1]");
    p.bias = NULL, expect_einval(p, 10, "bias");
    p = d, p.n_bias = -1, expect_einval(p, 10, "bias");
    struct lm_sampler *s;
    ck_assert_int_eq(lm_sampler_create(NULL, 10, &s), LM_EINVAL);
    ck_assert_int_eq(lm_sampler_create(&d, 10, NULL), LM_EINVAL);
    /* accepted edge values: temp <= 0, top_p >= 1 and min_p <= 0 switch things off */
    p = d, p.temp = -1, p.top_p = 7, p.min_p = -3, p.top_k = -5, p.penalty_last_n = -1;
    s = make(&p, 10);
    float l[10] = {0, 1, 2, 3, 9, 5, 6, 7, 8, 4};
    int32_t t = -1;
    ck_assert_int_eq(lm_sampler_sample(s, NULL, &t), LM_EINVAL);
    ck_assert_int_eq(lm_sampler_sample(s, l, NULL), LM_EINVAL);
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 4);
    lm_sampler_accept(s, -1), lm_sampler_accept(s, 10), lm_sampler_accept(s, 1 << 30); /* ignored */
    lm_sampler_free(s);
}
END_TEST

/* ---- greedy and bias ---- */

START_TEST(greedy) {
    enum { N = 1000 };
    float l[N], keep[N];
    struct tu_rng r = tu_rng(5);
    tu_fill(l, N, &r, -10, 10);
    l[321] = 50;
    memcpy(keep, l, sizeof l);
    struct lm_sampler_params p = plain(0);
    struct lm_sampler *s = make(&p, N);
    int32_t t;
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 321);
    ck_assert_int_eq(memcmp(l, keep, sizeof l), 0); /* logits untouched */
    l[700] = 50, l[123] = 50;                       /* ties: the lowest id */
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 123);
    for (int i = 0; i < N; i++)
        l[i] = -INFINITY;
    l[999] = -1e30f;
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 999);
    l[999] = NAN; /* NaN is never picked */
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "-inf"));
    l[5] = 0, l[6] = INFINITY, l[7] = INFINITY;
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 6);
    lm_sampler_free(s);
}
END_TEST

START_TEST(bias) {
    enum { N = 300 };
    float l[N];
    struct tu_rng r = tu_rng(9);
    tu_fill(l, N, &r, -2, 2);
    l[17] = 8, l[40] = 7.9f;
    struct lm_logit_bias b[] = {{17, -INFINITY}, {250, 20}, {250, -15}, {3, -INFINITY}};
    struct lm_sampler_params p = plain(0);
    p.bias = b, p.n_bias = 2;
    struct lm_sampler *s = make(&p, N);
    b[0].token = 99; /* the sampler holds its own copy */
    int32_t t;
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 250); /* boosted over the banned 17 */
    lm_sampler_free(s);
    b[0].token = 17, p.n_bias = 3; /* biases on one token add up: 250 gets +5 */
    s = make(&p, N);
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 40);
    lm_sampler_free(s);
    /* banned tokens are never drawn, even with the most mass and a flat temperature */
    p = plain(1.5f), p.bias = b, p.n_bias = 4;
    b[1].bias = 0, b[2].bias = 0;
    s = make(&p, N);
    l[3] = 7.5f;
    for (int d = 0; d < 3000; d++) {
        ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
        ck_assert(t != 17 && t != 3);
    }
    lm_sampler_free(s);
    /* everything banned: an error, not a token */
    struct lm_logit_bias all[4] = {{0, -INFINITY}, {1, -INFINITY}, {2, -INFINITY}, {3, -INFINITY}};
    float four[4] = {1, 2, 3, 4};
    p = lm_sampler_defaults(), p.bias = all, p.n_bias = 4;
    s = make(&p, 4);
    ck_assert_int_eq(lm_sampler_sample(s, four, &t), LM_ERANGE);
    lm_sampler_free(s);
}
END_TEST

/* Bias under the whole chain: the draws follow the reference chain run on logits + bias. */
START_TEST(bias_chain) {
    enum { N = 200, DRAWS = 20000 };
    float l[N], lb[N];
    double prob[N], wrong[N], margin = 0;
    struct lm_logit_bias b[4];
    for (uint64_t seed = 13; margin <= 1e-4; seed++) {
        struct tu_rng r = tu_rng(seed);
        for (int i = 0; i < N; i++)
            lb[i] = l[i] = tu_normal(&r);
        int best = 0, worst = 0;
        for (int i = 1; i < N; i++) {
            if (l[i] > l[best]) best = i;
            if (l[i] < l[worst]) worst = i;
        }
        b[0] = (struct lm_logit_bias){best, -INFINITY};
        b[1] = (struct lm_logit_bias){worst, 5.0f};
        b[2] = (struct lm_logit_bias){(best + 1) % N, -0.7f};
        b[3] = (struct lm_logit_bias){(best + 2) % N, 0.0f};
        for (int i = 0; i < 4; i++)
            lb[b[i].token] += b[i].bias;
        ref_chain(lb, N, 10, 0.9f, 0.02f, 1, prob, &margin);
    }
    struct lm_sampler_params p = plain(0.9f);
    p.top_k = 10, p.top_p = 0.9f, p.min_p = 0.02f, p.bias = b, p.n_bias = 4;
    ref_chain(lb, N, 10, 0.9f, 0.02f, 0.9f, prob, &margin);
    ck_assert(prob[b[0].token] == 0 && prob[b[1].token] > 0);
    int *c = draw_and_check(l, N, &p, prob, DRAWS, "bias + top-k + top-p + min-p");
    ref_chain(l, N, 10, 0.9f, 0.02f, 0.9f, wrong, &margin);
    assert_rejects(c, wrong, N, DRAWS, "bias ignored");
    free(c);
    p.top_k = 0; /* without top-k: the unsorted path */
    ref_chain(lb, N, 0, 0.9f, 0.02f, 0.9f, prob, &margin);
    ck_assert(margin > 1e-4 && prob[b[0].token] == 0);
    free(draw_and_check(l, N, &p, prob, DRAWS, "bias + top-p + min-p"));
}
END_TEST

/* Ties between changed and unchanged logits go to the lowest id too; +inf logits share the draw. */
START_TEST(ties_and_infinities) {
    enum { N = 50 };
    float l[N];
    for (int i = 0; i < N; i++)
        l[i] = (float)(i % 5);
    l[30] = 9, l[7] = 8.5f; /* 7 + 0.5 ties 30 */
    struct lm_logit_bias b[] = {{7, 0.5f}};
    for (int mode = 0; mode < 2; mode++) {
        struct lm_sampler_params p = plain(mode ? 1.0f : 0); /* greedy, and top-k 1 */
        p.top_k = mode, p.bias = b, p.n_bias = 1;
        struct lm_sampler *s = make(&p, N);
        int32_t t;
        ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
        ck_assert_int_eq(t, 7);
        lm_sampler_free(s);
    }
    l[40] = INFINITY, l[12] = INFINITY;
    for (int k = 0; k < 2; k++) {
        struct lm_sampler_params p = plain(0.7f);
        p.top_k = k ? 20 : 0, p.top_p = 0.9f, p.min_p = 0.1f;
        struct lm_sampler *s = make(&p, N);
        int n40 = 0;
        for (int d = 0; d < 2000; d++) {
            int32_t t;
            ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
            ck_assert(t == 40 || t == 12);
            n40 += t == 40;
        }
        ck_assert(n40 > 800 && n40 < 1200);
        lm_sampler_free(s);
    }
}
END_TEST

/* ---- each filter alone, then the chain ---- */

START_TEST(top_k_alone) {
    enum { N = 400, DRAWS = 20000 };
    float l[N];
    double prob[N], margin;
    logits_for(l, N, 1.0f, 11, 0, 1, 0, prob);
    struct lm_sampler_params p = plain(1);
    p.top_k = 12;
    ck_assert_int_eq(ref_chain(l, N, 12, 1, 0, 1, prob, &margin), 12);
    int *c = draw_and_check(l, N, &p, prob, DRAWS, "top-k 12");
    double wrong[N];
    ref_chain(l, N, 12, 1, 0, 1.25f, wrong, &margin);
    assert_rejects(c, wrong, N, DRAWS, "top-k 12 vs temp 1.25");
    free(c);
    /* ties across the cut: the lower ids stay */
    for (int i = 0; i < N; i++)
        l[i] = i % 7 == 0 ? 1.0f : -1.0f;
    p.top_k = 5;
    ck_assert_int_eq(ref_chain(l, N, 5, 1, 0, 1, prob, &margin), 5);
    ck_assert(prob[0] > 0 && prob[28] > 0 && prob[35] == 0);
    free(draw_and_check(l, N, &p, prob, 5000, "top-k ties"));
    p.top_k = 1; /* top-k 1 is greedy */
    ref_chain(l, N, 1, 1, 0, 1, prob, &margin);
    free(draw_and_check(l, N, &p, prob, 200, "top-k 1"));
}
END_TEST

START_TEST(top_p_alone) {
    enum { N = 300, DRAWS = 20000 };
    float l[N];
    double prob[N], wrong[N], margin;
    const float ps[] = {0.5f, 0.8f, 0.95f};
    for (int k = 0; k < 3; k++) {
        logits_for(l, N, 1.5f, 21 + k, 0, ps[k], 0, prob);
        struct lm_sampler_params p = plain(1);
        p.top_p = ps[k];
        int kept = ref_chain(l, N, 0, ps[k], 0, 1, prob, &margin);
        ck_assert(kept > 1 && kept < N);
        char label[32];
        snprintf(label, sizeof label, "top-p %.2f", (double)ps[k]);
        int *c = draw_and_check(l, N, &p, prob, DRAWS, label);
        ref_chain(l, N, 0, ps[k] * 0.8f, 0, 1, wrong, &margin);
        assert_rejects(c, wrong, N, DRAWS, label);
        free(c);
    }
    /* p = 0 keeps the best token only */
    struct lm_sampler_params p = plain(1);
    p.top_p = 0;
    ref_chain(l, N, 0, 0, 0, 1, prob, &margin);
    free(draw_and_check(l, N, &p, prob, 300, "top-p 0"));
}
END_TEST

/* A flat distribution over a large vocabulary: top-p needs tens of thousands of candidates,
 * so the sorted prefix grows many times; every draw must still be inside the reference set. */
START_TEST(top_p_flat) {
    enum { N = 100000 };
    float *l = malloc(N * sizeof *l);
    double *prob = malloc(N * sizeof *prob), margin = 0;
    /* steps of about 1e-5 in mass: keep the cut 1e-6 away from the line (f32 exp rounding) */
    for (uint64_t seed = 31; margin <= 1e-6; seed++) {
        struct tu_rng r = tu_rng(seed);
        tu_fill(l, N, &r, 0, 0.01f);
        int kept = ref_chain(l, N, 0, 0.5f, 0, 1, prob, &margin);
        ck_assert(kept > 40000 && kept < 60000);
    }
    struct lm_sampler_params p = plain(1);
    p.top_p = 0.5f;
    struct lm_sampler *s = make(&p, N);
    for (int d = 0; d < 50; d++) {
        int32_t t;
        ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
        ck_assert_msg(prob[t] > 0, "drew %d outside the top-p set", t);
    }
    lm_sampler_free(s);
    free(l), free(prob);
}
END_TEST

START_TEST(min_p_alone) {
    enum { N = 300, DRAWS = 20000 };
    float l[N];
    double prob[N], wrong[N], margin;
    logits_for(l, N, 1.2f, 41, 0, 1, 0.1f, prob);
    struct lm_sampler_params p = plain(1);
    p.min_p = 0.1f;
    int kept = ref_chain(l, N, 0, 1, 0.1f, 1, prob, &margin);
    ck_assert(kept > 2 && kept < N);
    int *c = draw_and_check(l, N, &p, prob, DRAWS, "min-p 0.1");
    ref_chain(l, N, 0, 1, 0.1f, 0.8f, wrong, &margin);
    assert_rejects(c, wrong, N, DRAWS, "min-p vs temp 0.8");
    free(c);
    p.min_p = 1; /* only the best */
    ref_chain(l, N, 0, 1, 1, 1, prob, &margin);
    free(draw_and_check(l, N, &p, prob, 200, "min-p 1"));
}
END_TEST

START_TEST(temperature) {
    enum { N = 60, DRAWS = 30000 };
    float l[N];
    double prob[N], wrong[N], margin;
    struct tu_rng r = tu_rng(51);
    for (int i = 0; i < N; i++)
        l[i] = tu_normal(&r);
    const float temps[] = {0.5f, 1.0f, 2.0f};
    for (int k = 0; k < 3; k++) {
        struct lm_sampler_params p = plain(temps[k]);
        ref_chain(l, N, 0, 1, 0, temps[k], prob, &margin);
        int *c = draw_and_check(l, N, &p, prob, DRAWS, "temperature");
        ref_chain(l, N, 0, 1, 0, temps[k] * 1.2f, wrong, &margin);
        assert_rejects(c, wrong, N, DRAWS, "temperature x1.2");
        free(c);
    }
}
END_TEST

START_TEST(chain) {
    enum { N = 5000, DRAWS = 20000 };
    float *l = malloc(N * sizeof *l);
    double *prob = malloc(N * sizeof *prob), *wrong = malloc(N * sizeof *wrong), margin;
    struct lm_sampler_params p = lm_sampler_defaults(); /* 40, 0.95, 0.05, temp 0.8 */
    p.penalty_last_n = 0;
    logits_for(l, N, 2.0f, 61, 40, 0.95f, 0.05f, prob);
    int kept = ref_chain(l, N, 40, 0.95f, 0.05f, 0.8f, prob, &margin);
    ck_assert(kept > 3);
    int *c = draw_and_check(l, N, &p, prob, DRAWS, "defaults");
    ref_chain(l, N, 40, 0.95f, 0.05f, 1.0f, wrong, &margin);
    assert_rejects(c, wrong, N, DRAWS, "defaults vs temp 1");
    free(c), free(l), free(prob), free(wrong);
}
END_TEST

/* The defaults on a 151,936-token vocabulary (Qwen2-sized): every draw within the reference set. */
START_TEST(large_vocab) {
    enum { N = 151936 };
    float *l = malloc(N * sizeof *l);
    double *prob = malloc(N * sizeof *prob), margin;
    struct tu_rng r = tu_rng(71);
    for (int i = 0; i < N; i++)
        l[i] = tu_normal(&r) * 3;
    struct lm_sampler_params p = lm_sampler_defaults();
    p.penalty_last_n = 0;
    ref_chain(l, N, 40, 0.95f, 0.05f, 0.8f, prob, &margin);
    struct lm_sampler *s = make(&p, N);
    uint64_t t0 = lm_time_ns();
    for (int d = 0; d < 200; d++) {
        int32_t t;
        ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
        ck_assert_msg(prob[t] > 0, "drew %d outside the reference set", t);
    }
    fprintf(stderr, "sampler: %.1f us per call (defaults, vocab %d)\n",
            (double)(lm_time_ns() - t0) / 200e3, N);
    lm_sampler_free(s);
    free(l), free(prob);
}
END_TEST

START_TEST(seeds) {
    enum { N = 1000, D = 200 };
    float l[N];
    struct tu_rng r = tu_rng(81);
    for (int i = 0; i < N; i++)
        l[i] = tu_normal(&r);
    int32_t a[D], b[D], c[D], e[D];
    struct lm_sampler_params p = lm_sampler_defaults();
    p.top_k = 0, p.top_p = 1, p.min_p = 0, p.temp = 1, p.seed = 42;
    p.repeat_penalty = 1.3f; /* the history matters too: reset must clear it */
    struct lm_sampler *s1 = make(&p, N), *s2 = make(&p, N);
    p.seed = 43;
    struct lm_sampler *s3 = make(&p, N);
    for (int d = 0; d < D; d++) {
        ck_assert_int_eq(lm_sampler_sample(s1, l, &a[d]), LM_OK);
        ck_assert_int_eq(lm_sampler_sample(s2, l, &b[d]), LM_OK);
        ck_assert_int_eq(lm_sampler_sample(s3, l, &c[d]), LM_OK);
    }
    lm_sampler_reset(s1);
    int same_c = 0;
    for (int d = 0; d < D; d++) {
        ck_assert_int_eq(lm_sampler_sample(s1, l, &e[d]), LM_OK);
        ck_assert_int_eq(a[d], b[d]);
        ck_assert_int_eq(a[d], e[d]);
        same_c += a[d] == c[d];
    }
    ck_assert_int_lt(same_c, D / 4); /* another seed, another sequence */
    lm_sampler_free(s1), lm_sampler_free(s2), lm_sampler_free(s3);
}
END_TEST

/* ---- penalties ---- */

static float penalised(float l, int count, float rep, float pres, float freq) {
    if (count == 0) return l;
    l = l <= 0 ? l * rep : l / rep;
    return l - (float)count * freq - pres;
}

/* Greedy between token t (logit lt) and a competitor (last id) at x: which wins? */
static int32_t duel(const struct lm_sampler_params *p, const int32_t *hist, int nh, int n,
                    int32_t t, float lt, float x) {
    float *l = malloc((size_t)n * sizeof *l);
    for (int i = 0; i < n; i++)
        l[i] = -INFINITY;
    l[t] = lt, l[n - 1] = x;
    struct lm_sampler *s = make(p, n);
    for (int i = 0; i < nh; i++)
        lm_sampler_accept(s, hist[i]);
    int32_t got;
    ck_assert_int_eq(lm_sampler_sample(s, l, &got), LM_OK);
    lm_sampler_free(s);
    free(l);
    return got;
}

/* Greedy, and top-k 1 (the fused top-k path, where changed logits join after the scan), must
 * both pick by the penalised values. */
START_TEST(penalties) {
    enum { N = 64, H = 40 };
    struct tu_rng r = tu_rng(91);
    const int windows[] = {-1, 16, 3, 0};
    const float reps[] = {1.0f, 1.3f, 0.8f};
    for (int mode = 0; mode < 2; mode++)
        for (int w = 0; w < 4; w++)
            for (int k = 0; k < 3; k++) {
                struct lm_sampler_params p = plain(mode ? 1.0f : 0);
                p.top_k = mode;
                p.penalty_last_n = windows[w], p.repeat_penalty = reps[k];
                p.presence_penalty = k == 1 ? 0.4f : k == 2 ? -0.2f : 0;
                p.frequency_penalty = k == 0 ? 0.3f : k == 1 ? 0.15f : 0;
                int32_t hist[H];
                for (int i = 0; i < H; i++)
                    hist[i] = (int32_t)(tu_next(&r) % 12);
                int count[N] = {0};
                int from = windows[w] < 0 ? 0 : H - windows[w];
                for (int i = from; i < H; i++)
                    count[hist[i]]++;
                for (int32_t t = 0; t < 14; t++) {
                    float lt = tu_uniform(&r, -3, 3);
                    float v = penalised(lt, count[t], p.repeat_penalty, p.presence_penalty,
                                        p.frequency_penalty);
                    float eps = 1e-3f * (1 + fabsf(v));
                    ck_assert_msg(duel(&p, hist, H, N, t, lt, v - eps) == t,
                                  "window %d rep %g: token %d (count %d, logit %g) should be %g",
                                  windows[w], (double)reps[k], t, count[t], (double)lt, (double)v);
                    ck_assert_int_eq(duel(&p, hist, H, N, t, lt, v + eps), N - 1);
                }
            }
}
END_TEST

/* Sampled tokens enter the history: a strong repeat penalty stops greedy repeating itself. */
START_TEST(penalty_history) {
    float l[4] = {3.0f, 2.9f, 2.8f, -5.0f};
    struct lm_sampler_params p = plain(0);
    p.repeat_penalty = 2.0f, p.penalty_last_n = 2;
    struct lm_sampler *s = make(&p, 4);
    int32_t t, seq[6];
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
        seq[i] = t;
    }
    /* window of 2: 0, 1, 2, then 0 has left the window, 0, 1, 2 ... */
    const int32_t want[6] = {0, 1, 2, 0, 1, 2};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(seq[i], want[i]);
    lm_sampler_reset(s); /* clears the history: 0 first again */
    ck_assert_int_eq(lm_sampler_sample(s, l, &t), LM_OK);
    ck_assert_int_eq(t, 0);
    lm_sampler_free(s);
}
END_TEST

/* ---- end of generation ---- */

static int32_t find_piece(const struct lm_tokenizer *t, const char *s) {
    for (int32_t i = 0; i < lm_tokenizer_n_vocab(t); i++)
        if (!strcmp(lm_tokenizer_piece(t, i), s)) return i;
    return -1;
}

static struct lm_tokenizer *load_gguf(const char *rel) {
    struct lm_gguf *g;
    const char *path = tu_model_path(rel);
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s: %s", path, lm_last_error());
    struct lm_tokenizer *t;
    lm_status s = lm_tokenizer_from_gguf(g, &t);
    lm_gguf_close(g);
    ck_assert_msg(s == LM_OK, "%s: %s", path, lm_last_error());
    return t;
}

START_TEST(eog) {
    struct lm_tokenizer *smol = load_gguf("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    ck_assert(lm_tokenizer_is_eog(smol, find_piece(smol, "<|im_end|>"))); /* EOS */
    ck_assert(lm_tokenizer_is_eog(smol, find_piece(smol, "<|endoftext|>")));
    ck_assert(!lm_tokenizer_is_eog(smol, find_piece(smol, "<|im_start|>")));
    ck_assert(!lm_tokenizer_is_eog(smol, find_piece(smol, "Hello")));
    ck_assert(!lm_tokenizer_is_eog(smol, -1));
    ck_assert(!lm_tokenizer_is_eog(smol, lm_tokenizer_n_vocab(smol)));
    ck_assert(!lm_tokenizer_is_eog(NULL, 0));
    int n_eog = 0;
    for (int32_t i = 0; i < lm_tokenizer_n_vocab(smol); i++)
        n_eog += lm_tokenizer_is_eog(smol, i);
    ck_assert_int_eq(n_eog, 2);
    lm_tokenizer_free(smol);

    struct lm_tokenizer *lfm;
    ck_assert_int_eq(lm_tokenizer_from_json(tu_model_path("lfm2/tokenizer.json"), &lfm), LM_OK);
    ck_assert(lm_tokenizer_is_eog(lfm, find_piece(lfm, "<|im_end|>")));
    ck_assert(lm_tokenizer_is_eog(lfm, find_piece(lfm, "<|endoftext|>")));
    ck_assert(!lm_tokenizer_is_eog(lfm, find_piece(lfm, "<|startoftext|>")));
    ck_assert(!lm_tokenizer_is_eog(lfm, find_piece(lfm, "<|im_start|>")));
    ck_assert(!lm_tokenizer_is_eog(lfm, find_piece(lfm, "<|tool_call_end|>")));
    lm_tokenizer_free(lfm);

    struct lm_tokenizer *spm = load_gguf("peer-vectors/ggml-vocab-llama-spm.gguf");
    ck_assert(lm_tokenizer_is_eog(spm, find_piece(spm, "</s>")));
    ck_assert(!lm_tokenizer_is_eog(spm, find_piece(spm, "<s>")));
    lm_tokenizer_free(spm);
    struct lm_tokenizer *gpt2 = load_gguf("peer-vectors/ggml-vocab-gpt-2.gguf");
    ck_assert(lm_tokenizer_is_eog(gpt2, find_piece(gpt2, "<|endoftext|>")));
    ck_assert(!lm_tokenizer_is_eog(gpt2, find_piece(gpt2, "Hello")));
    lm_tokenizer_free(gpt2);
}
END_TEST

/* ---- stop strings ---- */

/* Where the first stop to complete starts in text[0..n), or n with *hit false. */
static size_t ref_stop(const char *text, size_t n, const char *const *stops, int ns, bool *hit) {
    for (size_t e = 1; e <= n; e++) {
        size_t best = (size_t)-1;
        for (int k = 0; k < ns; k++) {
            size_t len = strlen(stops[k]);
            if (len <= e && !memcmp(text + e - len, stops[k], len) && e - len < best)
                best = e - len;
        }
        if (best != (size_t)-1) return *hit = true, best;
    }
    *hit = false;
    return n;
}

static bool utf8_whole(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int need, c = tok_utf8_char((const unsigned char *)s + i, n - i, &need);
        if (c == 0) return false;
        i += (size_t)c;
    }
    return true;
}

static struct lm_stop *stop_make(const char *const *stops, int n) {
    struct lm_stop *st;
    ck_assert_msg(lm_stop_create(stops, n, &st) == LM_OK, "%s", lm_last_error());
    return st;
}

START_TEST(stop_basic) {
    const char *stops[] = {"<END>", "\n\n"};
    struct lm_stop *st = stop_make(stops, 2);
    struct lm_text out = {0};
    ck_assert(!lm_stop_push(st, "Hello <E", 8, &out));
    ck_assert_str_eq(out.s, "Hello "); /* "<E" waits */
    ck_assert(!lm_stop_push(st, "x> and\n", 7, &out));
    ck_assert_str_eq(out.s, "Hello <Ex> and"); /* "\n" waits */
    ck_assert(lm_stop_push(st, "\nmore", 5, &out));
    ck_assert_str_eq(out.s, "Hello <Ex> and");
    ck_assert(lm_stop_push(st, "later", 5, &out)); /* done: nothing more */
    lm_stop_flush(st, &out);
    ck_assert_str_eq(out.s, "Hello <Ex> and");
    lm_stop_free(st);
    lm_text_free(&out);

    /* no stop strings: text passes through; flush releases what waits */
    st = stop_make(NULL, 0);
    ck_assert(!lm_stop_push(st, "abc", 3, &out));
    ck_assert(!lm_stop_push(st, "\xe4\xb8", 2, &out)); /* half a character waits */
    ck_assert_str_eq(out.s, "abc");
    ck_assert(!lm_stop_push(st, "\x96!", 2, &out));
    ck_assert_str_eq(out.s, "abc\xe4\xb8\x96!");
    ck_assert(!lm_stop_push(st, "\xf0\x9f", 2, &out));
    lm_stop_flush(st, &out);
    ck_assert_str_eq(out.s, "abc\xe4\xb8\x96!\xf0\x9f");
    lm_stop_free(st);
    lm_stop_free(NULL);
    lm_text_free(&out);

    /* a stop right at the start, and the text before a stop inside one piece */
    const char *s2[] = {"STOP"};
    st = stop_make(s2, 1);
    ck_assert(lm_stop_push(st, "STOPx", 5, &out));
    ck_assert_uint_eq(out.n, 0);
    lm_stop_free(st);
}
END_TEST

START_TEST(stop_overlap) {
    /* overlapping prefixes: the first stop to complete wins, wherever it starts */
    const char *stops[] = {"abcd", "bc", "aab"};
    const char *texts[] = {"xabcd", "xaabcd", "aaab", "abab", "aabx"};
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(texts[i]);
        bool hit;
        size_t want = ref_stop(texts[i], n, stops, 3, &hit);
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            struct lm_stop *st = stop_make(stops, 3);
            struct lm_text out = {0};
            bool got = false;
            if (bytewise)
                for (size_t j = 0; j < n && !got; j++)
                    got = lm_stop_push(st, texts[i] + j, 1, &out);
            else
                got = lm_stop_push(st, texts[i], n, &out);
            if (!got) lm_stop_flush(st, &out);
            ck_assert_msg(got == hit && out.n == want && (!want || !memcmp(out.s, texts[i], want)),
                          "'%s' (%s): got %d '%.*s'", texts[i], bytewise ? "bytes" : "whole", got,
                          (int)out.n, out.s ? out.s : "");
            lm_stop_free(st);
            lm_text_free(&out);
        }
    }
}
END_TEST

/* Random texts from a small alphabet (so stops occur, and partially occur, often), random
 * stops, random cuts: the output equals the reference, is whole UTF-8 at every step, and what
 * waits is never longer than the longest stop minus one byte (plus a cut character, at most 3
 * bytes, when the cuts fall inside characters). */
START_TEST(stop_random) {
    static const char *const alpha[] = {"a", "b", "\n", "\xc3\xa9" /* é */,
                                        "\xe4\xb8\x96" /* 世 */};
    struct tu_rng r = tu_rng(101);
    for (int iter = 0; iter < 3000; iter++) {
        char stops_buf[3][16];
        const char *stops[3];
        int ns = 1 + (int)(tu_next(&r) % 3);
        size_t max_len = 0;
        for (int k = 0; k < ns; k++) {
            stops_buf[k][0] = '\0';
            int len = 1 + (int)(tu_next(&r) % 3);
            for (int j = 0; j < len; j++)
                strcat(stops_buf[k], alpha[tu_next(&r) % 5]);
            stops[k] = stops_buf[k];
            if (strlen(stops[k]) > max_len) max_len = strlen(stops[k]);
        }
        char text[256] = "";
        int n_chars = (int)(tu_next(&r) % 40);
        for (int j = 0; j < n_chars; j++)
            strcat(text, alpha[tu_next(&r) % 5]);
        size_t n = strlen(text);
        bool hit;
        size_t want = ref_stop(text, n, stops, ns, &hit);
        bool bytes = iter % 3 == 0;
        struct lm_stop *st = stop_make(stops, ns);
        struct lm_text out = {0};
        bool got = false;
        size_t pos = 0;
        while (pos < n && !got) {
            size_t end = pos + 1 + tu_next(&r) % 6;
            if (!bytes) /* whole characters: extend to the next character start */
                while (end < n && (text[end] & 0xc0) == 0x80)
                    end++;
            if (end > n) end = n;
            got = lm_stop_push(st, text + pos, end - pos, &out);
            pos = end;
            ck_assert(utf8_whole(out.s ? out.s : "", out.n));
            if (!got) {
                size_t held = pos - out.n, bound = max_len - 1 + (bytes ? 3 : 0);
                ck_assert_msg(held <= bound, "held %zu bytes, max stop %zu", held, max_len);
            }
        }
        if (!got) lm_stop_flush(st, &out);
        ck_assert_msg(got == hit && out.n == want && (!want || !memcmp(out.s, text, want)),
                      "iter %d: text '%s' stops '%s' '%s': got %d %zu, want %d %zu", iter, text,
                      stops[0], ns > 1 ? stops[1] : "", got, out.n, hit, want);
        lm_stop_free(st);
        lm_text_free(&out);
    }
}
END_TEST

/* Pieces longer than the internal chunk, with stops across chunk edges. */
START_TEST(stop_long_piece) {
    enum { N = 5000 };
    char *text = malloc(N + 1);
    const char *stops[] = {"<|im_end|>", "###"};
    for (size_t at = 1000; at < 1040; at += 3) {
        for (int i = 0; i < N; i++)
            text[i] = (char)('a' + i % 23);
        text[N] = '\0';
        memcpy(text + at, "<|im_end|>", 10);
        memcpy(text + 3000, "##", 2);
        struct lm_stop *st = stop_make(stops, 2);
        struct lm_text out = {0};
        ck_assert(lm_stop_push(st, text, N, &out));
        ck_assert_uint_eq(out.n, at);
        ck_assert_int_eq(memcmp(out.s, text, at), 0);
        lm_stop_free(st);
        lm_text_free(&out);
    }
    free(text);
}
END_TEST

START_TEST(stop_utf8) {
    const char *stops[] = {"世界", "é!"};
    struct lm_stop *st = stop_make(stops, 2);
    struct lm_text out = {0};
    ck_assert(!lm_stop_push(st, "你好世", strlen("你好世"), &out));
    ck_assert_str_eq(out.s, "你好"); /* 世 may begin 世界 */
    ck_assert(!lm_stop_push(st, "人é", strlen("人é"), &out));
    ck_assert_str_eq(out.s, "你好世人");
    ck_assert(lm_stop_push(st, "!", 1, &out));
    ck_assert_str_eq(out.s, "你好世人");
    lm_stop_free(st);
    lm_text_free(&out);
}
END_TEST

START_TEST(stop_invalid) {
    struct lm_stop *st = (struct lm_stop *)&st;
    const char *empty[] = {"ok", ""};
    ck_assert_int_eq(lm_stop_create(empty, 2, &st), LM_EINVAL);
    ck_assert_ptr_null(st);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "stop[1]"));
    const char *null[] = {NULL};
    ck_assert_int_eq(lm_stop_create(null, 1, &st), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "stop[0]"));
    const char *bad[] = {"a", "b", "x\xe4\xb8"};
    ck_assert_int_eq(lm_stop_create(bad, 3, &st), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "stop[2]"));
    ck_assert_int_eq(lm_stop_create(bad, -1, &st), LM_EINVAL);
    ck_assert_int_eq(lm_stop_create(NULL, 2, &st), LM_EINVAL);
    ck_assert_int_eq(lm_stop_create(bad, 1, NULL), LM_EINVAL);
    ck_assert(!lm_stop_push(NULL, "a", 1, NULL));
    lm_stop_flush(NULL, NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("sampler");
    tcase_add_test(tc, params);
    tcase_add_test(tc, greedy);
    tcase_add_test(tc, bias);
    tcase_add_test(tc, bias_chain);
    tcase_add_test(tc, ties_and_infinities);
    tcase_add_test(tc, top_k_alone);
    tcase_add_test(tc, top_p_alone);
    tcase_add_test(tc, top_p_flat);
    tcase_add_test(tc, min_p_alone);
    tcase_add_test(tc, temperature);
    tcase_add_test(tc, chain);
    tcase_add_test(tc, large_vocab);
    tcase_add_test(tc, seeds);
    tcase_add_test(tc, penalties);
    tcase_add_test(tc, penalty_history);
    tcase_add_test(tc, eog);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("stop");
    tcase_add_test(ts, stop_basic);
    tcase_add_test(ts, stop_overlap);
    tcase_add_test(ts, stop_random);
    tcase_add_test(ts, stop_long_piece);
    tcase_add_test(ts, stop_utf8);
    tcase_add_test(ts, stop_invalid);
    suite_add_tcase(s, ts);
    return tu_run(s);
}
