/*
 * vnf/ct.h - the connection table shared by vmmgr-nat and vmmgr-fw.
 *
 * DPDK adapter: an rte_hash maps a 5-tuple key to (flow index, direction);
 * flows live in one preallocated array with a free-index stack, so creating
 * or deleting a flow never allocates. Every flow has two keys: key[0] is the
 * tuple of packets in the direction of the first packet's side as the VNF
 * defines it (for the NAT: inside host -> remote; for the firewall: the
 * first packet), key[1] the tuple of the packets coming back. Both are in
 * the hash, so one lookup finds a flow from either side.
 *
 * Expiry never scans the table in one go: vnf_ct_sweep() looks at a small
 * budget of slots per call from a rotating cursor, and the caller invokes it
 * once per loop iteration; lookups also check expiry (vnf/flow.h), so an
 * expired flow is never used even before the sweep reaches it.
 *
 * One writer (the worker lcore); the control thread reads only counters.
 */
#ifndef VNF_CT_H
#define VNF_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nfv/err.h"
#include "vnf/flow.h"

/* Hash key: 16 bytes, host byte order, padding zeroed (it is hashed). */
struct vnf_ct_key {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t sport;
    uint16_t dport;
    uint8_t proto;
    uint8_t pad[3];
};

struct vnf_ct_flow {
    struct vnf_ct_key key[2];
    uint64_t last_ms; /* time of the last packet, in the caller's clock */
    uint8_t state;    /* enum vnf_flow_state */
    uint8_t init_dir; /* direction (0/1) of the packet that created the flow */
    uint8_t is_used;
    uint8_t pad[5];
};

struct vnf_ct;

/*
 * Creates a table for @max_flows flows (2 * @max_flows hash entries) named
 * @name (unique per process). Returns NULL with NFV_E_NOMEM when DPDK memory
 * is short (the message says how much was asked for).
 */
struct vnf_ct *vnf_ct_new(const char *name, uint32_t max_flows, struct nfv_err *err);
/* Frees @ct; NULL is a no-op. */
void vnf_ct_free(struct vnf_ct *ct);

/* Finds @key; returns the flow and stores its direction in *ret_dir, or NULL. */
struct vnf_ct_flow *vnf_ct_lookup(struct vnf_ct *ct, const struct vnf_ct_key *key,
                                  unsigned *ret_dir);
#define VNF_CT_BULK_MAX 64 /* RTE_HASH_LOOKUP_BULK_MAX */

/*
 * Looks up @n (<= VNF_CT_BULK_MAX) keys at once (the misses of all lookups
 * overlap) and prefetches the flows found. ret_flows[i] is NULL when keys[i]
 * is absent. The results describe the table at the time of the call: a caller
 * that adds or deletes flows while working through them must re-check an
 * entry with vnf_ct_flow_matches() before trusting it.
 */
void vnf_ct_lookup_bulk(struct vnf_ct *ct, const struct vnf_ct_key *const *keys, unsigned n,
                        struct vnf_ct_flow **ret_flows, uint8_t *ret_dirs);

/* True if @flow is in use and its key @dir is @key. */
static inline bool vnf_ct_flow_matches(const struct vnf_ct_flow *flow, unsigned dir,
                                       const struct vnf_ct_key *key)
{
    return flow->is_used && memcmp(&flow->key[dir], key, sizeof(*key)) == 0;
}

/* True if @key is in the table (expired or not). */
bool vnf_ct_has(struct vnf_ct *ct, const struct vnf_ct_key *key);
/*
 * Adds a flow with keys @k0/@k1 seen first in direction @init_dir at @now_ms.
 * Returns the flow, or NULL with *ret_errno = ENOSPC (table full) or EEXIST.
 */
struct vnf_ct_flow *vnf_ct_add(struct vnf_ct *ct, const struct vnf_ct_key *k0,
                               const struct vnf_ct_key *k1, unsigned init_dir, uint64_t now_ms,
                               int *ret_errno);
/* Removes @flow (both keys) and returns its slot to the free stack. */
void vnf_ct_del(struct vnf_ct *ct, struct vnf_ct_flow *flow);
/* Examines up to @budget slots; deletes expired flows; returns how many. */
unsigned vnf_ct_sweep(struct vnf_ct *ct, const struct vnf_timeouts *t, uint64_t now_ms,
                      unsigned budget);
/* Flows in use. */
uint32_t vnf_ct_count(const struct vnf_ct *ct);
uint32_t vnf_ct_capacity(const struct vnf_ct *ct);

/* Fills a zero-padded key. */
static inline void vnf_ct_key_set(struct vnf_ct_key *k, uint8_t proto, uint32_t src_ip,
                                  uint16_t sport, uint32_t dst_ip, uint16_t dport)
{
    k->src_ip = src_ip;
    k->dst_ip = dst_ip;
    k->sport = sport;
    k->dport = dport;
    k->proto = proto;
    k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

#endif /* VNF_CT_H */
