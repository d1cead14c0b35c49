/* tests/check_matmul_legacy.c - lm_matmul with Q8_0, Q4_0 and Q4_1 weights, every level.
 *
 * The oracle is a double-precision product of the dequantized W (from its blocks, in double)
 * and the quantized-then-dequantized x (the reference prep's blocks, d * q in double), so it
 * isolates the kernel's own error from the quantization of x. Per block the kernels' integer
 * dot is exact; what remains is f32 rounding: the scale product dx * dw, the product with the
 * block sum (or one FMA), nb = K/32 block accumulations and the final lane sums (<= 4 adds).
 * Bound, per output: |got - want| <= (nb + 8) * 2^-23 * S, twice the first-order bound
 * (nb + 5) * 2^-24 * S, with S = sum_k |w_k x_k| for Q8_0 and Q4_0, and for Q4_1 S =
 * sum_k (|dw q_k| + |mw|) |x_k|, since the kernel forms dw*dx*sum(q x) and mw*dx*sum(x)
 * separately and each can be larger than their sum.
 * The SIMD tiles do the reference's per-block arithmetic in the reference's order (exact
 * integer block sums, then the same f32 multiplies and adds, one lane per output row), so
 * beyond that bound they must match the reference bit for bit, with 1, 2 or 3 threads. That
 * holds for both AVX2 paths: the decode tiles (M < 8) and the prefill GEMM (M >= 8, packed
 * 8-row W panels in 4 x 16 register tiles), whose tails the shapes below cover: M in
 * {1,2,3,4,5,7,8,9,16,17,33,64,100} (every M % 4 on both sides of the switch), N odd, N % 16
 * from 1 to 15 (a last tile of one full and one partial panel, or one partial panel alone),
 * every N in 1..70 at M = 3 and M = 9, K in {32, 96, 576} (one block, an odd number of
 * blocks, 18 blocks; and 64, 160); K = 4096 with N 70 and 61 at M 9 and 6, where W is wider than
 * one L2 column block of the NEON prefill walker (28 rows of 4352 bytes in 128 KiB), so
 * groups of x rows sweep several blocks and a partial last one; x strided (a transposed view and a
 * padded row stride) and 3-D. The AVX-512 levels work on groups of 16 W rows (decode) and 2
 * panels of 16 (GEMM, 4 x 32 tiles), with threads splitting columns in multiples of 16:
 * matmul_wide_groups adds N around multiples of 16 and 32 (16, 31, 33, 48, 65, 97: full groups,
 * one short of a tile, one past, a full panel plus a partial one) at M = 1, 2, 7 (decode) and
 * 8, 12 (GEMM), K = 96 and 288 (3 and 9 blocks), with 1..3 threads at N = 97. W blocks are
 * random bytes (every code, Q8_0's -128 included) with scales of random sign and magnitude. A
 * NaN or inf in x makes that output row NaN. Bad shapes return LM_EINVAL naming matmul.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/quant_legacy.h"
#include "testutil.h"

static const enum lm_dtype DT[3] = {LM_Q8_0, LM_Q4_0, LM_Q4_1};

/* Random W (K, N) blocks: random codes, scales ~ 2^[-8, 0) with random sign; Q4_1 mins of
 * either sign and comparable magnitude. */
static void random_w(enum lm_dtype t, uint8_t *w, int64_t K, int64_t N, struct tu_rng *r) {
    int64_t nb = K / 32 * N;
    for (int64_t b = 0; b < nb; b++) {
        uint16_t d = lm_f32_to_f16(tu_uniform(r, -1, 1) * ldexpf(1, -(int)(tu_next(r) % 8)));
        uint16_t m = lm_f32_to_f16(tu_uniform(r, -8, 8) * lm_f16_to_f32(d));
        if (t == LM_Q8_0) {
            struct lm_block_q8_0 *p = (struct lm_block_q8_0 *)w + b;
            p->d = d;
            for (int j = 0; j < 32; j++)
                p->qs[j] = (int8_t)tu_next(r);
        } else if (t == LM_Q4_0) {
            struct lm_block_q4_0 *p = (struct lm_block_q4_0 *)w + b;
            p->d = d;
            for (int j = 0; j < 16; j++)
                p->qs[j] = (uint8_t)tu_next(r);
        } else {
            struct lm_block_q4_1 *p = (struct lm_block_q4_1 *)w + b;
            p->d = d, p->m = m;
            for (int j = 0; j < 16; j++)
                p->qs[j] = (uint8_t)tu_next(r);
        }
    }
}

