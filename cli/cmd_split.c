/*
 * cmd_split.c - `hetcomp split`: read interactions, filter and split them into a dataset file,
 * or import a split made elsewhere (train/valid/test files).
 *
 * Parses flags, calls hc_read_interactions + hc_split (or hc_split_import) and
 * hc_dataset_save, then prints a one-line summary on stdout. Nothing is written when any step
 * fails (the dataset file is written atomically, after the split succeeded).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static void help(void)
{
    printf("usage: hetcomp split --data FILE [options] --out DS.hcd\n"
           "       hetcomp split --import DIR --out DS.hcd\n"
           "       hetcomp split --import-train F --import-valid F [--import-test F]\n"
           "                      [--users F] [--items F] --out DS.hcd\n\n"
           "Reads interactions, collapses duplicate (user, item) pairs, drops users with fewer\n"
           "than --min-user distinct items and items with fewer than --min-item users (one\n"
           "pass, counted before filtering), splits every user's items into train/valid/test\n"
           "and writes a binary dataset file (docs/formats-dataset.md). Held-out items that\n"
           "occur in no train set are removed; users left with an empty valid or test set are\n"
           "not evaluated (they still train). The same seed gives the identical file.\n\n"
           "input:\n"
           "  --data FILE         interactions to split\n"
           "  --format F          auto|count|adj|csv|ml (auto, detected from the file)\n"
           "  --threshold R       keep only rows whose rating is >= R (keep every row)\n"
           "  --header H          auto|yes|no: whether a CSV file starts with a header line\n"
           "                      (auto)\n"
           "split:\n"
           "  --method M          ratio|loo|temporal (ratio)\n"
           "                        ratio     per-user shuffle: floor(test*n) to test, then\n"
           "                                  floor(valid*n) to valid, the rest to train\n"
           "                        loo       one item to test and one to valid (the latest\n"
           "                                  ones when the input has timestamps, else random)\n"
           "                        temporal  by timestamp: the latest to test, the previous to\n"
           "                                  valid (needs timestamps)\n"
           "  --valid F           validation fraction (0.2)\n"
           "  --test F            test fraction (0.2)\n"
           "  --min-user N        minimum distinct items per user (5)\n"
           "  --min-item N        minimum distinct users per item (0)\n"
           "  --seed N            random seed (0)\n"
           "import (a split made elsewhere; read with the input options above):\n"
           "  --import DIR        DIR/train.tsv, and DIR/valid.tsv, test.tsv, users.txt,\n"
           "                      items.txt when present (none)\n"
           "  --import-train F    train interactions (none)\n"
           "  --import-valid F    validation interactions (none)\n"
           "  --import-test F     test interactions (none)\n"
           "  --users F           user catalog, one id per line (none)\n"
           "  --items F           item catalog, one id per line; items without train rows are\n"
           "                      still ranked (none)\n"
           "output:\n"
           "  --out PATH          dataset file to write (required; written atomically)\n");
    cli_common_help(stdout);
}

enum {
    OPT_DATA = 256,
    OPT_FORMAT,
    OPT_THRESHOLD,
    OPT_HEADER,
    OPT_METHOD,
    OPT_VALID,
    OPT_TEST,
    OPT_MIN_USER,
    OPT_MIN_ITEM,
    OPT_SEED,
    OPT_OUT,
    OPT_IMPORT,
    OPT_IMPORT_TRAIN,
    OPT_IMPORT_VALID,
    OPT_IMPORT_TEST,
    OPT_USERS,
    OPT_ITEMS
};

static const struct option long_opts[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"header", required_argument, NULL, OPT_HEADER},
    {"method", required_argument, NULL, OPT_METHOD},
    {"valid", required_argument, NULL, OPT_VALID},
    {"test", required_argument, NULL, OPT_TEST},
    {"min-user", required_argument, NULL, OPT_MIN_USER},
    {"min-item", required_argument, NULL, OPT_MIN_ITEM},
    {"seed", required_argument, NULL, OPT_SEED},
    {"out", required_argument, NULL, OPT_OUT},
    {"import", required_argument, NULL, OPT_IMPORT},
    {"import-train", required_argument, NULL, OPT_IMPORT_TRAIN},
    {"import-valid", required_argument, NULL, OPT_IMPORT_VALID},
    {"import-test", required_argument, NULL, OPT_IMPORT_TEST},
    {"users", required_argument, NULL, OPT_USERS},
    {"items", required_argument, NULL, OPT_ITEMS},
    {"help", no_argument, NULL, 'h'},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* 1 if path names an existing regular file. */
