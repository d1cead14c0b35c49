/* tests/check_norm.c - the row norms (RMSNorm, LayerNorm, L2 norm): every SIMD level against
 * the reference on sizes 1..257 and odd shapes, strided inputs, edge values, and 1/2/3 threads.
 *
 * Tolerance: the references sum in double; f32 lanes differ by a few ulp of the sum, so
 * RMSNorm and L2 norm outputs agree to 1e-6 relative (plus 1e-7 absolute near zero). LayerNorm
 * subtracts an f32 mean, whose rounding (about 2^-24 of the largest |x|, here 3) shifts every
 * output by up to that much times r: outputs of order 1 to 3 agree to 1e-6 absolute plus 1e-6
 * relative on data of mean ~0; the edge rows use a larger mean and get 2e-6.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(rmsnorm_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(1);
    float *x = tu_alloc(300 * 4), *w = tu_alloc(300 * 4), *want = tu_alloc(300 * 4),
          *got = tu_alloc(300 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t n = 1; n <= 257; n++) {
            tu_fill(x, n, &r, -3, 3);
            tu_fill(w, n, &r, -2, 2);
            for (int with_w = 0; with_w < 2; with_w++) {
                lm_rmsnorm_ref(want, x, with_w ? w : NULL, n, 1e-6f);
                k->rmsnorm(got, x, with_w ? w : NULL, n, 1e-6f);
                tu_assert_close(lm_isa_name(lv[l]), got, want, n, 1e-7f, 1e-6f);
            }
        }
    }
    lm_aligned_free(x), lm_aligned_free(w), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

START_TEST(rmsnorm_edge_values) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    float x[19], want[19], got[19];
    const float cases[][3] = {
        {0, 0, 0}, {1e-40f, -1e-42f, 0}, {1e18f, -1e18f, 3e17f}, {NAN, 1, 2}, {INFINITY, 1, 2}};
    for (int c = 0; c < 5; c++) {
        for (int i = 0; i < 19; i++)
            x[i] = cases[c][i % 3];
        lm_rmsnorm_ref(want, x, NULL, 19, 1e-5f);
        for (int l = 0; l < nl; l++) {
            lm_kernels_get(lv[l])->rmsnorm(got, x, NULL, 19, 1e-5f);
            tu_assert_close(lm_isa_name(lv[l]), got, want, 19, 1e-7f, 1e-6f);
        }
    }
}
END_TEST

/* The op over a strided (transposed) view and thread counts 1..3 gives the reference rows. */
START_TEST(rmsnorm_op_strided_threads) {
    const int64_t n = 37, rows = 11;
    struct tu_rng r = tu_rng(7);
    float *buf = tu_alloc(n * rows * 4), *w = tu_alloc(n * 4), *want = tu_alloc(n * rows * 4),
          *got = tu_alloc(n * rows * 4), *col = tu_alloc(n * 4);
    tu_fill(buf, n * rows, &r, -1, 1);
    tu_fill(w, n, &r, 0.5f, 1.5f);
    /* buf holds (rows, n); its transpose is (n, rows) with row stride 4 and element stride 4*rows
     */
    struct lm_tensor t = lm_tensor_2d(LM_F32, rows, n, buf), xt;
    ck_assert_int_eq(lm_tensor_transpose(&xt, &t, 0, 1), LM_OK);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < n; j++)
            col[j] = buf[j * rows + i];
        lm_rmsnorm_ref(want + i * n, col, w, n, 1e-5f);
    }
    struct lm_tensor wt = lm_tensor_1d(LM_F32, n, w), y = lm_tensor_2d(LM_F32, n, rows, got);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 3; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            ck_assert_int_eq(lm_rmsnorm(&y, &xt, &wt, 1e-5f, ctx), LM_OK);
            tu_assert_close("rmsnorm op", got, want, n * rows, 1e-7f, 1e-6f);
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(buf), lm_aligned_free(w), lm_aligned_free(want), lm_aligned_free(got);
    lm_aligned_free(col);
}
END_TEST

