/*
 * test_recommend.c - top-K recommendation (src/serve/recommend.c) against a brute-force
 * reference: a tiny hand-made MF model whose factors are multiples of 1/2 in [-1, 1], so every
 * score <p_u, q_i> is exact in float (sgemm and the reference agree bit for bit) and ties are
 * frequent. The reference scores every item, drops train items (or none, or train, valid and test:
 * the three hc_exclude modes), and fully sorts by (score descending, item ascending). Covers: the
 * three exclude modes; k = 1, a few, all items, more than all items (padding with -1 / -INFINITY
 * and the returned counts); block sizes 1, 7 and 256 giving identical output; argument errors; a
 * pool of contexts used from several threads at once giving the single-threaded answers; another
 * family (ML) through the same path. The live ensemble (two models, hc_rec_spec): against
 * hc_ensemble_user on trajectories recorded from the same models by hc_evaluate (bit for bit, block
 * sizes 1 and 256, weights, temperature, k beyond the candidates) and against a hand computation
 * from brute-force lists (importances in double), with and without seen items; a pool of ensemble
 * contexts shared by several threads; refused specs (other dataset, sizes, temperature, weights)
 * and weight parsing.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble/ensemble.h"
#include "model/model.h"
#include "serve/recommend.h"
#include "traj/trajectory.h"

enum { NU = 37, NI = 29, DIM = 4 };

/* A dataset and an MF model on it with factors drawn from {-1, -0.5, 0, 0.5, 1}. */
static void make_mf(hc_dataset *ds, hc_model **m)
{
    tu_make_dataset(ds, NU, NI, 3, 10, 7);
    hc_hparams hp;
    const hc_model_type *t = hc_model_type_find("mf");
    assert_non_null(t);
    hc_hparams_default(t, &hp);
    hp.dim = DIM;
    TU_OK(hc_model_create(t, ds, &hp, m));
    hc_tensor ts[HC_MAX_TENSORS];
    int nt = t->tensors(*m, ts);
    assert_int_equal(nt, 2);
    hc_rng r;
    hc_rng_init(&r, 42, 0);
    for (int i = 0; i < nt; i++)
        for (int64_t j = 0; j < (int64_t)ts[i].rows * ts[i].cols; j++)
            ts[i].data[j] = 0.5f * (float)((int)hc_rng_below(&r, 5) - 2);
    TU_OK(t->prepare(*m, ds));
}

/* The factor of user/item x in tensor t (0 users, 1 items). */
static float factor(hc_model *m, int t, int32_t x, int c)
{
    hc_tensor ts[HC_MAX_TENSORS];
    m->type->tensors(m, ts);
    return ts[t].data[(int64_t)x * ts[t].cols + c];
}

