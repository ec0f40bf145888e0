/*
 * akt_sampled.h - a training step of HetComp's losses with sampled rest sets
 * (docs/distillation.md, "Sampled rest sets"): S items drawn from a proposal for each group
 * of G consecutive users of a step serve every rest-set term of those users (distill/akt.h,
 * hc_akt_shared_user). The groups go to OpenMP threads as the threads come free, each
 * group's gradients (its draws' d x S, its users' listed items') into a record of its own;
 * then chunks of the catalog sum the records' gradients of their items in group order and
 * step them. A step costs O(users x (list + S) x d + groups x (S + items / 1024) + items /
 * 64), never O(items x d) per user, and its result does not depend on the thread count. The
 * parameters move by lazy Adam (optim/adam.h, hc_adam_table): only the rows a step touched,
 * the others catching up in closed form when next touched. Memory: the proposal (24 bytes an
 * item), the Adam moments, per thread 3 bits an item (the draws' bitmap and its words' ranks)
 * and a chunk's gradients (1,024 x d floats), at several threads a copy of Q each, and per
 * step's group 4 (1 + d) S bytes and 4 (1 + d) bytes a listed item.
 * Under MPI (docs/distributed.md) a step's users are the rank's own; the touched items are
 * or-reduced as a bitmap (I / 8 bytes), their gradients packed (n_touched x d floats) and
 * summed onto the items' owners (contiguous ranges), each owner steps its own, and the new
 * rows are gathered back, so every rank holds the same Q and the items' Adam moments only
 * for its own; memory then adds 12 bytes, a bit and 2 d floats an item (the step's gradients
 * of every item, and their pack).
 */
#ifndef HC_AKT_SAMPLED_H
#define HC_AKT_SAMPLED_H

#include "distill/akt.h"
#include "optim/adam.h"
#include "optim/proposal.h"

/* One thread's draws for its current group of users (the items are the group record's), and
 * the gradients of its current chunk of the item phase. */
typedef struct {
    uint64_t *drawn;       /* (I + 63) / 64: the group's drawn items (0 outside) */
    int32_t *rank, *start; /* (I + 63) / 64, S + 1: akt.h's hc_akt_shared_draws */
    float *w, *Qt;         /* S, d x S */
    double *u;             /* S: the sorted draws' uniforms */
    float *cq;             /* 1,024 x d: the chunk's item gradients (zero outside a chunk) */
    uint64_t cmark[16];    /* the chunk's items with a gradient, a bit each */
} hc_akt_drawset;

typedef struct {
    int32_t U, I, d, S, G, n_threads;
    uint64_t seed;
    const hc_proposal *prop;
    float *Q; /* the student's item factors (I x d) */
    /* several threads on one rank: each thread's copy of Q, which its users read (rows the
     * other cores wrote last step missed the cache one by one), brought up to date at the
     * start of each step from touched (the last step's items with a gradient, a bit each) */
    float **Qr;           /* n_threads x (I x d), or NULL */
    uint64_t *touched;    /* words */
    int replicas_stale;   /* Q was changed outside a step (set by flush): copy it whole */
    hc_adam_table tP, tQ; /* lazy Adam over P and over Q's rows own_lo..own_hi-1 */
    hc_adam_gap **gcache; /* n_threads: each thread's cache of Adam gap coefficients */
    float *gP;            /* U x d: the users' gradients, zero outside a step */
    float *dQ;            /* several ranks: I x d, the step's item gradients (zero outside) */
    uint64_t *mark;       /* several ranks: words, the items the step touched, a bit each */
    int32_t words;        /* (I + 63) / 64 */
    int32_t n_chunks;     /* chunks of the item phase (1,024 items each) */
    int32_t step;         /* steps taken: the draws' streams */
    /* the step's group records: group g's draws (sorted), their gradients (the kernel's
     * tiles), and where each chunk's items start among them and among its entries */
    int32_t *g_items, *g_doff, *g_eoff; /* groups x S, groups x (chunks + 1) twice */
    float *g_dq;                        /* groups x dq_len */
    /* the step's listed-item gradients: user k's at [e_at[k], e_at[k + 1]) */
    int32_t *e_at, *e_item;     /* max_users + 1; e_cap: the item (-1: none) */
    float *e_coef;              /* e_cap: its coefficient */
    int32_t *e_sitem, *e_suser; /* e_cap: the nonzero entries sorted by chunk: item, user k */
    float *e_scoef;             /* e_cap: and coefficient */
    float *u_p;                 /* max_users x d: the step's users' rows of P before its steps */
    int64_t e_cap;
    /* several ranks (docs/distributed.md): the touched items' packed gradients, summed onto
     * their owners (rank r owns a contiguous range of whole words of items) */
    int ranks, rank;                        /* 0, 0 on one rank */
    int32_t own_lo, own_hi;                 /* this rank's items (0, I on one rank) */
    int32_t *run_start, *run_len, *run_off; /* I each: runs of consecutive touched items */
    int32_t *seg_run;                       /* ranks + 1: each owner's first run */
    int *counts;                            /* ranks: each owner's floats in the pack */
    float *gbuf, *gown; /* I x d: the pack (gradients, then new rows); own items x d: sums */
    int32_t n_rows;
    int64_t n_reduced, rows_reduced; /* steps reduced over ranks, their touched items summed */
    hc_akt_drawset *ds;              /* n_threads */
    int64_t dq_len;                  /* floats of a group's draw gradients (whole tiles) */
    unsigned char *work;             /* n_threads x work_stride: kernel work, coefficients */
    size_t work_stride;
    double *uloss; /* per-user losses of a step, summed in order */
} hc_akt_sampler;

/* For a student with P (U x d) and Q (I x d), S draws of prop (kept, not owned) for each group
 * of G users, at most max_users users per step, the draws seeded from seed. HC_ENOMEM,
 * HC_EINVAL. */
int hc_akt_sampler_init(hc_akt_sampler *s, float *P, int32_t U, float *Q, int32_t I, int32_t d,
                        int32_t S, int32_t G, const hc_proposal *prop, int32_t max_users,
                        uint64_t seed);
void hc_akt_sampler_free(hc_akt_sampler *s);

/* One step over users[0..n) (unique) with their lists: the loss of phase 1 or 2 weighted by
 * scale, its gradient, and one Adam step of adam (begun here) on the touched rows. Returns
 * the scaled loss in *loss. pb->Qt is not read. */
int hc_akt_sampler_step(hc_akt_sampler *s, hc_adam *adam, const hc_akt_problem *pb,
                        const int32_t *users, const hc_akt_lists *lists, int32_t n, int phase,
                        float scale, double *loss);

/* Brings every row of P and Q up to date (before the student is read). */
void hc_akt_sampler_flush(hc_akt_sampler *s, const hc_adam *adam);

#endif
