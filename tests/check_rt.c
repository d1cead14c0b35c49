/* tests/check_rt.c - the runtime: status and errors, dtype table, fp16/bf16 conversion (scalar
 * exhaustively, vector converters against it), tensor views, arena, file mapping, the thread
 * pool (every chunk once, a stalled worker's share taken by the others, no late worker touching a
 * finished run), kernel-level selection. */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

START_TEST(errors_name_the_fault) {
    lm_clear_error();
    ck_assert_str_eq(lm_last_error(), "");
    ck_assert_int_eq(lm_error(LM_ERANGE, "token %d of %d", 7, 3), LM_ERANGE);
    ck_assert_str_eq(lm_last_error(), "token 7 of 3");
    ck_assert_str_eq(lm_status_str(LM_EFORMAT), "malformed input");
    ck_assert_str_eq(lm_status_str((lm_status)-99), "unknown status");
    char big[2000];
    memset(big, 'x', sizeof big - 1), big[sizeof big - 1] = 0;
    lm_error(LM_EINVAL, "%s", big); /* truncated, not overflowed */
    ck_assert_uint_lt(strlen(lm_last_error()), sizeof big);
}
END_TEST

START_TEST(dtype_table) {
    ck_assert_uint_eq(lm_row_size(LM_Q4_0, 64), 36);
    ck_assert_uint_eq(lm_row_size(LM_Q4_K, 512), 288);
    ck_assert_uint_eq(lm_row_size(LM_Q6_K, 256), 210);
    ck_assert_uint_eq(lm_row_size(LM_Q5_K, 256), 176);
    ck_assert_uint_eq(lm_row_size(LM_Q4_1, 32), 20);
    ck_assert_uint_eq(lm_row_size(LM_Q8_0, 32), 34);
    ck_assert_uint_eq(lm_row_size(LM_BF16, 3), 6);
    ck_assert_uint_eq(lm_row_size(LM_Q4_0, 33), 0);
    ck_assert_uint_eq(lm_row_size((enum lm_dtype)99, 4), 0);
    ck_assert_ptr_null(lm_dtype_info((enum lm_dtype) - 1));
    enum lm_dtype t;
    ck_assert_int_eq(lm_dtype_from_gguf(14, &t), LM_OK);
    ck_assert_int_eq(t, LM_Q6_K);
    ck_assert_int_eq(lm_dtype_from_gguf(30, &t), LM_OK);
    ck_assert_int_eq(t, LM_BF16);
    ck_assert_int_eq(lm_dtype_from_gguf(10, &t), LM_EUNSUPPORTED); /* Q2_K */
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "10"));
}
END_TEST

/* Every half converts to f32 and back to itself (NaNs come back quiet with the payload). */
START_TEST(f16_scalar_exhaustive) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lm_f16_to_f32((uint16_t)h);
        uint16_t back = lm_f32_to_f16(f);
        bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        ck_assert_msg(back == (nan ? (h | 0x200) : h), "half %04x -> %g -> %04x", h, (double)f,
                      back);
    }
    /* exact values and rounding: ties to even, overflow, subnormals, underflow */
    ck_assert_uint_eq(lm_f32_to_f16(1.0f), 0x3c00);
    ck_assert_uint_eq(lm_f32_to_f16(65504.0f), 0x7bff);
    ck_assert_uint_eq(lm_f32_to_f16(65519.99f), 0x7bff);
    ck_assert_uint_eq(lm_f32_to_f16(65520.0f), 0x7c00);
    ck_assert_uint_eq(lm_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);     /* tie -> even */
    ck_assert_uint_eq(lm_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02); /* tie -> even (up) */
    ck_assert_uint_eq(lm_f32_to_f16(0x1p-24f), 0x0001);
    ck_assert_uint_eq(lm_f32_to_f16(0x1p-25f), 0x0000); /* tie -> even (zero) */
    ck_assert_uint_eq(lm_f32_to_f16(0x1.8p-25f), 0x0001);
    ck_assert_uint_eq(lm_f32_to_f16(-0.0f), 0x8000);
    ck_assert_uint_eq(lm_f32_to_f16(0x1.ffcp-15f), 0x0400); /* rounds up into the normals */
    ck_assert(isnan(lm_f16_to_f32(0x7e00)));
    ck_assert(isinf(lm_f16_to_f32(0xfc00)) && lm_f16_to_f32(0xfc00) < 0);
}
END_TEST

