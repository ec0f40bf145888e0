/*
 * jsonout.c - the server's JSON text writer and escaped id table (see jsonout.h). Strings
 * are escaped by jansson (json_dumps of a string value), so the text is what the jansson
 * answers held before.
 */
#include "serve/jsonout.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hc_jb_put(hc_jbuf *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void hc_jb_lit(hc_jbuf *b, const char *s)
{
    hc_jb_put(b, s, strlen(s));
}

/* s[0..n) as a JSON string value; invalid UTF-8 and NUL bytes replaced by '?'. */
static char *escape(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (!j) {
        char *c = malloc(n + 1);
        if (!c)
            return NULL;
        for (size_t i = 0; i < n; i++)
            c[i] = (unsigned char)s[i] >= 0x80 || !s[i] ? '?' : s[i];
        j = json_stringn(c, n);
        free(c);
    }
    char *txt = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return txt;
}

void hc_jb_str(hc_jbuf *b, const char *s, size_t n)
{
    char *txt = escape(s, n);
    if (!txt) {
        b->bad = 1;
        return;
    }
    hc_jb_lit(b, txt);
    free(txt);
}

void hc_jb_score(hc_jbuf *b, float v)
{
    char num[32];
    if (!isfinite(v)) {
        hc_jb_lit(b, "null");
        return;
    }
    int n = snprintf(num, sizeof num, "%.7g", (double)v);
    /* a real, as jansson writes it: 264 -> 264.0 */
    if (!strpbrk(num, ".eEn"))
        n += snprintf(num + n, sizeof num - (size_t)n, ".0");
    hc_jb_put(b, num, (size_t)n);
}

void hc_jb_int(hc_jbuf *b, long long v)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", v);
    hc_jb_put(b, num, (size_t)n);
}

char *hc_jb_take(hc_jbuf *b, size_t *len)
{
    char *p = b->bad ? NULL : b->p;
    *len = b->bad ? 0 : b->len;
    if (b->bad)
        free(b->p);
    if (!p && !b->bad) /* nothing written: an empty text */
        p = calloc(1, 1);
    memset(b, 0, sizeof *b);
    return p;
}

void hc_idtab_free(hc_idtab *t)
{
    free(t->text);
    free(t->off);
    memset(t, 0, sizeof *t);
}

int hc_idtab_build(const hc_idmap *m, int32_t n, hc_idtab *t)
{
    memset(t, 0, sizeof *t);
    hc_jbuf b = {0};
    if (!(t->off = malloc(((size_t)n + 1) * sizeof *t->off)))
        return hc_error(HC_ENOMEM, "serve: out of memory for the id table");
    for (int32_t i = 0; i < n && !b.bad; i++) {
        t->off[i] = (int64_t)b.len;
        const char *id = hc_idmap_name(m, i);
        hc_jb_str(&b, id, strlen(id));
    }
    t->off[n] = (int64_t)b.len;
    size_t len;
    if (!(t->text = hc_jb_take(&b, &len))) {
        hc_idtab_free(t);
        return hc_error(HC_ENOMEM, "serve: out of memory for the id table");
    }
    t->n = n;
    return HC_OK;
}

void hc_jb_id(hc_jbuf *b, const hc_idtab *t, int32_t i)
{
    hc_jb_put(b, t->text + t->off[i], (size_t)(t->off[i + 1] - t->off[i]));
}
