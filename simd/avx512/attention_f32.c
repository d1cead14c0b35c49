/* simd/avx512/attention_f32.c - attention of one GQA group (G queries sharing a K/V head) over
 * an F32 or F16 K/V cache, AVX-512F/BW/VL, online softmax in tiles of keys.
 *
 * The AVX2 kernel's design (simd/avx2/attention_f32.c) on 16-lane zmm vectors, with the 32
 * registers spent on more independent FMA chains. Q and O are F32; K and V rows are F32 or F16
 * (converted on load by vcvtph2ps zmm straight from memory, so both dtypes share every loop;
 * the F16 variants are separate inlined copies, not a run-time branch in the inner loops).
 * Scratch (attn_scratch_floats): acc (G, hd16) f32 accumulators, qs (G, hd16) queries
 * pre-multiplied by scale and zero-padded to hd16 = hd rounded up to 16, and the running max
 * and sum per query. Accumulators and softmax state are f32.
 *
 * Tiling: keys go in tiles of TILE = 64 (the visible ones only: a mask is turned into a list of
 * row pointers, so masked keys cost nothing and never enter the softmax; without a mask the
 * list is just consecutive rows). Queries go in blocks of gb <= 4 (G split evenly into
 * ceil(G / 4) blocks). For each tile and block:
 *   1. scores: KS keys at a time (8 when gb <= 2, 4 when gb = 3 or 4: KS * gb = 8 to 16
 *      independent FMA chains, plus gb query chunks and one K chunk, within the 32 registers);
 *      each K chunk of 16 is loaded once and FMA'd into every query's accumulator. The KS
 *      accumulators of a query are folded to 8 lanes (low + high half) and reduced by a
 *      vhaddps tree into KS consecutive scores of that query: scores are stored query-major,
 *      sc[g][key]. When n is not a multiple of KS the last step re-reads the tile's last row
 *      for the missing keys (never past a row) and their scores, like every score from n up to
 *      a multiple of 16, are set to -inf.
 *   2. softmax, 16 keys of one query per vector: tile max, new running max, correction
 *      exp(m_old - m_new) (one lm_avx512_exp for the block), p = exp(s - m_new) by
 *      lm_avx512_exp_nonpos (arguments <= 0 or -inf; terms below e^-86.5 of the max are
 *      dropped, as softmax does), running sum l = l * corr + sum p.
 *   3. P V: per slice of NC chunks of 16 (NC = 8 when gb <= 2, else 4, stepping down to 4, 2, 1
 *      for the rest of hd; gb * NC accumulators, 8 to 16) the block's accumulators are loaded
 *      into registers, multiplied by corr, then every key of the tile adds p * V chunk (V chunk
 *      loaded once for all queries of the block, p broadcast from memory), and stored back.
 * With G <= 4 (the usual GQA ratios) every K and V row is read from memory once. The final
 * output is acc / l, or zeros when no key was visible; lse = m + log(l) (or -inf). hd of any
 * size: full chunks of 16, then one tail chunk whose K/V loads are zero-masked (F32: vmovups
 * with a mask; F16: vmovdqu16 with a mask, then vcvtph2ps), so nothing is read past a row; o is
 * written with masked stores. All loads and stores are unaligned; no alignment is assumed of
 * rows, strides or scratch.
 *
 * Prefetch, as AVX2: each K row is prefetched PF rows ahead while the scores read row j, and
 * each V row likewise in the first P V slice; PF covers about 2 KiB of rows (PF_BYTES). Only
 * the first query block prefetches; the others find the tile in cache. Prefetch addresses may
 * lie past the last row (prefetches never fault).
 */
#include "avx512.h"

enum {
    TILE = 64,
    SCW = TILE + 16, /* scores per query: a tile rounded up to 16 */
    PF_BYTES = 2048, /* prefetch distance, in bytes of rows */
};

size_t lm_attn_scratch_floats_avx512(int64_t G, int64_t hd) {
    const int64_t hd16 = (hd + 15) & ~(int64_t)15, nb4 = (G + 3) & ~(int64_t)3;
    return (size_t)(2 * G * hd16 + 2 * nb4);
}

/* 16 elements of a K/V row from element d. */
static inline __attribute__((always_inline)) __m512 load_kv(const uint8_t *row, int64_t d,
                                                            bool f16) {
    if (f16) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * d)));
    return _mm512_loadu_ps((const float *)(row + 4 * d));
}

/* The elements of tm (the last hd % 16) of a row from element d, zeros above. */
static inline __attribute__((always_inline)) __m512 load_kv_tail(const uint8_t *row, int64_t d,
                                                                 __mmask16 tm, bool f16) {
    if (f16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tm, row + 2 * d));
    return _mm512_maskz_loadu_ps(tm, (const float *)(row + 4 * d));
}

