/* test_core.c - status messages, RNG streams, atomic files (and the targets and parent
 * directories they refuse or create), large arrays, CSR, id maps and the shared training loop
 * (scripted scores: which epochs it evaluates, what it keeps, when patience stops it). */
#include "testutil.h"
#include "core/train_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_status(void **state)
{
    (void)state;
    assert_string_equal(hc_strerror(HC_OK), "success");
    assert_string_equal(hc_err_name(HC_EPARSE), "HC_EPARSE");
    assert_int_equal(hc_error(HC_EIO, "x.txt:%d: bad", 3), HC_EIO);
    assert_string_equal(hc_errmsg(), "x.txt:3: bad");
    hc_error_clear();
    assert_string_equal(hc_errmsg(), "");
}

static void test_rng_streams(void **state)
{
    (void)state;
    hc_rng a, b, c;
    hc_rng_init(&a, 42, 0);
    hc_rng_init(&b, 42, 0);
    hc_rng_init(&c, 42, 1);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 100; i++) {
        uint64_t x = hc_rng_next(&a), y = hc_rng_next(&b), z = hc_rng_next(&c);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    assert_true(same_ab);
    assert_false(same_ac);
    /* hc_rng_below is uniform: chi-square over 10 bins of 100k draws stays far below 30 */
    long bins[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint32_t v = hc_rng_below(&a, 10);
        assert_true(v < 10);
        bins[v]++;
    }
    double chi = 0;
    for (int i = 0; i < 10; i++)
        chi += (bins[i] - 10000.0) * (bins[i] - 10000.0) / 10000.0;
    assert_true(chi < 30.0);
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double g = hc_rng_normal(&a);
        s += g;
        s2 += g * g;
    }
    assert_true(fabs(s / 1e5) < 0.02);
    assert_true(fabs(s2 / 1e5 - 1.0) < 0.03);
    int32_t perm[50];
    for (int i = 0; i < 50; i++)
        perm[i] = i;
    hc_rng_shuffle_i32(&a, perm, 50);
    int seen[50] = {0};
    for (int i = 0; i < 50; i++)
        seen[perm[i]]++;
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], 1);
}

static void test_afile(void **state)
{
    (void)state;
    const char *p = tu_path(tu_tmpdir(), "atomic.txt");
    hc_afile af;
    TU_OK(hc_afile_open(&af, p));
    fputs("hello\n", af.fp);
    assert_int_not_equal(access(p, F_OK), 0); /* nothing at the target before commit */
    TU_OK(hc_afile_commit(&af));
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(p, &data, &len));
    assert_int_equal(len, 6);
    assert_string_equal(data, "hello\n");
    free(data);
    /* an aborted rewrite leaves the old content and no temp file */
    TU_OK(hc_afile_open(&af, p));
    fputs("partial", af.fp);
    hc_afile_abort(&af);
    TU_OK(hc_file_read_all(p, &data, &len));
    assert_string_equal(data, "hello\n");
    free(data);
    /* a parent that cannot be a directory (a file is in the way) */
    assert_int_equal(hc_afile_open(&af, tu_path(p, "x")), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "atomic.txt/x: cannot create"));
    assert_int_equal(hc_file_read_all("/nonexistent-file", &data, &len), HC_EIO);
}

/* Fails unless opening an atomic file at path is refused with a message naming it and what
 * is there, leaving path of the given type and no temporary file. */
static void assert_refused(const char *path, const char *what, mode_t type)
{
    hc_afile af;
    assert_int_equal(hc_afile_open(&af, path), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), path));
    assert_non_null(strstr(hc_errmsg(), what));
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true((st.st_mode & S_IFMT) == type);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
}

/* Outputs are never renamed over what is not a regular file (a FIFO stands in for a device,
 * which mknod may not be allowed to make), whether it is there at open or appears before the
 * commit; missing parents are created, like mkdir -p. */
