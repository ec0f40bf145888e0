/*
 * iae.c - I-AE teacher: a denoising autoencoder over each item's user vector (the item's
 * column of the train matrix), docs/method.md §2, family "iae".
 *
 * Input: item i's train users x_i (0/1 over U users, a CSR row of the transposed train
 * matrix). Training drops each entry with probability p = hp.dropout and scales the kept ones
 * by 1 / (1 - p); scoring uses the whole vector.
 *   z = b_enc + sum over kept users of W_enc[u] / (1 - p)   (W_enc: U x h, one row per user)
 *   h = sigmoid(z)                                             (h = hp.dim = 200)
 *   logits = W_dec h + b_dec                                   (W_dec: U x h)
 * score(u, i) = logits_i[u], the reconstruction of entry u of item i.
 * Loss of a batch of B items: L = (1/B) sum_i sum_u [softplus(logit_iu) - x_iu logit_iu],
 * binary cross-entropy over all U entries (the reference's sum / B);
 *   dL/dlogits = (sigmoid(logits) - x) / B, dh = W_dec^T dlogits, dz = dh h (1 - h),
 * then the layers' backward (nn/layers.h).
 * Init: Xavier uniform weights and a zero encoder bias, as the reference; the decoder bias
 * b_dec[u] starts at the log-odds of user u's train density, log(p_u / (1 - p_u)) with
 * p_u = (|x_u| + 0.5) / (I + 1), instead of the reference's zero. Started at zero, the first
 * hundreds of steps only push every logit down (the loss is dominated by the zeros) and the
 * ranking signal waits; started at the marginal, the steps go to the ranking at once (on
 * CiteULike-t: validation R@50 0.155 after 20 epochs from zero, as the reference's 0.149;
 * 0.287 after 10 from the marginal).
 * Epoch: every item (including items no train user has: they learn to reconstruct zeros, as
 * in the reference), shuffled per epoch, in batches of hp.batch items; each batch's dropout
 * from its own RNG stream. Optimiser: Adam with coupled weight decay, dense on every tensor
 * but the input layer's weight, whose rows move only when the batch holds their user, each
 * first catching up in closed form the momentum steps it missed (optim/adam.h,
 * hc_adam_table): the reference's dense Adam at the cost of the touched rows.
 * The output layer runs in one parallel region per step (nn/layers.h "fused output layer"),
 * over chunks of users: each chunk's logits, their loss and gradient, the chunk's products and
 * its Adam step while it is in cache; the B x U reconstruction is never formed.
 * Sampled output layer (hp.out_samples = S > 0, docs/teachers.md §2):
 * per batch the BCE runs over the batch items' train users (exactly, as positives of their
 * item and negatives of the others) and S users drawn from a proposal shared by the batch
 * (model/outsample.h), each drawn negative term weighted k / (S q) so that its expectation is
 * the full sum over the other users; only those rows of W_dec, b_dec take a (lazy) Adam step.
 * The output layer then costs O(B x (P + S) x h) per batch instead of O(B x U x h).
 * Scoring: prepare encodes every item once (codes H: I x h, no dropout); a block of users is
 * then W_dec[users] H^T + b_dec[users], one n x h by h x I product.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/families.h"
#include "model/outsample.h"
#include "nn/layers.h"
#include "optim/adam.h"

enum { ENC_W, ENC_B, DEC_W, DEC_B, N_T };

/* Output units (users) per chunk of the output layer: small enough that a chunk's logits
 * (batch x chunk) and gradient stay in a core's L2 cache and the chunks spread evenly over the
 * threads (CiteULike-t: 21 chunks), large enough for efficient products. */
#define DEC_CHUNK     256
#define SAMPLED_CHUNK 256 /* candidates per chunk of the sampled layer */