/* f32 -> f16 rounding against a double-precision model on random bit patterns. */
START_TEST(f16_rounding_random) {
    struct tu_rng r = tu_rng(3);
    for (int i = 0; i < 200000; i++) {
        float f = bits_f32((uint32_t)tu_next(&r));
        if (isnan(f)) continue;
        uint16_t h = lm_f32_to_f16(f);
        double back = lm_f16_to_f32(h), err = fabs(back - (double)f);
        /* the neighbour on the other side must not be strictly closer */
        uint16_t other = (uint16_t)((double)f > back ? h + 1 : h - 1);
        if ((h & 0x7fff) == 0x7c00 || (h & 0x7fff) == 0) continue; /* inf / zero ends */
        if ((other & 0x7c00) == 0x7c00) continue;
        double alt = fabs((double)lm_f16_to_f32(other) - (double)f);
        ck_assert_msg(err <= alt, "%a -> %04x (err %g) but %04x is closer (%g)", (double)f, h, err,
                      other, alt);
        if (err == alt) ck_assert_msg((h & 1) == 0, "%a: tie not to even (%04x)", (double)f, h);
    }
}
END_TEST

START_TEST(bf16_scalar) {
    ck_assert_uint_eq(lm_f32_to_bf16(1.0f), 0x3f80);
    ck_assert_uint_eq(lm_f32_to_bf16(bits_f32(0x3f808000)), 0x3f80); /* tie -> even */
    ck_assert_uint_eq(lm_f32_to_bf16(bits_f32(0x3f818000)), 0x3f82); /* tie -> even (up) */
    ck_assert_uint_eq(lm_f32_to_bf16(bits_f32(0x3f808001)), 0x3f81);
    ck_assert_uint_eq(lm_f32_to_bf16(bits_f32(0x7f7fffff)), 0x7f80); /* max rounds to inf */
    ck_assert_uint_eq(lm_f32_to_bf16(bits_f32(0x7f800001)), 0x7fc0); /* signalling NaN quieted */
    for (uint32_t h = 0; h < 65536; h++) {
        bool nan = (h & 0x7f80) == 0x7f80 && (h & 0x7f);
        uint16_t back = lm_f32_to_bf16(lm_bf16_to_f32((uint16_t)h));
        ck_assert_uint_eq(back, nan ? (h | 0x40) : h);
    }
}
END_TEST

/* Every level's vector converters give the scalar reference's bits. */
START_TEST(vector_converters_match_scalar) {
    enum lm_isa lv[LM_ISA_COUNT];
    int nl = tu_simd_levels(lv);
    const int64_t n = 65536 + 13;
    uint16_t *h = tu_alloc(n * 2), *h2 = tu_alloc(n * 2), *h3 = tu_alloc(n * 2);
    float *f = tu_alloc(n * 4), *f2 = tu_alloc(n * 4), *f3 = tu_alloc(n * 4);
    struct tu_rng r = tu_rng(5);
    for (int64_t i = 0; i < n; i++)
        h[i] = (uint16_t)i;
    for (int64_t i = 0; i < n; i++)
        f[i] = bits_f32((uint32_t)tu_next(&r));
    const struct lm_kernels *ref = lm_kernels_get(LM_ISA_REF);
    for (int l = 0; l < nl; l++) {
        const struct lm_kernels *k = lm_kernels_get(lv[l]);
        for (int bf = 0; bf < 2; bf++) {
            enum lm_dtype t = bf ? LM_BF16 : LM_F16;
            for (int64_t len = 1; len <= n; len = len < 40 ? len + 1 : len * 7 + 3) {
                ref->to_f32[t](f2, h, len);
                k->to_f32[t](f3, h, len);
                ck_assert_msg(memcmp(f2, f3, len * 4) == 0, "%s %s to_f32 len %lld",
                              lm_isa_name(lv[l]), lm_dtype_name(t), (long long)len);
                ref->from_f32[t](h2, f, len);
                k->from_f32[t](h3, f, len);
                ck_assert_msg(memcmp(h2, h3, len * 2) == 0, "%s %s from_f32 len %lld",
                              lm_isa_name(lv[l]), lm_dtype_name(t), (long long)len);
            }
        }
    }
    lm_aligned_free(h), lm_aligned_free(h2), lm_aligned_free(h3);
    lm_aligned_free(f), lm_aligned_free(f2), lm_aligned_free(f3);
}
END_TEST

