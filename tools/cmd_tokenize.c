/* tools/cmd_tokenize.c - `lmrt tokenize -m MODEL [--no-special] [--decode]`.
 *
 * Encode: stdin (all of it, any bytes: invalid UTF-8 becomes U+FFFD as lm_tokenize says) ->
 * one JSON array of ids and a newline on stdout. By default the model's BOS/EOS or CLS/SEP are
 * added and special-token strings in the text are matched (what `tokenizers`' encode does);
 * --no-special does neither (user-defined added tokens, such as LFM2's "python", still match:
 * they are ordinary vocabulary to HF tokenizers and llama.cpp alike).
 * Decode (--decode): a JSON array of ids on stdin -> their text on stdout, byte for byte (no
 * newline added); --no-special leaves control tokens out. Bad ids or JSON are errors naming the
 * offending element.
 */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt tokenize -m MODEL [--no-special] [--decode] < input\n"
               "  encode stdin to a JSON array of ids, or (--decode) a JSON array of ids to text\n"
               "  --no-special  encode: add no BOS/EOS/CLS/SEP and match no special-token text\n"
               "                (user-defined added tokens still match);\n"
               "                decode: write no control tokens\n");
}

static int encode(const struct lm_tokenizer *tok, const char *text, size_t len, bool special) {
    struct lm_tokens ids = {0};
    unsigned flags = special ? LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL : 0;
    if (lm_tokenize(tok, text, len, flags, &ids) != LM_OK)
        return cli_fail("tokenize", "encoding %zu bytes", len);
    putchar('[');
    for (int64_t i = 0; i < ids.n; i++)
        printf(i ? ", %d" : "%d", ids.ids[i]);
    printf("]\n");
    lm_tokens_free(&ids);
    return CLI_OK;
}

static int decode(const struct lm_tokenizer *tok, const char *json, size_t len, bool special) {
    cJSON *arr = cJSON_ParseWithLength(json, len);
    if (!arr || !cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        lm_clear_error();
        return cli_fail("tokenize", "--decode: stdin is not a JSON array of ids");
    }
    int n = cJSON_GetArraySize(arr), i = 0;
    int32_t *ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
    if (!ids) {
        cJSON_Delete(arr);
        return cli_fail("tokenize", "out of memory for %d ids", n);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        double v = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        if (!(v >= 0 && v <= INT32_MAX && v == floor(v))) {
            free(ids), cJSON_Delete(arr);
            lm_clear_error();
            return cli_fail("tokenize", "--decode: element %d is not a token id", i);
        }
        ids[i++] = (int32_t)v;
    }
    cJSON_Delete(arr);
    struct lm_text text = {0};
    lm_status s = lm_detokenize(tok, ids, n, special ? 0 : LM_TOK_SKIP_SPECIAL, &text);
    free(ids);
    if (s != LM_OK) return cli_fail("tokenize", "--decode");
    fwrite(text.s ? text.s : "", 1, text.n, stdout);
    lm_text_free(&text);
    return CLI_OK;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL;
    bool special = true, dec = false;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--no-special")) {
            special = false;
        } else if (!strcmp(argv[i], "--decode")) {
            dec = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "lmrt tokenize: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (!model) {
        fprintf(stderr, "lmrt tokenize: -m MODEL is required\n");
        usage(stderr);
        return CLI_USAGE;
    }
    struct cli_model m;
    if (cli_model_open(model, &m) != CLI_OK) return CLI_FAIL;
    struct lm_tokenizer *tok = NULL;
    int rc = cli_model_tokenizer(&m, &tok);
    size_t len = 0;
    char *in = rc == CLI_OK ? cli_read_all(stdin, &len) : NULL;
    if (rc == CLI_OK && !in) rc = cli_fail("tokenize", "stdin");
    if (in) rc = dec ? decode(tok, in, len, special) : encode(tok, in, len, special);
    free(in);
    lm_tokenizer_free(tok);
    cli_model_close(&m);
    return rc;
}
