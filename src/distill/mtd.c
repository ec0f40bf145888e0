/*
 * mtd.c - MTD, multi-teacher distillation with a learned teacher gate (after Zhu et al.,
 * CIKM'20), adapted to ranking as docs/method.md §10.5 says:
 *
 * Teacher weights: alpha_u = softmax(theta_u), one free parameter per (user, teacher),
 * theta = 0 at the start (the plain ensemble). The gated ensemble ranks the union C_u of the
 * teachers' final-checkpoint top lists by sum_x alpha_ux exp(-r_x / T); its top-K lists are
 * rebuilt at the start of every epoch from the current theta. The student learns them with
 * RRD's listwise loss (first rrd_k items vs rrd_l sampled unobserved items outside the gated
 * top-K), weight mtd_lambda.
 *
 * Joint training of the gate: the ranking's top-K is not differentiable in theta, so the
 * gate minimises the cross-entropy between the gated ensemble's distribution over C_u and
 * the student's softmax over C_u (student held fixed):
 *   L_gate(u) = sum_x alpha_ux CE_x,  CE_x = log sum_{j in C_u} exp(s_j) - sum_r pi_x(r)
 * s_{l_x(r)}, pi_x(r) = exp(-r / T) / sum_r' exp(-r' / T) over teacher x's list l_x (the lists have
 * equal decays, so the mixture's cross-entropy is the alpha-mixture of the teachers' ones), with
 * dL_gate / dtheta_ux = alpha_ux (CE_x - L_gate). theta moves with the student's Adam (same
 * step, learning rate and coupled weight decay; dense, every step). The gate thus shifts each
 * user's weight towards the teachers whose rankings the student currently follows best.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "distill/kdbase.h"

typedef struct {
    hc_kd kd;                       /* must be first */
    float *theta, *gth, *mth, *vth; /* U x M gate parameters, gradient, Adam moments */
    int32_t *gT, *n_gT;             /* U x K gated top lists (this epoch's), lengths */
    int32_t cap;                    /* most items in a user's union of teacher lists */
} mtd_kd;

static int mtd_init(hc_kd *kd)
{
    mtd_kd *m = (mtd_kd *)kd;
    int rc = hc_kd_rrd_init(kd, 0);
    if (rc)
        return rc;
    kd->lambda = kd->base.ctx->opts.mtd_lambda;
    m->cap = 0;
    for (int32_t x = 0; x < kd->M; x++)
        m->cap += kd->ens.traj[x]->k;
    kd->buf_cap = m->cap + kd->M; /* fbuf: alpha, then the union's scores */
    size_t n = (size_t)kd->U * (size_t)kd->M;
    m->theta = calloc(n, sizeof(float));
    m->gth = calloc(n, sizeof(float));
    m->mth = calloc(n, sizeof(float));
    m->vth = calloc(n, sizeof(float));
    m->gT = malloc((size_t)kd->U * (size_t)kd->K * sizeof *m->gT);
    m->n_gT = calloc((size_t)kd->U, sizeof *m->n_gT);
    if (!m->theta || !m->gth || !m->mth || !m->vth || !m->gT || !m->n_gT)
        return hc_error(HC_ENOMEM, "mtd: out of memory");
    /* until the first epoch rebuilds them: the plain ensemble's lists (theta = 0) */
    memcpy(m->gT, kd->T, (size_t)kd->U * (size_t)kd->K * sizeof *m->gT);
    memcpy(m->n_gT, kd->nT, (size_t)kd->U * sizeof *m->n_gT);
    return HC_OK;
}

/* alpha = softmax(theta) (kept above 1e-20 so every teacher's items stay candidates). */
static void softmax(const float *th, int32_t M, float *a)
{
    float mx = th[0], z = 0.0f;
    for (int32_t x = 1; x < M; x++)
        mx = th[x] > mx ? th[x] : mx;
    for (int32_t x = 0; x < M; x++) {
        a[x] = expf(th[x] - mx);
        z += a[x];
    }
    for (int32_t x = 0; x < M; x++) {
        a[x] /= z;
        a[x] = a[x] > 1e-20f ? a[x] : 1e-20f;
    }
}

/* The gate's loss for user u over the union C[0..n) (s->val[C[j]] = j under stamp st) at
 * the current student, with its gradient added into g_theta (M entries). sc: n floats. */
