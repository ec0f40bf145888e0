/*
 * cmd_ensemble.c - `hetcomp ensemble`: the rank-importance ensemble (docs/method.md §3) of the
 * teachers' final checkpoints, evaluated beside each teacher (each teacher's own top list)
 * and beside the ensemble of the first checkpoints; writes the ensemble's lists as a
 * one-checkpoint trajectory and the table as JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ensemble/ensemble.h"

static const char *CMD = "ensemble";

static void help(void)
{
    printf("usage: hetcomp ensemble --data DS.hcd --teachers T1 [T2 ...] [--out DIR]\n\n"
           "Each teacher is a directory from 'hetcomp teacher' or a trajectory file.\n\n"
           "options:\n"
           "  --data FILE          dataset file (required)\n"
           "  --teachers T ...     teachers (required; repeat the flag or list them after it)\n"
           "  --k N                length of the ensemble's top lists (100)\n"
           "  --temperature T      rank temperature: importance exp(-rank / T) (10)\n"
           "  --out DIR            write DIR/ensemble.hct (the final-checkpoint ensemble's\n"
           "                       lists) and DIR/ensemble.json (the table)\n");
    cli_common_help(stdout);
}

/* The table: each teacher's final lists, the ensemble of the first checkpoints and of the
 * final ones, printed and appended to rows. */
static int table_rows(const hc_dataset *ds, const hc_traj *const *tv, int32_t nt, int32_t k,
                      float temp, json_t *rows)
{
    cli_print_metrics_header(stdout, "test");
    for (int32_t x = 0; x <= nt + 1; x++) {
        char name[64];
        double t0 = hc_now_s();
        hc_eval_result res;
        int rc;
        if (x < nt) {
            snprintf(name, sizeof name, "%s", tv[x]->model);
            rc = hc_ensemble_eval(ds, &tv[x], 1, NULL, temp, k, -1, &res);
        } else {
            snprintf(name, sizeof name, x == nt ? "ens-first" : "ensemble");
            rc = hc_ensemble_eval(ds, tv, nt, NULL, temp, k, x == nt ? 0 : -1, &res);
        }
        if (rc)
            return rc;
        cli_print_metrics_row(stdout, name, &res.test);
        json_t *row = json_object();
        json_object_set_new(row, "name", json_string(name));
        json_object_set_new(row, "metrics", cli_result_json(&res));
        json_object_set_new(row, "seconds", json_real(hc_now_s() - t0));
        json_array_append_new(rows, row);
    }
    return HC_OK;
}

/* The teacher paths: --teachers (repeatable), and the arguments after the options. */
typedef struct {
    char **tp;
    int32_t nt;
} teacher_list;

static int teacher_arg(const char *cmd, int c, const char *arg, void *ud)
{
    (void)cmd;
    teacher_list *l = ud;
    if (c != 't')
        return -1;
    l->tp[l->nt++] = (char *)arg;
    return 0;
}

int cmd_ensemble(int argc, char **argv)
{
    static const struct option more[] = {{"teachers", required_argument, 0, 't'}, {0, 0, 0, 0}};
    static const int repeatable[] = {'t', 0};
    const char *data = NULL, *out = NULL;
    teacher_list l = {calloc((size_t)argc + 1, sizeof(char *)), 0};
    int32_t k = 100;
    cli_common cc = {0};
    double temp = 10.0;
    if (!l.tp)
        return cli_fail(hc_error(HC_ENOMEM, "out of memory"));
    const cli_flag flags[] = {CLI_F_STR("data", 'd', &data), CLI_F_INT("k", 'k', &k, 1, 100000),
                              CLI_F_DBL("temperature", 'T', &temp, 1e-6, 1e9),
                              CLI_F_STR("out", 'o', &out), CLI_F_END};
    cli_args a = {.cmd = CMD,
                  .shortopts = "d:t:k:T:o:hqv",
                  .flags = flags,
                  .more = more,
                  .repeatable = repeatable,
                  .operands = 1,
                  .cc = &cc,
                  .help = help,
                  .other = teacher_arg,
                  .ud = &l};
    int rc = cli_parse(&a, argc, argv);
    for (int i = optind; rc < 0 && i < argc; i++)
        l.tp[l.nt++] = argv[i]; /* teachers listed after --teachers */
    if (rc < 0 && (!data || l.nt == 0))
        rc = cli_usage_error(CMD, "--data and --teachers are required");
    if (rc >= 0) {
        free(l.tp);
        return rc;
    }
    char **tp = l.tp;
    int32_t nt = l.nt;
    rc = HC_OK;
    cli_common_start(&cc);
    hc_dataset ds = {0};
    hc_traj *t = NULL, ens = {0};
    const hc_traj **tv = calloc((size_t)nt, sizeof *tv);
    json_t *root = json_object(), *rows = json_array();
    if (!tv) {
        rc = hc_error(HC_ENOMEM, "out of memory");
        goto done;
    }
    for (int f = 0; out && !rc && f < 2; f++) { /* a teacher may be an earlier ensemble.hct */
        char path[4096];
        snprintf(path, sizeof path, "%s/ensemble.%s", out, f ? "json" : "hct");
        if ((rc = cli_out_not_input(path, &data, 1)) == HC_OK)
            rc = cli_out_not_input(path, (const char *const *)tp, nt);
    }
    if (rc || (rc = hc_dataset_load(data, &ds)) != HC_OK ||
        (rc = cli_load_teachers(&ds, tp, nt, 1, &t)) != HC_OK)
        goto done;
    for (int32_t x = 0; x < nt; x++)
        tv[x] = &t[x];
    if ((rc = table_rows(&ds, tv, nt, k, (float)temp, rows)) != HC_OK)
        goto done;
    json_object_set_new(root, "k", json_integer(k));
    json_object_set_new(root, "temperature", json_real(temp));
    json_object_set(root, "rows", rows);
    if ((rc = cli_common_json(&cc, root)) != HC_OK)
        goto done;
    if (out) {
        char path[4096];
        if ((rc = cli_make_dir(out)) != HC_OK ||
            (rc = hc_ensemble_build(&ds, tv, nt, NULL, (float)temp, k, &ens, NULL)) != HC_OK)
            goto done;
        snprintf(path, sizeof path, "%s/ensemble.hct", out);
        if ((rc = hc_traj_save(&ens, path)) != HC_OK)
            goto done;
        snprintf(path, sizeof path, "%s/ensemble.json", out);
        if ((rc = cli_json_write(root, path)) != HC_OK)
            goto done;
    }
done:
    json_decref(rows);
    json_decref(root);
    hc_traj_free(&ens);
    cli_free_teachers(t, nt);
    free(tv);
    free(tp);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
