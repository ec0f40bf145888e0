/*
 * hetcomp.c - HetComp (Kang et al., WWW 2023) as docs/method.md §3-§7 specify it: the MF student
 * trained only by the adaptive knowledge transfer losses (distill/akt.c) on ensemble lists
 * that dynamic knowledge construction moves, per user and per teacher, from early to late
 * checkpoints of the teachers' trajectories as the student catches up.
 *
 * The hot loop, per step: the step's users (unique users of a shuffled batch of train
 * interactions) are split over OpenMP threads in contiguous shares; each thread runs the
 * fused AKT kernel (distill/akt.c, hc_akt_group) on groups of 8 of its users: scores
 * s = p_u Q^T from the transposed item factors (d x I, so item loops vectorise; with d = 6 a
 * BLAS call would spend more time packing than computing), exp and masked sums, the loss and
 * score gradient, dp_u = g Q and the item gradients dQ += g^T p_u into a per-thread d x I
 * accumulator, summed over threads in thread order after the step. Memory: O(threads x d x I)
 * for the step, the teachers' top lists (M x C x U x K ints) and the current lists (U x K),
 * each rank holding its own users' share of both (about 1 / ranks); never users x items. Results
 * depend on the thread count only through float summation order. The student's Adam is dense (every
 * row moves every step), as the reference's is; with d = 6 a step's update is (U + I) x 6 floats.
 *
 * Ranks (docs/distributed.md), exact path: every rank draws the same epoch stream and takes
 * the same steps, but a step's users are only those it owns (u % size == rank); the item
 * gradient gQ is sum-reduced over ranks before Adam, so every rank applies the same update
 * to Q, while a user's row of P is right only on its owner (the other ranks' copies see a
 * zero gradient; the evaluation scores each user on its owner, and the loop gathers the
 * rows at the end). The teachers may be shares (hc_traj_load_part): a rank builds the lists
 * of, and runs DKC on, its own users only; the phase switch (every pair final) is an and
 * over ranks and the status's mean checkpoints a sum, so every rank decides and reports the
 * same. One rank is the serial code bit for bit. The sampled path shards the users alike;
 * its item gradients are summed onto their owners over the touched items only (akt_sampled.h), and
 * the estimated DKC ranks of a user read its own row of P, right on its owner.
 *
 * DKC (docs/method.md §6): v[x][u] is teacher x's checkpoint for user u, starting at 0. At the
 * evaluation of every p-th epoch from epoch p on, the first time records
 * last = dist(student, snapshot v+1); afterwards a pair moves (v += 1, last = dist to the
 * next snapshot) when last/now > alpha * decay^(epoch / p) or last/now < 1 (or now = 0);
 * the lists are rebuilt, and once every pair is at its last checkpoint the loss switches
 * from the set-level (phase 1) to the permutation-level one (phase 2).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "distill/akt.h"
#include "distill/akt_sampled.h"
#include "distill/distill.h"
#include "distill/dkc.h"
#include "dist/dist.h"
#include "model/factor.h"
#include "optim/adam.h"
#include "optim/sampler.h"

typedef struct {
    hc_distiller base; /* must be first */
    hc_ensemble ens;
    int32_t M, U, I, K, KP; /* teachers, users, items, list length, observed length (K/10) */
    int32_t *v;             /* M x U current checkpoints */
    double *last;           /* M x U distance at the last move */
    int dkc_started;
    int phase;
    int32_t *T, *nT; /* rows x K current ensemble lists of this rank's users, and lengths */
    int32_t *P, *nP; /* rows x KP observed lists */
    /* optimiser */
    hc_adam adam;
    float *mP, *vP, *mQ, *vQ, *gP, *gQ;
    /* step scratch */
    hc_epoch_samples samples;
    int32_t *step_users;
    int64_t *seen;       /* U: last step a user was added, for de-duplication */
    int64_t step_tag;    /* steps taken (tags start at 1) */
    float *Qt;           /* d x I: the item factors transposed, so item loops vectorise */
    float *dQt;          /* n_threads x d x I: per-thread item gradients of a step */
    double *uloss;       /* batch: per-user losses, summed in order */
    unsigned char *work; /* n_threads x work_stride: the kernel's work memory */
    size_t work_stride;
    int n_threads;
    int rank, size; /* users owned: u % size == rank, user u at row u / size */
    int32_t rows;   /* users owned */
    /* sampled rest sets and estimated DKC ranks (docs/distillation.md) */
    int sampled, dkc_estimated;
    hc_proposal prop;       /* the rest sets' draws (with the head), and DKC's without one */
    hc_proposal dkc_plain;  /* DKC's when the rest sets' has a head */
    const hc_proposal *dkc; /* the one DKC draws from */
    hc_akt_sampler smp;
    hc_akt_lists *step_lists; /* batch: the lists of a step's users */
    int32_t *top50;           /* U x 50: the estimated student top lists */
} hetcomp_kd;

