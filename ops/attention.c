/* ops/attention.c - scaled dot-product attention with GQA, causal / sliding-window / sequence
 * visibility, over an F32 or F16 K/V cache; and its reference kernel.
 *
 * Shapes: o, q (hd, n_head, n_q); k, v (hd, n_kv_head, n_kv). Query head h reads kv head
 * h / G with G = n_head / n_kv_head, so the G query heads [g G, g G + G) share kv head g.
 *
 * Work: units are (query row, kv head) pairs, n_q * n_kv_head of them, split evenly across the
 * pool's chunks; each unit is one call of the kernel with the G queries of that group. Visibility
 * of the keys to query row i (lmrt.h states the rule):
 *   - no seq ids and no key positions (query positions may be given): the visible keys are a
 *     range [lo, hi) (causal: up to q_pos + 1, window: from q_pos - window + 1), so the kernel
 *     gets offset k / v pointers,
 *     n_kv = hi - lo and no mask;
 *   - otherwise a byte mask of n_kv is built in per-worker scratch (once per row, reused by
 *     the row's kv heads); it is trimmed to its first..last visible key and dropped when
 *     everything in between is visible.
 * A row with no visible key gets zeros without calling the kernel. A unit's result does not
 * depend on which thread runs it, so any thread count gives identical output.
 *
 * The reference kernel walks the keys one at a time with an online softmax in double (running
 * max, running sum, rescaled accumulator of hd doubles), so it needs no n_kv-sized buffer.
 */
#include <math.h>
#include <string.h>

#include "ops.h"

/* ---- reference kernel -------------------------------------------------------------------- */

size_t lm_attn_scratch_floats_ref(int64_t G, int64_t hd) {
    (void)G;
    return (size_t)hd * 2; /* one accumulator of hd doubles, reused for each query */
}

static inline double kv_at(const uint8_t *row, enum lm_dtype t, int64_t d) {
    return t == LM_F16 ? (double)lm_f16_to_f32(((const uint16_t *)row)[d])
                       : (double)((const float *)row)[d];
}

void lm_attn_ref(const struct lm_attn_row *a) {
    double *acc = (double *)a->scratch;
    const uint8_t *K = a->k, *V = a->v;
    for (int64_t g = 0; g < a->G; g++) {
        const float *q = a->q + (size_t)g * a->ldq;
        double m = -INFINITY, l = 0;
        for (int64_t d = 0; d < a->hd; d++)
            acc[d] = 0;
        for (int64_t j = 0; j < a->n_kv; j++) {
            if (a->mask && !a->mask[j]) continue;
            const uint8_t *kr = K + (size_t)j * a->ldk, *vr = V + (size_t)j * a->ldv;
            double s = 0;
            for (int64_t d = 0; d < a->hd; d++)
                s += (double)q[d] * kv_at(kr, a->kv_type, d);
            s *= a->scale;
            if (s > m) { /* new running max: rescale what was summed under the old one */
                double c = exp(m - s);
                l *= c;
                for (int64_t d = 0; d < a->hd; d++)
                    acc[d] *= c;
                m = s;
            }
            double p = exp(s - m);
            l += p;
            for (int64_t d = 0; d < a->hd; d++)
                acc[d] += p * kv_at(vr, a->kv_type, d);
        }
        /* written only after the query is done, so o may alias q */
        float *o = a->o + (size_t)g * a->ldo;
        for (int64_t d = 0; d < a->hd; d++)
            o[d] = l > 0 ? (float)(acc[d] / l) : 0.0f;
        if (a->lse) a->lse[g] = l > 0 ? (float)(m + log(l)) : -INFINITY;
    }
}

/* ---- the op ------------------------------------------------------------------------------ */

#define CHUNK 512 /* keys per chunk when a key range is split (see lm_attention) */

struct attn_task {
    struct lm_ctx *ctx;
    struct lm_tensor *o;
    const struct lm_tensor *q, *k, *v;
    const struct lm_attn_params *p;
    int64_t hd, n_kv_head, G, n_q, n_kv;
    float scale;
    bool use_mask; /* seq ids or key positions given: build a mask per row */
    bool q_in_place;
    size_t ker_bytes, qg_bytes, each; /* per worker: kernel scratch, q gather, mask */
    int64_t n_split;                  /* key-range chunks per (row, kv head) unit */
    float *part, *lse;                /* n_split > 1: partial outputs and their log-sum-exp */
};

static inline int64_t q_pos_of(const struct attn_task *t, int64_t i) {
    return t->p->q_pos ? t->p->q_pos[i] : t->n_kv - t->n_q + i;
}

