/*
 * metrics.c - request counters, latency histograms and their Prometheus and JSON renderings
 * (see metrics.h). Counting costs a lock and a few increments; rendering is O(endpoints x
 * (codes + buckets)) plus a sort of the 2,048-latency ring for the JSON percentiles.
 */
#include "serve/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "serve/latency.h"

static const unsigned int CODES[HC_MET_CODES] = {200, 400, 404, 405, 413, 415, 500, 501, 503, 431};
/* Prometheus' default buckets (5 ms .. 10 s) with finer ones below: answers take ~0.1 ms */
static const double BOUNDS[HC_MET_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1,      2.5,     5,      10};
static const char *const EP_NAMES[HC_EP_COUNT] = {
    "recommend", "recommend_batch", "similar", "healthz", "metrics", "reload", "other"};

int hc_srv_metrics_init(hc_srv_metrics *m)
{
    memset(m, 0, sizeof *m);
    return pthread_mutex_init(&m->lock, NULL) == 0 ? HC_OK
                                                   : hc_error(HC_ENOMEM, "cannot create a mutex");
}

void hc_srv_metrics_free(hc_srv_metrics *m)
{
    pthread_mutex_destroy(&m->lock);
}

static int code_index(unsigned int status)
{
    for (int c = 0; c < HC_MET_CODES; c++)
        if (CODES[c] == status)
            return c;
    return HC_MET_CODES;
}

void hc_srv_metrics_count(hc_srv_metrics *m, hc_endpoint ep, unsigned int status)
{
    int c = code_index(status);
    pthread_mutex_lock(&m->lock);
    m->count[ep][c]++;
    pthread_mutex_unlock(&m->lock);
}

void hc_srv_metrics_latency(hc_srv_metrics *m, hc_endpoint ep, double seconds)
{
    int b = 0;
    while (b < HC_MET_BUCKETS && seconds > BOUNDS[b])
        b++;
    pthread_mutex_lock(&m->lock);
    if (b < HC_MET_BUCKETS)
        m->bucket[ep][b]++;
    m->n_lat[ep]++;
    m->sum_s[ep] += seconds;
    m->ring[m->ring_n % HC_LAT_RING] = 1e3 * seconds;
    m->ring_n++;
    pthread_mutex_unlock(&m->lock);
}

void hc_srv_metrics_fallback(hc_srv_metrics *m, uint64_t n)
{
    pthread_mutex_lock(&m->lock);
    m->fallbacks += n;
    pthread_mutex_unlock(&m->lock);
}

/* A consistent copy of the counters (the ring excluded). */
static void snapshot(hc_srv_metrics *m, hc_srv_metrics *out)
{
    pthread_mutex_lock(&m->lock);
    memcpy(out->count, m->count, sizeof m->count);
    memcpy(out->bucket, m->bucket, sizeof m->bucket);
    memcpy(out->n_lat, m->n_lat, sizeof m->n_lat);
    memcpy(out->sum_s, m->sum_s, sizeof m->sum_s);
    out->fallbacks = m->fallbacks;
    pthread_mutex_unlock(&m->lock);
}