static hc_factor_model *student(hetcomp_kd *h)
{
    return (hc_factor_model *)h->base.ctx->student;
}

/* The j-th user this rank owns. */
static inline int32_t owned_user(const hetcomp_kd *h, int32_t j)
{
    return h->rank + j * h->size;
}

/* Rebuilds the ensemble lists of this rank's users from the current checkpoints. */
static int rebuild_lists(hetcomp_kd *h)
{
    int rc = HC_OK;
#pragma omp parallel
    {
        hc_ensemble_scratch s;
        int32_t *ck = malloc((size_t)h->M * sizeof *ck);
        int ok = ck && hc_ensemble_scratch_init(&h->ens, &s) == HC_OK;
        if (!ok) {
#pragma omp critical
            rc = HC_ENOMEM;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t j = 0; j < h->rows; j++) {
            if (!ok)
                continue;
            int32_t u = owned_user(h, j);
            for (int32_t x = 0; x < h->M; x++)
                ck[x] = h->v[(int64_t)x * h->U + u];
            h->nT[j] = hc_ensemble_user(&h->ens, u, ck, &s, h->T + (int64_t)j * h->K, NULL);
        }
        if (ok)
            hc_ensemble_scratch_free(&s);
        free(ck);
    }
    return rc ? hc_error(HC_ENOMEM, "hetcomp: out of memory building lists") : HC_OK;
}

/* Whether every (teacher, user) pair is at its last checkpoint: each rank tests its own
 * users, and all ranks agree (an and over ranks), so the phase switches everywhere at once. */
static int all_final(const hetcomp_kd *h)
{
    int all = 1;
    for (int32_t x = 0; x < h->M && all; x++) {
        int32_t last = h->ens.traj[x]->n_ckpt - 1;
        for (int32_t j = 0; j < h->rows && all; j++)
            all = h->v[(int64_t)x * h->U + owned_user(h, j)] >= last;
    }
    return h->size > 1 ? dist_all(all) : all;
}

/* The exact path's buffers: dense Adam state, the transposed items, per-thread item
 * gradients and the fused kernel's work areas. */
static int init_exact(hetcomp_kd *h)
{
    const hc_distill_opts *o = &h->base.ctx->opts;
    size_t nu = (size_t)h->U * (size_t)o->dim, ni = (size_t)h->I * (size_t)o->dim;
    size_t ti = (size_t)h->n_threads * (size_t)h->I;
    h->mP = calloc(nu, sizeof(float));
    h->vP = calloc(nu, sizeof(float));
    h->gP = calloc(nu, sizeof(float));
    h->mQ = calloc(ni, sizeof(float));
    h->vQ = calloc(ni, sizeof(float));
    h->gQ = calloc(ni, sizeof(float));
    h->Qt = malloc(ni * sizeof(float));
    h->dQt = malloc(ti * (size_t)o->dim * sizeof(float));
    h->uloss = malloc((size_t)o->batch * sizeof(double));
    h->work_stride = (hc_akt_work_size(h->I, o->dim) + 63) & ~(size_t)63;
    h->work = aligned_alloc(64, (size_t)h->n_threads * h->work_stride);
    if (h->work)
        memset(h->work, 0, (size_t)h->n_threads * h->work_stride);
    if (!h->mP || !h->vP || !h->gP || !h->mQ || !h->vQ || !h->gQ || !h->Qt || !h->dQt ||
        !h->uloss || !h->work)
        return hc_error(HC_ENOMEM, "hetcomp: out of memory");
    return HC_OK;
}

