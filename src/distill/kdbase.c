/*
 * kdbase.c - the shared half of the ranking-distillation baselines (see kdbase.h): the
 * final-checkpoint ensemble lists, the step loop (BPR + lambda * KD, dense Adam), the
 * per-thread scratch and triple buffers, the rest sampler, the listwise loss and the
 * student's top lists.
 *
 * A step: BPR gradients of the batch's (user, positive, negative) triples are added in
 * sample order; the units' KD targets and losses are computed in parallel (each thread a
 * contiguous share of the units), each unit leaving (user, item, lambda dL/ds) triples in its
 * thread's buffer; the buffers are applied in thread order, i.e. unit order; then one dense
 * Adam step moves every row of P and Q (as PyTorch's Adam does for dense gradients). With
 * lambda = 0 this is exactly the BPR student's epoch (same sampler stream, same sums).
 */
#include "distill/kdbase.h"

#include <assert.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"
#include "dense/vec.h"
#include "dist/dist.h"
#include "distill/akt.h"
#include "model/factor.h"

#define S_MIN -40.0f
#define S_MAX 40.0f
/* A step's units are split over threads only when there are at least this many. */
#define PAR_UNITS 64
/* Rows scored at a time by hc_kd_student_topk. */
#define TOPK_BLOCK 128

float *hc_kd_P(const hc_kd *kd)
{
    return ((hc_factor_model *)kd->base.ctx->student)->P;
}

float *hc_kd_Q(const hc_kd *kd)
{
    return ((hc_factor_model *)kd->base.ctx->student)->Q;
}

float hc_kd_score(const hc_kd *kd, int32_t u, int32_t i)
{
    return hc_kd_dot(hc_kd_P(kd), hc_kd_Q(kd), kd->d, u, i);
}

int32_t hc_kd_stamp(hc_kd_scratch *s)
{
    return ++s->stamp;
}

void hc_kd_rng(const hc_kd *kd, int purpose, int32_t epoch, int32_t id, hc_rng *r)
{
    uint64_t stream = ((uint64_t)(purpose & 0xff) << 56) ^ ((uint64_t)(uint32_t)epoch << 24) ^
                      (uint64_t)(uint32_t)id;
    hc_rng_init(r, kd->base.ctx->opts.seed ^ kd->rng_tag, stream);
}

void hc_kd_push(hc_kd_target *t, int32_t u, int32_t i, float w, float w2)
{
    assert(t->n < t->cap);
    t->u[t->n] = u;
    t->i[t->n] = i;
    t->w[t->n] = w;
    t->w2[t->n] = w2;
    t->n++;
}

void hc_kd_close_part(hc_kd_target *t)
{
    assert(t->n_parts < HC_KD_MAX_PARTS);
    t->part[++t->n_parts] = t->n;
}

/* ------------------------------------------------------------------ set-up */

/* Does this rank hold the teachers' lists of user u (every user, unless the trajectories
 * are shares)? */
static int holds_lists(const hc_kd *kd, int32_t u)
{
    return kd->ens.traj[0]->part_size <= 1 || dist_owns(u, kd->rank, kd->size);
}

/* The final-checkpoint ensemble's top lists of every user held, with their importances. */
static int build_lists(hc_kd *kd)
{
    int rc = HC_OK;
#pragma omp parallel
    {
        hc_ensemble_scratch es;
        int ok = hc_ensemble_scratch_init(&kd->ens, &es) == HC_OK;
        if (!ok) {
#pragma omp critical
            rc = HC_ENOMEM;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t u = 0; u < kd->U; u++)
            if (ok && holds_lists(kd, u))
                kd->nT[u] = hc_ensemble_user(&kd->ens, u, NULL, &es, kd->T + (int64_t)u * kd->K,
                                             kd->Timp + (int64_t)u * kd->K);
        if (ok)
            hc_ensemble_scratch_free(&es);
    }
    return rc ? hc_error(HC_ENOMEM, "%s: out of memory building the ensemble lists", kd->m->name)
              : HC_OK;
}

