/*
 * trajectory.h - what the library adds to the public trajectory (include/hetcomp.h: the
 * struct, its files and imports): choosing the checkpoints of a training run, building the
 * trajectory from it, and loading one rank's share of a file.
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

/* hc_traj_load keeping only the lists of the users u with u % size == rank (0 <= rank <
 * size): out is a partial trajectory (include/hetcomp.h, part_rank / part_size; size 1 is
 * hc_traj_load). The file is read in chunks and every list and checksum checked as by
 * hc_traj_load, so a corrupt file is refused with the same message on every rank. ds is
 * needed to share observed lists (HC_EINVAL without). Memory: the share's lists and a 1 MB
 * read buffer. */
int hc_traj_load_part(const char *path, const hc_dataset *ds, int rank, int size, hc_traj *out);
/* hc_traj_alloc for a share: sets t (counts already set) up to hold the users u % size ==
 * rank (every user when size is 1), the observed offsets from ds's train rows. */
int hc_traj_alloc_share(hc_traj *t, int with_observed, const hc_dataset *ds, int rank, int size);
/* HC_OK when t holds every user or this rank's share of this run (dist_rank / dist_size),
 * the users the code under MPI reads; else HC_EINVAL naming who (e.g. "ensemble"). */
int hc_traj_share_check(const hc_traj *t, const char *who);
/* Bytes of lists, epochs and offsets t holds (a share: about 1 / size of a whole load's), or
 * with whole, the bytes a whole load of its file holds. */
uint64_t hc_traj_bytes(const hc_traj *t, int whole);

#endif
