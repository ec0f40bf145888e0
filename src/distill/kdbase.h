/*
 * kdbase.h - what the ranking-distillation baselines (RD, CD, RRD, MTD, CL-DRD, DCD;
 * docs/method.md §10, docs/distillation.md) share, so that each method file holds only its
 * target construction and its loss.
 *
 * Every baseline trains the MF student on L = L_BPR + lambda * L_KD: BPR with one uniform
 * unobserved negative per train interaction (summed), the KD loss over the step's units (the
 * unique users of a batch of train interactions, and for item-side methods its unique
 * positive items), one dense Adam step (coupled L2) per batch over the combined gradient.
 * The teacher ranking is the ensemble of the teachers' final checkpoints (docs/method.md §3,
 * train items excluded), its top-K lists computed once, without sampling.
 *
 * A method's KD loss is a function of student scores only: for a unit the method builds a
 * target, a list of (user, item) pairs with per-pair values and parts, and its loss maps the
 * pairs' scores s = p_u . q_i to a loss and dL/ds. The base computes the scores, applies the
 * chain rule (dp_u += g q_i, dq_i += g p_u) and sums. Targets hold whatever is treated as
 * constant (sampled items, weights computed from the student's ranks, the current order), so
 * a finite-difference check of the loss at a fixed target checks the gradient the training
 * uses. Work per unit is O(pairs x d), never O(items), except where a method asks for the
 * student's full top lists (hc_kd_student_topk).
 *
 * Threading: a step's units are split over OpenMP threads in contiguous shares (only when
 * there are many); each thread records its units' (user, item, coefficient) triples, and the
 * triples are applied in unit order after the step, so the result does not depend on the
 * thread count. Randomness comes from one stream per (method, kind of draw, epoch, unit):
 * units sampled in several batches of an epoch see the same draws, a new epoch new ones.
 *
 * Ranks (docs/distributed.md): every rank draws the same epoch stream and takes the same
 * steps, but runs only the BPR triples of the users it owns (u % size == rank), the units it
 * owns (users and items alike) and the student's top lists of its own rows. Q's gradient is
 * summed onto owners of contiguous ranges of items (a reduce-scatter), each owner takes its
 * range's Adam step and the new rows are all-gathered, so every rank holds the same Q. P
 * likewise for item-side methods (an item unit reads any user's row); with user units only,
 * a user's gradient arises on its owner alone, so P is stepped locally and is right on the
 * owners (the loop gathers it at the end). A method's per-row state (CD's draws, DCD's sets,
 * MTD's gate and gated lists) is right on the row's owner, the only rank that reads it. One
 * rank is the serial code bit for bit.
 */
#ifndef HC_KDBASE_H
#define HC_KDBASE_H

#include "distill/distill.h"
#include "ensemble/ensemble.h"
#include "optim/adam.h"
#include "optim/sampler.h"

/* Longest list a listwise part takes (the Plackett-Luce piece of akt.h). */
#define HC_KD_MAX_LIST  512
#define HC_KD_MAX_PARTS 4

enum { HC_KD_USERS = 1, HC_KD_ITEMS = 2 };

/* A unit's KD target: pairs (u[k], i[k]) with values w[k], w2[k] (meaning per method), in
 * parts: part p is pairs [part[p], part[p + 1]). */
typedef struct {
    int32_t n, cap;
    int32_t *u, *i;
    float *w, *w2;
    int32_t n_parts;
    int32_t part[HC_KD_MAX_PARTS + 1];
    double extra_loss; /* loss outside the student's scores (MTD's teacher gate), reported */
} hc_kd_target;

/* Per-thread scratch. */
typedef struct {
    hc_kd_target t;
    float *s, *g;  /* scores and dL/ds of the target's pairs (t.cap) */
    int32_t *mark; /* max(U, I) stamps for membership tests (hc_kd_stamp) */
    int32_t *val;  /* max(U, I) values attached to marked entries */
    int32_t stamp;
    int32_t *ibuf; /* method buffers of buf_cap entries */
    float *fbuf;
    hc_ensemble_scratch es;
    int32_t *topk; /* hc_kd_student_topk's row output */
    int32_t topk_cap;
    /* the triples this thread's units produced in a step */
    int32_t *ou, *oi;
    float *og;
    int64_t on, ocap;
} hc_kd_scratch;

typedef struct hc_kd hc_kd;

/* A baseline's method: its target, its loss, and hooks. */
typedef struct {
    const char *name; /* random stream tag, error messages */
    int sides;        /* HC_KD_USERS, | HC_KD_ITEMS: the step's units */
    /* After the base has set up (lists, optimiser): checks the options, allocates the
     * method's state, sets kd->lambda, kd->tcap (most pairs of a target) and kd->buf_cap. */
    int (*init)(hc_kd *kd);
    /* Before an epoch's steps (may be NULL). */
    int (*begin_epoch)(hc_kd *kd, int32_t epoch);
    /* After each evaluation, with the student's top-50 lists (may be NULL). */
    int (*after_eval)(hc_kd *kd, int32_t epoch, const int32_t *top50);
    /* Fills t (emptied by the caller) for unit id of side, with s this thread's scratch. */
    int (*target)(hc_kd *kd, int side, int32_t id, hc_kd_scratch *s, hc_kd_target *t);
    /* The unscaled loss of t at pair scores s; dL/ds into g (zeroed by the caller). */
    double (*loss)(const hc_kd *kd, const hc_kd_target *t, const float *s, float *g);
    /* After each Adam step of the student (may be NULL): MTD's gate. */
    int (*after_step)(hc_kd *kd);
    void (*free_fn)(hc_kd *kd); /* may be NULL */
} hc_kd_method;

