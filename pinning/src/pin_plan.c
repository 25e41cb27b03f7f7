/*
 * pin_plan.c - the planner: a pin request on a host's allocation -> a plan.
 *
 * Vocabulary. A "pick" is one dedicated PU the VM needs besides its numbered
 * pins: one per shared-group PU, one per exclusive vCPU and one for an
 * isolated emulator thread, in that order. Every pick follows the VM's thread
 * policy:
 *   isolate - the pick takes a whole free core: its first PU is held, the
 *             siblings are blocked (kept empty);
 *   prefer  - picks are packed: whole free cores are filled thread by thread
 *             first, the rest go to the free PUs of partly used cores, then
 *             to any free PU;
 *   require - picks fill whole free cores; unused threads of the last core
 *             are blocked.
 * Capacity of a node in "units" is then whole free cores (isolate), free PUs
 * (prefer) or whole free cores x threads (require); a node fits k picks if
 * its units cover them, and picking inside a node that fits never fails, so
 * the planner checks capacity first and then picks without rollback.
 *
 * Node choice: numbered pins, a forced node (--numa-node) or a required NIC
 * fix the node; a preferred NIC node is tried first; otherwise the best fit
 * (the fitting node with the fewest free PUs, ties to the lower index), which
 * keeps large holes for large VMs. With NUMA spread, picks go one at a time
 * to the node with the most units left (ties to the lower index).
 *
 * Everything works on 128-byte bitmaps held on the stack and writes only into
 * the caller's plan: no allocation, no clock, deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin_priv.h"

struct planner {
    const struct pin_alloc *a;
    const struct pin_topo *t;
    const struct pin_request *req;
    struct pin_plan *plan;
    struct pin_cpuset work; /* free PUs still available to this plan */
    unsigned n_shared_pus;  /* shared-group picks */
    unsigned n_exclusive;
    unsigned n_emu;   /* 0 or 1 */
    unsigned n_picks; /* total picks */
    unsigned next_pick;
    unsigned next_excl_vcpu; /* cursor for assigning exclusive picks */
    int first_shared_vcpu;
    struct pin_cpuset emu_pick;
};

/* "vcpu 3" / "emulator" for pick @i (error path only). */
static void pick_label(const struct planner *p, unsigned i, char *buf, size_t size)
{
    if (i < p->n_shared_pus) {
        snprintf(buf, size, "vcpu %d", p->first_shared_vcpu);
        return;
    }
    i -= p->n_shared_pus;
    if (i < p->n_exclusive) {
        for (unsigned v = 0; v < p->req->n_vcpus; v++)
            if (p->req->vcpu_mode[v] == PIN_MODE_EXCLUSIVE && i-- == 0) {
                snprintf(buf, size, "vcpu %u", v);
                return;
            }
    }
    snprintf(buf, size, "emulator");
}

/* Records the next pick on @pu. */
static void take(struct planner *p, unsigned pu)
{
    unsigned i = p->next_pick++;

    pin_cpuset_clr(&p->work, pu);
    pin_cpuset_set(&p->plan->claimed, pu);
    if (i < p->n_shared_pus) {
        pin_cpuset_set(&p->plan->shared, pu);
        return;
    }
    if (i < p->n_shared_pus + p->n_exclusive) {
        unsigned v = p->next_excl_vcpu;
        while (p->req->vcpu_mode[v] != PIN_MODE_EXCLUSIVE)
            v++;
        p->plan->vcpu_pu[v] = (int16_t)pu;
        p->next_excl_vcpu = v + 1;
        return;
    }
    pin_cpuset_set(&p->emu_pick, pu);
}

static void block(struct planner *p, unsigned pu)
{
    pin_cpuset_clr(&p->work, pu);
    pin_cpuset_set(&p->plan->blocked, pu);
}

/* Capacity of logical node @n in units for the request's thread policy. */
static unsigned node_units(const struct planner *p, unsigned n)
{
    const struct pin_alloc *a = p->a;
    unsigned whole = 0;

    if (p->req->thread_policy == PIN_THREAD_PREFER) {
        struct pin_cpuset tmp;
        pin_cpuset_and(&tmp, &p->work, &p->t->nodes[n].pus);
        return pin_cpuset_count(&tmp);
    }
    for (unsigned c = a->nodes[n].core_first; c < a->nodes[n].core_end; c++)
        if (pin_core_is_whole(p->t, c, &p->work))
            whole++;
    if (p->req->thread_policy == PIN_THREAD_REQUIRE)
        return whole * pin_topo_threads_per_core(p->t);
    return whole;
}

