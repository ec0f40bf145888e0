/*
 * cmd_teacher.c - `hetcomp teacher`: train one teacher family on a dataset file, with
 * evaluation every few epochs, early stopping on validation Recall@50, the best model saved,
 * and its trajectory (C checkpoints of top-K lists) written for distillation.
 *
 * Output directory: model.hcm (the best model), trajectory.hct (binary trajectory),
 * log.json (hyperparameters, every evaluation, the summary).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "params_cli.h"
#include "model/fit.h"
#include "traj/trajectory.h"

static const char *CMD = "teacher";

/* The usage text: the models, the shared flags, family t's hyperparameters with its defaults
 * (hetcomp teacher --model NAME --help), and the training loop's. */
static void help(const hc_model_type *t)
{
    hc_hparams hp;
    hc_teach_opts to;
    hc_hparams_default(t, &hp);
    hc_teach_opts_default(&to);
    printf("usage: hetcomp teacher --model NAME --data DS.hcd --out DIR [options]\n\n"
           "Trains a teacher, evaluates it every few epochs (full ranking), stops early on\n"
           "validation Recall@50, saves the best model and its training trajectory.\n\n"
           "models:\n");
    for (int i = 0; hc_model_types[i]; i++)
        printf("  %-6s %s\n", hc_model_types[i]->name, hc_model_types[i]->title);
    printf("\noptions:\n"
           "  --model NAME        teacher family (required)\n"
           "  --data FILE         dataset file from 'hetcomp split' (required)\n"
           "  --out DIR           output directory (created; required)\n"
           "  --no-trajectory     do not record or write a trajectory\n");
    cli_common_help(stdout);
    printf("\nhyperparameters of %s ('hetcomp teacher --model NAME --help' shows another\n"
           "family's):\n",
           t->name);
    cli_params_help(stdout, hc_hparam_defs, hc_n_hparam_defs, &hp, cli_family_reads, t);
    printf("\ntraining loop and trajectory:\n");
    cli_params_help(stdout, hc_teach_params, hc_n_teach_params, &to, NULL, NULL);
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
    if (p->tty && !p->quiet)
        cli_progress_bar(p->name, epoch, max_epochs, loss, secs, hc_now_s() - p->t0);
}