/* The visible keys of query row i as [*lo, *hi); *mask_out is NULL when all keys in the range
 * are visible, else mask (n_kv bytes of scratch) filled for every key. */
static void visibility(const struct attn_task *t, int64_t i, uint8_t *mask, int64_t *lo,
                       int64_t *hi, const uint8_t **mask_out) {
    const struct lm_attn_params *p = t->p;
    const int64_t qp = q_pos_of(t, i), n_kv = t->n_kv;
    *mask_out = NULL;
    if (!t->use_mask) { /* k_pos[j] = j, one sequence: a range */
        int64_t a = 0, b = n_kv;
        if (p->causal && qp + 1 < b) b = qp + 1;
        if (p->window > 0 && qp - p->window + 1 > a) a = qp - p->window + 1;
        *lo = a;
        *hi = b;
        return;
    }
    const int32_t qs = p->q_seq ? p->q_seq[i] : 0;
    int64_t first = -1, last = -1, count = 0;
    for (int64_t j = 0; j < n_kv; j++) {
        const int32_t ks = p->k_seq ? p->k_seq[j] : 0;
        const int64_t kp = p->k_pos ? p->k_pos[j] : j;
        bool vis = ks >= 0 && ks == qs;
        if (p->causal) vis = vis && kp <= qp;
        if (p->window > 0) vis = vis && qp - kp < p->window;
        mask[j] = vis;
        if (vis) {
            if (first < 0) first = j;
            last = j;
            count++;
        }
    }
    *lo = first < 0 ? 0 : first;
    *hi = first < 0 ? 0 : last + 1;
    if (count != *hi - *lo) *mask_out = mask;
}

/* Work item it = (unit, chunk): unit = (query row i, kv head g), chunk c of n_split slices of
 * the row's visible key range. With one chunk the kernel writes o; with several it writes a
 * partial output and its log-sum-exp, merged by attn_merge_task once this task has ended
 * (decode with few kv heads would otherwise leave threads idle). Pool chunks split the work
 * items; the key chunks here are a property of the shapes. */
static void attn_task(void *arg, int ith, int nth) {
    struct attn_task *t = arg;
    uint8_t *scr = lm_ctx_slice(t->ctx, lm_pool_worker(), t->each);
    float *ks = (float *)scr, *qg = (float *)(scr + t->ker_bytes);
    uint8_t *mask = scr + t->ker_bytes + t->qg_bytes;
    const struct lm_tensor *q = t->q, *k = t->k, *v = t->v;
    struct lm_tensor *o = t->o;
    const int64_t S = t->n_split, units = t->n_q * t->n_kv_head;
    int64_t it0, it1, cur = -1, lo = 0, hi = 0;
    const uint8_t *mk = NULL;
    lm_split(units * S, 1, ith, nth, &it0, &it1);
    for (int64_t it = it0; it < it1; it++) {
        const int64_t u = it / S, c = it % S;
        const int64_t i = u / t->n_kv_head, g = u % t->n_kv_head, h0 = g * t->G;
        if (i != cur) {
            visibility(t, i, mask, &lo, &hi, &mk);
            cur = i;
        }
        const int64_t c0 = lo + (hi - lo) * c / S, c1 = lo + (hi - lo) * (c + 1) / S;
        float *orow = S > 1 ? t->part + (size_t)it * (size_t)(t->G * t->hd)
                            : (float *)lm_tensor_row(o, h0, i, 0);
        const size_t ldo = S > 1 ? (size_t)t->hd : (size_t)o->nb[1] / sizeof(float);
        float *lse = S > 1 ? t->lse + (size_t)it * (size_t)t->G : NULL;
        if (c1 <= c0) { /* nothing visible: zeros */
            for (int64_t h = 0; h < t->G; h++) {
                memset(orow + h * ldo, 0, (size_t)t->hd * sizeof(float));
                if (lse) lse[h] = -INFINITY;
            }
            continue;
        }
        const float *qrow;
        size_t ldq;
        if (t->q_in_place) {
            qrow = (const float *)lm_tensor_row(q, h0, i, 0);
            ldq = (size_t)q->nb[1] / sizeof(float);
        } else { /* gather the G query heads into scratch */
            for (int64_t h = 0; h < t->G; h++) {
                const char *src = lm_tensor_row(q, h0 + h, i, 0);
                for (int64_t d = 0; d < t->hd; d++)
                    qg[h * t->hd + d] = *(const float *)(src + d * q->nb[0]);
            }
            qrow = qg;
            ldq = (size_t)t->hd;
        }
        struct lm_attn_row a = {
            .o = orow,
            .ldo = ldo,
            .q = qrow,
            .ldq = ldq,
            .G = t->G,
            .k = (const uint8_t *)k->data + g * k->nb[1] + c0 * k->nb[2],
            .v = (const uint8_t *)v->data + g * v->nb[1] + c0 * v->nb[2],
            .ldk = (size_t)k->nb[2],
            .ldv = (size_t)v->nb[2],
            .kv_type = k->dtype,
            .hd = t->hd,
            .n_kv = c1 - c0,
            .mask = mk ? mk + c0 : NULL,
            .scale = t->scale,
            .scratch = ks,
            .lse = lse,
        };
        t->ctx->k->attn(&a);
    }
}

