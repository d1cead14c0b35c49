/* tests/check_matmul.c - lm_matmul with F32, F16 and BF16 weights: every SIMD level's tile
 * against the reference tile, and the op (strided x, 3-D x, 1/2/3 threads, errors).
 *
 * Sizes: M in {1..7, 13, 16, 17, 33, 100, 150, 151} covers the GEMV path (M <= 4), the
 * transposed-x path (5..16), the one-m-block GEMM (17..144, with M % 6 edges) and the blocked
 * GEMM (> 144, two m blocks); N and K are sampled from odd and power-of-two-adjacent sizes up
 * to 257, swept over every N in 1..257 and every K in 1..257 for a few M, plus K = 576/1536
 * (several k blocks) and N = 1100 (two n blocks). Tiles are called on two column ranges split
 * at a multiple of n_step, as two threads would, with x, W and y at odd offsets and strides, x
 * and W ending exactly at the end of their allocations (ASan sees any read past them), and y's
 * padding columns checked untouched. A tile over [0, N) must equal N one-column tiles bit for
 * bit, and the op 1, 2 and 3 threads: results may not depend on how columns are grouped.
 *
 * Tolerance, per element: |got - want| <= (K + 4) * 2^-24 * 1.01 * S + K * 2^-149, where
 * S = sum_k |x_k w_k| (computed by the reference tile on |x| and |W|). Why: every SIMD kernel
 * forms y[m][n] by an f32 FMA chain over k (GEMM paths: K roundings; GEMV: lane chains of
 * ceil(K/8) FMAs and three levels of lane sums), so each product passes through at most K + 3
 * roundings and the classic bound |error| <= gamma_(K+3) * S holds (Higham, Accuracy and
 * Stability of Numerical Algorithms, ch. 3). The reference sums in double (error ~K * 2^-53 * S,
 * negligible) and rounds once to f32 (<= 2^-24 * S), hence K + 4; 1.01 covers gamma's
 * denominator and the rounding of S itself. The last term covers underflow (each product or
 * sum may lose up to half the smallest subnormal, 2^-150). Widening F16/BF16 to f32 is exact on
 * both sides, so the same bound holds for every dtype. This is the rigorous worst case; a
 * typical error is ~sqrt(K) * 2^-24 * S, and an indexing bug (a term missed or taken from a
 * wrong row) shows up as an error of about S / K, far above the bound for the K tested. With
 * K = 1 there is a single rounding on both sides, so results must be bit-identical.
 * NaN must give NaN and +-inf the same infinity.
 *
 * A float kernel with a prep step is the AVX512-BF16 one (simd/avx512/matmul_bf16_dpbf16.c):
 * x split into bf16 hi + lo, each element off by up to 2^-15 |x| before any summation, and
 * vdpbf16ps flushing subnormals. It is held to the bound its file states, with K + 8 roundings
 * so that the bound also covers its f32 GEMM path: |got - want| <= (2^-15 + (K + 8) * 1.02 *
 * 2^-24) * S + 2^-124 * (K * (max|x| + max|w|) + K + 16) (sum_k |w_k| and sum_k |x_k| bounded by
 * K times the largest magnitudes), also for K = 1. Its tiles get x through prep, as the op does.
 * The AVX-512 BF16 tile that AVX512-BF16 replaces (and the emulated build always does) is
 * tested as one more kernel, so it is not left out.
 *
 * Paths of the AVX-512 level the sizes reach: GEMV M <= 8 (K % 16 tails), transposed-x GEMM
 * 9..16 and 17..32 lanes, the 12x32 kernel with one m block (33..168, M % 12 edges) and two
 * (169+), N % 32 edges, K blocks of 192 (576, 1536).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const enum lm_dtype dtypes[3] = {LM_F32, LM_F16, LM_BF16};

static size_t esize(enum lm_dtype dt) { return dt == LM_F32 ? 4 : 2; }

/* v rounded to dt and stored at w[i]; returns the value as f32 */
static float store_w(enum lm_dtype dt, void *w, int64_t i, float v) {
    if (dt == LM_F16) {
        ((uint16_t *)w)[i] = lm_f32_to_f16(v);
        return lm_f16_to_f32(((uint16_t *)w)[i]);
    }
    if (dt == LM_BF16) {
        ((uint16_t *)w)[i] = lm_f32_to_bf16(v);
        return lm_bf16_to_f32(((uint16_t *)w)[i]);
    }
    ((float *)w)[i] = v;
    return v;
}

/* Bit-identical (tu_assert_equal_f32 asserts per element, which Check logs; compare first). */
static void assert_same(const char *label, const float *got, const float *want, int64_t n) {
    if (memcmp(got, want, (size_t)n * sizeof(float)) != 0) tu_assert_equal_f32(label, got, want, n);
}

/* The AVX-512 BF16 tile that the AVX512-BF16 one replaces in the table (weak: absent when the
 * build has no AVX-512 kernels). */
