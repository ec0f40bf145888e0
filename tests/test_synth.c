/* test_synth.c - the synthetic dataset: exact sizes and ids, determinism, per-user minimum
 * and time order, heavy-tailed popularity, learnable structure beyond popularity, options
 * checking and small edge cases. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generates opts into fresh maps; the caller frees. */
static void gen(const hc_synth_opts *o, hc_idmap **users, hc_idmap **items, hc_interactions *x)
{
    *users = hc_idmap_new();
    *items = hc_idmap_new();
    assert_non_null(*users);
    assert_non_null(*items);
    memset(x, 0, sizeof *x);
    TU_OK(hc_synth(o, *users, *items, x));
}

static void drop(hc_idmap *users, hc_idmap *items, hc_interactions *x)
{
    hc_idmap_free(users);
    hc_idmap_free(items);
    hc_interactions_free(x);
}

/* Checks the invariants every generated dataset has: rows grouped by user in user order,
 * strictly increasing timestamps per user, no duplicate pair, every user with at least
 * min_user items; returns the CSR of the rows (caller frees). */
static hc_csr check_invariants(const hc_interactions *x, int32_t n_users, int32_t n_items,
                               int32_t min_user)
{
    assert_non_null(x->ts);
    assert_null(x->rating);
    for (int64_t k = 1; k < x->n; k++) {
        assert_true(x->user[k] >= x->user[k - 1]);
        if (x->user[k] == x->user[k - 1])
            assert_true(x->ts[k] > x->ts[k - 1]);
    }
    hc_csr m;
    TU_OK(hc_csr_from_pairs(&m, n_users, n_items, x->user, x->item, x->n));
    assert_int_equal(m.nnz, x->n); /* distinct pairs only */
    for (int32_t u = 0; u < n_users; u++)
        assert_true(hc_csr_row_len(&m, u) >= min_user);
    return m;
}

static void test_defaults_and_ids(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_opts_default(&o);
    assert_int_equal(o.n_users, 3000);
    assert_int_equal(o.n_items, 5000);
    assert_int_equal(o.n_interactions, 100000);
    assert_int_equal(o.n_communities, 20);
    assert_int_equal(o.seed, 0);
    hc_idmap *users, *items;
    hc_interactions x;
    gen(&o, &users, &items, &x);
    /* every user gets exactly its distinct count: the total is the target exactly */
    assert_int_equal(x.n, o.n_interactions);
    assert_int_equal(hc_idmap_size(users), 3000);
    assert_int_equal(hc_idmap_size(items), 5000);
    assert_string_equal(hc_idmap_name(users, 0), "u0");
    assert_string_equal(hc_idmap_name(users, 2999), "u2999");
    assert_string_equal(hc_idmap_name(items, 0), "i0");
    assert_string_equal(hc_idmap_name(items, 4999), "i4999");
    assert_int_equal(hc_idmap_get(items, "i1234", 5), 1234);
    hc_csr m = check_invariants(&x, 3000, 5000, 5);
    hc_csr_free(&m);
    drop(users, items, &x);
}

static void test_determinism(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_opts_default(&o);
    o.n_users = 400;
    o.n_items = 900;
    o.n_interactions = 12000;
    o.seed = 7;
    hc_idmap *u1, *i1, *u2, *i2, *u3, *i3;
    hc_interactions a, b, c;
    gen(&o, &u1, &i1, &a);
    gen(&o, &u2, &i2, &b);
    o.seed = 8;
    gen(&o, &u3, &i3, &c);
    assert_int_equal(a.n, 12000);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.user, b.user, (size_t)a.n * sizeof *a.user);
    assert_memory_equal(a.item, b.item, (size_t)a.n * sizeof *a.item);
    assert_memory_equal(a.ts, b.ts, (size_t)a.n * sizeof *a.ts);
    /* another seed: same size, different data */
    assert_int_equal(c.n, a.n);
    int64_t same = 0;
    for (int64_t k = 0; k < a.n; k++)
        same += a.item[k] == c.item[k];
    assert_true(same < a.n / 10);
    hc_csr m = check_invariants(&c, 400, 900, 5);
    hc_csr_free(&m);
    drop(u1, i1, &a);
    drop(u2, i2, &b);
    drop(u3, i3, &c);
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_popularity_and_activity(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_opts_default(&o);
    hc_idmap *users, *items;
    hc_interactions x;
    gen(&o, &users, &items, &x);
    int64_t *pop = calloc(5000, sizeof *pop);
    int64_t *act = calloc(3000, sizeof *act);
    assert_non_null(pop);
    assert_non_null(act);
    for (int64_t k = 0; k < x.n; k++) {
        pop[x.item[k]]++;
        act[x.user[k]]++;
    }
    qsort(pop, 5000, sizeof *pop, cmp_desc);
    qsort(act, 3000, sizeof *act, cmp_desc);
    int64_t top = 0, zero = 0;
    for (int i = 0; i < 500; i++)
        top += pop[i];
    for (int i = 0; i < 5000; i++)
        zero += pop[i] == 0;
    /* measured for seed 0: top 10% of items hold 39.7%, 6 items unused, the top item has
     * 34% of users */
    assert_true((double)top / (double)x.n > 0.35);
    assert_true(zero < 50);
    assert_true(pop[0] > 300);
    /* log-normal activity: the busiest user has several times the median (measured: 390
     * vs 25), the 90th percentile about 5x the 10th (62 vs 12) */
    assert_true(act[0] > 8 * act[1500]);
    assert_true(act[300] > 3 * act[2700]);
    assert_true(act[2999] >= 5);
    free(pop);
    free(act);
    drop(users, items, &x);
}