START_TEST(rmsnorm_op_bad_shapes) {
    float a[8] = {0}, b[8] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor x = lm_tensor_2d(LM_F32, 4, 2, a), y = lm_tensor_2d(LM_F32, 2, 4, b);
    ck_assert_int_eq(lm_rmsnorm(&y, &x, NULL, 1e-5f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "rmsnorm"));
    struct lm_tensor w = lm_tensor_1d(LM_F32, 3, b), y2 = lm_tensor_2d(LM_F32, 4, 2, b);
    ck_assert_int_eq(lm_rmsnorm(&y2, &x, &w, 1e-5f, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_rmsnorm(&y2, &x, NULL, 1e-5f, NULL), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

/* ---- LayerNorm --------------------------------------------------------------------------- */

START_TEST(layernorm_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(2);
    float *x = tu_alloc(300 * 4), *w = tu_alloc(300 * 4), *b = tu_alloc(300 * 4),
          *want = tu_alloc(300 * 4), *got = tu_alloc(300 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t n = 1; n <= 257; n++) {
            tu_fill(x, n, &r, -3, 3);
            tu_fill(w, n, &r, -2, 2);
            tu_fill(b, n, &r, -1, 1);
            for (int wb = 0; wb < 4; wb++) {
                const float *wp = wb & 1 ? w : NULL, *bp = wb & 2 ? b : NULL;
                lm_layernorm_ref(want, x, wp, bp, n, 1e-5f);
                got[n] = 12345.0f;
                k->layernorm(got, x, wp, bp, n, 1e-5f);
                tu_assert_close(lm_isa_name(lv[l]), got, want, n, 1e-6f, 1e-6f);
                ck_assert(got[n] == 12345.0f);
            }
        }
    }
    lm_aligned_free(x), lm_aligned_free(w), lm_aligned_free(b), lm_aligned_free(want);
    lm_aligned_free(got);
}
END_TEST

START_TEST(layernorm_edge_values) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    float x[19], want[19], got[19];
    /* zeros, denormals, huge values, a large mean with a small spread, NaN, inf */
    const float cases[][3] = {{0, 0, 0},      {1e-40f, -1e-42f, 0}, {1e18f, -1e18f, 3e17f},
                              {100, 101, 99}, {NAN, 1, 2},          {INFINITY, 1, 2}};
    for (int c = 0; c < 6; c++) {
        for (int i = 0; i < 19; i++)
            x[i] = cases[c][i % 3];
        lm_layernorm_ref(want, x, NULL, NULL, 19, 1e-5f);
        for (int l = 0; l < nl; l++) {
            lm_kernels_get(lv[l])->layernorm(got, x, NULL, NULL, 19, 1e-5f);
            tu_assert_close(lm_isa_name(lv[l]), got, want, 19, 2e-6f, 1e-6f);
        }
    }
}
END_TEST

START_TEST(layernorm_op_strided_threads) {
    const int64_t n = 37, rows = 11;
    struct tu_rng r = tu_rng(8);
    float *buf = tu_alloc(n * rows * 4), *w = tu_alloc(n * 4), *b = tu_alloc(n * 4),
          *want = tu_alloc(n * rows * 4), *got = tu_alloc(n * rows * 4), *col = tu_alloc(n * 4);
    tu_fill(buf, n * rows, &r, -1, 1);
    tu_fill(w, n, &r, 0.5f, 1.5f);
    tu_fill(b, n, &r, -0.5f, 0.5f);
    struct lm_tensor t = lm_tensor_2d(LM_F32, rows, n, buf), xt;
    ck_assert_int_eq(lm_tensor_transpose(&xt, &t, 0, 1), LM_OK);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < n; j++)
            col[j] = buf[j * rows + i];
        lm_layernorm_ref(want + i * n, col, w, b, n, 1e-5f);
    }
    struct lm_tensor wt = lm_tensor_1d(LM_F32, n, w), bt = lm_tensor_1d(LM_F32, n, b),
                     y = lm_tensor_2d(LM_F32, n, rows, got);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 3; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            ck_assert_int_eq(lm_layernorm(&y, &xt, &wt, &bt, 1e-5f, ctx), LM_OK);
            tu_assert_close("layernorm op", got, want, n * rows, 1e-6f, 1e-6f);
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(buf), lm_aligned_free(w), lm_aligned_free(b), lm_aligned_free(want);
    lm_aligned_free(got), lm_aligned_free(col);
}
END_TEST

