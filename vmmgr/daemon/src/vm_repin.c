/*
 * vm_repin.c - POST /v1/vms/NAME/repin: new cores or a new CPU mode for a
 * VM on its own host, applied live (issue 16), one journaled job:
 *
 *   lock held    the stored request with the body's pin fields replaced ->
 *                placement and pinning on the VM's host (vm_place_claim
 *                with the host forced: the new PUs must be free now, so the
 *                old ones are held until the end) -> claimed under a
 *                temporary owner "~NAME" -> one transaction: journal entry
 *                (payload: host, plan) + the new allocation rows
 *   unlocked     every vCPU and the emulator threads pinned live and in the
 *                persistent config (vm_pins_repair against the new plan:
 *                virDomainPinVcpuFlags / virDomainPinEmulator, LIVE|CONFIG),
 *                then read back (from libvirt, which reads the threads'
 *                affinity): any difference left fails the job
 *   lock held    commit: plan, request and rows swap, the old PUs are
 *                released, event vm_repinned
 *
 * A failure pins the old plan back and releases the new PUs. A crash
 * leaves the entry pending; recovery rolls it back (new rows dropped) and
 * reconcile's pin check puts the old plan back on the guest. Crash points:
 * vm_pin_change.after_journal, .after_pin, .before_commit.
 *
 * Calls: vm_ctx, vm_job, vm_pins, vm_view, vm_place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "vm/vm_db_move.h"
#include "vm/vm_spec.h"
#include "vm_migrate_priv.h"
#include "vm_pins.h"
#include "vm_place.h"
#include "vm_view.h"

#define MOD "repin"

/* Pin fields a re-pin may change; anything else of the request stays. */
static const char *const pin_fields[] = {
    "cpu_mode", "cpu_map", "shared_vcpus", "thread_policy", "emulator", "numa_node", NULL};

/* The stored request of @vm with @body's pin fields, parsed. Lock held. */
static enum nfv_code merged_request(struct vm_daemon *d, const struct vm_rt *vm, const json_t *body,
                                    json_t **ret_json, struct vm_spec *ret_spec,
                                    struct nfv_err *err)
{
    struct vm_db_vm row;
    json_t *spec, *parse;
    enum nfv_code code;

    if ((code = vm_db_vm_get(d->db, vm->name, &row, err)) != NFV_OK)
        return code;
    spec = json_loads(row.spec, 0, NULL);
    vm_db_vm_clear(&row);
    if (!spec)
        return NFV_ERR(err, NFV_E_INTERNAL, "VM '%s': its stored request is not JSON", vm->name);
    /* A new mode replaces the old mode's details. */
    if (json_object_get(body, "cpu_mode")) {
        json_object_del(spec, "cpu_map");
        json_object_del(spec, "shared_vcpus");
    }
    for (size_t i = 0; pin_fields[i]; i++) {
        json_t *v = json_object_get(body, pin_fields[i]);
        if (v)
            json_object_set(spec, pin_fields[i], v);
    }
    json_object_set_new(spec, "host", json_string(vm->host->name));
    parse = json_deep_copy(spec);
    json_object_del(parse, "group");
    json_object_del(parse, "role");
    code = parse ? vm_spec_parse(parse, vm_spec_vm_fields, ret_spec, err)
                 : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (code == NFV_OK && ret_spec->req->n_vcpus != vm->req->n_vcpus)
        code = NFV_ERR(err, NFV_E_INVAL, "'vcpus': a re-pin keeps the VM's %u vCPUs",
                       vm->req->n_vcpus);
    if (code != NFV_OK) {
        vm_spec_clear(ret_spec);
        json_decref(parse);
        json_decref(spec);
        return code;
    }
    json_decref(parse); /* the spec borrows nothing we keep: req is owned */
    *ret_json = spec;
    return NFV_OK;
}

/* Pins @plan on the guest (live and config) and reads it back: 0 when the
 * guest runs as @plan says, else -1. Unlocked. */
static int apply_plan(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                      const struct pin_plan *plan, char *desc, size_t desc_size)
{
    char again[256];

    if (vm_pins_repair(d, conn, name, plan, desc, desc_size) < 0)
        return -1;
    return vm_pins_repair(d, conn, name, plan, again, sizeof(again)) == 0 ? 0 : -1;
}

