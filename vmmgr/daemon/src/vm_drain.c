/*
 * vm_drain.c - POST /v1/hosts/NAME/drain and POST /v1/cluster/defragment
 * (issue 16): placement's drain and defragment plans (plc/plan.h),
 * executed one migration at a time (vm_migrate_one, each its own journaled
 * job).
 *
 * Drain: placement must find a plan first (one move per VM, the fewest
 * possible; each move keeps anti-affinity, capacity and the reserve true),
 * else nothing changes and the answer is its reason. Then the host goes to
 * maintenance (placement avoids it from now on), and its VMs move in this
 * order: SBY members first, then VMs outside groups, ACT members last, so
 * a pair keeps an ACT running throughout. Each move is placed again
 * against the cluster as it is at that moment (the plan's host when it
 * still fits), so anti-affinity holds at every step. A failed move stops
 * the drain (the host stays in maintenance; what moved stays moved).
 *
 * Defragment: the fewest moves after which a VM of the given shape places
 * (plc_plan_defrag); the moves are executed to the plan's hosts, the VM
 * itself is not created (the answer says where it would go).
 *
 * Calls: vm_ctx, vm_job, vm_place (through vm_migrate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "plc/bridge.h"
#include "plc/plan.h"
#include "vm/vm_spec.h"
#include "vm_migrate_priv.h"
#include "vm_place.h"

#define MOD "drain"

struct move {
    char vm[VM_NAME_MAX];
    char to[VM_NAME_MAX]; /* the plan's host */
    int rank;             /* 0 SBY, 1 no group, 2 ACT */
};

static int move_cmp(const void *a, const void *b)
{
    const struct move *x = a, *y = b;

    return x->rank - y->rank;
}

static const char *host_name_of(struct vm_daemon *d, uint32_t plc_idx)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->plc_idx == plc_idx)
            return d->hosts[i]->name;
    return "?";
}

static struct vm_rt *vm_of_plc(struct vm_daemon *d, uint32_t idx)
{
    for (size_t i = 0; i < d->n_vms; i++)
        if (d->vms[i]->plc_idx == idx)
            return d->vms[i];
    return NULL;
}

/* The plan's MOVE steps as moves (SBYs first when @is_ordered) into *ret
 * (owned, *ret_n of them). Lock held. */
static enum nfv_code plan_moves(struct vm_daemon *d, const struct plc_plan *p, bool is_ordered,
                                struct move **ret, size_t *ret_n, struct nfv_err *err)
{
    size_t n = 0, cap = p->n_steps;
    struct move *out = calloc(cap ? cap : 1, sizeof(*out));

    if (!out)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");

    for (size_t i = 0; i < p->n_steps && n < cap; i++) {
        const struct plc_step *s = &p->steps[i];
        struct vm_rt *vm;
        if (s->kind != PLC_STEP_MOVE || s->vm == PLC_NONE || !(vm = vm_of_plc(d, s->vm)))
            continue;
        snprintf(out[n].vm, sizeof(out[n].vm), "%s", vm->name);
        snprintf(out[n].to, sizeof(out[n].to), "%s", host_name_of(d, s->to.host));
        out[n].rank = vm->role == VM_ROLE_SBY ? 0 : vm->role == VM_ROLE_ACT ? 2 : 1;
        n++;
    }
    if (is_ordered) /* insertion sort: stable, SBYs first */
        for (size_t i = 1; i < n; i++)
            for (size_t k = i; k > 0 && move_cmp(&out[k - 1], &out[k]) > 0; k--) {
                struct move t = out[k - 1];
                out[k - 1] = out[k];
                out[k] = t;
            }
    *ret = out;
    *ret_n = n;
    return NFV_OK;
}

static json_t *moves_json(const struct move *mv, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "vm", mv[i].vm, "to", mv[i].to));
    return a;
}

/*
 * Executes @mv in order: each to its planned host when placement still
 * takes it there, else where placement chooses now. Appends each result to
 * @done; stops at the first failure. Lock held.
 */
