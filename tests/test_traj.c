/*
 * test_traj.c - trajectories (src/traj): checkpoint choice on constructed validation curves,
 * construction from a real (short) hc_fit run of the MF teacher, the binary "HCTJ" file (round
 * trip, refusal of truncated, corrupt, foreign and inconsistent files, one rank's share of
 * the users against the whole load) and the text form
 * (export -> import identity, hand-written imports, and one error per problem naming its
 * file and line).
 *
 * Datasets come from tu_make_dataset: ids "u<k>" / "i<k>", per user 2 test, 2 valid and the
 * rest train items, so every user has many unobserved items to rank.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/fit.h"
#include "traj/trajectory.h"

/* ------------------------------------------------------------------ helpers */

/* Writes len bytes to path (overwriting it). */
static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Fails unless hc_errmsg() contains text. */
static void expect_msg(const char *text)
{
    if (!strstr(hc_errmsg(), text))
        fail_msg("message '%s' lacks '%s'", hc_errmsg(), text);
}

/* Fails unless a and b hold the same trajectory: counts, name, and every array
 * byte-identical (so NaN validation values and -1 epochs compare equal too). */
static void assert_traj_equal(const hc_traj *a, const hc_traj *b)
{
    assert_string_equal(a->model, b->model);
    assert_int_equal(a->n_users, b->n_users);
    assert_int_equal(a->n_items, b->n_items);
    assert_int_equal(a->n_ckpt, b->n_ckpt);
    assert_int_equal(a->k, b->k);
    assert_true(a->ds_checksum == b->ds_checksum);
    assert_int_equal(a->train_nnz, b->train_nnz);
    size_t C = (size_t)a->n_ckpt;
    assert_memory_equal(a->epochs, b->epochs, C * sizeof(int32_t));
    assert_memory_equal(a->valid_r50, b->valid_r50, C * sizeof(float));
    assert_memory_equal(a->top, b->top, C * (size_t)a->n_users * (size_t)a->k * sizeof(int32_t));
    assert_int_equal(a->observed != NULL, b->observed != NULL);
    if (a->observed)
        assert_memory_equal(a->observed, b->observed, C * (size_t)a->train_nnz * sizeof(int32_t));
}

/* Index of the first maximum of v[0..n). */
static int32_t argmax(const double *v, int32_t n)
{
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[b])
            b = i;
    return b;
}

/* Runs hc_traj_select and checks what always holds: min(C, best + 1) picks, strictly
 * increasing, all at or before the best, the last one the best. Returns the count. */
static int32_t select_checked(const double *v, int32_t n, int32_t C, int32_t *picked)
{
    int32_t best = argmax(v, n);
    int32_t got = hc_traj_select(v, n, C, picked);
    assert_int_equal(got, C < best + 1 ? C : best + 1);
    for (int32_t j = 0; j < got; j++) {
        assert_true(picked[j] >= 0 && picked[j] <= best);
        if (j > 0)
            assert_true(picked[j] > picked[j - 1]);
    }
    assert_int_equal(picked[got - 1], best);
    return got;
}

/* ------------------------------------------------------------------ hc_traj_select */

/* A steady rise: the first evaluations reaching 70 %, 85 % and 95 % of the best, then the
 * best. Values sit on both sides of each threshold (0.69 / 0.70 exactly / ...), and the
 * decline after the best is ignored. */
static void test_select_rise(void **state)
{
    (void)state;
    /*                 0    1    2     3     4     5     6     7     8    9     10 */
    const double v[] = {0.1, 0.5, 0.69, 0.70, 0.84, 0.86, 0.94, 0.96, 1.0, 0.99, 0.97};
    int32_t p[4];
    assert_int_equal(select_checked(v, 11, 4, p), 4);
    assert_int_equal(p[0], 3); /* 0.70 >= 0.70 * 1.0 */
    assert_int_equal(p[1], 5); /* first >= 0.85 */
    assert_int_equal(p[2], 7); /* first >= 0.95 */
    assert_int_equal(p[3], 8);
    /* scale does not matter: the same curve times 0.3 */
    double w[11];
    for (int i = 0; i < 11; i++)
        w[i] = 0.3 * v[i] + (i == 3 ? 1e-12 : 0.0); /* keep 0.70 * best reached */
    assert_int_equal(select_checked(w, 11, 4, p), 4);
    assert_int_equal(p[0], 3);
    assert_int_equal(p[1], 5);
    assert_int_equal(p[2], 7);
    assert_int_equal(p[3], 8);
    /* C = 1: the best only; C = 2: 70 % and the best */
    assert_int_equal(select_checked(v, 11, 1, p), 1);
    assert_int_equal(p[0], 8);
    assert_int_equal(select_checked(v, 11, 2, p), 2);
    assert_int_equal(p[0], 3);
    assert_int_equal(p[1], 8);
}

/* A jump: every threshold is first reached at the same evaluation; the picks are spread
 * back over the earlier evaluations so that they stay strictly increasing. */
static void test_select_jump(void **state)
{
    (void)state;
    const double v[] = {0.1, 0.2, 0.96, 0.97, 1.0, 0.5};
    int32_t p[4];
    assert_int_equal(select_checked(v, 6, 4, p), 4);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 1);
    assert_int_equal(p[2], 2);
    assert_int_equal(p[3], 4);
}