/* The sampled path: the proposal, the sampler (its own lazy Adam state) and the step's lists. */
static int init_sampled(hetcomp_kd *h)
{
    const hc_kd_ctx *ctx = h->base.ctx;
    const hc_distill_opts *o = &ctx->opts;
    hc_factor_model *f = student(h);
    int rc = hc_proposal_init_head(&h->prop, o->rest_proposal, ctx->ds, o->rest_head);
    if (rc == HC_OK)
        rc = hc_akt_sampler_init(&h->smp, f->P, h->U, f->Q, h->I, o->dim, o->rest_samples,
                                 o->rest_group, &h->prop, o->batch, o->seed);
    if (rc)
        return rc;
    h->step_lists = malloc((size_t)o->batch * sizeof *h->step_lists);
    return h->step_lists ? HC_OK : hc_error(HC_ENOMEM, "hetcomp: out of memory");
}

static int hetcomp_init(hc_distiller *d)
{
    hetcomp_kd *h = (hetcomp_kd *)d;
    hc_kd_ctx *ctx = d->ctx;
    const hc_distill_opts *o = &ctx->opts;
    if (ctx->n_teachers <= 0)
        return hc_error(HC_EINVAL, "hetcomp: needs at least one teacher trajectory");
    if (o->dim > HC_AKT_MAX_D || o->k > HC_AKT_MAX_K)
        return hc_error(HC_EINVAL, "hetcomp: dim at most %d and k at most %d", HC_AKT_MAX_D,
                        HC_AKT_MAX_K);
    int rc = hc_ensemble_init(&h->ens, ctx->teachers, ctx->n_teachers, NULL, o->temperature, o->k);
    if (rc)
        return rc;
    h->M = ctx->n_teachers;
    h->U = ctx->ds->n_users;
    h->I = ctx->ds->n_items;
    h->K = o->k;
    h->KP = o->k / 10 > 0 ? o->k / 10 : 1;
    h->n_threads = omp_get_max_threads();
    h->sampled = hc_distill_rest_sampled(o->rest, h->I);
    h->rank = dist_rank();
    h->size = dist_size();
    h->rows = (int32_t)dist_n_owned(h->U, h->rank, h->size);
    h->dkc_estimated = !o->no_dkc && hc_distill_rest_sampled(
                                         o->dkc_rank == HC_REST_AUTO ? o->rest : o->dkc_rank, h->I);
    size_t MU = (size_t)h->M * (size_t)h->U, RK = (size_t)h->rows * (size_t)h->K;
    h->v = calloc(MU, sizeof *h->v);
    h->last = calloc(MU, sizeof *h->last);
    h->T = malloc(RK * sizeof *h->T + 1);
    h->nT = calloc((size_t)h->rows + 1, sizeof *h->nT);
    h->P = malloc((size_t)h->rows * (size_t)h->KP * sizeof *h->P + 1);
    h->nP = calloc((size_t)h->rows + 1, sizeof *h->nP);
    h->step_users = malloc((size_t)o->batch * sizeof *h->step_users);
    h->seen = malloc((size_t)h->U * sizeof *h->seen);
    if (!h->v || !h->last || !h->T || !h->nT || !h->P || !h->nP || !h->step_users || !h->seen)
        return hc_error(HC_ENOMEM, "hetcomp: out of memory");
    if ((rc = h->sampled ? init_sampled(h) : init_exact(h)) != HC_OK)
        return rc;
    if (h->dkc_estimated) {
        h->top50 = malloc((size_t)h->U * HC_DKC_DEPTH * sizeof *h->top50);
        if (!h->top50)
            return hc_error(HC_ENOMEM, "hetcomp: out of memory");
        h->dkc = h->sampled && o->rest_head == 0 ? &h->prop : &h->dkc_plain;
        if (h->dkc == &h->dkc_plain &&
            (rc = hc_proposal_init(&h->dkc_plain, o->rest_proposal, ctx->ds)) != HC_OK)
            return rc;
    }
    memset(h->seen, 0, (size_t)h->U * sizeof *h->seen); /* step tags start at 1 */
    if (o->no_dkc)
        for (int32_t x = 0; x < h->M; x++)
            for (int32_t u = 0; u < h->U; u++)
                h->v[(int64_t)x * h->U + u] = ctx->teachers[x]->n_ckpt - 1;
    h->phase = o->no_akt ? 2 : 1;
    if ((rc = rebuild_lists(h)) != HC_OK)
        return rc;
    /* the observed lists come from the final checkpoints and stay fixed */
    hc_ensemble_scratch s;
    if ((rc = hc_ensemble_scratch_init(&h->ens, &s)) != HC_OK)
        return rc;
    for (int32_t j = 0; j < h->rows; j++)
        h->nP[j] = hc_ensemble_observed(&h->ens, ctx->ds, owned_user(h, j), h->KP, &s,
                                        h->P + (int64_t)j * h->KP);
    hc_ensemble_scratch_free(&s);
    hc_adam_init(&h->adam, o->lr, o->wd);
    return HC_OK;
}

