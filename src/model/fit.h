/*
 * fit.h - the training loop every model shares: epochs, evaluation every few epochs with
 * full-ranking metrics, early stopping on validation Recall@50, the best model kept, and at
 * each evaluation a trajectory snapshot (each user's top-K unobserved items and the order of
 * the user's train items) for hetcomp's dynamic knowledge construction (docs/method.md §2).
 */
#ifndef HC_FIT_H
#define HC_FIT_H

#include "model/model.h"

typedef struct {
    int32_t epoch;
    double loss;
    double train_s; /* seconds of training since the previous evaluation */
    double eval_s;
    hc_eval_result res;
    int improved; /* new best validation Recall@50 */
} hc_fit_eval;

typedef struct {
    int32_t max_epochs; /* default 1000 */
    int32_t eval_every; /* default 5; epoch 1 is always evaluated too */
    int32_t patience;   /* evaluations without a better valid R@50 before stopping (5) */
    int32_t record_k;   /* top-K kept per user at each evaluation (100; 0: no trajectory) */
    double time_cap;    /* seconds of wall time, 0: none */
    int32_t eval_users; /* metrics on a fixed seeded sample of this many users when there are
                           more (10000; 0: all); snapshots still cover every user */
    uint64_t eval_seed; /* the sample's seed */
    /* Called after every epoch and every evaluation (may be NULL). */
    void (*on_epoch)(void *ud, int32_t epoch, int32_t max_epochs, double loss, double secs);
    void (*on_eval)(void *ud, const hc_fit_eval *e);
    void *ud;
} hc_fit_opts;
void hc_fit_opts_default(hc_fit_opts *o);

/* What training a teacher takes besides the family's hyperparameters: the loop's options and
 * the trajectory's checkpoint count (hc_traj_from_fit). */
typedef struct {
    hc_fit_opts fit;
    int32_t checkpoints; /* 4 */
} hc_teach_opts;
void hc_teach_opts_default(hc_teach_opts *o);
/* Its parameter table (epochs, eval-every, eval-users, patience, time-cap, checkpoints,
 * topk): the `teacher` flags and hc_param_describe("teacher"). */
extern const hc_param_def hc_teach_params[];
extern const int hc_n_teach_params;

typedef struct {
    int32_t n_evals;
    hc_fit_eval *evals; /* n_evals */
    int32_t record_k;
    int32_t **tops;   /* per evaluation: n_users x record_k items, -1 padded (or NULL) */
    int32_t **orders; /* per evaluation: train.nnz, each user's train items by score */
    int32_t best;     /* index of the best evaluation */
    int32_t epochs;   /* epochs trained */
    double train_s;   /* total training seconds (evaluation excluded) */
    int stopped_early;
} hc_fit_result;
void hc_fit_result_free(hc_fit_result *r);

/* Trains m on ds; on return m holds the parameters of the best evaluation, prepared. */
int hc_fit(hc_model *m, const hc_dataset *ds, const hc_fit_opts *o, hc_fit_result *r);

#endif
