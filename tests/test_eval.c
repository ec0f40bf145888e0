/* test_eval.c - per-user metrics on hand-computed cases, full-ranking evaluation on a tiny
 * hand-made dataset (masking of train and of the other held-out set, who is evaluated,
 * record_top, train_order), agreement with a naive full-sort evaluator on random data,
 * independence from block size and thread count, the popularity baseline and sgemm_abt. */
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"

#define TOL 1e-12

/* cmocka's assert_float_equal works in float; metrics are doubles. */
#define ASSERT_NEAR(a, b, tol)                                                                     \
    do {                                                                                           \
        double na_ = (a), nb_ = (b);                                                               \
        if (!(fabs(na_ - nb_) <= (tol)))                                                           \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, na_, nb_, (double)(tol));          \
    } while (0)

/* 1 / log2(p + 2): the discount of 0-based position p. */
static double disc(int p)
{
    return 1.0 / log2((double)p + 2.0);
}

/* Sum of disc(p) for p in [0, n). */
static double dsum(int n)
{
    double s = 0.0;
    for (int p = 0; p < n; p++)
        s += disc(p);
    return s;
}

/* ------------------------------------------------------------------ hc_metrics_user */

static void test_metrics_hand(void **state)
{
    (void)state;
    double r[HC_EVAL_NK], n[HC_EVAL_NK];
    assert_int_equal(hc_eval_ks[0], 10);
    assert_int_equal(hc_eval_ks[1], 20);
    assert_int_equal(hc_eval_ks[2], 50);

    /* Hits at positions 0 and 2, |GT| = 2:
     *   DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5; IDCG = 1 + 1/log2(3) = 1.63093;
     *   NDCG = 0.91972 at every K; Recall = 2/2 = 1. */
    int32_t top1[5] = {7, 3, 9, 1, 2};
    int32_t gt1[2] = {7, 9};
    hc_metrics_user(top1, 5, gt1, 2, r, n);
    for (int j = 0; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(r[j], 1.0, TOL);
        ASSERT_NEAR(n[j], 1.5 / (1.0 + 1.0 / log2(3.0)), TOL);
    }
    ASSERT_NEAR(n[0], 0.919720, 1e-6);

    /* |GT| = 12 > K = 10, hits at positions 0..9 of a 60-item list and one more at 30:
     *   R@10 = 10/12 (not 10/min(10,12) = 1), NDCG@10 = 1 (DCG = IDCG = sum over p < 10);
     *   R@20 = 10/12, DCG@20 = dsum(10), IDCG@20 = dsum(12);
     *   R@50 = 11/12, DCG@50 = dsum(10) + 1/log2(32) = dsum(10) + 0.2, IDCG@50 = dsum(12). */
    int32_t top2[60], gt2[12];
    for (int p = 0; p < 60; p++)
        top2[p] = 100 + p;
    for (int g = 0; g < 10; g++)
        gt2[g] = 100 + g;
    gt2[10] = 130; /* position 30 */
    gt2[11] = 500; /* never ranked */
    hc_metrics_user(top2, 60, gt2, 12, r, n);
    ASSERT_NEAR(r[0], 10.0 / 12.0, TOL);
    ASSERT_NEAR(n[0], 1.0, TOL);
    ASSERT_NEAR(r[1], 10.0 / 12.0, TOL);
    ASSERT_NEAR(n[1], dsum(10) / dsum(12), TOL);
    ASSERT_NEAR(r[2], 11.0 / 12.0, TOL);
    ASSERT_NEAR(n[2], (dsum(10) + 0.2) / dsum(12), TOL);

    /* No hit at all: zeros. */
    int32_t gt3[1] = {999};
    hc_metrics_user(top2, 60, gt3, 1, r, n);
    for (int j = 0; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(r[j], 0.0, TOL);
        ASSERT_NEAR(n[j], 0.0, TOL);
    }

    /* A short list (n_top = 3 < K): missing positions are misses. One hit at position 2 of
     * |GT| = 3: Recall = 1/3, DCG = 1/log2(4) = 0.5, IDCG = dsum(3) at every K. */
    int32_t top4[3] = {5, 6, 8};
    int32_t gt4[3] = {1, 2, 8};
    hc_metrics_user(top4, 3, gt4, 3, r, n);
    for (int j = 0; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(r[j], 1.0 / 3.0, TOL);
        ASSERT_NEAR(n[j], 0.5 / dsum(3), TOL);
    }

    /* A hit at position 15 only counts from K = 20; |GT| = 1:
     *   @10: 0, 0; @20 and @50: recall 1, NDCG = 1/log2(17) / 1. */
    int32_t gt5[1] = {115};
    hc_metrics_user(top2, 60, gt5, 1, r, n);
    ASSERT_NEAR(r[0], 0.0, TOL);
    ASSERT_NEAR(n[0], 0.0, TOL);
    ASSERT_NEAR(r[1], 1.0, TOL);
    ASSERT_NEAR(n[1], 1.0 / log2(17.0), TOL);
    ASSERT_NEAR(r[2], 1.0, TOL);
    ASSERT_NEAR(n[2], 1.0 / log2(17.0), TOL);

    /* Positions past 50 are ignored even when the list is longer. */
    int32_t gt6[1] = {155};
    hc_metrics_user(top2, 60, gt6, 1, r, n);
    ASSERT_NEAR(r[2], 0.0, TOL);
    ASSERT_NEAR(n[2], 0.0, TOL);
}

