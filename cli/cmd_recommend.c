/*
 * cmd_recommend.c - `hetcomp recommend`: top-K items of one user (the dataset's own user id),
 * or of every user into a TSV file, from any saved model (teacher or student).
 *
 * Train items are excluded unless --include-seen. All users are scored a block at a time
 * (one model call per block, top-K in parallel over the block's users; src/serve/recommend.c)
 * and written as they are produced, atomically (temp file + rename).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/model.h"
#include "serve/recommend.h"

static const char *CMD = "recommend";

static void help(void)
{
    printf("usage: hetcomp recommend --model M.hcm --data DS.hcd --user ID [options]\n"
           "       hetcomp recommend --model M.hcm --data DS.hcd --all-users [--out FILE.tsv]\n\n"
           "Prints a user's top-K items as TSV (rank, item, score), best first; the user's\n"
           "train items are left out unless --include-seen. With --all-users, writes every\n"
           "user's list (user, rank, item, score) to FILE.tsv (atomically) or stdout.\n"
           "Ids are the dataset's own user and item ids. Ties go to the item read first.\n\n"
           "options:\n"
           "  --model FILE        model file (model.hcm from teacher or distill; required)\n"
           "  --data FILE         the dataset file the model was trained on (required)\n"
           "  --user ID           the user to recommend for\n"
           "  --all-users         every user, in dataset order\n"
           "  -k, --k N           items per user (10)\n"
           "  --include-seen      keep the user's train items in the ranking\n"
           "  --out FILE          with --all-users: output file (default stdout)\n"
           "  --no-header         omit the TSV header line\n"
           "  --block N           users per scoring block (%d)\n"
           "  --threads N         threads (all cores)\n"
           "  --quiet             no timing line on stderr\n",
           HC_RECOMMEND_BLOCK);
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

/* Every user's top-k into fp, block by block. */
static int all_users(hc_recommender *r, const hc_dataset *ds, int32_t k, int seen, FILE *fp)
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
        for (int32_t j = 0; j < n; j++)
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

int cmd_recommend(int argc, char **argv)
{
    enum { O_ALL = 256, O_SEEN, O_NOHDR, O_BLOCK, O_THREADS, O_QUIET };
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"data", required_argument, 0, 'd'},
                                         {"user", required_argument, 0, 'u'},
                                         {"all-users", no_argument, 0, O_ALL},
                                         {"k", required_argument, 0, 'k'},
                                         {"include-seen", no_argument, 0, O_SEEN},
                                         {"out", required_argument, 0, 'o'},
                                         {"no-header", no_argument, 0, O_NOHDR},
                                         {"block", required_argument, 0, O_BLOCK},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"quiet", no_argument, 0, O_QUIET},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *data = NULL, *user = NULL, *out = NULL;
    int32_t k = 10, block = HC_RECOMMEND_BLOCK, threads = 0;
    int all = 0, seen = 0, header = 1, quiet = 0, rc = 0, c;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "m:d:u:k:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case O_ALL:
            all = 1;
            break;
        case 'k':
            rc = cli_int(CMD, "-k", optarg, 1, 1000000, &k);
            break;
        case O_SEEN:
            seen = 1;
            break;
        case 'o':
            out = optarg;
            break;
        case O_NOHDR:
            header = 0;
            break;
        case O_BLOCK:
            rc = cli_int(CMD, "--block", optarg, 1, 65536, &block);
            break;
        case O_THREADS:
            rc = cli_int(CMD, "--threads", optarg, 0, 1024, &threads);
            break;
        case O_QUIET:
            quiet = 1;
            break;
        case 'h':
            help();
            return CLI_EXIT_OK;
        default:
            return cli_usage_error(CMD, "unknown option");
        }
    }
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!model || !data)
        return cli_usage_error(CMD, "--model and --data are required");
    if (!!user + all != 1)
        return cli_usage_error(CMD, "give exactly one of --user ID and --all-users");
    if (out && !all)
        return cli_usage_error(CMD, "--out goes with --all-users");
    cli_log_init(0, quiet);
    cli_threads(threads);

    hc_dataset ds = {0};
    hc_model *m = NULL;
    hc_recommender r = {0};
    hc_afile af = {0};
    int have_af = 0;
    int32_t *items = NULL;
    float *scores = NULL;
    if ((rc = hc_dataset_load(data, &ds)) != HC_OK || (rc = hc_model_load(model, &ds, &m)) != HC_OK)
        goto done;
    if (k > ds.n_items)
        k = ds.n_items > 0 ? ds.n_items : 1;
    if (!all) {
        int32_t u = hc_idmap_get(ds.users, user, strlen(user)), got = 0;
        if (u < 0) {
            rc = hc_error(HC_ENOTFOUND, "unknown user '%s' (not in %s)", user, data);
            goto done;
        }
        items = malloc((size_t)k * sizeof *items);
        scores = malloc((size_t)k * sizeof *scores);
        if (!items || !scores) {
            rc = hc_error(HC_ENOMEM, "recommend: out of memory");
            goto done;
        }
        if ((rc = hc_recommend_init(&r, m, &ds, 1, NULL)) != HC_OK ||
            (rc = hc_recommend_users(&r, &u, 1, k, seen, items, scores, &got)) != HC_OK)
            goto done;
        if (header)
            printf("rank\titem\tscore\n");
        write_rows(stdout, &ds, NULL, items, scores, got);
        goto done;
    }
    FILE *fp = stdout;
    if (out) {
        if ((rc = hc_afile_open(&af, out)) != HC_OK)
            goto done;
        have_af = 1;
        fp = af.fp;
    }
    double t0 = cli_now();
    if ((rc = hc_recommend_init(&r, m, &ds, block, NULL)) != HC_OK)
        goto done;
    if (header)
        fprintf(fp, "user\trank\titem\tscore\n");
    if ((rc = all_users(&r, &ds, k, seen, fp)) != HC_OK)
        goto done;
    if (have_af) {
        have_af = 0;
        if ((rc = hc_afile_commit(&af)) != HC_OK)
            goto done;
    } else if (fflush(stdout) != 0) {
        rc = hc_error(HC_EIO, "recommend: write to stdout failed");
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "hetcomp recommend: %d users x top-%d (%s) in %.3f s\n", ds.n_users, k,
                seen ? "seen included" : "seen excluded", cli_now() - t0);
done:
    if (have_af)
        hc_afile_abort(&af);
    free(items);
    free(scores);
    hc_recommend_free(&r);
    hc_model_free(m);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
