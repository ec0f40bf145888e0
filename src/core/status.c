/*
 * status.c - status codes and the per-thread error message.
 *
 * Every library function that fails calls hc_error(code, fmt, ...) once, at the place that
 * knows the file, line and problem; callers up the stack return the code unchanged, so the
 * message the CLI prints is the most specific one.
 */
#include "core/internal.h"

#include <stdarg.h>
#include <stdio.h>

const int hc_version = HC_VERSION_MAJOR * 10000 + HC_VERSION_MINOR * 100 + HC_VERSION_PATCH;

static _Thread_local char hc__errbuf[1024];

const char *hc_strerror(int code)
{
    switch (code) {
    case HC_OK:
        return "success";
#define HC__STR(name, c, msg)                                                                      \
    case HC_##name:                                                                                \
        return msg;
        HC_ERRNO_MAP(HC__STR)
#undef HC__STR
    }
    return "unknown error";
}

const char *hc_err_name(int code)
{
    switch (code) {
    case HC_OK:
        return "HC_OK";
#define HC__NAME(name, c, msg)                                                                     \
    case HC_##name:                                                                                \
        return "HC_" #name;
        HC_ERRNO_MAP(HC__NAME)
#undef HC__NAME
    }
    return "HC_UNKNOWN";
}

const char *hc_errmsg(void)
{
    return hc__errbuf;
}

int hc_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hc__errbuf, sizeof hc__errbuf, fmt, ap);
    va_end(ap);
    return code;
}

void hc_error_clear(void)
{
    hc__errbuf[0] = '\0';
}
