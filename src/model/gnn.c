/*
 * gnn.c - GNN teacher: LightGCN (He et al. 2020).
 *
 * Embeddings E0 ((U + I) x d, users first). Propagation over the symmetric-normalised graph
 * A (sparse/graph.c): E_final = (E0 + A E0 + ... + A^L E0) / (L + 1); score(u, i) =
 * <E_final[u], E_final[U + i]>. Loss per step (the reference's LightGCN): the mean BPR loss
 * of the batch's (u, i, j) on final embeddings plus l2 / 2 / B times the squared norms of the
 * batch's ego rows. Since A is symmetric, the gradient flows back through the same operator:
 *   dL/dE0 = (G + A G + ... + A^L G) / (L + 1) + l2 / B * E0[batch rows],
 * with G = dL/dE_final (non-zero on the batch's rows only). Dense Adam on E0 (every row
 * receives gradient through propagation). Memory: 6 (U + I) x d float arrays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"
#include "model/factor.h"
#include "optim/adam.h"
#include "optim/sampler.h"
#include "model/families.h"
#include "sparse/graph.h"

typedef struct {
    hc_model base; /* must be first */
    float *E0;     /* (U + I) x d ego embeddings (owned) */
    float *Ef;     /* (U + I) x d propagated embeddings (forward result, scoring cache) */
    float *X, *Y;  /* propagation scratch */
    float *G;      /* gradient w.r.t. Ef, then w.r.t. E0 */
    float *m, *v;  /* Adam moments */
    hc_adam adam;
    hc_graph graph;
    int have_graph;
    hc_epoch_samples samples;
    float *tg, *tloss; /* per-triple gradients and losses of a step */
    int64_t tloss_cap; /* triples tg and tloss hold */
    int32_t *mark;     /* n_rows: stamp of the batch that last listed a row */
    int32_t *rows;     /* the batch's distinct rows */
    int32_t stamp;
    float *scratch;
    int32_t scratch_rows;
} gnn_model;

static int64_t n_rows(const gnn_model *g)
{
    return (int64_t)g->base.n_users + g->base.n_items;
}

/* out = (in + A in + ... + A^L in) / (L + 1), using X and Y as scratch. */
static void layer_mean(gnn_model *g, const float *in, float *out)
{
    int32_t d = g->base.hp.dim, L = g->base.hp.layers;
    int64_t n = n_rows(g) * d;
    memcpy(out, in, (size_t)n * sizeof *out);
    const float *x = in;
    for (int32_t l = 0; l < L; l++) {
        float *y = (l % 2 == 0) ? g->X : g->Y;
        hc_graph_propagate_acc(&g->graph, x, y, out, d);
        x = y;
    }
    float s = 1.0f / (float)(L + 1);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < n; k++)
        out[k] *= s;
}

static int ensure_graph(gnn_model *g, const hc_dataset *ds)
{
    if (g->have_graph)
        return HC_OK;
    if (!ds->train.indptr)
        return hc_error(HC_EINVAL, "gnn: needs the dataset's train graph");
    int rc = hc_graph_build(&g->graph, &ds->train);
    if (!rc)
        g->have_graph = 1;
    return rc;
}

static void gnn_defaults(hc_hparams *hp)
{
    hp->dim = 64;
    hp->layers = 2;
    hp->batch = 2048;
    hp->negatives = 1;
    hp->lr = 2e-3f;
    hp->reg = 0.0f;
    hp->l2 = 1e-4f;
}

static int gnn_init(hc_model *m, const hc_dataset *ds, int load)
{
    gnn_model *g = (gnn_model *)m;
    if (m->hp.layers < 0 || m->hp.layers > 8)
        return hc_error(HC_EINVAL, "gnn: layers must be in [0, 8], got %d", m->hp.layers);
    size_t n = (size_t)n_rows(g) * (size_t)m->hp.dim;
    g->E0 = malloc(n * sizeof(float));
    g->Ef = malloc(n * sizeof(float));
    g->X = malloc(n * sizeof(float));
    g->Y = malloc(n * sizeof(float));
    if (!g->E0 || !g->Ef || !g->X || !g->Y)
        return hc_error(HC_ENOMEM, "gnn: out of memory for %zu parameters", n);
    if (ds->train.indptr) {
        int rc = ensure_graph(g, ds);
        if (rc)
            return rc;
    }
    if (load)
        return HC_OK;
    float std = m->hp.init_std > 0.0f ? m->hp.init_std : 0.1f;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0x1A17);
    for (size_t k = 0; k < n; k++)
        g->E0[k] = std * (float)hc_rng_normal(&r);
    return HC_OK;
}

