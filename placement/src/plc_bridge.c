/*
 * plc_bridge.c - conversions between pinning's host model and placement's.
 *
 * See plc/bridge.h for the four directions. The logic was vmmgrd's
 * (core_ids, add_host, demand_of, choice_of in vm_vm.c) and plc_pin.c's
 * request builder; it lives here once so the daemon and `vmmgrctl place`
 * share it. Core ids are mapped through a stack array of PIN_MAX_PUS
 * entries (a core has at least one PU), so nothing here allocates except
 * the request plc_bridge_request_of_demand() returns.
 */
#include <stdio.h>
#include <string.h>

#include "pin/pools.h"
#include "plc/bridge.h"

static bool bit_test(const uint64_t *bits, unsigned i)
{
    return (bits[i / 64] >> (i % 64)) & 1u;
}

static void bit_set(uint64_t *bits, unsigned i)
{
    bits[i / 64] |= UINT64_C(1) << (i % 64);
}

void plc_bridge_core_ids(const struct pin_topo *t, uint16_t *ret_ids)
{
    unsigned first[PIN_MAX_NODES] = {0}, used[PIN_MAX_NODES] = {0};

    for (unsigned n = 1; n < t->n_nodes && n < PIN_MAX_NODES; n++)
        first[n] = first[n - 1] + t->nodes[n - 1].n_cores;
    for (unsigned c = 0; c < t->n_cores; c++) {
        unsigned n = t->cores[c].node;
        ret_ids[c] = (uint16_t)(first[n] + used[n]++);
    }
}

/* Inverse of plc_bridge_core_ids: pinning core index of each placement id. */
static void core_of_ids(const struct pin_topo *t, uint16_t *ret_core)
{
    uint16_t ids[PIN_MAX_PUS];

    plc_bridge_core_ids(t, ids);
    for (unsigned c = 0; c < t->n_cores; c++)
        ret_core[ids[c]] = (uint16_t)c;
}

enum nfv_code plc_bridge_host_spec(const struct pin_alloc *alloc, const char *name,
                                   enum plc_host_state state, uint32_t default_node_mib,
                                   struct plc_bridge_host *ret, struct nfv_err *err)
{
    const struct pin_topo *t = pin_alloc_topo(alloc);
    const struct pin_pools *pools = pin_alloc_pools(alloc);
    struct plc_host_spec *s = &ret->spec;
    uint16_t ids[PIN_MAX_PUS];

    if (t->n_nodes > PLC_MAX_NODES)
        return NFV_ERR(err, NFV_E_UNSUPPORTED, "host '%s': %u NUMA nodes (at most %d)", name,
                       t->n_nodes, PLC_MAX_NODES);
    for (unsigned n = 0; n < t->n_nodes; n++)
        if (t->nodes[n].n_cores > PLC_NODE_WORDS * 64)
            return NFV_ERR(err, NFV_E_UNSUPPORTED, "host '%s': node %u has %u cores (at most %d)",
                           name, n, t->nodes[n].n_cores, PLC_NODE_WORDS * 64);
    memset(ret, 0, sizeof(*ret));
    s->name = name;
    s->state = state;
    s->n_nodes = (uint8_t)t->n_nodes;
    s->threads_per_core = (uint8_t)pin_topo_threads_per_core(t);
    for (unsigned n = 0; n < t->n_nodes; n++) {
        uint64_t mib = t->nodes[n].mem_bytes >> 20;
        s->cores_per_node[n] = (uint16_t)t->nodes[n].n_cores;
        s->mem_mib_per_node[n] =
            mib ? (uint32_t)mib
                : (default_node_mib ? default_node_mib : PLC_BRIDGE_DEFAULT_NODE_MIB);
    }
    for (unsigned k = 0; k < t->n_nics; k++)
        if (t->nics[k].node >= 0 && t->nics[k].node < PLC_MAX_NODES)
            s->nic_nodes |= (uint8_t)(1u << t->nics[k].node);
    /* A core with any PU outside the dedicated pool is not the engine's to give. */
    plc_bridge_core_ids(t, ids);
    for (unsigned c = 0; c < t->n_cores; c++) {
        bool is_ok = true;
        for (unsigned k = 0; k < t->cores[c].n_pus; k++)
            is_ok &= pin_cpuset_test(&pools->dedicated, t->cores[c].pus[k]);
        if (!is_ok)
            bit_set(ret->reserved, ids[c]);
    }
    s->reserved_cores = ret->reserved;
    s->n_reserved_words = PLC_MAX_NODES * PLC_NODE_WORDS;
    return NFV_OK;
}

