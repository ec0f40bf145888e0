/*
 * distill_params.c - the one table of every distillation hyperparameter (hc_distill_opts):
 * its name (the `distill` flag and the name=value key of the API), type, range, field and help
 * line. Parsing, validation, the CLI's --help, the run log and hc_param_describe("distill")
 * all read it. Help lines state each choice; why it was made is in docs/method.md §9-§10.
 */
#include <stddef.h>

#include "core/param.h"
#include "distill/distill.h"

#define OFF(f) offsetof(hc_distill_opts, f)

const hc_param_def hc_distill_params[] = {
    {"dim", "N", HC_PARAM_INT, OFF(dim), 1, 4096, "student dimension",
     "student and training (docs/method.md sections 4-7; defaults are the paper's):", 0},
    {"epochs", "N", HC_PARAM_INT, OFF(max_epochs), 1, 1000000, "maximum epochs", NULL, 0},
    {"lr", "X", HC_PARAM_FLOAT, OFF(lr), 1e-9, 10, "Adam learning rate", NULL, 0},
    {"wd", "X", HC_PARAM_FLOAT, OFF(wd), 0, 10, "Adam weight decay, coupled L2", NULL, 0},
    {"batch", "N", HC_PARAM_INT, OFF(batch), 1, 1 << 24,
     "train interactions per step; a step trains their unique users", NULL, 0},
    {"init-std", "X", HC_PARAM_FLOAT, OFF(init_std), 0, 10, "student init N(0, X)", NULL, 0},
    {"eval-every", "N", HC_PARAM_INT, OFF(eval_every), 1, 1000000,
     "evaluate every N epochs from epoch 0", NULL, 0},
    {"patience", "N", HC_PARAM_INT, OFF(patience), 0, 1000000,
     "evaluations without a better valid R@50 (0: 5, or 10 for HetComp with sampled rest sets)",
     NULL, 0},
    {"seed", "N", HC_PARAM_U64, OFF(seed), 0, 0, "random seed", NULL, 0},
    {"k", "N", HC_PARAM_INT, OFF(k), 10, 512,
     "ensemble list length K (every method's teacher list)", "ensemble and HetComp:", 0},
    {"temperature", "T", HC_PARAM_FLOAT, OFF(temperature), 1e-6, 1e9, "ensemble rank temperature",
     NULL, 0},
    {"dkc-every", "P", HC_PARAM_INT, OFF(dkc_every), 1, 100000, "DKC period p in epochs", NULL, 0},
    {"alpha", "X", HC_PARAM_FLOAT, OFF(alpha), 0, 100, "DKC threshold base alpha", NULL, 0},
    {"decay", "X", HC_PARAM_FLOAT, OFF(decay), 0, 1, "DKC threshold decay per period", NULL, 0},
    {"w-set", "X", HC_PARAM_FLOAT, OFF(w_set), 0, 1e6, "set-level loss weight, phase 1", NULL, 0},
    {"w-rank", "X", HC_PARAM_FLOAT, OFF(w_rank), 0, 1e6, "permutation-level loss weight, phase 2",
     NULL, 0},
    {"no-dkc", NULL, HC_PARAM_BOOL, OFF(no_dkc), 0, 1, "ablation: final checkpoints from the start",
     NULL, 0},
    {"switch-epoch", "N", HC_PARAM_INT, OFF(switch_epoch), 0, 1000000,
     "with --no-dkc: epoch of the switch to phase 2", NULL, 0},
    {"no-akt", NULL, HC_PARAM_BOOL, OFF(no_akt), 0, 1,
     "ablation: permutation-level loss from the start", NULL, 0},
    {"rest", "auto|exact|sampled", HC_PARAM_CHOICE, OFF(rest), 0, 0,
     "rest-set sums over every unobserved item, or estimated from draws; auto samples from "
     "10000 items on (docs/distillation.md)",
     "HetComp at catalog scale:", 0},
    {"rest-samples", "S", HC_PARAM_INT, OFF(rest_samples), 1, 1000000,
     "rest items drawn per group of users when sampled", NULL, 0},
    {"rest-group", "G", HC_PARAM_INT, OFF(rest_group), 1, 1 << 20,
     "users of a step sharing one set of draws", NULL, 0},
    {"rest-head", "H", HC_PARAM_INT, OFF(rest_head), 0, 1000000,
     "of the S, the H most popular items taken every time and summed exactly (stratified)", NULL,
     0},
    {"rest-proposal", "uniform|pop", HC_PARAM_CHOICE, OFF(rest_proposal), 0, 0,
     "draws uniform or popularity-proportional (add-one smoothed), importance-weighted", NULL, 0},
    {"dkc-rank", "auto|exact|sampled", HC_PARAM_CHOICE, OFF(dkc_rank), 0, 0,
     "DKC's student top-50 over every item, or estimated on the snapshots' items; auto "
     "follows --rest",
     NULL, 0},
    {"dkc-samples", "N", HC_PARAM_INT, OFF(dkc_samples), 1, 1000000,
     "items drawn per user for the estimated ranks", NULL, 0},
    {"eval-users", "N", HC_PARAM_INT, OFF(eval_users), 0, 1 << 30,
     "metrics on a fixed seeded sample of N users when there are more (0: all)", NULL, 0},
    {"rd-alpha", "X", HC_PARAM_FLOAT, OFF(rd_alpha), 0, 1e6, "KD weight alpha",
     "baselines (docs/method.md section 10): loss = BPR + weight x KD, the teacher ranking the\n"
     "final checkpoints' ensemble top-K list without sampling\n"
     "RD:",
     0},
    {"rd-k", "N", HC_PARAM_INT, OFF(rd_k), 1, 512, "teacher list length (at most --k)", NULL, 0},
    {"rd-lambda", "X", HC_PARAM_FLOAT, OFF(rd_lambda), 1e-6, 1e6,
     "position weight temperature lambda", NULL, 0},
    {"rd-mu", "X", HC_PARAM_FLOAT, OFF(rd_mu), 0, 1e6, "rank discrepancy sharpness mu", NULL, 0},
    {"rd-start", "N", HC_PARAM_INT, OFF(rd_start), 0, 1000000, "first epoch of the dynamic weight",
     NULL, 0},
    {"rd-samples", "N", HC_PARAM_INT, OFF(rd_samples), 1, 1000000,
     "sampled items of the student rank estimate", NULL, 0},
    {"cd-lambda", "X", HC_PARAM_FLOAT, OFF(cd_lambda), 0, 1e6, "KD weight",
     "CD (docs/method.md section 10.3), student-guided, with soft labels exp(-r/T)\n"
     "from the ensemble rank:",
     0},
    {"cd-items", "N", HC_PARAM_INT, OFF(cd_items), 1, 512, "items drawn per user and epoch", NULL,
     0},
    {"cd-candidates", "N", HC_PARAM_INT, OFF(cd_candidates), 1, 100000000,
     "the draws' student top list", NULL, 0},
    {"cd-mu", "X", HC_PARAM_FLOAT, OFF(cd_mu), 1e-6, 1e12,
     "rank sampling p(r) ~ exp(-r/mu) (woriazzc/KDs' 3000 x 20)", NULL, 0},
    {"rrd-lambda", "X", HC_PARAM_FLOAT, OFF(rrd_lambda), 0, 1e6, "KD weight",
     "RRD (and the RRD part of MTD and DCD):", 0},
    {"rrd-k", "N", HC_PARAM_INT, OFF(rrd_k), 1, 512,
     "ranked list length, at most --k (K: the list HetComp distils)", NULL, 0},
    {"rrd-l", "N", HC_PARAM_INT, OFF(rrd_l), 0, 512,
     "rest items drawn per user and epoch outside the ensemble list", NULL, 0},
    {"mtd-lambda", "X", HC_PARAM_FLOAT, OFF(mtd_lambda), 0, 1e6,
     "KD weight (per-user softmax teacher gate trained jointly, RRD loss)",
     "MTD (docs/method.md section 10.5):", 0},
    {"cl-lambda", "X", HC_PARAM_FLOAT, OFF(cl_lambda), 0, 1e6, "KD weight",
     "CL-DRD (docs/method.md section 10.6):", 0},
    {"cl-list", "N", HC_PARAM_INT, OFF(cl_list), 2, 512, "list length, at most --k", NULL, 0},
    {"cl-every", "N", HC_PARAM_INT, OFF(cl_every), 1, 1000000,
     "epochs per curriculum stage, K = 5, 10, 20, all", NULL, 0},
    {"dcd-lambda", "X", HC_PARAM_FLOAT, OFF(dcd_lambda), 0, 1e6, "KD weight of RRD + UCD + ICD",
     "DCD (docs/method.md section 10.7):", 0},
    {"dcd-n", "N", HC_PARAM_INT, OFF(dcd_n), 1, 1000000,
     "top-N compared, at most --k (the original 500 needs longer lists)", NULL, 0},
    {"dcd-samples", "N", HC_PARAM_INT, OFF(dcd_samples), 1, 512,
     "most entries per correction set (all when fewer: no sampling)", NULL, 0},
    {"dcd-eps", "X", HC_PARAM_FLOAT, OFF(dcd_eps), 1e-6, 1e6, "discrepancy scale epsilon", NULL, 0},
    {"dcd-every", "N", HC_PARAM_INT, OFF(dcd_every), 1, 1000000,
     "discrepancy sets updated at the evaluations of epochs that are multiples of N", NULL, 0},
};

const int hc_distill_n_params = (int)(sizeof hc_distill_params / sizeof hc_distill_params[0]);
