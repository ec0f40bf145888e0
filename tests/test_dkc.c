/*
 * test_dkc.c - dynamic knowledge construction (src/distill/dkc.c) and the distillation loop
 * that drives it (src/distill/distill.c with the hetcomp and bpr methods).
 *
 * hc_dkc_dist: known answers (identical lists, disjoint lists, a single hit, the snapshot
 * used as a set, -1 padding, only the first 50 of either list counting), with the gains
 * g_t = 2^(exp(-t/10)) - 1 over log2(t+2) recomputed here from docs/method.md §6.
 * hc_dkc_record / hc_dkc_step: hand-built trajectories (disjoint 50-item snapshots, so every
 * distance is a sum of gains at the student's positions that hit) and one student list per
 * user, each user playing one case of the rule: an exact match (now = 0), a drift away
 * (last/now < 1), a stall (last/now = 1: no move while th > 1, a move once th < 1), a gap
 * closed by more than th and one closed by less, the distance recorded after a move (to
 * snapshot min(v+1, C-1)), pairs at the last checkpoint never moving, record() only
 * recording, and two teachers with different checkpoint counts kept apart.
 * hc_distill_run: on a small clustered dataset with hand-made teacher trajectories: the
 * evaluation schedule, DKC moving every pair to the last checkpoint by epoch 120 and the
 * switch to phase 2, the ablations (no DKC: final checkpoints from the start and the switch
 * at switch_epoch; no AKT: phase 2 from the start), BPR without teachers, early stopping and
 * the best student kept, reproducibility for a seed, learning, and refused inputs.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/distill.h"
#include "distill/dkc.h"

#define D 50 /* HC_DKC_DEPTH */

/* g_t / log2(t+2) at student position t, and their sum over t < 50 (docs/method.md §6). */
static double gain(int t)
{
    return (pow(2.0, exp(-(double)t / 10.0)) - 1.0) / log2((double)t + 2.0);
}

static double gain_norm(void)
{
    double s = 0.0;
    for (int t = 0; t < D; t++)
        s += gain(t);
    return s;
}

/* Distance when exactly the student positions [a, b) hit the snapshot. */
static double dist_hits(int a, int b)
{
    double h = 0.0;
    for (int t = a; t < b; t++)
        h += gain(t);
    return 1.0 - h / gain_norm();
}

/* The DKC threshold at an epoch: alpha * decay^(epoch / p), integer division. */
static double threshold(int epoch)
{
    return 1.05 * pow(0.995, (double)(epoch / 10));
}

/* ------------------------------------------------------------------ hc_dkc_dist */

static int32_t mark[1000], stamp;

static double dist(const int32_t *s, int32_t n_s, const int32_t *snap, int32_t n_snap)
{
    return hc_dkc_dist(s, n_s, snap, n_snap, mark, stamp++);
}

static void test_dist_known(void **state)
{
    (void)state;
    for (int i = 0; i < 1000; i++)
        mark[i] = -1;
    int32_t a[100], b[100], c[100];
    for (int t = 0; t < 100; t++) {
        a[t] = t;       /* 0..99 */
        b[t] = 500 + t; /* disjoint from a */
    }
    /* identical lists: 0; disjoint: 1 */
    assert_near(dist(a, D, a, D), 0.0, 1e-12);
    assert_near(dist(a, D, b, D), 1.0, 0.0);
    /* one hit, at student position 0: 1 - g_0 / norm, with g_0 = 2^1 - 1 = 1, log2(2) = 1 */
    memcpy(c, b, sizeof c);
    c[17] = a[0]; /* the snapshot holds the student's first item at its position 17 */
    assert_near(gain(0), 1.0, 1e-15);
    assert_near(dist(a, D, c, D), 1.0 - 1.0 / gain_norm(), 1e-12);
    /* one hit at student position 9: the gain is indexed by the student's position */
    c[17] = a[9];
    assert_near(dist(a, D, c, D), 1.0 - gain(9) / gain_norm(), 1e-12);
    /* the snapshot is a set: reversing or shuffling it changes nothing */
    for (int t = 0; t < D; t++)
        c[t] = a[D - 1 - t];
    assert_near(dist(a, D, c, D), 0.0, 1e-12);
    hc_rng r;
    hc_rng_init(&r, 5, 1);
    memcpy(c, a, sizeof c);
    c[3] = 999; /* drop the student's item 3 */
    hc_rng_shuffle_i32(&r, c, D);
    double want = gain(3) / gain_norm(); /* every position hits but 3 */
    assert_near(dist(a, D, c, D), want, 1e-12);
    hc_rng_shuffle_i32(&r, c, D);
    assert_near(dist(a, D, c, D), want, 1e-12);
    /* half the student's list in the snapshot: positions 0..24 */
    assert_near(dist(a, D, a, 25), dist_hits(0, 25), 1e-12);
    /* only the snapshot's first 50 items count: a student matching its items 50..99 */
    assert_near(dist(a + 50, D, a, 100), 1.0, 0.0);
    /* only the student's first 50 positions count */
    assert_near(dist(a, 100, a, D), 0.0, 1e-12);
    /* -1 padding: a student list of 10 items then -1, a snapshot of 10 then -1 */
    int32_t sp[D], np[D];
    for (int t = 0; t < D; t++) {
        sp[t] = t < 10 ? a[t] : -1;
        np[t] = t < 10 ? a[t] : -1;
    }
    assert_near(dist(sp, D, np, D), dist_hits(0, 10), 1e-12);
    assert_near(dist(a, D, np, D), dist_hits(0, 10), 1e-12);
    np[0] = -1; /* an empty snapshot: nothing hits */
    assert_near(dist(a, D, np, D), 1.0, 0.0);
    sp[0] = -1; /* a gap at position 0 (an estimated list): positions 1..9 still hit */
    assert_near(dist(sp, D, a, D), dist_hits(1, 10), 1e-12);
    for (int t = 0; t < D; t++) /* an empty student list */
        sp[t] = -1;
    assert_near(dist(sp, D, a, D), 1.0, 0.0);
    /* stamps already used (values left in mark) do not leak into a later call */
    assert_near(dist(b, D, b + 50, D), 1.0, 0.0);
}

