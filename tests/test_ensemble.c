/*
 * test_ensemble.c - the rank-importance ensemble (src/ensemble/ensemble.c, docs/method.md §3):
 * hand-made top lists of two and three teachers whose importances sum_x w_x exp(-r_x / T)
 * are written out in the comments and checked, the order of the top list (a tie broken by
 * the smaller item id, items in one list only, k shorter than the candidates, -1 padding,
 * teachers with lists of different lengths), the per-teacher checkpoint vector, weights, the
 * temperature; the observed lists (train items ordered from the teachers' observed orders at
 * their last checkpoints, id order without any); the scorer giving the same lists through
 * hc_evaluate's record_top (at the last and at a chosen checkpoint); refused inputs; and an
 * ensemble with a trajectory imported from text.
 *
 * The dataset is tu_make_dataset's (ids "u<k>" / "i<k>", 6 train items per user here). Lists
 * are written in terms of N(u, j), the j-th unobserved item of user u in id order, so "a
 * smaller j" means "a smaller item id".
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble/ensemble.h"

#define NU 4
#define NI 40
#define K  5 /* the teachers' list length */

typedef struct {
    hc_dataset ds;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tu_make_dataset(&f->ds, NU, NI, 2, 10, 17);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    hc_dataset_free(&f->ds);
    free(f);
    return 0;
}

/* N(u, j): the j-th (0-based) unobserved item of user u in id order. */
static int32_t N(const hc_dataset *ds, int32_t u, int32_t j)
{
    for (int32_t it = 0; it < ds->n_items; it++)
        if (!hc_csr_has(&ds->train, u, it) && j-- == 0)
            return it;
    fail_msg("user %d has too few unobserved items", u);
    return -1;
}

/* R(u, j): the j-th train item of user u (the train row is in id order). */
static int32_t R(const hc_dataset *ds, int32_t u, int32_t j)
{
    assert_true(j < hc_csr_row_len(&ds->train, u));
    return hc_csr_row(&ds->train, u)[j];
}

/* d(r) = exp(-r / 10). */
static double d10(int r)
{
    return exp(-(double)r / 10.0);
}

/* An empty trajectory for ds: C checkpoints of k-item lists, all -1; observed lists (when
 * asked for) in id order. */
static void blank_traj(const hc_dataset *ds, hc_traj *t, const char *name, int32_t C, int32_t k,
                       int with_observed)
{
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "%s", name);
    t->n_users = ds->n_users;
    t->n_items = ds->n_items;
    t->n_ckpt = C;
    t->k = k;
    t->ds_checksum = ds->checksum;
    t->train_nnz = ds->train.nnz;
    TU_OK(hc_traj_alloc(t, with_observed));
    for (int32_t c = 0; c < C; c++) {
        t->epochs[c] = c;
        t->valid_r50[c] = 0.0f;
    }
    for (int64_t q = 0; q < (int64_t)C * t->n_users * k; q++)
        t->top[q] = -1;
    if (with_observed)
        for (int32_t c = 0; c < C; c++)
            memcpy(t->observed + (int64_t)c * t->train_nnz, ds->train.indices,
                   (size_t)t->train_nnz * sizeof(int32_t));
}

/* Sets user u's list at checkpoint c from N-indices (-1 ends it). */
static void set_top(const hc_dataset *ds, hc_traj *t, int32_t c, int32_t u, const int *js, int n)
{
    int32_t *l = t->top + ((int64_t)c * t->n_users + u) * t->k;
    for (int r = 0; r < n && r < t->k; r++)
        l[r] = js[r] < 0 ? -1 : N(ds, u, js[r]);
}

/* Sets user u's observed order at checkpoint c from R-indices (all of them). */
static void set_observed(const hc_dataset *ds, hc_traj *t, int32_t c, int32_t u, const int *js)
{
    int32_t *o = t->observed + (int64_t)c * t->train_nnz + ds->train.indptr[u];
    for (int32_t r = 0; r < hc_csr_row_len(&ds->train, u); r++)
        o[r] = R(ds, u, js[r]);
}

