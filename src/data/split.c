/*
 * split.c - filter raw interactions and split them into train/valid/test (docs/method.md §1).
 *
 * Pipeline, all O(n + users + items) apart from the per-user sorts of the temporal splits:
 *  1. group the interactions by user with a stable counting sort and collapse duplicate
 *     (user, item) pairs, keeping each pair's first position (and its earliest timestamp);
 *  2. one-pass minimum-count filter like the reference loader: a user is kept when it has at
 *     least min_user distinct items, an item when it has at least min_item distinct users, both
 *     counted before any filtering; a pair survives when its user and its item are kept;
 *  3. re-index the kept users and items in order of first appearance in the input, into new
 *     id maps owned by the dataset;
 *  4. assign every kept pair to train, valid or test (ratio, leave-one-out or temporal);
 *  5. remove held-out items that occur in no user's train set; a user left with an empty valid
 *     or test set loses both (and still trains). The catalog keeps every kept item.
 * All randomness comes from one RNG stream hc_rng_init(seed, 0), used over users in index
 * order, so one seed always gives the identical dataset.
 */
#include "core/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PART_TRAIN = 0, PART_VALID = 1, PART_TEST = 2, PART_DROPPED = 3 };

const char *hc_split_name(hc_split_kind k)
{
    switch (k) {
    case HC_SPLIT_RATIO:
        return "ratio";
    case HC_SPLIT_LOO:
        return "loo";
    case HC_SPLIT_TEMPORAL:
        return "temporal";
    case HC_SPLIT_IMPORTED:
        return "imported";
    }
    return "unknown";
}

void hc_split_opts_default(hc_split_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = HC_SPLIT_RATIO;
    o->valid_frac = 0.2;
    o->test_frac = 0.2;
    o->seed = 0;
    o->min_user = 5;
    o->min_item = 0;
}

void hc_dataset_free(hc_dataset *ds)
{
    if (!ds)
        return;
    hc_csr_free(&ds->train);
    hc_csr_free(&ds->valid);
    hc_csr_free(&ds->test);
    hc_idmap_free(ds->users);
    hc_idmap_free(ds->items);
    memset(ds, 0, sizeof *ds);
}

int32_t hc_dataset_n_eval_users(const hc_dataset *ds)
{
    int32_t n = 0;
    if (!ds->valid.indptr || !ds->test.indptr)
        return 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        if (hc_csr_row_len(&ds->valid, u) > 0 && hc_csr_row_len(&ds->test, u) > 0)
            n++;
    return n;
}

/* floor(frac * n), robust against products such as 0.29 * 100 = 28.999999999999996. */
static int64_t frac_count(double frac, int64_t n)
{
    return (int64_t)floor(frac * (double)n + 1e-9);
}

/* One kept pair of a user's list, for the timestamp sorts. */
typedef struct {
    int64_t ts, first; /* earliest timestamp; position of the first occurrence in the input */
    int32_t pos;       /* index in the user's list */
} ts_entry;

static int cmp_ts_entry(const void *a, const void *b)
{
    const ts_entry *x = a, *y = b;
    if (x->ts != y->ts)
        return (x->ts > y->ts) - (x->ts < y->ts);
    return (x->first > y->first) - (x->first < y->first);
}

/*
 * Assigns parts to one user's n items (first-appearance order). part receives PART_* per item;
 * perm and te are scratch of n entries. ts/first may be NULL when the input has no timestamps.
 */