/* ------------------------------------------------------------------ datasets by hand */

/* Pairs list builder for one matrix. */
typedef struct {
    int32_t n;
    int32_t u[16384], i[16384];
} pairs;

static void add(pairs *p, int32_t u, int32_t i)
{
    assert_true(p->n < 16384);
    p->u[p->n] = u;
    p->i[p->n] = i;
    p->n++;
}

static void make_ds(hc_dataset *ds, int32_t nu, int32_t ni, const pairs *tr, const pairs *va,
                    const pairs *te)
{
    memset(ds, 0, sizeof *ds);
    ds->n_users = nu;
    ds->n_items = ni;
    TU_OK(hc_csr_from_pairs(&ds->train, nu, ni, tr->u, tr->i, tr->n));
    TU_OK(hc_csr_from_pairs(&ds->valid, nu, ni, va->u, va->i, va->n));
    TU_OK(hc_csr_from_pairs(&ds->test, nu, ni, te->u, te->i, te->n));
    ds->users = hc_idmap_new();
    ds->items = hc_idmap_new();
    assert_non_null(ds->users);
    assert_non_null(ds->items);
    char buf[32];
    int32_t idx;
    for (int32_t u = 0; u < nu; u++) {
        int len = snprintf(buf, sizeof buf, "u%d", u);
        TU_OK(hc_idmap_put(ds->users, buf, (size_t)len, &idx));
        assert_int_equal(idx, u);
    }
    for (int32_t i = 0; i < ni; i++) {
        int len = snprintf(buf, sizeof buf, "i%d", i);
        TU_OK(hc_idmap_put(ds->items, buf, (size_t)len, &idx));
        assert_int_equal(idx, i);
    }
    ds->kind = HC_SPLIT_IMPORTED;
}

static void free_ds(hc_dataset *ds)
{
    hc_csr_free(&ds->train);
    hc_csr_free(&ds->valid);
    hc_csr_free(&ds->test);
    hc_idmap_free(ds->users);
    hc_idmap_free(ds->items);
    memset(ds, 0, sizeof *ds);
}

/* A scorer over a fixed dense table (n_users x n_items), counting its calls. */
typedef struct {
    const float *table;
    int32_t n_items;
    int calls, max_n;
    int fail_at; /* > 0: the fail_at-th call fails */
} table_scorer;

static int table_score(void *ctx, const int32_t *users, int32_t n, float *out)
{
    table_scorer *t = ctx;
    t->calls++;
    if (n > t->max_n)
        t->max_n = n;
    if (t->fail_at > 0 && t->calls == t->fail_at)
        return hc_error(HC_EIO, "table scorer: failing on purpose");
    for (int32_t r = 0; r < n; r++)
        memcpy(out + (size_t)r * t->n_items, t->table + (size_t)users[r] * t->n_items,
               (size_t)t->n_items * sizeof *out);
    return HC_OK;
}

