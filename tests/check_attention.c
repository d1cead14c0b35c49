/* tests/check_attention.c - softmax, RoPE and attention: every SIMD kernel against its
 * reference, the ops against independent implementations written here (closed-form RoPE, a
 * naive attention with the full score matrix in double), visibility rules, thread counts and
 * bad arguments.
 *
 * Tolerances (|got - want| <= atol + rtol |want|):
 *  - softmax kernel vs ref: rtol 4e-6, atol 1e-12. v - max is rounded to f32 in the kernel (0.5
 *    ulp of |v - max|: 1.2e-6 relative in exp for the |v - max| <= 20 that carry weight, up to
 *    5e-6 relative for outputs below 1e-30, which the test data keeps away from), SLEEF expf is
 *    1 ulp, the f32 sum of <= 257 terms adds ~1e-6 at worst.
 *  - rope kernel vs ref and op vs closed form: atol 1e-6 for |x| <= 4, rtol 1e-6. Each output
 *    is a c - b s: f32 FMA vs one rounding in double is ~1 ulp of |a| + |b|; cos/sin are f32.
 *  - attention, SIMD kernel vs ref and op vs naive: atol 2e-5, rtol 2e-5 for |v| <= 1. Scores are
 *    f32 dot products over hd <= 128 (~1e-6 relative of sum |q k| * scale), exp is 1 ulp,
 *    running sums and P V accumulate in f32 over up to 4096 keys; the worst seen is ~2e-6
 *    (outputs are convex combinations of V rows, so absolute error is bounded by |v|).
 *  - attention, reference kernel vs naive: atol 1e-6, rtol 1e-6 (both in double; only the
 *    final rounding to f32 and exp's order of evaluation differ).
 * Threads 1, 2 and 3 must give bit-identical results for the same kernel level.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- softmax ----------------------------------------------------------------------------- */

START_TEST(softmax_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(11);
    float *x = tu_alloc(300 * 4), *want = tu_alloc(300 * 4), *got = tu_alloc(300 * 4);
    const float scales[] = {1.0f, 0.125f, -2.5f, 3.0f};
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t n = 1; n <= 257; n++)
            for (int si = 0; si < 4; si++)
                for (int kind = 0; kind < 3; kind++) {
                    tu_fill(x, n, &r, -6, 6);
                    if (kind == 1) /* about a quarter masked, as attention scores would be */
                        for (int64_t i = 0; i < n; i++)
                            if (tu_next(&r) % 4 == 0) x[i] = -INFINITY;
                    if (kind == 2) /* huge magnitudes: only the max-subtraction keeps them finite */
                        for (int64_t i = 0; i < n; i++)
                            x[i] = x[i] * 1e36f;
                    lm_softmax_ref(want, x, scales[si], n);
                    k->softmax(got, x, scales[si], n);
                    tu_assert_close(lm_isa_name(lv[l]), got, want, n, 1e-12f, 4e-6f);
                    k->softmax(x, x, scales[si], n); /* in place */
                    tu_assert_close("in place", x, want, n, 1e-12f, 4e-6f);
                }
    }
    lm_aligned_free(x), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* Special rows, with values worked out by hand, for the reference and every SIMD level. */
START_TEST(softmax_edge_rows) {
    const struct lm_kernels *ks[LM_ISA_COUNT];
    int nk = 0;
    for (int i = 0; i < LM_ISA_COUNT; i++)
        if (lm_isa_available((enum lm_isa)i)) ks[nk++] = lm_kernels_get((enum lm_isa)i);
    float x[21], y[21], want[21];
    for (int l = 0; l < nk; l++) {
        const char *lab = lm_isa_name(ks[l]->isa);
        for (int n = 1; n <= 21; n += 4) {
            /* all -inf: zeros (documented choice) */
            for (int i = 0; i < n; i++)
                x[i] = -INFINITY, want[i] = 0;
            ks[l]->softmax(y, x, 1.0f, n);
            tu_assert_equal_f32(lab, y, want, n);
            /* one finite among -inf: exactly 1 there */
            x[n / 2] = -1e30f;
            want[n / 2] = 1;
            ks[l]->softmax(y, x, 1.0f, n);
            tu_assert_equal_f32(lab, y, want, n);
            /* NaN among -inf, and NaN among finite values: all NaN */
            x[n / 2] = NAN;
            for (int i = 0; i < n; i++)
                want[i] = NAN;
            ks[l]->softmax(y, x, 1.0f, n);
            tu_assert_close(lab, y, want, n, 0, 0);
            for (int i = 0; i < n; i++)
                x[i] = (float)i;
            x[n - 1] = NAN;
            ks[l]->softmax(y, x, 1.0f, n);
            tu_assert_close(lab, y, want, n, 0, 0);
            /* +inf: NaN (inf - inf), as in PyTorch */
            x[n - 1] = INFINITY;
            ks[l]->softmax(y, x, 1.0f, n);
            tu_assert_close(lab, y, want, n, 0, 0);
            /* equal values (zeros, denormals, huge): uniform 1/n */
            const float vals[] = {0.0f, 1e-40f, -3e38f, 3e38f};
            for (int c = 0; c < 4; c++) {
                for (int i = 0; i < n; i++)
                    x[i] = vals[c], want[i] = 1.0f / (float)n;
                ks[l]->softmax(y, x, 1.0f, n);
                tu_assert_close(lab, y, want, n, 0, 2e-7f);
            }
            /* scale 0: uniform as well */
            for (int i = 0; i < n; i++)
                x[i] = (float)(i * 7 % 5) - 2;
            ks[l]->softmax(y, x, 0.0f, n);
            tu_assert_close(lab, y, want, n, 0, 2e-7f);
        }
        /* two values: softmax(a, b) = (1 / (1 + e^(b-a)), ...) */
        x[0] = 1.5f, x[1] = -0.5f;
        ks[l]->softmax(y, x, 2.0f, 2);
        want[0] = (float)(1 / (1 + exp(-4.0))), want[1] = (float)(1 / (1 + exp(4.0)));
        tu_assert_close(lab, y, want, 2, 0, 4e-7f);
    }
}
END_TEST

