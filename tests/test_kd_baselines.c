/*
 * test_kd_baselines.c - the ranking-distillation baselines (src/distill/kdbase.c, rd.c, cd.c,
 * rrd.c, mtd.c, cldrd.c, dcd.c).
 *
 * Gradients: for every method, the KD loss of a unit's target (a user's, and for DCD an
 * item's too) against central finite differences of the same loss with respect to every
 * student user and item factor the target touches, on a small random problem (30 users,
 * 60 items, two teachers with random lists, student factors of scale 0.3), including RD with
 * its dynamic weight, CL-DRD at its first and last curriculum stage and MTD's gate with
 * respect to its teacher weights.
 * Targets, on hand-made rankings (one or two teachers whose lists for user 0 are set by
 * hand, student factors chosen so the student's order is known): RD's list and weights
 * (static, and the dynamic weight at both extremes of the rank estimate), CD's draws and soft
 * labels, RRD's list and its rest set (unobserved, outside the list, distinct, the same
 * within an epoch and new the next), MTD's gated list for three gates and the sign of its
 * gate gradient, CL-DRD's labels at each stage and the student positions, DCD's under- and
 * over-estimated sets (kept whole, and drawn in order when capped) and the sets the
 * evaluation hook builds from the student's own lists.
 * The loop: with lambda = 0 a baseline trains exactly the BPR student; every method trains
 * through hc_distill_run to a finite loss and a better validation recall than at epoch 0;
 * results do not depend on the thread count; bad options are refused.
 *
 * Tolerances: scores are float dot products and the losses use float exp, so a loss carries
 * ~1e-7 relative noise; with h = 1e-2 that is ~1e-5 times the loss on a derivative, and the
 * O(h^2) truncation error is of the same order. Each derivative must match to 1e-3 relative
 * with an absolute floor of 1e-3 times the largest derivative of the target.
 */
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/kdbase.h"
#include "model/factor.h"

#define FD_H   1e-2f
#define FD_REL 1e-3
#define FD_ABS 1e-3 /* times the largest |derivative| of the target */

#define NU 30
#define NI 60

typedef struct {
    hc_dataset ds;
    hc_traj teach[2];
    const hc_traj *tv[2];
    hc_kd_ctx ctx;
} fx;

/* The j-th unobserved item of user u (ascending ids). */
static int32_t unobs(const hc_dataset *ds, int32_t u, int32_t j)
{
    for (int32_t i = 0; i < ds->n_items; i++)
        if (!hc_csr_has(&ds->train, u, i) && j-- == 0)
            return i;
    fail_msg("user %d has too few unobserved items", u);
    return -1;
}

/* A teacher with 2 checkpoints whose lists hold each user's unobserved items of its group
 * (item % 3 == user % 3, as tu_make_dataset clusters them) in random order, then the
 * others (k in all). */
static void make_teacher(const hc_dataset *ds, hc_traj *t, const char *name, int32_t k,
                         uint64_t seed)
{
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "%s", name);
    t->n_users = ds->n_users;
    t->n_items = ds->n_items;
    t->n_ckpt = 2;
    t->k = k;
    t->ds_checksum = ds->checksum;
    t->train_nnz = ds->train.nnz;
    TU_OK(hc_traj_alloc(t, 0));
    hc_rng r;
    hc_rng_init(&r, seed, 0);
    int32_t *perm = malloc((size_t)ds->n_items * sizeof *perm);
    for (int32_t c = 0; c < 2; c++) {
        t->epochs[c] = c;
        t->valid_r50[c] = (float)c;
        for (int32_t u = 0; u < ds->n_users; u++) {
            int32_t n = 0, ng = 0;
            for (int pass = 0; pass < 2; pass++)
                for (int32_t i = 0; i < ds->n_items; i++)
                    if (!hc_csr_has(&ds->train, u, i) && (i % 3 == u % 3) == (pass == 0))
                        perm[n++] = i;
            for (int32_t i = 0; i < ds->n_items; i++)
                ng += !hc_csr_has(&ds->train, u, i) && i % 3 == u % 3;
            hc_rng_shuffle_i32(&r, perm, ng);
            hc_rng_shuffle_i32(&r, perm + ng, n - ng);
            int32_t *l = t->top + ((int64_t)c * t->n_users + u) * k;
            for (int32_t q = 0; q < k; q++)
                l[q] = q < n ? perm[q] : -1;
        }
    }
    free(perm);
}

/* Puts back teacher x of the fixture after a test changed its lists. */
static void reset_teacher(fx *f, int x)
{
    hc_traj_free(&f->teach[x]);
    make_teacher(&f->ds, &f->teach[x], x ? "B" : "A", 30, 11 + (uint64_t)x);
}

/* Sets user u's final-checkpoint list of teacher t (n items, the rest -1). */
static void set_list(hc_traj *t, int32_t u, const int32_t *items, int32_t n)
{
    int32_t *l = t->top + ((int64_t)(t->n_ckpt - 1) * t->n_users + u) * t->k;
    for (int32_t q = 0; q < t->k; q++)
        l[q] = q < n ? items[q] : -1;
}

