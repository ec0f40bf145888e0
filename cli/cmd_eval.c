/*
 * cmd_eval.c - `hetcomp eval`: full-ranking Recall/NDCG@10,20,50 of a model on a dataset file.
 *
 * Loads the dataset and the model: the popularity baseline (fitted here), a saved model file,
 * or several files as their live ensemble (the model options and loading `recommend` and
 * `serve` share, hc_rec_scorer for the ensemble); evaluates valid and test (docs/metrics.md),
 * prints a table on stdout and timings on stderr, and optionally writes the results as JSON
 * (atomically).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "serve/recommend.h"

static const char *CMD = "eval";

static void help(void)
{
    printf("usage: hetcomp eval --data DS.hcd [--model pop | --model M.hcm [--model M2.hcm ...]]\n"
           "                   [options]\n\n"
           "Full-ranking evaluation: each evaluated user (non-empty valid and test sets) ranks\n"
           "all items except their train items and the other held-out set; prints\n"
           "Recall@K (hits / |ground truth|) and NDCG@K for K = 10, 20, 50 (docs/metrics.md).\n\n"
           "One model file (model.hcm from teacher or distill) ranks by its own scores; two or\n"
           "more rank by their live ensemble, as 'hetcomp recommend' does: each model's top\n"
           "--ensemble-k unobserved items, importance sum w exp(-rank / T), the best\n"
           "--ensemble-k of them ranked (the lists 'hetcomp ensemble' evaluates).\n\n"
           "options:\n"
           "  --data PATH         dataset file written by 'hetcomp split' (required)\n"
           "  --model FILE|pop    model file (repeat for an ensemble), or pop: items ranked\n"
           "                      by their number of train users (pop)\n"
           "  --weights W1,W2,..  ensemble: one positive weight per model (all 1)\n"
           "  --ensemble-k N      ensemble: list length taken from each model (%d)\n"
           "  --temperature T     ensemble: rank temperature (%g)\n"
           "  --block N           users scored per block (256)\n"
           "  -h, --help          this help\n",
           HC_REC_ENSEMBLE_K, (double)HC_REC_TEMPERATURE);
    cli_common_help(stdout);
}

/* Writes the results to --json FILE. */
static int write_json(const cli_common *cc, const char *model, const hc_rec_args *ra,
                      const char *data_path, const hc_dataset *ds, const hc_eval_result *res,
                      double seconds, double fit_seconds)
{
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)ds->checksum);
    json_t *root = json_object(), *metrics = json_object();
    json_t *va = cli_metrics_json(&res->valid), *te = cli_metrics_json(&res->test);
    json_t *files = json_array();
    int bad = !root || !metrics || !va || !te || !files;
    for (int32_t x = 0; !bad && x < ra->n_paths; x++)
        bad |= json_array_append_new(files, json_string(ra->path[x]));
    if (!bad) {
        bad |= json_object_set_new(metrics, "valid", va);
        bad |= json_object_set_new(metrics, "test", te);
        va = te = NULL;
        bad |= json_object_set_new(root, "model", json_string(model));
        bad |= json_object_set(root, "model_files", files);
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
    json_decref(files);
    if (bad) {
        json_decref(root);
        return hc_error(HC_ENOMEM, "%s: out of memory building the JSON output", cc->json);
    }
    int rc = cli_common_json(cc, root);
    json_decref(root);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    enum { O_BLOCK = 256 };
    const char *data = NULL;
    int32_t block = 256;
    hc_rec_args ra = {0};
    cli_common cc = {0};
    const cli_flag flags[] = {CLI_F_STR("data", 'd', &data),
                              CLI_F_INT("block", O_BLOCK, &block, 1, 1 << 20), CLI_F_END};
    cli_args a = {.cmd = CMD,
                  .shortopts = "m:d:vqh",
                  .flags = flags,
                  .more = cli_rec_longopts,
                  .repeatable = cli_rec_repeatable,
                  .cc = &cc,
                  .help = help,
                  .other = cli_rec_arg,
                  .ud = &ra};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
        return rc;
    if (!data)
        return cli_usage_error(CMD, "--data is required");
    if (cc.json && !*cc.json)
        return cli_usage_error(CMD, "--json needs a file name");
    /* "pop" (the default) names the popularity baseline, not a file: ./pop would be one */
    int is_pop = ra.n_paths == 0 || (ra.n_paths == 1 && !strcmp(ra.path[0], "pop"));
    if (is_pop && (ra.weights || ra.ens_k || ra.temperature > 0.0))
        return cli_usage_error(CMD, "--weights, --ensemble-k and --temperature need two or more "
                                    "--model");
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    if (is_pop)
        ra.n_paths = 0; /* model_files: none */
    else {
        for (int32_t x = 0; x < ra.n_paths; x++)
            if (!strcmp(ra.path[x], "pop"))
                return cli_usage_error(CMD, "pop cannot join an ensemble of model files");
        if (hc_rec_args_spec(&ra, &spec) != HC_OK)
            return cli_usage_error(CMD, "%s", hc_errmsg());
    }

    cli_common_start(&cc);

    hc_dataset ds = {0};
    hc_popularity pop = {0};
    hc_rec_scorer_ctx sctx = {0};
    hc_scorer scorer;
    const char *inputs[HC_REC_MAX_MODELS + 1] = {data};
    memcpy(inputs + 1, ra.path, (size_t)ra.n_paths * sizeof *inputs);
    int status = CLI_EXIT_OK;
    double t0 = hc_now_s();
    if ((rc = cli_out_not_input(cc.json, inputs, ra.n_paths + 1)) ||
        (rc = hc_dataset_load(data, &ds)) ||
        (!is_pop && (rc = hc_rec_spec_load(&spec, ra.path, ra.n_paths, &ds)))) {
        status = cli_fail(rc);
        goto done;
    }
    double t1 = hc_now_s();
    if (is_pop) {
        rc = hc_popularity_fit(&ds, &pop);
        scorer = hc_popularity_scorer(&pop);
    } else
        rc = hc_rec_scorer_init(&sctx, &spec, &ds, block, &scorer);
    if (rc) {
        status = cli_fail(rc);
        goto done;
    }
    const char *model = is_pop ? "pop" : ra.n_paths > 1 ? "ensemble" : spec.models[0]->type->name;
    double t2 = hc_now_s();
    hc_eval_opts eo;
    hc_eval_opts_default(&eo);
    eo.block = block;
    hc_eval_result res;
    if ((rc = hc_evaluate(&ds, &scorer, &eo, &res))) {
        status = cli_fail(rc);
        goto done;
    }
    double t3 = hc_now_s();

    cli_print_metrics_header(stdout, "split");
    cli_print_metrics_row(stdout, "valid", &res.valid);
    cli_print_metrics_row(stdout, "test", &res.test);
    fflush(stdout);
    if (!cc.quiet)
        fprintf(stderr,
                "hetcomp: eval: model %s, %d users x %d items, load %.2fs, fit %.2fs, "
                "evaluate %.2fs\n",
                model, ds.n_users, ds.n_items, t1 - t0, t2 - t1, t3 - t2);
    if (cc.json && (rc = write_json(&cc, model, &ra, data, &ds, &res, t3 - t2, t2 - t1)))
        status = cli_fail(rc);
done:
    hc_rec_scorer_free(&sctx);
    hc_rec_spec_free(&spec);
    hc_popularity_free(&pop);
    hc_dataset_free(&ds);
    return status;
}
