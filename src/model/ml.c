/*
 * ml.c - ML teacher: collaborative metric learning (Hsieh et al. 2017).
 *
 * score(u, i) = -||p_u - q_i||^2.  Per (u, i, j): h = m + ||p_u - q_i||^2 - ||p_u - q_j||^2,
 *   loss = max(0, h); when h > 0:  g_u = 2 (q_j - q_i),  g_i = -2 (p_u - q_i),
 *   g_j = 2 (p_u - q_j); otherwise all zero.
 * After every Adam step the touched rows are projected back into the unit ball. Init
 * N(0, 1/sqrt(d)) then projected (the reference's CML). docs/method.md §2.
 * Scoring a block: -(||p||^2 - 2 P Q^T + ||q||^2), one sgemm plus the cached item norms.
 */
#include <math.h>
#include <stdlib.h>

#include "model/factor.h"
#include "model/families.h"

float hc_cml_triple(const float *pu, const float *qi, const float *qj, int32_t d, float margin,
                    float *gu, float *gi, float *gj)
{
    float dp = 0.0f, dn = 0.0f;
#pragma omp simd reduction(+ : dp, dn)
    for (int32_t c = 0; c < d; c++) {
        float a = pu[c] - qi[c], b = pu[c] - qj[c];
        dp += a * a;
        dn += b * b;
    }
    float h = margin + dp - dn;
    if (h <= 0.0f) {
        for (int32_t c = 0; c < d; c++)
            gu[c] = gi[c] = gj[c] = 0.0f;
        return 0.0f;
    }
    for (int32_t c = 0; c < d; c++) {
        gu[c] = 2.0f * (qj[c] - qi[c]);
        gi[c] = -2.0f * (pu[c] - qi[c]);
        gj[c] = 2.0f * (pu[c] - qj[c]);
    }
    return h;
}

/* Scales row x (d) into the unit ball. */
static void project_row(float *x, int32_t d)
{
    float n = 0.0f;
#pragma omp simd reduction(+ : n)
    for (int32_t c = 0; c < d; c++)
        n += x[c] * x[c];
    if (n > 1.0f) {
        float s = 1.0f / sqrtf(n);
        for (int32_t c = 0; c < d; c++)
            x[c] *= s;
    }
}

/* Projects a range of the rows the step touched (hc_post_step). */
static void cml_project(hc_factor_model *f, int32_t p0, int32_t p1, int32_t q0, int32_t q1)
{
    const int32_t d = f->base.hp.dim;
    for (int32_t k = p0; k < p1; k++)
        project_row(f->P + (int64_t)f->gP.rows[k] * d, d);
    for (int32_t k = q0; k < q1; k++)
        project_row(f->Q + (int64_t)f->gQ.rows[k] * d, d);
}

static void ml_defaults(hc_hparams *hp)
{
    hp->dim = 128;
    hp->batch = 1024;
    hp->negatives = 1;
    hp->margin = 1.0f;
    hp->lr = 1e-3f;
    hp->reg = 1e-5f;
}

static int ml_init(hc_model *m, const hc_dataset *ds, int load)
{
    (void)ds;
    hc_factor_model *f = (hc_factor_model *)m;
    int rc = hc_factor_init(f, 1.0f / sqrtf((float)m->hp.dim), load);
    if (rc || load)
        return rc;
    for (int32_t u = 0; u < m->n_users; u++)
        project_row(f->P + (int64_t)u * m->hp.dim, m->hp.dim);
    for (int32_t i = 0; i < m->n_items; i++)
        project_row(f->Q + (int64_t)i * m->hp.dim, m->hp.dim);
    return HC_OK;
}

static int ml_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    return hc_factor_epoch((hc_factor_model *)m, ds, epoch, hc_cml_triple, cml_project, loss);
}

static int ml_prepare(hc_model *m, const hc_dataset *ds)
{
    hc_factor_model *f = (hc_factor_model *)m;
    int rc = hc_factor_prepare(m, ds);
    if (rc)
        return rc;
    /* the momentum catch-up may have moved rows out of the ball */
    for (int32_t u = 0; u < m->n_users; u++)
        project_row(f->P + (int64_t)u * m->hp.dim, m->hp.dim);
    for (int32_t i = 0; i < m->n_items; i++)
        project_row(f->Q + (int64_t)i * m->hp.dim, m->hp.dim);
    if (!f->item_sq) {
        f->item_sq = malloc((size_t)m->n_items * sizeof *f->item_sq);
        if (!f->item_sq)
            return hc_error(HC_ENOMEM, "ml: out of memory");
    }
    int32_t d = m->hp.dim;
    for (int32_t i = 0; i < m->n_items; i++) {
        const float *q = f->Q + (int64_t)i * d;
        float s = 0.0f;
        for (int32_t c = 0; c < d; c++)
            s += q[c] * q[c];
        f->item_sq[i] = s;
    }
    return HC_OK;
}

static int ml_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    hc_factor_model *f = (hc_factor_model *)m;
    int rc = hc_factor_score_dot(f, users, n, out);
    if (rc)
        return rc;
    int32_t d = m->hp.dim, ni = m->n_items;
#pragma omp parallel for schedule(static)
    for (int32_t r = 0; r < n; r++) {
        const float *p = f->P + (int64_t)users[r] * d;
        float pn = 0.0f;
        for (int32_t c = 0; c < d; c++)
            pn += p[c] * p[c];
        float *o = out + (int64_t)r * ni;
        for (int32_t i = 0; i < ni; i++)
            o[i] = 2.0f * o[i] - f->item_sq[i] - pn;
    }
    return HC_OK;
}

const hc_model_type hc_model_ml = {
    .name = "ml",
    .title = "collaborative metric learning, hinge loss, unit-ball embeddings",
    .version = 1,
    .params = "dim lr wd margin negatives batch init-std seed",
    .size = sizeof(hc_factor_model),
    .defaults = ml_defaults,
    .init = ml_init,
    .train_epoch = ml_epoch,
    .prepare = ml_prepare,
    .score = ml_score,
    .tensors = hc_factor_tensors,
    .shapes = hc_factor_shapes,
    .free_fn = hc_factor_free,
};
