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
 * host's real one, no I/O.
 */
#ifndef PLC_PIN_H
#define PLC_PIN_H

#include "pin/plan.h"
#include "plc/cluster.h"

/*
 * Plans the vCPUs of a VM with demand @d placed at @ch. Returns an owned
 * plan in *ret_plan. Emulator threads go to the host's reserved cores when
 * it has some, else onto the VM's shared core when it has shared vCPUs.
 * Errors: the planner's (NFV_E_NOCAP with the failing vCPU named),
 * NFV_E_UNSUPPORTED (no reserved core and no shared vCPU for the emulator
 * threads), NFV_E_NOMEM.
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

#endif /* PLC_PIN_H */