static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* DIR/name in a malloc'd string when that file exists, else NULL. */
static char *dir_file(const char *dir, const char *name, int required)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "%s/%s", dir, name);
    if (!required && !file_exists(p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* The summary line on stdout and, with --json, the same as an object. */
static int print_summary(const cli_common *cc, const char *path, const hc_dataset *ds)
{
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)ds->checksum);
    if (!cc->quiet)
        printf("%s: %d users, %d items, %lld train / %lld valid / %lld test interactions, "
               "%d evaluated users, checksum %s\n",
               path, ds->n_users, ds->n_items, (long long)ds->train.nnz, (long long)ds->valid.nnz,
               (long long)ds->test.nnz, hc_dataset_n_eval_users(ds), sum);
    json_t *doc =
        json_pack("{s:s, s:i, s:i, s:I, s:I, s:I, s:i, s:s, s:s}", "out", path, "users",
                  ds->n_users, "items", ds->n_items, "train", (json_int_t)ds->train.nnz, "valid",
                  (json_int_t)ds->valid.nnz, "test", (json_int_t)ds->test.nnz, "evaluated_users",
                  hc_dataset_n_eval_users(ds), "checksum", sum, "split", hc_split_name(ds->kind));
    int rc = cli_common_json(cc, doc);
    json_decref(doc);
    return rc;
}

/* What the command line asks for. */
typedef struct {
    const char *data, *out, *import_dir;
    const char *itrain, *ivalid, *itest, *iusers, *iitems;
    hc_read_opts ro;
    hc_split_opts so;
    int split_flags; /* a split option was given */
    cli_common cc;
} split_args;

/* One of the named choices names[0..n) into *out, else a usage error listing them
 * ("auto, yes or no"). */
static int choice(const char *flag, const char *arg, const char *const *names, int n, int *out)
{
    char list[128];
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(arg, names[i])) {
            *out = i;
            return 0;
        }
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s",
                               i == 0       ? ""
                               : i == n - 1 ? " or "
                                            : ", ",
                               names[i]);
    }
    return cli_usage_error("split", "%s must be %s, got '%s'", flag, list, arg);
}

/* Takes an input or split flag (c) into a. */
static int split_flag(split_args *a, int c, const char *arg)
{
    static const char *const formats[] = {"auto", "count", "adj", "csv", "ml"},
                             *const headers[] = {"auto", "yes", "no"},
                             *const methods[] = {"ratio", "loo", "temporal"};
    static const int header_value[] = {-1, 1, 0};
    static const hc_split_kind kinds[] = {HC_SPLIT_RATIO, HC_SPLIT_LOO, HC_SPLIT_TEMPORAL};
    const char *cmd = "split";
    double t;
    int i = 0, rc = 0;
    a->split_flags |= c >= OPT_METHOD && c <= OPT_SEED;
    switch (c) {
    case OPT_FORMAT:
        if (hc_format_parse(arg, &a->ro.format) != HC_OK)
            return choice("--format", arg, formats, 5, &i);
        return 0;
    case OPT_THRESHOLD:
        if ((rc = cli_double(cmd, "--threshold", arg, -1e30, 1e30, &t)) == 0) {
            a->ro.has_threshold = 1;
            a->ro.threshold = (float)t;
        }
        return rc;
    case OPT_HEADER:
        if ((rc = choice("--header", arg, headers, 3, &i)) == 0)
            a->ro.header = header_value[i];
        return rc;
    case OPT_METHOD:
        if ((rc = choice("--method", arg, methods, 3, &i)) == 0)
            a->so.kind = kinds[i];
        return rc;
    case OPT_VALID:
        return cli_double(cmd, "--valid", arg, 0, 0.99, &a->so.valid_frac);
    case OPT_TEST:
        return cli_double(cmd, "--test", arg, 0, 0.99, &a->so.test_frac);
    case OPT_MIN_USER:
        return cli_int(cmd, "--min-user", arg, 0, INT32_MAX, &a->so.min_user);
    case OPT_MIN_ITEM:
        return cli_int(cmd, "--min-item", arg, 0, INT32_MAX, &a->so.min_item);
    case OPT_SEED:
        return cli_u64(cmd, "--seed", arg, &a->so.seed);
    default: /* the paths */
        *(c == OPT_DATA           ? &a->data
          : c == OPT_OUT          ? &a->out
          : c == OPT_IMPORT       ? &a->import_dir
          : c == OPT_IMPORT_TRAIN ? &a->itrain
          : c == OPT_IMPORT_VALID ? &a->ivalid
          : c == OPT_IMPORT_TEST  ? &a->itest
          : c == OPT_USERS        ? &a->iusers
                                  : &a->iitems) = arg;
        return 0;
    }
}