static void assign_user(const hc_split_opts *o, hc_rng *rng, int64_t n, const int64_t *ts,
                        const int64_t *first, uint8_t *part, int32_t *perm, ts_entry *te)
{
    for (int64_t k = 0; k < n; k++)
        part[k] = PART_TRAIN;
    if (o->kind == HC_SPLIT_RATIO) {
        for (int64_t k = 0; k < n; k++)
            perm[k] = (int32_t)k;
        hc_rng_shuffle_i32(rng, perm, n);
        int64_t nt = frac_count(o->test_frac, n), nv = frac_count(o->valid_frac, n);
        if (nt + nv > n)
            nv = n - nt;
        for (int64_t k = 0; k < nt; k++)
            part[perm[k]] = PART_TEST;
        for (int64_t k = nt; k < nt + nv; k++)
            part[perm[k]] = PART_VALID;
        return;
    }
    if (o->kind == HC_SPLIT_LOO && n < 3)
        return;
    if (o->kind == HC_SPLIT_LOO && !ts) {
        uint32_t a = hc_rng_below(rng, (uint32_t)n);
        uint32_t b = hc_rng_below(rng, (uint32_t)n - 1);
        if (b >= a)
            b++;
        part[a] = PART_TEST;
        part[b] = PART_VALID;
        return;
    }
    /* by timestamp, ties by input order: the latest items are held out */
    for (int64_t k = 0; k < n; k++) {
        te[k].ts = ts[k];
        te[k].first = first[k];
        te[k].pos = (int32_t)k;
    }
    qsort(te, (size_t)n, sizeof *te, cmp_ts_entry);
    int64_t nt = 1, nv = 1;
    if (o->kind == HC_SPLIT_TEMPORAL) {
        nt = frac_count(o->test_frac, n);
        nv = frac_count(o->valid_frac, n);
        if (n >= 3) {
            if (o->test_frac > 0 && nt < 1)
                nt = 1;
            if (o->valid_frac > 0 && nv < 1)
                nv = 1;
            while (nt + nv > n - 1) /* keep at least one train item */
                if (nt >= nv && nt > 1)
                    nt--;
                else
                    nv--;
        } else if (nt + nv > n) {
            nv = n - nt;
        }
    }
    for (int64_t k = 0; k < nt; k++)
        part[te[n - 1 - k].pos] = PART_TEST;
    for (int64_t k = nt; k < nt + nv; k++)
        part[te[n - 1 - k].pos] = PART_VALID;
}

/* Checks the options and the interactions against the reader's maps. */
static int check_input(const hc_interactions *x, const hc_idmap *users, const hc_idmap *items,
                       const hc_split_opts *o)
{
    if (o->kind != HC_SPLIT_RATIO && o->kind != HC_SPLIT_LOO && o->kind != HC_SPLIT_TEMPORAL)
        return hc_error(HC_EINVAL, "split: unknown split method %d", (int)o->kind);
    if (!(o->valid_frac >= 0 && o->valid_frac < 1 && o->test_frac >= 0 && o->test_frac < 1 &&
          o->valid_frac + o->test_frac < 1))
        return hc_error(HC_EINVAL,
                        "split: valid (%g) and test (%g) fractions must be in [0, 1) with a sum "
                        "below 1",
                        o->valid_frac, o->test_frac);
    if (o->min_user < 0 || o->min_item < 0)
        return hc_error(HC_EINVAL, "split: negative minimum count");
    if (o->kind == HC_SPLIT_TEMPORAL && !x->ts)
        return hc_error(HC_EINVAL, "split: the temporal split needs timestamps, and the input "
                                   "has none");
    if (x->n < 0 || (x->n > 0 && (!x->user || !x->item)))
        return hc_error(HC_EINVAL, "split: malformed interactions");
    int32_t nu = hc_idmap_size(users), ni = hc_idmap_size(items);
    for (int64_t k = 0; k < x->n; k++)
        if (x->user[k] < 0 || x->user[k] >= nu || x->item[k] < 0 || x->item[k] >= ni)
            return hc_error(HC_ERANGE, "split: interaction %lld (%d, %d) outside the id maps",
                            (long long)k, x->user[k], x->item[k]);
    return HC_OK;
}

/* The arrays of one split, filled step by step (hc_split). "Raw" users and items are the
 * reader's indices, "new" ones the dataset's (kept, in order of first appearance). */
typedef struct {
    const hc_interactions *x;
    const hc_split_opts *opts;
    int32_t nu, ni; /* raw users and items */
    int has_ts;
    int64_t *uptr;      /* nu + 1: raw user -> offsets of its interactions in order */
    int64_t *order;     /* n: input indices grouped by user */
    int32_t *icnt;      /* ni: distinct users per raw item */
    int64_t *dptr;      /* nu + 1: distinct pairs per raw user */
    int32_t *ditem;     /* nd: their items */
    int64_t *dfirst;    /* nd: the input index of their first occurrence */
    int64_t *dts;       /* nd: their earliest timestamp (has_ts) */
    int64_t nd;         /* distinct pairs */
    uint8_t *firstkept; /* n: 1 at the first occurrence of each kept pair */
    int32_t *newu, *newi, *oldu, *oldi; /* raw <-> new indices */
    int32_t n_users, n_items;           /* kept */
    int64_t nk;                         /* kept pairs */
    int64_t *kptr;                      /* n_users + 1: kept pairs per new user */
    int32_t *kitem;                     /* nk: their new items, first-appearance order */
    int64_t *kfirst, *kts;              /* nk: first input index, earliest timestamp */
    uint8_t *part;                      /* nk: PART_* */
    int64_t maxlen;                     /* most kept pairs of one user */
    int64_t n_unseen;                   /* held-out pairs dropped: item not in train */
    int32_t n_lost;                     /* users whose held-out sets were dropped */
} split_work;

