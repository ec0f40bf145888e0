/*
 * cmd_distill.c - `hetcomp distill`: distil the teachers' trajectories into a small MF student
 * with HetComp (or train the same student without distillation: --method bpr), evaluating
 * every 10 epochs, stopping early, and saving the best-validation student.
 *
 * Output directory: model.hcm (the student, an "mf" model usable by every command) and
 * log.json (options, one row per evaluation with the phase and the mean DKC checkpoint per
 * teacher, the summary).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "distill/distill.h"

static const char *CMD = "distill";

static void help(void)
{
    hc_distill_opts o;
    hc_distill_opts_default(&o);
    printf("usage: hetcomp distill --data DS.hcd --teachers T1 [T2 ...] --out DIR [options]\n\n"
           "Distils the teachers (directories from 'hetcomp teacher' or trajectory files) into\n"
           "an MF student. Methods:\n");
    for (int i = 0; hc_distiller_types[i]; i++)
        printf("  %-8s %s\n", hc_distiller_types[i]->name, hc_distiller_types[i]->title);
    printf("\noptions (method.md sections 4-7; defaults are the paper's):\n"
           "  --method NAME       distillation method (hetcomp)\n"
           "  --data FILE         dataset file (required)\n"
           "  --teachers T ...    teachers (required except for bpr)\n"
           "  --out DIR           output directory (required)\n"
           "  --dim N             student dimension (%d)\n"
           "  --epochs N          maximum epochs (%d)\n"
           "  --lr X              Adam learning rate (%g)\n"
           "  --wd X              Adam weight decay, coupled L2 (%g)\n"
           "  --batch N           train interactions per step; a step trains their unique\n"
           "                      users (%d)\n"
           "  --init-std X        student init N(0, X) (%g)\n"
           "  --k N               ensemble list length K (%d)\n"
           "  --temperature T     ensemble rank temperature (%g)\n"
           "  --dkc-every P       DKC period p in epochs (%d)\n"
           "  --alpha X           DKC threshold base alpha (%g)\n"
           "  --decay X           DKC threshold decay per period (%g)\n"
           "  --w-set X           set-level loss weight, phase 1 (%g)\n"
           "  --w-rank X          permutation-level loss weight, phase 2 (%g)\n"
           "  --no-dkc            ablation: final checkpoints from the start\n"
           "  --switch-epoch N    with --no-dkc: epoch of the switch to phase 2 (%d)\n"
           "  --no-akt            ablation: permutation-level loss from the start\n"
           "  --eval-every N      evaluate every N epochs from epoch 0 (%d)\n"
           "  --patience N        evaluations without a better valid R@50 (%d)\n"
           "  --seed N            random seed (0)\n"
           "  --threads N         threads (all cores)\n"
           "  --quiet             no per-evaluation lines\n",
           o.dim, o.max_epochs, (double)o.lr, (double)o.wd, o.batch, (double)o.init_std, o.k,
           (double)o.temperature, o.dkc_every, (double)o.alpha, (double)o.decay, (double)o.w_set,
           (double)o.w_rank, o.switch_epoch, o.eval_every, o.patience);
}

typedef struct {
    const char *method;
    int quiet, tty;
    int32_t n_teachers;
    json_t *rows;
} progress;

static void on_epoch(void *ud, int32_t epoch, double loss, double secs)
{
    progress *p = ud;
    if (p->quiet || !p->tty)
        return;
    fprintf(stderr, "\r[%s] epoch %d  loss %.5g  %.2fs/epoch   ", p->method, epoch, loss, secs);
    fflush(stderr);
}

static void on_eval(void *ud, const hc_distill_eval *e)
{
    progress *p = ud;
    json_t *row = json_object(), *ck = json_array();
    json_object_set_new(row, "epoch", json_integer(e->epoch));
    json_object_set_new(row, "phase", json_integer(e->st.phase));
    for (int32_t x = 0; x < p->n_teachers; x++)
        json_array_append_new(ck, json_real(e->st.mean_ckpt[x]));
    json_object_set_new(row, "mean_ckpt", ck);
    json_object_set_new(row, "loss", json_real(e->loss));
    json_object_set_new(row, "train_s", json_real(e->train_s));
    json_object_set_new(row, "eval_s", json_real(e->eval_s));
    json_object_set_new(row, "metrics", cli_result_json(&e->res));
    json_array_append_new(p->rows, row);
    if (p->quiet)
        return;
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "[%s] epoch %4d phase %d ckpt", p->method, e->epoch, e->st.phase);
    for (int32_t x = 0; x < p->n_teachers; x++)
        fprintf(stderr, " %.2f", e->st.mean_ckpt[x]);
    fprintf(stderr,
            "  loss %-9.5g valid R@10 %.4f N@10 %.4f R@50 %.4f N@50 %.4f | test R@10 %.4f "
            "N@10 %.4f R@50 %.4f N@50 %.4f  %.1fs+%.1fs%s\n",
            e->loss, e->res.valid.recall[0], e->res.valid.ndcg[0], e->res.valid.recall[2],
            e->res.valid.ndcg[2], e->res.test.recall[0], e->res.test.ndcg[0], e->res.test.recall[2],
            e->res.test.ndcg[2], e->train_s, e->eval_s, e->improved ? "  *" : "");
}

int cmd_distill(int argc, char **argv)
{
    enum {
        O_DIM = 256,
        O_EPOCHS,
        O_LR,
        O_WD,
        O_BATCH,
        O_INIT,
        O_K,
        O_TEMP,
        O_P,
        O_ALPHA,
        O_DECAY,
        O_WSET,
        O_WRANK,
        O_NODKC,
        O_SWITCH,
        O_NOAKT,
        O_EVAL,
        O_PAT,
        O_SEED,
        O_THREADS,
        O_QUIET
    };
    static const struct option opts[] = {{"method", required_argument, 0, 'm'},
                                         {"data", required_argument, 0, 'd'},
                                         {"teachers", required_argument, 0, 't'},
                                         {"out", required_argument, 0, 'o'},
                                         {"dim", required_argument, 0, O_DIM},
                                         {"epochs", required_argument, 0, O_EPOCHS},
                                         {"lr", required_argument, 0, O_LR},
                                         {"wd", required_argument, 0, O_WD},
                                         {"batch", required_argument, 0, O_BATCH},
                                         {"init-std", required_argument, 0, O_INIT},
                                         {"k", required_argument, 0, O_K},
                                         {"temperature", required_argument, 0, O_TEMP},
                                         {"dkc-every", required_argument, 0, O_P},
                                         {"alpha", required_argument, 0, O_ALPHA},
                                         {"decay", required_argument, 0, O_DECAY},
                                         {"w-set", required_argument, 0, O_WSET},
                                         {"w-rank", required_argument, 0, O_WRANK},
                                         {"no-dkc", no_argument, 0, O_NODKC},
                                         {"switch-epoch", required_argument, 0, O_SWITCH},
                                         {"no-akt", no_argument, 0, O_NOAKT},
                                         {"eval-every", required_argument, 0, O_EVAL},
                                         {"patience", required_argument, 0, O_PAT},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"quiet", no_argument, 0, O_QUIET},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    hc_distill_opts o;
    hc_distill_opts_default(&o);
    const char *method = "hetcomp", *data = NULL, *out = NULL;
    char **tp = calloc((size_t)argc + 1, sizeof *tp);
    int32_t nt = 0, threads = 0, quiet = 0;
    double v;
    int c, rc = 0;
    if (!tp)
        return cli_fail(hc_error(HC_ENOMEM, "out of memory"));
    while (!rc && (c = getopt_long(argc, argv, "m:d:t:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            method = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 't':
            tp[nt++] = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case O_DIM:
            rc = cli_int(CMD, "--dim", optarg, 1, 4096, &o.dim);
            break;
        case O_EPOCHS:
            rc = cli_int(CMD, "--epochs", optarg, 1, 1000000, &o.max_epochs);
            break;
        case O_LR:
            rc = cli_double(CMD, "--lr", optarg, 1e-9, 10, &v);
            o.lr = (float)v;
            break;
        case O_WD:
            rc = cli_double(CMD, "--wd", optarg, 0, 10, &v);
            o.wd = (float)v;
            break;
        case O_BATCH:
            rc = cli_int(CMD, "--batch", optarg, 1, 1 << 24, &o.batch);
            break;
        case O_INIT:
            rc = cli_double(CMD, "--init-std", optarg, 0, 10, &v);
            o.init_std = (float)v;
            break;
        case O_K:
            rc = cli_int(CMD, "--k", optarg, 10, 512, &o.k);
            break;
        case O_TEMP:
            rc = cli_double(CMD, "--temperature", optarg, 1e-6, 1e9, &v);
            o.temperature = (float)v;
            break;
        case O_P:
            rc = cli_int(CMD, "--dkc-every", optarg, 1, 100000, &o.dkc_every);
            break;
        case O_ALPHA:
            rc = cli_double(CMD, "--alpha", optarg, 0, 100, &v);
            o.alpha = (float)v;
            break;
        case O_DECAY:
            rc = cli_double(CMD, "--decay", optarg, 0, 1, &v);
            o.decay = (float)v;
            break;
        case O_WSET:
            rc = cli_double(CMD, "--w-set", optarg, 0, 1e6, &v);
            o.w_set = (float)v;
            break;
        case O_WRANK:
            rc = cli_double(CMD, "--w-rank", optarg, 0, 1e6, &v);
            o.w_rank = (float)v;
            break;
        case O_NODKC:
            o.no_dkc = 1;
            break;
        case O_SWITCH:
            rc = cli_int(CMD, "--switch-epoch", optarg, 0, 1000000, &o.switch_epoch);
            break;
        case O_NOAKT:
            o.no_akt = 1;
            break;
        case O_EVAL:
            rc = cli_int(CMD, "--eval-every", optarg, 1, 1000000, &o.eval_every);
            break;
        case O_PAT:
            rc = cli_int(CMD, "--patience", optarg, 1, 1000000, &o.patience);
            break;
        case O_SEED:
            rc = cli_u64(CMD, "--seed", optarg, &o.seed);
            break;
        case O_THREADS:
            rc = cli_int(CMD, "--threads", optarg, 0, 1024, &threads);
            break;
        case O_QUIET:
            quiet = 1;
            break;
        case 'h':
            help();
            free(tp);
            return CLI_EXIT_OK;
        default:
            free(tp);
            return cli_usage_error(CMD, "unknown option");
        }
    }
    for (int i = optind; !rc && i < argc; i++)
        tp[nt++] = argv[i];
    const hc_distiller_type *type = hc_distiller_type_find(method);
    if (!rc && !type)
        rc = cli_usage_error(CMD, "unknown method '%s'", method);
    if (!rc && (!data || !out))
        rc = cli_usage_error(CMD, "--data and --out are required");
    if (!rc && nt == 0 && strcmp(method, "bpr") != 0)
        rc = cli_usage_error(CMD, "--teachers is required for method '%s'", method);
    if (rc) {
        free(tp);
        return rc;
    }
    cli_log_init(0, quiet);
    cli_threads(threads);
    hc_dataset ds = {0};
    hc_traj *t = NULL;
    const hc_traj **tv = calloc((size_t)(nt > 0 ? nt : 1), sizeof *tv);
    hc_kd_ctx ctx = {0};
    hc_distill_result r = {0};
    progress pr = {method, quiet, isatty(2), nt, json_array()};
    json_t *root = json_object();
    char path[4096];
    if (!tv) {
        rc = hc_error(HC_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = hc_dataset_load(data, &ds)) != HC_OK ||
        (nt > 0 && (rc = cli_load_teachers(&ds, tp, nt, &t)) != HC_OK) ||
        (rc = cli_make_dir(out)) != HC_OK)
        goto done;
    for (int32_t x = 0; x < nt; x++)
        tv[x] = &t[x];
    ctx.ds = &ds;
    ctx.n_teachers = nt;
    ctx.teachers = tv;
    ctx.opts = o;
    hc_distill_hooks hooks = {on_epoch, on_eval, &pr};
    if ((rc = hc_distill_run(type, &ctx, &hooks, &r)) != HC_OK)
        goto done;
    snprintf(path, sizeof path, "%s/model.hcm", out);
    if ((rc = hc_model_save(ctx.student, path)) != HC_OK)
        goto done;
    const hc_distill_eval *best = &r.evals[r.best];
    double spe = r.train_s / (r.epochs > 0 ? r.epochs : 1);
    json_t *tj = json_array();
    for (int32_t x = 0; x < nt; x++)
        json_array_append_new(tj, json_string(t[x].model));
    json_object_set_new(root, "method", json_string(method));
    json_object_set_new(root, "teachers", tj);
    json_object_set_new(root, "dim", json_integer(o.dim));
    json_object_set_new(root, "params", json_integer(hc_model_n_params(ctx.student)));
    json_object_set_new(root, "epochs", json_integer(r.epochs));
    json_object_set_new(root, "best_epoch", json_integer(best->epoch));
    json_object_set_new(root, "train_s_per_epoch", json_real(spe));
    json_object_set_new(root, "best", cli_result_json(&best->res));
    json_object_set(root, "evaluations", pr.rows);
    snprintf(path, sizeof path, "%s/log.json", out);
    if ((rc = cli_json_write(root, path)) != HC_OK)
        goto done;
    printf("method\t%s\nparams\t%lld\nepochs\t%d\nbest_epoch\t%d\ns_per_epoch\t%.3f\n", method,
           (long long)hc_model_n_params(ctx.student), r.epochs, best->epoch, spe);
    for (int k = 0; k < HC_EVAL_NK; k++)
        printf("test_R@%d\t%.4f\ntest_N@%d\t%.4f\n", hc_eval_ks[k], best->res.test.recall[k],
               hc_eval_ks[k], best->res.test.ndcg[k]);
done:
    json_decref(pr.rows);
    json_decref(root);
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
    cli_free_teachers(t, nt);
    free(tv);
    free(tp);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