static void histogram(FILE *f, const hc_srv_metrics *s)
{
    fputs("# HELP hetcomp_request_duration_seconds Time from request headers received to "
          "response sent.\n# TYPE hetcomp_request_duration_seconds histogram\n",
          f);
    for (int e = 0; e < HC_EP_COUNT; e++) {
        uint64_t cum = 0;
        for (int b = 0; b < HC_MET_BUCKETS; b++) {
            cum += s->bucket[e][b];
            fprintf(f, "hetcomp_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                    EP_NAMES[e], BOUNDS[b], (unsigned long long)cum);
        }
        fprintf(f,
                "hetcomp_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n"
                "hetcomp_request_duration_seconds_sum{endpoint=\"%s\"} %.9g\n"
                "hetcomp_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                EP_NAMES[e], (unsigned long long)s->n_lat[e], EP_NAMES[e], s->sum_s[e], EP_NAMES[e],
                (unsigned long long)s->n_lat[e]);
    }
}

char *hc_srv_metrics_prometheus(hc_srv_metrics *m, const hc_srv_metrics_extra *x)
{
    hc_srv_metrics *sp = malloc(sizeof *sp); /* 40 kB: not on a worker's stack */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = sp ? open_memstream(&buf, &len) : NULL;
    if (!f) {
        free(sp);
        return NULL;
    }
    const hc_srv_metrics *s = sp;
    snapshot(m, sp);
    fputs("# HELP hetcomp_requests_total Responses sent, by endpoint and status code.\n"
          "# TYPE hetcomp_requests_total counter\n",
          f);
    for (int e = 0; e < HC_EP_COUNT; e++)
        for (int c = 0; c <= HC_MET_CODES; c++)
            if (s->count[e][c] || c == 0) {
                char code[8] = "other";
                if (c < HC_MET_CODES)
                    snprintf(code, sizeof code, "%u", CODES[c]);
                fprintf(f, "hetcomp_requests_total{endpoint=\"%s\",code=\"%s\"} %llu\n",
                        EP_NAMES[e], code, (unsigned long long)s->count[e][c]);
            }
    histogram(f, s);
    fprintf(f,
            "# HELP hetcomp_fallback_users_total Unknown users answered by the popularity "
            "fallback.\n# TYPE hetcomp_fallback_users_total counter\n"
            "hetcomp_fallback_users_total %llu\n",
            (unsigned long long)s->fallbacks);
    free(sp);
    fprintf(f,
            "# HELP hetcomp_model_version Model generation served (1 at start, +1 per reload).\n"
            "# TYPE hetcomp_model_version gauge\nhetcomp_model_version %llu\n"
            "# HELP hetcomp_model_loaded_timestamp_seconds When the served model was loaded.\n"
            "# TYPE hetcomp_model_loaded_timestamp_seconds gauge\n"
            "hetcomp_model_loaded_timestamp_seconds %.3f\n"
            "# HELP hetcomp_model_reloads_total Model reloads, by result.\n"
            "# TYPE hetcomp_model_reloads_total counter\n"
            "hetcomp_model_reloads_total{result=\"ok\"} %llu\n"
            "hetcomp_model_reloads_total{result=\"failed\"} %llu\n"
            "# HELP hetcomp_connections_open HTTP connections open.\n"
            "# TYPE hetcomp_connections_open gauge\nhetcomp_connections_open %ld\n"
            "# HELP hetcomp_request_timeouts_total Connections closed for not delivering a "
            "whole request in time.\n"
            "# TYPE hetcomp_request_timeouts_total counter\nhetcomp_request_timeouts_total %llu\n"
            "# HELP hetcomp_uptime_seconds Seconds since the server started.\n"
            "# TYPE hetcomp_uptime_seconds gauge\nhetcomp_uptime_seconds %.3f\n",
            (unsigned long long)x->model_version, x->model_loaded_at,
            (unsigned long long)x->reloads_ok, (unsigned long long)x->reloads_failed,
            x->connections, (unsigned long long)x->request_timeouts, x->uptime_s);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Responses of status class cls (2 for 2xx, ...) over every endpoint; cls 0: all. */
static uint64_t class_total(const hc_srv_metrics *s, unsigned int cls)
{
    uint64_t n = 0;
    for (int e = 0; e < HC_EP_COUNT; e++)
        for (int c = 0; c <= HC_MET_CODES; c++)
            if (!cls || (c < HC_MET_CODES && CODES[c] / 100 == cls))
                n += s->count[e][c];
    return n;
}

json_t *hc_srv_metrics_json(hc_srv_metrics *m, const hc_srv_metrics_extra *x)
{
    hc_srv_metrics *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    snapshot(m, s);
    pthread_mutex_lock(&m->lock);
    size_t n = m->ring_n < HC_LAT_RING ? (size_t)m->ring_n : HC_LAT_RING;
    memcpy(s->ring, m->ring, n * sizeof *s->ring);
    pthread_mutex_unlock(&m->lock);
    hc_lat_summary ls;
    hc_lat_summarise(s->ring, n, &ls);
    uint64_t rec_ok = s->count[HC_EP_RECOMMEND][0] + s->count[HC_EP_BATCH][0];
    json_t *o = json_pack(
        "{s:f, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:o, s:o, s:o, s:o},"
        " s:{s:I, s:I, s:I, s:I}, s:I, s:I}",
        "uptime_s", x->uptime_s, "requests", "total", (json_int_t)class_total(s, 0), "2xx",
        (json_int_t)class_total(s, 2), "3xx", (json_int_t)class_total(s, 3), "4xx",
        (json_int_t)class_total(s, 4), "5xx", (json_int_t)class_total(s, 5), "recommend_ok",
        (json_int_t)rec_ok, "fallback_users", (json_int_t)s->fallbacks, "latency_ms", "window",
        (json_int_t)n, "p50", n ? json_real(ls.p50) : json_null(), "p90",
        n ? json_real(ls.p90) : json_null(), "p99", n ? json_real(ls.p99) : json_null(), "max",
        n ? json_real(ls.max) : json_null(), "model", "version", (json_int_t)x->model_version,
        "loaded_at", (json_int_t)x->model_loaded_at, "reloads_ok", (json_int_t)x->reloads_ok,
        "reloads_failed", (json_int_t)x->reloads_failed, "connections", (json_int_t)x->connections,
        "request_timeouts", (json_int_t)x->request_timeouts);
    free(s);
    return o;
}