static void work_free(split_work *w)
{
    free(w->uptr);
    free(w->order);
    free(w->icnt);
    free(w->dptr);
    free(w->ditem);
    free(w->dfirst);
    free(w->dts);
    free(w->firstkept);
    free(w->newu);
    free(w->newi);
    free(w->oldu);
    free(w->oldi);
    free(w->kptr);
    free(w->kitem);
    free(w->kfirst);
    free(w->kts);
    free(w->part);
}

/* malloc of n >= 0 elements of size bytes (one at least, so that 0 is not a failure). */
static void *alloc_n(int64_t n, size_t size, int zero)
{
    size_t k = n > 0 ? (size_t)n : 1;
    return zero ? calloc(k, size) : malloc(k * size);
}

/* 1. A stable counting sort by user, then duplicates collapsed per user (the earliest
 * timestamp kept). O(n + users + items). */
static int step_group(split_work *w)
{
    const hc_interactions *x = w->x;
    const int64_t n = x->n;
    w->uptr = alloc_n((int64_t)w->nu + 1, sizeof *w->uptr, 1);
    w->order = alloc_n(n, sizeof *w->order, 0);
    w->icnt = alloc_n(w->ni, sizeof *w->icnt, 1);
    w->dptr = alloc_n((int64_t)w->nu + 1, sizeof *w->dptr, 1);
    w->ditem = alloc_n(n, sizeof *w->ditem, 0);
    w->dfirst = alloc_n(n, sizeof *w->dfirst, 0);
    int32_t *mark = alloc_n(w->ni, sizeof *mark, 0);   /* last user seeing the item */
    int64_t *where = alloc_n(w->ni, sizeof *where, 0); /* its slot in that user's list */
    int64_t *fill = alloc_n((int64_t)w->nu + 1, sizeof *fill, 0);
    if (w->has_ts)
        w->dts = alloc_n(n, sizeof *w->dts, 0);
    int ok = w->uptr && w->order && w->icnt && w->dptr && w->ditem && w->dfirst && mark && where &&
             fill && (!w->has_ts || w->dts);
    if (ok) {
        for (int64_t k = 0; k < n; k++)
            w->uptr[x->user[k] + 1]++;
        for (int32_t u = 0; u < w->nu; u++)
            w->uptr[u + 1] += w->uptr[u];
        memcpy(fill, w->uptr, ((size_t)w->nu + 1) * sizeof *fill);
        for (int64_t k = 0; k < n; k++)
            w->order[fill[x->user[k]]++] = k;
        for (int32_t i = 0; i < w->ni; i++)
            mark[i] = -1;
        int64_t nd = 0;
        for (int32_t u = 0; u < w->nu; u++) {
            w->dptr[u] = nd;
            for (int64_t p = w->uptr[u]; p < w->uptr[u + 1]; p++) {
                int64_t k = w->order[p];
                int32_t i = x->item[k];
                if (mark[i] != u) {
                    mark[i] = u;
                    where[i] = nd;
                    w->ditem[nd] = i;
                    w->dfirst[nd] = k;
                    if (w->has_ts)
                        w->dts[nd] = x->ts[k];
                    nd++;
                    w->icnt[i]++;
                } else if (w->has_ts && x->ts[k] < w->dts[where[i]]) {
                    w->dts[where[i]] = x->ts[k];
                }
            }
        }
        w->dptr[w->nu] = w->nd = nd;
    }
    free(mark);
    free(where);
    free(fill);
    return ok ? HC_OK : HC_ENOMEM;
}

/* 2.-3. The one-pass filter (users with min_user distinct items, items with min_item users,
 * both counted before filtering), and the kept users and items re-indexed in order of first
 * appearance, their ids into the new maps. */