static int scratch_init(hc_kd *kd, hc_kd_scratch *s)
{
    size_t ids = (size_t)(kd->U > kd->I ? kd->U : kd->I), cap = (size_t)kd->tcap;
    size_t buf = (size_t)(kd->buf_cap > 0 ? kd->buf_cap : 1);
    s->t.cap = kd->tcap;
    s->t.u = malloc(cap * sizeof(int32_t));
    s->t.i = malloc(cap * sizeof(int32_t));
    s->t.w = malloc(cap * sizeof(float));
    s->t.w2 = malloc(cap * sizeof(float));
    s->s = malloc(cap * sizeof(float));
    s->g = malloc(cap * sizeof(float));
    s->mark = calloc(ids, sizeof(int32_t)); /* stamps start at 1 */
    s->val = calloc(ids, sizeof(int32_t));
    s->ibuf = malloc(buf * sizeof(int32_t));
    s->fbuf = malloc(buf * sizeof(float));
    if (!s->t.u || !s->t.i || !s->t.w || !s->t.w2 || !s->s || !s->g || !s->mark || !s->val ||
        !s->ibuf || !s->fbuf)
        return HC_ENOMEM;
    return hc_ensemble_scratch_init(&kd->ens, &s->es);
}

static void scratch_free(hc_kd_scratch *s)
{
    free(s->t.u);
    free(s->t.i);
    free(s->t.w);
    free(s->t.w2);
    free(s->s);
    free(s->g);
    free(s->mark);
    free(s->val);
    free(s->ibuf);
    free(s->fbuf);
    free(s->topk);
    free(s->ou);
    free(s->oi);
    free(s->og);
    hc_ensemble_scratch_free(&s->es);
}

int hc_kd_init(hc_distiller *d, const hc_kd_method *m)
{
    hc_kd *kd = (hc_kd *)d;
    hc_kd_ctx *ctx = d->ctx;
    const hc_distill_opts *o = &ctx->opts;
    kd->m = m;
    kd->rng_tag = hc_checksum(m->name, strlen(m->name));
    kd->ds = ctx->ds;
    kd->U = ctx->ds->n_users;
    kd->I = ctx->ds->n_items;
    kd->d = o->dim;
    kd->M = ctx->n_teachers;
    kd->K = o->k;
    kd->rank = dist_rank();
    kd->size = dist_size();
    if (kd->M <= 0)
        return hc_error(HC_EINVAL, "%s: needs at least one teacher trajectory", m->name);
    int rc = hc_ensemble_init(&kd->ens, ctx->teachers, kd->M, NULL, o->temperature, o->k);
    if (rc)
        return rc;
    size_t UK = (size_t)kd->U * (size_t)kd->K;
    size_t nu = (size_t)kd->U * (size_t)kd->d, ni = (size_t)kd->I * (size_t)kd->d;
    size_t nb = 2 * (size_t)o->batch;
    kd->T = calloc(UK, sizeof *kd->T); /* rows of users not held stay empty */
    kd->nT = calloc((size_t)kd->U, sizeof *kd->nT);
    kd->Timp = malloc(UK * sizeof *kd->Timp);
    kd->mP = calloc(nu, sizeof(float));
    kd->vP = calloc(nu, sizeof(float));
    kd->gP = calloc(nu, sizeof(float));
    kd->mQ = calloc(ni, sizeof(float));
    kd->vQ = calloc(ni, sizeof(float));
    kd->gQ = calloc(ni, sizeof(float));
    kd->units = malloc(nb * sizeof *kd->units);
    kd->unit_loss = malloc(nb * sizeof *kd->unit_loss);
    kd->seen_u = calloc((size_t)kd->U, sizeof *kd->seen_u); /* step tags start at 1 */
    kd->seen_i = calloc((size_t)kd->I, sizeof *kd->seen_i);
    kd->tg = malloc(3 * (size_t)kd->d * sizeof *kd->tg);
    if (kd->size > 1) { /* the largest share of a table: ceil(rows / size) rows */
        int64_t most = ((kd->U > kd->I ? kd->U : kd->I) + kd->size - 1) / kd->size;
        kd->counts = malloc((size_t)kd->size * sizeof *kd->counts);
        kd->gown = malloc((size_t)(most > 0 ? most : 1) * (size_t)kd->d * sizeof *kd->gown);
        if (!kd->counts || !kd->gown)
            return hc_error(HC_ENOMEM, "%s: out of memory", m->name);
    }
    if (!kd->T || !kd->nT || !kd->Timp || !kd->mP || !kd->vP || !kd->gP || !kd->mQ || !kd->vQ ||
        !kd->gQ || !kd->units || !kd->unit_loss || !kd->seen_u || !kd->seen_i || !kd->tg)
        return hc_error(HC_ENOMEM, "%s: out of memory", m->name);
    if ((rc = build_lists(kd)) != HC_OK)
        return rc;
    hc_adam_init(&kd->adam, o->lr, o->wd);
    kd->tcap = 1;
    if ((rc = m->init(kd)) != HC_OK)
        return rc;
    kd->n_threads = omp_get_max_threads();
    kd->scr = calloc((size_t)kd->n_threads, sizeof *kd->scr);
    if (!kd->scr)
        return hc_error(HC_ENOMEM, "%s: out of memory", m->name);
    for (int t = 0; t < kd->n_threads; t++)
        if (scratch_init(kd, &kd->scr[t]) != HC_OK)
            return hc_error(HC_ENOMEM, "%s: out of memory for thread scratch", m->name);
    return HC_OK;
}

