/*
 * recommend.h - top-K recommendations from a trained model, for the CLI (one user, or every
 * user into a file) and for the HTTP server (many worker threads).
 *
 * A recommender context borrows a loaded model and its dataset and owns a block x n_items
 * score buffer. hc_recommend_users scores users a block at a time (one model score call per
 * block), masks each user's train items to -INFINITY unless include_seen, and selects the
 * top k with hc_topk (ties: smaller item index first), OpenMP over the block's users.
 *
 * Threading: a model's score() uses model-owned scratch, so it is NOT thread-safe. Contexts
 * that share one model must share one mutex (hc_recommend_init's lock): score() runs under it,
 * while masking and selection run outside it in each context's own buffer. A context itself
 * is used by one thread at a time; hc_rec_pool hands out contexts to server workers. We chose
 * one shared model with serialised scoring over a model copy per worker because prepare()
 * caches (e.g. LightGCN's propagated tables) would be duplicated per worker, and scoring one
 * user is a single matrix-vector product, short next to request handling.
 */
#ifndef HC_RECOMMEND_H
#define HC_RECOMMEND_H

#include <pthread.h>

#include "hetcomp.h"
#include "model/model.h"

#define HC_RECOMMEND_BLOCK 64 /* default users per score call (64 x items floats stay in cache) */

typedef struct {
    hc_model *model;       /* borrowed: loaded and prepared; outlives the context */
    const hc_dataset *ds;  /* borrowed: its train CSR gives the seen items */
    pthread_mutex_t *lock; /* borrowed, may be NULL: serialises model->type->score */
    int32_t block;         /* users per score call, >= 1 */
    float *scores;         /* block x n_items score buffer (owned) */
} hc_recommender;

/* Sets r up for model m on dataset ds (same user and item counts) with a score buffer of
 * block rows (block <= 0: HC_RECOMMEND_BLOCK). lock (may be NULL when only this context uses
 * the model) is held around every score call. HC_EINVAL on mismatched sizes, HC_ENOMEM. */
int hc_recommend_init(hc_recommender *r, hc_model *m, const hc_dataset *ds, int32_t block,
                      pthread_mutex_t *lock);
/* Frees the score buffer; accepts a zeroed struct. */
void hc_recommend_free(hc_recommender *r);

/* Top-k items of users[0..n) (dense indices in [0, n_users)), k >= 1.
 * OUT: out_items (n x k) receives item indices in descending score order, padded with -1 when
 * fewer than k items are selectable (k > items, or items masked); out_scores (n x k, may be
 * NULL) the matching scores (-INFINITY in padding); out_count (n, may be NULL) the number of
 * items written per user. include_seen: 0 masks the user's train items. Returns HC_EINVAL on
 * a bad user index or k, or the score call's error. */
int hc_recommend_users(hc_recommender *r, const int32_t *users, int32_t n, int32_t k,
                       int include_seen, int32_t *out_items, float *out_scores, int32_t *out_count);

/* A fixed set of contexts over one model for server worker threads: acquire blocks until a
 * context is free (never, when there are at least as many contexts as workers). */
typedef struct {
    hc_recommender *ctx; /* n contexts (owned) */
    int32_t n;
    int32_t *free_ids; /* stack of free context indices (owned) */
    int32_t n_free;
    pthread_mutex_t score_lock; /* shared by every context's score call */
    pthread_mutex_t pool_lock;  /* guards free_ids / n_free */
    pthread_cond_t available;
    int inited; /* 1 once the mutexes exist */
} hc_rec_pool;

/* Creates n >= 1 contexts of block rows each over m and ds. On failure everything is freed. */
int hc_rec_pool_init(hc_rec_pool *p, hc_model *m, const hc_dataset *ds, int32_t n, int32_t block);
/* Frees the contexts and mutexes (none may be in use); accepts a zeroed struct. */
void hc_rec_pool_free(hc_rec_pool *p);
/* Takes a free context (waits for one); give it back with hc_rec_pool_release. */
hc_recommender *hc_rec_pool_acquire(hc_rec_pool *p);
void hc_rec_pool_release(hc_rec_pool *p, hc_recommender *r);

#endif
