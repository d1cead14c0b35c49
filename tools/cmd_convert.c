/* tools/cmd_convert.c - `lmrt convert [-t THREADS] HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0]`.
 *
 * A Hugging Face model directory (config.json, *.safetensors, tokenizer.json, optional
 * tokenizer_config.json and sentence-transformers 1_Pooling) becomes one GGUF file that lmrt
 * and llama.cpp both load, written as llama.cpp's convert_hf_to_gguf.py writes it
 * (models/convert_hf.c lists what differs). Default out type: f16 (the converter's default).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../models/convert.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt convert [-t THREADS] HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0]\n"
               "  llama / mistral, lfm2 and bert directories; 1-D tensors and norms stay f32\n"
               "  -t THREADS  worker threads (default: physical cores)\n");
}

int cmd_convert(int argc, char **argv) {
    const char *pos[2];
    int n_pos = 0, threads = 0;
    enum lm_dtype type = LM_F16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--outtype") && i + 1 < argc) {
            const char *t = argv[++i];
            static const enum lm_dtype ok[] = {LM_F32, LM_F16, LM_BF16, LM_Q8_0};
            size_t k = 0;
            while (k < 4 && strcasecmp(t, lm_dtype_name(ok[k])))
                k++;
            if (k == 4) {
                fprintf(stderr, "lmrt convert: --outtype wants f32, f16, bf16 or q8_0, got '%s'\n",
                        t);
                return CLI_USAGE;
            }
            type = ok[k];
        } else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1024) {
                fprintf(stderr, "lmrt convert: -t wants a thread count, got '%s'\n", argv[i]);
                return CLI_USAGE;
            }
            threads = (int)v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lmrt convert: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else if (n_pos < 2) {
            pos[n_pos++] = argv[i];
        } else {
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (n_pos != 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    struct lm_ctx *ctx;
    if (lm_ctx_create(threads, &ctx) != LM_OK) return cli_fail("convert", "threads");
    struct lm_convert_report rep;
    uint64_t t0 = lm_time_ns();
    lm_status s = lm_convert_hf(pos[0], pos[1], type, ctx, &rep);
    lm_ctx_free(ctx);
    if (s != LM_OK) return cli_fail("convert", "%s -> %s", pos[0], pos[1]);
    fprintf(stderr, "lmrt convert: %s: %lld tensors (%lld cast), %.1f MiB in %.2f s\n", pos[1],
            (long long)rep.n_tensors, (long long)rep.n_converted, rep.bytes_out / 1048576.0,
            (lm_time_ns() - t0) / 1e9);
    return CLI_OK;
}