/* ------------------------------------------------------------------ the rule */

#define NI   300 /* snapshot c of teacher A: items 50c .. 50c+49; 250..299 are fillers */
#define NU   9
#define FILL 250

/* A trajectory of C checkpoints whose snapshot c (every user) is items first[c] + 0..49. */
static void make_traj(hc_traj *t, const char *name, int32_t C, const int32_t *first)
{
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "%s", name);
    t->n_users = NU;
    t->n_items = NI;
    t->n_ckpt = C;
    t->k = D;
    t->ds_checksum = 42;
    TU_OK(hc_traj_alloc(t, 0));
    for (int32_t c = 0; c < C; c++) {
        t->epochs[c] = 10 * c;
        t->valid_r50[c] = 0.1f * (float)c;
        for (int32_t u = 0; u < NU; u++)
            for (int32_t r = 0; r < D; r++)
                t->top[((int64_t)c * NU + u) * D + r] = first[c] + r;
    }
}

/* A student list of fillers (in no snapshot) ... */
static void fill(int32_t *l)
{
    for (int t = 0; t < D; t++)
        l[t] = FILL + t;
}

/* ... with positions [a, b) taken from snapshot c of teacher A (its items 50c + t). */
static void hits(int32_t *l, int32_t c, int a, int b)
{
    for (int t = a; t < b; t++)
        l[t] = 50 * c + t;
}

