/*
 * plc/pin.h - from a placement decision to a vCPU-to-PU pin plan.
 *
 * Placement picks the host, the NUMA node(s) and the physical cores of a VM
 * (its capacity model counts whole cores). pinning/'s planner then maps the
 * VM's vCPUs onto the PUs of exactly those cores - exclusive vCPUs one per
 * core with siblings kept empty (thread policy isolate), the shared group on
 * its core, numbered vCPUs on the PU the operator named - by planning on the
 * host's topology with the dedicated pool restricted to the chosen cores.
 *
 * Neighbours: cluster.h/engine.h (the decision), pin/plan.h (the planner).
 * Pure: builds the topology from the model (hwloc-compatible numbering:
 * cores node by node, SMT siblings adjacent) unless the caller passes the
 * host's real one, no I/O. The place->pin step itself is plc_bridge_plan()
 * (bridge.h), shared with vmmgrd.
 */
#ifndef PLC_PIN_H
#define PLC_PIN_H

#include "pin/plan.h"
#include "plc/cluster.h"

/*
 * Plans the vCPUs of a VM with demand @d placed at @ch. Returns an owned
 * plan in *ret_plan. Emulator threads go to the host's reserved cores when
 * it has some, else onto the VM's shared core when it has shared vCPUs,
 * else they float over the VM's own PUs (plc_bridge_request_of_demand).
 * Errors: the planner's (NFV_E_NOCAP with the failing vCPU named),
 * NFV_E_NOMEM.
 */
enum nfv_code plc_pin_plan(const struct plc_cluster *c, const struct plc_demand *d,
                           const struct plc_choice *ch, struct pin_plan **ret_plan,
                           struct nfv_err *err);

/*
 * Same on the host's real topology @topo (from hwloc XML: real PU numbers);
 * @topo's logical core k must be the model's host-wide core k (true for any
 * topology the cluster-file loader accepted). NULL = built from the model.
 */
enum nfv_code plc_pin_plan_on(const struct plc_cluster *c, struct pin_topo *topo,
                              const struct plc_demand *d, const struct plc_choice *ch,
                              struct pin_plan **ret_plan, struct nfv_err *err);

/*
 * The pinning host of model host @host: topology @real (NULL = built from
 * the model), reserved pool = the host's OS cores, dedicated = the rest, no
 * claims. Owned result in *ret_alloc. Errors as plc_pin_plan_on().
 */
struct pin_alloc;
enum nfv_code plc_pin_alloc_of_host(const struct plc_cluster *c, uint32_t host,
                                    struct pin_topo *real, struct pin_alloc **ret_alloc,
                                    struct nfv_err *err);

#endif /* PLC_PIN_H */
