/*
 * cmd_run.c - `hetcomp run`: from a ratings file (or the built-in synthetic data) to a
 * distilled student and a report, in resumable stages (cli/stage.c):
 *
 *   synth (without --data) -> split -> teacher-<family> x 6 -> ensemble -> student-bpr,
 *   student-hetcomp -> latency-<model> -> report
 *
 * Each stage is the matching subcommand run as a child process, so `hetcomp run` does exactly
 * what the single commands do; a stage whose inputs (file contents) and flags are unchanged
 * since it last finished is skipped, so re-running an interrupted run resumes it.
 * Layout of the run directory: data.hcd, stats.json, popularity.json, teachers/<family>/,
 * ensemble/, students/{bpr,hetcomp}/,
 * latency/<model>.json, logs/<stage>.txt (each child's stdout), run.json, report.html.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model/model.h"
#include "report.h"
#include "stage.h"

static const char *CMD = "run";

#define MAX_TEACHERS 16

static void help(void)
{
    char families[256], methods[512];
    cli_family_list(families, sizeof families);
    cli_method_list(methods, sizeof methods);
    printf("usage: hetcomp run --out DIR [--data FILE [--format F]] [options]\n\n"
           "Runs the whole pipeline: split the data, train the teachers with their\n"
           "trajectories, build their ensemble, distil the student with HetComp and train\n"
           "the same student without distillation (BPR), measure inference latency, and\n"
           "write DIR/report.html. Without --data it uses the built-in synthetic dataset.\n"
           "Stages whose inputs and flags are unchanged are skipped, so running the same\n"
           "command again resumes an interrupted run (--force runs everything again).\n\n"
           "options:\n"
           "  --out DIR              run directory (required; created)\n"
           "  --data FILE            interactions file (see 'hetcomp split --help')\n"
           "  --import DIR           a split made elsewhere (split's --import: DIR/train.tsv,\n"
           "                         valid.tsv, test.tsv), instead of --data\n"
           "  --format F             input format for split (auto)\n"
           "  --threshold X          keep ratings >= X (split's --threshold)\n"
           "  --split-seed N         split seed (0)\n"
           "  --teachers LIST        teacher families, comma-separated (%s)\n"
           "  --teacher-epochs N     cap on each teacher's epochs (none)\n"
           "  --out-samples S        teachers with a sampled output layer (ae, iae): S draws\n"
           "                         per batch (teacher's --out-samples; 0: exact) (0)\n"
           "  --eval-every N         teachers' evaluation interval in epochs (5)\n"
           "  --patience N           teachers' patience in evaluations (5)\n"
           "  --student-epochs N     cap on the students' epochs (none: early stopping)\n"
           "  --dim N                student dimension (6)\n"
           "  --seed N               seed of teachers and students (0)\n"
           "  --latency-queries N    single-user queries timed per model (500)\n"
           "  --compare LIST         also run 'hetcomp compare' with these methods, e.g.\n"
           "                         %s (off: it trains\n"
           "                         every method --compare-seeds times)\n"
           "  --compare-seeds N      seeds per method with --compare (3)\n"
           "  --force                run every stage again\n"
           "(--threads is passed to the stages; --json FILE writes the run's summary)\n",
           families, methods);
    cli_common_help(stdout);
}

typedef struct {
    const char *data, *import, *format, *threshold, *split_seed, *teachers, *teacher_epochs;
    const char *eval_every, *patience, *student_epochs, *dim, *seed, *queries;
    const char *compare, *compare_seeds, *out_samples;
    int force;
    cli_common cc;
} run_opts;

/* Appends to a NULL-terminated argument vector of capacity 64. */
static void push(const char **v, const char *a)
{
    int n = 0;
    while (v[n])
        n++;
    if (n < 63) {
        v[n] = a;
        v[n + 1] = NULL;
    }
}

static void push_opt(const char **v, const char *flag, const char *value)
{
    if (value) {
        push(v, flag);
        push(v, value);
    }
}

/* Creates dir/sub. */
static int make_subdir(const char *dir, const char *sub)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    return cli_make_dir(p);
}

/* Splits a comma list into at most MAX_TEACHERS names (in buf). */
static int split_list(char *buf, char **names)
{
    int n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (!*tok)
            continue;
        if (n == MAX_TEACHERS)
            return -1;
        names[n++] = tok;
    }
    return n;
}

/* Inference latency of every teacher, the live ensemble of all teachers and both students:
 * `hetcomp recommend --bench` (single-user queries, as the server answers them, plus one pass
 * over all users) into latency/<name>.json. */
