/* tests/check_elementwise.c - activations, swiglu, add/mul/scale with broadcast, get_rows,
 * causal conv1d and mean pooling: every SIMD level against the reference kernels on sizes
 * 1..257, edge values, the ops over strided views and broadcast shapes, and 1/2/3 threads.
 *
 * Tolerances (the references evaluate in double with libm, so they are the accurate side):
 *  - silu, swiglu: 1e-6 relative (8 ulp). SLEEF exp is 1 ulp; 1 + e, the division and the
 *    products add at most 3 more, so a correct kernel stays within 4 ulp.
 *  - gelu (erf and tanh forms): 1e-6 relative plus 1.2e-7 * |x| absolute. SLEEF erf/tanh are
 *    1 ulp, but for x < 0 the f32 sum 1 + erf (or 1 + tanh) cancels, leaving an absolute error
 *    near 2^-24 * |x| that no f32 evaluation of that form avoids.
 *  - every comparison also allows 1e-37 absolute, for results that are subnormal.
 *  - add, mul, scale: one f32 operation per element in every level, so bit-exact.
 *  - get_rows: the same to_f32 converter as the reference path, so bit-exact.
 *  - conv1d: 2e-6 absolute + 1e-6 relative with |w|, |x| <= 1 and k <= 5: an f32 FMA chain
 *    rounds k partial sums no larger than k, a few ulp of 4.
 *  - mean_pool: 1e-6 relative (double accumulation, one rounding).
 * Thread counts and work splits never change a result: those comparisons are bit-exact.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* |got - want| <= rtol |want| + ax |x| + 1e-37 (|x| taken as 0 for infinite x); NaN must match
 * NaN and infinities exactly. */
static void check_act(const char *label, const float *got, const float *want, const float *x,
                      int64_t n, double rtol, double ax) {
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) || isnan(got[i])) {
            ck_assert_msg(isnan(want[i]) && isnan(got[i]), "%s: x %.9g got %.9g want %.9g", label,
                          (double)x[i], (double)got[i], (double)want[i]);
            continue;
        }
        if (isinf(want[i]) || isinf(got[i])) {
            ck_assert_msg(got[i] == want[i], "%s: x %.9g got %.9g want %.9g", label, (double)x[i],
                          (double)got[i], (double)want[i]);
            continue;
        }
        /* a finite result of an infinite x is a limit and must be reached (up to rtol) */
        double xa = isinf(x[i]) ? 0 : fabs((double)x[i]);
        double tol = rtol * fabs((double)want[i]) + ax * xa + 1e-37;
        ck_assert_msg(fabs((double)got[i] - want[i]) <= tol,
                      "%s: [%lld of %lld] x %.9g got %.9g want %.9g (tol %.3g)", label,
                      (long long)i, (long long)n, (double)x[i], (double)got[i], (double)want[i],
                      tol);
    }
}

typedef void (*unary_fn)(float *, const float *, int64_t);

struct act {
    const char *name;
    unary_fn ref;
    size_t off; /* offset of the kernel in struct lm_kernels */
    double rtol, ax;
};

static const struct act acts[] = {
    {"silu", lm_silu_ref, offsetof(struct lm_kernels, silu), 1e-6, 0},
    {"gelu_erf", lm_gelu_erf_ref, offsetof(struct lm_kernels, gelu_erf), 1e-6, 1.2e-7},
    {"gelu_tanh", lm_gelu_tanh_ref, offsetof(struct lm_kernels, gelu_tanh), 1e-6, 1.2e-7},
};

static unary_fn act_kernel(const struct lm_kernels *k, const struct act *a) {
    return *(const unary_fn *)((const char *)k + a->off);
}

START_TEST(activation_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(11);
    float *x = tu_alloc(300 * 4), *want = tu_alloc(300 * 4), *got = tu_alloc(300 * 4);
    const float ranges[] = {1, 12, 110};
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
            for (int rg = 0; rg < 3; rg++)
                for (int64_t n = 1; n <= 257; n++) {
                    tu_fill(x, n, &r, -ranges[rg], ranges[rg]);
                    acts[a].ref(want, x, n);
                    got[n] = 12345.0f; /* sentinel: nothing past n is written */
                    act_kernel(k, &acts[a])(got, x, n);
                    check_act(acts[a].name, got, want, x, n, acts[a].rtol, acts[a].ax);
                    ck_assert_msg(got[n] == 12345.0f, "%s wrote past n = %lld", acts[a].name,
                                  (long long)n);
                }
    }
    lm_aligned_free(x), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

static const float edge_x[] = {0.0f,    -0.0f,   INFINITY, -INFINITY, NAN,     -NAN,     1e30f,
                               -1e30f,  FLT_MAX, -FLT_MAX, 1e-40f,    -1e-40f, 1.4e-45f, -1.4e-45f,
                               1e-20f,  -1e-20f, 88.8f,    -88.8f,    -90.0f,  -91.5f,   -100.0f,
                               -105.0f, 20.0f,   -20.0f,   5.5f,      -5.5f,   1e13f,    -1e13f,
                               3e19f,   -3e19f,  0.5f,     -0.5f,     3.0f};
#define N_EDGE ((int64_t)(sizeof edge_x / sizeof edge_x[0]))

