/* test_dsfile.c - the binary dataset file: round trip, and refusal of truncated, flipped,
 * foreign, future-version and crafted files (every one must fail cleanly, never crash). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR 112 /* header size (docs/formats-dataset.md) */

/* A small split dataset with string ids of varying length. */
static void make_dataset(hc_dataset *ds)
{
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x;
    memset(&x, 0, sizeof x);
    hc_rng rng;
    hc_rng_init(&rng, 5, 0);
    char un[32], in[32];
    for (int u = 0; u < 60; u++) {
        int n = 4 + (int)hc_rng_below(&rng, 20);
        snprintf(un, sizeof un, "user-%d%s", u, u % 7 ? "" : "-long-name");
        for (int k = 0; k < n; k++) {
            snprintf(in, sizeof in, "it%u", hc_rng_below(&rng, 40));
            int32_t ui, ii;
            TU_OK(hc_idmap_put(users, un, strlen(un), &ui));
            TU_OK(hc_idmap_put(items, in, strlen(in), &ii));
            TU_OK(hc_interactions_push(&x, ui, ii, 0, 0));
        }
    }
    hc_split_opts o;
    hc_split_opts_default(&o);
    o.seed = 11;
    TU_OK(hc_split(&x, users, items, &o, ds));
    hc_interactions_free(&x);
    hc_idmap_free(users);
    hc_idmap_free(items);
}

static void assert_csr_equal(const hc_csr *a, const hc_csr *b)
{
    assert_int_equal(a->nrows, b->nrows);
    assert_int_equal(a->ncols, b->ncols);
    assert_int_equal(a->nnz, b->nnz);
    assert_memory_equal(a->indptr, b->indptr, ((size_t)a->nrows + 1) * sizeof *a->indptr);
    if (a->nnz)
        assert_memory_equal(a->indices, b->indices, (size_t)a->nnz * sizeof *a->indices);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (len)
        assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* Recomputes both checksums of a file image, as a forger would. */
static void reseal(uint8_t *d, size_t len)
{
    put_u64(d + 96, hc_checksum(d + HDR, len - HDR));
    put_u64(d + 104, hc_checksum(d, 104));
}

static void test_round_trip(void **state)
{
    (void)state;
    hc_dataset ds, back;
    make_dataset(&ds);
    assert_true(ds.n_users > 10);
    const char *p = tu_path(tu_tmpdir(), "rt.hcd");
    TU_OK(hc_dataset_save(&ds, p));
    TU_OK(hc_dataset_load(p, &back));
    assert_int_equal(back.n_users, ds.n_users);
    assert_int_equal(back.n_items, ds.n_items);
    assert_int_equal(back.kind, ds.kind);
    assert_true(back.seed == 11);
    assert_true(back.valid_frac == ds.valid_frac && back.test_frac == ds.test_frac);
    assert_true(back.checksum == ds.checksum);
    assert_csr_equal(&back.train, &ds.train);
    assert_csr_equal(&back.valid, &ds.valid);
    assert_csr_equal(&back.test, &ds.test);
    assert_int_equal(hc_idmap_size(back.users), ds.n_users);
    assert_int_equal(hc_idmap_size(back.items), ds.n_items);
    for (int32_t u = 0; u < ds.n_users; u++)
        assert_string_equal(hc_idmap_name(back.users, u), hc_idmap_name(ds.users, u));
    for (int32_t i = 0; i < ds.n_items; i++)
        assert_string_equal(hc_idmap_name(back.items, i), hc_idmap_name(ds.items, i));
    /* the checksum is a function of the contents */
    uint64_t c = back.checksum;
    hc_dataset_update_checksum(&back);
    assert_true(back.checksum == c);
    back.train.indices[0] ^= 1;
    hc_dataset_update_checksum(&back);
    assert_true(back.checksum != c);
    hc_dataset_free(&back);
    hc_dataset_free(&ds);
    hc_dataset_free(&ds); /* free twice is fine: zeroed */
}

static void test_empty_dataset(void **state)
{
    (void)state;
    hc_dataset ds, back;
    memset(&ds, 0, sizeof ds);
    ds.users = hc_idmap_new();
    ds.items = hc_idmap_new();
    TU_OK(hc_csr_from_pairs(&ds.train, 0, 0, NULL, NULL, 0));
    TU_OK(hc_csr_from_pairs(&ds.valid, 0, 0, NULL, NULL, 0));
    TU_OK(hc_csr_from_pairs(&ds.test, 0, 0, NULL, NULL, 0));
    const char *p = tu_path(tu_tmpdir(), "empty.hcd");
    TU_OK(hc_dataset_save(&ds, p));
    TU_OK(hc_dataset_load(p, &back));
    assert_int_equal(back.n_users, 0);
    assert_int_equal(back.n_items, 0);
    assert_int_equal(hc_dataset_n_eval_users(&back), 0);
    hc_dataset_free(&back);
    hc_dataset_free(&ds);
}

static void test_truncated(void **state)
{
    (void)state;
    hc_dataset ds, back;
    make_dataset(&ds);
    const char *p = tu_path(tu_tmpdir(), "full.hcd"), *q = tu_path(tu_tmpdir(), "cut.hcd");
    TU_OK(hc_dataset_save(&ds, p));
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(p, &data, &len));
    size_t cuts[] = {0, 1, 3, 4, 50, HDR - 1, HDR, HDR + 1, HDR + 8, len / 2, len - 5, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        write_bytes(q, data, cuts[k]);
        assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
        assert_non_null(strstr(hc_errmsg(), "truncated"));
        assert_non_null(strstr(hc_errmsg(), "cut.hcd"));
        assert_int_equal(back.n_users, 0);
    }
    /* the message gives both lengths */
    write_bytes(q, data, len - 1);
    assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
    char want[128];
    snprintf(want, sizeof want, "truncated (expected %zu bytes, found %zu)", len, len - 1);
    assert_non_null(strstr(hc_errmsg(), want));
    /* trailing garbage is refused too */
    char *longer = malloc(len + 3);
    memcpy(longer, data, len);
    memcpy(longer + len, "xyz", 3);
    write_bytes(q, longer, len + 3);
    assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
    free(longer);
    free(data);
    hc_dataset_free(&ds);
}