static void test_rule(void **state)
{
    (void)state;
    /* teacher A: 4 checkpoints, items 0.., 50.., 100.., 150..; teacher B: 2 checkpoints, B's
     * snapshot 1 is A's snapshot 2 (items 100..149) */
    const int32_t fa[] = {0, 50, 100, 150}, fb[] = {200, 100};
    hc_traj A, B;
    make_traj(&A, "A", 4, fa);
    make_traj(&B, "B", 2, fb);
    const hc_traj *tv[2] = {&A, &B};
    int32_t v[2 * NU] = {0};
    double last[2 * NU];
    for (int k = 0; k < 2 * NU; k++)
        last[k] = -7.0; /* untouched marker */
    hc_dkc_state st = {2, NU, v, last, tv, 0, 1};
    /* users 5, 6: A at checkpoint 2 and 3 (the last) to start with; user 6 at B's last */
    v[5] = 2;
    v[6] = 3;
    v[NU + 6] = 1;
    int32_t top[NU * D];
    for (int u = 0; u < NU; u++)
        fill(top + u * D);
    int32_t *l0 = top, *l1 = top + D, *l2 = top + 2 * D, *l3 = top + 3 * D, *l4 = top + 4 * D;
    int32_t *l5 = top + 5 * D, *l6 = top + 6 * D, *l8 = top + 8 * D; /* u7: fillers */

    /* -- the first call (epoch 10) only records last = dist(student, snapshot v+1) */
    hits(l0, 1, 0, 10); /* u0: 10 hits on A1 */
    hits(l1, 1, 0, 20); /* u1: 20 hits on A1 */
    hits(l2, 1, 0, 15); /* u2: 15 hits on A1, then stalls */
    hits(l3, 1, 0, 5);  /* u3: 5 hits, then closes the gap by a lot */
    hits(l4, 1, 0, 20); /* u4: 20 hits, then closes it by a little */
    hits(l5, 3, 0, 30); /* u5 (at A2): 30 hits on A3, then drifts */
    hits(l6, 3, 0, 50); /* u6 (at A's and B's last): never moves */
    /* u7: fillers only (distance 1 to everything); u8: A1 at positions 20..39 */
    hits(l8, 1, 20, 40);
    last[6] = 123.0;
    last[NU + 6] = 456.0;
    TU_OK(hc_dkc_record(&st, top));
    int32_t v_rec[2 * NU];
    memcpy(v_rec, v, sizeof v_rec);
    assert_int_equal(v[0], 0);
    assert_int_equal(v[5], 2);
    assert_int_equal(v[6], 3);
    for (int u = 0; u < NU; u++)
        assert_int_equal(v[u], u == 5 ? 2 : u == 6 ? 3 : 0); /* record() never moves */
    assert_near(last[0], dist_hits(0, 10), 1e-12);
    assert_near(last[1], dist_hits(0, 20), 1e-12);
    assert_near(last[2], dist_hits(0, 15), 1e-12);
    assert_near(last[3], dist_hits(0, 5), 1e-12);
    assert_near(last[4], dist_hits(0, 20), 1e-12);
    assert_near(last[5], dist_hits(0, 30), 1e-12); /* to A's snapshot 3 = v + 1 */
    assert_near(last[6], 123.0, 0.0);              /* at the last checkpoint: untouched */
    assert_near(last[7], 1.0, 0.0);
    assert_near(last[8], dist_hits(20, 40), 1e-12);
    /* teacher B: its snapshot 1 is A2, which no list hits yet */
    for (int u = 0; u < NU; u++)
        assert_near(last[NU + u], u == 6 ? 456.0 : 1.0, 0.0);
    /* recording again with the same lists changes nothing */
    double last_rec[2 * NU];
    memcpy(last_rec, last, sizeof last);
    TU_OK(hc_dkc_record(&st, top));
    assert_memory_equal(last, last_rec, sizeof last);
    assert_memory_equal(v, v_rec, sizeof v_rec);

    /* -- the second call, epoch 20: th = 1.05 * 0.995^2 = 1.0395 > 1 */
    double th = threshold(20);
    assert_near(th, 1.05 * 0.995 * 0.995, 1e-15);
    fill(l0);
    hits(l0, 1, 0, 50); /* u0: A1 exactly: now = 0, a move */
    fill(l1);
    hits(l1, 1, 0, 10);
    hits(l1, 2, 10, 20); /* u1: drifts from A1 (20 -> 10 hits) toward A2: last/now < 1 */
    /* u2: the same list: last/now = 1 exactly, no move while th > 1 */
    fill(l3);
    hits(l3, 1, 0, 30); /* u3: 5 -> 30 hits */
    assert_true(dist_hits(0, 5) / dist_hits(0, 30) > th);
    hits(l4, 1, 49, 50); /* u4: 20 hits plus one at position 49: closes by less than th */
    double r4 = dist_hits(0, 20) / (dist_hits(0, 20) - gain(49) / gain_norm());
    assert_true(r4 > 1.0 && r4 < th);
    fill(l5);
    hits(l5, 3, 0, 10); /* u5: 30 -> 10 hits on A3: drifts, moves to A3 = C-1 */
    /* u6 anything: already last */
    fill(l6);
    /* u7 fillers again: 1 / 1 = 1, no move; u8 the same list: no move */
    int moved = -1;
    TU_OK(hc_dkc_step(&st, top, th, &moved));
    int32_t want_a[NU] = {1, 1, 0, 1, 0, 3, 3, 0, 0};
    for (int u = 0; u < NU; u++)
        if (v[u] != want_a[u])
            fail_msg("teacher A user %d: checkpoint %d, expected %d", u, v[u], want_a[u]);
    /* last after a move: the distance to snapshot min(v+1, C-1) */
    assert_near(last[0], 1.0, 0.0);                 /* A2 shares nothing with A1 */
    assert_near(last[1], dist_hits(10, 20), 1e-12); /* A2 at positions 10..19 */
    assert_near(last[3], 1.0, 0.0);                 /* A2 */
    assert_near(last[5], dist_hits(0, 10), 1e-12);  /* v = 3 = C-1: snapshot 3 itself */
    assert_near(last[6], 123.0, 0.0);               /* never touched */
    /* no move: last stays as recorded */
    assert_near(last[2], dist_hits(0, 15), 1e-12);
    assert_near(last[4], dist_hits(0, 20), 1e-12);
    assert_near(last[7], 1.0, 0.0);
    assert_near(last[8], dist_hits(20, 40), 1e-12);
    /* teacher B (next snapshot A2): only u1 got closer (A2 at positions 10..19), with
     * last/now = 1 / dist_hits(10, 20) > th, and moves to B's last checkpoint, recording the
     * distance to that same snapshot (min(2, 1) = 1); everyone else stays at ratio 1 */
    assert_true(1.0 / dist_hits(10, 20) > th);
    for (int u = 0; u < NU; u++) {
        int want = u == 1 || u == 6 ? 1 : 0;
        if (v[NU + u] != want)
            fail_msg("teacher B user %d: checkpoint %d, expected %d", u, v[NU + u], want);
    }
    assert_near(last[NU + 1], dist_hits(10, 20), 1e-12);
    assert_near(last[NU + 6], 456.0, 0.0);
    assert_int_equal(moved, 5); /* A: u0, u1, u3, u5; B: u1 */

    /* -- epoch 110: th = 1.05 * 0.995^11 = 0.9938 < 1: every pair below its last moves,
     * whatever the ratio (u2 and u7 stall at exactly 1, u4 closes a little) */
    th = threshold(110);
    assert_true(th < 1.0);
    memcpy(v_rec, v, sizeof v_rec);
    TU_OK(hc_dkc_step(&st, top, th, &moved));
    int n_below = 0;
    for (int k = 0; k < 2 * NU; k++) {
        int32_t C = k < NU ? 4 : 2;
        int32_t want = v_rec[k] < C - 1 ? v_rec[k] + 1 : v_rec[k];
        n_below += v_rec[k] < C - 1;
        if (v[k] != want)
            fail_msg("pair %d: checkpoint %d, expected %d", k, v[k], want);
    }
    assert_int_equal(moved, n_below);
    /* u2 stalled at 15 hits on A1 and moved to A1: now last = dist to A2 = 1 */
    assert_near(last[2], 1.0, 0.0);
    /* pairs at their last checkpoint never move, under any threshold */
    for (double t2 = 0.0; t2 < 3.0; t2 += 0.5) {
        for (int k = 0; k < 2 * NU; k++)
            v[k] = k < NU ? 3 : 1;
        memcpy(last_rec, last, sizeof last);
        TU_OK(hc_dkc_step(&st, top, t2, &moved));
        assert_int_equal(moved, 0);
        for (int k = 0; k < 2 * NU; k++)
            assert_int_equal(v[k], k < NU ? 3 : 1);
        assert_memory_equal(last, last_rec, sizeof last);
        TU_OK(hc_dkc_record(&st, top));
        assert_memory_equal(last, last_rec, sizeof last);
    }
    hc_traj_free(&A);
    hc_traj_free(&B);
}