/* Fills f: a clustered dataset (3 groups, 12 items per user) and two teachers. */
static void fx_init(fx *f, int32_t n_users, int32_t n_items, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    tu_make_dataset(&f->ds, n_users, n_items, 3, 12, seed);
    make_teacher(&f->ds, &f->teach[0], "A", 30, 11);
    make_teacher(&f->ds, &f->teach[1], "B", 30, 12);
    f->tv[0] = &f->teach[0];
    f->tv[1] = &f->teach[1];
}

static void fx_free(fx *f)
{
    hc_traj_free(&f->teach[0]);
    hc_traj_free(&f->teach[1]);
    hc_dataset_free(&f->ds);
}

static int setup(void **state)
{
    fx *f = malloc(sizeof *f);
    fx_init(f, NU, NI, 5);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    free(*state);
    return 0;
}

static void small_opts(hc_distill_opts *o)
{
    hc_distill_opts_default(o);
    o->k = 20;
    o->rrd_k = 15;
    o->rrd_l = 10;
    o->init_std = 0.3f;
    o->seed = 3;
}

/* A method's state on the fixture with n_teachers teachers and a fresh student, as the loop
 * sets it up (without training). */
static hc_kd *kd_new(fx *f, const char *name, const hc_distill_opts *o, int32_t n_teachers)
{
    memset(&f->ctx, 0, sizeof f->ctx);
    f->ctx.ds = &f->ds;
    f->ctx.n_teachers = n_teachers;
    f->ctx.teachers = f->tv;
    f->ctx.opts = *o;
    const hc_model_type *mf = hc_model_type_find("mf");
    hc_hparams hp;
    hc_hparams_default(mf, &hp);
    hp.dim = o->dim;
    hp.init_std = o->init_std;
    hp.seed = o->seed;
    TU_OK(hc_model_create(mf, &f->ds, &hp, &f->ctx.student));
    const hc_distiller_type *t = hc_distiller_type_find(name);
    assert_non_null(t);
    hc_kd *kd = calloc(1, t->size);
    kd->base.type = t;
    kd->base.ctx = &f->ctx;
    TU_OK(t->init(&kd->base));
    return kd;
}

static void kd_del(fx *f, hc_kd *kd)
{
    kd->base.type->free_fn(&kd->base);
    free(kd);
    hc_model_free(f->ctx.student);
    f->ctx.student = NULL;
}

/* Sets the student so that s(u, i) = a_u * b_i: P[u] = (a_u, 0, ..), Q[i] = (b_i, 0, ..). */
static void set_student(hc_kd *kd, const float *a, const float *b)
{
    float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
    memset(P, 0, (size_t)kd->U * kd->d * sizeof *P);
    memset(Q, 0, (size_t)kd->I * kd->d * sizeof *Q);
    for (int32_t u = 0; u < kd->U; u++)
        P[(int64_t)u * kd->d] = a ? a[u] : 1.0f;
    for (int32_t i = 0; i < kd->I; i++)
        Q[(int64_t)i * kd->d] = b[i];
}

/* ------------------------------------------------------------------ gradient checks */

/* Central differences of the target's loss w.r.t. one parameter. */
static double fd_param(const hc_kd *kd, const hc_kd_target *t, float *x)
{
    float old = *x, hi = old + FD_H, lo = old - FD_H;
    *x = hi;
    double lp = hc_kd_target_loss(kd, t, 1.0f, NULL, NULL);
    *x = lo;
    double lm = hc_kd_target_loss(kd, t, 1.0f, NULL, NULL);
    *x = old;
    return (lp - lm) / ((double)hi - (double)lo);
}

/* Checks dL/dP and dL/dQ of t against central differences; returns the entries checked. */
static int fd_check(const hc_kd *kd, const hc_kd_target *t, const char *what)
{
    const int32_t d = kd->d;
    float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
    float *gP = calloc((size_t)kd->U * d, sizeof *gP), *gQ = calloc((size_t)kd->I * d, sizeof *gQ);
    double L = hc_kd_target_loss(kd, t, 1.0f, gP, gQ);
    if (!isfinite(L))
        fail_msg("%s: loss %g", what, L);
    double gmax = 0.0;
    for (int64_t k = 0; k < (int64_t)kd->U * d; k++)
        gmax = fmax(gmax, fabs((double)gP[k]));
    for (int64_t k = 0; k < (int64_t)kd->I * d; k++)
        gmax = fmax(gmax, fabs((double)gQ[k]));
    if (!(gmax > 0.0))
        fail_msg("%s: zero gradient", what);
    unsigned char *du = calloc((size_t)kd->U, 1), *di = calloc((size_t)kd->I, 1);
    int checked = 0;
    for (int32_t k = 0; k < t->n; k++)
        for (int side = 0; side < 2; side++) {
            int32_t id = side ? t->i[k] : t->u[k];
            unsigned char *done = side ? di : du;
            if (done[id])
                continue;
            done[id] = 1;
            float *row = (side ? Q : P) + (int64_t)id * d;
            const float *g = (side ? gQ : gP) + (int64_t)id * d;
            for (int32_t j = 0; j < d; j++) {
                double fd = fd_param(kd, t, &row[j]), an = (double)g[j];
                if (!(fabs(fd - an) <= FD_REL * fabs(an) + FD_ABS * gmax))
                    fail_msg("%s: d/d%s[%d][%d] = %.8g, finite differences %.8g (loss %g)", what,
                             side ? "Q" : "P", id, j, an, fd, L);
                checked++;
            }
        }
    free(du);
    free(di);
    free(gP);
    free(gQ);
    return checked;
}

