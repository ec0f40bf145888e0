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
           "                     [--users F] [--items F] --out DS.hcd\n\n"
           "Reads interactions, collapses duplicate (user, item) pairs, drops users with fewer\n"
           "than --min-user distinct items and items with fewer than --min-item users (one\n"
           "pass, counted before filtering), splits every user's items into train/valid/test\n"
           "and writes a binary dataset file (docs/formats-dataset.md). Held-out items that\n"
           "occur in no train set are removed; users left with an empty valid or test set are\n"
           "not evaluated (they still train). The same seed gives the identical file.\n\n"
           "input:\n"
           "  --data FILE        interactions to split\n"
           "  --format F         auto|count|adj|csv|ml (default: auto, detected from the file)\n"
           "  --threshold R      keep only rows whose rating is >= R (default: keep every row)\n"
           "  --header H         auto|yes|no: whether a CSV file starts with a header line\n"
           "                     (default: auto)\n"
           "split:\n"
           "  --method M         ratio|loo|temporal (default: ratio)\n"
           "                       ratio     per-user shuffle: floor(test*n) to test, then\n"
           "                                 floor(valid*n) to valid, the rest to train\n"
           "                       loo       one item to test and one to valid (the latest\n"
           "                                 ones when the input has timestamps, else random)\n"
           "                       temporal  by timestamp: the latest to test, the previous to\n"
           "                                 valid (needs timestamps)\n"
           "  --valid F          validation fraction (default: 0.2)\n"
           "  --test F           test fraction (default: 0.2)\n"
           "  --min-user N       minimum distinct items per user (default: 5)\n"
           "  --min-item N       minimum distinct users per item (default: 0)\n"
           "  --seed N           random seed (default: 0)\n"
           "import (a split made elsewhere; read with the input options above):\n"
           "  --import DIR       DIR/train.tsv, and DIR/valid.tsv, test.tsv, users.txt,\n"
           "                     items.txt when present (default: none)\n"
           "  --import-train F   train interactions (default: none)\n"
           "  --import-valid F   validation interactions (default: none)\n"
           "  --import-test F    test interactions (default: none)\n"
           "  --users F          user catalog, one id per line (default: none)\n"
           "  --items F          item catalog, one id per line; items without train rows are\n"
           "                     still ranked (default: none)\n"
           "output:\n"
           "  --out PATH         dataset file to write (required; written atomically)\n"
           "  -v, --verbose      debug logging on stderr\n"
           "  -q, --quiet        warnings only on stderr\n"
           "  -h, --help         this help\n");
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
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
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

static void print_summary(const char *path, const hc_dataset *ds)
{
    printf("%s: %d users, %d items, %lld train / %lld valid / %lld test interactions, "
           "%d evaluated users, checksum %016llx\n",
           path, ds->n_users, ds->n_items, (long long)ds->train.nnz, (long long)ds->valid.nnz,
           (long long)ds->test.nnz, hc_dataset_n_eval_users(ds), (unsigned long long)ds->checksum);
}

