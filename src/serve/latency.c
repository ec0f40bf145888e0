/*
 * latency.c - latency summaries (see latency.h): one qsort, then O(1) per statistic.
 */
#include "serve/latency.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0 < p <= 1) of sorted v[0..n), n >= 1. */
static double percentile(const double *v, size_t n, double p)
{
    size_t r = (size_t)ceil(p * (double)n);
    return v[r > 0 ? r - 1 : 0];
}

void hc_lat_summarise(double *v, size_t n, hc_lat_summary *out)
{
    out->n = n;
    if (n == 0) {
        out->mean = out->p50 = out->p90 = out->p99 = out->max = NAN;
        return;
    }
    qsort(v, n, sizeof *v, cmp_double);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    out->mean = sum / (double)n;
    out->p50 = percentile(v, n, 0.50);
    out->p90 = percentile(v, n, 0.90);
    out->p99 = percentile(v, n, 0.99);
    out->max = v[n - 1];
}
