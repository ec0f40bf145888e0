/*
 * body.c - request body and parameter parsing for the server (see body.h). The body goes
 * through jansson with duplicate keys refused and U+0000 refused (jansson's default without
 * JSON_ALLOW_NUL), so every id handed on is a NUL-free, valid UTF-8 string. Cost: O(len).
 */
#include "serve/body.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hc_batch_free(hc_batch_req *r)
{
    if (!r)
        return;
    json_decref(r->doc);
    free(r->user);
    free(r->user_len);
    memset(r, 0, sizeof *r);
}

/* Formats a refusal into err, frees what r holds, returns -1. */
static int refuse(hc_batch_req *r, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(hc_batch_req *r, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    hc_batch_free(r);
    return -1;
}

/* Copies the "users" array's strings into r (at most max_users). */
static int take_users(hc_batch_req *r, const json_t *arr, size_t max_users, char *err,
                      size_t errlen)
{
    if (!json_is_array(arr))
        return refuse(r, err, errlen, "\"users\" must be an array of user ids (strings)");
    size_t n = json_array_size(arr);
    if (n == 0)
        return refuse(r, err, errlen, "\"users\" is empty");
    if (n > max_users)
        return refuse(r, err, errlen, "too many users: %zu (at most %zu per request)", n,
                      max_users);
    r->user = malloc(n * sizeof *r->user);
    r->user_len = malloc(n * sizeof *r->user_len);
    if (!r->user || !r->user_len)
        return refuse(r, err, errlen, "out of memory");
    for (size_t j = 0; j < n; j++) {
        const json_t *u = json_array_get(arr, j);
        if (!json_is_string(u))
            return refuse(r, err, errlen, "\"users\"[%zu] is not a string", j);
        r->user[j] = json_string_value(u);
        r->user_len[j] = json_string_length(u);
        if (r->user_len[j] == 0)
            return refuse(r, err, errlen, "\"users\"[%zu] is empty", j);
    }
    r->n_users = n;
    return 0;
}

int hc_batch_parse(const char *body, size_t len, size_t max_users, int32_t max_k, hc_batch_req *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    json_error_t je;
    out->doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!out->doc)
        return refuse(out, err, errlen, "malformed JSON body: %s (line %d, column %d)", je.text,
                      je.line, je.column);
    if (!json_is_object(out->doc))
        return refuse(out, err, errlen, "the body must be a JSON object {\"users\": [...]}");
    const char *key;
    json_t *v;
    const json_t *users = NULL;
    json_object_foreach(out->doc, key, v)
    {
        if (!strcmp(key, "users")) {
            users = v;
        } else if (!strcmp(key, "k")) {
            json_int_t k = json_is_integer(v) ? json_integer_value(v) : 0;
            if (k < 1 || k > max_k)
                return refuse(out, err, errlen, "\"k\" must be an integer in [1, %d]", max_k);
            out->k = (int32_t)k;
        } else if (!strcmp(key, "exclude")) {
            out->has_exclude = 1;
            if (!json_is_string(v) || hc_exclude_parse(json_string_value(v), &out->exclude) != 0)
                return refuse(out, err, errlen,
                              "\"exclude\" must be one of \"train\", \"all\", \"none\"");
        } else {
            /* the key is valid UTF-8 without NUL (jansson), but may be long */
            return refuse(out, err, errlen, "unknown key \"%.64s\" (expected users, k, exclude)",
                          key);
        }
    }
    if (!users)
        return refuse(out, err, errlen, "missing \"users\"");
    return take_users(out, users, max_users, err, errlen);
}

void hc_query_init(hc_query *q, const char *const *names, int n)
{
    memset(q, 0, sizeof *q);
    q->names = names;
    q->n = n;
}

void hc_query_add(hc_query *q, const char *key, size_t key_size, const char *value,
                  size_t value_size)
{
    if (q->bad[0] || !key)
        return;
    /* an embedded NUL (%00) would truncate the C strings below: refuse it */
    if (memchr(key, '\0', key_size) || (value && memchr(value, '\0', value_size))) {
        snprintf(q->bad, sizeof q->bad, "parameter '%.64s' holds a NUL byte", key);
        return;
    }
    for (int j = 0; j < q->n; j++)
        if (!strcmp(key, q->names[j])) {
            if (q->seen[j]++)
                snprintf(q->bad, sizeof q->bad, "repeated parameter '%s'", key);
            q->val[j] = value ? value : "";
            q->len[j] = value ? value_size : 0;
            return;
        }
    if (!q->n) {
        snprintf(q->bad, sizeof q->bad, "unexpected parameter '%.64s'", key);
        return;
    }
    char expected[96] = "";
    for (int j = 0; j < q->n; j++)
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s",
                 j ? ", " : "", q->names[j]);
    snprintf(q->bad, sizeof q->bad, "unknown parameter '%.64s' (expected %s)", key, expected);
}

int hc_query_k(const hc_query *q, int j, int32_t max_k, int32_t *k, char *msg, size_t n)
{
    *k = HC_DEFAULT_K < max_k ? HC_DEFAULT_K : max_k;
    if (!q->seen[j])
        return 0;
    int r = hc_param_k(q->val[j], q->len[j], max_k, k);
    if (r == -1)
        snprintf(msg, n, "k must be an integer in [1, %d]", max_k);
    else if (r == -2)
        snprintf(msg, n, "k out of range: must be in [1, %d]", max_k);
    return r ? -1 : 0;
}

int hc_query_exclude(const hc_query *q, int j_seen, int j_ex, hc_exclude *ex, char *msg, size_t n)
{
    *ex = HC_EXCLUDE_TRAIN;
    int seen = 0;
    if (q->seen[j_seen] && hc_param_bool(q->val[j_seen], q->len[j_seen], &seen) != 0) {
        snprintf(msg, n, "include_seen must be 0, 1, true or false");
        return -1;
    }
    if (seen)
        *ex = HC_EXCLUDE_NONE;
    hc_exclude e = *ex;
    if (q->seen[j_ex] && hc_exclude_parse(q->val[j_ex], &e) != 0) {
        snprintf(msg, n, "exclude must be train, all or none");
        return -1;
    }
    if (q->seen[j_seen] && q->seen[j_ex] && e != *ex) {
        snprintf(msg, n, "include_seen and exclude disagree");
        return -1;
    }
    *ex = e;
    return 0;
}

int hc_query_metric(const hc_query *q, int j, int *cosine)
{
    *cosine = 1;
    if (!q->seen[j] || !strcmp(q->val[j], "cosine"))
        return 0;
    if (!strcmp(q->val[j], "dot")) {
        *cosine = 0;
        return 0;
    }
    return -1;
}

int hc_param_k(const char *s, size_t len, int32_t max, int32_t *out)
{
    if (!s || len == 0 || len > 9)
        return -1;
    long v = 0;
    for (size_t j = 0; j < len; j++) {
        if (s[j] < '0' || s[j] > '9')
            return -1;
        v = v * 10 + (s[j] - '0');
    }
    if (v < 1 || v > max)
        return -2;
    *out = (int32_t)v;
    return 0;
}

int hc_param_bool(const char *s, size_t len, int *out)
{
    static const char *const names[] = {"0", "false", "1", "true"};
    for (int j = 0; s && j < 4; j++)
        if (strlen(names[j]) == len && !memcmp(s, names[j], len)) {
            *out = j >= 2;
            return 0;
        }
    return -1;
}
