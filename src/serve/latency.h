/*
 * latency.h - summary statistics of a sample of latencies, shared by the server's /metrics
 * and `hetcomp recommend --bench`: mean, nearest-rank percentiles (the smallest value with at
 * least p n values at or below it) and the maximum.
 */
#ifndef HC_LATENCY_H
#define HC_LATENCY_H

#include <stddef.h>

typedef struct {
    size_t n;                   /* sample size */
    double mean, p50, p90, p99; /* in the sample's unit; NaN when n == 0 */
    double max;
} hc_lat_summary;

/* Sorts v[0..n) ascending in place and summarises it into out. */
void hc_lat_summarise(double *v, size_t n, hc_lat_summary *out);

#endif
