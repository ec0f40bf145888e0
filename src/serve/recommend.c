/*
 * recommend.c - top-K recommendations for users of a trained model (see recommend.h).
 *
 * Per block of b <= block users: S = score(users) (b x I, one model call, under the shared
 * lock when given); then, for each user u of the block, in parallel over chunks of 8 users
 * (OpenMP; a block of at most 8 users, e.g. one server request, starts no thread team):
 * S[u, i] = -INFINITY for i in train(u) unless include_seen, and top-k of S[u, :] by hc_topk,
 * a bounded heap that breaks ties by the smaller item index and skips -INFINITY/NaN.
 * Cost per block: the model's score plus O(I + |train(u)| + I log k) per user; memory:
 * block x I floats per context (64 x 25k items = 6.4 MB, cache-sized).
 *
 * Considered and dropped: a two-buffer pipeline (OpenMP tasks scoring block b + 1 while block
 * b's users are selected). It only wins when scoring is cheap next to selection, BLAS then
 * runs single-threaded inside the tasks, and it measured no faster on 2 cores.
 */
#include "serve/recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hc_recommend_init(hc_recommender *r, hc_model *m, const hc_dataset *ds, int32_t block,
                      pthread_mutex_t *lock)
{
    memset(r, 0, sizeof *r);
    if (!m || !ds)
        return hc_error(HC_EINVAL, "recommend: no model or dataset");
    if (m->n_users != ds->n_users || m->n_items != ds->n_items)
        return hc_error(HC_EINVAL, "recommend: model has %d users and %d items, dataset %d and %d",
                        m->n_users, m->n_items, ds->n_users, ds->n_items);
    if (ds->train.nrows != ds->n_users || ds->train.ncols != ds->n_items)
        return hc_error(HC_EINVAL, "recommend: train matrix does not match the dataset sizes");
    if (block <= 0)
        block = HC_RECOMMEND_BLOCK;
    if (block > ds->n_users)
        block = ds->n_users > 0 ? ds->n_users : 1;
    r->scores = malloc((size_t)block * (size_t)ds->n_items * sizeof *r->scores);
    if (!r->scores)
        return hc_error(HC_ENOMEM, "recommend: out of memory for %d x %d scores", block,
                        ds->n_items);
    r->model = m;
    r->ds = ds;
    r->lock = lock;
    r->block = block;
    return HC_OK;
}

void hc_recommend_free(hc_recommender *r)
{
    if (!r)
        return;
    free(r->scores);
    memset(r, 0, sizeof *r);
}

/* Scores users[0..b) into buf under the shared lock. */
static int score_block(hc_recommender *r, float *buf, const int32_t *users, int32_t b)
{
    if (r->lock)
        pthread_mutex_lock(r->lock);
    int rc = r->model->type->score(r->model, users, b, buf);
    if (r->lock)
        pthread_mutex_unlock(r->lock);
    return rc;
}

/* What one selection step needs: the block's scores and where its users' lists go. */
typedef struct {
    const hc_csr *train;
    int32_t ni, k;
    int include_seen;
    int32_t *out_items; /* n x k */
    float *out_scores;  /* n x k or NULL */
    int32_t *out_count; /* n or NULL */
} select_job;

/* Masks and selects rows [j0, j1) of a block whose first user is users[s] (row j holds user
 * users[s + j]'s scores in buf). */
static void select_rows(const select_job *jb, float *buf, const int32_t *users, int32_t s,
                        int32_t j0, int32_t j1)
{
    const int32_t ni = jb->ni, k = jb->k;
    for (int32_t j = j0; j < j1; j++) {
        float *row = buf + (size_t)j * (size_t)ni;
        int32_t u = users[s + j];
        if (!jb->include_seen) {
            const int32_t *seen = hc_csr_row(jb->train, u);
            int32_t ns = hc_csr_row_len(jb->train, u);
            for (int32_t t = 0; t < ns; t++)
                row[seen[t]] = -INFINITY;
        }
        int32_t *idx = jb->out_items + (size_t)(s + j) * (size_t)k;
        float *val = jb->out_scores ? jb->out_scores + (size_t)(s + j) * (size_t)k : NULL;
        int32_t got = hc_topk(row, ni, k, idx, val);
        for (int32_t t = got; t < k; t++) {
            idx[t] = -1;
            if (val)
                val[t] = -INFINITY;
        }
        if (jb->out_count)
            jb->out_count[s + j] = got;
    }
}

#define SELECT_CHUNK 8 /* users per OpenMP work item */

