/*
 * outsample.h - the sampled output layer shared by the autoencoder teachers (docs/teachers.md
 * §2): per batch the candidate units are the batch's positives plus S
 * draws of a proposal over all output units (importance weights 1 / (S q)), merged into one
 * list in ascending unit order with repeated draws counted once with k times the weight. The
 * family gathers the candidates' weight rows and biases, runs its loss on them (ae: a softmax
 * with the logQ correction; iae: importance-weighted BCE), and only those rows take an Adam
 * step, lazily (optim/adam.h, hc_adam_table): the untouched rows catch up when next touched.
 *
 * Cost per batch: O(P + S) to build the list plus O(C log C) to sort it and O(C x width) to
 * gather and step it (C <= P + S candidates, P the batch's positives), never O(units).
 * Memory: the proposal (8 bytes a unit), a unit-long index, the Adam moments of W and b
 * (2 units x (width + 1) floats, as the dense optimiser's) and the candidates' rows.
 */
#ifndef HC_OUTSAMPLE_H
#define HC_OUTSAMPLE_H

#include "optim/adam.h"
#include "optim/proposal.h"

#define HC_OUTSAMPLE_POWER 0.75 /* popularity proposal: q proportional to (degree + 1)^0.75 */

typedef struct {
    int32_t S, units, width;
    uint64_t seed;
    hc_proposal prop;
    hc_adam_table tw, tb; /* lazy Adam over W (units x width) and b (units x 1) */
    int32_t *slot;        /* units: a unit's candidate index, -1 when not a candidate */
    /* the batch's candidates, ascending */
    int32_t n, cap;
    int32_t *cand;
    float *wt;        /* importance weight: 1 for a positive of the batch, k / (S q) if drawn */
    float *Wc, *bc;   /* gathered rows of W (n x width) and entries of b */
    float *dWc, *dbc; /* their gradients (hc_outsample_chunk) */
    int32_t *draw;    /* S draws */
    float *dwt;       /* S weights */
    uint64_t *key;    /* sorting scratch */
} hc_outsample;

/* S draws a batch from a proposal of kind over units output units (deg[u]: the unit's train
 * interactions, for the popularity kind), for the layer W (units x width) and b (units),
 * draws seeded from seed. HC_ENOMEM, HC_EINVAL. */
int hc_outsample_init(hc_outsample *o, int32_t S, hc_proposal_kind kind, const int32_t *deg,
                      int32_t units, int32_t width, float *W, float *b, uint64_t seed);
void hc_outsample_free(hc_outsample *o);

/* The candidates of a batch: the units in pos[0..npos) (repeats allowed), weight 1, and the
 * batch's S draws from RNG stream `stream` that are not among them; then W's rows and b's
 * entries gathered into Wc, bc. The previous batch's list must have been ended. HC_ENOMEM. */
int hc_outsample_begin(hc_outsample *o, const int32_t *pos, int64_t npos, uint64_t stream,
                       const float *W, const float *b);
/* Unit u's candidate index (u must be a candidate). */
static inline int32_t hc_outsample_index(const hc_outsample *o, int32_t u)
{
    return o->slot[u];
}
/* An hc_nn_chunk_step (ctx: the hc_outsample) storing candidates [r0, r0 + nr)'s gradient
 * in dWc, dbc. */
void hc_outsample_chunk(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db);
/* The Adam step (after hc_adam_begin_step) of the candidates' rows of W and b. */
int hc_outsample_step(hc_outsample *o, const hc_adam *a);
/* Writes the candidates' gradient rows into the dense gradients gW, gb (zero elsewhere;
 * zero=1 clears those rows instead, after use). */
void hc_outsample_scatter(const hc_outsample *o, float *gW, float *gb, int zero);
/* Forgets the batch's list (no-op without one). */
void hc_outsample_end(hc_outsample *o);
/* Brings every row of W and b to step a->t (before W is read: scoring, saving). */
void hc_outsample_flush(hc_outsample *o, const hc_adam *a);

#endif