/* Builds the target of (side, id) in thread scratch 0 and checks its gradient. */
static void check_unit(hc_kd *kd, int side, int32_t id, const char *what)
{
    TU_OK(hc_kd_unit_target(kd, side, id, &kd->scr[0]));
    if (kd->scr[0].t.n == 0)
        fail_msg("%s: empty target", what);
    assert_true(fd_check(kd, &kd->scr[0].t, what) > 0);
}

static void test_grad_rd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    hc_kd *kd = kd_new(f, "rd", &o, 2);
    for (int32_t u = 0; u < 5; u++) {
        kd->epoch = 0; /* position weights only */
        check_unit(kd, HC_KD_USERS, u, "rd static");
        kd->epoch = o.rd_start; /* with the rank discrepancy weight */
        check_unit(kd, HC_KD_USERS, u, "rd dynamic");
    }
    kd_del(f, kd);
}

static void test_grad_cd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.cd_items = 8; /* more pairs than the default 2 */
    hc_kd *kd = kd_new(f, "cd", &o, 2);
    kd->epoch = 0;
    TU_OK(kd->m->begin_epoch(kd, 0));
    for (int32_t u = 0; u < 5; u++)
        check_unit(kd, HC_KD_USERS, u, "cd");
    kd_del(f, kd);
}

static void test_grad_rrd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    hc_kd *kd = kd_new(f, "rrd", &o, 2);
    for (int32_t u = 0; u < 5; u++)
        check_unit(kd, HC_KD_USERS, u, "rrd");
    kd_del(f, kd);
}

static void test_grad_mtd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    hc_kd *kd = kd_new(f, "mtd", &o, 2);
    float *th = hc_kd_mtd_theta(kd), *gth = hc_kd_mtd_gtheta(kd);
    for (int32_t u = 0; u < 5; u++) {
        th[2 * u] = 0.3f * (float)u;
        th[2 * u + 1] = -0.2f;
        TU_OK(kd->m->begin_epoch(kd, 0)); /* the gated lists */
        check_unit(kd, HC_KD_USERS, u, "mtd");
        /* the gate: L_gate (extra_loss) against central differences in theta */
        gth[2 * u] = gth[2 * u + 1] = 0.0f;
        TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, u, &kd->scr[0]));
        float g[2] = {gth[2 * u], gth[2 * u + 1]};
        for (int x = 0; x < 2; x++) {
            float old = th[2 * u + x];
            th[2 * u + x] = old + FD_H;
            TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, u, &kd->scr[0]));
            double lp = kd->scr[0].t.extra_loss;
            th[2 * u + x] = old - FD_H;
            TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, u, &kd->scr[0]));
            double lm = kd->scr[0].t.extra_loss;
            th[2 * u + x] = old;
            double fd = (lp - lm) / (2.0 * (double)FD_H);
            assert_near(g[x], fd, FD_REL * fabs(fd) + 1e-5);
        }
        gth[2 * u] = gth[2 * u + 1] = 0.0f;
    }
    kd_del(f, kd);
}

static void test_grad_cldrd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.cl_list = 20;
    hc_kd *kd = kd_new(f, "cldrd", &o, 2);
    for (int32_t u = 0; u < 5; u++) {
        kd->epoch = 0; /* K = 5 and the two groups */
        check_unit(kd, HC_KD_USERS, u, "cldrd stage 1");
        kd->epoch = 3 * o.cl_every; /* the whole list ordered */
        check_unit(kd, HC_KD_USERS, u, "cldrd stage 4");
    }
    kd_del(f, kd);
}

static void test_grad_dcd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.dcd_n = 15;
    o.dcd_eps = 2.0f;
    hc_kd *kd = kd_new(f, "dcd", &o, 2);
    TU_OK(kd->m->after_eval(kd, 0, NULL));
    for (int32_t u = 0; u < 5; u++) {
        check_unit(kd, HC_KD_USERS, u, "dcd user");
        assert_int_equal(kd->scr[0].t.n_parts, 4);
    }
    int items = 0;
    for (int32_t i = 0; i < NI && items < 5; i++) {
        TU_OK(hc_kd_unit_target(kd, HC_KD_ITEMS, i, &kd->scr[0]));
        hc_kd_target *t = &kd->scr[0].t;
        if (t->part[1] < 2) /* a one-user list without rest has no gradient */
            continue;
        for (int32_t k = 0; k < t->n; k++)
            assert_int_equal(t->i[k], i);
        assert_true(fd_check(kd, t, "dcd item") > 0);
        items++;
    }
    assert_int_equal(items, 5);
    kd_del(f, kd);
}

/* ------------------------------------------------------------------ targets */