typedef struct {
    hc_model base; /* must be first */
    int32_t h;
    hc_tensor t[N_T];
    hc_csr RT; /* transposed train matrix: items x users */
    uint64_t RT_sum;
    int have_RT;
    float *ones; /* RT.nnz ones: the undropped input values */
    /* training state */
    float *g[N_T], *am[N_T], *av[N_T]; /* gradients and dense Adam moments */
    hc_adam adam;
    hc_adam_table enc_tab; /* Adam state of the encoder rows (touched rows, with catch-up) */
    hc_adam_gather gather; /* the encoder step's scratch */
    int have_train;
    int32_t *order; /* item order of an epoch */
    float *act;     /* H, dH: rows x 2h */
    int32_t rows;   /* batch rows act holds */
    int64_t *ptr;
    int32_t *col;
    float *val;
    int64_t nnz_cap;
    int stepping;          /* iae_batch steps the output layer instead of storing its gradient */
    const int32_t *bitems; /* the batch, as the loss sees it */
    int32_t n_batch;
    hc_nn_ws ws; /* the output layer's scratch */
    /* the sampled output layer (hp.out_samples > 0) */
    int sampled;
    hc_outsample os; /* candidates, gathers and the lazy Adam state of W_dec, b_dec */
    int64_t *pptr;   /* rows + 1: the batch items' train users, */
    int32_t *pcol;   /* (nnz_cap) as candidate indices once the list is built */
    /* scoring */
    float *H;  /* I x h codes (prepare) */
    float *sW; /* n x h gathered decoder rows */
    int32_t s_rows;
} iae_model;

static void iae_defaults(hc_hparams *hp)
{
    hp->dim = 200;
    hp->batch = 256;
    hp->dropout = 0.5f;
    hp->lr = 5e-3f;
    hp->reg = 1e-5f;
}

/* Builds the transposed train matrix once per dataset. */
static int ensure_rt(iae_model *a, const hc_dataset *ds)
{
    if (a->have_RT && a->RT_sum == ds->checksum)
        return HC_OK;
    if (ds->train.nrows != a->base.n_users || ds->train.ncols != a->base.n_items)
        return hc_error(HC_EINVAL, "iae: the dataset's train matrix is %d x %d, model %d x %d",
                        ds->train.nrows, ds->train.ncols, a->base.n_users, a->base.n_items);
    hc_adam_table_free(&a->enc_tab);
    hc_adam_gather_free(&a->gather);
    hc_csr_free(&a->RT);
    free(a->ones);
    a->ones = NULL;
    a->have_RT = 0;
    int rc = hc_csr_transpose(&ds->train, &a->RT);
    if (rc)
        return rc;
    a->ones = malloc((size_t)(a->RT.nnz > 0 ? a->RT.nnz : 1) * sizeof(float));
    if (!a->ones)
        return hc_error(HC_ENOMEM, "iae: out of memory");
    for (int64_t k = 0; k < a->RT.nnz; k++)
        a->ones[k] = 1.0f;
    a->have_RT = 1;
    a->RT_sum = ds->checksum;
    return HC_OK;
}

static int iae_shapes(const hc_hparams *hp, int32_t U, int32_t n_items, hc_tensor *out)
{
    (void)n_items;
    if (!(hp->dropout >= 0.0f && hp->dropout < 1.0f))
        return hc_error(HC_EINVAL, "iae: dropout must be in [0, 1), got %g", (double)hp->dropout);
    out[ENC_W] = (hc_tensor){"enc_w", U, hp->dim, NULL};
    out[ENC_B] = (hc_tensor){"enc_b", 1, hp->dim, NULL};
    out[DEC_W] = (hc_tensor){"dec_w", U, hp->dim, NULL};
    out[DEC_B] = (hc_tensor){"dec_b", 1, U, NULL};
    return N_T;
}

