/*
 * ensemble.c - rank-importance aggregation (see ensemble.h).
 */
#include "ensemble/ensemble.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

/* The number of shares t's users were dealt into (1: t holds every user). */
static int share_size(const hc_traj *t)
{
    return t->part_size > 1 ? t->part_size : 1;
}

int hc_ensemble_init(hc_ensemble *e, const hc_traj *const *traj, int32_t n_teachers,
                     const float *weight, float temperature, int32_t k)
{
    memset(e, 0, sizeof *e);
    if (n_teachers <= 0)
        return hc_error(HC_EINVAL, "ensemble: no teachers");
    if (!(temperature > 0.0f) || k <= 0)
        return hc_error(HC_EINVAL, "ensemble: temperature and k must be positive");
    int32_t maxk = 0;
    for (int32_t x = 0; x < n_teachers; x++) {
        const hc_traj *t = traj[x];
        if (t->ds_checksum != traj[0]->ds_checksum || t->n_users != traj[0]->n_users ||
            t->n_items != traj[0]->n_items)
            return hc_error(HC_EMISMATCH,
                            "ensemble: teachers '%s' and '%s' were trained on "
                            "different datasets",
                            traj[0]->model, t->model);
        if (t->k > maxk)
            maxk = t->k;
        int rc = hc_traj_share_check(t, "ensemble");
        if (rc)
            return rc;
    }
    if (weight)
        for (int32_t x = 0; x < n_teachers; x++)
            if (!(weight[x] > 0.0f))
                return hc_error(HC_EINVAL, "ensemble: teacher weights must be positive");
    e->n_teachers = n_teachers;
    e->traj = traj;
    e->weight = weight;
    e->temperature = temperature;
    e->k = k;
    e->n_items = traj[0]->n_items;
    e->scorer_ckpt = -1;
    /* observed lists can be longer than top lists: size the table for both */
    int32_t len = maxk;
    for (int32_t x = 0; x < n_teachers; x++)
        if (traj[x]->observed) {
            len = len > 100000 ? len : 100000;
            break;
        }
    int rc = hc_ensemble_decay(temperature, len > 0 ? len : 1, &e->decay);
    if (rc)
        return rc;
    e->decay_len = len;
    return HC_OK;
}

void hc_ensemble_free(hc_ensemble *e)
{
    if (!e)
        return;
    free(e->decay);
    memset(e, 0, sizeof *e);
}

int hc_ensemble_decay(float temperature, int32_t len, float **out)
{
    *out = NULL;
    if (!(temperature > 0.0f) || len < 1)
        return hc_error(HC_EINVAL, "ensemble: temperature %g and list length %d must be positive",
                        (double)temperature, len);
    float *d = malloc((size_t)len * sizeof *d);
    if (!d)
        return hc_error(HC_ENOMEM, "ensemble: out of memory");
    /* at least FLT_MIN: a listed item must get a non-zero importance (a zero one would be
     * taken for a new candidate again by hc_ensemble_aggregate) */
    for (int32_t r = 0; r < len; r++)
        d[r] = fmaxf((float)exp(-(double)r / (double)temperature), FLT_MIN);
    *out = d;
    return HC_OK;
}

int hc_ensemble_scratch_alloc(hc_ensemble_scratch *s, int32_t n_items, int32_t n_lists, int32_t cap,
                              int32_t pos_cap)
{
    memset(s, 0, sizeof *s);
    if (pos_cap < cap)
        pos_cap = cap;
    s->imp = calloc((size_t)(n_items > 0 ? n_items : 1), sizeof *s->imp);
    s->cand = malloc((size_t)(cap + 1) * sizeof *s->cand);
    s->cand_imp = malloc((size_t)(cap + 1) * sizeof *s->cand_imp);
    s->pos = malloc((size_t)(pos_cap + 1) * sizeof *s->pos);
    s->list = malloc((size_t)(n_lists > 0 ? n_lists : 1) * sizeof *s->list);
    s->len = malloc((size_t)(n_lists > 0 ? n_lists : 1) * sizeof *s->len);
    s->cap = cap;
    s->n_lists = n_lists;
    if (!s->imp || !s->cand || !s->cand_imp || !s->pos || !s->list || !s->len) {
        hc_ensemble_scratch_free(s);
        return hc_error(HC_ENOMEM, "ensemble: out of memory");
    }
    return HC_OK;
}

