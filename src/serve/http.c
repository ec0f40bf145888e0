/*
 * http.c - the recommendation HTTP server: libmicrohttpd daemon, request routing and
 * validation, the endpoints' JSON answers, limits and graceful drain (see http.h).
 *
 * Request life cycle: the access handler's first call (headers in) allocates the request
 * state and returns; later calls hand over the body, kept up to max_body bytes (the rest is
 * dropped and answered 413); the call with no more data answers. Queuing the answer only
 * then is what keeps the connection alive (libmicrohttpd closes a connection whose answer
 * was queued before the request was complete). The completion callback records the latency.
 *
 * Workers: each libmicrohttpd worker thread takes a slot index the first time it answers
 * (a pthread key per server); the slot is its recommender context and output buffers, so no
 * request waits for another. A request enters the live generation for its slot and leaves it
 * when its JSON is built (live.h), which is what lets a reload swap models under load.
 *
 * Input is never trusted: parameters are checked strictly (unknown, repeated or NUL-holding
 * keys and values are 400s), ids are only looked up, and strings echoed into JSON are made
 * valid UTF-8. Cost per single-user request: the model's score of one user, a top-k over the
 * items and a JSON document of k entries.
 */
#include "serve/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/similar.h"
#include "serve/body.h"
#include "serve/deadline.h"
#include "serve/jsonout.h"
#include "serve/live.h"
#include "serve/metrics.h"

#define HC_JSON_FLAGS  (JSON_COMPACT | JSON_REAL_PRECISION(7))
#define HC_ID_ECHO_MAX 200       /* longest id echoed back in an error message */
#define HC_BUF_ENTRIES (1 << 20) /* output entries per worker (rows x max_k) */
#define HC_SCORE_BUF   (1 << 24) /* score floats per worker context (rows x items) */

/* A worker's own output buffers (rows x max_k). */
typedef struct {
    int32_t *items, *count, *users;
    float *scores;
} worker_buf;

struct hc_server {
    struct MHD_Daemon *daemon;
    const hc_dataset *ds; /* borrowed */
    hc_server_opts o;
    hc_live live;
    int live_inited;
    int32_t n_workers, rows; /* rows: users per score call and per output buffer */
    worker_buf *buf;         /* n_workers */
    int32_t *pop_items;      /* the popularity fallback's list (max_k, by train count) */
    float *pop_scores;
    int32_t n_pop;
    hc_idtab item_ids; /* the item ids, escaped for JSON once */
    pthread_key_t slot_key;
    int key_inited;
    atomic_int next_slot;
    atomic_long n_conn;    /* connections open */
    atomic_long in_flight; /* requests between headers in and completion */
    atomic_int draining;
    MHD_socket quiesced; /* the listening socket after a drain, closed after the stop */
    hc_srv_metrics met;
    int met_inited;
    hc_deadlines dl; /* the request deadlines of the live connections (deadline.h) */
    int dl_inited;
    double t_start;
    int port;
};

/* Per-request state (*con_cls). */
typedef struct {
    double t0;           /* start time (monotonic seconds) */
    hc_endpoint ep;      /* the endpoint counted for */
    unsigned int status; /* status queued, 0 if none */
    char *body;          /* the request body so far (POST) */
    size_t len, cap;
    int too_big; /* 1: the body passed max_body */
} req_state;

void hc_server_opts_default(hc_server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bind = "127.0.0.1";
    o->port = 8080;
    o->threads = 2;
    o->max_k = 1000;
    o->max_batch = 1000;
    o->max_body = 1 << 20;
    o->max_connections = 1024;
    o->idle_timeout = 10;
    o->request_timeout = 10;
    o->max_per_client = 256;
}

/* ------------------------------------------------------------------------------ replies */

/* A JSON string of s[0..n) (NUL-free); bytes that break UTF-8 become '?'. NULL on OOM. */
static json_t *jstrn(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)s[i] >= 0x80 || !s[i] ? '?' : s[i];
    j = json_stringn(c, n);
    free(c);
    return j;
}

static json_t *jstr(const char *s)
{
    return jstrn(s, strlen(s));
}

static const char OOM_BODY[] = "{\"error\": \"out of memory\"}";

