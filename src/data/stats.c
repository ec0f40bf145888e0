/*
 * stats.c - summary statistics of a dataset (hetcomp stats): counts, density, evaluated users
 * and activity / popularity percentiles over train + valid + test.
 *
 * Percentiles interpolate linearly between order statistics (numpy's default), so the median
 * of {1, 2, 3, 4} is 2.5. Cost O(users + items + nnz) plus two sorts.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static const double pct_points[5] = {10, 25, 50, 75, 90};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts v (n values) and writes the five percentiles and the maximum. */
static void percentiles(int64_t *v, int64_t n, double *pct, int64_t *max)
{
    memset(pct, 0, 5 * sizeof *pct);
    *max = 0;
    if (n <= 0)
        return;
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    for (int k = 0; k < 5; k++) {
        double pos = pct_points[k] / 100.0 * (double)(n - 1);
        int64_t lo = (int64_t)pos;
        double f = pos - (double)lo;
        int64_t hi = lo + 1 < n ? lo + 1 : lo;
        pct[k] = (double)v[lo] + f * (double)(v[hi] - v[lo]);
    }
    *max = v[n - 1];
}

static int64_t row_len(const hc_csr *a, int32_t r)
{
    return a->indptr ? a->indptr[r + 1] - a->indptr[r] : 0;
}

static void add_items(const hc_csr *a, int64_t *cnt)
{
    if (!a->indptr)
        return;
    for (int64_t k = 0; k < a->nnz; k++)
        cnt[a->indices[k]]++;
}

void hc_dataset_stats(const hc_dataset *ds, hc_stats *st)
{
    memset(st, 0, sizeof *st);
    st->n_users = ds->n_users;
    st->n_items = ds->n_items;
    st->n_train = ds->train.indptr ? ds->train.nnz : 0;
    st->n_valid = ds->valid.indptr ? ds->valid.nnz : 0;
    st->n_test = ds->test.indptr ? ds->test.nnz : 0;
    st->n_eval_users = hc_dataset_n_eval_users(ds);
    double cells = (double)ds->n_users * (double)ds->n_items;
    st->density = cells > 0 ? (double)(st->n_train + st->n_valid + st->n_test) / cells : 0.0;

    int64_t *u = malloc((size_t)(ds->n_users > 0 ? ds->n_users : 1) * sizeof *u);
    int64_t *c = calloc((size_t)(ds->n_items > 0 ? ds->n_items : 1), sizeof *c);
    if (!u || !c) { /* counts above stay valid; percentiles are left at zero */
        free(u);
        free(c);
        return;
    }
    for (int32_t r = 0; r < ds->n_users; r++)
        u[r] = row_len(&ds->train, r) + row_len(&ds->valid, r) + row_len(&ds->test, r);
    add_items(&ds->train, c);
    for (int32_t i = 0; i < ds->n_items; i++)
        st->n_items_in_train += c[i] > 0;
    add_items(&ds->valid, c);
    add_items(&ds->test, c);
    percentiles(u, ds->n_users, st->user_pct, &st->user_max);
    percentiles(c, ds->n_items, st->item_pct, &st->item_max);
    free(u);
    free(c);
}
