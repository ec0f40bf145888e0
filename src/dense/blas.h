/*
 * blas.h - thin wrappers over the BLAS routines hetcomp uses (row-major, float32), so that
 * only src/dense/blas.c includes <cblas.h> and the BLAS in use can be swapped in one place.
 *
 * Shapes are explicit: an m x k row-major matrix A with leading dimension lda has element
 * (r, c) at A[r * lda + c], lda >= k. No wrapper allocates or fails; callers check shapes.
 */
#ifndef HC_DENSE_BLAS_H
#define HC_DENSE_BLAS_H

#include <stdint.h>

/* C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T (trans_* nonzero), row-major.
 * op(A) is m x k, op(B) is k x n, C is m x n. */
void hc_sgemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
              const float *A, int32_t lda, const float *B, int32_t ldb, float beta, float *C,
              int32_t ldc);

/* C = A * B^T: A is m x k (users' factors), B is n x k (items' factors), C is m x n. This is
 * how factor models score a block of users against all items. */
void hc_sgemm_abt(int32_t m, int32_t n, int32_t k, const float *A, int32_t lda, const float *B,
                  int32_t ldb, float *C, int32_t ldc);

/* y = alpha * op(A) * x + beta * y, A m x n row-major (op(A) = A^T when trans nonzero). */
void hc_sgemv(int trans, int32_t m, int32_t n, float alpha, const float *A, int32_t lda,
              const float *x, float beta, float *y);

/* Dot product of two n-vectors (unit stride). */
float hc_sdot(int32_t n, const float *x, const float *y);
/* y += alpha * x (unit stride). */
void hc_saxpy(int32_t n, float alpha, const float *x, float *y);
/* x *= alpha (unit stride). */
void hc_sscal(int32_t n, float alpha, float *x);

/* Threads the BLAS itself uses (OpenBLAS); n <= 0 leaves the setting unchanged. */
void hc_blas_set_threads(int n);
int hc_blas_get_threads(void);

#endif