/* Queues status with txt[0..len) (malloc'd, taken; NULL: out of memory, a 500). */
static enum MHD_Result queue(hc_server *s, struct MHD_Connection *c, req_state *rq,
                             unsigned int status, char *txt, size_t len, const char *ctype)
{
    struct MHD_Response *resp = NULL;
    if (txt) {
        resp = MHD_create_response_from_buffer(len, txt, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(txt);
    }
    if (!resp) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        ctype = "application/json";
        resp = MHD_create_response_from_buffer(sizeof OOM_BODY - 1, (void *)OOM_BODY,
                                               MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                rq->ep == HC_EP_RECOMMEND ? "GET, HEAD, POST"
                                : rq->ep == HC_EP_RELOAD  ? "POST"
                                                          : "GET, HEAD");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    /* over the limit or draining: the client should reconnect (elsewhere) */
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE || atomic_load(&s->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    rq->status = status;
    hc_srv_metrics_count(&s->met, rq->ep, status);
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Queues status with a JSON body (the reference is taken; NULL means out of memory). */
static enum MHD_Result reply(hc_server *s, struct MHD_Connection *c, req_state *rq,
                             unsigned int status, json_t *body)
{
    char *txt = body ? json_dumps(body, HC_JSON_FLAGS) : NULL;
    json_decref(body);
    return queue(s, c, rq, status, txt, txt ? strlen(txt) : 0, "application/json");
}

static enum MHD_Result reply_error(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                   unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result reply_error(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                   unsigned int status, const char *fmt, ...)
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
    return reply(s, c, rq, status, o);
}

/* ------------------------------------------------------------------------------ parameters */

/* libmicrohttpd's callback for each query parameter: hc_query_add does the checking. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    hc_query_add(cls, key, key_size, value, value_size);
    return MHD_YES;
}

/* Collects the query parameters into a (names: the endpoint's). 0, or -1 with a->bad set. */
static int get_args(struct MHD_Connection *c, const char *const *names, int n, hc_query *a)
{
    hc_query_init(a, names, n);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_arg, a);
    return a->bad[0] ? -1 : 0;
}

/* ------------------------------------------------------------------------------ workers */

/* This thread's worker slot, taken on its first request; -1 if every slot is taken (more
 * threads than workers: should not happen). */
static int32_t worker_slot(hc_server *s)
{
    intptr_t v = (intptr_t)pthread_getspecific(s->slot_key);
    if (v)
        return (int32_t)(v - 1);
    int w = atomic_fetch_add(&s->next_slot, 1);
    if (w >= s->n_workers)
        return -1;
    pthread_setspecific(s->slot_key, (void *)(intptr_t)(w + 1));
    return w;
}

/* Appends [{"item", "score"}] of a list of got items. */
static void jb_items(hc_jbuf *b, const hc_server *s, const int32_t *items, const float *scores,
                     int32_t got)
{
    hc_jb_lit(b, "[");
    for (int32_t j = 0; j < got; j++) {
        hc_jb_lit(b, j ? ",{\"item\":" : "{\"item\":");
        hc_jb_id(b, &s->item_ids, items[j]);
        hc_jb_lit(b, ",\"score\":");
        hc_jb_score(b, scores[j]);
        hc_jb_lit(b, "}");
    }
    hc_jb_lit(b, "]");
}

/* Appends one user's answer {"user", "k", "items"} (k < 0: no "k" key, -k items), or with
 * items NULL the popularity fallback's first k, marked "fallback": "popular". */
static void jb_user(hc_jbuf *b, const hc_server *s, const char *id, size_t id_len, int32_t k,
                    const int32_t *items, const float *scores, int32_t got)
{
    hc_jb_lit(b, "{\"user\":");
    hc_jb_str(b, id, id_len);
    if (k > 0) {
        hc_jb_lit(b, ",\"k\":");
        hc_jb_int(b, k);
    }
    k = k < 0 ? -k : k;
    if (!items) {
        hc_jb_lit(b, ",\"fallback\":\"popular\"");
        items = s->pop_items;
        scores = s->pop_scores;
        got = k < s->n_pop ? k : s->n_pop;
    }
    hc_jb_lit(b, ",\"items\":");
    jb_items(b, s, items, scores, got);
    hc_jb_lit(b, "}");
}

/* Queues a 200 with b's text (a 500 if it ran out of memory). */
static enum MHD_Result reply_text(hc_server *s, struct MHD_Connection *c, req_state *rq, hc_jbuf *b)
{
    size_t len;
    char *txt = hc_jb_take(b, &len);
    return queue(s, c, rq, MHD_HTTP_OK, txt, len, "application/json");
}

/* ------------------------------------------------------------------------------ endpoints */

/* Runs hc_recommend_users for users[0..n) (n <= s->rows) on worker w's context. */
static int recommend_rows(hc_server *s, int32_t w, const int32_t *users, int32_t n, int32_t k,
                          hc_exclude ex)
{
    hc_live_gen *g = hc_live_enter(&s->live, w);
    int rc = hc_recommend_users(&g->rec[w], users, n, k, ex, s->buf[w].items, s->buf[w].scores,
                                s->buf[w].count);
    hc_live_leave(&s->live, w);
    return rc;
}

static enum MHD_Result handle_recommend(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                        int32_t w)
{
    static const char *const names[] = {"user", "k", "include_seen", "exclude"};
    hc_query a;
    char msg[160] = "";
    int32_t k;
    hc_exclude ex;
    if (get_args(c, names, 4, &a) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "%s", a.bad);
    if (!a.seen[0] || !a.len[0])
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "missing parameter 'user'");
    if (hc_query_k(&a, 1, s->o.max_k, &k, msg, sizeof msg) != 0 ||
        hc_query_exclude(&a, 2, 3, &ex, msg, sizeof msg) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "%s", msg);
    int32_t u = hc_idmap_get(s->ds->users, a.val[0], a.len[0]);
    if (u < 0 && !s->o.fallback_popular)
        return reply_error(s, c, rq, MHD_HTTP_NOT_FOUND, "unknown user '%.*s'", HC_ID_ECHO_MAX,
                           a.val[0]);
    hc_jbuf jb = {0};
    if (u < 0) {
        hc_srv_metrics_fallback(&s->met, 1);
        jb_user(&jb, s, a.val[0], a.len[0], k, NULL, NULL, 0);
        return reply_text(s, c, rq, &jb);
    }
    if (recommend_rows(s, w, &u, 1, k, ex) != HC_OK)
        return reply_error(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "recommend failed: %s",
                           hc_errmsg());
    const worker_buf *b = &s->buf[w];
    jb_user(&jb, s, a.val[0], a.len[0], k, b->items, b->scores, b->count[0]);
    return reply_text(s, c, rq, &jb);
}

/* Appends the entries j0 .. j1 - 1 of the batch (uid: their dense indices, -1 unknown); the
 * known ones, at most s->rows, are scored in one call. */
static int batch_window(hc_server *s, int32_t w, const hc_batch_req *q, const int32_t *uid,
                        size_t j0, size_t j1, int32_t k, hc_exclude ex, hc_jbuf *jb)
{
    worker_buf *b = &s->buf[w];
    int32_t n = 0;
    for (size_t j = j0; j < j1; j++)
        if (uid[j] >= 0)
            b->users[n++] = uid[j];
    if (n && recommend_rows(s, w, b->users, n, k, ex) != HC_OK)
        return -1;
    n = 0;
    for (size_t j = j0; j < j1; j++) {
        if (j)
            hc_jb_lit(jb, ",");
        if (uid[j] >= 0) {
            jb_user(jb, s, q->user[j], q->user_len[j], -k, b->items + (size_t)n * (size_t)k,
                    b->scores + (size_t)n * (size_t)k, b->count[n]);
            n++;
        } else if (s->o.fallback_popular) {
            jb_user(jb, s, q->user[j], q->user_len[j], -k, NULL, NULL, 0);
        } else {
            hc_jb_lit(jb, "{\"user\":");
            hc_jb_str(jb, q->user[j], q->user_len[j]);
            hc_jb_lit(jb, ",\"error\":\"unknown user\"}");
        }
    }
    return 0;
}

/* Appends {"k", "results"} of the batch in request order; *n_unknown: users not known. */
static int batch_results(hc_server *s, int32_t w, const hc_batch_req *q, int32_t k, hc_exclude ex,
                         hc_jbuf *jb, uint64_t *n_unknown)
{
    int32_t *uid = malloc(q->n_users * sizeof *uid);
    if (!uid)
        return -1;
    for (size_t j = 0; j < q->n_users; j++) {
        uid[j] = hc_idmap_get(s->ds->users, q->user[j], q->user_len[j]);
        *n_unknown += uid[j] < 0;
    }
    hc_jb_lit(jb, "{\"k\":");
    hc_jb_int(jb, k);
    hc_jb_lit(jb, ",\"results\":[");
    int rc = 0;
    for (size_t j0 = 0, j1; !rc && j0 < q->n_users; j0 = j1) {
        int32_t known = 0;
        for (j1 = j0; j1 < q->n_users && (known < s->rows || uid[j1] < 0); j1++)
            known += uid[j1] >= 0;
        rc = batch_window(s, w, q, uid, j0, j1, k, ex, jb);
    }
    hc_jb_lit(jb, "]}");
    free(uid);
    return rc;
}

static enum MHD_Result handle_batch(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                    int32_t w)
{
    if (rq->too_big)
        return reply_error(s, c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %zu bytes",
                           s->o.max_body);
    hc_query a;
    if (get_args(c, NULL, 0, &a) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "%s (the body holds the request)",
                           a.bad);
    hc_batch_req q;
    char msg[256];
    if (hc_batch_parse(rq->body ? rq->body : "", rq->len, (size_t)s->o.max_batch, s->o.max_k, &q,
                       msg, sizeof msg) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "%s", msg);
    int32_t k = q.k ? q.k : (HC_DEFAULT_K < s->o.max_k ? HC_DEFAULT_K : s->o.max_k);
    uint64_t n_unknown = 0;
    hc_jbuf jb = {0};
    int rc = batch_results(s, w, &q, k, q.exclude, &jb, &n_unknown);
    hc_batch_free(&q);
    if (n_unknown && s->o.fallback_popular)
        hc_srv_metrics_fallback(&s->met, n_unknown);
    if (rc) {
        free(jb.p);
        return reply_error(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "recommend failed: %s",
                           hc_errmsg());
    }
    return reply_text(s, c, rq, &jb);
}

static enum MHD_Result handle_similar(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                      int32_t w)
{
    static const char *const names[] = {"item", "k", "metric"};
    hc_query a;
    char msg[160] = "";
    int32_t k;
    if (get_args(c, names, 3, &a) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "%s", a.bad);
    if (!a.seen[0] || !a.len[0])
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "missing parameter 'item'");
    if (hc_query_k(&a, 1, s->o.max_k, &k, msg, sizeof msg) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "%s", msg);
    int cosine;
    if (hc_query_metric(&a, 2, &cosine) != 0)
        return reply_error(s, c, rq, MHD_HTTP_BAD_REQUEST, "metric must be cosine or dot");
    int32_t i = hc_idmap_get(s->ds->items, a.val[0], a.len[0]);
    if (i < 0)
        return reply_error(s, c, rq, MHD_HTTP_NOT_FOUND, "unknown item '%.*s'", HC_ID_ECHO_MAX,
                           a.val[0]);
    hc_live_gen *g = hc_live_enter(&s->live, w);
    hc_jbuf jb = {0};
    int has_factors = g->item_f != NULL;
    if (has_factors) {
        worker_buf *b = &s->buf[w];
        hc_similar_scores(g->item_f, cosine ? g->item_inv_norm : NULL, s->ds->n_items, g->dim, i,
                          g->rec[w].scores);
        int32_t got = hc_topk(g->rec[w].scores, s->ds->n_items, k, b->items, b->scores);
        hc_jb_lit(&jb, "{\"item\":");
        hc_jb_id(&jb, &s->item_ids, i);
        hc_jb_lit(&jb, ",\"k\":");
        hc_jb_int(&jb, k);
        hc_jb_lit(&jb,
                  cosine ? ",\"metric\":\"cosine\",\"items\":" : ",\"metric\":\"dot\",\"items\":");
        jb_items(&jb, s, b->items, b->scores, got);
        hc_jb_lit(&jb, "}");
    }
    hc_live_leave(&s->live, w);
    if (!has_factors)
        return reply_error(s, c, rq, MHD_HTTP_NOT_IMPLEMENTED,
                           "similar items need one model with item factors (mf, ml)");
    return reply_text(s, c, rq, &jb);
}

