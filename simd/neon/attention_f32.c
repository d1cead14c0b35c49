/* simd/neon/attention_f32.c - attention of one GQA group (G queries sharing a K/V head) over
 * an F32 or F16 K/V cache, ARMv8 Advanced SIMD, online softmax in tiles of keys.
 *
 * Same contract and structure as simd/avx2/attention_f32.c, in 4-lane vectors. Q and O are F32;
 * K and V rows are F32 or F16 (widened by fcvtl as they are loaded, so both dtypes share every
 * loop; the F16 variants are separate inlined copies, not a run-time branch in the inner
 * loops). Scratch (attn_scratch_floats): acc (G, hd4) f32 accumulators, qs (G, hd4) queries
 * pre-multiplied by scale and zero-padded to hd4 = hd rounded up to 4, and the running max and
 * sum per query. Accumulators and softmax state are f32.
 *
 * Tiling: keys go in tiles of TILE = 64 (the visible ones only: a mask becomes a list of row
 * pointers, so masked keys cost nothing and never enter the softmax; without a mask the list
 * is consecutive rows). Queries go in blocks of gb <= 4 (G split evenly into ceil(G / 4)
 * blocks). For each tile and block:
 *   1. scores: KS keys at a time (8 when gb <= 2, else 4: 8 to 16 independent fmla chains
 *      within the 32 registers, with the gb query chunks and one K chunk); each K chunk of 4 is
 *      loaded once and used for every query of the block. The KS accumulators of a query are
 *      reduced by faddp trees into KS consecutive scores: sc[g][key]. When n is not a multiple
 *      of KS the last step re-reads the tile's last row (the row list is padded with it), and
 *      scores from n up to a multiple of 4 are set to -inf.
 *   2. softmax, 4 keys of one query per vector: tile max, new running max, the correction
 *      exp(m_old - m_new) for the whole block in one lm_neon_exp, p = exp(s - m_new), running
 *      sum l = l * corr + sum p.
 *   3. P V: per slice of NC chunks of 4 (NC = 16, 8, 4, 4 for gb = 1..4: 12 to 16
 *      accumulators) the block's accumulators are loaded, multiplied by corr, then every key of
 *      the tile adds p * V chunk (V chunk loaded once for all queries of the block, p
 *      broadcast), and stored back.
 * With G <= 4 every K and V row is read from memory once. The output is acc / l, or zeros when
 * no key was visible; lse = m + log(l). hd of any size: chunks of 4, then one tail chunk of
 * hd % 4 read through a zero-padded local copy (never past a row); o's tail is a partial
 * store. No alignment is assumed of rows, strides or scratch. K rows are prefetched PF rows
 * ahead (about 2 KiB of rows) while scores read row j, V rows likewise in the first P V slice,
 * by the first query block only (__builtin_prefetch: prfm; addresses past the last row are
 * harmless). o may alias q: q is read (into qs) before o is written.
 */
#include "neon.h"

enum {
    TILE = 64,
    SCW = TILE + 8,  /* scores per query: a tile rounded up to 8 */
    PF_BYTES = 2048, /* prefetch distance, in bytes of rows */
};

#define ATTN_INLINE static inline __attribute__((always_inline))

size_t lm_attn_scratch_floats_neon(int64_t G, int64_t hd) {
    const int64_t hd4 = (hd + 3) & ~(int64_t)3, nb4 = (G + 3) & ~(int64_t)3;
    return (size_t)(2 * G * hd4 + 2 * nb4);
}

/* 4 elements of a K/V row from element d */
ATTN_INLINE float32x4_t load_kv(const uint8_t *row, int64_t d, bool f16) {
    if (f16) return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)row + d)));
    return vld1q_f32((const float *)row + d);
}

/* the last rem (1..3) elements of a row from element d, zeros above */
ATTN_INLINE float32x4_t load_kv_tail(const uint8_t *row, int64_t d, int64_t rem, bool f16) {
    if (f16) {
        uint16_t b[4] = {0, 0, 0, 0};
        memcpy(b, (const uint16_t *)row + d, (size_t)rem * sizeof(uint16_t));
        return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(b)));
    }
    return lm_neon_load_tail((const float *)row + d, rem);
}

/* the lane sums of a[0..KS) (KS = 4 or 8) stored to s[0..KS): faddp trees */
ATTN_INLINE void store_sums(float *s, const float32x4_t *a, int KS) {
    for (int i = 0; i < KS; i += 4)
        vst1q_f32(s + i, vpaddq_f32(vpaddq_f32(a[i], a[i + 1]), vpaddq_f32(a[i + 2], a[i + 3])));
}

/* The visible keys of one tile: n K and V row pointers (kr padded to a multiple of 8 with its
 * last row). Prefetch: the lines [0, pf_lines) of each row at offset pf_k (K) or pf_v (V)
 * bytes; pf_lines = 0 for none. */
struct tile {
    const uint8_t *const *kr, *const *vr;
    int n, pf_lines;
    size_t pf_k, pf_v;
    int64_t hd, hd4;
};

