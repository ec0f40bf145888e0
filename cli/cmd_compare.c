/*
 * cmd_compare.c - `hetcomp compare`: trains the same MF student with several distillation
 * methods (and BPR without distillation) over several seeds on one dataset with the same
 * teachers (loaded once), and tabulates test Recall/NDCG@10/50 at the best validation point
 * (mean and sample standard deviation over seeds), epochs and training seconds, beside the
 * teachers' final-checkpoint ensemble the baselines learn from.
 *
 * Output directory: compare.tsv and compare.json (rewritten atomically after every finished
 * run, so an interrupted comparison keeps what it has), and <method>-seed<k>/log.json per run
 * (the `hetcomp distill` log) named by the run's seed, --seed + k.
 *
 * Resuming: each run's log carries a key, made as `run` keys its stages (stage.h): the hetcomp
 * version, the student stage's name for the method ("student-hetcomp"), every option (the
 * seed included) and the dataset's and teachers' file contents. A run whose log
 * in DIR has the key it would get is not trained again but read back, so an interrupted
 * comparison continues where it stopped, and runs of one comparison can be trained by
 * several `compare` processes (e.g. different --methods) into one DIR and tabulated together
 * by a last one with every method. --rerun trains every run regardless.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "distill_cli.h"
#include "stage.h"

static const char *CMD = "compare";

#define MAX_METHODS 32

static void help(void)
{
    char all[512];
    cli_method_list(all, sizeof all);
    printf("usage: hetcomp compare --data DS.hcd --teachers T1 [T2 ...] --out DIR\n"
           "                       [--methods %s] [--seeds 3] [options]\n\n"
           "Trains the MF student with each method and seed, and writes one table (mean and\n"
           "spread over seeds of test R@10, N@10, R@50, N@50 at the best validation R@50,\n"
           "epochs, training seconds) to stdout, DIR/compare.tsv and DIR/compare.json, with\n"
           "the teachers' ensemble as a reference row and each run's log in\n"
           "DIR/<method>-seed<k>/log.json. Methods (docs/distillation.md):\n",
           all);
    for (int i = 0; hc_distiller_types[i]; i++)
        printf("  %-8s %s\n", hc_distiller_types[i]->name, hc_distiller_types[i]->title);
    printf("\noptions:\n");
    printf("  --methods LIST      comma-separated methods (%s)\n"
           "  --seeds N           runs per method, seeds --seed + 0 .. N-1 (3)\n"
           "  --rerun             train every run again, even one whose log in DIR was made\n"
           "                      from the same data, teachers, method and options (such\n"
           "                      runs are otherwise read back: an interrupted comparison\n"
           "                      resumes, and several processes can share one DIR)\n",
           all);
    cli_distill_flags_help(stdout);
}

/* One finished run. */
typedef struct {
    int done;
    int32_t epochs, best_epoch;
    double train_s;
    hc_eval_result res; /* at the best validation point */
} run_result;

/* Columns of the table: test R@10, N@10, R@50, N@50, then epochs, train seconds. */
#define N_COLS 6
static const char *col_name[N_COLS] = {"R@10", "N@10", "R@50", "N@50", "epochs", "train_s"};

static double col_value(const run_result *r, int c)
{
    switch (c) {
    case 0:
        return r->res.test.recall[0];
    case 1:
        return r->res.test.ndcg[0];
    case 2:
        return r->res.test.recall[HC_EVAL_NK - 1];
    case 3:
        return r->res.test.ndcg[HC_EVAL_NK - 1];
    case 4:
        return r->epochs;
    default:
        return r->train_s;
    }
}

/* Mean and sample standard deviation (0 for one run) of column c over the done runs. */
static int col_stats(const run_result *runs, int32_t n, int c, double *mean, double *sd)
{
    double s = 0.0, ss = 0.0;
    int k = 0;
    for (int32_t i = 0; i < n; i++)
        if (runs[i].done) {
            s += col_value(&runs[i], c);
            k++;
        }
    *mean = k ? s / k : (double)NAN;
    for (int32_t i = 0; i < n; i++)
        if (runs[i].done)
            ss += (col_value(&runs[i], c) - *mean) * (col_value(&runs[i], c) - *mean);
    *sd = k > 1 ? sqrt(ss / (k - 1)) : 0.0;
    return k;
}