/* Units needed for @k picks (require rounds up to whole cores). */
static unsigned units_needed(const struct planner *p, unsigned k)
{
    if (p->req->thread_policy == PIN_THREAD_REQUIRE) {
        unsigned tpc = pin_topo_threads_per_core(p->t);
        return (k + tpc - 1) / tpc * tpc;
    }
    return k;
}

/* Makes @k picks on logical node @n; the caller checked that they fit. */
static void pick_in_node(struct planner *p, unsigned n, unsigned k)
{
    const struct pin_topo *t = p->t;
    unsigned first = p->a->nodes[n].core_first, end = p->a->nodes[n].core_end;

    switch (p->req->thread_policy) {
    case PIN_THREAD_ISOLATE:
        for (unsigned c = first; c < end && k; c++) {
            const struct pin_core_info *core = &t->cores[c];
            if (!pin_core_is_whole(t, c, &p->work))
                continue;
            take(p, core->pus[0]);
            for (unsigned s = 1; s < core->n_pus; s++)
                block(p, core->pus[s]);
            k--;
        }
        break;
    case PIN_THREAD_REQUIRE:
        for (unsigned c = first; c < end && k; c++) {
            const struct pin_core_info *core = &t->cores[c];
            if (!pin_core_is_whole(t, c, &p->work))
                continue;
            for (unsigned s = 0; s < core->n_pus; s++) {
                if (k) {
                    take(p, core->pus[s]);
                    k--;
                } else {
                    block(p, core->pus[s]);
                }
            }
        }
        break;
    default: /* prefer: whole cores thread by thread, then partial cores, then any */
        for (unsigned c = first; c < end && k; c++) {
            const struct pin_core_info *core = &t->cores[c];
            if (k < core->n_pus || !pin_core_is_whole(t, c, &p->work))
                continue;
            for (unsigned s = 0; s < core->n_pus; s++)
                take(p, core->pus[s]);
            k -= core->n_pus;
        }
        for (int pass = 0; pass < 2 && k; pass++)
            for (unsigned c = first; c < end && k; c++) {
                const struct pin_core_info *core = &t->cores[c];
                if (pass == 0 && pin_core_is_whole(t, c, &p->work))
                    continue; /* partial cores first */
                for (unsigned s = 0; s < core->n_pus && k; s++)
                    if (pin_cpuset_test(&p->work, core->pus[s])) {
                        take(p, core->pus[s]);
                        k--;
                    }
            }
        break;
    }
}

static const char *unit_name(const struct planner *p, unsigned count)
{
    if (p->req->thread_policy == PIN_THREAD_PREFER)
        return count == 1 ? "PU" : "PUs";
    return count == 1 ? "core" : "cores";
}

/* Free units of the best node other than @skip (-1 = none), into *ret_node. */
static unsigned best_other(const struct planner *p, int skip, unsigned *ret_node)
{
    unsigned best = 0;

    *ret_node = 0;
    for (unsigned n = 0; n < p->t->n_nodes; n++) {
        unsigned u;
        if ((int)n == skip)
            continue;
        u = node_units(p, n);
        if (u > best) {
            best = u;
            *ret_node = n;
        }
    }
    return best;
}

/* Does node @n have the request's hugepage memory free? Nodes whose
 * hugepages the topology does not know pass. */
static bool hp_fits(const struct planner *p, unsigned n)
{
    uint64_t free_kib;

    if (!p->req->hugepage_kib || !p->req->mem_mib)
        return true;
    free_kib = pin_alloc_node_hugepages_free_kib(p->a, n, p->req->hugepage_kib);
    return free_kib == UINT64_MAX || free_kib >= p->req->mem_mib * 1024;
}

static enum nfv_code hp_error(const struct planner *p, int node, struct nfv_err *err)
{
    uint64_t best = 0;
    unsigned best_node = 0;