/* The combinations the flags must respect. */
static int split_check(const split_args *a, int importing)
{
    const char *cmd = "split";
    if (!a->out)
        return cli_usage_error(cmd, "--out is required");
    if (a->data && importing)
        return cli_usage_error(cmd, "--data cannot be combined with the import options");
    if (!a->data && !importing)
        return cli_usage_error(cmd, "give --data FILE, or --import DIR / --import-train F");
    if (importing && a->split_flags)
        return cli_usage_error(cmd, "--method, --valid, --test, --min-user, --min-item and "
                                    "--seed do not apply to an imported split");
    if (importing && !a->import_dir && (!a->itrain || !a->ivalid))
        return cli_usage_error(cmd, "an import needs --import-train and --import-valid (or "
                                    "--import DIR)");
    if (!importing && a->so.valid_frac + a->so.test_frac >= 1)
        return cli_usage_error(cmd, "--valid + --test must be below 1, got %g",
                               a->so.valid_frac + a->so.test_frac);
    return 0;
}

/* The import: files named by flags, or found in --import DIR. */
static int split_import(const split_args *a, hc_dataset *ds)
{
    char *dt = NULL, *dv = NULL, *de = NULL, *du = NULL, *di = NULL;
    if (a->import_dir) {
        dt = dir_file(a->import_dir, "train.tsv", 1);
        dv = dir_file(a->import_dir, "valid.tsv", 0);
        de = dir_file(a->import_dir, "test.tsv", 0);
        du = dir_file(a->import_dir, "users.txt", 0);
        di = dir_file(a->import_dir, "items.txt", 0);
    }
    hc_import_paths ip = {a->itrain ? a->itrain : dt, a->ivalid ? a->ivalid : dv,
                          a->itest ? a->itest : de, a->iusers ? a->iusers : du,
                          a->iitems ? a->iitems : di};
    const char *inputs[] = {ip.train, ip.valid, ip.test, ip.users_catalog, ip.items_catalog};
    int rc =
        !ip.train ? hc_error(HC_ENOMEM, "out of memory") : cli_out_not_input(a->out, inputs, 5);
    if (!rc)
        rc = hc_split_import(&ip, &a->ro, ds);
    free(dt);
    free(dv);
    free(de);
    free(du);
    free(di);
    return rc;
}

/* Reads --data and splits it. */
static int split_data(const split_args *a, hc_dataset *ds)
{
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x;
    memset(&x, 0, sizeof x);
    int rc = HC_OK;
    if (!users || !items)
        rc = hc_error(HC_ENOMEM, "out of memory");
    else if ((rc = cli_out_not_input(a->out, &a->data, 1)) == HC_OK)
        rc = hc_read_interactions(a->data, &a->ro, users, items, &x);
    if (!rc && x.n == 0)
        rc = hc_error(HC_EEMPTY, "%s: no interactions", a->data);
    if (!rc)
        rc = hc_split(&x, users, items, &a->so, ds);
    hc_interactions_free(&x);
    hc_idmap_free(users);
    hc_idmap_free(items);
    if (!rc && ds->n_users == 0)
        rc = hc_error(HC_EEMPTY, "%s: no user has %d or more items", a->data, a->so.min_user);
    return rc;
}

int cmd_split(int argc, char **argv)
{
    const char *cmd = "split";
    split_args a;
    memset(&a, 0, sizeof a);
    hc_read_opts_default(&a.ro);
    hc_split_opts_default(&a.so);
    int rc = 0, c;
    cli_getopt g;
    cli_getopt_init(&g, cmd, "hvq", long_opts, NULL, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        if (c == 'h') {
            help();
            return CLI_EXIT_OK;
        }
        if (!cli_common_arg(cmd, &a.cc, c, optarg, &rc))
            rc = split_flag(&a, c, optarg);
    }
    if (rc || (rc = cli_no_operands(cmd, argc, argv)))
        return rc;
    int importing = a.import_dir || a.itrain || a.ivalid || a.itest || a.iusers || a.iitems;
    if ((rc = split_check(&a, importing)) != 0)
        return rc;
    cli_common_start(&a.cc);
    hc_dataset ds;
    memset(&ds, 0, sizeof ds);
    rc = importing ? split_import(&a, &ds) : split_data(&a, &ds);
    if (rc == HC_OK && (rc = hc_dataset_save(&ds, a.out)) == HC_OK)
        rc = print_summary(&a.cc, a.out, &ds);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
