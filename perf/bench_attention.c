/* perf/bench_attention.c - softmax, attention decode and RoPE through the ops, on the best
 * kernel level, at 1 and all physical cores.
 *
 *  - softmax over 1M floats as (1024 x 1024) and (65536 x 16); bytes = read + write.
 *  - attention of one query row over 4096 cached keys, hd 64, 9 query heads / 3 KV heads
 *    (SmolLM2's GQA 3:1), F32 and F16 K/V in a head-major cache; bytes = K + V. Each timed call
 * reads a different copy of the cache, rotating over copies that together exceed the last-level
 * cache several times, so K/V stream from memory as in decode. Bar: >= 50% of measured read
 * bandwidth.
 *  - RoPE on (64, 9, 512), both pairings; bytes = read + write.
 * Every case is checked against the reference level before it is timed; a mismatch prints
 * the error and exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/kernels.h"
#include "perf.h"

static void fill(float *x, int64_t n, uint64_t seed, float lo, float hi) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        x[i] = lo + (hi - lo) * (float)(((s * 0x2545F4914F6CDD1Dull) >> 40) * 0x1p-24);
    }
}

/* max |a - b| / (atol + rtol |b|) <= 1, else report and fail */
static void check(const char *what, const float *a, const float *b, int64_t n, double tol) {
    for (int64_t i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= tol * (1 + fabs((double)b[i])))) {
            fprintf(stderr, "bench_attention: %s differs from ref at %lld: %g vs %g\n", what,
                    (long long)i, (double)a[i], (double)b[i]);
            exit(1);
        }
}

static void must(lm_status s) {
    if (s != LM_OK) {
        fprintf(stderr, "bench_attention: %s\n", lm_last_error());
        exit(1);
    }
}

/* ---- softmax ----------------------------------------------------------------------------- */

struct sm_arg {
    struct lm_tensor *y, *x;
    struct lm_ctx *ctx;
};
static void sm_run(void *p) {
    struct sm_arg *a = p;
    must(lm_softmax(a->y, a->x, 1.0f, a->ctx));
}

static void bench_softmax(struct lm_ctx **ctxs, const int *th, int nth,
                          const struct perf_peak *pk) {
    const int64_t shapes[2][2] = {{1024, 1024}, {65536, 16}}, N = 1 << 20;
    float *x = lm_aligned_alloc(N * 4), *y = lm_aligned_alloc(N * 4), *w = lm_aligned_alloc(N * 4);
    if (!x || !y || !w) must(LM_ENOMEM);
    fill(x, N, 1, -10, 10);
    for (int s = 0; s < 2; s++) {
        const int64_t n = shapes[s][0], rows = shapes[s][1];
        struct lm_tensor xt = lm_tensor_2d(LM_F32, n, rows, x),
                         yt = lm_tensor_2d(LM_F32, n, rows, y);
        for (int64_t r = 0; r < rows; r++)
            lm_softmax_ref(w + r * n, x + r * n, 1.0f, n);
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)n, (long long)rows);
        for (int t = 0; t < nth; t++) {
            struct sm_arg a = {&yt, &xt, ctxs[t]};
            sm_run(&a);
            check("softmax", y, w, N, 4e-6);
            double ns = perf_time_ns(sm_run, &a, 0.3);
            perf_row("softmax", "f32", shape, th[t], ns, 0, (double)N * 8, pk);
        }
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(w);
}

/* ---- attention decode -------------------------------------------------------------------- */

enum { HD = 64, NH = 9, NKH = 3, NKV = 4096 };

struct at_arg {
    struct lm_tensor *o, *q, *k, *v; /* k, v: ncopy tensors each */
    int ncopy, next;
    struct lm_ctx *ctx;
};
static void at_run(void *p) {
    struct at_arg *a = p;
    const struct lm_attn_params prm = {.causal = true};
    must(lm_attention(a->o, a->q, &a->k[a->next], &a->v[a->next], &prm, a->ctx));
    a->next = (a->next + 1) % a->ncopy;
}

