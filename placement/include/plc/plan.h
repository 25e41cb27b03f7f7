/*
 * plc/plan.h - evacuation, drain and defragment plans.
 *
 * A plan is an ordered list of steps computed on a copy of the cluster; it
 * changes nothing until plc_plan_apply(). Steps:
 *   promote  an SBY becomes ACT because its ACT was on the failed domain;
 *   rebuild  a lost member is created again (as SBY after a promotion) on a
 *            surviving host, anti-affinity holding, using the reserve;
 *   move     a VM moves from one host to another (drain, defragment); each
 *            move keeps every constraint - anti-affinity, capacity and the
 *            reserve - true after it, so the steps can run one by one;
 *   lost     a VM that no surviving host can take (the plan is incomplete).
 *
 * Neighbours: engine.h (each rebuild/move is one engine placement). Pure.
 */
#ifndef PLC_PLAN_H
#define PLC_PLAN_H

#include "plc/engine.h"

enum plc_step_kind {
    PLC_STEP_PROMOTE,
    PLC_STEP_REBUILD,
    PLC_STEP_MOVE,
    PLC_STEP_LOST,
    PLC_STEP__COUNT
};
const char *plc_step_kind_to_string(enum plc_step_kind k);

struct plc_step {
    enum plc_step_kind kind;
    uint32_t vm;        /* vm index in the original cluster */
    uint32_t from_host; /* PLC_NONE for rebuilds of lost VMs */
    enum plc_role role; /* role after the step */
    struct plc_choice to;
};

struct plc_plan {
    size_t n_steps, n_alloc;
    struct plc_step *steps;
    size_t n_lost;  /* LOST steps */
    size_t n_moves; /* MOVE + REBUILD steps */
};

void plc_plan_free(struct plc_plan *p);

/*
 * Evacuation of a failed host (PLC_SCOPE_HOST, @dom = host index) or rack
 * (PLC_SCOPE_RACK, @dom = rack index): every group member there is handled
 * first (its SBY promoted when the ACT was lost, then the lost member
 * rebuilt as SBY, largest first), then other VMs. Rebuilds may use the
 * reserve (it is waived) but never break anti-affinity. The plan is
 * returned even when some VMs are LOST. Errors: NFV_E_INVAL (bad scope or
 * index), NFV_E_NOMEM.
 */
enum nfv_code plc_plan_evacuate(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom,
                                struct plc_plan **ret_plan, struct nfv_err *err);

/*
 * Drain of host @h for maintenance: one move per VM (the fewest possible),
 * each to a host that keeps every constraint, reserve included, true.
 * NFV_E_NOCAP names the first VM that cannot move (no plan is returned).
 */
enum nfv_code plc_plan_drain(const struct plc_cluster *c, uint32_t h, struct plc_plan **ret_plan,
                             struct nfv_err *err);

/*
 * Defragment for a refused request: the fewest moves (searching hosts whose
 * deficit is smallest first) after which @r places. The last steps of the
 * plan are the placements of @r's members (kind REBUILD with vm = PLC_NONE).
 * NFV_E_NOCAP if no plan with at most @max_moves moves is found.
 */
enum nfv_code plc_plan_defrag(const struct plc_cluster *c, const struct plc_req *r,
                              size_t max_moves, struct plc_plan **ret_plan, struct nfv_err *err);

/*
 * Where VM @vm would go if it moved off its host now (issue 16: one
 * migration): the best other host, or @force_host (not its own), keeping
 * anti-affinity, capacity and, unless @is_reserve_waived, the healing
 * reserve true after the move (its current host counts as in maintenance).
 * Computed on a copy; @c is unchanged. Errors: NFV_E_INVAL (no such VM,
 * @force_host is its host), NFV_E_NOENT (unknown @force_host), the engine's
 * NFV_E_NOCAP with its reason.
 */
enum nfv_code plc_plan_move(const struct plc_cluster *c, uint32_t vm, const char *force_host,
                            bool is_reserve_waived, struct plc_choice *ret_choice,
                            struct nfv_err *err);

/*
 * Executes @p on @c (which must be the cluster the plan was made from; for
 * an evacuation the failed domain's hosts are marked down first).
 */
enum nfv_code plc_plan_apply(struct plc_cluster *c, const struct plc_plan *p,
                             enum plc_scope failed_scope, uint32_t failed_dom, struct nfv_err *err);

#endif /* PLC_PLAN_H */
