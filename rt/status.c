/* rt/status.c - status names and the per-thread last-error message.
 *
 * Every error path formats one message naming the file, tensor, key, shape or offset at fault;
 * callers print it (tools/) or pass it up. Messages are truncated, never overflowed.
 */
#include <stdarg.h>
#include <stdio.h>

#include "lmrt.h"

static _Thread_local char last_error[512];

const char *lm_status_str(lm_status s) {
    switch (s) {
    case LM_OK: return "ok";
    case LM_EIO: return "i/o error";
    case LM_EFORMAT: return "malformed input";
    case LM_ENOMEM: return "out of memory";
    case LM_EINVAL: return "invalid argument";
    case LM_EUNSUPPORTED: return "unsupported";
    case LM_ERANGE: return "out of range";
    case LM_ENOTFOUND: return "not found";
    }
    return "unknown status";
}

const char *lm_last_error(void) { return last_error; }

void lm_clear_error(void) { last_error[0] = '\0'; }

lm_status lm_error(lm_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    lm_log(LM_LOG_DEBUG, "error %s: %s", lm_status_str(s), last_error);
    return s;
}
