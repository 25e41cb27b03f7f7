/*
 * ct_dpdk.c - connection table on rte_hash (see vnf/ct.h).
 *
 * The hash stores (flow index << 1 | direction) as its data pointer, so a
 * lookup yields both the flow and which of its two keys matched. Flow slots
 * and the free stack are allocated once from DPDK memory at start-up.
 */
#include "vnf/ct.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

struct vnf_ct {
    struct rte_hash *hash;
    struct vnf_ct_flow *flows;
    uint32_t *free_stack; /* indices of unused slots; top at n_free - 1 */
    uint32_t n_free;
    uint32_t max_flows;
    uint32_t hwm;    /* 1 + highest slot ever handed out: the sweep stays below */
    uint32_t cursor; /* next slot vnf_ct_sweep() examines */
};

struct vnf_ct *vnf_ct_new(const char *name, uint32_t max_flows, struct nfv_err *err)
{
    struct vnf_ct *ct;
    struct rte_hash_parameters hp = {
        .name = name,
        /* Two keys per flow plus 25% headroom: a cuckoo table near 100% occupancy
         * spills into extendable buckets and slows every lookup down. */
        .entries = max_flows * 2 + max_flows / 2,
        .key_len = sizeof(struct vnf_ct_key),
        /* CRC32 (SSE4.2 on x86, with a software fallback): far cheaper than jhash on
         * a 16-byte key, and as good a spread for 5-tuples. */
        .hash_func = rte_hash_crc,
        .hash_func_init_val = 0,
        .socket_id = SOCKET_ID_ANY,
        /* Extendable buckets: an insert fails only when the table is really full. */
        .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
    };

    if (max_flows == 0 || max_flows > (1u << 30)) {
        NFV_ERR(err, NFV_E_INVAL, "'flows': %u is out of range 1..%u", max_flows, 1u << 30);
        return NULL;
    }
    ct = rte_zmalloc("vnf_ct", sizeof(*ct), RTE_CACHE_LINE_SIZE);
    if (!ct)
        goto nomem;
    ct->max_flows = max_flows;
    ct->flows =
        rte_zmalloc("vnf_ct_flows", sizeof(*ct->flows) * (size_t)max_flows, RTE_CACHE_LINE_SIZE);
    ct->free_stack = rte_malloc("vnf_ct_free", sizeof(uint32_t) * (size_t)max_flows, 0);
    ct->hash = rte_hash_create(&hp);
    if (!ct->flows || !ct->free_stack || !ct->hash)
        goto nomem;
    /* Hand out low indices first: the sweep then walks a dense prefix. */
    for (uint32_t i = 0; i < max_flows; i++)
        ct->free_stack[i] = max_flows - 1 - i;
    ct->n_free = max_flows;
    return ct;
nomem:
    vnf_ct_free(ct);
    NFV_ERR(err, NFV_E_NOMEM,
            "'flows': cannot allocate a connection table for %u flows (about %zu MB of DPDK "
            "memory; raise -m or lower --flows)",
            max_flows, ((size_t)max_flows * 200) >> 20);
    return NULL;
}

void vnf_ct_free(struct vnf_ct *ct)
{
    if (!ct)
        return;
    rte_hash_free(ct->hash);
    rte_free(ct->flows);
    rte_free(ct->free_stack);
    rte_free(ct);
}

void vnf_ct_lookup_bulk(struct vnf_ct *ct, const struct vnf_ct_key *const *keys, unsigned n,
                        struct vnf_ct_flow **ret_flows, uint8_t *ret_dirs)
{
    void *data[VNF_CT_BULK_MAX];
    uint64_t hits = 0;

    if (n == 0)
        return;
    /* rte_hash pipelines the bucket and key-store misses of all keys. */
    rte_hash_lookup_bulk_data(ct->hash, (const void **)keys, n, &hits, data);
    for (unsigned i = 0; i < n; i++) {
        if (hits & (1ull << i)) {
            ret_flows[i] = &ct->flows[(uintptr_t)data[i] >> 1];
            ret_dirs[i] = (uint8_t)((uintptr_t)data[i] & 1);
            rte_prefetch0(ret_flows[i]);
        } else {
            ret_flows[i] = NULL;
            ret_dirs[i] = 0;
        }
    }
}