/* A pair that never stops closing the gap by more than th walks one checkpoint per call
 * and stops at the last; a zero distance always counts as a move. */
static void test_rule_walk(void **state)
{
    (void)state;
    const int32_t fa[] = {0, 50, 100, 150};
    hc_traj A;
    make_traj(&A, "A", 4, fa);
    const hc_traj *tv[1] = {&A};
    int32_t v[NU] = {0};
    double last[NU] = {0};
    hc_dkc_state st = {1, NU, v, last, tv, 0, 1};
    int32_t top[NU * D];
    /* every user's list is snapshot v+1 exactly at every call */
    for (int u = 0; u < NU; u++)
        fill(top + u * D);
    TU_OK(hc_dkc_record(&st, top));
    for (int u = 0; u < NU; u++)
        assert_near(last[u], 1.0, 0.0);
    for (int call = 1; call <= 5; call++) {
        for (int u = 0; u < NU; u++) {
            int32_t next = v[u] + 1 < 4 ? v[u] + 1 : 3;
            hits(top + u * D, next, 0, D);
        }
        int moved = -1;
        /* a huge threshold: only now = 0 (or last/now < 1) moves */
        TU_OK(hc_dkc_step(&st, top, 1e9, &moved));
        int32_t want = call < 3 ? call : 3;
        for (int u = 0; u < NU; u++)
            assert_int_equal(v[u], want);
        assert_int_equal(moved, call <= 3 ? NU : 0);
    }
    hc_traj_free(&A);
}

/* ------------------------------------------------------------------ the loop */

#define LU 80  /* users */
#define LI 200 /* items, 4 groups */
#define LG 4

typedef struct {
    hc_dataset ds;
    hc_traj teach[2];
} loop_fx;

/* Teacher x's list for user u at checkpoint c: the user's group's unobserved items (in an
 * order that depends on the teacher), with a share (3 - c) / 4 of them replaced by items of
 * other groups, so later checkpoints are cleaner. */
static void make_teacher(const hc_dataset *ds, hc_traj *t, int32_t x, int32_t C)
{
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "teacher%d", x);
    t->n_users = ds->n_users;
    t->n_items = ds->n_items;
    t->n_ckpt = C;
    t->k = 40;
    t->ds_checksum = ds->checksum;
    t->train_nnz = ds->train.nnz;
    TU_OK(hc_traj_alloc(t, 0));
    hc_rng r;
    hc_rng_init(&r, 100 + (uint64_t)x, 0);
    for (int32_t c = 0; c < C; c++) {
        t->epochs[c] = c;
        t->valid_r50[c] = (float)c;
        for (int32_t u = 0; u < ds->n_users; u++) {
            int32_t *l = t->top + ((int64_t)c * ds->n_users + u) * t->k, n = 0;
            /* items start, start + step, ...: step 1 or 7 (prime to 200), a permutation */
            int32_t start = (int32_t)hc_rng_below(&r, LI), step = x ? 7 : 1;
            float p_noise = 0.25f * (float)(C - 1 - c);
            for (int32_t q = 0; q < LI && n < t->k; q++) {
                int32_t it = (start + q * step) % LI;
                if (hc_csr_has(&ds->train, u, it))
                    continue;
                /* a group item is kept unless noise strikes; another group's only then */
                int good = it % LG == u % LG;
                if (good == (hc_rng_float(&r) >= p_noise))
                    l[n++] = it;
            }
            for (; n < t->k; n++)
                l[n] = -1;
        }
    }
}