/* The op over a transposed view, 1..3 threads: bit-identical per level and close to the ref. */
START_TEST(softmax_op_strided_threads) {
    const int64_t n = 53, rows = 13;
    struct tu_rng r = tu_rng(5);
    float *buf = tu_alloc(n * rows * 4), *want = tu_alloc(n * rows * 4),
          *got = tu_alloc(n * rows * 4), *first = tu_alloc(n * rows * 4), *col = tu_alloc(n * 4);
    tu_fill(buf, n * rows, &r, -8, 8);
    buf[3] = -INFINITY;
    for (int64_t j = 0; j < n; j++) /* row 4 of the view fully masked */
        buf[j * rows + 4] = -INFINITY;
    struct lm_tensor t = lm_tensor_2d(LM_F32, rows, n, buf), xt;
    ck_assert_int_eq(lm_tensor_transpose(&xt, &t, 0, 1), LM_OK);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < n; j++)
            col[j] = buf[j * rows + i];
        lm_softmax_ref(want + i * n, col, 0.7f, n);
    }
    struct lm_tensor y = lm_tensor_2d(LM_F32, n, rows, got);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 3; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            memset(got, 0xff, (size_t)(n * rows * 4));
            ck_assert_int_eq(lm_softmax(&y, &xt, 0.7f, ctx), LM_OK);
            tu_assert_close("softmax op", got, want, n * rows, 1e-12f, 4e-6f);
            if (th == 1)
                memcpy(first, got, (size_t)(n * rows * 4));
            else
                tu_assert_equal_f32("softmax threads", got, first, n * rows);
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(buf), lm_aligned_free(want), lm_aligned_free(got), lm_aligned_free(first);
    lm_aligned_free(col);
}
END_TEST

