/* tests/check_norm.c - RMSNorm (and later the other row norms): every SIMD level against the
 * reference on sizes 1..257 and odd shapes, strided inputs, edge values, and 1/2/3 threads.
 *
 * Tolerance: the reference sums squares in double; f32 lanes differ by a few ulp of the sum,
 * so outputs agree to 1e-6 relative (plus 1e-7 absolute near zero).
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

static Suite *norm_suite(void) {
    Suite *s = suite_create("norm");
    TCase *tc = tcase_create("rmsnorm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rmsnorm_kernel_vs_ref);
    tcase_add_test(tc, rmsnorm_edge_values);
    tcase_add_test(tc, rmsnorm_op_strided_threads);
    tcase_add_test(tc, rmsnorm_op_bad_shapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(norm_suite()); }