/* The best at the first evaluation: one checkpoint, the best; the best at the second: two. */
static void test_select_best_early(void **state)
{
    (void)state;
    const double first[] = {0.5, 0.4, 0.45, 0.3, 0.2, 0.1};
    int32_t p[4];
    assert_int_equal(select_checked(first, 6, 4, p), 1);
    assert_int_equal(p[0], 0);
    const double second[] = {0.3, 1.0, 0.9, 0.8, 0.7, 0.6};
    assert_int_equal(select_checked(second, 6, 4, p), 2);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 1);
}

/* Fewer evaluations than checkpoints: each one (up to the best) is used once. */
static void test_select_few(void **state)
{
    (void)state;
    int32_t p[4];
    const double two[] = {0.2, 0.9};
    assert_int_equal(select_checked(two, 2, 4, p), 2);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 1);
    const double three[] = {0.2, 0.5, 0.9};
    assert_int_equal(select_checked(three, 3, 4, p), 3);
    const double one[] = {0.4};
    assert_int_equal(select_checked(one, 1, 4, p), 1);
    assert_int_equal(p[0], 0);
    /* nothing to choose from, or nothing asked for */
    assert_int_equal(hc_traj_select(one, 0, 4, p), 0);
    assert_int_equal(hc_traj_select(one, 1, 0, p), 0);
}

/* A flat curve (and an all-zero one): the first evaluation is the best, as in hc_fit. */
static void test_select_flat(void **state)
{
    (void)state;
    int32_t p[4];
    const double flat[] = {0.3, 0.3, 0.3, 0.3, 0.3, 0.3};
    assert_int_equal(select_checked(flat, 6, 4, p), 1);
    assert_int_equal(p[0], 0);
    const double zero[] = {0, 0, 0, 0, 0};
    assert_int_equal(select_checked(zero, 5, 4, p), 1);
    /* flat, then a rise */
    const double late[] = {0.3, 0.3, 0.3, 0.3, 0.3, 1.0};
    assert_int_equal(select_checked(late, 6, 4, p), 4);
    assert_int_equal(p[3], 5);
}

/* Random curves of every shape: the invariants of select_checked hold for all of them. */
static void test_select_random(void **state)
{
    (void)state;
    hc_rng r;
    hc_rng_init(&r, 42, 0);
    double v[40];
    int32_t p[12];
    for (int trial = 0; trial < 2000; trial++) {
        int32_t n = 1 + (int32_t)hc_rng_below(&r, 40), C = 1 + (int32_t)hc_rng_below(&r, 12);
        int shape = (int)hc_rng_below(&r, 3);
        for (int32_t i = 0; i < n; i++) {
            double noise = hc_rng_double(&r);
            v[i] = shape == 0   ? noise                                /* noise */
                   : shape == 1 ? (double)i / (double)n + 0.05 * noise /* rise */
                                : (double)(int)(4.0 * noise) / 4.0;    /* ties */
        }
        select_checked(v, n, C, p);
    }
}

/* ------------------------------------------------------------------ from a training run */

typedef struct {
    hc_dataset ds;
    hc_fit_result fr;
    hc_traj t;
} fixture;

enum { FX_USERS = 60, FX_ITEMS = 80, FX_K = 10, FX_C = 4 };

/* A short MF run on clustered data (evaluations at epochs 1, 2, 4, ..., 16) and its
 * 4-checkpoint trajectory with top-10 lists. */