START_TEST(softmax_op_bad_args) {
    float a[8] = {0}, b[8] = {0};
    int32_t ib[8] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor x = lm_tensor_2d(LM_F32, 4, 2, a), y = lm_tensor_2d(LM_F32, 2, 4, b);
    ck_assert_int_eq(lm_softmax(&y, &x, 1.0f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "softmax"));
    struct lm_tensor y2 = lm_tensor_2d(LM_F32, 4, 2, b), xi = lm_tensor_2d(LM_I32, 4, 2, ib);
    ck_assert_int_eq(lm_softmax(&y2, &xi, 1.0f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "softmax"));
    ck_assert_int_eq(lm_softmax(&y2, &x, NAN, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "softmax"));
    ck_assert_int_eq(lm_softmax(&y2, &x, 1.0f, NULL), LM_EINVAL);
    ck_assert_int_eq(lm_softmax(&y2, NULL, 1.0f, ctx), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

/* ---- rope -------------------------------------------------------------------------------- */

START_TEST(rope_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(21);
    float *x = tu_alloc(160 * 4), *cs = tu_alloc(160 * 4), *want = tu_alloc(160 * 4),
          *got = tu_alloc(160 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t hd = 2; hd <= 136; hd++)
            for (int64_t n_rot = 2; n_rot <= hd; n_rot += (hd > 40 ? 6 : 2))
                for (int mode = 0; mode < 2; mode++) {
                    tu_fill(x, hd, &r, -4, 4);
                    for (int64_t i = 0; i < n_rot / 2; i++) {
                        double th = tu_uniform(&r, -7, 7);
                        cs[2 * i] = (float)cos(th), cs[2 * i + 1] = (float)sin(th);
                    }
                    lm_rope_ref(want, x, cs, hd, n_rot, (enum lm_rope_mode)mode);
                    memset(got, 0, 160 * 4);
                    k->rope(got, x, cs, hd, n_rot, (enum lm_rope_mode)mode);
                    tu_assert_close(mode ? "rope half" : "rope adjacent", got, want, hd, 1e-6f,
                                    1e-6f);
                    ck_assert_msg(got[hd] == 0, "rope wrote past hd %lld", (long long)hd);
                    k->rope(x, x, cs, hd, n_rot, (enum lm_rope_mode)mode); /* in place */
                    tu_assert_close("rope in place", x, want, hd, 1e-6f, 1e-6f);
                }
    }
    lm_aligned_free(x), lm_aligned_free(cs), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* Independent closed form: theta_i = p * fs * base^(-2i/n_rot) / ff_i, written out here. */
static void rope_closed(float *y, const float *x, int64_t hd, int64_t n_rot, int32_t pos,
                        double base, double fs, const float *ff, int mode) {
    for (int64_t d = 0; d < hd; d++)
        y[d] = x[d];
    for (int64_t i = 0; i < n_rot / 2; i++) {
        double th = pos * fs / pow(base, (double)(2 * i) / (double)n_rot);
        if (ff) th /= ff[i];
        int64_t a = mode == LM_ROPE_ADJACENT ? 2 * i : i;
        int64_t b = mode == LM_ROPE_ADJACENT ? 2 * i + 1 : i + n_rot / 2;
        y[a] = (float)(x[a] * cos(th) - x[b] * sin(th));
        y[b] = (float)(x[b] * cos(th) + x[a] * sin(th));
    }
}

/* A few values worked by hand, then the op (positions, threads, strided x) vs the closed form. */
START_TEST(rope_closed_form) {
    /* hd 4, pos 1, base 10000: theta = (1, 0.01). ADJACENT pairs (0,1) (2,3); HALF (0,2) (1,3). */
    float x4[4] = {1, 2, 3, 4}, y4[4], e4[4];
    int32_t one = 1;
    struct lm_tensor xt = lm_tensor_3d(LM_F32, 4, 1, 1, x4), yt = lm_tensor_3d(LM_F32, 4, 1, 1, y4),
                     pt = lm_tensor_1d(LM_I32, 1, &one);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        struct lm_ctx *ctx = tu_ctx(1, (enum lm_isa)isa);
        struct lm_rope_params p = {.base = 10000, .mode = LM_ROPE_ADJACENT};
        ck_assert_int_eq(lm_rope(&yt, &xt, &pt, &p, ctx), LM_OK);
        e4[0] = (float)(cos(1.0) - 2 * sin(1.0)), e4[1] = (float)(sin(1.0) + 2 * cos(1.0));
        e4[2] = (float)(3 * cos(0.01) - 4 * sin(0.01)),
        e4[3] = (float)(3 * sin(0.01) + 4 * cos(0.01));
        tu_assert_close("rope adjacent by hand", y4, e4, 4, 1e-6f, 1e-6f);
        p.mode = LM_ROPE_HALF;
        ck_assert_int_eq(lm_rope(&yt, &xt, &pt, &p, ctx), LM_OK);
        e4[0] = (float)(cos(1.0) - 3 * sin(1.0)), e4[2] = (float)(3 * cos(1.0) + sin(1.0));
        e4[1] = (float)(2 * cos(0.01) - 4 * sin(0.01)),
        e4[3] = (float)(4 * cos(0.01) + 2 * sin(0.01));
        tu_assert_close("rope half by hand", y4, e4, 4, 1e-6f, 1e-6f);
        /* position 0 is the identity, bit for bit (cos 0 = 1, sin 0 = 0) */
        int32_t zero = 0;
        struct lm_tensor p0 = lm_tensor_1d(LM_I32, 1, &zero);
        p.n_rot = 2;
        ck_assert_int_eq(lm_rope(&yt, &xt, &p0, &p, ctx), LM_OK);
        tu_assert_equal_f32("rope pos 0", y4, x4, 4);
        lm_ctx_free(ctx);
    }

    /* (hd 40, 5 heads, 7 tokens), n_rot 32, freq_scale and freq_factors, x a transposed view */
    enum { HD = 40, NH = 5, NT = 7, NR = 32 };
    const int32_t pos[NT] = {0, 5, 100, 3, 4096, 1, 70000};
    float ff[NR / 2];
    for (int i = 0; i < NR / 2; i++)
        ff[i] = 1.0f + 0.25f * (float)i;
    struct tu_rng r = tu_rng(3);
    float *buf = tu_alloc(HD * NH * NT * 4), *want = tu_alloc(HD * NH * NT * 4),
          *got = tu_alloc(HD * NH * NT * 4), *first = tu_alloc(HD * NH * NT * 4), row[HD];
    tu_fill(buf, HD * NH * NT, &r, -2, 2);
    /* buf holds (NH, HD, NT); swapping dims 0 and 1 gives (HD, NH, NT) with nb[0] = 4 NH */
    struct lm_tensor bt = lm_tensor_3d(LM_F32, NH, HD, NT, buf), xv;
    ck_assert_int_eq(lm_tensor_transpose(&xv, &bt, 0, 1), LM_OK);
    struct lm_tensor y = lm_tensor_3d(LM_F32, HD, NH, NT, got),
                     pt7 = lm_tensor_1d(LM_I32, NT, (void *)pos);
    for (int mode = 0; mode < 2; mode++)
        for (int fcase = 0; fcase < 2; fcase++) {
            struct lm_rope_params p = {.n_rot = NR,
                                       .base = fcase ? 500000.0f : 10000.0f,
                                       .freq_scale = fcase ? 0.25f : 0.0f,
                                       .freq_factors = fcase ? ff : NULL,
                                       .mode = (enum lm_rope_mode)mode};
            for (int t = 0; t < NT; t++)
                for (int h = 0; h < NH; h++) {
                    for (int d = 0; d < HD; d++)
                        row[d] = buf[(t * HD + d) * NH + h];
                    rope_closed(want + (t * NH + h) * HD, row, HD, NR, pos[t], p.base,
                                fcase ? 0.25 : 1.0, p.freq_factors, mode);
                }
            for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
                if (!lm_isa_available((enum lm_isa)isa)) continue;
                for (int th = 1; th <= 3; th++) {
                    struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                    ck_assert_int_eq(lm_rope(&y, &xv, &pt7, &p, ctx), LM_OK);
                    /* positions up to 70000: theta ~ 7e4 rad, f32 cos/sin of a double angle */
                    tu_assert_close("rope op", got, want, HD * NH * NT, 2e-6f, 1e-6f);
                    if (th == 1)
                        memcpy(first, got, sizeof(float) * HD * NH * NT);
                    else
                        tu_assert_equal_f32("rope threads", got, first, HD * NH * NT);
                    lm_ctx_free(ctx);
                }
            }
        }
    lm_aligned_free(buf), lm_aligned_free(want), lm_aligned_free(got), lm_aligned_free(first);
}
END_TEST