/* Sums of KS (4 or 8) vectors a[0..KS) stored to s[0..KS): each folded to 8 lanes, then a
 * transpose-and-add tree. */
static inline __attribute__((always_inline)) void store_sums(float *s, const __m512 *a, int KS) {
    __m256 f[8];
#pragma GCC unroll 8
    for (int i = 0; i < KS; i++)
        f[i] = _mm256_add_ps(_mm512_castps512_ps256(a[i]), _mm512_extractf32x8_ps(a[i], 1));
    if (KS == 8) {
        const __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(f[0], f[1]), _mm256_hadd_ps(f[2], f[3]));
        const __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(f[4], f[5]), _mm256_hadd_ps(f[6], f[7]));
        /* h0 = (f0..f3 low-half sums | f0..f3 high-half sums), h1 the same for f4..f7 */
        _mm256_storeu_ps(s, _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20),
                                          _mm256_permute2f128_ps(h0, h1, 0x31)));
    } else {
        const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(f[0], f[1]), _mm256_hadd_ps(f[2], f[3]));
        _mm_storeu_ps(s, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    }
}

/* The visible keys of one tile: n K and V row pointers; kr is padded to a multiple of 16 with
 * copies of its last row. Prefetch: the lines [0, pf_lines) of each row at offset pf_k (K) or
 * pf_v (V) bytes; pf_lines = 0 for none. */
struct tile {
    const uint8_t *const *kr, *const *vr;
    int n, pf_lines;
    size_t pf_k, pf_v;
    int64_t hd, hd16;
};

static inline __attribute__((always_inline)) void prefetch_row(const uint8_t *row, int lines) {
    for (int i = 0; i < lines; i++)
        _mm_prefetch((const char *)row + 64 * i, _MM_HINT_T0);
}

/* sc[g SCW + j] = qs[g] . K[kr[j]] for the gb queries of a block, j < n; -inf for j in
 * [n, n rounded up to 16). */
static inline __attribute__((always_inline)) void
scores(float *sc, const struct tile *t, const float *qs, int gb, int KS, bool f16) {
    const uint8_t *const *kr = t->kr;
    const int n = t->n;
    const int64_t hd16 = t->hd16, nfull = t->hd / 16;
    const __mmask16 tm = lm_avx512_tail_mask(t->hd % 16);
    for (int j = 0; j < n; j += KS) {
        const uint8_t *r[8];
#pragma GCC unroll 8
        for (int s = 0; s < KS; s++) {
            r[s] = kr[j + s];
            prefetch_row(r[s] + t->pf_k, t->pf_lines);
        }
        __m512 acc[4][8]; /* [query][key] */
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++)
#pragma GCC unroll 8
            for (int s = 0; s < KS; s++)
                acc[g][s] = _mm512_setzero_ps();
        for (int64_t c = 0; c < nfull; c++) {
            __m512 qv[4];
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                qv[g] = _mm512_loadu_ps(qs + g * hd16 + 16 * c);
#pragma GCC unroll 8
            for (int s = 0; s < KS; s++) {
                const __m512 kv = load_kv(r[s], 16 * c, f16);
#pragma GCC unroll 4
                for (int g = 0; g < gb; g++)
                    acc[g][s] = _mm512_fmadd_ps(qv[g], kv, acc[g][s]);
            }
        }
        if (tm) {
            __m512 qv[4];
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                qv[g] = _mm512_loadu_ps(qs + g * hd16 + 16 * nfull);
#pragma GCC unroll 8
            for (int s = 0; s < KS; s++) {
                const __m512 kv = load_kv_tail(r[s], 16 * nfull, tm, f16);
#pragma GCC unroll 4
                for (int g = 0; g < gb; g++)
                    acc[g][s] = _mm512_fmadd_ps(qv[g], kv, acc[g][s]);
            }
        }
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++)
            store_sums(sc + g * SCW + j, acc[g], KS);
    }
    const int n16 = (n + 15) & ~15;
    for (int g = 0; g < gb; g++)
        for (int j = n; j < n16; j++)
            sc[g * SCW + j] = -INFINITY;
}

/* acc[g][16 c0 .. 16 (c0 + NC)) = acc * corr[g] + sum_j p[g][j] V[vr[j]] over that slice.
 * tail: the slice is the one partial chunk (NC = 1), loaded under tm. */