START_TEST(activation_edge_values) {
    float want[N_EDGE], got[N_EDGE];
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        acts[a].ref(want, edge_x, N_EDGE);
        /* the reference gives the limits */
        ck_assert_msg(want[2] == INFINITY, "%s(+inf) = %g", acts[a].name, (double)want[2]);
        ck_assert_msg(want[3] == 0 && signbit(want[3]), "%s(-inf) = %g", acts[a].name,
                      (double)want[3]);
        ck_assert(isnan(want[4]) && isnan(want[5]));
        ck_assert(want[0] == 0 && want[6] == 1e30f && want[8] == FLT_MAX);
        for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
            const struct lm_kernels *k = lm_kernels_get((enum lm_isa)isa);
            if (!k) continue;
            act_kernel(k, &acts[a])(got, edge_x, N_EDGE);
            check_act(acts[a].name, got, want, edge_x, N_EDGE, acts[a].rtol, acts[a].ax);
            ck_assert_msg(got[3] == 0 && signbit(got[3]), "%s %s(-inf) = %g", lm_isa_name(isa),
                          acts[a].name, (double)got[3]);
        }
    }
}
END_TEST

START_TEST(swiglu_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(12);
    float *g = tu_alloc(300 * 4), *u = tu_alloc(300 * 4), *want = tu_alloc(300 * 4),
          *got = tu_alloc(300 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t n = 1; n <= 257; n++) {
            tu_fill(g, n, &r, n % 2 ? -12 : -100, n % 2 ? 12 : 100);
            tu_fill(u, n, &r, -3, 3);
            lm_swiglu_ref(want, g, u, n);
            got[n] = 12345.0f;
            k->swiglu(got, g, u, n);
            check_act("swiglu", got, want, g, n, 1e-6, 0);
            ck_assert(got[n] == 12345.0f);
        }
        /* edge gates against a finite, a zero and an infinite up */
        float ue[N_EDGE], we[N_EDGE], ge[N_EDGE];
        for (int64_t i = 0; i < N_EDGE; i++)
            ue[i] = i % 3 == 0 ? 1.5f : i % 3 == 1 ? 0.0f : -INFINITY;
        lm_swiglu_ref(we, edge_x, ue, N_EDGE);
        k->swiglu(ge, edge_x, ue, N_EDGE);
        check_act("swiglu edges", ge, we, edge_x, N_EDGE, 1e-6, 0);
    }
    lm_aligned_free(g), lm_aligned_free(u), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

START_TEST(add_mul_scale_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(13);
    float *a = tu_alloc(300 * 4), *b = tu_alloc(300 * 4), *want = tu_alloc(300 * 4),
          *got = tu_alloc(300 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t n = 1; n <= 257; n++) {
            tu_fill(a, n, &r, -1e3f, 1e3f);
            tu_fill(b, n, &r, -2, 2);
            a[0] = NAN, b[n - 1] = INFINITY;
            if (n > 2) a[1] = 1e-41f, b[1] = 3e-39f;
            lm_add_ref(want, a, b, n);
            got[n] = 12345.0f;
            k->add(got, a, b, n);
            tu_assert_equal_f32("add", got, want, n);
            lm_mul_ref(want, a, b, n);
            k->mul(got, a, b, n);
            tu_assert_equal_f32("mul", got, want, n);
            lm_scale_ref(want, a, -0.37f, n);
            k->scale(got, a, -0.37f, n);
            tu_assert_equal_f32("scale", got, want, n);
            ck_assert(got[n] == 12345.0f);
            /* in place: y aliases a */
            memcpy(got, a, (size_t)n * 4);
            k->add(got, got, b, n);
            lm_add_ref(want, a, b, n);
            tu_assert_equal_f32("add in place", got, want, n);
        }
    }
    lm_aligned_free(a), lm_aligned_free(b), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* ---- ops: broadcast, strided views, threads -------------------------------------------- */

static float tget(const struct lm_tensor *t, int64_t i0, int64_t i1, int64_t i2) {
    return *(const float *)((const char *)t->data + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2]);
}

/* a (13, 5, 3) as a strided view: the transpose of a contiguous (5, 13, 3) buffer. */
static struct lm_tensor strided_3d(float *buf, int64_t n0, int64_t n1, int64_t n2) {
    struct lm_tensor c = lm_tensor_3d(LM_F32, n1, n0, n2, buf), t;
    ck_assert_int_eq(lm_tensor_transpose(&t, &c, 0, 1), LM_OK);
    return t;
}

