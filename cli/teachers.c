/*
 * teachers.c - loading the teachers a command names: each argument is a trajectory file or a
 * directory written by `hetcomp teacher` (its trajectory.hct is used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"
#include "traj/trajectory.h"

const char *cli_teacher_file(const char *p, char *buf, size_t size)
{
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, size, "%s/trajectory.hct", p);
        return buf;
    }
    return p;
}

int cli_load_teachers(const hc_dataset *ds, char **paths, int32_t n, hc_traj **out)
{
    *out = NULL;
    if (n <= 0)
        return hc_error(HC_EINVAL, "no teachers given (--teachers DIR|FILE ...)");
    hc_traj *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return hc_error(HC_ENOMEM, "out of memory");
    for (int32_t x = 0; x < n; x++) {
        char buf[4096];
        int rc = hc_traj_load(cli_teacher_file(paths[x], buf, sizeof buf), ds, &t[x]);
        if (rc) {
            cli_free_teachers(t, n);
            return rc;
        }
    }
    *out = t;
    return HC_OK;
}

void cli_free_teachers(hc_traj *t, int32_t n)
{
    if (!t)
        return;
    for (int32_t x = 0; x < n; x++)
        hc_traj_free(&t[x]);
    free(t);
}