static inline __attribute__((always_inline)) void
pv_slice(float *acc, const float *sc, const float *corr, const uint8_t *const *vr, int n,
         size_t pf_v, int pf_lines, int64_t hd16, int64_t c0, int gb, int NC, bool tail,
         __mmask16 tm, bool f16) {
    __m512 o[4][8]; /* [query][chunk] */
#pragma GCC unroll 4
    for (int g = 0; g < gb; g++) {
        const __m512 cr = _mm512_set1_ps(corr[g]);
#pragma GCC unroll 8
        for (int c = 0; c < NC; c++)
            o[g][c] = _mm512_mul_ps(_mm512_loadu_ps(acc + g * hd16 + 16 * (c0 + c)), cr);
    }
    for (int j = 0; j < n; j++) {
        const uint8_t *row = vr[j];
        prefetch_row(row + pf_v, pf_lines);
        __m512 p[4];
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++)
            p[g] = _mm512_set1_ps(sc[g * SCW + j]);
#pragma GCC unroll 8
        for (int c = 0; c < NC; c++) {
            const __m512 v =
                tail ? load_kv_tail(row, 16 * c0, tm, f16) : load_kv(row, 16 * (c0 + c), f16);
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                o[g][c] = _mm512_fmadd_ps(p[g], v, o[g][c]);
        }
    }
#pragma GCC unroll 4
    for (int g = 0; g < gb; g++)
#pragma GCC unroll 8
        for (int c = 0; c < NC; c++)
            _mm512_storeu_ps(acc + g * hd16 + 16 * (c0 + c), o[g][c]);
}

/* One tile of n visible keys for one block of gb queries: scores, online softmax update of the
 * block's running max m[0..gb) and sum l[0..gb), and the P V accumulation. */
static inline __attribute__((always_inline)) void tile_block(float *acc, const float *qs, float *m,
                                                             float *l, const struct tile *t, int gb,
                                                             bool f16) {
    _Alignas(64) float sc[4 * SCW];
    const int KS = gb <= 2 ? 8 : 4, NC = gb <= 2 ? 8 : 4;
    const int n = t->n, n16 = (n + 15) & ~15;
    const int64_t hd = t->hd, hd16 = t->hd16;
    scores(sc, t, qs, gb, KS, f16);

    /* tile max of each query, then corr = exp(m_old - m_new) for the block in one exp; the
     * first tile has m_old = -inf: corr = exp(-inf) = 0 on accumulators that are 0 */
    _Alignas(64) float d[16] = {0}, cr[16], mn[4];
    for (int g = 0; g < gb; g++) {
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (int j = 0; j < n16; j += 16)
            mx = _mm512_max_ps(mx, _mm512_load_ps(sc + g * SCW + j));
        const float mt = lm_avx512_hmax(mx);
        mn[g] = m[g] > mt ? m[g] : mt;
        d[g] = m[g] - mn[g];
    }
    _mm512_store_ps(cr, lm_avx512_exp(_mm512_load_ps(d)));
    for (int g = 0; g < gb; g++) {
        const __m512 mg = _mm512_set1_ps(mn[g]);
        __m512 ls = _mm512_setzero_ps();
        for (int j = 0; j < n16; j += 16) {
            const __m512 p =
                lm_avx512_exp_nonpos(_mm512_sub_ps(_mm512_load_ps(sc + g * SCW + j), mg));
            _mm512_store_ps(sc + g * SCW + j, p);
            ls = _mm512_add_ps(ls, p);
        }
        l[g] = l[g] * cr[g] + lm_avx512_hsum(ls);
        m[g] = mn[g];
    }

    const int64_t nfull = hd / 16;
    const __mmask16 tm = lm_avx512_tail_mask(hd % 16);
    const uint8_t *const *vr = t->vr;
    int64_t c = 0;
    for (; c + NC <= nfull; c += NC)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd16, c, gb, NC, false, 0,
                 f16);
    if (NC > 4)
        for (; c + 4 <= nfull; c += 4)
            pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd16, c, gb, 4, false,
                     0, f16);
    for (; c + 2 <= nfull; c += 2)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd16, c, gb, 2, false, 0,
                 f16);
    for (; c < nfull; c++)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd16, c, gb, 1, false, 0,
                 f16);
    if (tm)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, nfull == 0 ? t->pf_lines : 0, hd16, nfull, gb, 1,
                 true, tm, f16);
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

/* Row pointers of the visible keys of the next non-empty tile from *pos (advanced past it),
 * kr padded to a multiple of 16 with its last row; 0 when no key is left. */