typedef struct {
    const char *data, *out;
    char **methods;
    int32_t n_methods, n_seeds;
    const hc_traj *teachers;
    int32_t n_teachers;
    const hc_distill_opts *o;
    int have_ens;
    hc_eval_result ens;
    run_result *runs; /* n_methods x n_seeds */
    /* contents' hashes of the dataset and each teacher's trajectory file, in that order */
    uint64_t input_hashes[HC_DISTILL_MAX_TEACHERS + 1];
    int32_t n_inputs;
    int rerun;            /* --rerun */
    const cli_common *cc; /* --json and the other common flags */
} table;

static int write_tsv(const table *tb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/compare.tsv", tb->out);
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc)
        return rc;
    FILE *fp = af.fp;
    fprintf(fp, "method\truns");
    for (int c = 0; c < N_COLS; c++)
        fprintf(fp, "\t%s_mean\t%s_std", col_name[c], col_name[c]);
    fprintf(fp, "\ts_per_epoch\n");
    if (tb->have_ens) {
        const hc_metrics *m = &tb->ens.test;
        fprintf(fp, "ensemble\t0\t%.6f\t0\t%.6f\t0\t%.6f\t0\t%.6f\t0\tNA\tNA\tNA\tNA\tNA\n",
                m->recall[0], m->ndcg[0], m->recall[HC_EVAL_NK - 1], m->ndcg[HC_EVAL_NK - 1]);
    }
    for (int32_t mi = 0; mi < tb->n_methods; mi++) {
        const run_result *runs = tb->runs + (int64_t)mi * tb->n_seeds;
        double mean, sd, ep, ts, dummy;
        int k = col_stats(runs, tb->n_seeds, 0, &mean, &sd);
        if (!k)
            continue;
        fprintf(fp, "%s\t%d", tb->methods[mi], k);
        for (int c = 0; c < N_COLS; c++) {
            col_stats(runs, tb->n_seeds, c, &mean, &sd);
            fprintf(fp, c < 4 ? "\t%.6f\t%.6f" : "\t%.3f\t%.3f", mean, sd);
        }
        col_stats(runs, tb->n_seeds, 4, &ep, &dummy);
        col_stats(runs, tb->n_seeds, 5, &ts, &dummy);
        fprintf(fp, "\t%.4f\n", ts / (ep > 0 ? ep : 1));
    }
    return hc_afile_commit(&af);
}

static json_t *stats_json(const run_result *runs, int32_t n, int sd)
{
    json_t *o = json_object();
    for (int c = 0; o && c < N_COLS; c++) {
        double mean, s;
        col_stats(runs, n, c, &mean, &s);
        char key[32];
        snprintf(key, sizeof key, "%s%s", c < 4 ? "test_" : "", col_name[c]);
        json_object_set_new(o, key, json_real(sd ? s : mean));
    }
    return o;
}

static int write_json(const table *tb)
{
    json_t *root = json_object(), *tj = json_array(), *rows = json_array();
    for (int32_t x = 0; x < tb->n_teachers; x++)
        json_array_append_new(tj, json_string(tb->teachers[x].model));
    json_object_set_new(root, "data", json_string(tb->data));
    json_object_set_new(root, "teachers", tj);
    json_object_set_new(root, "seeds", json_integer(tb->n_seeds));
    json_object_set_new(root, "options", cli_distill_opts_json(tb->o));
    json_object_set_new(root, "ensemble", tb->have_ens ? cli_result_json(&tb->ens) : json_null());
    for (int32_t mi = 0; mi < tb->n_methods; mi++) {
        const run_result *runs = tb->runs + (int64_t)mi * tb->n_seeds;
        json_t *row = json_object(), *rj = json_array();
        for (int32_t k = 0; k < tb->n_seeds; k++) {
            const run_result *r = &runs[k];
            if (!r->done)
                continue;
            json_t *one = json_object();
            json_object_set_new(one, "seed", json_integer((json_int_t)(tb->o->seed + (uint64_t)k)));
            json_object_set_new(one, "epochs", json_integer(r->epochs));
            json_object_set_new(one, "best_epoch", json_integer(r->best_epoch));
            json_object_set_new(one, "train_s", json_real(r->train_s));
            json_object_set_new(one, "metrics", cli_result_json(&r->res));
            json_array_append_new(rj, one);
        }
        json_object_set_new(row, "method", json_string(tb->methods[mi]));
        json_object_set_new(row, "runs", rj);
        json_object_set_new(row, "mean", stats_json(runs, tb->n_seeds, 0));
        json_object_set_new(row, "std", stats_json(runs, tb->n_seeds, 1));
        json_array_append_new(rows, row);
    }
    json_object_set_new(root, "methods", rows);
    char path[4096];
    snprintf(path, sizeof path, "%s/compare.json", tb->out);
    int rc = cli_json_write(root, path);
    if (rc == HC_OK)
        rc = cli_common_json(tb->cc, root);
    json_decref(root);
    return rc;
}