/*
 * The tiny dataset: 4 users, 16 items.
 *   scores: user 0, 1, 3: s(u, i) = 16 - i (rank by ascending id), except s(0, 3) = 20
 *           (a train item above everything: must be masked) and s(1, 0) = NaN (masked);
 *           user 2: s(2, i) = i (rank by descending id), except s(2, 3) = 14 (ties item 14).
 *   user 0: train {0, 3}, valid {1, 12}, test {2, 5}
 *   user 1: train {4}, valid {}, test {7}             -> not evaluated (empty valid)
 *   user 2: train {3, 14, 15}, valid {13}, test {0, 1, 2, 4..10, 12} (11 items; 11 unassigned)
 *   user 3: train {}, valid {6}, test {}              -> not evaluated (empty test)
 *
 * User 0, valid ranking (train {0,3} and test {2,5} masked):
 *   1, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 -> hits at positions 0 (item 1) and 8 (item 12)
 *   R = 1 at every K; NDCG = (1 + 1/log2(10)) / (1 + 1/log2(3)) at every K.
 *   (Without train masking, item 3 would come first; without test masking 2 would be 2nd.)
 * User 0, test ranking (train and valid {1,12} masked):
 *   2, 4, 5, 6, ... -> hits at 0 and 2: DCG = 1 + 1/log2(4) = 1.5, IDCG = 1 + 1/log2(3);
 *   R = 1 at every K.
 * User 2, valid ranking (train {3,14,15} and the 11 test items masked): only items 13 and 11
 *   are left, 13 first -> hit at position 0: R = 1, NDCG = 1.
 * User 2, test ranking (train and valid {13} masked): 12, 11, 10, 9, 8, 7, 6, 5, 4, 2, 1, 0;
 *   11 is the only miss (position 1).
 *   @10: hits at 0, 2..9 -> R = 9/11; DCG = dsum(10) - 1/log2(3); IDCG = dsum(10).
 *   @20, @50: all 11 hits -> R = 1; DCG = dsum(12) - 1/log2(3); IDCG = dsum(11).
 * Means over the 2 evaluated users (0 and 2).
 */
#define TNU 4
#define TNI 16

static void tiny_dataset(hc_dataset *ds, float *table)
{
    static pairs tr, va, te;
    memset(&tr, 0, sizeof tr);
    memset(&va, 0, sizeof va);
    memset(&te, 0, sizeof te);
    for (int32_t u = 0; u < TNU; u++)
        for (int32_t i = 0; i < TNI; i++)
            table[u * TNI + i] = u == 2 ? (float)i : (float)(16 - i);
    table[0 * TNI + 3] = 20.0f;
    table[1 * TNI + 0] = NAN;
    table[2 * TNI + 3] = 14.0f;
    add(&tr, 0, 0);
    add(&tr, 0, 3);
    add(&va, 0, 1);
    add(&va, 0, 12);
    add(&te, 0, 2);
    add(&te, 0, 5);
    add(&tr, 1, 4);
    add(&te, 1, 7);
    add(&tr, 2, 15);
    add(&tr, 2, 14);
    add(&tr, 2, 3);
    add(&va, 2, 13);
    static const int32_t te2[] = {0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 12};
    for (size_t k = 0; k < sizeof te2 / sizeof *te2; k++)
        add(&te, 2, te2[k]);
    add(&va, 3, 6);
    make_ds(ds, TNU, TNI, &tr, &va, &te);
}