static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_make_dataset(&f->ds, FX_USERS, FX_ITEMS, 4, 10, 3);
    const hc_model_type *mt = hc_model_type_find("mf");
    hc_hparams hp;
    hc_hparams_default(mt, &hp);
    hp.dim = 8;
    hp.batch = 64;
    hp.lr = 0.01f;
    hp.seed = 5;
    hc_model *m;
    TU_OK(hc_model_create(mt, &f->ds, &hp, &m));
    hc_fit_opts fo;
    hc_fit_opts_default(&fo);
    fo.max_epochs = 16;
    fo.eval_every = 2;
    fo.patience = 100;
    fo.record_k = FX_K;
    TU_OK(hc_fit(m, &f->ds, &fo, &f->fr));
    hc_model_free(m);
    TU_OK(hc_traj_from_fit(&f->fr, &f->ds, "mf", FX_C, &f->t));
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    hc_traj_free(&f->t);
    hc_fit_result_free(&f->fr);
    hc_dataset_free(&f->ds);
    free(f);
    return 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void test_from_fit(void **state)
{
    fixture *f = *state;
    const hc_traj *t = &f->t;
    const hc_dataset *ds = &f->ds;
    const hc_fit_result *fr = &f->fr;
    assert_int_equal(fr->n_evals, 9); /* epochs 1, 2, 4, ..., 16 */
    assert_int_equal(t->n_ckpt, fr->best + 1 < FX_C ? fr->best + 1 : FX_C);
    assert_int_equal(t->n_ckpt, FX_C); /* this run keeps improving well past 4 evaluations */
    assert_string_equal(t->model, "mf");
    assert_int_equal(t->k, FX_K);
    assert_int_equal(t->n_users, FX_USERS);
    assert_int_equal(t->n_items, FX_ITEMS);
    assert_true(t->ds_checksum == ds->checksum);
    assert_int_equal(t->train_nnz, ds->train.nnz);
    assert_non_null(t->observed);
    /* the last checkpoint is the best evaluation (the model hc_fit kept) */
    assert_int_equal(t->epochs[t->n_ckpt - 1], fr->evals[fr->best].epoch);
    int32_t *sorted = malloc(64 * sizeof *sorted);
    for (int32_t c = 0; c < t->n_ckpt; c++) {
        if (c > 0)
            assert_true(t->epochs[c] > t->epochs[c - 1]);
        /* the evaluation this checkpoint came from */
        int32_t e = -1;
        for (int32_t i = 0; i < fr->n_evals; i++)
            if (fr->evals[i].epoch == t->epochs[c])
                e = i;
        assert_true(e >= 0);
        assert_true(t->valid_r50[c] == (float)fr->evals[e].res.valid.recall[HC_EVAL_NK - 1]);
        assert_memory_equal(hc_traj_top(t, c, 0), fr->tops[e],
                            (size_t)FX_USERS * FX_K * sizeof(int32_t));
        for (int32_t u = 0; u < FX_USERS; u++) {
            const int32_t *top = hc_traj_top(t, c, u);
            for (int32_t r = 0; r < FX_K; r++) {
                /* every user has 74 unobserved items: full lists, no train item, no repeat */
                assert_true(top[r] >= 0 && top[r] < FX_ITEMS);
                assert_false(hc_csr_has(&ds->train, u, top[r]));
                for (int32_t q = 0; q < r; q++)
                    assert_int_not_equal(top[q], top[r]);
            }
            /* the observed list is a permutation of the user's train items */
            int32_t n = hc_csr_row_len(&ds->train, u);
            assert_true(n <= 64);
            memcpy(sorted, t->observed + (int64_t)c * t->train_nnz + ds->train.indptr[u],
                   (size_t)n * sizeof *sorted);
            qsort(sorted, (size_t)n, sizeof *sorted, cmp_i32);
            assert_memory_equal(sorted, hc_csr_row(&ds->train, u), (size_t)n * sizeof *sorted);
        }
    }
    free(sorted);
    /* a run without snapshots, and no checkpoints asked for, are refused */
    hc_fit_result empty = {0};
    hc_traj t2;
    assert_int_equal(hc_traj_from_fit(&empty, ds, "mf", 4, &t2), HC_EINVAL);
    assert_int_equal(hc_traj_from_fit(fr, ds, "mf", 0, &t2), HC_EINVAL);
}

/* hc_fit refuses options that would divide by zero or never evaluate. */
static void test_fit_opts(void **state)
{
    fixture *f = *state;
    const hc_model_type *mt = hc_model_type_find("mf");
    hc_hparams hp;
    hc_hparams_default(mt, &hp);
    hp.dim = 4;
    hc_model *m;
    TU_OK(hc_model_create(mt, &f->ds, &hp, &m));
    hc_fit_opts fo;
    hc_fit_result fr;
    hc_fit_opts_default(&fo);
    fo.eval_every = 0;
    assert_int_equal(hc_fit(m, &f->ds, &fo, &fr), HC_EINVAL);
    hc_fit_opts_default(&fo);
    fo.max_epochs = 0;
    assert_int_equal(hc_fit(m, &f->ds, &fo, &fr), HC_EINVAL);
    hc_fit_opts_default(&fo);
    fo.record_k = -1;
    assert_int_equal(hc_fit(m, &f->ds, &fo, &fr), HC_EINVAL);
    hc_model_free(m);
}

/* ------------------------------------------------------------------ binary file */

/* Saves t to path and reads the file's bytes back into *data (freed by the caller). */
static void save_bytes(const hc_traj *t, const char *path, char **data, size_t *len)
{
    TU_OK(hc_traj_save(t, path));
    TU_OK(hc_file_read_all(path, data, len));
}

static void test_binary_roundtrip(void **state)
{
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir(), "t.hct");
    TU_OK(hc_traj_save(&f->t, path));
    hc_traj back;
    TU_OK(hc_traj_load(path, &f->ds, &back));
    assert_traj_equal(&f->t, &back);
    hc_traj_free(&back);
    /* without a dataset to check against */
    TU_OK(hc_traj_load(path, NULL, &back));
    assert_traj_equal(&f->t, &back);
    hc_traj_free(&back);
    /* without observed lists */
    hc_traj noobs = f->t;
    noobs.observed = NULL;
    TU_OK(hc_traj_save(&noobs, path));
    TU_OK(hc_traj_load(path, &f->ds, &back));
    assert_traj_equal(&noobs, &back);
    hc_traj_free(&back);
    /* the file is exactly header (100 bytes) + body */
    char *data;
    size_t len;
    save_bytes(&f->t, path, &data, &len);
    size_t C = (size_t)f->t.n_ckpt;
    assert_int_equal(len, 100 + C * 8 + C * FX_USERS * FX_K * 4 + C * (size_t)f->t.train_nnz * 4);
    assert_memory_equal(data, "HCTJ", 4);
    free(data);
}