static int run_latency(cli_stages *st, const run_opts *o, int nf, char (*tmodel)[640], char **fam)
{
    int rc = HC_OK;
    for (int x = 0; !rc && x < nf + 3; x++) {
        char name[64], json[96], smodel[64];
        const char *a[64] = {"recommend", "--data",  "data.hcd", "-k",
                             "50",        "--bench", o->queries, NULL};
        const char *in[MAX_TEACHERS + 2] = {"data.hcd", NULL};
        const char *label = x < nf        ? fam[x]
                            : x == nf     ? "ensemble"
                            : x == nf + 1 ? "bpr"
                                          : "hetcomp";
        if (x < nf) {
            push_opt(a, "--model", tmodel[x]);
            in[1] = tmodel[x];
        } else if (x == nf) {
            for (int y = 0; y < nf; y++) {
                push_opt(a, "--model", tmodel[y]);
                in[y + 1] = tmodel[y];
            }
            in[nf + 1] = NULL;
        } else {
            snprintf(smodel, sizeof smodel, "students/%s/model.hcm", label);
            push_opt(a, "--model", smodel);
            in[1] = smodel;
        }
        snprintf(name, sizeof name, "latency-%s", label);
        snprintf(json, sizeof json, "latency/%s.json", label);
        push_opt(a, "--json", json);
        const char *out[] = {json, NULL};
        rc = cli_stage_run(st, name, a, in, out);
    }
    return rc;
}

/* The data stages: synth (without --data), split (or the import), stats and the popularity
 * baseline. */
static int run_data(cli_stages *st, const run_opts *o)
{
    int rc;
    const char *data = o->data;
    if (o->import) {
        /* a split made elsewhere: its files are the inputs */
        static const char *const files[] = {"train.tsv", "valid.tsv", "test.tsv", "users.txt",
                                            "items.txt"};
        char paths[5][PATH_MAX + 16];
        const char *in[6] = {NULL};
        int n = 0;
        for (int i = 0; i < 5; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/%s", o->import, files[i]);
            if (access(paths[i], R_OK) == 0)
                in[n++] = paths[i];
        }
        const char *a[64] = {"split", "--import", o->import, "--out", "data.hcd", NULL};
        push_opt(a, "--format", o->format);
        const char *out[] = {"data.hcd", NULL};
        if ((rc = cli_stage_run(st, "split", a, in, out)))
            return rc;
    } else if (!data) {
        const char *a[] = {"synth", "--out", "synth.tsv", NULL};
        const char *out[] = {"synth.tsv", NULL};
        if ((rc = cli_stage_run(st, "synth", a, NULL, out)))
            return rc;
        data = "synth.tsv";
    }
    if (!o->import) {
        const char *a[64] = {"split", "--data", data, "--out", "data.hcd", NULL};
        push_opt(a, "--format", o->format);
        push_opt(a, "--threshold", o->threshold);
        push_opt(a, "--seed", o->split_seed);
        const char *in[] = {data, NULL}, *out[] = {"data.hcd", NULL};
        if ((rc = cli_stage_run(st, "split", a, in, out)))
            return rc;
    }
    { /* the dataset's summary and the popularity baseline, for the report */
        const char *in[] = {"data.hcd", NULL}, *sout[] = {"stats.json", NULL},
                   *pout[] = {"popularity.json", NULL};
        const char *sa[] = {"stats", "--data", "data.hcd", "--json", "stats.json", "-q", NULL};
        const char *pa[] = {"eval", "--data", "data.hcd", "--json", "popularity.json", "-q", NULL};
        if ((rc = cli_stage_run(st, "stats", sa, in, sout)) ||
            (rc = cli_stage_run(st, "popularity", pa, in, pout)))
            return rc;
    }
    return HC_OK;
}

