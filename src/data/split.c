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

int hc_split(const hc_interactions *x, const hc_idmap *users, const hc_idmap *items,
             const hc_split_opts *opts, hc_dataset *out)
{
    memset(out, 0, sizeof *out);
    int rc = check_input(x, users, items, opts);
    if (rc)
        return rc;
    const int32_t nu = hc_idmap_size(users), ni = hc_idmap_size(items);
    const int64_t n = x->n;
    const int has_ts = x->ts != NULL;

    int64_t *uptr = calloc((size_t)nu + 1, sizeof *uptr);         /* raw user -> grouped offsets */
    int64_t *order = malloc((size_t)(n ? n : 1) * sizeof *order); /* input idx grouped */
    int32_t *mark = malloc((size_t)(ni ? ni : 1) * sizeof *mark); /* last user seeing item */
    int64_t *where = malloc((size_t)(ni ? ni : 1) * sizeof *where); /* its slot in that list */
    int32_t *icnt = calloc((size_t)(ni ? ni : 1), sizeof *icnt);
    int64_t *dptr = calloc((size_t)nu + 1, sizeof *dptr); /* distinct pairs per raw user */
    int32_t *newu = malloc((size_t)(nu ? nu : 1) * sizeof *newu);
    int32_t *newi = malloc((size_t)(ni ? ni : 1) * sizeof *newi);
    int32_t *oldu = malloc((size_t)(nu ? nu : 1) * sizeof *oldu);
    int32_t *oldi = malloc((size_t)(ni ? ni : 1) * sizeof *oldi);
    uint8_t *firstkept = calloc((size_t)(n ? n : 1), 1);
    int32_t *ditem = NULL, *kitem = NULL, *perm = NULL, *rows = NULL, *cols = NULL;
    int64_t *dfirst = NULL, *dts = NULL, *kfirst = NULL, *kts = NULL, *kptr = NULL;
    uint8_t *part = NULL, *in_train = NULL;
    ts_entry *te = NULL;
    int64_t nd = 0;
    rc = HC_ENOMEM;
    if (!uptr || !order || !mark || !where || !icnt || !dptr || !newu || !newi || !oldu || !oldi ||
        !firstkept)
        goto oom;

    /* 1. stable counting sort by user, then collapse duplicates per user */
    for (int64_t k = 0; k < n; k++)
        uptr[x->user[k] + 1]++;
    for (int32_t u = 0; u < nu; u++)
        uptr[u + 1] += uptr[u];
    {
        int64_t *fill = malloc(((size_t)nu + 1) * sizeof *fill);
        if (!fill)
            goto oom;
        memcpy(fill, uptr, ((size_t)nu + 1) * sizeof *fill);
        for (int64_t k = 0; k < n; k++)
            order[fill[x->user[k]]++] = k;
        free(fill);
    }
    ditem = malloc((size_t)(n ? n : 1) * sizeof *ditem);
    dfirst = malloc((size_t)(n ? n : 1) * sizeof *dfirst);
    if (!ditem || !dfirst)
        goto oom;
    if (has_ts && !(dts = malloc((size_t)(n ? n : 1) * sizeof *dts)))
        goto oom;
    for (int32_t i = 0; i < ni; i++)
        mark[i] = -1;
    for (int32_t u = 0; u < nu; u++) {
        dptr[u] = nd;
        for (int64_t p = uptr[u]; p < uptr[u + 1]; p++) {
            int64_t k = order[p];
            int32_t i = x->item[k];
            if (mark[i] != u) {
                mark[i] = u;
                where[i] = nd;
                ditem[nd] = i;
                dfirst[nd] = k;
                if (has_ts)
                    dts[nd] = x->ts[k];
                nd++;
                icnt[i]++;
            } else if (has_ts && x->ts[k] < dts[where[i]]) {
                dts[where[i]] = x->ts[k];
            }
        }
    }
    dptr[nu] = nd;

    /* 2.-3. one-pass filter; re-index in order of first appearance */
    for (int32_t u = 0; u < nu; u++) {
        if (dptr[u + 1] - dptr[u] < (int64_t)opts->min_user)
            continue;
        for (int64_t p = dptr[u]; p < dptr[u + 1]; p++)
            if (icnt[ditem[p]] >= opts->min_item)
                firstkept[dfirst[p]] = 1;
    }
    int32_t n_users = 0, n_items = 0;
    for (int32_t u = 0; u < nu; u++)
        newu[u] = -1;
    for (int32_t i = 0; i < ni; i++)
        newi[i] = -1;
    int64_t nk = 0;
    for (int64_t k = 0; k < n; k++) {
        if (!firstkept[k])
            continue;
        nk++;
        if (newu[x->user[k]] < 0) {
            oldu[n_users] = x->user[k];
            newu[x->user[k]] = n_users++;
        }
        if (newi[x->item[k]] < 0) {
            oldi[n_items] = x->item[k];
            newi[x->item[k]] = n_items++;
        }
    }
    out->users = hc_idmap_new();
    out->items = hc_idmap_new();
    if (!out->users || !out->items)
        goto oom;
    for (int32_t u = 0; u < n_users; u++) {
        const char *name = hc_idmap_name(users, oldu[u]);
        int32_t idx;
        if ((rc = hc_idmap_put(out->users, name, strlen(name), &idx)) != HC_OK)
            goto fail;
    }
    for (int32_t i = 0; i < n_items; i++) {
        const char *name = hc_idmap_name(items, oldi[i]);
        int32_t idx;
        if ((rc = hc_idmap_put(out->items, name, strlen(name), &idx)) != HC_OK)
            goto fail;
    }
    rc = HC_ENOMEM;

    /* the kept pairs of each new user, items in first-appearance order */
    kptr = malloc(((size_t)n_users + 1) * sizeof *kptr);
    kitem = malloc((size_t)(nk ? nk : 1) * sizeof *kitem);
    kfirst = malloc((size_t)(nk ? nk : 1) * sizeof *kfirst);
    part = malloc((size_t)(nk ? nk : 1));
    if (!kptr || !kitem || !kfirst || !part)
        goto oom;
    if (has_ts && !(kts = malloc((size_t)(nk ? nk : 1) * sizeof *kts)))
        goto oom;
    int64_t w = 0, maxlen = 0;
    for (int32_t u = 0; u < n_users; u++) {
        int32_t ou = oldu[u];
        kptr[u] = w;
        for (int64_t p = dptr[ou]; p < dptr[ou + 1]; p++) {
            if (!firstkept[dfirst[p]])
                continue;
            kitem[w] = newi[ditem[p]];
            kfirst[w] = dfirst[p];
            if (has_ts)
                kts[w] = dts[p];
            w++;
        }
        if (w - kptr[u] > maxlen)
            maxlen = w - kptr[u];
    }
    kptr[n_users] = w;

    /* 4. assign parts */
    perm = malloc((size_t)(maxlen ? maxlen : 1) * sizeof *perm);
    te = malloc((size_t)(maxlen ? maxlen : 1) * sizeof *te);
    in_train = calloc((size_t)(n_items ? n_items : 1), 1);
    if (!perm || !te || !in_train)
        goto oom;
    hc_rng rng;
    hc_rng_init(&rng, opts->seed, 0);
    for (int32_t u = 0; u < n_users; u++) {
        int64_t b = kptr[u], len = kptr[u + 1] - b;
        assign_user(opts, &rng, len, has_ts ? kts + b : NULL, kfirst + b, part + b, perm, te);
        for (int64_t p = b; p < b + len; p++)
            if (part[p] == PART_TRAIN)
                in_train[kitem[p]] = 1;
    }

    /* 5. held-out items unseen in train go; an empty valid or test set drops both */
    int64_t n_unseen = 0;
    int32_t n_lost = 0;
    for (int32_t u = 0; u < n_users; u++) {
        int64_t nv = 0, nt = 0, had = 0;
        for (int64_t p = kptr[u]; p < kptr[u + 1]; p++) {
            if (part[p] == PART_TRAIN)
                continue;
            had = 1;
            if (!in_train[kitem[p]]) {
                part[p] = PART_DROPPED;
                n_unseen++;
            } else if (part[p] == PART_VALID) {
                nv++;
            } else {
                nt++;
            }
        }
        if (nv == 0 || nt == 0) {
            for (int64_t p = kptr[u]; p < kptr[u + 1]; p++)
                if (part[p] != PART_TRAIN)
                    part[p] = PART_DROPPED;
            n_lost += (int32_t)had;
        }
    }

    /* the three matrices */
    rows = malloc((size_t)(nk ? nk : 1) * sizeof *rows);
    cols = malloc((size_t)(nk ? nk : 1) * sizeof *cols);
    if (!rows || !cols)
        goto oom;
    hc_csr *mats[3] = {&out->train, &out->valid, &out->test};
    for (int m = 0; m < 3; m++) {
        int64_t c = 0;
        for (int32_t u = 0; u < n_users; u++)
            for (int64_t p = kptr[u]; p < kptr[u + 1]; p++)
                if (part[p] == m) {
                    rows[c] = u;
                    cols[c] = kitem[p];
                    c++;
                }
        if ((rc = hc_csr_from_pairs(mats[m], n_users, n_items, rows, cols, c)) != HC_OK)
            goto fail;
    }
    out->n_users = n_users;
    out->n_items = n_items;
    out->kind = opts->kind;
    out->seed = opts->seed;
    out->valid_frac = opts->valid_frac;
    out->test_frac = opts->test_frac;
    hc_dataset_update_checksum(out);
    hc_log(HC_LOG_INFO,
           "split (%s, seed %llu): kept %d of %d users and %d of %d items (%lld of %lld "
           "distinct pairs); %lld held-out items unseen in train removed, %d users lost their "
           "held-out sets",
           hc_split_name(opts->kind), (unsigned long long)opts->seed, n_users, nu, n_items, ni,
           (long long)nk, (long long)nd, (long long)n_unseen, n_lost);
    rc = HC_OK;
    goto done;

oom:
    rc = hc_error(HC_ENOMEM, "split: out of memory for %lld interactions", (long long)n);
fail:
    hc_dataset_free(out);
done:
    free(uptr);
    free(order);
    free(mark);
    free(where);
    free(icnt);
    free(dptr);
    free(newu);
    free(newi);
    free(oldu);
    free(oldi);
    free(firstkept);
    free(ditem);
    free(dfirst);
    free(dts);
    free(kptr);
    free(kitem);
    free(kfirst);
    free(kts);
    free(part);
    free(in_train);
    free(perm);
    free(te);
    free(rows);
    free(cols);
    return rc;
}