static void test_binary_refused(void **state)
{
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir(), "bad.hct");
    char *data;
    size_t len;
    save_bytes(&f->t, path, &data, &len);
    hc_traj back;
    /* truncated: empty, inside the magic, inside the header, header only, mid body, one
     * byte short */
    const size_t cuts[] = {0, 3, 50, 99, 100, 101, len / 2, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        write_bytes(path, data, cuts[k]);
        assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
        assert_null(back.top);
        expect_msg("bad.hct");
    }
    /* one byte too many */
    char *longer = malloc(len + 1);
    memcpy(longer, data, len);
    longer[len] = 0;
    write_bytes(path, longer, len + 1);
    assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
    free(longer);
    /* a flipped body byte (in the epochs, the top lists, the observed lists) */
    const size_t flips[] = {100, 100 + 40, len / 2, len - 1};
    for (size_t k = 0; k < sizeof flips / sizeof flips[0]; k++) {
        data[flips[k]] ^= 0x10;
        write_bytes(path, data, len);
        assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
        expect_msg("checksum");
        data[flips[k]] ^= 0x10;
    }
    /* a flipped header byte, the name's padding included: every one after the version */
    for (size_t k = 8; k < 100; k++) {
        data[k] ^= 0x01;
        write_bytes(path, data, len);
        assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
        expect_msg("bad.hct");
        data[k] ^= 0x01;
    }
    /* a version 1 file (no header checksum) is still read */
    {
        char *v1 = malloc(len - 8);
        memcpy(v1, data, 92);
        memcpy(v1 + 92, data + 100, len - 100);
        v1[4] = 1;
        write_bytes(path, v1, len - 8);
        TU_OK(hc_traj_load(path, &f->ds, &back));
        assert_traj_equal(&f->t, &back);
        hc_traj_free(&back);
        free(v1);
    }
    /* bad magic */
    data[0] = 'X';
    write_bytes(path, data, len);
    assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
    expect_msg("magic");
    data[0] = 'H';
    /* another format version */
    data[4] = 9;
    write_bytes(path, data, len);
    assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_EMISMATCH);
    data[4] = 2;
    /* intact again */
    write_bytes(path, data, len);
    TU_OK(hc_traj_load(path, &f->ds, &back));
    hc_traj_free(&back);
    free(data);
    /* another dataset of the same shape */
    hc_dataset other;
    tu_make_dataset(&other, FX_USERS, FX_ITEMS, 4, 10, 4);
    assert_int_equal(hc_traj_load(path, &other, &back), HC_EMISMATCH);
    expect_msg("another dataset");
    hc_dataset_free(&other);
    /* a missing file */
    assert_int_equal(hc_traj_load(tu_path(tu_tmpdir(), "none.hct"), &f->ds, &back), HC_EIO);
}

/* One rank's share (hc_traj_load_part) at rank / size combinations: the kept rows are the
 * whole load's rows of the users u % size == rank, compacted; size 1 is the whole load. */
static void test_binary_share(void **state)
{
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir(), "share.hct");
    TU_OK(hc_traj_save(&f->t, path));
    hc_traj whole, p;
    TU_OK(hc_traj_load(path, &f->ds, &whole));
    const int sizes[] = {1, 2, 3, 7, 59, 64}; /* 64 > 60 users: some ranks hold none */
    const int32_t C = whole.n_ckpt, U = whole.n_users;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int size = sizes[k];
        uint64_t top_bytes = 0;
        for (int rank = 0; rank < size; rank++) {
            TU_OK(hc_traj_load_part(path, &f->ds, rank, size, &p));
            if (size == 1) {
                assert_int_equal(p.part_size, 0);
                assert_traj_equal(&whole, &p);
            }
            assert_string_equal(p.model, whole.model);
            assert_memory_equal(p.epochs, whole.epochs, (size_t)C * sizeof *p.epochs);
            assert_memory_equal(p.valid_r50, whole.valid_r50, (size_t)C * sizeof *p.valid_r50);
            int32_t rows = U > rank ? (U - rank + size - 1) / size : 0;
            assert_int_equal(hc_traj_rows(&p), rows);
            int64_t nnz = 0;
            for (int32_t u = rank; u < U; u += size) {
                int32_t n = hc_csr_row_len(&f->ds.train, u);
                nnz += n;
                for (int32_t c = 0; c < C; c++) {
                    assert_memory_equal(hc_traj_top(&p, c, u), hc_traj_top(&whole, c, u),
                                        (size_t)FX_K * sizeof(int32_t));
                    if (n)
                        assert_memory_equal(hc_traj_observed(&p, &f->ds.train, c, u),
                                            hc_traj_observed(&whole, &f->ds.train, c, u),
                                            (size_t)n * sizeof(int32_t));
                }
            }
            assert_int_equal(hc_traj_obs_len(&p), nnz);
            top_bytes += (uint64_t)C * (uint64_t)rows * FX_K * 4;
            assert_true(hc_traj_bytes(&p, 0) >= (uint64_t)C * (uint64_t)rows * FX_K * 4);
            assert_true(hc_traj_bytes(&p, 1) == hc_traj_bytes(&whole, 0));
            hc_traj_free(&p);
        }
        assert_true(top_bytes == (uint64_t)C * (uint64_t)U * FX_K * 4); /* the shares tile */
    }
    /* observed lists are shared out by the dataset's train rows: refused without it */
    assert_int_equal(hc_traj_load_part(path, NULL, 0, 2, &p), HC_EINVAL);
    expect_msg("share.hct");
    hc_traj noobs = whole;
    noobs.observed = NULL;
    TU_OK(hc_traj_save(&noobs, path));
    TU_OK(hc_traj_load_part(path, NULL, 1, 2, &p));
    assert_null(p.observed);
    assert_memory_equal(hc_traj_top(&p, 1, 3), hc_traj_top(&whole, 1, 3), FX_K * sizeof(int32_t));
    /* a share is not saved */
    assert_int_equal(hc_traj_save(&p, path), HC_EINVAL);
    expect_msg("share");
    hc_traj_free(&p);
    /* no such share */
    assert_int_equal(hc_traj_load_part(path, &f->ds, 2, 2, &p), HC_EINVAL);
    assert_int_equal(hc_traj_load_part(path, &f->ds, -1, 2, &p), HC_EINVAL);
    assert_int_equal(hc_traj_load_part(path, &f->ds, 0, 0, &p), HC_EINVAL);
    hc_traj_free(&whole);
}