START_TEST(binary_op_broadcast) {
    const int64_t A0 = 13, A1 = 5, A2 = 3, NA = A0 * A1 * A2;
    const int64_t bshapes[][3] = {{13, 5, 3}, {13, 1, 1}, {1, 1, 1}, {1, 5, 3},
                                  {1, 5, 1},  {13, 1, 3}, {13, 5, 1}};
    struct tu_rng r = tu_rng(21);
    float *abuf = tu_alloc(NA * 4), *bbuf = tu_alloc(NA * 4), *y = tu_alloc(NA * 4),
          *want = tu_alloc(NA * 4);
    tu_fill(abuf, NA, &r, -4, 4);
    tu_fill(bbuf, NA, &r, -2, 2);
    for (int a_strided = 0; a_strided < 2; a_strided++)
        for (size_t bs = 0; bs < sizeof bshapes / sizeof bshapes[0]; bs++)
            for (int b_strided = 0; b_strided < 2; b_strided++) {
                const int64_t *be = bshapes[bs];
                if (b_strided && (be[0] == 1 || be[1] == 1)) continue;
                struct lm_tensor a = a_strided ? strided_3d(abuf, A0, A1, A2)
                                               : lm_tensor_3d(LM_F32, A0, A1, A2, abuf);
                struct lm_tensor b = b_strided ? strided_3d(bbuf, be[0], be[1], be[2])
                                               : lm_tensor_3d(LM_F32, be[0], be[1], be[2], bbuf);
                struct lm_tensor yt = lm_tensor_3d(LM_F32, A0, A1, A2, y);
                for (int op = 0; op < 2; op++) {
                    for (int64_t i2 = 0; i2 < A2; i2++)
                        for (int64_t i1 = 0; i1 < A1; i1++)
                            for (int64_t i0 = 0; i0 < A0; i0++) {
                                float av = tget(&a, i0, i1, i2),
                                      bv = tget(&b, i0 % be[0], i1 % be[1], i2 % be[2]);
                                want[(i2 * A1 + i1) * A0 + i0] = op ? av * bv : av + bv;
                            }
                    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
                        if (!lm_isa_available((enum lm_isa)isa)) continue;
                        for (int th = 1; th <= 3; th++) {
                            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                            memset(y, 0, NA * 4);
                            lm_status s = op ? lm_mul(&yt, &a, &b, ctx) : lm_add(&yt, &a, &b, ctx);
                            ck_assert_msg(s == LM_OK, "%s", lm_last_error());
                            tu_assert_equal_f32(op ? "mul broadcast" : "add broadcast", y, want,
                                                NA);
                            lm_ctx_free(ctx);
                        }
                    }
                }
            }
    /* in place, contiguous (the flat path): y aliases a */
    struct lm_ctx *ctx = tu_ctx(2, LM_ISA_REF);
    struct lm_tensor yt = lm_tensor_3d(LM_F32, A0, A1, A2, y),
                     bt = lm_tensor_3d(LM_F32, A0, A1, A2, bbuf);
    memcpy(y, abuf, NA * 4);
    for (int64_t i = 0; i < NA; i++)
        want[i] = abuf[i] * bbuf[i];
    ck_assert_int_eq(lm_mul(&yt, &yt, &bt, ctx), LM_OK);
    tu_assert_equal_f32("mul in place", y, want, NA);
    lm_ctx_free(ctx);
    lm_aligned_free(abuf), lm_aligned_free(bbuf), lm_aligned_free(y), lm_aligned_free(want);
}
END_TEST