    if (node >= 0) {
        uint64_t f = pin_alloc_node_hugepages_free_kib(p->a, (unsigned)node, p->req->hugepage_kib);
        return NFV_ERR(err, NFV_E_NOCAP,
                       "memory: numa node %u has %llu MiB free in %llu KiB hugepages, need %llu "
                       "MiB",
                       p->t->nodes[node].os_index, (unsigned long long)(f / 1024),
                       (unsigned long long)p->req->hugepage_kib,
                       (unsigned long long)p->req->mem_mib);
    }
    for (unsigned n = 0; n < p->t->n_nodes; n++) {
        uint64_t f = pin_alloc_node_hugepages_free_kib(p->a, n, p->req->hugepage_kib);
        if (f != UINT64_MAX && f > best) {
            best = f;
            best_node = n;
        }
    }
    return NFV_ERR(err, NFV_E_NOCAP,
                   "memory: no numa node with room for the vCPUs has %llu MiB free in %llu KiB "
                   "hugepages (most: %llu MiB on node %u)",
                   (unsigned long long)p->req->mem_mib, (unsigned long long)p->req->hugepage_kib,
                   (unsigned long long)(best / 1024), p->t->nodes[best_node].os_index);
}

/* NUMA single: all picks on one node. @forced is a logical node or -1;
 * @first is a node to try first (preferred NIC) or -1. */
static enum nfv_code plan_single(struct planner *p, int forced, int first, const char *why,
                                 struct nfv_err *err)
{
    unsigned need = units_needed(p, p->n_picks);
    bool is_hp_short = false; /* a node had room for the vCPUs but not the memory */
    int chosen = -1;
    char label[32];

    if (forced >= 0) {
        unsigned have = node_units(p, (unsigned)forced), other_node;
        if (have >= need) {
            if (!hp_fits(p, (unsigned)forced))
                return hp_error(p, forced, err);
            pick_in_node(p, (unsigned)forced, p->n_picks);
            return NFV_OK;
        }
        unsigned other = best_other(p, forced, &other_node);
        /* the first pick that does not fit */
        pick_label(p, have, label, sizeof(label));
        if (p->t->n_nodes > 1)
            return NFV_ERR(err, NFV_E_NOCAP,
                           "%s: no free %s on numa node %u%s (%u free on node %u; need %u, "
                           "%u free)",
                           label, unit_name(p, 1), p->t->nodes[forced].os_index, why, other,
                           p->t->nodes[other_node].os_index, need, have);
        return NFV_ERR(err, NFV_E_NOCAP, "%s: no free %s on numa node %u%s (need %u, %u free)",
                       label, unit_name(p, 1), p->t->nodes[forced].os_index, why, need, have);
    }
    if (first >= 0 && node_units(p, (unsigned)first) >= need && hp_fits(p, (unsigned)first))
        chosen = first;
    if (chosen < 0) {
        unsigned best_free = UINT32_MAX;
        for (unsigned n = 0; n < p->t->n_nodes; n++) {
            if (node_units(p, n) < need)
                continue;
            if (!hp_fits(p, n)) {
                is_hp_short = true;
                continue;
            }
            if (p->a->nodes[n].counts.n_free_pus < best_free) {
                best_free = p->a->nodes[n].counts.n_free_pus;
                chosen = (int)n;
            }
        }
    }
    if (chosen < 0 && is_hp_short)
        return hp_error(p, -1, err);
    if (chosen < 0) {
        unsigned best_node, best = best_other(p, -1, &best_node);
        pick_label(p, best, label, sizeof(label));
        return NFV_ERR(err, NFV_E_NOCAP,
                       "%s: no numa node has %u free %s for thread policy '%s' (most: %u on "
                       "node %u)",
                       label, need, unit_name(p, need),
                       pin_thread_policy_to_string(p->req->thread_policy), best,
                       p->t->nodes[best_node].os_index);
    }
    pick_in_node(p, (unsigned)chosen, p->n_picks);
    return NFV_OK;
}

/* NUMA spread: picks one at a time (require: one core at a time) to the
 * node with the most units left. */
static enum nfv_code plan_spread(struct planner *p, struct nfv_err *err)
{
    unsigned units[PIN_MAX_NODES], count[PIN_MAX_NODES];
    unsigned step =
        p->req->thread_policy == PIN_THREAD_REQUIRE ? pin_topo_threads_per_core(p->t) : 1;
    unsigned left = p->n_picks, total = 0;
    char label[32];

