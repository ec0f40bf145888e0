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
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "distill_cli.h"

static const char *CMD = "distill";

static void help(void)
{
    printf("usage: hetcomp distill --data DS.hcd --teachers T1 [T2 ...] --out DIR [options]\n\n"
           "Distils the teachers (directories from 'hetcomp teacher' or trajectory files) into\n"
           "an MF student. Methods (docs/distillation.md):\n");
    for (int i = 0; hc_distiller_types[i]; i++)
        printf("  %-8s %s\n", hc_distiller_types[i]->name, hc_distiller_types[i]->title);
    printf("\noptions:\n"
           "  --method NAME       distillation method (hetcomp)\n");
    cli_distill_flags_help(stdout);
}

/* Refuses an --out that is a teacher's directory (the student's model.hcm and log.json would
 * replace the teacher's) or whose files are inputs, which the atomic renames would replace. */
static int check_outputs(const cli_distill_args *a)
{
    enum { N = HC_DISTILL_MAX_TEACHERS };
    const char *dirs[N], *files[N + 1];
    char fbuf[N][4096], dbuf[N][4096], path[4096];
    int n = a->n_teachers < N ? a->n_teachers : N;
    files[0] = a->data;
    for (int x = 0; x < n; x++) {
        files[x + 1] = cli_teacher_file(a->teachers[x], fbuf[x], sizeof fbuf[x]);
        snprintf(dbuf[x], sizeof dbuf[x], "%s", files[x + 1]);
        char *slash = strrchr(dbuf[x], '/');
        if (slash)
            *slash = '\0';
        dirs[x] = slash ? dbuf[x] : ".";
    }
    int rc = cli_out_not_input(a->out, dirs, n);
    static const char *const outs[] = {"model.hcm", "log.json"};
    for (int f = 0; !rc && f < 2; f++) {
        snprintf(path, sizeof path, "%s/%s", a->out, outs[f]);
        rc = cli_out_not_input(path, files, n + 1);
    }
    return rc;
}

/* Says which rest sums and DKC ranks HetComp takes (docs/distillation.md, catalog scale). */
static void say_scale(const hc_distill_opts *o, int32_t n_items)
{
    int rest = hc_distill_rest_sampled(o->rest, n_items);
    int dkc = !o->no_dkc &&
              hc_distill_rest_sampled(o->dkc_rank == HC_REST_AUTO ? o->rest : o->dkc_rank, n_items);
    if (!rest && !dkc)
        return;
    fprintf(stderr, "[hetcomp] %d items: ", n_items);
    if (rest)
        fprintf(stderr, "rest sets sampled (%d draws per %d users%s, %s proposal)", o->rest_samples,
                o->rest_group, o->rest_head > 0 ? ", a head summed exactly" : "",
                o->rest_proposal ? "popularity" : "uniform");
    if (dkc)
        fprintf(stderr, "%sDKC ranks estimated (%d draws per user)", rest ? ", " : "",
                o->dkc_samples);
    fprintf(stderr, "%s\n", o->rest == HC_REST_AUTO ? "; --rest exact for the exact sums" : "");
}

int cmd_distill(int argc, char **argv)
{
    cli_distill_args a;
    const char *method = "hetcomp";
    const cli_flag own[] = {CLI_F_STR("method", 'm', &method), CLI_F_END};
    int rc = cli_distill_parse(CMD, "m:d:t:o:hqv", own, help, &a, argc, argv);
    if (rc >= 0)
        return rc;
    rc = 0;
    const hc_distiller_type *type = hc_distiller_type_find(method);
    if (!type)
        rc = cli_usage_error(CMD, "unknown method '%s'", method);
    if (!rc)
        rc = cli_distill_args_finish(CMD, &a, argc, argv);
    if (!rc && a.n_teachers == 0 && strcmp(method, "bpr") != 0)
        rc = cli_usage_error(CMD, "--teachers is required for method '%s'", method);
    if (rc) {
        cli_distill_args_free(&a);
        return rc;
    }
    cli_common_start(&a.cc);
    const hc_distill_opts *o = &a.o;
    cli_distill_inputs in = {0};
    hc_kd_ctx ctx = {0};
    hc_distill_result r = {0};
    cli_distill_progress pr = {method,       a.cc.quiet,   1, isatty(2),
                               a.n_teachers, json_array(), 0, o->max_epochs,
                               hc_now_s(),   NULL};
    json_t *root = NULL;
    char path[4096];
    if ((rc = cli_distill_load(&a, type->shares_teachers, &in)) != HC_OK ||
        (rc = check_outputs(&a)) != HC_OK || (rc = cli_make_dir(a.out)) != HC_OK)
        goto done;
    pr.teachers = in.t;
    if (!a.cc.quiet && !strcmp(method, "hetcomp"))
        say_scale(o, in.ds.n_items);
    ctx.ds = &in.ds;
    ctx.n_teachers = in.n_teachers;
    ctx.teachers = in.tv;
    ctx.opts = *o;
    hc_distill_hooks hooks = {cli_distill_on_epoch, cli_distill_on_eval, &pr};
    if ((rc = hc_distill_run(type, &ctx, &hooks, &r)) != HC_OK)
        goto done;
    snprintf(path, sizeof path, "%s/model.hcm", a.out);
    if ((rc = hc_model_save(ctx.student, path)) != HC_OK)
        goto done;
    const hc_distill_eval *best = &r.evals[r.best];
    double spe = r.train_s / (r.epochs > 0 ? r.epochs : 1);
    root = cli_distill_log(method, in.t, in.n_teachers, &ctx.opts, ctx.student, &r, pr.rows);
    snprintf(path, sizeof path, "%s/log.json", a.out);
    if ((rc = cli_json_write(root, path)) != HC_OK || (rc = cli_common_json(&a.cc, root)) != HC_OK)
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
    cli_distill_inputs_free(&in);
    cli_distill_args_free(&a);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