/* Refreshes Qt (d x I) from the student's Q (I x d). */
static void transpose_items(hetcomp_kd *h)
{
    const int32_t d = h->base.ctx->opts.dim, I = h->I;
    const float *Q = student(h)->Q;
    for (int32_t i = 0; i < I; i++)
        for (int32_t j = 0; j < d; j++)
            h->Qt[(int64_t)j * I + i] = Q[(int64_t)i * d + j];
}

/* The lists of user u (one this rank owns). */
static hc_akt_lists user_lists(const hetcomp_kd *h, int32_t u)
{
    const hc_dataset *ds = h->base.ctx->ds;
    int32_t j = u / h->size;
    hc_akt_lists l = {hc_csr_row(&ds->train, u),
                      hc_csr_row_len(&ds->train, u),
                      h->P + (int64_t)j * h->KP,
                      h->nP[j],
                      h->T + (int64_t)j * h->K,
                      h->nT[j],
                      h->K};
    return l;
}

/* Loss and gradients of the step's users ub[0..n) into gP, gQ; returns the scaled loss. */
static double step_users(hetcomp_kd *h, const int32_t *ub, int32_t n)
{
    const hc_kd_ctx *ctx = h->base.ctx;
    const int32_t d = ctx->opts.dim, I = h->I;
    float scale = h->phase == 1 ? ctx->opts.w_set : ctx->opts.w_rank;
    int nt = h->n_threads < n ? h->n_threads : (n > 0 ? n : 1);
    memset(h->dQt, 0, (size_t)nt * (size_t)d * (size_t)I * sizeof(float));
    hc_factor_model *f = student(h);
    hc_akt_problem pb = {f->P, f->Q, h->Qt, d, I};
#pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num();
        /* this thread's share of the users, in groups of HC_AKT_GROUP */
        int32_t lo = (int32_t)((int64_t)n * tid / nt), hi = (int32_t)((int64_t)n * (tid + 1) / nt);
        hc_akt_lists l[HC_AKT_GROUP];
        for (int32_t g0 = lo; g0 < hi; g0 += HC_AKT_GROUP) {
            int32_t m = hi - g0 < HC_AKT_GROUP ? hi - g0 : HC_AKT_GROUP;
            for (int32_t g = 0; g < m; g++)
                l[g] = user_lists(h, ub[g0 + g]);
            hc_akt_group(&pb, ub + g0, l, m, h->phase, scale,
                         h->work + (size_t)tid * h->work_stride, h->gP,
                         h->dQt + (int64_t)tid * d * I, h->uloss + g0);
        }
    }
    double total = 0.0;
    for (int32_t r = 0; r < n; r++)
        total += h->uloss[r];
    /* gQ (I x d) = sum over threads of dQt (d x I), in thread order */
    float *gQ = h->gQ;
    for (int t = 0; t < nt; t++) {
        const float *src = h->dQt + (int64_t)t * d * I;
        for (int32_t j = 0; j < d; j++)
            for (int32_t i = 0; i < I; i++)
                gQ[(int64_t)i * d + j] += src[(int64_t)j * I + i];
    }
    return total * (double)scale;
}

/* Collects the unique users this rank owns of train interactions [b0, b1) of the epoch's
 * stream into h->step_users, in order of first appearance; returns how many. */
static int32_t collect_step_users(hetcomp_kd *h, int64_t b0, int64_t b1)
{
    int32_t n = 0;
    int64_t tag = ++h->step_tag;
    for (int64_t k = b0; k < b1; k++) {
        int32_t u = h->samples.user[k];
        if (h->seen[u] != tag && dist_owns(u, h->rank, h->size)) {
            h->seen[u] = tag;
            h->step_users[n++] = u;
        }
    }
    return n;
}

