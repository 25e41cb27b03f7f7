/*
 * plc_pin.c - turns a placement choice into pinning/'s vCPU-to-PU plan.
 *
 * The offline side of the one place->pin step (plc/bridge.h): the host is
 * rebuilt from the model as a pinning host - its real topology when the
 * caller has one, else pin_topo's builder in hwloc's synthetic numbering
 * (core k of the host = PUs k*T..k*T+T-1) - with reserved = the host's OS
 * cores (the model keeps them apart, so no VM is scanned) and dedicated =
 * every other PU, on an empty allocation. The demand becomes the usual VNF
 * request (plc_bridge_request_of_demand) and plc_bridge_plan() pins it on
 * exactly the cores placement chose, as vmmgrd does on its live allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/alloc.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "pin/topo.h"
#include "plc/bridge.h"
#include "plc/pin.h"

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

enum nfv_code plc_pin_alloc_of_host(const struct plc_cluster *c, uint32_t host,
                                    struct pin_topo *real, struct pin_alloc **ret_alloc,
                                    struct nfv_err *err)
{
    const struct plc_host *h = plc_cluster_host(c, host);
    unsigned tpc = h && h->threads_per_core ? h->threads_per_core : 1;
    struct pin_topo *topo = NULL;
    struct pin_pools pools;
    uint16_t ids[PIN_MAX_PUS];
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
    for (unsigned n = 0; !real && n < h->n_nodes; n++) {
        const struct plc_node *nd = &h->nodes[n];
        unsigned node = n;
        if ((rc = pin_topo_add_node(topo, n, (uint64_t)nd->mem_mib << 20, &node, err)))
            goto cleanup;
        for (unsigned i = 0; i < nd->n_cores; i++) {
            unsigned core = plc_core_id(h, n, i);
            for (unsigned t = 0; t < tpc; t++)
                if ((rc = pin_topo_add_pu(topo, core * tpc + t, node, n, core, 0, err)))
                    goto cleanup;
        }
    }
    if (!real && ((rc = pin_topo_set_source(topo, "placement model", err)) ||
                  (rc = pin_topo_seal(topo, err))))
        goto cleanup;
    pin_cpuset_zero(&pools.reserved);
    pin_cpuset_zero(&pools.shared);
    pools.dedicated = topo->all;
    plc_bridge_core_ids(topo, ids);
    for (unsigned k = 0; k < topo->n_cores; k++) {
        unsigned id = ids[k], n = topo->cores[k].node;
        if (n >= h->n_nodes || !core_is_set(h->nodes[n].os_cores, id - h->nodes[n].first_core))
            continue;
        for (unsigned t = 0; t < topo->cores[k].n_pus; t++) {
            pin_cpuset_set(&pools.reserved, topo->cores[k].pus[t]);
            pin_cpuset_clr(&pools.dedicated, topo->cores[k].pus[t]);
        }
    }
    rc = pin_alloc_new(topo, &pools, ret_alloc, err);
cleanup:
    pin_topo_unref(topo);
    return rc;
}

enum nfv_code plc_pin_plan_on(const struct plc_cluster *c, struct pin_topo *real,
                              const struct plc_demand *d, const struct plc_choice *ch,
                              struct pin_plan **ret_plan, struct nfv_err *err)
{
    struct pin_alloc *alloc = NULL;
    struct pin_request *req = NULL;
    struct pin_plan *plan = NULL;
    enum nfv_code rc;

    if ((rc = plc_pin_alloc_of_host(c, ch->host, real, &alloc, err)) ||
        (rc = plc_bridge_request_of_demand(pin_alloc_topo(alloc), d, ch,
                                           !pin_cpuset_is_empty(&pin_alloc_pools(alloc)->reserved),
                                           &req, err)))
        goto cleanup;
    plan = pin_plan_new(req->n_vcpus);
    if (!plan) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = plc_bridge_plan(alloc, ch, req, plan, err)))
        goto cleanup;
    *ret_plan = plan;
    plan = NULL;
cleanup:
    pin_plan_free(plan);
    pin_request_free(req);
    pin_alloc_free(alloc);
    return rc;
}