/* After attn_task with n_split > 1, the merge of each (unit, query head):
 * o = sum_c exp(lse_c - L) o_c / sum_c exp(lse_c - L), L the largest lse. */
static void attn_merge_task(void *arg, int ith, int nth) {
    struct attn_task *t = arg;
    struct lm_tensor *o = t->o;
    const int64_t S = t->n_split, units = t->n_q * t->n_kv_head;
    int64_t u0, u1;
    lm_split(units * t->G, 1, ith, nth, &u0, &u1);
    for (int64_t ug = u0; ug < u1; ug++) {
        const int64_t u = ug / t->G, h = ug % t->G;
        const int64_t i = u / t->n_kv_head, g = u % t->n_kv_head;
        float *out = (float *)lm_tensor_row(o, g * t->G + h, i, 0);
        float L = -INFINITY;
        for (int64_t c = 0; c < S; c++)
            if (t->lse[(u * S + c) * t->G + h] > L) L = t->lse[(u * S + c) * t->G + h];
        for (int64_t d = 0; d < t->hd; d++)
            out[d] = 0;
        if (L == -INFINITY) continue;
        float wsum = 0;
        for (int64_t c = 0; c < S; c++) {
            const float w = expf(t->lse[(u * S + c) * t->G + h] - L);
            const float *part = t->part + (size_t)((u * S + c) * t->G + h) * (size_t)t->hd;
            for (int64_t d = 0; d < t->hd; d++)
                out[d] += w * part[d];
            wsum += w;
        }
        for (int64_t d = 0; d < t->hd; d++)
            out[d] /= wsum;
    }
}

static lm_status check_kv(const struct lm_tensor *x, const char *name) {
    if (!x || !x->data) return lm_error(LM_EINVAL, "attention: %s is NULL", name);
    if (x->dtype != LM_F32 && x->dtype != LM_F16)
        return lm_error(LM_EINVAL, "attention: %s is %s, expected f32 or f16", name,
                        lm_dtype_name(x->dtype));
    const int64_t es = x->dtype == LM_F32 ? 4 : 2;
    if (x->nb[0] != es)
        return lm_error(LM_EINVAL, "attention: %s rows must be contiguous along hd (nb[0] = %lld)",
                        name, (long long)x->nb[0]);
    if (x->nb[1] < 0 || x->nb[2] < 0 || x->nb[1] % es || x->nb[2] % es ||
        (uintptr_t)x->data % (uintptr_t)es)
        return lm_error(LM_EINVAL,
                        "attention: %s strides (%lld, %lld) must be >= 0 and element-aligned", name,
                        (long long)x->nb[1], (long long)x->nb[2]);
    return LM_OK;
}

/* Explicit positions must be >= 0 (a padding key's position is never read). */
static lm_status check_positions(const struct lm_attn_params *p, int64_t n_q, int64_t n_kv) {
    if (p->q_pos)
        for (int64_t i = 0; i < n_q; i++)
            if (p->q_pos[i] < 0)
                return lm_error(LM_EINVAL, "attention: q_pos[%lld] = %d is negative", (long long)i,
                                (int)p->q_pos[i]);
    if (p->k_pos)
        for (int64_t j = 0; j < n_kv; j++)
            if (p->k_pos[j] < 0 && !(p->k_seq && p->k_seq[j] < 0))
                return lm_error(LM_EINVAL, "attention: k_pos[%lld] = %d is negative", (long long)j,
                                (int)p->k_pos[j]);
    if (!p->q_pos && n_q > n_kv)
        return lm_error(LM_EINVAL,
                        "attention: default positions need n_q <= n_kv (the queries are the last "
                        "keys), got n_q %lld, n_kv %lld",
                        (long long)n_q, (long long)n_kv);
    return LM_OK;
}

