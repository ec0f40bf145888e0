/*
 * dcd.c - DCD, dual correction distillation (Lee & Kim, CIKM'21), docs/method.md §10.7:
 *   L = L_BPR + dcd_lambda (L_RRD + L_UCD + L_ICD).
 * L_RRD is RRD's listwise loss (rrd.c). Every dcd_every epochs (at the evaluations) the
 * student's top lists of every user (over items) and of every item (over users) are
 * computed, and each is compared with the teacher's:
 *   user side: the teacher's list is the final-checkpoint ensemble's top list of the user;
 *   item side: the users whose ensemble top list holds the item, by ensemble importance.
 * From the teacher's top-N the entries the student ranks lower form the under-estimated set
 * U, from the student's top-N the entries the teacher ranks lower the over-estimated set O
 * (hc_kd_dcd_sets: at most dcd_samples each, drawn with p ~ tanh(discrepancy / eps) when
 * there are more; every one otherwise). The corrections are listwise:
 *   L_UCD(u) = - sum_k [ s_{u,U_k} - log( sum_{l >= k} exp(s_{u,U_l}) + sum_{j in O_u} exp(s_{u,j})
 * ) ] and L_ICD(i) the same over users for item i, over the step's users and its unique positive
 * items. The original's N = 500 needs teacher lists longer than the trajectories hold
 * (top-100): N = min(dcd_n, K). Student ranks are exact within the student's top
 * N + 5 eps; an entry outside counts at that rank, where tanh is within 1e-4 of 1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/kdbase.h"
#include "topk/scored.h"

typedef struct {
    hc_kd kd;                 /* must be first */
    int32_t N, S;             /* top-N compared, most entries per set */
    int32_t *uset;            /* U x 2S: under set then over set of each user */
    int32_t *iset;            /* I x 2S: the same for each item (users) */
    int32_t *n_uset, *n_iset; /* U x 2, I x 2: the sets' lengths */
    int64_t *ti_ptr;          /* I + 1: each item's teacher list of users */
    int32_t *ti;
} dcd_kd;

/* Keeps n_max of the candidates ids[0..n) with rank gaps gap[] (overwritten), in their
 * order: all when n <= n_max, else drawn with p ~ tanh(gap / eps) without replacement. */
static int32_t pick(const int32_t *ids, float *gap, int32_t n, int32_t n_max, float eps, hc_rng *r,
                    int32_t *out)
{
    if (n <= n_max) {
        memcpy(out, ids, (size_t)n * sizeof *out);
        return n;
    }
    for (int32_t j = 0; j < n; j++) /* Efraimidis-Spirakis: key = log(u) / w, keep the largest */
        gap[j] = (float)(log(1.0 - hc_rng_double(r)) / tanh((double)(gap[j] / eps)));
    int32_t m = hc_topk(gap, n, n_max, out, NULL);
    for (int32_t a = 1; a < m; a++) /* back to candidate order */
        for (int32_t b = a; b > 0 && out[b - 1] > out[b]; b--) {
            int32_t x = out[b];
            out[b] = out[b - 1];
            out[b - 1] = x;
        }
    for (int32_t j = 0; j < m; j++)
        out[j] = ids[out[j]];
    return m;
}

int32_t hc_kd_dcd_sets(const int32_t *tl, int32_t n_t, const int32_t *sl, int32_t n_s, int32_t N,
                       float eps, int32_t n_max, hc_rng *r, hc_kd_scratch *s, int32_t *under,
                       int32_t *over, int32_t *n_over)
{
    int32_t outside = n_t > n_s ? n_t : n_s, *ids = s->ibuf, n = 0;
    float *gap = s->fbuf;
    int32_t st = hc_kd_stamp(s);
    for (int32_t j = 0; j < n_s; j++) {
        s->mark[sl[j]] = st;
        s->val[sl[j]] = j;
    }
    for (int32_t k = 0; k < n_t && k < N; k++) {
        int32_t rs = s->mark[tl[k]] == st ? s->val[tl[k]] : outside;
        if (rs > k) {
            ids[n] = tl[k];
            gap[n++] = (float)(rs - k);
        }
    }
    int32_t n_under = pick(ids, gap, n, n_max, eps, r, under);
    st = hc_kd_stamp(s);
    for (int32_t k = 0; k < n_t; k++) {
        s->mark[tl[k]] = st;
        s->val[tl[k]] = k;
    }
    n = 0;
    for (int32_t j = 0; j < n_s && j < N; j++) {
        int32_t rt = s->mark[sl[j]] == st ? s->val[sl[j]] : outside;
        if (rt > j) {
            ids[n] = sl[j];
            gap[n++] = (float)(rt - j);
        }
    }
    *n_over = pick(ids, gap, n, n_max, eps, r, over);
    return n_under;
}