/* Runs hc_ensemble_user and checks the list (as N-indices) and the importances. */
static void expect_list(const hc_ensemble *e, const hc_dataset *ds, int32_t u, const int32_t *ck,
                        const int *want, const double *imp_want, int n_want)
{
    hc_ensemble_scratch s;
    TU_OK(hc_ensemble_scratch_init(e, &s));
    int32_t out[64];
    float imp[64];
    int32_t m = hc_ensemble_user(e, u, ck, &s, out, imp);
    if (m != n_want)
        fail_msg("user %d: %d items, expected %d", u, m, n_want);
    for (int r = 0; r < m; r++) {
        if (out[r] != N(ds, u, want[r]))
            fail_msg("user %d rank %d: item %d, expected N%d = %d", u, r, out[r], want[r],
                     N(ds, u, want[r]));
        if (imp_want)
            assert_near(imp[r], imp_want[r], 1e-6);
    }
    /* the scratch's importance array is left zero for the next user */
    for (int32_t i = 0; i < e->n_items; i++)
        assert_true(s.imp[i] == 0.0f);
    /* imp may be NULL */
    int32_t out2[64];
    assert_int_equal(hc_ensemble_user(e, u, ck, &s, out2, NULL), m);
    assert_memory_equal(out, out2, (size_t)m * sizeof *out);
    hc_ensemble_scratch_free(&s);
}

/* ------------------------------------------------------------------ top lists */

/* Two teachers, two checkpoints, user 0. Last checkpoint:
 *   A: N0 N1 N2 N3 N4       B: N1 N0 N5 N2 (-1)
 * importances (T = 10, d_r = exp(-r/10)):
 *   N0 = d0 + d1 = 1.904837   N1 = d1 + d0 = 1.904837 (a tie: N0, the smaller id, first)
 *   N2 = d2 + d3 = 1.559549   N5 = d2 = 0.818731 (B only)   N3 = d3 = 0.740818 (A only)
 *   N4 = d4 = 0.670320
 * so the list is N0 N1 N2 N5 N3 N4 (6 candidates); k = 4 keeps N0 N1 N2 N5.
 * With weights (1, 3): N1 = d1 + 3 = 3.904837, N0 = 1 + 3 d1 = 3.714512,
 *   N2 = d2 + 3 d3 = 3.041186, N5 = 3 d2 = 2.456192, N3, N4 as before.
 * Checkpoint 0: A: N6 N7 (-1 ...), B: N7 N8 N6 (-1 ...):
 *   N7 = d1 + d0 = 1.904837, N6 = d0 + d2 = 1.818731, N8 = d1 = 0.904837.
 * Checkpoints (0 for A, 1 for B): N6 = 1, N1 = 1, N7 = d1, N0 = d1, N5 = d2, N2 = d3:
 *   ties N1/N6 -> N1 first, N0/N7 -> N0 first: N1 N6 N0 N7 N5 N2. */
static void make_two(const hc_dataset *ds, hc_traj *A, hc_traj *B)
{
    blank_traj(ds, A, "A", 2, K, 0);
    blank_traj(ds, B, "B", 2, K, 0);
    const int a1[] = {0, 1, 2, 3, 4}, b1[] = {1, 0, 5, 2, -1};
    const int a0[] = {6, 7, -1}, b0[] = {7, 8, 6};
    set_top(ds, A, 1, 0, a1, 5);
    set_top(ds, B, 1, 0, b1, 5);
    set_top(ds, A, 0, 0, a0, 3);
    set_top(ds, B, 0, 0, b0, 3);
}

