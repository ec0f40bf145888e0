/* test_topk.c - hc_topk against a full-sort reference: ties, -INFINITY and NaN masks, k > n,
 * k = 0, n = 0, everything masked, and a large evaluation-sized row. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float s;
    int32_t i;
} pair;

/* Descending score, then ascending index. */
static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Reference: keep the entries that are not -INFINITY or NaN, sort them fully, take k. */
static int32_t ref_topk(const float *s, int32_t n, int32_t k, int32_t *idx)
{
    pair *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (!isnan(s[i]) && s[i] != -INFINITY)
            p[m++] = (pair){s[i], i};
    qsort(p, (size_t)m, sizeof *p, cmp_pair);
    int32_t cnt = k < m ? k : m;
    if (cnt < 0)
        cnt = 0;
    for (int32_t j = 0; j < cnt; j++)
        idx[j] = p[j].i;
    free(p);
    return cnt;
}

/* Runs hc_topk and the reference on s and compares indices and values. */
static void check_row(const float *s, int32_t n, int32_t k)
{
    int32_t kk = k > 0 ? k : 1;
    int32_t *got = malloc((size_t)kk * sizeof *got), *want = malloc((size_t)kk * sizeof *want);
    float *val = malloc((size_t)kk * sizeof *val);
    assert_non_null(got);
    assert_non_null(want);
    assert_non_null(val);
    int32_t c1 = hc_topk(s, n, k, got, val);
    int32_t c2 = ref_topk(s, n, k, want);
    assert_int_equal(c1, c2);
    for (int32_t j = 0; j < c1; j++) {
        if (got[j] != want[j])
            fail_msg("n=%d k=%d: position %d has %d, expected %d", n, k, j, got[j], want[j]);
        assert_true(val[j] == s[got[j]]);
    }
    /* val may be NULL */
    int32_t c3 = hc_topk(s, n, k, got, NULL);
    assert_int_equal(c3, c1);
    for (int32_t j = 0; j < c3; j++)
        assert_int_equal(got[j], want[j]);
    free(got);
    free(want);
    free(val);
}

/* Fills s with n scores: mode 0 continuous, 1 few distinct values (many ties); a share
 * mask_pct of entries is set to -INFINITY and nan_pct to NaN. */
static void fill(hc_rng *r, float *s, int32_t n, int mode, int mask_pct, int nan_pct)
{
    for (int32_t i = 0; i < n; i++) {
        if (mode == 0)
            s[i] = (float)hc_rng_normal(r);
        else
            s[i] = (float)hc_rng_below(r, 5);
        uint32_t x = hc_rng_below(r, 100);
        if (x < (uint32_t)mask_pct)
            s[i] = -INFINITY;
        else if (x < (uint32_t)(mask_pct + nan_pct))
            s[i] = NAN;
    }
}

static void test_topk_random(void **state)
{
    (void)state;
    hc_rng r;
    hc_rng_init(&r, 7, 0);
    static const int32_t ns[] = {1, 2, 3, 7, 31, 32, 33, 64, 100, 257, 1000};
    static const int32_t ks[] = {1, 2, 5, 10, 50, 100, 2000};
    float *s = malloc(1000 * sizeof *s);
    assert_non_null(s);
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
            for (int mode = 0; mode < 2; mode++)
                for (int rep = 0; rep < 5; rep++) {
                    int mask = rep == 0 ? 0 : (int)hc_rng_below(&r, 60);
                    int nan = rep < 2 ? 0 : (int)hc_rng_below(&r, 20);
                    fill(&r, s, ns[a], mode, mask, nan);
                    check_row(s, ns[a], ks[b]);
                }
    free(s);
}

/* Adversarial orders: ascending scores (every item enters the heap), descending, constant. */
static void test_topk_orders(void **state)
{
    (void)state;
    enum { N = 500 };
    float s[N];
    for (int32_t i = 0; i < N; i++)
        s[i] = (float)i;
    check_row(s, N, 10);
    check_row(s, N, N);
    for (int32_t i = 0; i < N; i++)
        s[i] = (float)(N - i);
    check_row(s, N, 10);
    for (int32_t i = 0; i < N; i++)
        s[i] = 1.0f;
    check_row(s, N, 10); /* all tied: the 10 smallest indices */
    int32_t idx[10];
    assert_int_equal(hc_topk(s, N, 10, idx, NULL), 10);
    for (int32_t j = 0; j < 10; j++)
        assert_int_equal(idx[j], j);
    /* +INFINITY is a score like any other, the largest */
    s[400] = INFINITY;
    s[3] = INFINITY;
    assert_int_equal(hc_topk(s, N, 3, idx, NULL), 3);
    assert_int_equal(idx[0], 3);
    assert_int_equal(idx[1], 400);
    assert_int_equal(idx[2], 0);
}

static void test_topk_edges(void **state)
{
    (void)state;
    float s[6] = {0.5f, -INFINITY, 2.0f, NAN, 2.0f, -1.0f};
    int32_t idx[10];
    float val[10];
    /* k = 0 and n = 0 write nothing */
    idx[0] = 77;
    assert_int_equal(hc_topk(s, 6, 0, idx, val), 0);
    assert_int_equal(hc_topk(s, 0, 5, idx, val), 0);
    assert_int_equal(hc_topk(NULL, 0, 5, idx, val), 0);
    assert_int_equal(hc_topk(s, 6, -3, idx, val), 0);
    assert_int_equal(idx[0], 77);
    /* k > n: the 4 selectable entries, ties by smaller index: 2 (2.0), 4 (2.0), 0, 5 */
    assert_int_equal(hc_topk(s, 6, 10, idx, val), 4);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 4);
    assert_int_equal(idx[2], 0);
    assert_int_equal(idx[3], 5);
    assert_true(val[0] == 2.0f && val[3] == -1.0f);
    /* all masked */
    float m[4] = {-INFINITY, NAN, -INFINITY, NAN};
    assert_int_equal(hc_topk(m, 4, 2, idx, val), 0);
    /* one entry */
    float one = -3.0f;
    assert_int_equal(hc_topk(&one, 1, 5, idx, val), 1);
    assert_int_equal(idx[0], 0);
}

/* An evaluation-sized row (25k items, k = 50, 100), continuous and tied, with masks. */
static void test_topk_large(void **state)
{
    (void)state;
    enum { N = 25181 };
    hc_rng r;
    hc_rng_init(&r, 11, 3);
    float *s = malloc(N * sizeof *s);
    assert_non_null(s);
    for (int rep = 0; rep < 6; rep++) {
        fill(&r, s, N, rep & 1, rep < 2 ? 0 : 30, rep < 4 ? 0 : 5);
        check_row(s, N, 50);
        check_row(s, N, 100);
    }
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topk_random),
        cmocka_unit_test(test_topk_orders),
        cmocka_unit_test(test_topk_edges),
        cmocka_unit_test(test_topk_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