lm_status lm_attention(struct lm_tensor *o, const struct lm_tensor *q, const struct lm_tensor *k,
                       const struct lm_tensor *v, const struct lm_attn_params *p,
                       struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "attention")) || (s = lm_check_f32(q, "attention", "q")) ||
        (s = lm_check_f32_out(o, "attention", "o")) ||
        (s = lm_check_same_shape(o, q, "attention", "o", "q")) || (s = check_kv(k, "k")) ||
        (s = check_kv(v, "v")) || (s = lm_check_same_shape(k, v, "attention", "k", "v")))
        return s;
    if (!p) return lm_error(LM_EINVAL, "attention: params are NULL");
    if (k->dtype != v->dtype)
        return lm_error(LM_EINVAL, "attention: k is %s but v is %s", lm_dtype_name(k->dtype),
                        lm_dtype_name(v->dtype));
    const int64_t hd = q->ne[0], n_head = q->ne[1], n_q = q->ne[2];
    const int64_t n_kv_head = k->ne[1], n_kv = k->ne[2];
    if (q->ne[3] != 1 || k->ne[3] != 1)
        return lm_error(LM_EINVAL, "attention: q and k must be 3-D, have ne[3] = %lld, %lld",
                        (long long)q->ne[3], (long long)k->ne[3]);
    if (hd < 1 || n_head < 1 || n_q < 1 || n_kv_head < 1 || n_kv < 1)
        return lm_error(LM_EINVAL, "attention: empty shape q (%lld, %lld, %lld) k (%lld, %lld)",
                        (long long)hd, (long long)n_head, (long long)n_q, (long long)n_kv_head,
                        (long long)n_kv);
    if (k->ne[0] != hd)
        return lm_error(LM_EINVAL, "attention: q head dim %lld but k head dim %lld", (long long)hd,
                        (long long)k->ne[0]);
    if (n_head % n_kv_head)
        return lm_error(LM_EINVAL,
                        "attention: %lld query heads are not a multiple of %lld kv heads",
                        (long long)n_head, (long long)n_kv_head);
    if (o->nb[1] % 4 || o->nb[1] < 0)
        return lm_error(LM_EINVAL, "attention: o head stride %lld is not a whole float",
                        (long long)o->nb[1]);
    if (!isfinite(p->scale))
        return lm_error(LM_EINVAL, "attention: scale %g is not finite", (double)p->scale);
    if (p->window < 0)
        return lm_error(LM_EINVAL, "attention: window %d is negative", (int)p->window);
    if ((s = check_positions(p, n_q, n_kv))) return s;

    const struct lm_kernels *kt = ctx->k;
    const int64_t G = n_head / n_kv_head;
    const bool use_mask = p->k_pos || p->q_seq || p->k_seq;
    const bool q_in_place = q->nb[0] == 4 && q->nb[1] % 4 == 0 && q->nb[1] >= 0;
    const size_t ker = lm_round64(kt->attn_scratch_floats(G, hd) * sizeof(float));
    const size_t qg = q_in_place ? 0 : lm_round64((size_t)(G * hd) * sizeof(float));
    const size_t each = ker + qg + (use_mask ? lm_round64((size_t)n_kv) : 0);
    const int nth = lm_ctx_threads(ctx);
    /* Few units (decode with few kv heads): also split long key ranges into chunks of about
     * CHUNK keys, so every thread streams its share of the cache. The split depends on the
     * shapes only, never on the thread count, so results are identical for any thread count. */
    const int64_t units = n_q * n_kv_head;
    int64_t n_split = 1;
    if (units < 16 && n_kv >= 2 * CHUNK) n_split = n_kv / CHUNK < 64 ? n_kv / CHUNK : 64;
    const size_t per_threads = (size_t)nth * lm_round64(each);
    const size_t part_bytes =
        n_split > 1 ? lm_round64((size_t)(units * n_split * G * hd) * sizeof(float)) : 0;
    const size_t lse_bytes = n_split > 1 ? (size_t)(units * n_split * G) * sizeof(float) : 0;
    if ((s = lm_ctx_reserve(ctx, per_threads + part_bytes + lse_bytes))) return s;
    struct attn_task t = {
        .ctx = ctx,
        .o = o,
        .q = q,
        .k = k,
        .v = v,
        .p = p,
        .hd = hd,
        .n_kv_head = n_kv_head,
        .G = G,
        .n_q = n_q,
        .n_kv = n_kv,
        .scale = p->scale != 0 ? p->scale : (float)(1.0 / sqrt((double)hd)),
        .use_mask = use_mask,
        .q_in_place = q_in_place,
        .ker_bytes = ker,
        .qg_bytes = qg,
        .each = each,
        .n_split = n_split,
        .part = (float *)(ctx->work + per_threads),
        .lse = (float *)(ctx->work + per_threads + part_bytes),
    };
    lm_pool_run(ctx->pool, attn_task, &t);
    if (n_split > 1) lm_pool_run(ctx->pool, attn_merge_task, &t);
    return LM_OK;
}