    for (unsigned n = 0; n < p->t->n_nodes; n++) {
        units[n] = node_units(p, n);
        count[n] = 0;
        total += units[n];
    }
    while (left) {
        unsigned best = 0, chunk = left < step ? left : step;
        for (unsigned n = 1; n < p->t->n_nodes; n++)
            if (units[n] > units[best])
                best = n;
        if (units[best] < units_needed(p, chunk)) {
            pick_label(p, p->n_picks - left, label, sizeof(label));
            return NFV_ERR(err, NFV_E_NOCAP,
                           "%s: not enough free %s on the host for thread policy '%s' "
                           "(need %u, %u free)",
                           label, unit_name(p, 2),
                           pin_thread_policy_to_string(p->req->thread_policy),
                           units_needed(p, p->n_picks), total);
        }
        units[best] -= units_needed(p, chunk);
        count[best] += chunk;
        left -= chunk;
    }
    for (unsigned n = 0; n < p->t->n_nodes; n++)
        if (count[n])
            pick_in_node(p, n, count[n]);
    return NFV_OK;
}

/* Checks the numbered pins against the host and takes them. Sets
 * *ret_node_mask to the logical nodes they are on. */
static enum nfv_code take_numbered(struct planner *p, uint64_t *ret_node_mask, struct nfv_err *err)
{
    const struct pin_request *req = p->req;
    uint64_t mask = 0;

    for (unsigned v = 0; v < req->n_vcpus; v++) {
        const struct pin_pu_info *info;
        int pu = req->vcpu_pu[v];

        if (req->vcpu_mode[v] != PIN_MODE_NUMBERED)
            continue;
        info = pu >= 0 ? pin_topo_pu(p->t, (unsigned)pu) : NULL;
        if (!info)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'cpu-map': vcpu %u: PU %d is not on this host (PUs 0-%u)", v, pu,
                           p->t->max_pu - 1);
        if (!pin_cpuset_test(&p->a->pools.dedicated, (unsigned)pu))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'cpu-map': vcpu %u: PU %d is not in the dedicated pool", v, pu);
        if (!pin_cpuset_test(&p->a->free, (unsigned)pu)) {
            const char *owner = "?";
            int ov = 0;
            pin_alloc_pu_owner(p->a, (unsigned)pu, &owner, &ov);
            if (ov == PIN_OWNER_BLOCKED)
                return NFV_ERR(err, NFV_E_EXIST, "vcpu %u: PU %d is kept empty for '%s'", v, pu,
                               owner);
            if (ov == PIN_OWNER_EMULATOR)
                return NFV_ERR(err, NFV_E_EXIST, "vcpu %u: PU %d is held by '%s' (emulator)", v, pu,
                               owner);
            return NFV_ERR(err, NFV_E_EXIST, "vcpu %u: PU %d is held by '%s' (vcpu %d)", v, pu,
                           owner, ov);
        }
        pin_cpuset_clr(&p->work, (unsigned)pu);
        pin_cpuset_set(&p->plan->claimed, (unsigned)pu);
        p->plan->vcpu_pu[v] = (int16_t)pu;
        mask |= UINT64_C(1) << info->node;
    }
    *ret_node_mask = mask;
    return NFV_OK;
}

enum nfv_code pin_plan_compute(const struct pin_alloc *alloc, const struct pin_request *req,
                               struct pin_plan *ret_plan, struct nfv_err *err)
{
    return pin_plan_compute_within(alloc, req, NULL, ret_plan, err);
}

enum pin_emulator_policy pin_plan_emulator_resolve(const struct pin_alloc *alloc,
                                                   enum pin_emulator_policy emulator)
{
    if (emulator != PIN_EMU_AUTO)
        return emulator;
    return pin_cpuset_is_empty(&alloc->pools.reserved) && pin_cpuset_is_empty(&alloc->pools.shared)
               ? PIN_EMU_VCPUS
               : PIN_EMU_RESERVED;
}

enum nfv_code pin_plan_compute_within(const struct pin_alloc *alloc, const struct pin_request *req,
                                      const struct pin_cpuset *within, struct pin_plan *ret_plan,
                                      struct nfv_err *err)
{
    struct planner p;
    struct pin_plan *plan = ret_plan;
    const struct pin_topo *t = alloc->topo;
    uint64_t numbered_nodes = 0;
    int forced = -1, first = -1;
    char why[PIN_NIC_NAME_SIZE + 32] = "";
    enum pin_emulator_policy emulator;
    enum pin_numa_policy numa = req->numa;
    enum nfv_code rc;