/* The hand-made teacher list of user 0: its unobserved items 10, 3, 7, 0, 12, 5, 1, ... */
static int32_t hand_list(const hc_dataset *ds, int32_t *out, int32_t n)
{
    static const int js[] = {10, 3, 7, 0, 12, 5, 1, 8, 2, 14, 4, 6, 9, 11, 13, 15, 16, 17, 18, 19};
    for (int32_t r = 0; r < n; r++)
        out[r] = unobs(ds, 0, js[r]);
    return n;
}

/* The method on the fixture with teacher A alone, whose list for user 0 is hand_list's 20
 * items (into L); with by_id, a student ranking items by id (s(u, i) = -i). */
static hc_kd *hand_kd(fx *f, const char *name, const hc_distill_opts *o, int32_t *L, int by_id)
{
    hand_list(&f->ds, L, 20);
    set_list(&f->teach[0], 0, L, 20);
    hc_kd *kd = kd_new(f, name, o, 1);
    if (by_id) {
        float b[NI];
        for (int32_t i = 0; i < NI; i++)
            b[i] = -(float)i;
        set_student(kd, NULL, b);
    }
    return kd;
}

static void test_target_rd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.rd_k = 5;
    o.rd_lambda = 2.0f;
    o.rd_mu = 0.1f;
    int32_t L[20];
    hc_kd *kd = hand_kd(f, "rd", &o, L, 0);
    hc_kd_target *t = &kd->scr[0].t;
    /* static: the first 5 items in order, w_r = exp(-r/2) / sum_{r'=1..5} exp(-r'/2) */
    double z = 0.0;
    for (int r = 1; r <= 5; r++)
        z += exp(-r / 2.0);
    kd->epoch = 0;
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    assert_int_equal(t->n, 5);
    for (int r = 0; r < 5; r++) {
        assert_int_equal(t->u[r], 0);
        assert_int_equal(t->i[r], L[r]);
        assert_near(t->w[r], exp(-(r + 1) / 2.0) / z, 1e-7);
    }
    /* dynamic, the listed items scored below every other item: the sampled items are above
     * them but for the listed ones the sample may hold (ties do not count), so
     * rhat >= 59 (1 - 5/52 - noise) > 40 and with mu = 1 the dynamic weight is 1 in float */
    float b[NI];
    for (int32_t i = 0; i < NI; i++)
        b[i] = 1.0f;
    for (int r = 0; r < 5; r++)
        b[L[r]] = -1.0f;
    set_student(kd, NULL, b);
    kd->epoch = o.rd_start;
    kd->base.ctx->opts.rd_mu = 1.0f;
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    for (int r = 0; r < 5; r++)
        assert_near(t->w[r], exp(-(r + 1) / 2.0) / z, 1e-7);
    /* ... and above every other item: rhat = 0, w^b = max(0, tanh(-0.1 (r - 1))) = 0 */
    for (int32_t i = 0; i < NI; i++)
        b[i] = -b[i];
    set_student(kd, NULL, b);
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    for (int r = 0; r < 5; r++)
        assert_near(t->w[r], 0.0, 0.0);
    /* the weights on their own: a rank estimate between the extremes */
    int32_t cnt[3] = {50, 10, 0};
    float w[3];
    hc_kd_rd_weights(3, 4, 1.0f, 0.5f, 1, cnt, 100, 101, w);
    double z4 = exp(-1.0) + exp(-2.0) + exp(-3.0) + exp(-4.0);
    assert_near(w[0], exp(-1.0) / z4 * tanh(0.5 * 50.0), 1e-7);         /* rhat 50 */
    assert_near(w[1], exp(-2.0) / z4 * tanh(0.5 * (10.0 - 1.0)), 1e-7); /* rhat 10 */
    assert_near(w[2], 0.0, 0.0);                                        /* rhat 0 < r - 1 */
    kd_del(f, kd);
    reset_teacher(f, 0);
}

static void test_target_cd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.cd_items = 2;
    o.cd_candidates = 2;
    int32_t L[20];
    /* the student ranks by item id: its top two unobserved items of user 0 are unobs 0 and 1,
     * at ensemble ranks 3 and 6 */
    hc_kd *kd = hand_kd(f, "cd", &o, L, 1);
    kd->epoch = 0;
    TU_OK(kd->m->begin_epoch(kd, 0));
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    hc_kd_target *t = &kd->scr[0].t;
    assert_int_equal(t->n, 2);
    int32_t a = unobs(&f->ds, 0, 0), c = unobs(&f->ds, 0, 1);
    assert_true((t->i[0] == a && t->i[1] == c) || (t->i[0] == c && t->i[1] == a));
    for (int k = 0; k < 2; k++)
        assert_near(t->w[k], exp(-(t->i[k] == a ? 3.0 : 6.0) / 10.0), 1e-6);
    /* one candidate, one item: the student's top item, every epoch */
    kd_del(f, kd);
    o.cd_items = 1;
    o.cd_candidates = 1;
    kd = hand_kd(f, "cd", &o, L, 1);
    /* user 1's top item is outside the teacher's (random) list only by chance: its label is
     * exp(-r/10) at its rank r in the list, or 0 */
    for (int32_t ep = 0; ep < 3; ep++) {
        kd->epoch = ep;
        TU_OK(kd->m->begin_epoch(kd, ep));
        TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
        assert_int_equal(kd->scr[0].t.n, 1);
        assert_int_equal(kd->scr[0].t.i[0], a);
        TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 1, &kd->scr[0]));
        int32_t top1 = unobs(&f->ds, 1, 0);
        assert_int_equal(kd->scr[0].t.i[0], top1);
        double want = 0.0;
        for (int32_t r = 0; r < kd->nT[1]; r++)
            if (kd->T[kd->K + r] == top1)
                want = exp(-r / 10.0);
        assert_near(kd->scr[0].t.w[0], want, 1e-6);
    }
    kd_del(f, kd);
    reset_teacher(f, 0);
}