/* Allocates the training buffers on first use. */
static int train_state(gnn_model *g, int64_t batch)
{
    const int64_t n = n_rows(g) * g->base.hp.dim;
    if (g->m && g->tloss_cap >= batch)
        return HC_OK;
    if (!g->m) {
        g->m = calloc((size_t)n, sizeof(float));
        g->v = calloc((size_t)n, sizeof(float));
        g->G = calloc((size_t)n, sizeof(float));
        g->mark = calloc((size_t)n_rows(g), sizeof *g->mark);
        if (!g->m || !g->v || !g->G || !g->mark)
            return hc_error(HC_ENOMEM, "gnn: out of memory for the optimiser state");
        hc_adam_init(&g->adam, g->base.hp.lr, g->base.hp.reg);
    }
    free(g->tg);
    free(g->tloss);
    free(g->rows);
    g->tg = malloc((size_t)batch * 3 * (size_t)g->base.hp.dim * sizeof(float));
    g->tloss = malloc((size_t)batch * sizeof(float));
    g->rows = malloc((size_t)batch * 3 * sizeof *g->rows);
    if (!g->tg || !g->tloss || !g->rows)
        return hc_error(HC_ENOMEM, "gnn: out of memory for the optimiser state");
    g->tloss_cap = batch;
    return HC_OK;
}

/* The distinct rows (users, then U + items) a batch touches, into g->rows. */
static int32_t batch_rows(gnn_model *g, const int32_t *user, const int32_t *pos, const int32_t *neg,
                          int64_t nb)
{
    const int32_t U = g->base.n_users;
    int32_t n = 0;
    g->stamp++;
    for (int64_t t = 0; t < nb; t++) {
        int32_t r3[3] = {user[t], U + pos[t], U + neg[t]};
        for (int k = 0; k < 3; k++)
            if (g->mark[r3[k]] != g->stamp) {
                g->mark[r3[k]] = g->stamp;
                g->rows[n++] = r3[k];
            }
    }
    return n;
}

double hc_gnn_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *user, const int32_t *pos,
                         const int32_t *neg, int64_t nb, float **grad)
{
    gnn_model *g = (gnn_model *)m;
    const int32_t d = m->hp.dim, U = m->n_users, L = m->hp.layers;
    const int64_t n = n_rows(g) * d;
    *grad = NULL;
    if (ensure_graph(g, ds) != HC_OK || train_state(g, nb) != HC_OK)
        return NAN;
    const float inv_b = 1.0f / (float)nb, inv_l = 1.0f / (float)(L + 1);
    int32_t nr = batch_rows(g, user, pos, neg, nb);
    /* forward, at the batch's rows only: layers 1..L-1 in full, the last one per row */
    for (int32_t k = 0; k < nr; k++)
        memcpy(g->Ef + (int64_t)g->rows[k] * d, g->E0 + (int64_t)g->rows[k] * d,
               (size_t)d * sizeof(float));
    const float *x = g->E0;
    for (int32_t l = 1; l <= L; l++) {
        float *y = (l % 2 == 1) ? g->X : g->Y;
        if (l < L)
            hc_graph_propagate(&g->graph, x, y, d);
        else
            hc_graph_propagate_rows(&g->graph, x, y, d, g->rows, nr);
        for (int32_t k = 0; k < nr; k++) {
            float *ef = g->Ef + (int64_t)g->rows[k] * d;
            const float *yr = y + (int64_t)g->rows[k] * d;
            for (int32_t c = 0; c < d; c++)
                ef[c] += yr[c];
        }
        x = y;
    }
    for (int32_t k = 0; k < nr; k++)
        for (int32_t c = 0; c < d; c++)
            g->Ef[(int64_t)g->rows[k] * d + c] *= inv_l;
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < nb; t++) {
        const float *eu = g->Ef + (int64_t)user[t] * d;
        const float *ei = g->Ef + ((int64_t)U + pos[t]) * d;
        const float *ej = g->Ef + ((int64_t)U + neg[t]) * d;
        float *tg = g->tg + t * 3 * d;
        g->tloss[t] = hc_bpr_triple(eu, ei, ej, d, 0.0f, tg, tg + d, tg + 2 * d);
    }
    /* S = dL/dEf on the batch's rows (G is all zero between calls), summed in sample order */
    double sum = 0.0;
    for (int64_t t = 0; t < nb; t++) {
        int64_t r3[3] = {user[t], (int64_t)U + pos[t], (int64_t)U + neg[t]};
        const float *tg = g->tg + t * 3 * d;
        for (int r = 0; r < 3; r++) {
            float *dst = g->G + r3[r] * d;
            for (int32_t c = 0; c < d; c++)
                dst[c] += inv_b * tg[r * d + c];
        }
        sum += (double)g->tloss[t];
    }
    sum /= (double)nb;
    /* backward, A being symmetric: dL/dE0 = (S + A S + ... + A^L S) / (L + 1). A S comes
     * from the batch's rows alone (a scatter over their edges); the later layers in full. */
    float *out = g->Ef; /* Ef's rows are not needed any more: it receives dL/dE0 */
    if (L == 0) {
        memcpy(out, g->G, (size_t)n * sizeof(float));
    } else {
        memset(g->X, 0, (size_t)n * sizeof(float));
        hc_graph_scatter_rows(&g->graph, g->G, g->X, d, g->rows, nr);
#pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < n; k++)
            out[k] = g->G[k] + g->X[k];
        const float *xs = g->X;
        for (int32_t l = 2; l <= L; l++) {
            float *y = (l % 2 == 0) ? g->Y : g->X;
            hc_graph_propagate_acc(&g->graph, xs, y, out, d);
            xs = y;
        }
    }
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < n; k++)
        out[k] *= inv_l;
    /* the explicit L2 on the batch's ego rows (per occurrence, as the reference) */
    double l2sum = 0.0;
    for (int64_t t = 0; t < nb; t++) {
        int64_t r3[3] = {user[t], (int64_t)U + pos[t], (int64_t)U + neg[t]};
        for (int r = 0; r < 3; r++) {
            const float *e = g->E0 + r3[r] * d;
            float *dst = out + r3[r] * d;
            float sq = 0.0f;
            for (int32_t c = 0; c < d; c++) {
                dst[c] += m->hp.l2 * inv_b * e[c];
                sq += e[c] * e[c];
            }
            l2sum += (double)sq;
        }
    }
    /* restore the all-zero G */
    for (int32_t k = 0; k < nr; k++)
        memset(g->G + (int64_t)g->rows[k] * d, 0, (size_t)d * sizeof(float));
    *grad = out;
    return sum + (double)m->hp.l2 * l2sum / 2.0 / (double)nb;
}