    rc = pin_request_validate(req, err);
    if (rc)
        return rc;
    if (req->n_vcpus > plan->cap_vcpus)
        return NFV_ERR(err, NFV_E_INVAL, "'vcpus': %u is more than the plan holds (%u)",
                       req->n_vcpus, plan->cap_vcpus);

    memset(&p, 0, sizeof(p));
    p.a = alloc;
    p.t = t;
    p.req = req;
    p.plan = plan;
    p.work = alloc->free;
    if (within)
        pin_cpuset_and(&p.work, &p.work, within);
    p.first_shared_vcpu = -1;
    for (unsigned v = 0; v < req->n_vcpus; v++) {
        if (req->vcpu_mode[v] == PIN_MODE_EXCLUSIVE)
            p.n_exclusive++;
        else if (req->vcpu_mode[v] == PIN_MODE_SHARED && p.first_shared_vcpu < 0)
            p.first_shared_vcpu = (int)v;
    }
    p.n_shared_pus = p.first_shared_vcpu >= 0 ? req->n_shared_pus : 0;
    emulator = pin_plan_emulator_resolve(alloc, req->emulator);
    p.n_emu = emulator == PIN_EMU_ISOLATE ? 1 : 0;
    p.n_picks = p.n_shared_pus + p.n_exclusive + p.n_emu;

    plan->n_vcpus = req->n_vcpus;
    memcpy(plan->vcpu_mode, req->vcpu_mode, req->n_vcpus);
    pin_cpuset_zero(&plan->claimed);
    pin_cpuset_zero(&plan->blocked);
    pin_cpuset_zero(&plan->shared);
    pin_cpuset_zero(&plan->emulator);
    pin_cpuset_zero(&plan->iothreads);
    pin_cpuset_zero(&p.emu_pick);

    rc = take_numbered(&p, &numbered_nodes, err);
    if (rc)
        return rc;

