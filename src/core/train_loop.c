/*
 * train_loop.c - the shared training loop (see train_loop.h). O(epochs) bookkeeping; the
 * epochs, evaluations and copies are the callers'.
 */
#include "core/train_loop.h"

#include <string.h>

/* Evaluates, judges the score against the best so far and snapshots a new best. */
static int evaluate_and_judge(const hc_loop_ops *ops, hc_loop_result *r, int32_t ep, double loss,
                              double train_s, double *best, int32_t *bad)
{
    double score = 0.0;
    int rc = ops->evaluate(ops->ud, ep, loss, train_s, &score);
    if (rc)
        return rc;
    r->n_evals++;
    /* not "score <= best": a first NaN still counts as the best so far */
    int improved = r->best < 0 || score > *best;
    if (improved) {
        if ((rc = ops->snapshot(ops->ud)) != HC_OK)
            return rc;
        r->best = r->n_evals - 1;
        *best = score;
        *bad = 0;
    } else {
        (*bad)++;
    }
    if (ops->on_eval)
        ops->on_eval(ops->ud, improved);
    return HC_OK;
}

int hc_train_loop(const hc_loop_opts *o, const hc_loop_ops *ops, hc_loop_result *r)
{
    memset(r, 0, sizeof *r);
    r->best = -1;
    if (o->max_epochs < 1 || o->eval_every < 1 || o->patience < 1 || !(o->time_cap >= 0))
        return hc_error(HC_EINVAL,
                        "training loop: max_epochs %d, eval_every %d and patience %d must be "
                        ">= 1, time_cap %g >= 0",
                        o->max_epochs, o->eval_every, o->patience, o->time_cap);
    const int32_t end = o->first_epoch + o->max_epochs - 1;
    double t_start = hc_now_s(), since_eval = 0.0, best = 0.0;
    int32_t bad = 0;
    int rc;
    for (int32_t ep = o->first_epoch; ep <= end; ep++) {
        double t0 = hc_now_s(), loss = 0.0;
        if ((rc = ops->epoch(ops->ud, ep, &loss)) != HC_OK)
            return rc;
        double dt = hc_now_s() - t0;
        r->train_s += dt;
        since_eval += dt;
        r->epochs = ep - o->first_epoch + 1;
        if (ops->on_epoch)
            ops->on_epoch(ops->ud, ep, loss, dt);
        int last = ep == end || (o->time_cap > 0 && hc_now_s() - t_start > o->time_cap);
        if (ep == o->first_epoch || ep % o->eval_every == 0 || last) {
            if ((rc = evaluate_and_judge(ops, r, ep, loss, since_eval, &best, &bad)) != HC_OK)
                return rc;
            since_eval = 0.0;
            if (bad >= o->patience) {
                r->stopped_early = 1;
                break;
            }
        }
        if (last)
            break;
    }
    return ops->restore(ops->ud);
}