static void test_target_rrd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.rrd_k = 8;
    o.rrd_l = 12;
    int32_t L[20];
    hc_kd *kd = hand_kd(f, "rrd", &o, L, 0);
    hc_kd_target *t = &kd->scr[0].t;
    int32_t rest[3][12];
    for (int32_t ep = 0; ep < 3; ep++) {
        kd->epoch = ep < 2 ? 4 : 5; /* twice in epoch 4, then epoch 5 */
        TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
        assert_int_equal(t->n_parts, 2);
        assert_int_equal(t->part[1], 8);
        assert_int_equal(t->part[2], 20);
        for (int r = 0; r < 8; r++)
            assert_int_equal(t->i[r], L[r]);
        for (int k = 8; k < 20; k++) {
            int32_t j = t->i[k];
            assert_int_equal(t->u[k], 0);
            assert_false(hc_csr_has(&f->ds.train, 0, j));
            for (int r = 0; r < 20; r++) /* outside the whole ensemble list (K = 20) */
                assert_int_not_equal(j, L[r]);
            for (int q = 8; q < k; q++)
                assert_int_not_equal(j, t->i[q]);
            rest[ep][k - 8] = j;
        }
    }
    assert_memory_equal(rest[0], rest[1], sizeof rest[0]);
    assert_true(memcmp(rest[0], rest[2], sizeof rest[0]) != 0);
    /* a user with fewer items left than rrd_l gets all of them: rest = 60 - 8 train - 20 */
    kd_del(f, kd);
    o.rrd_l = 50;
    kd = kd_new(f, "rrd", &o, 1);
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    int32_t left = NI - hc_csr_row_len(&f->ds.train, 0) - 20;
    assert_int_equal(kd->scr[0].t.part[2] - kd->scr[0].t.part[1], left);
    kd_del(f, kd);
    reset_teacher(f, 0);
}

static void test_target_mtd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.rrd_k = 20;
    o.rrd_l = 0;
    /* teacher A lists user 0's unobserved items 0..9, B items 10..19 (disjoint) */
    int32_t A[10], B[10];
    for (int r = 0; r < 10; r++) {
        A[r] = unobs(&f->ds, 0, r);
        B[r] = unobs(&f->ds, 0, 10 + r);
    }
    set_list(&f->teach[0], 0, A, 10);
    set_list(&f->teach[1], 0, B, 10);
    hc_kd *kd = kd_new(f, "mtd", &o, 2);
    float *th = hc_kd_mtd_theta(kd), *gth = hc_kd_mtd_gtheta(kd);
    hc_kd_target *t = &kd->scr[0].t;
    /* theta = (0, 10): B's list, then A's; (10, 0): the other way round; (0, 0): the plain
     * ensemble, A_r and B_r tied at every rank (A's ids are the smaller ones) */
    const float thetas[3][2] = {{0.0f, 10.0f}, {10.0f, 0.0f}, {0.0f, 0.0f}};
    for (int c = 0; c < 3; c++) {
        th[0] = thetas[c][0];
        th[1] = thetas[c][1];
        TU_OK(kd->m->begin_epoch(kd, 0)); /* the gated lists follow theta from epoch to epoch */
        TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
        assert_int_equal(t->part[1], 20);
        for (int r = 0; r < 20; r++) {
            int32_t want = c == 0   ? (r < 10 ? B[r] : A[r - 10])
                           : c == 1 ? (r < 10 ? A[r] : B[r - 10])
                                    : (r % 2 == 0 ? A[r / 2] : B[r / 2]);
            assert_int_equal(t->i[r], want);
        }
    }
    /* the gate gradient favours the teacher the student follows: a student that ranks A's
     * items first lowers CE_A, so dL/dtheta_A < 0 < dL/dtheta_B */
    float b[NI];
    for (int32_t i = 0; i < NI; i++)
        b[i] = 0.0f;
    for (int r = 0; r < 10; r++) {
        b[A[r]] = 3.0f - 0.2f * (float)r;
        b[B[r]] = -3.0f;
    }
    set_student(kd, NULL, b);
    gth[0] = gth[1] = 0.0f;
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    assert_true(gth[0] < 0.0f && gth[1] > 0.0f);
    assert_near(gth[0] + gth[1], 0.0, 1e-6); /* softmax: the gradient sums to zero */
    kd_del(f, kd);
    reset_teacher(f, 0);
    reset_teacher(f, 1);
}