void lm_mm_tile_bf16_avx512(const struct lm_mm *a, int64_t n0, int64_t n1, void *scratch)
    __attribute__((weak));
size_t lm_gemm_scratch_avx512(int64_t M, int64_t K) __attribute__((weak));

/* The kernels under test for dt: every SIMD level's, and that replaced AVX-512 BF16 tile. */
struct kcase {
    char name[48];
    struct lm_mm_kernel k;
};
static int test_kernels(enum lm_dtype dt, struct kcase *out) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv), n = 0;
    for (int l = 0; l < nl; l++, n++) {
        out[n].k = lm_kernels_get(lv[l])->mm[dt];
        snprintf(out[n].name, sizeof out[n].name, "%s %s", lm_isa_name(lv[l]), lm_dtype_name(dt));
    }
    if (dt == LM_BF16 && lm_mm_tile_bf16_avx512 && lm_isa_available(LM_ISA_AVX512) &&
        lm_kernels_get(LM_ISA_AVX512)->mm[LM_BF16].tile != lm_mm_tile_bf16_avx512) {
        out[n].k = (struct lm_mm_kernel){
            .tile = lm_mm_tile_bf16_avx512, .scratch_size = lm_gemm_scratch_avx512, .n_step = 32};
        snprintf(out[n].name, sizeof out[n].name, "avx512 bf16 (without dpbf16)");
        n++;
    }
    return n;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* One tile problem: x (M rows of K, ldx floats apart), W (N rows of K, ldw elements apart),
 * y (M rows, ldy floats apart), and their absolute values for the bound. x and W start one
 * element past an odd offset and end exactly at the end of their allocations. */
struct prob {
    enum lm_dtype dt;
    int64_t M, N, K, ldx, ldw, ldy;
    float *xbuf, *x, *xa;
    uint8_t *wbuf, *w, *wa;
    float *want, *sum, *got;
    double amax; /* max |x| + max |W| (the split bound's absolute term) */
};

static void prob_init(struct prob *p, enum lm_dtype dt, int64_t M, int64_t N, int64_t K,
                      struct tu_rng *r) {
    *p = (struct prob){.dt = dt, .M = M, .N = N, .K = K, .ldx = K + 3, .ldw = K + 2, .ldy = N + 5};
    size_t es = esize(dt);
    size_t xn = (size_t)((M - 1) * p->ldx + K + 1), wn = (size_t)((N - 1) * p->ldw + K + 1);
    p->xbuf = xmalloc(xn * 4), p->xa = xmalloc(xn * 4);
    p->wbuf = xmalloc(wn * es), p->wa = xmalloc(wn * es);
    for (size_t i = 0; i < xn; i++) {
        p->xbuf[i] = tu_uniform(r, -1, 1);
        p->xa[i] = fabsf(p->xbuf[i]);
    }
    for (size_t i = 0; i < wn; i++)
        store_w(dt, p->wa, (int64_t)i,
                fabsf(store_w(dt, p->wbuf, (int64_t)i, tu_uniform(r, -1, 1))));
    p->x = p->xbuf + 1, p->w = p->wbuf + es;
    size_t yn = (size_t)(M * p->ldy);
    p->want = xmalloc(yn * 4), p->sum = xmalloc(yn * 4), p->got = xmalloc(yn * 4);
}

static void prob_free(struct prob *p) {
    free(p->xbuf), free(p->xa), free(p->wbuf), free(p->wa);
    free(p->want), free(p->sum), free(p->got);
}

static struct lm_mm prob_mm(const struct prob *p, float *y, const float *x, const uint8_t *w) {
    return (struct lm_mm){.y = y,
                          .ldy = p->ldy,
                          .w = w,
                          .ldw = (size_t)p->ldw * esize(p->dt),
                          .x = (const uint8_t *)x,
                          .ldx = (size_t)p->ldx * 4,
                          .M = p->M,
                          .N = p->N,
                          .K = p->K};
}

static float w_get(enum lm_dtype dt, const void *w, int64_t i) {
    if (dt == LM_F16) return lm_f16_to_f32(((const uint16_t *)w)[i]);
    if (dt == LM_BF16) return lm_bf16_to_f32(((const uint16_t *)w)[i]);
    return ((const float *)w)[i];
}

/* want and sum from the reference tile (after x or W were changed). */
static void prob_ref(struct prob *p) {
    const struct lm_mm_kernel *ref = &lm_kernels_get(LM_ISA_REF)->mm[p->dt];
    double xm = 0, wm = 0;
    for (int64_t i = 0; i < (p->M - 1) * p->ldx + p->K; i++)
        if (isfinite(p->xa[1 + i]) && p->xa[1 + i] > xm) xm = p->xa[1 + i];
    for (int64_t i = 0; i < (p->N - 1) * p->ldw + p->K; i++) {
        float v = w_get(p->dt, p->wa, 1 + i);
        if (isfinite(v) && v > wm) wm = v;
    }
    p->amax = xm + wm;
    struct lm_mm a = prob_mm(p, p->want, p->x, p->w);
    ref->tile(&a, 0, p->N, NULL);
    a = prob_mm(p, p->sum, p->xa + 1, p->wa + esize(p->dt));
    ref->tile(&a, 0, p->N, NULL);
}

