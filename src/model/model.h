/*
 * model.h - the one interface every recommender model implements (teachers and the student),
 * the generic training loop with evaluation, early stopping and trajectory recording, and the
 * model file format.
 *
 * A model is a struct whose first member is hc_model (the base); its type is a const
 * hc_model_type vtable listed in model.c's registry. Parameters are exposed as named float
 * tensors, so saving, loading, exporting and parameter counting are written once, here.
 */
#ifndef HC_MODEL_H
#define HC_MODEL_H

#include "core/param.h"

/* Hyperparameters: one flat struct; each family reads the fields it uses (documented in
 * hc_hparams_default and in `hetcomp teacher --help`). Saved in model files. */
typedef struct {
    int32_t dim;       /* embedding / hidden size */
    int32_t layers;    /* LightGCN propagation layers; MLP layers */
    int32_t negatives; /* sampled negatives per positive */
    int32_t batch;     /* interactions (or users / items for autoencoders) per step */
    float lr;          /* Adam learning rate */
    float reg;         /* Adam weight decay (coupled L2, as torch.optim.Adam) */
    float l2;          /* explicit L2 on the batch's ego embeddings (LightGCN), mean-scaled */
    float margin;      /* metric learning hinge margin */
    float dropout;     /* autoencoder input dropout */
    float init_std;    /* normal init std of embeddings (0: family default) */
    uint64_t seed;
    /* Training-only (they change how a model is trained, not how it scores; files without
     * them load with the exact default): the autoencoders' sampled output layers,
     * docs/teachers.md §2-§3. */
    int32_t out_samples;  /* draws per batch; 0: the exact output layer */
    int32_t out_proposal; /* hc_proposal_kind of the draws (default popularity) */
} hc_hparams;

/* A named parameter tensor (row-major rows x cols floats, owned by the model). */
typedef struct {
    const char *name;
    int32_t rows, cols;
    float *data;
} hc_tensor;

/* Its number of parameters. */
static inline int64_t hc_tensor_len(const hc_tensor *t)
{
    return (int64_t)t->rows * t->cols;
}

#define HC_MAX_TENSORS 16

typedef struct hc_model_type {
    const char *name;   /* "mf", "ml", "gnn", ... */
    const char *title;  /* one-line description */
    int32_t version;    /* bump when the tensor layout changes */
    const char *params; /* the hc_hparam_defs names the family reads, space-separated */
    size_t size;        /* sizeof the family's struct (base first) */
    /* Sets hyperparameter defaults of the family on top of the shared ones. */
    void (*defaults)(hc_hparams *hp);
    /* Allocates parameters for ds's users and items and initialises them from hp->seed.
     * Called on a zeroed struct with base filled; on failure the model is freed by the
     * caller with free_fn. load: 1 when parameters will be read from a file next (skip the
     * random init and any training-only state). */
    int (*init)(hc_model *m, const hc_dataset *ds, int load);
    /* One training epoch (epoch counts from 1); *loss receives the summed training loss. */
    int (*train_epoch)(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss);
    /* Called after training and after loading, before scoring (caches, e.g. propagation). */
    int (*prepare)(hc_model *m, const hc_dataset *ds);
    /* Scores users[0..n) against all items into out (n x n_items). Never allocates per call
     * beyond the model's own scratch; safe to call repeatedly after prepare. */
    int (*score)(hc_model *m, const int32_t *users, int32_t n, float *out);
    /* Lists the parameter tensors (at most HC_MAX_TENSORS); returns their number. */
    int (*tensors)(hc_model *m, hc_tensor *out);
    /* The same list's names and shapes (data NULL) for a model of hp on n_users x n_items,
     * without allocating anything, or a negative status for hyperparameters the family
     * refuses: the loader checks a file against it before the family allocates (tensors()
     * is built on it, so the two cannot disagree). */
    int (*shapes)(const hc_hparams *hp, int32_t n_users, int32_t n_items, hc_tensor *out);
    /* Frees everything the family allocated (not the struct itself). */
    void (*free_fn)(hc_model *m);
} hc_model_type;

struct hc_model {
    const hc_model_type *type;
    hc_hparams hp;
    int32_t n_users, n_items;
    uint64_t ds_checksum; /* the dataset the model was trained on */
};

/* The registry: NULL-terminated list of families, and lookup by name. */
extern const hc_model_type *const hc_model_types[];
const hc_model_type *hc_model_type_find(const char *name);

/* Shared defaults, then the family's. */
void hc_hparams_default(const hc_model_type *t, hc_hparams *hp);
/* Every field of hc_hparams as a parameter table (hparams.c); a family reads those its
 * params string names. */
extern const hc_param_def hc_hparam_defs[];
extern const int hc_n_hparam_defs;
/* 1 when family t reads the parameter name. */
int hc_model_type_uses(const hc_model_type *t, const char *name);
/* Applies "name=value" strings kv (NULL-terminated, may be NULL) to hp. HC_EINVAL naming the
 * family for a parameter it does not read or a bad value. */
int hc_hparams_apply(const hc_model_type *t, hc_hparams *hp, const char *const *kv);

/* Creates and initialises a model of type t for ds. *out owns it (hc_model_free). */
int hc_model_create(const hc_model_type *t, const hc_dataset *ds, const hc_hparams *hp,
                    hc_model **out);
/* Copies every tensor of src into dst (same type and shapes). */
int hc_model_copy_params(hc_model *dst, hc_model *src);

/* A new model of src's family holding a copy of src's parameters (no training state). */
int hc_model_clone(hc_model *src, const hc_dataset *ds, hc_model **out);

/* Early stopping's memory (core/train_loop.h judges the scores): a copy of the model at the
 * best evaluation. Zero-initialise; free with hc_keeper_free. */
typedef struct {
    hc_model *copy; /* parameters at the best score (NULL before the first) */
} hc_keeper;
/* Replaces the kept copy by one of m's current parameters (one clone of m). */
int hc_keeper_take(hc_keeper *k, hc_model *m, const hc_dataset *ds);
/* Copies the kept parameters back into m (no-op without a copy). */
int hc_keeper_restore(const hc_keeper *k, hc_model *m);
void hc_keeper_free(hc_keeper *k);

#endif