/* Each item's teacher list: the users whose ensemble top-N holds it, by importance
 * (ties: smaller user id), at most N. */
static int build_item_lists(dcd_kd *c)
{
    hc_kd *kd = &c->kd;
    int64_t *cnt = calloc((size_t)kd->I + 1, sizeof *cnt);
    hc_scored *all = NULL;
    int rc = HC_OK;
    c->ti_ptr = calloc((size_t)kd->I + 1, sizeof *c->ti_ptr);
    if (!cnt || !c->ti_ptr)
        goto oom;
    for (int32_t u = 0; u < kd->U; u++)
        for (int32_t r = 0; r < kd->nT[u] && r < c->N; r++)
            cnt[kd->T[(int64_t)u * kd->K + r] + 1]++;
    for (int32_t i = 0; i < kd->I; i++)
        cnt[i + 1] += cnt[i];
    all = malloc((size_t)(cnt[kd->I] > 0 ? cnt[kd->I] : 1) * sizeof *all);
    c->ti = malloc((size_t)(cnt[kd->I] > 0 ? cnt[kd->I] : 1) * sizeof *c->ti);
    if (!all || !c->ti)
        goto oom;
    for (int32_t u = 0; u < kd->U; u++)
        for (int32_t r = 0; r < kd->nT[u] && r < c->N; r++) {
            int64_t k = (int64_t)u * kd->K + r;
            all[cnt[kd->T[k]]++] = (hc_scored){kd->Timp[k], u};
        }
    /* cnt[i] is now the end of item i's entries; compact each to its best N */
    int64_t start = 0, w = 0;
    for (int32_t i = 0; i < kd->I; i++) {
        int64_t end = cnt[i];
        qsort(all + start, (size_t)(end - start), sizeof *all, hc_scored_cmp);
        c->ti_ptr[i] = w;
        for (int64_t k = start; k < end && k - start < c->N; k++)
            c->ti[w++] = all[k].id;
        start = end;
    }
    c->ti_ptr[kd->I] = w;
    goto done;
oom:
    rc = hc_error(HC_ENOMEM, "dcd: out of memory");
done:
    free(cnt);
    free(all);
    return rc;
}

static int dcd_init(hc_kd *kd)
{
    dcd_kd *c = (dcd_kd *)kd;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    if (o->dcd_n < 1 || o->dcd_samples < 1 || o->dcd_samples > HC_KD_MAX_LIST ||
        !(o->dcd_eps > 0.0f) || o->dcd_every < 1)
        return hc_error(HC_EINVAL,
                        "dcd: need dcd_n >= 1, 1 <= dcd_samples <= %d, dcd_eps > 0, "
                        "dcd_every >= 1",
                        HC_KD_MAX_LIST);
    c->N = o->dcd_n < kd->K ? o->dcd_n : kd->K;
    c->S = o->dcd_samples;
    int rc = hc_kd_rrd_init(kd, 2 * c->S);
    if (rc)
        return rc;
    kd->lambda = o->dcd_lambda;
    kd->buf_cap = c->N;
    c->uset = malloc((size_t)kd->U * 2 * (size_t)c->S * sizeof *c->uset);
    c->iset = malloc((size_t)kd->I * 2 * (size_t)c->S * sizeof *c->iset);
    c->n_uset = calloc((size_t)kd->U * 2, sizeof *c->n_uset);
    c->n_iset = calloc((size_t)kd->I * 2, sizeof *c->n_iset);
    if (!c->uset || !c->iset || !c->n_uset || !c->n_iset)
        return hc_error(HC_ENOMEM, "dcd: out of memory");
    return build_item_lists(c);
}