typedef struct {
    float s;
    int32_t i;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Brute force: the full sorted list of u's selectable items; returns its length. seen is an
 * hc_exclude: 0 drops train items, 1 nothing, 2 train, valid and test items. */
static int32_t brute(hc_model *m, const hc_dataset *ds, int32_t u, int seen, scored *out)
{
    int32_t n = 0;
    for (int32_t i = 0; i < ds->n_items; i++) {
        if (seen != HC_EXCLUDE_NONE && hc_csr_has(&ds->train, u, i))
            continue;
        if (seen == HC_EXCLUDE_ALL && (hc_csr_has(&ds->valid, u, i) || hc_csr_has(&ds->test, u, i)))
            continue;
        float s = 0.0f;
        for (int c = 0; c < DIM; c++)
            s += factor(m, 0, u, c) * factor(m, 1, i, c);
        out[n++] = (scored){s, i};
    }
    qsort(out, (size_t)n, sizeof *out, cmp_scored);
    return n;
}

/* Every user's top-k from spec's model(s) with the given block size into items/scores/count
 * (NU x k, NU). */
static void spec_all(const hc_rec_spec *spec, const hc_dataset *ds, int32_t block, int32_t k,
                     int seen, int32_t *items, float *scores, int32_t *count)
{
    hc_recommender r;
    TU_OK(hc_recommend_init_spec(&r, spec, ds, block, NULL));
    int32_t users[NU];
    for (int32_t u = 0; u < NU; u++)
        users[u] = u;
    TU_OK(hc_recommend_users(&r, users, NU, k, (hc_exclude)seen, items, scores, count));
    hc_recommend_free(&r);
}

/* Every user's top-k of model m (see spec_all). */
static void run_all(hc_model *m, const hc_dataset *ds, int32_t block, int32_t k, int seen,
                    int32_t *items, float *scores, int32_t *count)
{
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    spec.models = &m;
    spec.n_models = 1;
    spec_all(&spec, ds, block, k, seen, items, scores, count);
}

static void test_vs_bruteforce(void **state)
{
    (void)state;
    hc_dataset ds;
    hc_model *m;
    make_mf(&ds, &m);
    const int32_t ks[] = {1, 5, NI, NI + 11};
    const int32_t blocks[] = {1, 7, 256};
    scored ref[NI];
    int ties = 0;
    for (int seen = HC_EXCLUDE_TRAIN; seen <= HC_EXCLUDE_ALL; seen++)
        for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++) {
            int32_t k = ks[a];
            int32_t *it0 = NULL, *cnt0 = NULL;
            float *sc0 = NULL;
            for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
                int32_t *it = malloc(sizeof(int32_t) * NU * (size_t)k);
                float *sc = malloc(sizeof(float) * NU * (size_t)k);
                int32_t *cnt = malloc(sizeof(int32_t) * NU);
                assert_true(it && sc && cnt);
                run_all(m, &ds, blocks[b], k, seen, it, sc, cnt);
                for (int32_t u = 0; u < NU; u++) {
                    int32_t n = brute(m, &ds, u, seen, ref);
                    int32_t want = n < k ? n : k;
                    assert_int_equal(cnt[u], want);
                    for (int32_t j = 0; j < k; j++) {
                        int32_t got = it[(size_t)u * k + j];
                        float gs = sc[(size_t)u * k + j];
                        if (j < want) {
                            assert_int_equal(got, ref[j].i);
                            assert_true(gs == ref[j].s);
                            if (j > 0 && ref[j].s == ref[j - 1].s)
                                ties++;
                            if (seen != HC_EXCLUDE_NONE)
                                assert_false(hc_csr_has(&ds.train, u, got));
                            if (seen == HC_EXCLUDE_ALL)
                                assert_false(hc_csr_has(&ds.test, u, got));
                        } else {
                            assert_int_equal(got, -1);
                            assert_true(isinf(gs) && gs < 0.0f);
                        }
                    }
                }
                if (b == 0) {
                    it0 = it;
                    sc0 = sc;
                    cnt0 = cnt;
                    continue;
                }
                /* every block size gives byte-identical output */
                assert_memory_equal(it, it0, sizeof(int32_t) * NU * (size_t)k);
                assert_memory_equal(sc, sc0, sizeof(float) * NU * (size_t)k);
                assert_memory_equal(cnt, cnt0, sizeof(int32_t) * NU);
                free(it);
                free(sc);
                free(cnt);
            }
            free(it0);
            free(sc0);
            free(cnt0);
        }
    assert_true(ties > 0); /* the tie rule was exercised */
    hc_model_free(m);
    hc_dataset_free(&ds);
}