static void test_afile_targets(void **state)
{
    (void)state;
    const char *fifo = tu_path(tu_tmpdir(), "fifo"), *dir = tu_path(tu_tmpdir(), "adir");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_refused(fifo, "is a FIFO, not a regular file", S_IFIFO);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_refused(dir, "is a directory, not a regular file", S_IFDIR);
    const char *late = tu_path(tu_tmpdir(), "late");
    hc_afile af;
    TU_OK(hc_afile_open(&af, late));
    assert_int_equal(mkfifo(late, 0600), 0);
    assert_int_equal(hc_afile_commit(&af), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "is a FIFO"));
    struct stat st;
    assert_int_equal(lstat(late, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    /* parents */
    const char *deep = tu_path(tu_tmpdir(), "p/q//r/out.txt");
    TU_OK(hc_afile_open(&af, deep));
    TU_OK(hc_afile_commit(&af));
    assert_int_equal(access(deep, F_OK), 0);
    TU_OK(hc_make_dirs(tu_path(tu_tmpdir(), "p/q/s/")));
    TU_OK(hc_make_dirs(tu_path(tu_tmpdir(), "p/q/s"))); /* already there */
    assert_int_equal(stat(tu_path(tu_tmpdir(), "p/q/s"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(hc_make_dirs(deep), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "not a directory"));
    assert_int_equal(hc_make_dirs(tu_path(deep, "sub")), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "cannot create directory"));
}

/* hc_alloc_floats: zeroed, writable, 2 MiB-aligned from 2 MiB on; refuses n < 0. */
static void test_alloc_floats(void **state)
{
    (void)state;
    const int64_t sizes[] = {0, 1, 1000, (int64_t)1 << 19, ((int64_t)3 << 19) + 7};
    for (int k = 0; k < 5; k++) {
        float *p = hc_alloc_floats(sizes[k]);
        assert_non_null(p);
        for (int64_t i = 0; i < sizes[k]; i++)
            if (p[i] != 0.0f)
                fail_msg("size %lld: entry %lld not zero", (long long)sizes[k], (long long)i);
        if (sizes[k] >= (int64_t)1 << 19)
            assert_int_equal((uintptr_t)p % ((uintptr_t)2 << 20), 0);
        if (sizes[k] > 0)
            p[sizes[k] - 1] = 1.0f;
        free(p);
    }
    assert_null(hc_alloc_floats(-1));
}

/* CSR against a dense reference (a simple reference to test against). */
static void test_csr_vs_dense(void **state)
{
    (void)state;
    enum { R = 37, C = 23, N = 400 };
    int32_t rows[N], cols[N];
    unsigned char dense[R][C];
    memset(dense, 0, sizeof dense);
    hc_rng g;
    hc_rng_init(&g, 7, 0);
    for (int k = 0; k < N; k++) {
        rows[k] = (int32_t)hc_rng_below(&g, R);
        cols[k] = (int32_t)hc_rng_below(&g, C);
        dense[rows[k]][cols[k]] = 1;
    }
    hc_csr a, t, c;
    TU_OK(hc_csr_from_pairs(&a, R, C, rows, cols, N));
    int64_t nnz = 0;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < C; j++) {
            nnz += dense[r][j];
            assert_int_equal(hc_csr_has(&a, r, j), dense[r][j]);
        }
    assert_int_equal(a.nnz, nnz);
    for (int r = 0; r < R; r++)
        for (int k = 1; k < hc_csr_row_len(&a, r); k++)
            assert_true(hc_csr_row(&a, r)[k - 1] < hc_csr_row(&a, r)[k]);
    TU_OK(hc_csr_transpose(&a, &t));
    assert_int_equal(t.nrows, C);
    for (int r = 0; r < R; r++)
        for (int j = 0; j < C; j++)
            assert_int_equal(hc_csr_has(&t, j, r), dense[r][j]);
    TU_OK(hc_csr_copy(&t, &c));
    assert_memory_equal(c.indices, t.indices, (size_t)t.nnz * sizeof(int32_t));
    hc_csr_free(&a);
    hc_csr_free(&t);
    hc_csr_free(&c);
    int32_t bad_r = 5, bad_c = C;
    assert_int_equal(hc_csr_from_pairs(&a, R, C, &bad_r, &bad_c, 1), HC_ERANGE);
}

static void test_idmap(void **state)
{
    (void)state;
    hc_idmap *m = hc_idmap_new();
    assert_non_null(m);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        int32_t idx;
        int n = snprintf(key, sizeof key, "user-%d", i * 7);
        TU_OK(hc_idmap_put(m, key, (size_t)n, &idx));
        assert_int_equal(idx, i);
    }
    int32_t idx;
    TU_OK(hc_idmap_put(m, "user-7", 6, &idx));
    assert_int_equal(idx, 1);
    assert_int_equal(hc_idmap_size(m), 5000);
    assert_int_equal(hc_idmap_get(m, "user-14xyz", 7), 2); /* length-limited key */
    assert_int_equal(hc_idmap_get(m, "user-1", 6), -1);
    assert_string_equal(hc_idmap_name(m, 4999), "user-34993");
    hc_idmap_free(m);
    hc_idmap_free(NULL);
}

/* A scripted model for hc_train_loop: evaluation k scores score[k]; it records what the loop
 * asked of it. */
typedef struct {
    const double *score;
    int32_t n_epochs, n_evals, eval_epoch[16], snap_at[16], n_snaps, restored, improved[16];
    int fail_epoch; /* epoch whose training fails (HC_EIO), or -1 */
} script;