/* A corrupt or truncated file is refused by every share with the whole load's message,
 * whichever user's list the damage is in: the checksum covers the whole body. */
static void test_binary_share_refused(void **state)
{
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir(), "badshare.hct");
    char *data;
    size_t len;
    save_bytes(&f->t, path, &data, &len);
    size_t C = (size_t)f->t.n_ckpt, top0 = 100 + 8 * C, row = FX_K * 4;
    /* user 4's list at checkpoint 0 (rank 1 of 3 owns it), user 5's at checkpoint 2, the
     * last observed entry */
    const size_t flips[] = {top0 + 4 * row + 8, top0 + (2 * FX_USERS + 5) * row, len - 2};
    hc_traj back;
    char whole_msg[512];
    for (size_t k = 0; k < sizeof flips / sizeof flips[0]; k++) {
        data[flips[k]] ^= 0x04;
        write_bytes(path, data, len);
        assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
        expect_msg("checksum mismatch");
        snprintf(whole_msg, sizeof whole_msg, "%s", hc_errmsg());
        for (int r = 0; r < 3; r++) {
            assert_int_equal(hc_traj_load_part(path, &f->ds, r, 3, &back), HC_ECORRUPT);
            assert_string_equal(hc_errmsg(), whole_msg);
            assert_null(back.top);
        }
        data[flips[k]] ^= 0x04;
    }
    const size_t cuts[] = {50, 100, len / 2, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        write_bytes(path, data, cuts[k]);
        assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
        snprintf(whole_msg, sizeof whole_msg, "%s", hc_errmsg());
        assert_int_equal(hc_traj_load_part(path, &f->ds, 1, 2, &back), HC_ECORRUPT);
        assert_string_equal(hc_errmsg(), whole_msg);
    }
    free(data);
}

/* Files with a valid checksum whose lists break the invariants are refused too. */
static void test_binary_inconsistent(void **state)
{
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir(), "odd.hct");
    hc_traj t = f->t;
    size_t ntop = (size_t)t.n_ckpt * FX_USERS * FX_K, nobs = (size_t)t.n_ckpt * t.train_nnz;
    t.top = malloc(ntop * sizeof *t.top);
    t.observed = malloc(nobs * sizeof *t.observed);
    hc_traj back;
    const int32_t u = 7, c = 1;
    int32_t *top = t.top + ((size_t)c * FX_USERS + u) * FX_K;
    int32_t *obs = t.observed + (size_t)c * t.train_nnz + f->ds.train.indptr[u];
    for (int variant = 0; variant < 5; variant++) {
        memcpy(t.top, f->t.top, ntop * sizeof *t.top);
        memcpy(t.observed, f->t.observed, nobs * sizeof *t.observed);
        const char *what = NULL;
        switch (variant) {
        case 0: /* an item ranked twice */
            top[3] = top[1];
            what = "twice";
            break;
        case 1: /* a train item in a top list */
            top[0] = hc_csr_row(&f->ds.train, u)[0];
            what = "train item";
            break;
        case 2: /* an item out of range */
            top[2] = FX_ITEMS;
            what = "bad item";
            break;
        case 3: /* a hole before the end of a list */
            top[4] = -1;
            what = "bad item";
            break;
        case 4: /* an observed list that repeats an item (so misses another) */
            obs[1] = obs[0];
            what = "observed";
            break;
        }
        TU_OK(hc_traj_save(&t, path));
        assert_int_equal(hc_traj_load(path, &f->ds, &back), HC_ECORRUPT);
        expect_msg(what);
        /* every rank's share refuses it with the same message, owning user u or not */
        char whole_msg[512];
        snprintf(whole_msg, sizeof whole_msg, "%s", hc_errmsg());
        for (int r = 0; r < 3; r++) {
            assert_int_equal(hc_traj_load_part(path, &f->ds, r, 3, &back), HC_ECORRUPT);
            assert_string_equal(hc_errmsg(), whole_msg);
            assert_null(back.top);
        }
    }
    free(t.top);
    free(t.observed);
}

/* Loads path without a dataset in a child process whose address space is capped at 4 GB
 * (not under AddressSanitizer, whose shadow memory needs more) and returns the status. */
static int load_capped(const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
#ifndef __SANITIZE_ADDRESS__
        struct rlimit rl = {(rlim_t)4 << 30, (rlim_t)4 << 30};
        setrlimit(RLIMIT_AS, &rl);
#endif
        hc_traj back;
        int rc = hc_traj_load(path, NULL, &back);
        hc_traj_free(&back);
        _exit(rc == HC_OK ? 0 : rc == HC_ECORRUPT ? 1 : 2);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st) == 0 ? HC_OK : WEXITSTATUS(st) == 1 ? HC_ECORRUPT : HC_ENOMEM;
}