static void test_flipped(void **state)
{
    (void)state;
    hc_dataset ds, back;
    make_dataset(&ds);
    const char *p = tu_path(tu_tmpdir(), "flip0.hcd"), *q = tu_path(tu_tmpdir(), "flip.hcd");
    TU_OK(hc_dataset_save(&ds, p));
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(p, &data, &len));
    /* every header byte, then every 11th byte of the body (all sections) and its last bytes;
     * one load per file write keeps this fast on slow file systems */
    for (size_t pos = 0; pos < len; pos += pos < HDR || pos + 16 >= len ? 1 : 11) {
        data[pos] ^= 0x20;
        write_bytes(q, data, len);
        int rc = hc_dataset_load(q, &back);
        if (pos >= 4 && pos < 8)
            assert_int_equal(rc, HC_EMISMATCH); /* the version field */
        else
            assert_int_equal(rc, HC_ECORRUPT);
        if (pos >= HDR)
            assert_non_null(strstr(hc_errmsg(), "checksum mismatch"));
        data[pos] ^= 0x20;
    }
    free(data);
    hc_dataset_free(&ds);
}

static void test_magic_version(void **state)
{
    (void)state;
    hc_dataset ds, back;
    make_dataset(&ds);
    const char *p = tu_path(tu_tmpdir(), "mv0.hcd"), *q = tu_path(tu_tmpdir(), "mv.hcd");
    TU_OK(hc_dataset_save(&ds, p));
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(p, &data, &len));
    memcpy(data, "HCDX", 4);
    write_bytes(q, data, len);
    assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
    assert_non_null(strstr(hc_errmsg(), "magic"));
    memcpy(data, "HCDS", 4);
    data[4] = 2; /* version 2, even with valid checksums */
    reseal((uint8_t *)data, len);
    write_bytes(q, data, len);
    assert_int_equal(hc_dataset_load(q, &back), HC_EMISMATCH);
    assert_non_null(strstr(hc_errmsg(), "version 2"));
    /* a text file is not a dataset */
    const char *t = tu_write("text.hcd", "user\titem\n1\t2\n");
    assert_int_equal(hc_dataset_load(t, &back), HC_ECORRUPT);
    /* a missing file is an I/O error */
    assert_int_equal(hc_dataset_load(tu_path(tu_tmpdir(), "missing.hcd"), &back), HC_EIO);
    free(data);
    hc_dataset_free(&ds);
}