static int iae_init(hc_model *m, const hc_dataset *ds, int load)
{
    (void)ds;
    iae_model *a = (iae_model *)m;
    int rc = iae_shapes(&m->hp, m->n_users, m->n_items, a->t);
    if (rc < 0)
        return rc;
    const int32_t U = m->n_users, h = m->hp.dim;
    a->h = h;
    for (int k = 0; k < N_T; k++) {
        a->t[k].data = calloc((size_t)hc_tensor_len(&a->t[k]), sizeof(float));
        if (!a->t[k].data)
            return hc_error(HC_ENOMEM, "iae: out of memory for the parameters");
    }
    if (load)
        return HC_OK;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0x1AE);
    hc_nn_init_xavier(&r, a->t[ENC_W].data, hc_tensor_len(&a->t[ENC_W]), U, h);
    hc_nn_init_xavier(&r, a->t[DEC_W].data, hc_tensor_len(&a->t[DEC_W]), h, U);
    if (ds->train.indptr && ds->train.nrows == U) {
        float *bd = a->t[DEC_B].data;
        for (int32_t u = 0; u < U; u++) {
            float pu = ((float)hc_csr_row_len(&ds->train, u) + 0.5f) / ((float)m->n_items + 1.0f);
            bd[u] = logf(pu / (1.0f - pu));
        }
    }
    return HC_OK;
}

/* Gradients and dense Adam moments of every tensor but the encoder weight (its moments live
 * in enc_tab) and, with the sampled output layer, W_dec and b_dec: their moments live in the
 * outsample's lazy tables, and their dense gradients, used only by hc_iae_batch_grad, are
 * calloc'ed, so that no training step maps their pages. */
static int optim_state(iae_model *a)
{
    int64_t len[N_T];
    for (int k = 0; k < N_T; k++)
        len[k] = hc_tensor_len(&a->t[k]);
    if (!a->sampled) {
        if (hc_adam_dense_state(N_T, len, ENC_W, a->g, a->am, a->av))
            return hc_error(HC_ENOMEM, "iae: out of memory for the optimiser state");
        return HC_OK;
    }
    const int32_t U = a->base.n_users;
    int32_t *deg = malloc((size_t)U * sizeof *deg); /* users' train items */
    if (hc_adam_dense_state(DEC_W, len, ENC_W, a->g, a->am, a->av) || !deg ||
        !(a->g[DEC_W] = calloc((size_t)len[DEC_W], sizeof(float))) ||
        !(a->g[DEC_B] = calloc((size_t)len[DEC_B], sizeof(float)))) {
        free(deg);
        return hc_error(HC_ENOMEM, "iae: out of memory for the optimiser state");
    }
    /* RT's columns are users: a user's train items are its count in RT */
    memset(deg, 0, (size_t)U * sizeof *deg);
    for (int64_t k = 0; k < a->RT.nnz; k++)
        deg[a->RT.indices[k]]++;
    int rc = hc_outsample_init(&a->os, a->base.hp.out_samples, a->base.hp.out_proposal, deg, U,
                               a->h, a->t[DEC_W].data, a->t[DEC_B].data, a->base.hp.seed);
    free(deg);
    return rc;
}

static int train_state(iae_model *a, int32_t rows, int64_t nnz)
{
    const int32_t U = a->base.n_users, h = a->h, I = a->base.n_items;
    if (!a->have_train) {
        a->sampled = a->base.hp.out_samples > 0;
        if (optim_state(a) != HC_OK)
            return HC_ENOMEM;
        a->order = malloc((size_t)(I > 0 ? I : 1) * sizeof(int32_t));
        if (!a->order)
            return hc_error(HC_ENOMEM, "iae: out of memory");
        hc_adam_init(&a->adam, a->base.hp.lr, a->base.hp.reg);
        int rc = hc_adam_table_init(&a->enc_tab, a->t[ENC_W].data, U, h);
        if (rc)
            return rc;
        if ((rc = hc_adam_gather_init(&a->gather, U)) != HC_OK)
            return rc;
        a->have_train = 1;
    }
    if (rows > a->rows) {
        free(a->act);
        free(a->ptr);
        free(a->pptr);
        a->act = malloc((size_t)rows * 2 * (size_t)h * sizeof(float));
        a->ptr = malloc((size_t)(rows + 1) * sizeof(int64_t));
        a->pptr = malloc((size_t)(rows + 1) * sizeof(int64_t));
        a->rows = a->act && a->ptr && a->pptr ? rows : 0;
        if (!a->rows)
            return hc_error(HC_ENOMEM, "iae: out of memory for a batch");
    }
    if (nnz > a->nnz_cap) {
        free(a->col);
        free(a->val);
        free(a->pcol);
        a->col = malloc((size_t)nnz * sizeof(int32_t));
        a->val = malloc((size_t)nnz * sizeof(float));
        a->pcol = malloc((size_t)nnz * sizeof(int32_t));
        a->nnz_cap = a->col && a->val && a->pcol ? nnz : 0;
        if (!a->nnz_cap)
            return hc_error(HC_ENOMEM, "iae: out of memory for a batch");
    }
    return HC_OK;
}

