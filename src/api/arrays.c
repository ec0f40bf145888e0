/*
 * arrays.c - datasets and trajectories from plain index arrays, for programs and bindings
 * that hold their data in memory: the same checks the file readers make, with messages that
 * name the set, position, checkpoint, user and rank. O(pairs log pairs) for a dataset,
 * O(C U K) for a trajectory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traj/trajectory.h"

/* Ids "0".."n-1" in a new map. */
static hc_idmap *number_ids(int32_t n)
{
    hc_idmap *m = hc_idmap_new();
    for (int32_t i = 0; m && i < n; i++) {
        char buf[16];
        int32_t idx;
        int len = snprintf(buf, sizeof buf, "%d", i);
        if (hc_idmap_put(m, buf, (size_t)len, &idx) != HC_OK) {
            hc_idmap_free(m);
            return NULL;
        }
    }
    return m;
}

static int check_pairs(const char *set, const int32_t *u, const int32_t *it, int64_t n,
                       int32_t n_users, int32_t n_items)
{
    if (n < 0 || (n > 0 && (!u || !it)))
        return hc_error(HC_EINVAL, "dataset: %s has %lld pairs and %s arrays", set, (long long)n,
                        n < 0 ? "a negative count of" : "no");
    for (int64_t k = 0; k < n; k++)
        if (u[k] < 0 || u[k] >= n_users || it[k] < 0 || it[k] >= n_items)
            return hc_error(HC_EINVAL,
                            "dataset: %s pair %lld is (user %d, item %d), outside %d users x %d "
                            "items",
                            set, (long long)k, u[k], it[k], n_users, n_items);
    return HC_OK;
}

int hc_dataset_from_arrays(int32_t n_users, int32_t n_items, const int32_t *train_user,
                           const int32_t *train_item, int64_t n_train, const int32_t *valid_user,
                           const int32_t *valid_item, int64_t n_valid, const int32_t *test_user,
                           const int32_t *test_item, int64_t n_test, hc_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (n_users <= 0 || n_items <= 0)
        return hc_error(HC_EINVAL, "dataset: %d users x %d items (both must be positive)", n_users,
                        n_items);
    const char *names[3] = {"train", "valid", "test"};
    const int32_t *us[3] = {train_user, valid_user, test_user};
    const int32_t *is[3] = {train_item, valid_item, test_item};
    const int64_t ns[3] = {n_train, n_valid, n_test};
    hc_csr *mats[3] = {&out->train, &out->valid, &out->test};
    int rc = HC_OK;
    for (int k = 0; k < 3 && rc == HC_OK; k++)
        rc = check_pairs(names[k], us[k], is[k], ns[k], n_users, n_items);
    if (rc == HC_OK && n_train == 0)
        rc = hc_error(HC_EEMPTY, "dataset: no train pairs");
    for (int k = 0; k < 3 && rc == HC_OK; k++)
        rc = hc_csr_from_pairs(mats[k], n_users, n_items, us[k], is[k], ns[k]);
    if (rc == HC_OK) {
        out->users = number_ids(n_users);
        out->items = number_ids(n_items);
        if (!out->users || !out->items)
            rc = hc_error(HC_ENOMEM, "dataset: out of memory");
    }
    if (rc != HC_OK) {
        hc_dataset_free(out);
        return rc;
    }
    out->n_users = n_users;
    out->n_items = n_items;
    out->kind = HC_SPLIT_IMPORTED;
    hc_dataset_update_checksum(out);
    return HC_OK;
}

/* Checks user u's list at checkpoint c (k entries): items in range, -1 only as padding at
 * the end, none a train item of u, none twice (seen: n_items stamps, stamp = a unique id of
 * this list). */
static int check_list(const hc_dataset *ds, int32_t c, int32_t u, const int32_t *list, int32_t k,
                      int64_t *seen, int64_t stamp)
{
    int32_t r = 0;
    for (; r < k && list[r] != -1; r++) {
        int32_t i = list[r];
        const char *bad = i < 0 || i >= ds->n_items      ? "outside the catalog"
                          : hc_csr_has(&ds->train, u, i) ? "a train item of the user"
                          : seen[i] == stamp             ? "listed twice"
                                                         : NULL;
        if (bad)
            return hc_error(HC_EINVAL, "trajectory: checkpoint %d, user %d, rank %d: item %d is %s",
                            c, u, r, i, bad);
        seen[i] = stamp;
    }
    for (; r < k; r++)
        if (list[r] != -1)
            return hc_error(HC_EINVAL,
                            "trajectory: checkpoint %d, user %d, rank %d: item %d after the "
                            "list's end (-1)",
                            c, u, r, list[r]);
    return HC_OK;
}

int hc_traj_from_arrays(const hc_dataset *ds, const char *name, int32_t n_ckpt, int32_t k,
                        const int32_t *top, const int32_t *epochs, hc_traj *out)
{
    memset(out, 0, sizeof *out);
    int rc = hc_traj_name_check(name ? name : "", "trajectory name");
    if (rc != HC_OK)
        return rc;
    if (n_ckpt < 1 || n_ckpt > 1000 || k < 1 || k > 100000 || !top)
        return hc_error(HC_EINVAL,
                        "trajectory: %d checkpoints of %d items (need 1..1000 and "
                        "1..100000, and the lists)",
                        n_ckpt, k);
    int64_t *seen = malloc((size_t)ds->n_items * sizeof *seen);
    if (!seen)
        return hc_error(HC_ENOMEM, "trajectory: out of memory");
    for (int32_t i = 0; i < ds->n_items; i++)
        seen[i] = -1;
    for (int32_t c = 0; c < n_ckpt && rc == HC_OK; c++)
        for (int32_t u = 0; u < ds->n_users && rc == HC_OK; u++) {
            int64_t at = (int64_t)c * ds->n_users + u;
            rc = check_list(ds, c, u, top + at * k, k, seen, at);
        }
    free(seen);
    if (rc != HC_OK)
        return rc;
    snprintf(out->model, sizeof out->model, "%s", name);
    out->n_users = ds->n_users;
    out->n_items = ds->n_items;
    out->n_ckpt = n_ckpt;
    out->k = k;
    out->ds_checksum = ds->checksum;
    out->train_nnz = ds->train.nnz;
    if ((rc = hc_traj_alloc(out, 0)) != HC_OK)
        return rc;
    memcpy(out->top, top, (size_t)n_ckpt * (size_t)ds->n_users * (size_t)k * sizeof *top);
    for (int32_t c = 0; c < n_ckpt; c++) {
        out->epochs[c] = epochs ? epochs[c] : -1;
        out->valid_r50[c] = (float)NAN;
    }
    return HC_OK;
}
