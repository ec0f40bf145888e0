/*
 * idmap.c - the user's own string ids <-> dense indices.
 *
 * Open-addressing hash table (linear probing, power-of-two capacity, load <= 1/2) of indices
 * into an array of names; the names live in one growing arena of NUL-terminated strings, so a
 * map of n ids costs about n * (len + 13) bytes. Indices follow first insertion, which makes
 * every derived dense index reproducible from the input order.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct hc_idmap {
    int32_t n, cap_names; /* ids stored; capacity of offs */
    int64_t *offs;        /* n offsets of names in arena */
    char *arena;          /* NUL-terminated names */
    size_t arena_len, arena_cap;
    int32_t *slots; /* table of indices, -1 empty */
    uint32_t mask;  /* table size - 1 */
};

hc_idmap *hc_idmap_new(void)
{
    hc_idmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->mask = 63;
    m->slots = malloc(64 * sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    memset(m->slots, 0xff, 64 * sizeof *m->slots);
    return m;
}

void hc_idmap_free(hc_idmap *m)
{
    if (!m)
        return;
    free(m->offs);
    free(m->arena);
    free(m->slots);
    free(m);
}

int32_t hc_idmap_size(const hc_idmap *m)
{
    return m ? m->n : 0;
}

const char *hc_idmap_name(const hc_idmap *m, int32_t idx)
{
    return m->arena + m->offs[idx];
}

static uint32_t hash_key(const char *key, size_t len)
{
    return (uint32_t)XXH3_64bits(key, len);
}

int32_t hc_idmap_get(const hc_idmap *m, const char *key, size_t len)
{
    uint32_t h = hash_key(key, len) & m->mask;
    for (;;) {
        int32_t s = m->slots[h];
        if (s < 0)
            return -1;
        const char *name = m->arena + m->offs[s];
        if (strncmp(name, key, len) == 0 && name[len] == '\0')
            return s;
        h = (h + 1) & m->mask;
    }
}

static int grow_table(hc_idmap *m)
{
    uint32_t ncap = (m->mask + 1) * 2;
    int32_t *ns = malloc((size_t)ncap * sizeof *ns);
    if (!ns)
        return hc_error(HC_ENOMEM, "idmap: out of memory");
    memset(ns, 0xff, (size_t)ncap * sizeof *ns);
    for (int32_t i = 0; i < m->n; i++) {
        const char *name = m->arena + m->offs[i];
        uint32_t h = hash_key(name, strlen(name)) & (ncap - 1);
        while (ns[h] >= 0)
            h = (h + 1) & (ncap - 1);
        ns[h] = i;
    }
    free(m->slots);
    m->slots = ns;
    m->mask = ncap - 1;
    return HC_OK;
}

int hc_idmap_put(hc_idmap *m, const char *key, size_t len, int32_t *idx)
{
    int32_t found = hc_idmap_get(m, key, len);
    if (found >= 0) {
        *idx = found;
        return HC_OK;
    }
    if (m->n == INT32_MAX - 1)
        return hc_error(HC_ERANGE, "idmap: more than %d ids", INT32_MAX - 1);
    if ((uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1) {
        int rc = grow_table(m);
        if (rc)
            return rc;
    }
    if (m->n == m->cap_names) {
        int32_t nc = m->cap_names ? m->cap_names * 2 : 64;
        int64_t *no = realloc(m->offs, (size_t)nc * sizeof *no);
        if (!no)
            return hc_error(HC_ENOMEM, "idmap: out of memory");
        m->offs = no;
        m->cap_names = nc;
    }
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t nc = m->arena_cap ? m->arena_cap * 2 : 1024;
        while (nc < m->arena_len + len + 1)
            nc *= 2;
        char *na = realloc(m->arena, nc);
        if (!na)
            return hc_error(HC_ENOMEM, "idmap: out of memory");
        m->arena = na;
        m->arena_cap = nc;
    }
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    m->offs[m->n] = (int64_t)m->arena_len;
    m->arena_len += len + 1;
    uint32_t h = hash_key(key, len) & m->mask;
    while (m->slots[h] >= 0)
        h = (h + 1) & m->mask;
    m->slots[h] = m->n;
    *idx = m->n++;
    return HC_OK;
}