enum nfv_code plc_bridge_demand(const struct pin_request *req, uint64_t mem_mib,
                                const struct pin_topo *t, unsigned threads_per_core,
                                struct plc_demand *ret, struct nfv_err *err)
{
    unsigned tpc = threads_per_core ? threads_per_core : 1;
    uint64_t numbered_nodes = 0;
    struct pin_demand pd;
    struct plc_demand d;

    memset(&d, 0, sizeof(d));
    pin_request_demand(req, tpc, &pd);
    d.n_vcpus = (uint16_t)req->n_vcpus;
    /* Picks (shared group, exclusive, isolated emulator) in whole cores. */
    d.n_cores = (uint16_t)((pd.n_pus_worst - pd.n_numbered + tpc - 1) / tpc);
    d.n_shared_vcpus = (uint16_t)pd.n_shared_vcpus;
    d.n_shared_cores = (uint16_t)((pd.n_shared_pus + tpc - 1) / tpc);
    if (pd.n_numbered) {
        uint16_t ids[PIN_MAX_PUS];
        uint64_t seen[PIN_CPUSET_WORDS] = {0};
        if (!t)
            return NFV_ERR(err, NFV_E_INVAL, "'cpu_map': numbered vCPUs name PUs of one host");
        plc_bridge_core_ids(t, ids);
        for (unsigned v = 0; v < req->n_vcpus; v++) {
            const struct pin_pu_info *pi;
            if (req->vcpu_mode[v] != PIN_MODE_NUMBERED)
                continue;
            pi = req->vcpu_pu[v] >= 0 ? pin_topo_pu(t, (unsigned)req->vcpu_pu[v]) : NULL;
            if (!pi)
                return NFV_ERR(err, NFV_E_INVAL, "'cpu_map': vcpu %u: PU %d is not on this host", v,
                               req->vcpu_pu[v]);
            numbered_nodes |= UINT64_C(1) << pi->node;
            if (bit_test(seen, ids[pi->core]))
                continue;
            bit_set(seen, ids[pi->core]);
            if (d.n_numbered == PLC_MAX_NUMBERED)
                return NFV_ERR(err, NFV_E_INVAL, "'cpu_map': more than %d numbered cores",
                               PLC_MAX_NUMBERED);
            d.numbered[d.n_numbered++] = ids[pi->core];
        }
    }
    d.n_cores = (uint16_t)(d.n_cores + d.n_numbered);
    if (d.n_cores == 0)
        d.n_cores = 1;
    if (req->numa == PIN_NUMA_SPREAD)
        d.numa_nodes = 2;
    else if (req->numa == PIN_NUMA_AUTO && numbered_nodes)
        d.numa_nodes = (uint8_t)__builtin_popcountll(numbered_nodes);
    else
        d.numa_nodes = 1;
    /* A node the request names (its OS index): on a known host the node
     * with that index; host-wide (no topology yet) the same logical index,
     * which is the OS index on hwloc's synthetic and common topologies. */
    if (req->numa_node >= 0) {
        int logical = -1;
        for (unsigned n = 0; t && n < t->n_nodes; n++)
            if ((int)t->nodes[n].os_index == req->numa_node)
                logical = (int)n;
        if (!t && req->numa_node < PLC_MAX_NODES)
            logical = req->numa_node;
        if (logical < 0 || logical >= PLC_MAX_NODES)
            return NFV_ERR(err, NFV_E_INVAL, "'numa_node': %d is not a NUMA node of the host",
                           req->numa_node);
        d.node_mask = (uint8_t)(1u << logical);
    }
    d.is_nic_local = req->nic[0] != '\0';
    d.mem_mib = (uint32_t)mem_mib;
    *ret = d;
    return NFV_OK;
}