/* A header claiming 2^31 - 1 items over a few list entries, loaded without a dataset: the
 * repeat check must not take memory for every claimed item (16 GB here; found by
 * fuzz/fuzz_traj.c), and still finds a repeat. */
static void test_binary_huge_catalog(void **state)
{
    (void)state;
    const char *path = tu_path(tu_tmpdir(), "huge.hct");
    int32_t epochs[1] = {1}, top[3] = {5, 2000000000, -1};
    float vr[1] = {0.5f};
    hc_traj t = {.model = "mf",
                 .n_users = 1,
                 .n_items = INT32_MAX,
                 .n_ckpt = 1,
                 .k = 3,
                 .epochs = epochs,
                 .valid_r50 = vr,
                 .top = top};
    TU_OK(hc_traj_save(&t, path));
    assert_int_equal(load_capped(path), HC_OK);
    top[1] = 5;
    TU_OK(hc_traj_save(&t, path));
    assert_int_equal(load_capped(path), HC_ECORRUPT);
}

/* ------------------------------------------------------------------ text form */

static void test_text_roundtrip(void **state)
{
    fixture *f = *state;
    const char *txt = tu_path(tu_tmpdir(), "t.tsv");
    TU_OK(hc_traj_export_text(&f->t, &f->ds, txt));
    hc_traj back;
    TU_OK(hc_traj_import_text(txt, &f->ds, 0.0, &back, NULL));
    assert_traj_equal(&f->t, &back);
    /* the text form goes through the binary file unchanged too */
    const char *bin = tu_path(tu_tmpdir(), "t2.hct");
    TU_OK(hc_traj_save(&back, bin));
    hc_traj again;
    TU_OK(hc_traj_load(bin, &f->ds, &again));
    assert_traj_equal(&f->t, &again);
    hc_traj_free(&again);
    hc_traj_free(&back);
    /* exporting against another dataset is refused */
    hc_dataset other;
    tu_make_dataset(&other, FX_USERS, FX_ITEMS, 4, 10, 4);
    assert_int_equal(hc_traj_export_text(&f->t, &other, txt), HC_EMISMATCH);
    /* importing rows of one split into another: the other split's train items show up in
     * 'top' rows (or hetcomp's ones in 'observed' rows) */
    TU_OK(hc_traj_export_text(&f->t, &f->ds, txt));
    assert_int_equal(hc_traj_import_text(txt, &other, 0.0, &back, NULL), HC_EPARSE);
    assert_null(back.top);
    expect_msg("train item");
    hc_dataset_free(&other);
}

/* The i-th (0-based) item that is not a train item of user u, as its id. */
static const char *nontrain(const hc_dataset *ds, int32_t u, int32_t i)
{
    for (int32_t it = 0; it < ds->n_items; it++)
        if (!hc_csr_has(&ds->train, u, it) && i-- == 0)
            return hc_idmap_name(ds->items, it);
    return NULL;
}

/* The i-th train item (ascending ids) of user u, as its id. */
static const char *trainitem(const hc_dataset *ds, int32_t u, int32_t i)
{
    return hc_idmap_name(ds->items, hc_csr_row(&ds->train, u)[i]);
}

static int32_t item_index(const hc_dataset *ds, const char *id)
{
    return hc_idmap_get(ds->items, id, strlen(id));
}

/* Minimal rows: 4 columns, white space, no header or metadata, ranks out of order with
 * gaps, CRLF line ends. */
static void test_text_minimal(void **state)
{
    fixture *f = *state;
    const hc_dataset *ds = &f->ds;
    char text[1024];
    snprintf(text, sizeof text,
             "0 u0 5 %s\r\n"
             "0 u0 2 %s\r\n"
             "\r\n"
             "0   u0  9   %s\r\n"
             "0 u3 0 %s\r\n",
             nontrain(ds, 0, 0), nontrain(ds, 0, 1), nontrain(ds, 0, 2), nontrain(ds, 3, 5));
    hc_traj t;
    TU_OK(hc_traj_import_text(tu_write("min.txt", text), ds, 0.0, &t, NULL));
    assert_string_equal(t.model, "imported");
    assert_int_equal(t.n_ckpt, 1);
    assert_int_equal(t.k, 10); /* highest rank + 1 */
    assert_int_equal(t.epochs[0], -1);
    assert_true(isnan(t.valid_r50[0]));
    assert_null(t.observed);
    const int32_t *l0 = hc_traj_top(&t, 0, 0);
    assert_int_equal(l0[0], item_index(ds, nontrain(ds, 0, 1))); /* rank 2 */
    assert_int_equal(l0[1], item_index(ds, nontrain(ds, 0, 0))); /* rank 5 */
    assert_int_equal(l0[2], item_index(ds, nontrain(ds, 0, 2))); /* rank 9 */
    for (int r = 3; r < 10; r++)
        assert_int_equal(l0[r], -1);
    assert_int_equal(hc_traj_top(&t, 0, 3)[0], item_index(ds, nontrain(ds, 3, 5)));
    for (int32_t u = 0; u < ds->n_users; u++)
        if (u != 0 && u != 3)
            assert_int_equal(hc_traj_top(&t, 0, u)[0], -1);
    /* an imported trajectory survives export -> import bit for bit (NaN, -1 and all) */
    const char *txt = tu_path(tu_tmpdir(), "min2.tsv");
    TU_OK(hc_traj_export_text(&t, ds, txt));
    hc_traj back;
    TU_OK(hc_traj_import_text(txt, ds, 0.0, &back, NULL));
    assert_traj_equal(&t, &back);
    hc_traj_free(&back);
    hc_traj_free(&t);
}

