/*
 * factor.h - what the embedding-table families share: user and item factor tables, the
 * pairwise (user, positive, negative) epoch with row-sparse Adam, and block scoring by one
 * sgemm. MF (BPR) and ML (CML) are a triple loss plus a few hooks on top of this.
 */
#ifndef HC_FACTOR_H
#define HC_FACTOR_H

#include "model/model.h"
#include "optim/adam.h"
#include "optim/rowgrad.h"
#include "optim/sampler.h"

/* Tables of at most this many parameters train with dense Adam (see factor.c). */
#define HC_FACTOR_DENSE_MAX (1 << 20)

/* Loss of one (u, i, j) triple and its gradients with respect to p_u, q_i, q_j (each d). */
typedef float (*hc_triple_fn)(const float *pu, const float *qi, const float *qj, int32_t d,
                              float margin, float *gu, float *gi, float *gj);

typedef struct {
    hc_model base; /* must be first */
    float *P;      /* n_users x dim user factors (owned) */
    float *Q;      /* n_items x dim item factors (owned) */
    /* training state, allocated on the first epoch (absent in loaded models) */
    hc_adam adam;
    hc_adam_table aP, aQ; /* Adam state of P and Q (moments, last-step stamps) */
    float *dense_g;       /* (U + I) x dim gradient for dense Adam on small tables, or NULL */
    int have_state;
    hc_epoch_samples samples;
    hc_rowgrad gP, gQ;
    float *tg;      /* batch x 3 x dim triple gradients */
    float *tloss;   /* batch losses */
    int32_t *tslot; /* batch x 3: the triples' gradient slots (user in gP, items in gQ) */
    float *scratch; /* scoring: gathered user rows */
    int32_t scratch_rows;
    float *item_sq; /* ML: squared item norms, filled by prepare */
} hc_factor_model;

/* The BPR triple loss (mf.c), reused by LightGCN on propagated embeddings. */
float hc_bpr_triple(const float *pu, const float *qi, const float *qj, int32_t d, float margin,
                    float *gu, float *gi, float *gj);

/* Allocates P and Q; unless load, fills them from N(0, std) with the model's seed. */
int hc_factor_init(hc_factor_model *f, float std, int load);
/* Called after a step's Adam update with a range of the touched rows: gP.rows[p0..p1) of P
 * and gQ.rows[q0..q1) of Q; several threads may call it at once with disjoint ranges. */
typedef void (*hc_post_step)(hc_factor_model *f, int32_t p0, int32_t p1, int32_t q0, int32_t q1);
/* One epoch of pairwise training; post_step may be NULL. */
int hc_factor_epoch(hc_factor_model *f, const hc_dataset *ds, int32_t epoch, hc_triple_fn loss,
                    hc_post_step post_step, double *total);
/* Brings every row's optimiser catch-up up to date (before scoring or saving). */
int hc_factor_prepare(hc_model *m, const hc_dataset *ds);
/* out = P[users] * Q^T (n x n_items). */
int hc_factor_score_dot(hc_factor_model *f, const int32_t *users, int32_t n, float *out);
int hc_factor_tensors(hc_model *m, hc_tensor *out);
int hc_factor_shapes(const hc_hparams *hp, int32_t n_users, int32_t n_items, hc_tensor *out);
void hc_factor_free(hc_model *m);

#endif
