/* simd/avx2/attention_f32.c - attention of one GQA group (G queries sharing a K/V head) over
 * an F32 or F16 K/V cache, AVX2 + FMA + F16C, online softmax in tiles of keys.
 *
 * Q and O are F32; K and V rows are F32 or F16 (converted on load with vcvtph2ps, so both
 * dtypes share every loop; the F16 variants are separate inlined copies, not a run-time branch
 * in the inner loops). Scratch (attn_scratch_floats): acc (G, hd8) f32 accumulators, qs (G, hd8)
 * queries pre-multiplied by scale and zero-padded to hd8 = hd rounded up to 8, and the running
 * max and sum per query. Accumulators and softmax state are f32.
 *
 * Tiling: keys go in tiles of TILE = 64 (the visible ones only: a mask is turned into a list
 * of key indices, so masked keys cost nothing and never enter the softmax). Queries go in
 * blocks of up to 4; for each tile and block:
 *   1. scores: two keys at a time (four when the block has one or two queries, to keep enough
 *      independent FMA chains), each K chunk of 8 loaded once and FMA'd into every query's
 *      accumulator; accumulators are reduced with a vhaddps tree into sc[key][4 queries];
 *   2. softmax: tile max per query (4 lanes, vertical), new running max, correction
 *      exp(m_old - m_new), p = exp(s - m_new) two keys (8 lanes) per lm_avx2_exp (avx2.h, inline),
 *      running sum l = l * corr + sum p;
 *   3. P V: per slice of hd (2 chunks of 8, or 4 when the block has one or two queries) the
 *      block's accumulators are loaded into registers, multiplied by corr, then every key of the
 *      tile adds p * V chunk (V chunk loaded once for all queries of the block), and stored.
 * With G <= 4 (the usual GQA ratios) every K and V row is read from memory once. The final
 * output is acc / l, or zeros when no key was visible. hd of any size: full chunks of 8, then
 * one tail chunk whose K/V loads are masked (F32: vmaskmovps; F16: the tail copied into a
 * zeroed 8-lane buffer), so nothing is read past a row; o is written with masked stores.
 * All loads and stores are unaligned; no alignment is assumed of rows, strides or scratch.
 *
 * Prefetch: tiles are double-buffered (the next tile's row list is built first); its K rows
 * are prefetched a few lines per key step during this tile's scores and its V rows during
 * this tile's P V passes, so memory stays busy through both phases. Prefetch addresses may run
 * up to a line past a row (prefetches never fault).
 */
#include <string.h>

#include "avx2.h"

enum { TILE = 64 };

size_t lm_attn_scratch_floats_avx2(int64_t G, int64_t hd) {
    const int64_t hd8 = (hd + 7) & ~(int64_t)7, nb4 = (G + 3) & ~(int64_t)3;
    return (size_t)(2 * G * hd8 + 2 * nb4);
}

/* 8 elements of a K/V row from element d. */
static inline __attribute__((always_inline)) __m256 load_kv(const uint8_t *row, int64_t d,
                                                            bool f16) {
    if (f16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * d)));
    return _mm256_loadu_ps((const float *)(row + 4 * d));
}

/* The last rem (1..7) elements of a row from element d, zeros above. */
static inline __attribute__((always_inline)) __m256
load_kv_tail(const uint8_t *row, int64_t d, int64_t rem, __m256i tm, bool f16) {
    if (f16) {
        uint16_t b[8] = {0};
        memcpy(b, row + 2 * d, (size_t)rem * 2);
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b));
    }
    return _mm256_maskload_ps((const float *)(row + 4 * d), tm);
}

/* (sum a0, sum a1, sum a2, sum a3) */
static inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* A walk over the cache lines of a list of rows, a few lines at a time, so prefetches for the
 * next tile are spread evenly over the work on this one. */
struct pf {
    const uint8_t *const *rows;
    int n, lines; /* rows, lines per row */
    int r, l;     /* next row and line */
    int per_step; /* lines issued per call of pf_step */
};

static inline void pf_step(struct pf *p) {
    for (int k = 0; k < p->per_step && p->r < p->n; k++) {
        _mm_prefetch((const char *)p->rows[p->r] + 64 * p->l, _MM_HINT_T0);
        if (++p->l == p->lines) p->l = 0, p->r++;
    }
}

/* The visible keys of one tile, and the prefetches for the next tile. */
struct tile {
    const uint8_t *const *kr, *const *vr; /* n K and V rows */
    int n;
    struct pf *pk, *pv; /* next tile's K rows during scores, V rows during P V; NULL = none */
    int64_t hd, hd8;
};