/* |got - want| within the bound (see the top), NaN and inf matching; bit-exact when K == 1.
 * split: the bound of a kernel that splits x into bf16 hi + lo (amax = max|x| + max|W|). */
static void check_bound_k(const char *label, const float *got, const float *want, const float *sum,
                          int64_t M, int64_t N, int64_t ld, int64_t K, bool split, double amax) {
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            float g = got[m * ld + n], w = want[m * ld + n];
            if (isnan(w) || isinf(w) || isnan(g) || isinf(g)) {
                if (!((isnan(w) && isnan(g)) || g == w))
                    ck_abort_msg("%s: M %lld N %lld K %lld: y[%lld][%lld] got %.9g want %.9g",
                                 label, (long long)M, (long long)N, (long long)K, (long long)m,
                                 (long long)n, (double)g, (double)w);
                continue;
            }
            double tol = (double)(K + 4) * 0x1p-24 * 1.01 * sum[m * ld + n] + (double)K * 0x1p-149;
            if (K == 1) tol = 0;
            if (split)
                tol = (0x1p-15 + (double)(K + 8) * 1.02 * 0x1p-24) * sum[m * ld + n] +
                      0x1p-124 * ((double)K * amax + (double)K + 16);
            if (!(fabs((double)g - w) <= tol))
                ck_abort_msg(
                    "%s: M %lld N %lld K %lld: y[%lld][%lld] got %.9g want %.9g (bound %.3g)",
                    label, (long long)M, (long long)N, (long long)K, (long long)m, (long long)n,
                    (double)g, (double)w, tol);
        }
}

/* x as the kernel reads it: a level whose float kernel has a prep (avx512+amx: x split into
 * bf16 pieces) gets the prepared rows, in *buf (free it), the others x in place. */
static void kern_x(const struct lm_mm_kernel *kern, const struct prob *p, struct lm_mm *a,
                   uint8_t **buf) {
    *buf = NULL;
    if (!kern->prep) return;
    size_t ps = kern->prep_size(p->K);
    *buf = tu_alloc(ps * (size_t)p->M);
    for (int64_t m = 0; m < p->M; m++)
        kern->prep(*buf + (size_t)m * ps, (const float *)a->x + m * p->ldx, p->K);
    a->x = *buf, a->ldx = ps;
}

/* The level's tile over [0, N) in two calls split at a multiple of n_step, as two threads
 * would; y's padding columns must keep their sentinel. */
static void run_tile(const struct lm_mm_kernel *kern, struct prob *p) {
    const uint32_t sentinel = 0x7fc0dead;
    for (int64_t i = 0; i < p->M * p->ldy; i++)
        memcpy(&p->got[i], &sentinel, 4);
    size_t ss = kern->scratch_size ? kern->scratch_size(p->M, p->K) : 0;
    void *scratch = tu_alloc(ss ? ss : 64);
    int64_t step = kern->n_step, split = (p->N / 2 + step - 1) / step * step;
    if (split > p->N) split = p->N;
    struct lm_mm a = prob_mm(p, p->got, p->x, p->w);
    uint8_t *xbuf;
    kern_x(kern, p, &a, &xbuf);
    if (split > 0) kern->tile(&a, 0, split, scratch);
    if (split < p->N) kern->tile(&a, split, p->N, scratch);
    lm_aligned_free(scratch);
    if (xbuf) lm_aligned_free(xbuf);
    for (int64_t m = 0; m < p->M; m++)
        for (int64_t n = p->N; n < p->ldy; n++)
            if (memcmp(&p->got[m * p->ldy + n], &sentinel, 4) != 0)
                ck_abort_msg("tile wrote y[%lld][%lld] past N %lld", (long long)m, (long long)n,
                             (long long)p->N);
}

/* Every SIMD level's tile for dt on an M x N x K problem against the reference. */
static void tile_case(enum lm_dtype dt, int64_t M, int64_t N, int64_t K, uint64_t seed) {
    struct kcase kc[LM_ISA_COUNT + 1];
    int nk = test_kernels(dt, kc);
    struct tu_rng r = tu_rng(seed);
    struct prob p;
    prob_init(&p, dt, M, N, K, &r);
    prob_ref(&p);
    for (int l = 0; l < nk; l++) {
        run_tile(&kc[l].k, &p);
        char label[64];
        snprintf(label, sizeof label, "%s tile", kc[l].name);
        check_bound_k(label, p.got, p.want, p.sum, M, N, p.ldy, K, kc[l].k.prep != NULL, p.amax);
    }
    prob_free(&p);
}

