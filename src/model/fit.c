/*
 * fit.c - the shared training loop (see fit.h).
 *
 * Memory: besides the model and a copy of its best parameters, each evaluation keeps
 * n_users x record_k int32 (2 MB for CiteULike-t at K = 100) and train.nnz int32 for the
 * trajectory; the checkpoint choice happens once training has ended (traj/trajectory.c).
 */
#include "model/fit.h"
#include "core/train_loop.h"

#include <stdlib.h>
#include <stddef.h>
#include <string.h>

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

/* The loop's callbacks (core/train_loop.h) over one teacher. */
typedef struct {
    hc_model *m;
    const hc_dataset *ds;
    const hc_fit_opts *o;
    hc_fit_result *r;
    int32_t cap;
    hc_keeper keep;
} fit_state;

static int fit_epoch(void *ud, int32_t epoch, double *loss)
{
    fit_state *s = ud;
    return s->m->type->train_epoch(s->m, s->ds, epoch, loss);
}

static int fit_evaluate(void *ud, int32_t epoch, double loss, double train_s, double *score)
{
    fit_state *s = ud;
    int rc = evaluate_into(s->m, s->ds, s->o, s->r, &s->cap, epoch, loss, train_s);
    if (rc == HC_OK)
        *score = s->r->evals[s->r->n_evals - 1].res.valid.recall[HC_EVAL_NK - 1];
    return rc;
}

static int fit_snapshot(void *ud)
{
    fit_state *s = ud;
    return hc_keeper_take(&s->keep, s->m, s->ds);
}

/* The best parameters back, prepared for scoring. */
static int fit_restore(void *ud)
{
    fit_state *s = ud;
    if (!s->keep.copy)
        return HC_OK;
    int rc = hc_keeper_restore(&s->keep, s->m);
    if (rc == HC_OK && s->m->type->prepare)
        rc = s->m->type->prepare(s->m, s->ds);
    return rc;
}

static void fit_on_epoch(void *ud, int32_t epoch, double loss, double secs)
{
    fit_state *s = ud;
    if (s->o->on_epoch)
        s->o->on_epoch(s->o->ud, epoch, s->o->max_epochs, loss, secs);
}

static void fit_on_eval(void *ud, int improved)
{
    fit_state *s = ud;
    hc_fit_eval *e = &s->r->evals[s->r->n_evals - 1];
    e->improved = improved;
    if (s->o->on_eval)
        s->o->on_eval(s->o->ud, e);
}

int hc_fit(hc_model *m, const hc_dataset *ds, const hc_fit_opts *o, hc_fit_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->record_k < 0 || o->eval_users < 0)
        return hc_error(HC_EINVAL, "fit: record_k %d and eval_users %d must be >= 0", o->record_k,
                        o->eval_users);
    r->record_k = o->record_k;
    r->best = -1;
    fit_state s = {m, ds, o, r, 0, {0}};
    const hc_loop_opts lo = {1, o->max_epochs, o->eval_every, o->patience, o->time_cap};
    const hc_loop_ops ops = {
        fit_epoch, fit_evaluate, fit_snapshot, fit_restore, fit_on_epoch, fit_on_eval, &s};
    hc_loop_result lr;
    int rc = hc_train_loop(&lo, &ops, &lr);
    hc_keeper_free(&s.keep);
    if (rc) {
        hc_fit_result_free(r);
        return rc;
    }
    r->best = lr.best;
    r->epochs = lr.epochs;
    r->train_s = lr.train_s;
    r->stopped_early = lr.stopped_early;
    return HC_OK;
}
