/*
 * common.c - the helpers every harness links (see common.h). Cost: fz_dataset() generates
 * and splits 400 interactions once; fz_read() is the readers' O(input) plus hc_split's
 * O(n log n); the rest is O(input).
 */
#include "common.h"

#include "data/reader_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *fz_copy(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz harness: %s: %s\n", what, hc_errmsg());
    abort();
}

const hc_dataset *fz_dataset(void)
{
    static hc_dataset ds;
    static int built;
    if (built)
        return &ds;
    hc_synth_opts so;
    hc_synth_opts_default(&so);
    so.n_users = FZ_USERS;
    so.n_items = FZ_ITEMS;
    so.n_interactions = FZ_INTERACTIONS;
    so.seed = FZ_SEED;
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x;
    memset(&x, 0, sizeof x);
    if (!users || !items || hc_synth(&so, users, items, &x) != HC_OK)
        die("synth");
    hc_split_opts sp;
    hc_split_opts_default(&sp);
    if (hc_split(&x, users, items, &sp, &ds) != HC_OK)
        die("split");
    hc_interactions_free(&x);
    hc_idmap_free(users);
    hc_idmap_free(items);
    built = 1;
    return &ds;
}

/* Aborts with a note when a promise of the reader API is broken. */
static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz harness: broken promise: %s (last message: %s)\n", what, hc_errmsg());
        abort();
    }
}

/* The reader's output must only name ids it put in the maps. */
static void check_rows(const hc_interactions *x, const hc_idmap *users, const hc_idmap *items)
{
    check(x->n > 0 && x->line, "a successful read has rows and their line numbers");
    for (int64_t k = 0; k < x->n; k++)
        check(x->user[k] >= 0 && x->user[k] < hc_idmap_size(users) && x->item[k] >= 0 &&
                  x->item[k] < hc_idmap_size(items) && x->line[k] >= 1,
              "row indices inside the id maps");
}

static void read_once(const uint8_t *data, size_t size, const hc_read_opts *o)
{
    uint8_t *buf = fz_copy(data, size);
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x;
    memset(&x, 0, sizeof x);
    if (!users || !items)
        abort();
    hc_error_clear();
    int rc = hc__read_mem("fuzz-input", (const char *)buf, size, o, users, items, &x);
    if (rc == HC_OK) {
        check_rows(&x, users, items);
        hc_split_opts so;
        hc_split_opts_default(&so);
        so.min_user = 1; /* keep every user: the split sees all the rows */
        hc_dataset ds;
        if (hc_split(&x, users, items, &so, &ds) == HC_OK)
            hc_dataset_free(&ds);
    } else {
        check(hc_errmsg()[0] != '\0', "a refusal has a message");
        check(x.n == 0, "a refusal appends nothing");
    }
    hc_interactions_free(&x);
    hc_idmap_free(users);
    hc_idmap_free(items);
    free(buf);
}

void fz_read(const uint8_t *data, size_t size, const hc_read_opts *opts, int n)
{
    for (int k = 0; k < n; k++)
        read_once(data, size, &opts[k]);
}

void fz_put_u64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

uint32_t fz_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= (uint32_t)p[k] << (8 * k);
    return v;
}
