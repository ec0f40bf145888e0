/*
 * cmd_synth.c - `hetcomp synth`: generates the built-in synthetic dataset (docs/synth.md) and
 * writes it as a TSV of user, item, timestamp that `hetcomp split` reads.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void synth_usage(FILE *fp, const hc_synth_opts *d)
{
    fprintf(fp,
            "usage: hetcomp synth [options] --out FILE.tsv\n\n"
            "Generates synthetic implicit feedback with latent communities, power-law item\n"
            "popularity, log-normal user activity, item bundles and taste drift (docs/synth.md),\n"
            "and writes it as TSV with the header 'user<TAB>item<TAB>timestamp'.\n\n"
            "options:\n"
            "  -o, --out FILE      output TSV (required; written atomically)\n"
            "  --users N           number of users (%d)\n"
            "  --items N           number of items (%d)\n"
            "  --interactions N    distinct interactions, >= 5 per user and at most\n"
            "                      users*items/2 (%lld)\n"
            "  --communities N     latent communities (%d)\n"
            "  --pop-exponent X    Zipf exponent of item popularity, 0..4 (%g)\n"
            "  --activity-sigma X  log-normal spread of user activity, 0..4 (%g)\n"
            "  --community-strength X\n"
            "                      share of draws from the user's communities, 0..1 (%g)\n"
            "  --bundle-follow X   chance a drawn bundle item pulls its bundle mates, 0..1\n"
            "                      (%g)\n"
            "  --seed N            random seed (%llu)\n",
            (int)d->n_users, (int)d->n_items, (long long)d->n_interactions, (int)d->n_communities,
            d->pop_exponent, d->activity_sigma, d->community_strength, d->bundle_follow,
            (unsigned long long)d->seed);
    cli_common_help(fp);
}

/* Writes the header and one "u<k>\ti<k>\t<ts>" line per interaction to path, atomically. */
static int write_tsv(const char *path, const hc_interactions *x, const hc_idmap *users,
                     const hc_idmap *items)
{
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc)
        return rc;
    fputs("user\titem\ttimestamp\n", af.fp);
    for (int64_t k = 0; k < x->n; k++)
        fprintf(af.fp, "%s\t%s\t%lld\n", hc_idmap_name(users, x->user[k]),
                hc_idmap_name(items, x->item[k]), (long long)x->ts[k]);
    return hc_afile_commit(&af);
}

/* --help: the usage with the library's defaults. */
static void help(void)
{
    hc_synth_opts d;
    hc_synth_opts_default(&d);
    synth_usage(stdout, &d);
}

int cmd_synth(int argc, char **argv)
{
    const char *cmd = "synth";
    hc_synth_opts o;
    hc_synth_opts_default(&o);
    const char *out = NULL;
    cli_common cc = {0};
    enum { O_USERS = 256, O_ITEMS, O_INTER, O_COMM, O_POP, O_SIGMA, O_STRENGTH, O_SEED, O_FOLLOW };
    const cli_flag flags[] = {
        CLI_F_STR("out", 'o', &out),
        CLI_F_INT("users", O_USERS, &o.n_users, 1, INT32_MAX),
        CLI_F_INT("items", O_ITEMS, &o.n_items, 10, INT32_MAX),
        CLI_F_I64("interactions", O_INTER, &o.n_interactions, 1, (double)INT64_MAX),
        CLI_F_INT("communities", O_COMM, &o.n_communities, 1, INT32_MAX),
        CLI_F_DBL("pop-exponent", O_POP, &o.pop_exponent, 0.0, 4.0),
        CLI_F_DBL("activity-sigma", O_SIGMA, &o.activity_sigma, 0.0, 4.0),
        CLI_F_DBL("community-strength", O_STRENGTH, &o.community_strength, 0.0, 1.0),
        CLI_F_DBL("bundle-follow", O_FOLLOW, &o.bundle_follow, 0.0, 1.0),
        CLI_F_U64("seed", O_SEED, &o.seed),
        CLI_F_END};
    cli_args a = {.cmd = cmd, .shortopts = "o:hqv", .flags = flags, .cc = &cc, .help = help};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
        return rc;
    if (!out)
        return cli_usage_error(cmd, "--out FILE is required");
    cli_common_start(&cc);
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x;
    memset(&x, 0, sizeof x);
    if (!users || !items) {
        rc = cli_fail(hc_error(HC_ENOMEM, "out of memory"));
        goto done;
    }
    int st = hc_synth(&o, users, items, &x);
    if (st == HC_EINVAL) { /* cross-field limits (e.g. --interactions vs users x items) */
        const char *msg = hc_errmsg();
        if (!strncmp(msg, "synth: ", 7))
            msg += 7;
        rc = cli_usage_error(cmd, "%s", msg);
        goto done;
    }
    if (!st)
        st = write_tsv(out, &x, users, items);
    if (st) {
        rc = cli_fail(st);
        goto done;
    }
    double density = (double)x.n / ((double)o.n_users * (double)o.n_items);
    json_t *doc = json_pack("{s:s, s:i, s:i, s:I, s:f, s:I}", "out", out, "users", o.n_users,
                            "items", o.n_items, "interactions", (json_int_t)x.n, "density", density,
                            "seed", (json_int_t)o.seed);
    st = cli_common_json(&cc, doc);
    json_decref(doc);
    if (st) {
        rc = cli_fail(st);
        goto done;
    }
    if (!cc.quiet)
        printf("synth: %d users, %d items, %lld interactions, density %.4f%% (seed %llu) -> %s\n",
               (int)o.n_users, (int)o.n_items, (long long)x.n, 100.0 * density,
               (unsigned long long)o.seed, out);
    rc = CLI_EXIT_OK;
done:
    hc_idmap_free(users);
    hc_idmap_free(items);
    hc_interactions_free(&x);
    return rc;
}