START_TEST(binary_op_bad_shapes) {
    float a[60] = {0}, b[60] = {0}, y[60] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor at = lm_tensor_2d(LM_F32, 12, 5, a), yt = lm_tensor_2d(LM_F32, 12, 5, y);
    struct lm_tensor b5 = lm_tensor_1d(LM_F32, 5, b), b12x2 = lm_tensor_2d(LM_F32, 12, 2, b);
    ck_assert_int_eq(lm_add(&yt, &at, &b5, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "add"));
    ck_assert_int_eq(lm_mul(&yt, &at, &b12x2, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "mul"));
    struct lm_tensor y2 = lm_tensor_2d(LM_F32, 5, 12, y);
    ck_assert_int_eq(lm_add(&y2, &at, &at, ctx), LM_EINVAL);
    struct lm_tensor h = lm_tensor_2d(LM_F16, 12, 5, b);
    ck_assert_int_eq(lm_add(&yt, &at, &h, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_add(&yt, &at, &at, NULL), LM_EINVAL);
    /* swiglu does not broadcast; unary ops need matching shapes */
    struct lm_tensor b12 = lm_tensor_1d(LM_F32, 12, b);
    ck_assert_int_eq(lm_swiglu(&yt, &at, &b12, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "swiglu"));
    ck_assert_int_eq(lm_silu(&y2, &at, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "silu"));
    ck_assert_int_eq(lm_gelu(&yt, &at, (enum lm_gelu_kind)7, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "gelu"));
    ck_assert_int_eq(lm_scale(&y2, &at, 2.0f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "scale"));
    struct lm_tensor ys = at;
    ys.nb[0] = 8, ys.ne[0] = 6; /* strided output rows are refused */
    struct lm_tensor as = lm_tensor_2d(LM_F32, 6, 5, a);
    ck_assert_int_eq(lm_silu(&ys, &as, ctx), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

/* silu, gelu (both), scale and swiglu through the ops: contiguous (flat path) and strided
 * (row path), 1..3 threads, in and out of place: equal bit for bit to the level's kernel run
 * over contiguous copies of the rows. */
START_TEST(unary_ops_strided_threads) {
    const int64_t n = 41, rows = 7, N = n * rows;
    struct tu_rng r = tu_rng(22);
    float *buf = tu_alloc(N * 4), *ubuf = tu_alloc(N * 4), *xc = tu_alloc(N * 4),
          *uc = tu_alloc(N * 4), *y = tu_alloc(N * 4), *want = tu_alloc(N * 4);
    tu_fill(buf, N, &r, -8, 8);
    tu_fill(ubuf, N, &r, -2, 2);
    /* buf holds (rows, n); its transpose is the strided (n, rows) view */
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++)
            xc[i * n + j] = buf[j * rows + i], uc[i * n + j] = ubuf[j * rows + i];
    struct lm_tensor bt = lm_tensor_2d(LM_F32, rows, n, buf),
                     ut = lm_tensor_2d(LM_F32, rows, n, ubuf);
    struct lm_tensor xs, us;
    ck_assert_int_eq(lm_tensor_transpose(&xs, &bt, 0, 1), LM_OK);
    ck_assert_int_eq(lm_tensor_transpose(&us, &ut, 0, 1), LM_OK);
    struct lm_tensor xct = lm_tensor_2d(LM_F32, n, rows, xc),
                     uct = lm_tensor_2d(LM_F32, n, rows, uc), yt = lm_tensor_2d(LM_F32, n, rows, y);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        const struct lm_kernels *k = lm_kernels_get((enum lm_isa)isa);
        if (!k) continue;
        for (int op = 0; op < 5; op++) {
            const char *name[] = {"silu op", "gelu erf op", "gelu tanh op", "scale op",
                                  "swiglu op"};
            for (int64_t i = 0; i < rows; i++) {
                float *wr = want + i * n;
                const float *xr = xc + i * n, *ur = uc + i * n;
                if (op == 0) k->silu(wr, xr, n);
                if (op == 1) k->gelu_erf(wr, xr, n);
                if (op == 2) k->gelu_tanh(wr, xr, n);
                if (op == 3) k->scale(wr, xr, 0.125f, n);
                if (op == 4) k->swiglu(wr, xr, ur, n);
            }
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                for (int mode = 0; mode < 3; mode++) { /* strided, contiguous, in place */
                    const struct lm_tensor *xin = mode == 0 ? &xs : mode == 1 ? &xct : &yt;
                    const struct lm_tensor *uin = mode == 0 ? &us : &uct;
                    memcpy(y, mode == 2 ? xc : want, (size_t)N * 4);
                    if (mode != 2) memset(y, 0, (size_t)N * 4);
                    lm_status s = op == 0   ? lm_silu(&yt, xin, ctx)
                                  : op == 1 ? lm_gelu(&yt, xin, LM_GELU_ERF, ctx)
                                  : op == 2 ? lm_gelu(&yt, xin, LM_GELU_TANH, ctx)
                                  : op == 3 ? lm_scale(&yt, xin, 0.125f, ctx)
                                            : lm_swiglu(&yt, xin, uin, ctx);
                    ck_assert_msg(s == LM_OK, "%s", lm_last_error());
                    tu_assert_equal_f32(name[op], y, want, N);
                }
                lm_ctx_free(ctx);
            }
        }
    }
    lm_aligned_free(buf), lm_aligned_free(ubuf), lm_aligned_free(xc), lm_aligned_free(uc);
    lm_aligned_free(y), lm_aligned_free(want);
}
END_TEST

/* ---- get_rows ---------------------------------------------------------------------------- */

/* Every dtype the level can convert both ways: quantize random rows with from_f32, then
 * get_rows must equal to_f32 of the same rows. */
START_TEST(get_rows_every_dtype) {
    const int64_t n = 256, n_rows = 9; /* 256: whole blocks of every block size */
    const int32_t idx[] = {3, 0, 8, 3, 5, 1, 8};
    const int64_t n_idx = sizeof idx / sizeof idx[0];
    struct tu_rng r = tu_rng(31);
    float *src = tu_alloc(n * n_rows * 4), *want = tu_alloc(n * n_idx * 4),
          *y = tu_alloc(n * n_idx * 4);
    tu_fill(src, n * n_rows, &r, -3, 3);
    struct lm_tensor it = lm_tensor_1d(LM_I32, n_idx, (void *)idx);
    int tested = 0;
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        const struct lm_kernels *k = lm_kernels_get((enum lm_isa)isa);
        if (!k) continue;
        for (int d = 0; d < LM_DTYPE_COUNT; d++) {
            if (!k->to_f32[d] || !k->from_f32[d]) continue;
            size_t rs = lm_row_size((enum lm_dtype)d, n);
            ck_assert_uint_gt(rs, 0);
            uint8_t *tab = tu_alloc(rs * n_rows);
            for (int64_t i = 0; i < n_rows; i++)
                k->from_f32[d](tab + i * rs, src + i * n, n);
            for (int64_t p = 0; p < n_idx; p++)
                k->to_f32[d](want + p * n, tab + idx[p] * rs, n);
            struct lm_tensor tt = lm_tensor_2d((enum lm_dtype)d, n, n_rows, tab);
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                memset(y, 0, n * n_idx * 4);
                struct lm_tensor yt = th == 3 ? lm_tensor_3d(LM_F32, n, 1, n_idx, y)
                                              : lm_tensor_2d(LM_F32, n, n_idx, y);
                ck_assert_msg(lm_get_rows(&yt, &tt, &it, ctx) == LM_OK, "%s", lm_last_error());
                tu_assert_equal_f32(lm_dtype_name((enum lm_dtype)d), y, want, n * n_idx);
                lm_ctx_free(ctx);
            }
            lm_aligned_free(tab);
            tested++;
        }
    }
    ck_assert_int_ge(tested, 3); /* at least F32, F16, BF16 on the ref level */
    lm_aligned_free(src), lm_aligned_free(want), lm_aligned_free(y);
}
END_TEST