static int step_filter(split_work *w, const hc_idmap *users, const hc_idmap *items, hc_dataset *out)
{
    const hc_interactions *x = w->x;
    w->firstkept = alloc_n(x->n, 1, 1);
    w->newu = alloc_n(w->nu, sizeof *w->newu, 0);
    w->newi = alloc_n(w->ni, sizeof *w->newi, 0);
    w->oldu = alloc_n(w->nu, sizeof *w->oldu, 0);
    w->oldi = alloc_n(w->ni, sizeof *w->oldi, 0);
    out->users = hc_idmap_new();
    out->items = hc_idmap_new();
    if (!w->firstkept || !w->newu || !w->newi || !w->oldu || !w->oldi || !out->users || !out->items)
        return HC_ENOMEM;
    for (int32_t u = 0; u < w->nu; u++) {
        if (w->dptr[u + 1] - w->dptr[u] < (int64_t)w->opts->min_user)
            continue;
        for (int64_t p = w->dptr[u]; p < w->dptr[u + 1]; p++)
            if (w->icnt[w->ditem[p]] >= w->opts->min_item)
                w->firstkept[w->dfirst[p]] = 1;
    }
    for (int32_t u = 0; u < w->nu; u++)
        w->newu[u] = -1;
    for (int32_t i = 0; i < w->ni; i++)
        w->newi[i] = -1;
    for (int64_t k = 0; k < x->n; k++) {
        if (!w->firstkept[k])
            continue;
        w->nk++;
        if (w->newu[x->user[k]] < 0) {
            w->oldu[w->n_users] = x->user[k];
            w->newu[x->user[k]] = w->n_users++;
        }
        if (w->newi[x->item[k]] < 0) {
            w->oldi[w->n_items] = x->item[k];
            w->newi[x->item[k]] = w->n_items++;
        }
    }
    for (int32_t u = 0; u < w->n_users; u++) {
        const char *name = hc_idmap_name(users, w->oldu[u]);
        int32_t idx, rc = hc_idmap_put(out->users, name, strlen(name), &idx);
        if (rc != HC_OK)
            return rc;
    }
    for (int32_t i = 0; i < w->n_items; i++) {
        const char *name = hc_idmap_name(items, w->oldi[i]);
        int32_t idx, rc = hc_idmap_put(out->items, name, strlen(name), &idx);
        if (rc != HC_OK)
            return rc;
    }
    return HC_OK;
}

/* The kept pairs of each new user, items in first-appearance order. */
static int step_keep(split_work *w)
{
    w->kptr = alloc_n((int64_t)w->n_users + 1, sizeof *w->kptr, 0);
    w->kitem = alloc_n(w->nk, sizeof *w->kitem, 0);
    w->kfirst = alloc_n(w->nk, sizeof *w->kfirst, 0);
    w->part = alloc_n(w->nk, 1, 0);
    if (w->has_ts)
        w->kts = alloc_n(w->nk, sizeof *w->kts, 0);
    if (!w->kptr || !w->kitem || !w->kfirst || !w->part || (w->has_ts && !w->kts))
        return HC_ENOMEM;
    int64_t at = 0;
    for (int32_t u = 0; u < w->n_users; u++) {
        int32_t ou = w->oldu[u];
        w->kptr[u] = at;
        for (int64_t p = w->dptr[ou]; p < w->dptr[ou + 1]; p++) {
            if (!w->firstkept[w->dfirst[p]])
                continue;
            w->kitem[at] = w->newi[w->ditem[p]];
            w->kfirst[at] = w->dfirst[p];
            if (w->has_ts)
                w->kts[at] = w->dts[p];
            at++;
        }
        if (at - w->kptr[u] > w->maxlen)
            w->maxlen = at - w->kptr[u];
    }
    w->kptr[w->n_users] = at;
    return HC_OK;
}

/* 4.-5. Each user's pairs assigned to train, valid or test (assign_user, one RNG stream in
 * user order); then held-out items that occur in no train set go, and a user left with an
 * empty valid or test set loses both. */
