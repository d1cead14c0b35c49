/* perf/bench_matmul_k.c - K-quant matmul (Q4_K, Q5_K, Q6_K W; F32 x, y) through lm_matmul on
 * the best kernel level.
 *
 * Decode: M = 1, W (K x N) = 1536 x 576 and 2048 x 8192 (SmolLM2-135M's FFN down and a 2k-wide
 * projection). 576 x 1536 (the FFN up/gate shape) is skipped: K = 576 is not a multiple of the
 * 256-value super-block, so no K-quant can hold it (llama.cpp falls back to other types there).
 * Decode is bound by reading W: bytes = W bytes per call, and W is kept out of the caches by
 * rotating over copies totalling more than 64 MiB, one copy per call. The bar is 80% of the
 * measured read bandwidth (perf/peak) for the same thread count. Decode rows pass no flops, so
 * peak_frac is the bandwidth fraction (the int8 dot products run past the f32 FMA peak, which
 * would otherwise be reported as the bound).
 * Prefill: M = 512 on 1536 x 576, W in cache; GFLOP/s (2*M*N*K per call, the Q8_K prep of x
 * included) against the f32 FMA peak - the int8 kernels can exceed it.
 * Every case is validated against the reference level first (within 1e-4 of the largest
 * |y|; the kernels differ only in f32 rounding), and exits 1 if it disagrees.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

struct bench {
    struct lm_ctx *ctx;
    struct lm_tensor y, x, w[512];
    int ncopies, next;
};

static void call(void *arg) {
    struct bench *b = arg;
    lm_matmul(&b->y, &b->x, &b->w[b->next], b->ctx);
    b->next = (b->next + 1) % b->ncopies;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 40) * 0x1p-24) * 2.0f - 1.0f;
}

/* y of the best level vs the reference; returns 0 if within 1e-4 of max |y_ref|. */
static int validate(struct lm_tensor *w, struct lm_tensor *x, int64_t M, int64_t N,
                    struct lm_ctx *ctx, const char *what) {
    float *a = lm_aligned_alloc((size_t)(M * N) * 4), *b = lm_aligned_alloc((size_t)(M * N) * 4);
    struct lm_ctx *ref = NULL;
    if (!a || !b || lm_ctx_create(1, &ref) || lm_ctx_set_isa(ref, LM_ISA_REF)) {
        fprintf(stderr, "bench_matmul_k: setup: %s\n", lm_last_error());
        return 1;
    }
    struct lm_tensor ya = lm_tensor_2d(LM_F32, N, M, a), yb = lm_tensor_2d(LM_F32, N, M, b);
    int bad = lm_matmul(&ya, x, w, ref) != LM_OK || lm_matmul(&yb, x, w, ctx) != LM_OK;
    double mx = 0, err = 0;
    for (int64_t i = 0; i < M * N && !bad; i++) {
        mx = fmax(mx, fabs(a[i]));
        err = fmax(err, fabs((double)a[i] - b[i]));
    }
    if (bad || !(err <= 1e-4 * mx)) {
        fprintf(stderr, "bench_matmul_k: %s disagrees with ref: max err %g, max |y| %g (%s)\n",
                what, err, mx, lm_last_error());
        bad = 1;
    }
    lm_ctx_free(ref);
    lm_aligned_free(a), lm_aligned_free(b);
    return bad;
}

/* One W (K x N) of dtype dt: 64 rows quantized from uniform(-1, 1), repeated over N (the
 * kernels' speed does not depend on the values), then copied until the copies exceed 64 MiB
 * when `rotate`; returns the number of copies (0 on failure). */
static int make_w(struct bench *b, enum lm_dtype dt, int64_t K, int64_t N, int rotate,
                  uint8_t **mem) {
    size_t row = lm_row_size(dt, K), bytes = row * (size_t)N;
    int n = rotate ? (int)(((size_t)64 << 20) / bytes) + 2 : 1;
    if (n > 512) n = 512;
    int64_t nq = N < 64 ? N : 64;
    float *src = lm_aligned_alloc((size_t)(K * nq) * 4);
    *mem = lm_aligned_alloc(bytes * (size_t)n);
    if (!src || !*mem) return 0;
    for (int64_t i = 0; i < K * nq; i++)
        src[i] = frand();
    struct lm_tensor q = lm_tensor_2d(dt, K, nq, *mem), s = lm_tensor_2d(LM_F32, K, nq, src);
    if (lm_quantize(&q, &s, b->ctx)) return 0;
    for (int64_t r = nq; r < N; r++)
        memcpy(*mem + row * (size_t)r, *mem + row * (size_t)(r % nq), row);
    for (int i = 0; i < n; i++) {
        if (i) memcpy(*mem + bytes * (size_t)i, *mem, bytes);
        b->w[i] = lm_tensor_2d(dt, K, N, *mem + bytes * (size_t)i);
    }
    lm_aligned_free(src);
    return n;
}

int main(void) {
    struct perf_peak pk;
    perf_peak_get(&pk);
    perf_header();
    fprintf(stderr, "bench_matmul_k: 576x1536 skipped: K = 576 is not a multiple of 256\n");
    int th[8], nth = perf_thread_counts(th, 8);
    const enum lm_dtype dts[3] = {LM_Q4_K, LM_Q5_K, LM_Q6_K};
    const int64_t shapes[2][2] = {{1536, 576}, {2048, 8192}}; /* K, N */
    int fail = 0;
    for (int t = 0; t < nth; t++) {
        struct bench b = {0};
        if (lm_ctx_create(th[t], &b.ctx)) {
            fprintf(stderr, "bench_matmul_k: %s\n", lm_last_error());
            return 1;
        }
        for (int d = 0; d < 3; d++) {
            for (int s = 0; s < 3; s++) {
                int decode = s < 2;
                int64_t K = decode ? shapes[s][0] : 1536, N = decode ? shapes[s][1] : 576;
                int64_t M = decode ? 1 : 512;
                uint8_t *mem = NULL;
                b.ncopies = make_w(&b, dts[d], K, N, decode, &mem);
                float *x = lm_aligned_alloc((size_t)(K * M) * 4);
                float *y = lm_aligned_alloc((size_t)(N * M) * 4);
                if (!b.ncopies || !x || !y) {
                    fprintf(stderr, "bench_matmul_k: out of memory\n");
                    return 1;
                }
                for (int64_t i = 0; i < K * M; i++)
                    x[i] = frand();
                b.x = lm_tensor_2d(LM_F32, K, M, x);
                b.y = lm_tensor_2d(LM_F32, N, M, y);
                b.next = 0;
                char shape[64];
                snprintf(shape, sizeof shape, "%lldx%lld M=%lld", (long long)K, (long long)N,
                         (long long)M);
                if (validate(&b.w[0], &b.x, M, N, b.ctx, shape)) {
                    fail = 1;
                } else {
                    double ns = perf_time_ns(call, &b, decode ? 0.5 : 1.0);
                    double wbytes = (double)lm_row_size(dts[d], K) * (double)N;
                    perf_row(decode ? "matmul_decode" : "matmul_prefill", lm_dtype_name(dts[d]),
                             shape, th[t], ns, decode ? 0 : 2.0 * (double)(M * N * K),
                             decode ? wbytes : wbytes + (double)(K * M) * 4, &pk);
                }
                lm_aligned_free(mem), lm_aligned_free(x), lm_aligned_free(y);
            }
        }
        lm_ctx_free(b.ctx);
    }
    return fail;
}