START_TEST(rope_op_bad_args) {
    float a[16] = {0}, b[16] = {0}, fpos[2] = {0};
    int32_t pos[3] = {0, 1, 2};
    float ffbad[2] = {1, 0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor x = lm_tensor_3d(LM_F32, 4, 2, 2, a), y = lm_tensor_3d(LM_F32, 4, 2, 2, b);
    struct lm_tensor p2 = lm_tensor_1d(LM_I32, 2, pos), p3 = lm_tensor_1d(LM_I32, 3, pos),
                     pf = lm_tensor_1d(LM_F32, 2, fpos);
    struct lm_rope_params p = {.base = 10000, .mode = LM_ROPE_HALF};
    ck_assert_int_eq(lm_rope(&y, &x, &p2, &p, ctx), LM_OK);
    ck_assert_int_eq(lm_rope(&y, &x, &pf, &p, ctx), LM_EINVAL); /* pos not i32 */
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "rope"));
    ck_assert_int_eq(lm_rope(&y, &x, &p3, &p, ctx), LM_EINVAL); /* 3 positions, 2 tokens */
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "rope"));
    ck_assert_int_eq(lm_rope(&y, &x, NULL, &p, ctx), LM_EINVAL);
    p.n_rot = 3;
    ck_assert_int_eq(lm_rope(&y, &x, &p2, &p, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "n_rot"));
    p.n_rot = 6;
    ck_assert_int_eq(lm_rope(&y, &x, &p2, &p, ctx), LM_EINVAL);
    p.n_rot = 4, p.base = 0;
    ck_assert_int_eq(lm_rope(&y, &x, &p2, &p, ctx), LM_EINVAL);
    p.base = 10000, p.freq_factors = ffbad;
    ck_assert_int_eq(lm_rope(&y, &x, &p2, &p, ctx), LM_EINVAL);
    p.freq_factors = NULL, p.mode = (enum lm_rope_mode)7;
    ck_assert_int_eq(lm_rope(&y, &x, &p2, &p, ctx), LM_EINVAL);
    p.mode = LM_ROPE_ADJACENT;
    struct lm_tensor y2 = lm_tensor_3d(LM_F32, 4, 4, 1, b);
    ck_assert_int_eq(lm_rope(&y2, &x, &p2, &p, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_rope(&y, &x, &p2, NULL, ctx), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

/* ---- attention --------------------------------------------------------------------------- */

/* Naive attention for one query vector against kv head rows, visibility given per key: full
 * score vector in double, softmax, times V. Zeros when nothing is visible. */
static void naive_one(float *o, const float *q, const float *K, const float *V, const bool *vis,
                      int64_t n_kv, int64_t hd, int64_t ld, double scale, double *s) {
    double m = -INFINITY;
    for (int64_t j = 0; j < n_kv; j++) {
        s[j] = -INFINITY;
        if (!vis[j]) continue;
        double d = 0;
        for (int64_t e = 0; e < hd; e++)
            d += (double)q[e] * K[j * ld + e];
        s[j] = d * scale;
        if (s[j] > m) m = s[j];
    }
    double z = 0;
    for (int64_t j = 0; j < n_kv; j++)
        z += vis[j] ? exp(s[j] - m) : 0;
    for (int64_t e = 0; e < hd; e++) {
        double acc = 0;
        for (int64_t j = 0; j < n_kv; j++)
            if (vis[j]) acc += exp(s[j] - m) / z * V[j * ld + e];
        o[e] = z > 0 ? (float)acc : 0.0f;
    }
}

struct acase {
    const char *name;
    int64_t hd, n_head, n_kv_head, n_q, n_kv;
    enum lm_dtype kv;
    bool causal;
    int32_t window;
    float scale, qamp;
    const int32_t *q_pos, *k_pos, *q_seq, *k_seq;
    bool q_strided, kv_head_major; /* q a transposed view; k, v cache laid out (hd, n_kv, head) */
};

/* Run c through the op on every level and 1..3 threads, against the naive version. */
static void run_case(struct acase cs, uint64_t seed) {
    const struct acase *c = &cs;
    const int64_t hd = c->hd, H = c->n_head, HK = c->n_kv_head, NQ = c->n_q, NK = c->n_kv;
    const int64_t G = H / HK, es = c->kv == LM_F16 ? 2 : 4;
    struct tu_rng r = tu_rng(seed);
    float *qb = tu_alloc((size_t)(hd * H * NQ) * 4), *kf = tu_alloc((size_t)(hd * HK * NK) * 4),
          *vf = tu_alloc((size_t)(hd * HK * NK) * 4);
    uint8_t *kb = tu_alloc((size_t)(hd * HK * NK * es)),
            *vb = tu_alloc((size_t)(hd * HK * NK * es));
    const int64_t ldo = hd + 3; /* o rows padded: a sliced view */
    float *ob = tu_alloc((size_t)(ldo * H * NQ) * 4), *want = tu_alloc((size_t)(hd * H * NQ) * 4),
          *got = tu_alloc((size_t)(hd * H * NQ) * 4), *first = tu_alloc((size_t)(hd * H * NQ) * 4);
    double *s = tu_alloc((size_t)NK * 8);
    bool *vis = tu_alloc((size_t)NK);
    float *qrow = tu_alloc((size_t)hd * 4);
    tu_fill(qb, hd * H * NQ, &r, -c->qamp, c->qamp);
    tu_fill(kf, hd * HK * NK, &r, -1, 1);
    tu_fill(vf, hd * HK * NK, &r, -1, 1);
    /* the cache as stored: kb, vb in (hd, HK, NK) or (hd, NK, HK) order; kf, vf keep the values
     * the kernels will see (rounded to f16 when the cache is f16), indexed [head][key][d] */
    float *kn = tu_alloc((size_t)(hd * HK * NK) * 4), *vn = tu_alloc((size_t)(hd * HK * NK) * 4);
    for (int64_t h = 0; h < HK; h++)
        for (int64_t j = 0; j < NK; j++)
            for (int64_t d = 0; d < hd; d++) {
                int64_t src = (j * HK + h) * hd + d;
                int64_t dst = c->kv_head_major ? (h * NK + j) * hd + d : src;
                if (c->kv == LM_F16) {
                    uint16_t hk = lm_f32_to_f16(kf[src]), hv = lm_f32_to_f16(vf[src]);
                    ((uint16_t *)kb)[dst] = hk, ((uint16_t *)vb)[dst] = hv;
                    kn[(h * NK + j) * hd + d] = lm_f16_to_f32(hk);
                    vn[(h * NK + j) * hd + d] = lm_f16_to_f32(hv);
                } else {
                    ((float *)kb)[dst] = kf[src], ((float *)vb)[dst] = vf[src];
                    kn[(h * NK + j) * hd + d] = kf[src], vn[(h * NK + j) * hd + d] = vf[src];
                }
            }

    /* tensors */
    struct lm_tensor q, k, v, o, obig;
    if (c->q_strided) { /* qb holds (H, hd, NQ); the view swaps dims 0 and 1 */
        struct lm_tensor t = lm_tensor_3d(LM_F32, H, hd, NQ, qb);
        ck_assert_int_eq(lm_tensor_transpose(&q, &t, 0, 1), LM_OK);
    } else
        q = lm_tensor_3d(LM_F32, hd, H, NQ, qb);
    if (c->kv_head_major) {
        struct lm_tensor tk = lm_tensor_3d(c->kv, hd, NK, HK, kb),
                         tv = lm_tensor_3d(c->kv, hd, NK, HK, vb);
        ck_assert_int_eq(lm_tensor_transpose(&k, &tk, 1, 2), LM_OK);
        ck_assert_int_eq(lm_tensor_transpose(&v, &tv, 1, 2), LM_OK);
    } else {
        k = lm_tensor_3d(c->kv, hd, HK, NK, kb);
        v = lm_tensor_3d(c->kv, hd, HK, NK, vb);
    }
    obig = lm_tensor_3d(LM_F32, ldo, H, NQ, ob);
    ck_assert_int_eq(lm_tensor_slice(&o, &obig, 0, 0, hd), LM_OK);

    /* the naive answer, visibility straight from the rule in lmrt.h */
    const double scale = c->scale != 0 ? c->scale : 1.0 / sqrt((double)hd);
    for (int64_t i = 0; i < NQ; i++) {
        int64_t qp = c->q_pos ? c->q_pos[i] : NK - NQ + i;
        int32_t qs = c->q_seq ? c->q_seq[i] : 0;
        for (int64_t j = 0; j < NK; j++) {
            int64_t kp = c->k_pos ? c->k_pos[j] : j;
            int32_t ksq = c->k_seq ? c->k_seq[j] : 0;
            vis[j] = ksq >= 0 && ksq == qs && (!c->causal || kp <= qp) &&
                     (c->window <= 0 || qp - kp < c->window);
        }
        for (int64_t h = 0; h < H; h++) {
            for (int64_t d = 0; d < hd; d++)
                qrow[d] = *(const float *)((const char *)lm_tensor_row(&q, h, i, 0) + d * q.nb[0]);
            const int64_t kh = h / G;
            naive_one(want + (i * H + h) * hd, qrow, kn + kh * NK * hd, vn + kh * NK * hd, vis, NK,
                      hd, hd, scale, s);
        }
    }

    struct lm_attn_params p = {.scale = c->scale,
                               .causal = c->causal,
                               .window = c->window,
                               .q_pos = c->q_pos,
                               .k_pos = c->k_pos,
                               .q_seq = c->q_seq,
                               .k_seq = c->k_seq};
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        const float tol = isa == LM_ISA_REF ? 1e-6f : 2e-5f;
        for (int th = 1; th <= 3; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            memset(ob, 0xff, (size_t)(ldo * H * NQ) * 4); /* NaN: unwritten outputs show */
            ck_assert_msg(lm_attention(&o, &q, &k, &v, &p, ctx) == LM_OK, "%s: %s", c->name,
                          lm_last_error());
            for (int64_t i = 0; i < NQ; i++)
                for (int64_t h = 0; h < H; h++)
                    memcpy(got + (i * H + h) * hd, lm_tensor_row(&o, h, i, 0), (size_t)hd * 4);
            char lab[160];
            snprintf(lab, sizeof lab, "%s [%s, %d threads]", c->name, lm_isa_name((enum lm_isa)isa),
                     th);
            tu_assert_close(lab, got, want, hd * H * NQ, tol, tol);
            if (th == 1)
                memcpy(first, got, (size_t)(hd * H * NQ) * 4);
            else
                tu_assert_equal_f32(lab, got, first, hd * H * NQ);
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(qb), lm_aligned_free(kf), lm_aligned_free(vf), lm_aligned_free(kb);
    lm_aligned_free(vb), lm_aligned_free(ob), lm_aligned_free(want), lm_aligned_free(got);
    lm_aligned_free(first), lm_aligned_free(s), lm_aligned_free(vis), lm_aligned_free(qrow);
    lm_aligned_free(kn), lm_aligned_free(vn);
}

/* A plain case: default positions, one sequence, q amplitude 1. */
static struct acase simple(const char *name, int64_t hd, int64_t H, int64_t HK, int64_t nq,
                           int64_t nkv, enum lm_dtype t, bool causal, int32_t window) {
    return (struct acase){.name = name,
                          .hd = hd,
                          .n_head = H,
                          .n_kv_head = HK,
                          .n_q = nq,
                          .n_kv = nkv,
                          .kv = t,
                          .causal = causal,
                          .window = window,
                          .qamp = 1};
}

/* Causal and bidirectional, GQA 1 / 3 / 4, n_q 1..40, hd 17..128, F32 and F16, views. */
START_TEST(attention_op_basic) {
    const int64_t hds[] = {17, 32, 40, 64, 80, 128};
    uint64_t seed = 100;
    for (int kv = 0; kv < 2; kv++) {
        enum lm_dtype t = kv ? LM_F16 : LM_F32;
        for (int hi = 0; hi < 6; hi++) {
            const int64_t hd = hds[hi];
            /* prefill, causal, GQA 3:1 (SmolLM2's 9 / 3) */
            run_case(simple("prefill causal gqa3", hd, 9, 3, 23, 23, t, true, 0), seed++);
            /* chunked prefill: 7 new queries after 90 cached keys, GQA 4:1 */
            run_case(simple("chunk causal gqa4", hd, 8, 2, 7, 97, t, true, 0), seed++);
            /* bidirectional (BERT), GQA 1, q strided, peaky scores (explicit scale) */
            run_case((struct acase){.name = "bidirectional",
                                    .hd = hd,
                                    .n_head = 3,
                                    .n_kv_head = 3,
                                    .n_q = 40,
                                    .n_kv = 40,
                                    .kv = t,
                                    .scale = 0.9f,
                                    .qamp = 2,
                                    .q_strided = true},
                     seed++);
        }
        /* decode: one query against 4096 cached keys, GQA 3:1, head-major cache */
        run_case((struct acase){.name = "decode 4096",
                                .hd = 64,
                                .n_head = 9,
                                .n_kv_head = 3,
                                .n_q = 1,
                                .n_kv = 4096,
                                .kv = t,
                                .causal = true,
                                .qamp = 3,
                                .kv_head_major = true},
                 seed++);
        /* split key ranges (few units, long cache): a window leaves some chunks empty, and
         * padding keys (seq -1) plus a second sequence leave others fully masked */
        run_case(simple("decode split window", 32, 4, 2, 2, 2600, t, true, 700), seed++);
        {
            static int32_t kseq[1500], qseq[1] = {1};
            for (int j = 0; j < 1500; j++)
                kseq[j] = j < 600 ? 0 : j < 1100 ? -1 : 1;
            struct acase c = simple("decode split seq", 16, 6, 2, 1, 1500, t, false, 0);
            c.k_seq = kseq, c.q_seq = qseq;
            run_case(c, seed++);
        }
        /* n_q from 1 to 40 over a few n_kv, GQA 2 and 5 (G > 4: two query blocks) */
        for (int64_t nq = 1; nq <= 40; nq += 13)
            run_case(simple("n_q sweep", 24, 10, 2, nq, nq + 65, t, true, 0), seed++);
        run_case(simple("gqa 5", 40, 10, 2, 3, 130, t, true, 0), seed++);
        run_case(simple("hd 1", 1, 4, 1, 5, 9, t, true, 0), seed++);
    }
}
END_TEST

/* Sliding window, explicit positions, sequence ids with padding keys, empty rows. */
START_TEST(attention_op_visibility) {
    enum { NQ = 12, NK = 40 };
    int32_t qpos[NQ], kpos[NK], qseq[NQ], kseq[NK];
    uint64_t seed = 500;
    for (int kv = 0; kv < 2; kv++) {
        enum lm_dtype t = kv ? LM_F16 : LM_F32;
        /* sliding window 5, causal, GQA 4 */
        run_case(simple("window causal", 64, 8, 2, NQ, NK, t, true, 5), seed++);
        /* window without causal: future keys visible, old ones cut */
        run_case(simple("window bidir", 32, 3, 1, NQ, NK, t, false, 7), seed++);
        /* explicit query positions only (still a key range), some before every key */
        for (int i = 0; i < NQ; i++)
            qpos[i] = i * 3 - 2 < 0 ? 0 : i * 3 - 2;
        run_case((struct acase){.name = "q_pos range",
                                .hd = 40,
                                .n_head = 6,
                                .n_kv_head = 2,
                                .n_q = NQ,
                                .n_kv = NK,
                                .kv = t,
                                .causal = true,
                                .window = 9,
                                .qamp = 1,
                                .q_pos = qpos},
                 seed++);
        /* two packed sequences of 20 keys with padding at the end of each, positions restart;
         * queries are the last 6 tokens of each sequence, one query of a sequence id with no
         * keys (zeros) */
        for (int j = 0; j < NK; j++) {
            int local = j % 20;
            kseq[j] = local >= 17 ? -1 : j / 20;
            kpos[j] = local >= 17 ? 0 : local;
        }
        for (int i = 0; i < NQ; i++) {
            qseq[i] = i / 6;
            qpos[i] = 11 + i % 6;
        }
        qseq[NQ - 1] = 7;
        run_case((struct acase){.name = "seq ids + padding",
                                .hd = 17,
                                .n_head = 9,
                                .n_kv_head = 3,
                                .n_q = NQ,
                                .n_kv = NK,
                                .kv = t,
                                .causal = true,
                                .qamp = 1,
                                .q_pos = qpos,
                                .k_pos = kpos,
                                .q_seq = qseq,
                                .k_seq = kseq},
                 seed++);
        run_case((struct acase){.name = "seq ids bidir window",
                                .hd = 80,
                                .n_head = 4,
                                .n_kv_head = 4,
                                .n_q = NQ,
                                .n_kv = NK,
                                .kv = t,
                                .window = 4,
                                .qamp = 1,
                                .q_pos = qpos,
                                .k_pos = kpos,
                                .q_seq = qseq,
                                .k_seq = kseq,
                                .q_strided = true},
                 seed++);
        /* keys in shuffled position order (a cache written out of order): mask path */
        for (int j = 0; j < NK; j++)
            kpos[j] = (j * 17) % NK;
        for (int i = 0; i < NQ; i++)
            qpos[i] = 28 + i;
        run_case((struct acase){.name = "shuffled k_pos",
                                .hd = 128,
                                .n_head = 3,
                                .n_kv_head = 1,
                                .n_q = NQ,
                                .n_kv = NK,
                                .kv = t,
                                .causal = true,
                                .window = 20,
                                .qamp = 1,
                                .q_pos = qpos,
                                .k_pos = kpos,
                                .kv_head_major = true},
                 seed++);
    }
}
END_TEST

/* o may alias q (same shape and layout): the result equals the out-of-place one, bit for bit. */
START_TEST(attention_op_in_place) {
    enum { HD = 40, H = 6, HK = 2, NQ = 5, NK = 70 };
    struct tu_rng r = tu_rng(9);
    float *q = tu_alloc(HD * H * NQ * 4), *o = tu_alloc(HD * H * NQ * 4),
          *k = tu_alloc(HD * HK * NK * 4), *v = tu_alloc(HD * HK * NK * 4);
    tu_fill(q, HD * H * NQ, &r, -1, 1);
    tu_fill(k, HD * HK * NK, &r, -1, 1);
    tu_fill(v, HD * HK * NK, &r, -1, 1);
    struct lm_tensor qt = lm_tensor_3d(LM_F32, HD, H, NQ, q),
                     ot = lm_tensor_3d(LM_F32, HD, H, NQ, o),
                     kt = lm_tensor_3d(LM_F32, HD, HK, NK, k),
                     vt = lm_tensor_3d(LM_F32, HD, HK, NK, v);
    const struct lm_attn_params p = {.causal = true, .window = 30};
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        struct lm_ctx *ctx = tu_ctx(2, (enum lm_isa)isa);
        float *q0 = tu_alloc(HD * H * NQ * 4);
        memcpy(q0, q, HD * H * NQ * 4);
        ck_assert_int_eq(lm_attention(&ot, &qt, &kt, &vt, &p, ctx), LM_OK);
        ck_assert_int_eq(lm_attention(&qt, &qt, &kt, &vt, &p, ctx), LM_OK);
        tu_assert_equal_f32("attention in place", q, o, HD * H * NQ);
        memcpy(q, q0, HD * H * NQ * 4);
        lm_aligned_free(q0);
        lm_ctx_free(ctx);
    }
    lm_aligned_free(q), lm_aligned_free(o), lm_aligned_free(k), lm_aligned_free(v);
}
END_TEST

/* The kernels directly: SIMD vs ref over G, hd, n_kv (tile edges), masks, gaps between rows. */
START_TEST(attention_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    /* hd: every remainder mod 4 (the NEON level's tail chunk; 6 gives hd % 4 == 2) and the
     * 8-lane levels' tails */
    const int64_t Gs[] = {1, 2, 3, 4, 5, 8}, hds[] = {1, 6, 7, 17, 32, 40, 64, 80, 128},
                  nkvs[] = {1, 2, 3, 63, 64, 65, 130, 200};
    enum { MG = 8, MHD = 128, MKV = 200, PAD = 5 };
    struct tu_rng r = tu_rng(77);
    float *q = tu_alloc(MG * (MHD + PAD) * 4), *kv32 = tu_alloc(2 * MKV * (MHD + PAD) * 4),
          *want = tu_alloc(MG * (MHD + PAD) * 4), *got = tu_alloc(MG * (MHD + PAD) * 4);
    uint16_t *kv16 = tu_alloc(2 * MKV * (MHD + PAD) * 2);
    uint8_t *mask = tu_alloc(MKV);
    tu_fill(kv32, 2 * MKV * (MHD + PAD), &r, -1, 1);
    for (int64_t i = 0; i < 2 * MKV * (MHD + PAD); i++)
        kv16[i] = lm_f32_to_f16(kv32[i]);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int gi = 0; gi < 6; gi++)
            for (int hi = 0; hi < 9; hi++)
                for (int ni = 0; ni < 8; ni++) {
                    const int64_t G = Gs[gi], hd = hds[hi], n_kv = nkvs[ni];
                    const int variant = (gi + hi + ni) % 4; /* f16?, mask? rotate through */
                    const bool f16 = variant & 1, masked = variant & 2;
                    const size_t ld = (size_t)(hd + PAD);
                    tu_fill(q, MG * (MHD + PAD), &r, -2, 2);
                    for (int64_t j = 0; j < n_kv; j++) /* random, or runs: whole tiles masked */
                        mask[j] =
                            gi % 2 ? j == n_kv - 1 || (j >= 65 && j < 130) : tu_next(&r) % 3 != 0;
                    if (masked && n_kv == 3) memset(mask, 0, 3); /* nothing visible: zeros */
                    float *sr = tu_alloc(ref->attn_scratch_floats(G, hd) * 4),
                          *sk = tu_alloc(k->attn_scratch_floats(G, hd) * 4);
                    struct lm_attn_row a = {
                        .o = want,
                        .ldo = ld,
                        .q = q,
                        .ldq = ld,
                        .G = G,
                        .k = f16 ? (const void *)kv16 : (const void *)kv32,
                        .v =
                            f16 ? (const void *)(kv16 + MKV * ld) : (const void *)(kv32 + MKV * ld),
                        .ldk = ld * (f16 ? 2 : 4),
                        .ldv = ld * (f16 ? 2 : 4),
                        .kv_type = f16 ? LM_F16 : LM_F32,
                        .hd = hd,
                        .n_kv = n_kv,
                        .mask = masked ? mask : NULL,
                        .scale = 0.3f,
                        .scratch = sr,
                    };
                    memset(want, 0, MG * (MHD + PAD) * 4);
                    memset(got, 0, MG * (MHD + PAD) * 4);
                    ref->attn(&a);
                    a.o = got, a.scratch = sk;
                    k->attn(&a);
                    char lab[96];
                    snprintf(lab, sizeof lab, "attn %s G %lld hd %lld n_kv %lld%s%s",
                             lm_isa_name(lv[l]), (long long)G, (long long)hd, (long long)n_kv,
                             f16 ? " f16" : "", masked ? " masked" : "");
                    /* compares the gaps between rows too: they must stay 0 */
                    tu_assert_close(lab, got, want, G * (int64_t)ld, 2e-5f, 2e-5f);
                    lm_aligned_free(sr), lm_aligned_free(sk);
                }
    }
    lm_aligned_free(q), lm_aligned_free(kv32), lm_aligned_free(kv16), lm_aligned_free(want);
    lm_aligned_free(got), lm_aligned_free(mask);
}
END_TEST