static const int64_t Ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 32, 33, 100, 150, 151, 169};
static const int64_t sizes[] = {1,  2,  3,  5,  7,   8,   9,   15,  16,  17,  31,
                                33, 47, 63, 65, 100, 127, 129, 200, 255, 256, 257};
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

/* Sampled N x K for each M (fewer large ones for large M, so the double reference stays fast),
 * and the two model shapes for a few M. */
START_TEST(tile_vs_ref_sampled) {
    enum lm_dtype dt = dtypes[_i];
    struct tu_rng r = tu_rng(11 + (uint64_t)_i);
    for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
        int64_t M = Ms[mi];
        for (int c = 0; c < 7; c++) {
            int64_t N = sizes[tu_next(&r) % NSIZES], K = sizes[tu_next(&r) % NSIZES];
            while (M * N * K > 3000000)
                N = (N + 1) / 2, K = (K + 1) / 2 | 1;
            tile_case(dt, M, N, K, tu_next(&r));
        }
    }
    tile_case(dt, 1, 1536, 576, 1);
    tile_case(dt, 4, 576, 1536, 2);
    tile_case(dt, 7, 576, 1536, 3);
    tile_case(dt, 33, 200, 1536, 4);
    tile_case(dt, 151, dt == LM_F32 ? 1100 : 130, 300, 5); /* two n blocks (f32), m edges */
    tile_case(dt, 6, 40, 1022, 6);   /* f32 W rows 4 KiB apart: the 6-row kernel for M <= 8 */
    tile_case(dt, 12, 40, 1022, 8);  /* the same, avx512's transposed-x path (rows copied) */
    tile_case(dt, 8, 100, 1000, 9);  /* avx512: the last GEMV M, K % 32 = 8 */
    tile_case(dt, 9, 77, 385, 10);   /* the first GEMM M: 16 lanes, K blocks 192 + 193 */
    tile_case(dt, 47, 70, 200, 11);  /* 12x32 kernel: M % 12 = 11, N % 32 = 6, K 192 + 8 */
    tile_case(dt, 170, 45, 50, 12);  /* two m blocks of 168, the second of 2 rows */
    tile_case(dt, 150, 40, 1536, 7); /* avx512+amx: two x chunks (~1 MiB of bf16 pieces each) */
}
END_TEST

/* Every N in 1..257 and every K in 1..257 for M on each path. */
START_TEST(tile_vs_ref_sweep) {
    enum lm_dtype dt = dtypes[_i];
    const int64_t msw[] = {1, 3, 4, 5, 8, 9, 16, 20, 33};
    for (size_t mi = 0; mi < sizeof msw / sizeof msw[0]; mi++)
        for (int64_t n = 1; n <= 257; n++)
            tile_case(dt, msw[mi], n, n % 2 ? 19 : 8, (uint64_t)(n * 31 + mi));
    const int64_t mk[] = {1, 2, 7, 8, 17, 33};
    for (size_t mi = 0; mi < sizeof mk / sizeof mk[0]; mi++)
        for (int64_t k = 1; k <= 257; k++)
            tile_case(dt, mk[mi], 21, k, (uint64_t)(k * 17 + mi));
}
END_TEST

/* K = 1: one rounding on each side, so every path must match the reference bit for bit. */
START_TEST(tile_k1_exact) {
    enum lm_dtype dt = dtypes[_i];
    for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++)
        tile_case(dt, Ms[mi], 37, 1, (uint64_t)mi); /* check_bound_k: tol 0 for K = 1 */
}
END_TEST