static void test_errors(void **state)
{
    (void)state;
    hc_dataset ds, other;
    hc_model *m;
    make_mf(&ds, &m);
    hc_recommender r;
    int32_t items[4], u = 0;
    TU_OK(hc_recommend_init(&r, m, &ds, 0, NULL));
    assert_int_equal(r.block, NU); /* default block, capped at the user count */
    assert_int_equal(hc_recommend_users(&r, &u, 1, 0, HC_EXCLUDE_TRAIN, items, NULL, NULL),
                     HC_EINVAL);
    u = -1;
    assert_int_equal(hc_recommend_users(&r, &u, 1, 4, HC_EXCLUDE_TRAIN, items, NULL, NULL),
                     HC_EINVAL);
    u = NU;
    assert_int_equal(hc_recommend_users(&r, &u, 1, 4, HC_EXCLUDE_TRAIN, items, NULL, NULL),
                     HC_EINVAL);
    assert_int_equal(hc_recommend_users(&r, &u, 0, 4, HC_EXCLUDE_TRAIN, items, NULL, NULL), HC_OK);
    hc_recommend_free(&r);
    hc_recommend_free(&r); /* twice is harmless */
    tu_make_dataset(&other, NU + 1, NI, 3, 10, 7);
    assert_int_equal(hc_recommend_init(&r, m, &other, 4, NULL), HC_EINVAL);
    hc_dataset_free(&other);
    hc_rec_pool p;
    assert_int_equal(hc_rec_pool_init(&p, m, &ds, 0, 1), HC_EINVAL);
    hc_rec_pool_free(&p);
    hc_model_free(m);
    hc_dataset_free(&ds);
}

enum { THREADS = 4, POOL_K = 6, ROUNDS = 20 };

typedef struct {
    hc_rec_pool *pool;
    const int32_t *want; /* NU x POOL_K single-threaded answers */
    int32_t mismatches, errors;
    int seed;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    for (int round = 0; round < ROUNDS; round++)
        for (int32_t j = 0; j < NU; j++) {
            int32_t u = (j * 7 + w->seed * 3 + round) % NU, items[POOL_K], got;
            float sc[POOL_K];
            hc_recommender *r = hc_rec_pool_acquire(w->pool);
            int rc = hc_recommend_users(r, &u, 1, POOL_K, HC_EXCLUDE_TRAIN, items, sc, &got);
            hc_rec_pool_release(w->pool, r);
            if (rc)
                w->errors++;
            else if (memcmp(items, w->want + (size_t)u * POOL_K, sizeof items) != 0)
                w->mismatches++;
        }
    return NULL;
}

/* THREADS threads querying a pool of THREADS - 1 contexts (acquire must wait, not fail) get
 * the answers of want. */