static int loop_setup(void **state)
{
    loop_fx *f = calloc(1, sizeof *f);
    tu_make_dataset(&f->ds, LU, LI, LG, 14, 3);
    make_teacher(&f->ds, &f->teach[0], 0, 4);
    make_teacher(&f->ds, &f->teach[1], 1, 3);
    *state = f;
    return 0;
}

static int loop_teardown(void **state)
{
    loop_fx *f = *state;
    hc_traj_free(&f->teach[0]);
    hc_traj_free(&f->teach[1]);
    hc_dataset_free(&f->ds);
    free(f);
    return 0;
}

static void small_opts(hc_distill_opts *o)
{
    hc_distill_opts_default(o);
    o->max_epochs = 151;
    o->patience = 1000;
    o->batch = 256;
    o->lr = 0.01f;
    o->k = 20;
    o->seed = 9;
}

typedef struct {
    int32_t n_epochs;
    double loss[2000];
} hook_log;

static void on_epoch(void *ud, int32_t epoch, double loss, double secs)
{
    hook_log *h = ud;
    (void)secs;
    assert_int_equal(epoch, h->n_epochs);
    h->loss[h->n_epochs++] = loss;
}

/* Runs method name on the fixture; the student is left in ctx->student. */
static int run(loop_fx *f, const char *name, const hc_distill_opts *o, int32_t n_teachers,
               hc_kd_ctx *ctx, hc_distill_result *r, hook_log *h)
{
    static const hc_traj *tv[2];
    tv[0] = &f->teach[0];
    tv[1] = &f->teach[1];
    memset(ctx, 0, sizeof *ctx);
    ctx->ds = &f->ds;
    ctx->n_teachers = n_teachers;
    ctx->teachers = tv;
    ctx->opts = *o;
    const hc_distiller_type *t = hc_distiller_type_find(name);
    assert_non_null(t);
    memset(h, 0, sizeof *h);
    hc_distill_hooks hooks = {on_epoch, NULL, h};
    return hc_distill_run(t, ctx, &hooks, r);
}

/* Valid Recall@50 of a model, evaluated afresh. */
static hc_eval_result evaluate(loop_fx *f, hc_model *m)
{
    if (m->type->prepare)
        TU_OK(m->type->prepare(m, &f->ds));
    hc_scorer sc = hc_model_scorer(m);
    hc_eval_result res;
    TU_OK(hc_evaluate(&f->ds, &sc, NULL, &res));
    return res;
}

/* Fails unless a and b hold the same metrics, bit for bit. */
static void assert_res_equal(const hc_eval_result *a, const hc_eval_result *b)
{
    const hc_metrics *ma[2] = {&a->valid, &a->test}, *mb[2] = {&b->valid, &b->test};
    for (int q = 0; q < 2; q++) {
        assert_int_equal(ma[q]->n_users, mb[q]->n_users);
        assert_memory_equal(ma[q]->recall, mb[q]->recall, sizeof ma[q]->recall);
        assert_memory_equal(ma[q]->ndcg, mb[q]->ndcg, sizeof ma[q]->ndcg);
    }
}

/* Recall@50 of a random ranking: about 50 / (items - train items). */
static double random_r50(void)
{
    return 50.0 / (LI - 10);
}

