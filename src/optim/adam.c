/*
 * adam.c - dense and row-sparse Adam steps (see adam.h). The per-element update is
 *   g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 *   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * which is torch.optim.Adam's (eps added after the bias-corrected square root).
 */
#include "optim/adam.h"

#include <math.h>

void hc_adam_init(hc_adam *a, float lr, float wd)
{
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->wd = wd;
    a->t = 0;
}

void hc_adam_begin_step(hc_adam *a)
{
    a->t++;
}

static inline void adam_one(const hc_adam *a, float c1, float c2, float *w, float g, float *m,
                            float *v)
{
    g += a->wd * *w;
    *m = a->beta1 * *m + (1.0f - a->beta1) * g;
    *v = a->beta2 * *v + (1.0f - a->beta2) * g * g;
    *w -= a->lr * (*m * c1) / (sqrtf(*v * c2) + a->eps);
}

/* 1/(1-b1^t) and 1/(1-b2^t), computed in double for accuracy at small t. */
static void corrections(const hc_adam *a, float *c1, float *c2)
{
    double t = (double)a->t;
    *c1 = (float)(1.0 / (1.0 - pow((double)a->beta1, t)));
    *c2 = (float)(1.0 / (1.0 - pow((double)a->beta2, t)));
}

void hc_adam_dense(const hc_adam *a, float *w, const float *g, float *m, float *v, int64_t n)
{
    float c1, c2;
    corrections(a, &c1, &c2);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        adam_one(a, c1, c2, &w[i], g[i], &m[i], &v[i]);
}

void hc_adam_rows(const hc_adam *a, float *W, const float *G, float *M, float *V, int32_t dim,
                  const int32_t *rows, int32_t nrows)
{
    float c1, c2;
    corrections(a, &c1, &c2);
#pragma omp parallel for schedule(static) if ((int64_t)nrows * dim > 65536)
    for (int32_t r = 0; r < nrows; r++) {
        int64_t off = (int64_t)rows[r] * dim;
        const float *g = G + (int64_t)r * dim;
        for (int32_t j = 0; j < dim; j++)
            adam_one(a, c1, c2, &W[off + j], g[j], &M[off + j], &V[off + j]);
    }
}
