/*
 * http.c - the recommendation HTTP server: libmicrohttpd daemon, request routing and
 * validation, JSON bodies, and the request metrics behind /metrics (see http.h).
 *
 * Request life cycle: the access handler is called first when the headers are in; every
 * endpoint is a GET answered from the URL alone, so the response is queued right then (the
 * state with the start time is allocated first). A request body is never read: libmicrohttpd
 * closes such a connection after the answer, and later calls for it only drop data. The
 * completion callback records the latency and frees the state.
 *
 * Metrics: counters per status class (counted when the response is queued, so a client that
 * got its answer finds it counted) plus a ring of the last HC_LAT_RING latencies (recorded on
 * completion, from headers in to the response sent), all under
 * one mutex held for a few instructions per request; /metrics copies the ring and summarises
 * the copy outside the lock (hc_lat_summarise: nearest-rank p50, p90, p99, max).
 *
 * Input is never trusted: parameters are checked strictly (unknown or repeated parameters,
 * non-numeric or out-of-range k, include_seen other than 0/1/true/false are 400s) and ids are
 * only looked up, never used to index anything. Strings echoed into JSON are made valid UTF-8.
 */
#include "serve/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "serve/latency.h"
#include "serve/recommend.h"

#define HC_LAT_RING     2048 /* latencies kept for the percentiles */
#define HC_DEFAULT_K    10
#define HC_JSON_FLAGS   (JSON_COMPACT | JSON_REAL_PRECISION(7))
#define HC_ID_ECHO_MAX  200 /* longest id echoed back in an error message */
#define HC_CONN_TIMEOUT 30  /* seconds an idle connection is kept */

/* Counters and the latency ring (guarded by lock). */
typedef struct {
    pthread_mutex_t lock;
    uint64_t total, by_class[6]; /* responses by status / 100 (1..5; 0: other) */
    uint64_t recommends;         /* successful /v1/recommend answers */
    double ring[HC_LAT_RING];    /* latencies in ms, the last HC_LAT_RING requests */
    uint64_t n_lat;              /* latencies recorded so far (ring position = n_lat % size) */
} server_metrics;

struct hc_server {
    struct MHD_Daemon *daemon;
    const hc_rec_spec *spec; /* borrowed */
    const hc_dataset *ds;    /* borrowed */
    hc_rec_pool pool;        /* one context per worker thread */
    int32_t max_k;
    int32_t *out_items; /* pool.n x max_k, row per context (owned) */
    float *out_scores;  /* pool.n x max_k (owned) */
    char **labels;      /* spec->n_models model files shown by /healthz (owned, may be NULL) */
    double t_start;
    int port;
    server_metrics met;
    int met_inited;
};

/* Per-request state (*con_cls). */
typedef struct {
    double t0;           /* start time (monotonic seconds) */
    unsigned int status; /* status queued, 0 if none */
    server_metrics *met; /* the server's counters */
} req_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void hc_server_opts_default(hc_server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bind = "127.0.0.1";
    o->port = 8080;
    o->threads = 2;
    o->max_k = 1000;
}

/* Counts a response by status class (when it is queued, so that a client that has its answer
 * always finds it counted). */
static void metrics_count(server_metrics *m, unsigned int status)
{
    unsigned int cls = status / 100;
    pthread_mutex_lock(&m->lock);
    m->total++;
    m->by_class[cls >= 1 && cls <= 5 ? cls : 0]++;
    pthread_mutex_unlock(&m->lock);
}

