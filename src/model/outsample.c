/*
 * outsample.c - the candidate lists, gathers and lazy Adam steps of the teachers' sampled
 * output layers (see outsample.h; the estimators are in docs/teachers.md §2). Serial: a list has
 * a few thousand entries, and serial building keeps it independent of the thread count.
 */
#include "model/outsample.h"

#include <stdlib.h>
#include <string.h>

/* Draws use their own RNG streams, so the family's dropout and noise streams are those of
 * the exact path. */
#define DRAW_STREAM (1ull << 60)

int hc_outsample_init(hc_outsample *o, int32_t S, hc_proposal_kind kind, const int32_t *deg,
                      int32_t units, int32_t width, float *W, float *b, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    if (S <= 0)
        return hc_error(HC_EINVAL, "sampled output layer: S must be > 0, got %d", S);
    o->S = S;
    o->units = units;
    o->width = width;
    o->seed = seed;
    int rc = hc_proposal_init_degrees(&o->prop, kind, deg, units, HC_OUTSAMPLE_POWER);
    if (!rc)
        rc = hc_adam_table_init(&o->tw, W, units, width);
    if (!rc)
        rc = hc_adam_table_init(&o->tb, b, units, 1);
    if (rc)
        return rc;
    o->slot = malloc((size_t)units * sizeof *o->slot);
    o->draw = malloc((size_t)S * sizeof *o->draw);
    o->dwt = malloc((size_t)S * sizeof *o->dwt);
    if (!o->slot || !o->draw || !o->dwt)
        return hc_error(HC_ENOMEM, "sampled output layer: out of memory for %d units", units);
    memset(o->slot, 0xff, (size_t)units * sizeof *o->slot);
    return HC_OK;
}

void hc_outsample_free(hc_outsample *o)
{
    hc_proposal_free(&o->prop);
    hc_adam_table_free(&o->tw);
    hc_adam_table_free(&o->tb);
    free(o->slot);
    free(o->cand);
    free(o->wt);
    free(o->Wc);
    free(o->bc);
    free(o->dWc);
    free(o->dbc);
    free(o->draw);
    free(o->dwt);
    free(o->key);
    memset(o, 0, sizeof *o);
}

/* Room for n candidates. */
static int reserve(hc_outsample *o, int64_t n)
{
    if (n <= o->cap)
        return HC_OK;
    if (n > INT32_MAX / 2)
        return hc_error(HC_EINVAL, "sampled output layer: %lld candidates", (long long)n);
    int32_t c = (int32_t)n * 2;
    free(o->cand);
    free(o->wt);
    free(o->Wc);
    free(o->bc);
    free(o->dWc);
    free(o->dbc);
    free(o->key);
    size_t rows = (size_t)c * (size_t)o->width * sizeof(float);
    o->cand = malloc((size_t)c * sizeof *o->cand);
    o->wt = malloc((size_t)c * sizeof *o->wt);
    o->Wc = malloc(rows);
    o->bc = malloc((size_t)c * sizeof *o->bc);
    o->dWc = malloc(rows);
    o->dbc = malloc((size_t)c * sizeof *o->dbc);
    o->key = malloc((size_t)c * sizeof *o->key);
    o->cap = o->cand && o->wt && o->Wc && o->bc && o->dWc && o->dbc && o->key ? c : 0;
    return o->cap ? HC_OK : hc_error(HC_ENOMEM, "sampled output layer: out of memory");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the list by unit (it is built in first-touch order) and re-points slot[]. */
static void sort_list(hc_outsample *o)
{
    for (int32_t c = 0; c < o->n; c++)
        o->key[c] = (uint64_t)(uint32_t)o->cand[c] << 32 | (uint32_t)c;
    qsort(o->key, (size_t)o->n, sizeof *o->key, cmp_u64);
    /* wt in the new order through the Wc buffer, free until the gather */
    float *w = o->Wc;
    for (int32_t c = 0; c < o->n; c++) {
        int32_t u = (int32_t)(o->key[c] >> 32);
        w[c] = o->wt[(uint32_t)o->key[c]];
        o->cand[c] = u;
        o->slot[u] = c;
    }
    memcpy(o->wt, w, (size_t)o->n * sizeof *w);
}

int hc_outsample_begin(hc_outsample *o, const int32_t *pos, int64_t npos, uint64_t stream,
                       const float *W, const float *b)
{
    int rc = reserve(o, npos + o->S);
    if (rc)
        return rc;
    o->n = 0;
    for (int64_t k = 0; k < npos; k++)
        if (o->slot[pos[k]] < 0) {
            o->slot[pos[k]] = o->n;
            o->wt[o->n] = 0.0f; /* marks a positive while drawing */
            o->cand[o->n++] = pos[k];
        }
    hc_rng r;
    hc_rng_init(&r, o->seed, DRAW_STREAM + stream);
    hc_proposal_draw(&o->prop, &r, o->S, o->draw, o->dwt);
    /* a draw that hits a positive is dropped (that term is exact); k draws of one unit count
     * once with k times the weight */
    for (int32_t j = 0; j < o->S; j++) {
        int32_t u = o->draw[j], c = o->slot[u];
        if (c < 0) {
            o->slot[u] = c = o->n++;
            o->cand[c] = u;
            o->wt[c] = o->dwt[j];
        } else if (o->wt[c] > 0.0f) {
            o->wt[c] += o->dwt[j];
        }
    }
    for (int32_t c = 0; c < o->n; c++)
        if (o->wt[c] == 0.0f)
            o->wt[c] = 1.0f;
    sort_list(o);
    const int32_t w = o->width;
    for (int32_t c = 0; c < o->n; c++) {
        memcpy(o->Wc + (int64_t)c * w, W + (int64_t)o->cand[c] * w, (size_t)w * sizeof(float));
        o->bc[c] = b[o->cand[c]];
    }
    return HC_OK;
}

void hc_outsample_chunk(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db)
{
    hc_outsample *o = ctx;
    memcpy(o->dWc + (int64_t)r0 * o->width, dW, (size_t)nr * (size_t)o->width * sizeof(float));
    memcpy(o->dbc + r0, db, (size_t)nr * sizeof(float));
}

int hc_outsample_step(hc_outsample *o, const hc_adam *a)
{
    int rc = hc_adam_table_step(a, &o->tw, o->dWc, o->cand, o->n);
    return rc ? rc : hc_adam_table_step(a, &o->tb, o->dbc, o->cand, o->n);
}

void hc_outsample_scatter(const hc_outsample *o, float *gW, float *gb, int zero)
{
    const int32_t w = o->width;
    for (int32_t c = 0; c < o->n; c++) {
        float *row = gW + (int64_t)o->cand[c] * w;
        if (zero)
            memset(row, 0, (size_t)w * sizeof(float));
        else
            memcpy(row, o->dWc + (int64_t)c * w, (size_t)w * sizeof(float));
        gb[o->cand[c]] = zero ? 0.0f : o->dbc[c];
    }
}

void hc_outsample_end(hc_outsample *o)
{
    for (int32_t c = 0; c < o->n; c++)
        o->slot[o->cand[c]] = -1;
    o->n = 0;
}

void hc_outsample_flush(hc_outsample *o, const hc_adam *a)
{
    hc_adam_table_flush(a, &o->tw);
    hc_adam_table_flush(a, &o->tb);
}