static void test_evaluate_tiny(void **state)
{
    (void)state;
    hc_dataset ds;
    float table[TNU * TNI];
    tiny_dataset(&ds, table);
    table_scorer ts = {table, TNI, 0, 0, 0};
    hc_scorer sc = {table_score, &ts};
    hc_eval_opts o;
    hc_eval_opts_default(&o);
    assert_int_equal(o.block, 256);
    assert_int_equal(o.record_k, 0);
    assert_null(o.record_top);
    assert_null(o.train_order);
    hc_eval_result res;
    TU_OK(hc_evaluate(&ds, &sc, &o, &res));
    assert_int_equal(res.valid.n_users, 2);
    assert_int_equal(res.test.n_users, 2);
    assert_int_equal(ts.calls, 1);
    assert_int_equal(ts.max_n, 2); /* only the evaluated users are scored */

    double l3 = 1.0 / log2(3.0);
    double v0 = (1.0 + 1.0 / log2(10.0)) / (1.0 + l3); /* user 0 valid NDCG */
    double t0 = 1.5 / (1.0 + l3);                      /* user 0 test NDCG */
    for (int j = 0; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(res.valid.recall[j], 1.0, TOL);
        ASSERT_NEAR(res.valid.ndcg[j], (v0 + 1.0) / 2.0, TOL);
    }
    ASSERT_NEAR(res.test.recall[0], (1.0 + 9.0 / 11.0) / 2.0, TOL);
    ASSERT_NEAR(res.test.ndcg[0], (t0 + (dsum(10) - l3) / dsum(10)) / 2.0, TOL);
    for (int j = 1; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(res.test.recall[j], 1.0, TOL);
        ASSERT_NEAR(res.test.ndcg[j], (t0 + (dsum(12) - l3) / dsum(11)) / 2.0, TOL);
    }

    /* NULL opts means the defaults */
    hc_eval_result res2;
    TU_OK(hc_evaluate(&ds, &sc, NULL, &res2));
    assert_memory_equal(&res, &res2, sizeof res);
    free_ds(&ds);
}

static void test_evaluate_record(void **state)
{
    (void)state;
    hc_dataset ds;
    float table[TNU * TNI];
    tiny_dataset(&ds, table);
    table_scorer ts = {table, TNI, 0, 0, 0};
    hc_scorer sc = {table_score, &ts};
    hc_eval_opts o;
    hc_eval_opts_default(&o);
    o.block = 3; /* users 0..2, then 3 */
    int32_t rec[TNU * 4];
    int32_t order[6];
    memset(rec, 0x55, sizeof rec);
    memset(order, 0x55, sizeof order);
    o.record_k = 4;
    o.record_top = rec;
    o.train_order = order;
    hc_eval_result res, plain;
    TU_OK(hc_evaluate(&ds, &sc, &o, &res));
    assert_int_equal(ts.calls, 2);
    assert_int_equal(ts.max_n, 3);
    /* recording does not change the metrics */
    TU_OK(hc_evaluate(&ds, &sc, NULL, &plain));
    assert_memory_equal(&res, &plain, sizeof res);

    /* Top 4 after masking train items only (held-out items stay in):
     *   user 0: train {0,3} masked -> 1, 2, 4, 5
     *   user 1: item 0 NaN, train {4} -> 1, 2, 3, 5
     *   user 2: s = i with 3 and 14, 15 masked -> 13, 12, 11, 10
     *   user 3: nothing masked -> 0, 1, 2, 3 */
    static const int32_t want_rec[TNU * 4] = {1, 2, 4, 5, 1, 2, 3, 5, 13, 12, 11, 10, 0, 1, 2, 3};
    assert_memory_equal(rec, want_rec, sizeof rec);
    /* Train items by descending score, at train.indptr offsets:
     *   user 0: s(0,0) = 16, s(0,3) = 20 -> 3, 0
     *   user 1: 4
     *   user 2: s(2,15) = 15, s(2,3) = s(2,14) = 14 (tie: smaller id first) -> 15, 3, 14 */
    static const int32_t want_order[6] = {3, 0, 4, 15, 3, 14};
    assert_memory_equal(order, want_order, sizeof order);

    /* record_k beyond what is left: user 2 has 13 unmasked items, so 14 -> one -1 */
    int32_t rec14[TNU * 14];
    o.record_k = 14;
    o.record_top = rec14;
    o.train_order = NULL;
    TU_OK(hc_evaluate(&ds, &sc, &o, &res));
    assert_int_equal(rec14[2 * 14 + 12], 0);
    assert_int_equal(rec14[2 * 14 + 13], -1);
    assert_int_not_equal(rec14[0 * 14 + 13], -1); /* user 0: 14 items left */
    assert_int_equal(rec14[1 * 14 + 13], 15);     /* user 1: 1,2,3,5..15 (NaN and 4 out) */
    free_ds(&ds);
}

