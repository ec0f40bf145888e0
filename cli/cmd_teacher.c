/*
 * cmd_teacher.c - `hetcomp teacher`: train one teacher family on a dataset file, with
 * evaluation every few epochs, early stopping on validation Recall@50, the best model saved,
 * and its trajectory (C checkpoints of top-K lists) written for distillation.
 *
 * Output directory: model.hcm (the best model), trajectory.hct (binary trajectory),
 * log.json (hyperparameters, every evaluation, the summary).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model/fit.h"
#include "optim/proposal.h"
#include "traj/trajectory.h"

static const char *CMD = "teacher";

/* Family name's default hyperparameters. */
static hc_hparams defaults_of(const char *name)
{
    hc_hparams hp;
    hc_hparams_default(hc_model_type_find(name), &hp);
    return hp;
}

/* The usage text: the shared flags with the defaults of family t (hetcomp teacher --model
 * NAME --help), the family-specific ones with their family's. */
static void help(const hc_model_type *t)
{
    hc_hparams hp, gnn = defaults_of("gnn"), ml = defaults_of("ml"), ae = defaults_of("ae"),
                   iae = defaults_of("iae");
    hc_hparams_default(t, &hp);
    printf("usage: hetcomp teacher --model NAME --data DS.hcd --out DIR [options]\n\n"
           "Trains a teacher, evaluates it every few epochs (full ranking), stops early on\n"
           "validation Recall@50, saves the best model and its training trajectory.\n\n"
           "models:\n");
    for (int i = 0; hc_model_types[i]; i++)
        printf("  %-6s %s\n", hc_model_types[i]->name, hc_model_types[i]->title);
    printf("\noptions (defaults are per model, shown for %s: 'hetcomp teacher --model NAME\n"
           "--help' shows another's; a family ignores the flags it does not use):\n"
           "  --model NAME        teacher family (required)\n"
           "  --data FILE         dataset file from 'hetcomp split' (required)\n"
           "  --out DIR           output directory (created; required)\n"
           "  --dim N             embedding size; hidden width for ae, iae (%d)\n"
           "  --epochs N          maximum epochs (1000)\n"
           "  --lr X              Adam learning rate (%g)\n"
           "  --reg X             Adam weight decay, coupled L2 (%g)\n"
           "  --l2 X              gnn: L2 on the batch's ego embeddings (%g)\n"
           "  --margin X          ml: hinge margin (%g)\n"
           "  --layers N          gnn: propagation layers; ae: 1 Mult-DAE, 2 Mult-VAE\n"
           "                      (gnn %d, ae %d)\n"
           "  --negatives N       mf, ml, gnn, dl: sampled negatives per positive (%d)\n"
           "  --batch N           examples per step: interactions (mf, ml, gnn, dl), users\n"
           "                      (ae) or items (iae) (%d)\n"
           "  --dropout X         ae, iae: input dropout probability, in [0, 1)\n"
           "                      (ae %g, iae %g)\n"
           "  --init-std X        normal init std of embeddings (family default)\n"
           "  --out-samples S     ae, iae: sampled output layer, the batch's positives and S\n"
           "                      drawn units per batch (0: the exact layer; docs/teachers.md)\n"
           "  --out-proposal P    ae, iae: the draws' proposal, pop (degree^0.75) or uniform\n"
           "                      (pop)\n"
           "  --eval-every N      evaluate every N epochs, and after epoch 1 (5)\n"
           "  --eval-users N      metrics on a fixed seeded sample of N users when there are\n"
           "                      more; trajectories still cover every user (10000; 0: all)\n"
           "  --patience N        evaluations without improvement before stopping (5)\n"
           "  --time-cap S        stop after S seconds of wall time (none)\n"
           "  --checkpoints C     trajectory checkpoints (4)\n"
           "  --topk K            top-K unobserved items kept per user per checkpoint (100)\n"
           "  --no-trajectory     do not record or write a trajectory\n"
           "  --seed N            random seed (0)\n"
           "  --threads N         threads (all cores)\n"
           "  --quiet             no progress bar or per-evaluation lines\n",
           t->name, hp.dim, (double)hp.lr, (double)hp.reg, (double)gnn.l2, (double)ml.margin,
           gnn.layers, ae.layers, hp.negatives, hp.batch, (double)ae.dropout, (double)iae.dropout);
}

typedef struct {
    const char *name;
    int tty, quiet;
    double t0;
    json_t *evals;
    int sample_said; /* the sampled-users note was printed */
} progress;

