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

#include "nfv/log.h"

#include "plc/bridge.h"
#include "plc/cluster.h"
#include "plc/engine.h"
#include "vm_place.h"
#include "vm/vm_topo.h"

#define MOD "place"

/* ---- the cluster view, through placement's bridge (plc/bridge.h) ---- */

static enum plc_host_state plc_state_of(const struct host_rt *h)
{
    /* Healing: a suspect, failed or fenced host takes nothing new. */
    if (h->heal.state != HEAL_UP)
        return PLC_HOST_DOWN;
    switch (vm_host_state_effective(h->admin, h->conn != NULL)) {
    case VM_HOST_UP:
        return PLC_HOST_UP;
    case VM_HOST_MAINTENANCE:
        return PLC_HOST_MAINTENANCE;
    default:
        return PLC_HOST_DOWN;
    }
}

static enum nfv_code add_host(struct plc_cluster *c, const struct host_rt *h, uint32_t *ret_idx,
                              struct nfv_err *err)
{
    struct plc_bridge_host bh;
    enum nfv_code code;

    if ((code = plc_bridge_host_spec(h->alloc, h->name, plc_state_of(h), VM_TOPO_DEFAULT_NODE_MIB,
                                     &bh, err)) != NFV_OK)
        return code;
    bh.spec.labels[PLC_SCOPE_RACK] = h->labels[0][0] ? h->labels[0] : NULL;
    bh.spec.labels[PLC_SCOPE_ZONE] = h->labels[1][0] ? h->labels[1] : NULL;
    bh.spec.labels[PLC_SCOPE_POWER] = h->labels[2][0] ? h->labels[2] : NULL;
    return plc_cluster_add_host(c, &bh.spec, ret_idx, err);
}

static struct host_rt *host_of_idx(struct vm_daemon *d, uint32_t idx)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->plc_idx == idx)
            return d->hosts[i];
    return NULL;
}

enum nfv_code vm_place_init(struct vm_daemon *d, struct nfv_err *err)
{
    struct plc_config pcfg;