static void test_loop_hetcomp(void **state)
{
    loop_fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    hc_kd_ctx ctx;
    hc_distill_result r;
    hook_log h;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx, &r, &h));
    /* every epoch trained, evaluations at 0, 10, ..., 150 */
    assert_int_equal(r.epochs, 151);
    assert_int_equal(h.n_epochs, 151);
    assert_int_equal(r.n_evals, 16);
    int switched = -1;
    for (int32_t e = 0; e < r.n_evals; e++) {
        const hc_distill_eval *ev = &r.evals[e];
        assert_int_equal(ev->epoch, 10 * e);
        assert_true(isfinite(ev->loss) && ev->loss > 0.0);
        assert_near(ev->loss, h.loss[ev->epoch], 0.0);
        /* DKC: no move before the second call (epoch 20), monotone, the last checkpoint
         * for every pair by epoch 120 (th < 1 from epoch 100) */
        for (int x = 0; x < 2; x++) {
            double mc = ev->st.mean_ckpt[x], cmax = x == 0 ? 3.0 : 2.0;
            assert_true(mc >= 0.0 && mc <= cmax);
            if (ev->epoch <= 10)
                assert_near(mc, 0.0, 0.0);
            if (e > 0)
                assert_true(mc >= r.evals[e - 1].st.mean_ckpt[x]);
            if (ev->epoch >= 120)
                assert_near(mc, cmax, 0.0);
        }
        /* phase 1 until every pair is final, then phase 2 for good */
        int all_final = ev->st.mean_ckpt[0] == 3.0 && ev->st.mean_ckpt[1] == 2.0;
        assert_int_equal(ev->st.phase, all_final ? 2 : 1);
        if (all_final && switched < 0)
            switched = ev->epoch;
        /* the best-so-far flags */
        int better = 1;
        for (int32_t q = 0; q < e; q++)
            better &= ev->res.valid.recall[2] > r.evals[q].res.valid.recall[2];
        assert_int_equal(ev->improved, better);
    }
    assert_true(switched >= 20 && switched <= 120);
    /* DKC moved some pairs before the threshold fell below 1 (epoch 100) */
    assert_true(r.evals[9].st.mean_ckpt[0] > 0.0);
    /* the student left in ctx is the best-validation one */
    assert_true(r.best >= 0 && r.best < r.n_evals && r.evals[r.best].improved);
    hc_eval_result again = evaluate(f, ctx.student);
    assert_res_equal(&again, &r.evals[r.best].res);
    /* it learned the teachers' group structure */
    double r50 = r.evals[r.best].res.valid.recall[2];
    if (r50 < 2.0 * random_r50())
        fail_msg("best valid R@50 %.3f vs random %.3f", r50, random_r50());
    /* reproducible for a seed: the same losses and the same student */
    hc_kd_ctx ctx2;
    hc_distill_result r2;
    hook_log h2;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx2, &r2, &h2));
    assert_memory_equal(h.loss, h2.loss, sizeof h.loss);
    hc_eval_result res2 = evaluate(f, ctx2.student);
    assert_res_equal(&again, &res2);
    hc_distill_result_free(&r2);
    hc_model_free(ctx2.student);
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
}

/* The sampled path (sampled rest sets, estimated DKC ranks) learns, moves DKC to the last
 * checkpoints and switches phase, and repeats itself for a seed. */
static void test_loop_sampled(void **state)
{
    loop_fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.rest = HC_REST_SAMPLED;
    o.rest_samples = 64;
    o.dkc_samples = 64;
    hc_kd_ctx ctx, ctx2;
    hc_distill_result r, r2;
    hook_log h, h2;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx, &r, &h));
    assert_int_equal(r.epochs, 151);
    const hc_distill_eval *last = &r.evals[r.n_evals - 1];
    assert_near(last->st.mean_ckpt[0], 3.0, 0.0);
    assert_near(last->st.mean_ckpt[1], 2.0, 0.0);
    assert_int_equal(last->st.phase, 2);
    double r50 = r.evals[r.best].res.valid.recall[2];
    if (r50 < 2.0 * random_r50())
        fail_msg("sampled: best valid R@50 %.3f vs random %.3f", r50, random_r50());
    TU_OK(run(f, "hetcomp", &o, 2, &ctx2, &r2, &h2));
    assert_memory_equal(h.loss, h2.loss, sizeof h.loss);
    hc_eval_result a = evaluate(f, ctx.student), b = evaluate(f, ctx2.student);
    assert_res_equal(&a, &b);
    hc_distill_result_free(&r2);
    hc_model_free(ctx2.student);
    /* the exact path under an explicit --rest exact is the default's on this small catalog */
    hc_distill_opts oe;
    small_opts(&oe);
    oe.max_epochs = 21;
    TU_OK(run(f, "hetcomp", &oe, 2, &ctx2, &r2, &h2));
    hc_eval_result c = evaluate(f, ctx2.student);
    hc_distill_result_free(&r2);
    hc_model_free(ctx2.student);
    oe.rest = HC_REST_EXACT;
    oe.dkc_rank = HC_REST_EXACT;
    TU_OK(run(f, "hetcomp", &oe, 2, &ctx2, &r2, &h));
    hc_eval_result d = evaluate(f, ctx2.student);
    assert_res_equal(&c, &d);
    assert_memory_equal(h.loss, h2.loss, 21 * sizeof h.loss[0]);
    hc_distill_result_free(&r2);
    hc_model_free(ctx2.student);
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
}

/* The estimated student top-50 (hc_dkc_estimate_top) gives DKC distances close to the exact
 * rule's: with many draws (10x the catalog) the mean |difference| over every (teacher, user)
 * pair is below 0.02 and the largest below 0.15. */
