/*
 * vec.h - small float kernels that the compiler vectorises (no libm calls in the loops).
 */
#ifndef HC_VEC_H
#define HC_VEC_H

#include <stdint.h>

/* exp(x) for x in [-87, 88] (see vec.c); inline so callers compiled for wider vectors get
 * it vectorised with their own instructions. */
static inline float hc_exp_core(float x)
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

/* Prefetches the n floats at x into the cache (a row about to be read from a random place). */
static inline void hc_prefetch_floats(const float *x, int64_t n)
{
    for (int64_t c = 0; c < n; c += 16)
        __builtin_prefetch(x + c);
}

/* y[i] = exp(min(max(x[i], lo), hi)) for i < n, relative error below 3e-7 on [-87, 88].
 * A Cephes-style range reduction (x = k ln2 + r) and a degree-6 polynomial for e^r, written
 * so that the loop vectorises; x and y must not overlap. */
void hc_vexp_clamped(const float *restrict x, float *restrict y, int64_t n, float lo, float hi);

#endif