typedef struct {
    double s;
    int32_t i;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? 1 : -1;
    return x->i - y->i;
}

/* Hits of the top-50 of scores (items in skip excluded) among the items in gt. */
static int hits_at_50(const double *score, const char *skip, const char *gt, int32_t n, scored *buf)
{
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (!skip[i]) {
            buf[m].s = score[i];
            buf[m].i = i;
            m++;
        }
    qsort(buf, (size_t)m, sizeof *buf, cmp_scored);
    int h = 0;
    for (int32_t k = 0; k < 50 && k < m; k++)
        h += gt[buf[k].i];
    return h;
}

/* Mean Recall@50 over the first n_eval users (20% of each one's items held out at random)
 * of popularity and of user-kNN (cosine over item sets, 50 neighbours). */
static void knn_vs_pop(const hc_synth_opts *o, int32_t n_eval, double *rec_pop, double *rec_knn)
{
    hc_idmap *users, *items;
    hc_interactions x;
    gen(o, &users, &items, &x);
    const int32_t U = o->n_users, I = o->n_items;
    hc_csr m, mt;
    TU_OK(hc_csr_from_pairs(&m, U, I, x.user, x.item, x.n));
    TU_OK(hc_csr_transpose(&m, &mt));
    char *held = calloc((size_t)m.nnz, 1), *train = calloc((size_t)I, 1);
    char *gt = calloc((size_t)I, 1);
    double *pop = calloc((size_t)I, sizeof *pop), *score = calloc((size_t)I, sizeof *score);
    double *sim = calloc((size_t)U, sizeof *sim);
    scored *buf = malloc((size_t)(I > U ? I : U) * sizeof *buf);
    int32_t *perm = malloc((size_t)I * sizeof *perm);
    assert_true(held && train && gt && pop && score && sim && buf && perm);
    hc_rng r;
    hc_rng_init(&r, 99, 0);
    for (int32_t u = 0; u < n_eval; u++) {
        int32_t n = hc_csr_row_len(&m, u);
        for (int32_t k = 0; k < n; k++)
            perm[k] = k;
        hc_rng_shuffle_i32(&r, perm, n);
        for (int32_t k = 0; k < n / 5; k++)
            held[m.indptr[u] + perm[k]] = 1;
    }
    for (int64_t k = 0; k < m.nnz; k++)
        if (!held[k])
            pop[m.indices[k]] += 1.0;
    double sp = 0.0, sk = 0.0;
    for (int32_t u = 0; u < n_eval; u++) {
        memset(train, 0, (size_t)I);
        memset(gt, 0, (size_t)I);
        int32_t n_gt = 0, n_tr = 0;
        for (int64_t k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
            if (held[k])
                gt[m.indices[k]] = 1, n_gt++;
            else
                train[m.indices[k]] = 1, n_tr++;
        }
        sp += (double)hits_at_50(pop, train, gt, I, buf) / n_gt;
        /* neighbours by cosine of u's train items against the other users' items */
        memset(sim, 0, (size_t)U * sizeof *sim);
        for (int32_t i = 0; i < I; i++)
            if (train[i])
                for (int64_t k = mt.indptr[i]; k < mt.indptr[i + 1]; k++)
                    sim[mt.indices[k]] += 1.0;
        sim[u] = 0.0;
        for (int32_t v = 0; v < U; v++) {
            buf[v].s = sim[v] / sqrt((double)n_tr * hc_csr_row_len(&m, v));
            buf[v].i = v;
        }
        qsort(buf, (size_t)U, sizeof *buf, cmp_scored);
        memset(score, 0, (size_t)I * sizeof *score);
        for (int32_t k = 0; k < 50; k++)
            for (int64_t q = m.indptr[buf[k].i]; q < m.indptr[buf[k].i + 1]; q++)
                if (!held[q])
                    score[m.indices[q]] += buf[k].s;
        sk += (double)hits_at_50(score, train, gt, I, buf) / n_gt;
    }
    *rec_pop = sp / n_eval;
    *rec_knn = sk / n_eval;
    free(held);
    free(train);
    free(gt);
    free(pop);
    free(score);
    free(sim);
    free(buf);
    free(perm);
    hc_csr_free(&m);
    hc_csr_free(&mt);
    drop(users, items, &x);
}