/* Files whose checksums are right but whose contents break an invariant. */
static void test_crafted(void **state)
{
    (void)state;
    hc_dataset ds, back;
    make_dataset(&ds);
    const char *p = tu_path(tu_tmpdir(), "cr0.hcd"), *q = tu_path(tu_tmpdir(), "cr.hcd");
    TU_OK(hc_dataset_save(&ds, p));
    char *orig;
    size_t len;
    TU_OK(hc_file_read_all(p, &orig, &len));
    uint8_t *d = malloc(len);
    size_t ptr_bytes = ((size_t)ds.n_users + 1) * 8;
    size_t idx0 = HDR + ptr_bytes; /* first train index */
    int32_t u0 = 0;
    while (hc_csr_row_len(&ds.train, u0) < 2)
        u0++;
    size_t row = idx0 + 4 * (size_t)ds.train.indptr[u0];
    struct {
        const char *what;
        size_t off;
        int32_t val;
        int width;
    } cases[] = {
        {"index out of range", idx0, ds.n_items, 4},
        {"negative index", idx0, -1, 4},
        {"unsorted row", row, ds.train.indices[ds.train.indptr[u0] + 1], 4},
        {"indptr not starting at 0", HDR, 1, 8},
        {"indptr decreasing", HDR + 8, -1, 8},
        {"indptr past nnz", HDR + 8, (int32_t)ds.train.nnz + 1, 8},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(d, orig, len);
        if (cases[k].width == 4) {
            uint32_t v = (uint32_t)cases[k].val;
            for (int b = 0; b < 4; b++)
                d[cases[k].off + (size_t)b] = (uint8_t)(v >> (8 * b));
        } else {
            put_u64(d + cases[k].off, (uint64_t)(int64_t)cases[k].val);
        }
        reseal(d, len);
        write_bytes(q, d, len);
        int rc = hc_dataset_load(q, &back);
        if (rc != HC_ECORRUPT)
            fail_msg("%s: got %s", cases[k].what, hc_err_name(rc));
        assert_non_null(strstr(hc_errmsg(), "malformed"));
    }
    /* duplicate user ids: make the second user's name equal the first's (same length) */
    size_t map0 = HDR + 3 * ptr_bytes + 4 * (size_t)(ds.train.nnz + ds.valid.nnz + ds.test.nnz);
    memcpy(d, orig, len);
    const char *n0 = hc_idmap_name(ds.users, 0), *n1 = hc_idmap_name(ds.users, 1);
    if (strlen(n0) == strlen(n1)) {
        size_t names = map0 + 4 * (size_t)ds.n_users;
        memcpy(d + names + strlen(n0), n0, strlen(n0));
        reseal(d, len);
        write_bytes(q, d, len);
        assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
        assert_non_null(strstr(hc_errmsg(), "duplicate"));
    }
    /* a name length running past the section */
    memcpy(d, orig, len);
    d[map0] = 0xff;
    d[map0 + 1] = 0xff;
    reseal(d, len);
    write_bytes(q, d, len);
    assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
    /* a huge user count in the header */
    memcpy(d, orig, len);
    d[8 + 3] = 0x7f;
    reseal(d, len);
    write_bytes(q, d, len);
    assert_int_equal(hc_dataset_load(q, &back), HC_ECORRUPT);
    free(d);
    free(orig);
    hc_dataset_free(&ds);
}

static void test_save_errors(void **state)
{
    (void)state;
    hc_dataset ds;
    make_dataset(&ds);
    /* an unwritable path fails and leaves nothing behind */
    const char *file = tu_write("plain.txt", "x\n"); /* a parent that cannot be created */
    assert_int_equal(hc_dataset_save(&ds, tu_path(file, "x.hcd")), HC_EIO);
    /* inconsistent sizes are refused */
    ds.n_items++;
    assert_int_equal(hc_dataset_save(&ds, tu_path(tu_tmpdir(), "bad.hcd")), HC_EINVAL);
    ds.n_items--;
    hc_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_empty_dataset),
        cmocka_unit_test(test_truncated),     cmocka_unit_test(test_flipped),
        cmocka_unit_test(test_magic_version), cmocka_unit_test(test_crafted),
        cmocka_unit_test(test_save_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