/* One step of the exact path: the fused kernel, then dense Adam over every row. */
static double exact_step(hetcomp_kd *h, int32_t n)
{
    const hc_distill_opts *o = &h->base.ctx->opts;
    hc_factor_model *f = student(h);
    size_t nu = (size_t)h->U * (size_t)o->dim, ni = (size_t)h->I * (size_t)o->dim;
    memset(h->gP, 0, nu * sizeof(float));
    memset(h->gQ, 0, ni * sizeof(float));
    double loss = step_users(h, h->step_users, n);
    if (h->size > 1)
        dist_sum_floats(h->gQ, ni);
    hc_adam_begin_step(&h->adam);
    hc_adam_dense(&h->adam, f->P, h->gP, h->mP, h->vP, (int64_t)nu);
    hc_adam_dense(&h->adam, f->Q, h->gQ, h->mQ, h->vQ, (int64_t)ni);
    transpose_items(h);
    return loss;
}

/* One step of the sampled path. */
static int sampled_step(hetcomp_kd *h, int32_t n, double *loss)
{
    const hc_distill_opts *o = &h->base.ctx->opts;
    hc_factor_model *f = student(h);
    for (int32_t k = 0; k < n; k++)
        h->step_lists[k] = user_lists(h, h->step_users[k]);
    hc_akt_problem pb = {f->P, f->Q, NULL, o->dim, h->I};
    float scale = h->phase == 1 ? o->w_set : o->w_rank;
    return hc_akt_sampler_step(&h->smp, &h->adam, &pb, h->step_users, h->step_lists, n, h->phase,
                               scale, loss);
}

static int hetcomp_epoch(hc_distiller *d, int32_t epoch, double *loss)
{
    hetcomp_kd *h = (hetcomp_kd *)d;
    const hc_kd_ctx *ctx = d->ctx;
    const hc_distill_opts *o = &ctx->opts;
    int rc = hc_sample_epoch(ctx->ds, o->seed, epoch + 1, 0, &h->samples);
    if (rc)
        return rc;
    if (!h->sampled)
        transpose_items(h);
    double total = 0.0;
    for (int64_t b0 = 0; b0 < h->samples.n; b0 += o->batch) {
        int64_t b1 = b0 + o->batch < h->samples.n ? b0 + o->batch : h->samples.n;
        int32_t n = collect_step_users(h, b0, b1);
        double l = 0.0;
        if (!h->sampled)
            l = exact_step(h, n);
        else if ((rc = sampled_step(h, n, &l)) != HC_OK)
            return rc;
        total += l;
    }
    if (h->sampled)
        hc_akt_sampler_flush(&h->smp, &h->adam);
    if (h->size > 1)
        dist_sum_doubles(&total, 1);
    *loss = total;
    return HC_OK;
}

static int hetcomp_after_eval(hc_distiller *d, int32_t epoch, const int32_t *top50)
{
    hetcomp_kd *h = (hetcomp_kd *)d;
    const hc_distill_opts *o = &d->ctx->opts;
    if (o->no_dkc) {
        /* ablation: lists stay at the final checkpoints; the loss switches at the epoch by
         * which DKC moves every pair (docs/method.md §9) */
        if (h->phase == 1 && epoch >= o->switch_epoch)
            h->phase = 2;
        return HC_OK;
    }
    if (epoch < o->dkc_every || epoch % o->dkc_every != 0)
        return HC_OK;
    if (all_final(h)) { /* e.g. one-checkpoint (imported) trajectories */
        h->phase = 2;
        return HC_OK;
    }
    /* DKC moves this rank's users only (their rows of P are right here, their lists are
     * here): nothing global depends on who moved, each rank rebuilds its own lists */
    hc_dkc_state st = {h->M, h->U, h->v, h->last, d->ctx->teachers, h->rank, h->size};
    int moved = 0;
    int rc;
    if (h->dkc_estimated) {
        hc_factor_model *f = student(h);
        hc_dkc_sampled_ranks sr = {f->P,
                                   f->Q,
                                   o->dim,
                                   &d->ctx->ds->train,
                                   h->dkc,
                                   o->dkc_samples,
                                   o->seed ^ (uint64_t)epoch};
        if ((rc = hc_dkc_estimate_top(&st, &sr, h->top50)) != HC_OK)
            return rc;
        top50 = h->top50;
    }
    if (!h->dkc_started) {
        rc = hc_dkc_record(&st, top50);
        h->dkc_started = 1;
    } else {
        double th = (double)o->alpha * pow((double)o->decay, (double)(epoch / o->dkc_every));
        rc = hc_dkc_step(&st, top50, th, &moved);
    }
    if (rc)
        return rc;
    if (moved && (rc = rebuild_lists(h)) != HC_OK)
        return rc;
    if (h->phase == 1 && all_final(h))
        h->phase = 2;
    return HC_OK;
}

