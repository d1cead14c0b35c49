/* tools/fetch.c - HTTP downloads, digests and zip members for `lmrt pull` (see fetch.h).
 *
 * Downloads go through libcurl with redirects followed and a stall limit (a transfer slower than
 * 1 KiB/s for 60 s is dropped), so a dead mirror fails instead of hanging. Resuming uses a plain
 * Range header rather than curl's resume option: a server that ignores the range answers 200
 * and we start the file over, where curl would fail the transfer. The status of every response
 * is read from its status line in the header callback, so the body of an error page is never
 * written into a model file. Progress goes to stderr only when it is a terminal.
 */
#define _POSIX_C_SOURCE 200809L
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

static bool curl_ready;

struct xfer {
    /* destination: a file, or memory up to max bytes */
    FILE *f;
    int64_t offset; /* bytes already in the file when the request went out */
    char *mem;
    size_t len, cap, max;
    bool too_big;
    /* what the headers said */
    long status;
    int64_t range_start; /* Content-Range start of the current response, -1 if none */
    int64_t length;      /* Content-Length of the current response, -1 if none */
    bool decided;        /* the first body byte has been seen and the status accepted */
    bool bad_start;      /* a 206 that does not start where we asked */
    struct cli_fetch_info *info;
    /* progress */
    const char *label;
    bool tty;
    uint64_t t0, t_last;
    int64_t now, total; /* body bytes of this response so far, and expected (0: unknown) */
};

/* Copy a header value without quotes and a weak-validator prefix: W/"abc" -> abc. */
static void etag_value(char *dst, size_t n, const char *v, size_t len) {
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= 2 && v[0] == 'W' && v[1] == '/') v += 2, len -= 2;
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') v++, len -= 2;
    if (len >= n) len = 0; /* not a digest we could use: keep none rather than a prefix */
    memcpy(dst, v, len);
    dst[len] = 0;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
                      size_t *vlen) {
    size_t k = strlen(name);
    if (len <= k || line[k] != ':' || strncasecmp(line, name, k)) return false;
    *value = line + k + 1;
    *vlen = len - k - 1;
    return true;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg) {
    struct xfer *x = arg;
    size_t len = size * n;
    const char *v;
    size_t vlen;
    if (len > 5 && !strncmp(line, "HTTP/", 5)) { /* a new response (redirects bring several) */
        const char *sp = memchr(line, ' ', len);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->range_start = -1, x->length = -1;
    } else if (header_is(line, len, "etag", &v, &vlen)) {
        if (!x->info->etag[0]) etag_value(x->info->etag, sizeof x->info->etag, v, vlen);
    } else if (header_is(line, len, "x-linked-etag", &v, &vlen)) {
        etag_value(x->info->linked_etag, sizeof x->info->linked_etag, v, vlen);
    } else if (header_is(line, len, "content-range", &v, &vlen)) {
        char buf[96];
        snprintf(buf, sizeof buf, "%.*s", (int)(vlen < 95 ? vlen : 95), v);
        const char *b = strstr(buf, "bytes ");
        x->range_start = b ? strtoll(b + 6, NULL, 10) : -1;
    } else if (header_is(line, len, "content-length", &v, &vlen)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.*s", (int)(vlen < 31 ? vlen : 31), v);
        x->length = strtoll(buf, NULL, 10);
    }
    return len;
}

/* The first body byte of the final response: accept 200 (a file starts over) or a 206 that
 * starts where the file ends; anything else stops the transfer. */
