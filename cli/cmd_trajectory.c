/*
 * cmd_trajectory.c - `hetcomp trajectory show|export|import`: inspect a trajectory, write it
 * as text rows in the dataset's own ids, or bring in the rankings of a teacher trained
 * elsewhere (docs/formats.md).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "traj/trajectory.h"

static const char *CMD = "trajectory";

static void help(void)
{
    printf("usage: hetcomp trajectory show   --data DS.hcd --traj T.hct\n"
           "       hetcomp trajectory export --data DS.hcd --traj T.hct --out ROWS.tsv\n"
           "       hetcomp trajectory import --data DS.hcd --in ROWS.tsv --out T.hct\n"
           "                                 [--allow-partial]\n\n"
           "Text rows: checkpoint<TAB>user<TAB>rank<TAB>item[<TAB>top|observed], with the\n"
           "dataset's own user and item ids; rank 0 is the best. 'top' rows (the default) rank\n"
           "unobserved items, 'observed' rows order the user's train items. Optional lines\n"
           "'# model<TAB>NAME', '# k<TAB>K' and\n"
           "'# checkpoint<TAB>C<TAB>epoch<TAB>E<TAB>valid_r50<TAB>V' carry metadata.\n\n"
           "options:\n"
           "  --data FILE         dataset file the trajectory belongs to (required)\n"
           "  --traj FILE         binary trajectory, or a teacher directory (show, export)\n"
           "  --in FILE           text rows (import)\n"
           "  --out FILE          output file (export, import)\n"
           "  --name NAME         teacher name stored on import (else the file's '# model'\n"
           "                      line)\n"
           "  --allow-partial     import even when fewer than %.0f %% of the users have a top\n"
           "                      list at every checkpoint (the count is always reported)\n",
           100.0 * HC_TRAJ_MIN_COVERAGE);
    cli_common_help(stdout);
}

/* --json FILE: what the summary lines say, as one object. */
static int write_json(const cli_common *cc, const hc_traj *t, int32_t missing)
{
    if (!cc->json)
        return HC_OK;
    json_t *doc = json_pack("{s:s, s:i, s:i, s:b}", "model", t->model, "checkpoints", t->n_ckpt,
                            "k", t->k, "observed", t->observed != NULL),
           *ck = json_array();
    for (int32_t k = 0; doc && ck && k < t->n_ckpt; k++) {
        double v = (double)t->valid_r50[k]; /* NaN when unknown (an import): null */
        json_array_append_new(ck, json_pack("{s:i, s:o}", "epoch", t->epochs[k], "valid_R@50",
                                            isfinite(v) ? json_real(v) : json_null()));
    }
    json_object_set_new(doc, "checkpoint_list", ck);
    if (missing >= 0)
        json_object_set_new(doc, "users_without_list", json_integer(missing));
    int rc = cli_common_json(cc, doc);
    json_decref(doc);
    return rc;
}

int cmd_trajectory(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc < 2)
            return cli_usage_error(CMD, "expected show, export or import");
        help();
        return CLI_EXIT_OK;
    }
    const char *verb = argv[1], *data = NULL, *traj = NULL, *in = NULL, *out = NULL, *name = NULL;
    int partial = 0;
    int32_t missing = -1;
    cli_common cc = {0};
    const cli_flag flags[] = {CLI_F_STR("data", 'd', &data),
                              CLI_F_STR("traj", 't', &traj),
                              CLI_F_STR("in", 'i', &in),
                              CLI_F_STR("out", 'o', &out),
                              CLI_F_STR("name", 'n', &name),
                              CLI_F_SET("allow-partial", 'p', &partial),
                              CLI_F_END};
    cli_args a = {.cmd = CMD,
                  .shortopts = "d:t:i:o:n:hqv",
                  .flags = flags,
                  .first = 2,
                  .cc = &cc,
                  .help = help};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
        return rc;
    int is_show = !strcmp(verb, "show"), is_exp = !strcmp(verb, "export"),
        is_imp = !strcmp(verb, "import");
    if (!is_show && !is_exp && !is_imp)
        return cli_usage_error(CMD, "unknown action '%s' (show, export, import)", verb);
    if (name && hc_traj_name_check(name, "--name") != HC_OK)
        return cli_usage_error(CMD, "%s", hc_errmsg());
    if (!data || ((is_show || is_exp) && !traj) || (is_imp && !in) || ((is_exp || is_imp) && !out))
        return cli_usage_error(CMD, "missing --data, --traj, --in or --out for '%s'", verb);
    cli_common_start(&cc);
    hc_dataset ds = {0};
    hc_traj t = {0};
    char buf[4096]; /* a teacher directory names its trajectory.hct, as for ensemble */
    if (traj)
        traj = cli_teacher_file(traj, buf, sizeof buf);
    const char *inputs[] = {data, traj, in};
    rc = out ? cli_out_not_input(out, inputs, 3) : HC_OK;
    if (rc || (rc = hc_dataset_load(data, &ds)) != HC_OK)
        goto done;
    if (is_imp) {
        if ((rc = hc_traj_import_text(in, &ds, partial ? 0.0 : HC_TRAJ_MIN_COVERAGE, &t,
                                      &missing)) != HC_OK)
            goto done;
        if (name)
            snprintf(t.model, sizeof t.model, "%s", name);
        rc = hc_traj_save(&t, out);
    } else {
        if ((rc = hc_traj_load(traj, &ds, &t)) != HC_OK)
            goto done;
        if (is_exp)
            rc = hc_traj_export_text(&t, &ds, out);
    }
    if (rc || (rc = write_json(&cc, &t, missing)) != HC_OK)
        goto done;
    printf("model\t%s\ncheckpoints\t%d\nk\t%d\nobserved\t%s\n", t.model, t.n_ckpt, t.k,
           t.observed ? "yes" : "no");
    if (missing >= 0) /* import: the most users without a list at a checkpoint */
        printf("users_without_list\t%d\n", missing);
    for (int32_t k = 0; k < t.n_ckpt; k++)
        printf("checkpoint\t%d\tepoch\t%d\tvalid_R@50\t%.4f\n", k, t.epochs[k],
               (double)t.valid_r50[k]);
done:
    hc_traj_free(&t);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
