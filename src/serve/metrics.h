/*
 * metrics.h - the server's request metrics (docs/serving.md): responses by endpoint and
 * status code, a latency histogram per endpoint with Prometheus' standard buckets extended
 * below 5 ms, and a ring of the last latencies for the percentiles of /metrics.json. One
 * mutex, held for a few instructions per request (the only lock on the request path).
 * Rendering copies the counters under the lock and formats outside it.
 */
#ifndef HC_SERVE_METRICS_H
#define HC_SERVE_METRICS_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

typedef enum {
    HC_EP_RECOMMEND, /* GET /v1/recommend */
    HC_EP_BATCH,     /* POST /v1/recommend */
    HC_EP_SIMILAR,   /* GET /v1/similar */
    HC_EP_HEALTH,    /* /healthz */
    HC_EP_METRICS,   /* /metrics and /metrics.json */
    HC_EP_RELOAD,    /* POST /admin/reload */
    HC_EP_OTHER,     /* unknown paths */
    HC_EP_COUNT
} hc_endpoint;

#define HC_MET_CODES   10   /* status codes counted one by one (metrics.c), then "other" */
#define HC_MET_BUCKETS 16   /* histogram upper bounds (metrics.c) */
#define HC_LAT_RING    2048 /* latencies kept for the percentiles */

typedef struct {
    pthread_mutex_t lock;
    uint64_t count[HC_EP_COUNT][HC_MET_CODES + 1]; /* responses by endpoint and code */
    uint64_t bucket[HC_EP_COUNT][HC_MET_BUCKETS];  /* latencies <= bound (not cumulative) */
    uint64_t n_lat[HC_EP_COUNT];                   /* latencies recorded */
    double sum_s[HC_EP_COUNT];                     /* their sum in seconds */
    uint64_t fallbacks;                            /* users answered by popularity */
    double ring[HC_LAT_RING];                      /* the last latencies in ms */
    uint64_t ring_n;                               /* written so far (position = n % size) */
} hc_srv_metrics;

/* What the renderers add besides the counters. */
typedef struct {
    double uptime_s;
    uint64_t model_version;
    double model_loaded_at; /* Unix time */
    uint64_t reloads_ok, reloads_failed;
    long connections;          /* open now */
    uint64_t request_timeouts; /* connections closed past their request deadline */
} hc_srv_metrics_extra;

int hc_srv_metrics_init(hc_srv_metrics *m);
void hc_srv_metrics_free(hc_srv_metrics *m);
/* Counts a response (when it is queued, so a client that has its answer finds it counted). */
void hc_srv_metrics_count(hc_srv_metrics *m, hc_endpoint ep, unsigned int status);
/* Records a finished request's latency (headers in to response sent). */
void hc_srv_metrics_latency(hc_srv_metrics *m, hc_endpoint ep, double seconds);
void hc_srv_metrics_fallback(hc_srv_metrics *m, uint64_t n);
/* The Prometheus text exposition format (version 0.0.4), malloc'd; NULL on out of memory. */
char *hc_srv_metrics_prometheus(hc_srv_metrics *m, const hc_srv_metrics_extra *x);
/* The JSON summary of /metrics.json (new reference; NULL on out of memory). */
json_t *hc_srv_metrics_json(hc_srv_metrics *m, const hc_srv_metrics_extra *x);

#endif