/* Row n of W in double: w[k] and the magnitude used for S (|w_k|, or |dq| + |m| for Q4_1). */
static void deq_w(enum lm_dtype t, const uint8_t *row, int64_t K, double *w, double *mag) {
    for (int64_t b = 0; b < K / 32; b++) {
        double *o = w + 32 * b, *g = mag + 32 * b;
        if (t == LM_Q8_0) {
            const struct lm_block_q8_0 *p = (const struct lm_block_q8_0 *)row + b;
            double d = lm_f16_to_f32(p->d);
            for (int j = 0; j < 32; j++)
                o[j] = d * p->qs[j], g[j] = fabs(o[j]);
        } else if (t == LM_Q4_0) {
            const struct lm_block_q4_0 *p = (const struct lm_block_q4_0 *)row + b;
            double d = lm_f16_to_f32(p->d);
            for (int j = 0; j < 16; j++) {
                o[j] = d * ((p->qs[j] & 15) - 8), o[j + 16] = d * ((p->qs[j] >> 4) - 8);
                g[j] = fabs(o[j]), g[j + 16] = fabs(o[j + 16]);
            }
        } else {
            const struct lm_block_q4_1 *p = (const struct lm_block_q4_1 *)row + b;
            double d = lm_f16_to_f32(p->d), m = lm_f16_to_f32(p->m);
            for (int j = 0; j < 16; j++) {
                int q0 = p->qs[j] & 15, q1 = p->qs[j] >> 4;
                o[j] = d * q0 + m, o[j + 16] = d * q1 + m;
                g[j] = fabs(d * q0) + fabs(m), g[j + 16] = fabs(d * q1) + fabs(m);
            }
        }
    }
}

/* x rows (K, M) contiguous -> quantized-then-dequantized, in double (reference prep). */
static void deq_x(enum lm_dtype t, const float *x, int64_t K, int64_t M, double *out) {
    const struct lm_mm_kernel *mk = &lm_kernels_get(LM_ISA_REF)->mm[t];
    uint8_t *buf = tu_alloc(mk->prep_size(K));
    for (int64_t m = 0; m < M; m++) {
        mk->prep(buf, x + m * K, K);
        for (int64_t b = 0; b < K / 32; b++) {
            double d;
            const int8_t *q;
            if (t == LM_Q4_1) {
                const struct lm_block_q8xs *p = (const struct lm_block_q8xs *)buf + b;
                d = p->d, q = p->qs;
            } else {
                const struct lm_block_q8x *p = (const struct lm_block_q8x *)buf + b;
                d = p->d, q = p->qs;
            }
            for (int j = 0; j < 32; j++)
                out[m * K + 32 * b + j] = d * q[j];
        }
    }
    lm_aligned_free(buf);
}

/* want (N, M) and the bound per output. */
static void oracle(enum lm_dtype t, const uint8_t *w, const float *x, int64_t K, int64_t N,
                   int64_t M, double *want, double *tol) {
    double *wd = malloc(sizeof(double) * K), *wm = malloc(sizeof(double) * K);
    double *xd = malloc(sizeof(double) * K * M);
    ck_assert(wd && wm && xd);
    deq_x(t, x, K, M, xd);
    size_t rs = lm_row_size(t, K);
    for (int64_t n = 0; n < N; n++) {
        deq_w(t, w + n * rs, K, wd, wm);
        for (int64_t m = 0; m < M; m++) {
            double s = 0, a = 0;
            for (int64_t k = 0; k < K; k++)
                s += wd[k] * xd[m * K + k], a += wm[k] * fabs(xd[m * K + k]);
            want[m * N + n] = s;
            tol[m * N + n] = (double)(K / 32 + 8) * 0x1p-23 * a + 1e-37;
        }
    }
    free(wd), free(wm), free(xd);
}

