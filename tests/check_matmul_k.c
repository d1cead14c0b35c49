/* tests/check_matmul_k.c - lm_matmul with K-quant weights (Q4_K, Q5_K, Q6_K), every level.
 *
 * The oracle is a double-precision product of the dequantized W (reference to_f32, pinned by
 * tests/check_quant_k.c) with the x rows quantized by the reference Q8_K prep and dequantized
 * (d*q): the kernels compute that product with exact integer dot products, so the only error is
 * f32 rounding of the per-super-block terms and their sum.
 * Tolerance: |got - want| <= 1e-5 * sum_k (|w_k| + 2*o_k) * |x_k|, with o_k the magnitude of the
 * offset folded into w_k (Q4_K/Q5_K: dmin*m of its sub-block; Q6_K: 32*|d*scale|): the integer
 * partial sums are bounded by that sum, and K/256 <= 6 super-blocks of a few f32 roundings
 * each (plus an 8-lane sum) stay below 20 * 2^-24 < 1.2e-6 of it. A single wrong value moves
 * the result by about 1/K of the sum (>= 6e-4 of it for K <= 1536), far above the tolerance.
 * Shapes: M in {1,2,3,4,5,7,16,33} x N in {1,7,39} x K in {256,512,1536}; N = 1..40 for M 1, 5;
 * one case wide enough for several column blocks; the largest codes and scales against x at
 * the Q8_K clamp (integer bounds); threads 1, 2 and 3 must agree bit for
 * bit; x strided (transposed view, padded rows) and 3-D; y with padded rows.
 * The NEON levels promise more (simd/neon/matmul_k_neon.h): exact integer sums per super-block
 * and the reference's f32 operations in its order, so their outputs must equal the reference's
 * bit for bit, which run_case checks for them on every shape.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/quant_k.h"
#include "testutil.h"

static const enum lm_dtype kdt[3] = {LM_Q4_K, LM_Q5_K, LM_Q6_K};

struct wcase {
    enum lm_dtype dt;
    int64_t K, N;
    size_t ldw;
    uint8_t *w;  /* N rows of K */
    float *wd;   /* dequantized, N x K */
    float *woff; /* offset magnitude per element, N x K */
};

/* |offset| folded into each dequantized weight of the row (see the tolerance above). */
static void offsets(enum lm_dtype dt, const uint8_t *row, int64_t K, float *o) {
    size_t bs = lm_dtype_info(dt)->size;
    for (int64_t b = 0; b < K / 256; b++) {
        const uint8_t *blk = row + b * bs;
        if (dt == LM_Q6_K) {
            const struct lm_block_q6_k *q = (const void *)blk;
            float d = lm_f16_to_f32(q->d);
            for (int i = 0; i < 256; i++)
                o[256 * b + i] = 32.0f * fabsf(d * (float)q->scales[i / 16]);
        } else {
            uint16_t dmh;
            uint8_t sm[16];
            memcpy(&dmh, blk + 2, 2);
            lm_k_unpack_scales(blk + 4, sm);
            for (int i = 0; i < 256; i++)
                o[256 * b + i] = fabsf(lm_f16_to_f32(dmh)) * (float)sm[8 + i / 32];
        }
    }
}

/* W of N rows: quantized N(0,1) rows (realistic), or random bytes with finite d and dmin
 * (every scale, min and value pattern). */
static struct wcase make_w(enum lm_dtype dt, int64_t K, int64_t N, struct tu_rng *r, int raw) {
    struct wcase c = {.dt = dt, .K = K, .N = N, .ldw = lm_row_size(dt, K)};
    c.w = tu_alloc(c.ldw * N);
    c.wd = tu_alloc((size_t)(N * K) * 4);
    c.woff = tu_alloc((size_t)(N * K) * 4);
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    float *row = tu_alloc((size_t)K * 4);
    size_t bs = lm_dtype_info(dt)->size;
    for (int64_t n = 0; n < N; n++) {
        uint8_t *wr = c.w + n * c.ldw;
        if (raw) {
            for (size_t i = 0; i < c.ldw; i++)
                wr[i] = (uint8_t)tu_next(r);
            for (int64_t b = 0; b < K / 256; b++) {
                uint16_t d = lm_f32_to_f16(tu_uniform(r, -0.01f, 0.01f)),
                         dm = lm_f32_to_f16(tu_uniform(r, 0, 0.01f));
                if (dt == LM_Q6_K)
                    memcpy(wr + b * bs + 208, &d, 2);
                else
                    memcpy(wr + b * bs, &d, 2), memcpy(wr + b * bs + 2, &dm, 2);
            }
        } else {
            for (int64_t k = 0; k < K; k++)
                row[k] = tu_normal(r);
            ref->from_f32[dt](wr, row, K);
        }
        ref->to_f32[dt](c.wd + n * K, wr, K);
        offsets(dt, wr, K, c.woff + n * K);
    }
    lm_aligned_free(row);
    return c;
}