void hc_kd_free(hc_distiller *d)
{
    hc_kd *kd = (hc_kd *)d;
    if (kd->m && kd->m->free_fn)
        kd->m->free_fn(kd);
    for (int t = 0; kd->scr && t < kd->n_threads; t++)
        scratch_free(&kd->scr[t]);
    free(kd->scr);
    hc_ensemble_free(&kd->ens);
    hc_csr_free(&kd->train_t);
    free(kd->T);
    free(kd->nT);
    free(kd->Timp);
    free(kd->mP);
    free(kd->vP);
    free(kd->gP);
    free(kd->mQ);
    free(kd->vQ);
    free(kd->gQ);
    free(kd->units);
    free(kd->unit_loss);
    free(kd->seen_u);
    free(kd->seen_i);
    free(kd->tg);
    free(kd->counts);
    free(kd->gown);
    hc_epoch_samples_free(&kd->samples);
}

void hc_kd_status(hc_distiller *d, hc_distill_status *st)
{
    hc_kd *kd = (hc_kd *)d;
    st->phase = 0;
    for (int32_t x = 0; x < kd->M && x < HC_DISTILL_MAX_TEACHERS; x++)
        st->mean_ckpt[x] = kd->ens.traj[x]->n_ckpt - 1; /* final checkpoints throughout */
}

int hc_kd_after_eval(hc_distiller *d, int32_t epoch, const int32_t *top50)
{
    hc_kd *kd = (hc_kd *)d;
    return kd->m->after_eval ? kd->m->after_eval(kd, epoch, top50) : HC_OK;
}

/* ------------------------------------------------------------------ targets and losses */

int hc_kd_unit_target(hc_kd *kd, int side, int32_t id, hc_kd_scratch *s)
{
    hc_kd_target *t = &s->t;
    t->n = 0;
    t->n_parts = 0;
    t->part[0] = 0;
    t->extra_loss = 0.0;
    return kd->m->target(kd, side, id, s, t);
}

/* Scores of t's pairs under the student into sc. */
static void pair_scores(const hc_kd *kd, const hc_kd_target *t, float *sc)
{
    const float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
    for (int32_t k = 0; k < t->n; k++)
        sc[k] = hc_kd_dot(P, Q, kd->d, t->u[k], t->i[k]);
}