static void check_close(const char *what, const float *got, const double *want, const double *tol,
                        int64_t n) {
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol[i],
                      "%s: [%lld] got %.9g want %.9g (err %.3g, bound %.3g)", what, (long long)i,
                      (double)got[i], want[i], fabs(got[i] - want[i]), tol[i]);
}

/* One shape, every level and dtype; threads 1..3 when `threads`, else 1. */
static void run_shape(int64_t K, int64_t N, int64_t M, bool threads, struct tu_rng *r) {
    float *x = tu_alloc(K * M * 4), *y = tu_alloc(N * M * 4), *y1 = tu_alloc(N * M * 4);
    double *want = malloc(sizeof(double) * N * M), *tol = malloc(sizeof(double) * N * M);
    uint8_t *w = tu_alloc(K / 32 * N * 34);
    ck_assert(want && tol);
    for (int64_t i = 0; i < K * M; i++)
        x[i] = tu_normal(r) * (i % 7 == 0 ? 8.0f : 1.0f);
    enum lm_isa lv[LM_ISA_COUNT];
    lv[0] = LM_ISA_REF;
    int nl = 1 + tu_simd_levels(lv + 1);
    for (int t = 0; t < 3; t++) {
        random_w(DT[t], w, K, N, r);
        oracle(DT[t], w, x, K, N, M, want, tol);
        struct lm_tensor wt = lm_tensor_2d(DT[t], K, N, w), xt = lm_tensor_2d(LM_F32, K, M, x),
                         yt = lm_tensor_2d(LM_F32, N, M, y);
        for (int l = 0; l < nl; l++)
            for (int th = 1; th <= (threads ? 3 : 1); th++) {
                struct lm_ctx *ctx = tu_ctx(th, lv[l]);
                memset(y, 0xff, N * M * 4);
                ck_assert_msg(lm_matmul(&yt, &xt, &wt, ctx) == LM_OK, "%s", lm_last_error());
                char what[96];
                snprintf(what, sizeof what, "%s %s K %lld N %lld M %lld %d threads",
                         lm_isa_name(lv[l]), lm_dtype_name(DT[t]), (long long)K, (long long)N,
                         (long long)M, th);
                if (th == 1 && l == 0) {
                    check_close(what, y, want, tol, N * M);
                    memcpy(y1, y, N * M * 4);
                } else {
                    tu_assert_equal_f32(what, y, y1, N * M); /* == ref, 1 thread */
                }
                lm_ctx_free(ctx);
            }
    }
    lm_aligned_free(x), lm_aligned_free(y), lm_aligned_free(y1), lm_aligned_free(w);
    free(want), free(tol);
}

START_TEST(matmul_shapes_m) {
    struct tu_rng r = tu_rng(21);
    const int64_t Ms[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 100};
    const int64_t Ks[] = {32, 96, 576};
    const int64_t Ns[] = {1, 7, 19, 33, 45};
    for (int mi = 0; mi < 13; mi++)
        for (int ki = 0; ki < 3; ki++)
            for (int ni = 0; ni < 5; ni++) {
                if (Ms[mi] >= 64 && ki == 2 && ni < 3) continue; /* the big ones: fewer */
                /* 1..3 threads: N 45 (odd thread splits) at K 32 and 96 */
                run_shape(Ks[ki], Ns[ni], Ms[mi], ni == 4 && ki < 2, &r);
            }
}
END_TEST

START_TEST(matmul_every_n) {
    struct tu_rng r = tu_rng(22);
    for (int64_t N = 1; N <= 70; N++) {
        run_shape(N % 2 ? 64 : 160, N, 1, N % 8 == 3, &r);
        run_shape(32, N, 3, N % 8 == 5, &r);
        run_shape(N % 2 ? 32 : 96, N, 9, N % 16 == 1, &r);
    }
    /* avx512+amx: every N % 16 of its 16-column panels at M = 16 and M = 21 (the last 16-row
     * tile overlapping the first) */
    for (int64_t N = 1; N <= 33; N++)
        run_shape(N % 2 ? 64 : 32, N, N % 3 ? 21 : 16, N % 8 == 7, &r);
    /* x rows over 64 KiB: avx512+amx takes x in chunks of ~1 MiB, here 16 rows and then 4 */
    run_shape(65536, 17, 20, false, &r);
}
END_TEST

