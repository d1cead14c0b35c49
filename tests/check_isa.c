/* tests/check_isa.c - the kernel levels (simd/dispatch.c): names, LMRT_ISA, which levels a
 * build offers, and that each level's table is the level below it plus kernels of its own.
 *
 * It runs natively (the levels this CPU has) and in build/tests/emu (every level, through SIMDe
 * and the AMX emulator) and under qemu-aarch64 (neon, and neon+dotprod where the CPU has it).
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdlib.h>
#include <string.h>

#include "../simd/kernels.h"
#include "testutil.h"

/* The level each one is built over (dispatch.c's fill_level). */
static enum lm_isa below(enum lm_isa isa) {
    switch (isa) {
    case LM_ISA_AVX512: return LM_ISA_AVX2;
    case LM_ISA_AVX512_VNNI: return LM_ISA_AVX512;
    case LM_ISA_AMX: return LM_ISA_AVX512_VNNI;
    case LM_ISA_NEON_DOTPROD: return LM_ISA_NEON;
    default: return LM_ISA_REF;
    }
}

START_TEST(names_round_trip) {
    for (int i = 0; i < LM_ISA_COUNT; i++) {
        enum lm_isa got = LM_ISA_COUNT;
        ck_assert_int_eq(lm_isa_parse(lm_isa_name((enum lm_isa)i), &got), LM_OK);
        ck_assert_int_eq(got, i);
    }
    static const char *want[] = {"ref",        "avx2", "avx512",      "avx512+vnni",
                                 "avx512+amx", "neon", "neon+dotprod"};
    for (int i = 0; i < LM_ISA_COUNT; i++)
        ck_assert_str_eq(lm_isa_name((enum lm_isa)i), want[i]);
    enum lm_isa got;
    ck_assert_int_eq(lm_isa_parse("avx1024", &got), LM_EINVAL);
    ck_assert_msg(strstr(lm_last_error(), "avx1024") != NULL, "%s", lm_last_error());
    ck_assert_int_eq(lm_isa_parse("AVX2", &got), LM_EINVAL); /* names are exact */
    ck_assert_str_eq(lm_isa_name(LM_ISA_COUNT), "invalid");
}
END_TEST

/* A level is only available over an available level below it, and the reference always is. */
START_TEST(levels_form_chains) {
    ck_assert(lm_isa_available(LM_ISA_REF));
    for (int i = 1; i < LM_ISA_COUNT; i++)
        if (lm_isa_available((enum lm_isa)i))
            ck_assert_msg(lm_isa_available(below((enum lm_isa)i)), "%s without %s",
                          lm_isa_name((enum lm_isa)i), lm_isa_name(below((enum lm_isa)i)));
    for (int i = 0; i < LM_ISA_COUNT; i++) {
        const struct lm_kernels *k = lm_kernels_get((enum lm_isa)i);
        ck_assert_msg((k != NULL) == lm_isa_available((enum lm_isa)i), "%s",
                      lm_isa_name((enum lm_isa)i));
        if (k) ck_assert_int_eq(k->isa, i);
    }
}
END_TEST

/* LMRT_ISA: each available level can be forced, an unavailable one is an error naming it, an
 * unknown name is an error; unset picks the highest available level. */
START_TEST(lmrt_isa_forces) {
    enum lm_isa got;
    for (int i = 0; i < LM_ISA_COUNT; i++) {
        setenv("LMRT_ISA", lm_isa_name((enum lm_isa)i), 1);
        lm_status s = lm_isa_select(&got);
        if (lm_isa_available((enum lm_isa)i)) {
            ck_assert_int_eq(s, LM_OK);
            ck_assert_int_eq(got, i);
        } else {
            ck_assert_int_eq(s, LM_EUNSUPPORTED);
            ck_assert_msg(strstr(lm_last_error(), lm_isa_name((enum lm_isa)i)) != NULL, "%s",
                          lm_last_error());
        }
    }
    setenv("LMRT_ISA", "sse9", 1);
    ck_assert_int_eq(lm_isa_select(&got), LM_EINVAL);
    unsetenv("LMRT_ISA");
    ck_assert_int_eq(lm_isa_select(&got), LM_OK);
    for (int i = got + 1; i < LM_ISA_COUNT; i++)
        ck_assert_msg(!lm_isa_available((enum lm_isa)i), "picked %s over available %s",
                      lm_isa_name(got), lm_isa_name((enum lm_isa)i));
}
END_TEST

/* Number of kernel slots where two tables hold different functions. */
static int slots_differ(const struct lm_kernels *a, const struct lm_kernels *b) {
    int n = 0;
    for (int t = 0; t < LM_DTYPE_COUNT; t++) {
        n += a->to_f32[t] != b->to_f32[t];
        n += a->from_f32[t] != b->from_f32[t];
        n += a->mm[t].prep != b->mm[t].prep;
        n += a->mm[t].tile != b->mm[t].tile;
    }
    n += a->rmsnorm != b->rmsnorm;
    n += a->layernorm != b->layernorm;
    n += a->l2norm != b->l2norm;
    n += a->softmax != b->softmax;
    n += a->rope != b->rope;
    n += a->attn != b->attn;
    n += a->silu != b->silu;
    n += a->gelu_erf != b->gelu_erf;
    n += a->gelu_tanh != b->gelu_tanh;
    n += a->swiglu != b->swiglu;
    n += a->add != b->add;
    n += a->mul != b->mul;
    n += a->scale != b->scale;
    n += a->conv1d != b->conv1d;
    return n;
}

/* Every level beyond the reference installs kernels of its own: its table differs from the one
 * below it. (A level whose fill installed nothing would pass every kernel suite vacuously.) */
START_TEST(levels_have_own_kernels) {
    for (int i = 1; i < LM_ISA_COUNT; i++) {
        const struct lm_kernels *k = lm_kernels_get((enum lm_isa)i);
        if (!k) continue;
        const struct lm_kernels *b = lm_kernels_get(below((enum lm_isa)i));
        ck_assert_msg(slots_differ(k, b) > 0, "%s has no kernels of its own over %s",
                      lm_isa_name((enum lm_isa)i), lm_isa_name(below((enum lm_isa)i)));
    }
}
END_TEST

static Suite *isa_suite(void) {
    Suite *s = suite_create("isa");
    TCase *tc = tcase_create("levels");
    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, levels_form_chains);
    tcase_add_test(tc, lmrt_isa_forces);
    tcase_add_test(tc, levels_have_own_kernels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(isa_suite()); }