/* {"model", "dim", "model_file", "checksum"[, "weight"]} of model x of generation g. */
static json_t *model_json(const hc_live_gen *g, int32_t x, const float *weight)
{
    const hc_model *m = g->spec[0].models[x];
    char sum[17];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)g->checksum[x]);
    json_t *e = json_pack("{s:s, s:i, s:o, s:s}", "model", m->type->name, "dim", (int)m->hp.dim,
                          "model_file", jstr(g->name[x]), "model_checksum", sum);
    if (e && g->n_models > 1 &&
        json_object_set_new(e, "weight", json_real(weight ? (double)weight[x] : 1.0)) != 0) {
        json_decref(e);
        e = NULL;
    }
    return e;
}

/* The generation's part of /healthz into o. */
static int health_models(hc_server *s, const hc_live_gen *g, json_t *o)
{
    const hc_rec_spec *sp = &g->spec[0];
    if (g->n_models == 1)
        return json_object_update_new(o, model_json(g, 0, NULL));
    json_t *arr = json_array();
    int bad = !arr;
    for (int32_t x = 0; !bad && x < g->n_models; x++)
        bad |= json_array_append_new(arr, model_json(g, x, sp->weight));
    bad |= json_object_set_new(o, "model", json_string("ensemble"));
    bad |= json_object_set_new(o, "models", arr);
    bad |= json_object_set_new(o, "ensemble_k", json_integer(g->rec[0].ens_k));
    bad |= json_object_set_new(o, "temperature", json_real((double)sp->temperature));
    (void)s;
    return bad;
}