static void bench_attention(struct lm_ctx **ctxs, const int *th, int nth, struct lm_ctx *ref,
                            const struct perf_peak *pk) {
    float q[HD * NH], o[HD * NH], want[HD * NH];
    fill(q, HD * NH, 2, -2, 2);
    struct lm_tensor qt = lm_tensor_3d(LM_F32, HD, NH, 1, q),
                     ot = lm_tensor_3d(LM_F32, HD, NH, 1, o);
    for (int kv = 0; kv < 2; kv++) {
        const enum lm_dtype dt = kv ? LM_F16 : LM_F32;
        const size_t es = kv ? 2 : 4, one = (size_t)HD * NKH * NKV * es; /* K or V bytes */
        int ncopy = (int)(((size_t)160 << 20) / (2 * one)); /* ~160 MiB of caches: 5x the L3 */
        if (ncopy < 2) ncopy = 2;
        uint8_t *pool = lm_aligned_alloc(2 * one * (size_t)ncopy);
        struct lm_tensor *k = calloc((size_t)ncopy, sizeof *k),
                         *v = calloc((size_t)ncopy, sizeof *v);
        float *tmp = malloc((size_t)HD * NKH * NKV * 4);
        if (!pool || !k || !v || !tmp) must(LM_ENOMEM);
        for (int c = 0; c < ncopy; c++) {
            uint8_t *kb = pool + 2 * one * (size_t)c, *vb = kb + one;
            for (int part = 0; part < 2; part++) {
                fill(tmp, (int64_t)HD * NKH * NKV, 10 + 2 * (uint64_t)c + (uint64_t)part, -1, 1);
                if (kv)
                    for (int64_t i = 0; i < (int64_t)HD * NKH * NKV; i++)
                        ((uint16_t *)(part ? vb : kb))[i] = lm_f32_to_f16(tmp[i]);
                else
                    memcpy(part ? vb : kb, tmp, one);
            }
            /* head-major cache (each kv head's keys contiguous), viewed as (hd, n_kv_head,
             * n_kv): the layout a session keeps, so a decode step streams each head once */
            struct lm_tensor tk = lm_tensor_3d(dt, HD, NKV, NKH, kb),
                             tv = lm_tensor_3d(dt, HD, NKV, NKH, vb);
            must(lm_tensor_transpose(&k[c], &tk, 1, 2));
            must(lm_tensor_transpose(&v[c], &tv, 1, 2));
        }
        for (int t = 0; t < nth; t++) {
            struct at_arg a = {&ot, &qt, k, v, ncopy, 0, ref};
            at_run(&a); /* reference answer for copy 0 */
            memcpy(want, o, sizeof o);
            a.ctx = ctxs[t], a.next = 0;
            at_run(&a);
            check(kv ? "attention f16" : "attention f32", o, want, HD * NH, 2e-5);
            double ns = perf_time_ns(at_run, &a, 0.5);
            perf_row("attention", kv ? "f16" : "f32", "hd64 9/3 heads 1x4096", th[t], ns,
                     4.0 * NH * NKV * HD, 2.0 * (double)one, pk);
        }
        lm_aligned_free(pool), free(k), free(v), free(tmp);
    }
}

/* ---- rope -------------------------------------------------------------------------------- */

struct rp_arg {
    struct lm_tensor *y, *x, *pos;
    const struct lm_rope_params *p;
    struct lm_ctx *ctx;
};
static void rp_run(void *p) {
    struct rp_arg *a = p;
    must(lm_rope(a->y, a->x, a->pos, a->p, a->ctx));
}

static void bench_rope(struct lm_ctx **ctxs, const int *th, int nth, struct lm_ctx *ref,
                       const struct perf_peak *pk) {
    enum { RH = 64, RN = 9, RT = 512, RE = RH * RN * RT };
    float *x = lm_aligned_alloc(RE * 4), *y = lm_aligned_alloc(RE * 4),
          *w = lm_aligned_alloc(RE * 4);
    int32_t *pos = lm_aligned_alloc(RT * 4);
    if (!x || !y || !w || !pos) must(LM_ENOMEM);
    fill(x, RE, 3, -2, 2);
    for (int i = 0; i < RT; i++)
        pos[i] = 100 + i;
    struct lm_tensor xt = lm_tensor_3d(LM_F32, RH, RN, RT, x),
                     yt = lm_tensor_3d(LM_F32, RH, RN, RT, y), pt = lm_tensor_1d(LM_I32, RT, pos);
    for (int mode = 0; mode < 2; mode++) {
        struct lm_rope_params p = {.base = 10000, .mode = (enum lm_rope_mode)mode};
        struct rp_arg a = {&yt, &xt, &pt, &p, ref};
        rp_run(&a);
        memcpy(w, y, RE * 4);
        for (int t = 0; t < nth; t++) {
            a.ctx = ctxs[t];
            rp_run(&a);
            check("rope", y, w, RE, 2e-6);
            double ns = perf_time_ns(rp_run, &a, 0.3);
            perf_row(mode ? "rope_half" : "rope_adjacent", "f32", "64x9x512", th[t], ns, 3.0 * RE,
                     8.0 * RE, pk);
        }
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(w), lm_aligned_free(pos);
}

int main(void) {
    struct perf_peak pk;
    perf_peak_get(&pk);
    int th[8];
    const int nth = perf_thread_counts(th, 8);
    struct lm_ctx *ctxs[8], *ref;
    for (int t = 0; t < nth; t++)
        must(lm_ctx_create(th[t], &ctxs[t]));
    must(lm_ctx_create(1, &ref));
    must(lm_ctx_set_isa(ref, LM_ISA_REF));
    perf_header();
    bench_softmax(ctxs, th, nth, &pk);
    bench_attention(ctxs, th, nth, ref, &pk);
    bench_rope(ctxs, th, nth, ref, &pk);
    for (int t = 0; t < nth; t++)
        lm_ctx_free(ctxs[t]);
    lm_ctx_free(ref);
    return 0;
}
