/* test_split.c - filtering, ratio / leave-one-out / temporal splits, held-out clean-up and the
 * import of a split made elsewhere (the shared CiteULike-t benchmark split). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Raw input being built: the reader's maps and interactions. */
typedef struct {
    hc_idmap *users, *items;
    hc_interactions x;
} raw;

static void raw_init(raw *r, int with_ts)
{
    r->users = hc_idmap_new();
    r->items = hc_idmap_new();
    assert_non_null(r->users);
    assert_non_null(r->items);
    memset(&r->x, 0, sizeof r->x);
    if (with_ts)
        TU_OK(hc_interactions_enable(&r->x, 0, 1, 0));
}

static void raw_free(raw *r)
{
    hc_idmap_free(r->users);
    hc_idmap_free(r->items);
    hc_interactions_free(&r->x);
}

static void raw_add(raw *r, const char *user, const char *item, int64_t ts)
{
    int32_t u, i;
    TU_OK(hc_idmap_put(r->users, user, strlen(user), &u));
    TU_OK(hc_idmap_put(r->items, item, strlen(item), &i));
    TU_OK(hc_interactions_push(&r->x, u, i, 1.0f, ts));
}

/* Adds user "u<u>" with items "i<it[k]>" (timestamps k + 1). */
static void raw_user(raw *r, int u, const int *it, int n)
{
    char un[32], in[32];
    snprintf(un, sizeof un, "u%d", u);
    for (int k = 0; k < n; k++) {
        snprintf(in, sizeof in, "i%d", it[k]);
        raw_add(r, un, in, k + 1);
    }
}

/* A random input: n_users users with 3..30 items out of n_items, some duplicates. */
static void raw_random(raw *r, int n_users, int n_items, uint64_t seed)
{
    hc_rng rng;
    hc_rng_init(&rng, seed, 99);
    raw_init(r, 0);
    char un[32], in[32];
    for (int u = 0; u < n_users; u++) {
        int n = 3 + (int)hc_rng_below(&rng, 28);
        snprintf(un, sizeof un, "user%d", u);
        for (int k = 0; k < n; k++) {
            snprintf(in, sizeof in, "item%u", hc_rng_below(&rng, (uint32_t)n_items));
            raw_add(r, un, in, 0);
        }
    }
}

static int32_t row_len(const hc_csr *a, const hc_dataset *ds, const char *user)
{
    int32_t u = hc_idmap_get(ds->users, user, strlen(user));
    assert_true(u >= 0);
    return hc_csr_row_len(a, u);
}

static int has(const hc_csr *a, const hc_dataset *ds, const char *user, const char *item)
{
    int32_t u = hc_idmap_get(ds->users, user, strlen(user));
    int32_t i = hc_idmap_get(ds->items, item, strlen(item));
    assert_true(u >= 0);
    assert_true(i >= 0);
    return hc_csr_has(a, u, i);
}

static int csr_equal(const hc_csr *a, const hc_csr *b)
{
    return a->nrows == b->nrows && a->ncols == b->ncols && a->nnz == b->nnz &&
           !memcmp(a->indptr, b->indptr, ((size_t)a->nrows + 1) * sizeof *a->indptr) &&
           (a->nnz == 0 || !memcmp(a->indices, b->indices, (size_t)a->nnz * sizeof *a->indices));
}