START_TEST(tensor_views) {
    float buf[2 * 3 * 4];
    for (int i = 0; i < 24; i++)
        buf[i] = (float)i;
    struct lm_tensor t, v;
    int64_t ne[3] = {4, 3, 2};
    ck_assert_int_eq(lm_tensor_init(&t, LM_F32, 3, ne, buf), LM_OK);
    ck_assert_int_eq(t.nb[1], 16);
    ck_assert_int_eq(t.nb[2], 48);
    ck_assert_int_eq(lm_tensor_nelem(&t), 24);
    ck_assert_int_eq(lm_tensor_nrows(&t), 6);
    ck_assert(lm_tensor_is_contiguous(&t));
    ck_assert_uint_eq(lm_tensor_nbytes(&t), 96);

    ck_assert_int_eq(lm_tensor_slice(&v, &t, 1, 1, 2), LM_OK); /* rows 1..2 of each matrix */
    ck_assert_int_eq(v.ne[1], 2);
    ck_assert(!lm_tensor_is_contiguous(&v));
    ck_assert(*(float *)lm_tensor_row(&v, 0, 1, 0) == 16.0f);
    ck_assert_int_eq(lm_tensor_slice(&v, &t, 1, 2, 2), LM_ERANGE);
    ck_assert_int_eq(lm_tensor_slice(&v, &t, 5, 0, 1), LM_EINVAL);

    ck_assert_int_eq(lm_tensor_transpose(&v, &t, 0, 1), LM_OK);
    ck_assert_int_eq(v.ne[0], 3);
    ck_assert_int_eq(v.nb[0], 16);
    ck_assert(*(float *)((char *)lm_tensor_row(&v, 2, 1, 0) + 1 * v.nb[0]) == 4 + 2 + 12.0f);
    ck_assert_uint_eq(lm_tensor_nbytes(&v), 96);

    int64_t ne2[2] = {6, 4};
    ck_assert_int_eq(lm_tensor_reshape(&v, &t, 2, ne2), LM_OK);
    ck_assert_int_eq(v.nb[1], 24);
    int64_t bad[2] = {5, 4};
    ck_assert_int_eq(lm_tensor_reshape(&v, &t, 2, bad), LM_EINVAL);
    struct lm_tensor s;
    lm_tensor_slice(&s, &t, 0, 1, 2);
    ck_assert_int_eq(lm_tensor_reshape(&v, &s, 2, ne2), LM_EINVAL); /* not contiguous */

    /* quantized: whole blocks only, no transposing dim 0 */
    uint8_t q[18 * 4];
    int64_t qn[2] = {64, 2};
    ck_assert_int_eq(lm_tensor_init(&t, LM_Q4_0, 2, qn, q), LM_OK);
    ck_assert_int_eq(t.nb[0], 18);
    ck_assert_int_eq(t.nb[1], 36);
    ck_assert_int_eq(lm_tensor_slice(&v, &t, 0, 32, 32), LM_OK);
    ck_assert_ptr_eq(v.data, q + 18);
    ck_assert_int_eq(lm_tensor_slice(&v, &t, 0, 16, 32), LM_EINVAL);
    ck_assert_int_eq(lm_tensor_transpose(&v, &t, 0, 1), LM_EINVAL);
    int64_t qbad[1] = {40};
    ck_assert_int_eq(lm_tensor_init(&t, LM_Q4_0, 1, qbad, q), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "q4_0"));
    int64_t zero[1] = {0};
    ck_assert_int_eq(lm_tensor_init(&t, LM_F32, 1, zero, q), LM_EINVAL);
    ck_assert_int_eq(lm_tensor_init(&t, LM_F32, 5, ne, q), LM_EINVAL);
}
END_TEST