/* sc[4 j + g] = qs[g] . K[kr[j]] for the gb queries of a block, j < n, KS keys per step.
 * Lanes g >= gb are 0. When n is odd, sc row n is set to -inf (exp gives 0). */
static inline __attribute__((always_inline)) void
scores(float *sc, const struct tile *t, const float *qs, int gb, int KS, bool f16) {
    const uint8_t *const *kr = t->kr;
    const int n = t->n;
    const int64_t hd = t->hd, hd8 = t->hd8, nfull = hd / 8, rem = hd % 8;
    const __m256i tm = lm_avx2_tail_mask(rem);
    int j = 0;
    for (; j + KS <= n; j += KS) {
        if (t->pk) pf_step(t->pk);
        __m256 acc[4][4]; /* [key][query] */
#pragma GCC unroll 4
        for (int s = 0; s < 4; s++)
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++)
                acc[s][g] = _mm256_setzero_ps();
        for (int64_t c = 0; c < nfull; c++) {
            __m256 kv[4];
#pragma GCC unroll 4
            for (int s = 0; s < KS; s++)
                kv[s] = load_kv(kr[j + s], 8 * c, f16);
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++) {
                __m256 qv = _mm256_loadu_ps(qs + g * hd8 + 8 * c);
#pragma GCC unroll 4
                for (int s = 0; s < KS; s++)
                    acc[s][g] = _mm256_fmadd_ps(qv, kv[s], acc[s][g]);
            }
        }
        if (rem) {
            __m256 kv[4];
#pragma GCC unroll 4
            for (int s = 0; s < KS; s++)
                kv[s] = load_kv_tail(kr[j + s], 8 * nfull, rem, tm, f16);
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++) {
                __m256 qv = _mm256_loadu_ps(qs + g * hd8 + 8 * nfull);
#pragma GCC unroll 4
                for (int s = 0; s < KS; s++)
                    acc[s][g] = _mm256_fmadd_ps(qv, kv[s], acc[s][g]);
            }
        }
#pragma GCC unroll 4
        for (int s = 0; s < KS; s++)
            _mm_storeu_ps(sc + 4 * (j + s), hsum4(acc[s][0], acc[s][1], acc[s][2], acc[s][3]));
    }
    for (; j < n; j++) { /* the last n % KS keys, one at a time */
        if (t->pk) pf_step(t->pk);
        __m256 acc[4];
#pragma GCC unroll 4
        for (int g = 0; g < 4; g++)
            acc[g] = _mm256_setzero_ps();
        for (int64_t c = 0; c < nfull; c++) {
            __m256 kv = load_kv(kr[j], 8 * c, f16);
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                acc[g] = _mm256_fmadd_ps(_mm256_loadu_ps(qs + g * hd8 + 8 * c), kv, acc[g]);
        }
        if (rem) {
            __m256 kv = load_kv_tail(kr[j], 8 * nfull, rem, tm, f16);
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                acc[g] = _mm256_fmadd_ps(_mm256_loadu_ps(qs + g * hd8 + 8 * nfull), kv, acc[g]);
        }
        _mm_storeu_ps(sc + 4 * j, hsum4(acc[0], acc[1], acc[2], acc[3]));
    }
    if (n & 1) _mm_storeu_ps(sc + 4 * n, _mm_set1_ps(-INFINITY));
}

/* acc[g][8 c0 .. 8 (c0 + NC)) = acc * corr[g] + sum_j p[j][g] V[vr[j]] over that slice.
 * tail: the slice is the one partial chunk (NC = 1), loaded masked. */
static inline __attribute__((always_inline)) void
pv_slice(float *acc, const float *sc, const float *corr, const uint8_t *const *vr, struct pf *pv,
         int n, int64_t hd8, int64_t c0, int gb, int NC, bool tail, int64_t rem, __m256i tm,
         bool f16) {
    __m256 o[4][4]; /* [query][chunk] */
#pragma GCC unroll 4
    for (int g = 0; g < gb; g++) {
        __m256 cr = _mm256_broadcast_ss(corr + g);
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++)
            o[g][c] = _mm256_mul_ps(_mm256_loadu_ps(acc + g * hd8 + 8 * (c0 + c)), cr);
    }
    for (int j = 0; j < n; j++) {
        if (pv) pf_step(pv);
        __m256 v[4];
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++)
            v[c] = tail ? load_kv_tail(vr[j], 8 * c0, rem, tm, f16)
                        : load_kv(vr[j], 8 * (c0 + c), f16);
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++) {
            __m256 p = _mm256_broadcast_ss(sc + 4 * j + g);
#pragma GCC unroll 4
            for (int c = 0; c < NC; c++)
                o[g][c] = _mm256_fmadd_ps(p, v[c], o[g][c]);
        }
    }