static enum nfv_code run_moves(struct vm_daemon *d, const struct move *mv, size_t n, json_t *done,
                               struct nfv_err *err)
{
    for (size_t i = 0; i < n; i++) {
        json_t *r = NULL;
        struct nfv_err e = {0};
        enum nfv_code code =
            vm_migrate_one(d, mv[i].vm, mv[i].to, VM_MIG_AUTO, false, false, &r, &e);
        if (code == NFV_E_NOCAP || code == NFV_E_STATE)
            code = vm_migrate_one(d, mv[i].vm, NULL, VM_MIG_AUTO, false, false, &r, &e);
        if (code != NFV_OK) {
            *err = e;
            nfv_err_prefix(err, "move %zu of %zu", i + 1, n);
            return code;
        }
        json_array_append_new(done, r);
    }
    return NFV_OK;
}

/* run_moves() as one journal entry of kind host_drain on @target, closed
 * with the outcome, and event @ev_type. *ret_done: the moves made (owned).
 * Lock held. */
static enum nfv_code run_journaled(struct vm_daemon *d, const char *target, const struct move *mv,
                                   size_t n, const char *ev_type, json_t **ret_done,
                                   int64_t *ret_op, struct nfv_err *err)
{
    json_t *done = json_array();
    enum nfv_code code;

    *ret_op = 0;
    if (!done)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    vm_db_op_begin(d->db, VM_OP_HOST_DRAIN, target, NULL, vm_daemon_now_ms(), ret_op, NULL);
    code = run_moves(d, mv, n, done, err);
    if (*ret_op)
        vm_db_op_finish(d->db, *ret_op, code == NFV_OK ? VM_OPS_DONE : VM_OPS_FAILED,
                        code == NFV_OK ? NULL : err->msg, vm_daemon_now_ms(), NULL);
    vm_d_event(d, code == NFV_OK ? VM_SEV_INFO : VM_SEV_WARN, ev_type, target,
               "%zu of %zu move(s) done%s", json_array_size(done), n,
               code == NFV_OK ? "" : "; stopped at the first failure");
    if (code != NFV_OK) {
        json_decref(done);
        done = NULL;
    }
    *ret_done = done;
    return code;
}

enum nfv_code vm_daemon_host_drain(struct vm_daemon *d, const char *name, const json_t *body,
                                   bool is_async, json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"dry_run", NULL};
    const json_t *dr = json_object_get(body, "dry_run");
    struct plc_plan *plan = NULL;
    struct move *mv = NULL;
    struct host_rt *h;
    json_t *done = NULL;
    int64_t op_id = 0;
    size_t n = 0;
    enum nfv_code code;

    (void)is_async;
    if (body && vm_req_check_fields(body, fields, err))
        return NFV_E_INVAL;
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    vm_d_lock(d);
    if (!(h = vm_d_host_find(d, name))) {
        code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
        goto out;
    }
    if (h->job) {
        code = NFV_ERR(err, NFV_E_STATE, "host '%s' is busy", name);
        goto out;
    }
    if (!d->cluster || h->plc_idx == PLC_NONE) {
        code = NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' has no known topology yet", name);
        goto out;
    }
    if ((code = plc_plan_drain(d->cluster, h->plc_idx, &plan, err)) != NFV_OK)
        goto out;
    if ((code = plan_moves(d, plan, true, &mv, &n, err)) != NFV_OK)
        goto out;
    if (json_is_true(dr)) {
        *ret = json_pack("{s:s,s:b,s:o}", "host", name, "dry_run", 1, "moves", moves_json(mv, n));
        goto out;
    }
    /* Maintenance first: placement sends nothing new here from now on. */
    if (h->admin != VM_HOST_MAINTENANCE) {
        if ((code = vm_db_host_set_state(d->db, name, VM_HOST_MAINTENANCE, err)) != NFV_OK)
            goto out;
        h->admin = VM_HOST_MAINTENANCE;
        vm_place_host_sync(d, h);
        vm_d_event(d, VM_SEV_INFO, "host_state", name, "maintenance (drain)");
    }
    if ((code = run_journaled(d, name, mv, n, "host_drained", &done, &op_id, err)) == NFV_OK)
        *ret = json_pack("{s:s,s:s,s:I,s:o}", "host", name, "state", "maintenance", "operation_id",
                         (json_int_t)op_id, "moves", done);