static void print_table(const table *tb)
{
    printf("%-10s", "method");
    for (int c = 0; c < N_COLS; c++)
        printf(" %-17s", c < 4 ? col_name[c] : c == 4 ? "epochs" : "train s");
    printf("\n");
    if (tb->have_ens) {
        const hc_metrics *m = &tb->ens.test;
        printf("%-10s %-17.4f %-17.4f %-17.4f %-17.4f %-17s %-17s\n", "ensemble", m->recall[0],
               m->ndcg[0], m->recall[HC_EVAL_NK - 1], m->ndcg[HC_EVAL_NK - 1], "-", "-");
    }
    for (int32_t mi = 0; mi < tb->n_methods; mi++) {
        const run_result *runs = tb->runs + (int64_t)mi * tb->n_seeds;
        printf("%-10s", tb->methods[mi]);
        for (int c = 0; c < N_COLS; c++) {
            double mean, sd;
            char cell[64];
            col_stats(runs, tb->n_seeds, c, &mean, &sd);
            snprintf(cell, sizeof cell,
                     c < 4    ? "%.4f ± %.4f"
                     : c == 4 ? "%.0f ± %.0f"
                              : "%.1f ± %.1f",
                     mean, sd);
            printf(" %-18s", cell); /* "±" takes two bytes */
        }
        printf("\n");
    }
}

/* Splits the comma-separated list s (modified) into names; checks each. */
static int parse_methods(char *s, char **names, int32_t *n, int *need_teachers)
{
    *n = 0;
    *need_teachers = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (!hc_distiller_type_find(tok))
            return cli_usage_error(CMD, "unknown method '%s' in --methods", tok);
        for (int32_t k = 0; k < *n; k++)
            if (!strcmp(names[k], tok))
                return cli_usage_error(CMD, "method '%s' listed twice in --methods", tok);
        if (*n == MAX_METHODS)
            return cli_usage_error(CMD, "at most %d methods", MAX_METHODS);
        names[(*n)++] = tok;
        *need_teachers |= strcmp(tok, "bpr") != 0;
    }
    if (*n == 0)
        return cli_usage_error(CMD, "--methods lists no method");
    return 0;
}

/* Evaluates the teachers' final-checkpoint ensemble (list length o->k). */
static int eval_ensemble(const hc_dataset *ds, const hc_traj *const *tv, int32_t nt,
                         const hc_distill_opts *o, hc_eval_result *out)
{
    hc_ensemble e;
    int rc = hc_ensemble_init(&e, tv, nt, NULL, o->temperature, o->k);
    if (rc)
        return rc;
    hc_eval_opts eo;
    hc_eval_opts_default(&eo);
    hc_scorer sc = hc_ensemble_scorer(&e);
    rc = hc_evaluate(ds, &sc, &eo, out);
    hc_ensemble_free(&e);
    return rc;
}

/* The contents' hashes of the dataset and the teachers' trajectory files into tb. */
static int input_hashes(table *tb, const char *data, char **teachers, int32_t n)
{
    if (n > HC_DISTILL_MAX_TEACHERS)
        return hc_error(HC_EINVAL, "compare: %d teachers, at most %d", n, HC_DISTILL_MAX_TEACHERS);
    int rc = cli_file_hash(data, &tb->input_hashes[0]);
    for (int32_t x = 0; !rc && x < n; x++) {
        char buf[4096];
        rc =
            cli_file_hash(cli_teacher_file(teachers[x], buf, sizeof buf), &tb->input_hashes[x + 1]);
    }
    tb->n_inputs = n + 1;
    return rc;
}