static void test_target_cldrd(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.k = 30;
    o.cl_every = 7;
    int32_t L[30];
    hand_list(&f->ds, L, 20);
    for (int r = 20; r < 30; r++)
        L[r] = unobs(&f->ds, 0, r);
    set_list(&f->teach[0], 0, L, 30);
    hc_kd *kd = kd_new(f, "cldrd", &o, 1);
    /* the student orders the list backwards: s = rank, so position = 30 - rank */
    float b[NI];
    for (int32_t i = 0; i < NI; i++)
        b[i] = -100.0f;
    for (int r = 0; r < 30; r++)
        b[L[r]] = (float)r;
    set_student(kd, NULL, b);
    hc_kd_target *t = &kd->scr[0].t;
    const int32_t kc[4] = {5, 10, 20, 30}, nx[4] = {12, 10, 5, 0};
    for (int st = 0; st < 4; st++) {
        kd->epoch = st * 7 + (st == 3 ? 100 : 3); /* stages stop at the last */
        TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
        assert_int_equal(t->n, 30);
        for (int r = 0; r < 30; r++) {
            assert_int_equal(t->i[r], L[r]);
            double want = r < kc[st] ? 1.0 / (r + 1) : r < kc[st] + nx[st] ? -0.25 : -0.5;
            assert_near(t->w[r], want, 1e-7);
            assert_near(t->w2[r], 30 - r, 0.0);
        }
    }
    kd_del(f, kd);
    reset_teacher(f, 0);
}

/* Scratch for hc_kd_dcd_sets over ids < 100. */
typedef struct {
    hc_kd_scratch s;
    int32_t mark[100], val[100], ibuf[100];
    float fbuf[100];
} dcd_scr;

static void dcd_scr_init(dcd_scr *d)
{
    memset(d, 0, sizeof *d);
    d->s.mark = d->mark;
    d->s.val = d->val;
    d->s.ibuf = d->ibuf;
    d->s.fbuf = d->fbuf;
}

static void test_target_dcd_sets(void **state)
{
    (void)state;
    dcd_scr d;
    dcd_scr_init(&d);
    hc_rng r;
    hc_rng_init(&r, 1, 2);
    /* teacher 10 11 12 13 14, student 12 20 10 21 11 13; outside ranks 6.
     * under (tl[:5], r_S > r_T): 10 (0 -> 2), 11 (1 -> 4), 13 (3 -> 5), 14 (4 -> 6); not 12.
     * over (sl[:5], r_T > r_S): 12 (0 <- 2), 20 (1 <- 6), 21 (3 <- 6); not 10, 11. */
    const int32_t tl[5] = {10, 11, 12, 13, 14}, sl[6] = {12, 20, 10, 21, 11, 13};
    int32_t under[8], over[8], n_over;
    int32_t n_under = hc_kd_dcd_sets(tl, 5, sl, 6, 5, 10.0f, 8, &r, &d.s, under, over, &n_over);
    assert_int_equal(n_under, 4);
    assert_int_equal(n_over, 3);
    const int32_t wu[4] = {10, 11, 13, 14}, wo[3] = {12, 20, 21};
    assert_memory_equal(under, wu, sizeof wu);
    assert_memory_equal(over, wo, sizeof wo);
    /* N = 3: only tl[:3] and sl[:3] are candidates */
    n_under = hc_kd_dcd_sets(tl, 5, sl, 6, 3, 10.0f, 8, &r, &d.s, under, over, &n_over);
    assert_int_equal(n_under, 2);
    assert_int_equal(under[0], 10);
    assert_int_equal(under[1], 11);
    assert_int_equal(n_over, 2);
    assert_int_equal(over[0], 12);
    assert_int_equal(over[1], 20);
    /* capped at 2: two distinct candidates in teacher (student) order; with eps large the
     * draw favours big gaps: 14 (gap 2) vs 11 (gap 3) vs 10 and 13 (gap 2) - every
     * candidate is drawn sometimes, the 3-gap one most */
    int hits[100] = {0};
    for (int rep = 0; rep < 2000; rep++) {
        n_under = hc_kd_dcd_sets(tl, 5, sl, 6, 5, 1000.0f, 2, &r, &d.s, under, over, &n_over);
        assert_int_equal(n_under, 2);
        assert_int_equal(n_over, 2);
        int p0 = -1, p1 = -1;
        for (int k = 0; k < 4; k++) {
            p0 = wu[k] == under[0] ? k : p0;
            p1 = wu[k] == under[1] ? k : p1;
        }
        assert_true(p0 >= 0 && p1 > p0);
        hits[under[0]]++;
        hits[under[1]]++;
    }
    for (int k = 0; k < 4; k++)
        assert_true(hits[wu[k]] > 100);
    assert_true(hits[11] > hits[10] && hits[11] > hits[13] && hits[11] > hits[14]);
    /* a student list matching the teacher's: nothing to correct */
    n_under = hc_kd_dcd_sets(tl, 5, tl, 5, 5, 10.0f, 8, &r, &d.s, under, over, &n_over);
    assert_int_equal(n_under, 0);
    assert_int_equal(n_over, 0);
}

