/* models/embed.c - lm_embed: texts in, pooled embeddings out, for encoder (bert) sessions.
 *
 * Each text is tokenized with the model's specials ([CLS] ... [SEP]); a text longer than the
 * session's n_ctx (the model's position limit unless set lower) is cut to its first n_ctx - 1
 * tokens plus the final [SEP], as sentence-transformers truncates, or is LM_ERANGE when the
 * session was made with no_truncate. Texts are packed into as few forwards as n_batch and
 * n_seq allow, in order; results do not depend on how they were packed.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

lm_status lm_embed(struct lm_session *s, const char *const *texts, int64_t n, float *out) {
    if (!s || (n > 0 && (!texts || !out))) return lm_error(LM_EINVAL, "embed: NULL argument");
    const struct lm_model *m = s->m;
    if (m->hp.arch != LM_ARCH_BERT)
        return lm_error(LM_EUNSUPPORTED,
                        "embed: %s is a %s model; embeddings need an encoder "
                        "(bert)",
                        m->name, lm_arch_name(m->hp.arch));
    const int32_t limit = s->o.n_ctx < s->o.n_batch ? s->o.n_ctx : s->o.n_batch;
    const int64_t d = m->hp.n_embd;
    const int32_t sep = lm_tokenizer_special(m->tok, LM_TOK_SEP);
    struct lm_tokens all = {0};
    int32_t *len = malloc((size_t)(n > 0 ? n : 1) * sizeof *len);
    int32_t *seq = malloc((size_t)s->o.n_batch * sizeof *seq);
    lm_status st = len && seq ? LM_OK : lm_error(LM_ENOMEM, "embed: out of memory");
    /* Tokenize everything first: a bad text fails the call before any forward runs. */
    for (int64_t i = 0; !st && i < n; i++) {
        if (!texts[i]) {
            st = lm_error(LM_EINVAL, "embed: text %lld is NULL", (long long)i);
            break;
        }
        int64_t start = all.n;
        st = lm_tokenize(m->tok, texts[i], strlen(texts[i]), LM_TOK_ADD_SPECIAL, &all);
        if (st) break;
        int64_t k = all.n - start;
        if (k > limit) {
            if (s->o.no_truncate) {
                st = lm_error(LM_ERANGE, "embed: text %lld has %lld tokens; the limit is %d",
                              (long long)i, (long long)k, limit);
                break;
            }
            int32_t last = all.ids[all.n - 1];
            all.n = start + limit;
            if (last == sep) all.ids[all.n - 1] = sep;
            k = limit;
        }
        if (k == 0) { /* a tokenizer without specials gives nothing for "" */
            st = lm_error(LM_EINVAL, "embed: text %lld has no tokens", (long long)i);
            break;
        }
        len[i] = (int32_t)k;
    }
    /* Pack consecutive texts into forwards. */
    int64_t i = 0, off = 0;
    while (!st && i < n) {
        int32_t nt = 0, ns = 0;
        int64_t j = i;
        while (j < n && ns < s->o.n_seq && nt + len[j] <= s->o.n_batch) {
            for (int32_t t = 0; t < len[j]; t++)
                seq[nt + t] = ns;
            nt += len[j++];
            ns++;
        }
        struct lm_batch b = {.n_tokens = nt, .tokens = all.ids + off, .seq = seq};
        if ((st = lm_forward(s, &b))) break;
        for (int32_t k = 0; k < ns; k++)
            memcpy(out + (size_t)(i + k) * d, lm_session_embedding(s, k), (size_t)d * sizeof *out);
        off += nt;
        i = j;
    }
    free(len);
    free(seq);
    lm_tokens_free(&all);
    return st;
}
