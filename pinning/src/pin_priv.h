/*
 * pin_priv.h - pin_core internals shared by pin_alloc.c and pin_plan.c (and
 * visible to unit tests, nothing else).
 *
 * struct pin_alloc is opaque in the public API so that its layout can change;
 * the planner reads the bitmaps and the per-node core ranges directly.
 */
#ifndef PIN_PRIV_H
#define PIN_PRIV_H

#include "pin/alloc.h"

struct pin_claim {
    char owner[PIN_OWNER_SIZE];
    struct pin_plan *plan; /* owned copy of the claimed plan */
};

struct pin_alloc {
    struct pin_topo *topo; /* one reference */
    struct pin_pools pools;
    struct pin_cpuset used;    /* held by a claim */
    struct pin_cpuset blocked; /* kept empty for a claim */
    struct pin_cpuset free;    /* dedicated & ~used & ~blocked */
    struct pin_alloc_counts total;
    struct pin_alloc_counts node[PIN_MAX_NODES];
    uint16_t node_core_first[PIN_MAX_NODES]; /* node's cores are [first, end) */
    uint16_t node_core_end[PIN_MAX_NODES];
    size_t n_claims;
    size_t cap_claims;
    struct pin_claim *claims;
};

/* true if every PU of core @c is in @s. */
static inline bool pin_core_is_whole(const struct pin_topo *t, unsigned c,
                                     const struct pin_cpuset *s)
{
    const struct pin_core_info *core = &t->cores[c];

    for (unsigned k = 0; k < core->n_pus; k++)
        if (!pin_cpuset_test(s, core->pus[k]))
            return false;
    return true;
}

#endif /* PIN_PRIV_H */
