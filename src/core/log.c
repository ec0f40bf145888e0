/*
 * log.c - the library's only way to speak: a caller-installed sink (LIBLINEAR's
 * set_print_string_function). Without a sink, log lines are discarded.
 */
#include "core/internal.h"

#include <stdarg.h>
#include <stdio.h>

static hc_log_fn hc__log_fn;
static void *hc__log_ud;
static int hc__log_min = HC_LOG_INFO;

void hc_log_set(hc_log_fn fn, void *userdata, int min_level)
{
    hc__log_fn = fn;
    hc__log_ud = userdata;
    hc__log_min = min_level;
}

void hc_log(int level, const char *fmt, ...)
{
    if (!hc__log_fn || level < hc__log_min)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hc__log_fn(level, buf, hc__log_ud);
}
