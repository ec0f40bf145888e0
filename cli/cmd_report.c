/*
 * cmd_report.c - `hetcomp report`: (re)writes the HTML report of a `hetcomp run` directory
 * from what its stages wrote (cli/report.c), e.g. after a run was interrupted or to see a
 * run that is still going.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "report.h"

static const char *CMD = "report";

static void help(void)
{
    printf("usage: hetcomp report --run DIR [--out FILE]\n\n"
           "Writes the HTML report of a 'hetcomp run' directory: the comparison table\n"
           "(teachers, ensemble, students: accuracy, parameters, training and inference cost)\n"
           "and gnuplot plots, in one self-contained file. Stages that have not finished are\n"
           "left out.\n\n"
           "options:\n"
           "  --run DIR           the run directory (required)\n"
           "  --out FILE          output file (DIR/report.html)\n");
    cli_common_help(stdout);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"run", required_argument, 0, 'r'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *run = NULL, *out = NULL;
    int c, rc = 0;
    cli_common cc = {0};
    cli_getopt g;
    cli_getopt_init(&g, CMD, "hqv", opts, NULL, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        if (cli_common_arg(CMD, &cc, c, optarg, &rc))
            continue;
        switch (c) {
        case 'r':
            run = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            help();
            return CLI_EXIT_OK;
        }
    }
    if (rc || (rc = cli_no_operands(CMD, argc, argv)))
        return rc;
    if (!run)
        return cli_usage_error(CMD, "--run is required");
    cli_common_start(&cc);
    char path[4200];
    if (!out) {
        snprintf(path, sizeof path, "%s/report.html", run);
        out = path;
    }
    rc = cli_report_write(run, out, NULL);
    json_t *doc = rc ? NULL : json_pack("{s:s, s:s}", "run", run, "report", out);
    if (!rc)
        rc = cli_common_json(&cc, doc);
    json_decref(doc);
    if (rc)
        return cli_fail(rc);
    if (!cc.quiet)
        printf("%s\n", out);
    return CLI_EXIT_OK;
}
