/*
 * vec.c - vectorisable float kernels (see vec.h).
 *
 * exp: k = round(x / ln2), r = x - k ln2 (ln2 split in a high and a low part so r is exact
 * to float precision), e^r by its Taylor polynomial to degree 6 on |r| <= ln2 / 2 (truncation
 * error below (ln2 / 2)^7 / 7! = 1.2e-7 relative), and 2^k built in the exponent bits. Inputs are
 * clamped to [lo, hi] first (callers pass a range inside [-87, 88], where 2^k stays a normal
 * float).
 */
#include "dense/vec.h"

void hc_vexp_clamped(const float *restrict x, float *restrict y, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] < lo ? lo : x[i];
        v = v > hi ? hi : v;
        y[i] = hc_exp_core(v);
    }
}