static void test_two_teachers(void **state)
{
    fx *f = *state;
    const hc_dataset *ds = &f->ds;
    hc_traj A, B;
    make_two(ds, &A, &B);
    const hc_traj *tv[2] = {&A, &B};
    hc_ensemble e;
    TU_OK(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10));
    assert_int_equal(e.n_items, NI);
    assert_int_equal(e.scorer_ckpt, -1);
    const double d0 = d10(0), d1 = d10(1), d2 = d10(2), d3 = d10(3), d4 = d10(4);
    /* the last checkpoints (ckpt NULL, and the same vector written out) */
    const int w_last[] = {0, 1, 2, 5, 3, 4};
    const double i_last[] = {d0 + d1, d1 + d0, d2 + d3, d2, d3, d4};
    assert_near(i_last[0], 1.904837, 1e-6);
    expect_list(&e, ds, 0, NULL, w_last, i_last, 6);
    const int32_t ck11[] = {1, 1}, ck00[] = {0, 0}, ck01[] = {0, 1};
    expect_list(&e, ds, 0, ck11, w_last, i_last, 6);
    /* the first checkpoints */
    const int w_first[] = {7, 6, 8};
    const double i_first[] = {d1 + d0, d0 + d2, d1};
    expect_list(&e, ds, 0, ck00, w_first, i_first, 3);
    /* A at 0, B at 1 */
    const int w_mix[] = {1, 6, 0, 7, 5, 2};
    const double i_mix[] = {d0, d0, d1, d1, d2, d3};
    expect_list(&e, ds, 0, ck01, w_mix, i_mix, 6);
    /* users with no lists at all get none */
    expect_list(&e, ds, 1, NULL, NULL, NULL, 0);
    hc_ensemble_free(&e);
    /* k shorter than the candidates */
    TU_OK(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 4));
    expect_list(&e, ds, 0, NULL, w_last, i_last, 4);
    hc_ensemble_free(&e);
    /* weights (1, 3) */
    const float w[] = {1.0f, 3.0f};
    TU_OK(hc_ensemble_init(&e, tv, 2, w, 10.0f, 10));
    const int w_w[] = {1, 0, 2, 5, 3, 4};
    const double i_w[] = {d1 + 3 * d0, d0 + 3 * d1, d2 + 3 * d3, 3 * d2, d3, d4};
    assert_near(i_w[0], 3.904837, 1e-6);
    assert_near(i_w[1], 3.714512, 1e-6);
    expect_list(&e, ds, 0, NULL, w_w, i_w, 6);
    hc_ensemble_free(&e);
    /* temperature 2: N0 = N1 = 1 + e^-0.5, N2 = e^-1 + e^-1.5, N5 = e^-1, N3 = e^-1.5,
     * N4 = e^-2: the same order, other values */
    TU_OK(hc_ensemble_init(&e, tv, 2, NULL, 2.0f, 10));
    const double i_t2[] = {1 + exp(-0.5), 1 + exp(-0.5), exp(-1.0) + exp(-1.5),
                           exp(-1.0),     exp(-1.5),     exp(-2.0)};
    expect_list(&e, ds, 0, NULL, w_last, i_t2, 6);
    hc_ensemble_free(&e);
    /* one teacher: its own list, in its own order */
    TU_OK(hc_ensemble_init(&e, tv + 1, 1, NULL, 10.0f, 10));
    const int w_b[] = {1, 0, 5, 2};
    const double i_b[] = {d0, d1, d2, d3};
    expect_list(&e, ds, 0, NULL, w_b, i_b, 4);
    hc_ensemble_free(&e);
    hc_traj_free(&A);
    hc_traj_free(&B);
}

/* Three teachers with different list lengths (5, 3, 8) and checkpoint counts (2, 1, 3);
 * user 2, last checkpoints:
 *   A (k 5):  N3 N1 N4 (-1 -1)      B (k 3): N4 N9 N1      C (k 8): N9 N4 N3 N2 N1 N0 N7 N8
 *   N4 = d2 + d0 + d1 = 2.723568    N1 = d1 + d2 + d4 = 2.393888
 *   N9 = d1 + d0 = 1.904837         N3 = d0 + d2 = 1.818731
 *   N2 = d3 = 0.740818  N0 = d5 = 0.606531  N7 = d6 = 0.548812  N8 = d7 = 0.496585
 * Checkpoint vector (0, 0, 1): A0 = N5; B's only checkpoint, as above; C1 = N6 N5:
 *   N5 = d0 + d1 = 1.904837, N4 = d0 = N6 (a tie: N4 first), N9 = d1, N1 = d2. */