/* Zeros, huge values, overflow to inf, subnormals, NaN and inf, on each path. */
START_TEST(tile_edge_values) {
    enum lm_dtype dt = dtypes[_i];
    struct kcase kc[LM_ISA_COUNT + 1];
    int nk = test_kernels(dt, kc);
    const int64_t mlist[] = {1, 3, 5, 8, 9, 20, 40, 150}, N = 21, K = 19;
    /* 0 zeros, 1 huge with cancellation, 2 overflow to +inf, 3 subnormal x and tiny W, 4 NaN
     * in one x row, 5 +inf and NaN in two W rows */
    const float big_w = dt == LM_F16 ? 60000.0f : 1e18f, big_x = dt == LM_F16 ? 1e30f : 1e18f;
    const float huge_x = dt == LM_F16 ? 1e36f : 1e30f, huge_w = dt == LM_F16 ? 60000.0f : 1e30f;
    for (size_t mi = 0; mi < sizeof mlist / sizeof mlist[0]; mi++) {
        int64_t M = mlist[mi];
        for (int c = 0; c < 6; c++) {
            struct tu_rng r = tu_rng(100 + (uint64_t)c);
            struct prob p;
            prob_init(&p, dt, M, N, K, &r);
            for (int64_t m = 0; m < M; m++)
                for (int64_t k = 0; k < K; k++) {
                    float *xv = &p.x[m * p.ldx + k];
                    switch (c) {
                    case 0: *xv = 0; break;                                      /* zeros */
                    case 1: *xv = big_x * (float)(1 + (k % 3)); break;           /* huge */
                    case 2: *xv = huge_x; break;                                 /* -> inf */
                    case 3: *xv = 1e-40f * (float)((k % 5) - 2); break;          /* subnormal */
                    case 4: *xv = (m == M / 2 && k == K - 1) ? NAN : *xv; break; /* NaN in x */
                    case 5: *xv = (*xv == 0 ? 0.5f : *xv); break;                /* inf in W */
                    }
                    p.xa[1 + m * p.ldx + k] = fabsf(*xv);
                }
            /* W element (n, k) is wbuf[n * ldw + k + 1]; cases 0 and 4 keep the random W */
            for (int64_t n = 0; n < N && (c == 1 || c == 2 || c == 3); n++)
                for (int64_t k = 0; k < K; k++) {
                    float v = c == 1   ? big_w * ((n + k) % 2 ? -1.0f : 1.0f)
                              : c == 2 ? huge_w
                                       : (dt == LM_F16 ? 1e-7f : 1e-3f) * (float)(n % 3 + 1);
                    int64_t i = n * p.ldw + k + 1;
                    store_w(dt, p.wa, i, fabsf(store_w(dt, p.wbuf, i, v)));
                }
            if (c == 5) { /* +inf at W[3][7], NaN at W[5][1] */
                store_w(dt, p.wa, 3 * p.ldw + 7 + 1,
                        fabsf(store_w(dt, p.wbuf, 3 * p.ldw + 8, INFINITY)));
                store_w(dt, p.wa, 5 * p.ldw + 1 + 1,
                        fabsf(store_w(dt, p.wbuf, 5 * p.ldw + 2, NAN)));
            }
            prob_ref(&p);
            for (int l = 0; l < nk; l++) {
                run_tile(&kc[l].k, &p);
                char label[80];
                snprintf(label, sizeof label, "%s edge case %d", kc[l].name, c);
                check_bound_k(label, p.got, p.want, p.sum, M, N, p.ldy, K, kc[l].k.prep != NULL,
                              p.amax);
                if (c == 0)
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t n = 0; n < N; n++)
                            if (p.got[m * p.ldy + n] != 0)
                                ck_abort_msg("%s: y[%lld][%lld] != 0", label, (long long)m,
                                             (long long)n);
                if (c == 2) ck_assert(isinf(p.got[0]) && p.got[0] > 0);
                if (c == 4) ck_assert(isnan(p.got[(M / 2) * p.ldy + 4]));
                if (c == 5) ck_assert(isinf(p.got[3]) && isnan(p.got[5]));
            }
            prob_free(&p);
        }
    }
}
END_TEST

/* An inf in W and a NaN in x with several x chunks (avx512+amx recomputes such columns and
 * rows on the level below, after the last chunk): within the bound, NaN and inf where the
 * reference has them. */
START_TEST(tile_nonfinite_chunks) {
    enum lm_dtype dt = dtypes[_i];
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    struct tu_rng r = tu_rng(77);
    struct prob p;
    prob_init(&p, dt, 150, 37, 1536, &r);
    store_w(dt, p.wa, 3 * p.ldw + 7 + 1, fabsf(store_w(dt, p.wbuf, 3 * p.ldw + 8, INFINITY)));
    store_w(dt, p.wa, 20 * p.ldw + 900 + 1, fabsf(store_w(dt, p.wbuf, 20 * p.ldw + 901, NAN)));
    p.x[120 * p.ldx + 5] = NAN, p.xa[1 + 120 * p.ldx + 5] = NAN;
    p.x[7 * p.ldx + 1000] = -INFINITY, p.xa[1 + 7 * p.ldx + 1000] = INFINITY;
    prob_ref(&p);
    for (int l = 0; l < nl; l++) {
        run_tile(&lm_kernels_get(lv[l])->mm[dt], &p);
        char label[64];
        snprintf(label, sizeof label, "%s %s non-finite", lm_isa_name(lv[l]), lm_dtype_name(dt));
        check_bound_k(label, p.got, p.want, p.sum, p.M, p.N, p.ldy, p.K,
                      lm_kernels_get(lv[l])->mm[dt].prep != NULL, p.amax);
        ck_assert(isnan(p.got[120 * p.ldy + 4]) && isnan(p.got[130 * p.ldy + 20]));
        ck_assert(isinf(p.got[130 * p.ldy + 3]));
    }
    prob_free(&p);
}
END_TEST

/* A column's result does not depend on which columns share its call: one call over [0, N)
 * and N one-column calls give the same bits on every path (the kernels promise this for
 * n_step-aligned splits; any split is a stronger check of the same arithmetic-order claim). */
