/*
 * test_api.c - the public pipeline of include/hetcomp.h: the registries and their parameter
 * descriptions (every default reads back as itself), name=value validation, datasets and
 * trajectories from arrays (good and bad input), a teacher trained and a student distilled
 * through the API (the returned models hold the reported best metrics), the ensemble's lists,
 * hc_recommend against hc_model_score, and hc_similar_items against brute force.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/similar.h"
#include "core/param.h"
#include "distill/distill.h"
#include "model/fit.h"
#include "model/model.h"
#include "testutil.h"

static void test_registries(void **state)
{
    (void)state;
    assert_int_equal(hc_family_count(), 6);
    assert_string_equal(hc_family_name(0), "mf");
    assert_null(hc_family_name(6));
    assert_non_null(hc_family_title(5));
    assert_int_equal(hc_method_count(), 8);
    assert_string_equal(hc_method_name(0), "hetcomp");
    assert_null(hc_method_name(-1));
    assert_int_equal(hc_param_count("nosuch"), -1);
    assert_int_equal(hc_param_count("mf"), 7);
    assert_int_equal(hc_param_count("teacher"), hc_n_teach_params);
    assert_int_equal(hc_param_count("distill"), hc_distill_n_params);
    hc_param_info pi;
    assert_int_equal(hc_param_describe("mf", 7, &pi), HC_ENOTFOUND);
    assert_int_equal(hc_param_describe("nosuch", 0, &pi), HC_ENOTFOUND);
    TU_OK(hc_param_describe("ml", 3, &pi));
    assert_string_equal(pi.name, "margin");
    assert_string_equal(pi.type, "float");
}

/* Every scope's defaults, written as name=value text and applied to a zeroed struct, give the
 * defaults back: the descriptions are exact and parse. */
static void test_defaults_read_back(void **state)
{
    (void)state;
    const char *scopes[] = {"mf", "ml", "gnn", "dl", "ae", "iae", "teacher", "distill"};
    for (size_t s = 0; s < sizeof scopes / sizeof scopes[0]; s++) {
        int32_t n = hc_param_count(scopes[s]);
        assert_true(n > 0);
        char text[128][64];
        const char *kv[129] = {0};
        for (int32_t i = 0; i < n; i++) {
            hc_param_info pi;
            TU_OK(hc_param_describe(scopes[s], i, &pi));
            snprintf(text[i], sizeof text[i], "%s=%s", pi.name, pi.def);
            kv[i] = text[i];
        }
        if (!strcmp(scopes[s], "distill")) {
            hc_distill_opts d, z;
            hc_distill_opts_default(&d);
            memset(&z, 0, sizeof z);
            TU_OK(hc_param_apply(hc_distill_params, hc_distill_n_params, &z, kv, "distill"));
            assert_memory_equal(&d, &z, sizeof d);
        } else if (!strcmp(scopes[s], "teacher")) {
            hc_teach_opts d, z;
            hc_teach_opts_default(&d);
            hc_teach_opts_default(&z);
            z.fit.max_epochs = z.fit.patience = z.checkpoints = 0;
            z.fit.record_k = 0;
            TU_OK(hc_param_apply(hc_teach_params, hc_n_teach_params, &z, kv, "teacher"));
            assert_memory_equal(&d, &z, sizeof d);
        } else {
            const hc_model_type *t = hc_model_type_find(scopes[s]);
            hc_hparams d, z;
            hc_hparams_default(t, &d);
            memcpy(&z, &d, sizeof z);
            z.dim = 1;
            z.lr = 9.0f;
            TU_OK(hc_hparams_apply(t, &z, kv));
            assert_memory_equal(&d, &z, sizeof d);
        }
    }
}