static void free_w(struct wcase *c) {
    lm_aligned_free(c->w), lm_aligned_free(c->wd), lm_aligned_free(c->woff);
}

/* want (M x N) and tolerance per element for contiguous x rows xs (M x K). */
static void oracle(const struct wcase *c, const float *xs, int64_t M, float *want, float *tol) {
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    const int64_t K = c->K;
    struct lm_block_q8_k *xb = tu_alloc(ref->mm[c->dt].prep_size(K));
    float *xd = tu_alloc((size_t)K * 4);
    for (int64_t m = 0; m < M; m++) {
        ref->mm[c->dt].prep(xb, xs + m * K, K);
        for (int64_t k = 0; k < K; k++)
            xd[k] = xb[k / 256].d * (float)xb[k / 256].qs[k % 256];
        for (int64_t n = 0; n < c->N; n++) {
            const float *w = c->wd + n * K, *o = c->woff + n * K;
            double acc = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                acc += (double)w[k] * xd[k];
                mag += (fabs((double)w[k]) + 2.0 * o[k]) * fabs((double)xd[k]);
            }
            want[m * c->N + n] = (float)acc;
            tol[m * c->N + n] = (float)(1e-5 * mag) + 1e-30f;
        }
    }
    lm_aligned_free(xb), lm_aligned_free(xd);
}

static void assert_within(const char *label, const float *got, int64_t ldg, const float *want,
                          const float *tol, int64_t M, int64_t N) {
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            float g = got[m * ldg + n], w = want[m * N + n], t = tol[m * N + n];
            ck_assert_msg(fabsf(g - w) <= t, "%s: y[%lld][%lld] got %.9g want %.9g (tol %.3g)",
                          label, (long long)m, (long long)n, (double)g, (double)w, (double)t);
        }
}

/* Contexts per (level, threads), made on first use and freed at the end of each test: thread
 * pools are costly to start hundreds of times. */
static struct lm_ctx *ctxs[LM_ISA_COUNT][4];

static struct lm_ctx *get_ctx(int isa, int th) {
    if (!ctxs[isa][th]) ctxs[isa][th] = tu_ctx(th, (enum lm_isa)isa);
    return ctxs[isa][th];
}

static void free_ctxs(void) {
    for (int i = 0; i < LM_ISA_COUNT; i++)
        for (int t = 0; t < 4; t++) {
            lm_ctx_free(ctxs[i][t]);
            ctxs[i][t] = NULL;
        }
}

/* Levels whose K-quant tiles are bit-identical to the reference (the others are within the
 * tolerance: AVX2 and AVX-512 sum in lanes and use FMA). */
static bool exact_level(int isa) { return isa == LM_ISA_NEON || isa == LM_ISA_NEON_DOTPROD; }

/* Run lm_matmul on every level and 1..3 threads (1 and 3 unless all_threads) for W c and
 * contiguous x rows xs (M x K): within tolerance of the oracle, identical across threads, and
 * identical to the reference on the exact levels. */
