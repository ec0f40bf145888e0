/*
 * factor.c - shared machinery of the embedding-table families (see factor.h).
 *
 * Threading: a step's triple gradients are computed in parallel (independent), then added
 * into per-row gradient slots in sample order (slots assigned sequentially, the sums split
 * among the threads by slot) and each thread moves its rows by Adam: two parallel regions a
 * step. The result is the same for any thread count. Memory: (U + I) x d floats
 * for the factors and 2x that for Adam's moments, plus O(batch x d) scratch.
 *
 * Optimiser: PyTorch's dense Adam moves every row at every step (by its momentum, and by the
 * Adam-normalised weight decay). Small tables (at most HC_FACTOR_DENSE_MAX parameters, e.g.
 * a d = 6 student) use exactly that. Large ones use Adam on the touched rows only, each row
 * catching up the momentum steps it missed in closed form when it is touched again
 * (optim/adam.h, hc_adam_table): the same trajectory except for the weight decay of
 * untouched rows, at O(batch x d) per step instead of O((U + I) x d).
 */
#include "model/factor.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"
#include "dense/vec.h"

/* triples ahead whose rows a step's gradient loop prefetches */
#define TRIPLE_PREFETCH 4
/* rows a thread steps before post_step sees them */
#define STEP_BLOCK 64

int hc_factor_init(hc_factor_model *f, float std, int load)
{
    hc_model *m = &f->base;
    int32_t d = m->hp.dim;
    size_t nu = (size_t)m->n_users * (size_t)d, ni = (size_t)m->n_items * (size_t)d;
    f->P = malloc((nu ? nu : 1) * sizeof *f->P);
    f->Q = malloc((ni ? ni : 1) * sizeof *f->Q);
    if (!f->P || !f->Q)
        return hc_error(HC_ENOMEM, "%s: out of memory for %zu parameters", m->type->name, nu + ni);
    if (load)
        return HC_OK;
    if (m->hp.init_std > 0.0f)
        std = m->hp.init_std;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0x1A17);
    for (size_t k = 0; k < nu; k++)
        f->P[k] = std * (float)hc_rng_normal(&r);
    for (size_t k = 0; k < ni; k++)
        f->Q[k] = std * (float)hc_rng_normal(&r);
    return HC_OK;
}

/* Allocates Adam moments and step scratch on the first training epoch. */
static int train_state(hc_factor_model *f)
{
    if (f->have_state)
        return HC_OK;
    hc_model *m = &f->base;
    int32_t d = m->hp.dim;
    size_t nb = (size_t)m->hp.batch * (size_t)(m->hp.negatives > 0 ? m->hp.negatives : 1);
    f->tg = malloc(nb * 3 * (size_t)d * sizeof(float));
    f->tloss = malloc(nb * sizeof(float));
    f->tslot = malloc(nb * 3 * sizeof *f->tslot);
    if (!f->tg || !f->tloss || !f->tslot)
        return hc_error(HC_ENOMEM, "%s: out of memory for the optimiser state", m->type->name);
    int rc = hc_adam_table_init(&f->aP, f->P, m->n_users, d);
    if (!rc)
        rc = hc_adam_table_init(&f->aQ, f->Q, m->n_items, d);
    int64_t total = ((int64_t)m->n_users + m->n_items) * d;
    if (!rc && total <= HC_FACTOR_DENSE_MAX) {
        f->dense_g = calloc((size_t)total, sizeof(float));
        if (!f->dense_g)
            rc = hc_error(HC_ENOMEM, "%s: out of memory", m->type->name);
    }
    if (!rc)
        rc = hc_rowgrad_init(&f->gP, m->n_users, d);
    if (!rc)
        rc = hc_rowgrad_init(&f->gQ, m->n_items, d);
    if (rc)
        return rc;
    hc_adam_init(&f->adam, m->hp.lr, m->hp.reg);
    f->have_state = 1;
    return HC_OK;
}

int hc_factor_prepare(hc_model *m, const hc_dataset *ds)
{
    (void)ds;
    hc_factor_model *f = (hc_factor_model *)m;
    if (f->have_state && !f->dense_g) {
        hc_adam_table_flush(&f->adam, &f->aP);
        hc_adam_table_flush(&f->adam, &f->aQ);
    }
    return HC_OK;
}

/* Dense Adam: scatter the touched rows' gradients into the zeroed full gradient, step every
 * parameter, and zero the touched rows again. */