START_TEST(arena) {
    struct lm_arena a;
    ck_assert_int_eq(lm_arena_init(&a, 1000), LM_OK);
    void *p = lm_arena_alloc(&a, 3), *q = lm_arena_alloc(&a, 100);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    ck_assert_uint_eq((uintptr_t)q % 64, 0);
    ck_assert_ptr_eq(q, (char *)p + 64);
    size_t mark = lm_arena_mark(&a);
    ck_assert_ptr_null(lm_arena_alloc(&a, 2000));
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "arena"));
    ck_assert_ptr_null(lm_arena_alloc(&a, SIZE_MAX));
    struct lm_tensor t;
    int64_t ne[2] = {64, 4};
    ck_assert_int_eq(lm_arena_tensor(&a, &t, LM_F32, 2, ne), LM_ENOMEM);
    ne[0] = 8, ne[1] = 2;
    ck_assert_int_eq(lm_arena_tensor(&a, &t, LM_F32, 2, ne), LM_OK);
    ck_assert_uint_eq((uintptr_t)t.data % 64, 0);
    lm_arena_reset(&a, mark);
    ck_assert_uint_eq(a.used, mark);
    int64_t huge[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30};
    ck_assert_int_eq(lm_arena_tensor(&a, &t, LM_F32, 4, huge), LM_ERANGE);
    int64_t big[2] = {1 << 20, 1 << 20}; /* 4 TiB: representable, does not fit */
    ck_assert_int_eq(lm_arena_tensor(&a, &t, LM_F32, 2, big), LM_ENOMEM);
    lm_arena_free(&a);
    lm_arena_free(&a); /* idempotent */
}
END_TEST

START_TEST(file_map) {
    char path[] = "/tmp/lmrt_map_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "GGUF1234", 8), 8);
    close(fd);
    struct lm_mapped_file f;
    ck_assert_int_eq(lm_file_map(path, &f), LM_OK);
    ck_assert_uint_eq(f.size, 8);
    ck_assert_int_eq(memcmp(f.data, "GGUF", 4), 0);
    lm_file_unmap(&f);
    unlink(path);
    ck_assert_int_eq(lm_file_map(path, &f), LM_EIO);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), path));
    ck_assert_int_eq(lm_file_map("/tmp", &f), LM_EIO);
    lm_file_unmap(NULL);
}
END_TEST

/* ---- thread pool ---------------------------------------------------------------------- */

#define MAX_CHUNKS 64

struct pool_job {
    int n;                          /* pool threads */
    _Atomic int chunks[MAX_CHUNKS]; /* runs of each chunk */
    _Atomic int busy[8];            /* per worker: a chunk of this job is running on it */
    _Atomic int bad_nth, bad_worker, shared_worker;
    _Atomic int closed; /* set after the run returned: no chunk may start or end after it */
};

static _Atomic int touched_closed; /* chunks that ran on a job whose run had returned */

/* Counts each chunk, checks nth and the worker index, and that no two chunks run on one
 * worker at once (the contract per-worker scratch relies on). */
