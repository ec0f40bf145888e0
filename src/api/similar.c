/*
 * similar.c - the items most like given items under a model's item factors (cosine or inner
 * product), for the public hc_similar_items and the server's GET /v1/similar (similar.h).
 * A batch of n items costs O(items x dim) for the norms plus O(n x items x dim) for the
 * scores and O(n x items log k) for the selection; memory O(items) per thread.
 */
#include "api/similar.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"
#include "model/model.h"

int hc_item_factors(hc_model *m, int32_t n_items, const float **f, int32_t *dim)
{
    hc_tensor ts[HC_MAX_TENSORS];
    int n = m->type->tensors(m, ts);
    *f = NULL;
    for (int t = 0; t < n; t++) {
        if (strcmp(ts[t].name, "item_factors") != 0 || ts[t].rows != n_items)
            continue;
        *f = ts[t].data;
        *dim = ts[t].cols;
        return 1;
    }
    return 0;
}

void hc_item_inv_norms(const float *f, int32_t n_items, int32_t dim, float *out)
{
    for (int32_t i = 0; i < n_items; i++) {
        const float *q = f + (size_t)i * (size_t)dim;
        double s = 0.0;
        for (int32_t c = 0; c < dim; c++)
            s += (double)q[c] * (double)q[c];
        out[i] = s > 0.0 ? (float)(1.0 / sqrt(s)) : 0.0f;
    }
}

void hc_similar_scores(const float *f, const float *inv_norm, int32_t n_items, int32_t dim,
                       int32_t i, float *buf)
{
    const float *q = f + (size_t)i * (size_t)dim;
    hc_sgemv(0, n_items, dim, 1.0f, f, dim, q, 0.0f, buf);
    if (inv_norm) {
        const float a = inv_norm[i];
        for (int32_t j = 0; j < n_items; j++)
            buf[j] *= a * inv_norm[j];
    }
    buf[i] = -INFINITY;
}

/* Checks the arguments of hc_similar_items; *cosine receives the metric. */
static int check_args(const int32_t *items, int32_t n, int32_t k, const char *metric,
                      int32_t n_items, int *cosine)
{
    if (metric && strcmp(metric, "cosine") != 0 && strcmp(metric, "dot") != 0)
        return hc_error(HC_EINVAL, "similar: metric must be cosine or dot, got '%s'", metric);
    *cosine = !metric || !strcmp(metric, "cosine");
    if (n < 0 || k < 1 || (n > 0 && !items))
        return hc_error(HC_EINVAL, "similar: %d items and k = %d (need n >= 0, k >= 1)", n, k);
    for (int32_t q = 0; q < n; q++)
        if (items[q] < 0 || items[q] >= n_items)
            return hc_error(HC_EINVAL, "similar: item %d (position %d) is outside the %d items",
                            items[q], q, n_items);
    return HC_OK;
}

/* One query's top k into its rows of the outputs, padded. */
static void one_query(const float *f, const float *inv, int32_t n_items, int32_t dim, int32_t i,
                      int32_t k, float *buf, int32_t *top, float *val)
{
    hc_similar_scores(f, inv, n_items, dim, i, buf);
    int32_t got = hc_topk(buf, n_items, k, top, val);
    for (int32_t r = got; r < k; r++) {
        top[r] = -1;
        val[r] = -INFINITY;
    }
}

int hc_similar_items(hc_model *m, const int32_t *items, int32_t n, int32_t k, const char *metric,
                     int32_t *out_items, float *out_scores)
{
    const int32_t n_items = hc_model_n_items(m);
    const float *f;
    int32_t dim = 0;
    int cosine;
    int rc = check_args(items, n, k, metric, n_items, &cosine);
    if (rc != HC_OK)
        return rc;
    if (!hc_item_factors(m, n_items, &f, &dim))
        return hc_error(HC_EINVAL,
                        "similar: a %s model has no item factors (mf, ml and students "
                        "have)",
                        hc_model_family(m));
    const int nt = n > 1 ? omp_get_max_threads() : 1;
    float *inv = cosine ? malloc((size_t)n_items * sizeof *inv) : NULL;
    float *buf = malloc((size_t)nt * (size_t)n_items * sizeof *buf);
    /* Selection wants k slots per query for both lists even when the caller skips some. */
    int32_t *top = out_items ? NULL : malloc((size_t)nt * (size_t)k * sizeof *top);
    float *val = out_scores ? NULL : malloc((size_t)nt * (size_t)k * sizeof *val);
    if (!buf || (cosine && !inv) || (!out_items && !top) || (!out_scores && !val)) {
        rc = hc_error(HC_ENOMEM, "similar: out of memory");
    } else {
        if (inv)
            hc_item_inv_norms(f, n_items, dim, inv);
#pragma omp parallel for schedule(dynamic, 16) num_threads(nt)
        for (int32_t q = 0; q < n; q++) {
            const int t = omp_get_thread_num();
            one_query(f, inv, n_items, dim, items[q], k, buf + (size_t)t * (size_t)n_items,
                      out_items ? out_items + (size_t)q * (size_t)k : top + (size_t)t * (size_t)k,
                      out_scores ? out_scores + (size_t)q * (size_t)k
                                 : val + (size_t)t * (size_t)k);
        }
    }
    free(inv);
    free(buf);
    free(top);
    free(val);
    return rc;
}
