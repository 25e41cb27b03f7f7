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

/* ---- max-tree over positions (iterative segment tree) ---- */
struct plc_maxtree {
    size_t n; /* leaves, power of two */
    int64_t *t;
};
enum nfv_code plc_maxtree_init(struct plc_maxtree *mt, size_t n_leaves);
void plc_maxtree_destroy(struct plc_maxtree *mt);
void plc_maxtree_set(struct plc_maxtree *mt, size_t pos, int64_t v);
/* max over [lo, hi); INT64_MIN when empty */
int64_t plc_maxtree_query(const struct plc_maxtree *mt, size_t lo, size_t hi);

/* Reserve class of a protected member (see reserve.c). */
enum plc_rclass {
    PLC_RC_NONE,    /* not protected (failure "none") */
    PLC_RC_RACK,    /* rebuilt in its own rack, outside the failed host */
    PLC_RC_ZONE,    /* rebuilt in its own zone, outside the failed domain */
    PLC_RC_B_HOST,  /* rebuilt anywhere but the failed domain and its siblings' hosts */
    PLC_RC_B_RACK,  /* ... and its siblings' racks */
    PLC_RC_B_ZONE,  /* ... and its siblings' zones (N+M groups) */
    PLC_RC_B_POWER, /* ... and its siblings' power feeds */
    PLC_RC_SOFT,    /* soft anti-affinity: anywhere outside the failed domain */
    PLC_RC__COUNT
};

struct plc_reserve {
    bool is_built;
    uint16_t slot_cores;
    uint32_t slot_mem_mib, slot_hp_mib;
    size_t n_fdom;                           /* hosts or racks */
    int64_t *supply, *a_rack, *a_zone, *all; /* per fdom */
    uint32_t *fdom_pos;                      /* fdom -> position (zone, rack order) */
    uint32_t *rack_lo, *rack_hi;             /* positions (F = host only) */
    uint32_t *zone_lo, *zone_hi;
    int64_t *rack_supply, *zone_supply, *power_supply;
    int64_t total;
    struct plc_maxtree t1, t2, t3, thost; /* v1, v2, v3 by position; host supply by host */
    int64_t n_class[PLC_RC__COUNT];       /* protected slots per class */
    /* Spread members (several NUMA nodes): a rebuild needs W nodes with a
     * free slot on one host. hsup = such disjoint W-node sets per fdom. */
    uint8_t spread_w;    /* widest spread member (0: none yet) */
    int64_t *hsup, *spr; /* per fdom: W-sets, spread members */
    int64_t htotal;
    struct plc_maxtree t4; /* hsup + spr by position */
    uint32_t kmax;         /* most opposite-role siblings a member has */
};

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
    char *cap_names[PLC_MAX_CAPS];
    size_t n_caps;
    struct plc_reserve res;
    struct plc_heal *heal; /* NULL until first used; not copied by clones */
    /* Engine scratch (candidate lists), reused across requests so a request
     * at 10,000 hosts does not map and fault in fresh pages. Not copied by
     * clones. */
    void *scratch;
    size_t scratch_size;
};

/* Claims (sign +1) or releases (-1) the resources of @ch on its host and
 * updates the host's reserve supply. Claims must fit (asserted). */
void plc_claim(struct plc_cluster *c, const struct plc_choice *ch, int sign);
/* Adds (+1) / removes (-1) a protected member of class @rc on @host. */
void plc_protect(struct plc_cluster *c, uint32_t host, enum plc_rclass rc, uint32_t slots,
                 int sign);
/* Class of a member of a group with @scope/@is_soft and @n_members members
 * (lost ones included) under the configured failure. */
enum plc_rclass plc_rclass_of(const struct plc_cluster *c, enum plc_scope scope, bool is_soft,
                              uint32_t n_members);
/* Re-counts the placed members of group @g (except vm @skip) from class
 * @from to class @to (when a group's size changes its class). */
void plc_reclass(struct plc_cluster *c, uint32_t g, uint32_t skip, enum plc_rclass from,
                 enum plc_rclass to);
/* Slots one member with demand @d needs. */
uint32_t plc_slots_of(const struct plc_demand *d);
/* Builds (or rebuilds) the reserve aggregates from scratch. */
enum nfv_code plc_reserve_build(struct plc_cluster *c);
void plc_reserve_destroy(struct plc_reserve *r);
/* Grows the slot shape to cover @d (recomputing every supply). Returns true
 * if it changed. */
bool plc_reserve_grow_slot(struct plc_cluster *c, const struct plc_demand *d);
void plc_reserve_set_slot(struct plc_cluster *c, uint16_t cores, uint32_t mem, uint32_t hp,
                          uint8_t spread_w);
/* Recomputes one host's supply (after its nodes changed). */
void plc_reserve_host_changed(struct plc_cluster *c, uint32_t host);
/* Ensures the reserve aggregates exist (built lazily after hosts change). */
enum nfv_code plc_reserve_ensure(struct plc_cluster *c);

#endif /* PLC_PRIV_H */
