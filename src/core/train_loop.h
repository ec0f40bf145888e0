/*
 * train_loop.h - the epoch / evaluation / keep-best / patience loop that teachers (model/fit.c)
 * and students (distill/distill.c) share, written once over callbacks: train one epoch,
 * evaluate (recording the evaluation and its trajectory checkpoint), snapshot the best
 * parameters, restore them at the end (docs/method.md §1, §7). The loop itself costs O(epochs);
 * the callbacks do the work.
 */
#ifndef HC_TRAIN_LOOP_H
#define HC_TRAIN_LOOP_H

#include "core/internal.h"

typedef struct {
    int32_t first_epoch; /* number of the first epoch: 1 (teachers) or 0 (students) */
    int32_t max_epochs;  /* epochs at most, >= 1 */
    int32_t eval_every;  /* evaluate after epochs that are multiples of it, the first and last */
    int32_t patience;    /* evaluations without a better score before stopping, >= 1 */
    double time_cap;     /* seconds of wall time after which the epoch is the last; 0: none */
} hc_loop_opts;

/* What the caller's callbacks do; ud is passed to each. Callbacks returning int return HC_OK
 * or a status that ends the loop (returned by hc_train_loop). */
typedef struct {
    /* Trains one epoch; *loss receives its summed loss. */
    int (*epoch)(void *ud, int32_t epoch, double *loss);
    /* Evaluates the model after epoch and stores the evaluation (with its trajectory
     * checkpoint, when the caller records one) as the caller's next entry; train_s is the
     * training time since the previous evaluation. *score receives the validation score
     * early stopping watches (higher is better). */
    int (*evaluate)(void *ud, int32_t epoch, double loss, double train_s, double *score);
    /* Keeps a copy of the current parameters: the evaluation just made is the best so far. */
    int (*snapshot)(void *ud);
    /* After the last epoch: puts the best copy back (and whatever the model needs then). */
    int (*restore)(void *ud);
    /* Progress (may be NULL): after each epoch, and after each evaluation, once it has been
     * judged (improved: it is the new best). */
    void (*on_epoch)(void *ud, int32_t epoch, double loss, double secs);
    void (*on_eval)(void *ud, int improved);
    void *ud;
} hc_loop_ops;

typedef struct {
    int32_t epochs;    /* epochs trained */
    int32_t n_evals;   /* evaluations made */
    int32_t best;      /* index of the best evaluation (-1: none) */
    double train_s;    /* seconds of training (evaluation excluded) */
    int stopped_early; /* patience ran out */
} hc_loop_result;

/* Runs the loop: after each epoch an evaluation when it is the first, a multiple of
 * eval_every or the last (max_epochs reached or time_cap passed); an evaluation whose score
 * beats every earlier one (the first always does) is snapshot; patience evaluations in a row
 * without one stop the loop; restore runs at the end. HC_EINVAL for options out of range. */
int hc_train_loop(const hc_loop_opts *o, const hc_loop_ops *ops, hc_loop_result *r);

#endif