struct hc_kd {
    hc_distiller base; /* must be first */
    const hc_kd_method *m;
    const hc_dataset *ds;
    int32_t U, I, d, M, K;
    float lambda;    /* KD weight */
    int32_t epoch;   /* the current epoch */
    int32_t tcap;    /* most pairs of a target */
    int32_t buf_cap; /* entries of each thread's ibuf and fbuf */
    /* the teachers' final-checkpoint ensemble: U x K top lists, lengths and importances */
    hc_ensemble ens;
    int32_t *T, *nT;
    float *Timp;
    hc_csr train_t; /* train transposed (items x users), built on demand */
    /* optimiser and step state */
    hc_adam adam;
    float *mP, *vP, *mQ, *vQ, *gP, *gQ;
    hc_epoch_samples samples;
    int32_t *units;    /* a step's units: users, then items */
    double *unit_loss; /* their losses */
    int64_t *seen_u, *seen_i, step_tag;
    float *tg;        /* 3 x d: a BPR triple's gradients */
    uint64_t rng_tag; /* the method's random stream tag (hash of its name) */
    int n_threads;
    hc_kd_scratch *scr; /* n_threads */
    int rank, size;     /* ranks (docs/distributed.md): rows u, i with id % size == rank here */
    int *counts;        /* size: each rank's floats of a table it steps (several ranks) */
    float *gown;        /* this rank's rows of a summed gradient (several ranks) */
};

/* The distiller entry points every baseline's hc_distiller_type uses, with its method: the
 * method file's init calls hc_kd_init(d, &method); the others take the method from d. */
int hc_kd_init(hc_distiller *d, const hc_kd_method *m);
int hc_kd_epoch(hc_distiller *d, int32_t epoch, double *loss);
int hc_kd_after_eval(hc_distiller *d, int32_t epoch, const int32_t *top50);
void hc_kd_status(hc_distiller *d, hc_distill_status *st);
void hc_kd_free(hc_distiller *d);

/* Defines hc_distiller_<id> (listed in distill.c): method m, state struct of sz bytes
 * (hc_kd first), a one-line title, and the shared entry points; shares: 1 when the method
 * reads its own units' teacher lists only, so a rank may hold its users' share of them. */
#define HC_KD_DISTILLER(id, title_, sz, m, shares)                                                 \
    static int id##_distiller_init(hc_distiller *d)                                                \
    {                                                                                              \
        return hc_kd_init(d, &(m));                                                                \
    }                                                                                              \
    const hc_distiller_type hc_distiller_##id = {                                                  \
        .name = #id,                                                                               \
        .title = title_,                                                                           \
        .size = sz,                                                                                \
        .init = id##_distiller_init,                                                               \
        .epoch = hc_kd_epoch,                                                                      \
        .after_eval = hc_kd_after_eval,                                                            \
        .status = hc_kd_status,                                                                    \
        .free_fn = hc_kd_free,                                                                     \
        .shares_teachers = shares,                                                                 \
    }

/* The student's factor tables. */
float *hc_kd_P(const hc_kd *kd);
float *hc_kd_Q(const hc_kd *kd);

/* The student's score p_u . q_i (P, Q: hc_kd_P, hc_kd_Q; d factors). */
static inline float hc_kd_dot(const float *P, const float *Q, int32_t d, int32_t u, int32_t i)
{
    const float *p = P + (int64_t)u * d, *q = Q + (int64_t)i * d;
    float x = 0.0f;
    for (int32_t j = 0; j < d; j++)
        x += p[j] * q[j];
    return x;
}
float hc_kd_score(const hc_kd *kd, int32_t u, int32_t i);

/* A fresh stamp of s->mark (entries marked with earlier stamps read as unmarked). */
int32_t hc_kd_stamp(hc_kd_scratch *s);
/* The random stream of (method, purpose, epoch, unit id): purpose 0 is the rest sampler's
 * (hc_kd_list_and_rest), 1.. the method's own draws (one purpose per kind of draw). */
void hc_kd_rng(const hc_kd *kd, int purpose, int32_t epoch, int32_t id, hc_rng *r);

/* Appends pair (u, i) with values w, w2 to t (capacity: kd->tcap, checked by assert). */
void hc_kd_push(hc_kd_target *t, int32_t u, int32_t i, float w, float w2);
/* Closes the current part of t (the pairs pushed since the last close). */
void hc_kd_close_part(hc_kd_target *t);

