/* models/sampler.c - picking the next token from logits, and which tokens end generation.
 *
 * Contract (rt/lmrt.h, "sampling"): the chain runs in llama.cpp's order: logit bias, then the
 * repetition / presence / frequency penalties over the last penalty_last_n accepted tokens, then
 * greedy (temp <= 0: the largest logit, ties to the lowest id) or top-k, top-p, min-p,
 * temperature and a draw from xoshiro256** seeded by splitmix64(seed). The same seed, history
 * and logits give the same token, run after run: the generator is ours, the candidate order is
 * fixed and sums are in f64 (weights use libm's expf, so another libm may differ in the last
 * bit of a weight, never in more). Logits are never modified; NaN logits count as -inf (never
 * picked); when every token is -inf the call fails with LM_ERANGE instead of inventing one. A +inf
 * logit wins outright (the +inf tokens share the mass equally).
 *
 * Cost: everything is preallocated at create (n_vocab scratch), so a call allocates nothing and
 * never copies the vocabulary: bias and penalties touch only their own ids (flagged values read
 * in place of the caller's). Greedy is one pass. Top-k is a heap of k fused into the pass that
 * gathers candidates (O(n), a candidate rarely beats the heap's worst). Top-p without top-k needs
 * no sort of the vocabulary: a quickselect on probability mass finds the cut in O(n) expected
 * time and sorts only the last few candidates around it (with top-k it walks the k sorted ones).
 * Min-p is one pass over the survivors; the draw one more with exp in f32 and sums in f64.
 *
 * Penalties follow llama.cpp for repeat (a positive logit is divided by it, a negative one
 * multiplied) and OpenAI for presence (-p once when the token occurs) and frequency (-f times
 * its count); they touch only the distinct tokens in the window, kept in a list with counts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok.h"

/* penalty_last_n above this is refused: the window is one preallocated ring of ids */
#define MAX_LAST_N (1 << 20)

struct cand {
    float logit;
    float w; /* exp(logit - max), or with the temperature in the draw */
    int32_t id;
};

struct lm_sampler {
    struct lm_sampler_params p; /* p.bias points at bias below */
    struct lm_logit_bias *bias;
    int32_t n_vocab;
    uint64_t rng[4];
    /* the penalty window: a ring of the last penalty_last_n ids (none when it is -1: then the
     * counts only grow), the count of each id in it, and the distinct ids with a count */
    int32_t *ring, ring_cap, ring_n, ring_head;
    int32_t *count;      /* (n_vocab) */
    int32_t *present;    /* (n_vocab) distinct ids with count > 0, n_present of them */
    int32_t *present_at; /* (n_vocab) index of an id in present, or -1 */
    int32_t n_present;
    /* the ids whose logit bias or penalties change in this call, their values and flags */
    int32_t *mods, n_mods;
    float *modv;       /* (n_vocab) */
    uint8_t *flag;     /* (n_vocab) */
    struct cand *cand; /* (n_vocab) candidates of the filters */
};

/* ---- the generator: splitmix64 to seed, xoshiro256** to draw ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4]) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3];
    s[2] ^= t, s[3] = rotl(s[3], 45);
    return r;
}

static void rng_seed(uint64_t s[4], uint64_t seed) {
    for (int i = 0; i < 4; i++)
        s[i] = splitmix64(&seed); /* never all zero: splitmix64 is a bijection of distinct inputs */
}

/* uniform in [0, 1) with 53 random bits */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

/* ---- parameters ---- */

struct lm_sampler_params lm_sampler_defaults(void) {
    return (struct lm_sampler_params){
        .temp = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .penalty_last_n = 64,
    };
}