/* The output layer's loss on users [c0, c0 + nc) (hc_nn_linear_out_train): binary
 * cross-entropy with logits against the undropped column (the item's train users), scaled by
 * 1 / B; Z (B x nc) becomes dL/dlogits. */
static double bce_chunk(void *ctx, int32_t c0, int32_t nc, float *Z)
{
    iae_model *a = ctx;
    const int32_t n = a->n_batch;
    const float inv_n = 1.0f / (float)n;
    double loss = 0.0;
    for (int32_t b = 0; b < n; b++) {
        float *z = Z + (int64_t)b * nc;
        const int32_t *row = hc_csr_row(&a->RT, a->bitems[b]);
        const int32_t len = hc_csr_row_len(&a->RT, a->bitems[b]);
        /* the positives inside [c0, c0 + nc): rows are sorted */
        const int32_t lo = (int32_t)hc_lower_bound_i32(row, len, c0);
        double pos = 0.0;
        for (int32_t q = lo; q < len && row[q] < c0 + nc; q++)
            pos += (double)z[row[q] - c0];
        loss += hc_nn_bce_logits(nc, z, NULL, inv_n, z) - pos;
        for (int32_t q = lo; q < len && row[q] < c0 + nc; q++)
            z[row[q] - c0] -= inv_n;
    }
    return loss;
}

/* Receives the output layer's gradient a chunk of users at a time (hc_nn_linear_out_train):
 * while training (a->stepping) the chunk's rows of W_dec and b_dec take their Adam step at
 * once; otherwise the gradient is stored in g[]. */
static void dec_chunk(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db)
{
    iae_model *a = ctx;
    const int64_t off = (int64_t)r0 * a->h, len = (int64_t)nr * a->h;
    if (a->stepping) {
        hc_adam_dense(&a->adam, a->t[DEC_W].data + off, dW, a->am[DEC_W] + off, a->av[DEC_W] + off,
                      len);
        hc_adam_dense(&a->adam, a->t[DEC_B].data + r0, db, a->am[DEC_B] + r0, a->av[DEC_B] + r0,
                      nr);
    } else {
        memcpy(a->g[DEC_W] + off, dW, (size_t)len * sizeof(float));
        memcpy(a->g[DEC_B] + r0, db, (size_t)nr * sizeof(float));
    }
}

/* The sampled layer's loss (docs/teachers.md §2.2) on candidates [c0, c0 + nc)
 * (hc_nn_linear_out_train): each
 * candidate's BCE term weighted by its importance weight (1 for the batch items' train users,
 * k / (S q) for a drawn user), the positives' -z terms (weight 1) of each item, scaled by
 * 1 / B; Z (B x nc) becomes dL/dlogits. */
