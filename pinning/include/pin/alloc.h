/*
 * pin/alloc.h - which PUs of one host are held, by whom.
 *
 * An allocation is the pinning state of one host: its (shared, immutable)
 * topology, its pools, and the claims of the VMs placed on it. Its core is
 * three bitmaps (used, blocked, free) plus per-node counters kept up to date
 * on every claim/release, so placement reads a host's capacity in O(1) or
 * O(nodes) (pin_alloc_n_free_*) without planning, and clones a host for
 * what-if placement with pin_alloc_copy() (memcpy of bitmaps and claims, no
 * allocation when the destination already has room).
 *
 * A claim records its owner (VM id or name) and per held PU the vCPU index
 * (or PIN_OWNER_EMULATOR), so a core map can be rendered (pin_alloc_pu_owner).
 * Claims are explicit: planning never changes the allocation.
 *
 * Memory: ~800 bytes (bitmaps and pools) + 16 bytes per node + per claim
 * ~60 bytes + owner + 3 bytes per vCPU + 2 per PU listed (claimed, kept
 * empty, emulator); the topology is shared. pin_alloc_footprint() says.
 *
 * Neighbours: topo.h, pools.h, plan.h (pin_plan_compute reads an allocation).
 * Pure: no I/O.
 */
#ifndef PIN_ALLOC_H
#define PIN_ALLOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "nfv/err.h"
#include "pin/cpuset.h"
#include "pin/plan.h"
#include "pin/pools.h"
#include "pin/topo.h"

#define PIN_OWNER_SIZE     64   /* owner ids are at most 63 bytes */
#define PIN_OWNER_EMULATOR (-1) /* vcpu index of an isolated emulator PU */
#define PIN_OWNER_BLOCKED  (-2) /* vcpu index of a sibling kept empty for the owner */

struct pin_alloc;

/* Capacity counters of one node (logical index) or of the whole host. */
struct pin_alloc_counts {
    unsigned n_dedicated_pus; /* PUs in the dedicated pool */
    unsigned n_free_pus;      /* dedicated, not used, not blocked */
    unsigned n_free_cores;    /* cores whose every PU is free (and dedicated) */
};

/*
 * A new, empty allocation for topology @topo (a reference is taken; @topo
 * must be sealed) and @pools (copied; validated). Errors: NFV_E_INVAL
 * (pools), NFV_E_NOMEM.
 */
enum nfv_code pin_alloc_new(struct pin_topo *topo, const struct pin_pools *pools,
                            struct pin_alloc **ret_alloc, struct nfv_err *err);
void pin_alloc_free(struct pin_alloc *a);

/* Deep copy (shares the topology). NULL on allocation failure. */
struct pin_alloc *pin_alloc_clone(const struct pin_alloc *src);
/* Makes @dst equal to @src, reusing @dst's memory (allocates only to grow).
 * Errors: NFV_E_NOMEM (then @dst is unchanged). */
enum nfv_code pin_alloc_copy(struct pin_alloc *dst, const struct pin_alloc *src,
                             struct nfv_err *err);

/* Borrowed views. */
const struct pin_topo *pin_alloc_topo(const struct pin_alloc *a);
const struct pin_pools *pin_alloc_pools(const struct pin_alloc *a);
const struct pin_cpuset *pin_alloc_used(const struct pin_alloc *a);    /* held by a claim */
const struct pin_cpuset *pin_alloc_blocked(const struct pin_alloc *a); /* siblings kept empty */
const struct pin_cpuset *
pin_alloc_free_set(const struct pin_alloc *a); /* dedicated & ~used & ~blocked */

/* O(1) host totals and per-node counters (@node is a logical index; out of
 * range gives zeros). */
void pin_alloc_counts(const struct pin_alloc *a, struct pin_alloc_counts *ret);
void pin_alloc_node_counts(const struct pin_alloc *a, unsigned node, struct pin_alloc_counts *ret);

