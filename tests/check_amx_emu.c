/* tests/check_amx_emu.c - the AMX model in tests/emu/amx_emu.h against scalar definitions, and,
 * on a CPU with AMX, against the real instructions.
 *
 * Scalar definitions, written here as plain matrix arithmetic on the logical matrices rather
 * than on tile rows: C (m x n) += A (m x 4k) B (4k x n) with B's element (4p + i, j) at byte
 * 4j + i of tile row p (TDPB**D, 32-bit wrap-around, each operand signed or not), and for
 * TDPBF16PS the SDM's order: per output an even and an odd f32 chain over the pairs, each
 * step one FMA with denormal inputs as zero and denormal results flushed, then
 * C + (even + odd). Cases: random tiles for every dot product with full and partial shapes
 * (rows < 16, colsb < 64), tile loads and stores with strides other than the row size (and
 * what they must leave alone: the bytes between rows, the zeroed rest of each tile row), the
 * configuration round trip and release, exactly representable bf16 data (any order must give
 * the exact sum), and hand-made bf16 cases where the order, DAZ and FTZ decide the result.
 * Invalid configurations and shapes must abort (what the instruction would fault on).
 *
 * Real tiles: when this binary runs on a CPU with AMX (lm_isa_available(LM_ISA_AMX) in the
 * native library; the emulated library, which on x86 is the one that also has NEON, says
 * AMX whatever the CPU, so that case is skipped there), the same random tiles and hand-made
 * cases go through the real instructions (functions compiled with target("amx-tile,amx-int8,
 * amx-bf16")) and the model must give identical bytes.
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "emu/amx_emu.h"
#include "testutil.h"

struct cfg {
    uint8_t palette, start_row, res0[14];
    uint16_t colsb[8];
    uint8_t res1[16], rows[8], res2[8];
};

/* A dot product of the shapes C (M x N dwords), A (M x Kd dwords), B (Kd x N dwords) on tiles
 * 0 (C), 1 (A), 2 (B); buffers are 16 x 64 bytes, row stride 64. */
static struct cfg dp_cfg(int M, int N, int Kd) {
    struct cfg c = {.palette = 1};
    c.rows[0] = (uint8_t)M, c.colsb[0] = (uint16_t)(4 * N);
    c.rows[1] = (uint8_t)M, c.colsb[1] = (uint16_t)(4 * Kd);
    c.rows[2] = (uint8_t)Kd, c.colsb[2] = (uint16_t)(4 * N);
    return c;
}

enum op { DPBSSD, DPBSUD, DPBUSD, DPBUUD, DPBF16PS };

static void emu_dp(const struct cfg *c, enum op op, uint8_t C[16][64], const uint8_t A[16][64],
                   const uint8_t B[16][64]) {
    amxe_loadconfig(c);
    amxe_loadd(0, C, 64), amxe_loadd(1, A, 64), amxe_loadd(2, B, 64);
    switch (op) {
    case DPBSSD: amxe_dpb("tdpbssd", 0, 1, 2, 1, 1); break;
    case DPBSUD: amxe_dpb("tdpbsud", 0, 1, 2, 1, 0); break;
    case DPBUSD: amxe_dpb("tdpbusd", 0, 1, 2, 0, 1); break;
    case DPBUUD: amxe_dpb("tdpbuud", 0, 1, 2, 0, 0); break;
    case DPBF16PS: amxe_dpbf16ps(0, 1, 2); break;
    }
    memset(C, 0x5a, 16 * 64); /* what the store does not write must stay */
    amxe_stored(0, C, 64);
    amxe_release();
}

/* ---- scalar definitions ------------------------------------------------------------------ */

static void ref_dpb(int M, int N, int Kd, enum op op, uint8_t C[16][64], const uint8_t A[16][64],
                    const uint8_t B[16][64]) {
    int sa = op == DPBSSD || op == DPBSUD, sb = op == DPBSSD || op == DPBUSD;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            uint32_t c;
            memcpy(&c, &C[m][4 * n], 4);
            for (int kk = 0; kk < 4 * Kd; kk++) { /* logical A[m][kk] * B[kk][n] */
                int a = sa ? (int8_t)A[m][kk] : A[m][kk];
                int b = sb ? (int8_t)B[kk / 4][4 * n + kk % 4] : B[kk / 4][4 * n + kk % 4];
                c += (uint32_t)(a * b);
            }
            memcpy(&C[m][4 * n], &c, 4);
        }
}

