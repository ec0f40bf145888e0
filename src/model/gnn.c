/*
 * gnn.c - GNN teacher: LightGCN (He et al. 2020).
 *
 * Embeddings E0 ((U + I) x d, users first). Propagation over the symmetric-normalised graph
 * A (sparse/graph.c): E_final = (E0 + A E0 + ... + A^L E0) / (L + 1); score(u, i) =
 * <E_final[u], E_final[U + i]>. Loss per step (the reference's LightGCN): the mean BPR loss
 * of the batch's (u, i, j) on final embeddings plus l2 / 2 / B times the squared norms of the
 * batch's ego rows. Since A is symmetric, the gradient flows back through the same operator:
 *   dL/dE0 = (S + A S + ... + A^L S) / (L + 1) + l2 / B * E0[batch rows],
 * with S = dL/dE_final (non-zero on the batch's rows only). Dense Adam on E0 (every row
 * receives gradient through propagation).
 *
 * A step costs two full products (forward layer 1, backward layer L, for L = 2), one pass
 * over the edges that reads the batch's rows only (backward layer 1, A S) and the products at
 * the batch's rows (forward layer L). The backward's last product is fused with the
 * gradient's assembly and the Adam step, row by row (one pass over E0 and the moments). The
 * batch's rows live in compact arrays (final embeddings, S), indexed through slot.
 * Memory: 7 (U + I) x d float arrays, plus O(batch x d).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"
#include "dense/vec.h"
#include "model/factor.h"
#include "optim/adam.h"
#include "optim/sampler.h"
#include "model/families.h"
#include "sparse/graph.h"

/* rows ahead that the batch-row loops prefetch */
#define BATCH_PREFETCH 4