static bool accept_body(struct xfer *x) {
    x->decided = true;
    if (x->status == 200) {
        if (x->f && x->offset > 0) {
            if (ftruncate(fileno(x->f), 0) != 0 || fseek(x->f, 0, SEEK_SET) != 0) return false;
            x->offset = 0;
        }
        x->info->resumed = false;
        return true;
    }
    if (x->status == 206 && x->f) {
        if (x->range_start != x->offset) {
            x->bad_start = true;
            return false;
        }
        x->info->resumed = true;
        return true;
    }
    return false;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    struct xfer *x = arg;
    size_t len = size * n;
    if (!x->decided && !accept_body(x)) return 0;
    if (!x->decided || x->status >= 300) return 0;
    x->info->bytes += (int64_t)len;
    if (x->f) return fwrite(data, 1, len, x->f);
    if (len > x->max - x->len) {
        x->too_big = true;
        return 0;
    }
    if (x->len + len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 1 << 16;
        while (cap < x->len + len + 1)
            cap *= 2;
        char *p = realloc(x->mem, cap);
        if (!p) return 0;
        x->mem = p, x->cap = cap;
    }
    memcpy(x->mem + x->len, data, len);
    x->len += len;
    return len;
}

static void human(char *buf, size_t n, double bytes) {
    if (bytes >= 1e9)
        snprintf(buf, n, "%.2f GB", bytes / 1e9);
    else
        snprintf(buf, n, "%.1f MB", bytes / 1e6);
}

static void draw_progress(struct xfer *x, uint64_t now) {
    double have = (double)(x->offset + x->now), total = (double)(x->offset + x->total);
    double secs = (double)(now - x->t0) / 1e9, rate = secs > 0 ? (double)x->now / secs : 0;
    char h[32], t[32], r[32];
    human(h, sizeof h, have), human(t, sizeof t, total), human(r, sizeof r, rate);
    int pct = x->total > 0 ? (int)(100.0 * have / total) : 0, fill = pct * 30 / 100;
    char bar[31];
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    if (x->total > 0)
        fprintf(stderr, "\r  %-44.44s %3d%% [%s] %s / %s  %s/s   ", x->label, pct, bar, h, t, r);
    else
        fprintf(stderr, "\r  %-44.44s %s  %s/s   ", x->label, h, r);
}

/* Redraws at most ten times a second; perform() draws the last state when the transfer ends. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    struct xfer *x = arg;
    if (!x->tty || !x->decided) return 0;
    x->now = dlnow, x->total = dltotal;
    uint64_t now = lm_time_ns();
    if (now - x->t_last < 100000000u) return 0;
    x->t_last = now;
    draw_progress(x, now);
    return 0;
}

/* One GET into x. Fills x->info; the message names url on failure. */
static lm_status perform(const char *url, const struct cli_fetch_opts *o, struct xfer *x) {
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return lm_error(LM_EIO, "libcurl failed to initialise");
        curl_ready = true;
    }
    CURL *c = curl_easy_init();
    if (!c) return lm_error(LM_ENOMEM, "libcurl: no handle for %s", url);
    char err[CURL_ERROR_SIZE] = "";
    char range[32];
    x->range_start = -1, x->length = -1;
    x->tty = o->label && isatty(STDERR_FILENO);
    x->label = o->label;
    x->t0 = x->t_last = lm_time_ns();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lmrt-pull/0.1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 15000L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    if (o->bearer && *o->bearer) { /* curl sends it to the first host only, not redirects */
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, o->bearer);
    }
    if (x->f && x->offset > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)x->offset);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    }
    if (!x->f) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (x->tty && x->decided) {
        x->now = x->info->bytes;
        draw_progress(x, lm_time_ns());
        fputc('\n', stderr);
    }
    x->info->status = status;
    if (x->bad_start)
        return lm_error(LM_EIO, "%s: the server resumed at byte %lld, not %lld", url,
                        (long long)x->range_start, (long long)x->offset);
    if (x->too_big) return lm_error(LM_ERANGE, "%s: larger than %zu bytes", url, x->max);
    if (status >= 300 || (rc == CURLE_OK && status != 200 && status != 206) ||
        (rc == CURLE_WRITE_ERROR && !x->decided))
        return lm_error(LM_EIO, "%s: HTTP %ld", url, status);
    if (rc == CURLE_WRITE_ERROR)
        return lm_error(LM_EIO, "%s: writing the download failed: %s", url, strerror(errno));
    if (rc != CURLE_OK) {
        x->info->unreachable =
            status == 0 && x->info->bytes == 0 &&
            (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
             rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR ||
             rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_PEER_FAILED_VERIFICATION);
        if (x->f && x->decided)
            return lm_error(LM_EIO, "%s: interrupted after %lld bytes (%s)", url,
                            (long long)(x->offset + x->info->bytes),
                            *err ? err : curl_easy_strerror(rc));
        return lm_error(LM_EIO, "%s: %s", url, *err ? err : curl_easy_strerror(rc));
    }
    if (x->length >= 0 && x->info->bytes != x->length)
        return lm_error(LM_EIO, "%s: %lld of %lld bytes arrived", url, (long long)x->info->bytes,
                        (long long)x->length);
    return LM_OK;
}

