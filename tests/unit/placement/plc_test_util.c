/* plc_test_util.c - helpers shared by the placement unit tests. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "plc_test_util.h"

uint32_t pt_host(struct plc_cluster *c, const char *name, unsigned n_nodes, unsigned cores,
                 unsigned mem_mib, const char *rack, const char *zone, const char *power)
{
    return pt_host_ex(c, name, n_nodes, cores, mem_mib, 0, rack, zone, power, NULL, 0);
}

uint64_t pt_rng_next(uint64_t *s)
{
    /* splitmix64: deterministic across platforms */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

unsigned pt_rnd(uint64_t *s, unsigned lo, unsigned hi)
{
    return lo + (unsigned)(pt_rng_next(s) % (hi - lo + 1));
}

uint32_t pt_host_ex(struct plc_cluster *c, const char *name, unsigned n_nodes, unsigned cores,
                    unsigned mem_mib, unsigned hp_mib, const char *rack, const char *zone,
                    const char *power, const char *const *caps, size_t n_caps)
{
    struct plc_host_spec sp;
    uint32_t h = PLC_NONE;
    struct nfv_err err;

    memset(&sp, 0, sizeof(sp));
    sp.name = name;
    sp.state = PLC_HOST_UP;
    sp.labels[PLC_SCOPE_RACK] = rack;
    sp.labels[PLC_SCOPE_ZONE] = zone;
    sp.labels[PLC_SCOPE_POWER] = power;
    sp.n_nodes = (uint8_t)n_nodes;
    sp.threads_per_core = 2;
    for (unsigned n = 0; n < n_nodes; n++) {
        sp.cores_per_node[n] = (uint16_t)cores;
        sp.mem_mib_per_node[n] = mem_mib;
        sp.hp_mib_per_node[n] = hp_mib;
    }
    sp.caps = caps;
    sp.n_caps = n_caps;
    enum nfv_code rc = plc_cluster_add_host(c, &sp, &h, &err);
    if (rc)
        fprintf(stderr, "pt_host: %s\n", err.msg);
    assert(rc == NFV_OK);
    return h;
}

struct plc_demand pt_demand(unsigned cores, unsigned mem_mib)
{
    struct plc_demand d;
    memset(&d, 0, sizeof(d));
    d.n_vcpus = (uint16_t)cores;
    d.n_cores = (uint16_t)cores;
    d.numa_nodes = 1;
    d.mem_mib = mem_mib;
    return d;
}

const char *pt_check_invariants(const struct plc_cluster *c)
{
    static char msg[256];
    size_t n_hosts = plc_cluster_n_hosts(c);

    for (uint32_t h = 0; h < n_hosts; h++) {
        const struct plc_host *hh = plc_cluster_host(c, h);
        for (unsigned n = 0; n < hh->n_nodes; n++) {
            uint64_t used[PLC_NODE_WORDS] = {0};
            unsigned n_used = 0, mem = 0, hp = 0;
            for (uint32_t v = 0; v < plc_cluster_n_vm_slots(c); v++) {
                const struct plc_vm *vm = plc_cluster_vm(c, v);
                if (!vm->name || vm->at.host != h)
                    continue;
                for (unsigned p = 0; p < vm->at.n_parts; p++) {
                    const struct plc_part *pt = &vm->at.parts[p];
                    if (pt->node != n)
                        continue;
                    for (unsigned w = 0; w < PLC_NODE_WORDS; w++) {
                        if (used[w] & pt->cores[w]) {
                            snprintf(msg, sizeof(msg), "host %s node %u: core double-booked (%s)",
                                     hh->name, n, vm->name);
                            return msg;
                        }
                        used[w] |= pt->cores[w];
                        n_used += (unsigned)__builtin_popcountll(pt->cores[w]);
                    }
                    mem += pt->mem_mib;
                    hp += pt->hp_mib;
                }
            }
            const struct plc_node *nd = &hh->nodes[n];
            for (unsigned w = 0; w < PLC_NODE_WORDS; w++)
                if (used[w] & nd->free_cores[w]) {
                    snprintf(msg, sizeof(msg), "host %s node %u: used core marked free", hh->name,
                             n);
                    return msg;
                }
            unsigned n_free = 0;
            for (unsigned w = 0; w < PLC_NODE_WORDS; w++)
                n_free += (unsigned)__builtin_popcountll(nd->free_cores[w]);
            if (n_free != nd->n_free || n_free + n_used > nd->n_cores) {
                snprintf(msg, sizeof(msg), "host %s node %u: counters (%u free, %u used, %u)",
                         hh->name, n, n_free, n_used, nd->n_cores);
                return msg;
            }
            if (mem + nd->free_mem_mib != nd->mem_mib || hp + nd->free_hp_mib != nd->hp_mib) {
                snprintf(msg, sizeof(msg), "host %s node %u: memory accounting", hh->name, n);
                return msg;
            }
        }
    }
    return NULL;
}

const char *pt_check_groups(const struct plc_cluster *c)
{
    static char msg[256];
    for (uint32_t g = 0; g < plc_cluster_n_groups(c); g++) {
        const struct plc_group *gr = plc_cluster_group(c, g);
        unsigned n_act = 0, n_sby = 0;
        for (uint32_t i = 0; i < gr->n_members; i++) {
            const struct plc_vm *a = plc_cluster_vm(c, gr->members[i]);
            if (a->at.host == PLC_NONE || plc_cluster_host(c, a->at.host)->state != PLC_HOST_UP) {
                snprintf(msg, sizeof(msg), "group %s: member %s is not on an up host", gr->name,
                         a->name);
                return msg;
            }
            n_act += a->role == PLC_ROLE_ACT;
            n_sby += a->role == PLC_ROLE_SBY;
            if (gr->is_soft)
                continue;
            for (uint32_t j = 0; j < gr->n_members; j++) {
                const struct plc_vm *b = plc_cluster_vm(c, gr->members[j]);
                if (i == j || b->at.host == PLC_NONE)
                    continue;
                const struct plc_host *ha = plc_cluster_host(c, a->at.host);
                const struct plc_host *hb = plc_cluster_host(c, b->at.host);
                if (ha->dom[gr->scope] == hb->dom[gr->scope]) {
                    snprintf(msg, sizeof(msg), "group %s: %s and %s share a %s", gr->name, a->name,
                             b->name, plc_scope_to_string(gr->scope));
                    return msg;
                }
            }
        }
        if (gr->n_members && (!n_act || !n_sby)) {
            snprintf(msg, sizeof(msg), "group %s: %u act, %u sby", gr->name, n_act, n_sby);
            return msg;
        }
    }
    return NULL;
}