    /* The healing reserve of issue 4: room to rebuild every group member
     * after the configured failure (healing_reserve; "off" keeps none). */
    plc_config_init(&pcfg);
    pcfg.failure = d->cfg.healing_reserve == VM_RESERVE_RACK  ? PLC_FAILURE_RACK
                   : d->cfg.healing_reserve == VM_RESERVE_OFF ? PLC_FAILURE_NONE
                                                              : PLC_FAILURE_HOST;
    d->cluster = plc_cluster_new(&pcfg);
    return d->cluster ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

void vm_place_fini(struct vm_daemon *d)
{
    plc_cluster_free(d->cluster);
    d->cluster = NULL;
}

void vm_place_vm_added(struct vm_daemon *d, struct vm_rt *vm)
{
    struct nfv_err e = {0};
    uint32_t group = PLC_NONE;

    vm->plc_idx = PLC_NONE;
    if (!d->cluster || vm->host->plc_idx == PLC_NONE || !vm->host->alloc)
        return;
    if (vm->group[0]) {
        group = plc_cluster_find_group(d->cluster, vm->group);
        if (group == PLC_NONE) {
            int64_t gid;
            enum vm_scope scope = VM_SCOPE_HOST;
            vm_db_group_get(d->db, vm->group, &gid, &scope, NULL);
            if (plc_cluster_add_group(d->cluster, vm->group, (enum plc_scope)scope, false, &group,
                                      &e) != NFV_OK) {
                NFV_LOG_ERR(MOD, "placement view of group '%s': %s", vm->group, e.msg);
                return;
            }
        }
    }
    if (plc_bridge_add_vm(d->cluster, vm->host->plc_idx, vm->host->alloc, vm->name, group,
                          (enum plc_role)vm->role, vm->req, vm->plan, vm->memory_mib, &vm->plc_idx,
                          &e) != NFV_OK) {
        vm->plc_idx = PLC_NONE;
        NFV_LOG_ERR(MOD, "placement view of VM '%s': %s", vm->name, e.msg);
    }
}

void vm_place_vm_removed(struct vm_daemon *d, struct vm_rt *vm)
{
    if (d->cluster && vm->plc_idx != PLC_NONE)
        plc_cluster_remove_vm(d->cluster, vm->plc_idx);
    vm->plc_idx = PLC_NONE;
}

void vm_place_host_sync(struct vm_daemon *d, struct host_rt *h)
{
    struct nfv_err e = {0};

    if (!d->cluster || !h->alloc || !h->id)
        return;
    if (h->plc_idx != PLC_NONE) {
        plc_cluster_set_state(d->cluster, h->plc_idx, plc_state_of(h), NULL);
        return;
    }
    if (add_host(d->cluster, h, &h->plc_idx, &e) != NFV_OK) {
        h->plc_idx = PLC_NONE;
        NFV_LOG_ERR(MOD, "placement view of host '%s': %s", h->name, e.msg);
        return;
    }
    /* VMs loaded before the host's topology was known (a live host that
     * was unreachable at start-up) join now: once per host. */
    for (size_t i = 0; i < d->n_vms; i++)
        if (d->vms[i]->host == h && d->vms[i]->plc_idx == PLC_NONE)
            vm_place_vm_added(d, d->vms[i]);
}

void vm_place_host_removed(struct vm_daemon *d, struct host_rt *h)
{
    if (d->cluster && h->plc_idx != PLC_NONE)
        plc_cluster_remove_host(d->cluster, h->plc_idx, NULL);
    h->plc_idx = PLC_NONE;
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
    struct plc_cluster *c = d->cluster;
    struct plc_vm_req *vr = calloc(n, sizeof(*vr));
    struct plc_choice *ch = calloc(n, sizeof(*ch));
    struct plc_req r = {0};
    enum nfv_code code;
    size_t i;

    if (!vr || !ch) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    if (!c) {
        code = NFV_ERR(err, NFV_E_INTERNAL, "no placement model");
        goto out;
    }
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
        /* A numbered PU another VM holds is a conflict (exit 4) that names
         * the holder, not a "no host fits". */
        for (unsigned v = 0; fh && v < m[i].req->n_vcpus; v++) {
            const char *owner = NULL;
            char vc[64];
            int pu = m[i].req->vcpu_pu[v];
            if (m[i].req->vcpu_mode[v] != PIN_MODE_NUMBERED || pu < 0)
                continue;
            pin_alloc_pu_vcpus_format(fh->alloc, (unsigned)pu, &owner, vc, sizeof(vc));
            if (owner) {
                code = NFV_ERR(err, NFV_E_EXIST, "'cpu_map': PU %d of host '%s' is held by '%s'",
                               pu, fh->name, owner);
                goto out;
            }
        }
        if ((code = plc_bridge_demand(m[i].req, m[i].memory_mib, fh ? fh->topo : NULL, tpc,
                                      &vr[i].demand, err)) != NFV_OK)
            goto out;
    }
    r.group = group;
    r.scope = (enum plc_scope)scope;
    r.n_vms = n;
    r.vms = vr;
    r.is_reserve_waived = is_reserve_waived;
    if ((code = plc_place(c, &r, false, ch, err)) != NFV_OK)
        goto out;
    for (i = 0; i < n; i++) {
        struct host_rt *h = host_of_idx(d, ch[i].host);
        struct pin_request *req = pin_request_dup(m[i].req);
        if (!h || !req) {
            pin_request_free(req);
            code = NFV_ERR(err, NFV_E_INTERNAL, "placement chose an unknown host");
            break;
        }
        /* Pin on exactly the cores placement chose, as `vmmgrctl place`
         * does (numbered vCPUs keep the PUs they name). */
        m[i].host = h;
        m[i].plan = pin_plan_new(req->n_vcpus);
        if (!m[i].plan) {
            pin_request_free(req);
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            break;
        }
        code = plc_bridge_plan(h->alloc, &ch[i], req, m[i].plan, err);
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
            pin_plan_free(m[i].plan);
            m[i].plan = NULL;
        }
    }
out:
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
