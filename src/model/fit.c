/*
 * fit.c - the shared training loop (see fit.h).
 *
 * Memory: besides the model and a copy of its best parameters, each evaluation keeps
 * n_users x record_k int32 (2 MB for CiteULike-t at K = 100) and train.nnz int32 for the
 * trajectory; the checkpoint choice happens once training has ended (traj/trajectory.c).
 */
#include "model/fit.h"

#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

void hc_fit_opts_default(hc_fit_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_epochs = 1000;
    o->eval_every = 5;
    o->patience = 5;
    o->record_k = 100;
    o->eval_users = 10000;
}

void hc_teach_opts_default(hc_teach_opts *o)
{
    hc_fit_opts_default(&o->fit);
    o->checkpoints = 4;
}

#define OFF(f) offsetof(hc_teach_opts, f)

const hc_param_def hc_teach_params[] = {
    {"epochs", "N", HC_PARAM_INT, OFF(fit.max_epochs), 1, 1000000, "maximum epochs", NULL, 0},
    {"eval-every", "N", HC_PARAM_INT, OFF(fit.eval_every), 1, 1000000,
     "evaluate every N epochs, and after epoch 1", NULL, 0},
    {"eval-users", "N", HC_PARAM_INT, OFF(fit.eval_users), 0, 1 << 30,
     "metrics on a fixed seeded sample of N users when there are more; trajectories still "
     "cover every user (0: all)",
     NULL, 0},
    {"patience", "N", HC_PARAM_INT, OFF(fit.patience), 1, 1000000,
     "evaluations without improvement before stopping", NULL, 0},
    {"time-cap", "S", HC_PARAM_DOUBLE, OFF(fit.time_cap), 0, 1e9,
     "stop after S seconds of wall time (0: none)", NULL, 0},
    {"checkpoints", "C", HC_PARAM_INT, OFF(checkpoints), 1, 100, "trajectory checkpoints", NULL, 0},
    {"topk", "K", HC_PARAM_INT, OFF(fit.record_k), 1, 10000,
     "top-K unobserved items kept per user per checkpoint", NULL, 0},
};
const int hc_n_teach_params = (int)(sizeof hc_teach_params / sizeof hc_teach_params[0]);

void hc_fit_result_free(hc_fit_result *r)
{
    if (!r)
        return;
    for (int32_t i = 0; i < r->n_evals; i++) {
        if (r->tops)
            free(r->tops[i]);
        if (r->orders)
            free(r->orders[i]);
    }
    free(r->tops);
    free(r->orders);
    free(r->evals);
    memset(r, 0, sizeof *r);
}

/* Grows the per-evaluation arrays to hold one more entry. */
static int grow(hc_fit_result *r, int32_t *cap)
{
    if (r->n_evals < *cap)
        return HC_OK;
    int32_t nc = *cap ? *cap * 2 : 16;
    hc_fit_eval *e = realloc(r->evals, (size_t)nc * sizeof *e);
    if (!e)
        return hc_error(HC_ENOMEM, "fit: out of memory");
    r->evals = e;
    int32_t **t = realloc(r->tops, (size_t)nc * sizeof *t);
    if (!t)
        return hc_error(HC_ENOMEM, "fit: out of memory");
    r->tops = t;
    int32_t **o = realloc(r->orders, (size_t)nc * sizeof *o);
    if (!o)
        return hc_error(HC_ENOMEM, "fit: out of memory");
    r->orders = o;
    *cap = nc;
    return HC_OK;
}