static void run_case(const struct wcase *c, const float *xs, int64_t M, int all_threads) {
    const int64_t K = c->K, N = c->N;
    float *want = tu_alloc((size_t)(M * N) * 4), *tol = tu_alloc((size_t)(M * N) * 4);
    float *got = tu_alloc((size_t)(M * N) * 4), *first = tu_alloc((size_t)(M * N) * 4);
    float *refy = tu_alloc((size_t)(M * N) * 4);
    oracle(c, xs, M, want, tol);
    struct lm_tensor wt = lm_tensor_2d(c->dt, K, N, c->w);
    struct lm_tensor xt = lm_tensor_2d(LM_F32, K, M, (void *)xs);
    struct lm_tensor yt = lm_tensor_2d(LM_F32, N, M, got);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 3; th += all_threads ? 1 : 2) {
            struct lm_ctx *ctx = get_ctx(isa, th);
            memset(got, 0xff, (size_t)(M * N) * 4);
            ck_assert_msg(lm_matmul(&yt, &xt, &wt, ctx) == LM_OK, "%s", lm_last_error());
            char label[96];
            snprintf(label, sizeof label, "%s %s M %lld N %lld K %lld threads %d",
                     lm_dtype_name(c->dt), lm_isa_name((enum lm_isa)isa), (long long)M,
                     (long long)N, (long long)K, th);
            assert_within(label, got, N, want, tol, M, N);
            if (th == 1)
                memcpy(first, got, (size_t)(M * N) * 4);
            else
                tu_assert_equal_f32(label, got, first, M * N);
            if (isa == LM_ISA_REF && th == 1) memcpy(refy, got, (size_t)(M * N) * 4);
            if (exact_level(isa)) tu_assert_equal_f32(label, got, refy, M * N);
        }
    }
    lm_aligned_free(want), lm_aligned_free(tol), lm_aligned_free(got), lm_aligned_free(first);
    lm_aligned_free(refy);
}

static float *random_x(int64_t n, struct tu_rng *r) {
    float *x = tu_alloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++)
        x[i] = tu_normal(r);
    return x;
}

START_TEST(shapes) {
    const int64_t Ms[] = {1, 2, 3, 4, 5, 7, 16, 33}, Ns[] = {1, 7, 39}, Ks[] = {256, 512, 1536};
    struct tu_rng r = tu_rng(100 + (uint64_t)_i);
    enum lm_dtype dt = kdt[_i];
    for (int ki = 0; ki < 3; ki++)
        for (int ni = 0; ni < 3; ni++) {
            struct wcase c = make_w(dt, Ks[ki], Ns[ni], &r, ni == 1);
            for (int mi = 0; mi < 8; mi++) {
                float *x = random_x(Ms[mi] * Ks[ki], &r);
                run_case(&c, x, Ms[mi], 1);
                lm_aligned_free(x);
            }
            free_w(&c);
        }
    free_ctxs();
}
END_TEST

START_TEST(n_sweep) {
    struct tu_rng r = tu_rng(200 + (uint64_t)_i);
    enum lm_dtype dt = kdt[_i];
    for (int64_t N = 1; N <= 40; N++) {
        struct wcase c = make_w(dt, 256, N, &r, N % 3 == 0);
        for (int64_t M = 1; M <= 5; M += 4) {
            float *x = random_x(M * 256, &r);
            run_case(&c, x, M, 0);
            lm_aligned_free(x);
        }
        free_w(&c);
    }
    free_ctxs();
}
END_TEST

/* N * row bytes past the 128 KiB column block of the AVX2 walker, with M > 4 (several groups
 * of x rows sweep several blocks) */
START_TEST(wide) {
    struct tu_rng r = tu_rng(300 + (uint64_t)_i);
    struct wcase c = make_w(kdt[_i], 1536, 333, &r, 0);
    float *x = random_x(9 * 1536, &r);
    run_case(&c, x, 9, 1);
    lm_aligned_free(x);
    free_w(&c);
    free_ctxs();
}
END_TEST

/* The largest codes and scales against x at +-127 (every Q8_K value at the clamp): the integer
 * bounds the kernels rely on are reached, e.g. the 4-product int32 lanes of a VNNI kernel at
 * 4*63*127 = 32004 for Q6_K, just inside the int16 range they are packed into, and the int32
 * super-block sums at their largest. Rows: all codes at the top with the largest positive
 * scales, all codes zero (the offset or min alone), the top codes with Q6_K scales of -128. */
