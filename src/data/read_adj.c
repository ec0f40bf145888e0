/*
 * read_adj.c - adjacency lists (HC_FMT_ADJ, LightGCN's train.txt): "user item item ..." per
 * line, separated by spaces or tabs.
 *
 * User and item ids must be non-negative integers; they are kept as canonical decimal strings
 * ("007" is "7"). Blank lines are skipped; a line with a user and no items adds the user only.
 * A user may appear on several lines. There are no ratings, so a rating threshold is refused.
 */
#include "reader_internal.h"

int hc__read_adj(const char *path, const char *data, size_t len, const hc_read_opts *o,
                 hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    if (o->has_threshold)
        return hc_error(HC_EINVAL,
                        "%s: a rating threshold was given, but adjacency files have no ratings",
                        path);
    int rc = hc_interactions_enable(out, 0, 0, 1);
    if (rc)
        return rc;
    hc__lines lr;
    hc__lines_init(&lr, path, data, len);
    const char *s;
    size_t n;
    int r;
    int64_t pushed = 0;
    while ((r = hc__lines_next(&lr, &s, &n)) > 0) {
        int64_t ln = lr.lineno;
        int32_t u = -1;
        size_t i = 0;
        while (i < n) {
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if (i == n)
                break;
            size_t b = i;
            while (i < n && s[i] != ' ' && s[i] != '\t')
                i++;
            const char *t = s + b;
            size_t tn = i - b;
            int c = hc__canon_uint(&t, &tn, NULL);
            if (c)
                return hc__uint_error(path, ln, u < 0 ? "user id" : "item id", s + b, i - b, c);
            if (u < 0) {
                rc = hc_idmap_put(users, t, tn, &u);
                if (rc)
                    return rc;
                continue;
            }
            int32_t it;
            rc = hc_idmap_put(items, t, tn, &it);
            if (!rc)
                rc = hc_interactions_push(out, u, it, 0.0f, 0);
            if (rc)
                return rc;
            out->line[out->n - 1] = ln;
            pushed++;
        }
    }
    if (r < 0)
        return r;
    if (pushed == 0)
        return hc_error(HC_EEMPTY, "%s: no interactions (no line lists an item)", path);
    return HC_OK;
}
