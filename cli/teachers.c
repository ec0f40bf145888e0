/*
 * teachers.c - loading the teachers a command names: each argument is a trajectory file or a
 * directory written by `hetcomp teacher` (its trajectory.hct is used), read whole or, under
 * MPI, as this rank's share of the users (docs/distributed.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dist/dist.h"
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

int cli_load_teachers(const hc_dataset *ds, char **paths, int32_t n, int share, hc_traj **out)
{
    /* HC_TRAJ_WHOLE=1 loads whole files at any rank count, for comparisons (docs/distributed.md) */
    const char *whole_env = getenv("HC_TRAJ_WHOLE");
    share = share && !(whole_env && !strcmp(whole_env, "1"));
    const int rank = share ? dist_rank() : 0, size = share ? dist_size() : 1;
    *out = NULL;
    if (n <= 0)
        return hc_error(HC_EINVAL, "no teachers given (--teachers DIR|FILE ...)");
    hc_traj *t = calloc((size_t)n, sizeof *t);
    uint64_t held = 0, whole = 0;
    if (!t)
        return hc_error(HC_ENOMEM, "out of memory");
    for (int32_t x = 0; x < n; x++) {
        char buf[4096];
        const char *path = cli_teacher_file(paths[x], buf, sizeof buf);
        int rc = hc_traj_load_part(path, ds, rank, size, &t[x]);
        if (rc) {
            cli_free_teachers(t, n);
            return rc;
        }
        held += hc_traj_bytes(&t[x], 0);
        whole += hc_traj_bytes(&t[x], 1);
    }
    if (dist_size() > 1) /* the figure docs/distributed.md's formula predicts */
        hc_log(HC_LOG_INFO, "teachers: rank %d of %d holds %llu of %llu trajectory bytes (%s)",
               dist_rank(), dist_size(), (unsigned long long)held, (unsigned long long)whole,
               size > 1 ? "its users' share" : "whole");
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
