/*
 * test_serve.c - the server's pieces below HTTP: the batch body parser and parameter
 * parsers (src/serve/body.c) on good and bad input (known answers; malformed JSON, wrong
 * types, limits, duplicate and unknown keys, NUL and invalid UTF-8, bodies that are not
 * NUL-terminated), and the live model generations (src/serve/live.c): worker threads that
 * recommend without pause while the model file is replaced and reloaded 20 times, each
 * answer checked against the model its generation's checksum names, a corrupt file refused
 * with the old generation still serving, and the reload counters; the request deadlines
 * (src/serve/deadline.c) on socket pairs, swept at chosen times: a connection past its
 * deadline is shut down once (its peer reads end of file), one being answered or rearmed is
 * not, a removed one is never touched. Runs in well under a second; under AddressSanitizer it also
 * checks that no generation is freed while in use.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/model.h"
#include "serve/body.h"
#include "serve/deadline.h"
#include "serve/live.h"

/* Parses a NUL-terminated body with max 3 users, max k 100. */
static int parse(const char *body, hc_batch_req *r, char *err, size_t n)
{
    return hc_batch_parse(body, strlen(body), 3, 100, r, err, n);
}

static void test_batch_good(void **state)
{
    (void)state;
    hc_batch_req r;
    char err[200];
    assert_int_equal(parse("{\"users\": [\"a\", \"b\\u00e9\"], \"k\": 7, \"exclude\": \"all\"}", &r,
                           err, sizeof err),
                     0);
    assert_int_equal(r.n_users, 2);
    assert_string_equal(r.user[0], "a");
    assert_int_equal(r.user_len[1], 3); /* b + two UTF-8 bytes */
    assert_int_equal(r.k, 7);
    assert_true(r.has_exclude && r.exclude == HC_EXCLUDE_ALL);
    hc_batch_free(&r);
    assert_int_equal(parse("{\"users\": [\"x\"]}", &r, err, sizeof err), 0);
    assert_int_equal(r.k, 0);
    assert_false(r.has_exclude);
    hc_batch_free(&r);
    /* the length bounds the body: what follows it is not read */
    const char buf[] = "{\"users\": [\"q\"]}GARBAGE";
    assert_int_equal(hc_batch_parse(buf, 16, 3, 100, &r, err, sizeof err), 0);
    assert_string_equal(r.user[0], "q");
    hc_batch_free(&r);
    hc_batch_free(&r); /* zeroed: a second free is harmless */
}

static void test_batch_bad(void **state)
{
    (void)state;
    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"{\"users\": [\"a\"]", "malformed JSON"},
        {"", "malformed JSON"},
        {"[\"a\"]", "must be a JSON object"},
        {"{}", "missing \"users\""},
        {"{\"users\": []}", "empty"},
        {"{\"users\": \"a\"}", "must be an array"},
        {"{\"users\": [1]}", "is not a string"},
        {"{\"users\": [\"\"]}", "is empty"},
        {"{\"users\": [\"a\", \"b\", \"c\", \"d\"]}", "too many users: 4 (at most 3"},
        {"{\"users\": [\"a\"], \"k\": 0}", "\"k\" must be an integer in [1, 100]"},
        {"{\"users\": [\"a\"], \"k\": 101}", "[1, 100]"},
        {"{\"users\": [\"a\"], \"k\": 2.5}", "[1, 100]"},
        {"{\"users\": [\"a\"], \"k\": \"3\"}", "[1, 100]"},
        {"{\"users\": [\"a\"], \"exclude\": \"seen\"}", "\"exclude\" must be one of"},
        {"{\"users\": [\"a\"], \"user\": 1}", "unknown key \"user\""},
        {"{\"users\": [\"a\"], \"users\": [\"b\"]}", "malformed JSON"},
        {"{\"users\": [\"a\\u0000b\"]}", "malformed JSON"},
        {"{\"users\": [\"\xff\"]}", "malformed JSON"},
    };
    for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
        hc_batch_req r;
        char err[200];
        assert_int_equal(parse(bad[j].body, &r, err, sizeof err), -1);
        if (!strstr(err, bad[j].msg))
            fail_msg("body %s: message '%s' lacks '%s'", bad[j].body, err, bad[j].msg);
        assert_null(r.doc);
        assert_int_equal(r.n_users, 0);
    }
    /* a raw NUL inside the bytes, and a message cut to a tiny buffer (still terminated) */
    hc_batch_req r;
    char tiny[8];
    const char nul[] = "{\"users\": [\"a\0b\"]}";
    assert_int_equal(hc_batch_parse(nul, sizeof nul - 1, 3, 100, &r, tiny, sizeof tiny), -1);
    assert_true(strlen(tiny) < sizeof tiny);
}