lm_status cli_url_resolve(const char *base, const char *ref, char *out, size_t n) {
    CURLU *h = curl_url();
    char *u = NULL;
    lm_status s = LM_OK;
    if (!h) return lm_error(LM_ENOMEM, "libcurl: no URL handle");
    /* a second CURLUPART_URL on a handle that holds one is resolved relative to it */
    if (curl_url_set(h, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_URL, ref, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_URL, &u, 0) != CURLUE_OK)
        s = lm_error(LM_EFORMAT, "'%s' is not a URL relative to %s", ref, base);
    else if (snprintf(out, n, "%s", u) >= (int)n)
        s = lm_error(LM_ERANGE, "URL too long: %s", u);
    curl_free(u);
    curl_url_cleanup(h);
    return s;
}

lm_status cli_fetch_memory(const char *url, size_t max, const struct cli_fetch_opts *o, char **out,
                           size_t *len, struct cli_fetch_info *info) {
    memset(info, 0, sizeof *info);
    struct xfer x = {.max = max, .info = info};
    lm_status s = perform(url, o, &x);
    if (s == LM_OK && !x.mem) x.mem = calloc(1, 1);
    if (s == LM_OK && !x.mem) s = lm_error(LM_ENOMEM, "%s: out of memory", url);
    if (s != LM_OK) {
        free(x.mem);
        return s;
    }
    x.mem[x.len] = 0;
    *out = x.mem;
    *len = x.len;
    return LM_OK;
}

lm_status cli_fetch_file(const char *url, const char *part, const struct cli_fetch_opts *o,
                         struct cli_fetch_info *info) {
    memset(info, 0, sizeof *info);
    FILE *f = fopen(part, "ab");
    if (!f) return lm_error(LM_EIO, "%s: %s", part, strerror(errno));
    struct xfer x = {.f = f, .info = info};
    if (fseek(f, 0, SEEK_END) != 0 || (x.offset = ftell(f)) < 0) {
        fclose(f);
        return lm_error(LM_EIO, "%s: %s", part, strerror(errno));
    }
    lm_status s = perform(url, o, &x);
    if (fclose(f) != 0 && s == LM_OK) s = lm_error(LM_EIO, "%s: %s", part, strerror(errno));
    if (s != LM_OK && x.offset == 0 && info->bytes == 0) remove(part); /* nothing to resume */
    if (s == LM_OK && !x.tty && o->label) {
        char h[32];
        human(h, sizeof h, (double)info->bytes);
        double secs = (double)(lm_time_ns() - x.t0) / 1e9;
        fprintf(stderr, "lmrt pull: downloaded %s in %.1f s (%s%s)\n", h, secs, o->label,
                info->resumed ? ", resumed" : "");
    }
    return s;
}