/* Strided tables (transposed F32 and F16 views) and a strided index vector. */
START_TEST(get_rows_strided) {
    const int64_t n = 19, n_rows = 6;
    struct tu_rng r = tu_rng(32);
    float f[19 * 6], y[19 * 4], want[19 * 4];
    uint16_t h[19 * 6];
    tu_fill(f, n * n_rows, &r, -2, 2);
    for (int i = 0; i < n * n_rows; i++)
        h[i] = lm_f32_to_f16(f[i]);
    int32_t idxbuf[8] = {5, -9, 0, -9, 2, -9, 5, -9}; /* every other element is the index */
    struct lm_tensor it = lm_tensor_1d(LM_I32, 4, idxbuf);
    it.nb[0] = 8;
    for (int dt = 0; dt < 2; dt++) {
        /* buffer (n_rows, n) contiguous; its transpose is the (n, n_rows) table */
        struct lm_tensor c = lm_tensor_2d(dt ? LM_F16 : LM_F32, n_rows, n, dt ? (void *)h : f), tt;
        ck_assert_int_eq(lm_tensor_transpose(&tt, &c, 0, 1), LM_OK);
        const int32_t sel[4] = {5, 0, 2, 5};
        for (int p = 0; p < 4; p++)
            for (int64_t e = 0; e < n; e++)
                want[p * n + e] =
                    dt ? lm_f16_to_f32(h[e * n_rows + sel[p]]) : f[e * n_rows + sel[p]];
        struct lm_tensor yt = lm_tensor_2d(LM_F32, n, 4, y);
        for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
            if (!lm_isa_available((enum lm_isa)isa)) continue;
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                memset(y, 0, sizeof y);
                ck_assert_msg(lm_get_rows(&yt, &tt, &it, ctx) == LM_OK, "%s", lm_last_error());
                tu_assert_equal_f32("get_rows strided", y, want, n * 4);
                lm_ctx_free(ctx);
            }
        }
    }
}
END_TEST

START_TEST(get_rows_errors) {
    float tab[8 * 5] = {0}, y[8 * 3] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor tt = lm_tensor_2d(LM_F32, 8, 5, tab), yt = lm_tensor_2d(LM_F32, 8, 3, y);
    int32_t bad_hi[3] = {0, 5, 1}, bad_lo[3] = {2, 1, -1};
    struct lm_tensor ih = lm_tensor_1d(LM_I32, 3, bad_hi), il = lm_tensor_1d(LM_I32, 3, bad_lo);
    y[0] = 7;
    ck_assert_int_eq(lm_get_rows(&yt, &tt, &ih, ctx), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "get_rows"));
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "index 5 at position 1"));
    ck_assert(y[0] == 7); /* nothing written before the check */
    ck_assert_int_eq(lm_get_rows(&yt, &tt, &il, ctx), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "index -1 at position 2"));
    int32_t ok[3] = {0, 1, 2};
    struct lm_tensor io = lm_tensor_1d(LM_I32, 3, ok);
    struct lm_tensor ti = lm_tensor_2d(LM_I32, 8, 5, tab); /* no converter for i32 */
    ck_assert_int_eq(lm_get_rows(&yt, &ti, &io, ctx), LM_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "get_rows"));
    struct lm_tensor iff = lm_tensor_1d(LM_F32, 3, ok);
    ck_assert_int_eq(lm_get_rows(&yt, &tt, &iff, ctx), LM_EINVAL);
    struct lm_tensor y4 = lm_tensor_2d(LM_F32, 8, 4, tab);
    ck_assert_int_eq(lm_get_rows(&y4, &tt, &io, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "get_rows"));
    lm_ctx_free(ctx);
}
END_TEST

/* ---- conv1d ------------------------------------------------------------------------------ */

START_TEST(conv1d_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(41);
    float *w = tu_alloc(5 * 300 * 4), *xr = tu_alloc(5 * 300 * 4), *want = tu_alloc(300 * 4),
          *got = tu_alloc(300 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t kk = 1; kk <= 5; kk++)
            for (int64_t C = 1; C <= 257; C++) {
                const float *rows[5];
                tu_fill(w, kk * C, &r, -1, 1);
                for (int64_t j = 0; j < kk; j++) {
                    tu_fill(xr + j * 300, C, &r, -1, 1);
                    rows[j] = xr + j * 300;
                }
                lm_conv1d_ref(want, rows, w, C, kk);
                got[C] = 12345.0f;
                k->conv1d(got, rows, w, C, kk);
                tu_assert_close("conv1d kernel", got, want, C, 2e-6f, 1e-6f);
                ck_assert(got[C] == 12345.0f);
            }
    }
    lm_aligned_free(w), lm_aligned_free(xr), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