static void test_params(void **state)
{
    (void)state;
    int32_t k = -1;
    assert_int_equal(hc_param_k("10", 2, 1000, &k), 0);
    assert_int_equal(k, 10);
    assert_int_equal(hc_param_k("1000", 4, 1000, &k), 0);
    assert_int_equal(hc_param_k("1001", 4, 1000, &k), -2);
    assert_int_equal(hc_param_k("0", 1, 1000, &k), -2);
    assert_int_equal(hc_param_k("12abc", 5, 1000, &k), -1);
    assert_int_equal(hc_param_k("-3", 2, 1000, &k), -1);
    assert_int_equal(hc_param_k("", 0, 1000, &k), -1);
    assert_int_equal(hc_param_k("3\0", 2, 1000, &k), -1); /* an embedded NUL */
    assert_int_equal(hc_param_k("9999999999", 10, 1000, &k), -1);
    int b = -1;
    assert_int_equal(hc_param_bool("true", 4, &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(hc_param_bool("0", 1, &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(hc_param_bool("tru", 3, &b), -1);
    assert_int_equal(hc_param_bool("1x", 2, &b), -1);
    hc_exclude e;
    assert_int_equal(hc_exclude_parse("all", &e), 0);
    assert_int_equal(e, HC_EXCLUDE_ALL);
    assert_int_equal(hc_exclude_parse("ALL", &e), -1);
    assert_string_equal(hc_exclude_name(HC_EXCLUDE_NONE), "none");
}

/* ------------------------------------------------------------------------------ reload */

enum { NU = 40, NI = 60, WORKERS = 3, K = 5, RELOADS = 20 };

/* Two MF models of one dataset and every user's top-K under each. */
typedef struct {
    hc_dataset ds;
    const char *path; /* the file the server loads */
    const char *file[2];
    uint64_t sum[2]; /* checksums of the two files */
    int32_t want[2][NU][K];
    hc_live live;
    atomic_int stop;
    atomic_long answers, wrong;
} fixture;

static uint64_t file_sum(const char *path)
{
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(path, &data, &len));
    uint64_t s = hc_checksum(data, len);
    free(data);
    return s;
}

static void make_models(fixture *f)
{
    tu_make_dataset(&f->ds, NU, NI, 3, 8, 5);
    const hc_model_type *t = hc_model_type_find("mf");
    for (int v = 0; v < 2; v++) {
        hc_hparams hp;
        hc_hparams_default(t, &hp);
        hp.dim = 4;
        hp.seed = 100 + (uint64_t)v;
        hp.init_std = 1.0f;
        hc_model *m;
        TU_OK(hc_model_create(t, &f->ds, &hp, &m));
        TU_OK(t->prepare(m, &f->ds));
        f->file[v] = strdup(tu_path(tu_tmpdir(), v ? "b.hcm" : "a.hcm"));
        TU_OK(hc_model_save(m, f->file[v]));
        f->sum[v] = file_sum(f->file[v]);
        hc_recommender r;
        TU_OK(hc_recommend_init(&r, m, &f->ds, 1, NULL));
        for (int32_t u = 0; u < NU; u++)
            TU_OK(hc_recommend_users(&r, &u, 1, K, HC_EXCLUDE_TRAIN, f->want[v][u], NULL, NULL));
        hc_recommend_free(&r);
        hc_model_free(m);
    }
    assert_memory_not_equal(f->want[0], f->want[1], sizeof f->want[0]);
}

/* Copies file src over path atomically (a reload must never see half a file). */
static void install(const char *src, const char *path)
{
    char *data;
    size_t len;
    TU_OK(hc_file_read_all(src, &data, &len));
    hc_afile af;
    TU_OK(hc_afile_open(&af, path));
    assert_int_equal(fwrite(data, 1, len, af.fp), len);
    TU_OK(hc_afile_commit(&af));
    free(data);
}

typedef struct {
    fixture *f;
    int32_t w;
} worker_arg;

/* Recommends for users in turn until told to stop, checking each list against the model
 * named by its generation's checksum. */
static void *worker(void *p)
{
    worker_arg *a = p;
    fixture *f = a->f;
    int32_t items[K], u = a->w;
    while (!atomic_load(&f->stop)) {
        hc_live_gen *g = hc_live_enter(&f->live, a->w);
        int v = g->checksum[0] == f->sum[1];
        int ok = (v || g->checksum[0] == f->sum[0]) &&
                 hc_recommend_users(&g->rec[a->w], &u, 1, K, HC_EXCLUDE_TRAIN, items, NULL, NULL) ==
                     HC_OK &&
                 !memcmp(items, f->want[v][u], sizeof items);
        hc_live_leave(&f->live, a->w);
        atomic_fetch_add(&f->answers, 1);
        if (!ok)
            atomic_fetch_add(&f->wrong, 1);
        u = (u + 1) % NU;
    }
    return NULL;
}

static void test_reload_under_load(void **state)
{
    (void)state;
    static fixture f; /* large; workers point into it */
    memset(&f, 0, sizeof f);
    make_models(&f);
    f.path = strdup(tu_path(tu_tmpdir(), "served.hcm"));
    install(f.file[0], f.path);
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    TU_OK(hc_live_init(&f.live, &f.path, 1, &spec, &f.ds, WORKERS, 1));
    pthread_t th[WORKERS];
    worker_arg args[WORKERS];
    for (int32_t w = 0; w < WORKERS; w++) {
        args[w] = (worker_arg){&f, w};
        assert_int_equal(pthread_create(&th[w], NULL, worker, &args[w]), 0);
    }
    for (int j = 1; j <= RELOADS; j++) {
        install(f.file[j % 2], f.path);
        TU_OK(hc_live_reload(&f.live));
        assert_int_equal(atomic_load(&f.live.cur)->checksum[0], f.sum[j % 2]);
    }
    /* a truncated file: refused, the last good generation keeps serving */
    TU_OK(hc_live_reload(&f.live)); /* the same file again: a new generation all the same */
    tu_write("served.hcm", "HCM2 truncated");
    assert_int_not_equal(hc_live_reload(&f.live), HC_OK);
    atomic_store(&f.stop, 1);
    for (int32_t w = 0; w < WORKERS; w++)
        pthread_join(th[w], NULL);
    uint64_t ok, failed;
    double at;
    char msg[256];
    hc_live_status(&f.live, &ok, &failed, &at, msg, sizeof msg);
    assert_int_equal(ok, RELOADS + 1);
    assert_int_equal(failed, 1);
    assert_non_null(strstr(msg, "served.hcm"));
    hc_live_gen *g = atomic_load(&f.live.cur);
    assert_int_equal(g->version, RELOADS + 2);
    assert_int_equal(g->checksum[0], f.sum[RELOADS % 2]);
    assert_string_equal(g->name[0], "served.hcm");
    assert_true(atomic_load(&f.answers) > 0);
    assert_int_equal(atomic_load(&f.wrong), 0);
    hc_live_free(&f.live);
    hc_dataset_free(&f.ds);
    free((void *)f.path);
    free((void *)f.file[0]);
    free((void *)f.file[1]);
}

/* 1 if the peer of a shut-down socket reads end of file (non-blocking: 0 if it would wait). */
static int peer_at_eof(int fd)
{
    char b;
    return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

static void test_deadlines(void **state)
{
    (void)state;
    enum { N = 4 };
    int sp[N][2];
    for (int j = 0; j < N; j++)
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[j]), 0);
    hc_deadlines d;
    assert_int_equal(hc_deadlines_init(&d, 2), HC_OK);
    long long t0 = hc_deadlines_now_ms();
    hc_conn *c[N];
    for (int j = 0; j < N; j++)
        assert_non_null(c[j] = hc_deadlines_add(&d, sp[j][0]));
    long long t1 = hc_deadlines_now_ms();
    /* before the 2 s deadline nothing is touched */
    assert_int_equal(hc_deadlines_sweep(&d, t0 + 1999), 0);
    for (int j = 0; j < N; j++)
        assert_false(peer_at_eof(sp[j][1]));
    /* c[1] is being answered, c[2] answered after t1 (rearmed), c[3] closed and removed */
    hc_deadlines_answering(c[1]);
    while (hc_deadlines_now_ms() <= t1)
        ; /* at most a millisecond: the rearm comes strictly after t1 */
    hc_deadlines_rearm(&d, c[2]);
    hc_deadlines_remove(&d, c[3]);
    assert_int_equal(hc_deadlines_sweep(&d, t1 + 2000), 1);
    assert_true(peer_at_eof(sp[0][1]));
    assert_false(peer_at_eof(sp[2][1]));
    /* far past every deadline: c[2] too, c[0] not twice, c[1] (answering) and c[3] never */
    assert_int_equal(hc_deadlines_sweep(&d, t1 + 1000000), 1);
    assert_int_equal(hc_deadlines_sweep(&d, t1 + 2000000), 0);
    assert_true(peer_at_eof(sp[0][1]));
    assert_true(peer_at_eof(sp[2][1]));
    assert_false(peer_at_eof(sp[1][1]));
    assert_false(peer_at_eof(sp[3][1]));
    assert_int_equal((int)atomic_load(&d.n_expired), 2);
    /* answered, then rearmed: its deadline runs again */
    hc_deadlines_rearm(&d, c[1]);
    assert_int_equal(hc_deadlines_sweep(&d, hc_deadlines_now_ms() + 2000), 1);
    assert_true(peer_at_eof(sp[1][1]));
    for (int j = 0; j < 3; j++)
        hc_deadlines_remove(&d, c[j]);
    /* the sweeper thread starts and stops; entries left are freed */
    assert_non_null(hc_deadlines_add(&d, sp[3][0]));
    assert_int_equal(hc_deadlines_start(&d), HC_OK);
    hc_deadlines_free(&d);
    for (int j = 0; j < N; j++) {
        close(sp[j][0]);
        close(sp[j][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_good), cmocka_unit_test(test_batch_bad),
        cmocka_unit_test(test_params),     cmocka_unit_test(test_reload_under_load),
        cmocka_unit_test(test_deadlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
