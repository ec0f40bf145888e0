/*
 * cmd_recommend.c - `hetcomp recommend`: top-K items of one user (the dataset's own user id),
 * or of every user into a TSV file, or a latency benchmark of single-user queries, from any
 * saved model (teacher or student) or from the live rank-importance ensemble of several.
 *
 * Train items are excluded unless --include-seen or --exclude says otherwise (--exclude all:
 * every interaction the dataset file knows for the user, valid and test too). All users are scored
 * a block at a time (one score call per model per block, top-K in parallel over the block's users;
 * src/serve/recommend.c) and written as they are produced, atomically (temp file + rename).
 * --bench answers N queries for seeded uniformly drawn users one at a time, as the server
 * does (a context of one row), and reports latency percentiles and queries per second.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/model.h"
#include "serve/latency.h"
#include "serve/recommend.h"

static const char *CMD = "recommend";

#define BENCH_WARMUP 10 /* untimed queries before a benchmark */

static void help(void)
{
    printf("usage: hetcomp recommend --model M.hcm [--model M2.hcm ...] --data DS.hcd --user ID\n"
           "       hetcomp recommend --model M.hcm ... --data DS.hcd --all-users [--out FILE]\n"
           "       hetcomp recommend --model M.hcm ... --data DS.hcd --bench N [--json FILE]\n\n"
           "Prints a user's top-K items as TSV (rank, item, score), best first; the user's\n"
           "train items are left out (--exclude). With --all-users, writes every\n"
           "user's list (user, rank, item, score) to FILE.tsv (atomically) or stdout.\n"
           "Ids are the dataset's own user and item ids. Ties go to the item read first.\n\n"
           "With two or more --model, ranks by their live ensemble (docs/method.md section 3):\n"
           "each model's top --ensemble-k unobserved items, importance sum w exp(-rank / T);\n"
           "the score column is then the importance.\n\n"
           "--bench N answers N single-user queries (users drawn uniformly with --seed, one\n"
           "at a time as the server does, after %d untimed ones) and prints \"key<TAB>value\"\n"
           "lines: p50_us, p90_us, p99_us, mean_us, max_us (microseconds) and qps; then it\n"
           "computes every user's top-k in blocks as --all-users does (all_users_s, seconds).\n\n"
           "options:\n"
           "  --model FILE        model file (model.hcm from teacher or distill; required;\n"
           "                      repeat for an ensemble)\n"
           "  --data FILE         the dataset file the models were trained on (required)\n"
           "  --user ID           the user to recommend for\n"
           "  --all-users         every user, in dataset order\n"
           "  --bench N           latency benchmark of N queries\n"
           "  -k, --k N           items per user (10)\n"
           "  --exclude WHAT      items left out: train (the user's train items), all\n"
           "                      (every interaction the dataset file knows for the\n"
           "                      user: train, valid, test) or none (train)\n"
           "  --include-seen      the same as --exclude none\n"
           "  --weights W1,W2,..  ensemble: one positive weight per model (all 1)\n"
           "  --ensemble-k N      ensemble: list length taken from each model (%d)\n"
           "  --temperature T     ensemble: rank temperature (%g)\n"
           "  --out FILE          with --all-users: output file (default stdout)\n"
           "  --no-header         omit the TSV header line\n"
           "  --block N           users per scoring block (%d)\n"
           "  --seed S            with --bench: seed of the user draw (1)\n"
           "(--json FILE goes with --user, the list, or --bench, the figures; --threads is 1\n"
           "with --bench unless given, like the server)\n",
           BENCH_WARMUP, HC_REC_ENSEMBLE_K, (double)HC_REC_TEMPERATURE, HC_RECOMMEND_BLOCK);
    cli_common_help(stdout);
}

/* Writes one user's rows "user\trank\titem\tscore" (user NULL: "rank\titem\tscore"). */
static void write_rows(FILE *fp, const hc_dataset *ds, const char *user, const int32_t *items,
                       const float *scores, int32_t n)
{
    for (int32_t j = 0; j < n; j++) {
        if (user)
            fprintf(fp, "%s\t", user);
        fprintf(fp, "%d\t%s\t%.7g\n", j + 1, hc_idmap_name(ds->items, items[j]), (double)scores[j]);
    }
}