/* hc_kd_row_fn: the discrepancy sets of one user or item from its student top list. */
static int dcd_row(hc_kd *kd, int side, int32_t id, const float *scores, int32_t n_cols,
                   const int32_t *list, int32_t len, hc_kd_scratch *s)
{
    (void)scores;
    (void)n_cols;
    dcd_kd *c = (dcd_kd *)kd;
    const float eps = kd->base.ctx->opts.dcd_eps;
    const int32_t *tl;
    int32_t n_t, *set, *cnt;
    if (side == HC_KD_USERS) {
        tl = kd->T + (int64_t)id * kd->K;
        n_t = kd->nT[id];
        set = c->uset + (int64_t)id * 2 * c->S;
        cnt = c->n_uset + 2 * (int64_t)id;
    } else {
        tl = c->ti + c->ti_ptr[id];
        n_t = (int32_t)(c->ti_ptr[id + 1] - c->ti_ptr[id]);
        set = c->iset + (int64_t)id * 2 * c->S;
        cnt = c->n_iset + 2 * (int64_t)id;
    }
    hc_rng r;
    hc_kd_rng(kd, side, kd->epoch, id, &r);
    cnt[0] = hc_kd_dcd_sets(tl, n_t, list, len, c->N, eps, c->S, &r, s, set, set + c->S, &cnt[1]);
    return HC_OK;
}

static int dcd_after_eval(hc_kd *kd, int32_t epoch, const int32_t *top50)
{
    (void)top50; /* the sets need longer student lists than the evaluation's 50 */
    dcd_kd *c = (dcd_kd *)kd;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    if (epoch % o->dcd_every != 0)
        return HC_OK;
    int32_t ns = c->N + (int32_t)ceilf(5.0f * o->dcd_eps);
    int rc = hc_kd_student_topk(kd, HC_KD_USERS, ns, dcd_row);
    return rc ? rc : hc_kd_student_topk(kd, HC_KD_ITEMS, ns, dcd_row);
}

static int dcd_target(hc_kd *kd, int side, int32_t id, hc_kd_scratch *s, hc_kd_target *t)
{
    dcd_kd *c = (dcd_kd *)kd;
    const int32_t *set = (side == HC_KD_USERS ? c->uset : c->iset) + (int64_t)id * 2 * c->S;
    const int32_t *cnt = (side == HC_KD_USERS ? c->n_uset : c->n_iset) + 2 * (int64_t)id;
    if (side == HC_KD_USERS)
        hc_kd_rrd_target(kd, id, kd->T + (int64_t)id * kd->K, kd->nT[id], s, t);
    for (int32_t p = 0; p < 2; p++) {
        for (int32_t k = 0; k < cnt[p]; k++) {
            int32_t e = set[p * c->S + k];
            if (side == HC_KD_USERS)
                hc_kd_push(t, id, e, 0.0f, 0.0f);
            else
                hc_kd_push(t, e, id, 0.0f, 0.0f);
        }
        hc_kd_close_part(t);
    }
    return HC_OK;
}

static void dcd_free(hc_kd *kd)
{
    dcd_kd *c = (dcd_kd *)kd;
    free(c->uset);
    free(c->iset);
    free(c->n_uset);
    free(c->n_iset);
    free(c->ti_ptr);
    free(c->ti);
}

static const hc_kd_method dcd_method = {
    .name = "dcd",
    .sides = HC_KD_USERS | HC_KD_ITEMS,
    .init = dcd_init,
    .after_eval = dcd_after_eval,
    .target = dcd_target,
    .loss = hc_kd_listwise_loss,
    .free_fn = dcd_free,
};

HC_KD_DISTILLER(dcd, "DCD: BPR + RRD + user- and item-side discrepancy corrections", sizeof(dcd_kd),
                dcd_method, 0);
