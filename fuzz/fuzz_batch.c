/*
 * fuzz_batch.c - libFuzzer harness for the JSON body of POST /v1/recommend (hc_batch_parse,
 * src/serve/body.c; docs/serving.md): the input is the body, parsed with the server's default
 * limits. A body that parses must hand over only what body.h promises: 1 to max_users
 * non-empty NUL-free ids, k in [0, max_k]. Cost: O(input) per run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "serve/body.h"

#define MAX_USERS 1000 /* hc_server_opts_default's max_batch and max_k */
#define MAX_K     1000

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_batch: broken promise: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = (char *)fz_copy(data, size);
    hc_batch_req q;
    char err[256];
    if (hc_batch_parse(buf, size, MAX_USERS, MAX_K, &q, err, sizeof err) == 0) {
        check(q.n_users >= 1 && q.n_users <= MAX_USERS, "1 to max_users users");
        check(q.k >= 0 && q.k <= MAX_K, "k in [0, max_k]");
        for (size_t j = 0; j < q.n_users; j++)
            check(q.user_len[j] > 0 && strlen(q.user[j]) == q.user_len[j],
                  "non-empty NUL-free ids");
        hc_batch_free(&q);
    } else {
        check(err[0] != '\0' && q.doc == NULL && q.user == NULL,
              "a refusal says why, owns nothing");
    }
    free(buf);
    return 0;
}