START_TEST(layernorm_op_bad_shapes) {
    float a[8] = {0}, c[8] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor x = lm_tensor_2d(LM_F32, 4, 2, a), y = lm_tensor_2d(LM_F32, 2, 4, c);
    ck_assert_int_eq(lm_layernorm(&y, &x, NULL, NULL, 1e-5f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "layernorm"));
    struct lm_tensor w3 = lm_tensor_1d(LM_F32, 3, c), y2 = lm_tensor_2d(LM_F32, 4, 2, c);
    ck_assert_int_eq(lm_layernorm(&y2, &x, NULL, &w3, 1e-5f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "b has"));
    ck_assert_int_eq(lm_layernorm(&y2, &x, &w3, NULL, 1e-5f, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_layernorm(&y2, &x, NULL, NULL, -1.0f, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_layernorm(&y2, &x, NULL, NULL, 1e-5f, NULL), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

/* ---- L2 norm ----------------------------------------------------------------------------- */

START_TEST(l2norm_kernel_vs_ref) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(3);
    float *x = tu_alloc(300 * 4), *want = tu_alloc(300 * 4), *got = tu_alloc(300 * 4);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int64_t n = 1; n <= 257; n++) {
            tu_fill(x, n, &r, -3, 3);
            lm_l2norm_ref(want, x, n, 1e-12f);
            got[n] = 12345.0f;
            k->l2norm(got, x, n, 1e-12f);
            tu_assert_close(lm_isa_name(lv[l]), got, want, n, 1e-7f, 1e-6f);
            ck_assert(got[n] == 12345.0f);
        }
    }
    lm_aligned_free(x), lm_aligned_free(want), lm_aligned_free(got);
}
END_TEST

START_TEST(l2norm_edge_values) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    float x[19], want[19], got[19];
    /* zeros (norm below eps), denormals, huge values, NaN, inf */
    const float cases[][3] = {
        {0, 0, 0}, {1e-40f, -1e-42f, 0}, {1e18f, -1e18f, 3e17f}, {NAN, 1, 2}, {INFINITY, 1, 2}};
    for (int c = 0; c < 5; c++) {
        for (int i = 0; i < 19; i++)
            x[i] = cases[c][i % 3];
        lm_l2norm_ref(want, x, 19, 1e-6f);
        for (int l = 0; l < nl; l++) {
            lm_kernels_get(lv[l])->l2norm(got, x, 19, 1e-6f);
            tu_assert_close(lm_isa_name(lv[l]), got, want, 19, 1e-7f, 1e-6f);
        }
    }
    /* a NaN norm propagates to every output */
    x[0] = NAN;
    lm_l2norm_ref(want, x, 19, 1e-6f);
    for (int i = 0; i < 19; i++)
        ck_assert(isnan(want[i]));
}
END_TEST

START_TEST(l2norm_op_strided_threads) {
    const int64_t n = 384, rows = 5;
    struct tu_rng r = tu_rng(9);
    float *buf = tu_alloc(n * rows * 4), *want = tu_alloc(n * rows * 4),
          *got = tu_alloc(n * rows * 4), *col = tu_alloc(n * 4);
    tu_fill(buf, n * rows, &r, -1, 1);
    struct lm_tensor t = lm_tensor_2d(LM_F32, rows, n, buf), xt;
    ck_assert_int_eq(lm_tensor_transpose(&xt, &t, 0, 1), LM_OK);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < n; j++)
            col[j] = buf[j * rows + i];
        lm_l2norm_ref(want + i * n, col, n, 1e-12f);
    }
    struct lm_tensor y = lm_tensor_2d(LM_F32, n, rows, got);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 3; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            ck_assert_int_eq(lm_l2norm(&y, &xt, 1e-12f, ctx), LM_OK);
            tu_assert_close("l2norm op", got, want, n * rows, 1e-7f, 1e-6f);
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(buf), lm_aligned_free(want), lm_aligned_free(got), lm_aligned_free(col);
}
END_TEST

START_TEST(l2norm_op_bad_shapes) {
    float a[8] = {0}, c[8] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor x = lm_tensor_2d(LM_F32, 4, 2, a), y = lm_tensor_2d(LM_F32, 2, 4, c);
    ck_assert_int_eq(lm_l2norm(&y, &x, 1e-12f, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "l2norm"));
    struct lm_tensor h = lm_tensor_2d(LM_F16, 4, 2, a), y2 = lm_tensor_2d(LM_F32, 4, 2, c);
    ck_assert_int_eq(lm_l2norm(&y2, &h, 1e-12f, ctx), LM_EINVAL);
    ck_assert_int_eq(lm_l2norm(&y2, &x, NAN, ctx), LM_EINVAL);
    lm_ctx_free(ctx);
}
END_TEST

static Suite *norm_suite(void) {
    Suite *s = suite_create("norm");
    TCase *tc = tcase_create("rmsnorm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rmsnorm_kernel_vs_ref);
    tcase_add_test(tc, rmsnorm_edge_values);
    tcase_add_test(tc, rmsnorm_op_strided_threads);
    tcase_add_test(tc, rmsnorm_op_bad_shapes);
    suite_add_tcase(s, tc);
    tc = tcase_create("layernorm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, layernorm_kernel_vs_ref);
    tcase_add_test(tc, layernorm_edge_values);
    tcase_add_test(tc, layernorm_op_strided_threads);
    tcase_add_test(tc, layernorm_op_bad_shapes);
    suite_add_tcase(s, tc);
    tc = tcase_create("l2norm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, l2norm_kernel_vs_ref);
    tcase_add_test(tc, l2norm_edge_values);
    tcase_add_test(tc, l2norm_op_strided_threads);
    tcase_add_test(tc, l2norm_op_bad_shapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(norm_suite()); }
