/* testutil.h - helpers shared by the cmocka test binaries. */
#ifndef HC_TESTUTIL_H
#define HC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "core/internal.h"

/* Float tolerance for values that went through float32 arithmetic. */
#define HC_TEST_FTOL 1e-5

/* Directory with the repository's small fixtures (tests/data). */
const char *tu_fixture_dir(void);
/* Directory with the shared datasets (HETCOMP_DATA_DIR or ../shared/data), or NULL if absent. */
const char *tu_shared_dir(void);
/* Path of a fresh per-process scratch directory (created on first call, removed at exit). */
const char *tu_tmpdir(void);
/* Writes text to <tmpdir>/name and returns the full path (static buffer rotated 8 ways). */
const char *tu_write(const char *name, const char *text);
/* Joins dir and name into a static buffer rotated 8 ways. */
const char *tu_path(const char *dir, const char *name);
/* Fails the test with hc_errmsg() when rc != HC_OK. */
#define TU_OK(expr)                                                                                \
    do {                                                                                           \
        int tu_rc_ = (expr);                                                                       \
        if (tu_rc_ != HC_OK)                                                                       \
            fail_msg("%s -> %s: %s", #expr, hc_err_name(tu_rc_), hc_errmsg());                     \
    } while (0)

/* Fails unless |a - b| <= tol, printing both (compared in double; floats are converted). */
#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                             \
        if (!(fabs(a_ - b_) <= t_))                                                                \
            fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_, t_);                       \
    } while (0)

#endif

/* Fills ds with a small clustered dataset: n_users users in n_groups groups, each holding
 * per_user distinct items mostly from its group's items (item % n_groups == group), split per
 * user into 2 test, 2 valid and the rest train (per_user >= 6). Ids "u<k>" and "i<k>". The
 * checksum is set. Free with hc_dataset_free. */
void tu_make_dataset(hc_dataset *ds, int32_t n_users, int32_t n_items, int32_t n_groups,
                     int32_t per_user, uint64_t seed);