static void test_evaluate_errors(void **state)
{
    (void)state;
    hc_dataset ds;
    float table[TNU * TNI];
    tiny_dataset(&ds, table);
    table_scorer ts = {table, TNI, 0, 0, 0};
    hc_scorer sc = {table_score, &ts};
    hc_eval_opts o;
    hc_eval_result res;
    hc_eval_opts_default(&o);
    o.block = 0;
    assert_int_equal(hc_evaluate(&ds, &sc, &o, &res), HC_EINVAL);
    hc_eval_opts_default(&o);
    o.record_k = 5; /* no buffer */
    assert_int_equal(hc_evaluate(&ds, &sc, &o, &res), HC_EINVAL);
    hc_scorer none = {NULL, NULL};
    assert_int_equal(hc_evaluate(&ds, &none, NULL, &res), HC_EINVAL);
    /* a scorer failure is passed on with its message */
    hc_eval_opts_default(&o);
    o.block = 1;
    ts.fail_at = 2;
    assert_int_equal(hc_evaluate(&ds, &sc, &o, &res), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "failing on purpose"));
    /* a held-out matrix of the wrong shape */
    ts.fail_at = 0;
    ds.test.ncols = TNI + 1;
    assert_int_equal(hc_evaluate(&ds, &sc, NULL, &res), HC_EINVAL);
    ds.test.ncols = TNI;
    free_ds(&ds);
}

/* ------------------------------------------------------------------ random data */

typedef struct {
    hc_dataset ds;
    float *table;
} random_case;

/* nu x ni dataset: each (u, i) is train with p 0.1, valid 0.03, test 0.03; scores are small
 * integers (many ties) with some -INFINITY and NaN entries. */
static void random_dataset(random_case *rc, int32_t nu, int32_t ni, uint64_t seed)
{
    static pairs tr, va, te;
    memset(&tr, 0, sizeof tr);
    memset(&va, 0, sizeof va);
    memset(&te, 0, sizeof te);
    hc_rng r;
    hc_rng_init(&r, seed, 0);
    rc->table = malloc((size_t)nu * (size_t)ni * sizeof *rc->table);
    assert_non_null(rc->table);
    for (int32_t u = 0; u < nu; u++)
        for (int32_t i = 0; i < ni; i++) {
            uint32_t x = hc_rng_below(&r, 100);
            if (x < 10)
                add(&tr, u, i);
            else if (x < 13)
                add(&va, u, i);
            else if (x < 16)
                add(&te, u, i);
            uint32_t y = hc_rng_below(&r, 100);
            rc->table[(size_t)u * ni + i] = y < 2   ? -INFINITY
                                            : y < 3 ? NAN
                                                    : (float)hc_rng_below(&r, 30);
        }
    make_ds(&rc->ds, nu, ni, &tr, &va, &te);
}

typedef struct {
    float s;
    int32_t i;
} sp;

