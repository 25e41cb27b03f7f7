/*
 * plc/bridge.h - the one bridge between pinning's host model and placement's.
 *
 * pinning/ describes one host exactly (struct pin_topo: PUs, cores, nodes;
 * struct pin_pools; struct pin_alloc: which PUs each VM holds) and a VM as a
 * struct pin_request. placement/ decides over many hosts with a coarser model
 * (struct plc_host_spec: whole cores per NUMA node, reserved cores, memory;
 * struct plc_demand; struct plc_choice: host, nodes and core ids). Every
 * conversion between the two lives here, both directions, so that vmmgrd and
 * `vmmgrctl place` give the same answer for the same inputs:
 *
 *   host     pin_alloc (topo + pools)         -> plc_host_spec  (add a host)
 *   request  pin_request + memory              -> plc_demand     (place a VM)
 *   VM       pin_plan on a host                -> plc_choice     (load existing VMs)
 *   pins     plc_choice + pin_request + alloc  -> pin_plan       (pin on the chosen cores)
 *
 * Core numbering. placement numbers a host's cores node by node (node 0's
 * cores are 0..C0-1, node 1's C0..C0+C1-1, ...); pinning numbers them by
 * (package, node, first PU). Both orders agree unless a node's cores
 * interleave with another's; the bridge maps through plc_bridge_core_ids()
 * either way.
 *
 * Use from a daemon that keeps one long-lived cluster (vmmgrd):
 *   add host    plc_bridge_host_spec(host alloc) (+ labels), plc_cluster_add_host;
 *               keep the returned index with the host;
 *   load VM     plc_cluster_add_group if needed, plc_bridge_add_vm(req, plan)
 *               for every VM, and with req NULL for claims not yet listed;
 *   place       plc_bridge_demand(req, memory, host topo or NULL, tpc) per
 *               member, plc_place(commit = true): the VMs are now in the model;
 *   pin         per member plc_bridge_plan(chosen host's alloc, choice, req),
 *               pin_alloc_claim; on any failure pin_alloc_release the claims
 *               and plc_cluster_remove_vm the members placed;
 *   release     pin_alloc_release + plc_cluster_remove_vm (delete),
 *               plc_cluster_move_vm (migrate), plc_cluster_lose_vm (host
 *               failed), plc_cluster_set_state (host up/maintenance/down),
 *               plc_cluster_remove_host (host removed, once empty).
 *
 * Neighbours: cluster.h/engine.h (placement), pin/alloc.h, pin/plan.h
 * (pinning), pin.h (the offline planner built on plc_bridge_plan). Pure: no
 * I/O, no clock; every function is deterministic.
 */
#ifndef PLC_BRIDGE_H
#define PLC_BRIDGE_H

#include "pin/alloc.h"
#include "pin/plan.h"
#include "pin/request.h"
#include "pin/topo.h"
#include "plc/cluster.h"

/* Node memory assumed when the topology does not know it (synthetic hosts). */
#define PLC_BRIDGE_DEFAULT_NODE_MIB 16384

/*
 * Placement's host-wide core id of each of @t's cores: ret_ids[k] for
 * pinning's logical core k (@ret_ids holds t->n_cores entries). Pure.
 */
void plc_bridge_core_ids(const struct pin_topo *t, uint16_t *ret_ids);

/* A host spec with the storage its pointers refer to. */
struct plc_bridge_host {
    struct plc_host_spec spec; /* spec.reserved_cores points into reserved[] */
    uint64_t reserved[PLC_MAX_NODES * PLC_NODE_WORDS];
};

/*
 * Fills @ret from a pinning host: nodes and cores per node from @alloc's
 * topology, threads per core, memory per node (the topology's, else
 * @default_node_mib; 0 = PLC_BRIDGE_DEFAULT_NODE_MIB), NIC nodes, and as
 * reserved every core with a PU outside the dedicated pool (placement only
 * hands out whole dedicated cores). @name is borrowed (it must outlive the
 * spec's use); labels and capabilities are left empty for the caller to set
 * in ret->spec. Cores other VMs hold are not reserved here: load those VMs
 * with plc_bridge_add_vm() after plc_cluster_add_host().
 * Errors: NFV_E_UNSUPPORTED (more than PLC_MAX_NODES nodes or
 * PLC_NODE_WORDS*64 cores on a node), naming the host.
 */
enum nfv_code plc_bridge_host_spec(const struct pin_alloc *alloc, const char *name,
                                   enum plc_host_state state, uint32_t default_node_mib,
                                   struct plc_bridge_host *ret, struct nfv_err *err);