double hc_kd_target_loss(const hc_kd *kd, const hc_kd_target *t, float scale, float *gP, float *gQ)
{
    size_t n = (size_t)(t->n > 0 ? t->n : 1);
    float *sc = malloc(n * sizeof *sc), *g = calloc(n, sizeof *g);
    double loss = NAN;
    if (sc && g) {
        pair_scores(kd, t, sc);
        loss = kd->m->loss(kd, t, sc, g);
        const float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
        const int32_t d = kd->d;
        for (int32_t k = 0; gP && gQ && k < t->n; k++) {
            const float *p = P + (int64_t)t->u[k] * d, *q = Q + (int64_t)t->i[k] * d;
            float *gp = gP + (int64_t)t->u[k] * d, *gq = gQ + (int64_t)t->i[k] * d;
            for (int32_t j = 0; j < d; j++) {
                gp[j] += scale * g[k] * q[j];
                gq[j] += scale * g[k] * p[j];
            }
        }
    }
    free(sc);
    free(g);
    return loss;
}

void hc_kd_list_and_rest(const hc_kd *kd, int32_t u, const int32_t *list, int32_t n,
                         const int32_t *excl, int32_t n_excl, int32_t n_rest, hc_kd_scratch *s,
                         hc_kd_target *t)
{
    const hc_csr *train = &kd->ds->train;
    for (int32_t k = 0; k < n; k++)
        hc_kd_push(t, u, list[k], 0.0f, 0.0f);
    hc_kd_close_part(t);
    int32_t stamp = hc_kd_stamp(s), marked = 0;
    for (int32_t k = 0; k < n_excl; k++)
        if (s->mark[excl[k]] != stamp) {
            s->mark[excl[k]] = stamp;
            marked++;
        }
    for (int32_t k = 0; k < n; k++)
        if (s->mark[list[k]] != stamp) {
            s->mark[list[k]] = stamp;
            marked++;
        }
    /* excluded items are unobserved (ensemble lists), so this many items are left */
    int64_t avail = (int64_t)kd->I - hc_csr_row_len(train, u) - marked;
    if (n_rest > avail)
        n_rest = (int32_t)(avail > 0 ? avail : 0);
    hc_rng r;
    hc_kd_rng(kd, 0, kd->epoch, u, &r);
    for (int32_t got = 0, tries = 0; got < n_rest && tries < 100 * n_rest + 1000; tries++) {
        int32_t j = hc_sample_negative(train, u, &r);
        if (s->mark[j] == stamp)
            continue;
        s->mark[j] = stamp;
        hc_kd_push(t, u, j, 0.0f, 0.0f);
        got++;
    }
    hc_kd_close_part(t);
}

double hc_kd_listwise_loss(const hc_kd *kd, const hc_kd_target *t, const float *s, float *g)
{
    (void)kd;
    double loss = 0.0;
    float sc[2 * HC_KD_MAX_LIST], e[2 * HC_KD_MAX_LIST], gl[HC_KD_MAX_LIST];
    int32_t pos[HC_KD_MAX_LIST];
    for (int32_t p = 0; p + 1 < t->n_parts; p += 2) {
        int32_t a = t->part[p], b = t->part[p + 1], c = t->part[p + 2];
        int32_t n = b - a, m = c - b;
        if (n <= 0)
            continue;
        assert(n <= HC_KD_MAX_LIST && m <= HC_KD_MAX_LIST);
        hc_vexp_clamped(s + a, e, n + m, S_MIN, S_MAX);
        double R = 0.0;
        for (int32_t k = 0; k < n + m; k++) {
            float x = s[a + k];
            sc[k] = x < S_MIN ? S_MIN : x > S_MAX ? S_MAX : x;
            if (k >= n)
                R += (double)e[k];
        }
        for (int32_t k = 0; k < n; k++) {
            pos[k] = k;
            gl[k] = 0.0f;
        }
        double coef = hc_akt_plackett_luce(pos, n, R, 1.0, sc, e, gl, &loss);
        for (int32_t k = 0; k < n + m; k++) {
            float v = k < n ? gl[k] : (float)coef * e[k];
            g[a + k] += sc[k] != s[a + k] ? 0.0f : v; /* no gradient through the clamp */
        }
    }
    return loss;
}

/* ------------------------------------------------------------------ the step */

