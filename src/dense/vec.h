/*
 * vec.h - small float kernels that the compiler vectorises (no libm calls in the loops).
 */
#ifndef HC_VEC_H
#define HC_VEC_H

#include <stdint.h>

/* y[i] = exp(min(max(x[i], lo), hi)) for i < n, relative error below 3e-7 on [-87, 88].
 * A Cephes-style range reduction (x = k ln2 + r) and a degree-6 polynomial for e^r, written
 * so that the loop vectorises; x and y must not overlap. */
void hc_vexp_clamped(const float *restrict x, float *restrict y, int64_t n, float lo, float hi);

#endif
