/*
 * sampler.h - the per-epoch training stream of pairwise models: every train interaction once,
 * in a seeded random order, each with sampled negatives that skip the user's train items.
 */
#ifndef HC_SAMPLER_H
#define HC_SAMPLER_H

#include "core/internal.h"

typedef struct {
    int64_t n;         /* positives in this epoch: train interactions of users with a negative */
    int64_t cap;       /* train interactions the buffers were sized for */
    int warned;        /* the users without a negative were reported */
    int32_t negatives; /* negatives per positive */
    int32_t *user;     /* n */
    int32_t *pos;      /* n */
    int32_t *neg;      /* n * negatives: neg[k * negatives + j] belongs to positive k */
} hc_epoch_samples;

/* Fills s for one epoch: a shuffle of train interactions drawn from (seed, epoch) and
 * uniform negatives not in the user's train items. Work is cut into fixed blocks with one
 * RNG stream each, so the result does not depend on the thread count. Reuses s's buffers.
 * With negatives > 0, the interactions of a user holding every item are left out (logged
 * once per stream). */
int hc_sample_epoch(const hc_dataset *ds, uint64_t seed, int32_t epoch, int32_t negatives,
                    hc_epoch_samples *s);
void hc_epoch_samples_free(hc_epoch_samples *s);
/* One uniform item not in user u's train items, or -1 when u's train row holds every item.
 * Bounded: after a few rejections it draws among the unobserved items directly. */
int32_t hc_sample_negative(const hc_csr *train, int32_t u, hc_rng *r);

#endif
