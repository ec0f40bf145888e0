/*
 * hparams.c - the model hyperparameters (hc_hparams) as one parameter table, and the checks
 * that a family is given only the ones its vtable lists (hc_model_type.params). Option
 * parsing and --help of `teacher`, the log and hc_param_describe(family) read this table.
 * Cost: O(table length x listed names) per lookup.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"

#define OFF(f) offsetof(hc_hparams, f)

const hc_param_def hc_hparam_defs[] = {
    {"dim", "N", HC_PARAM_INT, OFF(dim), 1, 4096, "embedding size; hidden width for ae, iae", NULL,
     0},
    {"lr", "X", HC_PARAM_FLOAT, OFF(lr), 1e-9, 10, "Adam learning rate", NULL, 0},
    {"wd", "X", HC_PARAM_FLOAT, OFF(reg), 0, 10, "Adam weight decay, coupled L2", NULL, 0},
    {"l2", "X", HC_PARAM_FLOAT, OFF(l2), 0, 10, "L2 on the batch's ego embeddings", NULL, 0},
    {"margin", "X", HC_PARAM_FLOAT, OFF(margin), 0, 100, "hinge margin", NULL, 0},
    {"layers", "N", HC_PARAM_INT, OFF(layers), 0, 8,
     "gnn: propagation layers; ae: 1 Mult-DAE, 2 Mult-VAE", NULL, 0},
    {"negatives", "N", HC_PARAM_INT, OFF(negatives), 1, 1000, "sampled negatives per positive",
     NULL, 0},
    {"batch", "N", HC_PARAM_INT, OFF(batch), 1, 1 << 24,
     "examples per step: interactions, users (ae) or items (iae)", NULL, 0},
    {"dropout", "X", HC_PARAM_FLOAT, OFF(dropout), 0, 1, "input dropout probability", NULL, 1},
    {"init-std", "X", HC_PARAM_FLOAT, OFF(init_std), 0, 10,
     "normal init std of embeddings (0: the family's)", NULL, 0},
    {"seed", "N", HC_PARAM_U64, OFF(seed), 0, 0, "random seed", NULL, 0},
    {"out-samples", "S", HC_PARAM_INT, OFF(out_samples), 0, 1 << 24,
     "sampled output layer: the batch's positives and S drawn items (0: the exact layer; "
     "docs/teachers.md)",
     NULL, 0},
    {"out-proposal", "uniform|pop", HC_PARAM_CHOICE, OFF(out_proposal), 0, 0,
     "the draws' proposal: uniform, or popularity (degree^0.75)", NULL, 0},
};
const int hc_n_hparam_defs = (int)(sizeof hc_hparam_defs / sizeof hc_hparam_defs[0]);

int hc_model_type_uses(const hc_model_type *t, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = t->params; p && *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && !strncmp(p, name, n))
            return 1;
        p += w;
        p += strspn(p, " ");
    }
    return 0;
}

int hc_hparams_apply(const hc_model_type *t, hc_hparams *hp, const char *const *kv)
{
    for (; kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - *kv) : 0, *kv);
        int i = eq ? hc_param_find(hc_hparam_defs, hc_n_hparam_defs, name) : -1;
        if (i < 0 || !hc_model_type_uses(t, hc_hparam_defs[i].name))
            return eq ? hc_error(HC_EINVAL, "family %s has no parameter '%s' (it has: %s)", t->name,
                                 name, t->params)
                      : hc_error(HC_EINVAL, "family %s: '%s' is not name=value", t->name, *kv);
        const char *one[] = {*kv, NULL};
        int rc = hc_param_apply(hc_hparam_defs + i, 1, hp, one, t->name);
        if (rc != HC_OK)
            return rc;
    }
    return HC_OK;
}