#pragma GCC unroll 4
    for (int g = 0; g < gb; g++)
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++)
            _mm256_storeu_ps(acc + g * hd8 + 8 * (c0 + c), o[g][c]);
}

/* One tile of n visible keys for one block of gb queries: scores, online softmax update of the
 * block's running max m[0..4) and sum l[0..4), and the P V accumulation. */
static inline __attribute__((always_inline)) void tile_block(float *acc, const float *qs, float *m,
                                                             float *l, const struct tile *t, int gb,
                                                             bool f16) {
    _Alignas(32) float sc[4 * TILE + 8];
    const int KS = gb <= 2 ? 4 : 2, NC = gb <= 2 ? 4 : 2, n = t->n;
    const uint8_t *const *vr = t->vr;
    const int64_t hd = t->hd, hd8 = t->hd8;
    scores(sc, t, qs, gb, KS, f16);

    __m128 mt = _mm_set1_ps(-INFINITY);
    for (int j = 0; j < n; j++)
        mt = _mm_max_ps(mt, _mm_load_ps(sc + 4 * j));
    const __m128 mo = _mm_loadu_ps(m), mn = _mm_max_ps(mo, mt);
    /* the first tile has m_old = -inf: corr = exp(-inf) = 0 on accumulators that are 0 */
    const __m128 corr = _mm256_castps256_ps128(
        lm_avx2_exp(_mm256_set_m128(_mm_sub_ps(mo, mn), _mm_sub_ps(mo, mn))));
    const __m256 mn2 = _mm256_set_m128(mn, mn);
    __m256 ls = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 2) { /* two keys x four queries per exp */
        __m256 p = lm_avx2_exp(_mm256_sub_ps(_mm256_load_ps(sc + 4 * j), mn2));
        _mm256_store_ps(sc + 4 * j, p);
        ls = _mm256_add_ps(ls, p);
    }
    __m128 lsum = _mm_add_ps(_mm256_castps256_ps128(ls), _mm256_extractf128_ps(ls, 1));
    _mm_storeu_ps(l, _mm_fmadd_ps(_mm_loadu_ps(l), corr, lsum));
    _mm_storeu_ps(m, mn);
    _Alignas(16) float cr[4];
    _mm_store_ps(cr, corr);

    const int64_t nfull = hd / 8, rem = hd % 8;
    const __m256i tm = lm_avx2_tail_mask(rem);
    int64_t c = 0;
    for (; c + NC <= nfull; c += NC)
        pv_slice(acc, sc, cr, vr, t->pv, n, hd8, c, gb, NC, false, 0, tm, f16);
    for (; c < nfull; c++)
        pv_slice(acc, sc, cr, vr, t->pv, n, hd8, c, gb, 1, false, 0, tm, f16);
    if (rem) pv_slice(acc, sc, cr, vr, t->pv, n, hd8, nfull, gb, 1, true, rem, tm, f16);
}

static void tile_f32_1(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 1, false);
}
static void tile_f32_2(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 2, false);
}
static void tile_f32_3(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 3, false);
}
static void tile_f32_4(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 4, false);
}
static void tile_f16_1(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 1, true);
}
static void tile_f16_2(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 2, true);
}
static void tile_f16_3(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 3, true);
}
static void tile_f16_4(float *a, const float *q, float *m, float *l, const struct tile *t) {
    tile_block(a, q, m, l, t, 4, true);
}

typedef void (*tile_fn)(float *, const float *, float *, float *, const struct tile *);
static const tile_fn tile_fns[2][4] = {{tile_f32_1, tile_f32_2, tile_f32_3, tile_f32_4},
                                       {tile_f16_1, tile_f16_2, tile_f16_3, tile_f16_4}};

/* Row pointers of the visible keys of the next non-empty tile from *pos (advanced past it);
 * 0 when no key is left. */
static int gather_tile(const struct lm_attn_row *a, int64_t *pos, const uint8_t **kr,
                       const uint8_t **vr) {
    const uint8_t *K = a->k, *V = a->v;
    int n = 0;
    while (n == 0 && *pos < a->n_kv) {
        const int64_t te = *pos + TILE < a->n_kv ? *pos + TILE : a->n_kv;
        for (int64_t j = *pos; j < te; j++) {
            if (a->mask && !a->mask[j]) continue;
            kr[n] = K + (size_t)j * a->ldk;
            vr[n] = V + (size_t)j * a->ldv;
            n++;
        }
        *pos = te;
    }
    return n;
}