static void on_eval(void *ud, const hc_fit_eval *e)
{
    progress *p = ud;
    json_t *row = json_object();
    json_object_set_new(row, "epoch", json_integer(e->epoch));
    json_object_set_new(row, "loss", json_real(e->loss));
    json_object_set_new(row, "train_s", json_real(e->train_s));
    json_object_set_new(row, "eval_s", json_real(e->eval_s));
    json_object_set_new(row, "metrics", cli_result_json(&e->res));
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

/* What the command line asks for. */
typedef struct {
    const hc_model_type *type;
    const char *data, *out;
    hc_hparams hp;
    hc_teach_opts to;
    int traj; /* record and write the trajectory */
    cli_common cc;
} teacher_args;

/* getopt codes: the model table's entries from O_HP, the loop table's from O_LOOP */
enum { O_NOTRAJ = 256, O_HP = 300, O_LOOP = 400 };

/* The long options: the command's own, the common ones, then both tables'. */
static int teacher_longopts(struct option *opts, int cap)
{
    static const struct option fixed[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'},
        {"out", required_argument, 0, 'o'},   {"no-trajectory", no_argument, 0, O_NOTRAJ},
        {"help", no_argument, 0, 'h'},        CLI_COMMON_OPTIONS};
    const int nf = (int)(sizeof fixed / sizeof fixed[0]);
    if (nf + hc_n_hparam_defs + hc_n_teach_params + 1 > cap)
        return hc_error(HC_EINVAL, "too many options");
    memcpy(opts, fixed, sizeof fixed);
    cli_params_longopts(hc_hparam_defs, hc_n_hparam_defs, O_HP, opts + nf);
    cli_params_longopts(hc_teach_params, hc_n_teach_params, O_LOOP, opts + nf + hc_n_hparam_defs);
    opts[nf + hc_n_hparam_defs + hc_n_teach_params] = (struct option){0, 0, 0, 0};
    return HC_OK;
}

/* The family named by --model, looked up before the other flags (its defaults are what they
 * override); prints the help when asked. Returns 0 with a->type set, CLI_EXIT_OK after the
 * help (a->type NULL), or CLI_EXIT_USAGE. */
static int teacher_family(int argc, char **argv, teacher_args *a)
{
    const char *model = NULL;
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
    a->type = type;
    return 0;
}

/* Parses the command line into a (a->type NULL after --help). */
static int teacher_parse(int argc, char **argv, teacher_args *a)
{
    struct option opts[96];
    memset(a, 0, sizeof *a);
    int rc = teacher_longopts(opts, (int)(sizeof opts / sizeof opts[0])), c;
    if (rc != HC_OK)
        return cli_fail(rc);
    if ((rc = teacher_family(argc, argv, a)) != 0 || !a->type)
        return rc;
    hc_hparams_default(a->type, &a->hp);
    hc_teach_opts_default(&a->to);
    a->traj = 1;
    cli_getopt g;
    cli_getopt_init(&g, CMD, "m:d:o:hqv", opts, NULL, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        if (cli_common_arg(CMD, &a->cc, c, optarg, &rc))
            continue;
        if (c >= O_HP && c < O_HP + hc_n_hparam_defs) {
            const hc_param_def *p = &hc_hparam_defs[c - O_HP];
            rc = hc_model_type_uses(a->type, p->name)
                     ? cli_param_arg(CMD, p, &a->hp, optarg)
                     : cli_usage_error(CMD, "--%s is not a hyperparameter of %s (it has: %s)",
                                       p->name, a->type->name, a->type->params);
        } else if (c >= O_LOOP && c < O_LOOP + hc_n_teach_params) {
            rc = cli_param_arg(CMD, &hc_teach_params[c - O_LOOP], &a->to, optarg);
        } else if (c == 'd' || c == 'o') {
            *(c == 'd' ? &a->data : &a->out) = optarg;
        } else if (c == O_NOTRAJ) {
            a->traj = 0;
        }
    }
    if (!rc && optind < argc)
        rc = cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!rc && (!a->data || !a->out))
        rc = cli_usage_error(CMD, "--data and --out are required");
    return rc;
}

/* log.json: the hyperparameters, the best evaluation, the checkpoints and every evaluation. */
static json_t *teacher_log(const teacher_args *a, int64_t nparams, const hc_fit_result *fr,
                           const hc_traj *tj, json_t *evals)
{
    const hc_fit_eval *best = &fr->evals[fr->best];
    json_t *root = json_object();
    json_object_set_new(root, "model", json_string(a->type->name));
    json_object_set_new(root, "hparams", cli_hparams_json(a->type, &a->hp));
    json_object_set_new(root, "params", json_integer(nparams));
    json_object_set_new(root, "epochs", json_integer(fr->epochs));
    json_object_set_new(root, "best_epoch", json_integer(best->epoch));
    json_object_set_new(root, "train_s_per_epoch",
                        json_real(fr->train_s / (fr->epochs > 0 ? fr->epochs : 1)));
    json_object_set_new(root, "best", cli_result_json(&best->res));
    if (a->traj) {
        json_t *cj = json_array();
        for (int32_t k = 0; k < tj->n_ckpt; k++) {
            json_t *o = json_object();
            json_object_set_new(o, "epoch", json_integer(tj->epochs[k]));
            json_object_set_new(o, "valid_R@50", json_real(tj->valid_r50[k]));
            json_array_append_new(cj, o);
        }
        json_object_set_new(root, "checkpoints", cj);
    }
    json_object_set(root, "evaluations", evals);
    return root;
}