static float bf(const uint8_t *p) {
    uint32_t u = (uint32_t)(p[0] | p[1] << 8) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static float daz(float v) { return fabsf(v) < 0x1p-126f ? copysignf(0.0f, v) : v; }
/* one rounding of an exact value given in double (exact for these operands), then FTZ with
 * tininess after rounding: |value| rounded to 24 bits with an unbounded exponent < 2^-126 */
static float round_ftz(double e) {
    float r = (float)e;
    if (fabs(e) < 0x1p-126 - 0x1p-151 || r == 0) return copysignf(0.0f, (float)e);
    return r;
}

static void ref_bf16(int M, int N, int Kd, uint8_t C[16][64], const uint8_t A[16][64],
                     const uint8_t B[16][64]) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float ch[2] = {0, 0}, c;
            for (int p = 0; p < Kd; p++)
                for (int h = 0; h < 2; h++) { /* logical A[m][2p + h] * B[2p + h][n] */
                    double a = daz(bf(&A[m][4 * p + 2 * h])), b = daz(bf(&B[p][4 * n + 2 * h]));
                    ch[h] = round_ftz(a * b + daz(ch[h]));
                }
            memcpy(&c, &C[m][4 * n], 4);
            float s = round_ftz((double)daz(ch[0]) + daz(ch[1]));
            c = round_ftz((double)daz(c) + daz(s));
            memcpy(&C[m][4 * n], &c, 4);
        }
}

/* What a dot product writes: the rows and colsb of C, the rest of the 16 x 64 store buffer
 * untouched (0x5a). */
static void ref_dp(int M, int N, int Kd, enum op op, uint8_t C[16][64], const uint8_t A[16][64],
                   const uint8_t B[16][64]) {
    uint8_t c[16][64];
    memcpy(c, C, sizeof c);
    /* the tile holds only what was loaded: bytes past colsb and rows past rows are zero */
    for (int m = 0; m < 16; m++)
        for (int j = 0; j < 64; j++)
            if (m >= M || j >= 4 * N) c[m][j] = 0;
    uint8_t a[16][64] = {{0}}, b[16][64] = {{0}};
    for (int m = 0; m < M; m++)
        memcpy(a[m], A[m], (size_t)(4 * Kd));
    for (int p = 0; p < Kd; p++)
        memcpy(b[p], B[p], (size_t)(4 * N));
    if (op == DPBF16PS)
        ref_bf16(M, N, Kd, c, a, b);
    else
        ref_dpb(M, N, Kd, op, c, a, b);
    memset(C, 0x5a, 16 * 64);
    for (int m = 0; m < M; m++)
        memcpy(C[m], c[m], (size_t)(4 * N));
}

/* ---- real tiles -------------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#define REAL_AMX 1
__attribute__((target("amx-tile,amx-int8,amx-bf16"), noinline)) static void
real_dp(const struct cfg *c, enum op op, uint8_t C[16][64], const uint8_t A[16][64],
        const uint8_t B[16][64]) {
    _tile_loadconfig(c);
    _tile_loadd(0, C, 64);
    _tile_loadd(1, A, 64);
    _tile_loadd(2, B, 64);
    switch (op) {
    case DPBSSD: _tile_dpbssd(0, 1, 2); break;
    case DPBSUD: _tile_dpbsud(0, 1, 2); break;
    case DPBUSD: _tile_dpbusd(0, 1, 2); break;
    case DPBUUD: _tile_dpbuud(0, 1, 2); break;
    case DPBF16PS: _tile_dpbf16ps(0, 1, 2); break;
    }
    memset(C, 0x5a, 16 * 64);
    _tile_stored(0, C, 64);
    _tile_release();
}

/* tile 3 loaded with a stride and stored with another */
__attribute__((target("amx-tile"), noinline)) static void
real_copy(const struct cfg *c, const uint8_t *src, long ls, uint8_t *dst, long ld) {
    _tile_loadconfig(c);
    _tile_stream_loadd(3, src, ls);
    _tile_stored(3, dst, ld);
    _tile_release();
}
#else
#define REAL_AMX 0
#endif

