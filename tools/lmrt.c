/* tools/lmrt.c - the lmrt command line: dispatch to one subcommand per file (tools/cmd_*.c) and
 * the helpers they share (opening a model given as a GGUF file, an HF directory or a bare
 * tokenizer.json; reading stdin; reporting errors).
 *
 *   lmrt info MODEL [--json]
 *   lmrt tokenize -m MODEL [--no-special] [--decode]
 *   lmrt pull NAME... [--force] | --list
 *   lmrt quantize IN.gguf OUT.gguf TYPE / lmrt convert HF_DIR OUT.gguf [--outtype T]
 *
 * Adding a subcommand: write tools/cmd_<name>.c with int cmd_<name>(int, char **), declare it
 * in tools/cli.h, add a row to `commands` below, re-run ./configure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "[-m MODEL] -p TEXT [-n N] [sampling]: complete a prompt, streaming"},
    {"chat", cmd_chat, "[-m MODEL] [--system TEXT]: talk through the model's chat template"},
    {"embed", cmd_embed, "[-m MODEL] [--pooling P]: one text per line -> one JSON vector"},
    {"serve", cmd_serve, "[-m MODEL] [--embed-model MODEL] [--port N]: OpenAI-compatible server"},
    {"bench", cmd_bench, "[-m MODEL] [-p 512] [-n 128] [-t 1,2]: prefill / decode tok/s TSV"},
    {"info", cmd_info, "MODEL [--json]: architecture, hyper-parameters, tokenizer, tensors"},
    {"tokenize", cmd_tokenize,
     "-m MODEL [--no-special] [--decode]: stdin text -> JSON ids (or JSON ids -> text)"},
    {"pull", cmd_pull, "NAME... [--force] | --list: fetch known models into the cache"},
    {"quantize", cmd_quantize, "IN.gguf OUT.gguf TYPE: requantize a GGUF file"},
    {"convert", cmd_convert, "HF_DIR OUT.gguf [--outtype T]: Hugging Face directory -> GGUF"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: lmrt <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nMODEL: a .gguf file, a Hugging Face model directory, or a tokenizer.json\n");
}

char *cli_read_all(FILE *f, size_t *len) {
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (ferror(f)) {
            lm_error(LM_EIO, "read error: %s", strerror(errno));
            free(buf);
            return NULL;
        }
        if (feof(f)) break;
        if (cap > ((size_t)1 << 30)) {
            lm_error(LM_ERANGE, "input larger than 1 GiB");
            free(buf);
            return NULL;
        }
        char *p = realloc(buf, cap * 2);
        if (!p) free(buf);
        buf = p, cap *= 2;
    }
    if (!buf) {
        lm_error(LM_ENOMEM, "out of memory reading input");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool gguf_magic(const char *path) {
    FILE *f = fopen(path, "rb");
    char m[4] = {0};
    bool yes = f && fread(m, 1, 4, f) == 4 && memcmp(m, "GGUF", 4) == 0;
    if (f) fclose(f);
    return yes;
}

int cli_model_open(const char *path, struct cli_model *m) {
    memset(m, 0, sizeof *m);
    m->path = path;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        lm_error(LM_EIO, "%s", strerror(errno));
        return cli_fail("model", "%s", path);
    }
    if (strlen(path) + sizeof "/tokenizer_config.json" > sizeof m->dir) {
        lm_error(LM_ERANGE, "path too long");
        return cli_fail("model", "%s", path);
    }
    if (S_ISDIR(sb.st_mode)) {
        snprintf(m->dir, sizeof m->dir, "%s", path);
        char p[sizeof m->dir + 32];
        snprintf(p, sizeof p, "%s/tokenizer.json", path);
        if (is_file(p)) snprintf(m->tokenizer_json, sizeof m->tokenizer_json, "%s", p);
        snprintf(p, sizeof p, "%s/config.json", path);
        m->has_config = is_file(p);
        return CLI_OK;
    }
    if (gguf_magic(path)) {
        if (lm_gguf_open(path, &m->gguf) != LM_OK) return cli_fail("model", "%s", path);
        return CLI_OK;
    }
    /* anything else is taken for a tokenizer.json; its loader says if it is not one */
    snprintf(m->tokenizer_json, sizeof m->tokenizer_json, "%s", path);
    snprintf(m->dir, sizeof m->dir, "%s", path);
    char *slash = strrchr(m->dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(m->dir, sizeof m->dir, ".");
    return CLI_OK;
}

void cli_model_close(struct cli_model *m) {
    lm_gguf_close(m->gguf);
    m->gguf = NULL;
}

int cli_model_tokenizer(const struct cli_model *m, struct lm_tokenizer **out) {
    lm_status s;
    if (m->gguf)
        s = lm_tokenizer_from_gguf(m->gguf, out);
    else if (*m->tokenizer_json)
        s = lm_tokenizer_from_json(m->tokenizer_json, out);
    else
        s = lm_error(LM_ENOTFOUND, "no tokenizer.json in the directory");
    return s == LM_OK ? CLI_OK : cli_fail("model", "%s: tokenizer", m->path);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        int rc = commands[i].run(argc - 1, argv + 1);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "lmrt %s: writing the output failed: %s\n", argv[1], strerror(errno));
            return CLI_FAIL;
        }
        return rc;
    }
    fprintf(stderr, "lmrt: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
