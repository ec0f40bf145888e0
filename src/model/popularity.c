/*
 * popularity.c - the popularity baseline: score(u, i) = number of train users of item i,
 * the same for every user (train items are masked by the evaluator, so each user is shown
 * the most popular items they have not seen). Memory: one float per item.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

int hc_popularity_fit(const hc_dataset *ds, hc_popularity *p)
{
    memset(p, 0, sizeof *p);
    const hc_csr *tr = &ds->train;
    if (ds->n_items < 0 || tr->ncols != ds->n_items)
        return hc_error(HC_EINVAL, "popularity: train matrix has %d columns, dataset %d items",
                        tr->ncols, ds->n_items);
    p->count = calloc(ds->n_items > 0 ? (size_t)ds->n_items : 1, sizeof *p->count);
    if (!p->count)
        return hc_error(HC_ENOMEM, "popularity: out of memory for %d items", ds->n_items);
    p->n_items = ds->n_items;
    /* CSR columns are unique within a row, so each entry is one distinct user */
    for (int64_t e = 0; e < tr->nnz; e++)
        p->count[tr->indices[e]] += 1.0f;
    return HC_OK;
}

void hc_popularity_free(hc_popularity *p)
{
    if (!p)
        return;
    free(p->count);
    memset(p, 0, sizeof *p);
}

/* hc_scorer callback: copies the count row once per user. Never fails. */
static int popularity_score(void *ctx, const int32_t *users, int32_t n, float *out)
{
    const hc_popularity *p = ctx;
    (void)users;
    size_t row = (size_t)p->n_items;
    for (int32_t r = 0; r < n; r++)
        memcpy(out + (size_t)r * row, p->count, row * sizeof *out);
    return HC_OK;
}

hc_scorer hc_popularity_scorer(hc_popularity *p)
{
    hc_scorer s = {popularity_score, p};
    return s;
}