static void test_param_errors(void **state)
{
    (void)state;
    hc_distill_opts o;
    hc_distill_opts_default(&o);
    const char *alias[] = {"rest_group=8", "rest=sampled", "no-dkc=on", NULL};
    TU_OK(hc_param_apply(hc_distill_params, hc_distill_n_params, &o, alias, "distill"));
    assert_int_equal(o.rest_group, 8);
    assert_int_equal(o.rest, HC_REST_SAMPLED);
    assert_int_equal(o.no_dkc, 1);
    const char *bad[][2] = {{"nosuch=1", "has no parameter 'nosuch'"},
                            {"dim", "is not name=value"},
                            {"dim=0", "must be in [1, 4096], got 0"},
                            {"dim=6x", "expects an integer, got '6x'"},
                            {"lr=nan", "expects a number"},
                            {"rest=fast", "takes one of auto|exact|sampled"},
                            {"seed=-1", "expects a non-negative integer"},
                            {"no-dkc=maybe", "expects on or off"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *kv[] = {bad[i][0], NULL};
        assert_int_equal(hc_param_apply(hc_distill_params, hc_distill_n_params, &o, kv, "distill"),
                         HC_EINVAL);
        if (!strstr(hc_errmsg(), bad[i][1]))
            fail_msg("'%s' gave '%s', expected '%s'", bad[i][0], hc_errmsg(), bad[i][1]);
    }
    hc_hparams hp;
    const hc_model_type *mf = hc_model_type_find("mf"), *ae = hc_model_type_find("ae");
    hc_hparams_default(mf, &hp);
    const char *margin[] = {"margin=2", NULL}, *drop[] = {"dropout=1", NULL};
    assert_int_equal(hc_hparams_apply(mf, &hp, margin), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "family mf has no parameter 'margin'"));
    assert_int_equal(hc_hparams_apply(ae, &hp, drop), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "must be in [0, 1), got 1"));
}

static void test_dataset_from_arrays(void **state)
{
    (void)state;
    const int32_t tu[] = {0, 0, 1, 2, 2, 0}, ti[] = {1, 0, 2, 3, 0, 1};
    const int32_t vu[] = {1}, vi[] = {0}, su[] = {2}, si[] = {1};
    hc_dataset ds;
    TU_OK(hc_dataset_from_arrays(3, 4, tu, ti, 6, vu, vi, 1, su, si, 1, &ds));
    assert_int_equal(ds.train.nnz, 5); /* (0, 1) twice */
    assert_int_equal(hc_csr_row_len(&ds.train, 0), 2);
    assert_int_equal(hc_csr_row(&ds.train, 0)[0], 0);
    assert_true(hc_csr_has(&ds.valid, 1, 0));
    assert_string_equal(hc_idmap_name(ds.items, 3), "3");
    assert_int_not_equal(ds.checksum, 0);
    const char *path = tu_path(tu_tmpdir(), "arrays.hcd");
    hc_dataset back;
    TU_OK(hc_dataset_save(&ds, path));
    TU_OK(hc_dataset_load(path, &back));
    assert_true(back.checksum == ds.checksum);
    hc_dataset_free(&back);
    hc_dataset_free(&ds);
    const int32_t bu[] = {0, 3}, bi[] = {0, 0};
    assert_int_equal(hc_dataset_from_arrays(3, 4, bu, bi, 2, NULL, NULL, 0, NULL, NULL, 0, &ds),
                     HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "train pair 1 is (user 3, item 0)"));
    assert_int_equal(hc_dataset_from_arrays(3, 4, tu, ti, 0, NULL, NULL, 0, NULL, NULL, 0, &ds),
                     HC_EEMPTY);
}

