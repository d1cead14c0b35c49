/* tools/dump_logits.c - build/dump_logits MODEL IDS.json OUT.f32 [--mode batch|decode|chunks]
 * [--threads N] [--kv f32|f16]: the logits lmrt computes at every position of some prompts,
 * for comparison scripts (tools/gen_lfm2_full.py checks the full-size LFM2 this way).
 *
 * IDS.json is a JSON array of arrays of token ids, one per prompt. Each prompt is its own
 * sequence from position 0; OUT.f32 gets (total positions, n_vocab) little-endian floats: the
 * positions of prompt 0, then of prompt 1, ... Modes: batch = all prompts in one forward (as
 * many sequences); decode = all prompts advanced together one token per forward; chunks = each
 * prompt alone in forwards of 7 tokens (sequence reuse: a cleared sequence 0 each time).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rt/lmrt.h"

#define MAX_P 64

static int die(const char *what) {
    fprintf(stderr, "dump_logits: %s: %s\n", what, lm_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: dump_logits MODEL IDS.json OUT.f32 [--mode batch|decode|chunks] "
                        "[--threads N] [--kv f32|f16]\n");
        return 2;
    }
    const char *mode = "batch";
    struct lm_session_opts o = {0};
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mode"))
            mode = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            o.n_threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--kv"))
            o.kv_dtype = strcmp(argv[i + 1], "f16") ? LM_F32 : LM_F16;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) return fprintf(stderr, "dump_logits: cannot open %s\n", argv[2]), 1;
    static char buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    cJSON *root = cJSON_Parse(buf);
    int n = cJSON_GetArraySize(root);
    if (!cJSON_IsArray(root) || n < 1 || n > MAX_P)
        return fprintf(stderr, "dump_logits: %s: not 1-%d arrays of ids\n", argv[2], MAX_P), 1;
    int32_t *ids[MAX_P], lens[MAX_P], total = 0, maxlen = 0;
    for (int p = 0; p < n; p++) {
        const cJSON *a = cJSON_GetArrayItem(root, p), *v;
        lens[p] = cJSON_GetArraySize(a);
        ids[p] = malloc((size_t)lens[p] * sizeof(int32_t));
        int k = 0;
        cJSON_ArrayForEach(v, a) ids[p][k++] = v->valueint;
        total += lens[p];
        if (lens[p] > maxlen) maxlen = lens[p];
    }
    cJSON_Delete(root);
    struct lm_model *m;
    struct lm_session *s;
    if (lm_model_load(argv[1], &m)) return die(argv[1]);
    const int32_t V = lm_model_hparams(m)->n_vocab;
    o.n_ctx = maxlen + 1, o.n_seq = n, o.n_batch = total, o.n_outputs = total;
    if (lm_session_create(m, &o, &s)) return die("session");
    float *out = malloc((size_t)total * V * sizeof *out);
    int32_t *tok = malloc((size_t)total * 4), *seq = malloc((size_t)total * 4), start[MAX_P];
    int8_t *all = malloc((size_t)total);
    memset(all, 1, (size_t)total);
    for (int p = 0, k = 0; p < n; p++) {
        start[p] = k;
        for (int i = 0; i < lens[p]; i++)
            tok[k] = ids[p][i], seq[k++] = p;
    }
    uint64_t t0 = lm_time_ns();
    if (!strcmp(mode, "batch")) {
        struct lm_batch b = {.n_tokens = total, .tokens = tok, .seq = seq, .logits = all};
        if (lm_forward(s, &b)) return die("forward");
        for (int32_t i = 0; i < total; i++)
            memcpy(out + (size_t)i * V, lm_session_logits(s, i), (size_t)V * 4);
    } else if (!strcmp(mode, "decode")) {
        for (int32_t i = 0; i < maxlen; i++) {
            int32_t t[MAX_P], sq[MAX_P], row[MAX_P], k = 0;
            for (int p = 0; p < n; p++)
                if (i < lens[p]) t[k] = ids[p][i], sq[k] = p, row[k++] = start[p] + i;
            struct lm_batch b = {.n_tokens = k, .tokens = t, .seq = sq};
            if (lm_forward(s, &b)) return die("forward");
            for (int32_t j = 0; j < k; j++)
                memcpy(out + (size_t)row[j] * V, lm_session_logits(s, j), (size_t)V * 4);
        }
    } else {
        for (int p = 0; p < n; p++) {
            if (lm_session_seq_keep(s, 0, 0)) return die("clear");
            for (int32_t i = 0; i < lens[p]; i += 7) {
                int32_t k = lens[p] - i < 7 ? lens[p] - i : 7;
                struct lm_batch b = {.n_tokens = k, .tokens = ids[p] + i, .logits = all};
                if (lm_forward(s, &b)) return die("forward");
                for (int32_t j = 0; j < k; j++)
                    memcpy(out + (size_t)(start[p] + i + j) * V, lm_session_logits(s, j),
                           (size_t)V * 4);
            }
        }
    }
    fprintf(stderr, "dump_logits: %d prompts, %d positions, mode %s, %.2f s\n", n, total, mode,
            (lm_time_ns() - t0) * 1e-9);
    f = fopen(argv[3], "wb");
    if (!f || fwrite(out, sizeof *out, (size_t)total * V, f) != (size_t)total * V || fclose(f))
        return fprintf(stderr, "dump_logits: cannot write %s\n", argv[3]), 1;
    for (int p = 0; p < n; p++)
        free(ids[p]);
    free(out), free(tok), free(seq), free(all);
    lm_session_free(s);
    lm_model_free(m);
    return 0;
}