void lm_attn_avx2(const struct lm_attn_row *a) {
    const int64_t G = a->G, hd = a->hd, hd8 = (hd + 7) & ~(int64_t)7, nb4 = (G + 3) & ~(int64_t)3;
    float *acc = a->scratch, *qs = acc + G * hd8, *m = qs + G * hd8, *l = m + nb4;
    const int f16 = a->kv_type == LM_F16;
    const int64_t nfull = hd / 8, rem = hd % 8;
    const __m256i tm = lm_avx2_tail_mask(rem);
    const __m256 sc = _mm256_set1_ps(a->scale), zero = _mm256_setzero_ps();

    /* queries scaled and zero-padded; accumulators and softmax state cleared */
    for (int64_t g = 0; g < G; g++) {
        const float *q = a->q + (size_t)g * a->ldq;
        for (int64_t c = 0; c < nfull; c++) {
            _mm256_storeu_ps(qs + g * hd8 + 8 * c, _mm256_mul_ps(_mm256_loadu_ps(q + 8 * c), sc));
            _mm256_storeu_ps(acc + g * hd8 + 8 * c, zero);
        }
        if (rem) {
            _mm256_storeu_ps(qs + g * hd8 + 8 * nfull,
                             _mm256_mul_ps(_mm256_maskload_ps(q + 8 * nfull, tm), sc));
            _mm256_storeu_ps(acc + g * hd8 + 8 * nfull, zero);
        }
    }
    for (int64_t g = 0; g < nb4; g++) {
        m[g] = -INFINITY;
        l[g] = 0;
    }

    /* Tiles are double-buffered: the next one is gathered before this one is worked on, and
     * its K rows are prefetched during this tile's scores, its V rows during this tile's P V,
     * spread evenly (per_step lines per key step), so memory stays busy through both phases. */
    const uint8_t *kr[2][TILE], *vr[2][TILE];
    const size_t rb = (size_t)hd * (f16 ? 2 : 4);
    const bool k_al = (uintptr_t)a->k % 64 == 0 && a->ldk % 64 == 0,
               v_al = (uintptr_t)a->v % 64 == 0 && a->ldv % 64 == 0;
    const int k_lines = (int)((rb + 63) / 64) + !k_al, v_lines = (int)((rb + 63) / 64) + !v_al;
    /* key steps and P V passes over the keys of the first block, as tile_block does them */
    const int KS = G >= 3 ? 2 : 4, NC = G >= 3 ? 2 : 4;
    const int64_t n_slices = nfull / NC + nfull % NC + (rem != 0);
    int64_t pos = 0;
    int cur = 0, n = gather_tile(a, &pos, kr[0], vr[0]);
    while (n) {
        const int nn = gather_tile(a, &pos, kr[cur ^ 1], vr[cur ^ 1]);
        const int k_steps = (n + KS - 1) / KS;
        struct pf pk = {.rows = kr[cur ^ 1], .n = nn, .lines = k_lines};
        struct pf pv = {.rows = vr[cur ^ 1], .n = nn, .lines = v_lines};
        pk.per_step = (int)((nn * k_lines + k_steps - 1) / k_steps);
        pv.per_step = (int)((nn * v_lines + n_slices * n - 1) / (n_slices * n));
        if (pv.per_step < 1) pv.per_step = 1;
        struct tile t = {
            .kr = kr[cur], .vr = vr[cur], .n = n, .pk = &pk, .pv = &pv, .hd = hd, .hd8 = hd8};
        for (int64_t g0 = 0; g0 < G; g0 += 4) {
            const int64_t gb = G - g0 < 4 ? G - g0 : 4;
            tile_fns[f16][gb - 1](acc + g0 * hd8, qs + g0 * hd8, m + g0, l + g0, &t);
            t.pk = t.pv = NULL; /* later blocks find the rows in cache */
        }
        /* whatever the spread left over (tiny tiles) */
        pk.per_step = pv.per_step = 1 << 30;
        pf_step(&pk);
        pf_step(&pv);
        cur ^= 1;
        n = nn;
    }

    /* o = acc / l; a query that saw no key has l = 0 and acc = 0: zeros */
    for (int64_t g = 0; g < G; g++) {
        const __m256 r = _mm256_set1_ps(l[g] > 0 ? 1.0f / l[g] : 0.0f);
        float *o = a->o + (size_t)g * a->ldo;
        for (int64_t c = 0; c < nfull; c++)
            _mm256_storeu_ps(o + 8 * c, _mm256_mul_ps(_mm256_loadu_ps(acc + g * hd8 + 8 * c), r));
        if (rem)
            _mm256_maskstore_ps(o + 8 * nfull, tm,
                                _mm256_mul_ps(_mm256_loadu_ps(acc + g * hd8 + 8 * nfull), r));
        if (a->lse) a->lse[g] = l[g] > 0 ? m[g] + logf(l[g]) : -INFINITY;
    }
}
