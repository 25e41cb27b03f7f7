/*
 * vm_place.c - placement inside vmmgrd (see vm_place.h).
 *
 * Two models, one truth. Placement (placement/, plc_) chooses the host and
 * NUMA node with ACT/SBY anti-affinity on a cluster view of the hosts and
 * VMs; pinning (pinning/, pin_) then plans the exact PUs on that host
 * against its pin_alloc, which is the truth about who holds which PU, and
 * the database's allocations table (primary key host+PU) makes it durable.
 * VMs being created are already in d->vms (state creating), so the view
 * counts their cores too.
 *
 * Calls: vm_ctx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc/cluster.h"
#include "plc/engine.h"
#include "vm_place.h"
#include "vm_topo.h"

/* ---- placement: the cluster view of hosts and VMs ---- */

/* Placement numbers a host's cores node by node; pinning by core index.
 * Maps pin core index -> placement host-wide core id. */
static void core_ids(const struct pin_topo *t, uint16_t *ret_ids)
{
    unsigned first[PIN_MAX_NODES] = {0}, used[PIN_MAX_NODES] = {0};

    for (unsigned n = 1; n < t->n_nodes && n < PIN_MAX_NODES; n++)
        first[n] = first[n - 1] + t->nodes[n - 1].n_cores;
    for (unsigned c = 0; c < t->n_cores; c++) {
        unsigned n = t->cores[c].node;
        ret_ids[c] = (uint16_t)(first[n] + used[n]++);
    }
}

static enum plc_host_state plc_state_of(const struct host_rt *h)
{
    switch (vm_host_state_effective(h->admin, h->conn != NULL)) {
    case VM_HOST_UP:
        return PLC_HOST_UP;
    case VM_HOST_MAINTENANCE:
        return PLC_HOST_MAINTENANCE;
    default:
        return PLC_HOST_DOWN;
    }
}

static uint32_t node_mem_mib(const struct pin_topo *t, unsigned n)
{
    uint64_t mib = t->nodes[n].mem_bytes >> 20;

    return (uint32_t)(mib ? mib : VM_TOPO_DEFAULT_NODE_MIB);
}

static enum nfv_code add_host(struct plc_cluster *c, const struct host_rt *h, struct nfv_err *err)
{
    const struct pin_topo *t = h->topo;
    struct plc_host_spec s;
    uint64_t reserved[PLC_MAX_NODES * PLC_NODE_WORDS] = {0};
    uint16_t *ids;
    uint32_t idx;
    enum nfv_code code;

    if (t->n_nodes > PLC_MAX_NODES)
        return NFV_ERR(err, NFV_E_UNSUPPORTED, "host '%s': more than %d NUMA nodes", h->name,
                       PLC_MAX_NODES);
    memset(&s, 0, sizeof(s));
    s.name = h->name;
    s.state = plc_state_of(h);
    s.labels[PLC_SCOPE_RACK] = h->labels[0][0] ? h->labels[0] : NULL;
    s.labels[PLC_SCOPE_ZONE] = h->labels[1][0] ? h->labels[1] : NULL;
    s.labels[PLC_SCOPE_POWER] = h->labels[2][0] ? h->labels[2] : NULL;
    s.n_nodes = (uint8_t)t->n_nodes;
    s.threads_per_core = (uint8_t)pin_topo_threads_per_core(t);
    for (unsigned n = 0; n < t->n_nodes; n++) {
        s.cores_per_node[n] = (uint16_t)t->nodes[n].n_cores;
        s.mem_mib_per_node[n] = node_mem_mib(t, n);
    }
    ids = calloc(t->n_cores ? t->n_cores : 1, sizeof(*ids));
    if (!ids)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    core_ids(t, ids);
    /* A core with any PU outside the dedicated pool is not the engine's to give. */
    for (unsigned ci = 0; ci < t->n_cores; ci++) {
        bool is_ok = true;
        for (unsigned k = 0; k < t->cores[ci].n_pus; k++)
            is_ok &= pin_cpuset_test(&h->pools.dedicated, t->cores[ci].pus[k]);
        if (!is_ok && ids[ci] < PLC_MAX_NODES * PLC_NODE_WORDS * 64)
            reserved[ids[ci] / 64] |= 1ull << (ids[ci] % 64);
    }
    s.reserved_cores = reserved;
    s.n_reserved_words = PLC_MAX_NODES * PLC_NODE_WORDS;
    code = plc_cluster_add_host(c, &s, &idx, err);
    free(ids);
    return code;
}

