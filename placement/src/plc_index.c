/*
 * plc_index.c - string -> index maps for the cluster model.
 *
 * The string index is open addressing with linear probing over a
 * power-of-two table (FNV-1a hash), keys borrowed from the objects they name;
 * deletions use backward-shift so no tombstones pile up across long runs.
 */
#include <stdlib.h>
#include <string.h>

#include "plc_priv.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void plc_index_destroy(struct plc_index *ix)
{
    if (!ix)
        return;
    free(ix->keys);
    free(ix->vals);
    memset(ix, 0, sizeof(*ix));
}

uint32_t plc_index_get(const struct plc_index *ix, const char *key)
{
    if (!ix->n_slots || !key)
        return PLC_NONE;
    size_t mask = ix->n_slots - 1;
    for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
        if (!ix->keys[i])
            return PLC_NONE;
        if (strcmp(ix->keys[i], key) == 0)
            return ix->vals[i];
    }
}

static enum nfv_code grow(struct plc_index *ix)
{
    size_t n = ix->n_slots ? ix->n_slots * 2 : 16;
    const char **keys = calloc(n, sizeof(*keys));
    uint32_t *vals = calloc(n, sizeof(*vals));

    if (!keys || !vals) {
        free(keys);
        free(vals);
        return NFV_E_NOMEM;
    }
    for (size_t j = 0; j < ix->n_slots; j++) {
        if (!ix->keys[j])
            continue;
        size_t i = hash_str(ix->keys[j]) & (n - 1);
        while (keys[i])
            i = (i + 1) & (n - 1);
        keys[i] = ix->keys[j];
        vals[i] = ix->vals[j];
    }
    free(ix->keys);
    free(ix->vals);
    ix->keys = keys;
    ix->vals = vals;
    ix->n_slots = n;
    return NFV_OK;
}

enum nfv_code plc_index_put(struct plc_index *ix, const char *key, uint32_t val)
{
    if ((ix->n_used + 1) * 2 > ix->n_slots && grow(ix) != NFV_OK)
        return NFV_E_NOMEM;
    size_t mask = ix->n_slots - 1;
    size_t i = hash_str(key) & mask;
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
        i = (i + 1) & mask;
    if (!ix->keys[i])
        ix->n_used++;
    ix->keys[i] = key;
    ix->vals[i] = val;
    return NFV_OK;
}

void plc_index_del(struct plc_index *ix, const char *key)
{
    if (!ix->n_slots)
        return;
    size_t mask = ix->n_slots - 1;
    size_t i = hash_str(key) & mask;
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
        i = (i + 1) & mask;
    if (!ix->keys[i])
        return;
    ix->keys[i] = NULL;
    ix->n_used--;
    /* Backward-shift: re-seat the rest of the probe run. */
    for (size_t j = (i + 1) & mask; ix->keys[j]; j = (j + 1) & mask) {
        const char *k = ix->keys[j];
        uint32_t v = ix->vals[j];
        ix->keys[j] = NULL;
        ix->n_used--;
        plc_index_put(ix, k, v); /* cannot grow: one slot was just freed */
    }
}

enum nfv_code plc_index_clone(struct plc_index *dst, const struct plc_index *src,
                              const char *(*get_key)(const void *owner, uint32_t val),
                              const void *owner)
{
    memset(dst, 0, sizeof(*dst));
    if (!src->n_slots)
        return NFV_OK;
    dst->keys = calloc(src->n_slots, sizeof(*dst->keys));
    dst->vals = calloc(src->n_slots, sizeof(*dst->vals));
    if (!dst->keys || !dst->vals) {
        plc_index_destroy(dst);
        return NFV_E_NOMEM;
    }
    dst->n_slots = src->n_slots;
    dst->n_used = src->n_used;
    for (size_t i = 0; i < src->n_slots; i++) {
        if (!src->keys[i])
            continue;
        dst->keys[i] = get_key(owner, src->vals[i]);
        dst->vals[i] = src->vals[i];
    }
    return NFV_OK;
}

bool plc_grow_array(void **arr, size_t *n_alloc, size_t need, size_t elem)
{
    if (need <= *n_alloc)
        return true;
    size_t n = *n_alloc ? *n_alloc * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *n_alloc = n;
    return true;
}