/* Every split pair is disjoint and the three parts never share a (user, item). */
static void check_disjoint(const hc_dataset *ds)
{
    for (int32_t u = 0; u < ds->n_users; u++) {
        const hc_csr *m[3] = {&ds->train, &ds->valid, &ds->test};
        for (int a = 0; a < 3; a++)
            for (int32_t k = 0; k < hc_csr_row_len(m[a], u); k++)
                for (int b = a + 1; b < 3; b++)
                    assert_false(hc_csr_has(m[b], u, hc_csr_row(m[a], u)[k]));
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(hc_split_name(HC_SPLIT_RATIO), "ratio");
    assert_string_equal(hc_split_name(HC_SPLIT_LOO), "loo");
    assert_string_equal(hc_split_name(HC_SPLIT_TEMPORAL), "temporal");
    assert_string_equal(hc_split_name(HC_SPLIT_IMPORTED), "imported");
    hc_split_opts o;
    hc_split_opts_default(&o);
    assert_int_equal(o.kind, HC_SPLIT_RATIO);
    assert_int_equal(o.min_user, 5);
    assert_int_equal(o.min_item, 0);
    assert_true(o.valid_frac == 0.2 && o.test_frac == 0.2);
}

static void test_determinism(void **state)
{
    (void)state;
    raw r;
    raw_random(&r, 300, 150, 1);
    hc_split_opts o;
    hc_split_opts_default(&o);
    o.seed = 7;
    hc_dataset a, b, c;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &a));
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &b));
    o.seed = 8;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &c));
    assert_true(csr_equal(&a.train, &b.train));
    assert_true(csr_equal(&a.valid, &b.valid));
    assert_true(csr_equal(&a.test, &b.test));
    assert_true(a.checksum == b.checksum);
    assert_true(a.checksum != c.checksum);
    assert_false(csr_equal(&a.test, &c.test));
    /* same users/items regardless of the seed; the parts are disjoint */
    assert_int_equal(a.n_users, c.n_users);
    assert_int_equal(a.n_items, c.n_items);
    check_disjoint(&a);
    /* the saved files are byte-identical */
    const char *pa = tu_path(tu_tmpdir(), "a.hcd"), *pb = tu_path(tu_tmpdir(), "b.hcd");
    TU_OK(hc_dataset_save(&a, pa));
    TU_OK(hc_dataset_save(&b, pb));
    char *da, *db;
    size_t la, lb;
    TU_OK(hc_file_read_all(pa, &da, &la));
    TU_OK(hc_file_read_all(pb, &db, &lb));
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    free(da);
    free(db);
    hc_dataset_free(&a);
    hc_dataset_free(&b);
    hc_dataset_free(&c);
    raw_free(&r);
}

/* Users 0..nb-1 hold all of items 0..9, so every item is in some train set. */
static void add_background(raw *r, int nb)
{
    int all[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int u = 0; u < nb; u++)
        raw_user(r, 1000 + u, all, 10);
}

static void test_proportions(void **state)
{
    (void)state;
    raw r;
    raw_init(&r, 0);
    add_background(&r, 30);
    hc_split_opts o;
    hc_split_opts_default(&o);
    o.seed = 3;
    hc_dataset ds;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_int_equal(ds.n_users, 30);
    assert_int_equal(ds.n_items, 10);
    /* n = 10: floor(2.0) = 2 test, 2 valid, 6 train for every user */
    for (int32_t u = 0; u < ds.n_users; u++) {
        assert_int_equal(hc_csr_row_len(&ds.train, u), 6);
        assert_int_equal(hc_csr_row_len(&ds.valid, u), 2);
        assert_int_equal(hc_csr_row_len(&ds.test, u), 2);
    }
    assert_int_equal(hc_dataset_n_eval_users(&ds), 30);
    check_disjoint(&ds);
    hc_dataset_free(&ds);
    raw_free(&r);
}