static void test_three_teachers(void **state)
{
    fx *f = *state;
    const hc_dataset *ds = &f->ds;
    hc_traj A, B, C;
    blank_traj(ds, &A, "A", 2, 5, 0);
    blank_traj(ds, &B, "B", 1, 3, 0);
    blank_traj(ds, &C, "C", 3, 8, 0);
    const int a[] = {3, 1, 4, -1, -1}, b[] = {4, 9, 1}, c[] = {9, 4, 3, 2, 1, 0, 7, 8};
    const int a0[] = {5}, c1[] = {6, 5};
    set_top(ds, &A, 1, 2, a, 5);
    set_top(ds, &B, 0, 2, b, 3);
    set_top(ds, &C, 2, 2, c, 8);
    set_top(ds, &A, 0, 2, a0, 1);
    set_top(ds, &C, 1, 2, c1, 2);
    const hc_traj *tv[3] = {&A, &B, &C};
    hc_ensemble e;
    TU_OK(hc_ensemble_init(&e, tv, 3, NULL, 10.0f, 20));
    const int w[] = {4, 1, 9, 3, 2, 0, 7, 8};
    const double imp[] = {d10(2) + d10(0) + d10(1),
                          d10(1) + d10(2) + d10(4),
                          d10(1) + d10(0),
                          d10(0) + d10(2),
                          d10(3),
                          d10(5),
                          d10(6),
                          d10(7)};
    assert_near(imp[0], 2.723568, 1e-6);
    assert_near(imp[1], 2.393888, 1e-6);
    expect_list(&e, ds, 2, NULL, w, imp, 8);
    const int32_t ck[] = {0, 0, 1};
    const int wc[] = {5, 4, 6, 9, 1};
    const double ic[] = {d10(0) + d10(1), d10(0), d10(0), d10(1), d10(2)};
    expect_list(&e, ds, 2, ck, wc, ic, 5);
    hc_ensemble_free(&e);
    /* k = 3 */
    TU_OK(hc_ensemble_init(&e, tv, 3, NULL, 10.0f, 3));
    expect_list(&e, ds, 2, NULL, w, imp, 3);
    hc_ensemble_free(&e);
    hc_traj_free(&A);
    hc_traj_free(&B);
    hc_traj_free(&C);
}

/* ------------------------------------------------------------------ observed lists */

/* User 1's train row R0..R5, last checkpoints:
 *   A: R3 R0 R5 R1 R2 R4        B: R0 R3 R4 R5 R2 R1
 *   R0 = d1 + d0 = 1.904837  R3 = d0 + d1 (a tie: R0 first)  R5 = d2 + d3 = 1.559549
 *   R4 = d5 + d2 = 1.425262  R1 = d3 + d5 = 1.347349  R2 = d4 + d4 = 1.340640
 * so R0 R3 R5 R4 R1 R2. Checkpoint 0 holds the reverse orders (not used). */