START_TEST(extreme_codes) {
    const int64_t K = 512, N = 3, M = 5;
    const enum lm_dtype dt = kdt[_i];
    struct wcase c = {.dt = dt, .K = K, .N = N, .ldw = lm_row_size(dt, K)};
    c.w = tu_alloc(c.ldw * N);
    c.wd = tu_alloc((size_t)(N * K) * 4);
    c.woff = tu_alloc((size_t)(N * K) * 4);
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    const size_t bs = lm_dtype_info(dt)->size;
    const uint16_t d = lm_f32_to_f16(0.01f);
    for (int64_t n = 0; n < N; n++) {
        uint8_t *wr = c.w + n * c.ldw;
        for (int64_t b = 0; b < K / 256; b++) {
            uint8_t *blk = wr + b * bs;
            memset(blk, n == 1 ? 0x00 : 0xff, bs); /* codes: 15 / 31 / 63, or 0 */
            if (dt == LM_Q6_K) {
                memset(blk + 192, n == 2 ? 0x80 : 0x7f, 16); /* scales -128 or 127 */
                memcpy(blk + 208, &d, 2);
            } else {
                memset(blk + 4, 0xff, 12); /* every scale and min 63 */
                memcpy(blk, &d, 2), memcpy(blk + 2, &d, 2);
            }
        }
        ref->to_f32[dt](c.wd + n * K, wr, K);
        offsets(dt, wr, K, c.woff + n * K);
    }
    struct tu_rng r = tu_rng(700 + (uint64_t)_i);
    float *x = random_x(M * K, &r); /* row 4 stays random */
    for (int64_t k = 0; k < K; k++) {
        x[k] = 1.0f;                               /* q = 127 everywhere */
        x[K + k] = -1.0f;                          /* q = -127 */
        x[2 * K + k] = k % 2 ? -1.0f : 1.0f;       /* alternating within each 4-product lane */
        x[3 * K + k] = (k / 4) % 2 ? -1.0f : 1.0f; /* alternating lanes */
    }
    run_case(&c, x, M, 0);
    lm_aligned_free(x);
    free_w(&c);
    free_ctxs();
}
END_TEST

/* x as a transposed view (element stride), with padded rows, and 3-D; y with padded rows.
 * Compared with the contiguous run of the same values, which run_case checked. */
START_TEST(strided_views) {
    const int64_t K = 512, N = 13, M = 6;
    struct tu_rng r = tu_rng(400 + (uint64_t)_i);
    struct wcase c = make_w(kdt[_i], K, N, &r, 0);
    float *x = random_x(M * K, &r);
    float *want = tu_alloc(M * N * 4), *tol = tu_alloc(M * N * 4);
    oracle(&c, x, M, want, tol);
    float *xT = tu_alloc(M * K * 4), *xpad = tu_alloc(M * (K + 40) * 4);
    float *ypad = tu_alloc(M * (N + 5) * 4);
    for (int64_t m = 0; m < M; m++)
        for (int64_t k = 0; k < K; k++) {
            xT[k * M + m] = x[m * K + k];
            xpad[m * (K + 40) + k] = x[m * K + k];
        }
    struct lm_tensor wt = lm_tensor_2d(c.dt, K, N, c.w);
    struct lm_tensor t = lm_tensor_2d(LM_F32, M, K, xT), xtr;
    ck_assert_int_eq(lm_tensor_transpose(&xtr, &t, 0, 1), LM_OK); /* (K, M), nb[0] = 4*M */
    struct lm_tensor big = lm_tensor_2d(LM_F32, K + 40, M, xpad), xp;
    ck_assert_int_eq(lm_tensor_slice(&xp, &big, 0, 0, K), LM_OK); /* rows K+40 apart */
    struct lm_tensor x3 = lm_tensor_3d(LM_F32, K, 2, M / 2, x);   /* 3-D, broadcast over W */
    struct lm_tensor ybig = lm_tensor_2d(LM_F32, N + 5, M, ypad), yp;
    ck_assert_int_eq(lm_tensor_slice(&yp, &ybig, 0, 0, N), LM_OK);
    struct lm_tensor y3 = lm_tensor_3d(LM_F32, N, 2, M / 2, ypad);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 3; th += 2) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            const struct lm_tensor *xs[3] = {&xtr, &xp, &x3};
            for (int v = 0; v < 3; v++) {
                struct lm_tensor *y = v == 2 ? &y3 : &yp;
                int64_t ldy = v == 2 ? N : N + 5;
                memset(ypad, 0xff, M * (N + 5) * 4);
                ck_assert_msg(lm_matmul(y, xs[v], &wt, ctx) == LM_OK, "%s", lm_last_error());
                char label[64];
                snprintf(label, sizeof label, "%s %s view %d", lm_dtype_name(c.dt),
                         lm_isa_name((enum lm_isa)isa), v);
                assert_within(label, ypad, ldy, want, tol, M, N);
                if (v != 2) /* the padding between y rows is left alone */
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t p = N; p < N + 5; p++)
                            ck_assert(isnan(ypad[m * (N + 5) + p]));
            }
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(x), lm_aligned_free(want), lm_aligned_free(tol), lm_aligned_free(xT);
    lm_aligned_free(xpad), lm_aligned_free(ypad);
    free_w(&c);
}
END_TEST