struct vnf_ct_flow *vnf_ct_lookup(struct vnf_ct *ct, const struct vnf_ct_key *key,
                                  unsigned *ret_dir)
{
    void *data;

    if (rte_hash_lookup_data(ct->hash, key, &data) < 0)
        return NULL;
    *ret_dir = (unsigned)((uintptr_t)data & 1);
    return &ct->flows[(uintptr_t)data >> 1];
}

bool vnf_ct_has(struct vnf_ct *ct, const struct vnf_ct_key *key)
{
    return rte_hash_lookup(ct->hash, key) >= 0;
}

struct vnf_ct_flow *vnf_ct_add(struct vnf_ct *ct, const struct vnf_ct_key *k0,
                               const struct vnf_ct_key *k1, unsigned init_dir, uint64_t now_ms,
                               int *ret_errno)
{
    struct vnf_ct_flow *f;
    uint32_t idx;

    if (ct->n_free == 0) {
        *ret_errno = ENOSPC;
        return NULL;
    }
    if (rte_hash_lookup(ct->hash, k0) >= 0 || rte_hash_lookup(ct->hash, k1) >= 0) {
        *ret_errno = EEXIST;
        return NULL;
    }
    idx = ct->free_stack[ct->n_free - 1];
    /* Freed slots go back on top of the stack, so used slots stay below the mark. */
    if (idx >= ct->hwm)
        ct->hwm = idx + 1;
    if (rte_hash_add_key_data(ct->hash, k0, (void *)(((uintptr_t)idx << 1) | 0)) < 0) {
        *ret_errno = ENOSPC;
        return NULL;
    }
    /* Identical keys (a packet to itself) would make one entry: refuse it. */
    if (memcmp(k0, k1, sizeof(*k0)) == 0 ||
        rte_hash_add_key_data(ct->hash, k1, (void *)(((uintptr_t)idx << 1) | 1)) < 0) {
        rte_hash_del_key(ct->hash, k0);
        *ret_errno = memcmp(k0, k1, sizeof(*k0)) == 0 ? EEXIST : ENOSPC;
        return NULL;
    }
    ct->n_free--;
    f = &ct->flows[idx];
    f->key[0] = *k0;
    f->key[1] = *k1;
    f->last_ms = now_ms;
    f->state = VNF_FLOW_OPENING;
    f->init_dir = (uint8_t)init_dir;
    f->is_used = 1;
    return f;
}

void vnf_ct_del(struct vnf_ct *ct, struct vnf_ct_flow *flow)
{
    if (!flow->is_used)
        return;
    rte_hash_del_key(ct->hash, &flow->key[0]);
    rte_hash_del_key(ct->hash, &flow->key[1]);
    flow->is_used = 0;
    ct->free_stack[ct->n_free++] = (uint32_t)(flow - ct->flows);
}

unsigned vnf_ct_sweep(struct vnf_ct *ct, const struct vnf_timeouts *t, uint64_t now_ms,
                      unsigned budget)
{
    unsigned n_expired = 0;

    if (ct->n_free == ct->max_flows)
        return 0;
    while (budget--) {
        struct vnf_ct_flow *f;

        if (ct->cursor >= ct->hwm)
            ct->cursor = 0;
        f = &ct->flows[ct->cursor++];
        if (f->is_used && vnf_flow_expired(t, f->key[0].proto, (enum vnf_flow_state)f->state,
                                           f->last_ms, now_ms)) {
            vnf_ct_del(ct, f);
            n_expired++;
        }
    }
    return n_expired;
}

uint32_t vnf_ct_count(const struct vnf_ct *ct)
{
    return ct->max_flows - ct->n_free;
}

uint32_t vnf_ct_capacity(const struct vnf_ct *ct)
{
    return ct->max_flows;
}