START_TEST(tile_column_split_identical) {
    enum lm_dtype dt = dtypes[_i];
    struct kcase kc[LM_ISA_COUNT + 1];
    int nk = test_kernels(dt, kc);
    const int64_t mlist[] = {1, 2, 3, 4, 5, 8, 9, 17, 32, 33, 150}, N = 37, K = 100;
    for (size_t mi = 0; mi < sizeof mlist / sizeof mlist[0]; mi++) {
        struct tu_rng r = tu_rng(40 + mi);
        struct prob p;
        prob_init(&p, dt, mlist[mi], N, K, &r);
        float *one = xmalloc((size_t)(p.M * p.ldy) * 4);
        for (int l = 0; l < nk; l++) {
            const struct lm_mm_kernel *kern = &kc[l].k;
            size_t ss = kern->scratch_size ? kern->scratch_size(p.M, K) : 0;
            void *scratch = tu_alloc(ss ? ss : 64);
            memset(p.got, 0, (size_t)(p.M * p.ldy) * 4);
            memset(one, 0, (size_t)(p.M * p.ldy) * 4);
            struct lm_mm a = prob_mm(&p, p.got, p.x, p.w);
            uint8_t *xbuf;
            kern_x(kern, &p, &a, &xbuf);
            kern->tile(&a, 0, N, scratch);
            a.y = one;
            for (int64_t n = 0; n < N; n++)
                kern->tile(&a, n, n + 1, scratch);
            assert_same(kc[l].name, one, p.got, p.M * p.ldy);
            lm_aligned_free(scratch);
            if (xbuf) lm_aligned_free(xbuf);
        }
        free(one);
        prob_free(&p);
    }
}
END_TEST

/* Scratch needs are bounded: they do not grow with M. */
START_TEST(tile_scratch_bounded) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    for (int l = 0; l < nl; l++)
        for (int d = 0; d < 3; d++) {
            const struct lm_mm_kernel *kern = &lm_kernels_get(lv[l])->mm[dtypes[d]];
            if (!kern->scratch_size) continue;
            for (int64_t K = 1; K <= 8192; K *= 4) {
                size_t big = kern->scratch_size(200, K);
                for (int64_t M = 1; M <= 1000000; M *= 7)
                    if (kern->scratch_size(M, K) > big + (size_t)K * 64 + 65536)
                        ck_abort_msg("scratch_size(%lld, %lld) = %zu grows with M", (long long)M,
                                     (long long)K, kern->scratch_size(M, K));
                ck_assert_uint_eq(kern->scratch_size(1000000, K), big);
            }
        }
}
END_TEST

/* ---- the op ------------------------------------------------------------------------------ */

/* y = x W^T through lm_matmul with x a transposed (strided) view, on every level and 1..3
 * threads: within the bound of the reference, and bit-identical across thread counts. */
START_TEST(op_strided_threads) {
    enum lm_dtype dt = dtypes[_i];
    const int64_t mlist[] = {1, 4, 5, 8, 9, 16, 33, 150}, N = 100, K = 77;
    for (size_t mi = 0; mi < sizeof mlist / sizeof mlist[0]; mi++) {
        int64_t M = mlist[mi];
        struct tu_rng r = tu_rng(7 + mi);
        float *xt = tu_alloc((size_t)(M * K) * 4), *xc = tu_alloc((size_t)(M * K) * 4);
        float *xa = tu_alloc((size_t)(M * K) * 4), *want = tu_alloc((size_t)(M * N) * 4);
        float *sum = tu_alloc((size_t)(M * N) * 4), *got = tu_alloc((size_t)(M * N) * 4);
        float *first = tu_alloc((size_t)(M * N) * 4);
        uint8_t *w = tu_alloc((size_t)(N * K) * esize(dt)),
                *wa = tu_alloc((size_t)(N * K) * esize(dt));
        /* xt holds (M, K) transposed: element (k, m) of x at xt[k * M + m] */
        for (int64_t k = 0; k < K; k++)
            for (int64_t m = 0; m < M; m++) {
                float v = tu_uniform(&r, -2, 2);
                xt[k * M + m] = v, xc[m * K + k] = v, xa[m * K + k] = fabsf(v);
            }
        for (int64_t i = 0; i < N * K; i++)
            store_w(dt, wa, i, fabsf(store_w(dt, w, i, tu_uniform(&r, -1, 1))));
        const struct lm_mm_kernel *ref = &lm_kernels_get(LM_ISA_REF)->mm[dt];
        struct lm_mm a = {want, N, w, (size_t)K * esize(dt), (const uint8_t *)xc, (size_t)K * 4,
                          M,    N, K};
        ref->tile(&a, 0, N, NULL);
        a.y = sum, a.w = wa, a.x = (const uint8_t *)xa;
        ref->tile(&a, 0, N, NULL);

        struct lm_tensor xbase = lm_tensor_2d(LM_F32, M, K, xt), x;
        ck_assert_int_eq(lm_tensor_transpose(&x, &xbase, 0, 1), LM_OK);
        struct lm_tensor wt = lm_tensor_2d(dt, K, N, w), y = lm_tensor_2d(LM_F32, N, M, got);
        for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
            if (!lm_isa_available((enum lm_isa)isa)) continue;
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                memset(got, 0xff, (size_t)(M * N) * 4);
                ck_assert_msg(lm_matmul(&y, &x, &wt, ctx) == LM_OK, "%s", lm_last_error());
                check_bound_k("matmul op", got, want, sum, M, N, N, K,
                              lm_kernels_get((enum lm_isa)isa)->mm[dt].prep != NULL, 3.0);
                if (th == 1)
                    memcpy(first, got, (size_t)(M * N) * 4);
                else
                    assert_same("matmul threads", got, first, M * N);
                lm_ctx_free(ctx);
            }
        }
        lm_aligned_free(xt), lm_aligned_free(xc), lm_aligned_free(xa), lm_aligned_free(want);
        lm_aligned_free(sum), lm_aligned_free(got), lm_aligned_free(first);
        lm_aligned_free(w), lm_aligned_free(wa);
    }
}
END_TEST

