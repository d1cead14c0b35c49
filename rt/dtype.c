/* rt/dtype.c - the dtype table (block sizes, bytes per block, GGUF ids) and scalar fp16/bf16.
 *
 * Conversions are exact IEEE round-to-nearest-even, with subnormals and NaN handled; they are
 * the reference the vector converters (F16C) are tested against.
 */
#include <string.h>

#include "lmrt.h"

static const struct lm_dtype_info dtypes[LM_DTYPE_COUNT] = {
    [LM_F32] = {"f32", 1, 4, 0, false},       [LM_F16] = {"f16", 1, 2, 1, false},
    [LM_BF16] = {"bf16", 1, 2, 30, false},    [LM_Q8_0] = {"q8_0", 32, 34, 8, true},
    [LM_Q4_0] = {"q4_0", 32, 18, 2, true},    [LM_Q4_1] = {"q4_1", 32, 20, 3, true},
    [LM_Q4_K] = {"q4_K", 256, 144, 12, true}, [LM_Q5_K] = {"q5_K", 256, 176, 13, true},
    [LM_Q6_K] = {"q6_K", 256, 210, 14, true}, [LM_I32] = {"i32", 1, 4, 26, false},
};

const struct lm_dtype_info *lm_dtype_info(enum lm_dtype t) {
    return (unsigned)t < LM_DTYPE_COUNT ? &dtypes[t] : NULL;
}

const char *lm_dtype_name(enum lm_dtype t) {
    return (unsigned)t < LM_DTYPE_COUNT ? dtypes[t].name : "invalid";
}

lm_status lm_dtype_from_gguf(int32_t gguf_type, enum lm_dtype *out) {
    for (int t = 0; t < LM_DTYPE_COUNT; t++)
        if (dtypes[t].gguf_type == gguf_type) {
            *out = (enum lm_dtype)t;
            return LM_OK;
        }
    return lm_error(LM_EUNSUPPORTED, "GGUF tensor type %d is not supported", (int)gguf_type);
}

size_t lm_row_size(enum lm_dtype t, int64_t n) {
    if ((unsigned)t >= LM_DTYPE_COUNT || n < 0 || n % dtypes[t].blck) return 0;
    return (size_t)(n / dtypes[t].blck) * dtypes[t].size;
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float lm_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in f32 */
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | mant << 13);
    return bits_f32(sign | (exp + 112) << 23 | mant << 13);
}

/* Shift right by s (1..31) rounding to nearest, ties to even. */
static uint32_t shift_rne(uint32_t v, int s) {
    uint32_t r = v >> s, rem = v & ((1u << s) - 1), half = 1u << (s - 1);
    return r + (rem > half || (rem == half && (r & 1)));
}

uint16_t lm_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffff;
    if (ax > 0x7f800000u) return sign | 0x7e00 | (uint16_t)((ax >> 13) & 0x3ff); /* quiet NaN */
    if (ax >= 0x477ff000u) return sign | 0x7c00; /* >= 65520 rounds to infinity */
    if (ax >= 0x38800000u) /* normal half: rebias exponent 127 -> 15, round 13 bits */
        return sign | (uint16_t)shift_rne(ax - (112u << 23), 13);
    uint32_t e = ax >> 23;
    if (e < 102) return sign; /* below half the smallest subnormal: rounds to zero */
    /* subnormal half: value / 2^-24 = mant * 2^(e - 126) */
    return sign | (uint16_t)shift_rne((ax & 0x7fffff) | 0x800000, (int)(126 - e));
}

float lm_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t lm_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}