static void count_task(void *arg, int ith, int nth) {
    struct pool_job *j = arg;
    if (atomic_load(&j->closed)) atomic_fetch_add(&touched_closed, 1);
    if (nth < 1 || nth > MAX_CHUNKS || ith < 0 || ith >= nth) {
        atomic_fetch_add(&j->bad_nth, 1);
        return;
    }
    int w = lm_pool_worker();
    if (w < 0 || w >= j->n) {
        atomic_fetch_add(&j->bad_worker, 1);
        return;
    }
    if (atomic_exchange(&j->busy[w], 1)) atomic_fetch_add(&j->shared_worker, 1);
    atomic_fetch_add(&j->chunks[ith], 1);
    if (ith % 3 == 1) /* a little work, so that who claims what varies (no sched_yield: on a
                       * loaded machine it gives the core away for a whole time slice) */
        for (volatile int k = 0; k < 500; k++)
            ;
    atomic_store(&j->busy[w], 0);
    if (atomic_load(&j->closed)) atomic_fetch_add(&touched_closed, 1);
}

static void check_job(struct pool_job *j, int nth) {
    ck_assert_int_eq(atomic_load(&j->bad_nth), 0);
    ck_assert_int_eq(atomic_load(&j->bad_worker), 0);
    ck_assert_int_eq(atomic_load(&j->shared_worker), 0);
    for (int i = 0; i < MAX_CHUNKS; i++)
        ck_assert_msg(atomic_load(&j->chunks[i]) == (i < nth), "chunk %d of %d ran %d times", i,
                      nth, atomic_load(&j->chunks[i]));
}

/* Every chunk runs exactly once per run, on 1..5 threads (more threads than cores here), with
 * pauses that let the workers fall asleep. Jobs rotate through a ring and are closed when their
 * run returns: a worker that woke late for a finished run must not touch it (nor, through a
 * stale fn/arg, the next run's job). */
START_TEST(pool_runs_every_chunk_once) {
    static struct pool_job ring[4];
    atomic_store(&touched_closed, 0);
    for (int n = 1; n <= 5; n++) {
        struct lm_pool *p;
        ck_assert_int_eq(lm_pool_create(n, &p), LM_OK);
        ck_assert_int_eq(lm_pool_size(p), n);
        const int nch = lm_pool_chunks(p);
        ck_assert_int_eq(nch == 1, n == 1);
        ck_assert_int_ge(nch, n);
        ck_assert_int_le(nch, MAX_CHUNKS);
        for (int rep = 0; rep < 3000; rep++) {
            struct pool_job *j = &ring[rep % 4];
            memset(j, 0, sizeof *j);
            j->n = n;
            lm_pool_run(p, count_task, j);
            atomic_store(&j->closed, 1);
            check_job(j, nch);
            if (rep % 1000 == 999) usleep(3000); /* let workers fall asleep, then wake them */
        }
        lm_pool_free(p);
    }
    ck_assert_int_eq(atomic_load(&touched_closed), 0);
    struct lm_pool *p;
    ck_assert_int_eq(lm_pool_create(-1, &p), LM_EINVAL);
    ck_assert_int_eq(lm_pool_create(1025, &p), LM_ERANGE);
    ck_assert_int_eq(lm_pool_create(0, &p), LM_OK);
    ck_assert_int_eq(lm_pool_size(p), lm_cpu_physical_cores());
    lm_pool_free(p);
    lm_pool_free(NULL);
}
END_TEST

struct stall_job {
    int nth;
    _Atomic int done, held, timeouts;
    _Atomic int by_worker[8];
    _Atomic int chunks[MAX_CHUNKS];
};

/* Waits (at most 20 s) until cond(j) holds; false on time-out. */
static bool wait_for(struct stall_job *j, bool (*cond)(struct stall_job *)) {
    uint64_t t0 = lm_time_ns();
    while (!cond(j)) {
        if (lm_time_ns() - t0 > 20000000000ull) return false;
        sched_yield();
    }
    return true;
}
static bool some_held(struct stall_job *j) { return atomic_load(&j->held) > 0; }
static bool rest_done(struct stall_job *j) {
    return atomic_load(&j->done) + atomic_load(&j->held) == j->nth;
}

