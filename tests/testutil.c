/* testutil.c - fixture paths and a scratch directory for the cmocka tests. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tu_tmp[512];

static char *rot_buf(void)
{
    static char bufs[8][1024];
    static int k;
    return bufs[k++ & 7];
}

const char *tu_fixture_dir(void)
{
    return HC_TEST_DATA_DIR;
}

const char *tu_shared_dir(void)
{
    const char *env = getenv("HETCOMP_DATA_DIR");
    const char *dir = env && *env ? env : HC_SHARED_DATA_DIR;
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? dir : NULL;
}

static void tu_cleanup(void)
{
    if (tu_tmp[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tu_tmp);
    }
}

const char *tu_tmpdir(void)
{
    if (!tu_tmp[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tu_tmp, sizeof tu_tmp, "%s/hctest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tu_tmp)) {
            perror("mkdtemp");
            abort();
        }
        atexit(tu_cleanup);
    }
    return tu_tmp;
}

const char *tu_path(const char *dir, const char *name)
{
    char *b = rot_buf();
    snprintf(b, 1024, "%s/%s", dir, name);
    return b;
}

const char *tu_write(const char *name, const char *text)
{
    const char *p = tu_path(tu_tmpdir(), name);
    FILE *fp = fopen(p, "wb");
    if (!fp) {
        perror(p);
        abort();
    }
    fputs(text, fp);
    fclose(fp);
    return p;
}
