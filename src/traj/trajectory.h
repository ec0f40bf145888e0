/*
 * trajectory.h - a teacher's training trajectory (docs/method.md §2): C checkpoints, each holding
 * every user's top-K unobserved items and, optionally, the teacher's order of the user's
 * train items. Memory O(C U K) - never a dense users x items matrix.
 *
 * Binary file (docs/formats.md, "HCTJ") written atomically and refused when truncated,
 * corrupt or made for another dataset; a text form of (checkpoint, user, rank, item, list)
 * rows in the user's own ids brings in rankings of teachers trained anywhere.
 */
#ifndef HC_TRAJECTORY_H
#define HC_TRAJECTORY_H

#include "hetcomp.h"
#include "model/fit.h"

#define HC_TRAJ_NAME_LEN 32

typedef struct {
    char model[HC_TRAJ_NAME_LEN]; /* teacher name (family, or what an import says) */
    int32_t n_users, n_items;
    int32_t n_ckpt; /* C */
    int32_t k;      /* length of each top list */
    uint64_t ds_checksum;
    int32_t *epochs;   /* n_ckpt epochs (-1 when unknown) */
    float *valid_r50;  /* n_ckpt validation Recall@50 (NaN when unknown) */
    int32_t *top;      /* n_ckpt x n_users x k unobserved items by rank, -1 padded */
    int64_t train_nnz; /* ds->train.nnz */
    int32_t *observed; /* n_ckpt x train_nnz: each user's train items in the teacher's order
                          (aligned with train.indptr), or NULL when not known */
} hc_traj;

void hc_traj_free(hc_traj *t);
/* Allocates the arrays for t's counts (n_ckpt, n_users, k, train_nnz already set). */
int hc_traj_alloc(hc_traj *t, int with_observed);
/* Top list of user u at checkpoint c (k entries, -1 padded). */
static inline const int32_t *hc_traj_top(const hc_traj *t, int32_t c, int32_t u)
{
    return t->top + ((int64_t)c * t->n_users + u) * t->k;
}

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

/* HC_OK when name can be a teacher name, else HC_EINVAL with a message starting with where (a
 * file, a flag): no control byte, no double quote, no blank at either end - what the text
 * form's '# model' line carries unchanged, so export then import gives the name back.
 * Saving, loading and importing refuse other names alike. */
int hc_traj_name_check(const char *name, const char *where);

int hc_traj_save(const hc_traj *t, const char *path);
/* ds (may be NULL) must be the dataset the trajectory was made on. */
int hc_traj_load(const char *path, const hc_dataset *ds, hc_traj *out);
/* The same from a file's bytes already in memory (data[0..len), borrowed): path only names
 * the file in messages. */
int hc_traj_load_mem(const char *path, const void *data, size_t len, const hc_dataset *ds,
                     hc_traj *out);
/* Text form: see docs/formats.md. */
int hc_traj_export_text(const hc_traj *t, const hc_dataset *ds, const char *path);
/* The least share of the users (those with an unobserved item) an import must give a top list
 * at every checkpoint (docs/formats.md, section 5, says why). */
#define HC_TRAJ_MIN_COVERAGE 0.5
/* Imports text rows. *missing (may be NULL) receives the most users without a top list at any
 * checkpoint (warned about when > 0); below min_coverage of them (0: no limit) the import is
 * refused with HC_EEMPTY, the message giving the count. */
int hc_traj_import_text(const char *path, const hc_dataset *ds, double min_coverage, hc_traj *out,
                        int32_t *missing);
/* The same from text already in memory (data[0..len), borrowed, need not be NUL-terminated):
 * path only names the input in messages. */
int hc_traj_import_text_mem(const char *path, const char *data, size_t len, const hc_dataset *ds,
                            double min_coverage, hc_traj *out, int32_t *missing);

#endif
