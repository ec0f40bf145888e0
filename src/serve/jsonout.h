/*
 * jsonout.h - a JSON text writer for the server's large answers (recommendation lists,
 * batches): appends to one growing buffer instead of building a jansson tree (a malloc per
 * value), and writes ids from a table escaped once at start. Cost: O(output bytes) plus one
 * "%.7g" per score; the id table is O(total id bytes) in memory.
 */
#ifndef HC_SERVE_JSONOUT_H
#define HC_SERVE_JSONOUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

typedef struct {
    char *p; /* malloc'd text (NUL-terminated when not bad) */
    size_t len, cap;
    int bad; /* 1 after an allocation failed: the text is incomplete */
} hc_jbuf;

/* Appends s[0..n). */
void hc_jb_put(hc_jbuf *b, const char *s, size_t n);
void hc_jb_lit(hc_jbuf *b, const char *s);
/* Appends s[0..n) as a JSON string (quoted, escaped; bytes that break UTF-8 become '?'). */
void hc_jb_str(hc_jbuf *b, const char *s, size_t n);
/* Appends a score with 7 significant digits (null when not finite). */
void hc_jb_score(hc_jbuf *b, float v);
void hc_jb_int(hc_jbuf *b, long long v);
/* Takes the text out of b (NULL if bad); b is left empty. */
char *hc_jb_take(hc_jbuf *b, size_t *len);

/* The ids of an id map, each escaped once as a JSON string. */
typedef struct {
    char *text;   /* every escaped id, one after the other (owned) */
    int64_t *off; /* n + 1 offsets into text (owned) */
    int32_t n;
} hc_idtab;

int hc_idtab_build(const hc_idmap *m, int32_t n, hc_idtab *t);
void hc_idtab_free(hc_idtab *t);
/* Appends id i's JSON string. */
void hc_jb_id(hc_jbuf *b, const hc_idtab *t, int32_t i);

#endif
