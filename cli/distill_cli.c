/*
 * distill_cli.c - the distillation flags, progress and run log (see distill_cli.h).
 *
 * The hyperparameter flags are the library's table (src/distill/distill_params.c): their
 * options, parsing, help (defaults read from hc_distill_opts_default) and the options' JSON
 * all come from it.
 */
#include "distill_cli.h"

#include "dist/dist.h"
#include "params_cli.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_FLAGS hc_distill_n_params
#define PARAMS  hc_distill_params

int cli_distill_args_init(cli_distill_args *a, int argc)
{
    static const struct option shared[] = {{"data", required_argument, 0, 'd'},
                                           {"teachers", required_argument, 0, 't'},
                                           {"out", required_argument, 0, 'o'},
                                           CLI_COMMON_OPTIONS};
    const size_t cap = sizeof a->longopts / sizeof a->longopts[0];
    size_t n = 0;
    memset(a, 0, sizeof *a);
    hc_distill_opts_default(&a->o);
    for (size_t k = 0; k < sizeof shared / sizeof shared[0]; k++)
        a->longopts[n++] = shared[k];
    if (n + (size_t)N_FLAGS + 1 >= cap)
        return hc_error(HC_EINVAL, "too many options");
    cli_params_longopts(PARAMS, N_FLAGS, CLI_DISTILL_OPT0, a->longopts + n);
    a->teachers = calloc((size_t)argc + 1, sizeof *a->teachers);
    return a->teachers ? HC_OK : hc_error(HC_ENOMEM, "out of memory");
}

void cli_distill_args_free(cli_distill_args *a)
{
    free(a->teachers);
    a->teachers = NULL;
}

int cli_distill_arg(const char *cmd, int c, const char *arg, cli_distill_args *a)
{
    int rc = 0;
    if (cli_common_arg(cmd, &a->cc, c, arg, &rc))
        return rc;
    switch (c) {
    case 'd':
        a->data = arg;
        return 0;
    case 't':
        a->teachers[a->n_teachers++] = (char *)arg;
        return 0;
    case 'o':
        a->out = arg;
        return 0;
    default:
        if (c < CLI_DISTILL_OPT0 || c >= CLI_DISTILL_OPT0 + N_FLAGS)
            return -1;
        return cli_param_arg(cmd, &PARAMS[c - CLI_DISTILL_OPT0], &a->o, arg);
    }
}

/* cli_distill_arg as a cli_args handler. */
static int distill_other(const char *cmd, int c, const char *arg, void *ud)
{
    return cli_distill_arg(cmd, c, arg, ud);
}

int cli_distill_parse(const char *cmd, const char *shortopts, const cli_flag *own,
                      void (*help)(void), cli_distill_args *a, int argc, char **argv)
{
    static const int repeatable[] = {'t', 0};
    int rc = cli_distill_args_init(a, argc);
    if (rc) {
        cli_distill_args_free(a);
        return cli_fail(rc);
    }
    cli_args p = {.cmd = cmd,
                  .shortopts = shortopts,
                  .flags = own,
                  .more = a->longopts,
                  .repeatable = repeatable,
                  .operands = 1,
                  .help = help,
                  .other = distill_other,
                  .ud = a};
    if ((rc = cli_parse(&p, argc, argv)) >= 0)
        cli_distill_args_free(a);
    return rc;
}

int cli_distill_args_finish(const char *cmd, cli_distill_args *a, int argc, char **argv)
{
    for (int i = optind; i < argc; i++)
        a->teachers[a->n_teachers++] = argv[i];
    if (!a->data || !a->out)
        return cli_usage_error(cmd, "--data and --out are required");
    return 0;
}

int cli_distill_load(const cli_distill_args *a, int share, cli_distill_inputs *in)
{
    memset(in, 0, sizeof *in);
    int rc;
    in->tv = calloc((size_t)(a->n_teachers > 0 ? a->n_teachers : 1), sizeof *in->tv);
    if (!in->tv)
        rc = hc_error(HC_ENOMEM, "out of memory");
    else if ((rc = hc_dataset_load(a->data, &in->ds)) == HC_OK && a->n_teachers > 0)
        rc = cli_load_teachers(&in->ds, a->teachers, a->n_teachers, share, &in->t);
    /* under MPI every rank learns of a bad input before any creates an output */
    int any = dist_agree(rc);
    if (any != HC_OK) {
        cli_distill_inputs_free(in);
        return rc ? rc
                  : hc_error(any, "another rank could not read its inputs (its message says why)");
    }
    in->n_teachers = a->n_teachers;
    for (int32_t x = 0; x < in->n_teachers; x++)
        in->tv[x] = &in->t[x];
    return HC_OK;
}

