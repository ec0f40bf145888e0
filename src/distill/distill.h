/*
 * distill.h - one interface for every distillation method (HetComp and the baselines) and the
 * loop they share: the MF student, epochs, evaluation every few epochs (with the student's
 * top-50 lists handed to the method, e.g. for HetComp's dynamic knowledge construction),
 * early stopping on validation Recall@50, the best student kept (docs/method.md §7).
 */
#ifndef HC_DISTILL_H
#define HC_DISTILL_H

#include "core/param.h"
#include "ensemble/ensemble.h"
#include "model/model.h"

#define HC_DISTILL_MAX_TEACHERS 32

/* How a sum over a user's whole catalog is taken (HetComp's rest sets and DKC's student
 * top-50): exactly, estimated from samples, or chosen by catalog size (docs/distillation.md,
 * "Sampled rest sets"): sampled from HC_REST_AUTO_ITEMS items on. */
enum { HC_REST_AUTO = 0, HC_REST_EXACT = 1, HC_REST_SAMPLED = 2 };
#define HC_REST_AUTO_ITEMS 10000

/* Every hyperparameter of docs/method.md §4-§7, with the paper's defaults
 * (hc_distill_opts_default). */
typedef struct {
    int32_t dim;        /* student dimension (6) */
    int32_t max_epochs; /* 1000 */
    int32_t eval_every; /* 10 (evaluations at epoch 0, 10, 20, ...) */
    int32_t patience;   /* evaluations without a better valid R@50 (0: the method's default) */
    int32_t batch;      /* train interactions per step; the step's users are their unique users */
    float lr, wd;       /* Adam (1e-3, 1e-5, coupled L2) */
    float init_std;     /* student init N(0, std) (0.01) */
    uint64_t seed;
    int32_t k;             /* ensemble top-list length K (100) */
    float temperature;     /* ensemble rank temperature T (10) */
    int32_t dkc_every;     /* p (10) */
    float alpha;           /* DKC threshold base (1.05) */
    float decay;           /* DKC threshold decay per p epochs (0.995) */
    float w_set;           /* phase-1 loss weight (0.01) */
    float w_rank;          /* phase-2 loss weight (0.005) */
    int no_dkc;            /* ablation: final checkpoints from the start */
    int32_t switch_epoch;  /* with no_dkc: the epoch the loss switches to phase 2 (120) */
    int no_akt;            /* ablation: the permutation-level loss from the start */
    int32_t rest;          /* HC_REST_*: HetComp's rest sets (auto) */
    int32_t rest_samples;  /* S: rest items drawn per group of users when sampled (1000) */
    int32_t rest_group;    /* G: users of a step sharing one set of draws (128) */
    int32_t rest_head;     /* H of the S: the most popular items, summed exactly (0) */
    int32_t rest_proposal; /* hc_proposal_kind of the draws (popularity) */
    int32_t dkc_rank;      /* HC_REST_*: DKC's student top-50, exact or estimated (auto) */
    int32_t dkc_samples;   /* items drawn per user for the estimated ranks (1000) */
    int32_t eval_users;    /* evaluate a fixed seeded sample of this many users when there
                              are more (10000; 0: all) */
    /* The baselines (docs/method.md §10, docs/distillation.md): loss = BPR + lambda * KD over
     * the final-checkpoint ensemble's top-K lists (K = k above). */
    float rd_alpha;        /* RD: KD weight alpha (1) */
    int32_t rd_k;          /* RD: teacher list length (10) */
    float rd_lambda;       /* RD: position weight temperature lambda (1) */
    float rd_mu;           /* RD: rank discrepancy sharpness mu (0.1) */
    int32_t rd_start;      /* RD: first epoch of the dynamic weight (10) */
    int32_t rd_samples;    /* RD: sampled items of the student rank estimate (100) */
    float cd_lambda;       /* CD: KD weight (0.5) */
    int32_t cd_items;      /* CD: items drawn per user and epoch (2) */
    int32_t cd_candidates; /* CD: student top list the draws come from (3000) */
    float cd_mu;           /* CD: rank sampling p(r) ~ exp(-r / mu) (60000 = 3000 x 20) */
    float rrd_lambda;      /* RRD: KD weight (0.001) */
    int32_t rrd_k;         /* RRD, MTD, DCD: ranked list length (100) */
    int32_t rrd_l;         /* RRD, MTD, DCD: sampled rest items per user and epoch (40) */
    float mtd_lambda;      /* MTD: KD weight (0.001, RRD's) */
    float cl_lambda;       /* CL-DRD: KD weight (1, docs/method.md §10.6) */
    int32_t cl_list;       /* CL-DRD: list length (30) */
    int32_t cl_every;      /* CL-DRD: epochs per curriculum stage (40) */
    float dcd_lambda;      /* DCD: KD weight of RRD + UCD + ICD (0.01) */
    int32_t dcd_n;         /* DCD: top-N of the discrepancy sets (100; 500 needs longer lists) */
    int32_t dcd_samples;   /* DCD: most items (users) per set (100) */
    float dcd_eps;         /* DCD: discrepancy scale epsilon (10) */
    int32_t dcd_every;     /* DCD: epochs between discrepancy updates (10) */
} hc_distill_opts;
void hc_distill_opts_default(hc_distill_opts *o);
/* Every field of hc_distill_opts as a parameter table (distill_params.c), in help order. */
extern const hc_param_def hc_distill_params[];
extern const int hc_distill_n_params;
/* Whether mode (HC_REST_*) samples on a catalog of n_items. */
int hc_distill_rest_sampled(int32_t mode, int32_t n_items);