static void test_estimated_ranks(void **state)
{
    loop_fx *f = *state;
    const hc_dataset *ds = &f->ds;
    enum { DIM = 6 };
    float *P = malloc((size_t)LU * DIM * sizeof(float)),
          *Q = malloc((size_t)LI * DIM * sizeof(float));
    hc_rng r;
    hc_rng_init(&r, 31, 0);
    for (int k = 0; k < LU * DIM; k++)
        P[k] = (float)hc_rng_normal(&r);
    for (int k = 0; k < LI * DIM; k++)
        Q[k] = (float)hc_rng_normal(&r);
    /* the exact top-50 of the student (ties by smaller id), train items excluded */
    int32_t *exact = malloc((size_t)LU * HC_DKC_DEPTH * sizeof *exact);
    int32_t *est = malloc((size_t)LU * HC_DKC_DEPTH * sizeof *est);
    float row[LI];
    for (int32_t u = 0; u < LU; u++) {
        for (int32_t i = 0; i < LI; i++) {
            row[i] = 0.0f;
            for (int q = 0; q < DIM; q++)
                row[i] += P[u * DIM + q] * Q[i * DIM + q];
            if (hc_csr_has(&ds->train, u, i))
                row[i] = -INFINITY;
        }
        int32_t n = hc_topk(row, LI, HC_DKC_DEPTH, exact + (int64_t)u * HC_DKC_DEPTH, NULL);
        for (int32_t t = n; t < HC_DKC_DEPTH; t++)
            exact[(int64_t)u * HC_DKC_DEPTH + t] = -1;
    }
    const hc_traj *tv[2] = {&f->teach[0], &f->teach[1]};
    int32_t v[2 * LU];
    double last[2 * LU];
    for (int k = 0; k < 2 * LU; k++)
        v[k] = k % 2; /* checkpoints 0 and 1 */
    hc_dkc_state st = {2, LU, v, last, tv, 0, 1};
    hc_proposal prop;
    TU_OK(hc_proposal_init(&prop, HC_PROPOSAL_UNIFORM, ds));
    hc_dkc_sampled_ranks sr = {P, Q, DIM, &ds->train, &prop, 10 * LI, 5};
    TU_OK(hc_dkc_estimate_top(&st, &sr, est));
    double sum = 0.0, worst = 0.0;
    int32_t *mk = malloc(LI * sizeof *mk);
    for (int i = 0; i < LI; i++)
        mk[i] = -1;
    int32_t stp = 0;
    for (int32_t x = 0; x < 2; x++)
        for (int32_t u = 0; u < LU; u++) {
            int32_t c = v[x * LU + u] + 1 < tv[x]->n_ckpt ? v[x * LU + u] + 1 : tv[x]->n_ckpt - 1;
            const int32_t *snap = hc_traj_top(tv[x], c, u);
            double de = hc_dkc_dist(exact + (int64_t)u * HC_DKC_DEPTH, HC_DKC_DEPTH, snap, tv[x]->k,
                                    mk, ++stp);
            double ds_ = hc_dkc_dist(est + (int64_t)u * HC_DKC_DEPTH, HC_DKC_DEPTH, snap, tv[x]->k,
                                     mk, ++stp);
            sum += fabs(de - ds_);
            worst = fmax(worst, fabs(de - ds_));
        }
    print_message("estimated DKC distances: mean |diff| %.4f, max %.4f\n", sum / (2 * LU), worst);
    assert_true(sum / (2 * LU) < 0.02);
    assert_true(worst < 0.15);
    hc_proposal_free(&prop);
    free(mk);
    free(P);
    free(Q);
    free(exact);
    free(est);
}

static void test_loop_ablations(void **state)
{
    loop_fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.max_epochs = 51;
    hc_kd_ctx ctx;
    hc_distill_result r;
    hook_log h;
    /* no DKC: final checkpoints from the start, the switch at switch_epoch */
    o.no_dkc = 1;
    o.switch_epoch = 30;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx, &r, &h));
    assert_int_equal(r.n_evals, 6);
    for (int32_t e = 0; e < r.n_evals; e++) {
        const hc_distill_eval *ev = &r.evals[e];
        assert_near(ev->st.mean_ckpt[0], 3.0, 0.0);
        assert_near(ev->st.mean_ckpt[1], 2.0, 0.0);
        assert_int_equal(ev->st.phase, ev->epoch >= 30 ? 2 : 1);
    }
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
    /* no AKT: phase 2 from the start, DKC still at work */
    o.no_dkc = 0;
    o.no_akt = 1;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx, &r, &h));
    for (int32_t e = 0; e < r.n_evals; e++) {
        assert_int_equal(r.evals[e].st.phase, 2);
        if (r.evals[e].epoch <= 10)
            assert_near(r.evals[e].st.mean_ckpt[0], 0.0, 0.0);
    }
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
    /* the loop's threshold is alpha * decay^(epoch / p): with decay 0.5 it is 0.26 at epoch
     * 20, so from the second DKC call on every pair below its last checkpoint moves once per
     * call, and phase 2 starts at epoch 40 (teacher 0 has 4 checkpoints, teacher 1 has 3) */
    o.no_akt = 0;
    o.decay = 0.5f;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx, &r, &h));
    assert_int_equal(r.n_evals, 6);
    for (int32_t e = 0; e < r.n_evals; e++) {
        int32_t ep = r.evals[e].epoch, steps = ep >= 20 ? ep / 10 - 1 : 0;
        assert_near(r.evals[e].st.mean_ckpt[0], steps < 3 ? steps : 3, 0.0);
        assert_near(r.evals[e].st.mean_ckpt[1], steps < 2 ? steps : 2, 0.0);
        assert_int_equal(r.evals[e].st.phase, ep >= 40 ? 2 : 1);
    }
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
    o.decay = 0.995f;
    /* one teacher only */
    TU_OK(run(f, "hetcomp", &o, 1, &ctx, &r, &h));
    assert_int_equal(r.n_evals, 6);
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
}