/*
 * Placement demand of @req with @mem_mib of memory, on hosts with
 * @threads_per_core: whole cores for the shared group, the exclusive vCPUs
 * and an isolated emulator PU under the request's thread policy, plus the
 * distinct cores of numbered PUs (named in ret->numbered, in placement's
 * numbering of @t). @t is the host the numbered PUs belong to; it may be
 * NULL when the request has no numbered vCPU. NUMA nodes: 2 for 'spread',
 * the nodes of the numbered PUs for 'auto', else 1. A NIC asks for NIC-local
 * nodes (a preference). Errors: NFV_E_INVAL ('cpu_map' when numbered PUs are
 * given without a host or are not on it).
 */
enum nfv_code plc_bridge_demand(const struct pin_request *req, uint64_t mem_mib,
                                const struct pin_topo *t, unsigned threads_per_core,
                                struct plc_demand *ret, struct nfv_err *err);

/*
 * Where an existing VM with plan @plan sits on host @host (placement index)
 * whose topology is @t: the nodes and cores of its claimed and blocked PUs
 * (a core counts once), memory @mem_mib split over its nodes. Errors:
 * NFV_E_INVAL (a plan PU not on @t, or more than PLC_MAX_VM_NODES nodes).
 */
enum nfv_code plc_bridge_choice(const struct pin_topo *t, uint32_t host,
                                const struct pin_plan *plan, uint64_t mem_mib,
                                struct plc_choice *ret, struct nfv_err *err);

/*
 * Records an existing VM @name with plan @plan on placement host @host whose
 * pinning state is @alloc: its choice (plc_bridge_choice), its demand
 * (plc_bridge_demand of @req when given, else read off the plan) with the
 * core count and nodes it really holds, in @group (PLC_NONE for none) with
 * @role. This is how a long-lived cluster learns about VMs at start-up and
 * about VMs whose PUs are claimed but not yet listed. Errors: those of
 * plc_cluster_add_vm (NFV_E_EXIST: name taken or a core already held),
 * prefixed with the VM's name.
 */
enum nfv_code plc_bridge_add_vm(struct plc_cluster *c, uint32_t host, const struct pin_alloc *alloc,
                                const char *name, uint32_t group, enum plc_role role,
                                const struct pin_request *req, const struct pin_plan *plan,
                                uint64_t mem_mib, uint32_t *ret_vm, struct nfv_err *err);

/*
 * The PUs of the cores of @ch on the host whose topology is @t (a cpuset for
 * pin_plan_compute_within). Core ids beyond the topology are ignored.
 */
void plc_bridge_choice_pus(const struct pin_topo *t, const struct plc_choice *ch,
                           struct pin_cpuset *ret);

/*
 * Plans @req on host @alloc using only the PUs of the cores placement chose
 * in @ch (numbered vCPUs keep the PUs they name). This is the one place->pin
 * step: vmmgrd calls it on the host's live allocation, `vmmgrctl place` on
 * an allocation built from the cluster file (plc_pin_plan_on), so both give
 * the same PUs. @ret_plan must hold req->n_vcpus vCPUs. Claim the plan with
 * pin_alloc_claim() afterwards. Errors: the planner's (NFV_E_NOCAP naming
 * the vCPU, NFV_E_INVAL, NFV_E_EXIST).
 */
enum nfv_code plc_bridge_plan(const struct pin_alloc *alloc, const struct plc_choice *ch,
                              const struct pin_request *req, struct pin_plan *ret_plan,
                              struct nfv_err *err);

/*
 * The pin request the offline planner uses for a placement demand (cluster
 * files describe VMs as demands): shared vCPUs first (vCPU 0 is the usual
 * control vCPU) on d->n_shared_cores PUs, then exclusive ones with thread
 * policy isolate, numbered ones last on the first PU of the named core of
 * @t; NUMA spread when @ch has several parts; emulator threads on the host's
 * reserved PUs (policy auto) when @has_reserved, else on the shared core
 * when the VM has shared vCPUs, else floating over its own PUs (auto).
 * Memory is d->mem_mib + d->hp_mib. Owned result in *ret_req.
 * Errors: NFV_E_INVAL (a numbered core not on @t), NFV_E_NOMEM.
 */
enum nfv_code plc_bridge_request_of_demand(const struct pin_topo *t, const struct plc_demand *d,
                                           const struct plc_choice *ch, bool has_reserved,
                                           struct pin_request **ret_req, struct nfv_err *err);

#endif /* PLC_BRIDGE_H */
