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

enum {
    OPT_USERS = 256,
    OPT_ITEMS,
    OPT_INTERACTIONS,
    OPT_COMMUNITIES,
    OPT_POP,
    OPT_SIGMA,
    OPT_STRENGTH,
    OPT_SEED,
    OPT_FOLLOW
};

/* Takes flag c into o (or *out). */
static int synth_flag(hc_synth_opts *o, const char **out, int c, const char *arg)
{
    switch (c) {
    case 'o':
        *out = arg;
        return 0;
    case OPT_USERS:
        return cli_int("synth", "--users", arg, 1, INT32_MAX, &o->n_users);
    case OPT_ITEMS:
        return cli_int("synth", "--items", arg, 10, INT32_MAX, &o->n_items);
    case OPT_INTERACTIONS:
        return cli_i64("synth", "--interactions", arg, 1, INT64_MAX, &o->n_interactions);
    case OPT_COMMUNITIES:
        return cli_int("synth", "--communities", arg, 1, INT32_MAX, &o->n_communities);
    case OPT_POP:
        return cli_double("synth", "--pop-exponent", arg, 0.0, 4.0, &o->pop_exponent);
    case OPT_SIGMA:
        return cli_double("synth", "--activity-sigma", arg, 0.0, 4.0, &o->activity_sigma);
    case OPT_STRENGTH:
        return cli_double("synth", "--community-strength", arg, 0.0, 1.0, &o->community_strength);
    case OPT_FOLLOW:
        return cli_double("synth", "--bundle-follow", arg, 0.0, 1.0, &o->bundle_follow);
    case OPT_SEED:
        return cli_u64("synth", "--seed", arg, &o->seed);
    default:
        return 0;
    }
}

int cmd_synth(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"users", required_argument, NULL, OPT_USERS},
        {"items", required_argument, NULL, OPT_ITEMS},
        {"interactions", required_argument, NULL, OPT_INTERACTIONS},
        {"communities", required_argument, NULL, OPT_COMMUNITIES},
        {"pop-exponent", required_argument, NULL, OPT_POP},
        {"activity-sigma", required_argument, NULL, OPT_SIGMA},
        {"community-strength", required_argument, NULL, OPT_STRENGTH},
        {"bundle-follow", required_argument, NULL, OPT_FOLLOW},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, 'h'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "synth";
    hc_synth_opts o, defaults;
    hc_synth_opts_default(&o);
    defaults = o;
    const char *out = NULL;
    int c, rc = 0;
    cli_common cc = {0};

    cli_getopt g;
    cli_getopt_init(&g, cmd, "o:hqv", longopts, NULL, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        if (cli_common_arg(cmd, &cc, c, optarg, &rc))
            continue;
        if (c == 'h') {
            synth_usage(stdout, &defaults);
            return CLI_EXIT_OK;
        }
        rc = synth_flag(&o, &out, c, optarg);
        if (rc)
            return rc;
    }
    if (rc || (rc = cli_no_operands(cmd, argc, argv)))
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