int cmd_split(int argc, char **argv)
{
    const char *cmd = "split";
    const char *data = NULL, *out = NULL, *import_dir = NULL;
    const char *itrain = NULL, *ivalid = NULL, *itest = NULL, *iusers = NULL, *iitems = NULL;
    hc_read_opts ro;
    hc_read_opts_default(&ro);
    hc_split_opts so;
    hc_split_opts_default(&so);
    int verbose = 0, quiet = 0, split_flags = 0, rc = 0, c;

    cli_getopt g;
    cli_getopt_init(&g, cmd, "hvq", long_opts, NULL, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        switch (c) {
        case 'h':
            help();
            return CLI_EXIT_OK;
        case 'v':
            verbose = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_FORMAT:
            if (hc_format_parse(optarg, &ro.format) != HC_OK)
                return cli_usage_error(cmd,
                                       "--format must be auto, count, adj, csv or ml, got "
                                       "'%s'",
                                       optarg);
            break;
        case OPT_THRESHOLD: {
            double t;
            if ((rc = cli_double(cmd, "--threshold", optarg, -1e30, 1e30, &t)) != 0)
                return rc;
            ro.has_threshold = 1;
            ro.threshold = (float)t;
            break;
        }
        case OPT_HEADER:
            if (!strcmp(optarg, "auto"))
                ro.header = -1;
            else if (!strcmp(optarg, "yes"))
                ro.header = 1;
            else if (!strcmp(optarg, "no"))
                ro.header = 0;
            else
                return cli_usage_error(cmd, "--header must be auto, yes or no, got '%s'", optarg);
            break;
        case OPT_METHOD:
            split_flags = 1;
            if (!strcmp(optarg, "ratio"))
                so.kind = HC_SPLIT_RATIO;
            else if (!strcmp(optarg, "loo"))
                so.kind = HC_SPLIT_LOO;
            else if (!strcmp(optarg, "temporal"))
                so.kind = HC_SPLIT_TEMPORAL;
            else
                return cli_usage_error(cmd, "--method must be ratio, loo or temporal, got '%s'",
                                       optarg);
            break;
        case OPT_VALID:
            split_flags = 1;
            if ((rc = cli_double(cmd, "--valid", optarg, 0, 0.99, &so.valid_frac)) != 0)
                return rc;
            break;
        case OPT_TEST:
            split_flags = 1;
            if ((rc = cli_double(cmd, "--test", optarg, 0, 0.99, &so.test_frac)) != 0)
                return rc;
            break;
        case OPT_MIN_USER:
            split_flags = 1;
            if ((rc = cli_int(cmd, "--min-user", optarg, 0, INT32_MAX, &so.min_user)) != 0)
                return rc;
            break;
        case OPT_MIN_ITEM:
            split_flags = 1;
            if ((rc = cli_int(cmd, "--min-item", optarg, 0, INT32_MAX, &so.min_item)) != 0)
                return rc;
            break;
        case OPT_SEED:
            split_flags = 1;
            if ((rc = cli_u64(cmd, "--seed", optarg, &so.seed)) != 0)
                return rc;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_IMPORT:
            import_dir = optarg;
            break;
        case OPT_IMPORT_TRAIN:
            itrain = optarg;
            break;
        case OPT_IMPORT_VALID:
            ivalid = optarg;
            break;
        case OPT_IMPORT_TEST:
            itest = optarg;
            break;
        case OPT_USERS:
            iusers = optarg;
            break;
        case OPT_ITEMS:
            iitems = optarg;
            break;
        }
    }
    if (rc || (rc = cli_no_operands(cmd, argc, argv)))
        return rc;
    int importing = import_dir || itrain || ivalid || itest || iusers || iitems;
    if (!out)
        return cli_usage_error(cmd, "--out is required");
    if (data && importing)
        return cli_usage_error(cmd, "--data cannot be combined with the import options");
    if (!data && !importing)
        return cli_usage_error(cmd, "give --data FILE, or --import DIR / --import-train F");
    if (importing && split_flags)
        return cli_usage_error(cmd, "--method, --valid, --test, --min-user, --min-item and "
                                    "--seed do not apply to an imported split");
    if (importing && !import_dir && (!itrain || !ivalid))
        return cli_usage_error(cmd, "an import needs --import-train and --import-valid (or "
                                    "--import DIR)");
    if (!importing && so.valid_frac + so.test_frac >= 1)
        return cli_usage_error(cmd, "--valid + --test must be below 1, got %g",
                               so.valid_frac + so.test_frac);
    cli_log_init(verbose, quiet);

    hc_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (importing) {
        char *dt = NULL, *dv = NULL, *de = NULL, *du = NULL, *di = NULL;
        if (import_dir) {
            dt = dir_file(import_dir, "train.tsv", 1);
            dv = dir_file(import_dir, "valid.tsv", 0);
            de = dir_file(import_dir, "test.tsv", 0);
            du = dir_file(import_dir, "users.txt", 0);
            di = dir_file(import_dir, "items.txt", 0);
        }
        hc_import_paths ip = {itrain ? itrain : dt, ivalid ? ivalid : dv, itest ? itest : de,
                              iusers ? iusers : du, iitems ? iitems : di};
        const char *inputs[] = {ip.train, ip.valid, ip.test, ip.users_catalog, ip.items_catalog};
        rc = !ip.train ? hc_error(HC_ENOMEM, "out of memory") : cli_out_not_input(out, inputs, 5);
        if (!rc)
            rc = hc_split_import(&ip, &ro, &ds);
        free(dt);
        free(dv);
        free(de);
        free(du);
        free(di);
        if (rc)
            return cli_fail(rc);
    } else {
        hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
        hc_interactions x;
        memset(&x, 0, sizeof x);
        if (!users || !items)
            rc = hc_error(HC_ENOMEM, "out of memory");
        else if ((rc = cli_out_not_input(out, &data, 1)) == HC_OK)
            rc = hc_read_interactions(data, &ro, users, items, &x);
        if (!rc && x.n == 0)
            rc = hc_error(HC_EEMPTY, "%s: no interactions", data);
        if (!rc)
            rc = hc_split(&x, users, items, &so, &ds);
        hc_interactions_free(&x);
        hc_idmap_free(users);
        hc_idmap_free(items);
        if (rc)
            return cli_fail(rc);
        if (ds.n_users == 0) {
            hc_dataset_free(&ds);
            return cli_fail(
                hc_error(HC_EEMPTY, "%s: no user has %d or more items", data, so.min_user));
        }
    }
    rc = hc_dataset_save(&ds, out);
    if (rc) {
        hc_dataset_free(&ds);
        return cli_fail(rc);
    }
    print_summary(out, &ds);
    hc_dataset_free(&ds);
    return CLI_EXIT_OK;
}