static int cmp_sp(const void *a, const void *b)
{
    const sp *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Naive evaluator: per user and held-out set, copy the row, drop masked items, sort fully,
 * and compute the metrics with the textbook formulas; only users with only[u] set when only
 * is given. */
static void naive_evaluate(const random_case *rc, const uint8_t *only, hc_eval_result *out)
{
    const hc_dataset *ds = &rc->ds;
    memset(out, 0, sizeof *out);
    sp *list = malloc((size_t)ds->n_items * sizeof *list);
    assert_non_null(list);
    int32_t n_eval = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        if (hc_csr_row_len(&ds->valid, u) == 0 || hc_csr_row_len(&ds->test, u) == 0 ||
            (only && !only[u]))
            continue;
        n_eval++;
        for (int mode = 0; mode < 2; mode++) {
            const hc_csr *gt = mode == 0 ? &ds->valid : &ds->test;
            const hc_csr *other = mode == 0 ? &ds->test : &ds->valid;
            int32_t m = 0;
            for (int32_t i = 0; i < ds->n_items; i++) {
                float s = rc->table[(size_t)u * ds->n_items + i];
                if (isnan(s) || s == -INFINITY || hc_csr_has(&ds->train, u, i) ||
                    hc_csr_has(other, u, i))
                    continue;
                list[m++] = (sp){s, i};
            }
            qsort(list, (size_t)m, sizeof *list, cmp_sp);
            int32_t ngt = hc_csr_row_len(gt, u);
            hc_metrics *mm = mode == 0 ? &out->valid : &out->test;
            for (int j = 0; j < HC_EVAL_NK; j++) {
                int K = hc_eval_ks[j];
                double hits = 0, dcg = 0, idcg = 0;
                for (int p = 0; p < K && p < m; p++)
                    if (hc_csr_has(gt, u, list[p].i)) {
                        hits += 1;
                        dcg += disc(p);
                    }
                for (int p = 0; p < K && p < ngt; p++)
                    idcg += disc(p);
                mm->recall[j] += hits / ngt;
                mm->ndcg[j] += dcg / idcg;
            }
        }
    }
    for (int j = 0; j < HC_EVAL_NK; j++) {
        out->valid.recall[j] /= n_eval;
        out->valid.ndcg[j] /= n_eval;
        out->test.recall[j] /= n_eval;
        out->test.ndcg[j] /= n_eval;
    }
    out->valid.n_users = out->test.n_users = n_eval;
    free(list);
}

static void test_evaluate_vs_naive(void **state)
{
    (void)state;
    random_case rc;
    random_dataset(&rc, 120, 180, 5);
    table_scorer ts = {rc.table, 180, 0, 0, 0};
    hc_scorer sc = {table_score, &ts};
    hc_eval_result got, want;
    TU_OK(hc_evaluate(&rc.ds, &sc, NULL, &got));
    naive_evaluate(&rc, NULL, &want);
    assert_true(got.test.n_users > 50);
    assert_int_equal(got.test.n_users, want.test.n_users);
    assert_int_equal(got.valid.n_users, want.valid.n_users);
    for (int j = 0; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(got.valid.recall[j], want.valid.recall[j], 1e-12);
        ASSERT_NEAR(got.valid.ndcg[j], want.valid.ndcg[j], 1e-12);
        ASSERT_NEAR(got.test.recall[j], want.test.recall[j], 1e-12);
        ASSERT_NEAR(got.test.ndcg[j], want.test.ndcg[j], 1e-12);
    }
    free(rc.table);
    free_ds(&rc.ds);
}

/* A scorer that marks the users it was asked for. */
typedef struct {
    table_scorer t;
    uint8_t *seen;
} marking_scorer;

static int marking_score(void *ctx, const int32_t *users, int32_t n, float *out)
{
    marking_scorer *m = ctx;
    for (int32_t r = 0; r < n; r++)
        m->seen[users[r]] = 1;
    return table_score(&m->t, users, n, out);
}

/* max_users: the metrics are the naive metrics of a sample of that many evaluable users,
 * the same sample for the same seed (another for another seed), all users at or below it. */