static lm_status digest_file(const char *path, const EVP_MD *md, const char *prefix, char *hex) {
    FILE *f = fopen(path, "rb");
    if (!f) return lm_error(LM_EIO, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 20);
    lm_status s = LM_OK;
    if (!ctx || !buf || !EVP_DigestInit_ex(ctx, md, NULL))
        s = lm_error(LM_ENOMEM, "%s: no digest context", path);
    if (s == LM_OK && prefix) {
        struct stat sb;
        char head[64];
        if (fstat(fileno(f), &sb) != 0) s = lm_error(LM_EIO, "%s: %s", path, strerror(errno));
        int n = snprintf(head, sizeof head, "%s %lld", prefix, (long long)sb.st_size);
        if (s == LM_OK) EVP_DigestUpdate(ctx, head, (size_t)n + 1); /* with the NUL */
    }
    size_t n;
    while (s == LM_OK && (n = fread(buf, 1, 1 << 20, f)) > 0)
        EVP_DigestUpdate(ctx, buf, n);
    if (s == LM_OK && ferror(f)) s = lm_error(LM_EIO, "%s: read error", path);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    if (s == LM_OK && !EVP_DigestFinal_ex(ctx, d, &dn))
        s = lm_error(LM_EIO, "%s: digest failed", path);
    for (unsigned i = 0; s == LM_OK && i < dn; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    EVP_MD_CTX_free(ctx);
    free(buf);
    fclose(f);
    return s;
}

lm_status cli_sha256_file(const char *path, char hex[65]) {
    return digest_file(path, EVP_sha256(), NULL, hex);
}

lm_status cli_git_sha1_file(const char *path, char hex[41]) {
    return digest_file(path, EVP_sha1(), "blob", hex);
}

lm_status cli_mkdirs(const char *path, bool parent_only) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lm_error(LM_ERANGE, "%s: path too long", path);
    if (parent_only) {
        char *slash = strrchr(buf, '/');
        if (!slash) return LM_OK;
        *slash = 0;
    }
    for (char *p = buf + 1;; p++) {
        if (*p && *p != '/') continue;
        char c = *p;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return lm_error(LM_EIO, "creating %s: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return lm_error(LM_EIO, "%s is not a directory", buf);
    return LM_OK;
}

lm_status cli_unzip_member(const char *zip, const char *member, const char *dest) {
    int zerr = 0;
    zip_t *z = zip_open(zip, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!z) {
        zip_error_t e;
        zip_error_init_with_code(&e, zerr);
        lm_status s =
            lm_error(LM_EFORMAT, "%s: not a readable zip archive: %s", zip, zip_error_strerror(&e));
        zip_error_fini(&e);
        return s;
    }
    lm_status s = LM_OK;
    zip_stat_t st;
    zip_file_t *zf = NULL;
    FILE *f = NULL;
    if (zip_stat(z, member, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        s = lm_error(LM_ENOTFOUND, "%s: no member %s", zip, member);
    else if (st.size > ((zip_uint64_t)1 << 40))
        s = lm_error(LM_ERANGE, "%s: member %s claims %llu bytes", zip, member,
                     (unsigned long long)st.size);
    else if (!(zf = zip_fopen(z, member, 0)))
        s = lm_error(LM_EFORMAT, "%s: %s: %s", zip, member, zip_strerror(z));
    else if (!(f = fopen(dest, "wb")))
        s = lm_error(LM_EIO, "%s: %s", dest, strerror(errno));
    char *buf = s == LM_OK ? malloc(1 << 20) : NULL;
    if (s == LM_OK && !buf) s = lm_error(LM_ENOMEM, "out of memory unpacking %s", member);
    zip_uint64_t total = 0;
    while (s == LM_OK) { /* libzip checks the member's CRC when the last byte is read */
        zip_int64_t n = zip_fread(zf, buf, 1 << 20);
        if (n < 0)
            s = lm_error(LM_EFORMAT, "%s: member %s at byte %llu: %s", zip, member,
                         (unsigned long long)total, zip_file_strerror(zf));
        else if (n == 0)
            break;
        else if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
            s = lm_error(LM_EIO, "%s: %s", dest, strerror(errno));
        else
            total += (zip_uint64_t)n;
    }
    if (s == LM_OK && total != st.size)
        s = lm_error(LM_EFORMAT, "%s: member %s holds %llu bytes, not %llu", zip, member,
                     (unsigned long long)total, (unsigned long long)st.size);
    free(buf);
    if (zf) zip_fclose(zf);
    if (f && fclose(f) != 0 && s == LM_OK) s = lm_error(LM_EIO, "%s: %s", dest, strerror(errno));
    zip_discard(z);
    if (s != LM_OK && f) remove(dest);
    return s;
}
