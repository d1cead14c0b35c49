/* tests/fuzz/fuzz_config.c - libFuzzer target for the config.json reader (models/hparams.c,
 * lm_hparams_from_config).
 *
 * Parses the input as the text of a Hugging Face config.json. A rejection is fine (it must
 * leave a message); an accepted one must describe a model lmrt could size buffers for: every
 * count inside its bound, KV heads dividing the heads, RoPE dims even and within a head, an
 * attention-free layer only in lfm2. Crashes, sanitizer reports, leaks and broken invariants
 * are bugs. Built by `ninja fuzz` (clang) and replayed over tests/fuzz/corpus/config in
 * `ninja test`.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rt/lmrt.h"

static void check(const struct lm_hparams *hp) {
    if ((unsigned)hp->arch >= LM_ARCH_COUNT || !strcmp(lm_arch_name(hp->arch), "?")) abort();
    if (hp->n_vocab < 1 || hp->n_ctx_train < 1 || hp->n_embd < 1 || hp->n_ff < 1) abort();
    if (hp->n_layer < 1 || hp->n_layer > LM_MAX_LAYERS || hp->n_head < 1) abort();
    if (hp->head_dim < 1 || hp->n_rot < 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2) abort();
    if (hp->n_head_kv < 0 || hp->n_head_kv > hp->n_head) abort();
    int32_t max_kv = 0;
    for (int32_t il = 0; il < hp->n_layer; il++) {
        int32_t kv = hp->n_head_kv_layer[il];
        if (kv < 0 || kv > hp->n_head || (kv && hp->n_head % kv)) abort();
        if (kv == 0 && hp->arch != LM_ARCH_LFM2) abort();
        if (kv > max_kv) max_kv = kv;
    }
    if (max_kv != hp->n_head_kv) abort();
    if (!(hp->rope_base > 0) || !isfinite(hp->rope_base) || !(hp->rope_factor > 0)) abort();
    if (!(hp->norm_eps > 0 && hp->norm_eps < 1)) abort();
    if (hp->sliding_window < 0 || (unsigned)hp->pooling > LM_POOLING_LAST) abort();
    if (hp->arch == LM_ARCH_LFM2 && (hp->conv_l_cache < 1 || hp->conv_l_cache > 64)) abort();
    if (!strcmp(lm_pooling_name(hp->pooling), "?")) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so a read one byte past the input is an ASan report */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct lm_hparams hp;
    lm_clear_error();
    if (lm_hparams_from_config(copy, size, &hp) == LM_OK)
        check(&hp);
    else if (!*lm_last_error())
        abort(); /* every rejection says why */
    free(copy);
    return 0;
}
