/*
 * plc_pin.c - turns a placement choice into pinning/'s vCPU-to-PU plan.
 *
 * The host topology is rebuilt from the model with pin_topo's builder in
 * hwloc's synthetic numbering (core k of the host = PUs k*T..k*T+T-1), the
 * pools are: reserved = the host's OS cores (those never free in the model
 * and held by no VM), dedicated = the PUs of the cores placement chose, and
 * the request is the usual VNF layout (shared vCPUs first, then exclusive,
 * numbered last). The plan is computed on an empty allocation: other VMs'
 * cores are simply outside the dedicated pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/alloc.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "pin/topo.h"
#include "plc/pin.h"
#include "plc_priv.h"

static bool core_is_set(const uint64_t *bits, unsigned i)
{
    return (bits[i / 64] >> (i % 64)) & 1u;
}

enum nfv_code plc_pin_plan(const struct plc_cluster *c, const struct plc_demand *d,
                           const struct plc_choice *ch, struct pin_plan **ret_plan,
                           struct nfv_err *err)
{
    return plc_pin_plan_on(c, NULL, d, ch, ret_plan, err);
}

/* PUs of host-wide core @core: the real topology's, or synthetic numbering. */
static void core_pus(const struct pin_topo *real, unsigned tpc, unsigned core,
                     struct pin_cpuset *set)
{
    if (real) {
        for (unsigned t = 0; t < real->cores[core].n_pus; t++)
            pin_cpuset_set(set, real->cores[core].pus[t]);
        return;
    }
    for (unsigned t = 0; t < tpc; t++)
        pin_cpuset_set(set, core * tpc + t);
}

enum nfv_code plc_pin_plan_on(const struct plc_cluster *c, struct pin_topo *real,
                              const struct plc_demand *d, const struct plc_choice *ch,
                              struct pin_plan **ret_plan, struct nfv_err *err)
{
    const struct plc_host *h = plc_cluster_host(c, ch->host);
    unsigned tpc = h && h->threads_per_core ? h->threads_per_core : 1;
    struct pin_topo *topo = NULL;
    struct pin_alloc *alloc = NULL;
    struct pin_request *req = NULL;
    struct pin_plan *plan = NULL;
    struct pin_pools pools;
    enum nfv_code rc = NFV_OK;

    if (!h)
        return NFV_ERR(err, NFV_E_INVAL, "plan: no host");
    if (real && real->n_cores != h->n_cores)
        return NFV_ERR(err, NFV_E_INVAL, "host '%s': topology has %u cores, the model %u", h->name,
                       real->n_cores, h->n_cores);
    if (!real && (tpc > PIN_MAX_SMT || (unsigned)h->n_cores * tpc > PIN_MAX_PUS))
        return NFV_ERR(err, NFV_E_UNSUPPORTED, "host '%s': too many PUs for the pin model",
                       h->name);
    topo = real ? pin_topo_ref(real) : pin_topo_new();
    if (!topo)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    /* Which cores VMs hold, to tell the host's OS cores apart. */
    uint64_t held[PLC_MAX_NODES][PLC_NODE_WORDS];
    memset(held, 0, sizeof(held));
    for (uint32_t v = 0; v < plc_cluster_n_vm_slots(c); v++) {
        const struct plc_vm *vm = plc_cluster_vm(c, v);
        if (!vm->name || vm->at.host != ch->host)
            continue;
        for (unsigned p = 0; p < vm->at.n_parts; p++)
            for (unsigned w = 0; w < PLC_NODE_WORDS; w++)
                held[vm->at.parts[p].node][w] |= vm->at.parts[p].cores[w];
    }
    pin_cpuset_zero(&pools.reserved);
    pin_cpuset_zero(&pools.dedicated);
    pin_cpuset_zero(&pools.shared);
    for (unsigned n = 0; n < h->n_nodes; n++) {
        const struct plc_node *nd = &h->nodes[n];
        unsigned node = n;
        if (!real && (rc = pin_topo_add_node(topo, n, (uint64_t)nd->mem_mib << 20, &node, err)))
            goto cleanup;
        for (unsigned i = 0; i < nd->n_cores; i++) {
            unsigned core = plc_core_id(h, n, i);
            bool is_os = !core_is_set(nd->free_cores, i) && !core_is_set(held[n], i);
            for (unsigned t = 0; !real && t < tpc; t++)
                if ((rc = pin_topo_add_pu(topo, core * tpc + t, node, n, core, 0, err)))
                    goto cleanup;
            if (is_os)
                core_pus(real, tpc, core, &pools.reserved);
        }
    }
    if (!real && ((rc = pin_topo_set_source(topo, "placement model", err)) ||
                  (rc = pin_topo_seal(topo, err))))
        goto cleanup;
    for (unsigned p = 0; p < ch->n_parts; p++)
        for (unsigned i = 0; i < PLC_NODE_WORDS * 64; i++)
            if (core_is_set(ch->parts[p].cores, i))
                core_pus(real, tpc, plc_core_id(h, ch->parts[p].node, i), &pools.dedicated);
    if ((rc = pin_alloc_new(topo, &pools, &alloc, err)))
        goto cleanup;
    /* The VM: shared vCPUs first (vCPU 0 is the usual control vCPU), then
     * exclusive ones, numbered last (on the first PU of the named core). */
    unsigned n_shared = d->n_shared_vcpus, n_num = d->n_numbered;
    unsigned n_vcpus = d->n_vcpus ? d->n_vcpus : d->n_cores;
    if ((rc = pin_request_new(n_vcpus, PIN_MODE_EXCLUSIVE, &req, err)))
        goto cleanup;
    if (n_shared) {
        char list[32];
        snprintf(list, sizeof(list), "0-%u", n_shared - 1);
        if ((rc = pin_request_set_mode_list(req, list, PIN_MODE_SHARED, err)))
            goto cleanup;
        req->n_shared_pus = d->n_shared_cores ? d->n_shared_cores : 1;
    }
    for (unsigned k = 0; k < n_num; k++) {
        char map[32];
        struct pin_cpuset one;
        pin_cpuset_zero(&one);
        core_pus(real, tpc, d->numbered[k], &one);
        snprintf(map, sizeof(map), "%u:%d", n_vcpus - n_num + k, pin_cpuset_first(&one));
        if ((rc = pin_request_set_cpu_map(req, map, PIN_MAX_PUS, err)))
            goto cleanup;
    }
    req->thread_policy = PIN_THREAD_ISOLATE;
    req->numa = ch->n_parts > 1 ? PIN_NUMA_SPREAD : PIN_NUMA_SINGLE;
    req->mem_mib = d->mem_mib + d->hp_mib;
    if (!pin_cpuset_is_empty(&pools.reserved)) {
        req->emulator = PIN_EMU_RESERVED;
    } else if (n_shared) {
        req->emulator = PIN_EMU_SHARED;
    } else {
        rc = NFV_ERR(err, NFV_E_UNSUPPORTED,
                     "host '%s' has no reserved core and the VM no shared vCPU for its "
                     "emulator threads",
                     h->name);
        goto cleanup;
    }
    plan = pin_plan_new(n_vcpus);
    if (!plan) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = pin_request_validate(req, err)) || (rc = pin_plan_compute(alloc, req, plan, err)))
        goto cleanup;
    *ret_plan = plan;
    plan = NULL;
cleanup:
    pin_plan_free(plan);
    pin_request_free(req);
    pin_alloc_free(alloc);
    pin_topo_unref(topo);
    return rc;
}
