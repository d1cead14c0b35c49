/* tools/cmd_quantize.c - `lmrt quantize [-t THREADS] IN.gguf OUT.gguf TYPE`.
 *
 * Requantizes a GGUF file into TYPE (f32, f16, bf16, q8_0, q4_0, q4_1, q4_k, q5_k, q6_k) with
 * the rules of llama.cpp's llama-quantize (models/convert_quant.c says which tensors keep a
 * higher precision, and how rows that are not whole blocks fall back). Prints one summary line
 * on stderr; LMRT_LOG=info lists each tensor's types.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../models/convert.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt quantize [-t THREADS] IN.gguf OUT.gguf TYPE\n"
               "  TYPE: f32 f16 bf16 q8_0 q4_0 q4_1 q4_k q5_k q6_k (q4_k/q5_k: llama.cpp's\n"
               "        Q4_K_M/Q5_K_M mixtures); output and tied token_embd become q6_K for\n"
               "        quantized types other than q8_0, norms and 1-D tensors keep their type\n"
               "  -t THREADS  worker threads (default: physical cores)\n");
}

/* TYPE argument -> dtype (case-insensitive, llama.cpp's names); false if unknown. */
static bool parse_dtype(const char *s, enum lm_dtype *out) {
    for (int t = 0; t < LM_DTYPE_COUNT; t++)
        if (lm_convert_ftype((enum lm_dtype)t) >= 0 && !strcasecmp(s, lm_dtype_name(t))) {
            *out = (enum lm_dtype)t;
            return true;
        }
    return false;
}

static int parse_threads(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < 1 || v > 1024) return CLI_USAGE;
    *out = (int)v;
    return CLI_OK;
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            if (parse_threads(argv[++i], &threads)) {
                fprintf(stderr, "lmrt quantize: -t wants a thread count, got '%s'\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lmrt quantize: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (n_pos != 3) {
        usage(stderr);
        return CLI_USAGE;
    }
    enum lm_dtype type;
    if (!parse_dtype(pos[2], &type)) {
        fprintf(stderr, "lmrt quantize: unknown TYPE '%s'\n", pos[2]);
        usage(stderr);
        return CLI_USAGE;
    }
    struct lm_ctx *ctx;
    if (lm_ctx_create(threads, &ctx) != LM_OK) return cli_fail("quantize", "threads");
    struct lm_convert_report rep;
    uint64_t t0 = lm_time_ns();
    lm_status s = lm_convert_quantize(pos[0], pos[1], type, ctx, &rep);
    lm_ctx_free(ctx);
    if (s != LM_OK) return cli_fail("quantize", "%s -> %s", pos[0], pos[1]);
    fprintf(stderr,
            "lmrt quantize: %s: %lld tensors, %lld converted (%lld off %s by llama.cpp's "
            "rules), %.1f -> %.1f MiB in %.2f s\n",
            pos[1], (long long)rep.n_tensors, (long long)rep.n_converted, (long long)rep.n_fallback,
            lm_dtype_name(type), rep.bytes_in / 1048576.0, rep.bytes_out / 1048576.0,
            (lm_time_ns() - t0) / 1e9);
    return CLI_OK;
}