static int gnn_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    gnn_model *g = (gnn_model *)m;
    const int64_t n = n_rows(g) * m->hp.dim;
    int rc = ensure_graph(g, ds);
    if (!rc)
        rc = train_state(g, m->hp.batch);
    if (!rc)
        rc = hc_sample_epoch(ds, m->hp.seed, epoch, 1, &g->samples);
    if (rc)
        return rc;
    const hc_epoch_samples *s = &g->samples;
    double sum = 0.0;
    for (int64_t b0 = 0; b0 < s->n; b0 += m->hp.batch) {
        int64_t nb = b0 + m->hp.batch < s->n ? m->hp.batch : s->n - b0;
        float *grad = NULL;
        double l = hc_gnn_batch_grad(m, ds, s->user + b0, s->pos + b0, s->neg + b0, nb, &grad);
        if (!grad)
            return hc_error(HC_ENOMEM, "gnn: out of memory");
        sum += l;
        hc_adam_begin_step(&g->adam);
        hc_adam_dense(&g->adam, g->E0, grad, g->m, g->v, n);
    }
    *loss = sum;
    return HC_OK;
}

static int gnn_prepare(hc_model *m, const hc_dataset *ds)
{
    gnn_model *g = (gnn_model *)m;
    int rc = ensure_graph(g, ds);
    if (rc)
        return rc;
    layer_mean(g, g->E0, g->Ef);
    return HC_OK;
}

static int gnn_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    gnn_model *g = (gnn_model *)m;
    int32_t d = m->hp.dim;
    if (n > g->scratch_rows) {
        float *s = realloc(g->scratch, (size_t)n * (size_t)d * sizeof *s);
        if (!s)
            return hc_error(HC_ENOMEM, "gnn: out of memory for scoring");
        g->scratch = s;
        g->scratch_rows = n;
    }
    for (int32_t r = 0; r < n; r++)
        memcpy(g->scratch + (int64_t)r * d, g->Ef + (int64_t)users[r] * d,
               (size_t)d * sizeof(float));
    hc_sgemm_abt(n, m->n_items, d, g->scratch, d, g->Ef + (int64_t)m->n_users * d, d, out,
                 m->n_items);
    return HC_OK;
}

static int gnn_tensors(hc_model *m, hc_tensor *out)
{
    gnn_model *g = (gnn_model *)m;
    out[0] = (hc_tensor){"user_emb", m->n_users, m->hp.dim, g->E0};
    out[1] =
        (hc_tensor){"item_emb", m->n_items, m->hp.dim, g->E0 + (int64_t)m->n_users * m->hp.dim};
    return 2;
}

static void gnn_free(hc_model *m)
{
    gnn_model *g = (gnn_model *)m;
    free(g->E0);
    free(g->Ef);
    free(g->X);
    free(g->Y);
    free(g->G);
    free(g->m);
    free(g->v);
    free(g->tg);
    free(g->tloss);
    free(g->mark);
    free(g->rows);
    free(g->scratch);
    hc_graph_free(&g->graph);
    hc_epoch_samples_free(&g->samples);
}

const hc_model_type hc_model_gnn = {
    .name = "gnn",
    .title = "LightGCN: layer-mean propagation over the normalised graph, BPR loss",
    .version = 1,
    .size = sizeof(gnn_model),
    .defaults = gnn_defaults,
    .init = gnn_init,
    .train_epoch = gnn_epoch,
    .prepare = gnn_prepare,
    .score = gnn_score,
    .tensors = gnn_tensors,
    .free_fn = gnn_free,
};

float *hc_gnn_ego(hc_model *m)
{
    return ((gnn_model *)m)->E0;
}
