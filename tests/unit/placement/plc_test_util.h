/* plc_test_util.h - building small clusters and requests for placement tests. */
#ifndef PLC_TEST_UTIL_H
#define PLC_TEST_UTIL_H

#include "plc/plan.h"

/* Adds host @name with @n_nodes nodes of @cores cores and @mem_mib MiB each,
 * in rack/zone/power @rack/@zone/@power; returns its index (asserts success). */
uint32_t pt_host(struct plc_cluster *c, const char *name, unsigned n_nodes, unsigned cores,
                 unsigned mem_mib, const char *rack, const char *zone, const char *power);
/* pt_host with hugepages (@hp_mib per node) and capabilities ("k=v"). */
uint32_t pt_host_ex(struct plc_cluster *c, const char *name, unsigned n_nodes, unsigned cores,
                    unsigned mem_mib, unsigned hp_mib, const char *rack, const char *zone,
                    const char *power, const char *const *caps, size_t n_caps);
/* Deterministic random numbers (splitmix64): the next value, and one in
 * [lo, hi]. */
uint64_t pt_rng_next(uint64_t *s);
unsigned pt_rnd(uint64_t *s, unsigned lo, unsigned hi);
/* A demand of @cores cores on one node with @mem_mib MiB. */
struct plc_demand pt_demand(unsigned cores, unsigned mem_mib);
/* Checks every model invariant the engine promises; returns NULL or a
 * static description of the first broken one. */
const char *pt_check_invariants(const struct plc_cluster *c);
/* true if every group has all members placed on up hosts, at least one ACT,
 * and the members of each hard group are pairwise apart at its scope. */
const char *pt_check_groups(const struct plc_cluster *c);

#endif