    /* Which node(s) may the picks use? */
    if (req->numa_node >= 0) {
        forced = pin_topo_node_by_os(t, (unsigned)req->numa_node);
        if (forced < 0)
            return NFV_ERR(err, NFV_E_INVAL, "'numa-node': node %d is not on this host",
                           req->numa_node);
    }
    if (req->nic[0]) {
        const struct pin_nic_info *nic = pin_topo_nic_find(t, req->nic);
        if (!nic)
            return NFV_ERR(err, NFV_E_INVAL, "'nic': '%s' is not on this host", req->nic);
        if (nic->node < 0 && req->nic_policy != PIN_NIC_PREFERRED)
            return NFV_ERR(err, NFV_E_INVAL, "'nic': '%s' has no known numa node", req->nic);
        if (nic->node >= 0) {
            snprintf(why, sizeof(why), " local to '%s'", req->nic);
            if (req->nic_policy == PIN_NIC_PREFERRED)
                first = nic->node;
            else
                forced = nic->node;
        }
    }
    /* Auto: the numbered PUs say (spread if they span nodes), else single. */
    if (numa == PIN_NUMA_AUTO)
        numa = numbered_nodes & (numbered_nodes - 1) ? PIN_NUMA_SPREAD : PIN_NUMA_SINGLE;
    if (numa == PIN_NUMA_SINGLE && numbered_nodes) {
        int nn = __builtin_ctzll(numbered_nodes);
        if (numbered_nodes & (numbered_nodes - 1))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'cpu-map': numbered PUs span several numa nodes under numa policy "
                           "'single'");
        if (forced >= 0 && forced != nn)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'cpu-map': numbered PUs are on numa node %u, not on node %u%s",
                           t->nodes[nn].os_index, t->nodes[forced].os_index, why);
        if (forced < 0) {
            forced = nn;
            snprintf(why, sizeof(why), " with the numbered PUs");
        }
    }
    if (numa == PIN_NUMA_SPREAD && (req->numa_node >= 0 || req->nic_policy == PIN_NIC_REQUIRED))
        return NFV_ERR(err, NFV_E_INVAL,
                       req->numa == PIN_NUMA_AUTO
                           ? "'cpu-map': numbered PUs span several numa nodes, which conflicts "
                             "with a fixed numa node or required NIC"
                           : "'numa': 'spread' conflicts with a fixed numa node or required NIC");

    if (p.n_picks) {
        rc = numa == PIN_NUMA_SPREAD ? plan_spread(&p, err)
                                     : plan_single(&p, forced, first, why, err);
        if (rc)
            return rc;
    } else if (numa == PIN_NUMA_SINGLE && forced >= 0 && !hp_fits(&p, (unsigned)forced)) {
        return hp_error(&p, forced, err); /* numbered pins only */
    }

    /* Shared vCPUs run on the group's PUs; vcpu_pu holds the first one. */
    for (unsigned v = 0; v < req->n_vcpus; v++)
        if (req->vcpu_mode[v] == PIN_MODE_SHARED)
            plan->vcpu_pu[v] = (int16_t)pin_cpuset_first(&plan->shared);

    switch (emulator) {
    case PIN_EMU_RESERVED:
        if (!pin_cpuset_is_empty(&alloc->pools.reserved))
            plan->emulator = alloc->pools.reserved;
        else if (!pin_cpuset_is_empty(&alloc->pools.shared))
            plan->emulator = alloc->pools.shared;
        else
            return NFV_ERR(err, NFV_E_INVAL,
                           "'emulator': 'reserved' needs host-reserved or shared-pool PUs "
                           "(none configured)");
        break;
    case PIN_EMU_SHARED:
        plan->emulator = plan->shared;
        break;
    case PIN_EMU_VCPUS:
        pin_cpuset_or(&plan->emulator, &plan->claimed, &plan->shared);
        break;
    default:
        plan->emulator = p.emu_pick;
        break;
    }
    plan->emulator_policy = emulator;
    plan->iothreads = plan->emulator;
    plan->n_iothreads = req->n_iothreads;

    plan->node_mask = 0;
    for (int pu = pin_cpuset_first(&plan->claimed); pu >= 0;
         pu = pin_cpuset_next(&plan->claimed, (unsigned)pu + 1))
        plan->node_mask |= UINT64_C(1) << t->nodes[t->pu_by_os[pu].node].os_index;
    plan->numa = numa;
    plan->mem_mib = req->mem_mib;
    plan->hugepage_kib = req->hugepage_kib;
    plan->is_mem_strict = req->is_mem_strict;
    return NFV_OK;
}

struct pin_plan *pin_plan_new(unsigned cap_vcpus)
{
    struct pin_plan *plan;

    if (cap_vcpus < 1 || cap_vcpus > PIN_MAX_VCPUS)
        return NULL;
    plan = calloc(1, sizeof(*plan));
    if (!plan)
        return NULL;
    plan->vcpu_pu = calloc(cap_vcpus, sizeof(*plan->vcpu_pu));
    plan->vcpu_mode = calloc(cap_vcpus, 1);
    if (!plan->vcpu_pu || !plan->vcpu_mode) {
        pin_plan_free(plan);
        return NULL;
    }
    plan->cap_vcpus = cap_vcpus;
    plan->emulator_policy = PIN_EMU_AUTO;
    return plan;
}

void pin_plan_free(struct pin_plan *plan)
{
    if (!plan)
        return;
    free(plan->vcpu_pu);
    free(plan->vcpu_mode);
    free(plan);
}

struct pin_plan *pin_plan_dup(const struct pin_plan *plan)
{
    struct pin_plan *d = pin_plan_new(plan->n_vcpus ? plan->n_vcpus : 1);
    int16_t *pus;
    uint8_t *modes;
    unsigned cap;

    if (!d)
        return NULL;
    pus = d->vcpu_pu;
    modes = d->vcpu_mode;
    cap = d->cap_vcpus;
    *d = *plan;
    d->vcpu_pu = pus;
    d->vcpu_mode = modes;
    d->cap_vcpus = cap;
    memcpy(pus, plan->vcpu_pu, plan->n_vcpus * sizeof(*pus));
    memcpy(modes, plan->vcpu_mode, plan->n_vcpus);
    return d;
}

static json_t *set_json(const struct pin_cpuset *s)
{
    char buf[4096];

    pin_cpuset_format(s, buf, sizeof(buf));
    return json_string(buf);
}