static double wbce_chunk(void *ctx, int32_t c0, int32_t nc, float *Z)
{
    iae_model *a = ctx;
    const int32_t n = a->n_batch;
    const float inv_n = 1.0f / (float)n, *w = a->os.wt + c0;
    double loss = 0.0;
    for (int32_t b = 0; b < n; b++) {
        float *z = Z + (int64_t)b * nc;
        const int32_t *row = a->pcol + a->pptr[b];
        const int32_t len = (int32_t)(a->pptr[b + 1] - a->pptr[b]);
        const int32_t lo = (int32_t)hc_lower_bound_i32(row, len, c0);
        double pos = 0.0;
        for (int32_t q = lo; q < len && row[q] < c0 + nc; q++)
            pos += (double)z[row[q] - c0];
        loss += hc_nn_bce0_weighted(nc, z, w, inv_n, z) - pos;
        for (int32_t q = lo; q < len && row[q] < c0 + nc; q++)
            z[row[q] - c0] -= inv_n;
    }
    return loss;
}

static void sampled_step_chunk(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db)
{
    hc_outsample_chunk(&((iae_model *)ctx)->os, r0, nr, dW, db);
}

/* The sampled output layer of the batch (codes H, gradient to dH): the candidates from the
 * batch items' train users and the draws of stream, the weighted BCE, and either their Adam
 * step (a->stepping) or their gradient in g[DEC_W], g[DEC_B] (whose rows the caller clears,
 * then ends the list). */
static int sampled_out(iae_model *a, const int32_t *items, int32_t n, const float *H, float *dH,
                       double *loss, uint64_t stream)
{
    hc_outsample *o = &a->os;
    a->pptr[0] = 0;
    for (int32_t b = 0; b < n; b++) {
        const int32_t len = hc_csr_row_len(&a->RT, items[b]);
        memcpy(a->pcol + a->pptr[b], hc_csr_row(&a->RT, items[b]), (size_t)len * sizeof(int32_t));
        a->pptr[b + 1] = a->pptr[b] + len;
    }
    int rc = hc_outsample_begin(o, a->pcol, a->pptr[n], stream, a->t[DEC_W].data, a->t[DEC_B].data);
    if (rc)
        return rc;
    for (int64_t k = 0; k < a->pptr[n]; k++) /* ascending users give ascending indices */
        a->pcol[k] = hc_outsample_index(o, a->pcol[k]);
    rc = hc_nn_linear_out_train(n, a->h, o->n, H, o->Wc, o->bc, dH, loss, SAMPLED_CHUNK, wbce_chunk,
                                sampled_step_chunk, a, &a->ws);
    if (!rc && !a->stepping) {
        hc_outsample_scatter(o, a->g[DEC_W], a->g[DEC_B], 0);
        return HC_OK;
    }
    if (!rc)
        rc = hc_outsample_step(o, &a->adam);
    hc_outsample_end(o);
    return rc;
}

/* Loss and gradients (into g[]) of the batch items[0..n), dropout from stream. The encoder
 * gradient is non-zero only on the kept users' rows, which the caller zeroes after use. With
 * a->stepping the output layer takes its Adam step (after begin_step) instead of storing its
 * gradient. */