static void test_observed(void **state)
{
    fx *f = *state;
    const hc_dataset *ds = &f->ds;
    assert_int_equal(hc_csr_row_len(&ds->train, 1), 6);
    hc_traj A, B, P;
    blank_traj(ds, &A, "A", 2, K, 1);
    blank_traj(ds, &B, "B", 2, K, 1);
    blank_traj(ds, &P, "plain", 2, K, 0); /* no observed orders */
    const int oa[] = {3, 0, 5, 1, 2, 4}, ob[] = {0, 3, 4, 5, 2, 1};
    const int ra[] = {4, 2, 1, 5, 0, 3}, rb[] = {1, 2, 5, 4, 3, 0};
    set_observed(ds, &A, 1, 1, oa);
    set_observed(ds, &B, 1, 1, ob);
    set_observed(ds, &A, 0, 1, ra);
    set_observed(ds, &B, 0, 1, rb);
    const hc_traj *tv[3] = {&A, &B, &P};
    hc_ensemble e;
    hc_ensemble_scratch s;
    int32_t out[16];
    /* both teachers */
    TU_OK(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10));
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    const int want[] = {0, 3, 5, 4, 1, 2};
    assert_near(d10(5) + d10(2), 1.425262, 1e-6);
    assert_int_equal(hc_ensemble_observed(&e, ds, 1, 16, &s, out), 6);
    for (int r = 0; r < 6; r++)
        assert_int_equal(out[r], R(ds, 1, want[r]));
    /* truncated to max_len (K/10 in HetComp) */
    assert_int_equal(hc_ensemble_observed(&e, ds, 1, 4, &s, out), 4);
    for (int r = 0; r < 4; r++)
        assert_int_equal(out[r], R(ds, 1, want[r]));
    /* the scratch is clean afterwards: a top list after it is unaffected */
    for (int32_t i = 0; i < NI; i++)
        assert_true(s.imp[i] == 0.0f);
    /* other users: both teachers give id order (blank_traj), so id order */
    for (int32_t u = 0; u < NU; u++) {
        if (u == 1)
            continue;
        int32_t n = hc_ensemble_observed(&e, ds, u, 16, &s, out);
        assert_int_equal(n, hc_csr_row_len(&ds->train, u));
        assert_memory_equal(out, hc_csr_row(&ds->train, u), (size_t)n * sizeof *out);
    }
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    /* a teacher without observed orders is skipped: A and "plain" give A's order */
    const hc_traj *ap[2] = {&A, &P};
    TU_OK(hc_ensemble_init(&e, ap, 2, NULL, 10.0f, 10));
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    assert_int_equal(hc_ensemble_observed(&e, ds, 1, 16, &s, out), 6);
    for (int r = 0; r < 6; r++)
        assert_int_equal(out[r], R(ds, 1, oa[r]));
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    /* no teacher with observed orders: id order, truncated */
    TU_OK(hc_ensemble_init(&e, tv + 2, 1, NULL, 10.0f, 10));
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    assert_int_equal(hc_ensemble_observed(&e, ds, 1, 3, &s, out), 3);
    assert_memory_equal(out, hc_csr_row(&ds->train, 1), 3 * sizeof *out);
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    /* weights (1, 3): B dominates: R0 = d1 + 3, R3 = 1 + 3 d1, R4 = d5 + 3 d2,
     * R5 = d2 + 3 d3, R2 = 4 d4, R1 = d3 + 3 d5: R0 R3 R4 R5 R2 R1 (B's order) */
    const float w[] = {1.0f, 3.0f};
    TU_OK(hc_ensemble_init(&e, tv, 2, w, 10.0f, 10));
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    assert_true(d10(5) + 3 * d10(2) > d10(2) + 3 * d10(3));
    assert_true(d10(2) + 3 * d10(3) > 4 * d10(4) && 4 * d10(4) > d10(3) + 3 * d10(5));
    assert_int_equal(hc_ensemble_observed(&e, ds, 1, 16, &s, out), 6);
    for (int r = 0; r < 6; r++)
        assert_int_equal(out[r], R(ds, 1, ob[r]));
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    /* a train row longer than all top lists together (one teacher, k = 1): the scratch's
     * selection buffer must hold the whole row (an overflow before the fix; run under
     * HC_SANITIZE=address to see one) */
    hc_traj S;
    blank_traj(ds, &S, "short", 1, 1, 1);
    set_observed(ds, &S, 0, 1, oa);
    const hc_traj *sv[1] = {&S};
    TU_OK(hc_ensemble_init(&e, sv, 1, NULL, 10.0f, 1));
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    assert_int_equal(hc_ensemble_observed(&e, ds, 1, 16, &s, out), 6);
    for (int r = 0; r < 6; r++)
        assert_int_equal(out[r], R(ds, 1, oa[r]));
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    hc_traj_free(&S);
    hc_traj_free(&A);
    hc_traj_free(&B);
    hc_traj_free(&P);
}

