/*
 * vec.c - vectorisable float kernels (see vec.h).
 *
 * exp: k = round(x / ln2), r = x - k ln2 (ln2 split in a high and a low part so r is exact
 * to float precision), e^r by its Taylor polynomial to degree 6 on |r| <= ln2 / 2 (truncation
 * error < 2e-8), and 2^k built in the exponent bits. Inputs are clamped to [lo, hi] first
 * (callers pass a range inside [-87, 88], where 2^k stays a normal float).
 */
#include "dense/vec.h"


static inline float exp_core(float x)
{
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    /* round to nearest: x log2e is in [-126, 127], so the biased value is positive and
     * truncation is floor */
    int32_t k = (int32_t)(x * log2e + 128.5f) - 128;
    float kf = (float)k;
    float r = x - kf * ln2_hi;
    r = r - kf * ln2_lo;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale;
    scale.i = (k + 127) << 23;
    return p * scale.f;
}

void hc_vexp_clamped(const float *restrict x, float *restrict y, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] < lo ? lo : x[i];
        v = v > hi ? hi : v;
        y[i] = exp_core(v);
    }
}
