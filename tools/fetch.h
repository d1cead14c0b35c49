/* tools/fetch.h - the network and file plumbing of `lmrt pull` (tools/fetch.c): HTTP GET into
 * memory or into a resumable .part file (libcurl), SHA-256 / git-blob SHA-1 of a file (OpenSSL
 * libcrypto), and members of a zip archive (a wheel) written out atomically (libzip).
 *
 * Every function returns an lm_status and leaves a message in lm_last_error() that names the URL,
 * file or member at fault. Only the progress display writes to stderr. Nothing exits.
 */
#ifndef LMRT_FETCH_H
#define LMRT_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rt/lmrt.h"

struct cli_fetch_opts {
    long connect_timeout_ms; /* 0: 15 s */
    const char *label;       /* shown by the progress display; NULL: no display */
    const char *bearer;      /* an Authorization: Bearer token for the first host, or NULL */
};

struct cli_fetch_info {
    long status;          /* HTTP status of the last response (0: none arrived) */
    bool unreachable;     /* no response at all: DNS, connect, TLS or a connect timeout */
    bool resumed;         /* fetch_to_file appended to bytes already in the .part file */
    int64_t bytes;        /* body bytes received by this call */
    char etag[72];        /* first ETag seen, quotes and W/ stripped ("" if none) */
    char linked_etag[72]; /* X-Linked-Etag (Hugging Face: the LFS file's sha256), or "" */
};

/* GET url into a malloc'd buffer (NUL-terminated; *len excludes the NUL), at most max bytes. */
lm_status cli_fetch_memory(const char *url, size_t max, const struct cli_fetch_opts *o, char **out,
                           size_t *len, struct cli_fetch_info *info);

/* GET url into the file part. When part already holds bytes, asks for the rest (Range) and
 * appends if the server answers 206, or starts over on 200. An interrupted transfer leaves part
 * as it is, so the next call resumes it. */
lm_status cli_fetch_file(const char *url, const char *part, const struct cli_fetch_opts *o,
                         struct cli_fetch_info *info);

/* ref resolved against base (ref may be absolute, or relative as some PyPI mirrors give). */
lm_status cli_url_resolve(const char *base, const char *ref, char *out, size_t n);

/* Lowercase hex digest of a file's bytes: SHA-256, or the git blob SHA-1 (what Hugging Face
 * reports as the ETag of a file not kept in LFS: sha1("blob <size>\0" + bytes)). */
lm_status cli_sha256_file(const char *path, char hex[65]);
lm_status cli_git_sha1_file(const char *path, char hex[41]);

/* Write member of the zip archive zip to the file dest (its directory must exist), checking the
 * member's CRC; dest is removed on failure. */
lm_status cli_unzip_member(const char *zip, const char *member, const char *dest);

/* mkdir -p of path's directories (all but the last component when parent_only). */
lm_status cli_mkdirs(const char *path, bool parent_only);

#endif