/* ------------------------------------------------------------------ scorer */

/* The scorer's rows rank exactly like hc_ensemble_user: hc_evaluate's record_top holds each
 * user's ensemble list first (all listed items are unobserved), at the last checkpoints and
 * at a chosen one (clamped to each teacher's last). */
static void test_scorer(void **state)
{
    fx *f = *state;
    const hc_dataset *ds = &f->ds;
    hc_traj A, B, C;
    make_two(ds, &A, &B);
    blank_traj(ds, &C, "C", 1, 8, 0); /* one checkpoint: the scorer clamps to it */
    /* lists for every user, with ties and padding */
    hc_rng rng;
    hc_rng_init(&rng, 4, 0);
    hc_traj *ts[3] = {&A, &B, &C};
    for (int x = 0; x < 3; x++)
        for (int32_t c = 0; c < ts[x]->n_ckpt; c++)
            for (int32_t u = 1; u < NU; u++) {
                int js[8], n = 0;
                for (int q = 0; q < ts[x]->k; q++) {
                    int j = (int)hc_rng_below(&rng, 12), dup = 0;
                    for (int p = 0; p < n; p++)
                        dup |= js[p] == j;
                    if (!dup)
                        js[n++] = j;
                }
                set_top(ds, ts[x], c, u, js, n);
            }
    const int c0[] = {2, 3};
    set_top(ds, &C, 0, 0, c0, 2);
    const hc_traj *tv[3] = {&A, &B, &C};
    hc_ensemble e;
    TU_OK(hc_ensemble_init(&e, tv, 3, NULL, 10.0f, 8));
    hc_ensemble_scratch s;
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    int32_t top[NU * 8], list[8];
    for (int32_t which = -1; which <= 1; which++) {
        e.scorer_ckpt = which;
        hc_scorer sc = hc_ensemble_scorer(&e);
        hc_eval_opts eo;
        hc_eval_opts_default(&eo);
        eo.record_k = 8;
        eo.record_top = top;
        hc_eval_result res;
        TU_OK(hc_evaluate(ds, &sc, &eo, &res));
        for (int32_t u = 0; u < NU; u++) {
            int32_t ck[3];
            for (int x = 0; x < 3; x++) {
                int32_t last = tv[x]->n_ckpt - 1;
                ck[x] = which < 0 || which > last ? last : which;
            }
            int32_t m = hc_ensemble_user(&e, u, ck, &s, list, NULL);
            assert_true(m > 0);
            if (memcmp(top + u * 8, list, (size_t)m * sizeof *list) != 0)
                fail_msg("scorer checkpoint %d, user %d: record_top differs from the list", which,
                         u);
        }
    }
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    hc_traj_free(&A);
    hc_traj_free(&B);
    hc_traj_free(&C);
}

/* ------------------------------------------------------------------ refused */

static void test_refused(void **state)
{
    fx *f = *state;
    const hc_dataset *ds = &f->ds;
    hc_traj A, B;
    make_two(ds, &A, &B);
    const hc_traj *tv[2] = {&A, &B};
    hc_ensemble e;
    /* another dataset */
    B.ds_checksum ^= 0x10;
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10), HC_EMISMATCH);
    assert_non_null(strstr(hc_errmsg(), "'A'"));
    assert_non_null(strstr(hc_errmsg(), "'B'"));
    assert_null(e.decay);
    B.ds_checksum ^= 0x10;
    B.n_users--;
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10), HC_EMISMATCH);
    B.n_users++;
    B.n_items++;
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10), HC_EMISMATCH);
    B.n_items--;
    /* a share of another run's users (hc_traj_load_part at 2 ranks; this run has one) */
    B.part_size = 2;
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "rank 0 of 2"));
    B.part_size = 0;
    /* bad parameters */
    assert_int_equal(hc_ensemble_init(&e, tv, 0, NULL, 10.0f, 10), HC_EINVAL);
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, 0.0f, 10), HC_EINVAL);
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, NAN, 10), HC_EINVAL);
    assert_int_equal(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 0), HC_EINVAL);
    const float w[] = {1.0f, 0.0f};
    assert_int_equal(hc_ensemble_init(&e, tv, 2, w, 10.0f, 10), HC_EINVAL);
    /* and accepted again once fixed; free accepts a freed or NULL ensemble */
    TU_OK(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10));
    hc_ensemble_free(&e);
    hc_ensemble_free(&e);
    hc_ensemble_free(NULL);
    hc_traj_free(&A);
    hc_traj_free(&B);
}