/* A worker other than the caller stops in the first chunk it gets, as if descheduled there,
 * and resumes only when every other chunk is done: that can only happen if the other threads
 * take its share. The caller holds chunk 0 until some worker holds one, so the case is always
 * exercised. A fixed split per thread deadlocks here (the time-outs turn that into a failure). */
static void stall_task(void *arg, int ith, int nth) {
    struct stall_job *j = arg;
    const int w = lm_pool_worker();
    atomic_fetch_add(&j->chunks[ith], 1);
    if (w == 0 && ith == 0 && !wait_for(j, some_held)) atomic_fetch_add(&j->timeouts, 1);
    if (w != 0 && atomic_fetch_add(&j->by_worker[w], 1) == 0) {
        atomic_fetch_add(&j->held, 1);
        if (!wait_for(j, rest_done)) atomic_fetch_add(&j->timeouts, 1);
        return; /* held chunks are not counted in done: they finish now */
    }
    if (w == 0) atomic_fetch_add(&j->by_worker[0], 1);
    atomic_fetch_add(&j->done, 1);
    (void)nth;
}

START_TEST(pool_late_worker_does_not_stall) {
    for (int n = 2; n <= 4; n++) {
        struct lm_pool *p;
        ck_assert_int_eq(lm_pool_create(n, &p), LM_OK);
        for (int rep = 0; rep < 20; rep++) {
            struct stall_job j = {.nth = lm_pool_chunks(p)};
            lm_pool_run(p, stall_task, &j);
            ck_assert_int_eq(atomic_load(&j.timeouts), 0);
            const int held = atomic_load(&j.held);
            ck_assert_int_ge(held, 1);
            ck_assert_int_le(held, n - 1);
            for (int i = 0; i < j.nth; i++)
                ck_assert_int_eq(atomic_load(&j.chunks[i]), 1);
            /* each holding worker ran one chunk; the caller ran all the others */
            ck_assert_int_eq(atomic_load(&j.by_worker[0]), j.nth - held);
            for (int w = 1; w < n; w++)
                ck_assert_int_le(atomic_load(&j.by_worker[w]), 1);
        }
        lm_pool_free(p);
    }
}
END_TEST

/* A run that follows a pool of another size, from a worker index's point of view: the caller
 * of a pool is worker 0 of it even when it is a worker of another pool. */
struct nested_job {
    struct lm_pool *inner;
    _Atomic int bad;
};
static void inner_task(void *arg, int ith, int nth) {
    struct nested_job *j = arg;
    if (lm_pool_worker() != 0) atomic_fetch_add(&j->bad, 1);
    (void)ith, (void)nth;
}
static void outer_task(void *arg, int ith, int nth) {
    struct nested_job *j = arg;
    const int w = lm_pool_worker();
    if (ith == nth - 1) lm_pool_run(j->inner, inner_task, j); /* one-thread inner pool */
    if (lm_pool_worker() != w) atomic_fetch_add(&j->bad, 1);
}

START_TEST(pool_worker_index_nests) {
    struct lm_pool *outer, *inner;
    ck_assert_int_eq(lm_pool_create(3, &outer), LM_OK);
    ck_assert_int_eq(lm_pool_create(1, &inner), LM_OK);
    for (int rep = 0; rep < 200; rep++) {
        struct nested_job j = {.inner = inner};
        lm_pool_run(outer, outer_task, &j);
        ck_assert_int_eq(atomic_load(&j.bad), 0);
    }
    ck_assert_int_eq(lm_pool_worker(), 0);
    lm_pool_free(inner);
    lm_pool_free(outer);
}
END_TEST

