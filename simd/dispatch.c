/* simd/dispatch.c - which kernel levels this build and CPU have, and their tables.
 *
 * Each level's table is the table of the level below it on the same architecture with the
 * level's own kernels written over it (ref <- avx2 <- avx512 <- avx512+vnni <- avx512+amx;
 * ref <- neon <- neon+dotprod), filled once (pthread_once) the first time it is asked for. A
 * level is available when the build compiled it and the CPU runs it: cpuinfo says so for the
 * vector extensions; AMX, which this cpuinfo does not know, is read from CPUID and needs the
 * kernel's permission to use tile data (arch_prctl), asked once. LMRT_ISA forces a level;
 * naming one that is unavailable is an error, never a silent fallback.
 *
 * LMRT_EMU is the test build (build/emu/, tests/emu/): there the AVX-512 and NEON kernel
 * files were compiled against SIMDe and the AMX files against tests/emu/amx_emu.h, so every
 * level runs on any x86 CPU with AVX2 (the flags SIMDe's translations are built with).
 */
#define _GNU_SOURCE /* syscall */
#include <cpuinfo.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(LMRT_HAVE_AMX) && !defined(LMRT_EMU)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include "kernels.h"

static const char *isa_names[LM_ISA_COUNT] = {"ref",        "avx2", "avx512",      "avx512+vnni",
                                              "avx512+amx", "neon", "neon+dotprod"};

const char *lm_isa_name(enum lm_isa isa) {
    return (unsigned)isa < LM_ISA_COUNT ? isa_names[isa] : "invalid";
}

lm_status lm_isa_parse(const char *name, enum lm_isa *out) {
    for (int i = 0; i < LM_ISA_COUNT; i++)
        if (strcmp(name, isa_names[i]) == 0) {
            *out = (enum lm_isa)i;
            return LM_OK;
        }
    return lm_error(LM_EINVAL,
                    "unknown ISA level '%s' (ref, avx2, avx512, avx512+vnni, avx512+amx, neon, "
                    "neon+dotprod)",
                    name);
}

/* ---- what the CPU has ------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)
static bool cpu_avx2(void) {
    return cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() &&
           cpuinfo_has_x86_f16c();
}
#endif

#if defined(__x86_64__) && defined(LMRT_HAVE_AVX512)
static bool cpu_avx512(void) {
#ifdef LMRT_EMU
    return cpu_avx2();
#else
    return cpu_avx2() && cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
           cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512dq();
#endif
}

static bool cpu_avx512_vnni(void) {
#ifdef LMRT_EMU
    return cpu_avx512();
#else
    return cpu_avx512() && cpuinfo_has_x86_avx512vnni();
#endif
}

static bool cpu_avx512_bf16(void) {
#ifdef LMRT_EMU
    return cpu_avx512();
#else
    return cpu_avx512() && cpuinfo_has_x86_avx512bf16();
#endif
}
#endif

#if defined(__x86_64__) && defined(LMRT_HAVE_AMX)
#ifdef LMRT_EMU
static bool cpu_amx(void) { return cpu_avx512_vnni(); }
#else
/* CPUID.(7,0):EDX bit 22 AMX-BF16, 24 AMX-TILE, 25 AMX-INT8; XCR0 bits 17-18 say the OS
 * saves tile state; Linux then hands out tile data only to a process that asked for it. */
enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
static bool amx_ok;
static void amx_probe(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    const unsigned need = 1u << 22 | 1u << 24 | 1u << 25;
    if ((d & need) != need) return;
    if (!(c & 1u << 27)) return; /* OSXSAVE: xgetbv is allowed */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & (3u << 17)) != (3u << 17)) {
        lm_log(LM_LOG_DEBUG, "AMX: the OS does not enable tile state (XCR0 = %#x)", lo);
        return;
    }
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
        lm_log(LM_LOG_DEBUG, "AMX: the kernel refused tile data (arch_prctl); using AVX-512");
        return;
    }
    amx_ok = true;
}
static bool cpu_amx(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!cpu_avx512_vnni()) return false;
    pthread_once(&once, amx_probe);
    return amx_ok;
}
#endif
#endif

#if defined(LMRT_HAVE_NEON)
#if defined(LMRT_EMU)
static bool cpu_neon(void) { return true; }
static bool cpu_neon_dotprod(void) { return true; }
#elif defined(__aarch64__)
/* Advanced SIMD is part of ARMv8-A. cpuinfo reads /proc/cpuinfo, which qemu-user shows as the
 * host's: when it cannot make sense of it, the auxiliary vector still says what we have. */
