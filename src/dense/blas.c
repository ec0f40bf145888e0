/*
 * blas.c - the only library file that includes <cblas.h> (see blas.h): row-major float32
 * wrappers over OpenBLAS's CBLAS. Zero-sized products return at once (some BLAS builds
 * reject lda < 1 even when m or n is 0).
 */
#include "dense/blas.h"

#include <cblas.h>

void hc_sgemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
              const float *A, int32_t lda, const float *B, int32_t ldb, float beta, float *C,
              int32_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        /* C = beta * C: BLAS does this too, but not every build accepts k == 0 */
        for (int32_t r = 0; r < m; r++)
            for (int32_t c = 0; c < n; c++)
                C[(int64_t)r * ldc + c] = beta == 0.0f ? 0.0f : beta * C[(int64_t)r * ldc + c];
        return;
    }
    if (m == 1) { /* one row: a matrix-vector product (OpenBLAS's sgemm packs all of B) */
        /* C[0, :] = alpha * op(B)^T a + beta * C, a = op(A) row 0 (stride lda when A is
         * transposed: column 0 of A) */
        cblas_sgemv(CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans, trans_b ? n : k,
                    trans_b ? k : n, alpha, B, ldb, A, trans_a ? lda : 1, beta, C, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void hc_sgemm_abt(int32_t m, int32_t n, int32_t k, const float *A, int32_t lda, const float *B,
                  int32_t ldb, float *C, int32_t ldc)
{
    hc_sgemm(0, 1, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}

void hc_sgemv(int trans, int32_t m, int32_t n, float alpha, const float *A, int32_t lda,
              const float *x, float beta, float *y)
{
    if (m <= 0 || n <= 0) {
        /* y has n (trans) or m entries; with the other side empty, y = beta * y */
        int32_t len = trans ? n : m;
        for (int32_t i = 0; i < len; i++)
            y[i] = beta == 0.0f ? 0.0f : beta * y[i];
        return;
    }
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, m, n, alpha, A, lda, x, 1, beta,
                y, 1);
}

float hc_sdot(int32_t n, const float *x, const float *y)
{
    return n > 0 ? cblas_sdot(n, x, 1, y, 1) : 0.0f;
}

void hc_saxpy(int32_t n, float alpha, const float *x, float *y)
{
    if (n > 0)
        cblas_saxpy(n, alpha, x, 1, y, 1);
}

void hc_sscal(int32_t n, float alpha, float *x)
{
    if (n > 0)
        cblas_sscal(n, alpha, x, 1);
}

void hc_blas_set_threads(int n)
{
    if (n > 0)
        openblas_set_num_threads(n);
}

int hc_blas_get_threads(void)
{
    return openblas_get_num_threads();
}
