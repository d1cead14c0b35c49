/* tools/cmd_serve.c - `lmrt serve`: an OpenAI-compatible HTTP server with continuous batching.
 *
 * Order of life: bind first (GET /health answers 503 while the models load), load, start the
 * workers (tools/serve_sched.c), hand them to the HTTP side (tools/serve_http.c), then wait for
 * SIGINT or SIGTERM. On a signal: stop accepting connections, let what is running finish for
 * the grace period (--grace), cancel the rest, close every connection and exit 0.
 *
 * SIGINT and SIGTERM are blocked before any thread starts, so every thread inherits the mask
 * and the main thread alone takes them, with sigwait: no async-signal-safety puzzles.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "serve_http.h"

static const char usage[] =
    "usage: lmrt serve [-m MODEL] [--embed-model MODEL] [options]\n"
    "  -m MODEL             text model: a .gguf file, an HF directory or a known name\n"
    "                       (default: smollm2-135m-instruct; an encoder here serves embeddings)\n"
    "  --embed-model MODEL  embedding model for /v1/embeddings (e.g. all-minilm-l6-v2)\n"
    "  --host ADDR          address to bind (default 127.0.0.1)\n"
    "  --port N             port (default 8080; 0 = any free port)\n"
    "  --slots N            sequences decoded together (default 8)\n"
    "  --ctx N              context per slot (default: the model's, at most 4096)\n"
    "  --max-queue N        requests waiting for a slot before 429 (default 64)\n"
    "  --api-key KEY        require \"Authorization: Bearer KEY\" (default: $LMRT_API_KEY)\n"
    "  --template NAME      chat template (chatml, smollm2, lfm2, mistral, llama3)\n"
    "  -t N                 threads per model (default: physical cores)\n"
    "  --max-body BYTES     largest request body (default 8388608)\n"
    "  --timeout S          close a connection idle this long (default 30)\n"
    "  --grace S            on SIGTERM, let running requests finish this long (default 10)\n";

/* The id clients name in "model": the known name, or the file or directory name without
 * ".gguf". */
static void model_id(const char *arg, enum cli_model_kind kind, char *out, size_t n) {
    if (!arg) arg = cli_default_model(kind);
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/') /* "dir/" */
        len--;
    const char *b = arg;
    for (size_t i = 0; i + 1 < len; i++)
        if (arg[i] == '/') b = arg + i + 1;
    len -= (size_t)(b - arg);
    if (len > 5 && !strncmp(b + len - 5, ".gguf", 5)) len -= 5;
    snprintf(out, n, "%.*s", (int)len, b);
}

