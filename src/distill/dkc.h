/*
 * dkc.h - dynamic knowledge construction (docs/method.md §6): the discrepancy between the
 * student's ranking and a teacher snapshot, and the per-(teacher, user) checkpoint moves.
 */
#ifndef HC_DKC_H
#define HC_DKC_H

#include "optim/proposal.h"
#include "traj/trajectory.h"

#define HC_DKC_DEPTH 50

typedef struct {
    int32_t M, U;
    int32_t *v;   /* M x U checkpoint per (teacher, user) */
    double *last; /* M x U distance recorded at the last move */
    const hc_traj *const *traj;
    int rank, size; /* the users covered: u % size == rank (size 0 or 1: every user) */
} hc_dkc_state;

/* dist = 1 - sum_t 1[s_t in S] g_t / log2(t+2) / sum_t g_t / log2(t+2), t < 50, with
 * g_t = 2^(exp(-t/10)) - 1: s is the student's top list (n_s <= 50 items, position = t), S
 * the snapshot's first 50 items used as a set. mark (n_items ints) must hold no value equal
 * to stamp; stamp must be unique per call (the function marks S with it). Entries of s below
 * zero are positions held by no item (padding, or an estimated list's gaps). */
double hc_dkc_dist(const int32_t *s, int32_t n_s, const int32_t *snap, int32_t n_snap,
                   int32_t *mark, int32_t stamp);

/* First DKC call: last = dist(student, snapshot v+1) for every pair with a next snapshot. */
int hc_dkc_record(hc_dkc_state *st, const int32_t *top50);
/* Later calls: every pair with v below its last checkpoint moves when last/now > th,
 * last/now < 1 or now == 0; a moved pair records last = dist(student, snapshot min(v+1, C-1)).
 * *moved receives the number of moves (of the users covered). top50: n_users x 50, -1 padded
 * (only the covered users' rows are read). */
int hc_dkc_step(hc_dkc_state *st, const int32_t *top50, double th, int *moved);

/* The estimated student top-50 for DKC at catalog scale (docs/distillation.md, "DKC at
 * scale"): the exact rule ranks every item for every user, O(users x items x d); only the
 * positions of the snapshots' items matter to dist, so each user ranks just the candidates
 * C_u (the first 50 items of every snapshot the next moves compare: v+1 and v+2 per
 * teacher) and estimates how many other unobserved items outrank each of them from n_draws
 * draws of prop (importance-weighted counts). Candidate r (by descending score) goes to
 * position max(previous + 1, r + round(estimated items above)); the other positions hold -1.
 * Cost O(users x (|C_u| + n_draws) x d), independent of the catalog's size. */
typedef struct {
    const float *P, *Q; /* the student's factors (U x d, I x d) */
    int32_t d;
    const hc_csr *train;
    const hc_proposal *prop;
    int32_t n_draws;
    uint64_t seed; /* the draws of user u come from the stream (seed, u) */
} hc_dkc_sampled_ranks;
int hc_dkc_estimate_top(const hc_dkc_state *st, const hc_dkc_sampled_ranks *sr, int32_t *top50);

#endif
