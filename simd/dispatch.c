/* simd/dispatch.c - which kernel levels this build and CPU have, and their tables.
 *
 * Each level's table is the reference table with the level's own kernels written over it,
 * filled once (pthread_once) the first time it is asked for. A level is available when the
 * build compiled it and cpuinfo says the CPU runs it. LMRT_ISA forces a level; naming one that
 * is unavailable is an error, never a silent fallback.
 */
#include <cpuinfo.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static const char *isa_names[LM_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

const char *lm_isa_name(enum lm_isa isa) {
    return (unsigned)isa < LM_ISA_COUNT ? isa_names[isa] : "invalid";
}

lm_status lm_isa_parse(const char *name, enum lm_isa *out) {
    for (int i = 0; i < LM_ISA_COUNT; i++)
        if (strcmp(name, isa_names[i]) == 0) {
            *out = (enum lm_isa)i;
            return LM_OK;
        }
    return lm_error(LM_EINVAL, "unknown ISA level '%s' (ref, avx2, avx512, neon)", name);
}

bool lm_isa_available(enum lm_isa isa) {
    switch (isa) {
    case LM_ISA_REF: return true;
    case LM_ISA_AVX2:
#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)
        return cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() &&
               cpuinfo_has_x86_f16c();
#else
        return false;
#endif
    default: return false; /* AVX-512 and NEON kernels come with their own issue */
    }
}

lm_status lm_isa_select(enum lm_isa *out) {
    const char *env = getenv("LMRT_ISA");
    if (env && *env) {
        enum lm_isa isa = LM_ISA_REF;
        lm_status s = lm_isa_parse(env, &isa);
        if (s) return lm_error(s, "LMRT_ISA: %s", lm_last_error());
        if (!lm_isa_available(isa))
            return lm_error(LM_EUNSUPPORTED, "LMRT_ISA=%s: this build or CPU has no %s kernels",
                            env, env);
        *out = isa;
        return LM_OK;
    }
    *out = LM_ISA_REF;
    for (int i = LM_ISA_COUNT - 1; i > 0; i--)
        if (lm_isa_available((enum lm_isa)i)) {
            *out = (enum lm_isa)i;
            break;
        }
    return LM_OK;
}

void lm_kernels_fill_ref(struct lm_kernels *k) {
    memset(k, 0, sizeof *k);
    k->isa = LM_ISA_REF;
    lm_quant_fill_ref(k);
    lm_mm_fill_ref(k);
    k->rmsnorm = lm_rmsnorm_ref;
    k->layernorm = lm_layernorm_ref;
    k->l2norm = lm_l2norm_ref;
    k->softmax = lm_softmax_ref;
    k->rope = lm_rope_ref;
    k->attn = lm_attn_ref;
    k->attn_scratch_floats = lm_attn_scratch_floats_ref;
    k->silu = lm_silu_ref;
    k->gelu_erf = lm_gelu_erf_ref;
    k->gelu_tanh = lm_gelu_tanh_ref;
    k->swiglu = lm_swiglu_ref;
    k->add = lm_add_ref;
    k->mul = lm_mul_ref;
    k->scale = lm_scale_ref;
    k->conv1d = lm_conv1d_ref;
}

static struct lm_kernels tables[LM_ISA_COUNT];
static pthread_once_t once[LM_ISA_COUNT] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
                                            PTHREAD_ONCE_INIT};

static void fill_ref(void) { lm_kernels_fill_ref(&tables[LM_ISA_REF]); }

#ifdef LMRT_HAVE_AVX2
static void fill_avx2(void) {
    lm_kernels_fill_ref(&tables[LM_ISA_AVX2]);
    lm_kernels_fill_avx2(&tables[LM_ISA_AVX2]);
    tables[LM_ISA_AVX2].isa = LM_ISA_AVX2;
}
#endif

const struct lm_kernels *lm_kernels_get(enum lm_isa isa) {
    if (!lm_isa_available(isa)) return NULL;
    switch (isa) {
    case LM_ISA_REF: pthread_once(&once[isa], fill_ref); break;
#ifdef LMRT_HAVE_AVX2
    case LM_ISA_AVX2: pthread_once(&once[isa], fill_avx2); break;
#endif
    default: return NULL;
    }
    return &tables[isa];
}
