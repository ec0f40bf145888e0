/*
 * proposal.h - item proposals for sampled losses: a distribution q over the catalog to draw
 * items from, with the importance weight 1 / (n q(i)) that makes a sum over n draws an
 * unbiased estimate of a sum over all items (docs/distillation.md, "Sampled rest sets").
 *
 * Two kinds: uniform, and popularity-proportional with add-one smoothing,
 * q(i) = (c_i + 1) / sum_j (c_j + 1) for c_i the item's train users, so every item keeps a
 * positive probability (the estimate stays unbiased). Draws are O(1) (Walker's alias
 * method); building costs O(items) time and 24 bytes per item.
 *
 * Stratified: a proposal may hold a head, the H most popular train items, which every set of
 * n draws contains once each with weight 1 (summed exactly), the other n - H drawn from q
 * restricted to the rest of the catalog with weights 1 / ((n - H) q'(i)). The head carries
 * most of a popularity-skewed sum, so its share of the estimate's variance goes
 * (docs/distillation.md, "Stratified draws"). Sorted draws take one item
 * from each slice of 1/n of the cumulative mass (the same expected counts, less spread),
 * which delivers them in item order, so the rows they gather and scatter are read forwards;
 * each costs a uniform and an inversion of the cumulative masses that a guide table starts
 * about one item from its answer.
 */
#ifndef HC_PROPOSAL_H
#define HC_PROPOSAL_H

#include "core/internal.h"

typedef enum { HC_PROPOSAL_UNIFORM = 0, HC_PROPOSAL_POPULARITY = 1 } hc_proposal_kind;

typedef struct {
    hc_proposal_kind kind;
    int32_t n_items;
    float *prob;    /* n_items: q(i) (popularity only) */
    float *cut;     /* n_items: alias threshold (popularity only) */
    int32_t *alias; /* n_items: alias item (popularity only) */
    double *cdf;    /* n_items: cumulative q, the last exactly 1 (popularity only) */
    int32_t *guide; /* n_items: the first item of cdf > b / n_items (popularity only) */
    int32_t n_head; /* H: items every draw set holds exactly (0: none) */
    int32_t *head;  /* H: those items, ascending */
} hc_proposal;

/* Builds the proposal over ds's items from its train matrix. HC_ENOMEM, HC_EINVAL. */
int hc_proposal_init(hc_proposal *p, hc_proposal_kind kind, const hc_dataset *ds);
/* A popularity-kind proposal with q(i) = mass[i] / sum(mass) (every mass[i] > 0). */
int hc_proposal_init_mass(hc_proposal *p, const double *mass, int32_t n_items);
/* A proposal over any n units (items, or users for a user-side loss): uniform, or
 * q(i) proportional to (deg[i] + 1)^power, add-one smoothed as above (the teachers' sampled
 * output layers use power 0.75, docs/teachers.md §2). */
int hc_proposal_init_degrees(hc_proposal *p, hc_proposal_kind kind, const int32_t *deg, int32_t n,
                             double power);
/* hc_proposal_init's proposal with a head of the n_head most popular train items (ties to
 * the lower id) and the rest drawn from kind's q restricted to the others; n_head 0 is
 * hc_proposal_init. Draw sets must then be larger than n_head. HC_ENOMEM, HC_EINVAL. */
int hc_proposal_init_head(hc_proposal *p, hc_proposal_kind kind, const hc_dataset *ds,
                          int32_t n_head);
void hc_proposal_free(hc_proposal *p);
/* Parses "uniform" or "pop"; HC_EINVAL otherwise. */
int hc_proposal_kind_parse(const char *s, hc_proposal_kind *out);
const char *hc_proposal_kind_name(hc_proposal_kind k);

/* Draws n items with replacement into items and their weights 1 / (n q(item)) into w (with a
 * head: the head items first, weight 1, then n - H draws from the rest). */
void hc_proposal_draw(const hc_proposal *p, hc_rng *r, int32_t n, int32_t *items, float *w);
/* n stratified draws and their weights 1 / (n q(item)), in ascending item order: draw j
 * inverts a uniform on [j / n, (j + 1) / n) of the cumulative proposal, so an item of mass q
 * is drawn n q times in expectation, as by hc_proposal_draw, with less spread (a head merged
 * in). u is n doubles of scratch; it is left holding the uniforms. */
void hc_proposal_draw_sorted(const hc_proposal *p, hc_rng *r, int32_t n, int32_t *items, float *w,
                             double *u);

#endif