/* Metadata, the header, explicit lists, partial observed lists. */
static void test_text_full(void **state)
{
    fixture *f = *state;
    const hc_dataset *ds = &f->ds;
    char text[2048];
    snprintf(text, sizeof text,
             "# hetcomp trajectory v1\n"
             "# model\tneumf-elsewhere\n"
             "# k\t20\n"
             "# checkpoint\t0\tepoch\t7\tvalid_r50\t0.25\n"
             "# checkpoint\t1\tepoch\t30\tvalid_r50\t0.5\n"
             "# a free comment\n"
             "checkpoint\tuser\trank\titem\tlist\n"
             "0\tu1\t0\t%s\ttop\n"
             "0\tu1\t0\t%s\tobserved\n"
             "0\tu1\t1\t%s\tobserved\n"
             "1\tu1\t3\t%s\n"
             "1\tu2\t1\t%s\tobserved\n",
             nontrain(ds, 1, 4), trainitem(ds, 1, 2), trainitem(ds, 1, 0), nontrain(ds, 1, 6),
             trainitem(ds, 2, 3));
    hc_traj t;
    TU_OK(hc_traj_import_text(tu_write("full.tsv", text), ds, 0.0, &t, NULL));
    assert_string_equal(t.model, "neumf-elsewhere");
    assert_int_equal(t.n_ckpt, 2);
    assert_int_equal(t.k, 20);
    assert_int_equal(t.epochs[0], 7);
    assert_int_equal(t.epochs[1], 30);
    assert_true(t.valid_r50[0] == 0.25f && t.valid_r50[1] == 0.5f);
    assert_int_equal(hc_traj_top(&t, 0, 1)[0], item_index(ds, nontrain(ds, 1, 4)));
    assert_int_equal(hc_traj_top(&t, 0, 1)[1], -1);
    assert_int_equal(hc_traj_top(&t, 1, 1)[0], item_index(ds, nontrain(ds, 1, 6)));
    assert_non_null(t.observed);
    /* u1 at checkpoint 0: the given two first, then the others in id order */
    const int32_t *tr1 = hc_csr_row(&ds->train, 1);
    int32_t n1 = hc_csr_row_len(&ds->train, 1);
    assert_true(n1 >= 4);
    const int32_t *o = t.observed + ds->train.indptr[1];
    assert_int_equal(o[0], tr1[2]);
    assert_int_equal(o[1], tr1[0]);
    assert_int_equal(o[2], tr1[1]);
    for (int32_t k = 3; k < n1; k++)
        assert_int_equal(o[k], tr1[k]);
    /* u2 at checkpoint 1: the one given first, then the rest in id order */
    const int32_t *tr2 = hc_csr_row(&ds->train, 2);
    o = t.observed + t.train_nnz + ds->train.indptr[2];
    assert_int_equal(o[0], tr2[3]);
    for (int32_t k = 1, w = 0; k < hc_csr_row_len(&ds->train, 2); k++, w++) {
        if (w == 3)
            w++;
        assert_int_equal(o[k], tr2[w]);
    }
    /* everyone else, at both checkpoints: train items in id order */
    for (int32_t c = 0; c < 2; c++)
        for (int32_t u = 3; u < ds->n_users; u++)
            assert_memory_equal(t.observed + c * t.train_nnz + ds->train.indptr[u],
                                hc_csr_row(&ds->train, u),
                                (size_t)hc_csr_row_len(&ds->train, u) * sizeof(int32_t));
    hc_traj_free(&t);
}

/* The dataset expect_import_error imports against (the fixture's). */
static const hc_dataset *err_ds;

/* One bad input: the import fails with code, leaves out zeroed, and the message holds where
 * (name:line, or the name when no line is to blame) and what. */
static void expect_import_error(const char *name, const char *text, int code, const char *where,
                                const char *what)
{
    hc_traj t;
    memset(&t, 0x5a, sizeof t);
    int rc = hc_traj_import_text(tu_write(name, text), err_ds, 0.0, &t, NULL);
    if (rc != code)
        fail_msg("%s: expected %s, got %s (%s)", name, hc_err_name(code), hc_err_name(rc),
                 hc_errmsg());
    assert_null(t.top);
    assert_null(t.epochs);
    expect_msg(where);
    expect_msg(what);
}

