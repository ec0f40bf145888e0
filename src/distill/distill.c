/*
 * distill.c - the loop every distillation method shares (see distill.h): the student is an
 * "mf" model; evaluation runs at epoch 0, 10, 20, ... after that epoch's training, records
 * each user's top-50 unobserved items for the method's after_eval hook, and early stopping
 * keeps the best-validation student (docs/method.md §7, §9).
 * Under MPI (docs/distributed.md) every rank runs this loop; the evaluation's figures are
 * the same on every rank, so early stopping and the kept student agree, and at the end each
 * user's row of the student is taken from the rank that owns it. Cost of that gather: one
 * sum of users x dim floats.
 */
#include "distill/distill.h"
#include "core/train_loop.h"
#include "dist/dist.h"
#include "model/factor.h"

#include <stdlib.h>
#include <string.h>

extern const hc_distiller_type hc_distiller_hetcomp, hc_distiller_bpr, hc_distiller_rd,
    hc_distiller_cd, hc_distiller_rrd, hc_distiller_mtd, hc_distiller_cldrd, hc_distiller_dcd;

const hc_distiller_type *const hc_distiller_types[] = {
    &hc_distiller_hetcomp, &hc_distiller_bpr, &hc_distiller_rd,
    &hc_distiller_cd,      &hc_distiller_rrd, &hc_distiller_mtd,
    &hc_distiller_cldrd,   &hc_distiller_dcd, NULL};

const hc_distiller_type *hc_distiller_type_find(const char *name)
{
    for (int i = 0; hc_distiller_types[i]; i++)
        if (!strcmp(hc_distiller_types[i]->name, name))
            return hc_distiller_types[i];
    return NULL;
}

void hc_distill_opts_default(hc_distill_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dim = 6;
    o->max_epochs = 1000;
    o->eval_every = 10;
    o->patience = 0; /* the method's: HC_DISTILL_PATIENCE unless it says */
    o->batch = 1024;
    o->lr = 1e-3f;
    o->wd = 1e-5f;
    o->init_std = 0.01f;
    o->k = 100;
    o->temperature = 10.0f;
    o->dkc_every = 10;
    o->alpha = 1.05f;
    o->decay = 0.995f;
    o->w_set = 0.01f;
    o->w_rank = 0.005f;
    o->switch_epoch = 120;
    o->rd_alpha = 1.0f;
    o->rd_k = 10;
    o->rd_lambda = 1.0f;
    o->rd_mu = 0.1f;
    o->rd_start = 10;
    o->rd_samples = 100;
    o->cd_lambda = 0.5f;
    o->cd_items = 2;
    o->cd_candidates = 3000;
    o->cd_mu = 60000.0f;
    o->rrd_lambda = 0.001f;
    o->rrd_k = 100;
    o->rrd_l = 40;
    o->mtd_lambda = 0.001f;
    o->cl_lambda = 1.0f;
    o->cl_list = 30;
    o->cl_every = 40;
    o->dcd_lambda = 0.01f;
    o->dcd_n = 100;
    o->dcd_samples = 100;
    o->dcd_eps = 10.0f;
    o->dcd_every = 10;
    o->rest = HC_REST_AUTO;
    o->rest_samples = 1000;
    o->rest_group = 128;
    o->rest_head = 0;
    o->rest_proposal = 1; /* HC_PROPOSAL_POPULARITY */
    o->dkc_rank = HC_REST_AUTO;
    o->dkc_samples = 1000;
    o->eval_users = 10000;
}

int hc_distill_rest_sampled(int32_t mode, int32_t n_items)
{
    return mode == HC_REST_SAMPLED || (mode == HC_REST_AUTO && n_items >= HC_REST_AUTO_ITEMS);
}

void hc_distill_result_free(hc_distill_result *r)
{
    if (!r)
        return;
    free(r->evals);
    memset(r, 0, sizeof *r);
}

/* Every rank's student gets each user's row from the user's owner (dist_owns). */
static void gather_user_rows(hc_kd_ctx *ctx)
{
    hc_factor_model *f = (hc_factor_model *)ctx->student;
    dist_gather_rows(f->P, ctx->ds->n_users, (size_t)ctx->opts.dim);
}