out:
    vm_d_unlock(d);
    plc_plan_free(plan);
    free(mv);
    return code;
}

enum nfv_code vm_daemon_defragment(struct vm_daemon *d, const json_t *body, bool is_async,
                                   json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"vcpus",     "memory_mib", "cpu_mode", "thread_policy",
                                         "max_moves", "dry_run",    NULL};
    const json_t *dr = json_object_get(body, "dry_run");
    struct plc_plan *plan = NULL;
    struct vm_spec s = {0};
    struct plc_vm_req vr = {0};
    struct plc_req r = {0};
    struct move *mv = NULL;
    json_t *probe = NULL, *done = NULL, *target = NULL;
    uint64_t max_moves = 8;
    int64_t op_id = 0;
    size_t n = 0;
    unsigned tpc = 1;
    enum nfv_code code;

    (void)is_async;
    if (!body || vm_req_check_fields(body, fields, err) ||
        vm_req_get_uint(body, "max_moves", false, 1, 64, &max_moves, err))
        return NFV_E_INVAL;
    if (!json_object_get(body, "vcpus"))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'vcpus': is required (the VM shape the defragment makes room for)");
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    /* The shape, parsed as a create body would be. */
    probe = json_deep_copy(body);
    json_object_del(probe, "max_moves");
    json_object_del(probe, "dry_run");
    json_object_set_new(probe, "name", json_string("defragment"));
    if (!json_object_get(probe, "memory_mib"))
        json_object_set_new(probe, "memory_mib", json_integer(1024));
    if ((code = vm_spec_parse(probe, vm_spec_vm_fields, &s, err)) != NFV_OK)
        goto done_unlocked;
    vm_d_lock(d);
    for (size_t k = 0; k < d->n_hosts; k++)
        if (d->hosts[k]->topo) {
            tpc = pin_topo_threads_per_core(d->hosts[k]->topo);
            break;
        }
    if (!d->cluster) {
        code = NFV_ERR(err, NFV_E_INTERNAL, "no placement model");
        goto out;
    }
    vr.name = "defragment";
    if ((code = plc_bridge_demand(s.req, s.memory_mib, NULL, tpc, &vr.demand, err)) != NFV_OK)
        goto out;
    r.n_vms = 1;
    r.vms = &vr;
    if ((code = plc_plan_defrag(d->cluster, &r, (size_t)max_moves, &plan, err)) != NFV_OK)
        goto out;
    if ((code = plan_moves(d, plan, false, &mv, &n, err)) != NFV_OK)
        goto out;
    for (size_t i = 0; i < plan->n_steps; i++)
        if (plan->steps[i].vm == PLC_NONE)
            target = json_string(host_name_of(d, plan->steps[i].to.host));
    if (json_is_true(dr) || n == 0) {
        *ret = json_pack("{s:b,s:o,s:o}", "dry_run", json_is_true(dr), "moves", moves_json(mv, n),
                         "fits_on", target ? target : json_null());
        target = NULL;
        goto out;
    }
    if ((code = run_journaled(d, "cluster", mv, n, "cluster_defragmented", &done, &op_id, err)) ==
        NFV_OK) {
        *ret = json_pack("{s:b,s:I,s:o,s:o}", "dry_run", 0, "operation_id", (json_int_t)op_id,
                         "moves", done, "fits_on", target ? target : json_null());
        target = NULL;
    }
out:
    vm_d_unlock(d);
done_unlocked:
    json_decref(target);
    vm_spec_clear(&s);
    json_decref(probe);
    plc_plan_free(plan);
    free(mv);
    return code;
}