/* W past one 128 KiB column block (NEON's prefill walker): several blocks, a short last one. */
START_TEST(matmul_column_blocks) {
    struct tu_rng r = tu_rng(25);
    run_shape(4096, 70, 9, true, &r);
    run_shape(4096, 61, 6, false, &r);
}
END_TEST

/* The AVX-512 group and tile edges (see the top of the file). */
START_TEST(matmul_wide_groups) {
    struct tu_rng r = tu_rng(26);
    const int64_t Ns[] = {16, 31, 33, 48, 65, 97}, Ms[] = {1, 2, 7, 8, 12}, Ks[] = {96, 288};
    for (int ni = 0; ni < 6; ni++)
        for (int mi = 0; mi < 5; mi++)
            for (int ki = 0; ki < 2; ki++)
                run_shape(Ks[ki], Ns[ni], Ms[mi], Ns[ni] == 97, &r);
}
END_TEST

/* x as a transposed view, as a padded-row view, and 3-D: same y as contiguous x (M = 6, and
 * M = 18 for avx512+amx's tiles). */
START_TEST(matmul_strided_x) {
    const int64_t K = 96, N = 37, M = _i ? 18 : 6;
    struct tu_rng r = tu_rng(23 + (uint64_t)_i);
    float *x = tu_alloc(K * M * 4), *xtb = tu_alloc(K * M * 4), *xpad = tu_alloc((K + 24) * M * 4);
    float *y = tu_alloc(N * M * 4), *want = tu_alloc(N * M * 4);
    uint8_t *w = tu_alloc(K / 32 * N * 34);
    tu_fill(x, K * M, &r, -2, 2);
    for (int64_t m = 0; m < M; m++)
        for (int64_t k = 0; k < K; k++)
            xtb[k * M + m] = x[m * K + k], xpad[m * (K + 24) + k] = x[m * K + k];
    struct lm_tensor tb = lm_tensor_2d(LM_F32, M, K, xtb), xv,
                     pad = lm_tensor_2d(LM_F32, K + 24, M, xpad), xp;
    ck_assert_int_eq(lm_tensor_transpose(&xv, &tb, 0, 1), LM_OK);
    ck_assert_int_eq(lm_tensor_slice(&xp, &pad, 0, 0, K), LM_OK);
    struct lm_tensor x3 = lm_tensor_3d(LM_F32, K, M / 3, 3, x),
                     y3 = lm_tensor_3d(LM_F32, N, M / 3, 3, y);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int t = 0; t < 3; t++) {
            random_w(DT[t], w, K, N, &r);
            struct lm_tensor wt = lm_tensor_2d(DT[t], K, N, w), xc = lm_tensor_2d(LM_F32, K, M, x),
                             yt = lm_tensor_2d(LM_F32, N, M, y);
            struct lm_ctx *ctx = tu_ctx(2, (enum lm_isa)isa);
            ck_assert_int_eq(lm_matmul(&yt, &xc, &wt, ctx), LM_OK);
            memcpy(want, y, N * M * 4);
            memset(y, 0, N * M * 4);
            ck_assert_int_eq(lm_matmul(&yt, &xv, &wt, ctx), LM_OK);
            tu_assert_equal_f32("transposed x", y, want, N * M);
            memset(y, 0, N * M * 4);
            ck_assert_int_eq(lm_matmul(&yt, &xp, &wt, ctx), LM_OK);
            tu_assert_equal_f32("padded x rows", y, want, N * M);
            memset(y, 0, N * M * 4);
            ck_assert_int_eq(lm_matmul(&y3, &x3, &wt, ctx), LM_OK);
            tu_assert_equal_f32("3-D x", y, want, N * M);
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(x), lm_aligned_free(xtb), lm_aligned_free(xpad), lm_aligned_free(y);
    lm_aligned_free(want), lm_aligned_free(w);
}
END_TEST