static void test_evaluate_sampled_users(void **state)
{
    (void)state;
    enum { NU = 200, NI = 150, M = 40 };
    random_case rc;
    random_dataset(&rc, NU, NI, 13);
    uint8_t seen[NU], seen2[NU];
    memset(seen, 0, sizeof seen);
    marking_scorer ms = {{rc.table, NI, 0, 0, 0}, seen};
    hc_scorer sc = {marking_score, &ms};
    hc_eval_opts o;
    hc_eval_opts_default(&o);
    o.max_users = M;
    o.user_seed = 77;
    hc_eval_result got, again, want, all;
    TU_OK(hc_evaluate(&rc.ds, &sc, &o, &got));
    assert_int_equal(got.valid.n_users, M);
    assert_int_equal(got.test.n_users, M);
    int n_seen = 0;
    for (int u = 0; u < NU; u++)
        n_seen += seen[u];
    assert_int_equal(n_seen, M); /* only the sample is scored */
    naive_evaluate(&rc, seen, &want);
    assert_int_equal(want.valid.n_users, M);
    for (int j = 0; j < HC_EVAL_NK; j++) {
        ASSERT_NEAR(got.valid.recall[j], want.valid.recall[j], 1e-12);
        ASSERT_NEAR(got.test.ndcg[j], want.test.ndcg[j], 1e-12);
    }
    /* the same seed, the same users; another seed, others */
    memcpy(seen2, seen, sizeof seen);
    memset(seen, 0, sizeof seen);
    TU_OK(hc_evaluate(&rc.ds, &sc, &o, &again));
    assert_memory_equal(seen, seen2, sizeof seen);
    assert_memory_equal(&got, &again, sizeof got);
    memset(seen, 0, sizeof seen);
    o.user_seed = 78;
    TU_OK(hc_evaluate(&rc.ds, &sc, &o, &again));
    assert_true(memcmp(seen, seen2, sizeof seen) != 0);
    /* at or above the number of evaluable users: everyone, as without the option */
    TU_OK(hc_evaluate(&rc.ds, &sc, NULL, &all));
    assert_true(all.valid.n_users > M);
    assert_int_equal(all.valid.n_evaluable, all.valid.n_users);
    assert_int_equal(got.valid.n_evaluable, all.valid.n_users);
    o.max_users = all.valid.n_users;
    TU_OK(hc_evaluate(&rc.ds, &sc, &o, &again));
    assert_memory_equal(&all, &again, sizeof all);
    free(rc.table);
    free_ds(&rc.ds);
}

/* Block size and thread count do not change anything, bit for bit. */
static void test_evaluate_deterministic(void **state)
{
    (void)state;
    random_case rc;
    enum { NU = 150, NI = 300, RK = 20 };
    random_dataset(&rc, NU, NI, 9);
    table_scorer ts = {rc.table, NI, 0, 0, 0};
    hc_scorer sc = {table_score, &ts};
    int64_t nnz = rc.ds.train.nnz;
    int32_t *rec[4], *ord[4];
    hc_eval_result res[4];
    static const int32_t blocks[4] = {1, 256, 7, 1};
    static const int threads[4] = {1, 2, 2, 2};
    int saved_threads = omp_get_max_threads();
    for (int c = 0; c < 4; c++) {
        rec[c] = malloc((size_t)NU * RK * sizeof *rec[c]);
        ord[c] = malloc((size_t)nnz * sizeof *ord[c]);
        assert_non_null(rec[c]);
        assert_non_null(ord[c]);
        omp_set_num_threads(threads[c]);
        hc_eval_opts o;
        hc_eval_opts_default(&o);
        o.block = blocks[c];
        o.record_k = RK;
        o.record_top = rec[c];
        o.train_order = ord[c];
        TU_OK(hc_evaluate(&rc.ds, &sc, &o, &res[c]));
    }
    omp_set_num_threads(saved_threads);
    for (int c = 1; c < 4; c++) {
        assert_memory_equal(&res[0], &res[c], sizeof res[0]);
        assert_memory_equal(rec[0], rec[c], (size_t)NU * RK * sizeof *rec[0]);
        assert_memory_equal(ord[0], ord[c], (size_t)nnz * sizeof *ord[0]);
    }
    /* train_order holds, per user, a permutation of the train row in non-increasing score
     * (NaN counted as -INFINITY), ties by smaller id */
    for (int32_t u = 0; u < NU; u++) {
        int64_t b = rc.ds.train.indptr[u], e = rc.ds.train.indptr[u + 1];
        for (int64_t p = b; p < e; p++) {
            assert_true(hc_csr_has(&rc.ds.train, u, ord[0][p]));
            if (p > b) {
                float s0 = rc.table[(size_t)u * NI + ord[0][p - 1]];
                float s1 = rc.table[(size_t)u * NI + ord[0][p]];
                s0 = isnan(s0) ? -INFINITY : s0;
                s1 = isnan(s1) ? -INFINITY : s1;
                assert_true(s0 > s1 || (s0 == s1 && ord[0][p - 1] < ord[0][p]));
            }
        }
        /* record_top never holds a train item, a masked score, or a duplicate */
        for (int j = 0; j < RK; j++) {
            int32_t it = rec[0][u * RK + j];
            if (it < 0)
                continue;
            float s = rc.table[(size_t)u * NI + it];
            assert_false(hc_csr_has(&rc.ds.train, u, it));
            assert_false(isnan(s) || s == -INFINITY);
            for (int j2 = 0; j2 < j; j2++)
                assert_int_not_equal(rec[0][u * RK + j2], it);
        }
    }
    for (int c = 0; c < 4; c++) {
        free(rec[c]);
        free(ord[c]);
    }
    free(rc.table);
    free_ds(&rc.ds);
}

