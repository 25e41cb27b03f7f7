/*
 * vm_place.h - placement inside vmmgrd: the cluster view placement/ sees,
 * the choice of host and cores for one VM or a group's members, the claim
 * of their PUs in the hosts' allocations, and the allocation rows the
 * database keeps.
 * Called by vm_create. Calls vm_ctx.
 */
#ifndef VM_PLACE_H
#define VM_PLACE_H

#include "vm_daemon_priv.h"

/* One VM to place: inputs from the request, outputs filled by the place. */
struct vm_place_slot {
    const char *name;
    enum vm_role role;
    const char *force_host; /* NULL: placement chooses */
    const struct pin_request *req;
    uint64_t memory_mib;
    /* out */
    struct host_rt *host;
    struct pin_plan *plan; /* owned until taken */
    bool is_claimed;       /* its PUs are claimed in host->alloc under @name */
};

/*
 * Places and plans @n slots together (a group's members when @group is set,
 * kept apart at @scope) and claims their PUs. @is_reserve_waived: place even
 * if the healing reserve breaks. On error nothing stays claimed. Lock held.
 */
enum nfv_code vm_place_claim(struct vm_daemon *d, struct vm_place_slot *slots, size_t n,
                             const char *group, enum vm_scope scope, bool is_reserve_waived,
                             struct nfv_err *err);
/* The long-lived placement model (d->cluster): made at start-up, then kept
 * up to date on every change instead of rebuilt per request. Lock held. */
enum nfv_code vm_place_init(struct vm_daemon *d, struct nfv_err *err);
void vm_place_fini(struct vm_daemon *d);
/* @h's allocation is known, or its state (admin, connection) changed. */
void vm_place_host_sync(struct vm_daemon *d, struct host_rt *h);
void vm_place_host_removed(struct vm_daemon *d, struct host_rt *h);
/* @vm (listed, plan claimed) joins / leaves the model. */
void vm_place_vm_added(struct vm_daemon *d, struct vm_rt *vm);
void vm_place_vm_removed(struct vm_daemon *d, struct vm_rt *vm);

/* Releases what vm_place_claim() claimed (plans stay). Lock held. */
void vm_place_release(struct vm_place_slot *slots, size_t n);

/* The allocation rows for @plan: one per held PU. Returns the count. */
size_t vm_place_allocs(const struct pin_plan *plan, struct vm_db_alloc *out, size_t cap);

#endif /* VM_PLACE_H */