static int run_pipeline(cli_stages *st, const run_opts *o, char **fam, int nf)
{
    int rc;
    if ((rc = run_data(st, o)) != HC_OK)
        return rc;
    if ((rc = make_subdir(st->dir, "teachers")) || (rc = make_subdir(st->dir, "students")) ||
        (rc = make_subdir(st->dir, "latency")))
        return rc;
    char tdir[MAX_TEACHERS][600], ttraj[MAX_TEACHERS][640], tmodel[MAX_TEACHERS][640];
    char tlog[MAX_TEACHERS][640];
    for (int x = 0; x < nf; x++) {
        char name[64];
        snprintf(tdir[x], sizeof tdir[x], "teachers/%s", fam[x]);
        snprintf(ttraj[x], sizeof ttraj[x], "teachers/%s/trajectory.hct", fam[x]);
        snprintf(tmodel[x], sizeof tmodel[x], "teachers/%s/model.hcm", fam[x]);
        snprintf(tlog[x], sizeof tlog[x], "teachers/%s/log.json", fam[x]);
        cli_stage_name(name, sizeof name, CLI_STAGE_TEACHER, fam[x]);
        const char *a[64] = {"teacher", "--model", fam[x],    "--data", "data.hcd",
                             "--out",   tdir[x],   "--quiet", NULL};
        push_opt(a, "--epochs", o->teacher_epochs);
        push_opt(a, "--eval-every", o->eval_every);
        push_opt(a, "--patience", o->patience);
        push_opt(a, "--seed", o->seed);
        if (hc_model_type_uses(hc_model_type_find(fam[x]), "out-samples"))
            push_opt(a, "--out-samples", o->out_samples);
        const char *in[] = {"data.hcd", NULL}, *out[] = {tmodel[x], ttraj[x], tlog[x], NULL};
        if ((rc = cli_stage_run(st, name, a, in, out)))
            return rc;
    }
    const char *tin[MAX_TEACHERS + 2] = {"data.hcd"};
    for (int x = 0; x < nf; x++)
        tin[x + 1] = ttraj[x];
    tin[nf + 1] = NULL;
    {
        const char *a[64] = {"ensemble", "--data",     "data.hcd", "--out",
                             "ensemble", "--teachers", NULL};
        for (int x = 0; x < nf; x++)
            push(a, tdir[x]);
        const char *out[] = {"ensemble/ensemble.json", "ensemble/ensemble.hct", NULL};
        if ((rc = cli_stage_run(st, "ensemble", a, tin, out)))
            return rc;
    }
    static const char *methods[] = {"bpr", "hetcomp"};
    for (int m = 0; m < 2; m++) {
        char name[64], dir[64], model[96], log[96];
        cli_stage_name(name, sizeof name, CLI_STAGE_STUDENT, methods[m]);
        snprintf(dir, sizeof dir, "students/%s", methods[m]);
        snprintf(model, sizeof model, "%s/model.hcm", dir);
        snprintf(log, sizeof log, "%s/log.json", dir);
        const char *a[64] = {"distill", "--method", methods[m], "--data", "data.hcd",
                             "--out",   dir,        "--quiet",  NULL};
        push_opt(a, "--epochs", o->student_epochs);
        push_opt(a, "--dim", o->dim);
        push_opt(a, "--seed", o->seed);
        if (m == 1) {
            push(a, "--teachers");
            for (int x = 0; x < nf; x++)
                push(a, tdir[x]);
        }
        const char *out[] = {model, log, NULL};
        const char *bin[] = {"data.hcd", NULL};
        if ((rc = cli_stage_run(st, name, a, m == 1 ? tin : bin, out)))
            return rc;
    }
    if ((rc = run_latency(st, o, nf, tmodel, fam)))
        return rc;
    if (o->compare) {
        /* the distillation methods side by side (hetcomp compare), when asked for */
        const char *a[64] = {"compare", "--data",    "data.hcd", "--out", "compare",
                             "--quiet", "--methods", o->compare, NULL};
        push_opt(a, "--seeds", o->compare_seeds);
        push_opt(a, "--epochs", o->student_epochs);
        push_opt(a, "--dim", o->dim);
        push_opt(a, "--seed", o->seed);
        push(a, "--teachers");
        for (int x = 0; x < nf; x++)
            push(a, tdir[x]);
        const char *out[] = {"compare/compare.json", "compare/compare.tsv", NULL};
        rc = cli_stage_run(st, "compare", a, tin, out);
    }
    return rc;
}

/* The pipeline's flags, passed on to the stages as given once checked here. */
enum {
    O_OUT = 256,
    O_DATA,
    O_FORMAT,
    O_THRESHOLD,
    O_SPLIT_SEED,
    O_TEACHERS,
    O_TEPOCHS,
    O_EVAL,
    O_PAT,
    O_SEPOCHS,
    O_DIM,
    O_SEED,
    O_QUERIES,
    O_FORCE,
    O_IMPORT,
    O_COMPARE,
    O_CSEEDS,
    O_OUT_SAMPLES
};