static lm_status check_params(const struct lm_sampler_params *p, int32_t n_vocab) {
    if (n_vocab < 1) return lm_error(LM_EINVAL, "sampler: n_vocab %d is not positive", n_vocab);
    if (isnan(p->temp) || isinf(p->temp))
        return lm_error(LM_EINVAL, "sampler: temp %g is not a finite number", p->temp);
    if (isnan(p->top_p) || p->top_p < 0)
        return lm_error(LM_EINVAL, "sampler: top_p %g is not in [0, 1] (>= 1 turns it off)",
                        p->top_p);
    if (isnan(p->min_p) || p->min_p > 1)
        return lm_error(LM_EINVAL, "sampler: min_p %g is not in [0, 1] (<= 0 turns it off)",
                        p->min_p);
    if (!isfinite(p->repeat_penalty) || p->repeat_penalty <= 0)
        return lm_error(LM_EINVAL, "sampler: repeat_penalty %g is not a positive finite number",
                        p->repeat_penalty);
    if (!isfinite(p->presence_penalty))
        return lm_error(LM_EINVAL, "sampler: presence_penalty %g is not finite",
                        p->presence_penalty);
    if (!isfinite(p->frequency_penalty))
        return lm_error(LM_EINVAL, "sampler: frequency_penalty %g is not finite",
                        p->frequency_penalty);
    if (p->penalty_last_n < -1 || p->penalty_last_n > MAX_LAST_N)
        return lm_error(LM_EINVAL, "sampler: penalty_last_n %d is not in [-1, %d] (-1 = all)",
                        p->penalty_last_n, MAX_LAST_N);
    if (p->n_bias < 0 || (p->n_bias > 0 && !p->bias))
        return lm_error(LM_EINVAL, "sampler: bias: %d entries at %p", p->n_bias,
                        (const void *)p->bias);
    for (int32_t i = 0; i < p->n_bias; i++) {
        const struct lm_logit_bias *b = &p->bias[i];
        if (b->token < 0 || b->token >= n_vocab)
            return lm_error(LM_EINVAL, "sampler: bias[%d]: token %d outside the vocabulary (%d)", i,
                            b->token, n_vocab);
        if (isnan(b->bias) || b->bias == INFINITY)
            return lm_error(LM_EINVAL,
                            "sampler: bias[%d]: %g for token %d (finite, or -inf to ban it)", i,
                            b->bias, b->token);
    }
    return LM_OK;
}

/* ---- life cycle and history ---- */

lm_status lm_sampler_create(const struct lm_sampler_params *p, int32_t n_vocab,
                            struct lm_sampler **out) {
    if (!out) return lm_error(LM_EINVAL, "sampler: null out");
    *out = NULL;
    if (!p) return lm_error(LM_EINVAL, "sampler: null params");
    lm_status st = check_params(p, n_vocab);
    if (st != LM_OK) return st;
    struct lm_sampler *s = calloc(1, sizeof *s);
    if (!s) return lm_error(LM_ENOMEM, "sampler: %zu bytes", sizeof *s);
    s->p = *p;
    s->n_vocab = n_vocab;
    size_t n = (size_t)n_vocab;
    s->count = calloc(n, sizeof *s->count);
    s->present = malloc(n * sizeof *s->present);
    s->present_at = malloc(n * sizeof *s->present_at);
    s->mods = malloc(n * sizeof *s->mods);
    s->modv = malloc(n * sizeof *s->modv);
    s->flag = calloc(n, sizeof *s->flag);
    s->cand = malloc(n * sizeof *s->cand);
    s->ring_cap = p->penalty_last_n > 0 ? p->penalty_last_n : 0;
    if (s->ring_cap) s->ring = malloc((size_t)s->ring_cap * sizeof *s->ring);
    if (p->n_bias) s->bias = malloc((size_t)p->n_bias * sizeof *s->bias);
    if (!s->count || !s->present || !s->present_at || !s->mods || !s->modv || !s->flag ||
        !s->cand || (s->ring_cap && !s->ring) || (p->n_bias && !s->bias)) {
        lm_sampler_free(s);
        return lm_error(LM_ENOMEM, "sampler: scratch for a vocabulary of %d", n_vocab);
    }
    if (p->n_bias) memcpy(s->bias, p->bias, (size_t)p->n_bias * sizeof *s->bias);
    s->p.bias = s->bias;
    for (size_t i = 0; i < n; i++)
        s->present_at[i] = -1;
    rng_seed(s->rng, p->seed);
    *out = s;
    return LM_OK;
}

void lm_sampler_free(struct lm_sampler *s) {
    if (!s) return;
    free(s->ring), free(s->count), free(s->present), free(s->present_at);
    free(s->mods), free(s->modv), free(s->flag), free(s->cand), free(s->bias);
    free(s);
}