/*
 * Free hugepage memory (KiB) of size @size_kib on logical node @node: the
 * topology's free count minus what single-node claims with hugepages took.
 * UINT64_MAX when the topology does not know the node's hugepages (synthetic
 * hosts); 0 for a size the node does not have.
 */
uint64_t pin_alloc_node_hugepages_free_kib(const struct pin_alloc *a, unsigned node,
                                           uint64_t size_kib);

/*
 * Claims @plan for @owner (copied). Checks that every PU of the plan is in
 * the dedicated pool and free, and that @owner has no claim yet.
 * Errors: NFV_E_INVAL (empty/too long owner, plan PU not dedicated),
 * NFV_E_EXIST (owner already holds a claim, or a PU is taken: the message
 * names the PU and its holder), NFV_E_NOMEM. On error nothing changes.
 */
enum nfv_code pin_alloc_claim(struct pin_alloc *a, const struct pin_plan *plan, const char *owner,
                              struct nfv_err *err);

/* Releases @owner's claim. Errors: NFV_E_NOENT. */
enum nfv_code pin_alloc_release(struct pin_alloc *a, const char *owner, struct nfv_err *err);

size_t pin_alloc_n_claims(const struct pin_alloc *a);
/* Owner of claim @i (0..n_claims-1, in claim order), borrowed. */
const char *pin_alloc_claim_owner(const struct pin_alloc *a, size_t i);
/* Copies the plan @owner claimed into @ret_plan (claims are stored compactly,
 * so this expands them). Errors: NFV_E_NOENT, NFV_E_INVAL (@ret_plan too small). */
enum nfv_code pin_alloc_claim_plan(const struct pin_alloc *a, const char *owner,
                                   struct pin_plan *ret_plan, struct nfv_err *err);
/* The PU of vCPU @vcpu of @owner's claim, or -1. */
int pin_alloc_claim_vcpu_pu(const struct pin_alloc *a, const char *owner, unsigned vcpu);

/*
 * Who holds PU @pu: returns true and sets *ret_owner (borrowed) and
 * *ret_vcpu (vCPU index, PIN_OWNER_EMULATOR or PIN_OWNER_BLOCKED); shared-group
 * PUs report the lowest vCPU of the group. false if the PU is not held.
 */
bool pin_alloc_pu_owner(const struct pin_alloc *a, unsigned pu, const char **ret_owner,
                        int *ret_vcpu);

/*
 * Like pin_alloc_pu_owner(), for a core map: writes into @buf the vCPUs of
 * the holder that run on PU @pu in list syntax ("3", or "0-1,4" for a shared
 * group), or "emulator" / "blocked". Returns false (and @buf = "") if the PU
 * is not held. *ret_owner (may be NULL) is borrowed. Pure.
 */
bool pin_alloc_pu_vcpus_format(const struct pin_alloc *a, unsigned pu, const char **ret_owner,
                               char *buf, size_t buf_size);

/*
 * JSON form: {"pools":{"reserved","dedicated","shared"},"claims":[{"owner",
 * "plan":<pin_plan_to_json>}]} (cpusets in list syntax).
 * pin_alloc_from_json() rebuilds an equal allocation on @topo (reference
 * taken); it re-checks every claim (NFV_E_PARSE for a malformed document,
 * NFV_E_EXIST for overlapping claims).
 */
json_t *pin_alloc_to_json(const struct pin_alloc *a);
enum nfv_code pin_alloc_from_json(struct pin_topo *topo, const json_t *v,
                                  struct pin_alloc **ret_alloc, struct nfv_err *err);

/* Bytes of heap this allocation holds (struct, claim slots, claimed plans),
 * not counting the shared topology: what placement budgets per host. */
size_t pin_alloc_footprint(const struct pin_alloc *a);

/* true if @a and @b have equal pools, claims (in order) and bitmaps. */
bool pin_alloc_equal(const struct pin_alloc *a, const struct pin_alloc *b);

#endif /* PIN_ALLOC_H */