int cmd_run(int argc, char **argv)
{
    char families[256];
    cli_family_list(families, sizeof families);
    run_opts o = {.teachers = families, .queries = "500"};
    const char *out = NULL;
    const cli_flag flags[] = {
        CLI_F_STR("out", O_OUT, &out),
        CLI_F_TEXT("import", O_IMPORT, 's', &o.import, 0, 0),
        CLI_F_TEXT("compare", O_COMPARE, 's', &o.compare, 0, 0),
        CLI_F_TEXT("compare-seeds", O_CSEEDS, 'i', &o.compare_seeds, 1, 1000),
        CLI_F_TEXT("data", O_DATA, 's', &o.data, 0, 0),
        CLI_F_TEXT("format", O_FORMAT, 's', &o.format, 0, 0),
        CLI_F_TEXT("threshold", O_THRESHOLD, 'd', &o.threshold, -1e30, 1e30),
        CLI_F_TEXT("split-seed", O_SPLIT_SEED, 'u', &o.split_seed, 0, 0),
        CLI_F_TEXT("teachers", O_TEACHERS, 's', &o.teachers, 0, 0),
        CLI_F_TEXT("teacher-epochs", O_TEPOCHS, 'i', &o.teacher_epochs, 1, 1000000),
        CLI_F_TEXT("eval-every", O_EVAL, 'i', &o.eval_every, 1, 1000000),
        CLI_F_TEXT("patience", O_PAT, 'i', &o.patience, 1, 1000000),
        CLI_F_TEXT("student-epochs", O_SEPOCHS, 'i', &o.student_epochs, 1, 1000000),
        CLI_F_TEXT("dim", O_DIM, 'i', &o.dim, 1, 4096),
        CLI_F_TEXT("seed", O_SEED, 'u', &o.seed, 0, 0),
        CLI_F_TEXT("latency-queries", O_QUERIES, 'i', &o.queries, 1, 10000000),
        CLI_F_SET("force", O_FORCE, &o.force),
        CLI_F_TEXT("out-samples", O_OUT_SAMPLES, 'i', &o.out_samples, 0, 1 << 24),
        CLI_F_END};
    cli_args a = {.cmd = CMD, .shortopts = "hqv", .flags = flags, .cc = &o.cc, .help = help};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
        return rc;
    if (!out)
        return cli_usage_error(CMD, "--out is required");
    char list[512];
    char *fam[MAX_TEACHERS];
    snprintf(list, sizeof list, "%s", o.teachers);
    int nf = split_list(list, fam);
    if (nf <= 0)
        return cli_usage_error(CMD, "--teachers needs 1 to %d families", MAX_TEACHERS);
    for (int x = 0; x < nf; x++) {
        const hc_model_type *t = hc_model_type_find(fam[x]);
        if (!t || !strcmp(fam[x], "pop"))
            return cli_usage_error(CMD, "unknown teacher family '%s'", fam[x]);
        for (int y = 0; y < x; y++)
            if (!strcmp(fam[x], fam[y]))
                return cli_usage_error(CMD, "teacher family '%s' listed twice", fam[x]);
    }
    if (o.data && o.import)
        return cli_usage_error(CMD, "--data and --import exclude each other");
    char data_abs[PATH_MAX], import_abs[PATH_MAX];
    if (o.data && !realpath(o.data, data_abs)) {
        hc_error(HC_EIO, "%s: cannot open: %s", o.data, strerror(errno));
        return cli_fail(HC_EIO);
    }
    if (o.import && !realpath(o.import, import_abs)) {
        hc_error(HC_EIO, "%s: cannot open: %s", o.import, strerror(errno));
        return cli_fail(HC_EIO);
    }
    if (o.data)
        o.data = data_abs;
    if (o.import)
        o.import = import_abs;
    cli_log_init(o.cc.verbose, o.cc.quiet);
    cli_stages st;
    double t0 = hc_now_s();
    if ((rc = cli_stages_open(&st, out, o.force, o.cc.threads)) != HC_OK) {
        cli_stages_close(&st);
        return cli_fail(rc);
    }
    int failed = run_pipeline(&st, &o, fam, nf);
    if (failed)
        cli_fail(failed); /* say why first; the report then shows what has finished */
    char report[4200];
    snprintf(report, sizeof report, "%s/report.html", out);
    if ((rc = cli_report_write(out, report, failed ? NULL : stdout)) != HC_OK)
        cli_fail(rc);
    else if (failed)
        hc_log(HC_LOG_INFO,
               "[run] stopped; the report of the finished stages is in %s; run the "
               "same command again to resume",
               report);
    else
        hc_log(HC_LOG_INFO, "[run] finished in %.1f s (%d stages run, %d up to date); report: %s",
               hc_now_s() - t0, st.n_run, st.n_skipped, report);
    json_t *doc = json_pack("{s:s, s:b, s:i, s:i, s:f, s:s}", "out", out, "finished", !failed,
                            "stages_run", st.n_run, "stages_up_to_date", st.n_skipped, "seconds",
                            hc_now_s() - t0, "report", report);
    int jrc = cli_common_json(&o.cc, doc);
    if (jrc != HC_OK && !rc)
        rc = cli_fail(jrc);
    json_decref(doc);
    cli_stages_close(&st);
    return failed || rc ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