static void dense_step(hc_factor_model *f)
{
    const int32_t d = f->base.hp.dim;
    const int64_t nu = (int64_t)f->base.n_users * d, ni = (int64_t)f->base.n_items * d;
    float *gu = f->dense_g, *gi = f->dense_g + nu;
    for (int32_t k = 0; k < f->gP.n; k++)
        memcpy(gu + (int64_t)f->gP.rows[k] * d, f->gP.g + (int64_t)k * d, (size_t)d * 4);
    for (int32_t k = 0; k < f->gQ.n; k++)
        memcpy(gi + (int64_t)f->gQ.rows[k] * d, f->gQ.g + (int64_t)k * d, (size_t)d * 4);
    hc_adam_dense(&f->adam, f->P, gu, f->aP.M, f->aP.V, nu);
    hc_adam_dense(&f->adam, f->Q, gi, f->aQ.M, f->aQ.V, ni);
    for (int32_t k = 0; k < f->gP.n; k++)
        memset(gu + (int64_t)f->gP.rows[k] * d, 0, (size_t)d * 4);
    for (int32_t k = 0; k < f->gQ.n; k++)
        memset(gi + (int64_t)f->gQ.rows[k] * d, 0, (size_t)d * 4);
}

/* Sums the step's nt triple gradients (tg) into the gradient slots [p0, p1) of gP and
 * [q0, q1) of gQ, each in sample order. */
static void accumulate(hc_factor_model *f, int64_t nt, int32_t p0, int32_t p1, int32_t q0,
                       int32_t q1)
{
    const int32_t d = f->base.hp.dim;
    memset(f->gP.g + (int64_t)p0 * d, 0, (size_t)(p1 - p0) * (size_t)d * sizeof(float));
    memset(f->gQ.g + (int64_t)q0 * d, 0, (size_t)(q1 - q0) * (size_t)d * sizeof(float));
    for (int64_t t = 0; t < nt; t++) {
        const int32_t *sl = f->tslot + 3 * t;
        const float *g = f->tg + t * 3 * d;
        for (int r = 0; r < 3; r++) {
            const int32_t lo = r ? q0 : p0, hi = r ? q1 : p1;
            if (sl[r] < lo || sl[r] >= hi)
                continue;
            float *dst = (r ? f->gQ.g : f->gP.g) + (int64_t)sl[r] * d;
            for (int32_t c = 0; c < d; c++)
                dst[c] += g[r * d + c];
        }
    }
}

