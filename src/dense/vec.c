/*
 * vec.c - vectorisable float kernels (see vec.h).
 *
 * exp: hc_exp_core (vec.h), on clamped inputs.
 */
#include "dense/vec.h"

void hc_vexp_clamped(const float *restrict x, float *restrict y, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] > lo ? x[i] : lo; /* NaN to lo: hc_exp_core must not see it */
        v = v < hi ? v : hi;
        y[i] = hc_exp_core(v);
    }
}