static double gate(const hc_kd *kd, int32_t u, const float *alpha, const int32_t *C, int32_t n,
                   const hc_kd_scratch *s, float *sc, float *g_theta)
{
    const float *P = hc_kd_P(kd), *Q = hc_kd_Q(kd);
    double mx = -INFINITY, z = 0.0, ce[HC_DISTILL_MAX_TEACHERS], L = 0.0;
    for (int32_t j = 0; j < n; j++) {
        sc[j] = hc_kd_dot(P, Q, kd->d, u, C[j]);
        mx = (double)sc[j] > mx ? (double)sc[j] : mx;
    }
    for (int32_t j = 0; j < n; j++)
        z += exp((double)sc[j] - mx);
    double logz = mx + log(z);
    for (int32_t x = 0; x < kd->M; x++) {
        const hc_traj *tr = kd->ens.traj[x];
        const int32_t *l = hc_traj_top(tr, tr->n_ckpt - 1, u);
        double zs = 0.0, dot = 0.0;
        for (int32_t r = 0; r < tr->k && l[r] >= 0; r++) {
            zs += (double)kd->ens.decay[r];
            dot += (double)kd->ens.decay[r] * (double)sc[s->val[l[r]]];
        }
        ce[x] = zs > 0.0 ? logz - dot / zs : 0.0;
        L += (double)alpha[x] * ce[x];
    }
    for (int32_t x = 0; x < kd->M; x++)
        g_theta[x] += (float)((double)alpha[x] * (ce[x] - L));
    return L;
}

/* Rebuilds user u's gated top-K list from theta (thread scratch s). */
static void gated_list(mtd_kd *m, int32_t u, hc_kd_scratch *s)
{
    hc_kd *kd = &m->kd;
    float *alpha = s->fbuf;
    softmax(m->theta + (int64_t)u * kd->M, kd->M, alpha);
    hc_ensemble e = kd->ens;
    e.weight = alpha;
    m->n_gT[u] = hc_ensemble_user(&e, u, NULL, &s->es, m->gT + (int64_t)u * kd->K, NULL);
}

static int mtd_begin_epoch(hc_kd *kd, int32_t epoch)
{
    (void)epoch;
    mtd_kd *m = (mtd_kd *)kd;
#pragma omp parallel for schedule(dynamic, 64) num_threads(kd->n_threads)
    for (int32_t u = 0; u < kd->U; u++)
        if (dist_owns(u, kd->rank, kd->size)) /* only the owner reads u's lists */
            gated_list(m, u, &kd->scr[omp_get_thread_num()]);
    return HC_OK;
}

static int mtd_target(hc_kd *kd, int side, int32_t u, hc_kd_scratch *s, hc_kd_target *t)
{
    (void)side;
    mtd_kd *m = (mtd_kd *)kd;
    int32_t *C = s->ibuf, n = 0, st = hc_kd_stamp(s);
    float *alpha = s->fbuf;
    /* the gate's loss and gradient over the union of the teachers' lists */
    softmax(m->theta + (int64_t)u * kd->M, kd->M, alpha);
    for (int32_t x = 0; x < kd->M; x++) {
        const hc_traj *tr = kd->ens.traj[x];
        const int32_t *l = hc_traj_top(tr, tr->n_ckpt - 1, u);
        for (int32_t r = 0; r < tr->k && l[r] >= 0; r++)
            if (s->mark[l[r]] != st) {
                s->mark[l[r]] = st;
                s->val[l[r]] = n;
                C[n++] = l[r];
            }
    }
    t->extra_loss = gate(kd, u, alpha, C, n, s, alpha + kd->M, m->gth + (int64_t)u * kd->M);
    hc_kd_rrd_target(kd, u, m->gT + (int64_t)u * kd->K, m->n_gT[u], s, t);
    return HC_OK;
}

float *hc_kd_mtd_theta(hc_kd *kd)
{
    return ((mtd_kd *)kd)->theta;
}

float *hc_kd_mtd_gtheta(hc_kd *kd)
{
    return ((mtd_kd *)kd)->gth;
}

static int mtd_after_step(hc_kd *kd)
{
    mtd_kd *m = (mtd_kd *)kd;
    int64_t n = (int64_t)kd->U * kd->M;
    hc_adam_dense(&kd->adam, m->theta, m->gth, m->mth, m->vth, n);
    memset(m->gth, 0, (size_t)n * sizeof *m->gth);
    return HC_OK;
}

static void mtd_free(hc_kd *kd)
{
    mtd_kd *m = (mtd_kd *)kd;
    free(m->theta);
    free(m->gth);
    free(m->mth);
    free(m->vth);
    free(m->gT);
    free(m->n_gT);
}

static const hc_kd_method mtd_method = {
    .name = "mtd",
    .sides = HC_KD_USERS,
    .init = mtd_init,
    .begin_epoch = mtd_begin_epoch,
    .target = mtd_target,
    .loss = hc_kd_listwise_loss,
    .after_step = mtd_after_step,
    .free_fn = mtd_free,
};

HC_KD_DISTILLER(mtd, "MTD: BPR + listwise loss on a per-user gated ensemble", sizeof(mtd_kd),
                mtd_method, 1);