/* Zero and denormal x rows give exact zeros, huge rows the oracle's numbers, and a NaN or inf
 * in a row makes its outputs non-finite (the Q8_K scale carries NaN; inf overflows it). */
START_TEST(edge_x) {
    const int64_t K = 512, N = 9, M = 5;
    struct tu_rng r = tu_rng(500 + (uint64_t)_i);
    struct wcase c = make_w(kdt[_i], K, N, &r, 0);
    float *x = random_x(M * K, &r), *y = tu_alloc(M * N * 4);
    float *want = tu_alloc(M * N * 4), *tol = tu_alloc(M * N * 4);
    for (int64_t k = 0; k < K; k++) {
        x[k] = 0;                           /* row 0: zeros */
        x[K + k] = 1e-41f * (float)(k % 5); /* row 1: denormals -> zero blocks */
        x[2 * K + k] *= 1e30f;              /* row 2: huge */
    }
    oracle(&c, x, 3, want, tol);
    x[3 * K + 7] = NAN;        /* row 3: one NaN */
    x[4 * K + 300] = INFINITY; /* row 4: one inf */
    struct lm_tensor wt = lm_tensor_2d(c.dt, K, N, c.w), xt = lm_tensor_2d(LM_F32, K, M, x);
    struct lm_tensor yt = lm_tensor_2d(LM_F32, N, M, y);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        struct lm_ctx *ctx = tu_ctx(2, (enum lm_isa)isa);
        ck_assert_int_eq(lm_matmul(&yt, &xt, &wt, ctx), LM_OK);
        lm_ctx_free(ctx);
        for (int64_t n = 0; n < N; n++) {
            ck_assert(y[n] == 0 && y[N + n] == 0);
            ck_assert_msg(!isfinite(y[3 * N + n]) && !isfinite(y[4 * N + n]),
                          "%s: NaN/inf rows gave %g, %g", lm_isa_name((enum lm_isa)isa),
                          (double)y[3 * N + n], (double)y[4 * N + n]);
        }
        assert_within(lm_isa_name((enum lm_isa)isa), y, N, want, tol, 3, N);
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(want), lm_aligned_free(tol);
    free_w(&c);
}
END_TEST

START_TEST(bad_shapes) {
    struct tu_rng r = tu_rng(600);
    struct wcase c = make_w(kdt[_i], 512, 3, &r, 0);
    float x[256 * 2] = {0}, y[8];
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor wt = lm_tensor_2d(c.dt, 512, 3, c.w);
    struct lm_tensor xt = lm_tensor_2d(LM_F32, 256, 2, x), yt = lm_tensor_2d(LM_F32, 3, 2, y);
    ck_assert_int_eq(lm_matmul(&yt, &xt, &wt, ctx), LM_EINVAL); /* K 256 vs 512 */
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    struct lm_tensor xt2 = lm_tensor_2d(LM_F32, 512, 1, x), yt2 = lm_tensor_2d(LM_F32, 2, 1, y);
    ck_assert_int_eq(lm_matmul(&yt2, &xt2, &wt, ctx), LM_EINVAL); /* N 3 vs y 2 */
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    lm_ctx_free(ctx);
    free_w(&c);
}
END_TEST

static Suite *matmul_k_suite(void) {
    Suite *s = suite_create("matmul_k");
    TCase *tc = tcase_create("matmul_k");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, shapes, 0, 3);
    tcase_add_loop_test(tc, n_sweep, 0, 3);
    tcase_add_loop_test(tc, wide, 0, 3);
    tcase_add_loop_test(tc, extreme_codes, 0, 3);
    tcase_add_loop_test(tc, strided_views, 0, 3);
    tcase_add_loop_test(tc, edge_x, 0, 3);
    tcase_add_loop_test(tc, bad_shapes, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(matmul_k_suite()); }
