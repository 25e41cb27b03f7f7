/*
 * plc/engine.h - placing requests: filters, weighers, group search, explain,
 * what-if.
 *
 * A request is one VM, or the members of a redundancy group that must be
 * placed together or not at all. For each member the engine runs the filters
 * in a fixed order, cheapest first, on every host:
 *   state -> force_host -> capabilities -> memory -> hugepages -> cores
 *   (pinning fit on NUMA shape) -> anti_affinity -> reserve
 * ranks the survivors with the configured weighers (pack, spread, NIC-local;
 * ties broken by host index, so the same input gives the same output), and
 * for a group searches member combinations best-first with backtracking, so
 * a pair that fits is found even where greedy one-by-one placement fails.
 * The reserve filter is the only one that depends on the whole combination;
 * it runs last, on the combination, against incrementally kept aggregates.
 *
 * Neighbours: cluster.h (the model), plan.h (evacuation/drain/defragment use
 * this engine with the reserve waived). Pure and deterministic.
 */
#ifndef PLC_ENGINE_H
#define PLC_ENGINE_H

#include "plc/cluster.h"

enum plc_filter {
    PLC_F_STATE,
    PLC_F_FORCE_HOST,
    PLC_F_CAPABILITIES,
    PLC_F_MEMORY,
    PLC_F_HUGEPAGES,
    PLC_F_CORES,
    PLC_F_ANTI_AFFINITY,
    PLC_F_RESERVE,
    PLC_F__COUNT
};
const char *plc_filter_to_string(enum plc_filter f);

struct plc_vm_req {
    const char *name;
    enum plc_role role;     /* PLC_ROLE_NONE outside groups */
    const char *force_host; /* NULL: any host */
    struct plc_demand demand;
};

struct plc_req {
    /* Group the members join: an existing group (its scope wins) or a new one
     * created on commit with @scope/@is_soft. NULL: members are unrelated
     * (only valid with one member). */
    const char *group;
    enum plc_scope scope;
    bool is_soft;
    bool is_reserve_waived; /* place even if the healing reserve breaks */
    size_t n_vms;
    const struct plc_vm_req *vms;
};

/* Search limits for group placement: combinations tried that passed every
 * per-member filter but failed the reserve (all of a small cluster's pairs;
 * fewer where each try costs a scan of many hosts) ... */
#define PLC_MAX_RESERVE_TRIES(n_hosts) ((n_hosts) <= 64 ? 256u : 32u)
/* ... and hosts the reserve's searches may examine for one request. */
#define PLC_MAX_RESERVE_STEPS(n_hosts) ((n_hosts) <= 64 ? 250000ull : 32ull * (n_hosts))

/*
 * Places @r. On success fills @ret_choices[0..n_vms) (caller-provided) and,
 * when @is_commit, records the VMs (and the group) in @c. Without commit the
 * cluster is left exactly as it was.
 * Errors: NFV_E_INVAL (empty request, duplicate VM name, several members
 * without a group, unknown forced host), NFV_E_NOCAP ("'vm': no host fits:
 * 312 cores, 40 anti_affinity, ..." - counts of first failing filters),
 * NFV_E_NOMEM.
 */
enum nfv_code plc_place(struct plc_cluster *c, const struct plc_req *r, bool is_commit,
                        struct plc_choice *ret_choices, struct nfv_err *err);

/* Explanation of a request against every host. */
struct plc_explain_member {
    uint32_t counts[PLC_F__COUNT + 1]; /* [PLC_F__COUNT] = hosts passing all */
    uint8_t *first_fail;               /* per host: enum plc_filter, or PLC_F__COUNT = passes */
    /* per host, for a joint refusal (the member passes there alone but no
     * combination of the request places with it there): ANTI_AFFINITY (the
     * other members find no hosts apart from it) or RESERVE; else
     * PLC_F__COUNT */
    uint8_t *joint_fail;
    /* per host where first_fail is RESERVE: the failure domain left
     * uncovered (dom PLC_NONE if unknown) and the member it would lose
     * (borrowed name, NULL if unknown) */
    struct {
        enum plc_scope kind;
        uint32_t dom;
        const char *vm;
    } * uncovered;
    /* a soft group's member that plc_place puts in the same scope domain
     * as another member (no host apart from the members placed before it
     * passed): that member's name (borrowed) and the shared domain; NULL /
     * PLC_NONE when it is apart or the request is not placeable */
    const char *shares_with;
    uint32_t shared_dom;
};
struct plc_explain {
    size_t n_hosts, n_vms;
    struct plc_explain_member *members;
    bool is_placeable;      /* plc_place would succeed */
    enum plc_scope scope;   /* the group's scope (members only) */
    bool is_soft_colocated; /* a soft group could not spread: some shares_with set */
    char why[512];          /* plc_place's refusal message when not placeable */
};

/*
 * For each member and host, the first failing filter (the anti-affinity and
 * reserve filters are judged against the already placed members of the
 * group and with the member alone added). Returns an owned explain, NULL on
 * ENOMEM or an invalid request (see plc_place).
 */
struct plc_explain *plc_explain_new(struct plc_cluster *c, const struct plc_req *r,
                                    struct nfv_err *err);
void plc_explain_free(struct plc_explain *e);

/*
 * What-if: places @reqs in order on a copy of @c, never touching @c.
 * ret_codes[i] (caller-provided) gets each request's result and
 * ret_choices[i] (caller-provided, reqs[i].n_vms entries each) its choices.
 * Returns NFV_OK unless the copy cannot be made.
 */
enum nfv_code plc_whatif(const struct plc_cluster *c, const struct plc_req *reqs, size_t n_reqs,
                         enum nfv_code *ret_codes, struct plc_choice **ret_choices,
                         struct nfv_err *err);

/* Weigher score of putting @d at @ch (for tests and explain output). */
double plc_weigh(const struct plc_cluster *c, const struct plc_demand *d,
                 const struct plc_choice *ch);

/*
 * Cheapest NUMA-shaped fit of @d on host @h (cores, memory, hugepages on
 * the same nodes; numbered cores honoured). Fills @ret (written only on
 * success). Returns the first failing filter (MEMORY, HUGEPAGES or CORES) or
 * PLC_F__COUNT when it fits.
 */
enum plc_filter plc_fit_host(const struct plc_cluster *c, uint32_t h, const struct plc_demand *d,
                             struct plc_choice *ret);

#endif /* PLC_ENGINE_H */