/* The definition, in double: xx = state (or zeros) then x; y[t][c] = sum_j w[c][j] xx[t+j][c]. */
static void conv_naive(float *y, float *state_out, const float *x, int64_t C, int64_t T,
                       const float *w, int64_t k, const float *state) {
    for (int64_t t = 0; t < T + k - 1; t++)
        for (int64_t c = 0; c < C; c++) {
            if (t < T) {
                double acc = 0;
                for (int64_t j = 0; j < k; j++) {
                    int64_t u = t + j;
                    double v = u < k - 1 ? (state ? state[u * C + c] : 0) : x[(u - k + 1) * C + c];
                    acc += (double)w[c * k + j] * v;
                }
                y[t * C + c] = (float)acc;
            }
            if (state_out && t >= T) { /* xx row t, one of the last k-1 */
                int64_t u = t;
                state_out[(t - T) * C + c] =
                    u < k - 1 ? (state ? state[u * C + c] : 0) : x[(u - k + 1) * C + c];
            }
        }
}

START_TEST(conv1d_op_vs_definition) {
    struct tu_rng r = tu_rng(42);
    enum { CMAX = 37, TMAX = 9, KMAX = 4 };
    float x[CMAX * TMAX], w[KMAX * CMAX], st[CMAX * KMAX], st0[CMAX * KMAX], y[CMAX * TMAX],
        want[CMAX * TMAX], want_st[CMAX * KMAX], zero[CMAX * KMAX] = {0}, y0[CMAX * TMAX];
    const int64_t Cs[] = {19, 37};
    for (int ci = 0; ci < 2; ci++)
        for (int64_t k = 2; k <= KMAX; k++)
            for (int64_t T = 1; T <= TMAX; T++) {
                const int64_t C = Cs[ci];
                tu_fill(x, C * T, &r, -1, 1);
                tu_fill(w, k * C, &r, -1, 1);
                tu_fill(st0, C * (k - 1), &r, -1, 1);
                conv_naive(want, want_st, x, C, T, w, k, st0);
                struct lm_tensor xt = lm_tensor_2d(LM_F32, C, T, x),
                                 wt = lm_tensor_2d(LM_F32, k, C, w),
                                 yt = lm_tensor_2d(LM_F32, C, T, y),
                                 stt = lm_tensor_2d(LM_F32, C, k - 1, st),
                                 zt = lm_tensor_2d(LM_F32, C, k - 1, zero),
                                 y0t = lm_tensor_2d(LM_F32, C, T, y0);
                for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
                    if (!lm_isa_available((enum lm_isa)isa)) continue;
                    struct lm_ctx *ctx = tu_ctx(1 + (int)(T % 3), (enum lm_isa)isa);
                    memcpy(st, st0, sizeof st);
                    ck_assert_msg(lm_conv1d_causal(&yt, &xt, &wt, &stt, ctx) == LM_OK, "%s",
                                  lm_last_error());
                    tu_assert_close("conv1d op", y, want, C * T, 2e-6f, 1e-6f);
                    tu_assert_equal_f32("conv1d state", st, want_st, C * (k - 1));
                    /* NULL state equals an all-zero state, and leaves nothing behind */
                    memset(zero, 0, sizeof zero);
                    ck_assert_int_eq(lm_conv1d_causal(&yt, &xt, &wt, NULL, ctx), LM_OK);
                    ck_assert_int_eq(lm_conv1d_causal(&y0t, &xt, &wt, &zt, ctx), LM_OK);
                    tu_assert_equal_f32("conv1d NULL state", y, y0, C * T);
                    lm_ctx_free(ctx);
                }
            }
}
END_TEST

/* Chunked calls carrying the state equal one call over the whole sequence, bit for bit. */
START_TEST(conv1d_state_chunks) {
    enum { C = 21, T = 9, K = 4 };
    struct tu_rng r = tu_rng(43);
    float x[C * T], w[K * C], st0[C * (K - 1)], st[C * (K - 1)], st_all[C * (K - 1)], y[C * T],
        y_all[C * T];
    tu_fill(x, C * T, &r, -1, 1);
    tu_fill(w, K * C, &r, -1, 1);
    tu_fill(st0, C * (K - 1), &r, -1, 1);
    struct lm_tensor xt = lm_tensor_2d(LM_F32, C, T, x), wt = lm_tensor_2d(LM_F32, K, C, w);
    const int splits[][5] = {{1, 1, 1, 1, 5}, {2, 7, 0}, {4, 5, 0}, {3, 3, 3, 0}, {1, 2, 6, 0}};
    for (int64_t k = 2; k <= K; k++) {
        struct lm_tensor wk = wt;
        wk.ne[0] = k, wk.nb[1] = (int64_t)(k * 4); /* first k*C floats as (k, C) */
        for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
            if (!lm_isa_available((enum lm_isa)isa)) continue;
            struct lm_ctx *ctx = tu_ctx(2, (enum lm_isa)isa);
            struct lm_tensor sta = lm_tensor_2d(LM_F32, C, k - 1, st_all),
                             stc = lm_tensor_2d(LM_F32, C, k - 1, st),
                             ya = lm_tensor_2d(LM_F32, C, T, y_all);
            memcpy(st_all, st0, sizeof st0);
            ck_assert_int_eq(lm_conv1d_causal(&ya, &xt, &wk, &sta, ctx), LM_OK);
            for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
                memcpy(st, st0, sizeof st0);
                int t0 = 0;
                for (int p = 0; p < 5 && splits[s][p]; p++) {
                    int len = splits[s][p];
                    struct lm_tensor xc, yc, yall = lm_tensor_2d(LM_F32, C, T, y);
                    ck_assert_int_eq(lm_tensor_slice(&xc, &xt, 1, t0, len), LM_OK);
                    ck_assert_int_eq(lm_tensor_slice(&yc, &yall, 1, t0, len), LM_OK);
                    ck_assert_int_eq(lm_conv1d_causal(&yc, &xc, &wk, &stc, ctx), LM_OK);
                    t0 += len;
                }
                ck_assert_int_eq(t0, T);
                tu_assert_equal_f32("conv1d chunked y", y, y_all, C * T);
                tu_assert_equal_f32("conv1d chunked state", st, st_all, C * (k - 1));
            }
            lm_ctx_free(ctx);
        }
    }
}
END_TEST

