/*
 * body.h - parsing what a client sends the server (docs/serving.md): the JSON body of
 * POST /v1/recommend, the query parameters of the GET endpoints and the scalar values
 * shared by every endpoint (k, exclude, include_seen, metric). Pure functions over (bytes, length):
 * no server state, no I/O, so a fuzzing harness can call them directly. Cost: linear in the input
 * (jansson's parser, whose nesting depth is bounded by the library).
 */
#ifndef HC_SERVE_BODY_H
#define HC_SERVE_BODY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/recommend.h"

/* A parsed batch request {"users": ["u1", ...], "k": 10, "exclude": "train"}. */
typedef struct {
    json_t *doc;       /* the parsed body (owned; the ids point into it) */
    size_t n_users;    /* 1 .. max_users */
    const char **user; /* n_users ids, NUL-free (owned array) */
    size_t *user_len;  /* their byte lengths (owned) */
    int32_t k;         /* 0 when the body has no "k" */
    int has_exclude;   /* 1 when the body says "exclude" (or "include_seen") */
    hc_exclude exclude;
} hc_batch_req;

/* Parses body[0..len) (need not be NUL-terminated; may hold any byte) as a batch request:
 * a JSON object with "users" (a non-empty array of at most max_users strings), optional "k"
 * (an integer in [1, max_k]) and optional "exclude" ("train", "all", "none"); any other key,
 * a duplicate key, a string holding U+0000 or invalid UTF-8 is refused. Returns 0 and fills
 * *out (free with hc_batch_free), or -1 with a message in err (errlen bytes, always
 * NUL-terminated) and *out zeroed. */
int hc_batch_parse(const char *body, size_t len, size_t max_users, int32_t max_k, hc_batch_req *out,
                   char *err, size_t errlen);
/* Frees what hc_batch_parse allocated; accepts a zeroed struct. */
void hc_batch_free(hc_batch_req *r);

/* ------------------------------------------------------------------ query parameters */

#define HC_DEFAULT_K      10 /* k when a request names none (capped at the server's max_k) */
#define HC_QUERY_MAX_ARGS 4  /* most parameters an endpoint takes */

/* The query parameters of one endpoint: the allowed names, and each one's value as
 * libmicrohttpd hands it over (unescaped, NUL-terminated). */
typedef struct {
    const char *const *names; /* n allowed names */
    int n;
    const char *val[HC_QUERY_MAX_ARGS]; /* "" for a name given without '=' */
    size_t len[HC_QUERY_MAX_ARGS];
    int seen[HC_QUERY_MAX_ARGS];
    char bad[200]; /* first problem found ("" if none) */
} hc_query;

/* Starts collecting the parameters names[0..n) (n <= HC_QUERY_MAX_ARGS; 0: none allowed). */
void hc_query_init(hc_query *q, const char *const *names, int n);
/* Takes one parameter: key[0..key_size) and value[0..value_size) (value NULL when the query
 * says "key" without '='), both NUL-terminated after their sizes and borrowed until q is
 * done with. A NUL byte inside, a repeated or an unknown name sets q->bad (the first problem
 * is kept; later ones are ignored). */
void hc_query_add(hc_query *q, const char *key, size_t key_size, const char *value,
                  size_t value_size);
/* k from parameter j (absent: HC_DEFAULT_K capped at max_k). 0, or -1 with msg set. */
int hc_query_k(const hc_query *q, int j, int32_t max_k, int32_t *k, char *msg, size_t n);
/* exclude (parameter j_ex) and include_seen (j_seen) into *ex, train when both are absent;
 * both given must agree. 0, or -1 with msg set. */
int hc_query_exclude(const hc_query *q, int j_seen, int j_ex, hc_exclude *ex, char *msg, size_t n);
/* metric (parameter j) into *cosine: 1 for "cosine" or absent, 0 for "dot"; -1 otherwise. */
int hc_query_metric(const hc_query *q, int j, int *cosine);

/* Parses s[0..len) as a decimal k in [1, max]: digits only, no sign, spaces or NUL. Returns
 * 0, -1 (not such an integer) or -2 (an integer out of range). */
int hc_param_k(const char *s, size_t len, int32_t max, int32_t *out);
/* "0"/"false" -> 0 and "1"/"true" -> 1 into *out; -1 on anything else. */
int hc_param_bool(const char *s, size_t len, int *out);

#endif