static void test_traj_from_arrays(void **state)
{
    (void)state;
    hc_dataset ds;
    tu_make_dataset(&ds, 20, 30, 3, 8, 1);
    const int32_t C = 2, K = 5;
    int32_t *top = malloc((size_t)C * 20 * K * sizeof *top);
    for (int32_t c = 0; c < C; c++)
        for (int32_t u = 0; u < 20; u++) {
            int32_t *l = top + ((int64_t)c * 20 + u) * K, r = 0;
            for (int32_t i = (u + c) % 30; r < K - c; i = (i + 1) % 30)
                if (!hc_csr_has(&ds.train, u, i))
                    l[r++] = i;
            for (; r < K; r++)
                l[r] = -1; /* checkpoint 1 lists hold K - 1 items */
        }
    const int32_t epochs[] = {5, 10};
    hc_traj t;
    TU_OK(hc_traj_from_arrays(&ds, "torch-lightgcn", C, K, top, epochs, &t));
    assert_string_equal(t.model, "torch-lightgcn");
    assert_int_equal(t.epochs[1], 10);
    assert_memory_equal(hc_traj_top(&t, 1, 7), top + (20 + 7) * K, K * sizeof *top);
    const char *path = tu_path(tu_tmpdir(), "arrays.hct");
    hc_traj back;
    TU_OK(hc_traj_save(&t, path));
    TU_OK(hc_traj_load(path, &ds, &back));
    assert_memory_equal(back.top, t.top, (size_t)C * 20 * K * sizeof *top);
    hc_traj_free(&back);
    hc_traj_free(&t);
    /* a train item, a repeat, an item outside the catalog, an item after the end */
    int32_t *l = top + 3 * K, keep[5];
    memcpy(keep, l, sizeof keep);
    const char *want[] = {"a train item of the user", "listed twice", "outside the catalog",
                          "after the list's end"};
    for (int b = 0; b < 4; b++) {
        memcpy(l, keep, sizeof keep);
        if (b == 0)
            l[2] = hc_csr_row(&ds.train, 3)[0];
        else if (b == 1)
            l[2] = l[0];
        else if (b == 2)
            l[2] = 30;
        else
            l[2] = -1;
        assert_int_equal(hc_traj_from_arrays(&ds, "x", C, K, top, NULL, &t), HC_EINVAL);
        if (!strstr(hc_errmsg(), want[b]) || !strstr(hc_errmsg(), "checkpoint 0, user 3, rank"))
            fail_msg("case %d: '%s'", b, hc_errmsg());
    }
    assert_int_equal(hc_traj_from_arrays(&ds, "bad\"name", C, K, top, NULL, &t), HC_EINVAL);
    free(top);
    hc_dataset_free(&ds);
}

typedef struct {
    int calls;
    int32_t last_epoch;
} seen_evals;

static void count_evals(void *ud, int32_t epoch, double loss, const hc_eval_result *res)
{
    seen_evals *s = ud;
    (void)loss;
    assert_true(res->valid.n_users > 0);
    s->calls++;
    s->last_epoch = epoch;
}

/* A teacher and a student through the API: the returned models score the metrics the
 * summaries report, the trajectory has the asked checkpoints, the ensemble of one teacher
 * lists its final checkpoint, and recommendations are the masked top of the scores. */