/* ------------------------------------------------------------------ imported teacher */

/* A teacher brought in as text rows (4 columns, user's own ids, one checkpoint, ranks with
 * a gap) next to a two-checkpoint hand-made one: the ensemble uses each one's last
 * checkpoint. User u3:
 *   imported: rank 0 N2, rank 1 N0, rank 4 N7 (compacted to ranks 0, 1, 2)
 *   A (last): N0 N1 N2 N3 N4
 *   N0 = d1 + d0 = 1.904837, N2 = d0 + d2 = 1.818731, N1 = d1, N7 = d2 (a tie with N1?
 *   no: N1 = d1 = 0.904837 > N7 = d2 = 0.818731), N3 = d3, N4 = d4:
 *   N0 N2 N1 N7 N3 N4. */
static void test_imported(void **state)
{
    fx *f = *state;
    const hc_dataset *ds = &f->ds;
    char text[512];
    snprintf(text, sizeof text, "0\tu3\t4\ti%d\n0\tu3\t0\ti%d\n0 u3 1 i%d\n", N(ds, 3, 7),
             N(ds, 3, 2), N(ds, 3, 0));
    hc_traj imp;
    TU_OK(hc_traj_import_text(tu_write("elsewhere.tsv", text), ds, 0.0, &imp, NULL));
    assert_int_equal(imp.n_ckpt, 1);
    assert_int_equal(imp.k, 5);
    assert_null(imp.observed);
    hc_traj A;
    blank_traj(ds, &A, "A", 2, K, 1);
    const int a[] = {0, 1, 2, 3, 4};
    set_top(ds, &A, 1, 3, a, 5);
    const hc_traj *tv[2] = {&imp, &A};
    hc_ensemble e;
    TU_OK(hc_ensemble_init(&e, tv, 2, NULL, 10.0f, 10));
    const int w[] = {0, 2, 1, 7, 3, 4};
    const double iw[] = {d10(1) + d10(0), d10(0) + d10(2), d10(1), d10(2), d10(3), d10(4)};
    expect_list(&e, ds, 3, NULL, w, iw, 6);
    /* the imported teacher has no observed orders: A's (id order) decides */
    hc_ensemble_scratch s;
    TU_OK(hc_ensemble_scratch_init(&e, &s));
    int32_t out[16];
    int32_t n = hc_ensemble_observed(&e, ds, 3, 16, &s, out);
    assert_int_equal(n, hc_csr_row_len(&ds->train, 3));
    assert_memory_equal(out, hc_csr_row(&ds->train, 3), (size_t)n * sizeof *out);
    hc_ensemble_scratch_free(&s);
    hc_ensemble_free(&e);
    /* an import made against another dataset cannot join */
    hc_dataset other;
    tu_make_dataset(&other, NU, NI, 2, 10, 18);
    hc_traj A2;
    blank_traj(&other, &A2, "other", 1, K, 0);
    const hc_traj *mix[2] = {&imp, &A2};
    assert_int_equal(hc_ensemble_init(&e, mix, 2, NULL, 10.0f, 10), HC_EMISMATCH);
    hc_traj_free(&A2);
    hc_dataset_free(&other);
    hc_traj_free(&A);
    hc_traj_free(&imp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_teachers), cmocka_unit_test(test_three_teachers),
        cmocka_unit_test(test_observed),     cmocka_unit_test(test_scorer),
        cmocka_unit_test(test_refused),      cmocka_unit_test(test_imported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