int hc_recommend_users(hc_recommender *r, const int32_t *users, int32_t n, int32_t k,
                       int include_seen, int32_t *out_items, float *out_scores, int32_t *out_count)
{
    if (k < 1)
        return hc_error(HC_EINVAL, "recommend: k must be >= 1, got %d", k);
    if (n < 0)
        return hc_error(HC_EINVAL, "recommend: negative user count");
    const int32_t nu = r->ds->n_users;
    for (int32_t j = 0; j < n; j++)
        if (users[j] < 0 || users[j] >= nu)
            return hc_error(HC_EINVAL, "recommend: user index %d out of range [0, %d)", users[j],
                            nu);
    select_job jb = {.train = &r->ds->train,
                     .ni = r->ds->n_items,
                     .k = k,
                     .include_seen = include_seen,
                     .out_items = out_items,
                     .out_scores = out_scores,
                     .out_count = out_count};
    for (int32_t s = 0; s < n; s += r->block) {
        int32_t b = n - s < r->block ? n - s : r->block;
        int rc = score_block(r, r->scores, users + s, b);
        if (rc)
            return rc;
        if (b <= SELECT_CHUNK) { /* one server request: no thread team */
            select_rows(&jb, r->scores, users, s, 0, b);
            continue;
        }
#pragma omp parallel for schedule(dynamic, 1)
        for (int32_t j0 = 0; j0 < b; j0 += SELECT_CHUNK)
            select_rows(&jb, r->scores, users, s, j0,
                        b - j0 < SELECT_CHUNK ? b : j0 + SELECT_CHUNK);
    }
    return HC_OK;
}

/* ------------------------------------------------------------------------------ pool */

void hc_rec_pool_free(hc_rec_pool *p)
{
    if (!p)
        return;
    for (int32_t i = 0; p->ctx && i < p->n; i++)
        hc_recommend_free(&p->ctx[i]);
    free(p->ctx);
    free(p->free_ids);
    if (p->inited) {
        pthread_mutex_destroy(&p->score_lock);
        pthread_mutex_destroy(&p->pool_lock);
        pthread_cond_destroy(&p->available);
    }
    memset(p, 0, sizeof *p);
}

int hc_rec_pool_init(hc_rec_pool *p, hc_model *m, const hc_dataset *ds, int32_t n, int32_t block)
{
    memset(p, 0, sizeof *p);
    if (n < 1)
        return hc_error(HC_EINVAL, "recommend pool: needs at least one context, got %d", n);
    if (pthread_mutex_init(&p->score_lock, NULL) != 0)
        return hc_error(HC_ENOMEM, "recommend pool: cannot create a mutex");
    if (pthread_mutex_init(&p->pool_lock, NULL) != 0) {
        pthread_mutex_destroy(&p->score_lock);
        return hc_error(HC_ENOMEM, "recommend pool: cannot create a mutex");
    }
    if (pthread_cond_init(&p->available, NULL) != 0) {
        pthread_mutex_destroy(&p->score_lock);
        pthread_mutex_destroy(&p->pool_lock);
        return hc_error(HC_ENOMEM, "recommend pool: cannot create a condition variable");
    }
    p->inited = 1;
    int rc = HC_OK;
    p->ctx = calloc((size_t)n, sizeof *p->ctx);
    p->free_ids = malloc((size_t)n * sizeof *p->free_ids);
    if (!p->ctx || !p->free_ids) {
        rc = hc_error(HC_ENOMEM, "recommend pool: out of memory");
        goto fail;
    }
    p->n = n;
    for (int32_t i = 0; i < n; i++) {
        if ((rc = hc_recommend_init(&p->ctx[i], m, ds, block, &p->score_lock)) != HC_OK)
            goto fail;
        p->free_ids[i] = n - 1 - i;
    }
    p->n_free = n;
    return HC_OK;
fail:
    hc_rec_pool_free(p);
    return rc;
}

hc_recommender *hc_rec_pool_acquire(hc_rec_pool *p)
{
    pthread_mutex_lock(&p->pool_lock);
    while (p->n_free == 0)
        pthread_cond_wait(&p->available, &p->pool_lock);
    hc_recommender *r = &p->ctx[p->free_ids[--p->n_free]];
    pthread_mutex_unlock(&p->pool_lock);
    return r;
}

void hc_rec_pool_release(hc_rec_pool *p, hc_recommender *r)
{
    pthread_mutex_lock(&p->pool_lock);
    p->free_ids[p->n_free++] = (int32_t)(r - p->ctx);
    pthread_cond_signal(&p->available);
    pthread_mutex_unlock(&p->pool_lock);
}