/* The summary on stdout, one "key<TAB>value" per line. */
static void teacher_summary(const teacher_args *a, int64_t nparams, const hc_fit_result *fr,
                            const hc_traj *tj)
{
    const hc_fit_eval *best = &fr->evals[fr->best];
    printf("model\t%s\nparams\t%lld\nepochs\t%d\nbest_epoch\t%d\ns_per_epoch\t%.3f\n",
           a->type->name, (long long)nparams, fr->epochs, best->epoch,
           fr->train_s / (fr->epochs > 0 ? fr->epochs : 1));
    for (int k = 0; k < HC_EVAL_NK; k++)
        printf("test_R@%d\t%.4f\ntest_N@%d\t%.4f\n", hc_eval_ks[k], best->res.test.recall[k],
               hc_eval_ks[k], best->res.test.ndcg[k]);
    if (a->traj) {
        printf("checkpoints");
        for (int32_t k = 0; k < tj->n_ckpt; k++)
            printf("\t%d:%.4f", tj->epochs[k], (double)tj->valid_r50[k]);
        printf("\n");
    }
}

/* The outputs of an earlier teacher run in dir, removed before this one trains: a run that is
 * killed then leaves a subset of one generation (model.hcm, then trajectory.hct, then
 * log.json are written), never a new model beside an older trajectory that later commands
 * would take as one teacher. */
static int remove_outputs(const char *dir)
{
    static const char *const files[] = {"log.json", "trajectory.hct", "model.hcm"};
    for (int i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return hc_error(HC_EIO, "%s: cannot replace: %s", p, strerror(errno));
    }
    return HC_OK;
}

int cmd_teacher(int argc, char **argv)
{
    teacher_args a;
    int rc = teacher_parse(argc, argv, &a);
    if (rc || !a.type)
        return rc;
    cli_common_start(&a.cc);
    hc_fit_opts fo = a.to.fit;
    if (!a.traj)
        fo.record_k = 0;
    fo.eval_seed = a.hp.seed;
    hc_dataset ds = {0};
    hc_model *m = NULL;
    hc_fit_result fr = {0};
    hc_traj tj = {0};
    json_t *root = NULL;
    progress pr = {a.type->name, isatty(2), a.cc.quiet, hc_now_s(), json_array(), 0};
    char path[4096];
    if ((rc = hc_dataset_load(a.data, &ds)) != HC_OK || (rc = cli_make_dir(a.out)) != HC_OK ||
        (rc = hc_model_create(a.type, &ds, &a.hp, &m)) != HC_OK)
        goto done;
    if ((rc = remove_outputs(a.out)) != HC_OK)
        goto done;
    int64_t nparams = hc_model_n_params(m);
    if (!a.cc.quiet)
        fprintf(stderr, "[%s] %s: %d users, %d items, %lld train; dim %d, %lld parameters\n",
                a.type->name, a.data, ds.n_users, ds.n_items, (long long)ds.train.nnz, a.hp.dim,
                (long long)nparams);
    fo.on_epoch = on_epoch;
    fo.on_eval = on_eval;
    fo.ud = &pr;
    if ((rc = hc_fit(m, &ds, &fo, &fr)) != HC_OK)
        goto done;
    snprintf(path, sizeof path, "%s/model.hcm", a.out);
    if ((rc = hc_model_save(m, path)) != HC_OK)
        goto done;
    if (a.traj) {
        snprintf(path, sizeof path, "%s/trajectory.hct", a.out);
        if ((rc = hc_traj_from_fit(&fr, &ds, a.type->name, a.to.checkpoints, &tj)) != HC_OK ||
            (rc = hc_traj_save(&tj, path)) != HC_OK)
            goto done;
    }
    root = teacher_log(&a, nparams, &fr, &tj, pr.evals);
    snprintf(path, sizeof path, "%s/log.json", a.out);
    if ((rc = cli_json_write(root, path)) != HC_OK || (rc = cli_common_json(&a.cc, root)) != HC_OK)
        goto done;
    teacher_summary(&a, nparams, &fr, &tj);
done:
    json_decref(pr.evals);
    json_decref(root);
    hc_traj_free(&tj);
    hc_fit_result_free(&fr);
    hc_model_free(m);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