static bool have_real_amx(void) {
    return REAL_AMX && lm_isa_available(LM_ISA_AMX) && !lm_isa_available(LM_ISA_NEON);
}

/* ---- random tiles ------------------------------------------------------------------------ */

static void fill_bytes(uint8_t *p, size_t n, struct tu_rng *r) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)tu_next(r);
}

/* random bf16 pairs: random sign, exponent around 1 (kind 0), tiny and denormal mixed in (1),
 * or small integers, exact in any order (2) */
static void fill_bf16(uint8_t *p, size_t n, struct tu_rng *r, int kind) {
    for (size_t i = 0; i < n; i += 2) {
        uint64_t v = tu_next(r);
        uint16_t h;
        if (kind == 2) {
            float f = (float)((int)(v % 33) - 16);
            uint32_t u;
            memcpy(&u, &f, 4);
            h = (uint16_t)(u >> 16);
        } else {
            uint32_t ex =
                kind == 1 && v % 4 == 0 ? (uint32_t)(v >> 8) % 4 : 120 + (uint32_t)(v >> 8) % 15;
            h = (uint16_t)((v >> 20 & 1) << 15 | ex << 7 | (v >> 24 & 0x7f));
        }
        memcpy(p + i, &h, 2);
    }
}

static const char *op_name[] = {"tdpbssd", "tdpbsud", "tdpbusd", "tdpbuud", "tdpbf16ps"};

static void check_dp_case(int M, int N, int Kd, enum op op, int kind, struct tu_rng *r) {
    uint8_t A[16][64], B[16][64], C0[16][64], want[16][64], got[16][64];
    if (op == DPBF16PS) {
        fill_bf16(&A[0][0], sizeof A, r, kind), fill_bf16(&B[0][0], sizeof B, r, kind);
        for (int m = 0; m < 16; m++)
            for (int n = 0; n < 16; n++) {
                float f = kind == 2 ? (float)((int)(tu_next(r) % 64) - 32) : tu_uniform(r, -8, 8);
                memcpy(&C0[m][4 * n], &f, 4);
            }
    } else {
        fill_bytes(&A[0][0], sizeof A, r), fill_bytes(&B[0][0], sizeof B, r);
        fill_bytes(&C0[0][0], sizeof C0, r);
    }
    struct cfg c = dp_cfg(M, N, Kd);
    memcpy(want, C0, sizeof want);
    ref_dp(M, N, Kd, op, want, A, B);
    memcpy(got, C0, sizeof got);
    emu_dp(&c, op, got, A, B);
    ck_assert_msg(memcmp(got, want, sizeof got) == 0, "%s M %d N %d K %d kind %d: model != scalar",
                  op_name[op], M, N, Kd, kind);
    if (have_real_amx()) {
        memcpy(got, C0, sizeof got);
        real_dp(&c, op, got, A, B);
        ck_assert_msg(memcmp(got, want, sizeof got) == 0,
                      "%s M %d N %d K %d kind %d: real AMX != model", op_name[op], M, N, Kd, kind);
    }
}

START_TEST(dp_random) {
    struct tu_rng r = tu_rng(1);
    static const int shapes[][3] = {{16, 16, 16}, {16, 16, 8}, {1, 1, 1},   {5, 3, 7},
                                    {16, 7, 16},  {9, 16, 2},  {12, 13, 11}};
    for (int op = DPBSSD; op <= DPBF16PS; op++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int kind = 0; kind < (op == DPBF16PS ? 3 : 1); kind++)
                for (int rep = 0; rep < 4; rep++)
                    check_dp_case(shapes[s][0], shapes[s][1], shapes[s][2], (enum op)op, kind, &r);
}
END_TEST

/* bf16 cases where the order of the adds, DAZ and FTZ decide the bits. One row and column,
 * two pairs (K = 2 dwords): A = (a0, a1, a2, a3), B column = (b0, b1, b2, b3), C = c. */
