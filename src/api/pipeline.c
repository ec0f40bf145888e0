/*
 * pipeline.c - the public pipeline calls over the internal machinery: training a teacher
 * (hc_fit, then hc_traj_from_fit), distilling (hc_distill_run) and evaluating a model, with
 * "name=value" hyperparameters checked against the registries' tables. The cost is that of
 * the training or evaluation each runs; the wrappers add O(parameters) work.
 */
#include <stdlib.h>
#include <string.h>

#include "distill/distill.h"
#include "model/fit.h"
#include "traj/trajectory.h"

/* A parameter name of "name=value" s: whether the table t[0..n) knows it. */
static int known_to(const hc_param_def *t, int n, const char *s)
{
    const char *eq = strchr(s, '=');
    char name[64];
    if (!eq || eq - s >= (long)sizeof name)
        return 0;
    memcpy(name, s, (size_t)(eq - s));
    name[eq - s] = 0;
    return hc_param_find(t, n, name) >= 0;
}

/* Splits params into the teacher loop's (into loop) and the family's (into fam), both
 * NULL-terminated arrays of n + 1 entries the caller frees. */
static int split_params(const char *const *params, const char ***loop, const char ***fam)
{
    size_t n = 0;
    while (params && params[n])
        n++;
    *loop = calloc(n + 1, sizeof **loop);
    *fam = calloc(n + 1, sizeof **fam);
    if (!*loop || !*fam)
        return hc_error(HC_ENOMEM, "out of memory");
    size_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        if (known_to(hc_teach_params, hc_n_teach_params, params[i]))
            (*loop)[a++] = params[i];
        else
            (*fam)[b++] = params[i];
    }
    return HC_OK;
}

typedef struct {
    hc_progress_fn fn;
    void *ud;
} progress;

static void on_fit_eval(void *ud, const hc_fit_eval *e)
{
    const progress *p = ud;
    p->fn(p->ud, e->epoch, e->loss, &e->res);
}

static void on_distill_eval(void *ud, const hc_distill_eval *e)
{
    const progress *p = ud;
    p->fn(p->ud, e->epoch, e->loss, &e->res);
}

/* The options of a teacher run: defaults, then params. */
static int teacher_options(const hc_model_type *t, const char *const *params, hc_hparams *hp,
                           hc_teach_opts *to)
{
    const char **loop = NULL, **fam = NULL;
    hc_hparams_default(t, hp);
    hc_teach_opts_default(to);
    int rc = split_params(params, &loop, &fam);
    if (rc == HC_OK)
        rc = hc_param_apply(hc_teach_params, hc_n_teach_params, to, loop, "teacher");
    if (rc == HC_OK)
        rc = hc_hparams_apply(t, hp, fam);
    free(loop);
    free(fam);
    to->fit.eval_seed = hp->seed;
    return rc;
}

int hc_train_teacher(const hc_dataset *ds, const char *family, const char *const *params,
                     hc_progress_fn progress_fn, void *ud, hc_model **model, hc_traj *traj,
                     hc_train_summary *summary)
{
    *model = NULL;
    if (traj)
        memset(traj, 0, sizeof *traj);
    const hc_model_type *t = hc_model_type_find(family ? family : "");
    if (!t)
        return hc_error(HC_ENOTFOUND, "no teacher family '%s'", family ? family : "(null)");
    hc_hparams hp;
    hc_teach_opts to;
    int rc = teacher_options(t, params, &hp, &to);
    if (rc != HC_OK)
        return rc;
    progress pr = {progress_fn, ud};
    if (progress_fn) {
        to.fit.on_eval = on_fit_eval;
        to.fit.ud = &pr;
    }
    if (!traj)
        to.fit.record_k = 0;
    hc_fit_result fr = {0};
    if ((rc = hc_model_create(t, ds, &hp, model)) == HC_OK &&
        (rc = hc_fit(*model, ds, &to.fit, &fr)) == HC_OK && traj)
        rc = hc_traj_from_fit(&fr, ds, t->name, to.checkpoints, traj);
    if (rc == HC_OK && summary)
        *summary = (hc_train_summary){.epochs = fr.epochs,
                                      .best_epoch = fr.evals[fr.best].epoch,
                                      .n_evals = fr.n_evals,
                                      .stopped_early = fr.stopped_early,
                                      .train_s = fr.train_s,
                                      .best = fr.evals[fr.best].res};
    hc_fit_result_free(&fr);
    if (rc != HC_OK) {
        hc_model_free(*model);
        *model = NULL;
    }
    return rc;
}

int hc_distill(const hc_dataset *ds, const char *method, const hc_traj *const *teachers,
               int32_t n_teachers, const char *const *params, hc_progress_fn progress_fn, void *ud,
               hc_model **student, hc_train_summary *summary)
{
    *student = NULL;
    const hc_distiller_type *t = hc_distiller_type_find(method ? method : "");
    if (!t)
        return hc_error(HC_ENOTFOUND, "no distillation method '%s'", method ? method : "(null)");
    if (n_teachers < 0 || n_teachers > HC_DISTILL_MAX_TEACHERS)
        return hc_error(HC_EINVAL, "distill: %d teachers (at most %d)", n_teachers,
                        HC_DISTILL_MAX_TEACHERS);
    hc_kd_ctx ctx = {.ds = ds, .n_teachers = n_teachers, .teachers = teachers};
    hc_distill_opts_default(&ctx.opts);
    int rc = hc_param_apply(hc_distill_params, hc_distill_n_params, &ctx.opts, params, "distill");
    if (rc != HC_OK)
        return rc;
    progress pr = {progress_fn, ud};
    hc_distill_hooks hooks = {NULL, progress_fn ? on_distill_eval : NULL, &pr};
    hc_distill_result r = {0};
    if ((rc = hc_distill_run(t, &ctx, &hooks, &r)) == HC_OK && summary)
        *summary = (hc_train_summary){.epochs = r.epochs,
                                      .best_epoch = r.evals[r.best].epoch,
                                      .n_evals = r.n_evals,
                                      .stopped_early = r.epochs < ctx.opts.max_epochs,
                                      .train_s = r.train_s,
                                      .best = r.evals[r.best].res};
    hc_distill_result_free(&r);
    if (rc != HC_OK)
        hc_model_free(ctx.student);
    else
        *student = ctx.student;
    return rc;
}

int hc_model_evaluate(const hc_dataset *ds, hc_model *m, hc_eval_result *out)
{
    hc_scorer sc = hc_model_scorer(m);
    return hc_evaluate(ds, &sc, NULL, out);
}