/* The run's key, as `run` keys its stages (stage.h): the student stage's name for the
 * method, every option (seed included) and the inputs' contents. */
static int run_key(const table *tb, const char *method, const hc_distill_opts *o, char key[17])
{
    json_t *oj = cli_distill_opts_json(o);
    char *dump = oj ? json_dumps(oj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(oj);
    char name[96];
    cli_stage_name(name, sizeof name, CLI_STAGE_STUDENT, method);
    cli_key k;
    int rc = dump ? cli_key_begin(&k, name) : hc_error(HC_ENOMEM, "out of memory");
    if (rc == HC_OK) {
        cli_key_text(&k, dump);
        for (int32_t x = 0; x < tb->n_inputs; x++)
            cli_key_hash(&k, tb->input_hashes[x]);
        cli_key_end(&k, key);
    }
    free(dump);
    return rc;
}

/* Reads back a finished run from its log when the log has this key; 1 if it did. */
static int reuse_run(const char *log_path, const char *key, run_result *out)
{
    json_t *log = json_load_file(log_path, 0, NULL);
    if (!log)
        return 0;
    run_result r = {0};
    const json_t *epochs = json_object_get(log, "epochs"),
                 *best = json_object_get(log, "best_epoch"),
                 *secs = json_object_get(log, "train_s");
    const char *old = json_string_value(json_object_get(log, "run_key"));
    int ok = old && !strcmp(old, key) && json_is_integer(epochs) && json_is_integer(best) &&
             json_is_number(secs) && !cli_result_from_json(json_object_get(log, "best"), &r.res);
    if (ok)
        *out = (run_result){1, (int32_t)json_integer_value(epochs),
                            (int32_t)json_integer_value(best), json_number_value(secs), r.res};
    json_decref(log);
    return ok;
}

static void print_run(const char *prefix, const char *label, const run_result *r,
                      const char *suffix)
{
    fprintf(stderr,
            "%s[%s] %d epochs (best %d), %.1f s: test R@10 %.4f N@10 %.4f R@50 %.4f N@50 "
            "%.4f%s\n",
            prefix, label, r->epochs, r->best_epoch, r->train_s, r->res.test.recall[0],
            r->res.test.ndcg[0], r->res.test.recall[HC_EVAL_NK - 1],
            r->res.test.ndcg[HC_EVAL_NK - 1], suffix);
}

/* Trains method mi with seed --seed + k, writes its log and records its result. */
static int run_one(table *tb, const cli_distill_inputs *in, const cli_distill_args *a, int32_t mi,
                   int32_t k)
{
    const char *method = tb->methods[mi];
    char label[64], dir[4096], path[4200];
    /* named by the seed itself, so that processes with different --seed share DIR */
    const unsigned long long seed = (unsigned long long)(a->o.seed + (uint64_t)k);
    snprintf(label, sizeof label, "%s seed %llu", method, seed);
    snprintf(dir, sizeof dir, "%s/%s-seed%llu", a->out, method, seed);
    hc_kd_ctx ctx = {0};
    hc_distill_result r = {0};
    int is_bpr = !strcmp(method, "bpr");
    /* on a terminal a live epoch line, in a log one line per evaluation */
    const int tty = isatty(2);
    cli_distill_progress pr = {
        label, a->cc.quiet,     !tty,       tty,  is_bpr ? 0 : in->n_teachers, json_array(),
        0,     a->o.max_epochs, hc_now_s(), in->t};
    hc_distill_hooks hooks = {cli_distill_on_epoch, cli_distill_on_eval, &pr};
    ctx.ds = &in->ds;
    ctx.n_teachers = pr.n_teachers;
    ctx.teachers = in->tv;
    ctx.opts = a->o;
    ctx.opts.seed = a->o.seed + (uint64_t)k;
    run_result *out = &tb->runs[(int64_t)mi * tb->n_seeds + k];
    char key[17];
    int rc = run_key(tb, method, &ctx.opts, key);
    snprintf(path, sizeof path, "%s/log.json", dir);
    if (!rc && !tb->rerun && reuse_run(path, key, out)) {
        if (!a->cc.quiet)
            print_run("", label, out, " (read back: same inputs and options)");
        json_decref(pr.rows);
        return HC_OK;
    }
    json_t *log = NULL;
    if (!rc)
        rc = hc_distill_run(hc_distiller_type_find(method), &ctx, &hooks, &r);
    if (!rc && !(rc = cli_make_dir(dir))) {
        log = cli_distill_log(method, in->t, ctx.n_teachers, &ctx.opts, ctx.student, &r, pr.rows);
        if (log && json_object_set_new(log, "run_key", json_string(key))) {
            json_decref(log);
            log = NULL;
        }
        rc = cli_json_write(log, path);
    }
    if (!rc) {
        const hc_distill_eval *best = &r.evals[r.best];
        *out = (run_result){1, r.epochs, best->epoch, r.train_s, best->res};
        if (!a->cc.quiet)
            print_run(pr.tty ? "\r\033[K" : "", label, out, "");
    }
    json_decref(log);
    json_decref(pr.rows);
    hc_distill_result_free(&r);
    hc_model_free(ctx.student);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    enum { O_METHODS = 256, O_SEEDS, O_RERUN };
    cli_distill_args a;
    char all[512];
    cli_method_list(all, sizeof all); /* every registered method */
    const char *mlist = all;
    char *mcopy = NULL, *methods[MAX_METHODS];
    int32_t n_seeds = 3, n_methods = 0;
    int need_teachers = 0, rerun = 0;
    const cli_flag own[] = {CLI_F_STR("methods", O_METHODS, &mlist),
                            CLI_F_INT("seeds", O_SEEDS, &n_seeds, 1, 1000),
                            CLI_F_SET("rerun", O_RERUN, &rerun), CLI_F_END};
    int rc = cli_distill_parse(CMD, "d:t:o:hqv", own, help, &a, argc, argv);
    if (rc >= 0)
        return rc;
    rc = 0;
    if (!(mcopy = strdup(mlist)))
        rc = cli_fail(hc_error(HC_ENOMEM, "out of memory"));
    if (!rc)
        rc = parse_methods(mcopy, methods, &n_methods, &need_teachers);
    if (!rc)
        rc = cli_distill_args_finish(CMD, &a, argc, argv);
    if (!rc && a.n_teachers == 0 && need_teachers)
        rc = cli_usage_error(CMD, "--teachers is required unless the only method is bpr");
    if (rc) {
        cli_distill_args_free(&a);
        free(mcopy);
        return rc;
    }
    cli_common_start(&a.cc);
    const hc_distill_opts *o = &a.o;
    cli_distill_inputs in = {0};
    run_result *runs = calloc((size_t)n_methods * (size_t)n_seeds, sizeof *runs);
    table tb;
    memset(&tb, 0, sizeof tb);
    tb.data = a.data;
    tb.out = a.out;
    tb.methods = methods;
    tb.n_methods = n_methods;
    tb.n_seeds = n_seeds;
    tb.cc = &a.cc;
    tb.o = o;
    tb.runs = runs;
    tb.rerun = rerun;
    if (!runs) {
        rc = hc_error(HC_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = cli_distill_load(&a, 0, &in)) != HC_OK ||
        (rc = input_hashes(&tb, a.data, a.teachers, a.n_teachers)) != HC_OK)
        goto done;
    tb.teachers = in.t;
    tb.n_teachers = in.n_teachers;
    if (in.n_teachers > 0) { /* the reference row: what the baselines learn from */
        if ((rc = eval_ensemble(&in.ds, in.tv, in.n_teachers, o, &tb.ens)) != HC_OK)
            goto done;
        tb.have_ens = 1;
    }
    if ((rc = cli_make_dir(a.out)) != HC_OK)
        goto done;
    for (int32_t mi = 0; mi < n_methods; mi++)
        for (int32_t k = 0; k < n_seeds; k++)
            if ((rc = run_one(&tb, &in, &a, mi, k)) != HC_OK || (rc = write_tsv(&tb)) != HC_OK ||
                (rc = write_json(&tb)) != HC_OK)
                goto done;
    print_table(&tb);
done:
    cli_distill_inputs_free(&in);
    cli_distill_args_free(&a);
    free(runs);
    free(mcopy);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