typedef struct {
    hc_model base; /* must be first */
    float *E0;     /* (U + I) x d ego embeddings (owned) */
    float *Ef;     /* (U + I) x d propagated embeddings (scoring cache; a step's scratch) */
    float *X, *Y;  /* propagation scratch */
    float *Z;      /* A S (a step's scratch) */
    float *m, *v;  /* Adam moments */
    hc_adam adam;
    hc_graph graph;
    int have_graph;
    hc_epoch_samples samples;
    float *tg, *tloss; /* per-triple gradients and losses of a step */
    int64_t tloss_cap; /* triples tg, tloss hold (rows, Ec, Sc, sq: 3x that many rows) */
    int32_t *slot;     /* n_rows: the row's index in rows, -1 outside the step's batch */
    int32_t *cnt;      /* n_rows: the row's occurrences in the batch, 0 outside it */
    int32_t *rows;     /* the batch's distinct rows, in increasing order */
    float *Ec;         /* the batch's rows' final embeddings, compact */
    float *Sc;         /* S on the batch's rows, compact */
    float *sq;         /* the batch's rows' squared ego norms */
    float *tscratch;   /* d floats per thread */
    int32_t tscratch_threads;
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

static int gnn_shapes(const hc_hparams *hp, int32_t n_users, int32_t n_items, hc_tensor *out)
{
    if (hp->layers < 0 || hp->layers > 8)
        return hc_error(HC_EINVAL, "gnn: layers must be in [0, 8], got %d", hp->layers);
    out[0] = (hc_tensor){"user_emb", n_users, hp->dim, NULL};
    out[1] = (hc_tensor){"item_emb", n_items, hp->dim, NULL};
    return 2;
}

static int gnn_init(hc_model *m, const hc_dataset *ds, int load)
{
    gnn_model *g = (gnn_model *)m;
    hc_tensor ts[2];
    if (gnn_shapes(&m->hp, m->n_users, m->n_items, ts) < 0)
        return HC_EINVAL;
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

/* Allocates the training buffers on first use (and the per-thread scratch for the current
 * thread count). */
static int train_state(gnn_model *g, int64_t batch)
{
    const int64_t n = n_rows(g) * g->base.hp.dim;
    const size_t d = (size_t)g->base.hp.dim;
    if (!g->m) {
        g->m = calloc((size_t)n, sizeof(float));
        g->v = calloc((size_t)n, sizeof(float));
        g->Z = calloc((size_t)n, sizeof(float));
        g->slot = malloc((size_t)n_rows(g) * sizeof *g->slot);
        g->cnt = calloc((size_t)n_rows(g), sizeof *g->cnt);
        if (!g->m || !g->v || !g->Z || !g->slot || !g->cnt)
            return hc_error(HC_ENOMEM, "gnn: out of memory for the optimiser state");
        memset(g->slot, 0xff, (size_t)n_rows(g) * sizeof *g->slot);
        hc_adam_init(&g->adam, g->base.hp.lr, g->base.hp.reg);
    }
    int threads = omp_get_max_threads();
    if (threads > g->tscratch_threads) {
        free(g->tscratch);
        g->tscratch = malloc((size_t)threads * d * sizeof(float));
        g->tscratch_threads = g->tscratch ? threads : 0;
        if (!g->tscratch)
            return hc_error(HC_ENOMEM, "gnn: out of memory for the optimiser state");
    }
    if (g->tloss_cap >= batch)
        return HC_OK;
    free(g->tg);
    free(g->tloss);
    free(g->rows);
    free(g->Ec);
    free(g->Sc);
    free(g->sq);
    const size_t rows = (size_t)batch * 3;
    g->tg = malloc(rows * d * sizeof(float));
    g->tloss = malloc((size_t)batch * sizeof(float));
    g->rows = malloc(rows * sizeof *g->rows);
    g->Ec = malloc(rows * d * sizeof(float));
    g->Sc = malloc(rows * d * sizeof(float));
    g->sq = malloc(rows * sizeof(float));
    g->tloss_cap = g->tg && g->tloss && g->rows && g->Ec && g->Sc && g->sq ? batch : 0;
    if (!g->tloss_cap)
        return hc_error(HC_ENOMEM, "gnn: out of memory for the optimiser state");
    return HC_OK;
}

/* Lists the distinct rows a batch touches in g->rows, in increasing order (users, then
 * U + items: the graph's rows are then walked in order), with each one's slot and
 * occurrence count; returns their number. release_rows undoes it. */
static int32_t batch_rows(gnn_model *g, const int32_t *user, const int32_t *pos, const int32_t *neg,
                          int64_t nb)
{
    const int32_t U = g->base.n_users;
    for (int64_t t = 0; t < nb; t++) {
        g->cnt[user[t]]++;
        g->cnt[U + pos[t]]++;
        g->cnt[U + neg[t]]++;
    }
    int32_t n = 0;
    for (int64_t a = 0; a < n_rows(g); a++)
        if (g->cnt[a]) {
            g->slot[a] = n;
            g->rows[n++] = (int32_t)a;
        }
    return n;
}

static void release_rows(gnn_model *g, int32_t nr)
{
    for (int32_t k = 0; k < nr; k++) {
        g->slot[g->rows[k]] = -1;
        g->cnt[g->rows[k]] = 0;
    }
}

/* The forward pass at the batch's nr rows (final embeddings into Ec, squared ego norms into
 * sq), then S = dL/dEf into Sc; returns the mean BPR loss. Layers 1..L-1 are propagated in
 * full, the last one at the batch's rows only. */
static double forward(gnn_model *g, const int32_t *user, const int32_t *pos, const int32_t *neg,
                      int64_t nb, int32_t nr)
{
    const int32_t d = g->base.hp.dim, U = g->base.n_users, L = g->base.hp.layers;
    const float inv_b = 1.0f / (float)nb, inv_l = 1.0f / (float)(L + 1);
    const int par = (int64_t)nr * d >= (1 << 15);
#pragma omp parallel for schedule(static) if (par)
    for (int32_t k = 0; k < nr; k++) {
        if (k + BATCH_PREFETCH < nr)
            hc_prefetch_floats(g->E0 + (int64_t)g->rows[k + BATCH_PREFETCH] * d, d);
        const float *e = g->E0 + (int64_t)g->rows[k] * d;
        float *ec = g->Ec + (int64_t)k * d, s2 = 0.0f;
        for (int32_t c = 0; c < d; c++) {
            ec[c] = e[c];
            s2 += e[c] * e[c];
        }
        g->sq[k] = s2;
    }
    const float *x = g->E0;
    for (int32_t l = 1; l < L; l++) {
        float *y = (l % 2 == 1) ? g->X : g->Y;
        hc_graph_propagate(&g->graph, x, y, d);
        if (l < L - 1) { /* layer L - 1 is added with the last one */
#pragma omp parallel for schedule(static) if (par)
            for (int32_t k = 0; k < nr; k++) {
                float *ec = g->Ec + (int64_t)k * d;
                const float *yr = y + (int64_t)g->rows[k] * d;
                for (int32_t c = 0; c < d; c++)
                    ec[c] += yr[c];
            }
        }
        x = y;
    }
    if (L > 0) {
#pragma omp parallel for schedule(static) if (par)
        for (int32_t k = 0; k < nr; k++) {
            if (k + BATCH_PREFETCH < nr) {
                hc_graph_prefetch(&g->graph, x, g->rows[k + BATCH_PREFETCH], d);
                hc_prefetch_floats(x + (int64_t)g->rows[k + BATCH_PREFETCH] * d, d);
            }
            float *y = g->tscratch + (int64_t)omp_get_thread_num() * d;
            float *ec = g->Ec + (int64_t)k * d;
            const int64_t r = g->rows[k];
            hc_graph_row(&g->graph, x, r, y, d, 0);
            if (L > 1)
                for (int32_t c = 0; c < d; c++)
                    ec[c] += x[r * d + c];
            for (int32_t c = 0; c < d; c++)
                ec[c] = (ec[c] + y[c]) * inv_l;
        }
    }
#pragma omp parallel for schedule(static) if (nb * d >= (1 << 16))
    for (int64_t t = 0; t < nb; t++) {
        const float *eu = g->Ec + (int64_t)g->slot[user[t]] * d;
        const float *ei = g->Ec + (int64_t)g->slot[U + pos[t]] * d;
        const float *ej = g->Ec + (int64_t)g->slot[U + neg[t]] * d;
        float *tg = g->tg + t * 3 * d;
        g->tloss[t] = hc_bpr_triple(eu, ei, ej, d, 0.0f, tg, tg + d, tg + 2 * d);
    }
    /* S, summed in sample order */
    memset(g->Sc, 0, (size_t)nr * (size_t)d * sizeof(float));
    double sum = 0.0;
    for (int64_t t = 0; t < nb; t++) {
        int32_t r3[3] = {user[t], U + pos[t], U + neg[t]};
        const float *tg = g->tg + t * 3 * d;
        for (int r = 0; r < 3; r++) {
            float *dst = g->Sc + (int64_t)g->slot[r3[r]] * d;
            for (int32_t c = 0; c < d; c++)
                dst[c] += inv_b * tg[r * d + c];
        }
        sum += (double)g->tloss[t];
    }
    return sum / (double)nb;
}

/* One row's gradient, assembled in gr (which holds (A xs)[a], or zeros), then stepped by
 * Adam (factors c1, c2) or copied to out. */
static void finish_row(gnn_model *g, int64_t a, float *restrict gr, const float *base, float inv_b,
                       const hc_adam *adam, float c1, float c2, float *out)
{
    const int32_t d = g->base.hp.dim;
    const int64_t off = a * d;
    const float inv_l = 1.0f / (float)(g->base.hp.layers + 1);
    if (base)
        for (int32_t c = 0; c < d; c++)
            gr[c] += base[off + c];
    const int in_batch = g->slot[a] >= 0;
    if (in_batch) {
        const float *s = g->Sc + (int64_t)g->slot[a] * d;
        for (int32_t c = 0; c < d; c++)
            gr[c] += s[c];
    }
    for (int32_t c = 0; c < d; c++)
        gr[c] *= inv_l;
    if (in_batch) {
        const float w = g->base.hp.l2 * inv_b * (float)g->cnt[a];
        for (int32_t c = 0; c < d; c++)
            gr[c] += w * g->E0[off + c];
    }
    if (adam)
        hc_adam_span(adam, c1, c2, g->E0 + off, gr, g->m + off, g->v + off, d);
    else
        memcpy(out + off, gr, (size_t)d * sizeof(float));
}

/* The backward pass, A being symmetric:
 *   dL/dE0 = (S + Z_1 + ... + Z_L) / (L + 1) + l2 / B * (occurrences) E0,  Z_l = A^l S.
 * Z_1 is gathered from the batch's rows (a pass over the edges that reads the compact S
 * only); the middle layers are propagated in full; Z_L is gathered row by row in one pass
 * that assembles each row's gradient and, when adam is given, steps the row at once; without
 * adam the gradient goes to out. Rows are independent and each sums in a fixed order, so the
 * result is the same for any thread count. */
static void backward(gnn_model *g, int64_t nb, const hc_adam *adam, float *out)
{
    const int32_t d = g->base.hp.dim, L = g->base.hp.layers;
    const int64_t n = n_rows(g) * d, rows = n_rows(g);
    const float inv_b = 1.0f / (float)nb;
    const float *xs = NULL;   /* the last product's operand Z_{L-1} (none for L < 2) */
    const float *base = NULL; /* Z_1 + ... + Z_{L-1} (none for L = 0) */
    if (L >= 1) {
        hc_graph_propagate_compact(&g->graph, g->Sc, g->slot, g->Z, d);
        base = g->Z;
        xs = L >= 2 ? g->Z : NULL;
    }
    if (L >= 3) { /* base = Z_1 + ... + Z_{L-1} in out, xs = Z_{L-1} */
        memcpy(out, g->Z, (size_t)n * sizeof(float));
        for (int32_t l = 2; l < L; l++) {
            float *y = (l % 2 == 0) ? g->X : g->Y;
            hc_graph_propagate_acc(&g->graph, xs, y, out, d);
            xs = y;
        }
        base = out;
    }
    float c1 = 0.0f, c2 = 0.0f;
    if (adam)
        hc_adam_corrections(adam, &c1, &c2);
#pragma omp parallel
    {
        float *gr = g->tscratch + (int64_t)omp_get_thread_num() * d;
#pragma omp for schedule(dynamic, 128)
        for (int64_t a = 0; a < rows; a++) {
            if (xs)
                hc_graph_row(&g->graph, xs, a, gr, d, 1);
            else
                memset(gr, 0, (size_t)d * sizeof(float));
            finish_row(g, a, gr, base, inv_b, adam, c1, c2, out);
        }
    }
}

/* One step on a batch: *loss receives the loss; with adam the parameters move, otherwise
 * *grad receives the gradient (the Ef buffer). */
static int gnn_step(gnn_model *g, const hc_dataset *ds, const int32_t *user, const int32_t *pos,
                    const int32_t *neg, int64_t nb, const hc_adam *adam, double *loss, float **grad)
{
    int rc = ensure_graph(g, ds);
    if (!rc)
        rc = train_state(g, nb);
    if (rc)
        return rc;
    int32_t nr = batch_rows(g, user, pos, neg, nb);
    double bpr = forward(g, user, pos, neg, nb, nr);
    double l2sum = 0.0;
    for (int32_t k = 0; k < nr; k++)
        l2sum += (double)g->cnt[g->rows[k]] * (double)g->sq[k];
    backward(g, nb, adam, g->Ef);
    release_rows(g, nr);
    if (grad)
        *grad = g->Ef;
    *loss = bpr + (double)g->base.hp.l2 * l2sum / 2.0 / (double)nb;
    return HC_OK;
}

double hc_gnn_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *user, const int32_t *pos,
                         const int32_t *neg, int64_t nb, float **grad)
{
    double loss = NAN;
    *grad = NULL;
    if (gnn_step((gnn_model *)m, ds, user, pos, neg, nb, NULL, &loss, grad) != HC_OK)
        return NAN;
    return loss;
}

static int gnn_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    gnn_model *g = (gnn_model *)m;
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
        double l = 0.0;
        hc_adam_begin_step(&g->adam);
        if ((rc = gnn_step(g, ds, s->user + b0, s->pos + b0, s->neg + b0, nb, &g->adam, &l,
                           NULL)) != HC_OK)
            return rc;
        sum += l;
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
    int n = gnn_shapes(&m->hp, m->n_users, m->n_items, out);
    out[0].data = g->E0;
    out[1].data = g->E0 + (int64_t)m->n_users * m->hp.dim;
    return n;
}

static void gnn_free(hc_model *m)
{
    gnn_model *g = (gnn_model *)m;
    free(g->E0);
    free(g->Ef);
    free(g->X);
    free(g->Y);
    free(g->Z);
    free(g->m);
    free(g->v);
    free(g->tg);
    free(g->tloss);
    free(g->slot);
    free(g->cnt);
    free(g->rows);
    free(g->Ec);
    free(g->Sc);
    free(g->sq);
    free(g->tscratch);
    free(g->scratch);
    hc_graph_free(&g->graph);
    hc_epoch_samples_free(&g->samples);
}

const hc_model_type hc_model_gnn = {
    .name = "gnn",
    .title = "LightGCN: layer-mean propagation over the normalised graph, BPR loss",
    .version = 1,
    .params = "dim layers lr wd l2 negatives batch init-std seed",
    .size = sizeof(gnn_model),
    .defaults = gnn_defaults,
    .init = gnn_init,
    .train_epoch = gnn_epoch,
    .prepare = gnn_prepare,
    .score = gnn_score,
    .tensors = gnn_tensors,
    .shapes = gnn_shapes,
    .free_fn = gnn_free,
};

float *hc_gnn_ego(hc_model *m)
{
    return ((gnn_model *)m)->E0;
}
