/*
 * trajectory.h - what the library adds to the public trajectory (include/hetcomp.h: the
 * struct, its files and imports): choosing the checkpoints of a training run and building the
 * trajectory from it.
 */
#ifndef HC_TRAJECTORY_H
#define HC_TRAJECTORY_H

#include "core/internal.h"
#include "model/fit.h"

/* Chooses up to C evaluation indices from n validation Recall@50 values, among the
 * evaluations up to the best one (the first maximum, as hc_fit keeps): the first ones
 * reaching fractions 0.70 .. 0.95 of the best value (70 / 85 / 95 % for C = 4; piecewise
 * linear through those for other C), then the best one. picked (C entries) receives strictly
 * increasing indices whose last is the best. Returns the number chosen, min(C, best + 1): a
 * run that peaked at its first evaluation gives one checkpoint. */
int32_t hc_traj_select(const double *valid_r50, int32_t n, int32_t C, int32_t *picked);
/* Builds a trajectory of (at most, see hc_traj_select) C >= 1 checkpoints from a finished
 * hc_fit run, which must have recorded snapshots (record_k > 0). out is overwritten. */
int hc_traj_from_fit(const hc_fit_result *r, const hc_dataset *ds, const char *model, int32_t C,
                     hc_traj *out);

#endif