static double iae_batch(iae_model *a, const int32_t *items, int32_t n, uint64_t stream)
{
    const int32_t U = a->base.n_users, h = a->h;
    const hc_csr *RT = &a->RT;
    int64_t nnz = 0;
    for (int32_t b = 0; b < n; b++)
        nnz += hc_csr_row_len(RT, items[b]);
    if (train_state(a, n, nnz > 0 ? nnz : 1) != HC_OK)
        return NAN;
    /* dropout: kept entries scaled by 1 / (1 - p) */
    hc_rng r;
    hc_rng_init(&r, a->base.hp.seed, stream);
    const float p = a->base.hp.dropout, keep = 1.0f / (1.0f - p);
    int64_t k = 0;
    a->ptr[0] = 0;
    for (int32_t b = 0; b < n; b++) {
        const int32_t *row = hc_csr_row(RT, items[b]);
        int32_t len = hc_csr_row_len(RT, items[b]);
        for (int32_t q = 0; q < len; q++)
            if (p <= 0.0f || hc_rng_float(&r) >= p) {
                a->col[k] = row[q];
                a->val[k++] = keep;
            }
        a->ptr[b + 1] = k;
    }
    hc_nn_sparse x = {n, a->ptr, a->col, a->val};
    float *H = a->act, *dH = H + (int64_t)n * h;
    hc_nn_sparse_linear_fwd(&x, h, a->t[ENC_W].data, a->t[ENC_B].data, H);
    hc_nn_act_fwd(HC_ACT_SIGMOID, (int64_t)n * h, H, H);
    a->bitems = items;
    a->n_batch = n;
    double loss;
    if (a->sampled ? sampled_out(a, items, n, H, dH, &loss, stream)
                   : hc_nn_linear_out_train(n, h, U, H, a->t[DEC_W].data, a->t[DEC_B].data, dH,
                                            &loss, DEC_CHUNK, bce_chunk, dec_chunk, a, &a->ws))
        return NAN;
    hc_nn_act_bwd(HC_ACT_SIGMOID, (int64_t)n * h, H, dH, dH);
    hc_nn_sparse_linear_bwd(&x, h, dH, a->g[ENC_W], a->g[ENC_B], 0.0f);
    return loss / (double)n;
}

static void clear_enc_grad(iae_model *a, int32_t n)
{
    for (int64_t k = 0; k < a->ptr[n]; k++)
        memset(a->g[ENC_W] + (int64_t)a->col[k] * a->h, 0, (size_t)a->h * sizeof(float));
}

double hc_iae_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *items, int32_t n,
                         uint64_t stream, float *const *grads)
{
    iae_model *a = (iae_model *)m;
    if (ensure_rt(a, ds) != HC_OK)
        return NAN;
    double loss = iae_batch(a, items, n, stream);
    if (isnan(loss))
        return loss;
    if (grads)
        for (int k = 0; k < N_T; k++)
            memcpy(grads[k], a->g[k], (size_t)hc_tensor_len(&a->t[k]) * sizeof(float));
    clear_enc_grad(a, n);
    if (a->sampled) {
        hc_outsample_scatter(&a->os, a->g[DEC_W], a->g[DEC_B], 1);
        hc_outsample_end(&a->os);
    }
    return loss;
}

/* The encoder weight's Adam step: its gradient is non-zero only on the batch's input
 * columns. */
static int enc_step(iae_model *a, int32_t n)
{
    return hc_adam_table_step_dense(&a->adam, &a->enc_tab, a->g[ENC_W], a->col, a->ptr[n],
                                    &a->gather);
}

static int iae_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    iae_model *a = (iae_model *)m;
    const int32_t I = m->n_items;
    int rc = ensure_rt(a, ds);
    if (!rc)
        rc = train_state(a, m->hp.batch, 1);
    if (rc)
        return rc;
    for (int32_t i = 0; i < I; i++)
        a->order[i] = i;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0x1AE00000000ull + (uint64_t)epoch);
    hc_rng_shuffle_i32(&r, a->order, I);
    double sum = 0.0;
    int64_t step = 0;
    for (int32_t b0 = 0; b0 < I; b0 += m->hp.batch, step++) {
        int32_t nb = b0 + m->hp.batch < I ? m->hp.batch : I - b0;
        uint64_t stream = 0x1AE0000000000ull + ((uint64_t)epoch << 20) + (uint64_t)step;
        hc_adam_begin_step(&a->adam);
        a->stepping = 1;
        double l = iae_batch(a, a->order + b0, nb, stream);
        a->stepping = 0;
        if (isnan(l))
            return hc_error(HC_ENOMEM, "iae: out of memory");
        sum += l;
        if ((rc = enc_step(a, nb)) != HC_OK)
            return rc;
        for (int k = 0; k < N_T; k++)
            if (k != ENC_W && k != DEC_W && k != DEC_B)
                hc_adam_dense(&a->adam, a->t[k].data, a->g[k], a->am[k], a->av[k],
                              hc_tensor_len(&a->t[k]));
    }
    *loss = sum;
    return HC_OK;
}