/* ------------------------------------------------------------------ popularity, BLAS */

static void test_popularity(void **state)
{
    (void)state;
    hc_dataset ds;
    float table[TNU * TNI];
    tiny_dataset(&ds, table);
    hc_popularity p;
    TU_OK(hc_popularity_fit(&ds, &p));
    assert_int_equal(p.n_items, TNI);
    /* train: user 0 {0,3}, user 1 {4}, user 2 {3,14,15} */
    static const float want[TNI] = {1, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    for (int i = 0; i < TNI; i++)
        assert_true(p.count[i] == want[i]);
    hc_scorer sc = hc_popularity_scorer(&p);
    float out[2 * TNI];
    int32_t users[2] = {3, 1};
    TU_OK(sc.score(sc.ctx, users, 2, out));
    assert_memory_equal(out, want, sizeof want);
    assert_memory_equal(out + TNI, want, sizeof want);
    hc_eval_result res;
    TU_OK(hc_evaluate(&ds, &sc, NULL, &res));
    assert_int_equal(res.test.n_users, 2);
    hc_popularity_free(&p);
    hc_popularity_free(&p); /* freeing twice (zeroed) is fine */
    assert_null(p.count);
    free_ds(&ds);
}

static void test_sgemm_abt(void **state)
{
    (void)state;
    enum { M = 5, N = 7, K = 3, LDA = 4, LDB = 5, LDC = 9 };
    float A[M * LDA], B[N * LDB], C[M * LDC];
    hc_rng r;
    hc_rng_init(&r, 3, 0);
    for (int i = 0; i < M * LDA; i++)
        A[i] = hc_rng_float(&r) - 0.5f;
    for (int i = 0; i < N * LDB; i++)
        B[i] = hc_rng_float(&r) - 0.5f;
    for (int i = 0; i < M * LDC; i++)
        C[i] = 99.0f;
    hc_sgemm_abt(M, N, K, A, LDA, B, LDB, C, LDC);
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s += A[m * LDA + k] * B[n * LDB + k];
            assert_float_equal(C[m * LDC + n], s, HC_TEST_FTOL);
        }
        for (int n = N; n < LDC; n++)
            assert_true(C[m * LDC + n] == 99.0f); /* padding untouched */
    }
    assert_float_equal(hc_sdot(K, A, A), A[0] * A[0] + A[1] * A[1] + A[2] * A[2], HC_TEST_FTOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_hand),
        cmocka_unit_test(test_evaluate_tiny),
        cmocka_unit_test(test_evaluate_record),
        cmocka_unit_test(test_evaluate_errors),
        cmocka_unit_test(test_evaluate_vs_naive),
        cmocka_unit_test(test_evaluate_deterministic),
        cmocka_unit_test(test_popularity),
        cmocka_unit_test(test_sgemm_abt),
        cmocka_unit_test(test_evaluate_sampled_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
