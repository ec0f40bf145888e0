/*
 * topk.c - top-K selection over one score row (the hot path of evaluation and of recording
 * teacher rankings: every user's row of ~25k item scores goes through here once per ranking).
 *
 * Algorithm: a bounded binary min-heap of item indices, kept in the caller's output array idx
 * (no allocation), whose root is the worst kept entry. "Worse" means a lower score, or an
 * equal score with a larger index. Items are scanned in ascending index order, so a new item
 * can only enter a full heap with a score strictly greater than the root's: the scan is one
 * float comparison per item against a cached threshold, and it is done 32 items at a time
 * with a branch-free "any above?" test that the compiler vectorises; only chunks holding a
 * candidate are walked item by item (an AVX2 clone beside the baseline, HC_CLONES). Expected heap
 * updates on random data: O(k log(n / k)). The kept entries are finally heap-sorted in place into
 * descending order (ties: smaller index first). Cost O(n + u log k) for u heap updates, O(n log k)
 * worst case.
 *
 * Masking: -INFINITY and NaN scores are never selected (both fail "s > -INFINITY" and any
 * "s > threshold" test). +INFINITY counts as a very large score.
 */
#include "core/internal.h"
#include "topk/scored.h"

#include <math.h>

/* 1 when entry a ranks below entry b (lower score, or same score and larger index). */
static inline int worse(const float *s, int32_t a, int32_t b)
{
    return s[a] < s[b] || (s[a] == s[b] && a > b);
}

/* Restores the heap property below position p in heap h[0..n). */
static inline void sift_down(const float *s, int32_t *h, int32_t n, int32_t p)
{
    int32_t x = h[p];
    for (;;) {
        int32_t c = 2 * p + 1;
        if (c >= n)
            break;
        if (c + 1 < n && worse(s, h[c + 1], h[c]))
            c++;
        if (!worse(s, h[c], x))
            break;
        h[p] = h[c];
        p = c;
    }
    h[p] = x;
}

/* Moves the entry at position p up towards the root of heap h. */
static inline void sift_up(const float *s, int32_t *h, int32_t p)
{
    int32_t x = h[p];
    while (p > 0) {
        int32_t q = (p - 1) / 2;
        if (!worse(s, x, h[q]))
            break;
        h[p] = h[q];
        p = q;
    }
    h[p] = x;
}

#define TOPK_CHUNK 32

/* 1 when some of the TOPK_CHUNK scores at x is above thr. A fixed trip count and no early
 * exit let the compiler unroll and vectorise it (about 10x faster than a bounded loop). */
static inline int any_above(const float *x, float thr)
{
    int any = 0;
    for (int j = 0; j < TOPK_CHUNK; j++)
        any |= x[j] > thr;
    return any;
}

HC_CLONES int32_t hc_topk(const float *scores, int32_t n, int32_t k, int32_t *idx, float *val)
{
    if (k <= 0 || n <= 0)
        return 0;
    int32_t cnt = 0, i = 0;
    /* Fill phase: the first k selectable entries. */
    for (; i < n && cnt < k; i++) {
        if (!(scores[i] > -INFINITY))
            continue;
        idx[cnt] = i;
        sift_up(scores, idx, cnt);
        cnt++;
    }
    if (cnt == k) {
        /* Replace phase: only an entry strictly above the root can enter (it has a larger
         * index than everything kept, so it loses ties). */
        float thr = scores[idx[0]];
        while (i < n) {
            int32_t end = n - i >= TOPK_CHUNK ? i + TOPK_CHUNK : n;
            if (end - i < TOPK_CHUNK || any_above(scores + i, thr)) {
                for (int32_t j = i; j < end; j++) {
                    if (scores[j] > thr) {
                        idx[0] = j;
                        sift_down(scores, idx, k, 0);
                        thr = scores[idx[0]];
                    }
                }
            }
            i = end;
        }
    }
    /* Heap sort: move the worst to the back each time, leaving descending order. */
    for (int32_t m = cnt - 1; m > 0; m--) {
        int32_t t = idx[0];
        idx[0] = idx[m];
        idx[m] = t;
        sift_down(scores, idx, m, 0);
    }
    if (val)
        for (int32_t j = 0; j < cnt; j++)
            val[j] = scores[idx[j]];
    return cnt;
}

int hc_scored_cmp(const void *a, const void *b)
{
    const hc_scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}
