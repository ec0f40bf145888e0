/*
 * http.h - the recommendation HTTP server (libmicrohttpd, JSON bodies via jansson).
 *
 * Endpoints (docs/serving.md):
 *   GET /v1/recommend?user=ID&k=10[&include_seen=1]
 *       -> {"user", "k", "items": [{"item", "score"}]}
 *   GET /healthz -> {"status": "ok", "model", "users", "items", ...}
 *   GET /metrics -> request counts and latency percentiles
 * Errors are JSON {"error": "..."}: 400 bad or missing parameters / k out of range, 404
 * unknown user or path, 405 a method other than GET or HEAD, 500 internal failures.
 *
 * The server answers from an hc_rec_spec: one model, or the live ensemble of several
 * (recommend.h; the scores are then the ensemble's importances).
 *
 * The daemon runs its own polling threads (MHD_USE_INTERNAL_POLLING_THREAD) with a pool of
 * opts.threads workers; each request takes a recommender context from an hc_rec_pool with as
 * many contexts as workers, and each model's scoring is serialised by its own lock in the
 * pool (recommend.h). The library never prints: libmicrohttpd's own messages (mostly about
 * broken client requests, which it answers itself with an HTML 400/414 that /metrics does not
 * count) go to hc_log at debug level.
 */
#ifndef HC_HTTP_H
#define HC_HTTP_H

#include "hetcomp.h"
#include "serve/recommend.h"

typedef struct {
    const char *bind;          /* IPv4 or IPv6 literal to listen on ("127.0.0.1") */
    int port;                  /* TCP port, 0: a free port chosen by the system (hc_server_port) */
    int threads;               /* worker threads, >= 1 (2) */
    int32_t max_k;             /* largest k a request may ask for (1000) */
    const char *const *labels; /* n_models model files shown by /healthz (may be NULL) */
} hc_server_opts;

void hc_server_opts_default(hc_server_opts *o);

typedef struct hc_server hc_server;

/* Starts serving spec's model(s) (loaded and prepared) on dataset ds, the spec, its models and
 * ds borrowed until hc_server_stop. Returns once the socket listens; *out owns the server.
 * HC_EINVAL on bad options, address or spec (hc_recommend_init_spec's checks), HC_EIO when
 * the daemon cannot start (port in use, ...). */
int hc_server_start(const hc_rec_spec *spec, const hc_dataset *ds, const hc_server_opts *o,
                    hc_server **out);
/* The port actually bound (useful with port 0). */
int hc_server_port(const hc_server *s);
/* Stops the daemon (waits for its threads, closes connections) and frees s; accepts NULL. */
void hc_server_stop(hc_server *s);

#endif