ATTN_INLINE void prefetch_row(const uint8_t *row, int lines) {
    for (int i = 0; i < lines; i++)
        __builtin_prefetch(row + 64 * i);
}

/* sc[g SCW + j] = qs[g] . K[kr[j]] for the gb queries of a block, j < n; -inf for j in
 * [n, n rounded up to 4) */
ATTN_INLINE void scores(float *sc, const struct tile *t, const float *qs, int gb, int KS,
                        bool f16) {
    const uint8_t *const *kr = t->kr;
    const int n = t->n;
    const int64_t hd4 = t->hd4, nfull = t->hd / 4, rem = t->hd % 4;
    for (int j = 0; j < n; j += KS) {
        const uint8_t *r[8];
#pragma GCC unroll 8
        for (int s = 0; s < KS; s++) {
            r[s] = kr[j + s];
            prefetch_row(r[s] + t->pf_k, t->pf_lines);
        }
        float32x4_t acc[4][8]; /* [query][key] */
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++)
#pragma GCC unroll 8
            for (int s = 0; s < KS; s++)
                acc[g][s] = vdupq_n_f32(0);
        for (int64_t c = 0; c < nfull; c++) {
            float32x4_t qv[4];
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                qv[g] = vld1q_f32(qs + g * hd4 + 4 * c);
#pragma GCC unroll 8
            for (int s = 0; s < KS; s++) {
                const float32x4_t kv = load_kv(r[s], 4 * c, f16);
#pragma GCC unroll 4
                for (int g = 0; g < gb; g++)
                    acc[g][s] = vfmaq_f32(acc[g][s], qv[g], kv);
            }
        }
        if (rem) {
            float32x4_t qv[4];
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                qv[g] = vld1q_f32(qs + g * hd4 + 4 * nfull);
#pragma GCC unroll 8
            for (int s = 0; s < KS; s++) {
                const float32x4_t kv = load_kv_tail(r[s], 4 * nfull, rem, f16);
#pragma GCC unroll 4
                for (int g = 0; g < gb; g++)
                    acc[g][s] = vfmaq_f32(acc[g][s], qv[g], kv);
            }
        }
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++)
            store_sums(sc + g * SCW + j, acc[g], KS);
    }
    const int n4 = (n + 3) & ~3;
    for (int g = 0; g < gb; g++)
        for (int j = n; j < n4; j++)
            sc[g * SCW + j] = -INFINITY;
}

/* acc[g][4 c0 .. 4 (c0 + NC)) = acc * corr[g] + sum_j p[g][j] V[vr[j]] over that slice.
 * tail: the slice is the one partial chunk (NC = 1) of rem elements. */
ATTN_INLINE void pv_slice(float *acc, const float *sc, const float *corr, const uint8_t *const *vr,
                          int n, size_t pf_v, int pf_lines, int64_t hd4, int64_t c0, int gb, int NC,
                          bool tail, int64_t rem, bool f16) {
    float32x4_t o[4][16]; /* [query][chunk] */
#pragma GCC unroll 4
    for (int g = 0; g < gb; g++) {
        const float32x4_t cr = vdupq_n_f32(corr[g]);
#pragma GCC unroll 16
        for (int c = 0; c < NC; c++)
            o[g][c] = vmulq_f32(vld1q_f32(acc + g * hd4 + 4 * (c0 + c)), cr);
    }
    for (int j = 0; j < n; j++) {
        const uint8_t *row = vr[j];
        prefetch_row(row + pf_v, pf_lines);
        float32x4_t p[4];
#pragma GCC unroll 4
        for (int g = 0; g < gb; g++)
            p[g] = vld1q_dup_f32(sc + g * SCW + j);
#pragma GCC unroll 16
        for (int c = 0; c < NC; c++) {
            const float32x4_t v =
                tail ? load_kv_tail(row, 4 * c0, rem, f16) : load_kv(row, 4 * (c0 + c), f16);
#pragma GCC unroll 4
            for (int g = 0; g < gb; g++)
                o[g][c] = vfmaq_f32(o[g][c], p[g], v);
        }
    }
#pragma GCC unroll 4
    for (int g = 0; g < gb; g++)
#pragma GCC unroll 16
        for (int c = 0; c < NC; c++)
            vst1q_f32(acc + g * hd4 + 4 * (c0 + c), o[g][c]);
}

/* One tile of n visible keys for one block of gb queries: scores, online softmax update of the
 * block's running max m[0..gb) and sum l[0..gb), and the P V accumulation. */
