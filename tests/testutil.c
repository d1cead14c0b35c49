/* tests/testutil.c - shared test helpers (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t tu_next(struct tu_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

float tu_uniform(struct tu_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((tu_next(r) >> 40) * 0x1p-24);
}

float tu_normal(struct tu_rng *r) {
    double u1 = ((tu_next(r) >> 11) + 1) * 0x1p-53, u2 = (tu_next(r) >> 11) * 0x1p-53;
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

void tu_fill(float *x, int64_t n, struct tu_rng *r, float lo, float hi) {
    for (int64_t i = 0; i < n; i++)
        x[i] = tu_uniform(r, lo, hi);
}

void tu_assert_close(const char *label, const float *got, const float *want, int64_t n, float atol,
                     float rtol) {
    double worst = 0;
    int64_t wi = -1;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) || isnan(got[i])) {
            ck_assert_msg(isnan(want[i]) && isnan(got[i]), "%s: [%lld] got %.9g want %.9g", label,
                          (long long)i, (double)got[i], (double)want[i]);
            continue;
        }
        if (isinf(want[i]) || isinf(got[i])) {
            ck_assert_msg(got[i] == want[i], "%s: [%lld] got %.9g want %.9g", label, (long long)i,
                          (double)got[i], (double)want[i]);
            continue;
        }
        double e = fabs((double)got[i] - want[i]) / (atol + rtol * fabs((double)want[i]));
        if (e > worst) worst = e, wi = i;
    }
    ck_assert_msg(worst <= 1.0,
                  "%s: [%lld] got %.9g want %.9g (%.3g x tolerance atol %g rtol %g, n %lld)", label,
                  (long long)wi, wi >= 0 ? (double)got[wi] : 0.0, wi >= 0 ? (double)want[wi] : 0.0,
                  worst, (double)atol, (double)rtol, (long long)n);
}

void tu_assert_equal_f32(const char *label, const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], 4) == 0, "%s: [%lld] got %.9g want %.9g", label,
                      (long long)i, (double)got[i], (double)want[i]);
}

struct lm_ctx *tu_ctx(int n_threads, enum lm_isa isa) {
    struct lm_ctx *ctx = NULL;
    ck_assert_msg(lm_ctx_create(n_threads, &ctx) == LM_OK, "ctx: %s", lm_last_error());
    ck_assert_msg(lm_ctx_set_isa(ctx, isa) == LM_OK, "ctx isa: %s", lm_last_error());
    return ctx;
}

int tu_simd_levels(enum lm_isa *out) {
    int n = 0;
    for (int i = 1; i < LM_ISA_COUNT; i++)
        if (lm_isa_available((enum lm_isa)i)) out[n++] = (enum lm_isa)i;
    return n;
}

void *tu_alloc(size_t n) {
    void *p = lm_aligned_alloc(n);
    ck_assert_msg(p != NULL, "alloc %zu: %s", n, lm_last_error());
    return p;
}

int tu_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const char *tu_model_path(const char *rel) {
    static char path[8][1024];
    static int k;
    char *p = path[k++ & 7];
    const char *d = getenv("LMRT_MODELS");
    snprintf(p, sizeof path[0], "%s/%s", d && *d ? d : "build/models", rel);
    ck_assert_msg(access(p, R_OK) == 0,
                  "%s is missing: run tools/fetch_models.sh (or set LMRT_MODELS)", p);
    return p;
}