static void run_pool_threads(hc_rec_pool *pool, const int32_t *want)
{
    pthread_t th[THREADS];
    worker_arg wa[THREADS];
    for (int t = 0; t < THREADS; t++) {
        wa[t] = (worker_arg){pool, want, 0, 0, t};
        assert_int_equal(pthread_create(&th[t], NULL, worker, &wa[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(wa[t].errors, 0);
        assert_int_equal(wa[t].mismatches, 0);
    }
    assert_int_equal(pool->n_free, THREADS - 1);
}

static void test_pool_threads(void **state)
{
    (void)state;
    hc_dataset ds;
    hc_model *m;
    make_mf(&ds, &m);
    int32_t want[NU * POOL_K], cnt[NU];
    float sc[NU * POOL_K];
    run_all(m, &ds, 256, POOL_K, 0, want, sc, cnt);
    hc_rec_pool pool;
    TU_OK(hc_rec_pool_init(&pool, m, &ds, THREADS - 1, 1));
    run_pool_threads(&pool, want);
    hc_rec_pool_free(&pool);
    hc_model_free(m);
    hc_dataset_free(&ds);
}

/* Another family through the same path: ML (score -||p_u - q_i||^2) with factors in quarters, so
 * that scores are exact whatever sgemm kernel a block shape picks (with arbitrary floats, BLAS may
 * round a 1-row and a 37-row product differently in the last bit): blocks 1 and 256 agree byte for
 * byte and train items never appear. */
/* An ML model on ds (dim 8) with factors in {-1/4, 0, 1/4} drawn from seed: every score is
 * exact in float (norms <= sqrt(8) / 4 < 1: prepare's unit-ball projection leaves them). */
static hc_model *make_ml(const hc_dataset *ds, uint64_t seed)
{
    const hc_model_type *t = hc_model_type_find("ml");
    assert_non_null(t);
    hc_hparams hp;
    hc_hparams_default(t, &hp);
    hp.dim = 8;
    hc_model *m;
    TU_OK(hc_model_create(t, ds, &hp, &m));
    hc_tensor ts[HC_MAX_TENSORS];
    int nt = t->tensors(m, ts);
    hc_rng r;
    hc_rng_init(&r, seed, 0);
    for (int i = 0; i < nt; i++)
        for (int64_t j = 0; j < (int64_t)ts[i].rows * ts[i].cols; j++)
            ts[i].data[j] = 0.25f * (float)((int)hc_rng_below(&r, 3) - 1);
    TU_OK(t->prepare(m, ds));
    return m;
}

/* Another family through the same path: ML (score -||p_u - q_i||^2) with factors in quarters, so
 * that scores are exact whatever sgemm kernel a block shape picks (with arbitrary floats, BLAS may
 * round a 1-row and a 37-row product differently in the last bit): blocks 1 and 256 agree byte for
 * byte and train items never appear. */
static void test_other_family(void **state)
{
    (void)state;
    hc_dataset ds;
    tu_make_dataset(&ds, NU, NI, 3, 10, 3);
    hc_model *m = make_ml(&ds, 5);
    enum { K = 10 };
    int32_t a[NU * K], b[NU * K], ca[NU], cb[NU];
    float sa[NU * K], sb[NU * K];
    run_all(m, &ds, 1, K, 0, a, sa, ca);
    run_all(m, &ds, 256, K, 0, b, sb, cb);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(sa, sb, sizeof sa);
    for (int32_t u = 0; u < NU; u++)
        for (int32_t j = 0; j < ca[u]; j++)
            assert_false(hc_csr_has(&ds.train, u, a[u * K + j]));
    hc_model_free(m);
    hc_dataset_free(&ds);
}

/* ------------------------------------------------------------------ live ensemble */

enum { EK = 6 }; /* each model's list length in the ensemble tests */

/* A one-checkpoint trajectory of m's top-ek lists, recorded by hc_evaluate as hc_fit does. */
static void record_traj(hc_model *m, const hc_dataset *ds, int32_t ek, hc_traj *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "%s", m->type->name);
    t->n_users = ds->n_users;
    t->n_items = ds->n_items;
    t->n_ckpt = 1;
    t->k = ek;
    t->ds_checksum = ds->checksum;
    t->train_nnz = ds->train.nnz;
    TU_OK(hc_traj_alloc(t, 0));
    t->epochs[0] = 1;
    t->valid_r50[0] = 0.0f;
    hc_eval_opts eo;
    hc_eval_opts_default(&eo);
    eo.record_k = ek;
    eo.record_top = t->top;
    hc_scorer sc = hc_model_scorer(m);
    hc_eval_result res;
    TU_OK(hc_evaluate(ds, &sc, &eo, &res));
}

/* Model m's full ranking of user u (seen items dropped unless seen), by its own score row:
 * (score desc, item asc). Returns the length. */
static int32_t model_ranking(hc_model *m, const hc_dataset *ds, int32_t u, int seen, scored *out)
{
    float row[NI];
    TU_OK(m->type->score(m, &u, 1, row));
    int32_t n = 0;
    for (int32_t i = 0; i < ds->n_items; i++)
        if (seen || !hc_csr_has(&ds->train, u, i))
            out[n++] = (scored){row[i], i};
    qsort(out, (size_t)n, sizeof *out, cmp_scored);
    return n;
}

/* Checks user u's live list (n entries of items/scores) against the aggregation computed by
 * hand in double from each model's first EK items: importance sum_x w_x exp(-r / T), order
 * (importance desc, item asc). Near-ties (1e-5) may come in either order. */
static void check_by_hand(hc_model *const *models, const float *w, float T, const hc_dataset *ds,
                          int32_t u, int seen, int32_t k, const int32_t *items, const float *scores,
                          int32_t n)
{
    double imp[NI] = {0};
    int listed[NI] = {0};
    for (int x = 0; x < 2; x++) {
        scored rank[NI];
        int32_t len = model_ranking(models[x], ds, u, seen, rank);
        for (int32_t r = 0; r < len && r < EK; r++) {
            imp[rank[r].i] += (w ? (double)w[x] : 1.0) * exp(-(double)r / (double)T);
            listed[rank[r].i] = 1;
        }
    }
    scored ref[NI];
    int32_t nc = 0;
    for (int32_t i = 0; i < NI; i++)
        if (listed[i])
            ref[nc++] = (scored){(float)imp[i], i};
    qsort(ref, (size_t)nc, sizeof *ref, cmp_scored);
    assert_int_equal(n, nc < k ? nc : k);
    for (int32_t j = 0; j < n; j++) {
        assert_true(fabs((double)scores[j] - imp[items[j]]) <= 1e-5);
        assert_true(fabs((double)scores[j] - (double)ref[j].s) <= 1e-5);
        if (items[j] != ref[j].i) /* only a near-tie may swap */
            assert_true(fabs(imp[items[j]] - imp[ref[j].i]) <= 1e-5);
    }
}

static void test_live_ensemble(void **state)
{
    (void)state;
    hc_dataset ds;
    hc_model *mf;
    make_mf(&ds, &mf);
    hc_model *ml = make_ml(&ds, 11);
    hc_model *models[2] = {mf, ml};
    hc_traj tr[2];
    record_traj(mf, &ds, EK, &tr[0]);
    record_traj(ml, &ds, EK, &tr[1]);
    const hc_traj *tv[2] = {&tr[0], &tr[1]};
    const float w13[2] = {1.0f, 3.0f};
    struct {
        const float *w;
        float T;
        int32_t k;
    } cfg[] = {{NULL, 10.0f, 10}, {w13, 2.0f, 4}, {NULL, 10.0f, 2 * EK + 5}, {w13, 10.0f, 1}};
    enum { KMAX = 2 * EK + 5 };
    int32_t it1[NU * KMAX], it2[NU * KMAX], cnt1[NU], cnt2[NU], want[KMAX];
    float sc1[NU * KMAX], sc2[NU * KMAX], wimp[KMAX];
    int shorter = 0;
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        const int32_t k = cfg[c].k;
        hc_rec_spec spec;
        hc_rec_spec_default(&spec);
        spec.models = models;
        spec.n_models = 2;
        spec.weight = cfg[c].w;
        spec.temperature = cfg[c].T;
        spec.ens_k = EK;
        spec_all(&spec, &ds, 1, k, 0, it1, sc1, cnt1);
        spec_all(&spec, &ds, 256, k, 0, it2, sc2, cnt2);
        /* block sizes agree byte for byte (the 256 block aggregates in parallel) */
        assert_memory_equal(it1, it2, sizeof(int32_t) * NU * (size_t)k);
        assert_memory_equal(sc1, sc2, sizeof(float) * NU * (size_t)k);
        assert_memory_equal(cnt1, cnt2, sizeof cnt1);
        /* hc_ensemble on the recorded trajectories gives the same lists, bit for bit */
        hc_ensemble e;
        TU_OK(hc_ensemble_init(&e, tv, 2, cfg[c].w, cfg[c].T, k));
        hc_ensemble_scratch s;
        TU_OK(hc_ensemble_scratch_init(&e, &s));
        for (int32_t u = 0; u < NU; u++) {
            const int32_t *li = it1 + (size_t)u * k;
            const float *ls = sc1 + (size_t)u * k;
            int32_t m = hc_ensemble_user(&e, u, NULL, &s, want, wimp);
            assert_int_equal(cnt1[u], m);
            assert_memory_equal(li, want, (size_t)m * sizeof *want);
            assert_memory_equal(ls, wimp, (size_t)m * sizeof *wimp);
            for (int32_t j = m; j < k; j++) {
                assert_int_equal(li[j], -1);
                assert_true(isinf(ls[j]) && ls[j] < 0.0f);
            }
            shorter += m < k;
            for (int32_t j = 0; j < m; j++)
                assert_false(hc_csr_has(&ds.train, u, li[j]));
            check_by_hand(models, cfg[c].w, cfg[c].T, &ds, u, 0, k, li, ls, m);
        }
        hc_ensemble_scratch_free(&s);
        hc_ensemble_free(&e);
        /* with seen items: the models' lists keep train items */
        spec_all(&spec, &ds, 7, k, 1, it1, sc1, cnt1);
        for (int32_t u = 0; u < NU; u++)
            check_by_hand(models, cfg[c].w, cfg[c].T, &ds, u, 1, k, it1 + (size_t)u * k,
                          sc1 + (size_t)u * k, cnt1[u]);
    }
    assert_true(shorter > 0); /* k beyond the candidates was exercised */
    hc_traj_free(&tr[0]);
    hc_traj_free(&tr[1]);
    /* a pool of ensemble contexts used by several threads gives the one-thread answers */
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    spec.models = models;
    spec.n_models = 2;
    int32_t pw[NU * POOL_K];
    float ps[NU * POOL_K];
    spec_all(&spec, &ds, 256, POOL_K, 0, pw, ps, cnt1);
    hc_rec_pool pool;
    TU_OK(hc_rec_pool_init_spec(&pool, &spec, &ds, THREADS - 1, 1));
    assert_int_equal(pool.n_locks, 2);
    run_pool_threads(&pool, pw);
    hc_rec_pool_free(&pool);
    hc_model_free(mf);
    hc_model_free(ml);
    hc_dataset_free(&ds);
}

static void test_ensemble_errors(void **state)
{
    (void)state;
    hc_dataset ds, other, bigger;
    hc_model *mf;
    make_mf(&ds, &mf);
    tu_make_dataset(&other, NU, NI, 3, 10, 8); /* same sizes, other interactions */
    tu_make_dataset(&bigger, NU, NI + 1, 3, 10, 7);
    assert_true(other.checksum != ds.checksum);
    hc_model *ml = make_ml(&ds, 2), *foreign = make_ml(&other, 2), *wide = make_ml(&bigger, 2);
    hc_model *models[3] = {mf, ml, foreign};
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    spec.models = models;
    spec.n_models = 2;
    hc_recommender r;
    TU_OK(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL));
    assert_int_equal(r.ens_k, NI); /* the default 100 capped at the item count */
    hc_recommend_free(&r);
    /* a model of another dataset: named in the error */
    spec.n_models = 3;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EMISMATCH);
    assert_non_null(strstr(hc_errmsg(), "different datasets"));
    models[0] = foreign;
    models[2] = foreign;
    spec.n_models = 1;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EMISMATCH);
    models[0] = mf;
    models[2] = wide;
    spec.models = models + 1; /* ml, wide */
    spec.n_models = 2;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EINVAL);
    spec.models = models;
    spec.n_models = 0;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EINVAL);
    spec.n_models = 2;
    spec.temperature = 0.0f;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EINVAL);
    spec.temperature = 10.0f;
    spec.ens_k = 0;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EINVAL);
    spec.ens_k = 5;
    const float wbad[2] = {1.0f, 0.0f};
    spec.weight = wbad;
    assert_int_equal(hc_recommend_init_spec(&r, &spec, &ds, 4, NULL), HC_EINVAL);
    hc_rec_pool p;
    assert_int_equal(hc_rec_pool_init_spec(&p, &spec, &ds, 2, 1), HC_EINVAL);
    hc_rec_pool_free(&p);
    /* weights */
    float w[3];
    TU_OK(hc_rec_parse_weights("1,2.5,0.25", 3, w));
    assert_true(w[0] == 1.0f && w[1] == 2.5f && w[2] == 0.25f);
    TU_OK(hc_rec_parse_weights("3", 1, w));
    const char *bad[] = {"1,2",   "1,2,3,4", "1,,2",   "1,2,",    "1,x,2", "1,-1,2",
                         "1,0,2", "",        "1,2,3x", "1,inf,2", NULL};
    for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++)
        assert_int_equal(hc_rec_parse_weights(bad[i], 3, w), HC_EINVAL);
    hc_model_free(mf);
    hc_model_free(ml);
    hc_model_free(foreign);
    hc_model_free(wide);
    hc_dataset_free(&ds);
    hc_dataset_free(&other);
    hc_dataset_free(&bigger);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vs_bruteforce), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_pool_threads),  cmocka_unit_test(test_other_family),
        cmocka_unit_test(test_live_ensemble), cmocka_unit_test(test_ensemble_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