static void on_epoch(void *ud, int32_t epoch, int32_t max_epochs, double loss, double secs)
{
    progress *p = ud;
    if (!p->tty || p->quiet)
        return;
    fprintf(stderr, "\r[%s] epoch %d/%d  loss %.4g  %.2fs/epoch  elapsed %.0fs   ", p->name, epoch,
            max_epochs, loss, secs, cli_now() - p->t0);
    fflush(stderr);
}

static void on_eval(void *ud, const hc_fit_eval *e)
{
    progress *p = ud;
    json_t *row = json_object();
    json_object_set_new(row, "epoch", json_integer(e->epoch));
    json_object_set_new(row, "loss", json_real(e->loss));
    json_object_set_new(row, "train_s", json_real(e->train_s));
    json_object_set_new(row, "eval_s", json_real(e->eval_s));
    json_object_set_new(row, "valid", cli_metrics_json(&e->res.valid));
    json_object_set_new(row, "test", cli_metrics_json(&e->res.test));
    json_array_append_new(p->evals, row);
    if (p->quiet)
        return;
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    cli_eval_sample_note(p->name, &e->res.valid, &p->sample_said);
    fprintf(stderr,
            "[%s] epoch %4d  loss %-10.5g valid R@50 %.4f N@50 %.4f  test R@50 %.4f  "
            "train %.2fs eval %.2fs%s\n",
            p->name, e->epoch, e->loss, e->res.valid.recall[2], e->res.valid.ndcg[2],
            e->res.test.recall[2], e->train_s, e->eval_s, e->improved ? "  *" : "");
}