/* Evaluates m, recording the snapshot, and appends an entry to r. */
static int evaluate_into(hc_model *m, const hc_dataset *ds, const hc_fit_opts *o, hc_fit_result *r,
                         int32_t *cap, int32_t epoch, double loss, double train_s)
{
    int rc = grow(r, cap);
    if (rc)
        return rc;
    double t0 = hc_now_s();
    if (m->type->prepare && (rc = m->type->prepare(m, ds)) != HC_OK)
        return rc;
    hc_eval_opts eo;
    hc_eval_opts_default(&eo);
    eo.max_users = o->eval_users;
    eo.user_seed = o->eval_seed;
    int32_t *top = NULL, *order = NULL;
    if (o->record_k > 0) {
        top = malloc((size_t)ds->n_users * (size_t)o->record_k * sizeof *top);
        order = malloc((size_t)(ds->train.nnz > 0 ? ds->train.nnz : 1) * sizeof *order);
        if (!top || !order) {
            free(top);
            free(order);
            return hc_error(HC_ENOMEM, "fit: out of memory for the trajectory snapshot");
        }
        eo.record_k = o->record_k;
        eo.record_top = top;
        eo.train_order = order;
    }
    hc_fit_eval *e = &r->evals[r->n_evals];
    memset(e, 0, sizeof *e);
    hc_scorer sc = hc_model_scorer(m);
    rc = hc_evaluate(ds, &sc, &eo, &e->res);
    if (rc) {
        free(top);
        free(order);
        return rc;
    }
    r->tops[r->n_evals] = top;
    r->orders[r->n_evals] = order;
    e->epoch = epoch;
    e->loss = loss;
    e->train_s = train_s;
    e->eval_s = hc_now_s() - t0;
    r->n_evals++;
    return HC_OK;
}

int hc_fit(hc_model *m, const hc_dataset *ds, const hc_fit_opts *o, hc_fit_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->max_epochs < 1 || o->eval_every < 1 || o->patience < 1 || o->record_k < 0 ||
        o->eval_users < 0)
        return hc_error(HC_EINVAL,
                        "fit: max_epochs %d, eval_every %d and patience %d must be >= 1, "
                        "record_k %d and eval_users %d >= 0",
                        o->max_epochs, o->eval_every, o->patience, o->record_k, o->eval_users);
    r->record_k = o->record_k;
    r->best = -1;
    int32_t cap = 0;
    double t_start = hc_now_s(), since_eval = 0.0;
    hc_keeper keep = {0};
    int rc = HC_OK;
    for (int32_t ep = 1; ep <= o->max_epochs; ep++) {
        double t0 = hc_now_s(), loss = 0.0;
        if ((rc = m->type->train_epoch(m, ds, ep, &loss)) != HC_OK)
            goto fail;
        double dt = hc_now_s() - t0;
        r->train_s += dt;
        since_eval += dt;
        r->epochs = ep;
        if (o->on_epoch)
            o->on_epoch(o->ud, ep, o->max_epochs, loss, dt);
        int last = ep == o->max_epochs || (o->time_cap > 0 && hc_now_s() - t_start > o->time_cap);
        if (ep == 1 || ep % o->eval_every == 0 || last) {
            if ((rc = evaluate_into(m, ds, o, r, &cap, ep, loss, since_eval)) != HC_OK)
                goto fail;
            since_eval = 0.0;
            hc_fit_eval *e = &r->evals[r->n_evals - 1];
            if ((rc = hc_keeper_offer(&keep, m, ds, e->res.valid.recall[HC_EVAL_NK - 1])) < 0)
                goto fail;
            if (rc == 1) {
                r->best = r->n_evals - 1;
                e->improved = 1;
            }
            rc = HC_OK;
            if (o->on_eval)
                o->on_eval(o->ud, e);
            if (keep.bad >= o->patience) {
                r->stopped_early = 1;
                break;
            }
        }
        if (last)
            break;
    }
    if (keep.copy) {
        if ((rc = hc_keeper_restore(&keep, m)) != HC_OK)
            goto fail;
        if (m->type->prepare && (rc = m->type->prepare(m, ds)) != HC_OK)
            goto fail;
    }
    hc_keeper_free(&keep);
    return HC_OK;
fail:
    hc_keeper_free(&keep);
    hc_fit_result_free(r);
    return rc;
}