/* The exact DKC rule reads the student's top-50 over every item, recorded by the evaluation
 * at the epochs DKC runs; the estimated one computes its own. */
static int hetcomp_needs_top50(hc_distiller *d, int32_t epoch)
{
    const hetcomp_kd *h = (const hetcomp_kd *)d;
    const hc_distill_opts *o = &d->ctx->opts;
    return !o->no_dkc && !h->dkc_estimated && epoch >= o->dkc_every && epoch % o->dkc_every == 0;
}

/* With sampled rest sets the validation curve climbs in longer steps (plateaus of 50 epochs
 * and more on CiteULike-t), so five evaluations stop it early: docs/distillation.md,
 * "Measured". */
static int32_t hetcomp_patience(hc_distiller *d)
{
    return ((hetcomp_kd *)d)->sampled ? 2 * HC_DISTILL_PATIENCE : HC_DISTILL_PATIENCE;
}

static void hetcomp_status(hc_distiller *d, hc_distill_status *st)
{
    hetcomp_kd *h = (hetcomp_kd *)d;
    st->phase = h->phase;
    /* sums of integers, exact in any order: the same bits at any rank count */
    int32_t M = h->M < HC_DISTILL_MAX_TEACHERS ? h->M : HC_DISTILL_MAX_TEACHERS;
    double s[HC_DISTILL_MAX_TEACHERS] = {0};
    for (int32_t x = 0; x < M; x++)
        for (int32_t j = 0; j < h->rows; j++)
            s[x] += h->v[(int64_t)x * h->U + owned_user(h, j)];
    if (h->size > 1)
        dist_sum_doubles(s, (size_t)M);
    for (int32_t x = 0; x < M; x++)
        st->mean_ckpt[x] = h->U > 0 ? s[x] / h->U : 0.0;
}

static void hetcomp_free(hc_distiller *d)
{
    hetcomp_kd *h = (hetcomp_kd *)d;
    hc_ensemble_free(&h->ens);
    free(h->v);
    free(h->last);
    free(h->T);
    free(h->nT);
    free(h->P);
    free(h->nP);
    free(h->mP);
    free(h->vP);
    free(h->gP);
    free(h->mQ);
    free(h->vQ);
    free(h->gQ);
    free(h->step_users);
    free(h->seen);
    free(h->Qt);
    free(h->dQt);
    free(h->work);
    free(h->uloss);
    free(h->step_lists);
    free(h->top50);
    if (h->smp.n_reduced > 0)
        hc_log(HC_LOG_INFO,
               "hetcomp: rank %d of %d: %lld sampled steps reduced %lld touched items (n_t: %.1f "
               "a step)",
               dist_rank(), dist_size(), (long long)h->smp.n_reduced,
               (long long)h->smp.rows_reduced,
               (double)h->smp.rows_reduced / (double)h->smp.n_reduced);
    hc_akt_sampler_free(&h->smp);
    hc_proposal_free(&h->prop);
    hc_proposal_free(&h->dkc_plain);
    hc_epoch_samples_free(&h->samples);
}

const hc_distiller_type hc_distiller_hetcomp = {
    .name = "hetcomp",
    .title = "HetComp: dynamic knowledge construction + adaptive knowledge transfer",
    .size = sizeof(hetcomp_kd),
    .shares_teachers = 1,
    .init = hetcomp_init,
    .epoch = hetcomp_epoch,
    .after_eval = hetcomp_after_eval,
    .needs_top50 = hetcomp_needs_top50,
    .status = hetcomp_status,
    .patience = hetcomp_patience,
    .free_fn = hetcomp_free,
};