static float run_bf16_1x1(float c, const float a[4], const float b[4], bool real) {
    uint8_t A[16][64] = {{0}}, B[16][64] = {{0}}, C[16][64] = {{0}};
    for (int i = 0; i < 4; i++) {
        uint32_t ua, ub;
        memcpy(&ua, &a[i], 4), memcpy(&ub, &b[i], 4);
        uint16_t ha = (uint16_t)(ua >> 16), hb = (uint16_t)(ub >> 16);
        memcpy(&A[0][2 * i], &ha, 2);
        memcpy(&B[i / 2][2 * (i % 2)], &hb, 2);
    }
    memcpy(C[0], &c, 4);
    struct cfg cf = dp_cfg(1, 1, 2);
#if REAL_AMX
    if (real)
        real_dp(&cf, DPBF16PS, C, A, B);
    else
#endif
        emu_dp(&cf, DPBF16PS, C, A, B);
    float y;
    memcpy(&y, C[0], 4);
    return y;
}

START_TEST(bf16_order_daz_ftz) {
    const float big = 0x1p24f;
    struct {
        float c, a[4], b[4], want;
    } t[] = {
        /* even chain: big then -big (0); odd chain: 1 then 0: 0 + 1 = 1. Any single chain
         * in element order would lose the 1 (big + 1 rounds to big). */
        {0, {big, 1, -big, 0}, {1, 1, 1, 1}, 1.0f},
        /* C is added last: c + (even + odd) = 1 + (big - big) = 1 */
        {1, {big, -big, 0, 0}, {1, 1, 0, 0}, 1.0f},
        /* c = big: big + (1 + 1) = big + 2 exactly; adding the 1s to C one by one would give big */
        {big, {1, 1, 0, 0}, {1, 1, 0, 0}, big + 2},
        /* denormal bf16 input (2^-127) times 2^100 is 2^-27, but DAZ makes it 0 */
        {0, {0x1p-127f, 0, 0, 0}, {0x1p100f, 0, 0, 0}, 0.0f},
        /* 2^-70 * 2^-60 = 2^-130 is denormal: flushed to zero */
        {0, {0x1p-70f, 0, 0, 0}, {0x1p-60f, 0, 0, 0}, 0.0f},
        /* 2^-63 * 2^-63 = 2^-126: the smallest normal, kept */
        {0, {0x1p-63f, 0, 0, 0}, {0x1p-63f, 0, 0, 0}, 0x1p-126f},
        /* RNE: 1 + 2^-24 (a tie) rounds to 1 */
        {1, {0x1p-12f, 0, 0, 0}, {0x1p-12f, 0, 0, 0}, 1.0f},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        float got = run_bf16_1x1(t[i].c, t[i].a, t[i].b, false);
        ck_assert_msg(got == t[i].want && signbit(got) == signbit(t[i].want),
                      "case %zu: model %.9g want %.9g", i, (double)got, (double)t[i].want);
        if (have_real_amx()) {
            float real = run_bf16_1x1(t[i].c, t[i].a, t[i].b, true);
            ck_assert_msg(memcmp(&real, &got, 4) == 0, "case %zu: real %.9g model %.9g", i,
                          (double)real, (double)got);
        }
    }
}
END_TEST

/* Loads and stores with strides: rows [0, rows) of colsb bytes go through, and a store writes
 * nothing else (the zeroing of a tile row past colsb shows in the partial dot products above,
 * whose C is loaded with fewer columns than the buffer has). */
START_TEST(load_store_strides) {
    struct tu_rng r = tu_rng(3);
    static const int shapes[][2] = {{16, 64}, {3, 5}, {16, 1}, {1, 64}, {7, 40}};
    static const long strides[] = {64, 100, 65, 200};
    uint8_t src[16 * 200 + 64], want[16 * 200 + 64], got[16 * 200 + 64];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t i = 0; i < sizeof strides / sizeof strides[0]; i++) {
            int rows = shapes[s][0], colsb = shapes[s][1];
            long ls = strides[i] < colsb ? colsb : strides[i], ld = strides[(i + 1) % 4];
            if (ld < colsb) ld = colsb;
            fill_bytes(src, sizeof src, &r);
            memset(want, 0xa5, sizeof want);
            for (int row = 0; row < rows; row++)
                memcpy(want + row * ld, src + row * ls, (size_t)colsb);
            struct cfg c = {.palette = 1};
            c.rows[3] = (uint8_t)rows, c.colsb[3] = (uint16_t)colsb;
            memset(got, 0xa5, sizeof got);
            amxe_loadconfig(&c);
            amxe_loadd(3, src, ls);
            amxe_stored(3, got, ld);
            amxe_release();
            ck_assert_msg(memcmp(got, want, sizeof got) == 0, "rows %d colsb %d stride %ld/%ld",
                          rows, colsb, ls, ld);
#if REAL_AMX
            if (have_real_amx()) {
                memset(got, 0xa5, sizeof got);
                real_copy(&c, src, ls, got, ld);
                ck_assert_msg(memcmp(got, want, sizeof got) == 0, "real: rows %d colsb %d", rows,
                              colsb);
            }
#endif
        }
}
END_TEST

