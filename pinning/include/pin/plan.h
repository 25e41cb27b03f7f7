/*
 * pin/plan.h - the planner: request + host state -> vCPU-to-PU plan.
 *
 * pin_plan_compute() is pure and deterministic (same inputs, same plan) and
 * allocation-free: the caller owns a struct pin_plan (pin_plan_new) and reuses
 * it across calls, which is how placement evaluates thousands of hosts per
 * request. The result says, per vCPU, which host PU it runs on, plus the
 * emulator and I/O-thread cpusets and the memory nodes; on failure the error
 * names the constraint that failed, e.g.
 *   "vcpu 2: no free core on numa node 1 local to 'ens1f0' (3 free on node 0;
 *    need 3, 1 free)".
 *
 * Choice rules (documented in docs/pinning.md): the node is fixed by numbered
 * pins, a forced node or a required NIC; else a preferred NIC's node is tried
 * first; else best fit (the fitting node with the fewest free PUs, ties to
 * the lower node), so small VMs fill partly used nodes first. Within a node,
 * isolate and require take whole free cores (lowest first); prefer fills
 * whole free cores thread by thread, then free PUs of half-used cores.
 *
 * Neighbours: request.h (input), alloc.h (host state; claim a plan there),
 * pin_libvirt.h (renders a plan as domain XML and applies it). Pure.
 */
#ifndef PIN_PLAN_H
#define PIN_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/cpuset.h"
#include "pin/request.h"

struct pin_alloc;

struct pin_plan {
    unsigned cap_vcpus; /* capacity of the arrays */
    unsigned n_vcpus;
    int16_t *vcpu_pu;            /* [n_vcpus] host PU OS index of each vCPU */
    uint8_t *vcpu_mode;          /* [n_vcpus] enum pin_cpu_mode */
    struct pin_cpuset claimed;   /* PUs the VM holds: vCPU PUs + isolated emulator PU */
    struct pin_cpuset blocked;   /* SMT siblings kept empty for this VM (isolate/require) */
    struct pin_cpuset shared;    /* the shared group's PUs */
    struct pin_cpuset emulator;  /* <emulatorpin cpuset> */
    struct pin_cpuset iothreads; /* <iothreadpin cpuset> (same as emulator) */
    unsigned n_iothreads;
    /* The emulator policy as resolved: never auto once planned (auto = not
     * known, e.g. a plan saved before the field existed). */
    enum pin_emulator_policy emulator_policy;
    uint64_t node_mask;        /* host node OS indices the PUs are on (bit n = node n) */
    enum pin_numa_policy numa; /* single: no guest NUMA; spread: one guest cell per node */
    uint64_t mem_mib;
    uint64_t hugepage_kib;
    bool is_mem_strict;
};

/* A plan with room for @cap_vcpus vCPUs (1..PIN_MAX_VCPUS). NULL on failure. */
struct pin_plan *pin_plan_new(unsigned cap_vcpus);
void pin_plan_free(struct pin_plan *plan);
/* Deep copy, NULL on allocation failure. */
struct pin_plan *pin_plan_dup(const struct pin_plan *plan);

/*
 * Plans @req on the host whose state is @alloc (topology, pools, current
 * claims). Fills @ret_plan (contents undefined on error). Never allocates.
 * Errors:
 *   NFV_E_INVAL  request invalid for this host (numbered PU not on the host
 *                or not in the dedicated pool, unknown NIC, node unknown,
 *                more vCPUs than ret_plan->cap_vcpus);
 *   NFV_E_EXIST  a numbered PU is held by another owner;
 *   NFV_E_NOCAP  not enough free PUs/cores under the constraints.
 */
enum nfv_code pin_plan_compute(const struct pin_alloc *alloc, const struct pin_request *req,
                               struct pin_plan *ret_plan, struct nfv_err *err);

/*
 * Same, choosing the VM's PUs only among @within (NULL = anywhere): the
 * place->pin pipeline passes the PUs of the cores placement chose, so the
 * plan lands on exactly those cores (plc/bridge.h). Numbered PUs are checked
 * against the host as usual, not against @within. Errors as above.
 */
enum nfv_code pin_plan_compute_within(const struct pin_alloc *alloc, const struct pin_request *req,
                                      const struct pin_cpuset *within, struct pin_plan *ret_plan,
                                      struct nfv_err *err);

/*
 * The emulator policy the planner applies for @emulator on @alloc's host:
 * PIN_EMU_AUTO becomes 'reserved' when the host has reserved or shared-pool
 * PUs, else 'vcpus' (the threads float over the VM's own PUs, Nova's
 * default); other policies are returned as they are. Pure.
 */
enum pin_emulator_policy pin_plan_emulator_resolve(const struct pin_alloc *alloc,
                                                   enum pin_emulator_policy emulator);

/* The cpuset vCPU @vcpu must be pinned to: the shared group for shared
 * vCPUs, the single PU otherwise. */
void pin_plan_vcpu_cpuset(const struct pin_plan *plan, unsigned vcpu, struct pin_cpuset *ret);

/* One difference between a plan and what the hypervisor reports. */
struct pin_drift_item {
    int vcpu; /* vCPU index, or PIN_DRIFT_EMULATOR */
    struct pin_cpuset want;
    struct pin_cpuset have;
};
#define PIN_DRIFT_EMULATOR (-1)

/*
 * Compares @plan with pins read back from a hypervisor: @have_vcpus[i] for
 * vCPU i (@n_have entries) and @have_emulator (NULL = not read). Writes up
 * to @cap_items differences into @ret_items and returns the total number of
 * differences (a missing vCPU counts as one, with an empty 'have'); an empty
 * plan emulator set is not compared. Pure.
 */
unsigned pin_plan_diff(const struct pin_plan *plan, const struct pin_cpuset *have_vcpus,
                       unsigned n_have, const struct pin_cpuset *have_emulator,
                       struct pin_drift_item *ret_items, unsigned cap_items);

/* "vcpu 1: want 1, have 0-1" lines joined with "; " into @buf (snprintf rules). */
size_t pin_drift_format(const struct pin_drift_item *items, unsigned n_items, char *buf,
                        size_t buf_size);

/* JSON form {"vcpus":[{"vcpu","pu","mode"}],"emulator":"0-1","iothreads":..,
 * "blocked":..,"shared":..,"nodes":[..],"numa":..,"memory_mib","hugepage_kib",
 * "mem_strict"}; round-trips exactly through pin_plan_from_json(). */
json_t *pin_plan_to_json(const struct pin_plan *plan);
enum nfv_code pin_plan_from_json(const json_t *v, struct pin_plan **ret_plan, struct nfv_err *err);

#endif /* PIN_PLAN_H */