static void count_add(struct lm_sampler *s, int32_t id) {
    if (s->count[id]++ == 0) s->present_at[id] = s->n_present, s->present[s->n_present++] = id;
}

static void count_remove(struct lm_sampler *s, int32_t id) {
    if (--s->count[id] > 0) return;
    int32_t at = s->present_at[id], last = s->present[--s->n_present];
    s->present[at] = last, s->present_at[last] = at; /* swap-remove */
    s->present_at[id] = -1;
}

/* An id outside the vocabulary is ignored: it cannot have a logit to penalise. */
void lm_sampler_accept(struct lm_sampler *s, int32_t token) {
    if (!s || token < 0 || token >= s->n_vocab || s->p.penalty_last_n == 0) return;
    if (s->ring_cap) {
        if (s->ring_n == s->ring_cap) { /* full: the oldest leaves the window */
            count_remove(s, s->ring[s->ring_head]);
            s->ring[s->ring_head] = token;
            s->ring_head = (s->ring_head + 1) % s->ring_cap;
        } else {
            s->ring[(s->ring_head + s->ring_n) % s->ring_cap] = token;
            s->ring_n++;
        }
    }
    count_add(s, token);
}

void lm_sampler_reset(struct lm_sampler *s) {
    if (!s) return;
    for (int32_t i = 0; i < s->n_present; i++)
        s->count[s->present[i]] = 0, s->present_at[s->present[i]] = -1;
    s->n_present = s->ring_n = s->ring_head = 0;
    rng_seed(s->rng, s->p.seed);
}

/* ---- candidate selection: "better" is a strict total order (higher logit, then lower id) ---- */

static inline bool better(struct cand a, struct cand b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

static inline void swap_cand(struct cand *a, struct cand *b) {
    struct cand t = *a;
    *a = *b, *b = t;
}

/* Heap of n with the worst candidate at the root: sift c[i] down. */
static void sift_worst(struct cand *c, int64_t n, int64_t i) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(c[w], c[l])) w = l;
        if (r < n && better(c[w], c[r])) w = r;
        if (w == i) return;
        swap_cand(&c[i], &c[w]);
        i = w;
    }
}

/* Sort c[0..n) best first (heapsort: no recursion, no allocation, O(n log n) always). */
static void sort_best(struct cand *c, int64_t n) {
    for (int64_t i = n / 2; i-- > 0;)
        sift_worst(c, n, i);
    for (int64_t end = n - 1; end > 0; end--) {
        swap_cand(&c[0], &c[end]); /* the worst of c[0..end] goes last */
        sift_worst(c, end, 0);
    }
}

/* Hoare partition of c[lo..hi] around a median of three: returns j, lo <= j < hi, with
 * c[lo..j] all better than c[j+1..hi]. */
static int64_t partition(struct cand *c, int64_t lo, int64_t hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (better(c[mid], c[lo])) swap_cand(&c[mid], &c[lo]);
    if (better(c[hi], c[lo])) swap_cand(&c[hi], &c[lo]);
    if (better(c[hi], c[mid])) swap_cand(&c[hi], &c[mid]);
    struct cand pivot = c[mid];
    int64_t i = lo - 1, j = hi + 1;
    for (;;) {
        do
            i++;
        while (better(c[i], pivot));
        do
            j--;
        while (better(pivot, c[j]));
        if (i >= j) return j;
        swap_cand(&c[i], &c[j]);
    }
}

/* ---- the chain ---- */

/* Bias and penalties change the caller's logits only at the biased ids and the ids in the
 * penalty window: those get their new value in modv and a flag (cleared after the call), so no
 * call copies the vocabulary. */
static void prepare(struct lm_sampler *s, const float *logits) {
    s->n_mods = 0;
    for (int32_t i = 0; i < s->p.n_bias; i++) {
        int32_t id = s->bias[i].token;
        if (!s->flag[id]) s->flag[id] = 1, s->modv[id] = logits[id], s->mods[s->n_mods++] = id;
        s->modv[id] += s->bias[i].bias;
    }
    const float rep = s->p.repeat_penalty, pres = s->p.presence_penalty,
                freq = s->p.frequency_penalty;
    if (rep == 1.0f && pres == 0.0f && freq == 0.0f) return;
    for (int32_t i = 0; i < s->n_present; i++) {
        int32_t id = s->present[i];
        if (!s->flag[id]) s->flag[id] = 1, s->modv[id] = logits[id], s->mods[s->n_mods++] = id;
        float v = s->modv[id];
        if (rep != 1.0f) v = v <= 0 ? v * rep : v / rep;
        s->modv[id] = v - (float)s->count[id] * freq - pres;
    }
}

