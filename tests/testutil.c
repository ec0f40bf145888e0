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

void tu_make_dataset(hc_dataset *ds, int32_t n_users, int32_t n_items, int32_t n_groups,
                     int32_t per_user, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    ds->n_users = n_users;
    ds->n_items = n_items;
    ds->users = hc_idmap_new();
    ds->items = hc_idmap_new();
    char key[32];
    int32_t idx;
    for (int32_t u = 0; u < n_users; u++) {
        int n = snprintf(key, sizeof key, "u%d", u);
        if (hc_idmap_put(ds->users, key, (size_t)n, &idx))
            abort();
    }
    for (int32_t i = 0; i < n_items; i++) {
        int n = snprintf(key, sizeof key, "i%d", i);
        if (hc_idmap_put(ds->items, key, (size_t)n, &idx))
            abort();
    }
    int64_t cap = (int64_t)n_users * per_user;
    int32_t *r[3], *c[3];
    int64_t cnt[3] = {0, 0, 0};
    for (int s = 0; s < 3; s++) {
        r[s] = malloc((size_t)cap * sizeof(int32_t));
        c[s] = malloc((size_t)cap * sizeof(int32_t));
    }
    hc_rng g;
    hc_rng_init(&g, seed, 99);
    int32_t *mine = malloc((size_t)per_user * sizeof(int32_t));
    for (int32_t u = 0; u < n_users; u++) {
        int32_t grp = u % n_groups, k = 0;
        while (k < per_user) {
            int32_t it;
            if (hc_rng_float(&g) < 0.8f) {
                int32_t per_group = (n_items - grp + n_groups - 1) / n_groups;
                it = grp + n_groups * (int32_t)hc_rng_below(&g, (uint32_t)per_group);
            } else {
                it = (int32_t)hc_rng_below(&g, (uint32_t)n_items);
            }
            int dup = 0;
            for (int32_t q = 0; q < k; q++)
                dup |= mine[q] == it;
            if (!dup)
                mine[k++] = it;
        }
        for (int32_t q = 0; q < per_user; q++) {
            int s = q < 2 ? 2 : q < 4 ? 1 : 0;
            r[s][cnt[s]] = u;
            c[s][cnt[s]++] = mine[q];
        }
    }
    free(mine);
    hc_csr *dst[3] = {&ds->train, &ds->valid, &ds->test};
    for (int s = 0; s < 3; s++) {
        if (hc_csr_from_pairs(dst[s], n_users, n_items, r[s], c[s], cnt[s]))
            abort();
        free(r[s]);
        free(c[s]);
    }
    ds->seed = seed;
    hc_dataset_update_checksum(ds);
}