static void test_pipeline(void **state)
{
    (void)state;
    hc_dataset ds;
    tu_make_dataset(&ds, 120, 80, 4, 16, 3);
    const char *const tp[] = {"dim=16",        "epochs=12", "eval_every=4",
                              "checkpoints=3", "topk=20",   NULL};
    hc_model *m;
    hc_traj t;
    hc_train_summary s;
    seen_evals se = {0};
    TU_OK(hc_train_teacher(&ds, "mf", tp, count_evals, &se, &m, &t, &s));
    assert_string_equal(hc_model_family(m), "mf");
    assert_int_equal(hc_model_n_items(m), 80);
    assert_int_equal(se.calls, s.n_evals);
    assert_true(s.n_evals >= 2);
    assert_true(t.n_ckpt >= 1 && t.n_ckpt <= 3);
    assert_int_equal(t.k, 20);
    hc_eval_result res;
    TU_OK(hc_model_evaluate(&ds, m, &res));
    assert_near(res.test.recall[2], s.best.test.recall[2], 1e-12);

    const hc_traj *tv[1] = {&t};
    hc_traj ens;
    hc_eval_result er;
    TU_OK(hc_ensemble_build(&ds, tv, 1, NULL, 10.0f, 20, &ens, &er));
    assert_int_equal(ens.n_ckpt, 1);
    assert_memory_equal(ens.top, hc_traj_top(&t, t.n_ckpt - 1, 0),
                        (size_t)ds.n_users * 20 * sizeof *ens.top);
    hc_traj_free(&ens);

    const int32_t users[3] = {0, 5, 119};
    int32_t items[3 * 10], cnt[3];
    float sc[3 * 10], *row = malloc(80 * sizeof *row);
    TU_OK(hc_recommend(m, &ds, users, 3, 10, HC_EXCLUDE_TRAIN, items, sc, cnt));
    for (int u = 0; u < 3; u++) {
        TU_OK(hc_model_score(m, &users[u], 1, row));
        for (int32_t k = 0; k < hc_csr_row_len(&ds.train, users[u]); k++)
            row[hc_csr_row(&ds.train, users[u])[k]] = -INFINITY;
        int32_t want[10];
        assert_int_equal(hc_topk(row, 80, 10, want, NULL), cnt[u]);
        assert_memory_equal(items + u * 10, want, 10 * sizeof *want);
    }
    free(row);
    const int32_t bad_user = 120;
    assert_int_equal(hc_model_score(m, &bad_user, 1, sc), HC_EINVAL);

    const char *const kd[] = {"dim=4", "epochs=20", "eval-every=5", NULL};
    hc_model *st;
    TU_OK(hc_distill(&ds, "hetcomp", tv, 1, kd, NULL, NULL, &st, &s));
    assert_string_equal(hc_model_family(st), "mf");
    TU_OK(hc_model_evaluate(&ds, st, &res));
    assert_near(res.test.recall[2], s.best.test.recall[2], 1e-12);
    hc_model_free(st);

    const char *const bad[] = {"margin=1", NULL};
    assert_int_equal(hc_train_teacher(&ds, "mf", bad, NULL, NULL, &st, NULL, &s), HC_EINVAL);
    assert_null(st);
    assert_int_equal(hc_train_teacher(&ds, "nosuch", NULL, NULL, NULL, &st, NULL, &s),
                     HC_ENOTFOUND);
    assert_int_equal(hc_distill(&ds, "nosuch", tv, 1, NULL, NULL, NULL, &st, &s), HC_ENOTFOUND);
    const char *const bad_kd[] = {"rest-group=0", NULL};
    assert_int_equal(hc_distill(&ds, "hetcomp", tv, 1, bad_kd, NULL, NULL, &st, &s), HC_EINVAL);
    hc_model_free(m);
    hc_traj_free(&t);
    hc_dataset_free(&ds);
}

/* Version 3 model files name their hyperparameters: the family's own appear as name=value
 * lines, and a line the family does not read is refused even under a valid checksum. */
static void test_model_file_names(void **state)
{
    (void)state;
    hc_dataset ds;
    tu_make_dataset(&ds, 30, 20, 2, 8, 5);
    const char *const tp[] = {"dim=5", "epochs=1", "lr=0.0025", NULL};
    hc_model *m, *back;
    TU_OK(hc_train_teacher(&ds, "mf", tp, NULL, NULL, &m, NULL, NULL));
    const char *path = tu_path(tu_tmpdir(), "named.hcm");
    TU_OK(hc_model_save(m, path));
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(path, &data, &len));
    uint32_t tlen;
    memcpy(&tlen, data + 28, 4);
    const char *want = "dim=5\nlr=0.0025\nwd=1e-05\nnegatives=1\nbatch=1024\ninit-std=0\nseed=0\n";
    assert_int_equal(tlen, strlen(want));
    assert_memory_equal(data + 32, want, tlen);
    TU_OK(hc_model_load(path, &ds, &back));
    assert_int_equal(back->hp.dim, 5);
    assert_true(back->hp.lr == 0.0025f);
    hc_model_free(back);
    memcpy(data + 32 + tlen - 7, "l2=0.0\n", 7); /* seed=0 -> a parameter mf does not read */
    uint64_t hsum = hc_checksum(data, 68 + tlen);
    memcpy(data + 68 + tlen, &hsum, 8);
    const char *bad = tu_path(tu_tmpdir(), "bad.hcm");
    FILE *fp = fopen(bad, "wb");
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    assert_int_equal(hc_model_load(bad, &ds, &back), HC_ECORRUPT);
    assert_non_null(
        strstr(hc_errmsg(), "bad.hcm: hyperparameters: family mf has no parameter 'l2'"));
    free(data);
    hc_model_free(m);
    hc_dataset_free(&ds);
}