int cmd_serve(int argc, char **argv) {
    const char *gen_arg = NULL, *embed_arg = NULL, *tmpl = NULL;
    struct srv_config cfg = {
        .host = "127.0.0.1",
        .port = 8080,
        .api_key = getenv("LMRT_API_KEY"),
        .max_body = 8u << 20,
        .max_connections = 256,
        .timeout_s = 30,
    };
    struct srv_sched_opts so = {.slots = 8, .max_queue = 64};
    int grace_s = 10, max_body = (int)cfg.max_body;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (!v) {
            fprintf(stderr, "lmrt serve: %s needs a value\n%s", a, usage);
            return CLI_USAGE;
        }
        int rc = CLI_OK;
        if (!strcmp(a, "-m"))
            gen_arg = v;
        else if (!strcmp(a, "--embed-model"))
            embed_arg = v;
        else if (!strcmp(a, "--host"))
            cfg.host = v;
        else if (!strcmp(a, "--port"))
            rc = cli_parse_int(v, 0, 65535, &cfg.port);
        else if (!strcmp(a, "--slots"))
            rc = cli_parse_int(v, 1, 256, &so.slots);
        else if (!strcmp(a, "--ctx"))
            rc = cli_parse_int(v, 16, 1 << 20, &so.n_ctx);
        else if (!strcmp(a, "--max-queue"))
            rc = cli_parse_int(v, 1, 1 << 20, &so.max_queue);
        else if (!strcmp(a, "--api-key"))
            cfg.api_key = v;
        else if (!strcmp(a, "--template"))
            tmpl = v;
        else if (!strcmp(a, "-t"))
            rc = cli_parse_int(v, 1, 1024, &so.n_threads);
        else if (!strcmp(a, "--max-body"))
            rc = cli_parse_int(v, 1024, 1 << 30, &max_body);
        else if (!strcmp(a, "--timeout"))
            rc = cli_parse_int(v, 1, 3600, &cfg.timeout_s);
        else if (!strcmp(a, "--grace"))
            rc = cli_parse_int(v, 0, 3600, &grace_s);
        else {
            fprintf(stderr, "lmrt serve: unknown option %s\n%s", a, usage);
            return CLI_USAGE;
        }
        if (rc) return CLI_USAGE;
        i++;
    }
    cfg.max_body = (size_t)max_body;
    if (cfg.api_key && !*cfg.api_key) cfg.api_key = NULL;
    if (tmpl && lm_chat_check_name(tmpl) != LM_OK) return cli_fail("serve", "--template");

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error return, not a death */

    int rc = CLI_FAIL;
    struct srv_metrics *metrics = srv_metrics_create();
    struct srv_http *http = NULL;
    struct srv_sched *sched = NULL;
    struct lm_model *gen = NULL, *embed = NULL;
    char gen_id[256] = "", embed_id[256] = "";
    if (!metrics) {
        fprintf(stderr, "lmrt serve: out of memory\n");
        goto out;
    }
    if (srv_http_start(&cfg, metrics, &http) != LM_OK) {
        cli_fail("serve", "starting the HTTP server");
        goto out;
    }
    fprintf(stderr, "lmrt serve: listening on http://%s:%d\n", cfg.host, srv_http_port(http));

    if (cli_load_model(gen_arg, CLI_MODEL_TEXT, &gen)) goto out;
    model_id(gen_arg, CLI_MODEL_TEXT, gen_id, sizeof gen_id);
    if (lm_model_hparams(gen)->arch == LM_ARCH_BERT) { /* -m names an encoder */
        if (embed_arg) {
            fprintf(stderr, "lmrt serve: -m %s is an encoder and --embed-model is given too\n",
                    gen_id);
            goto out;
        }
        embed = gen, gen = NULL;
        memcpy(embed_id, gen_id, sizeof embed_id);
        gen_id[0] = 0;
    } else if (embed_arg) {
        if (cli_load_model(embed_arg, CLI_MODEL_EMBEDDING, &embed)) goto out;
        model_id(embed_arg, CLI_MODEL_EMBEDDING, embed_id, sizeof embed_id);
    }
    const char *family = tmpl;
    if (gen && !family && lm_chat_detect(lm_model_chat_template(gen), &family) != LM_OK) {
        family = NULL;
        fprintf(stderr,
                "lmrt serve: %s has no chat template lmrt knows; /v1/chat/completions is off "
                "(name one with --template)\n",
                gen_id);
    }
    if (srv_sched_create(gen, embed, &so, metrics, &sched) != LM_OK) {
        cli_fail("serve", "starting the workers");
        goto out;
    }
    struct srv_models served = {
        .sched = sched,
        .gen_id = gen ? gen_id : NULL,
        .gen = gen,
        .chat_template = family,
        .embed_id = embed ? embed_id : NULL,
        .embed = embed,
    };
    srv_http_ready(http, &served);
    fprintf(stderr, "lmrt serve: ready: %s%s%s (%d slots of %d tokens)\n", gen ? gen_id : "",
            gen && embed ? ", " : "", embed ? embed_id : "", so.slots, srv_sched_n_ctx(sched));

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "lmrt serve: %s: finishing running requests (up to %d s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", grace_s);
    srv_http_quiesce(http);
    srv_sched_drain(sched, grace_s * 1000);
    rc = CLI_OK;
out:
    srv_http_stop(http); /* after the drain: no response still waits on a job */
    srv_sched_free(sched);
    lm_model_free(gen);
    lm_model_free(embed);
    srv_metrics_free(metrics);
    if (rc == CLI_OK) fprintf(stderr, "lmrt serve: stopped\n");
    return rc;
}