/* Every user's top-k into fp (NULL: computed, not written), block by block. */
static int all_users(hc_recommender *r, const hc_dataset *ds, int32_t k, hc_exclude seen, FILE *fp)
{
    int32_t b = r->block, nu = ds->n_users;
    int32_t *users = malloc((size_t)b * sizeof *users), *cnt = malloc((size_t)b * sizeof *cnt);
    int32_t *items = malloc((size_t)b * (size_t)k * sizeof *items);
    float *scores = malloc((size_t)b * (size_t)k * sizeof *scores);
    int rc = HC_OK;
    if (!users || !cnt || !items || !scores) {
        rc = hc_error(HC_ENOMEM, "recommend: out of memory");
        goto done;
    }
    for (int32_t s = 0; s < nu; s += b) {
        int32_t n = nu - s < b ? nu - s : b;
        for (int32_t j = 0; j < n; j++)
            users[j] = s + j;
        if ((rc = hc_recommend_users(r, users, n, k, seen, items, scores, cnt)) != HC_OK)
            goto done;
        for (int32_t j = 0; fp && j < n; j++)
            write_rows(fp, ds, hc_idmap_name(ds->users, s + j), items + (size_t)j * k,
                       scores + (size_t)j * k, cnt[j]);
    }
done:
    free(users);
    free(cnt);
    free(items);
    free(scores);
    return rc;
}

const int cli_rec_repeatable[] = {'m', CLI_O_MODEL, 0};

int cli_rec_option(const char *cmd, int c, const char *arg, hc_rec_args *ra)
{
    switch (c) {
    case 'm': /* -m, the short form of --model */
    case CLI_O_MODEL:
        return hc_rec_args_add_model(ra, arg) == HC_OK ? 0
                                                       : cli_usage_error(cmd, "%s", hc_errmsg());
    case CLI_O_WEIGHTS:
        ra->weights = arg;
        return 0;
    case CLI_O_ENSK:
        return cli_int(cmd, "--ensemble-k", arg, 1, 100000, &ra->ens_k);
    case CLI_O_TEMP:
        return cli_double(cmd, "--temperature", arg, 1e-6, 1e9, &ra->temperature);
    default:
        return -1;
    }
}

const struct option cli_rec_longopts[] = {CLI_REC_OPTIONS, {0, 0, 0, 0}};

int cli_rec_arg(const char *cmd, int c, const char *arg, void *ud)
{
    return cli_rec_option(cmd, c, arg, ud);
}

/* What a benchmark was asked for (echoed in its output). */
typedef struct {
    int32_t n, k, threads;
    hc_exclude seen;
    uint64_t seed;
    const cli_common *cc; /* --json */
} bench_opts;

