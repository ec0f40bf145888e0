/*
 * sampler.c - epoch streams for pairwise training (see sampler.h).
 *
 * Rejection sampling: draw a uniform item and redraw while it is one of the user's train
 * items (binary search in the CSR row). With typical densities below 1% this costs about one
 * draw per negative. A dense row could make that loop long (a full one, endless), so after
 * MAX_REJECTIONS draws the item is drawn exactly among the row's unobserved items: still
 * uniform, and the same stream as before whenever the bound is not reached.
 */
#include "optim/sampler.h"

#include <stdlib.h>
#include <string.h>

#define SAMPLE_BLOCK 8192
/* At density d the bound is reached with probability d^64: never on real data. */
#define MAX_REJECTIONS 64

int32_t hc_sample_negative(const hc_csr *train, int32_t u, hc_rng *r)
{
    const int32_t len = hc_csr_row_len(train, u);
    if (len >= train->ncols)
        return -1;
    for (int t = 0; t < MAX_REJECTIONS; t++) {
        int32_t j = (int32_t)hc_rng_below(r, (uint32_t)train->ncols);
        if (!hc_csr_has(train, u, j))
            return j;
    }
    /* the f-th unobserved item: row[p] - p unobserved items lie below row[p] (ascending,
     * distinct), so it is f + (the number of row items p with row[p] - p <= f) */
    const int32_t *row = hc_csr_row(train, u);
    const int32_t f = (int32_t)hc_rng_below(r, (uint32_t)(train->ncols - len));
    int32_t lo = 0, hi = len;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (row[mid] - mid <= f)
            lo = mid + 1;
        else
            hi = mid;
    }
    return f + lo;
}

void hc_epoch_samples_free(hc_epoch_samples *s)
{
    if (!s)
        return;
    free(s->user);
    free(s->pos);
    free(s->neg);
    memset(s, 0, sizeof *s);
}

/* A user whose train row holds every item has no negative (hc_sample_negative gave -1):
 * leave their positives out of the stream, in order, and say so once per stream. */
static void drop_full_users(const hc_csr *tr, hc_epoch_samples *s)
{
    int32_t full = 0;
    for (int32_t u = 0; u < tr->nrows; u++)
        full += hc_csr_row_len(tr, u) >= tr->ncols && hc_csr_row_len(tr, u) > 0;
    if (!full)
        return;
    const int32_t negs = s->negatives;
    int64_t w = 0;
    for (int64_t k = 0; k < s->n; k++) {
        if (s->neg[k * negs] < 0)
            continue;
        s->user[w] = s->user[k];
        s->pos[w] = s->pos[k];
        memmove(s->neg + w * negs, s->neg + k * negs, (size_t)negs * sizeof *s->neg);
        w++;
    }
    if (!s->warned)
        hc_log(HC_LOG_WARN,
               "%d user%s hold%s every item in train: no negative exists, so pairwise "
               "training leaves out their %lld interaction%s",
               full, full == 1 ? "" : "s", full == 1 ? "s" : "", (long long)(s->n - w),
               s->n - w == 1 ? "" : "s");
    s->warned = 1;
    s->n = w;
}

int hc_sample_epoch(const hc_dataset *ds, uint64_t seed, int32_t epoch, int32_t negatives,
                    hc_epoch_samples *s)
{
    const hc_csr *tr = &ds->train;
    int64_t n = tr->nnz;
    if (!s->user || s->cap != n || s->negatives != negatives) {
        int warned = s->warned;
        hc_epoch_samples_free(s);
        s->warned = warned;
        s->user = malloc((size_t)(n > 0 ? n : 1) * sizeof *s->user);
        s->pos = malloc((size_t)(n > 0 ? n : 1) * sizeof *s->pos);
        s->neg = malloc((size_t)(n * negatives > 0 ? n * negatives : 1) * sizeof *s->neg);
        if (!s->user || !s->pos || !s->neg) {
            hc_epoch_samples_free(s);
            return hc_error(HC_ENOMEM, "sampler: out of memory for %lld interactions",
                            (long long)n);
        }
        s->cap = n;
        s->negatives = negatives;
    }
    s->n = n;
    /* a random permutation of interaction indices (stored in pos, then resolved) */
    hc_rng r;
    hc_rng_init(&r, seed, 0x5A3B000000000000ULL + (uint64_t)epoch);
    for (int64_t k = 0; k < n; k++)
        s->pos[k] = (int32_t)k;
    hc_rng_shuffle_i32(&r, s->pos, n);
    /* user of each interaction index: walk indptr once */
    int32_t *owner = s->user; /* reuse: owner[k] = user of interaction k */
    for (int32_t u = 0; u < tr->nrows; u++)
        for (int64_t k = tr->indptr[u]; k < tr->indptr[u + 1]; k++)
            owner[k] = u;
    /* resolve the permutation into (user, item) in place: needs a copy of owner */
    int32_t *tmp = malloc((size_t)(n > 0 ? n : 1) * sizeof *tmp);
    if (!tmp)
        return hc_error(HC_ENOMEM, "sampler: out of memory");
    memcpy(tmp, owner, (size_t)n * sizeof *tmp);
    for (int64_t k = 0; k < n; k++) {
        int32_t idx = s->pos[k];
        s->user[k] = tmp[idx];
        s->pos[k] = tr->indices[idx];
    }
    free(tmp);
    int64_t nblocks = (n + SAMPLE_BLOCK - 1) / SAMPLE_BLOCK;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < nblocks; b++) {
        hc_rng br;
        hc_rng_init(&br, seed, ((uint64_t)epoch << 24) + (uint64_t)b + 1);
        int64_t end = (b + 1) * SAMPLE_BLOCK < n ? (b + 1) * SAMPLE_BLOCK : n;
        for (int64_t k = b * SAMPLE_BLOCK; k < end; k++)
            for (int32_t j = 0; j < negatives; j++)
                s->neg[k * negatives + j] = hc_sample_negative(tr, s->user[k], &br);
    }
    if (negatives > 0)
        drop_full_users(tr, s);
    return HC_OK;
}