/* Target, scores, loss and triples of one unit; *loss receives lambda L + extra. */
static int unit_step(hc_kd *kd, int side, int32_t id, hc_kd_scratch *s, double *loss)
{
    int rc = hc_kd_unit_target(kd, side, id, s);
    if (rc)
        return rc;
    const hc_kd_target *t = &s->t;
    pair_scores(kd, t, s->s);
    memset(s->g, 0, (size_t)t->n * sizeof *s->g);
    double l = kd->m->loss(kd, t, s->s, s->g);
    if (s->on + t->n > s->ocap) {
        int64_t nc = (s->on + t->n) * 2 + 1024;
        int32_t *nu = realloc(s->ou, (size_t)nc * sizeof *nu);
        if (nu)
            s->ou = nu;
        int32_t *ni = realloc(s->oi, (size_t)nc * sizeof *ni);
        if (ni)
            s->oi = ni;
        float *ng = realloc(s->og, (size_t)nc * sizeof *ng);
        if (ng)
            s->og = ng;
        if (!nu || !ni || !ng)
            return HC_ENOMEM;
        s->ocap = nc;
    }
    for (int32_t k = 0; k < t->n; k++) {
        if (s->g[k] == 0.0f)
            continue;
        s->ou[s->on] = t->u[k];
        s->oi[s->on] = t->i[k];
        s->og[s->on] = kd->lambda * s->g[k];
        s->on++;
    }
    *loss = (double)kd->lambda * l + t->extra_loss;
    return HC_OK;
}

/* KD of the step's units (n_u users then n_i items in kd->units) into gP, gQ. */
static int kd_units(hc_kd *kd, int32_t n_u, int32_t n_i, double *total)
{
    const int32_t n = n_u + n_i, d = kd->d;
    int nt = n >= PAR_UNITS ? (kd->n_threads < n ? kd->n_threads : n) : 1;
    int rc = HC_OK;
    for (int t = 0; t < nt; t++)
        kd->scr[t].on = 0;
#pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num();
        int32_t lo = (int32_t)((int64_t)n * tid / nt), hi = (int32_t)((int64_t)n * (tid + 1) / nt);
        for (int32_t r = lo; r < hi; r++) {
            int side = r < n_u ? HC_KD_USERS : HC_KD_ITEMS;
            int rr = unit_step(kd, side, kd->units[r], &kd->scr[tid], &kd->unit_loss[r]);
            if (rr) {
#pragma omp critical
                rc = rr;
                break;
            }
        }
    }
    if (rc)
        return rc == HC_ENOMEM ? hc_error(HC_ENOMEM, "%s: out of memory", kd->m->name) : rc;
    const float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
    for (int t = 0; t < nt; t++) {
        const hc_kd_scratch *s = &kd->scr[t];
        for (int64_t k = 0; k < s->on; k++) {
            const float *p = P + (int64_t)s->ou[k] * d, *q = Q + (int64_t)s->oi[k] * d;
            float *gp = kd->gP + (int64_t)s->ou[k] * d, *gq = kd->gQ + (int64_t)s->oi[k] * d;
            float c = s->og[k];
            for (int32_t j = 0; j < d; j++) {
                gp[j] += c * q[j];
                gq[j] += c * p[j];
            }
        }
    }
    for (int32_t r = 0; r < n; r++)
        *total += kd->unit_loss[r];
    return HC_OK;
}

/* Rank r's rows of a table of n rows when several ranks step it: [n r / R, n (r + 1) / R). */
static int32_t share_lo(int32_t n, int r, int size)
{
    return (int32_t)((int64_t)n * r / size);
}

/* Several ranks: the Adam step of table W (n rows; gradient G, moments M, V) from every
 * rank's G: the sums of this rank's rows onto it, its rows' step, every rank's new rows
 * gathered, so every rank holds the same W. */
static void step_shared(hc_kd *kd, float *W, const float *G, float *M, float *V, int32_t n)
{
    const int32_t d = kd->d;
    for (int r = 0; r < kd->size; r++)
        kd->counts[r] = (share_lo(n, r + 1, kd->size) - share_lo(n, r, kd->size)) * d;
    const int64_t lo = (int64_t)share_lo(n, kd->rank, kd->size) * d;
    dist_sum_scatter_floats(G, kd->gown, kd->counts);
    hc_adam_dense(&kd->adam, W + lo, kd->gown, M + lo, V + lo, kd->counts[kd->rank]);
    dist_allgather_floats(W, kd->counts);
}