int hc_factor_epoch(hc_factor_model *f, const hc_dataset *ds, int32_t epoch, hc_triple_fn loss,
                    hc_post_step post_step, double *total)
{
    hc_model *m = &f->base;
    int rc = train_state(f);
    if (rc)
        return rc;
    int32_t negs = m->hp.negatives > 0 ? m->hp.negatives : 1;
    if ((rc = hc_sample_epoch(ds, m->hp.seed, epoch, negs, &f->samples)) != HC_OK)
        return rc;
    const int32_t d = m->hp.dim;
    const hc_epoch_samples *s = &f->samples;
    double sum = 0.0;
    for (int64_t b0 = 0; b0 < s->n; b0 += m->hp.batch) {
        int64_t b1 = b0 + m->hp.batch < s->n ? b0 + m->hp.batch : s->n;
        int64_t nt = (b1 - b0) * negs; /* triples in this step */
#pragma omp parallel for schedule(static) if (nt * d >= (1 << 16))
        for (int64_t t = 0; t < nt; t++) {
            int64_t k = b0 + t / negs;
            int32_t u = s->user[k], i = s->pos[k], j = s->neg[k * negs + t % negs];
            if (t + TRIPLE_PREFETCH < nt) { /* the rows are scattered over the tables */
                int64_t ka = b0 + (t + TRIPLE_PREFETCH) / negs;
                hc_prefetch_floats(f->P + (int64_t)s->user[ka] * d, d);
                hc_prefetch_floats(f->Q + (int64_t)s->pos[ka] * d, d);
                hc_prefetch_floats(
                    f->Q + (int64_t)s->neg[ka * negs + (t + TRIPLE_PREFETCH) % negs] * d, d);
            }
            float *g = f->tg + t * 3 * d;
            f->tloss[t] = loss(f->P + (int64_t)u * d, f->Q + (int64_t)i * d, f->Q + (int64_t)j * d,
                               d, m->hp.margin, g, g + d, g + 2 * d);
        }
        /* slots in sample order; then each thread sums the gradients of its range of slots
         * in sample order (the same sums for any thread count) and, with the lazy tables,
         * steps those rows at once */
        for (int64_t t = 0; t < nt; t++) {
            int64_t k = b0 + t / negs;
            int32_t *sl = f->tslot + 3 * t;
            sl[0] = hc_rowgrad_slot(&f->gP, s->user[k]);
            sl[1] = hc_rowgrad_slot(&f->gQ, s->pos[k]);
            sl[2] = hc_rowgrad_slot(&f->gQ, s->neg[k * negs + t % negs]);
            if (sl[0] < 0 || sl[1] < 0 || sl[2] < 0)
                return hc_error(HC_ENOMEM, "%s: out of memory", m->type->name);
            sum += (double)f->tloss[t];
        }
        hc_adam_begin_step(&f->adam);
        const int lazy = !f->dense_g;
        if (lazy && ((rc = hc_adam_table_gaps(&f->adam, &f->aP, f->gP.rows, f->gP.n)) != HC_OK ||
                     (rc = hc_adam_table_gaps(&f->adam, &f->aQ, f->gQ.rows, f->gQ.n)) != HC_OK))
            return rc;
#pragma omp parallel if (nt * d >= (1 << 16))
        {
            const int nth = omp_get_num_threads(), id = omp_get_thread_num();
            const int32_t p0 = (int32_t)((int64_t)f->gP.n * id / nth);
            const int32_t p1 = (int32_t)((int64_t)f->gP.n * (id + 1) / nth);
            const int32_t q0 = (int32_t)((int64_t)f->gQ.n * id / nth);
            const int32_t q1 = (int32_t)((int64_t)f->gQ.n * (id + 1) / nth);
            accumulate(f, nt, p0, p1, q0, q1);
            if (lazy) /* in blocks, so that post_step finds the rows still in cache */
                for (int32_t pb = p0, qb = q0; pb < p1 || qb < q1;
                     pb += STEP_BLOCK, qb += STEP_BLOCK) {
                    const int32_t pe = pb + STEP_BLOCK < p1 ? pb + STEP_BLOCK : p1;
                    const int32_t qe = qb + STEP_BLOCK < q1 ? qb + STEP_BLOCK : q1;
                    if (pb < pe)
                        hc_adam_table_rows(&f->adam, &f->aP, f->gP.g, f->gP.rows, pb, pe);
                    if (qb < qe)
                        hc_adam_table_rows(&f->adam, &f->aQ, f->gQ.g, f->gQ.rows, qb, qe);
                    if (post_step)
                        post_step(f, pb < pe ? pb : pe, pe, qb < qe ? qb : qe, qe);
                }
        }
        if (!lazy) {
            dense_step(f);
            if (post_step)
                post_step(f, 0, f->gP.n, 0, f->gQ.n);
        }
        hc_rowgrad_reset(&f->gP);
        hc_rowgrad_reset(&f->gQ);
    }
    *total = sum;
    return HC_OK;
}

int hc_factor_score_dot(hc_factor_model *f, const int32_t *users, int32_t n, float *out)
{
    hc_model *m = &f->base;
    int32_t d = m->hp.dim;
    if (n > f->scratch_rows) {
        float *s = realloc(f->scratch, (size_t)n * (size_t)d * sizeof *s);
        if (!s)
            return hc_error(HC_ENOMEM, "%s: out of memory for scoring", m->type->name);
        f->scratch = s;
        f->scratch_rows = n;
    }
    for (int32_t r = 0; r < n; r++)
        memcpy(f->scratch + (int64_t)r * d, f->P + (int64_t)users[r] * d,
               (size_t)d * sizeof(float));
    hc_sgemm_abt(n, m->n_items, d, f->scratch, d, f->Q, d, out, m->n_items);
    return HC_OK;
}

int hc_factor_shapes(const hc_hparams *hp, int32_t n_users, int32_t n_items, hc_tensor *out)
{
    out[0] = (hc_tensor){"user_factors", n_users, hp->dim, NULL};
    out[1] = (hc_tensor){"item_factors", n_items, hp->dim, NULL};
    return 2;
}

int hc_factor_tensors(hc_model *m, hc_tensor *out)
{
    hc_factor_model *f = (hc_factor_model *)m;
    int n = hc_factor_shapes(&m->hp, m->n_users, m->n_items, out);
    out[0].data = f->P;
    out[1].data = f->Q;
    return n;
}

void hc_factor_free(hc_model *m)
{
    hc_factor_model *f = (hc_factor_model *)m;
    free(f->P);
    free(f->Q);
    free(f->dense_g);
    hc_adam_table_free(&f->aP);
    hc_adam_table_free(&f->aQ);
    free(f->tg);
    free(f->tloss);
    free(f->tslot);
    free(f->scratch);
    free(f->item_sq);
    hc_epoch_samples_free(&f->samples);
    hc_rowgrad_free(&f->gP);
    hc_rowgrad_free(&f->gQ);
}