/* Placement demand of a pin request on hosts with @tpc threads per core. */
static void demand_of(const struct pin_request *req, uint64_t memory_mib, unsigned tpc,
                      struct plc_demand *d)
{
    struct pin_demand pd;

    memset(d, 0, sizeof(*d));
    pin_request_demand(req, tpc ? tpc : 1, &pd);
    d->n_vcpus = (uint16_t)req->n_vcpus;
    d->n_cores = (uint16_t)((pd.n_pus_worst + tpc - 1) / (tpc ? tpc : 1));
    if (d->n_cores == 0)
        d->n_cores = 1;
    d->numa_nodes = req->numa == PIN_NUMA_SPREAD ? 2 : 1;
    d->mem_mib = (uint32_t)memory_mib;
}

/* Where an existing VM sits, in placement terms, from its plan. */
static void choice_of(const struct host_rt *h, uint32_t host_idx, const struct pin_plan *plan,
                      uint64_t memory_mib, struct plc_choice *ch)
{
    const struct pin_topo *t = h->topo;
    struct pin_cpuset held;
    uint16_t *ids = calloc(t->n_cores ? t->n_cores : 1, sizeof(*ids));
    int part_of_node[PIN_MAX_NODES];

    memset(ch, 0, sizeof(*ch));
    ch->host = host_idx;
    if (!ids)
        return;
    core_ids(t, ids);
    for (unsigned n = 0; n < PIN_MAX_NODES; n++)
        part_of_node[n] = -1;
    pin_cpuset_or(&held, &plan->claimed, &plan->blocked);
    for (int pu = pin_cpuset_first(&held); pu >= 0; pu = pin_cpuset_next(&held, (unsigned)pu + 1)) {
        const struct pin_pu_info *pi = pin_topo_pu(t, (unsigned)pu);
        struct plc_part *p;
        unsigned local, first = 0;
        if (!pi || pi->node >= PIN_MAX_NODES)
            continue;
        if (part_of_node[pi->node] < 0) {
            if (ch->n_parts == PLC_MAX_VM_NODES)
                continue;
            part_of_node[pi->node] = ch->n_parts;
            ch->parts[ch->n_parts++].node = (uint8_t)pi->node;
        }
        p = &ch->parts[part_of_node[pi->node]];
        for (unsigned n = 0; n < pi->node; n++)
            first += t->nodes[n].n_cores;
        local = ids[pi->core] - first;
        if (!(p->cores[local / 64] & (1ull << (local % 64)))) {
            p->cores[local / 64] |= 1ull << (local % 64);
            p->n_cores++;
        }
    }
    for (unsigned i = 0; i < ch->n_parts; i++)
        ch->parts[i].mem_mib = (uint32_t)(memory_mib / (ch->n_parts ? ch->n_parts : 1));
    free(ids);
}

/*
 * Builds the placement cluster from the hosts whose allocation is known and
 * every VM on them. *ret_map[i] is the placement index of d->hosts[i]
 * (PLC_NONE if left out). Both owned by the caller.
 */
