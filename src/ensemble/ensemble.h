/*
 * ensemble.h - the rank-importance ensemble of method.md §3 (the paper's Eq. 8).
 *
 * For user u and teacher x at checkpoint c, an item at 0-based rank r of the teacher's top
 * list has importance w_x exp(-r / T); the ensemble's importance of an item is the sum over
 * teachers (zero outside every list), its top list the K items of highest importance, ties
 * to the smaller item id. Only the at most M K listed items can score, so a user costs
 * O(M K log(M K)) whatever the catalog size. The observed list P_u orders the user's train
 * items the same way from the teachers' observed orders (final checkpoints).
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

/* Per-thread scratch for hc_ensemble_user (hc_ensemble_scratch_new/free). */
typedef struct {
    float *imp;      /* n_items, zero between calls */
    int32_t *cand;   /* candidate items */
    float *cand_imp; /* their importances, in cand order */
    int32_t *pos;    /* selection output (max(cap, n_items) entries) */
    int32_t cap;
} hc_ensemble_scratch;

/* Checks the trajectories agree (users, items, dataset) and fills e. */
int hc_ensemble_init(hc_ensemble *e, const hc_traj *const *traj, int32_t n_teachers,
                     const float *weight, float temperature, int32_t k);
void hc_ensemble_free(hc_ensemble *e);
int hc_ensemble_scratch_init(const hc_ensemble *e, hc_ensemble_scratch *s);
void hc_ensemble_scratch_free(hc_ensemble_scratch *s);

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

#endif