/* Appends to t, as two parts, user u's ranked list (list[0..n), pairs (u, item)) and n_rest
 * items drawn uniformly, without repeats, from u's unobserved items outside excl[0..n_excl)
 * (the rest set of RRD's listwise loss), from stream (purpose 0, kd->epoch, u). */
void hc_kd_list_and_rest(const hc_kd *kd, int32_t u, const int32_t *list, int32_t n,
                         const int32_t *excl, int32_t n_excl, int32_t n_rest, hc_kd_scratch *s,
                         hc_kd_target *t);
/* The listwise loss of RRD (docs/method.md §10.4) summed over t's part pairs (0, 1), (2, 3), ...:
 * part 2j is a ranked list, part 2j + 1 its rest set,
 *   PL = - sum_k [ s_k - log( sum_{l >= k} exp(s_l) + sum_{j in rest} exp(s_j) ) ],
 * scores clamped to [-40, 40] (no gradient where the clamp is active). A loss function. */
double hc_kd_listwise_loss(const hc_kd *kd, const hc_kd_target *t, const float *s, float *g);

/* RRD's target (rrd.c), shared by MTD and DCD: checks rrd_k and rrd_l and sets kd->tcap to
 * rrd_k + rrd_l + extra_pairs; appends to t user u's list T[:rrd_k] and rrd_l rest items
 * outside T[0..n_t) (two parts, hc_kd_list_and_rest). */
int hc_kd_rrd_init(hc_kd *kd, int32_t extra_pairs);
void hc_kd_rrd_target(const hc_kd *kd, int32_t u, const int32_t *T, int32_t n_t, hc_kd_scratch *s,
                      hc_kd_target *t);

/* For each row of side this rank owns (every row on one rank; users: the student's scores over
 * items, train items masked; items: over users, users who trained on the item masked), fn(kd, side,
 * row, scores, n_cols, list, len, scratch) is called once per row from worker threads (rows in
 * parallel; fn must only write row-owned state), with scores the row (masked entries -INFINITY)
 * and, for n > 0, list[0..len) its top-n unmasked entries in descending score order (ties: smaller
 * index). With n = 0, list is NULL and s->topk has room for n_cols entries of working space. Scores
 * a block of rows at a time: memory O(block x columns). */
typedef int (*hc_kd_row_fn)(hc_kd *kd, int side, int32_t row, const float *scores, int32_t n_cols,
                            const int32_t *list, int32_t len, hc_kd_scratch *s);
int hc_kd_student_topk(hc_kd *kd, int side, int32_t n, hc_kd_row_fn fn);

/* Builds the target of unit (side, id) with thread scratch s (as a step does) into s->t. */
int hc_kd_unit_target(hc_kd *kd, int side, int32_t id, hc_kd_scratch *s);
/* The loss of target t at the student's current factors, unscaled; adds scale * dL/dP and
 * scale * dL/dQ into gP (U x d) and gQ (I x d) when not NULL. For tests and checks. */
double hc_kd_target_loss(const hc_kd *kd, const hc_kd_target *t, float scale, float *gP, float *gQ);

/* Method pieces the tests check on hand-made inputs. */

/* RD's weights w_r = w^a_r w^b_r (r = 1..n, docs/method.md §10.2): w^a_r = exp(-r / lambda) /
 * sum_{r' = 1..K} exp(-r' / lambda); with dynamic, w^b_r = max(0, tanh(mu (rhat_r - (r - 1))))
 * with rhat_r = floor((n_items - 1) * cnt[r - 1] / n_samples), cnt the number of sampled
 * items the student scores above the r-th listed item; else w^b = 1. */
void hc_kd_rd_weights(int32_t n, int32_t K, float lambda, float mu, int dynamic, const int32_t *cnt,
                      int32_t n_samples, int32_t n_items, float *w);
/* DCD's discrepancy sets for one user (or item), docs/method.md §10.7: teacher list tl[0..n_t)
 * and student list sl[0..n_s) (rank = position; an entry outside a list ranks
 * max(n_t, n_s)). Under-estimated: the entries of tl[:N] with r_S > r_T; over-estimated:
 * the entries of sl[:N] with r_T > r_S. When a set has more than n_max entries, n_max are
 * drawn from r without replacement with probability proportional to tanh(|r_S - r_T| / eps)
 * (Efraimidis-Spirakis keys); otherwise all are kept. under receives its entries in teacher
 * order and over in student order; returns the under count, *n_over the over count. Uses
 * s->mark and s->val over the ids. */
int32_t hc_kd_dcd_sets(const int32_t *tl, int32_t n_t, const int32_t *sl, int32_t n_s, int32_t N,
                       float eps, int32_t n_max, hc_rng *r, hc_kd_scratch *s, int32_t *under,
                       int32_t *over, int32_t *n_over);
/* MTD's gate (mtd.c): the U x M parameters theta (alpha_u = softmax(theta_u)) and their
 * gradient, which a user's target adds into. */
float *hc_kd_mtd_theta(hc_kd *kd);
float *hc_kd_mtd_gtheta(hc_kd *kd);

#endif
