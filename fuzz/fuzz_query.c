/*
 * fuzz_query.c - libFuzzer harness for the query parameters of the GET endpoints (hc_query_*
 * in src/serve/body.c, called by src/serve/http.c; docs/serving.md): the input is the query
 * string after '?'. It is cut into parameters the way libmicrohttpd 0.9.75 does before calling
 * the server back (split at '&', then at the first '=', '+' to space, then its own
 * MHD_http_unescape), and each endpoint's checks run on them: /v1/recommend (user, k,
 * include_seen, exclude, then the user looked up in the harness's dataset), /v1/similar (item,
 * k, metric) and POST /v1/recommend (no parameters). Cost: O(input) per run and endpoint.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "serve/body.h"

#define MAX_K 1000 /* hc_server_opts_default's max_k */

static void unescape_plus(char *s)
{
    for (; *s; s++)
        if (*s == '+')
            *s = ' ';
}

/* Hands one parameter to q as libmicrohttpd would: key and value unescaped in place. */
static void add(hc_query *q, char *key, char *value)
{
    unescape_plus(key);
    size_t kn = MHD_http_unescape(key), vn = 0;
    if (value) {
        unescape_plus(value);
        vn = MHD_http_unescape(value);
    }
    hc_query_add(q, key, kn, value, vn);
}

/* libmicrohttpd's MHD_parse_arguments_ over the NUL-terminated args (modified in place). */
static void parse_args(hc_query *q, char *args)
{
    while (args && *args) {
        char *eq = strchr(args, '='), *amp = strchr(args, '&');
        if (amp)
            *amp++ = '\0';
        if (eq && (!amp || eq < amp)) {
            *eq++ = '\0';
            add(q, args, eq);
        } else {
            add(q, args, NULL);
        }
        args = amp;
    }
}

/* Collects the input's parameters for an endpoint taking names[0..n); buf receives the
 * unescaped copy the values point into. */
static int collect(const uint8_t *data, size_t size, const char *const *names, int n, hc_query *q,
                   char **buf)
{
    *buf = malloc(size + 1);
    if (!*buf)
        abort();
    memcpy(*buf, data, size);
    (*buf)[size] = '\0'; /* a URL is a C string: a raw NUL ends it */
    hc_query_init(q, names, n);
    parse_args(q, *buf);
    return q->bad[0] ? -1 : 0;
}

static void recommend(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"user", "k", "include_seen", "exclude"};
    hc_query q;
    char *buf, msg[160];
    int32_t k;
    hc_exclude ex;
    if (collect(data, size, names, 4, &q, &buf) == 0 && q.seen[0] && q.len[0] &&
        hc_query_k(&q, 1, MAX_K, &k, msg, sizeof msg) == 0 &&
        hc_query_exclude(&q, 2, 3, &ex, msg, sizeof msg) == 0)
        (void)hc_idmap_get(fz_dataset()->users, q.val[0], q.len[0]);
    free(buf);
}

static void similar(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"item", "k", "metric"};
    hc_query q;
    char *buf, msg[160];
    int32_t k;
    int cosine;
    if (collect(data, size, names, 3, &q, &buf) == 0 && q.seen[0] && q.len[0] &&
        hc_query_k(&q, 1, MAX_K, &k, msg, sizeof msg) == 0 && hc_query_metric(&q, 2, &cosine) == 0)
        (void)hc_idmap_get(fz_dataset()->items, q.val[0], q.len[0]);
    free(buf);
}

static void batch(const uint8_t *data, size_t size)
{
    hc_query q;
    char *buf;
    collect(data, size, NULL, 0, &q, &buf);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    recommend(data, size);
    similar(data, size);
    batch(data, size);
    return 0;
}