static int s_epoch(void *ud, int32_t epoch, double *loss)
{
    script *s = ud;
    s->n_epochs++;
    *loss = 1.0;
    return epoch == s->fail_epoch ? HC_EIO : HC_OK;
}

static int s_evaluate(void *ud, int32_t epoch, double loss, double train_s, double *score)
{
    script *s = ud;
    (void)loss;
    (void)train_s;
    s->eval_epoch[s->n_evals] = epoch;
    *score = s->score[s->n_evals++];
    return HC_OK;
}

static int s_snapshot(void *ud)
{
    script *s = ud;
    s->snap_at[s->n_snaps++] = s->n_evals - 1;
    return HC_OK;
}

static int s_restore(void *ud)
{
    ((script *)ud)->restored++;
    return HC_OK;
}

static void s_on_eval(void *ud, int improved)
{
    script *s = ud;
    s->improved[s->n_evals - 1] = improved;
}

static int run_script(script *s, int32_t first, int32_t max, int32_t every, int32_t patience,
                      hc_loop_result *r)
{
    const hc_loop_opts o = {first, max, every, patience, 0.0};
    const hc_loop_ops ops = {s_epoch, s_evaluate, s_snapshot, s_restore, NULL, s_on_eval, s};
    return hc_train_loop(&o, &ops, r);
}

/* Teachers' numbering (from 1): evaluations after epoch 1, every 5th and the last; the best
 * kept; patience 2 stops after two evaluations without a better score. */
static void test_train_loop_teacher(void **state)
{
    (void)state;
    static const double sc[] = {0.1, 0.3, 0.2, 0.3, 0.25};
    script s = {.score = sc, .fail_epoch = -1};
    hc_loop_result r;
    TU_OK(run_script(&s, 1, 100, 5, 2, &r));
    /* epochs 1, 5, 10, 15: 0.2 and 0.3 (not better than 0.3) use up the patience */
    assert_int_equal(s.n_evals, 4);
    assert_int_equal(s.eval_epoch[0], 1);
    assert_int_equal(s.eval_epoch[3], 15);
    assert_int_equal(r.epochs, 15);
    assert_int_equal(r.n_evals, 4);
    assert_int_equal(r.best, 1);
    assert_int_equal(r.stopped_early, 1);
    assert_int_equal(s.n_snaps, 2);
    assert_int_equal(s.snap_at[0], 0);
    assert_int_equal(s.snap_at[1], 1);
    assert_true(s.improved[0] && s.improved[1] && !s.improved[2] && !s.improved[3]);
    assert_int_equal(s.restored, 1);
}

/* Students' numbering (from 0): evaluations at 0, 10, 20, ... and the last epoch (max - 1). */
static void test_train_loop_student(void **state)
{
    (void)state;
    static const double sc[] = {0.1, 0.2, 0.3, 0.4, 0.5};
    script s = {.score = sc, .fail_epoch = -1};
    hc_loop_result r;
    TU_OK(run_script(&s, 0, 25, 10, 5, &r));
    assert_int_equal(s.n_evals, 4);
    assert_int_equal(s.eval_epoch[0], 0);
    assert_int_equal(s.eval_epoch[2], 20);
    assert_int_equal(s.eval_epoch[3], 24);
    assert_int_equal(r.epochs, 25);
    assert_int_equal(r.best, 3);
    assert_int_equal(r.stopped_early, 0);
    assert_int_equal(s.n_snaps, 4);
    assert_int_equal(s.restored, 1);
}

/* Bad options are refused before any epoch; a failing epoch ends the loop with its status
 * and no restore. */
static void test_train_loop_errors(void **state)
{
    (void)state;
    static const double sc[] = {0.1, 0.2, 0.3};
    script s = {.score = sc, .fail_epoch = -1};
    hc_loop_result r;
    assert_int_equal(run_script(&s, 1, 10, 0, 5, &r), HC_EINVAL);
    assert_int_equal(run_script(&s, 1, 0, 5, 5, &r), HC_EINVAL);
    assert_int_equal(run_script(&s, 1, 10, 5, 0, &r), HC_EINVAL);
    assert_int_equal(s.n_epochs, 0);
    s.fail_epoch = 3;
    assert_int_equal(run_script(&s, 1, 10, 1, 5, &r), HC_EIO);
    assert_int_equal(s.n_epochs, 3);
    assert_int_equal(s.n_evals, 2);
    assert_int_equal(s.restored, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_rng_streams),
        cmocka_unit_test(test_afile),
        cmocka_unit_test(test_afile_targets),
        cmocka_unit_test(test_alloc_floats),
        cmocka_unit_test(test_csr_vs_dense),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_train_loop_teacher),
        cmocka_unit_test(test_train_loop_student),
        cmocka_unit_test(test_train_loop_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
