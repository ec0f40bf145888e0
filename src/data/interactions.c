/*
 * interactions.c - the growable (user, item[, rating][, timestamp][, line]) arrays that
 * readers and the generator fill.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

void hc_interactions_free(hc_interactions *x)
{
    if (!x)
        return;
    free(x->user);
    free(x->item);
    free(x->rating);
    free(x->ts);
    free(x->line);
    memset(x, 0, sizeof *x);
}

/* Grows every present array to hold at least need entries. */
static int reserve(hc_interactions *x, int64_t need)
{
    if (need <= x->cap)
        return HC_OK;
    int64_t nc = x->cap ? x->cap * 2 : 1024;
    while (nc < need)
        nc *= 2;
    int32_t *u = realloc(x->user, (size_t)nc * sizeof *u);
    if (u)
        x->user = u;
    int32_t *i = realloc(x->item, (size_t)nc * sizeof *i);
    if (i)
        x->item = i;
    if (!u || !i)
        return hc_error(HC_ENOMEM, "out of memory for %lld interactions", (long long)nc);
    if (x->rating) {
        float *r = realloc(x->rating, (size_t)nc * sizeof *r);
        if (!r)
            return hc_error(HC_ENOMEM, "out of memory for %lld interactions", (long long)nc);
        x->rating = r;
    }
    if (x->ts) {
        int64_t *t = realloc(x->ts, (size_t)nc * sizeof *t);
        if (!t)
            return hc_error(HC_ENOMEM, "out of memory for %lld interactions", (long long)nc);
        x->ts = t;
    }
    if (x->line) {
        int64_t *l = realloc(x->line, (size_t)nc * sizeof *l);
        if (!l)
            return hc_error(HC_ENOMEM, "out of memory for %lld interactions", (long long)nc);
        x->line = l;
    }
    x->cap = nc;
    return HC_OK;
}

int hc_interactions_push(hc_interactions *x, int32_t user, int32_t item, float rating, int64_t ts)
{
    int rc = reserve(x, x->n + 1);
    if (rc)
        return rc;
    x->user[x->n] = user;
    x->item[x->n] = item;
    if (x->rating)
        x->rating[x->n] = rating;
    if (x->ts)
        x->ts[x->n] = ts;
    x->n++;
    return HC_OK;
}

static int enable_i64(int64_t **a, int64_t cap)
{
    if (*a)
        return HC_OK;
    *a = calloc((size_t)(cap > 0 ? cap : 1), sizeof **a);
    return *a ? HC_OK : hc_error(HC_ENOMEM, "out of memory");
}

int hc_interactions_enable(hc_interactions *x, int rating, int ts, int line)
{
    if (rating && !x->rating) {
        x->rating = calloc((size_t)(x->cap > 0 ? x->cap : 1), sizeof *x->rating);
        if (!x->rating)
            return hc_error(HC_ENOMEM, "out of memory");
    }
    int rc = HC_OK;
    if (ts)
        rc = enable_i64(&x->ts, x->cap);
    if (!rc && line)
        rc = enable_i64(&x->line, x->cap);
    return rc;
}