static void unprepare(struct lm_sampler *s) {
    for (int32_t i = 0; i < s->n_mods; i++)
        s->flag[s->mods[i]] = 0;
}

static inline float value(const struct lm_sampler *s, const float *logits, int32_t i) {
    return s->flag[i] ? s->modv[i] : logits[i];
}

static lm_status none_left(void) {
    return lm_error(LM_ERANGE, "sampler: every token has logit -inf or NaN (all banned?)");
}

/* The largest value, ties to the lowest id: the plain logits first (a flagged id is skipped
 * only when it would win), then the changed ones. */
static int32_t greedy(const struct lm_sampler *s, const float *logits) {
    int32_t best = -1;
    float bv = -INFINITY;
    for (int32_t i = 0; i < s->n_vocab; i++)
        if (logits[i] > bv && !s->flag[i]) bv = logits[i], best = i;
    for (int32_t k = 0; k < s->n_mods; k++) {
        int32_t id = s->mods[k];
        float v = s->modv[id];
        if (v > bv || (v == bv && v > -INFINITY && id < best)) bv = v, best = id;
    }
    return best;
}

/* Candidates: every token above -inf (NaN never compares above), or with top-k only the k best
 * of them, sorted best first (*sorted true). Returns the count. */
static int64_t gather(struct lm_sampler *s, const float *logits, bool *sorted) {
    struct cand *c = s->cand;
    int64_t n = 0, k = s->p.top_k;
    int32_t i = 0;
    *sorted = false;
    if (k <= 0 || k >= s->n_vocab) {
        for (; i < s->n_vocab; i++) {
            float v = value(s, logits, i);
            if (v > -INFINITY) c[n++] = (struct cand){v, 0, i};
        }
        return n;
    }
    /* fused top-k over the caller's logits: a heap of the first k, worst at the root; a later
     * id (so a higher one) gets in only with a strictly larger value, and most lose that test
     * at once. Flagged ids are skipped here and offered with their changed values after. */
    for (; i < s->n_vocab && n < k; i++)
        if (logits[i] > -INFINITY && !s->flag[i]) c[n++] = (struct cand){logits[i], 0, i};
    if (n == k) {
        for (int64_t j = k / 2; j-- > 0;)
            sift_worst(c, k, j);
        float root = c[0].logit;
        for (; i < s->n_vocab; i++)
            if (logits[i] > root && !s->flag[i])
                c[0] = (struct cand){logits[i], 0, i}, sift_worst(c, k, 0), root = c[0].logit;
    }
    for (int32_t m = 0; m < s->n_mods; m++) {
        struct cand x = {s->modv[s->mods[m]], 0, s->mods[m]};
        if (!(x.logit > -INFINITY)) continue;
        if (n < k) {
            c[n++] = x;
            if (n == k)
                for (int64_t j = k / 2; j-- > 0;)
                    sift_worst(c, k, j);
        } else if (better(x, c[0])) {
            c[0] = x, sift_worst(c, k, 0);
        }
    }
    sort_best(c, n);
    *sorted = true;
    return n;
}

/* top-p: keep the shortest best-first prefix whose probability reaches p (at least one). With
 * the candidates unsorted, a quickselect on mass finds the cut in O(n) expected time: each step
 * partitions the undecided range, keeps the better part whole if its mass does not reach the
 * cut yet, else narrows to it; only the last few (or a range the partitions failed to shrink)
 * are sorted. c[0..result) are the kept ones. */