START_TEST(isa_selection) {
    enum lm_isa isa;
    ck_assert(lm_isa_available(LM_ISA_REF));
    ck_assert_int_eq(lm_isa_parse("avx2", &isa), LM_OK);
    ck_assert_int_eq(isa, LM_ISA_AVX2);
    ck_assert_int_eq(lm_isa_parse("sse9", &isa), LM_EINVAL);
    setenv("LMRT_ISA", "ref", 1);
    ck_assert_int_eq(lm_isa_select(&isa), LM_OK);
    ck_assert_int_eq(isa, LM_ISA_REF);
    for (int i = 0; i < LM_ISA_COUNT; i++) {
        setenv("LMRT_ISA", lm_isa_name((enum lm_isa)i), 1);
        lm_status s = lm_isa_select(&isa);
        if (lm_isa_available((enum lm_isa)i)) {
            ck_assert_int_eq(s, LM_OK);
            ck_assert_int_eq(isa, i);
            ck_assert_ptr_nonnull(lm_kernels_get((enum lm_isa)i));
        } else { /* forcing a level this CPU or build lacks is an error, not a fallback */
            ck_assert_int_eq(s, LM_EUNSUPPORTED);
            ck_assert_ptr_null(lm_kernels_get((enum lm_isa)i));
            struct lm_ctx *ctx = NULL;
            ck_assert_int_eq(lm_ctx_create(1, &ctx), LM_EUNSUPPORTED);
            ck_assert_ptr_null(ctx);
        }
    }
    setenv("LMRT_ISA", "bogus", 1);
    ck_assert_int_eq(lm_isa_select(&isa), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "LMRT_ISA"));
    unsetenv("LMRT_ISA");
    ck_assert_int_eq(lm_isa_select(&isa), LM_OK);
    for (int i = isa + 1; i < LM_ISA_COUNT; i++)
        ck_assert(!lm_isa_available((enum lm_isa)i));
    /* every table is complete: no kernel slot a level forgot */
    for (int i = 0; i < LM_ISA_COUNT; i++) {
        const struct lm_kernels *k = lm_kernels_get((enum lm_isa)i);
        if (!k) continue;
        ck_assert_int_eq(k->isa, i);
        void (*const *fns)(void) = (void (*const *)(void)) & k->rmsnorm;
        size_t n = (sizeof *k - offsetof(struct lm_kernels, rmsnorm)) / sizeof(void (*)(void));
        for (size_t f = 0; f < n; f++)
            ck_assert_msg(fns[f] != NULL, "%s slot %zu", lm_isa_name(i), f);
        for (int t = 0; t < LM_DTYPE_COUNT; t++) {
            if (t == LM_I32) continue;
            ck_assert_msg(k->to_f32[t] && k->from_f32[t], "%s: %s converters", lm_isa_name(i),
                          lm_dtype_name(t));
            ck_assert_msg(k->mm[t].tile != NULL, "%s: %s matmul", lm_isa_name(i), lm_dtype_name(t));
        }
    }
}
END_TEST

START_TEST(log_levels) {
    /* LMRT_LOG is read once per process: this test runs in its own fork (CK_FORK). */
    setenv("LMRT_LOG", "debug", 1);
    ck_assert(lm_log_enabled(LM_LOG_DEBUG));
    uint64_t t0 = lm_time_ns(), t1 = lm_time_ns();
    ck_assert_uint_ge(t1, t0);
}
END_TEST

static Suite *rt_suite(void) {
    Suite *s = suite_create("rt");
    TCase *tc = tcase_create("rt");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, errors_name_the_fault);
    tcase_add_test(tc, dtype_table);
    tcase_add_test(tc, f16_scalar_exhaustive);
    tcase_add_test(tc, f16_rounding_random);
    tcase_add_test(tc, bf16_scalar);
    tcase_add_test(tc, vector_converters_match_scalar);
    tcase_add_test(tc, tensor_views);
    tcase_add_test(tc, arena);
    tcase_add_test(tc, file_map);
    tcase_add_test(tc, pool_runs_every_chunk_once);
    tcase_add_test(tc, pool_late_worker_does_not_stall);
    tcase_add_test(tc, pool_worker_index_nests);
    tcase_add_test(tc, isa_selection);
    tcase_add_test(tc, log_levels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(rt_suite()); }