static bool cpu_neon(void) { return true; }
static bool cpu_neon_dotprod(void) {
    if (cpuinfo_initialize()) return cpuinfo_has_arm_neon_dot();
#ifdef __linux__
    return (getauxval(AT_HWCAP) & (1ul << 20)) != 0; /* HWCAP_ASIMDDP */
#else
    return false;
#endif
}
#endif
#endif

bool lm_isa_available(enum lm_isa isa) {
    switch (isa) {
    case LM_ISA_REF: return true;
#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)
    case LM_ISA_AVX2: return cpu_avx2();
#endif
#if defined(__x86_64__) && defined(LMRT_HAVE_AVX512)
    case LM_ISA_AVX512: return cpu_avx512();
    case LM_ISA_AVX512_VNNI: return cpu_avx512_vnni();
#endif
#if defined(__x86_64__) && defined(LMRT_HAVE_AMX)
    case LM_ISA_AMX: return cpu_amx();
#endif
#if defined(LMRT_HAVE_NEON)
    case LM_ISA_NEON: return cpu_neon();
    case LM_ISA_NEON_DOTPROD: return cpu_neon_dotprod();
#endif
    default: return false;
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
    /* the best level: on one architecture a higher enum is a superset of the lower ones */
    *out = LM_ISA_REF;
    for (int i = LM_ISA_COUNT - 1; i > 0; i--)
        if (lm_isa_available((enum lm_isa)i)) {
            *out = (enum lm_isa)i;
            break;
        }
    return LM_OK;
}

/* ---- the tables -------------------------------------------------------------------------- */

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

/* The table of isa: the level below it, then isa's own kernels. Called only for available
 * levels, whose lower levels are then available too. */
static void fill_level(enum lm_isa isa, struct lm_kernels *k) {
    switch (isa) {
#if defined(__x86_64__) && defined(LMRT_HAVE_AVX2)
    case LM_ISA_AVX2:
        lm_kernels_fill_ref(k);
        lm_kernels_fill_avx2(k);
        break;
#endif
#if defined(__x86_64__) && defined(LMRT_HAVE_AVX512)
    case LM_ISA_AVX512:
        fill_level(LM_ISA_AVX2, k);
        lm_kernels_fill_avx512(k);
        if (cpu_avx512_bf16()) lm_kernels_fill_avx512_bf16(k);
        break;
    case LM_ISA_AVX512_VNNI:
        fill_level(LM_ISA_AVX512, k);
        lm_kernels_fill_avx512_vnni(k);
        break;
#endif
#if defined(__x86_64__) && defined(LMRT_HAVE_AMX)
    case LM_ISA_AMX:
        fill_level(LM_ISA_AVX512_VNNI, k);
        lm_kernels_fill_amx(k);
        break;
#endif
#if defined(LMRT_HAVE_NEON)
    case LM_ISA_NEON:
        lm_kernels_fill_ref(k);
        lm_kernels_fill_neon(k);
        break;
    case LM_ISA_NEON_DOTPROD:
        fill_level(LM_ISA_NEON, k);
        lm_kernels_fill_neon_dotprod(k);
        break;
#endif
    default: lm_kernels_fill_ref(k); break;
    }
    k->isa = isa;
}

static struct lm_kernels tables[LM_ISA_COUNT];
static pthread_once_t once[LM_ISA_COUNT] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
                                            PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
                                            PTHREAD_ONCE_INIT};
_Static_assert(LM_ISA_COUNT == 7, "one pthread_once per level");

#define FILL_ONCE(ISA)                                                                             \
    static void fill_##ISA(void) { fill_level(ISA, &tables[ISA]); }
FILL_ONCE(LM_ISA_REF)
FILL_ONCE(LM_ISA_AVX2)
FILL_ONCE(LM_ISA_AVX512)
FILL_ONCE(LM_ISA_AVX512_VNNI)
FILL_ONCE(LM_ISA_AMX)
FILL_ONCE(LM_ISA_NEON)
FILL_ONCE(LM_ISA_NEON_DOTPROD)
static void (*const fillers[LM_ISA_COUNT])(void) = {
    fill_LM_ISA_REF, fill_LM_ISA_AVX2, fill_LM_ISA_AVX512,       fill_LM_ISA_AVX512_VNNI,
    fill_LM_ISA_AMX, fill_LM_ISA_NEON, fill_LM_ISA_NEON_DOTPROD,
};

const struct lm_kernels *lm_kernels_get(enum lm_isa isa) {
    if (!lm_isa_available(isa)) return NULL;
    pthread_once(&once[isa], fillers[isa]);
    return &tables[isa];
}