/* A rejected call: LM_EINVAL and a message that names the op. */
static void expect_einval(lm_status s) {
    ck_assert_int_eq(s, LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "attention"));
}

START_TEST(attention_op_bad_args) {
    static float a[4 * 6 * 2], b[4 * 6 * 2], kb[4 * 2 * 3], vb[4 * 2 * 3];
    static uint16_t h[4 * 2 * 3];
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor q = lm_tensor_3d(LM_F32, 4, 6, 2, a), o = lm_tensor_3d(LM_F32, 4, 6, 2, b);
    struct lm_tensor k = lm_tensor_3d(LM_F32, 4, 2, 3, kb), v = lm_tensor_3d(LM_F32, 4, 2, 3, vb);
    struct lm_attn_params p = {.causal = true};
    ck_assert_int_eq(lm_attention(&o, &q, &k, &v, &p, ctx), LM_OK);
    struct lm_tensor k4 = lm_tensor_3d(LM_F32, 4, 4, 3, kb); /* 6 heads % 4 kv heads */
    expect_einval(lm_attention(&o, &q, &k4, &k4, &p, ctx));
    struct lm_tensor k3 = lm_tensor_3d(LM_F32, 3, 2, 4, kb); /* head dim 3 vs 4 */
    expect_einval(lm_attention(&o, &q, &k3, &k3, &p, ctx));
    struct lm_tensor kh = lm_tensor_3d(LM_F16, 4, 2, 3, h); /* k f16, v f32 */
    expect_einval(lm_attention(&o, &q, &kh, &v, &p, ctx));
    struct lm_tensor ki = lm_tensor_3d(LM_I32, 4, 2, 3, kb);
    expect_einval(lm_attention(&o, &q, &ki, &ki, &p, ctx));
    struct lm_tensor kt; /* k strided along hd */
    struct lm_tensor kt0 = lm_tensor_3d(LM_F32, 2, 4, 3, kb);
    ck_assert_int_eq(lm_tensor_transpose(&kt, &kt0, 0, 1), LM_OK);
    struct lm_tensor vt = kt;
    expect_einval(lm_attention(&o, &q, &kt, &vt, &p, ctx));
    struct lm_tensor o2 = lm_tensor_3d(LM_F32, 4, 3, 2, b);
    expect_einval(lm_attention(&o2, &q, &k, &v, &p, ctx));
    /* default positions with more queries than keys */
    struct lm_tensor q5 = lm_tensor_3d(LM_F32, 4, 2, 5, a), o5 = lm_tensor_3d(LM_F32, 4, 2, 5, b);
    expect_einval(lm_attention(&o5, &q5, &k, &v, &p, ctx));
    p.window = -1;
    expect_einval(lm_attention(&o, &q, &k, &v, &p, ctx));
    p.window = 0, p.scale = INFINITY;
    expect_einval(lm_attention(&o, &q, &k, &v, &p, ctx));
    p.scale = 0;
    int32_t qpos[2] = {0, -1}, kpos[3] = {0, 1, 2};
    p.q_pos = qpos, p.k_pos = kpos;
    expect_einval(lm_attention(&o, &q, &k, &v, &p, ctx));
    qpos[1] = 1, kpos[2] = -5;
    expect_einval(lm_attention(&o, &q, &k, &v, &p, ctx));
    int32_t qseq[2] = {0, 0}, kseq[3] = {0, 0, -1}; /* a padding key's position is not read */
    p.q_seq = qseq, p.k_seq = kseq;
    ck_assert_int_eq(lm_attention(&o, &q, &k, &v, &p, ctx), LM_OK);
    expect_einval(lm_attention(&o, &q, &k, &v, NULL, ctx));
    expect_einval(lm_attention(&o, &q, NULL, &v, &p, ctx));
    ck_assert_int_eq(lm_attention(&o, &q, &k, &v, &p, NULL), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

static Suite *attention_suite(void) {
    Suite *s = suite_create("attention");
    TCase *tc = tcase_create("softmax");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, softmax_kernel_vs_ref);
    tcase_add_test(tc, softmax_edge_rows);
    tcase_add_test(tc, softmax_op_strided_threads);
    tcase_add_test(tc, softmax_op_bad_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("rope");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rope_kernel_vs_ref);
    tcase_add_test(tc, rope_closed_form);
    tcase_add_test(tc, rope_op_bad_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("attention");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, attention_kernel_vs_ref);
    tcase_add_test(tc, attention_op_basic);
    tcase_add_test(tc, attention_op_visibility);
    tcase_add_test(tc, attention_op_in_place);
    tcase_add_test(tc, attention_op_bad_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(attention_suite()); }
