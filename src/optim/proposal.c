/*
 * proposal.c - uniform and popularity item proposals (see proposal.h). The popularity one is
 * Walker's alias table built by Vose's two-stack method: O(items) once, O(1) per draw (one
 * uniform integer, one uniform float). Sorted draws read the cumulative masses instead. A
 * head costs a sort of the items by popularity once and H copies a draw set.
 */
#include "optim/proposal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hc_proposal_kind_parse(const char *s, hc_proposal_kind *out)
{
    if (!strcmp(s, "uniform"))
        *out = HC_PROPOSAL_UNIFORM;
    else if (!strcmp(s, "pop"))
        *out = HC_PROPOSAL_POPULARITY;
    else
        return hc_error(HC_EINVAL, "unknown proposal '%s' (uniform or pop)", s);
    return HC_OK;
}

const char *hc_proposal_kind_name(hc_proposal_kind k)
{
    return k == HC_PROPOSAL_POPULARITY ? "pop" : "uniform";
}

/* Vose's method: items with scaled mass n q below 1 are topped up by one item above 1. */
/* guide[b] = the first item whose cumulative mass exceeds b / n (Chen and Asau's guide table):
 * the inversion of a uniform u starts at guide[floor(u n)] and scans on about one item. */
static void build_guide(hc_proposal *p)
{
    const int32_t n = p->n_items;
    int32_t i = 0;
    for (int32_t b = 0; b < n; b++) {
        const double x = (double)b / (double)n;
        while (i < n - 1 && p->cdf[i] <= x)
            i++;
        p->guide[b] = i;
    }
}