static void test_structure_is_learnable(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_opts_default(&o);
    double pop, knn;
    knn_vs_pop(&o, 300, &pop, &knn);
    /* measured (seed 0, 300 users): popularity 0.14, user-kNN 0.40. Popularity is a real
     * baseline, and personal structure more than doubles it. */
    assert_true(pop > 0.07);
    assert_true(knn > 2.0 * pop);
    /* the knob works: weak communities leave less to learn beyond popularity */
    double pop_w, knn_w;
    o.community_strength = 0.2;
    knn_vs_pop(&o, 300, &pop_w, &knn_w);
    assert_true(knn_w / pop_w < knn / pop);
}

static void test_bad_options(void **state)
{
    (void)state;
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x;
    memset(&x, 0, sizeof x);
    hc_synth_opts ok, o;
    hc_synth_opts_default(&ok);
    ok.n_users = 20;
    ok.n_items = 50;
    ok.n_interactions = 300;
#define BAD(field, value)                                                                          \
    do {                                                                                           \
        o = ok;                                                                                    \
        o.field = value;                                                                           \
        hc_error_clear();                                                                          \
        assert_int_equal(hc_synth(&o, users, items, &x), HC_EINVAL);                               \
        assert_non_null(strstr(hc_errmsg(), #field));                                              \
        assert_int_equal(x.n, 0);                                                                  \
    } while (0)
    BAD(n_users, 0);
    BAD(n_users, -3);
    BAD(n_items, 9);
    BAD(n_communities, 0);
    BAD(n_communities, 51);
    BAD(n_interactions, 99);  /* fewer than 5 per user */
    BAD(n_interactions, 501); /* denser than 1/2 */
    BAD(n_interactions, -1);
    BAD(pop_exponent, -0.1);
    BAD(pop_exponent, NAN);
    BAD(activity_sigma, 5.0);
    BAD(community_strength, 1.5);
    BAD(community_strength, NAN);
    BAD(bundle_follow, -0.1);
    BAD(bundle_follow, NAN);
#undef BAD
    assert_int_equal(hc_synth(NULL, users, items, &x), HC_EINVAL);
    assert_int_equal(hc_synth(&ok, NULL, items, &x), HC_EINVAL);
    assert_int_equal(hc_synth(&ok, users, NULL, &x), HC_EINVAL);
    assert_int_equal(hc_synth(&ok, users, items, NULL), HC_EINVAL);
    assert_int_equal(hc_idmap_size(users), 0); /* rejected before touching the maps */
    hc_idmap_free(users);
    hc_idmap_free(items);
    hc_interactions_free(&x);
}

static void test_edge_cases(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_idmap *users, *items;
    hc_interactions x;
    /* smallest: 10 items, every user at the minimum 5 = the density cap 1/2 */
    hc_synth_opts_default(&o);
    o.n_users = 3;
    o.n_items = 10;
    o.n_interactions = 15;
    o.n_communities = 10;
    gen(&o, &users, &items, &x);
    assert_int_equal(x.n, 15);
    hc_csr m = check_invariants(&x, 3, 10, 5);
    for (int32_t u = 0; u < 3; u++)
        assert_int_equal(hc_csr_row_len(&m, u), 5);
    hc_csr_free(&m);
    drop(users, items, &x);
    /* dense: every user capped at half the catalog, one community, flat popularity */
    hc_synth_opts_default(&o);
    o.n_users = 50;
    o.n_items = 21;
    o.n_interactions = 525;
    o.n_communities = 1;
    o.pop_exponent = 0.0;
    o.activity_sigma = 3.0;
    o.community_strength = 1.0;
    gen(&o, &users, &items, &x);
    assert_int_equal(x.n, 525);
    m = check_invariants(&x, 50, 21, 5);
    for (int32_t u = 0; u < 50; u++)
        assert_true(hc_csr_row_len(&m, u) <= 11);
    hc_csr_free(&m);
    drop(users, items, &x);
    /* maps and rows that already hold data: indices go through the maps, rows append */
    users = hc_idmap_new();
    items = hc_idmap_new();
    memset(&x, 0, sizeof x);
    int32_t idx;
    TU_OK(hc_idmap_put(users, "someone", 7, &idx));
    TU_OK(hc_idmap_put(items, "i3", 2, &idx));
    TU_OK(hc_interactions_push(&x, 0, 0, 0.0f, 0));
    hc_synth_opts_default(&o);
    o.n_users = 30;
    o.n_items = 40;
    o.n_interactions = 400;
    o.n_communities = 3;
    o.activity_sigma = 0.0;
    TU_OK(hc_synth(&o, users, items, &x));
    assert_int_equal(x.n, 401);
    assert_int_equal(hc_idmap_size(users), 31);
    assert_int_equal(hc_idmap_size(items), 40);
    assert_int_equal(hc_idmap_get(items, "i3", 2), 0);
    assert_int_equal(hc_idmap_get(items, "i0", 2), 1);
    assert_int_equal(x.user[0], 0);
    for (int64_t k = 1; k < x.n; k++) {
        const char *un = hc_idmap_name(users, x.user[k]);
        const char *in = hc_idmap_name(items, x.item[k]);
        assert_true(un[0] == 'u' && in[0] == 'i');
    }
    assert_int_equal(x.user[1], 1); /* "u0" */
    drop(users, items, &x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_ids),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_popularity_and_activity),
        cmocka_unit_test(test_structure_is_learnable),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