enum nfv_code vm_daemon_vm_repin(struct vm_daemon *d, const char *name, const json_t *body,
                                 json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"cpu_mode",       "cpu_map",  "shared_vcpus",
                                         "thread_policy",  "emulator", "numa_node",
                                         "ignore_reserve", "dry_run",  NULL};
    const json_t *ir = json_object_get(body, "ignore_reserve"),
                 *dr = json_object_get(body, "dry_run");
    struct vm_place_slot slot = {0};
    struct vm_spec s = {0};
    struct vm_db_alloc allocs[PIN_MAX_PUS / 8];
    struct vm_job job;
    struct vm_hv_conn *conn = NULL;
    struct vm_rt *vm;
    struct pin_plan *old = NULL;
    json_t *spec_json = NULL, *payload;
    char owner[PIN_OWNER_SIZE], *ptext = NULL, *spec_text = NULL, *plan_text = NULL;
    char desc[512] = "", pus_old[128], pus_new[128];
    unsigned old_pus[PIN_MAX_PUS];
    size_t n_allocs, n_old = 0;
    bool is_running, has_field = false;
    int64_t op_id;
    enum nfv_code code;

    if (!body || vm_req_check_fields(body, fields, err))
        return NFV_E_INVAL;
    for (size_t i = 0; pin_fields[i]; i++)
        has_field |= json_object_get(body, pin_fields[i]) != NULL;
    if (!has_field)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'cpu_mode': a re-pin names at least one of cpu_mode, cpu_map, "
                       "shared_vcpus, thread_policy, emulator, numa_node");
    if ((ir && !json_is_boolean(ir)) || (dr && !json_is_boolean(dr)))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must be true or false",
                       ir && !json_is_boolean(ir) ? "ignore_reserve" : "dry_run");
    if (snprintf(owner, sizeof(owner), "~%s", name) >= (int)sizeof(owner))
        return NFV_ERR(err, NFV_E_INVAL, "'name': '%s' is too long to re-pin", name);
    vm_d_lock(d);
    if ((code = vm_job_find_idle(d, name, &vm, err)) != NFV_OK)
        goto out;
    if (vm->state != VM_GUEST_RUNNING && vm->state != VM_GUEST_STOPPED) {
        code = NFV_ERR(err, NFV_E_STATE, "VM '%s' is %s: only a running or stopped VM is re-pinned",
                       name, vm_guest_state_to_string(vm->state));
        goto out;
    }
    if (!vm->host->conn) {
        code = NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is unreachable", vm->host->name);
        goto out;
    }
    if ((code = merged_request(d, vm, body, &spec_json, &s, err)) != NFV_OK)
        goto out;
    slot.name = owner;
    slot.force_host = vm->host->name;
    slot.req = s.req;
    slot.memory_mib = 0; /* the VM's memory stays where it is */
    if ((code = vm_place_claim(d, &slot, 1, NULL, VM_SCOPE_HOST, json_is_true(ir), err)) !=
        NFV_OK) {
        nfv_err_prefix(err, "re-pin of '%s'", name);
        goto out;
    }
    if (json_is_true(dr)) {
        *ret = json_pack("{s:s,s:s,s:b,s:o}", "name", name, "host", vm->host->name, "dry_run", 1,
                         "plan", pin_plan_to_json(slot.plan));
        vm_place_release(&slot, 1);
        goto out;
    }
    payload = json_pack("{s:s,s:o}", "host", vm->host->name, "plan", pin_plan_to_json(slot.plan));
    ptext = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    spec_text = json_dumps(spec_json, JSON_COMPACT | JSON_SORT_KEYS);
    {
        json_t *pj = pin_plan_to_json(slot.plan);
        plan_text = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
        json_decref(pj);
    }
    n_allocs = vm_place_allocs(slot.plan, allocs, sizeof(allocs) / sizeof(allocs[0]));
    if (!ptext || !spec_text || !plan_text || (code = vm_db_begin(d->db, err)) != NFV_OK) {
        code = code ? code : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        vm_place_release(&slot, 1);
        goto out;
    }
    if ((code = vm_job_begin(d, &job, VM_OP_VM_PIN_CHANGE, "repin", vm, NULL, true, name, ptext,
                             err)) != NFV_OK) {
        vm_db_rollback(d->db);
        vm_place_release(&slot, 1);
        goto out;
    }
    if ((code = vm_db_alloc_add(d->db, name, vm->host->id, allocs, n_allocs, err)) != NFV_OK ||
        (code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        job.op_id = 0;
        vm_job_end(&job, VM_OPS_FAILED, NULL, false);
        vm_place_release(&slot, 1);
        goto out;
    }
    op_id = job.op_id;
    vm_job_step(&job, "claimed");
    vm_migrate_shadow_add(d, vm->host, owner, slot.plan, 0);
    vm_job_conn(&job, vm->host, &conn, NULL);
    old = pin_plan_dup(vm->plan);
    is_running = vm->state == VM_GUEST_RUNNING;
    vm_d_crash_point(d, VM_OP_VM_PIN_CHANGE, "after_journal");
    vm_job_leave(&job);
    if (is_running) {
        if (apply_plan(d, conn, name, slot.plan, desc, sizeof(desc)) != 0)
            code = NFV_ERR(err, NFV_E_HYPERVISOR,
                           "re-pin of '%s': the live pins do not follow the new plan; the old "
                           "pins are back",
                           name);
    } else {
        /* Shut off: the persistent config only (the driver pins CONFIG). */
        for (unsigned v = 0; code == NFV_OK && v < slot.plan->n_vcpus; v++) {
            struct pin_cpuset want;
            pin_plan_vcpu_cpuset(slot.plan, v, &want);
            code = VM_HV(d, vcpu_pin, conn, name, v, &want, err);
        }
        if (code == NFV_OK && d->hv->emulator_pin && pin_cpuset_count(&slot.plan->emulator))
            code = VM_HV(d, emulator_pin, conn, name, &slot.plan->emulator, err);
    }
    if (code == NFV_OK)
        vm_d_crash_point(d, VM_OP_VM_PIN_CHANGE, "after_pin");
    else if (old) {
        /* Roll back: the old pins again. */
        char back[256];
        if (is_running)
            apply_plan(d, conn, name, old, back, sizeof(back));
    }
    vm_job_reenter(&job);
    vm_migrate_shadow_drop(d, owner);
    if (code != NFV_OK) {
        vm_db_begin(d->db, NULL);
        for (size_t i = 0; i < n_allocs; i++)
            old_pus[i] = allocs[i].pu;
        vm_db_alloc_drop(d->db, name, vm->host->id, old_pus, n_allocs, NULL);
        vm_job_end(&job, VM_OPS_FAILED, err->msg, false);
        vm_db_commit(d->db, NULL);
        vm_place_release(&slot, 1);
        goto out;
    }
    vm_d_crash_point(d, VM_OP_VM_PIN_CHANGE, "before_commit");
    /* The old PUs: those of the old plan (none is in the new one). */
    {
        struct vm_db_alloc oa[PIN_MAX_PUS / 8];
        size_t n = vm_place_allocs(vm->plan, oa, sizeof(oa) / sizeof(oa[0]));
        for (size_t i = 0; i < n; i++)
            old_pus[n_old++] = oa[i].pu;
    }
    vm_db_begin(d->db, NULL);
    if ((code = vm_db_alloc_drop(d->db, name, vm->host->id, old_pus, n_old, err)) != NFV_OK ||
        (code = vm_db_vm_move(d->db, name, vm->host->id, plan_text, spec_text, vm_daemon_now_ms(),
                              err)) != NFV_OK) {
        vm_db_rollback(d->db);
        vm_job_end(&job, VM_OPS_FAILED, NULL, true); /* recovery undoes it */
        goto out;
    }
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto out;
    }
    pin_cpuset_format(&vm->plan->claimed, pus_old, sizeof(pus_old));
    pin_cpuset_format(&slot.plan->claimed, pus_new, sizeof(pus_new));
    /* Memory: the old claim goes, the new one is the VM's. */
    pin_alloc_release(vm->host->alloc, name, NULL);
    vm_place_release(&slot, 1);
    pin_alloc_claim(vm->host->alloc, slot.plan, name, NULL);
    vm_place_vm_removed(d, vm);
    pin_plan_free(vm->plan);
    vm->plan = slot.plan;
    slot.plan = NULL;
    pin_request_free(vm->req);
    vm->req = s.req;
    s.req = NULL;
    vm_place_vm_added(d, vm);
    vm_d_event(d, VM_SEV_INFO, "vm_repinned", name, "on %s: PUs %s -> %s%s", vm->host->name,
               pus_old, pus_new, is_running ? " (live)" : "");
    *ret = vm_view_vm_json(d, vm, true);
    if (*ret)
        json_object_set_new(*ret, "operation_id", json_integer(op_id));
