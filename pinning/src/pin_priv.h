/*
 * pin_priv.h - pin_core internals shared by pin_alloc.c and pin_plan.c (and
 * visible to unit tests, nothing else).
 *
 * struct pin_alloc is opaque in the public API so that its layout can change;
 * the planner reads the bitmaps and the per-node core ranges directly.
 *
 * A claim is stored compactly (placement keeps thousands of hosts): one heap
 * blob holding, in order, uint16 entries [vcpu_pu x n_vcpus | claimed |
 * blocked | shared | emulator | iothreads] (PU lists, ascending; 0xffff for a
 * vCPU without PU), then the vCPU modes (one byte each), then the owner
 * string. About 3 bytes per vCPU plus 2 per listed PU, instead of a full
 * struct pin_plan with five 128-byte bitmaps.
 */
#ifndef PIN_PRIV_H
#define PIN_PRIV_H

#include "pin/alloc.h"

enum pin_claim_list {
    PIN_CL_CLAIMED,
    PIN_CL_BLOCKED,
    PIN_CL_SHARED,
    PIN_CL_EMULATOR,
    PIN_CL_IOTHREADS,
    PIN_CL__COUNT
};

struct pin_claim {
    void *blob;      /* owned, layout above */
    size_t blob_cap; /* bytes allocated */
    uint16_t n_vcpus;
    uint16_t n_list[PIN_CL__COUNT];
    uint16_t n_iothreads;
    uint8_t numa;
    uint8_t emulator_policy;
    bool is_mem_strict;
    uint64_t node_mask;
    uint64_t mem_mib;
    uint64_t hugepage_kib;
};

/* Per NUMA node (logical index): counters and the node's cores [first, end). */
struct pin_node_state {
    struct pin_alloc_counts counts;
    uint16_t core_first;
    uint16_t core_end;
    uint64_t hp_used_kib[PIN_MAX_HP_SIZES]; /* per topology hp[] entry, by claims */
};

/* Index of the hugepage size @size_kib in node @n's hp[], or -1. */
static inline int pin_node_hp_index(const struct pin_topo *t, unsigned n, uint64_t size_kib)
{
    for (unsigned i = 0; i < t->nodes[n].n_hp; i++)
        if (t->nodes[n].hp[i].size_kib == size_kib)
            return (int)i;
    return -1;
}

struct pin_alloc {
    struct pin_topo *topo; /* one reference */
    struct pin_pools pools;
    struct pin_cpuset used;    /* held by a claim */
    struct pin_cpuset blocked; /* kept empty for a claim */
    struct pin_cpuset free;    /* dedicated & ~used & ~blocked */
    struct pin_alloc_counts total;
    unsigned n_nodes;
    struct pin_node_state *nodes; /* [n_nodes], owned */
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
