/*
 * plc_priv.h - placement internals shared by the sources and the unit tests.
 *
 * The cluster struct, the string index (open addressing, names -> indexes),
 * the max-trees and per-failure-domain aggregates of the healing reserve
 * (reserve.c), and the claim/release primitives the engine uses to try a
 * combination in place and undo it.
 */
#ifndef PLC_PRIV_H
#define PLC_PRIV_H

#include "plc/cluster.h"
#include "plc/engine.h"

/* ---- string index: name -> uint32 (open addressing, power-of-two size) ---- */
struct plc_index {
    size_t n_slots, n_used;
    const char **keys; /* borrowed from the owning object */
    uint32_t *vals;
};
void plc_index_destroy(struct plc_index *ix);
uint32_t plc_index_get(const struct plc_index *ix, const char *key);
/* Inserts (key must stay valid). Returns NFV_E_NOMEM on failure. */
enum nfv_code plc_index_put(struct plc_index *ix, const char *key, uint32_t val);
void plc_index_del(struct plc_index *ix, const char *key);
/* Re-points keys after a clone (keys are looked up through @get_key). */
enum nfv_code plc_index_clone(struct plc_index *dst, const struct plc_index *src,
                              const char *(*get_key)(const void *owner, uint32_t val),
                              const void *owner);

/* Grows *@arr (of *@n_alloc elements of @elem bytes, doubling) to hold
 * @need; false on ENOMEM (the array is unchanged). */
bool plc_grow_array(void **arr, size_t *n_alloc, size_t need, size_t elem);

/* ---- the healing reserve, exact per failure domain (plc_heal.c) ---- */
struct plc_heal; /* per failure domain: a witness rebuild of its members */

/* A request's members while the engine tries a combination: their claims
 * are applied to the model but they are not VMs yet. Member refs of the
 * overlay are PLC_HEAL_OV | index. */
#define PLC_HEAL_OV 0x80000000u
struct plc_overlay {
    size_t n;
    const struct plc_demand *const *demands;
    const uint32_t *hosts;
    bool is_member; /* members of a group (else one unprotected VM) */
    uint32_t group; /* the existing group they join, or PLC_NONE */
    enum plc_scope scope;
    bool is_soft;
};
/* A failure domain that cannot be healed and the first member it loses
 * (a vm index or PLC_HEAL_OV | overlay index; PLC_NONE if unknown). */
struct plc_heal_fail {
    enum plc_scope kind;
    uint32_t dom;
    uint32_t ref;
};
void plc_heal_free(struct plc_heal *hl);
/* Drops every witness (rebuilt lazily, e.g. after hosts are added). */
void plc_heal_reset(struct plc_cluster *c);
/* Builds the witnesses if needed and processes the changes noted since. */
enum nfv_code plc_heal_ensure(struct plc_cluster *c);
/* Change notes from the model: a VM was placed (capacity taken; a new
 * member), a host changed state or lost capacity. */
void plc_heal_note_vm(struct plc_cluster *c, uint32_t vm);
void plc_heal_note_host(struct plc_cluster *c, uint32_t h);
/* With @ov's claims applied: true if every failure domain it can affect
 * still heals (results kept as pending until plc_heal_commit); false too
 * when the searches would examine more than @max_steps hosts (0: no cap). */
bool plc_heal_check(struct plc_cluster *c, const struct plc_overlay *ov, uint64_t max_steps,
                    struct plc_heal_fail *ret_fail);
/* Stores the last check's results after its members were added as VMs
 * (@ov_vm[i] = vm index of overlay member i). */
void plc_heal_commit(struct plc_cluster *c, const uint32_t *ov_vm);
/* Hosts examined by the reserve's searches so far (a request's cost). */
uint64_t plc_heal_steps(const struct plc_cluster *c);
/* true if every failure domain heals; else @ret_fail names one. */
bool plc_heal_holds(struct plc_cluster *c, struct plc_heal_fail *ret_fail);
/* Evacuation: one rebuild host for each of the lost members @vms (hosts
 * of the failed domain already down) found together, in @ret_hosts, and
 * the order to rebuild them in (@ret_order, indexes into @vms). NFV_E_NOCAP
 * if none is found (all hosts PLC_NONE). */
enum nfv_code plc_heal_assign(struct plc_cluster *c, const uint32_t *vms, size_t n,
                              uint32_t *ret_hosts, uint32_t *ret_order);
/* The stored witness of failure domain (@kind, @dom) for the members @vms:
 * their rebuilds (host, nodes and shares; no core bits: plc_plan picks
 * them) and the order to rebuild them in. NFV_E_NOENT if the domain has
 * no complete witness. */
enum nfv_code plc_heal_witness(struct plc_cluster *c, enum plc_scope kind, uint32_t dom,
                               const uint32_t *vms, size_t n, struct plc_choice *ret_at,
                               uint32_t *ret_order);

struct plc_cluster {
    struct plc_config cfg;
    struct plc_host *hosts;
    size_t n_hosts, n_hosts_alloc;
    struct plc_vm *vms;
    size_t n_vms, n_vms_alloc; /* slots */
    uint32_t *free_vms;
    size_t n_free_vms, n_free_alloc;
    struct plc_group *groups;
    size_t n_groups, n_groups_alloc;
    struct plc_index host_ix, vm_ix, group_ix, cap_ix;
    struct plc_index dom_ix[PLC_SCOPE__COUNT];
    char **dom_names[PLC_SCOPE__COUNT];
    size_t n_doms[PLC_SCOPE__COUNT], n_doms_alloc[PLC_SCOPE__COUNT];
    uint32_t *rack_zone; /* zone of each rack (racks nest in zones) */
    /* per zone: enum plc_failure set by plc_cluster_set_zone_failure, or
     * PLC_FAILURE__COUNT (cfg.failure); n_zone_failure entries */
    uint8_t *zone_failure;
    size_t n_zone_failure;
    char *cap_names[PLC_MAX_CAPS];
    size_t n_caps;
    struct plc_heal *heal; /* NULL until first used; not copied by clones */
    /* Engine scratch (candidate lists), reused across requests so a request
     * at 10,000 hosts does not map and fault in fresh pages. Not copied by
     * clones. */
    void *scratch;
    size_t scratch_size;
};

/* Claims (sign +1) or releases (-1) the resources of @ch on its host.
 * Claims must fit (asserted). */
void plc_claim(struct plc_cluster *c, const struct plc_choice *ch, int sign);

#endif /* PLC_PRIV_H */