/* In place (y == x), a strided x view and 1..3 threads all equal the contiguous result. */
START_TEST(conv1d_inplace_strided_threads) {
    enum { C = 45, T = 7, K = 3 };
    struct tu_rng r = tu_rng(44);
    float *x = tu_alloc(C * T * 4), *xtr = tu_alloc(C * T * 4), *w = tu_alloc(K * C * 4),
          *st0 = tu_alloc(C * (K - 1) * 4), *st = tu_alloc(C * (K - 1) * 4),
          *st_ref = tu_alloc(C * (K - 1) * 4), *y = tu_alloc(C * T * 4),
          *want = tu_alloc(C * T * 4);
    tu_fill(x, C * T, &r, -1, 1);
    tu_fill(w, K * C, &r, -1, 1);
    tu_fill(st0, C * (K - 1), &r, -1, 1);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++)
            xtr[c * T + t] = x[t * C + c]; /* (T, C) buffer: its transpose is x */
    struct lm_tensor xt = lm_tensor_2d(LM_F32, C, T, x), wt = lm_tensor_2d(LM_F32, K, C, w),
                     yt = lm_tensor_2d(LM_F32, C, T, y), stt = lm_tensor_2d(LM_F32, C, K - 1, st),
                     xb = lm_tensor_2d(LM_F32, T, C, xtr), xs;
    ck_assert_int_eq(lm_tensor_transpose(&xs, &xb, 0, 1), LM_OK);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        struct lm_ctx *c1 = tu_ctx(1, (enum lm_isa)isa);
        memcpy(st, st0, C * (K - 1) * 4);
        ck_assert_int_eq(lm_conv1d_causal(&yt, &xt, &wt, &stt, c1), LM_OK);
        memcpy(want, y, C * T * 4);
        memcpy(st_ref, st, C * (K - 1) * 4);
        lm_ctx_free(c1);
        for (int th = 1; th <= 3; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            for (int mode = 0; mode < 3; mode++) { /* contiguous, strided, in place */
                memcpy(st, st0, C * (K - 1) * 4);
                memset(y, 0, C * T * 4);
                if (mode == 2) memcpy(y, x, C * T * 4);
                const struct lm_tensor *xin = mode == 0 ? &xt : mode == 1 ? &xs : &yt;
                ck_assert_msg(lm_conv1d_causal(&yt, xin, &wt, &stt, ctx) == LM_OK, "%s",
                              lm_last_error());
                tu_assert_equal_f32("conv1d y", y, want, C * T);
                tu_assert_equal_f32("conv1d state", st, st_ref, C * (K - 1));
            }
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(x), lm_aligned_free(xtr), lm_aligned_free(w), lm_aligned_free(st0);
    lm_aligned_free(st), lm_aligned_free(st_ref), lm_aligned_free(y), lm_aligned_free(want);
}
END_TEST