int cmd_teacher(int argc, char **argv)
{
    enum {
        O_DIM = 256,
        O_EPOCHS,
        O_LR,
        O_REG,
        O_L2,
        O_MARGIN,
        O_LAYERS,
        O_NEG,
        O_BATCH,
        O_DROPOUT,
        O_INIT,
        O_OUT_SAMPLES,
        O_OUT_PROPOSAL,
        O_EVAL,
        O_EVAL_USERS,
        O_PAT,
        O_CAP,
        O_CKPT,
        O_TOPK,
        O_NOTRAJ,
        O_SEED,
        O_THREADS,
        O_QUIET
    };
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"data", required_argument, 0, 'd'},
                                         {"out", required_argument, 0, 'o'},
                                         {"dim", required_argument, 0, O_DIM},
                                         {"epochs", required_argument, 0, O_EPOCHS},
                                         {"lr", required_argument, 0, O_LR},
                                         {"reg", required_argument, 0, O_REG},
                                         {"l2", required_argument, 0, O_L2},
                                         {"margin", required_argument, 0, O_MARGIN},
                                         {"layers", required_argument, 0, O_LAYERS},
                                         {"negatives", required_argument, 0, O_NEG},
                                         {"batch", required_argument, 0, O_BATCH},
                                         {"dropout", required_argument, 0, O_DROPOUT},
                                         {"init-std", required_argument, 0, O_INIT},
                                         {"out-samples", required_argument, 0, O_OUT_SAMPLES},
                                         {"out-proposal", required_argument, 0, O_OUT_PROPOSAL},
                                         {"eval-every", required_argument, 0, O_EVAL},
                                         {"eval-users", required_argument, 0, O_EVAL_USERS},
                                         {"patience", required_argument, 0, O_PAT},
                                         {"time-cap", required_argument, 0, O_CAP},
                                         {"checkpoints", required_argument, 0, O_CKPT},
                                         {"topk", required_argument, 0, O_TOPK},
                                         {"no-trajectory", no_argument, 0, O_NOTRAJ},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"quiet", no_argument, 0, O_QUIET},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    /* first pass: the model name decides the defaults the other flags override */
    const char *model = NULL, *data = NULL, *out = NULL;
    int want_help = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            want_help = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[i + 1];
        else if (!strncmp(argv[i], "--model=", 8))
            model = argv[i] + 8;
    }
    const hc_model_type *type = model ? hc_model_type_find(model) : NULL;
    if (want_help) {
        help(type ? type : hc_model_type_find("mf"));
        return CLI_EXIT_OK;
    }
    if (!model)
        return cli_usage_error(CMD, "--model is required");
    if (!type)
        return cli_usage_error(CMD, "unknown model '%s'", model);
    hc_hparams hp;
    hc_hparams_default(type, &hp);
    hc_fit_opts fo;
    hc_fit_opts_default(&fo);
    int32_t ckpt = 4, threads = 0, quiet = 0, traj = 1;
    double d;
    int rc = 0, c;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "m:d:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            break;
        case 'd':
            data = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case O_DIM:
            rc = cli_int(CMD, "--dim", optarg, 1, 4096, &hp.dim);
            break;
        case O_EPOCHS:
            rc = cli_int(CMD, "--epochs", optarg, 1, 1000000, &fo.max_epochs);
            break;
        case O_LR:
            rc = cli_double(CMD, "--lr", optarg, 1e-9, 10, &d);
            hp.lr = (float)d;
            break;
        case O_REG:
            rc = cli_double(CMD, "--reg", optarg, 0, 10, &d);
            hp.reg = (float)d;
            break;
        case O_L2:
            rc = cli_double(CMD, "--l2", optarg, 0, 10, &d);
            hp.l2 = (float)d;
            break;
        case O_MARGIN:
            rc = cli_double(CMD, "--margin", optarg, 0, 100, &d);
            hp.margin = (float)d;
            break;
        case O_LAYERS:
            rc = cli_int(CMD, "--layers", optarg, 0, 8, &hp.layers);
            break;
        case O_NEG:
            rc = cli_int(CMD, "--negatives", optarg, 1, 1000, &hp.negatives);
            break;
        case O_BATCH:
            rc = cli_int(CMD, "--batch", optarg, 1, 1 << 24, &hp.batch);
            break;
        case O_DROPOUT:
            rc = cli_double(CMD, "--dropout", optarg, 0, 1, &d);
            if (!rc && d >= 1) /* every input dropped */
                rc = cli_usage_error(CMD, "--dropout must be in [0, 1), got %g", d);
            hp.dropout = (float)d;
            break;
        case O_INIT:
            rc = cli_double(CMD, "--init-std", optarg, 0, 10, &d);
            hp.init_std = (float)d;
            break;
        case O_OUT_SAMPLES:
            rc = cli_int(CMD, "--out-samples", optarg, 0, 1 << 24, &hp.out_samples);
            break;
        case O_OUT_PROPOSAL: {
            hc_proposal_kind k;
            if (hc_proposal_kind_parse(optarg, &k))
                rc =
                    cli_usage_error(CMD, "--out-proposal must be pop or uniform, got '%s'", optarg);
            hp.out_proposal = (int32_t)k;
            break;
        }
        case O_EVAL:
            rc = cli_int(CMD, "--eval-every", optarg, 1, 1000000, &fo.eval_every);
            break;
        case O_EVAL_USERS:
            rc = cli_int(CMD, "--eval-users", optarg, 0, 1 << 30, &fo.eval_users);
            break;
        case O_PAT:
            rc = cli_int(CMD, "--patience", optarg, 1, 1000000, &fo.patience);
            break;
        case O_CAP:
            rc = cli_double(CMD, "--time-cap", optarg, 0, 1e9, &fo.time_cap);
            break;
        case O_CKPT:
            rc = cli_int(CMD, "--checkpoints", optarg, 1, 100, &ckpt);
            break;
        case O_TOPK:
            rc = cli_int(CMD, "--topk", optarg, 1, 10000, &fo.record_k);
            break;
        case O_NOTRAJ:
            traj = 0;
            break;
        case O_SEED:
            rc = cli_u64(CMD, "--seed", optarg, &hp.seed);
            break;
        case O_THREADS:
            rc = cli_int(CMD, "--threads", optarg, 0, 1024, &threads);
            break;
        case O_QUIET:
            quiet = 1;
            break;
        default:
            return cli_usage_error(CMD, "unknown option");
        }
    }
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!data || !out)
        return cli_usage_error(CMD, "--data and --out are required");
    if (!traj)
        fo.record_k = 0;
    cli_log_init(0, quiet);
    cli_threads(threads);
    fo.eval_seed = hp.seed;

    hc_dataset ds = {0};
    hc_model *m = NULL;
    hc_fit_result fr = {0};
    hc_traj tj = {0};
    json_t *root = json_object();
    progress pr = {type->name, isatty(2), quiet, cli_now(), json_array(), 0};
    char path[4096];
    if ((rc = hc_dataset_load(data, &ds)) != HC_OK || (rc = cli_make_dir(out)) != HC_OK ||
        (rc = hc_model_create(type, &ds, &hp, &m)) != HC_OK)
        goto done;
    int64_t nparams = hc_model_n_params(m);
    if (!quiet)
        fprintf(stderr, "[%s] %s: %d users, %d items, %lld train; dim %d, %lld parameters\n",
                type->name, data, ds.n_users, ds.n_items, (long long)ds.train.nnz, hp.dim,
                (long long)nparams);
    fo.on_epoch = on_epoch;
    fo.on_eval = on_eval;
    fo.ud = &pr;
    if ((rc = hc_fit(m, &ds, &fo, &fr)) != HC_OK)
        goto done;
    snprintf(path, sizeof path, "%s/model.hcm", out);
    if ((rc = hc_model_save(m, path)) != HC_OK)
        goto done;
    if (traj) {
        if ((rc = hc_traj_from_fit(&fr, &ds, type->name, ckpt, &tj)) != HC_OK)
            goto done;
        snprintf(path, sizeof path, "%s/trajectory.hct", out);
        if ((rc = hc_traj_save(&tj, path)) != HC_OK)
            goto done;
    }
    const hc_fit_eval *best = &fr.evals[fr.best];
    double spe = fr.train_s / (fr.epochs > 0 ? fr.epochs : 1);
    json_t *hj = json_object();
    json_object_set_new(hj, "dim", json_integer(hp.dim));
    json_object_set_new(hj, "layers", json_integer(hp.layers));
    json_object_set_new(hj, "negatives", json_integer(hp.negatives));
    json_object_set_new(hj, "batch", json_integer(hp.batch));
    json_object_set_new(hj, "lr", json_real(hp.lr));
    json_object_set_new(hj, "reg", json_real(hp.reg));
    json_object_set_new(hj, "l2", json_real(hp.l2));
    json_object_set_new(hj, "margin", json_real(hp.margin));
    json_object_set_new(hj, "dropout", json_real(hp.dropout));
    json_object_set_new(hj, "init_std", json_real(hp.init_std));
    json_object_set_new(hj, "out_samples", json_integer(hp.out_samples));
    json_object_set_new(hj, "out_proposal",
                        json_string(hc_proposal_kind_name((hc_proposal_kind)hp.out_proposal)));
    json_object_set_new(hj, "seed", json_integer((json_int_t)hp.seed));
    json_object_set_new(root, "model", json_string(type->name));
    json_object_set_new(root, "hparams", hj);
    json_object_set_new(root, "params", json_integer(nparams));
    json_object_set_new(root, "epochs", json_integer(fr.epochs));
    json_object_set_new(root, "best_epoch", json_integer(best->epoch));
    json_object_set_new(root, "train_s_per_epoch", json_real(spe));
    json_object_set_new(root, "best_valid", cli_metrics_json(&best->res.valid));
    json_object_set_new(root, "test_at_best", cli_metrics_json(&best->res.test));
    if (traj) {
        json_t *cj = json_array();
        for (int32_t k = 0; k < tj.n_ckpt; k++) {
            json_t *o = json_object();
            json_object_set_new(o, "epoch", json_integer(tj.epochs[k]));
            json_object_set_new(o, "valid_R@50", json_real(tj.valid_r50[k]));
            json_array_append_new(cj, o);
        }
        json_object_set_new(root, "checkpoints", cj);
    }
    json_object_set(root, "evaluations", pr.evals);
    snprintf(path, sizeof path, "%s/log.json", out);
    if ((rc = cli_json_write(root, path)) != HC_OK)
        goto done;
    printf("model\t%s\nparams\t%lld\nepochs\t%d\nbest_epoch\t%d\ns_per_epoch\t%.3f\n", type->name,
           (long long)nparams, fr.epochs, best->epoch, spe);
    for (int k = 0; k < HC_EVAL_NK; k++)
        printf("test_R@%d\t%.4f\ntest_N@%d\t%.4f\n", hc_eval_ks[k], best->res.test.recall[k],
               hc_eval_ks[k], best->res.test.ndcg[k]);
    if (traj) {
        printf("checkpoints");
        for (int32_t k = 0; k < tj.n_ckpt; k++)
            printf("\t%d:%.4f", tj.epochs[k], (double)tj.valid_r50[k]);
        printf("\n");
    }
done:
    json_decref(pr.evals);
    json_decref(root);
    hc_traj_free(&tj);
    hc_fit_result_free(&fr);
    hc_model_free(m);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