/* Bit-identical results for 1, 2 and 3 threads on every path, N not a multiple of 16 and two
 * n blocks (the thread split moves every column boundary). */
START_TEST(op_threads_identical) {
    enum lm_dtype dt = dtypes[_i];
    const int64_t mlist[] = {1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 150, 169}, N = 1100, K = 300;
    struct tu_rng r = tu_rng(99);
    uint8_t *w = tu_alloc((size_t)(N * K) * esize(dt));
    for (int64_t i = 0; i < N * K; i++)
        store_w(dt, w, i, tu_uniform(&r, -1, 1));
    struct lm_tensor wt = lm_tensor_2d(dt, K, N, w);
    for (size_t mi = 0; mi < sizeof mlist / sizeof mlist[0]; mi++) {
        int64_t M = mlist[mi];
        float *x = tu_alloc((size_t)(M * K) * 4), *y1 = tu_alloc((size_t)(M * N) * 4);
        float *y = tu_alloc((size_t)(M * N) * 4);
        tu_fill(x, M * K, &r, -1, 1);
        struct lm_tensor xt = lm_tensor_2d(LM_F32, K, M, x);
        for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
            if (!lm_isa_available((enum lm_isa)isa) || isa == LM_ISA_REF) continue;
            for (int th = 1; th <= 3; th++) {
                struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
                struct lm_tensor yt = lm_tensor_2d(LM_F32, N, M, th == 1 ? y1 : y);
                ck_assert_int_eq(lm_matmul(&yt, &xt, &wt, ctx), LM_OK);
                if (th > 1) assert_same("matmul 1 vs n threads", y, y1, M * N);
                lm_ctx_free(ctx);
            }
        }
        lm_aligned_free(x), lm_aligned_free(y1), lm_aligned_free(y);
    }
    lm_aligned_free(w);
}
END_TEST

/* 3-D x (K, 5, 3) broadcasts over W: contiguous (read in place) and a slice whose rows are not
 * evenly spaced (gathered); every row matches the 2-D reference. */
START_TEST(op_3d_broadcast) {
    enum lm_dtype dt = dtypes[_i];
    const int64_t K = 45, N = 70, T = 5, B = 3, T_all = 7;
    struct tu_rng r = tu_rng(5);
    float *xb = tu_alloc((size_t)(K * T_all * B) * 4), *xc = tu_alloc((size_t)(K * T * B) * 4);
    float *xa = tu_alloc((size_t)(K * T * B) * 4), *want = tu_alloc((size_t)(N * T * B) * 4);
    float *sum = tu_alloc((size_t)(N * T * B) * 4), *got = tu_alloc((size_t)(N * T * B) * 4);
    uint8_t *w = tu_alloc((size_t)(N * K) * esize(dt)), *wa = tu_alloc((size_t)(N * K) * esize(dt));
    tu_fill(xb, K * T_all * B, &r, -1, 1);
    for (int64_t i = 0; i < N * K; i++)
        store_w(dt, wa, i, fabsf(store_w(dt, w, i, tu_uniform(&r, -1, 1))));
    /* the sliced view: rows t in [1, 6) of each of the B batches */
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t k = 0; k < K; k++) {
                float v = xb[(b * T_all + t + 1) * K + k];
                xc[(b * T + t) * K + k] = v, xa[(b * T + t) * K + k] = fabsf(v);
            }
    const struct lm_mm_kernel *ref = &lm_kernels_get(LM_ISA_REF)->mm[dt];
    struct lm_mm a = {want,  N, w, (size_t)K * esize(dt), (const uint8_t *)xc, (size_t)K * 4,
                      T * B, N, K};
    ref->tile(&a, 0, N, NULL);
    a.y = sum, a.w = wa, a.x = (const uint8_t *)xa;
    ref->tile(&a, 0, N, NULL);

    struct lm_tensor all = lm_tensor_3d(LM_F32, K, T_all, B, xb), sliced;
    ck_assert_int_eq(lm_tensor_slice(&sliced, &all, 1, 1, T), LM_OK);
    struct lm_tensor contig = lm_tensor_3d(LM_F32, K, T, B, xc);
    struct lm_tensor wt = lm_tensor_2d(dt, K, N, w), y = lm_tensor_3d(LM_F32, N, T, B, got);
    for (int isa = 0; isa < LM_ISA_COUNT; isa++) {
        if (!lm_isa_available((enum lm_isa)isa)) continue;
        for (int th = 1; th <= 2; th++) {
            struct lm_ctx *ctx = tu_ctx(th, (enum lm_isa)isa);
            for (int v = 0; v < 2; v++) {
                memset(got, 0, (size_t)(N * T * B) * 4);
                ck_assert_msg(lm_matmul(&y, v ? &sliced : &contig, &wt, ctx) == LM_OK, "%s",
                              lm_last_error());
                check_bound_k(v ? "matmul 3-D slice" : "matmul 3-D", got, want, sum, T * B, N, N, K,
                              lm_kernels_get((enum lm_isa)isa)->mm[dt].prep != NULL, 2.0);
            }
            lm_ctx_free(ctx);
        }
    }
    lm_aligned_free(xb), lm_aligned_free(xc), lm_aligned_free(xa), lm_aligned_free(want);
    lm_aligned_free(sum), lm_aligned_free(got), lm_aligned_free(w), lm_aligned_free(wa);
}
END_TEST