/* The evaluation hook's sets: user 0's under set from the ensemble list and the student's
 * own ranking (s = -item id). */
static void test_target_dcd_hook(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    small_opts(&o);
    o.dcd_n = 10;
    o.dcd_eps = 1.0f;
    int32_t L[20];
    hc_kd *kd = hand_kd(f, "dcd", &o, L, 1);
    TU_OK(kd->m->after_eval(kd, 0, NULL));
    TU_OK(hc_kd_unit_target(kd, HC_KD_USERS, 0, &kd->scr[0]));
    hc_kd_target *t = &kd->scr[0].t;
    assert_int_equal(t->n_parts, 4);
    /* student list: unobs 0, 1, 2, ... (rank j = index j), teacher: L = unobs 10 3 7 0 12 5
     * 1 8 2 14 4 6 9 11 13 15 .. 19 (N = 10; the student list has N + 5 eps = 15 items).
     * Under (r_T -> r_S): 10 (0 -> 10), 3 (1 -> 3), 7 (2 -> 7), 12 (4 -> 12), 8 (7 -> 8),
     * 14 (9 -> 14); not 0 (3 -> 0), 5 (5 -> 5), 1 (6 -> 1), 2 (8 -> 2).
     * Over (r_S <- r_T): 0 (0 <- 3), 1 (1 <- 6), 2 (2 <- 8), 4 (4 <- 10), 6 (6 <- 11),
     * 9 (9 <- 12); not 3, 5, 7, 8. */
    const int wu[] = {10, 3, 7, 12, 8, 14}, wo[] = {0, 1, 2, 4, 6, 9};
    assert_int_equal(t->part[3] - t->part[2], 6);
    assert_int_equal(t->part[4] - t->part[3], 6);
    for (int k = 0; k < 6; k++) {
        assert_int_equal(t->i[t->part[2] + k], unobs(&f->ds, 0, wu[k]));
        assert_int_equal(t->i[t->part[3] + k], unobs(&f->ds, 0, wo[k]));
    }
    kd_del(f, kd);
    reset_teacher(f, 0);
}

/* ------------------------------------------------------------------ the loop */

static int run(fx *f, const char *name, const hc_distill_opts *o, hc_distill_result *r)
{
    memset(&f->ctx, 0, sizeof f->ctx);
    f->ctx.ds = &f->ds;
    f->ctx.n_teachers = 2;
    f->ctx.teachers = f->tv;
    f->ctx.opts = *o;
    return hc_distill_run(hc_distiller_type_find(name), &f->ctx, NULL, r);
}

static void loop_opts(hc_distill_opts *o)
{
    small_opts(o);
    o->init_std = 0.01f;
    o->max_epochs = 21;
    o->patience = 100;
    o->batch = 64;
    o->lr = 0.01f;
}

/* lambda = 0: the same student as plain BPR, bit for bit. */
static void test_lambda0_is_bpr(void **state)
{
    fx *f = *state;
    hc_distill_opts o;
    loop_opts(&o);
    o.rrd_lambda = 0.0f;
    hc_distill_result a, b;
    TU_OK(run(f, "bpr", &o, &a));
    hc_model *sa = f->ctx.student;
    TU_OK(run(f, "rrd", &o, &b));
    hc_model *sb = f->ctx.student;
    hc_factor_model *fa = (hc_factor_model *)sa, *fb = (hc_factor_model *)sb;
    assert_memory_equal(fa->P, fb->P, (size_t)NU * 6 * sizeof(float));
    assert_memory_equal(fa->Q, fb->Q, (size_t)NI * 6 * sizeof(float));
    assert_int_equal(a.n_evals, b.n_evals);
    for (int32_t e = 0; e < a.n_evals; e++)
        assert_near(a.evals[e].loss, b.evals[e].loss, 1e-9 * fabs(a.evals[e].loss));
    hc_model_free(sa);
    hc_model_free(sb);
    f->ctx.student = NULL;
    hc_distill_result_free(&a);
    hc_distill_result_free(&b);
}

/* Every method trains: finite losses, a better valid R@10 than at epoch 0, and the student
 * the loop keeps scores, evaluated afresh, what its best evaluation reported. */
static void test_methods_train(void **state)
{
    fx *f = *state;
    static const char *names[] = {"rd", "cd", "rrd", "mtd", "cldrd", "dcd"};
    for (int m = 0; m < 6; m++) {
        hc_distill_opts o;
        loop_opts(&o);
        o.max_epochs = 41;
        o.cl_every = 10;
        hc_distill_result r;
        TU_OK(run(f, names[m], &o, &r));
        assert_true(r.n_evals == 5);
        for (int32_t e = 0; e < r.n_evals; e++) {
            if (!isfinite(r.evals[e].loss) || !(r.evals[e].loss > 0.0))
                fail_msg("%s: loss %g at epoch %d", names[m], r.evals[e].loss, r.evals[e].epoch);
            assert_int_equal(r.evals[e].epoch, 10 * e);
        }
        assert_in_range(r.best, 0, r.n_evals - 1);
        hc_scorer sc = hc_model_scorer(f->ctx.student);
        hc_eval_result now;
        TU_OK(hc_evaluate(&f->ds, &sc, NULL, &now));
        const hc_metrics *kept = &r.evals[r.best].res.valid;
        assert_int_equal(now.valid.n_users, kept->n_users);
        assert_memory_equal(now.valid.recall, kept->recall, sizeof kept->recall);
        assert_memory_equal(now.valid.ndcg, kept->ndcg, sizeof kept->ndcg);
        double first = r.evals[0].res.valid.recall[0], best = first;
        for (int32_t e = 1; e < r.n_evals; e++) /* (R@50 is 1 on 60 items: no selection) */
            best = fmax(best, r.evals[e].res.valid.recall[0]);
        if (!(best > first))
            fail_msg("%s: valid R@10 %g, %g at epoch 0", names[m], best, first);
        hc_model_free(f->ctx.student);
        f->ctx.student = NULL;
        hc_distill_result_free(&r);
    }
}