static enum nfv_code cluster_build(struct vm_daemon *d, struct plc_cluster **ret,
                                   uint32_t **ret_map, struct nfv_err *err)
{
    struct plc_cluster *c;
    struct plc_config pcfg;
    uint32_t *map = calloc(d->n_hosts ? d->n_hosts : 1, sizeof(*map));
    enum nfv_code code = NFV_OK;
    uint32_t n = 0;

    /* The healing reserve of issue 4: room to rebuild every group member
     * after the configured failure (healing_reserve; "off" keeps none). */
    plc_config_init(&pcfg);
    pcfg.failure = d->cfg.healing_reserve == VM_RESERVE_RACK  ? PLC_FAILURE_RACK
                   : d->cfg.healing_reserve == VM_RESERVE_OFF ? PLC_FAILURE_NONE
                                                              : PLC_FAILURE_HOST;
    c = plc_cluster_new(&pcfg);
    if (!c || !map) {
        plc_cluster_free(c);
        free(map);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->n_hosts; i++) {
        map[i] = PLC_NONE;
        if (!d->hosts[i]->alloc)
            continue;
        if ((code = add_host(c, d->hosts[i], err)) != NFV_OK)
            goto fail;
        map[i] = n++;
    }
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *vm = d->vms[i];
        struct plc_demand dm;
        struct plc_choice ch;
        uint32_t group = PLC_NONE, hidx = PLC_NONE, vidx;
        for (size_t k = 0; k < d->n_hosts; k++)
            if (d->hosts[k] == vm->host)
                hidx = map[k];
        if (hidx == PLC_NONE)
            continue;
        if (vm->group[0]) {
            int64_t gid;
            enum vm_scope scope = VM_SCOPE_HOST;
            vm_db_group_get(d->db, vm->group, &gid, &scope, NULL);
            group = plc_cluster_find_group(c, vm->group);
            if (group == PLC_NONE &&
                (code = plc_cluster_add_group(c, vm->group, (enum plc_scope)scope, false, &group,
                                              err)) != NFV_OK)
                goto fail;
        }
        demand_of(vm->req, vm->memory_mib, pin_topo_threads_per_core(vm->host->topo), &dm);
        choice_of(vm->host, hidx, vm->plan, vm->memory_mib, &ch);
        dm.n_cores = 0;
        for (unsigned p = 0; p < ch.n_parts; p++)
            dm.n_cores = (uint16_t)(dm.n_cores + ch.parts[p].n_cores);
        if ((code = plc_cluster_add_vm(c, vm->name, group, (enum plc_role)vm->role, &dm, &ch, &vidx,
                                       err)) != NFV_OK) {
            nfv_err_prefix(err, "cluster view of VM '%s'", vm->name);
            goto fail;
        }
    }
    *ret = c;
    *ret_map = map;
    return NFV_OK;
fail:
    plc_cluster_free(c);
    free(map);
    return code;
}

static struct host_rt *host_of_choice(struct vm_daemon *d, const uint32_t *map, uint32_t idx)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (map[i] == idx)
            return d->hosts[i];
    return NULL;
}

size_t vm_place_allocs(const struct pin_plan *plan, struct vm_db_alloc *out, size_t cap)
{
    struct pin_cpuset all;
    size_t n = 0;

    pin_cpuset_or(&all, &plan->claimed, &plan->blocked);
    for (int pu = pin_cpuset_first(&all); pu >= 0 && n < cap;
         pu = pin_cpuset_next(&all, (unsigned)pu + 1)) {
        struct vm_db_alloc *a = &out[n++];
        struct pin_cpuset vc;
        memset(a, 0, sizeof(*a));
        a->pu = (unsigned)pu;
        pin_cpuset_zero(&vc);
        for (unsigned v = 0; v < plan->n_vcpus; v++) {
            struct pin_cpuset s;
            pin_plan_vcpu_cpuset(plan, v, &s);
            if (pin_cpuset_test(&s, (unsigned)pu))
                pin_cpuset_set(&vc, v);
        }
        if (!pin_cpuset_is_empty(&vc)) {
            int v0 = pin_cpuset_first(&vc);
            pin_cpuset_format(&vc, a->vcpus, sizeof(a->vcpus));
            snprintf(a->mode, sizeof(a->mode), "%s",
                     pin_cpu_mode_to_string((enum pin_cpu_mode)plan->vcpu_mode[v0]));
        } else if (pin_cpuset_test(&plan->blocked, (unsigned)pu)) {
            snprintf(a->vcpus, sizeof(a->vcpus), "blocked");
            snprintf(a->mode, sizeof(a->mode), "blocked");
        } else {
            snprintf(a->vcpus, sizeof(a->vcpus), "emulator");
            snprintf(a->mode, sizeof(a->mode), "emulator");
        }
    }
    return n;
}