static int check_opts(const hc_distiller_type *t, const hc_kd_ctx *ctx)
{
    const hc_distill_opts *o = &ctx->opts;
    if (o->dim <= 0 || o->max_epochs <= 0 || o->eval_every <= 0 || o->patience < 0 ||
        o->batch <= 0 || !(o->lr > 0.0f) || o->wd < 0.0f || o->k < 10 || o->k > 512 ||
        !(o->temperature > 0.0f) || o->dkc_every <= 0 || o->rest < 0 || o->rest > 2 ||
        o->dkc_rank < 0 || o->dkc_rank > 2 || o->rest_samples < 1 || o->rest_group < 1 ||
        o->rest_head < 0 || o->rest_head >= o->rest_samples || o->dkc_samples < 1 ||
        o->rest_proposal < 0 || o->rest_proposal > 1 || o->eval_users < 0)
        return hc_error(HC_EINVAL, "distill: invalid options (dim %d, k %d, batch %d)", o->dim,
                        o->k, o->batch);
    if (ctx->n_teachers > HC_DISTILL_MAX_TEACHERS)
        return hc_error(HC_EINVAL, "distill: at most %d teachers", HC_DISTILL_MAX_TEACHERS);
    for (int32_t x = 0; x < ctx->n_teachers; x++)
        if (ctx->teachers[x]->ds_checksum != ctx->ds->checksum)
            return hc_error(HC_EMISMATCH, "distill: teacher '%s' was trained on another dataset",
                            ctx->teachers[x]->model);
    for (int32_t x = 0; x < ctx->n_teachers; x++) {
        const hc_traj *tr = ctx->teachers[x];
        if (tr->part_size > 1 && !t->shares_teachers)
            return hc_error(HC_EINVAL,
                            "distill: method '%s' reads every user's lists, but teacher '%s' holds "
                            "rank %d of %d's users only",
                            t->name, tr->model, tr->part_rank, tr->part_size);
        int rc = hc_traj_share_check(tr, "distill");
        if (rc)
            return rc;
    }
    return HC_OK;
}

/* The loop's callbacks (core/train_loop.h) over one method and its student. */
typedef struct {
    const hc_distiller_type *t;
    hc_distiller *d;
    hc_kd_ctx *ctx;
    const hc_distill_hooks *hooks;
    hc_distill_result *r;
    int32_t cap;
    int32_t *top50; /* n_users x 50 when the method asks for the student's lists */
    hc_keeper keep;
} run_state;

static int run_epoch(void *ud, int32_t epoch, double *loss)
{
    run_state *s = ud;
    return s->t->epoch(s->d, epoch, loss);
}

/* Room for one more evaluation in s->r. */
static int grow(run_state *s)
{
    if (s->r->n_evals < s->cap)
        return HC_OK;
    int32_t nc = s->cap ? s->cap * 2 : 32;
    hc_distill_eval *ne = realloc(s->r->evals, (size_t)nc * sizeof *ne);
    if (!ne)
        return hc_error(HC_ENOMEM, "distill: out of memory");
    s->r->evals = ne;
    s->cap = nc;
    return HC_OK;
}

/* Evaluates the student (recording its top-50 lists when the method wants them this epoch),
 * then hands them to the method's after_eval and takes its status. */
static int run_evaluate(void *ud, int32_t epoch, double loss, double train_s, double *score)
{
    run_state *s = ud;
    const hc_distiller_type *t = s->t;
    const hc_dataset *ds = s->ctx->ds;
    int rc = grow(s);
    if (rc)
        return rc;
    hc_distill_eval *e = &s->r->evals[s->r->n_evals];
    memset(e, 0, sizeof *e);
    double t1 = hc_now_s();
    hc_model *st = s->ctx->student;
    if (st->type->prepare && (rc = st->type->prepare(st, ds)) != HC_OK)
        return rc;
    hc_eval_opts eo;
    hc_eval_opts_default(&eo);
    int want = t->needs_top50 && t->needs_top50(s->d, epoch);
    eo.record_k = want ? HC_EVAL_MAXK : 0;
    eo.record_top = want ? s->top50 : NULL;
    eo.max_users = s->ctx->opts.eval_users;
    eo.user_seed = s->ctx->opts.seed;
    hc_scorer sc = hc_model_scorer(st);
    if ((rc = hc_evaluate(ds, &sc, &eo, &e->res)) != HC_OK)
        return rc;
    if (t->after_eval && (rc = t->after_eval(s->d, epoch, want ? s->top50 : NULL)) != HC_OK)
        return rc;
    if (t->status)
        t->status(s->d, &e->st);
    e->epoch = epoch;
    e->loss = loss;
    e->train_s = train_s;
    e->eval_s = hc_now_s() - t1;
    s->r->n_evals++;
    *score = e->res.valid.recall[HC_EVAL_NK - 1];
    return HC_OK;
}