static int iae_prepare(hc_model *m, const hc_dataset *ds)
{
    iae_model *a = (iae_model *)m;
    const int32_t I = m->n_items, h = a->h;
    int rc = ensure_rt(a, ds);
    if (rc)
        return rc;
    if (a->have_train) /* bring every encoder (and sampled decoder) row to the current step */
        hc_adam_table_flush(&a->adam, &a->enc_tab);
    if (a->have_train && a->sampled)
        hc_outsample_flush(&a->os, &a->adam);
    if (!a->H) {
        a->H = malloc((size_t)I * (size_t)h * sizeof(float));
        if (!a->H)
            return hc_error(HC_ENOMEM, "iae: out of memory for the item codes");
    }
    hc_nn_sparse x = {I, a->RT.indptr, a->RT.indices, a->ones};
    hc_nn_sparse_linear_fwd(&x, h, a->t[ENC_W].data, a->t[ENC_B].data, a->H);
    hc_nn_act_fwd(HC_ACT_SIGMOID, (int64_t)I * h, a->H, a->H);
    return HC_OK;
}

static int iae_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    iae_model *a = (iae_model *)m;
    const int32_t I = m->n_items, h = a->h;
    if (!a->H)
        return hc_error(HC_EINVAL, "iae: scoring before prepare");
    if (n > a->s_rows) {
        free(a->sW);
        a->sW = malloc((size_t)n * (size_t)h * sizeof(float));
        a->s_rows = a->sW ? n : 0;
        if (!a->sW)
            return hc_error(HC_ENOMEM, "iae: out of memory for scoring");
    }
    for (int32_t r = 0; r < n; r++)
        memcpy(a->sW + (int64_t)r * h, a->t[DEC_W].data + (int64_t)users[r] * h,
               (size_t)h * sizeof(float));
    int rc = hc_nn_gemm(0, 1, n, I, h, 1.0f, a->sW, h, a->H, h, 0.0f, out, I);
    if (rc)
        return rc;
    const float *bd = a->t[DEC_B].data;
#pragma omp parallel for schedule(static)
    for (int32_t r = 0; r < n; r++) {
        float b = bd[users[r]], *o = out + (int64_t)r * I;
        for (int32_t i = 0; i < I; i++)
            o[i] += b;
    }
    return HC_OK;
}

static int iae_tensors(hc_model *m, hc_tensor *out)
{
    iae_model *a = (iae_model *)m;
    for (int k = 0; k < N_T; k++)
        out[k] = a->t[k];
    return N_T;
}

static void iae_free(hc_model *m)
{
    iae_model *a = (iae_model *)m;
    for (int k = 0; k < N_T; k++) {
        free(a->t[k].data);
        free(a->g[k]);
        free(a->am[k]);
        free(a->av[k]);
    }
    hc_adam_table_free(&a->enc_tab);
    hc_adam_gather_free(&a->gather);
    hc_csr_free(&a->RT);
    free(a->ones);
    free(a->order);
    free(a->act);
    free(a->ptr);
    free(a->col);
    free(a->val);
    free(a->pptr);
    free(a->pcol);
    hc_outsample_free(&a->os);
    hc_nn_ws_free(&a->ws);
    free(a->H);
    free(a->sW);
}

const hc_model_type hc_model_iae = {
    .name = "iae",
    .title = "item autoencoder: an item's user vector, U-h(sigmoid)-U, binary cross-entropy",
    .version = 1,
    .params = "dim lr wd dropout batch seed out-samples out-proposal",
    .size = sizeof(iae_model),
    .defaults = iae_defaults,
    .init = iae_init,
    .train_epoch = iae_epoch,
    .prepare = iae_prepare,
    .score = iae_score,
    .tensors = iae_tensors,
    .shapes = iae_shapes,
    .free_fn = iae_free,
};