START_TEST(config_round_trip) {
    struct cfg c = {.palette = 1, .start_row = 0}, back;
    for (int t = 0; t < 8; t++)
        c.rows[t] = (uint8_t)(1 + 2 * t), c.colsb[t] = (uint16_t)(4 + 8 * t);
    amxe_loadconfig(&c);
    amxe_storeconfig(&back);
    ck_assert(memcmp(&c, &back, 64) == 0);
    amxe_zero(7);
    amxe_release();
    amxe_storeconfig(&back);
    static const uint8_t zero[64];
    ck_assert(memcmp(&back, zero, 64) == 0);
    struct cfg z = {0}; /* palette 0: the INIT state */
    amxe_loadconfig(&z);
    amxe_storeconfig(&back);
    ck_assert(memcmp(&back, zero, 64) == 0);
}
END_TEST

/* Each of these must abort (the instruction would fault). */
static void bad_cfg(int which) {
    struct cfg c = {.palette = 1};
    c.rows[0] = 16, c.colsb[0] = 64;
    switch (which) {
    case 0: c.palette = 2; break;
    case 1: c.res0[3] = 1; break;
    case 2: c.rows[1] = 17, c.colsb[1] = 4; break;
    case 3: c.colsb[1] = 68, c.rows[1] = 1; break;
    case 4: c.rows[1] = 3; break; /* rows without colsb */
    case 5: c.res2[0] = 1; break;
    }
    amxe_loadconfig(&c);
}
START_TEST(invalid_config_aborts) { bad_cfg(_i); }
END_TEST

static void bad_use(int which) {
    struct cfg c = dp_cfg(16, 16, 16);
    uint8_t buf[16 * 64] = {0};
    if (which != 0) amxe_loadconfig(&c);
    switch (which) {
    case 0: amxe_loadd(0, buf, 64); break;             /* not configured */
    case 1: amxe_loadd(5, buf, 64); break;             /* tile 5 is not configured */
    case 2: amxe_dpb("tdpbssd", 0, 0, 2, 1, 1); break; /* same tile twice */
    case 3: {                                          /* A colsb / 4 != B rows */
        c.rows[2] = 8;
        amxe_loadconfig(&c);
        amxe_dpb("tdpbssd", 0, 1, 2, 1, 1);
        break;
    }
    case 4: { /* C rows != A rows */
        c.rows[1] = 8;
        amxe_loadconfig(&c);
        amxe_dpbf16ps(0, 1, 2);
        break;
    }
    case 5: { /* colsb not a multiple of 4 */
        c.colsb[0] = 62, c.colsb[2] = 62;
        amxe_loadconfig(&c);
        amxe_dpb("tdpbuud", 0, 1, 2, 0, 0);
        break;
    }
    }
}
START_TEST(invalid_use_aborts) { bad_use(_i); }
END_TEST

static Suite *amx_emu_suite(void) {
    Suite *s = suite_create("amx_emu");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dp_random);
    tcase_add_test(tc, bf16_order_daz_ftz);
    tcase_add_test(tc, load_store_strides);
    tcase_add_test(tc, config_round_trip);
    tcase_add_loop_test_raise_signal(tc, invalid_config_aborts, SIGABRT, 0, 6);
    tcase_add_loop_test_raise_signal(tc, invalid_use_aborts, SIGABRT, 0, 6);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(amx_emu_suite()); }