/* Results do not depend on the thread count (a step's units split over threads). */
static void test_threads(void **state)
{
    (void)state;
    fx g;
    fx_init(&g, 200, 300, 8);
    static const char *names[] = {"mtd", "dcd"};
    for (int m = 0; m < 2; m++) {
        hc_distill_opts o;
        loop_opts(&o);
        o.batch = 512; /* about 200 users a step */
        o.max_epochs = 11;
        float *P[2];
        for (int th = 0; th < 2; th++) {
            omp_set_num_threads(th ? 3 : 1);
            hc_distill_result r;
            TU_OK(run(&g, names[m], &o, &r));
            P[th] = malloc((size_t)200 * 6 * sizeof(float));
            memcpy(P[th], ((hc_factor_model *)g.ctx.student)->P, (size_t)200 * 6 * sizeof(float));
            hc_model_free(g.ctx.student);
            g.ctx.student = NULL;
            hc_distill_result_free(&r);
        }
        if (memcmp(P[0], P[1], (size_t)200 * 6 * sizeof(float)) != 0)
            fail_msg("%s: 1 and 3 threads train different students", names[m]);
        free(P[0]);
        free(P[1]);
    }
    omp_set_num_threads(omp_get_num_procs());
    fx_free(&g);
}

static void test_refused(void **state)
{
    fx *f = *state;
    static const char *names[] = {"rd", "cd", "rrd", "mtd", "cldrd", "dcd"};
    hc_distill_result r;
    for (int m = 0; m < 6; m++) { /* no teachers */
        hc_distill_opts o;
        loop_opts(&o);
        memset(&f->ctx, 0, sizeof f->ctx);
        f->ctx.ds = &f->ds;
        f->ctx.opts = o;
        assert_int_equal(hc_distill_run(hc_distiller_type_find(names[m]), &f->ctx, NULL, &r),
                         HC_EINVAL);
        hc_model_free(f->ctx.student);
        f->ctx.student = NULL;
    }
    hc_distill_opts o;
    loop_opts(&o);
    o.rrd_l = 100000;
    assert_int_equal(run(f, "rrd", &o, &r), HC_EINVAL);
    hc_model_free(f->ctx.student);
    loop_opts(&o);
    o.cd_items = 0;
    assert_int_equal(run(f, "cd", &o, &r), HC_EINVAL);
    hc_model_free(f->ctx.student);
    loop_opts(&o);
    o.dcd_eps = 0.0f;
    assert_int_equal(run(f, "dcd", &o, &r), HC_EINVAL);
    hc_model_free(f->ctx.student);
    loop_opts(&o);
    o.cl_list = 1;
    assert_int_equal(run(f, "cldrd", &o, &r), HC_EINVAL);
    hc_model_free(f->ctx.student);
    /* a teacher that is one rank's share (docs/distributed.md): a method reading every
     * user's lists (DCD's item units) refuses it, and so do those reading their own users'
     * (MTD, HetComp), since this run is not that rank's */
    loop_opts(&o);
    f->teach[1].part_size = 2;
    f->teach[1].part_rank = 1;
    assert_int_equal(run(f, "dcd", &o, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "every user's lists"));
    for (int k = 0; k < 2; k++) {
        assert_int_equal(run(f, k ? "hetcomp" : "mtd", &o, &r), HC_EINVAL);
        assert_non_null(strstr(hc_errmsg(), "rank 1 of 2"));
    }
    f->teach[1].part_size = f->teach[1].part_rank = 0;
    hc_model_free(f->ctx.student);
    f->ctx.student = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_rd),         cmocka_unit_test(test_grad_cd),
        cmocka_unit_test(test_grad_rrd),        cmocka_unit_test(test_grad_mtd),
        cmocka_unit_test(test_grad_cldrd),      cmocka_unit_test(test_grad_dcd),
        cmocka_unit_test(test_target_rd),       cmocka_unit_test(test_target_cd),
        cmocka_unit_test(test_target_rrd),      cmocka_unit_test(test_target_mtd),
        cmocka_unit_test(test_target_cldrd),    cmocka_unit_test(test_target_dcd_sets),
        cmocka_unit_test(test_target_dcd_hook), cmocka_unit_test(test_lambda0_is_bpr),
        cmocka_unit_test(test_methods_train),   cmocka_unit_test(test_threads),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
