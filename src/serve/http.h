/*
 * http.h - the recommendation HTTP server (libmicrohttpd, JSON via jansson; docs/serving.md).
 *
 * Endpoints:
 *   GET  /v1/recommend?user=ID&k=10[&exclude=train|all|none]  one user's top-K
 *   POST /v1/recommend  {"users": [...], "k": 10}              many users, in the order given
 *   GET  /v1/similar?item=ID&k=10[&metric=cosine|dot]          items like an item
 *   GET  /healthz                                              model, files, reload status
 *   GET  /metrics        Prometheus text format;  GET /metrics.json  the JSON summary
 *   POST /admin/reload   (with admin on) reloads the model files, as SIGHUP does
 * Errors are JSON {"error": "..."} (400 bad request, 404 unknown user/item/path, 405 method,
 * 413 body too large, 501 similar without item factors, 503 over the connection limit).
 *
 * Workers: libmicrohttpd's thread pool on epoll, opts.threads threads; each takes its own
 * slot (a recommender context over its own model copies and output buffers, live.h), so the
 * request path locks nothing but the metrics. HTTP/1.1 keep-alive; connections idle for
 * idle_timeout seconds are closed, and so are those that have not delivered a whole request
 * within request_timeout seconds of being accepted or answered (deadline.h); more than
 * max_connections open connections get 503.
 * The library never prints: libmicrohttpd's own messages go to hc_log at debug level.
 */
#ifndef HC_HTTP_H
#define HC_HTTP_H

#include "core/internal.h"
#include "serve/recommend.h"

typedef struct {
    const char *bind;        /* IPv4 or IPv6 literal to listen on ("127.0.0.1") */
    int port;                /* TCP port, 0: a free port chosen by the system (hc_server_port) */
    int threads;             /* worker threads, >= 1 (2) */
    int32_t max_k;           /* largest k a request may ask for (1000) */
    int32_t max_batch;       /* most users in one POST /v1/recommend (1000) */
    size_t max_body;         /* largest request body in bytes (1 MiB) */
    int max_connections;     /* open connections beyond which requests get 503 (1024) */
    int max_per_client;      /* connections one client address may hold, 0: no limit (256) */
    int idle_timeout;        /* seconds without traffic before a connection is closed (10) */
    int request_timeout;     /* seconds to deliver a whole request, 1..3600 (10) */
    int fallback_popular;    /* 1: unknown users get the most popular train items (0) */
    int admin;               /* 1: POST /admin/reload is served (0) */
    const hc_rec_spec *spec; /* weights, temperature, list length of an ensemble */
} hc_server_opts;

void hc_server_opts_default(hc_server_opts *o);

typedef struct hc_server hc_server;

/* Loads the n_paths model files (trained on ds) once per worker and starts serving them;
 * ds, the paths and o->spec's weights are borrowed until hc_server_stop. Returns once the
 * socket listens; *out owns the server. HC_EINVAL on bad options or address, the loader's
 * error for a bad model file, HC_EIO when the daemon cannot start (port in use, ...). */
int hc_server_start(const char *const *paths, int32_t n_paths, const hc_dataset *ds,
                    const hc_server_opts *o, hc_server **out);
/* The port actually bound (useful with port 0). */
int hc_server_port(const hc_server *s);
/* Loads the model files again and swaps them in (requests in flight finish on the old
 * model); on failure the old model keeps serving and the error is returned and reported by
 * /healthz. Safe from any thread but a worker's request. */
int hc_server_reload(hc_server *s);
/* Graceful drain: stops accepting connections, answers what is in flight (with
 * "Connection: close") and returns once no request is in progress or after timeout_s
 * seconds; returns the number of requests still in progress (0 normally). */
int hc_server_drain(hc_server *s, double timeout_s);
/* Stops the daemon (waits for its threads, closes connections) and frees s; accepts NULL. */
void hc_server_stop(hc_server *s);

#endif
