/* tests/testutil.h - what the Check suites share: seeded random data, tolerant comparisons,
 * contexts pinned to a kernel level and thread count, and the suite runner.
 *
 * Comparisons report the first offending index with both values, so a failure says where.
 */
#ifndef LMRT_TESTUTIL_H
#define LMRT_TESTUTIL_H

#include <check.h>
#include <stdint.h>

#include "../rt/lmrt.h"
#include "../simd/kernels.h"

/* xorshift64*: deterministic across machines */
struct tu_rng {
    uint64_t s;
};
static inline struct tu_rng tu_rng(uint64_t seed) {
    return (struct tu_rng){seed * 0x9E3779B97F4A7C15ull + 1};
}
uint64_t tu_next(struct tu_rng *r);
float tu_uniform(struct tu_rng *r, float lo, float hi); /* [lo, hi) */
float tu_normal(struct tu_rng *r);
void tu_fill(float *x, int64_t n, struct tu_rng *r, float lo, float hi);

/* Max |got - want| / (atol + rtol * |want|) over n; <= 1 passes. NaN must match NaN. Fails the
 * test with the worst index, values and the label on error. */
void tu_assert_close(const char *label, const float *got, const float *want, int64_t n, float atol,
                     float rtol);
/* Bit-exact (NaN payloads included). */
void tu_assert_equal_f32(const char *label, const float *got, const float *want, int64_t n);

/* A context of n threads on level isa; fails the test if it cannot be made. */
struct lm_ctx *tu_ctx(int n_threads, enum lm_isa isa);

/* Levels with kernels other than ref that this build and CPU run, for "kernel vs ref" loops. */
int tu_simd_levels(enum lm_isa *out); /* returns count, out has LM_ISA_COUNT room */

/* $LMRT_MODELS/rel (default build/models, filled by tools/fetch_models.sh, which also stages
 * the llama.cpp peer vectors under peer-vectors/). The file must exist: a missing model fails
 * the test, it never skips it. The 8 most recent results stay valid. */
const char *tu_model_path(const char *rel);

void *tu_alloc(size_t n); /* 64-byte aligned, zeroed; fails the test on ENOMEM */

/* Run one suite (CK_ENV honoured); returns the process exit status. */
int tu_run(Suite *s);

#endif
