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
    const char *run = NULL, *out = NULL;
    cli_common cc = {0};
    const cli_flag flags[] = {CLI_F_STR("run", 'r', &run), CLI_F_STR("out", 'o', &out), CLI_F_END};
    cli_args a = {.cmd = CMD, .shortopts = "hqv", .flags = flags, .cc = &cc, .help = help};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
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