/* hc_similar_items against brute-force cosine and dot in double over the item factors: each
 * list is descending, leaves the item out, holds the true top (to 1e-5) and pads past the
 * other items; bad arguments and a model without item factors are refused. */
static void check_similar(const float *f, int32_t n_items, int32_t dim, int cosine, int32_t i,
                          const int32_t *top, const float *val, int32_t k)
{
    double *s = malloc((size_t)n_items * sizeof *s);
    for (int32_t j = 0; j < n_items; j++) {
        double d = 0, ni = 0, nj = 0;
        for (int32_t c = 0; c < dim; c++) {
            d += (double)f[i * dim + c] * (double)f[j * dim + c];
            ni += (double)f[i * dim + c] * (double)f[i * dim + c];
            nj += (double)f[j * dim + c] * (double)f[j * dim + c];
        }
        s[j] = cosine ? d / sqrt(ni * nj) : d;
    }
    double kth = INFINITY;
    for (int32_t r = 0; r < k && top[r] >= 0; r++) {
        assert_int_not_equal(top[r], i);
        assert_true(fabs((double)val[r] - s[top[r]]) < 1e-5);
        assert_true(r == 0 || val[r] <= val[r - 1]);
        kth = s[top[r]];
        s[top[r]] = -INFINITY;
    }
    for (int32_t j = 0; j < n_items; j++)
        assert_true(j == i || s[j] <= kth + 1e-5);
    free(s);
}

static void test_similar_items(void **state)
{
    (void)state;
    hc_dataset ds;
    tu_make_dataset(&ds, 60, 40, 3, 10, 9);
    const char *const tp[] = {"dim=8", "epochs=3", NULL};
    hc_model *m, *ae;
    TU_OK(hc_train_teacher(&ds, "mf", tp, NULL, NULL, &m, NULL, NULL));
    const float *f;
    int32_t dim;
    assert_true(hc_item_factors(m, 40, &f, &dim));
    assert_int_equal(dim, 8);
    const int32_t items[3] = {0, 17, 39};
    int32_t top[3 * 5];
    float val[3 * 5];
    for (int cosine = 0; cosine < 2; cosine++) {
        TU_OK(hc_similar_items(m, items, 3, 5, cosine ? "cosine" : "dot", top, val));
        for (int q = 0; q < 3; q++)
            check_similar(f, 40, dim, cosine, items[q], top + 5 * q, val + 5 * q, 5);
    }
    int32_t all[40];
    float all_v[40];
    TU_OK(hc_similar_items(m, items + 1, 1, 40, NULL, all, all_v));
    assert_int_equal(all[39], -1); /* 39 other items, then padding */
    assert_true(isinf(all_v[39]) && all_v[39] < 0);
    assert_true(all[38] >= 0);
    TU_OK(hc_similar_items(m, items, 1, 5, NULL, top, NULL)); /* scores not wanted */
    TU_OK(hc_similar_items(m, NULL, 0, 5, NULL, top, val));
    assert_int_equal(hc_similar_items(m, items, 1, 5, "l2", top, val), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "cosine or dot"));
    const int32_t bad = 40;
    assert_int_equal(hc_similar_items(m, &bad, 1, 5, NULL, top, val), HC_EINVAL);
    assert_int_equal(hc_similar_items(m, items, 1, 0, NULL, top, val), HC_EINVAL);
    const char *const ap[] = {"dim=8", "epochs=1", NULL};
    TU_OK(hc_train_teacher(&ds, "ae", ap, NULL, NULL, &ae, NULL, NULL));
    assert_int_equal(hc_similar_items(ae, items, 1, 5, NULL, top, val), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "no item factors"));
    hc_model_free(ae);
    hc_model_free(m);
    hc_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registries),       cmocka_unit_test(test_defaults_read_back),
        cmocka_unit_test(test_param_errors),     cmocka_unit_test(test_dataset_from_arrays),
        cmocka_unit_test(test_traj_from_arrays), cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_model_file_names), cmocka_unit_test(test_similar_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