/* One step over samples [b0, b1): BPR + lambda KD, then Adam. */
static int step(hc_kd *kd, int64_t b0, int64_t b1, double *total)
{
    const int32_t d = kd->d;
    float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
    const hc_epoch_samples *sm = &kd->samples;
    size_t nu = (size_t)kd->U * (size_t)d, ni = (size_t)kd->I * (size_t)d;
    memset(kd->gP, 0, nu * sizeof(float));
    memset(kd->gQ, 0, ni * sizeof(float));
    float *gu = kd->tg, *gi = kd->tg + d, *gj = kd->tg + 2 * d;
    for (int64_t k = b0; k < b1; k++) {
        int32_t u = sm->user[k], i = sm->pos[k], j = sm->neg[k];
        if (!dist_owns(u, kd->rank, kd->size))
            continue;
        *total += (double)hc_bpr_triple(P + (int64_t)u * d, Q + (int64_t)i * d, Q + (int64_t)j * d,
                                        d, 0.0f, gu, gi, gj);
        for (int32_t c = 0; c < d; c++) {
            kd->gP[(int64_t)u * d + c] += gu[c];
            kd->gQ[(int64_t)i * d + c] += gi[c];
            kd->gQ[(int64_t)j * d + c] += gj[c];
        }
    }
    /* the step's unique users (and positive items) this rank owns, in order of first
     * appearance */
    int64_t tag = ++kd->step_tag;
    int32_t n_u = 0, n_i = 0;
    for (int64_t k = b0; k < b1; k++)
        if (kd->seen_u[sm->user[k]] != tag && dist_owns(sm->user[k], kd->rank, kd->size)) {
            kd->seen_u[sm->user[k]] = tag;
            kd->units[n_u++] = sm->user[k];
        }
    if (kd->m->sides & HC_KD_ITEMS)
        for (int64_t k = b0; k < b1; k++)
            if (kd->seen_i[sm->pos[k]] != tag && dist_owns(sm->pos[k], kd->rank, kd->size)) {
                kd->seen_i[sm->pos[k]] = tag;
                kd->units[n_u + n_i++] = sm->pos[k];
            }
    if (!(kd->m->sides & HC_KD_USERS)) {
        memmove(kd->units, kd->units + n_u, (size_t)n_i * sizeof *kd->units);
        n_u = 0;
    }
    int rc;
    if (kd->lambda != 0.0f && (rc = kd_units(kd, n_u, n_i, total)) != HC_OK)
        return rc;
    hc_adam_begin_step(&kd->adam);
    if (kd->size > 1 && (kd->m->sides & HC_KD_ITEMS))
        step_shared(kd, P, kd->gP, kd->mP, kd->vP, kd->U);
    else /* one rank, or user units only: P's rows are right on their owners */
        hc_adam_dense(&kd->adam, P, kd->gP, kd->mP, kd->vP, (int64_t)nu);
    if (kd->size > 1)
        step_shared(kd, Q, kd->gQ, kd->mQ, kd->vQ, kd->I);
    else
        hc_adam_dense(&kd->adam, Q, kd->gQ, kd->mQ, kd->vQ, (int64_t)ni);
    return kd->m->after_step ? kd->m->after_step(kd) : HC_OK;
}

int hc_kd_epoch(hc_distiller *d, int32_t epoch, double *loss)
{
    hc_kd *kd = (hc_kd *)d;
    const hc_distill_opts *o = &d->ctx->opts;
    kd->epoch = epoch;
    int rc;
    if (kd->m->begin_epoch && (rc = kd->m->begin_epoch(kd, epoch)) != HC_OK)
        return rc;
    if ((rc = hc_sample_epoch(kd->ds, o->seed, epoch + 1, 1, &kd->samples)) != HC_OK)
        return rc;
    double total = 0.0;
    for (int64_t b0 = 0; b0 < kd->samples.n; b0 += o->batch) {
        int64_t b1 = b0 + o->batch < kd->samples.n ? b0 + o->batch : kd->samples.n;
        if ((rc = step(kd, b0, b1, &total)) != HC_OK)
            return rc;
    }
    if (kd->size > 1)
        dist_sum_doubles(&total, 1);
    *loss = total;
    return HC_OK;
}