static int64_t top_p(struct cand *c, int64_t n, bool sorted, float mx, float p) {
    double total = 0;
    for (int64_t i = 0; i < n; i++)
        total += c[i].w = expf(c[i].logit - mx);
    double need = (double)p * total, acc = 0; /* acc: mass of c[0..lo), all kept */
    int64_t lo = 0, hi = n;                   /* the cut is in [lo, hi) */
    if (!sorted) {
        int depth = 8;
        for (int64_t m = n; m > 1; m >>= 1)
            depth += 2;
        while (hi - lo > 32 && depth-- > 0) {
            int64_t j = partition(c, lo, hi - 1);
            double m = 0;
            for (int64_t i = lo; i <= j; i++)
                m += c[i].w;
            if (acc + m >= need)
                hi = j + 1;
            else
                acc += m, lo = j + 1;
        }
        sort_best(c + lo, hi - lo);
    }
    for (int64_t i = lo; i < hi; i++)
        if ((acc += c[i].w) >= need) return i + 1;
    return hi > 0 ? hi : 1;
}

/* min-p: keep tokens whose probability is at least p times the best one's, i.e. whose logit is
 * at least max + log(p). */
static int64_t min_p(struct cand *c, int64_t n, float mx, float p) {
    double thr = (double)mx + log((double)p);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if ((double)c[i].logit >= thr) c[m++] = c[i];
    return m;
}

/* temperature and the draw: weights exp((l - max) / temp) (f32 exp, f64 sums), one uniform
 * number, the first candidate whose running sum passes it */
static int32_t draw(struct lm_sampler *s, struct cand *c, int64_t n, float mx) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += c[i].w = expf((c[i].logit - mx) / s->p.temp);
    double u = rng_uniform(s->rng) * sum, cum = 0;
    int64_t pick = -1;
    for (int64_t i = 0; i < n; i++) {
        if (c[i].w <= 0) continue;
        pick = i; /* the last one with weight, should rounding leave u past the end */
        if ((cum += c[i].w) > u) break;
    }
    return pick < 0 ? -1 : c[pick].id;
}

static int32_t sample(struct lm_sampler *s, const float *logits) {
    if (s->p.temp <= 0) return greedy(s, logits);
    bool sorted;
    int64_t n = gather(s, logits, &sorted);
    struct cand *c = s->cand;
    if (n == 0) return -1;
    float mx = c[0].logit;
    if (!sorted)
        for (int64_t i = 1; i < n; i++)
            if (c[i].logit > mx) mx = c[i].logit;
    if (mx == INFINITY) { /* the +inf tokens share the mass */
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (c[i].logit == INFINITY) c[m++] = (struct cand){0.0f, 0, c[i].id};
        n = m, mx = 0;
    }
    if (s->p.top_p < 1.0f) n = top_p(c, n, sorted, mx, s->p.top_p);
    if (s->p.min_p > 0.0f) n = min_p(c, n, mx, s->p.min_p);
    return draw(s, c, n, mx);
}

lm_status lm_sampler_sample(struct lm_sampler *s, const float *logits, int32_t *token) {
    if (!s || !logits || !token) return lm_error(LM_EINVAL, "sampler_sample: null argument");
    prepare(s, logits);
    int32_t t = sample(s, logits);
    unprepare(s);
    if (t < 0) return none_left();
    *token = t;
    lm_sampler_accept(s, t);
    return LM_OK;
}

/* ---- end of generation ---- */

/* Token texts that end a turn in the families lmrt runs and their relatives (the list llama.cpp
 * keeps, plus </s>): they count only as control or added tokens, never as ordinary vocabulary
 * that text could produce. */
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|eom_id|>",    "<|im_end|>", "<|endoftext|>", "<|end_of_text|>",
    "<|end|>",    "<end_of_turn>", "<EOT>",      "_<EOT>",        "</s>",
};

bool lm_tokenizer_is_eog(const struct lm_tokenizer *t, int32_t id) {
    if (!t || id < 0 || id >= t->n_vocab) return false;
    if (id == t->special[LM_TOK_EOS] || id == t->special[LM_TOK_EOT]) return true;
    if (t->type[id] != TOK_CONTROL && t->type[id] != TOK_USER) return false;
    for (size_t i = 0; i < sizeof eog_texts / sizeof eog_texts[0]; i++) {
        size_t len = strlen(eog_texts[i]);
        if (t->piece_len[id] == len && !memcmp(t->piece[id], eog_texts[i], len)) return true;
    }
    return false;
}