static int run_snapshot(void *ud)
{
    run_state *s = ud;
    return hc_keeper_take(&s->keep, s->ctx->student, s->ctx->ds);
}

/* The best student back, every user's row from its owner. */
static int run_restore(void *ud)
{
    run_state *s = ud;
    int rc = hc_keeper_restore(&s->keep, s->ctx->student);
    if (rc == HC_OK)
        gather_user_rows(s->ctx);
    return rc;
}

static void run_on_epoch(void *ud, int32_t epoch, double loss, double secs)
{
    run_state *s = ud;
    if (s->hooks && s->hooks->on_epoch)
        s->hooks->on_epoch(s->hooks->ud, epoch, loss, secs);
}

static void run_on_eval(void *ud, int improved)
{
    run_state *s = ud;
    hc_distill_eval *e = &s->r->evals[s->r->n_evals - 1];
    e->improved = improved;
    if (s->hooks && s->hooks->on_eval)
        s->hooks->on_eval(s->hooks->ud, e);
}

/* The student: an "mf" model of the options' dimension, learning rate and seed. */
static int create_student(hc_kd_ctx *ctx)
{
    const hc_distill_opts *o = &ctx->opts;
    hc_hparams hp;
    const hc_model_type *mf = hc_model_type_find("mf");
    hc_hparams_default(mf, &hp);
    hp.dim = o->dim;
    hp.lr = o->lr;
    hp.reg = o->wd;
    hp.batch = o->batch;
    hp.init_std = o->init_std;
    hp.seed = o->seed;
    return hc_model_create(mf, ctx->ds, &hp, &ctx->student);
}

int hc_distill_run(const hc_distiller_type *t, hc_kd_ctx *ctx, const hc_distill_hooks *hooks,
                   hc_distill_result *r)
{
    memset(r, 0, sizeof *r);
    r->best = -1;
    int rc = check_opts(t, ctx);
    if (rc || (rc = create_student(ctx)) != HC_OK)
        return rc;
    const hc_distill_opts *o = &ctx->opts;
    run_state s = {t, calloc(1, t->size), ctx, hooks, r, 0, NULL, {0}};
    if (t->needs_top50)
        s.top50 = malloc((size_t)ctx->ds->n_users * HC_EVAL_MAXK * sizeof *s.top50);
    if (!s.d || (t->needs_top50 && !s.top50)) {
        rc = hc_error(HC_ENOMEM, "distill: out of memory");
        goto done;
    }
    s.d->type = t;
    s.d->ctx = ctx;
    if ((rc = t->init(s.d)) != HC_OK)
        goto done;
    if (ctx->opts.patience == 0) /* resolved here, so the caller's log shows the one used */
        ctx->opts.patience = t->patience ? t->patience(s.d) : HC_DISTILL_PATIENCE;
    const hc_loop_opts lo = {0, o->max_epochs, o->eval_every, o->patience, 0.0};
    const hc_loop_ops ops = {
        run_epoch, run_evaluate, run_snapshot, run_restore, run_on_epoch, run_on_eval, &s};
    hc_loop_result lr;
    if ((rc = hc_train_loop(&lo, &ops, &lr)) != HC_OK)
        goto done;
    r->best = lr.best;
    r->epochs = lr.epochs;
    r->train_s = lr.train_s;
    if (dist_size() > 1) /* the figure docs/distributed.md's formula predicts */
        hc_log(HC_LOG_INFO, "distill: rank %d of %d reduced %llu payload bytes in %d epochs",
               dist_rank(), dist_size(), (unsigned long long)dist_bytes_reduced(), r->epochs);
done:
    if (s.d && s.d->type && t->free_fn)
        t->free_fn(s.d);
    free(s.d);
    free(s.top50);
    hc_keeper_free(&s.keep);
    if (rc)
        hc_distill_result_free(r);
    return rc;
}
