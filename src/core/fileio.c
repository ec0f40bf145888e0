/*
 * fileio.c - atomic output (temp file + rename), opening and whole-file reads, and content
 * checksums.
 *
 * Outputs are never left half-written: hc_afile_open() creates "<path>.tmp.<pid>" beside the
 * target, and only hc_afile_commit() - after every write, fflush, fsync and fclose succeeded -
 * renames it over the target. Any failure removes the temporary file. The target must be a
 * regular file or absent: rename() would otherwise replace a device or FIFO with our file
 * (as root, the system's /dev/null). Missing parent directories are created, like mkdir -p.
 * A killed writer (kill -9) leaves its temporary file behind: the next hc_afile_open() of the
 * same target removes every "<path>.tmp.<pid>" whose process no longer exists.
 * Under MPI, ranks other than 0 write to /dev/null and never touch the target, so every rank
 * runs the same code and one file appears (docs/distributed.md).
 */
#include "core/internal.h"
#include "dist/dist.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

int hc_make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return hc_error(HC_ENOMEM, "%s: out of memory", dir);
    memcpy(p, dir, n + 1);
    /* every prefix that ends before a '/' (none for the root, one per run of slashes), then
     * the whole path; EEXIST is fine, a file in the way shows as ENOTDIR or in the check */
    for (size_t k = 1; k <= n; k++) {
        if ((k < n && p[k] != '/') || p[k - 1] == '/')
            continue;
        p[k] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int rc = hc_error(HC_EIO, "%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return rc;
        }
        p[k] = dir[k];
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return hc_error(HC_EIO, "%s: not a directory", dir);
    return HC_OK;
}

/* HC_OK when path is absent or a regular file (a symlink counts as what it points to). */
static int check_target(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return HC_OK;
    const char *what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a special file";
    return hc_error(HC_EIO, "%s: exists and is %s, not a regular file; refusing to replace it",
                    path, what);
}

/* Creates the directories above path (nothing when path has no directory part). */
static int make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return HC_OK;
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir)
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    int rc = hc_make_dirs(dir);
    free(dir);
    return rc;
}

/* Removes the temporary files of path left by writers that died: "<base>.tmp.<pid>" in
 * path's directory whose pid names no live process. O(directory entries). */
static void remove_stale(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    const char *base = slash ? slash + 1 : path;
    size_t bl = strlen(base);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        if (strncmp(e->d_name, base, bl) != 0 || strncmp(e->d_name + bl, ".tmp.", 5) != 0)
            continue;
        long pid = strtol(e->d_name + bl + 5, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) == 0)
            hc_log(HC_LOG_INFO, "%s: removed a temporary file left by a killed writer", p);
    }
    if (d)
        closedir(d);
}

/* The rank-other-than-0 form of hc_afile_open: a sink, no target. */
static int open_discard(hc_afile *af, const char *path)
{
    af->fp = fopen("/dev/null", "wb");
    return af->fp ? HC_OK
                  : hc_error(HC_EIO, "%s: cannot open /dev/null: %s", path, strerror(errno));
}

int hc_afile_open(hc_afile *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (dist_rank() != 0)
        return open_discard(af, path);
    int rc = check_target(path);
    if (rc)
        return rc;
    size_t n = strlen(path);
    af->path = malloc(n + 1);
    af->tmp_path = malloc(n + 32);
    if (!af->path || !af->tmp_path) {
        free(af->path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    remove_stale(path);
    snprintf(af->tmp_path, n + 32, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp && errno == ENOENT && (rc = make_parent(path)) == HC_OK)
        af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) {
        int e = errno;
        free(af->path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        /* make_parent's own message names the directory it could not create */
        return rc ? rc : hc_error(HC_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    return HC_OK;
}

int hc_afile_commit(hc_afile *af)
{
    int rc = HC_OK;
    if (!af->fp)
        return hc_error(HC_EINVAL, "atomic file is not open");
    if (!af->tmp_path) { /* a rank other than 0: nothing to publish */
        fclose(af->fp);
        af->fp = NULL;
        return HC_OK;
    }
    int bad = ferror(af->fp) || fflush(af->fp) != 0;
    int e = errno;
    if (!bad && fsync(fileno(af->fp)) != 0 && errno != EINVAL)
        bad = 1, e = errno;
    if (fclose(af->fp) != 0 && !bad)
        bad = 1, e = errno;
    af->fp = NULL;
    if (bad) {
        rc = hc_error(HC_EIO, "%s: write failed: %s", af->path, strerror(e));
        remove(af->tmp_path);
    } else if ((rc = check_target(af->path)) != HC_OK) { /* it may have appeared meanwhile */
        remove(af->tmp_path);
    } else if (rename(af->tmp_path, af->path) != 0) {
        rc = hc_error(HC_EIO, "%s: cannot rename temporary file: %s", af->path, strerror(errno));
        remove(af->tmp_path);
    }
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    return rc;
}

void hc_afile_abort(hc_afile *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path)
        remove(af->tmp_path);
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
}

int hc_file_open_read(const char *path, FILE **fp, size_t *size)
{
    *fp = fopen(path, "rb");
    if (!*fp)
        return hc_error(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(*fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(*fp);
        *fp = NULL;
        return hc_error(HC_EIO, "%s: not a regular file", path);
    }
    *size = (size_t)st.st_size;
    return HC_OK;
}

int hc_file_read_all(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *fp;
    size_t size;
    int rc = hc_file_open_read(path, &fp, &size);
    if (rc)
        return rc;
    size_t cap = size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return hc_error(HC_ENOMEM, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        if (n + 1 >= cap) { /* the file grew while we read it */
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(fp);
                return hc_error(HC_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return hc_error(HC_EIO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return HC_OK;
}

uint64_t hc_checksum(const void *data, size_t len)
{
    return (uint64_t)XXH3_64bits(data, len);
}