static void test_text_errors(void **state)
{
    fixture *f = *state;
    const hc_dataset *ds = &f->ds;
    err_ds = &f->ds;
    const char *a = nontrain(ds, 0, 0), *b = nontrain(ds, 0, 1), *tr = trainitem(ds, 0, 0);
    char text[1024];

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tnobody\t1\t%s\n", a, b);
    expect_import_error("user.tsv", text, HC_EPARSE, "user.tsv:2:", "unknown user 'nobody'");

    snprintf(text, sizeof text, "# k\t5\n0\tu0\t0\t%s\n\n0\tu0\t1\tnothing\n", a);
    expect_import_error("item.tsv", text, HC_EPARSE, "item.tsv:4:", "unknown item 'nothing'");

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tu0\t1\t%s\n", a, tr);
    expect_import_error("trtop.tsv", text, HC_EPARSE, "trtop.tsv:2:", "is a train item");
    snprintf(text, sizeof text, "0\tu0\t0\t%s\ttop\n0\tu0\t1\t%s\ttop\n", a, tr);
    expect_import_error("trtop2.tsv", text, HC_EPARSE, "trtop2.tsv:2:", "is a train item");

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tu0\t0\t%s\tobserved\n", a, b);
    expect_import_error("obs.tsv", text, HC_EPARSE, "obs.tsv:2:", "not a train item");

    snprintf(text, sizeof text, "checkpoint\tuser\trank\titem\n0\tu0\t3\t%s\n0\tu0\t3\t%s\n", a, b);
    expect_import_error("duprank.tsv", text, HC_EPARSE, "duprank.tsv:", "rank 3");
    expect_msg("given twice");

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tu0\t4\t%s\n", a, a);
    expect_import_error("twice.tsv", text, HC_EPARSE, "twice.tsv:", "ranked twice");

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tu0\t0\t%s\tobserved\n0\tu0\t0\t%s\tobserved\n", a,
             tr, trainitem(ds, 0, 1));
    expect_import_error("obsrank.tsv", text, HC_EPARSE, "obsrank.tsv:", "given twice");

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tu0\t0\t%s\tobserved\n0\tu0\t1\t%s\tobserved\n", a,
             tr, tr);
    expect_import_error("obstwice.tsv", text, HC_EPARSE, "obstwice.tsv:", "listed twice");

    const char *bad_ckpt[] = {"x", "-1", "1.5", "1000", ""};
    for (int k = 0; k < 5; k++) {
        snprintf(text, sizeof text, "0\tu0\t0\t%s\n%s\tu0\t1\t%s\n", a, bad_ckpt[k], b);
        expect_import_error("ckpt.tsv", text, HC_EPARSE, "ckpt.tsv:2:", "checkpoint");
    }
    const char *bad_rank[] = {"r", "-3", "2e3", "100000", "0x1"};
    for (int k = 0; k < 5; k++) {
        snprintf(text, sizeof text, "0\tu0\t%s\t%s\n", bad_rank[k], a);
        expect_import_error("rank.tsv", text, HC_EPARSE, "rank.tsv:1:", "rank");
    }

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n0\tu0\t1\n", a);
    expect_import_error("fields.tsv", text, HC_EPARSE, "fields.tsv:2:", "3 fields");
    snprintf(text, sizeof text, "0\tu0\t0\t%s\ttop\textra\n", a);
    expect_import_error("fields6.tsv", text, HC_EPARSE, "fields6.tsv:1:", "6 fields");
    snprintf(text, sizeof text, "0\tu0\t0\t%s\tbest\n", a);
    expect_import_error("list.tsv", text, HC_EPARSE, "list.tsv:1:", "'best'");

    snprintf(text, sizeof text, "0\tu0\t0\t%s\n2\tu0\t0\t%s\n", a, b);
    expect_import_error("gap.tsv", text, HC_EPARSE, "gap.tsv", "checkpoint 1 has no rows");

    snprintf(text, sizeof text, "# k\t3\n0\tu0\t3\t%s\n", a);
    expect_import_error("k.tsv", text, HC_EPARSE, "k.tsv", "k = 3");

    expect_import_error("empty.tsv", "", HC_EEMPTY, "empty.tsv", "no ranking rows");
    expect_import_error("comments.tsv", "# model\tx\ncheckpoint\tuser\trank\titem\n\n", HC_EEMPTY,
                        "comments.tsv", "no ranking rows");
    /* only observed rows: nothing ranks unobserved items */
    snprintf(text, sizeof text, "0\tu0\t0\t%s\tobserved\n", tr);
    expect_import_error("onlyobs.tsv", text, HC_EEMPTY, "onlyobs.tsv", "no ranking rows");

    /* binary garbage: a binary trajectory file given as text */
    const char *bin = tu_path(tu_tmpdir(), "garbage.hct");
    TU_OK(hc_traj_save(&f->t, bin));
    hc_traj t;
    assert_int_equal(hc_traj_import_text(bin, ds, 0.0, &t, NULL), HC_EPARSE);
    expect_msg("garbage.hct:1:");
    expect_msg("binary");
    assert_null(t.top);
    /* a missing file */
    assert_int_equal(hc_traj_import_text(tu_path(tu_tmpdir(), "none.tsv"), ds, 0.0, &t, NULL),
                     HC_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_rise),
        cmocka_unit_test(test_select_jump),
        cmocka_unit_test(test_select_best_early),
        cmocka_unit_test(test_select_few),
        cmocka_unit_test(test_select_flat),
        cmocka_unit_test(test_select_random),
        cmocka_unit_test(test_from_fit),
        cmocka_unit_test(test_fit_opts),
        cmocka_unit_test(test_binary_roundtrip),
        cmocka_unit_test(test_binary_refused),
        cmocka_unit_test(test_binary_inconsistent),
        cmocka_unit_test(test_binary_share),
        cmocka_unit_test(test_binary_share_refused),
        cmocka_unit_test(test_binary_huge_catalog),
        cmocka_unit_test(test_text_roundtrip),
        cmocka_unit_test(test_text_minimal),
        cmocka_unit_test(test_text_full),
        cmocka_unit_test(test_text_errors),
    };
    /* the select tests need no fixture; the others share one training run */
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
