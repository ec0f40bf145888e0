/*
 * clock.c - the one monotonic clock every timing in the library, the server and the CLI
 * reads (epoch times, request latencies, deadlines). One clock_gettime call.
 */
#include "core/internal.h"

#include <time.h>

double hc_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
