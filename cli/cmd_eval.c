/*
 * cmd_eval.c - `hetcomp eval`: full-ranking Recall/NDCG@10,20,50 of a model on a dataset file.
 *
 * Loads the dataset, fits the model (only the popularity baseline for now; trained models come
 * with the teacher issue), evaluates valid and test (docs/metrics.md), prints a table on
 * stdout and timings on stderr, and optionally writes the results as JSON (atomically).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: hetcomp eval --data DS.hcd [--model pop] [options]\n\n"
           "Full-ranking evaluation: each evaluated user (non-empty valid and test sets) ranks\n"
           "all items except their train items and the other held-out set; prints\n"
           "Recall@K (hits / |ground truth|) and NDCG@K for K = 10, 20, 50 (docs/metrics.md).\n\n"
           "options:\n"
           "  --data PATH     dataset file written by 'hetcomp split' (required)\n"
           "  --model NAME    model to evaluate (default: pop)\n"
           "                    pop  popularity: items ranked by their number of train users\n"
           "                  (trained models come with the teacher issue)\n"
           "  --threads N     OpenMP/BLAS threads, 0 = all cores (default: 0)\n"
           "  --block N       users scored per block (default: 256)\n"
           "  --json PATH     also write the results as JSON (written atomically)\n"
           "  -v, --verbose   debug logging on stderr\n"
           "  -q, --quiet     warnings only on stderr (no timings)\n"
           "  -h, --help      this help\n");
}

/* Writes the results to path atomically. */
static int write_json(const char *path, const char *model, const char *data_path,
                      const hc_dataset *ds, const hc_eval_result *res, double seconds,
                      double fit_seconds)
{
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)ds->checksum);
    json_t *root = json_object(), *metrics = json_object();
    json_t *va = cli_metrics_json(&res->valid), *te = cli_metrics_json(&res->test);
    int bad = !root || !metrics || !va || !te;
    if (!bad) {
        bad |= json_object_set_new(metrics, "valid", va);
        bad |= json_object_set_new(metrics, "test", te);
        va = te = NULL;
        bad |= json_object_set_new(root, "model", json_string(model));
        bad |= json_object_set_new(root, "dataset", json_string(data_path));
        bad |= json_object_set_new(root, "dataset_checksum", json_string(sum));
        bad |= json_object_set_new(root, "n_users", json_integer(res->test.n_users));
        bad |= json_object_set_new(root, "n_items", json_integer(ds->n_items));
        bad |= json_object_set_new(root, "seconds", json_real(seconds));
        bad |= json_object_set_new(root, "fit_seconds", json_real(fit_seconds));
        bad |= json_object_set_new(root, "metrics", metrics);
        metrics = NULL;
    }
    json_decref(va);
    json_decref(te);
    json_decref(metrics);
    if (bad) {
        json_decref(root);
        return hc_error(HC_ENOMEM, "%s: out of memory building the JSON output", path);
    }
    int rc = cli_json_write(root, path);
    json_decref(root);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    const char *data = NULL, *model = "pop", *json_path = NULL;
    int32_t threads = 0, block = 256;
    int verbose = 0, quiet = 0, rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = 1;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        /* flags taking a value: "--flag value" or "--flag=value" */
        static const char *const with_value[] = {"--data", "--model", "--threads", "--block",
                                                 "--json"};
        const char *flag = NULL, *val = NULL;
        for (size_t f = 0; f < sizeof with_value / sizeof *with_value && !flag; f++) {
            size_t n = strlen(with_value[f]);
            if (!strncmp(a, with_value[f], n) && (a[n] == '\0' || a[n] == '=')) {
                flag = with_value[f];
                if (a[n] == '=')
                    val = a + n + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return cli_usage_error(cmd, "%s needs a value", flag);
            }
        }
        if (!flag)
            return cli_usage_error(cmd, "unknown option '%s'", a);
        if (!strcmp(flag, "--data"))
            data = val;
        else if (!strcmp(flag, "--model"))
            model = val;
        else if (!strcmp(flag, "--json"))
            json_path = val;
        else if (!strcmp(flag, "--threads")) {
            if ((rc = cli_int(cmd, flag, val, 0, 4096, &threads)))
                return rc;
        } else if ((rc = cli_int(cmd, flag, val, 1, 1 << 20, &block)))
            return rc;
    }
    if (!data)
        return cli_usage_error(cmd, "--data is required");
    if (strcmp(model, "pop") != 0)
        return cli_usage_error(cmd, "unknown model '%s' (only 'pop' for now)", model);
    if (json_path && !*json_path)
        return cli_usage_error(cmd, "--json needs a file name");

    cli_log_init(verbose, quiet);
    cli_threads(threads);

    hc_dataset ds;
    hc_popularity pop;
    memset(&ds, 0, sizeof ds);
    memset(&pop, 0, sizeof pop);
    int status = CLI_EXIT_OK;
    double t0 = cli_now();
    if ((rc = cli_out_not_input(json_path, &data, 1)) || (rc = hc_dataset_load(data, &ds))) {
        status = cli_fail(rc);
        goto done;
    }
    double t1 = cli_now();
    if ((rc = hc_popularity_fit(&ds, &pop))) {
        status = cli_fail(rc);
        goto done;
    }
    double t2 = cli_now();
    hc_scorer scorer = hc_popularity_scorer(&pop);
    hc_eval_opts eo;
    hc_eval_opts_default(&eo);
    eo.block = block;
    hc_eval_result res;
    if ((rc = hc_evaluate(&ds, &scorer, &eo, &res))) {
        status = cli_fail(rc);
        goto done;
    }
    double t3 = cli_now();

    cli_print_metrics_header(stdout, "split");
    cli_print_metrics_row(stdout, "valid", &res.valid);
    cli_print_metrics_row(stdout, "test", &res.test);
    fflush(stdout);
    if (!quiet)
        fprintf(stderr,
                "hetcomp: eval: model %s, %d users x %d items, load %.2fs, fit %.2fs, "
                "evaluate %.2fs\n",
                model, ds.n_users, ds.n_items, t1 - t0, t2 - t1, t3 - t2);
    if (json_path && (rc = write_json(json_path, model, data, &ds, &res, t3 - t2, t2 - t1)))
        status = cli_fail(rc);
done:
    hc_popularity_free(&pop);
    hc_dataset_free(&ds);
    return status;
}