/* ------------------------------------------------------------------ student top lists */

int hc_kd_student_topk(hc_kd *kd, int side, int32_t n, hc_kd_row_fn fn)
{
    const hc_csr *mask = &kd->ds->train;
    if (side == HC_KD_ITEMS) {
        if (!kd->train_t.indptr) {
            int rc = hc_csr_transpose(&kd->ds->train, &kd->train_t);
            if (rc)
                return rc;
        }
        mask = &kd->train_t;
    }
    const int32_t rows = side == HC_KD_USERS ? kd->U : kd->I;
    const int32_t cols = side == HC_KD_USERS ? kd->I : kd->U;
    const float *A = side == HC_KD_USERS ? hc_kd_P(kd) : hc_kd_Q(kd);
    const float *B = side == HC_KD_USERS ? hc_kd_Q(kd) : hc_kd_P(kd);
    if (n > cols)
        n = cols;
    int32_t need = n > 0 ? n : cols;
    for (int t = 0; t < kd->n_threads; t++) {
        hc_kd_scratch *s = &kd->scr[t];
        if (s->topk_cap < need) {
            int32_t *p = realloc(s->topk, (size_t)(need > 0 ? need : 1) * sizeof *p);
            if (!p)
                return hc_error(HC_ENOMEM, "%s: out of memory for top lists", kd->m->name);
            s->topk = p;
            s->topk_cap = need;
        }
    }
    /* this rank's rows (all on one rank), TOPK_BLOCK at a time, packed when they are not
     * contiguous */
    const int64_t n_own = dist_n_owned(rows, kd->rank, kd->size);
    float *buf = malloc((size_t)TOPK_BLOCK * (size_t)cols * sizeof *buf);
    float *pack = kd->size > 1 ? malloc((size_t)TOPK_BLOCK * (size_t)kd->d * sizeof *pack) : NULL;
    if (!buf || (kd->size > 1 && !pack)) {
        free(buf);
        free(pack);
        return hc_error(HC_ENOMEM, "%s: out of memory for top lists", kd->m->name);
    }
    int rc = HC_OK;
    for (int64_t j0 = 0; j0 < n_own && !rc; j0 += TOPK_BLOCK) {
        int32_t nb = n_own - j0 < TOPK_BLOCK ? (int32_t)(n_own - j0) : TOPK_BLOCK;
        for (int32_t r = 0; pack && r < nb; r++)
            memcpy(pack + (int64_t)r * kd->d, A + (kd->rank + (j0 + r) * kd->size) * kd->d,
                   (size_t)kd->d * sizeof *pack);
        const float *Ab = pack ? pack : A + j0 * kd->d;
        hc_sgemm_abt(nb, cols, kd->d, Ab, kd->d, B, kd->d, buf, cols);
#pragma omp parallel for schedule(dynamic, 4) num_threads(kd->n_threads)
        for (int32_t r = 0; r < nb; r++) {
            if (rc)
                continue;
            hc_kd_scratch *s = &kd->scr[omp_get_thread_num()];
            float *row = buf + (int64_t)r * cols;
            const int32_t id = (int32_t)(kd->rank + (j0 + r) * kd->size);
            const int32_t *mk = hc_csr_row(mask, id);
            for (int32_t j = 0; j < hc_csr_row_len(mask, id); j++)
                row[mk[j]] = -INFINITY;
            int32_t len = n > 0 ? hc_topk(row, cols, n, s->topk, NULL) : 0;
            int rr = fn(kd, side, id, row, cols, n > 0 ? s->topk : NULL, len, s);
            if (rr) {
#pragma omp critical
                rc = rr;
            }
        }
    }
    free(pack);
    free(buf);
    return rc;
}