static int gather_tile(const struct lm_attn_row *a, int64_t *pos, const uint8_t **kr,
                       const uint8_t **vr) {
    const uint8_t *K = a->k, *V = a->v;
    int n = 0;
    while (n == 0 && *pos < a->n_kv) {
        const int64_t te = *pos + TILE < a->n_kv ? *pos + TILE : a->n_kv;
        if (!a->mask) {
            for (int64_t j = *pos; j < te; j++, n++) {
                kr[n] = K + (size_t)j * a->ldk;
                vr[n] = V + (size_t)j * a->ldv;
            }
        } else {
            for (int64_t j = *pos; j < te; j++) {
                if (!a->mask[j]) continue;
                kr[n] = K + (size_t)j * a->ldk;
                vr[n] = V + (size_t)j * a->ldv;
                n++;
            }
        }
        *pos = te;
    }
    for (int j = n; n && j < ((n + 15) & ~15); j++)
        kr[j] = kr[n - 1];
    return n;
}

void lm_attn_avx512(const struct lm_attn_row *a) {
    const int64_t G = a->G, hd = a->hd, hd16 = (hd + 15) & ~(int64_t)15;
    const int64_t nb4 = (G + 3) & ~(int64_t)3;
    float *acc = a->scratch, *qs = acc + G * hd16, *m = qs + G * hd16, *l = m + nb4;
    const int f16 = a->kv_type == LM_F16;
    const int64_t nfull = hd / 16;
    const __mmask16 tm = lm_avx512_tail_mask(hd % 16);
    const __m512 sc = _mm512_set1_ps(a->scale), zero = _mm512_setzero_ps();

    /* queries scaled and zero-padded; accumulators and softmax state cleared */
    for (int64_t g = 0; g < G; g++) {
        const float *q = a->q + (size_t)g * a->ldq;
        for (int64_t c = 0; c < nfull; c++) {
            _mm512_storeu_ps(qs + g * hd16 + 16 * c,
                             _mm512_mul_ps(_mm512_loadu_ps(q + 16 * c), sc));
            _mm512_storeu_ps(acc + g * hd16 + 16 * c, zero);
        }
        if (tm) {
            _mm512_storeu_ps(qs + g * hd16 + 16 * nfull,
                             _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, q + 16 * nfull), sc));
            _mm512_storeu_ps(acc + g * hd16 + 16 * nfull, zero);
        }
    }
    for (int64_t g = 0; g < nb4; g++) {
        m[g] = -INFINITY;
        l[g] = 0;
    }

    /* prefetch pf rows ahead, about PF_BYTES of rows, each row's lines (one more when rows
     * may straddle lines) */
    const size_t rb = (size_t)hd * (f16 ? 2 : 4);
    const int64_t pf = rb >= PF_BYTES / 2 ? 2 : (int64_t)(PF_BYTES / rb);
    const bool al = (uintptr_t)a->k % 64 == 0 && a->ldk % 64 == 0 && (uintptr_t)a->v % 64 == 0 &&
                    a->ldv % 64 == 0;
    const int lines = (int)((rb + 63) / 64) + !al;

    /* blocks of at most 4 queries, as even as possible (G = 6: 3 + 3) */
    const int64_t nblk = (G + 3) / 4;
    const uint8_t *kr[TILE + 16], *vr[TILE];
    int64_t pos = 0;
    int n;
    while ((n = gather_tile(a, &pos, kr, vr))) {
        struct tile t = {.kr = kr,
                         .vr = vr,
                         .n = n,
                         .pf_lines = lines,
                         .pf_k = (size_t)pf * a->ldk,
                         .pf_v = (size_t)pf * a->ldv,
                         .hd = hd,
                         .hd16 = hd16};
        for (int64_t b = 0, g0 = 0; b < nblk; b++) {
            const int64_t gb = G / nblk + (b < G % nblk);
            tile_fns[f16][gb - 1](acc + g0 * hd16, qs + g0 * hd16, m + g0, l + g0, &t);
            t.pf_lines = 0; /* later blocks find the tile in cache */
            g0 += gb;
        }
    }

    /* o = acc / l; a query that saw no key has l = 0 and acc = 0: zeros */
    for (int64_t g = 0; g < G; g++) {
        const __m512 r = _mm512_set1_ps(l[g] > 0 ? 1.0f / l[g] : 0.0f);
        float *o = a->o + (size_t)g * a->ldo;
        for (int64_t c = 0; c < nfull; c++)
            _mm512_storeu_ps(o + 16 * c,
                             _mm512_mul_ps(_mm512_loadu_ps(acc + g * hd16 + 16 * c), r));
        if (tm)
            _mm512_mask_storeu_ps(o + 16 * nfull, tm,
                                  _mm512_mul_ps(_mm512_loadu_ps(acc + g * hd16 + 16 * nfull), r));
        if (a->lse) a->lse[g] = l[g] > 0 ? m[g] + logf(l[g]) : -INFINITY;
    }
}
