/*
 * reader_internal.h - what the interaction readers (reader.c, read_count.c, read_adj.c,
 * read_csv.c, read_ml.c) share: the in-memory line reader, field splitting, id and number
 * checks, and one entry point per format. Private to src/data.
 *
 * Every reader gets the whole file in memory (hc_file_read_all) and walks it with hc__lines,
 * which hides the differences users' files have: an optional UTF-8 byte-order mark, "\n" or
 * "\r\n" line ends, and a missing final newline. Line numbers are 1-based and count every
 * line, blank ones included, so messages point at the line an editor shows.
 */
#ifndef HC_READER_INTERNAL_H
#define HC_READER_INTERNAL_H

#include "core/internal.h"

/* ------------------------------------------------------------------ Line reader */

typedef struct {
    const char *path; /* for messages */
    const char *cur;  /* start of the next line */
    const char *end;  /* end of the data */
    int64_t lineno;   /* 1-based number of the line last returned (0 before the first) */
} hc__lines;

/* Starts reading data[0..len) (a UTF-8 byte-order mark at the start is skipped). */
void hc__lines_init(hc__lines *lr, const char *path, const char *data, size_t len);
/* Moves to the next line: *s and *n receive it without its "\n" or "\r\n". Returns 1 for a line,
 * 0 at the end of the data, or HC_EPARSE (message set) when the line holds a NUL byte or
 * another control character than tab: binary data is refused with its line number. */
int hc__lines_next(hc__lines *lr, const char **s, size_t *n);
/* 1 when s[0..n) holds only spaces and tabs. */
int hc__is_blank(const char *s, size_t n);
/* 1 when data holds nothing but a byte-order mark and white space (an empty file). */
int hc__is_empty_data(const char *data, size_t len);

/* ------------------------------------------------------------------ Fields */

/* Field separators: a byte (',', '\t', ';'), runs of white space, or MovieLens "::". */
enum { HC__SEP_WS = ' ', HC__SEP_DCOLON = ':' };

typedef struct {
    const char *s; /* points into the line; not NUL-terminated */
    size_t n;
} hc__field;

/* Splits the line s[0..n) at sep. Fields are trimmed of surrounding blanks, and a field in
 * double quotes loses its quotes (a separator inside them does not split; "" is kept as is).
 * Stores the first maxf fields in f (f may be NULL when maxf is 0) and returns how many fields
 * the line has, or -1 with *err set to a static description of the problem. */
int hc__split_fields(const char *s, size_t n, int sep, hc__field *f, int maxf, const char **err);
/* Guesses the separator of delimited data from its first non-blank lines: the first of ',',
 * '\t', ';' that splits every sampled line into the same number (>= 2) of fields, else the
 * first that splits the first line, else HC__SEP_WS. Errors: binary data (HC_EPARSE). */
int hc__guess_sep(const char *path, const char *data, size_t len, int *sep);
/* Human name of a separator for messages ("','", "tab", "white space", "'::'"). */
const char *hc__sep_name(int sep);

/* ------------------------------------------------------------------ Tokens */

/* Copies a token into buf (at most 40 bytes, then "..."; control bytes become '?') for
 * messages and returns buf. */
const char *hc__show(const char *s, size_t n, char buf[64]);
/* Checks that s[0..n) is a non-negative decimal integer no larger than INT64_MAX and strips
 * its leading zeros (so "007" and "7" are one id). Returns 0, -1 when it is not such an
 * integer, -2 when it is too large. */
int hc__canon_uint(const char **s, size_t *n, uint64_t *val);
/* Parses a finite decimal number ("4", "-1.5", "2.5e3"). Returns 0, -1 when malformed, -2
 * when out of float range. */
int hc__parse_float(const char *s, size_t n, float *out);
/* Parses an integer timestamp (an optional fraction is dropped). Returns 0, -1 when
 * malformed, -2 when out of int64 range. */
int hc__parse_ts(const char *s, size_t n, int64_t *out);
/* Sets the message for a token that hc__canon_uint() refused (code -1 or -2); what names
 * the token ("item id"). Returns HC_EPARSE. */
int hc__uint_error(const char *path, int64_t line, const char *what, const char *s, size_t n,
                   int code);
/* Writes v in decimal into buf (>= 21 bytes) and returns its length. */
size_t hc__u64_str(uint64_t v, char *buf);

/* ------------------------------------------------------------------ Formats */

/* Guesses the format of in-memory data (rules in reader.c). */
int hc__format_detect_mem(const char *path, const char *data, size_t len, hc_format *out);

/* hc_read_interactions() on data[0..len) already in memory (borrowed; need not be
 * NUL-terminated): path only names the input in messages. The fuzzing harnesses
 * (fuzz/README.md) call it directly. */
int hc__read_mem(const char *path, const char *data, size_t len, const hc_read_opts *opts,
                 hc_idmap *users, hc_idmap *items, hc_interactions *out);

/* One reader per format. Each parses data[0..len) (already known not to be empty), appends
 * to out and the id maps, and sets the error message on failure; hc_read_interactions()
 * restores out->n when one fails. */
int hc__read_count(const char *path, const char *data, size_t len, const hc_read_opts *o,
                   hc_idmap *users, hc_idmap *items, hc_interactions *out);
int hc__read_adj(const char *path, const char *data, size_t len, const hc_read_opts *o,
                 hc_idmap *users, hc_idmap *items, hc_interactions *out);
int hc__read_csv(const char *path, const char *data, size_t len, const hc_read_opts *o,
                 hc_idmap *users, hc_idmap *items, hc_interactions *out);
int hc__read_ml(const char *path, const char *data, size_t len, const hc_read_opts *o,
                hc_idmap *users, hc_idmap *items, hc_interactions *out);
/* The delimited reader behind CSV and MovieLens: user, item[, rating[, timestamp]] fields
 * separated by sep (HC__SEP_DCOLON for MovieLens). */
int hc__read_delimited(const char *path, const char *data, size_t len, const hc_read_opts *o,
                       int sep, hc_idmap *users, hc_idmap *items, hc_interactions *out);

#endif
