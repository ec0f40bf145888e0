/*
 * ensemble.h - the rank-importance ensemble of docs/method.md §3 (the paper's Eq. 8).
 *
 * For user u and teacher x at checkpoint c, an item at 0-based rank r of the teacher's top
 * list has importance w_x exp(-r / T); the ensemble's importance of an item is the sum over
 * teachers (zero outside every list), its top list the K items of highest importance, ties
 * to the smaller item id. Only the at most M K listed items can score, so a user costs
 * O(M K log(M K)) whatever the catalog size. The observed list P_u orders the user's train
 * items the same way from the teachers' observed orders (final checkpoints).
 *
 * The aggregation of M ranked lists itself is hc_ensemble_aggregate: hc_ensemble_user feeds it
 * the recorded trajectories' lists, the live ensemble of src/serve/recommend.c the lists its
 * models rank at query time, so both give the same list for the same rankings.
 */
#ifndef HC_ENSEMBLE_H
#define HC_ENSEMBLE_H

#include "traj/trajectory.h"

typedef struct {
    int32_t n_teachers;
    const hc_traj *const *traj; /* n_teachers trajectories (borrowed) */
    const float *weight;        /* n_teachers weights, or NULL for 1 */
    float temperature;          /* T (10) */
    int32_t k;                  /* length of the ensemble's top list (100) */
    int32_t n_items;
    int32_t scorer_ckpt; /* checkpoint the scorer uses: -1 the last (default), else this
                            index (clamped to each teacher's last) */
    float *decay;        /* decay[r] = exp(-r / T) for r < max teacher list length (owned) */
    int32_t decay_len;
} hc_ensemble;

/* Per-thread scratch for hc_ensemble_user and hc_ensemble_aggregate
 * (hc_ensemble_scratch_init or _alloc, then _free). */
typedef struct {
    float *imp;           /* n_items, zero between calls */
    int32_t *cand;        /* candidate items (cap) */
    float *cand_imp;      /* their importances, in cand order (cap) */
    int32_t *pos;         /* selection output (pos_cap entries) */
    int32_t cap;          /* most candidates: the summed length of the lists */
    const int32_t **list; /* n_lists list pointers for hc_ensemble_user */
    int32_t *len;         /* n_lists list lengths */
    int32_t n_lists;
} hc_ensemble_scratch;

/* Checks the trajectories agree (users, items, dataset) and fills e. */
int hc_ensemble_init(hc_ensemble *e, const hc_traj *const *traj, int32_t n_teachers,
                     const float *weight, float temperature, int32_t k);
void hc_ensemble_free(hc_ensemble *e);
int hc_ensemble_scratch_init(const hc_ensemble *e, hc_ensemble_scratch *s);
/* Scratch for aggregating n_lists lists of at most cap items in all over n_items items, whose
 * selection output holds pos_cap entries (>= cap). HC_ENOMEM; s is zeroed on failure. */
int hc_ensemble_scratch_alloc(hc_ensemble_scratch *s, int32_t n_items, int32_t n_lists, int32_t cap,
                              int32_t pos_cap);
/* Frees s (accepts a zeroed struct). */
void hc_ensemble_scratch_free(hc_ensemble_scratch *s);

/* The rank-decay table: *out (owned by the caller) receives decay[r] = exp(-r / temperature)
 * for r < len (computed in double, stored as float, at least FLT_MIN). HC_EINVAL unless temperature
 * > 0 and len >= 1; HC_ENOMEM. */
int hc_ensemble_decay(float temperature, int32_t len, float **out);

/* The rank-importance aggregation of n ranked lists (docs/method.md §3). List x holds len[x] item
 * ids in [0, n_items), best first (a -1 ends it early); its item at rank r gets importance
 * weight[x] * decay[r] (weight NULL: 1), summed over the lists in list order. Writes the at
 * most k items of highest importance into out, ties to the smaller item id, with their
 * importances in imp (may be NULL), and returns how many (items in no list never appear).
 * decay has at least max(len) entries; s was allocated for the dataset's n_items and at
 * least sum(len) candidates, and its imp array is left zero again. No allocation. */
int32_t hc_ensemble_aggregate(const int32_t *const *list, const int32_t *len, int32_t n,
                              const float *weight, const float *decay, int32_t k,
                              hc_ensemble_scratch *s, int32_t *out, float *imp);

/* User u's top list from checkpoint ckpt[x] of each teacher x (ckpt NULL: every teacher's
 * last checkpoint). Writes at most e->k items into out (imp, when not NULL, receives their
 * importances) and returns how many. */
int32_t hc_ensemble_user(const hc_ensemble *e, int32_t u, const int32_t *ckpt,
                         hc_ensemble_scratch *s, int32_t *out, float *imp);

/* User u's observed list: train items by ensemble importance of their ranks in the teachers'
 * observed orders at the last checkpoints (teachers without observed orders are skipped;
 * with none, train items keep id order). At most max_len items; returns the count. */
int32_t hc_ensemble_observed(const hc_ensemble *e, const hc_dataset *ds, int32_t u, int32_t max_len,
                             hc_ensemble_scratch *s, int32_t *out);

/* A scorer whose row for u holds the ensemble importance at checkpoint e->scorer_ckpt (zero
 * for unlisted items), so hc_evaluate ranks exactly like the ensemble's top list. ctx: e. */
hc_scorer hc_ensemble_scorer(hc_ensemble *e);

/* Full-ranking metrics of the ensemble of traj[0..n) at checkpoint ckpt of each (-1: the
 * last; else clamped to each teacher's last): hc_evaluate over hc_ensemble_scorer. */
int hc_ensemble_eval(const hc_dataset *ds, const hc_traj *const *traj, int32_t n,
                     const float *weight, float temperature, int32_t k, int32_t ckpt,
                     hc_eval_result *res);

#endif