/* Records a finished request's latency in the ring. */
static void metrics_latency(server_metrics *m, double ms)
{
    pthread_mutex_lock(&m->lock);
    m->ring[m->n_lat % HC_LAT_RING] = ms;
    m->n_lat++;
    pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------------------ JSON */

/* A JSON string of s (NUL-terminated); bytes that break UTF-8 become '?'. NULL on OOM. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        c[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
    j = json_string(c);
    free(c);
    return j;
}

/* A JSON number for a score; non-finite scores (JSON has none) become null. */
static json_t *jscore(float v)
{
    return isfinite(v) ? json_real((double)v) : json_null();
}

static const char OOM_BODY[] = "{\"error\": \"out of memory\"}";

/* Queues status with body (the reference is taken; NULL means out of memory: 500). */
static enum MHD_Result reply(struct MHD_Connection *c, req_state *rq, unsigned int status,
                             json_t *body)
{
    char *txt = body ? json_dumps(body, HC_JSON_FLAGS) : NULL;
    json_decref(body);
    struct MHD_Response *resp = NULL;
    if (txt) {
        resp = MHD_create_response_from_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(txt);
    }
    if (!resp) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp = MHD_create_response_from_buffer(sizeof OOM_BODY - 1, (void *)OOM_BODY,
                                               MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    rq->status = status;
    metrics_count(rq->met, status);
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, req_state *rq, unsigned int status,
                                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result reply_error(struct MHD_Connection *c, req_state *rq, unsigned int status,
                                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    if (o && json_object_set_new(o, "error", jstr(msg)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return reply(c, rq, status, o);
}

/* ------------------------------------------------------------------------------ metrics */

static json_t *metrics_json(hc_server *s)
{
    server_metrics *m = &s->met;
    double *lat = malloc(sizeof m->ring);
    if (!lat)
        return NULL;
    pthread_mutex_lock(&m->lock);
    uint64_t total = m->total, cls[6], rec = m->recommends;
    memcpy(cls, m->by_class, sizeof cls);
    size_t n = m->n_lat < HC_LAT_RING ? (size_t)m->n_lat : HC_LAT_RING;
    memcpy(lat, m->ring, n * sizeof *lat);
    pthread_mutex_unlock(&m->lock);
    hc_lat_summary ls;
    hc_lat_summarise(lat, n, &ls);
    json_t *req = json_object(), *l = json_object(), *o = json_object();
    int bad = !req || !l || !o;
    if (!bad) {
        bad |= json_object_set_new(req, "total", json_integer((json_int_t)total));
        bad |= json_object_set_new(req, "2xx", json_integer((json_int_t)cls[2]));
        bad |= json_object_set_new(req, "3xx", json_integer((json_int_t)cls[3]));
        bad |= json_object_set_new(req, "4xx", json_integer((json_int_t)cls[4]));
        bad |= json_object_set_new(req, "5xx", json_integer((json_int_t)cls[5]));
        bad |= json_object_set_new(req, "recommend_ok", json_integer((json_int_t)rec));
        bad |= json_object_set_new(l, "window", json_integer((json_int_t)n));
        bad |= json_object_set_new(l, "p50", n ? json_real(ls.p50) : json_null());
        bad |= json_object_set_new(l, "p90", n ? json_real(ls.p90) : json_null());
        bad |= json_object_set_new(l, "p99", n ? json_real(ls.p99) : json_null());
        bad |= json_object_set_new(l, "max", n ? json_real(ls.max) : json_null());
        bad |= json_object_set_new(o, "uptime_s", json_real(now_s() - s->t_start));
        bad |= json_object_set(o, "requests", req);
        bad |= json_object_set(o, "latency_ms", l);
    }
    free(lat);
    json_decref(req);
    json_decref(l);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------------------------ handlers */

/* The parameters of /v1/recommend, collected by an MHD iterator. */
typedef struct {
    const char *user, *k, *seen;
    int n_user, n_k, n_seen; /* occurrences */
    char bad[160];           /* first problem found ("" if none) */
} rec_args;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    rec_args *a = cls;
    if (!key)
        return MHD_YES;
    if (!strcmp(key, "user")) {
        a->user = value;
        a->n_user++;
    } else if (!strcmp(key, "k")) {
        a->k = value;
        a->n_k++;
    } else if (!strcmp(key, "include_seen")) {
        a->seen = value;
        a->n_seen++;
    } else if (!a->bad[0]) {
        snprintf(a->bad, sizeof a->bad,
                 "unknown parameter '%.64s' (expected user, k, include_seen)", key);
    }
    return MHD_YES;
}

/* Parses a decimal k in [1, max]: digits only, no sign or spaces. 0 on success. */
static int parse_k(const char *s, int32_t max, int32_t *out)
{
    if (!s || !*s || strlen(s) > 9)
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > max)
        return -2;
    *out = (int32_t)v;
    return 0;
}

static enum MHD_Result handle_recommend(hc_server *s, struct MHD_Connection *c, req_state *rq)
{
    rec_args a;
    memset(&a, 0, sizeof a);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    if (a.bad[0])
        return reply_error(c, rq, MHD_HTTP_BAD_REQUEST, "%s", a.bad);
    if (a.n_user > 1 || a.n_k > 1 || a.n_seen > 1)
        return reply_error(c, rq, MHD_HTTP_BAD_REQUEST, "repeated parameter");
    if (!a.user || !*a.user)
        return reply_error(c, rq, MHD_HTTP_BAD_REQUEST, "missing parameter 'user'");
    int32_t k = HC_DEFAULT_K < s->max_k ? HC_DEFAULT_K : s->max_k;
    if (a.n_k) {
        int r = parse_k(a.k, s->max_k, &k);
        if (r == -1)
            return reply_error(c, rq, MHD_HTTP_BAD_REQUEST, "k must be an integer in [1, %d]",
                               s->max_k);
        if (r == -2)
            return reply_error(c, rq, MHD_HTTP_BAD_REQUEST, "k out of range: must be in [1, %d]",
                               s->max_k);
    }
    int seen = 0;
    if (a.n_seen) {
        if (a.seen && (!strcmp(a.seen, "1") || !strcmp(a.seen, "true")))
            seen = 1;
        else if (a.seen && (!strcmp(a.seen, "0") || !strcmp(a.seen, "false")))
            seen = 0;
        else
            return reply_error(c, rq, MHD_HTTP_BAD_REQUEST,
                               "include_seen must be 0, 1, true or false");
    }
    int32_t u = hc_idmap_get(s->ds->users, a.user, strlen(a.user));
    if (u < 0)
        return reply_error(c, rq, MHD_HTTP_NOT_FOUND, "unknown user '%.*s'", HC_ID_ECHO_MAX,
                           a.user);

    hc_recommender *r = hc_rec_pool_acquire(&s->pool);
    size_t slot = (size_t)(r - s->pool.ctx) * (size_t)s->max_k;
    int32_t *items = s->out_items + slot, got = 0;
    float *scores = s->out_scores + slot;
    int rc = hc_recommend_users(r, &u, 1, k, seen, items, scores, &got);
    json_t *o = NULL, *arr = NULL;
    if (rc == HC_OK) {
        o = json_object();
        arr = json_array();
        int bad = !o || !arr;
        for (int32_t j = 0; !bad && j < got; j++) {
            json_t *e = json_object();
            bad |=
                !e || json_object_set_new(e, "item", jstr(hc_idmap_name(s->ds->items, items[j])));
            bad |= e && json_object_set_new(e, "score", jscore(scores[j]));
            bad |= json_array_append_new(arr, e);
        }
        if (!bad) {
            bad |= json_object_set_new(o, "user", jstr(a.user));
            bad |= json_object_set_new(o, "k", json_integer(k));
            bad |= json_object_set(o, "items", arr);
        }
        json_decref(arr);
        if (bad) {
            json_decref(o);
            o = NULL;
        }
    }
    hc_rec_pool_release(&s->pool, r);
    if (rc != HC_OK)
        return reply_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "recommend failed: %s",
                           hc_errmsg());
    if (o) {
        pthread_mutex_lock(&s->met.lock);
        s->met.recommends++;
        pthread_mutex_unlock(&s->met.lock);
    }
    return reply(c, rq, MHD_HTTP_OK, o);
}

/* The ensemble's members for /healthz: [{"model", "dim", "weight"[, "model_file"]}]. */
static json_t *members_json(const hc_server *s)
{
    json_t *arr = json_array();
    int bad = !arr;
    for (int32_t x = 0; !bad && x < s->spec->n_models; x++) {
        const hc_model *m = s->spec->models[x];
        json_t *e = json_object();
        bad |= !e || json_object_set_new(e, "model", json_string(m->type->name));
        bad |= e && json_object_set_new(e, "dim", json_integer(m->hp.dim));
        bad |= e && json_object_set_new(
                        e, "weight", json_real(s->spec->weight ? (double)s->spec->weight[x] : 1.0));
        if (e && s->labels)
            bad |= json_object_set_new(e, "model_file", jstr(s->labels[x]));
        bad |= json_array_append_new(arr, e);
    }
    if (bad) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static enum MHD_Result handle_health(hc_server *s, struct MHD_Connection *c, req_state *rq)
{
    const hc_rec_spec *sp = s->spec;
    json_t *o = json_object();
    int bad = !o;
    if (!bad && sp->n_models == 1) {
        bad |= json_object_set_new(o, "status", json_string("ok"));
        bad |= json_object_set_new(o, "model", json_string(sp->models[0]->type->name));
        bad |= json_object_set_new(o, "dim", json_integer(sp->models[0]->hp.dim));
    } else if (!bad) {
        bad |= json_object_set_new(o, "status", json_string("ok"));
        bad |= json_object_set_new(o, "model", json_string("ensemble"));
        bad |= json_object_set_new(o, "models", members_json(s));
        bad |= json_object_set_new(o, "ensemble_k", json_integer(s->pool.ctx[0].ens_k));
        bad |= json_object_set_new(o, "temperature", json_real((double)sp->temperature));
    }
    if (!bad) {
        bad |= json_object_set_new(o, "users", json_integer(s->ds->n_users));
        bad |= json_object_set_new(o, "items", json_integer(s->ds->n_items));
        bad |= json_object_set_new(o, "threads", json_integer(s->pool.n));
        if (s->labels && sp->n_models == 1)
            bad |= json_object_set_new(o, "model_file", jstr(s->labels[0]));
    }
    if (bad) {
        json_decref(o);
        o = NULL;
    }
    return reply(c, rq, MHD_HTTP_OK, o);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    hc_server *s = cls;
    if (*con_cls) { /* answered on the first call; a body, if any, is dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    req_state *rq = calloc(1, sizeof *rq);
    if (!rq)
        return MHD_NO;
    rq->t0 = now_s();
    rq->met = &s->met;
    *con_cls = rq;
    enum { P_NONE, P_REC, P_HEALTH, P_METRICS } path = P_NONE;
    if (url && !strcmp(url, "/v1/recommend"))
        path = P_REC;
    else if (url && !strcmp(url, "/healthz"))
        path = P_HEALTH;
    else if (url && !strcmp(url, "/metrics"))
        path = P_METRICS;
    int get =
        method && (!strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD));
    if (path == P_NONE)
        return reply_error(c, rq, MHD_HTTP_NOT_FOUND, "unknown path '%.*s'", HC_ID_ECHO_MAX,
                           url ? url : "");
    if (!get)
        return reply_error(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method %.32s not allowed",
                           method ? method : "?");
    switch (path) {
    case P_REC:
        return handle_recommend(s, c, rq);
    case P_HEALTH:
        return handle_health(s, c, rq);
    default:
        return reply(c, rq, MHD_HTTP_OK, metrics_json(s));
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    hc_server *s = cls;
    req_state *rq = *con_cls;
    if (!rq)
        return;
    if (rq->status) /* else the connection died before an answer: not a request */
        metrics_latency(&s->met, 1e3 * (now_s() - rq->t0));
    free(rq);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    hc_log(HC_LOG_DEBUG, "http: %s", buf);
}

/* ------------------------------------------------------------------------------ life cycle */

int hc_server_port(const hc_server *s)
{
    return s->port;
}

void hc_server_stop(hc_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    hc_rec_pool_free(&s->pool);
    free(s->out_items);
    free(s->out_scores);
    for (int32_t x = 0; s->labels && x < s->spec->n_models; x++)
        free(s->labels[x]);
    free(s->labels);
    if (s->met_inited)
        pthread_mutex_destroy(&s->met.lock);
    free(s);
}

int hc_server_start(const hc_rec_spec *spec, const hc_dataset *ds, const hc_server_opts *o,
                    hc_server **out)
{
    *out = NULL;
    if (!spec || spec->n_models < 1 || !spec->models)
        return hc_error(HC_EINVAL, "serve: no model");
    if (!o->bind || o->port < 0 || o->port > 65535 || o->threads < 1 || o->threads > 1024 ||
        o->max_k < 1)
        return hc_error(HC_EINVAL, "serve: bad options (port %d, threads %d, max k %d)", o->port,
                        o->threads, o->max_k);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    const struct sockaddr *sa;
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, o->bind, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)o->port);
        sa = (const struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, o->bind, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)o->port);
        sa = (const struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return hc_error(HC_EINVAL, "serve: '%s' is not an IPv4 or IPv6 address", o->bind);
    }
    hc_server *s = calloc(1, sizeof *s);
    if (!s)
        return hc_error(HC_ENOMEM, "serve: out of memory");
    int rc = HC_OK;
    s->spec = spec;
    s->ds = ds;
    s->max_k = o->max_k;
    s->t_start = now_s();
    if (pthread_mutex_init(&s->met.lock, NULL) != 0) {
        rc = hc_error(HC_ENOMEM, "serve: cannot create a mutex");
        goto fail;
    }
    s->met_inited = 1;
    if ((rc = hc_rec_pool_init_spec(&s->pool, spec, ds, o->threads, 1)) != HC_OK)
        goto fail;
    s->out_items = malloc((size_t)o->threads * (size_t)o->max_k * sizeof *s->out_items);
    s->out_scores = malloc((size_t)o->threads * (size_t)o->max_k * sizeof *s->out_scores);
    if (o->labels) {
        if (!(s->labels = calloc((size_t)spec->n_models, sizeof *s->labels)))
            goto oom;
        for (int32_t x = 0; x < spec->n_models; x++)
            if (!(s->labels[x] = strdup(o->labels[x] ? o->labels[x] : "")))
                goto oom;
    }
    if (!s->out_items || !s->out_scores)
        goto oom;
    errno = 0;
    if (o->threads > 1)
        s->daemon = MHD_start_daemon(
            flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
            on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned int)o->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HC_CONN_TIMEOUT, MHD_OPTION_END);
    else
        s->daemon = MHD_start_daemon(
            flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
            on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
            s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HC_CONN_TIMEOUT, MHD_OPTION_END);
    if (!s->daemon) {
        rc = hc_error(HC_EIO, "serve: cannot listen on %s port %d%s%s", o->bind, o->port,
                      errno ? ": " : "", errno ? strerror(errno) : "");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info && info->port ? info->port : o->port;
    *out = s;
    return HC_OK;
oom:
    rc = hc_error(HC_ENOMEM, "serve: out of memory");
fail:
    hc_server_stop(s);
    return rc;
}