static int step_assign(split_work *w)
{
    int32_t *perm = alloc_n(w->maxlen, sizeof *perm, 0);
    ts_entry *te = alloc_n(w->maxlen, sizeof *te, 0);
    uint8_t *in_train = alloc_n(w->n_items, 1, 1);
    if (!perm || !te || !in_train) {
        free(perm);
        free(te);
        free(in_train);
        return HC_ENOMEM;
    }
    hc_rng rng;
    hc_rng_init(&rng, w->opts->seed, 0);
    for (int32_t u = 0; u < w->n_users; u++) {
        int64_t b = w->kptr[u], len = w->kptr[u + 1] - b;
        assign_user(w->opts, &rng, len, w->has_ts ? w->kts + b : NULL, w->kfirst + b, w->part + b,
                    perm, te);
        for (int64_t p = b; p < b + len; p++)
            if (w->part[p] == PART_TRAIN)
                in_train[w->kitem[p]] = 1;
    }
    for (int32_t u = 0; u < w->n_users; u++) {
        int64_t nv = 0, nt = 0, had = 0;
        for (int64_t p = w->kptr[u]; p < w->kptr[u + 1]; p++) {
            if (w->part[p] == PART_TRAIN)
                continue;
            had = 1;
            if (!in_train[w->kitem[p]]) {
                w->part[p] = PART_DROPPED;
                w->n_unseen++;
            } else if (w->part[p] == PART_VALID) {
                nv++;
            } else {
                nt++;
            }
        }
        if (nv == 0 || nt == 0) {
            for (int64_t p = w->kptr[u]; p < w->kptr[u + 1]; p++)
                if (w->part[p] != PART_TRAIN)
                    w->part[p] = PART_DROPPED;
            w->n_lost += (int32_t)had;
        }
    }
    free(perm);
    free(te);
    free(in_train);
    return HC_OK;
}

/* The train, valid and test matrices from the parts. */
static int step_matrices(const split_work *w, hc_dataset *out)
{
    int32_t *rows = alloc_n(w->nk, sizeof *rows, 0), *cols = alloc_n(w->nk, sizeof *cols, 0);
    int rc = rows && cols ? HC_OK : HC_ENOMEM;
    hc_csr *mats[3] = {&out->train, &out->valid, &out->test};
    for (int m = 0; m < 3 && rc == HC_OK; m++) {
        int64_t c = 0;
        for (int32_t u = 0; u < w->n_users; u++)
            for (int64_t p = w->kptr[u]; p < w->kptr[u + 1]; p++)
                if (w->part[p] == m) {
                    rows[c] = u;
                    cols[c] = w->kitem[p];
                    c++;
                }
        rc = hc_csr_from_pairs(mats[m], w->n_users, w->n_items, rows, cols, c);
    }
    free(rows);
    free(cols);
    return rc;
}

int hc_split(const hc_interactions *x, const hc_idmap *users, const hc_idmap *items,
             const hc_split_opts *opts, hc_dataset *out)
{
    memset(out, 0, sizeof *out);
    int rc = check_input(x, users, items, opts);
    if (rc)
        return rc;
    split_work w = {.x = x,
                    .opts = opts,
                    .nu = hc_idmap_size(users),
                    .ni = hc_idmap_size(items),
                    .has_ts = x->ts != NULL};
    if ((rc = step_group(&w)) == HC_OK && (rc = step_filter(&w, users, items, out)) == HC_OK &&
        (rc = step_keep(&w)) == HC_OK && (rc = step_assign(&w)) == HC_OK)
        rc = step_matrices(&w, out);
    if (rc == HC_OK) {
        out->n_users = w.n_users;
        out->n_items = w.n_items;
        out->kind = opts->kind;
        out->seed = opts->seed;
        out->valid_frac = opts->valid_frac;
        out->test_frac = opts->test_frac;
        hc_dataset_update_checksum(out);
        hc_log(HC_LOG_INFO,
               "split (%s, seed %llu): kept %d of %d users and %d of %d items (%lld of %lld "
               "distinct pairs); %lld held-out items unseen in train removed, %d users lost "
               "their held-out sets",
               hc_split_name(opts->kind), (unsigned long long)opts->seed, w.n_users, w.nu,
               w.n_items, w.ni, (long long)w.nk, (long long)w.nd, (long long)w.n_unseen, w.n_lost);
    } else {
        if (rc == HC_ENOMEM)
            rc = hc_error(HC_ENOMEM, "split: out of memory for %lld interactions", (long long)x->n);
        hc_dataset_free(out);
    }
    work_free(&w);
    return rc;
}