enum nfv_code vm_place_claim(struct vm_daemon *d, struct vm_place_slot *m, size_t n,
                             const char *group, enum vm_scope scope, bool is_reserve_waived,
                             struct nfv_err *err)
{
    struct plc_cluster *c = NULL;
    uint32_t *map = NULL;
    struct plc_vm_req *vr = calloc(n, sizeof(*vr));
    struct plc_choice *ch = calloc(n, sizeof(*ch));
    struct plc_req r = {0};
    enum nfv_code code;
    size_t i;

    if (!vr || !ch) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    if ((code = cluster_build(d, &c, &map, err)) != NFV_OK)
        goto out;
    for (i = 0; i < n; i++) {
        struct host_rt *fh = m[i].force_host ? vm_d_host_find(d, m[i].force_host) : NULL;
        unsigned tpc = 1;
        if (m[i].force_host && !fh) {
            code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", m[i].force_host);
            goto out;
        }
        if (fh && !fh->alloc) {
            code = NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' has no known topology yet", fh->name);
            goto out;
        }
        /* Core counts depend on SMT; hosts of one cluster usually agree. */
        for (size_t k = 0; k < d->n_hosts; k++)
            if (d->hosts[k]->topo && (!fh || d->hosts[k] == fh)) {
                tpc = pin_topo_threads_per_core(d->hosts[k]->topo);
                break;
            }
        vr[i].name = m[i].name;
        vr[i].role = (enum plc_role)m[i].role;
        vr[i].force_host = m[i].force_host;
        demand_of(m[i].req, m[i].memory_mib, tpc, &vr[i].demand);
    }
    r.group = group;
    r.scope = (enum plc_scope)scope;
    r.n_vms = n;
    r.vms = vr;
    r.is_reserve_waived = is_reserve_waived;
    if ((code = plc_place(c, &r, false, ch, err)) != NFV_OK)
        goto out;
    for (i = 0; i < n; i++) {
        struct host_rt *h = host_of_choice(d, map, ch[i].host);
        struct pin_request *req = pin_request_dup(m[i].req);
        if (!h || !req) {
            pin_request_free(req);
            code = NFV_ERR(err, NFV_E_INTERNAL, "placement chose an unknown host");
            break;
        }
        /* Pin on the node placement chose (unless the operator named PUs). */
        bool is_numbered = false;
        for (unsigned v = 0; v < req->n_vcpus; v++)
            is_numbered |= req->vcpu_mode[v] == PIN_MODE_NUMBERED;
        if (!is_numbered && req->numa == PIN_NUMA_SINGLE && req->numa_node < 0 &&
            ch[i].n_parts == 1)
            req->numa_node = (int)h->topo->nodes[ch[i].parts[0].node].os_index;
        m[i].host = h;
        m[i].plan = pin_plan_new(req->n_vcpus);
        if (!m[i].plan) {
            pin_request_free(req);
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            break;
        }
        code = pin_plan_compute(h->alloc, req, m[i].plan, err);
        pin_request_free(req);
        if (code != NFV_OK) {
            nfv_err_prefix(err, "'%s' on host '%s'", m[i].name, h->name);
            break;
        }
        if ((code = pin_alloc_claim(h->alloc, m[i].plan, m[i].name, err)) != NFV_OK)
            break;
        m[i].is_claimed = true;
    }
    if (code != NFV_OK) {
        for (i = 0; i < n; i++) {
            if (m[i].is_claimed)
                pin_alloc_release(m[i].host->alloc, m[i].name, NULL);
            m[i].is_claimed = false;
        }
    }
out:
    plc_cluster_free(c);
    free(map);
    free(vr);
    free(ch);
    return code;
}

void vm_place_release(struct vm_place_slot *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].is_claimed)
            pin_alloc_release(m[i].host->alloc, m[i].name, NULL);
        m[i].is_claimed = false;
    }
}