static void test_floor(void **state)
{
    (void)state;
    /* floor(0.2 n) for n = 5..9 is 1; with test 0.3 / valid 0.1 it is (1,0), (1,0), (2,0),
     * (2,0), (2,0): an empty valid set then drops both held-out sets. */
    for (int n = 5; n <= 9; n++) {
        for (int variant = 0; variant < 2; variant++) {
            raw r;
            raw_init(&r, 0);
            add_background(&r, 40);
            int it[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
            raw_user(&r, 1, it, n);
            hc_split_opts o;
            hc_split_opts_default(&o);
            o.seed = (uint64_t)n;
            if (variant) {
                o.test_frac = 0.3;
                o.valid_frac = 0.1;
            }
            hc_dataset ds;
            TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
            int nt = variant ? (3 * n) / 10 : n / 5, nv = variant ? n / 10 : n / 5;
            int32_t tr = row_len(&ds.train, &ds, "u1"), va = row_len(&ds.valid, &ds, "u1"),
                    te = row_len(&ds.test, &ds, "u1");
            assert_int_equal(tr, n - nt - nv);
            if (nv > 0 && nt > 0) {
                assert_int_equal(va, nv);
                assert_int_equal(te, nt);
            } else {
                assert_int_equal(va, 0);
                assert_int_equal(te, 0);
            }
            hc_dataset_free(&ds);
            raw_free(&r);
        }
    }
}

static void test_min_counts(void **state)
{
    (void)state;
    raw r;
    raw_init(&r, 0);
    /* a: 4 distinct items in 6 rows (dropped: counts are of distinct items); b: 5 (kept);
     * c: 6 (kept). Kept indices follow first appearance: b before c, x3 before x1. */
    const char *rows[][2] = {{"a", "x1"}, {"a", "x1"}, {"b", "x3"}, {"a", "x2"}, {"a", "x2"},
                             {"a", "x3"}, {"a", "x4"}, {"b", "x1"}, {"b", "x2"}, {"b", "x4"},
                             {"b", "x5"}, {"c", "x1"}, {"c", "x2"}, {"c", "x3"}, {"c", "x4"},
                             {"c", "x5"}, {"c", "x6"}, {"b", "x3"}};
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        raw_add(&r, rows[k][0], rows[k][1], 0);
    hc_split_opts o;
    hc_split_opts_default(&o);
    hc_dataset ds;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_int_equal(ds.n_users, 2);
    assert_string_equal(hc_idmap_name(ds.users, 0), "b");
    assert_string_equal(hc_idmap_name(ds.users, 1), "c");
    assert_int_equal(ds.n_items, 6);
    const char *order[] = {"x3", "x1", "x2", "x4", "x5", "x6"};
    for (int k = 0; k < 6; k++)
        assert_string_equal(hc_idmap_name(ds.items, k), order[k]);
    int64_t total = ds.train.nnz + ds.valid.nnz + ds.test.nnz;
    assert_true(total <= 11);
    hc_dataset_free(&ds);

    /* min_item 2 counts distinct users before filtering (a's items count): x5 has b, c;
     * x6 only c -> dropped; c keeps 5 items (single pass: no re-check of min_user). */
    o.min_item = 2;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_int_equal(ds.n_users, 2);
    assert_int_equal(ds.n_items, 5);
    assert_int_equal(hc_idmap_get(ds.items, "x6", 2), -1);
    hc_dataset_free(&ds);

    /* min_user 0 keeps everyone; a user with < 3 items in a ratio split trains only */
    o.min_item = 0;
    o.min_user = 0;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_int_equal(ds.n_users, 3);
    assert_string_equal(hc_idmap_name(ds.users, 0), "a");
    hc_dataset_free(&ds);

    /* everything filtered: an empty dataset, not an error */
    o.min_user = 100;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_int_equal(ds.n_users, 0);
    assert_int_equal(ds.n_items, 0);
    hc_dataset_free(&ds);
    raw_free(&r);
}

/* The hand-made timestamped input of the clean-up tests (timestamps = position + 1):
 *   u1: 1 2 3 4 5            temporal: test 5, valid 4, train 1 2 3
 *   u2: 1 2 4 5 6            test 6 (unseen in train), valid 5 -> both dropped
 *   u3: 1 2 3 5 6 7          test 7, valid 6 (both unseen)     -> both dropped
 *   u4: 9 10 11 12 13 14 4 5 1 8   test 1 8 (8 unseen: removed), valid 4 5
 * Train items: 1 2 3 4 5 9..14; items 6, 7, 8 are held out only but stay in the catalog. */
static void cleanup_input(raw *r)
{
    raw_init(r, 1);
    int u1[] = {1, 2, 3, 4, 5}, u2[] = {1, 2, 4, 5, 6}, u3[] = {1, 2, 3, 5, 6, 7};
    int u4[] = {9, 10, 11, 12, 13, 14, 4, 5, 1, 8};
    raw_user(r, 1, u1, 5);
    raw_user(r, 2, u2, 5);
    raw_user(r, 3, u3, 6);
    raw_user(r, 4, u4, 10);
}

static void test_temporal_cleanup(void **state)
{
    (void)state;
    raw r;
    cleanup_input(&r);
    hc_split_opts o;
    hc_split_opts_default(&o);
    o.kind = HC_SPLIT_TEMPORAL;
    hc_dataset ds;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_int_equal(ds.n_users, 4);
    assert_int_equal(ds.n_items, 14);
    assert_int_equal(ds.kind, HC_SPLIT_TEMPORAL);
    assert_true(has(&ds.test, &ds, "u1", "i5"));
    assert_true(has(&ds.valid, &ds, "u1", "i4"));
    assert_int_equal(row_len(&ds.train, &ds, "u1"), 3);
    for (int k = 2; k <= 3; k++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", k);
        assert_int_equal(row_len(&ds.valid, &ds, u), 0);
        assert_int_equal(row_len(&ds.test, &ds, u), 0);
    }
    assert_int_equal(row_len(&ds.train, &ds, "u2"), 3);
    assert_int_equal(row_len(&ds.train, &ds, "u3"), 4);
    assert_int_equal(row_len(&ds.test, &ds, "u4"), 1);
    assert_true(has(&ds.test, &ds, "u4", "i1"));
    assert_false(has(&ds.test, &ds, "u4", "i8"));
    assert_true(has(&ds.valid, &ds, "u4", "i4"));
    assert_true(has(&ds.valid, &ds, "u4", "i5"));
    assert_int_equal(row_len(&ds.train, &ds, "u4"), 6);
    assert_int_equal(hc_dataset_n_eval_users(&ds), 2);
    assert_int_equal(ds.train.nnz, 16);
    check_disjoint(&ds);
    hc_dataset_free(&ds);

    /* the temporal split needs timestamps */
    hc_interactions nots = r.x;
    nots.ts = NULL;
    assert_int_equal(hc_split(&nots, r.users, r.items, &o, &ds), HC_EINVAL);
    raw_free(&r);
}

static void test_temporal_ties(void **state)
{
    (void)state;
    /* equal timestamps: the later input row is the later interaction; a duplicate pair keeps
     * its earliest timestamp */
    raw r;
    raw_init(&r, 1);
    raw_add(&r, "u", "a", 5);
    raw_add(&r, "u", "b", 5);
    raw_add(&r, "u", "c", 5);
    raw_add(&r, "u", "d", 1);
    raw_add(&r, "u", "e", 2);
    raw_add(&r, "u", "a", 9); /* duplicate: a stays at time 5 */
    raw_add(&r, "v", "a", 1);
    raw_add(&r, "v", "b", 2);
    raw_add(&r, "v", "c", 3);
    raw_add(&r, "v", "d", 4);
    raw_add(&r, "v", "e", 5);
    raw_add(&r, "v", "f", 6);
    raw_add(&r, "v", "g", 7);
    hc_split_opts o;
    hc_split_opts_default(&o);
    o.kind = HC_SPLIT_TEMPORAL;
    o.min_user = 1;
    hc_dataset ds;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    /* u: order d e a b c -> test c, valid b */
    assert_true(has(&ds.test, &ds, "u", "c"));
    assert_true(has(&ds.valid, &ds, "u", "b"));
    assert_true(has(&ds.train, &ds, "u", "a"));
    /* v: n=7, test g, valid f; but g and f are in no train: v loses both held-out sets */
    assert_int_equal(row_len(&ds.test, &ds, "v"), 0);
    assert_int_equal(row_len(&ds.valid, &ds, "v"), 0);
    assert_int_equal(row_len(&ds.train, &ds, "v"), 5);
    assert_int_equal(hc_dataset_n_eval_users(&ds), 1);
    hc_dataset_free(&ds);
    raw_free(&r);
}

static void test_loo(void **state)
{
    (void)state;
    raw r;
    cleanup_input(&r);
    raw_add(&r, "u5", "i1", 1);
    raw_add(&r, "u5", "i2", 2);
    hc_split_opts o;
    hc_split_opts_default(&o);
    o.kind = HC_SPLIT_LOO;
    o.min_user = 1;
    hc_dataset ds;
    /* with timestamps: latest to test, second latest to valid */
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    assert_true(has(&ds.test, &ds, "u1", "i5"));
    assert_true(has(&ds.valid, &ds, "u1", "i4"));
    assert_true(has(&ds.train, &ds, "u1", "i3"));
    /* u4: test 8 (unseen in train) removed -> both dropped */
    assert_int_equal(row_len(&ds.test, &ds, "u4"), 0);
    assert_int_equal(row_len(&ds.valid, &ds, "u4"), 0);
    assert_int_equal(row_len(&ds.train, &ds, "u4"), 8);
    /* u5 has 2 items: all train */
    assert_int_equal(row_len(&ds.train, &ds, "u5"), 2);
    assert_int_equal(row_len(&ds.test, &ds, "u5"), 0);
    check_disjoint(&ds);
    hc_dataset_free(&ds);

    /* without timestamps: one random item each to test and valid */
    hc_interactions nots = r.x;
    nots.ts = NULL;
    raw bg;
    raw_init(&bg, 0);
    add_background(&bg, 30);
    TU_OK(hc_split(&bg.x, bg.users, bg.items, &o, &ds));
    for (int32_t u = 0; u < ds.n_users; u++) {
        assert_int_equal(hc_csr_row_len(&ds.test, u), 1);
        assert_int_equal(hc_csr_row_len(&ds.valid, u), 1);
        assert_int_equal(hc_csr_row_len(&ds.train, u), 8);
    }
    check_disjoint(&ds);
    hc_dataset d2;
    TU_OK(hc_split(&nots, r.users, r.items, &o, &d2));
    assert_int_equal(row_len(&d2.train, &d2, "u5"), 2);
    hc_dataset_free(&d2);
    hc_dataset_free(&ds);
    raw_free(&bg);
    raw_free(&r);
}

static void test_bad_opts(void **state)
{
    (void)state;
    raw r;
    raw_random(&r, 10, 10, 2);
    hc_split_opts o;
    hc_split_opts_default(&o);
    hc_dataset ds;
    o.valid_frac = 0.6;
    o.test_frac = 0.5;
    assert_int_equal(hc_split(&r.x, r.users, r.items, &o, &ds), HC_EINVAL);
    hc_split_opts_default(&o);
    o.kind = HC_SPLIT_IMPORTED;
    assert_int_equal(hc_split(&r.x, r.users, r.items, &o, &ds), HC_EINVAL);
    hc_split_opts_default(&o);
    r.x.item[3] = 1000; /* outside the item map */
    assert_int_equal(hc_split(&r.x, r.users, r.items, &o, &ds), HC_ERANGE);
    raw_free(&r);
}

static void test_import_small(void **state)
{
    (void)state;
    const char *tr = tu_write("imp_train.tsv", "user\titem\n1\ta\n1\tb\n2\tb\n2\tc\n");
    const char *va = tu_write("imp_valid.tsv", "user\titem\n1\tc\n2\ta\n");
    const char *te = tu_write("imp_test.tsv", "user\titem\n1\tz\n2\td\n");
    const char *us = tu_write("imp_users.txt", "user\n2\n1\n3\n");
    const char *it = tu_write("imp_items.txt", "item\nd\nc\nb\na\nz\ny\n");
    hc_import_paths p = {tr, va, te, us, it};
    hc_read_opts ro;
    hc_read_opts_default(&ro);
    hc_dataset ds;
    TU_OK(hc_split_import(&p, &ro, &ds));
    assert_int_equal(ds.kind, HC_SPLIT_IMPORTED);
    assert_int_equal(ds.n_users, 3);
    assert_int_equal(ds.n_items, 6);
    assert_string_equal(hc_idmap_name(ds.users, 0), "2");
    assert_string_equal(hc_idmap_name(ds.items, 5), "y");
    assert_int_equal(ds.train.nnz, 4);
    assert_int_equal(ds.valid.nnz, 2);
    assert_int_equal(ds.test.nnz, 2); /* z and d never in train: kept as given */
    assert_true(has(&ds.test, &ds, "1", "z"));
    assert_int_equal(hc_dataset_n_eval_users(&ds), 2);
    hc_dataset_free(&ds);

    /* no catalogs, no test file */
    hc_import_paths p2 = {tr, va, NULL, NULL, NULL};
    TU_OK(hc_split_import(&p2, NULL, &ds));
    assert_int_equal(ds.n_users, 2);
    assert_int_equal(ds.n_items, 3);
    assert_int_equal(ds.test.nnz, 0);
    assert_int_equal(hc_dataset_n_eval_users(&ds), 0);
    hc_dataset_free(&ds);

    /* a missing file is an error naming it */
    hc_import_paths p3 = {tu_path(tu_tmpdir(), "nope.tsv"), NULL, NULL, NULL, NULL};
    assert_int_not_equal(hc_split_import(&p3, NULL, &ds), HC_OK);
    assert_non_null(strstr(hc_errmsg(), "nope.tsv"));
}

static void test_import_citeulike(void **state)
{
    (void)state;
    const char *shared = tu_shared_dir();
    if (!shared)
        skip();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/citeulike-t/split", shared);
    char f[5][1100];
    const char *names[5] = {"train.tsv", "valid.tsv", "test.tsv", "users.txt", "items.txt"};
    for (int k = 0; k < 5; k++)
        snprintf(f[k], sizeof f[k], "%s/%s", dir, names[k]);
    FILE *fp = fopen(f[0], "r");
    if (!fp)
        skip();
    fclose(fp);
    hc_import_paths p = {f[0], f[1], f[2], f[3], f[4]};
    hc_dataset ds;
    TU_OK(hc_split_import(&p, NULL, &ds));
    assert_int_equal(ds.n_users, 5219);
    assert_int_equal(ds.n_items, 25181);
    assert_int_equal(ds.train.nnz, 78958);
    assert_int_equal(ds.valid.nnz, 20823);
    assert_int_equal(ds.test.nnz, 20823);
    assert_int_equal(hc_dataset_n_eval_users(&ds), 4719);
    hc_stats st;
    hc_dataset_stats(&ds, &st);
    assert_int_equal(st.n_items_in_train, 25181 - 2789);
    assert_int_equal(st.n_train + st.n_valid + st.n_test, 120604);
    hc_dataset_free(&ds);
}

static void test_stats(void **state)
{
    (void)state;
    raw r;
    raw_init(&r, 0);
    add_background(&r, 4);
    int few[5] = {0, 1, 2, 3, 4};
    raw_user(&r, 1, few, 5);
    hc_split_opts o;
    hc_split_opts_default(&o);
    hc_dataset ds;
    TU_OK(hc_split(&r.x, r.users, r.items, &o, &ds));
    hc_stats st;
    hc_dataset_stats(&ds, &st);
    assert_int_equal(st.n_users, 5);
    assert_int_equal(st.n_items, 10);
    int64_t tot = st.n_train + st.n_valid + st.n_test;
    assert_true(tot <= 45);
    assert_true(st.density > 0 && st.density <= 0.9);
    /* user counts (before clean-up removals at most 10) - the max is 10 */
    assert_true(st.user_max <= 10);
    assert_true(st.user_pct[0] <= st.user_pct[2] && st.user_pct[2] <= st.user_pct[4]);
    assert_true(st.item_max <= 5);
    hc_dataset_free(&ds);
    raw_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_proportions),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_min_counts),
        cmocka_unit_test(test_temporal_cleanup),
        cmocka_unit_test(test_temporal_ties),
        cmocka_unit_test(test_loo),
        cmocka_unit_test(test_bad_opts),
        cmocka_unit_test(test_import_small),
        cmocka_unit_test(test_import_citeulike),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
