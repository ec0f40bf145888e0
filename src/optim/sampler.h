/*
 * sampler.h - the per-epoch training stream of pairwise models: every train interaction once,
 * in a seeded random order, each with sampled negatives that skip the user's train items.
 */
#ifndef HC_SAMPLER_H
#define HC_SAMPLER_H

#include "hetcomp.h"

typedef struct {
    int64_t n;         /* train interactions (positives) */
    int32_t negatives; /* negatives per positive */
    int32_t *user;     /* n */
    int32_t *pos;      /* n */
    int32_t *neg;      /* n * negatives: neg[k * negatives + j] belongs to positive k */
} hc_epoch_samples;

/* Fills s for one epoch: a shuffle of train interactions drawn from (seed, epoch) and
 * uniform negatives not in the user's train items. Work is cut into fixed blocks with one
 * RNG stream each, so the result does not depend on the thread count. Reuses s's buffers. */
int hc_sample_epoch(const hc_dataset *ds, uint64_t seed, int32_t epoch, int32_t negatives,
                    hc_epoch_samples *s);
void hc_epoch_samples_free(hc_epoch_samples *s);
/* One uniform item not in user u's train items (the user must not own every item). */
int32_t hc_sample_negative(const hc_csr *train, int32_t u, hc_rng *r);

#endif