static enum MHD_Result handle_health(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                     int32_t w)
{
    uint64_t ok, failed;
    double last_at;
    char err[512];
    hc_live_status(&s->live, &ok, &failed, &last_at, err, sizeof err);
    hc_live_gen *g = hc_live_enter(&s->live, w);
    json_t *o =
        json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:{s:I, s:I, s:o}, s:o, s:o, s:b}", "status",
                  "ok", "users", (int)s->ds->n_users, "items", (int)s->ds->n_items, "threads",
                  (int)s->n_workers, "model_version", (json_int_t)g->version, "loaded_at",
                  (json_int_t)g->loaded_at, "reloads", "ok", (json_int_t)ok, "failed",
                  (json_int_t)failed, "last_error", err[0] ? jstr(err) : json_null(), "fallback",
                  s->o.fallback_popular ? json_string("popular") : json_null(), "similar",
                  g->item_f ? json_string("cosine, dot") : json_null(), "draining",
                  atomic_load(&s->draining));
    if (o && health_models(s, g, o) != 0) {
        json_decref(o);
        o = NULL;
    }
    hc_live_leave(&s->live, w);
    return reply(s, c, rq, MHD_HTTP_OK, o);
}

static void metrics_extra(hc_server *s, int32_t w, hc_srv_metrics_extra *x)
{
    char err[8];
    double last_at;
    hc_live_status(&s->live, &x->reloads_ok, &x->reloads_failed, &last_at, err, sizeof err);
    hc_live_gen *g = hc_live_enter(&s->live, w);
    x->model_version = g->version;
    x->model_loaded_at = g->loaded_at;
    hc_live_leave(&s->live, w);
    x->uptime_s = hc_now_s() - s->t_start;
    x->connections = atomic_load(&s->n_conn);
    x->request_timeouts = atomic_load(&s->dl.n_expired);
}