START_TEST(conv1d_bad_shapes) {
    float x[40] = {0}, w[40] = {0}, s[40] = {0}, y[40] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor xt = lm_tensor_2d(LM_F32, 8, 4, x), yt = lm_tensor_2d(LM_F32, 8, 4, y);
    struct lm_tensor w_bad = lm_tensor_2d(LM_F32, 3, 7, w), wt = lm_tensor_2d(LM_F32, 3, 8, w);
    ck_assert_int_eq(lm_conv1d_causal(&yt, &xt, &w_bad, NULL, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "conv1d"));
    struct lm_tensor s_bad = lm_tensor_2d(LM_F32, 8, 3, s);
    ck_assert_int_eq(lm_conv1d_causal(&yt, &xt, &wt, &s_bad, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "state"));
    struct lm_tensor w1 = lm_tensor_2d(LM_F32, 1, 8, w), s1 = lm_tensor_2d(LM_F32, 8, 1, s);
    ck_assert_int_eq(lm_conv1d_causal(&yt, &xt, &w1, &s1, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_conv1d_causal(&yt, &xt, &w1, NULL, ctx), LM_OK); /* k = 1: y = w x */
    struct lm_tensor y2 = lm_tensor_2d(LM_F32, 4, 8, y);
    ck_assert_int_eq(lm_conv1d_causal(&y2, &xt, &wt, NULL, ctx), LM_EINVAL);
    struct lm_tensor x3 = lm_tensor_3d(LM_F32, 8, 2, 2, x), y3 = lm_tensor_3d(LM_F32, 8, 2, 2, y);
    ck_assert_int_eq(lm_conv1d_causal(&y3, &x3, &wt, NULL, ctx), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

/* ---- mean_pool --------------------------------------------------------------------------- */

START_TEST(mean_pool_segments) {
    const int64_t n = 37, T = 20;
    struct tu_rng r = tu_rng(51);
    float *x = tu_alloc(n * T * 4), *xtr = tu_alloc(n * T * 4), *y = tu_alloc(n * 5 * 4),
          *want = tu_alloc(n * 5 * 4), *first = tu_alloc(n * 5 * 4);
    tu_fill(x, n * T, &r, -5, 5);
    for (int64_t t = 0; t < T; t++)
        for (int64_t c = 0; c < n; c++)
            xtr[c * T + t] = x[t * n + c];
    struct lm_tensor xt = lm_tensor_2d(LM_F32, n, T, x), xb = lm_tensor_2d(LM_F32, T, n, xtr), xs;
    ck_assert_int_eq(lm_tensor_transpose(&xs, &xb, 0, 1), LM_OK);
    const int32_t offs[2][6] = {{0, 3, 4, 11, 19, 20}, {2, 5, 19}};
    const int64_t nseq[2] = {5, 2};
    for (int o = 0; o < 2; o++) {
        for (int64_t s = 0; s < nseq[o]; s++)
            for (int64_t c = 0; c < n; c++) {
                double acc = 0;
                for (int64_t t = offs[o][s]; t < offs[o][s + 1]; t++)
                    acc += x[t * n + c];
                want[s * n + c] = (float)(acc / (offs[o][s + 1] - offs[o][s]));
            }
        struct lm_tensor yt = lm_tensor_2d(LM_F32, n, nseq[o], y);
        int runs = 0;
        for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
            if (!lm_isa_available((enum lm_isa)isa)) continue;
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                for (int strided = 0; strided < 2; strided++) {
                    memset(y, 0, n * 5 * 4);
                    ck_assert_msg(lm_mean_pool(&yt, strided ? &xs : &xt, offs[o], nseq[o], ctx) ==
                                      LM_OK,
                                  "%s", lm_last_error());
                    tu_assert_close("mean_pool", y, want, n * nseq[o], 1e-7f, 1e-6f);
                    if (runs++ == 0)
                        memcpy(first, y, n * nseq[o] * 4);
                    else
                        tu_assert_equal_f32("mean_pool threads", y, first, n * nseq[o]);
                }
                lm_ctx_free(ctx);
            }
        }
    }
    lm_aligned_free(x), lm_aligned_free(xtr), lm_aligned_free(y), lm_aligned_free(want);
    lm_aligned_free(first);
}
END_TEST

START_TEST(mean_pool_bad_offsets) {
    float x[8 * 10] = {0}, y[8 * 3] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor xt = lm_tensor_2d(LM_F32, 8, 10, x), yt = lm_tensor_2d(LM_F32, 8, 3, y);
    const int32_t empty[4] = {0, 4, 4, 10}, down[4] = {0, 5, 3, 10}, high[4] = {0, 2, 5, 11},
                  neg[4] = {-1, 2, 5, 10};
    ck_assert_int_eq(lm_mean_pool(&yt, &xt, empty, 3, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "mean_pool"));
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "sequence 1 is empty"));
    ck_assert_int_eq(lm_mean_pool(&yt, &xt, down, 3, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "offsets[2]"));
    ck_assert_int_eq(lm_mean_pool(&yt, &xt, high, 3, ctx), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "offsets[3]"));
    ck_assert_int_eq(lm_mean_pool(&yt, &xt, neg, 3, ctx), LM_ERANGE);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "offsets[0]"));
    const int32_t ok[3] = {0, 4, 10};
    ck_assert_int_eq(lm_mean_pool(&yt, &xt, ok, 2, ctx), LM_EINVAL); /* y has 3 rows */
    ck_assert_int_eq(lm_mean_pool(&yt, &xt, NULL, 3, ctx), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

static Suite *elementwise_suite(void) {
    Suite *s = suite_create("elementwise");
    TCase *tc = tcase_create("activations");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, activation_kernel_vs_ref);
    tcase_add_test(tc, activation_edge_values);
    tcase_add_test(tc, swiglu_kernel_vs_ref);
    tcase_add_test(tc, unary_ops_strided_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("binary");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, add_mul_scale_kernel_vs_ref);
    tcase_add_test(tc, binary_op_broadcast);
    tcase_add_test(tc, binary_op_bad_shapes);
    suite_add_tcase(s, tc);
    tc = tcase_create("get_rows");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_rows_every_dtype);
    tcase_add_test(tc, get_rows_strided);
    tcase_add_test(tc, get_rows_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("conv1d");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, conv1d_kernel_vs_ref);
    tcase_add_test(tc, conv1d_op_vs_definition);
    tcase_add_test(tc, conv1d_state_chunks);
    tcase_add_test(tc, conv1d_inplace_strided_threads);
    tcase_add_test(tc, conv1d_bad_shapes);
    suite_add_tcase(s, tc);
    tc = tcase_create("mean_pool");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mean_pool_segments);
    tcase_add_test(tc, mean_pool_bad_offsets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(elementwise_suite()); }