out:
    vm_d_unlock(d);
    pin_plan_free(old);
    pin_plan_free(slot.plan);
    vm_spec_clear(&s);
    json_decref(spec_json);
    free(ptext);
    free(spec_text);
    free(plan_text);
    return code;
}

enum vm_recovery vm_repin_recover(struct vm_daemon *d, const struct vm_db_op *op)
{
    json_t *p = json_loads(op->payload ? op->payload : "{}", 0, NULL);
    const json_t *hj = json_object_get(p, "host");
    struct host_rt *h = vm_d_host_find(d, json_is_string(hj) ? json_string_value(hj) : "");
    struct vm_rt *vm = vm_d_vm_find(d, op->target);
    struct pin_plan *plan = NULL;

    if (vm && vm->job) {
        json_decref(p);
        return VM_RECOVER_DEFER;
    }
    /* The new rows go; the VM keeps the plan it had (reconcile's pin check
     * puts it back on the guest). */
    if (h && pin_plan_from_json(json_object_get(p, "plan"), &plan, NULL) == NFV_OK) {
        struct vm_db_alloc a[PIN_MAX_PUS / 8];
        unsigned pus[PIN_MAX_PUS];
        size_t n = vm_place_allocs(plan, a, sizeof(a) / sizeof(a[0]));
        bool is_kept = vm && vm->plan && pin_cpuset_equal(&vm->plan->claimed, &plan->claimed);
        for (size_t i = 0; i < n; i++)
            pus[i] = a[i].pu;
        if (!is_kept) /* committed already: the rows are the VM's now */
            vm_db_alloc_drop(d->db, op->target, h->id, pus, n, NULL);
        pin_plan_free(plan);
        if (is_kept) {
            json_decref(p);
            return VM_RECOVER_FINISH;
        }
    }
    if (h && h->alloc && strlen(op->target) + 2 <= PIN_OWNER_SIZE) {
        char owner[PIN_OWNER_SIZE + 130];
        snprintf(owner, sizeof(owner), "~%s", op->target);
        pin_alloc_release(h->alloc, owner, NULL);
        vm_migrate_shadow_drop(d, owner);
    }
    json_decref(p);
    return VM_RECOVER_ROLLBACK;
}