static enum MHD_Result handle_metrics(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                      int32_t w, int json)
{
    hc_srv_metrics_extra x;
    metrics_extra(s, w, &x);
    if (json)
        return reply(s, c, rq, MHD_HTTP_OK, hc_srv_metrics_json(&s->met, &x));
    char *txt = hc_srv_metrics_prometheus(&s->met, &x);
    return queue(s, c, rq, MHD_HTTP_OK, txt, txt ? strlen(txt) : 0,
                 "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result handle_reload(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                     int32_t w)
{
    if (hc_server_reload(s) != HC_OK) {
        char err[512];
        uint64_t ok, failed;
        double at;
        hc_live_status(&s->live, &ok, &failed, &at, err, sizeof err);
        return reply_error(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "reload failed, the old model keeps serving: %s", err);
    }
    hc_live_gen *g = hc_live_enter(&s->live, w);
    json_t *o =
        json_pack("{s:s, s:I}", "status", "reloaded", "model_version", (json_int_t)g->version);
    hc_live_leave(&s->live, w);
    return reply(s, c, rq, MHD_HTTP_OK, o);
}

/* ------------------------------------------------------------------------------ routing */

typedef enum {
    R_NONE,
    R_REC,
    R_BATCH,
    R_SIMILAR,
    R_HEALTH,
    R_METRICS,
    R_METRICS_JSON,
    R_RELOAD
} route;

/* The route of (url, method) and the endpoint it is counted for; R_NONE with *bad_method
 * set for a known path and a wrong method. */
static route route_of(const hc_server *s, const char *url, const char *method, hc_endpoint *ep,
                      int *bad_method)
{
    int get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    int post = !strcmp(method, MHD_HTTP_METHOD_POST);
    static const struct {
        const char *path;
        route get, post;
        hc_endpoint ep;
    } table[] = {{"/v1/recommend", R_REC, R_BATCH, HC_EP_RECOMMEND},
                 {"/v1/similar", R_SIMILAR, R_NONE, HC_EP_SIMILAR},
                 {"/healthz", R_HEALTH, R_NONE, HC_EP_HEALTH},
                 {"/metrics", R_METRICS, R_NONE, HC_EP_METRICS},
                 {"/metrics.json", R_METRICS_JSON, R_NONE, HC_EP_METRICS},
                 {"/admin/reload", R_NONE, R_RELOAD, HC_EP_RELOAD}};
    *bad_method = 0;
    *ep = HC_EP_OTHER;
    for (size_t j = 0; j < sizeof table / sizeof table[0]; j++) {
        if (strcmp(url, table[j].path) != 0)
            continue;
        if (table[j].ep == HC_EP_RELOAD && !s->o.admin)
            return R_NONE;
        *ep = table[j].ep;
        route r = get ? table[j].get : post ? table[j].post : R_NONE;
        if (r == R_BATCH)
            *ep = HC_EP_BATCH;
        *bad_method = r == R_NONE;
        return r;
    }
    return R_NONE;
}

static enum MHD_Result dispatch(hc_server *s, struct MHD_Connection *c, req_state *rq,
                                const char *url, const char *method)
{
    int bad_method;
    route r = route_of(s, url, method, &rq->ep, &bad_method);
    if (r == R_NONE && !bad_method)
        return reply_error(s, c, rq, MHD_HTTP_NOT_FOUND, "unknown path '%.*s'", HC_ID_ECHO_MAX,
                           url);
    if (r == R_NONE)
        return reply_error(s, c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method %.32s not allowed",
                           method);
    if (atomic_load(&s->n_conn) > s->o.max_connections)
        return reply_error(s, c, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "server busy: more than %d connections open, retry later",
                           s->o.max_connections);
    int32_t w = worker_slot(s);
    if (w < 0)
        return reply_error(s, c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "no worker slot free");
    switch (r) {
    case R_REC:
        return handle_recommend(s, c, rq, w);
    case R_BATCH:
        return handle_batch(s, c, rq, w);
    case R_SIMILAR:
        return handle_similar(s, c, rq, w);
    case R_HEALTH:
        return handle_health(s, c, rq, w);
    case R_RELOAD:
        return handle_reload(s, c, rq, w);
    default:
        return handle_metrics(s, c, rq, w, r == R_METRICS_JSON);
    }
}

/* Appends a body chunk, up to max_body bytes (beyond: too_big, the rest dropped). */
static int take_body(hc_server *s, req_state *rq, const char *data, size_t n)
{
    if (rq->too_big || n > s->o.max_body - rq->len) {
        rq->too_big = 1;
        return 0;
    }
    if (rq->len + n > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n)
            cap *= 2;
        char *b = realloc(rq->body, cap);
        if (!b)
            return -1;
        rq->body = b;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return 0;
}

/* c's deadline entry (NULL once it is closed, or if it could not be made). */
static hc_conn *conn_entry(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    hc_server *s = cls;
    req_state *rq = *con_cls;
    if (!rq) { /* headers in: answer once the request is complete */
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        rq->t0 = hc_now_s();
        rq->ep = HC_EP_OTHER;
        atomic_fetch_add(&s->in_flight, 1);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size) {
        int keep = !strcmp(method ? method : "", MHD_HTTP_METHOD_POST);
        if (keep && take_body(s, rq, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->status) /* answered already */
        return MHD_YES;
    hc_conn *hc = conn_entry(c);
    if (hc) /* the request is complete: its deadline no longer runs */
        hc_deadlines_answering(hc);
    return dispatch(s, c, rq, url ? url : "", method ? method : "");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    hc_server *s = cls;
    hc_conn *hc = conn_entry(c);
    if (hc) /* on keep-alive, the next request is due within the timeout from now */
        hc_deadlines_rearm(&s->dl, hc);
    req_state *rq = *con_cls;
    if (!rq)
        return;
    if (rq->status) /* else the connection died before an answer: not a request */
        hc_srv_metrics_latency(&s->met, rq->ep, hc_now_s() - rq->t0);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

/* Counts the connections and keeps the deadline registry: an entry per connection, in its
 * socket context, removed here on close (libmicrohttpd closes the socket after this). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    hc_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->n_conn, 1);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? hc_deadlines_add(&s->dl, ci->connect_fd) : NULL;
        return;
    }
    hc_deadlines_remove(&s->dl, *socket_context);
    *socket_context = NULL;
    atomic_fetch_sub(&s->n_conn, 1);
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

int hc_server_reload(hc_server *s)
{
    return hc_live_reload(&s->live);
}

int hc_server_drain(hc_server *s, double timeout_s)
{
    if (!atomic_exchange(&s->draining, 1)) /* closed after MHD_stop_daemon (its rule) */
        s->quiesced = MHD_quiesce_daemon(s->daemon);
    const struct timespec nap = {0, 2000000}; /* 2 ms */
    double t_end = hc_now_s() + timeout_s;
    while (atomic_load(&s->in_flight) > 0 && hc_now_s() < t_end)
        nanosleep(&nap, NULL);
    return (int)atomic_load(&s->in_flight);
}

void hc_server_stop(hc_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    if (s->dl_inited) /* after the daemon: its close notifications use the registry */
        hc_deadlines_free(&s->dl);
    if (s->quiesced != MHD_INVALID_SOCKET)
        close(s->quiesced);
    if (s->live_inited)
        hc_live_free(&s->live);
    for (int32_t w = 0; s->buf && w < s->n_workers; w++) {
        free(s->buf[w].items);
        free(s->buf[w].scores);
        free(s->buf[w].count);
        free(s->buf[w].users);
    }
    free(s->buf);
    free(s->pop_items);
    free(s->pop_scores);
    hc_idtab_free(&s->item_ids);
    if (s->key_inited)
        pthread_key_delete(s->slot_key);
    if (s->met_inited)
        hc_srv_metrics_free(&s->met);
    free(s);
}

/* The popularity fallback: the max_k items with the most train interactions. */
static int popularity(hc_server *s)
{
    const hc_csr *t = &s->ds->train;
    const int32_t ni = s->ds->n_items;
    float *cnt = calloc((size_t)ni, sizeof *cnt);
    s->pop_items = malloc((size_t)s->o.max_k * sizeof *s->pop_items);
    s->pop_scores = malloc((size_t)s->o.max_k * sizeof *s->pop_scores);
    if (!cnt || !s->pop_items || !s->pop_scores) {
        free(cnt);
        return hc_error(HC_ENOMEM, "serve: out of memory");
    }
    for (int64_t e = 0; e < t->nnz; e++)
        cnt[t->indices[e]] += 1.0f;
    s->n_pop = hc_topk(cnt, ni, s->o.max_k, s->pop_items, s->pop_scores);
    free(cnt);
    return HC_OK;
}

/* Output buffers of s->rows x max_k entries per worker. */
static int worker_buffers(hc_server *s)
{
    const size_t n = (size_t)s->rows * (size_t)s->o.max_k;
    if (!(s->buf = calloc((size_t)s->n_workers, sizeof *s->buf)))
        return hc_error(HC_ENOMEM, "serve: out of memory");
    for (int32_t w = 0; w < s->n_workers; w++) {
        worker_buf *b = &s->buf[w];
        b->items = malloc(n * sizeof *b->items);
        b->scores = malloc(n * sizeof *b->scores);
        b->count = malloc((size_t)s->rows * sizeof *b->count);
        b->users = malloc((size_t)s->rows * sizeof *b->users);
        if (!b->items || !b->scores || !b->count || !b->users)
            return hc_error(HC_ENOMEM, "serve: out of memory");
    }
    return HC_OK;
}

/* The listening address of o into *a4 or *a6; sets *sa, and MHD_USE_IPv6 in *flags. */
static int parse_bind(const hc_server_opts *o, struct sockaddr_in *a4, struct sockaddr_in6 *a6,
                      const struct sockaddr **sa, unsigned int *flags)
{
    memset(a4, 0, sizeof *a4);
    memset(a6, 0, sizeof *a6);
    if (inet_pton(AF_INET, o->bind, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)o->port);
        *sa = (const struct sockaddr *)a4;
        return HC_OK;
    }
    if (inet_pton(AF_INET6, o->bind, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)o->port);
        *sa = (const struct sockaddr *)a6;
        *flags |= MHD_USE_IPv6;
        return HC_OK;
    }
    return hc_error(HC_EINVAL, "serve: '%s' is not an IPv4 or IPv6 address", o->bind);
}

static int check_opts(const hc_server_opts *o)
{
    if (!o->bind || o->port < 0 || o->port > 65535 || o->threads < 1 || o->threads > 1024 ||
        o->max_k < 1 || o->max_batch < 1 || o->max_body < 2 || o->max_connections < 1 ||
        o->max_per_client < 0 || o->idle_timeout < 1 || o->request_timeout < 1 ||
        o->request_timeout > 3600)
        return hc_error(HC_EINVAL,
                        "serve: bad options (port %d, threads %d, max k %d, max batch %d, "
                        "max connections %d, per client %d, idle timeout %d, request timeout %d)",
                        o->port, o->threads, o->max_k, o->max_batch, o->max_connections,
                        o->max_per_client, o->idle_timeout, o->request_timeout);
    return HC_OK;
}

/* Starts the daemon: epoll, a thread pool of o->threads, the limits. */
static struct MHD_Daemon *start_daemon(hc_server *s, const struct sockaddr *sa, unsigned int flags)
{
    const hc_server_opts *o = &s->o;
    /* room above the 503 limit, so that a client over it still gets its 503 */
    unsigned int hard =
        (unsigned int)o->max_connections + (unsigned int)o->max_connections / 8 + 16;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)sa},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o->idle_timeout, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)hard, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)o->max_per_client, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)o->threads, NULL},
        {MHD_OPTION_END, 0, NULL}};
    return MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
                            ops, MHD_OPTION_END);
}