enum nfv_code plc_bridge_choice(const struct pin_topo *t, uint32_t host,
                                const struct pin_plan *plan, uint64_t mem_mib,
                                struct plc_choice *ret, struct nfv_err *err)
{
    uint16_t ids[PIN_MAX_PUS];
    int part_of_node[PIN_MAX_NODES];
    struct pin_cpuset held;
    struct plc_choice ch;

    memset(&ch, 0, sizeof(ch));
    ch.host = host;
    plc_bridge_core_ids(t, ids);
    for (unsigned n = 0; n < PIN_MAX_NODES; n++)
        part_of_node[n] = -1;
    pin_cpuset_or(&held, &plan->claimed, &plan->blocked);
    for (int pu = pin_cpuset_first(&held); pu >= 0; pu = pin_cpuset_next(&held, (unsigned)pu + 1)) {
        const struct pin_pu_info *pi = pin_topo_pu(t, (unsigned)pu);
        struct plc_part *p;
        unsigned local;
        if (!pi || pi->node >= PLC_MAX_NODES)
            return NFV_ERR(err, NFV_E_INVAL, "plan: PU %d is not on this host", pu);
        if (part_of_node[pi->node] < 0) {
            if (ch.n_parts == PLC_MAX_VM_NODES)
                return NFV_ERR(err, NFV_E_INVAL, "plan: PUs on more than %d NUMA nodes",
                               PLC_MAX_VM_NODES);
            part_of_node[pi->node] = ch.n_parts;
            ch.parts[ch.n_parts++].node = (uint8_t)pi->node;
        }
        p = &ch.parts[part_of_node[pi->node]];
        /* local index = host-wide id minus the node's first id */
        local = ids[pi->core];
        for (unsigned n = 0; n < pi->node; n++)
            local -= t->nodes[n].n_cores;
        if (!bit_test(p->cores, local)) {
            bit_set(p->cores, local);
            p->n_cores++;
        }
    }
    for (unsigned i = 0; i < ch.n_parts; i++)
        ch.parts[i].mem_mib = (uint32_t)(mem_mib / ch.n_parts + (i < mem_mib % ch.n_parts));
    *ret = ch;
    return NFV_OK;
}

enum nfv_code plc_bridge_add_vm(struct plc_cluster *c, uint32_t host, const struct pin_alloc *alloc,
                                const char *name, uint32_t group, enum plc_role role,
                                const struct pin_request *req, const struct pin_plan *plan,
                                uint64_t mem_mib, uint32_t *ret_vm, struct nfv_err *err)
{
    const struct pin_topo *t = pin_alloc_topo(alloc);
    struct plc_demand d;
    struct plc_choice ch;
    enum nfv_code rc;

    memset(&d, 0, sizeof(d));
    if ((rc = plc_bridge_choice(t, host, plan, mem_mib, &ch, err)) != NFV_OK)
        goto fail;
    if (req && (rc = plc_bridge_demand(req, mem_mib, t, pin_topo_threads_per_core(t), &d, err)))
        goto fail;
    if (!req) {
        d.n_vcpus = (uint16_t)plan->n_vcpus;
        d.mem_mib = (uint32_t)mem_mib;
    }
    /* What the VM really holds, whatever the request would ask today. */
    d.numa_nodes = ch.n_parts ? ch.n_parts : 1;
    d.n_cores = 0;
    for (unsigned p = 0; p < ch.n_parts; p++)
        d.n_cores = (uint16_t)(d.n_cores + ch.parts[p].n_cores);
    if ((rc = plc_cluster_add_vm(c, name, group, role, &d, &ch, ret_vm, err)) != NFV_OK)
        goto fail;
    return NFV_OK;
fail:
    nfv_err_prefix(err, "vm '%s'", name);
    return rc;
}