json_t *pin_plan_to_json(const struct pin_plan *plan)
{
    json_t *vcpus = json_array(), *nodes = json_array();

    for (unsigned v = 0; v < plan->n_vcpus; v++)
        json_array_append_new(vcpus, json_pack("{s:i,s:i,s:s}", "vcpu", (int)v, "pu",
                                               (int)plan->vcpu_pu[v], "mode",
                                               pin_cpu_mode_to_string(plan->vcpu_mode[v])));
    for (unsigned n = 0; n < 64; n++)
        if (plan->node_mask & (UINT64_C(1) << n))
            json_array_append_new(nodes, json_integer(n));
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:i,s:o,s:s,s:I,s:I,s:b}", "vcpus", vcpus,
                     "claimed", set_json(&plan->claimed), "blocked", set_json(&plan->blocked),
                     "shared", set_json(&plan->shared), "emulator", set_json(&plan->emulator),
                     "emulator_policy", pin_emulator_policy_to_string(plan->emulator_policy),
                     "iothreads", set_json(&plan->iothreads), "n_iothreads", (int)plan->n_iothreads,
                     "nodes", nodes, "numa", pin_numa_policy_to_string(plan->numa), "memory_mib",
                     (json_int_t)plan->mem_mib, "hugepage_kib", (json_int_t)plan->hugepage_kib,
                     "mem_strict", plan->is_mem_strict);
}

enum nfv_code pin_plan_from_json(const json_t *v, struct pin_plan **ret_plan, struct nfv_err *err)
{
    json_t *vcpus, *nodes, *e;
    const char *claimed, *blocked, *shared, *emu, *io, *numa, *emu_policy = NULL;
    int n_io, strict;
    json_int_t mem, hp;
    json_error_t jerr;
    struct pin_plan *plan;
    size_t i, n;

    /* "emulator_policy" is optional: plans saved before it existed lack it. */
    if (json_unpack_ex(
            (json_t *)v, &jerr, 0, "{s:o,s:s,s:s,s:s,s:s,s?s,s:s,s:i,s:o,s:s,s:I,s:I,s:b}", "vcpus",
            &vcpus, "claimed", &claimed, "blocked", &blocked, "shared", &shared, "emulator", &emu,
            "emulator_policy", &emu_policy, "iothreads", &io, "n_iothreads", &n_io, "nodes", &nodes,
            "numa", &numa, "memory_mib", &mem, "hugepage_kib", &hp, "mem_strict", &strict))
        return NFV_ERR(err, NFV_E_PARSE, "plan: %s", jerr.text);
    if (emu_policy && pin_emulator_policy_from_string(emu_policy) == PIN_EMU__COUNT)
        return NFV_ERR(err, NFV_E_PARSE, "plan: unknown emulator policy '%s'", emu_policy);
    n = json_array_size(vcpus);
    if (!json_is_array(vcpus) || n < 1 || n > PIN_MAX_VCPUS || !json_is_array(nodes))
        return NFV_ERR(err, NFV_E_PARSE, "plan: 'vcpus' must hold 1..%d entries", PIN_MAX_VCPUS);
    plan = pin_plan_new((unsigned)n);
    if (!plan)
        return NFV_ERR(err, NFV_E_NOMEM, "plan: out of memory");
    plan->n_vcpus = (unsigned)n;
    json_array_foreach(vcpus, i, e)
    {
        int vcpu, pu;
        const char *mode;
        enum pin_cpu_mode m;
        if (json_unpack(e, "{s:i,s:i,s:s}", "vcpu", &vcpu, "pu", &pu, "mode", &mode) ||
            vcpu != (int)i || pu < -1 || pu >= PIN_MAX_PUS ||
            (m = pin_cpu_mode_from_string(mode)) == PIN_MODE__COUNT) {
            pin_plan_free(plan);
            return NFV_ERR(err, NFV_E_PARSE, "plan: vcpus[%zu] is malformed", i);
        }
        plan->vcpu_pu[i] = (int16_t)pu;
        plan->vcpu_mode[i] = (uint8_t)m;
    }
    if (pin_cpuset_parse(claimed, PIN_MAX_PUS, true, &plan->claimed, err) ||
        pin_cpuset_parse(blocked, PIN_MAX_PUS, true, &plan->blocked, err) ||
        pin_cpuset_parse(shared, PIN_MAX_PUS, true, &plan->shared, err) ||
        pin_cpuset_parse(emu, PIN_MAX_PUS, true, &plan->emulator, err) ||
        pin_cpuset_parse(io, PIN_MAX_PUS, true, &plan->iothreads, err)) {
        pin_plan_free(plan);
        nfv_err_prefix(err, "plan");
        if (err)
            err->code = NFV_E_PARSE;
        return NFV_E_PARSE;
    }
    plan->node_mask = 0;
    json_array_foreach(nodes, i, e)
    {
        json_int_t nn = json_integer_value(e);
        if (!json_is_integer(e) || nn < 0 || nn >= 64) {
            pin_plan_free(plan);
            return NFV_ERR(err, NFV_E_PARSE, "plan: nodes[%zu] is malformed", i);
        }
        plan->node_mask |= UINT64_C(1) << nn;
    }
    plan->n_iothreads = n_io < 0 ? 0 : (unsigned)n_io;
    plan->numa = pin_numa_policy_from_string(numa);
    if (plan->numa == PIN_NUMA__COUNT) {
        pin_plan_free(plan);
        return NFV_ERR(err, NFV_E_PARSE, "plan: unknown numa policy '%s'", numa);
    }
    plan->emulator_policy = emu_policy ? pin_emulator_policy_from_string(emu_policy) : PIN_EMU_AUTO;
    plan->mem_mib = (uint64_t)mem;
    plan->hugepage_kib = (uint64_t)hp;
    plan->is_mem_strict = strict;
    *ret_plan = plan;
    return NFV_OK;
}