/* What a method sees: the data, the teachers' trajectories, the student and the options. */
typedef struct {
    const hc_dataset *ds;
    int32_t n_teachers;
    const hc_traj *const *teachers;
    hc_model *student; /* an "mf" model of opts.dim (owned by the loop) */
    hc_distill_opts opts;
} hc_kd_ctx;

typedef struct hc_distiller hc_distiller;

/* Status a method reports at each evaluation (logs and the report's plots). */
typedef struct {
    int32_t phase;                             /* 1 set-level, 2 permutation-level; 0: n/a */
    double mean_ckpt[HC_DISTILL_MAX_TEACHERS]; /* mean DKC checkpoint per teacher */
} hc_distill_status;

/* Evaluations without a better validation R@50 before a student stops, unless the method or
 * the options say otherwise (docs/distillation.md). */
#define HC_DISTILL_PATIENCE 5

typedef struct hc_distiller_type {
    const char *name;
    const char *title;
    size_t size; /* sizeof the method's struct (base first) */
    /* 1 when the method reads only the lists of the users a rank owns, so its teachers may be
     * shares (hc_traj_load_part, docs/distributed.md); 0: it needs every user's. */
    int shares_teachers;
    /* Sets up the method's state (teacher lists, optimiser) once the context is filled. */
    int (*init)(hc_distiller *d);
    /* One epoch (epoch counts from 0); *loss receives the summed loss. */
    int (*epoch)(hc_distiller *d, int32_t epoch, double *loss);
    /* After each evaluation: top50 holds every user's top-50 unobserved items under the
     * student (n_users x 50, -1 padded) when needs_top50 said so, else NULL. May be NULL. */
    int (*after_eval)(hc_distiller *d, int32_t epoch, const int32_t *top50);
    /* Whether after_eval of this epoch wants the top-50 lists, whose recording makes the
     * evaluation rank every user, not only the evaluated ones. NULL: never. */
    int (*needs_top50)(hc_distiller *d, int32_t epoch);
    /* Fills the status (may be NULL). */
    void (*status)(hc_distiller *d, hc_distill_status *st);
    /* The patience when the options leave it 0 (after init). NULL: HC_DISTILL_PATIENCE. */
    int32_t (*patience)(hc_distiller *d);
    void (*free_fn)(hc_distiller *d);
} hc_distiller_type;

struct hc_distiller {
    const hc_distiller_type *type;
    hc_kd_ctx *ctx;
};

extern const hc_distiller_type *const hc_distiller_types[];
const hc_distiller_type *hc_distiller_type_find(const char *name);

typedef struct {
    int32_t epoch;
    double loss, train_s, eval_s;
    hc_eval_result res;
    hc_distill_status st;
    int improved;
} hc_distill_eval;

typedef struct {
    int32_t n_evals;
    hc_distill_eval *evals;
    int32_t best; /* index into evals */
    int32_t epochs;
    double train_s;
} hc_distill_result;
void hc_distill_result_free(hc_distill_result *r);

typedef struct {
    void (*on_epoch)(void *ud, int32_t epoch, double loss, double secs);
    void (*on_eval)(void *ud, const hc_distill_eval *e);
    void *ud;
} hc_distill_hooks;

/* Creates the student in ctx, runs the method to convergence and leaves the best student in
 * ctx->student. ctx->student must be NULL on entry; the caller frees it (hc_model_free). */
int hc_distill_run(const hc_distiller_type *t, hc_kd_ctx *ctx, const hc_distill_hooks *hooks,
                   hc_distill_result *r);

#endif
