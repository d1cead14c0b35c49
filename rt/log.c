/* rt/log.c - leveled logging to stderr and the monotonic clock.
 *
 * The level comes from LMRT_LOG (error, warn, info, debug; default warn), read once. Library
 * code logs here and never to stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmrt.h"

static enum lm_log_level log_level = LM_LOG_WARN;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void) {
    static const char *names[] = {"error", "warn", "info", "debug"};
    const char *env = getenv("LMRT_LOG");
    if (!env) return;
    for (int i = 0; i < 4; i++)
        if (strcmp(env, names[i]) == 0) log_level = (enum lm_log_level)i;
}

bool lm_log_enabled(enum lm_log_level level) {
    pthread_once(&log_once, log_init);
    return level <= log_level;
}

void lm_log(enum lm_log_level level, const char *fmt, ...) {
    static const char *tags[] = {"error", "warn", "info", "debug"};
    if (!lm_log_enabled(level)) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lmrt %s: %s\n", tags[level], msg); /* one write per line */
}

uint64_t lm_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