/* A NaN or inf in an x row makes that row's outputs NaN and leaves the others finite, on
 * the decode tiles (M = 4), in the GEMM (M = 10: the bad rows in a full 4-row tile and in
 * the 2-row tail) and on avx512+amx's tiles (M = 20). */
START_TEST(matmul_nonfinite_x) {
    const int64_t K = 64, N = 11, Ms[3] = {4, 10, 20};
    struct tu_rng r = tu_rng(24);
    float x[64 * 20], y[11 * 20];
    uint8_t w[2 * 11 * 34];
    enum lm_isa lv[LM_ISA_COUNT];
    lv[0] = LM_ISA_REF;
    int nl = 1 + tu_simd_levels(lv + 1);
    for (int mi = 0; mi < 3; mi++) {
        const int64_t M = Ms[mi];
        tu_fill(x, K * M, &r, -1, 1);
        x[1 * K + 40] = NAN;
        x[3 * K + 3] = -INFINITY;
        if (M > 9) x[9 * K + 63] = INFINITY;
        for (int t = 0; t < 3; t++) {
            random_w(DT[t], w, K, N, &r);
            struct lm_tensor wt = lm_tensor_2d(DT[t], K, N, w), xt = lm_tensor_2d(LM_F32, K, M, x),
                             yt = lm_tensor_2d(LM_F32, N, M, y);
            for (int l = 0; l < nl; l++) {
                struct lm_ctx *ctx = tu_ctx(1, lv[l]);
                ck_assert_int_eq(lm_matmul(&yt, &xt, &wt, ctx), LM_OK);
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < N; n++) {
                        bool bad = m == 1 || m == 3 || m == 9;
                        ck_assert_msg(bad ? isnan(y[m * N + n]) : isfinite(y[m * N + n]),
                                      "%s %s M %lld y[%lld][%lld] = %g", lm_isa_name(lv[l]),
                                      lm_dtype_name(DT[t]), (long long)M, (long long)m,
                                      (long long)n, (double)y[m * N + n]);
                    }
                lm_ctx_free(ctx);
            }
        }
    }
}
END_TEST

START_TEST(matmul_bad_shapes) {
    uint8_t w[34 * 8] = {0};
    float x[200] = {0}, y[64] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    for (int t = 0; t < 3; t++) {
        /* K mismatch */
        struct lm_tensor wt = lm_tensor_2d(DT[t], 64, 2, w), xt = lm_tensor_2d(LM_F32, 32, 2, x),
                         yt = lm_tensor_2d(LM_F32, 2, 2, y);
        ck_assert_int_eq(lm_matmul(&yt, &xt, &wt, ctx), LM_EINVAL);
        ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
        /* rows not a whole number of blocks (a hand-made W; lm_tensor_init refuses it) */
        struct lm_tensor wb = lm_tensor_2d(DT[t], 40, 2, w), xb = lm_tensor_2d(LM_F32, 40, 2, x);
        ck_assert_int_eq(lm_matmul(&yt, &xb, &wb, ctx), LM_EINVAL);
        ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
        /* y of the wrong shape */
        struct lm_tensor yb = lm_tensor_2d(LM_F32, 3, 2, y), x2 = lm_tensor_2d(LM_F32, 64, 2, x);
        ck_assert_int_eq(lm_matmul(&yb, &x2, &wt, ctx), LM_EINVAL);
        ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    }
    lm_ctx_free(ctx);
}
END_TEST

static Suite *matmul_legacy_suite(void) {
    Suite *s = suite_create("matmul_legacy");
    TCase *tc = tcase_create("q8_0 q4_0 q4_1");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, matmul_shapes_m);
    tcase_add_test(tc, matmul_every_n);
    tcase_add_test(tc, matmul_column_blocks);
    tcase_add_test(tc, matmul_wide_groups);
    tcase_add_loop_test(tc, matmul_strided_x, 0, 2);
    tcase_add_test(tc, matmul_nonfinite_x);
    tcase_add_test(tc, matmul_bad_shapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(matmul_legacy_suite()); }