static int build_alias(hc_proposal *p, const double *mass, double total)
{
    int32_t n = p->n_items, *small = malloc((size_t)n * sizeof *small),
            *large = malloc((size_t)n * sizeof *large);
    double *scaled = malloc((size_t)n * sizeof *scaled);
    if (!small || !large || !scaled) {
        free(small);
        free(large);
        free(scaled);
        return hc_error(HC_ENOMEM, "proposal: out of memory for %d items", n);
    }
    int32_t ns = 0, nl = 0, last = 0; /* last: the last item of positive mass */
    double run = 0.0;
    for (int32_t i = 0; i < n; i++) {
        last = mass[i] > 0.0 ? i : last;
        p->prob[i] = (float)(mass[i] / total);
        scaled[i] = mass[i] / total * n;
        run += mass[i];
        p->cdf[i] = run / total;
        if (scaled[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        int32_t s = small[--ns], l = large[nl - 1];
        p->cut[s] = (float)scaled[s];
        p->alias[s] = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    for (int32_t i = last; i < n; i++)
        p->cdf[i] = 1.0; /* so every uniform in [0, 1) finds an item of positive mass */
    build_guide(p);
    /* what is left has mass 1 up to rounding */
    while (nl > 0) {
        int32_t l = large[--nl];
        p->cut[l] = 1.0f;
        p->alias[l] = l;
    }
    while (ns > 0) { /* a head item (mass 0) always passes to an item that has mass */
        int32_t s = small[--ns];
        p->cut[s] = mass[s] > 0.0 ? 1.0f : 0.0f;
        p->alias[s] = mass[s] > 0.0 ? s : last;
    }
    free(small);
    free(large);
    free(scaled);
    return HC_OK;
}

/* The popularity-kind tables for masses >= 0 of positive total (zeros: a head's items). */
static int init_masses(hc_proposal *p, const double *mass, int32_t n, double total)
{
    p->prob = malloc((size_t)n * sizeof *p->prob);
    p->cut = malloc((size_t)n * sizeof *p->cut);
    p->alias = malloc((size_t)n * sizeof *p->alias);
    p->cdf = malloc((size_t)n * sizeof *p->cdf);
    p->guide = malloc((size_t)n * sizeof *p->guide);
    int rc = p->prob && p->cut && p->alias && p->cdf && p->guide
                 ? build_alias(p, mass, total)
                 : hc_error(HC_ENOMEM, "proposal: out of memory for %d items", n);
    if (rc)
        hc_proposal_free(p);
    return rc;
}

int hc_proposal_init_mass(hc_proposal *p, const double *mass, int32_t n)
{
    memset(p, 0, sizeof *p);
    p->kind = HC_PROPOSAL_POPULARITY;
    p->n_items = n;
    double total = 0.0;
    for (int32_t i = 0; i < n; i++) {
        if (!(mass[i] > 0.0))
            return hc_error(HC_EINVAL, "proposal: item %d has mass %g, not > 0", i, mass[i]);
        total += mass[i];
    }
    if (n <= 0)
        return hc_error(HC_EINVAL, "proposal: no items");
    return init_masses(p, mass, n, total);
}

/* Train users per item of ds, or NULL (HC_ENOMEM reported). */
static int32_t *item_counts(const hc_dataset *ds)
{
    int32_t *c = calloc((size_t)ds->n_items, sizeof *c);
    if (!c) {
        hc_error(HC_ENOMEM, "proposal: out of memory for %d items", ds->n_items);
        return NULL;
    }
    for (int64_t k = 0; k < ds->train.nnz; k++)
        c[ds->train.indices[k]]++;
    return c;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The n_head items of most train users (ties to the lower id), ascending, or NULL. */
static int32_t *pick_head(const int32_t *count, int32_t n, int32_t n_head)
{
    int64_t *key = malloc((size_t)n * sizeof *key); /* most users first, then the lower id */
    int32_t *head = malloc((size_t)n_head * sizeof *head);
    if (key && head) {
        for (int32_t i = 0; i < n; i++)
            key[i] = ((int64_t)(INT32_MAX - count[i]) << 32) | i;
        qsort(key, (size_t)n, sizeof *key, cmp_i64);
        for (int32_t j = 0; j < n_head; j++)
            head[j] = (int32_t)(key[j] & 0xFFFFFFFF);
        qsort(head, (size_t)n_head, sizeof *head, cmp_i32);
    } else {
        free(head);
        head = NULL;
        hc_error(HC_ENOMEM, "proposal: out of memory for %d items", n);
    }
    free(key);
    return head;
}

int hc_proposal_init_head(hc_proposal *p, hc_proposal_kind kind, const hc_dataset *ds,
                          int32_t n_head)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->n_items = ds->n_items;
    if (ds->n_items <= 0)
        return hc_error(HC_EINVAL, "proposal: the dataset has no items");
    if (n_head < 0 || n_head >= ds->n_items)
        return hc_error(HC_EINVAL, "proposal: a head of %d of %d items", n_head, ds->n_items);
    if (kind == HC_PROPOSAL_UNIFORM && n_head == 0)
        return HC_OK;
    int32_t *count = item_counts(ds), *head = NULL;
    double *mass = malloc((size_t)ds->n_items * sizeof *mass);
    int rc = count && mass ? HC_OK : hc_error(HC_ENOMEM, "proposal: out of memory");
    if (rc == HC_OK && n_head > 0 && !(head = pick_head(count, ds->n_items, n_head)))
        rc = HC_ENOMEM;
    if (rc == HC_OK) {
        double total = 0.0;
        for (int32_t i = 0; i < ds->n_items; i++)
            total += mass[i] = kind == HC_PROPOSAL_POPULARITY ? count[i] + 1.0 : 1.0;
        for (int32_t j = 0; j < n_head; j++) {
            total -= mass[head[j]];
            mass[head[j]] = 0.0;
        }
        if ((rc = init_masses(p, mass, ds->n_items, total)) == HC_OK) {
            p->head = head;
            p->n_head = n_head;
            head = NULL;
        }
    }
    free(head);
    free(count);
    free(mass);
    return rc;
}

int hc_proposal_init(hc_proposal *p, hc_proposal_kind kind, const hc_dataset *ds)
{
    return hc_proposal_init_head(p, kind, ds, 0);
}

int hc_proposal_init_degrees(hc_proposal *p, hc_proposal_kind kind, const int32_t *deg, int32_t n,
                             double power)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->n_items = n;
    if (n <= 0)
        return hc_error(HC_EINVAL, "proposal: no units to draw from");
    if (kind == HC_PROPOSAL_UNIFORM)
        return HC_OK;
    double *mass = malloc((size_t)n * sizeof *mass);
    if (!mass)
        return hc_error(HC_ENOMEM, "proposal: out of memory for %d units", n);
    for (int32_t i = 0; i < n; i++)
        mass[i] = pow((double)deg[i] + 1.0, power);
    int rc = hc_proposal_init_mass(p, mass, n);
    free(mass);
    return rc;
}

void hc_proposal_free(hc_proposal *p)
{
    free(p->prob);
    free(p->cut);
    free(p->alias);
    free(p->cdf);
    free(p->guide);
    free(p->head);
    memset(p, 0, sizeof *p);
}

/* n draws from q (the rest of the catalog's, with a head), weights 1 / (n q(item)). */
static void draw_from(const hc_proposal *p, hc_rng *r, int32_t n, int32_t *items, float *w)
{
    const uint32_t ni = (uint32_t)p->n_items;
    if (!p->cdf) { /* uniform over the whole catalog */
        const float wu = (float)ni / (float)n;
        for (int32_t j = 0; j < n; j++) {
            items[j] = (int32_t)hc_rng_below(r, ni);
            w[j] = wu;
        }
        return;
    }
    for (int32_t j = 0; j < n; j++) {
        int32_t i = (int32_t)hc_rng_below(r, ni);
        if (hc_rng_float(r) >= p->cut[i])
            i = p->alias[i];
        items[j] = i;
        w[j] = 1.0f / ((float)n * p->prob[i]);
    }
}

/* Fills u[0..n) with one uniform per slice: u[j] uniform on [j / n, (j + 1) / n), so they
 * come sorted (no log, no sort) and every slice of 1/n of the proposal's mass gets one draw
 * (docs/distillation.md, "Sampled rest sets"). */
static void sliced_uniforms(hc_rng *r, int32_t n, double *u)
{
    for (int32_t j = 0; j < n; j++) {
        double v = ((double)j + hc_rng_double(r)) / (double)n;
        u[j] = v < 1.0 ? v : nextafter(1.0, 0.0); /* j + x may round up to n */
    }
}

/* The first item at or after lo whose cumulative mass exceeds u (lo is at or below it): from
 * the guide table's entry for u, stepping back when rounding of u n put it one bucket late. */
static int32_t cdf_search(const hc_proposal *p, int32_t lo, double u)
{
    const int32_t n = p->n_items;
    const double *cdf = p->cdf;
    int32_t b = (int32_t)(u * (double)n);
    b = b < n ? b : n - 1;
    int32_t i = p->guide[b] > lo ? p->guide[b] : lo;
    while (i > lo && cdf[i - 1] > u)
        i--;
    while (i < n - 1 && cdf[i] <= u)
        i++;
    return i;
}

void hc_proposal_draw(const hc_proposal *p, hc_rng *r, int32_t n, int32_t *items, float *w)
{
    for (int32_t j = 0; j < p->n_head; j++) {
        items[j] = p->head[j];
        w[j] = 1.0f;
    }
    draw_from(p, r, n - p->n_head, items + p->n_head, w + p->n_head);
}

#define DRAW_AHEAD 16

/* The cache lines cdf_search will read for uniform u far ahead (its guide entry) and for u
 * nearer (the masses the entry points at, already loaded). */
static inline void prefetch_search(const hc_proposal *p, double far, double near)
{
    const int32_t n = p->n_items;
    int32_t bf = (int32_t)(far * (double)n), bn = (int32_t)(near * (double)n);
    __builtin_prefetch(p->guide + (bf < n ? bf : n - 1));
    int32_t i = p->guide[bn < n ? bn : n - 1];
    __builtin_prefetch(p->cdf + i);
    __builtin_prefetch(p->prob + i);
}

static void draw_sorted_from(const hc_proposal *p, hc_rng *r, int32_t n, int32_t *items, float *w,
                             double *u)
{
    const int32_t ni = p->n_items;
    sliced_uniforms(r, n, u);
    int32_t at = 0;
    for (int32_t j = 0; j < n; j++) {
        if (p->cdf && j + DRAW_AHEAD < n) /* the draws' table lines miss the cache: ask early */
            prefetch_search(p, u[j + DRAW_AHEAD], u[j + DRAW_AHEAD / 2]);
        if (!p->cdf) {
            at = (int32_t)(u[j] * (double)ni);
            at = at < ni ? at : ni - 1;
            w[j] = (float)ni / (float)n;
        } else {
            at = cdf_search(p, at, u[j]);
            w[j] = 1.0f / ((float)n * p->prob[at]);
        }
        items[j] = at;
    }
}

/* Merges the head (weight 1) into the n - H sorted draws at items[H..n). From the front, the
 * write at a + b - H never passes the next unread draw b; draws never hit the head. */
static void merge_head(const hc_proposal *p, int32_t n, int32_t *items, float *w)
{
    const int32_t H = p->n_head;
    for (int32_t a = 0, b = H, k = 0; a < H; k++)
        if (b < n && items[b] < p->head[a]) {
            items[k] = items[b];
            w[k] = w[b++];
        } else {
            items[k] = p->head[a++];
            w[k] = 1.0f;
        }
}

void hc_proposal_draw_sorted(const hc_proposal *p, hc_rng *r, int32_t n, int32_t *items, float *w,
                             double *u)
{
    draw_sorted_from(p, r, n - p->n_head, items + p->n_head, w + p->n_head, u);
    if (p->n_head > 0)
        merge_head(p, n, items, w);
}
