/*
 * scored.h - (score, id) pairs in the library's ranking order: descending score, equal scores
 * to the smaller id (the order of hc_topk and of the evaluation). For qsort over lists that
 * are not score rows: a user's train items, DKC's candidates, DCD's per-item user lists.
 */
#ifndef HC_TOPK_SCORED_H
#define HC_TOPK_SCORED_H

#include <stdint.h>

typedef struct {
    float score;
    int32_t id;
} hc_scored;

/* qsort comparator of hc_scored: descending score, then ascending id. */
int hc_scored_cmp(const void *a, const void *b);

#endif