void plc_bridge_choice_pus(const struct pin_topo *t, const struct plc_choice *ch,
                           struct pin_cpuset *ret)
{
    uint16_t core_of[PIN_MAX_PUS];
    unsigned first[PIN_MAX_NODES] = {0};

    pin_cpuset_zero(ret);
    core_of_ids(t, core_of);
    for (unsigned n = 1; n < t->n_nodes && n < PIN_MAX_NODES; n++)
        first[n] = first[n - 1] + t->nodes[n - 1].n_cores;
    for (unsigned p = 0; p < ch->n_parts; p++) {
        const struct plc_part *part = &ch->parts[p];
        if (part->node >= t->n_nodes)
            continue;
        for (unsigned i = 0; i < t->nodes[part->node].n_cores && i < PLC_NODE_WORDS * 64; i++) {
            const struct pin_core_info *core;
            if (!bit_test(part->cores, i))
                continue;
            core = &t->cores[core_of[first[part->node] + i]];
            for (unsigned k = 0; k < core->n_pus; k++)
                pin_cpuset_set(ret, core->pus[k]);
        }
    }
}

enum nfv_code plc_bridge_plan(const struct pin_alloc *alloc, const struct plc_choice *ch,
                              const struct pin_request *req, struct pin_plan *ret_plan,
                              struct nfv_err *err)
{
    struct pin_cpuset within;

    plc_bridge_choice_pus(pin_alloc_topo(alloc), ch, &within);
    return pin_plan_compute_within(alloc, req, &within, ret_plan, err);
}

enum nfv_code plc_bridge_request_of_demand(const struct pin_topo *t, const struct plc_demand *d,
                                           const struct plc_choice *ch, bool has_reserved,
                                           struct pin_request **ret_req, struct nfv_err *err)
{
    unsigned n_shared = d->n_shared_vcpus, n_num = d->n_numbered;
    unsigned n_vcpus = d->n_vcpus ? d->n_vcpus : d->n_cores;
    uint16_t core_of[PIN_MAX_PUS];
    struct pin_request *req = NULL;
    enum nfv_code rc;

    if ((rc = pin_request_new(n_vcpus, PIN_MODE_EXCLUSIVE, &req, err)))
        return rc;
    if (n_shared) {
        char list[32];
        snprintf(list, sizeof(list), "0-%u", n_shared - 1);
        if ((rc = pin_request_set_mode_list(req, list, PIN_MODE_SHARED, err)))
            goto fail;
        req->n_shared_pus = d->n_shared_cores ? d->n_shared_cores : 1;
    }
    core_of_ids(t, core_of);
    for (unsigned k = 0; k < n_num; k++) {
        char map[32];
        if (d->numbered[k] >= t->n_cores) {
            rc = NFV_ERR(err, NFV_E_INVAL, "'numbered': core %u is not on this host",
                         d->numbered[k]);
            goto fail;
        }
        snprintf(map, sizeof(map), "%u:%u", n_vcpus - n_num + k,
                 t->cores[core_of[d->numbered[k]]].pus[0]);
        if ((rc = pin_request_set_cpu_map(req, map, PIN_MAX_PUS, err)))
            goto fail;
    }
    req->thread_policy = PIN_THREAD_ISOLATE;
    req->numa = ch->n_parts > 1 ? PIN_NUMA_SPREAD : PIN_NUMA_SINGLE;
    req->mem_mib = d->mem_mib + d->hp_mib;
    req->emulator = !has_reserved && n_shared ? PIN_EMU_SHARED : PIN_EMU_AUTO;
    *ret_req = req;
    return NFV_OK;
fail:
    pin_request_free(req);
    return rc;
}
