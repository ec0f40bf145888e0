/*
 * toy.c - a seventh teacher family that is not shipped: it shows what adding a family takes
 * (this file and one registry line, HC_EXTRA_FAMILY in src/model/model.c), and the test
 * tests/toy/test_toy_family.sh checks that teacher --help, run --teachers, the report and the
 * model file pick it up. The model is an item bias trained with BPR: score(u, i) = b_i, per
 * (u, i, j): loss = softplus(b_j - b_i). O(train interactions) per epoch.
 */
#include <math.h>
#include <stdlib.h>

#include "model/model.h"
#include "optim/sampler.h"

typedef struct {
    hc_model base;
    float *bias; /* n_items */
    hc_epoch_samples samples;
} toy_model;

static void toy_defaults(hc_hparams *hp)
{
    hp->dim = 1;
    hp->lr = 0.05f;
}

static int toy_shapes(const hc_hparams *hp, int32_t n_users, int32_t n_items, hc_tensor *out)
{
    (void)hp;
    (void)n_users;
    out[0] = (hc_tensor){"item_bias", n_items, 1, NULL};
    return 1;
}

static int toy_init(hc_model *m, const hc_dataset *ds, int load)
{
    (void)ds;
    (void)load;
    toy_model *t = (toy_model *)m;
    t->bias = calloc((size_t)m->n_items, sizeof *t->bias);
    return t->bias ? HC_OK : hc_error(HC_ENOMEM, "toy: out of memory");
}

static int toy_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    toy_model *t = (toy_model *)m;
    int rc = hc_sample_epoch(ds, m->hp.seed, epoch, 1, &t->samples);
    if (rc != HC_OK)
        return rc;
    double sum = 0.0;
    for (int64_t k = 0; k < t->samples.n; k++) {
        float *bi = &t->bias[t->samples.pos[k]], *bj = &t->bias[t->samples.neg[k]];
        float x = *bi - *bj, s = 1.0f / (1.0f + expf(x)); /* sigma(-x) */
        sum += (double)(x > 0.0f ? log1pf(expf(-x)) : -x + log1pf(expf(x)));
        *bi += m->hp.lr * s;
        *bj -= m->hp.lr * s;
    }
    *loss = sum;
    return HC_OK;
}

static int toy_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    (void)users;
    toy_model *t = (toy_model *)m;
    for (int32_t k = 0; k < n; k++)
        for (int32_t i = 0; i < m->n_items; i++)
            out[(int64_t)k * m->n_items + i] = t->bias[i];
    return HC_OK;
}

static int toy_tensors(hc_model *m, hc_tensor *out)
{
    toy_shapes(&m->hp, m->n_users, m->n_items, out);
    out[0].data = ((toy_model *)m)->bias;
    return 1;
}

static void toy_free(hc_model *m)
{
    toy_model *t = (toy_model *)m;
    free(t->bias);
    hc_epoch_samples_free(&t->samples);
}

const hc_model_type hc_model_toy = {
    .name = "toy",
    .title = "item bias, BPR loss (a test family, not shipped)",
    .version = 1,
    .params = "lr seed",
    .size = sizeof(toy_model),
    .defaults = toy_defaults,
    .init = toy_init,
    .train_epoch = toy_epoch,
    .score = toy_score,
    .tensors = toy_tensors,
    .shapes = toy_shapes,
    .free_fn = toy_free,
};