void pin_plan_vcpu_cpuset(const struct pin_plan *plan, unsigned vcpu, struct pin_cpuset *ret)
{
    pin_cpuset_zero(ret);
    if (vcpu >= plan->n_vcpus)
        return;
    if (plan->vcpu_mode[vcpu] == PIN_MODE_SHARED)
        *ret = plan->shared;
    else if (plan->vcpu_pu[vcpu] >= 0)
        pin_cpuset_set(ret, (unsigned)plan->vcpu_pu[vcpu]);
}

unsigned pin_plan_diff(const struct pin_plan *plan, const struct pin_cpuset *have_vcpus,
                       unsigned n_have, const struct pin_cpuset *have_emulator,
                       struct pin_drift_item *ret_items, unsigned cap_items)
{
    unsigned n = 0;

    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        struct pin_cpuset want, have;

        pin_plan_vcpu_cpuset(plan, v, &want);
        if (v < n_have)
            have = have_vcpus[v];
        else
            pin_cpuset_zero(&have);
        if (v < n_have && pin_cpuset_equal(&want, &have))
            continue;
        if (n < cap_items) {
            ret_items[n].vcpu = (int)v;
            ret_items[n].want = want;
            ret_items[n].have = have;
        }
        n++;
    }
    if (have_emulator && !pin_cpuset_is_empty(&plan->emulator) &&
        !pin_cpuset_equal(&plan->emulator, have_emulator)) {
        if (n < cap_items) {
            ret_items[n].vcpu = PIN_DRIFT_EMULATOR;
            ret_items[n].want = plan->emulator;
            ret_items[n].have = *have_emulator;
        }
        n++;
    }
    return n;
}

size_t pin_drift_format(const struct pin_drift_item *items, unsigned n_items, char *buf,
                        size_t buf_size)
{
    size_t len = 0;

    if (buf_size)
        buf[0] = '\0';
    for (unsigned i = 0; i < n_items; i++) {
        char want[256], have[256], who[32];
        int n;

        pin_cpuset_format(&items[i].want, want, sizeof(want));
        pin_cpuset_format(&items[i].have, have, sizeof(have));
        if (items[i].vcpu == PIN_DRIFT_EMULATOR)
            snprintf(who, sizeof(who), "emulator");
        else
            snprintf(who, sizeof(who), "vcpu %d", items[i].vcpu);
        n = snprintf(len < buf_size ? buf + len : NULL, len < buf_size ? buf_size - len : 0,
                     "%s%s: want %s, have %s", i ? "; " : "", who, want, have[0] ? have : "none");
        if (n > 0)
            len += (size_t)n;
    }
    return len;
}