/* BPR: no teachers, phase 0 (n/a), the loss falls, the student learns. */
static void test_loop_bpr(void **state)
{
    loop_fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.max_epochs = 61;
    hc_kd_ctx ctx;
    hc_distill_result r;
    hook_log h;
    TU_OK(run(f, "bpr", &o, 0, &ctx, &r, &h));
    assert_int_equal(r.n_evals, 7);
    for (int32_t e = 0; e < r.n_evals; e++) {
        assert_int_equal(r.evals[e].st.phase, 0);
        assert_near(r.evals[e].st.mean_ckpt[0], 0.0, 0.0);
    }
    assert_true(h.loss[60] < h.loss[0]);
    double r50 = r.evals[r.best].res.valid.recall[2];
    if (r50 < 1.5 * random_r50())
        fail_msg("bpr best valid R@50 %.3f vs random %.3f", r50, random_r50());
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
}

/* Early stopping: the run ends at the first run of `patience` evaluations without a better
 * validation Recall@50, and the student is the best one. */
static void test_loop_early_stop(void **state)
{
    loop_fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.max_epochs = 2000;
    o.patience = 2;
    o.lr = 0.05f;
    hc_kd_ctx ctx;
    hc_distill_result r;
    hook_log h;
    TU_OK(run(f, "hetcomp", &o, 2, &ctx, &r, &h));
    assert_true(r.epochs < 2000);
    int bad = 0;
    for (int32_t e = 0; e < r.n_evals; e++) {
        bad = r.evals[e].improved ? 0 : bad + 1;
        assert_true(bad <= 2);
        if (bad == 2)
            assert_int_equal(e, r.n_evals - 1);
    }
    assert_int_equal(bad, 2);
    assert_int_equal(r.evals[r.best].improved, 1);
    assert_int_equal(r.best, r.n_evals - 3);
    hc_eval_result again = evaluate(f, ctx.student);
    assert_res_equal(&again, &r.evals[r.best].res);
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
}

static void test_loop_refused(void **state)
{
    loop_fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.max_epochs = 3;
    hc_kd_ctx ctx;
    hc_distill_result r;
    hook_log h;
    /* hetcomp needs a teacher */
    assert_int_equal(run(f, "hetcomp", &o, 0, &ctx, &r, &h), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "teacher"));
    assert_int_equal(r.n_evals, 0);
    assert_null(r.evals);
    hc_model_free(ctx.student); /* the caller frees whatever student was made */
    /* a teacher of another dataset */
    uint64_t keep = f->teach[1].ds_checksum;
    f->teach[1].ds_checksum ^= 1;
    assert_int_equal(run(f, "hetcomp", &o, 2, &ctx, &r, &h), HC_EMISMATCH);
    assert_non_null(strstr(hc_errmsg(), "teacher1"));
    assert_null(ctx.student);
    f->teach[1].ds_checksum = keep;
    /* K out of range, bad sizes */
    hc_distill_opts bad = o;
    bad.k = 5;
    assert_int_equal(run(f, "hetcomp", &bad, 2, &ctx, &r, &h), HC_EINVAL);
    bad = o;
    bad.k = 513;
    assert_int_equal(run(f, "hetcomp", &bad, 2, &ctx, &r, &h), HC_EINVAL);
    bad = o;
    bad.dim = 0;
    assert_int_equal(run(f, "bpr", &bad, 0, &ctx, &r, &h), HC_EINVAL);
    bad = o;
    bad.batch = 0;
    assert_int_equal(run(f, "bpr", &bad, 0, &ctx, &r, &h), HC_EINVAL);
    assert_null(ctx.student);
    /* the registry */
    assert_null(hc_distiller_type_find("nosuch"));
    assert_non_null(hc_distiller_type_find("bpr"));
}

int main(void)
{
    const struct CMUnitTest dkc[] = {
        cmocka_unit_test(test_dist_known),
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_rule_walk),
    };
    const struct CMUnitTest loop[] = {
        cmocka_unit_test(test_loop_hetcomp),    cmocka_unit_test(test_loop_ablations),
        cmocka_unit_test(test_loop_bpr),        cmocka_unit_test(test_loop_early_stop),
        cmocka_unit_test(test_loop_refused),    cmocka_unit_test(test_loop_sampled),
        cmocka_unit_test(test_estimated_ranks),
    };
    int rc = cmocka_run_group_tests_name("dkc", dkc, NULL, NULL);
    return rc | cmocka_run_group_tests_name("loop", loop, loop_setup, loop_teardown);
}