void cli_distill_inputs_free(cli_distill_inputs *in)
{
    cli_free_teachers(in->t, in->n_teachers);
    free(in->tv);
    hc_dataset_free(&in->ds);
    memset(in, 0, sizeof *in);
}

void cli_distill_flags_help(FILE *fp)
{
    hc_distill_opts o;
    hc_distill_opts_default(&o);
    fprintf(fp, "  --data FILE         dataset file (required)\n"
                "  --teachers T ...    teachers: directories from 'hetcomp teacher' or trajectory\n"
                "                      files (not needed for bpr)\n"
                "  --out DIR           output directory (required)\n");
    cli_common_help(fp);
    cli_params_help(fp, PARAMS, N_FLAGS, &o, NULL, NULL);
}

json_t *cli_distill_opts_json(const hc_distill_opts *o)
{
    return cli_params_json(PARAMS, N_FLAGS, o, NULL, NULL);
}

void cli_distill_on_epoch(void *ud, int32_t epoch, double loss, double secs)
{
    cli_distill_progress *p = ud;
    if (p->quiet || !p->tty)
        return;
    cli_progress_bar(p->label, epoch + 1, p->max_epochs, loss, secs, hc_now_s() - p->t0);
}

void cli_distill_on_eval(void *ud, const hc_distill_eval *e)
{
    cli_distill_progress *p = ud;
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
    if (p->quiet || !p->evals)
        return;
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    cli_eval_sample_note(p->label, &e->res.valid, &p->sample_said);
    fprintf(stderr, "[%s] epoch %4d", p->label, e->epoch);
    if (e->st.phase != 0) { /* a method with phases and moving checkpoints (HetComp) */
        fprintf(stderr, " phase %d ckpt", e->st.phase);
        for (int32_t x = 0; x < p->n_teachers; x++)
            fprintf(stderr, " %s %.2f", p->teachers ? p->teachers[x].model : "",
                    e->st.mean_ckpt[x]);
    }
    fprintf(stderr,
            "  loss %-9.5g valid R@10 %.4f N@10 %.4f R@50 %.4f N@50 %.4f | test R@10 %.4f "
            "N@10 %.4f R@50 %.4f N@50 %.4f  %.1fs+%.1fs%s\n",
            e->loss, e->res.valid.recall[0], e->res.valid.ndcg[0], e->res.valid.recall[2],
            e->res.valid.ndcg[2], e->res.test.recall[0], e->res.test.ndcg[0], e->res.test.recall[2],
            e->res.test.ndcg[2], e->train_s, e->eval_s, e->improved ? "  *" : "");
}

json_t *cli_distill_log(const char *method, const hc_traj *teachers, int32_t n_teachers,
                        const hc_distill_opts *o, hc_model *student, const hc_distill_result *r,
                        json_t *rows)
{
    const hc_distill_eval *best = &r->evals[r->best];
    json_t *root = json_object(), *tj = json_array(), *cj = json_array();
    if (!root || !tj || !cj) {
        json_decref(root);
        json_decref(tj);
        json_decref(cj);
        return NULL;
    }
    for (int32_t x = 0; x < n_teachers; x++) {
        json_array_append_new(tj, json_string(teachers[x].model));
        json_array_append_new(cj, json_integer(teachers[x].n_ckpt));
    }
    int bad = json_object_set_new(root, "method", json_string(method));
    bad |= json_object_set_new(root, "teachers", tj);
    bad |= json_object_set_new(root, "teacher_checkpoints", cj);
    bad |= json_object_set_new(root, "dim", json_integer(o->dim));
    bad |= json_object_set_new(root, "options", cli_distill_opts_json(o));
    bad |= json_object_set_new(root, "params", json_integer(hc_model_n_params(student)));
    bad |= json_object_set_new(root, "epochs", json_integer(r->epochs));
    bad |= json_object_set_new(root, "best_epoch", json_integer(best->epoch));
    bad |= json_object_set_new(root, "train_s", json_real(r->train_s));
    bad |= json_object_set_new(root, "train_s_per_epoch",
                               json_real(r->train_s / (r->epochs > 0 ? r->epochs : 1)));
    bad |= json_object_set_new(root, "best", cli_result_json(&best->res));
    bad |= json_object_set(root, "evaluations", rows);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