int hc_ensemble_scratch_init(const hc_ensemble *e, hc_ensemble_scratch *s)
{
    int32_t cap = 0;
    for (int32_t x = 0; x < e->n_teachers; x++)
        cap += e->traj[x]->k;
    /* pos also receives hc_ensemble_observed's selection over a train row, which can be
     * longer than all the top lists together (at most n_items) */
    return hc_ensemble_scratch_alloc(s, e->n_items, e->n_teachers, cap,
                                     cap > e->n_items ? cap : e->n_items);
}

void hc_ensemble_scratch_free(hc_ensemble_scratch *s)
{
    if (!s)
        return;
    free(s->imp);
    free(s->cand);
    free(s->cand_imp);
    free(s->pos);
    free(s->list);
    free(s->len);
    memset(s, 0, sizeof *s);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int32_t hc_ensemble_aggregate(const int32_t *const *list, const int32_t *len, int32_t n,
                              const float *weight, const float *decay, int32_t k,
                              hc_ensemble_scratch *s, int32_t *out, float *imp)
{
    int32_t nc = 0;
    for (int32_t x = 0; x < n; x++) {
        const int32_t *top = list[x];
        float w = weight ? weight[x] : 1.0f;
        for (int32_t r = 0; r < len[x] && top[r] >= 0; r++) {
            int32_t it = top[r];
            if (s->imp[it] == 0.0f)
                s->cand[nc++] = it;
            s->imp[it] += w * decay[r];
        }
    }
    /* candidates in id order, so the selection's "smaller index first" tie rule is
     * "smaller item id first" */
    qsort(s->cand, (size_t)nc, sizeof *s->cand, cmp_i32);
    for (int32_t j = 0; j < nc; j++) {
        s->cand_imp[j] = s->imp[s->cand[j]];
        s->imp[s->cand[j]] = 0.0f;
    }
    int32_t m = hc_topk(s->cand_imp, nc, k, s->pos, NULL);
    for (int32_t r = 0; r < m; r++) {
        out[r] = s->cand[s->pos[r]];
        if (imp)
            imp[r] = s->cand_imp[s->pos[r]];
    }
    return m;
}

int32_t hc_ensemble_user(const hc_ensemble *e, int32_t u, const int32_t *ckpt,
                         hc_ensemble_scratch *s, int32_t *out, float *imp)
{
    for (int32_t x = 0; x < e->n_teachers; x++) {
        const hc_traj *t = e->traj[x];
        s->list[x] = hc_traj_top(t, ckpt ? ckpt[x] : t->n_ckpt - 1, u);
        s->len[x] = t->k;
    }
    return hc_ensemble_aggregate(s->list, s->len, e->n_teachers, e->weight, e->decay, e->k, s, out,
                                 imp);
}

int32_t hc_ensemble_observed(const hc_ensemble *e, const hc_dataset *ds, int32_t u, int32_t max_len,
                             hc_ensemble_scratch *s, int32_t *out)
{
    const int32_t *row = hc_csr_row(&ds->train, u);
    int32_t n = hc_csr_row_len(&ds->train, u);
    if (n == 0)
        return 0;
    /* importance by position in the user's (sorted) train row */
    float *imp = s->imp;
    for (int32_t x = 0; x < e->n_teachers; x++) {
        const hc_traj *t = e->traj[x];
        if (!t->observed)
            continue;
        const int32_t *o = hc_traj_observed(t, &ds->train, t->n_ckpt - 1, u);
        float w = e->weight ? e->weight[x] : 1.0f;
        for (int32_t r = 0; r < n; r++) {
            const int32_t *hit = bsearch(&o[r], row, (size_t)n, sizeof *row, cmp_i32);
            if (hit)
                imp[hit - row] += w * e->decay[r < e->decay_len ? r : e->decay_len - 1];
        }
    }
    /* selection over the train row (positions in id order: ties to the smaller id) */
    int32_t m = hc_topk(imp, n, max_len < n ? max_len : n, s->pos, NULL);
    for (int32_t r = 0; r < m; r++)
        out[r] = row[s->pos[r]];
    memset(imp, 0, (size_t)n * sizeof *imp);
    return m;
}

static int ensemble_score(void *ctx, const int32_t *users, int32_t n, float *out)
{
    hc_ensemble *e = ctx;
    int rc = HC_OK;
    memset(out, 0, (size_t)n * (size_t)e->n_items * sizeof *out);
#pragma omp parallel
    {
        hc_ensemble_scratch s;
        int32_t *list = malloc((size_t)e->k * sizeof *list);
        float *imp = malloc((size_t)e->k * sizeof *imp);
        int32_t *ck = malloc((size_t)e->n_teachers * sizeof *ck);
        int ok = list && imp && ck && hc_ensemble_scratch_init(e, &s) == HC_OK;
        for (int32_t x = 0; ok && x < e->n_teachers; x++) {
            int32_t last = e->traj[x]->n_ckpt - 1;
            ck[x] = e->scorer_ckpt < 0 || e->scorer_ckpt > last ? last : e->scorer_ckpt;
        }
        if (!ok) {
#pragma omp critical
            rc = HC_ENOMEM;
        }
#pragma omp for schedule(dynamic, 16)
        for (int32_t r = 0; r < n; r++) {
            if (!ok)
                continue;
            int32_t m = hc_ensemble_user(e, users[r], ck, &s, list, imp);
            float *row = out + (int64_t)r * e->n_items;
            for (int32_t j = 0; j < m; j++)
                row[list[j]] = imp[j];
        }
        if (ok)
            hc_ensemble_scratch_free(&s);
        free(list);
        free(imp);
        free(ck);
    }
    return rc ? hc_error(rc, "ensemble: out of memory") : HC_OK;
}

hc_scorer hc_ensemble_scorer(hc_ensemble *e)
{
    hc_scorer s = {ensemble_score, e};
    return s;
}

int hc_ensemble_eval(const hc_dataset *ds, const hc_traj *const *traj, int32_t n,
                     const float *weight, float temperature, int32_t k, int32_t ckpt,
                     hc_eval_result *res)
{
    hc_ensemble e;
    int rc = hc_ensemble_init(&e, traj, n, weight, temperature, k);
    if (rc)
        return rc;
    e.scorer_ckpt = ckpt;
    hc_scorer sc = hc_ensemble_scorer(&e);
    rc = hc_evaluate(ds, &sc, NULL, res);
    hc_ensemble_free(&e);
    return rc;
}

/* Rank 0 receives every rank's share (in rank order, then dealt back to user order) as the
 * whole trajectory *out, the one it saves; the other ranks keep their share. One gather at
 * write time: the output is one checkpoint of K items, and its file's header holds the
 * body's checksum, so rank 0 writes it in one piece (docs/distributed.md). */
static int gather_share(const hc_dataset *ds, hc_traj *out)
{
    const int rank = out->part_rank, size = out->part_size;
    const size_t K = (size_t)out->k;
    hc_traj whole = *out; /* the counts; arrays of its own */
    whole.part_rank = whole.part_size = 0;
    whole.part_obs = NULL;
    whole.epochs = NULL;
    whole.valid_r50 = NULL;
    whole.top = whole.observed = NULL;
    int32_t *tops = NULL, *obs = NULL;
    int rc = HC_OK;
    if (rank == 0) {
        rc = hc_traj_alloc(&whole, out->observed != NULL);
        tops = malloc((size_t)ds->n_users * K * sizeof *tops + 1);
        obs = out->observed ? malloc((size_t)ds->train.nnz * sizeof *obs + 1) : NULL;
        if (!rc && (!tops || (out->observed && !obs)))
            rc = hc_error(HC_ENOMEM, "ensemble: out of memory gathering the lists");
    }
    /* every rank learns whether rank 0 can take them, so none sends to a failed one */
    if ((rc = dist_agree(rc)) == HC_OK) {
        dist_gather_ints(out->top, (size_t)hc_traj_rows(out) * K, tops, 0);
        if (out->observed)
            dist_gather_ints(out->observed, (size_t)hc_traj_obs_len(out), obs, 0);
    }
    if (rank == 0 && rc == HC_OK) {
        size_t at = 0, at_obs = 0;
        for (int r = 0; r < size; r++)
            for (int32_t u = r; u < ds->n_users; u += size) {
                memcpy(whole.top + (size_t)u * K, tops + at, K * sizeof *tops);
                at += K;
                size_t n = (size_t)hc_csr_row_len(&ds->train, u);
                if (obs)
                    memcpy(whole.observed + ds->train.indptr[u], obs + at_obs, n * sizeof *obs);
                at_obs += n;
            }
        whole.epochs[0] = out->epochs[0];
        whole.valid_r50[0] = out->valid_r50[0];
        hc_traj_free(out);
        *out = whole;
    } else if (rank == 0) {
        hc_traj_free(&whole);
    }
    free(tops);
    free(obs);
    return rc;
}

/* e's final-checkpoint lists (and observed orders when any teacher has them) as the
 * one-checkpoint trajectory out: of every user, or, when the teachers are shares, of this
 * rank's users, gathered whole onto rank 0. */
static int ensemble_lists(const hc_dataset *ds, const hc_ensemble *e, hc_traj *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->model, sizeof out->model, "ensemble");
    out->n_users = ds->n_users;
    out->n_items = ds->n_items;
    out->n_ckpt = 1;
    out->k = e->k;
    out->ds_checksum = ds->checksum;
    out->train_nnz = ds->train.nnz;
    int with_obs = 0;
    for (int32_t x = 0; x < e->n_teachers; x++)
        with_obs |= e->traj[x]->observed != NULL;
    const int rank = e->traj[0]->part_rank, size = share_size(e->traj[0]);
    hc_ensemble_scratch s;
    int rc = hc_traj_alloc_share(out, with_obs, ds, rank, size);
    if (rc != HC_OK || (rc = hc_ensemble_scratch_init(e, &s)) != HC_OK) {
        hc_traj_free(out);
        return rc;
    }
    out->epochs[0] = -1;
    out->valid_r50[0] = 0.0f;
    for (int32_t u = rank; u < ds->n_users; u += size) {
        int32_t *top = (int32_t *)hc_traj_top(out, 0, u);
        for (int32_t r = hc_ensemble_user(e, u, NULL, &s, top, NULL); r < e->k; r++)
            top[r] = -1;
        if (with_obs)
            hc_ensemble_observed(e, ds, u, hc_csr_row_len(&ds->train, u), &s,
                                 (int32_t *)hc_traj_observed(out, &ds->train, 0, u));
    }
    hc_ensemble_scratch_free(&s);
    if (size > 1 && (rc = gather_share(ds, out)) != HC_OK)
        hc_traj_free(out);
    return rc;
}

int hc_ensemble_build(const hc_dataset *ds, const hc_traj *const *traj, int32_t n,
                      const float *weight, float temperature, int32_t k, hc_traj *lists,
                      hc_eval_result *res)
{
    hc_ensemble e;
    int rc = hc_ensemble_init(&e, traj, n, weight, temperature, k);
    if (rc == HC_OK && lists)
        rc = ensemble_lists(ds, &e, lists);
    if (rc == HC_OK && res) {
        hc_scorer sc = hc_ensemble_scorer(&e);
        rc = hc_evaluate(ds, &sc, NULL, res);
    }
    if (rc != HC_OK && lists)
        hc_traj_free(lists);
    hc_ensemble_free(&e);
    return rc;
}
