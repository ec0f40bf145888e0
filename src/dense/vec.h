/*
 * vec.h - small float kernels that the compiler vectorises (no libm calls in the loops).
 */
#ifndef HC_VEC_H
#define HC_VEC_H

#include <stdint.h>

/* exp(x) = 2^k e^r, the one exp formula of the project (the distillation losses here, the
 * network layers in nn/layers.h, on scalars and on GCC vectors): k = round(x / ln2), r = x -
 * k ln2 with ln2 in a high and a low part (Cephes), so r is exact to float precision; e^r by
 * its Taylor polynomial to degree 6 on |r| <= ln2 / 2 (truncation error below (ln2 / 2)^7 / 7!
 * = 1.2e-7 relative); 2^k built in the exponent bits. Valid for x in [-87.3, 88.3] (2^k stays
 * a normal float); callers clamp, NaN included (its conversion to int is undefined). The pieces are
 * macros so that vector code spells the same operations (r must be a variable). */
#define HC_EXP_LOG2E 1.44269504088896341f
/* x log2e + HC_EXP_BIAS + 0.5 is positive on the valid range, so truncation is floor */
#define HC_EXP_BIAS          128
#define HC_EXP_REDUCE(x, kf) ((x) - (kf)*0.693359375f - (kf) * -2.12194440e-4f)
/* clang-format off */
#define HC_EXP_POLY(r)                                                             \
    ((((((1.0f / 720.0f * (r) + 1.0f / 120.0f) * (r) + 1.0f / 24.0f) * (r)           \
        + 1.0f / 6.0f) * (r) + 0.5f) * (r) + 1.0f) * (r) + 1.0f)
/* clang-format on */

/* exp(x) for x in [-87.3, 88.3], relative error below 3e-7; inline so callers compiled for
 * wider vectors get it vectorised with their own instructions. */
static inline float hc_exp_core(float x)
{
    int32_t k = (int32_t)(x * HC_EXP_LOG2E + (HC_EXP_BIAS + 0.5f)) - HC_EXP_BIAS;
    float kf = (float)k, r = HC_EXP_REDUCE(x, kf);
    union {
        int32_t i;
        float f;
    } scale;
    scale.i = (k + 127) << 23;
    return HC_EXP_POLY(r) * scale.f;
}

/* Prefetches the n floats at x into the cache (a row about to be read from a random place). */
static inline void hc_prefetch_floats(const float *x, int64_t n)
{
    for (int64_t c = 0; c < n; c += 16)
        __builtin_prefetch(x + c);
}

/* y[i] = hc_exp_core(min(max(x[i], lo), hi)) for i < n ([lo, hi] inside [-87.3, 88.3]; NaN
 * counts as lo), written so that the loop vectorises; x and y must not overlap. */
void hc_vexp_clamped(const float *restrict x, float *restrict y, int64_t n, float lo, float hi);

#endif