/* The benchmark's JSON document (NULL on out of memory). */
static json_t *bench_json(const bench_opts *bo, const hc_rec_spec *spec, const hc_lat_summary *ls,
                          double qps, double all_s)
{
    json_t *o = json_object(), *models = json_array();
    int bad = !o || !models;
    for (int32_t x = 0; !bad && x < spec->n_models; x++)
        bad |= json_array_append_new(models, json_string(spec->models[x]->type->name));
    if (!bad) {
        bad |= json_object_set(o, "models", models);
        bad |= json_object_set_new(o, "queries", json_integer(bo->n));
        bad |= json_object_set_new(o, "warmup", json_integer(BENCH_WARMUP));
        bad |= json_object_set_new(o, "k", json_integer(bo->k));
        bad |= json_object_set_new(o, "include_seen", json_boolean(bo->seen == HC_EXCLUDE_NONE));
        bad |= json_object_set_new(o, "exclude", json_string(hc_exclude_name(bo->seen)));
        bad |= json_object_set_new(o, "seed", json_integer((json_int_t)bo->seed));
        bad |= json_object_set_new(o, "threads", json_integer(bo->threads));
        if (spec->n_models > 1) {
            bad |= json_object_set_new(o, "ensemble_k", json_integer(spec->ens_k));
            bad |= json_object_set_new(o, "temperature", json_real((double)spec->temperature));
        }
        bad |= json_object_set_new(o, "p50_us", json_real(ls->p50));
        bad |= json_object_set_new(o, "p90_us", json_real(ls->p90));
        bad |= json_object_set_new(o, "p99_us", json_real(ls->p99));
        bad |= json_object_set_new(o, "mean_us", json_real(ls->mean));
        bad |= json_object_set_new(o, "max_us", json_real(ls->max));
        bad |= json_object_set_new(o, "qps", json_real(qps));
        bad |= json_object_set_new(o, "all_users_s", json_real(all_s));
    }
    json_decref(models);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* --bench: bo->n single-user queries through r (one row), timed one by one. */
static int bench(hc_recommender *r, const hc_rec_spec *spec, const hc_dataset *ds,
                 const bench_opts *bo)
{
    int32_t total = bo->n + BENCH_WARMUP, k = bo->k;
    int32_t *users = malloc((size_t)total * sizeof *users);
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    double *lat = malloc((size_t)bo->n * sizeof *lat);
    json_t *doc = NULL;
    int rc = HC_OK;
    if (ds->n_users < 1) {
        rc = hc_error(HC_EEMPTY, "recommend: the dataset has no users to draw");
        goto done;
    }
    if (!users || !items || !scores || !lat) {
        rc = hc_error(HC_ENOMEM, "recommend: out of memory");
        goto done;
    }
    hc_rng rng;
    hc_rng_init(&rng, bo->seed, 0);
    for (int32_t q = 0; q < total; q++)
        users[q] = (int32_t)hc_rng_below(&rng, (uint32_t)ds->n_users);
    int32_t got;
    for (int32_t q = 0; q < BENCH_WARMUP; q++)
        if ((rc = hc_recommend_users(r, &users[q], 1, k, bo->seen, items, scores, &got)) != HC_OK)
            goto done;
    double t0 = hc_now_s(), prev = t0;
    for (int32_t q = 0; q < bo->n; q++) {
        rc = hc_recommend_users(r, &users[BENCH_WARMUP + q], 1, k, bo->seen, items, scores, &got);
        double now = hc_now_s();
        if (rc)
            goto done;
        lat[q] = 1e6 * (now - prev);
        prev = now;
    }
    double qps = (double)bo->n / (prev - t0);
    /* then every user's top-k in blocks, as --all-users computes them (nothing written) */
    hc_recommender rb = {0};
    double ta = hc_now_s();
    if ((rc = hc_recommend_init_spec(&rb, spec, ds, HC_RECOMMEND_BLOCK, NULL)) == HC_OK)
        rc = all_users(&rb, ds, k, bo->seen, NULL);
    double all_s = hc_now_s() - ta;
    hc_recommend_free(&rb);
    if (rc)
        goto done;
    hc_lat_summary ls;
    hc_lat_summarise(lat, (size_t)bo->n, &ls);
    printf("queries\t%d\nk\t%d\nmodels\t%d\n", bo->n, k, spec->n_models);
    printf("p50_us\t%.1f\np90_us\t%.1f\np99_us\t%.1f\nmean_us\t%.1f\nmax_us\t%.1f\nqps\t%.1f\n"
           "all_users_s\t%.3f\n",
           ls.p50, ls.p90, ls.p99, ls.mean, ls.max, qps, all_s);
    if (fflush(stdout) != 0) {
        rc = hc_error(HC_EIO, "recommend: write to stdout failed");
        goto done;
    }
    if (bo->cc->json) {
        doc = bench_json(bo, spec, &ls, qps, all_s);
        rc = cli_common_json(bo->cc, doc);
    }
done:
    json_decref(doc);
    free(users);
    free(items);
    free(scores);
    free(lat);
    return rc;
}

/* What the command line asks for. */
typedef struct {
    const char *data, *user, *out;
    int32_t k, block;
    int all, header;
    hc_rec_args ra;
    bench_opts bo;
    cli_common cc;
} rec_args;

enum { O_ALL = 256, O_SEEN, O_EXCL, O_NOHDR, O_BLOCK, O_BENCH, O_SEED };

/* Takes the command's own flag c into a. */
static int rec_flag(rec_args *a, int c, const char *arg, int *excl_given)
{
    hc_exclude e = HC_EXCLUDE_NONE;
    switch (c) {
    case 'd':
    case 'u':
    case 'o':
        *(c == 'd' ? &a->data : c == 'u' ? &a->user : &a->out) = arg;
        return 0;
    case O_ALL:
        a->all = 1;
        return 0;
    case O_NOHDR:
        a->header = 0;
        return 0;
    case 'k':
        return cli_int(CMD, "-k", arg, 1, 1000000, &a->k);
    case O_SEEN:
    case O_EXCL:
        if (c == O_EXCL && hc_exclude_parse(arg, &e) != 0)
            return cli_usage_error(CMD, "--exclude wants train, all or none, not '%s'", arg);
        if ((*excl_given)++ && e != a->bo.seen)
            return cli_usage_error(CMD, "--include-seen and --exclude disagree");
        a->bo.seen = e;
        return 0;
    case O_BENCH:
        return cli_int(CMD, "--bench", arg, 1, 100000000, &a->bo.n);
    case O_SEED:
        return cli_u64(CMD, "--seed", arg, &a->bo.seed);
    case O_BLOCK:
        return cli_int(CMD, "--block", arg, 1, 65536, &a->block);
    default:
        return 0;
    }
}

/* Parses and checks the command line into a; *spec receives the ensemble flags. Returns 0,
 * CLI_EXIT_OK with a->data NULL after --help, or CLI_EXIT_USAGE. */
static int rec_parse(int argc, char **argv, rec_args *a, hc_rec_spec *spec)
{
    static const struct option opts[] = {CLI_REC_OPTIONS,
                                         {"data", required_argument, 0, 'd'},
                                         {"user", required_argument, 0, 'u'},
                                         {"all-users", no_argument, 0, O_ALL},
                                         {"k", required_argument, 0, 'k'},
                                         {"include-seen", no_argument, 0, O_SEEN},
                                         {"exclude", required_argument, 0, O_EXCL},
                                         {"bench", required_argument, 0, O_BENCH},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"out", required_argument, 0, 'o'},
                                         {"no-header", no_argument, 0, O_NOHDR},
                                         {"block", required_argument, 0, O_BLOCK},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->k = 10;
    a->block = HC_RECOMMEND_BLOCK;
    a->header = 1;
    a->bo.seed = 1;
    a->bo.cc = &a->cc;
    a->cc.threads = -1;
    int rc = 0, c, excl_given = 0;
    cli_getopt g;
    cli_getopt_init(&g, CMD, "m:d:u:k:o:hqv", opts, cli_rec_repeatable, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        int shared = cli_rec_option(CMD, c, optarg, &a->ra);
        if (c == 'h') {
            help();
            a->data = NULL;
            return CLI_EXIT_OK;
        }
        if (shared >= 0)
            rc = shared;
        else if (!cli_common_arg(CMD, &a->cc, c, optarg, &rc))
            rc = rec_flag(a, c, optarg, &excl_given);
    }
    if (rc || (rc = cli_no_operands(CMD, argc, argv)))
        return rc;
    if (!a->data)
        return cli_usage_error(CMD, "--data is required");
    if (hc_rec_args_spec(&a->ra, spec) != HC_OK)
        return cli_usage_error(CMD, "%s", hc_errmsg());
    if (!!a->user + a->all + (a->bo.n > 0) != 1)
        return cli_usage_error(CMD, "give exactly one of --user ID, --all-users and --bench N");
    if (a->out && !a->all)
        return cli_usage_error(CMD, "--out goes with --all-users");
    if (a->cc.json && a->all)
        return cli_usage_error(CMD, "--json goes with --user or --bench");
    if (a->cc.threads < 0)
        a->cc.threads = a->bo.n ? 1 : 0;
    a->bo.k = a->k;
    a->bo.threads = a->cc.threads;
    return 0;
}

/* --user: one list on stdout (TSV) and, with --json, as an object. */
static int one_user(const rec_args *a, const hc_rec_spec *spec, const hc_dataset *ds)
{
    int32_t u = hc_idmap_get(ds->users, a->user, strlen(a->user)), got = 0;
    if (u < 0)
        return hc_error(HC_ENOTFOUND, "unknown user '%s' (not in %s)", a->user, a->data);
    int32_t *items = malloc((size_t)a->k * sizeof *items);
    float *scores = malloc((size_t)a->k * sizeof *scores);
    hc_recommender r = {0};
    int rc = items && scores ? hc_recommend_init_spec(&r, spec, ds, 1, NULL)
                             : hc_error(HC_ENOMEM, "recommend: out of memory");
    if (rc == HC_OK)
        rc = hc_recommend_users(&r, &u, 1, a->k, a->bo.seen, items, scores, &got);
    if (rc == HC_OK && a->cc.json) {
        json_t *list = json_array();
        for (int32_t j = 0; j < got; j++)
            json_array_append_new(list, json_pack("{s:s, s:f}", "item",
                                                  hc_idmap_name(ds->items, items[j]), "score",
                                                  (double)scores[j]));
        json_t *doc = json_pack("{s:s, s:i, s:s, s:o}", "user", a->user, "k", a->k, "exclude",
                                hc_exclude_name(a->bo.seen), "items", list);
        rc = cli_common_json(&a->cc, doc);
        json_decref(doc);
    }
    if (rc == HC_OK && (!a->cc.json || strcmp(a->cc.json, "-") != 0)) {
        if (a->header)
            printf("rank\titem\tscore\n");
        write_rows(stdout, ds, NULL, items, scores, got);
    }
    hc_recommend_free(&r);
    free(items);
    free(scores);
    return rc;
}

/* --all-users: every list into --out (atomically) or stdout. */
static int every_user(const rec_args *a, const hc_rec_spec *spec, const hc_dataset *ds)
{
    hc_afile af = {0};
    FILE *fp = stdout;
    int rc = a->out ? hc_afile_open(&af, a->out) : HC_OK;
    if (rc != HC_OK)
        return rc;
    if (a->out)
        fp = af.fp;
    double t0 = hc_now_s();
    hc_recommender r = {0};
    if ((rc = hc_recommend_init_spec(&r, spec, ds, a->block, NULL)) == HC_OK) {
        if (a->header)
            fprintf(fp, "user\trank\titem\tscore\n");
        rc = all_users(&r, ds, a->k, a->bo.seen, fp);
    }
    hc_recommend_free(&r);
    if (a->out)
        rc = rc == HC_OK ? hc_afile_commit(&af) : (hc_afile_abort(&af), rc);
    else if (rc == HC_OK && fflush(stdout) != 0)
        rc = hc_error(HC_EIO, "recommend: write to stdout failed");
    if (rc == HC_OK && !a->cc.quiet) {
        char what[64] = "";
        if (a->ra.n_paths > 1)
            snprintf(what, sizeof what, ", ensemble of %d models", a->ra.n_paths);
        fprintf(stderr, "hetcomp recommend: %d users x top-%d (%s%s) in %.3f s\n", ds->n_users,
                a->k,
                a->bo.seen == HC_EXCLUDE_NONE  ? "seen included"
                : a->bo.seen == HC_EXCLUDE_ALL ? "every known item excluded"
                                               : "seen excluded",
                what, hc_now_s() - t0);
    }
    return rc;
}

int cmd_recommend(int argc, char **argv)
{
    rec_args a;
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    int rc = rec_parse(argc, argv, &a, &spec);
    if (rc || !a.data)
        return rc;
    cli_common_start(&a.cc);
    hc_dataset ds = {0};
    const char *inputs[HC_REC_MAX_MODELS + 1] = {a.data};
    memcpy(inputs + 1, a.ra.path, (size_t)a.ra.n_paths * sizeof *inputs);
    if ((rc = cli_out_not_input(a.out, inputs, a.ra.n_paths + 1)) != HC_OK ||
        (rc = cli_out_not_input(a.cc.json, inputs, a.ra.n_paths + 1)) != HC_OK ||
        (rc = hc_dataset_load(a.data, &ds)) != HC_OK ||
        (rc = hc_rec_spec_load(&spec, a.ra.path, a.ra.n_paths, &ds)) != HC_OK)
        goto done;
    if (a.k > ds.n_items)
        a.k = a.bo.k = ds.n_items > 0 ? ds.n_items : 1;
    if (a.bo.n) {
        hc_recommender r = {0};
        if ((rc = hc_recommend_init_spec(&r, &spec, &ds, 1, NULL)) == HC_OK)
            rc = bench(&r, &spec, &ds, &a.bo);
        hc_recommend_free(&r);
    } else {
        rc = a.all ? every_user(&a, &spec, &ds) : one_user(&a, &spec, &ds);
    }
done:
    hc_rec_spec_free(&spec);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