ATTN_INLINE void tile_block(float *acc, const float *qs, float *m, float *l, const struct tile *t,
                            int gb, bool f16) {
    float sc[4 * SCW];
    const int KS = gb <= 2 ? 8 : 4, NC = gb == 1 ? 16 : gb == 2 ? 8 : 4;
    const int n = t->n, n4 = (n + 3) & ~3;
    const int64_t hd = t->hd, hd4 = t->hd4;
    scores(sc, t, qs, gb, KS, f16);

    /* tile max of each query, then corr = exp(m_old - m_new) for the block in one exp; the
     * first tile has m_old = -inf: corr = exp(-inf) = 0 on accumulators that are 0 */
    float mt[4] = {0, 0, 0, 0}, mo[4] = {0, 0, 0, 0}, cr[4], mnv[4];
    for (int g = 0; g < gb; g++) {
        float32x4_t mx = vdupq_n_f32(-INFINITY);
        for (int j = 0; j < n4; j += 4)
            mx = vmaxq_f32(mx, vld1q_f32(sc + g * SCW + j));
        mt[g] = lm_neon_hmax(mx);
        mo[g] = m[g];
    }
    const float32x4_t mn = vmaxq_f32(vld1q_f32(mo), vld1q_f32(mt));
    vst1q_f32(cr, lm_neon_exp(vsubq_f32(vld1q_f32(mo), mn)));
    vst1q_f32(mnv, mn);
    for (int g = 0; g < gb; g++) {
        const float32x4_t mg = vdupq_n_f32(mnv[g]);
        float32x4_t ls = vdupq_n_f32(0);
        for (int j = 0; j < n4; j += 4) {
            const float32x4_t p = lm_neon_exp(vsubq_f32(vld1q_f32(sc + g * SCW + j), mg));
            vst1q_f32(sc + g * SCW + j, p);
            ls = vaddq_f32(ls, p);
        }
        l[g] = l[g] * cr[g] + lm_neon_hsum(ls);
        m[g] = mnv[g];
    }

    const int64_t nfull = hd / 4, rem = hd % 4;
    const uint8_t *const *vr = t->vr;
    int64_t c = 0;
    for (; c + NC <= nfull; c += NC)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd4, c, gb, NC, false, 0,
                 f16);
    if (NC > 4)
        for (; c + 4 <= nfull; c += 4)
            pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd4, c, gb, 4, false, 0,
                     f16);
    for (; c < nfull; c++)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, c == 0 ? t->pf_lines : 0, hd4, c, gb, 1, false, 0,
                 f16);
    if (rem)
        pv_slice(acc, sc, cr, vr, n, t->pf_v, nfull == 0 ? t->pf_lines : 0, hd4, nfull, gb, 1, true,
                 rem, f16);
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
 * kr padded to a multiple of 8 with its last row; 0 when no key is left. */
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
    for (int j = n; n && j < ((n + 7) & ~7); j++)
        kr[j] = kr[n - 1];
    return n;
}

void lm_attn_neon(const struct lm_attn_row *a) {
    const int64_t G = a->G, hd = a->hd, hd4 = (hd + 3) & ~(int64_t)3, nb4 = (G + 3) & ~(int64_t)3;
    float *acc = a->scratch, *qs = acc + G * hd4, *m = qs + G * hd4, *l = m + nb4;
    const int f16 = a->kv_type == LM_F16;
    const int64_t nfull = hd / 4, rem = hd % 4;
    const float32x4_t sc = vdupq_n_f32(a->scale), zero = vdupq_n_f32(0);

    /* queries scaled and zero-padded; accumulators and softmax state cleared */
    for (int64_t g = 0; g < G; g++) {
        const float *q = a->q + (size_t)g * a->ldq;
        for (int64_t c = 0; c < nfull; c++) {
            vst1q_f32(qs + g * hd4 + 4 * c, vmulq_f32(vld1q_f32(q + 4 * c), sc));
            vst1q_f32(acc + g * hd4 + 4 * c, zero);
        }
        if (rem) {
            vst1q_f32(qs + g * hd4 + 4 * nfull,
                      vmulq_f32(lm_neon_load_tail(q + 4 * nfull, rem), sc));
            vst1q_f32(acc + g * hd4 + 4 * nfull, zero);
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
    const uint8_t *kr[TILE + 8], *vr[TILE];
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
                         .hd4 = hd4};
        for (int64_t b = 0, g0 = 0; b < nblk; b++) {
            const int64_t gb = G / nblk + (b < G % nblk);
            tile_fns[f16][gb - 1](acc + g0 * hd4, qs + g0 * hd4, m + g0, l + g0, &t);
            t.pf_lines = 0; /* later blocks find the tile in cache */
            g0 += gb;
        }
    }

    /* o = acc / l; a query that saw no key has l = 0 and acc = 0: zeros */
    for (int64_t g = 0; g < G; g++) {
        const float32x4_t r = vdupq_n_f32(l[g] > 0 ? 1.0f / l[g] : 0.0f);
        float *o = a->o + (size_t)g * a->ldo;
        for (int64_t c = 0; c < nfull; c++)
            vst1q_f32(o + 4 * c, vmulq_f32(vld1q_f32(acc + g * hd4 + 4 * c), r));
        if (rem)
            lm_neon_store_tail(o + 4 * nfull, vmulq_f32(vld1q_f32(acc + g * hd4 + 4 * nfull), r),
                               rem);
        if (a->lse) a->lse[g] = l[g] > 0 ? m[g] + logf(l[g]) : -INFINITY;
    }
}
