/*
 * cmd_stats.c - `hetcomp stats`: counts, density, evaluated users and activity / popularity
 * percentiles of a dataset file, as text or (--json FILE, - for stdout) as one JSON object.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: hetcomp stats --data DS.hcd [--json FILE]\n\n"
           "Prints the users, items, interactions per part (train/valid/test), density,\n"
           "evaluated users (non-empty valid and test sets) and the 10/25/50/75/90th\n"
           "percentiles and maximum of user activity and item popularity (interactions over\n"
           "train + valid + test; percentiles interpolate linearly).\n\n"
           "options:\n"
           "  --data PATH         dataset file written by 'hetcomp split' (required)\n"
           "  -h, --help          this help\n"
           "(--json - prints the JSON object on stdout instead of the text)\n");
    cli_common_help(stdout);
}

static const char *const pct_names[5] = {"p10", "p25", "p50", "p75", "p90"};

static json_t *pct_json(const double *pct, int64_t max)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    for (int k = 0; k < 5; k++)
        bad |= json_object_set_new(o, pct_names[k], json_real(pct[k]));
    bad |= json_object_set_new(o, "max", json_integer(max));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The statistics as one object (NULL on out of memory). */
static json_t *stats_json(const char *path, const hc_dataset *ds, const hc_stats *st)
{
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)ds->checksum);
    json_t *root = json_object();
    json_t *up = pct_json(st->user_pct, st->user_max), *ip = pct_json(st->item_pct, st->item_max);
    int bad = !root || !up || !ip;
    if (!bad) {
        bad |= json_object_set_new(root, "dataset", json_string(path));
        bad |= json_object_set_new(root, "checksum", json_string(sum));
        bad |= json_object_set_new(root, "split", json_string(hc_split_name(ds->kind)));
        bad |= json_object_set_new(root, "seed", json_integer((json_int_t)ds->seed));
        bad |= json_object_set_new(root, "valid_frac", json_real(ds->valid_frac));
        bad |= json_object_set_new(root, "test_frac", json_real(ds->test_frac));
        bad |= json_object_set_new(root, "n_users", json_integer(st->n_users));
        bad |= json_object_set_new(root, "n_items", json_integer(st->n_items));
        bad |= json_object_set_new(root, "n_items_in_train", json_integer(st->n_items_in_train));
        bad |= json_object_set_new(root, "n_train", json_integer(st->n_train));
        bad |= json_object_set_new(root, "n_valid", json_integer(st->n_valid));
        bad |= json_object_set_new(root, "n_test", json_integer(st->n_test));
        bad |= json_object_set_new(root, "n_interactions",
                                   json_integer(st->n_train + st->n_valid + st->n_test));
        bad |= json_object_set_new(root, "n_eval_users", json_integer(st->n_eval_users));
        bad |= json_object_set_new(root, "density", json_real(st->density));
        bad |= json_object_set_new(root, "user_activity", up);
        bad |= json_object_set_new(root, "item_popularity", ip);
        up = ip = NULL;
    }
    json_decref(up);
    json_decref(ip);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static void print_pct(const char *label, const double *pct, int64_t max)
{
    printf("%-16s", label);
    for (int k = 0; k < 5; k++)
        printf(" %s %-7g", pct_names[k], pct[k]);
    printf(" max %lld\n", (long long)max);
}

static void print_text(const char *path, const hc_dataset *ds, const hc_stats *st)
{
    printf("%-16s %s\n", "dataset", path);
    printf("%-16s %016llx\n", "checksum", (unsigned long long)ds->checksum);
    if (ds->kind == HC_SPLIT_IMPORTED)
        printf("%-16s imported\n", "split");
    else
        printf("%-16s %s (seed %llu, valid %g, test %g)\n", "split", hc_split_name(ds->kind),
               (unsigned long long)ds->seed, ds->valid_frac, ds->test_frac);
    printf("%-16s %d\n", "users", st->n_users);
    printf("%-16s %d (%d with train interactions)\n", "items", st->n_items, st->n_items_in_train);
    printf("%-16s %lld (train %lld, valid %lld, test %lld)\n", "interactions",
           (long long)(st->n_train + st->n_valid + st->n_test), (long long)st->n_train,
           (long long)st->n_valid, (long long)st->n_test);
    printf("%-16s %.6g\n", "density", st->density);
    printf("%-16s %d\n", "evaluated users", st->n_eval_users);
    print_pct("user activity", st->user_pct, st->user_max);
    print_pct("item popularity", st->item_pct, st->item_max);
}

int cmd_stats(int argc, char **argv)
{
    const char *cmd = "stats";
    const char *data = NULL;
    cli_common cc = {0};
    const cli_flag flags[] = {CLI_F_STR("data", 'd', &data), CLI_F_END};
    cli_args a = {.cmd = cmd, .shortopts = "hqv", .flags = flags, .cc = &cc, .help = help};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
        return rc;
    if (!data)
        return cli_usage_error(cmd, "--data is required");
    cli_common_start(&cc);
    hc_dataset ds;
    rc = hc_dataset_load(data, &ds);
    if (rc)
        return cli_fail(rc);
    hc_stats st;
    hc_dataset_stats(&ds, &st);
    json_t *doc = cc.json ? stats_json(data, &ds, &st) : NULL;
    rc = cli_common_json(&cc, doc);
    json_decref(doc);
    if (rc == HC_OK && (!cc.json || strcmp(cc.json, "-") != 0) && !cc.quiet) {
        print_text(data, &ds, &st);
        rc = fflush(stdout) ? hc_error(HC_EIO, "cannot write to stdout") : HC_OK;
    }
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
