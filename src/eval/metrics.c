/*
 * metrics.c - Recall@K and NDCG@K of one user's ranked list (docs/method.md §1, docs/metrics.md).
 *
 * With binary relevance, 0-based positions p and gt the user's held-out items:
 *   Recall@K = |top[0..K) ∩ gt| / |gt|      (the reference code's denominator, not min(K, |gt|))
 *   DCG@K    = sum over p < K with top[p] in gt of 1 / log2(p + 2)
 *   IDCG@K   = sum over p < min(|gt|, K) of 1 / log2(p + 2)
 *   NDCG@K   = DCG@K / IDCG@K
 * Positions the list does not fill (n_top < K) count as misses. Sums run in double, in
 * position order, as the reference (NumPy) does.
 */
#include "core/internal.h"

#include <math.h>

const int32_t hc_eval_ks[HC_EVAL_NK] = {10, 20, 50};

void hc_metrics_user(const int32_t *top, int32_t n_top, const int32_t *gt, int32_t n_gt,
                     double *recall, double *ndcg)
{
    if (n_gt <= 0) {
        for (int j = 0; j < HC_EVAL_NK; j++)
            recall[j] = ndcg[j] = 0.0;
        return;
    }
    int32_t hits = 0, p = 0;
    double dcg = 0.0, idcg = 0.0;
    for (int j = 0; j < HC_EVAL_NK; j++) {
        int32_t K = hc_eval_ks[j];
        for (; p < K; p++) {
            double disc = 1.0 / log2((double)p + 2.0);
            if (p < n_top && hc_sorted_has_i32(gt, n_gt, top[p])) {
                hits++;
                dcg += disc;
            }
            if (p < n_gt)
                idcg += disc;
        }
        recall[j] = (double)hits / (double)n_gt;
        ndcg[j] = dcg / idcg;
    }
}