START_TEST(op_errors) {
    float xb[64] = {0}, yb[64] = {0}, wb[64] = {0};
    struct lm_ctx *ctx = tu_ctx(1, LM_ISA_REF);
    struct lm_tensor x = lm_tensor_2d(LM_F32, 4, 2, xb), w = lm_tensor_2d(LM_F32, 4, 3, wb);
    struct lm_tensor y = lm_tensor_2d(LM_F32, 3, 2, yb);
    ck_assert_int_eq(lm_matmul(&y, &x, &w, ctx), LM_OK);
    /* K mismatch */
    struct lm_tensor w5 = lm_tensor_2d(LM_F32, 5, 3, wb);
    ck_assert_int_eq(lm_matmul(&y, &x, &w5, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    /* wrong y shape: N, then M */
    struct lm_tensor y_n = lm_tensor_2d(LM_F32, 4, 2, yb), y_m = lm_tensor_2d(LM_F32, 3, 3, yb);
    ck_assert_int_eq(lm_matmul(&y_n, &x, &w, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    ck_assert_int_eq(lm_matmul(&y_m, &x, &w, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    /* NULL context and NULL tensors */
    ck_assert_int_eq(lm_matmul(&y, &x, &w, NULL), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    ck_assert_int_eq(lm_matmul(&y, &x, NULL, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    ck_assert_int_eq(lm_matmul(&y, NULL, &w, ctx), LM_EINVAL);
    /* 3-D W */
    struct lm_tensor w3 = lm_tensor_3d(LM_F32, 4, 3, 2, wb);
    ck_assert_int_eq(lm_matmul(&y, &x, &w3, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    /* x not f32, y not f32 */
    struct lm_tensor xh = lm_tensor_2d(LM_F16, 4, 2, xb);
    ck_assert_int_eq(lm_matmul(&y, &xh, &w, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    struct lm_tensor yh = lm_tensor_2d(LM_F16, 3, 2, yb);
    ck_assert_int_eq(lm_matmul(&yh, &x, &w, ctx), LM_EINVAL);
    /* y rows strided */
    struct lm_tensor yt;
    struct lm_tensor ybase = lm_tensor_2d(LM_F32, 2, 3, yb);
    ck_assert_int_eq(lm_tensor_transpose(&yt, &ybase, 0, 1), LM_OK);
    ck_assert_int_eq(lm_matmul(&yt, &x, &w, ctx), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "matmul"));
    lm_ctx_free(ctx);
}
END_TEST

static Suite *matmul_suite(void) {
    Suite *s = suite_create("matmul");
    TCase *tc = tcase_create("tile");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, tile_vs_ref_sampled, 0, 3);
    tcase_add_loop_test(tc, tile_vs_ref_sweep, 0, 3);
    tcase_add_loop_test(tc, tile_k1_exact, 0, 3);
    tcase_add_loop_test(tc, tile_edge_values, 0, 3);
    tcase_add_loop_test(tc, tile_column_split_identical, 0, 3);
    tcase_add_loop_test(tc, tile_nonfinite_chunks, 0, 3);
    tcase_add_test(tc, tile_scratch_bounded);
    suite_add_tcase(s, tc);
    TCase *op = tcase_create("op");
    tcase_set_timeout(op, 120);
    tcase_add_loop_test(op, op_strided_threads, 0, 3);
    tcase_add_loop_test(op, op_threads_identical, 0, 3);
    tcase_add_loop_test(op, op_3d_broadcast, 0, 3);
    tcase_add_test(op, op_errors);
    suite_add_tcase(s, op);
    return s;
}

int main(void) { return tu_run(matmul_suite()); }
