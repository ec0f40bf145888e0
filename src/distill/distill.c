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
#include "dist/dist.h"
#include "model/factor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    o->patience = 5;
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
    o->rest_group = 32;
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

static int check_opts(const hc_kd_ctx *ctx)
{
    const hc_distill_opts *o = &ctx->opts;
    if (o->dim <= 0 || o->max_epochs <= 0 || o->eval_every <= 0 || o->patience <= 0 ||
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
    return HC_OK;
}

int hc_distill_run(const hc_distiller_type *t, hc_kd_ctx *ctx, const hc_distill_hooks *hooks,
                   hc_distill_result *r)
{
    memset(r, 0, sizeof *r);
    r->best = -1;
    int rc = check_opts(ctx);
    if (rc)
        return rc;
    const hc_dataset *ds = ctx->ds;
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
    if ((rc = hc_model_create(mf, ds, &hp, &ctx->student)) != HC_OK)
        return rc;
    hc_distiller *d = calloc(1, t->size);
    hc_keeper keep = {0};
    int32_t *top50 = NULL, cap = 0;
    if (t->needs_top50)
        top50 = malloc((size_t)ds->n_users * HC_EVAL_MAXK * sizeof *top50);
    if (!d || (t->needs_top50 && !top50)) {
        rc = hc_error(HC_ENOMEM, "distill: out of memory");
        goto done;
    }
    d->type = t;
    d->ctx = ctx;
    if ((rc = t->init(d)) != HC_OK)
        goto done;
    double since_eval = 0.0;
    for (int32_t ep = 0; ep < o->max_epochs; ep++) {
        double t0 = hc_now_s(), loss = 0.0;
        if ((rc = t->epoch(d, ep, &loss)) != HC_OK)
            goto done;
        double dt = hc_now_s() - t0;
        since_eval += dt;
        r->train_s += dt;
        r->epochs = ep + 1;
        if (hooks && hooks->on_epoch)
            hooks->on_epoch(hooks->ud, ep, loss, dt);
        if (ep % o->eval_every != 0 && ep != o->max_epochs - 1)
            continue;
        if (r->n_evals == cap) {
            int32_t nc = cap ? cap * 2 : 32;
            hc_distill_eval *ne = realloc(r->evals, (size_t)nc * sizeof *ne);
            if (!ne) {
                rc = hc_error(HC_ENOMEM, "distill: out of memory");
                goto done;
            }
            r->evals = ne;
            cap = nc;
        }
        hc_distill_eval *e = &r->evals[r->n_evals];
        memset(e, 0, sizeof *e);
        double t1 = hc_now_s();
        hc_model *st = ctx->student;
        if (st->type->prepare && (rc = st->type->prepare(st, ds)) != HC_OK)
            goto done;
        hc_eval_opts eo;
        hc_eval_opts_default(&eo);
        int want = t->needs_top50 && t->needs_top50(d, ep);
        eo.record_k = want ? HC_EVAL_MAXK : 0;
        eo.record_top = want ? top50 : NULL;
        eo.max_users = o->eval_users;
        eo.user_seed = o->seed;
        hc_scorer sc = hc_model_scorer(st);
        if ((rc = hc_evaluate(ds, &sc, &eo, &e->res)) != HC_OK)
            goto done;
        if (t->after_eval && (rc = t->after_eval(d, ep, want ? top50 : NULL)) != HC_OK)
            goto done;
        if (t->status)
            t->status(d, &e->st);
        e->epoch = ep;
        e->loss = loss;
        e->train_s = since_eval;
        e->eval_s = hc_now_s() - t1;
        since_eval = 0.0;
        r->n_evals++;
        if ((rc = hc_keeper_offer(&keep, st, ds, e->res.valid.recall[HC_EVAL_NK - 1])) < 0)
            goto done;
        if (rc == 1) {
            r->best = r->n_evals - 1;
            e->improved = 1;
        }
        rc = HC_OK;
        if (hooks && hooks->on_eval)
            hooks->on_eval(hooks->ud, e);
        if (keep.bad >= o->patience)
            break;
    }
    if ((rc = hc_keeper_restore(&keep, ctx->student)) == HC_OK)
        gather_user_rows(ctx);
    if (dist_size() > 1) /* the figure docs/distributed.md's formula predicts */
        hc_log(HC_LOG_INFO, "distill: rank %d of %d reduced %llu payload bytes in %d epochs",
               dist_rank(), dist_size(), (unsigned long long)dist_bytes_reduced(), r->epochs);
done:
    if (d && d->type && t->free_fn)
        t->free_fn(d);
    free(d);
    free(top50);
    hc_keeper_free(&keep);
    if (rc)
        hc_distill_result_free(r);
    return rc;
}