/* Users per score call: at most 64, HC_SCORE_BUF score floats and HC_BUF_ENTRIES outputs. */
static int32_t rows_for(const hc_dataset *ds, int32_t max_k)
{
    int64_t r = HC_BUF_ENTRIES / max_k, by_items = HC_SCORE_BUF / ds->n_items;
    if (by_items < r)
        r = by_items;
    return r < 1 ? 1 : r > 64 ? 64 : (int32_t)r;
}

int hc_server_start(const char *const *paths, int32_t n_paths, const hc_dataset *ds,
                    const hc_server_opts *o, hc_server **out)
{
    *out = NULL;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    const struct sockaddr *sa = NULL;
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    int rc = check_opts(o);
    if (rc || (rc = parse_bind(o, &a4, &a6, &sa, &flags)) != HC_OK)
        return rc;
    hc_server *s = calloc(1, sizeof *s);
    if (!s)
        return hc_error(HC_ENOMEM, "serve: out of memory");
    s->ds = ds;
    s->o = *o;
    s->quiesced = MHD_INVALID_SOCKET;
    s->n_workers = o->threads;
    s->rows = rows_for(ds, o->max_k);
    s->t_start = hc_now_s();
    hc_rec_spec tmpl;
    hc_rec_spec_default(&tmpl);
    if ((rc = hc_srv_metrics_init(&s->met)) != HC_OK)
        goto fail;
    s->met_inited = 1;
    if ((rc = hc_deadlines_init(&s->dl, o->request_timeout)) != HC_OK)
        goto fail;
    s->dl_inited = 1;
    if (pthread_key_create(&s->slot_key, NULL) != 0) {
        rc = hc_error(HC_ENOMEM, "serve: cannot create a thread key");
        goto fail;
    }
    s->key_inited = 1;
    if ((rc = hc_live_init(&s->live, paths, n_paths, o->spec ? o->spec : &tmpl, ds, s->n_workers,
                           s->rows)) != HC_OK)
        goto fail;
    s->live_inited = 1;
    if ((rc = worker_buffers(s)) != HC_OK || (rc = popularity(s)) != HC_OK ||
        (rc = hc_idtab_build(ds->items, ds->n_items, &s->item_ids)) != HC_OK)
        goto fail;
    errno = 0;
    if (!(s->daemon = start_daemon(s, sa, flags))) {
        rc = hc_error(HC_EIO, "serve: cannot listen on %s port %d%s%s", o->bind, o->port,
                      errno ? ": " : "", errno ? strerror(errno) : "");
        goto fail;
    }
    if ((rc = hc_deadlines_start(&s->dl)) != HC_OK)
        goto fail;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info && info->port ? info->port : o->port;
    *out = s;
    return HC_OK;
fail:
    hc_server_stop(s);
    return rc;
}
