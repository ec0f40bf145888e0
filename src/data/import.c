/*
 * import.c - import a split made elsewhere (train/valid/test files plus optional catalogs),
 * so that results can be compared on one identical split (docs/method.md §1).
 *
 * The catalog files are read first, so dense indices follow the catalog order; then train,
 * valid and test are read with one shared pair of id maps. The CSRs cover the full catalog
 * (users and items without any train row are kept and ranked). Nothing is filtered: held-out
 * rows whose item never occurs in train are kept as given - it is someone else's split - and
 * only counted in a warning.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 1 if the first line of a catalog is a header rather than an id. */
static int is_header_word(const char *s, size_t len)
{
    static const char *const words[] = {"user",    "users",  "item",   "items", "id",  "user_id",
                                        "item_id", "userid", "itemid", "uid",   "iid", "name"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strlen(words[k]) == len && strncasecmp(words[k], s, len) == 0)
            return 1;
    return 0;
}

/*
 * Reads a catalog (one id per line; the first field when a line has several; blank lines
 * skipped; a first line holding a header word such as "user" or "item" skipped) into m.
 */
static int read_catalog(const char *path, hc_idmap *m)
{
    char *data;
    size_t len;
    int rc = hc_file_read_all(path, &data, &len);
    if (rc)
        return rc;
    size_t pos = 0;
    long long line = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
        pos = 3;
    while (pos < len) {
        size_t end = pos;
        while (end < len && data[end] != '\n')
            end++;
        line++;
        size_t b = pos;
        while (b < end && (data[b] == ' ' || data[b] == '\t' || data[b] == '\r'))
            b++;
        size_t e = b;
        while (e < end && data[e] != '\t' && data[e] != ',' && data[e] != ';' && data[e] != ' ' &&
               data[e] != '\r')
            e++;
        pos = end + 1;
        if (e == b)
            continue;
        if (memchr(data + b, '\0', e - b)) {
            free(data);
            return hc_error(HC_EPARSE, "%s:%lld: NUL byte in id", path, line);
        }
        if (line == 1 && is_header_word(data + b, e - b))
            continue;
        int32_t idx;
        if ((rc = hc_idmap_put(m, data + b, e - b, &idx)) != HC_OK) {
            free(data);
            return hc_error(rc, "%s:%lld: cannot add id: %s", path, line, hc_strerror(rc));
        }
    }
    free(data);
    return HC_OK;
}

int hc_split_import(const hc_import_paths *paths, const hc_read_opts *opts, hc_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (!paths || !paths->train)
        return hc_error(HC_EINVAL, "import: a train file is required");
    hc_read_opts ro;
    if (opts)
        ro = *opts;
    else
        hc_read_opts_default(&ro);
    hc_interactions parts[3];
    memset(parts, 0, sizeof parts);
    const char *files[3] = {paths->train, paths->valid, paths->test};
    hc_csr *mats[3] = {&out->train, &out->valid, &out->test};
    uint8_t *in_train = NULL;
    int rc = HC_ENOMEM;
    out->users = hc_idmap_new();
    out->items = hc_idmap_new();
    if (!out->users || !out->items) {
        rc = hc_error(HC_ENOMEM, "import: out of memory");
        goto fail;
    }
    if (paths->users_catalog && (rc = read_catalog(paths->users_catalog, out->users)) != HC_OK)
        goto fail;
    if (paths->items_catalog && (rc = read_catalog(paths->items_catalog, out->items)) != HC_OK)
        goto fail;
    int32_t cat_users = hc_idmap_size(out->users), cat_items = hc_idmap_size(out->items);
    for (int k = 0; k < 3; k++)
        if (files[k] &&
            (rc = hc_read_interactions(files[k], &ro, out->users, out->items, &parts[k])) != HC_OK)
            goto fail;
    int32_t nu = hc_idmap_size(out->users), ni = hc_idmap_size(out->items);
    if (paths->users_catalog && nu > cat_users)
        hc_log(HC_LOG_WARN, "import: %d users of the split files are not in %s", nu - cat_users,
               paths->users_catalog);
    if (paths->items_catalog && ni > cat_items)
        hc_log(HC_LOG_WARN, "import: %d items of the split files are not in %s", ni - cat_items,
               paths->items_catalog);
    for (int k = 0; k < 3; k++)
        if ((rc = hc_csr_from_pairs(mats[k], nu, ni, parts[k].user, parts[k].item, parts[k].n)) !=
            HC_OK)
            goto fail;
    in_train = calloc((size_t)(ni > 0 ? ni : 1), 1);
    if (!in_train) {
        rc = hc_error(HC_ENOMEM, "import: out of memory");
        goto fail;
    }
    for (int64_t k = 0; k < out->train.nnz; k++)
        in_train[out->train.indices[k]] = 1;
    for (int k = 1; k < 3; k++) {
        int64_t unseen = 0;
        for (int64_t j = 0; j < mats[k]->nnz; j++)
            unseen += !in_train[mats[k]->indices[j]];
        if (unseen)
            hc_log(HC_LOG_WARN,
                   "import: %lld rows of %s hold items that never occur in train (kept as given)",
                   (long long)unseen, files[k]);
    }
    out->n_users = nu;
    out->n_items = ni;
    out->kind = HC_SPLIT_IMPORTED;
    out->seed = 0;
    out->valid_frac = out->test_frac = 0;
    hc_dataset_update_checksum(out);
    hc_log(HC_LOG_INFO,
           "import: %d users, %d items, %lld train / %lld valid / %lld test interactions", nu, ni,
           (long long)out->train.nnz, (long long)out->valid.nnz, (long long)out->test.nnz);
    rc = HC_OK;
    goto done;
fail:
    hc_dataset_free(out);
done:
    for (int k = 0; k < 3; k++)
        hc_interactions_free(&parts[k]);
    free(in_train);
    return rc;
}
