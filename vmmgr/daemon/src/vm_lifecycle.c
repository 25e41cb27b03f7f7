/*
 * vm_lifecycle.c - start, stop, reboot and delete of a VM, each a job:
 * claim the VM and journal (lock held), call libvirt without the lock (a
 * graceful stop may wait 10 s for the guest), then commit the new state,
 * close the journal entry and emit the event. A busy VM answers
 * INVALID_STATE naming the job in progress.
 *
 * Calls: vm_ctx, vm_job, vm_net, vm_pins, vm_view, vm_place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm_net.h"
#include "vm_pins.h"
#include "vm_place.h"
#include "vm_view.h"

static const enum vm_op_kind action_kinds[VM_ACT__COUNT] = {
    [VM_ACT_START] = VM_OP_VM_START,
    [VM_ACT_STOP] = VM_OP_VM_STOP,
    [VM_ACT_REBOOT] = VM_OP_VM_REBOOT,
    [VM_ACT_DELETE] = VM_OP_VM_DELETE,
};

/* The libvirt part of an action, run without the daemon lock. */
static enum nfv_code action_do(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                               enum vm_guest_action action, bool is_force, struct nfv_err *err)
{
    enum nfv_code code = NFV_OK;

    switch (action) {
    case VM_ACT_START:
        code = VM_HV(d, domain_start, conn, name, err);
        break;
    case VM_ACT_STOP:
        code = VM_HV(d, domain_stop, conn, name, is_force, err);
        /* A guest that ignores ACPI is destroyed after 10 s, as virsh users
         * would do by hand. */
        if (code == NFV_OK && !is_force &&
            vm_job_wait_dom_state(d, conn, name, VM_HV_DOM_SHUTOFF, 10000))
            code = VM_HV(d, domain_stop, conn, name, true, err);
        break;
    case VM_ACT_REBOOT:
        code = VM_HV(d, domain_reboot, conn, name, err);
        break;
    default:
        break;
    }
    return code;
}

/* Begins a lifecycle job on idle @vm: host reachable, journaled, its
 * connection held. Lock held. */
static enum nfv_code begin(struct vm_daemon *d, struct vm_job *job, struct vm_rt *vm,
                           enum vm_guest_action action, struct vm_hv_conn **ret_conn,
                           struct nfv_err *err)
{
    enum nfv_code code;

    if (!vm->host->conn)
        return NFV_ERR(err, NFV_E_UNREACHABLE,
                       action == VM_ACT_DELETE
                           ? "host '%s' is unreachable; the domain cannot be removed now"
                           : "host '%s' is unreachable",
                       vm->host->name);
    if ((code = vm_job_begin(d, job, action_kinds[action], vm_guest_action_to_string(action), vm,
                             NULL, true, vm->name, NULL, err)) != NFV_OK)
        return code;
    vm_job_conn(job, vm->host, ret_conn, NULL);
    return NFV_OK;
}

enum nfv_code vm_daemon_vm_action(struct vm_daemon *d, const char *name, const char *action_s,
                                  const json_t *body, json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"force", NULL};
    enum vm_guest_action action = vm_guest_action_from_string(action_s);
    bool is_force = json_is_true(json_object_get(body, "force"));
    enum vm_guest_step step;
    enum vm_guest_state next;
    struct vm_hv_conn *conn = NULL;
    struct vm_rt *vm;
    struct vm_job job;
    struct pin_plan *plan = NULL;
    char pin_desc[512] = "";
    int n_pin = 0;
    enum nfv_code code;

    if (action == VM_ACT__COUNT || action == VM_ACT_DELETE)
        return NFV_ERR(err, NFV_E_NOENT, "'%s': no such VM action", action_s);
    if (body && vm_req_check_fields(body, fields, err))
        return NFV_E_INVAL;
    vm_d_lock(d);
    if ((code = vm_job_find_idle(d, name, &vm, err)) != NFV_OK ||
        (code = vm_guest_next(vm->state, action, &step, &next, err)) != NFV_OK)
        goto out;
    if (step == VM_STEP_DO) {
        if ((code = begin(d, &job, vm, action, &conn, err)) != NFV_OK)
            goto out;
        plan = pin_plan_dup(vm->plan);
        vm_job_leave(&job);
        code = action_do(d, conn, name, action, is_force, err);
        if (code == NFV_OK && next == VM_GUEST_RUNNING && plan)
            n_pin = vm_pins_repair(d, conn, name, plan, pin_desc, sizeof(pin_desc));
        vm_job_reenter(&job);
        pin_plan_free(plan);
        if (code == NFV_OK && next == VM_GUEST_RUNNING)
            vm_pins_record(d, name, action == VM_ACT_REBOOT ? "after reboot" : "after start", n_pin,
                           pin_desc);
        vm_db_begin(d->db, NULL);
        if (code == NFV_OK)
            vm_db_vm_set_state(d->db, name, next, vm_daemon_now_ms(), NULL);
        vm_job_end(&job, code == NFV_OK ? VM_OPS_DONE : VM_OPS_FAILED,
                   code == NFV_OK ? NULL : err->msg, false);
        vm_db_commit(d->db, NULL);
        if (code != NFV_OK)
            goto out;
        vm->state = next;
        vm_d_event(d, VM_SEV_INFO,
                   action == VM_ACT_START  ? "vm_started"
                   : action == VM_ACT_STOP ? "vm_stopped"
                                           : "vm_rebooted",
                   name, "%s%s", vm_guest_action_to_string(action), is_force ? " (forced)" : "");
    }
    *ret = vm_view_vm_json(d, vm, false);
out:
    vm_d_unlock(d);
    return code;
}

enum nfv_code vm_daemon_vm_delete(struct vm_daemon *d, const char *name, json_t **ret,
                                  struct nfv_err *err)
{
    enum vm_guest_step step;
    enum vm_guest_state next;
    struct vm_hv_conn *conn = NULL;
    struct vm_rt *vm;
    struct vm_job job;
    char host[VM_NAME_MAX];
    enum nfv_code code;

    vm_d_lock(d);
    if ((code = vm_job_find_idle(d, name, &vm, err)) != NFV_OK ||
        (code = vm_guest_next(vm->state, VM_ACT_DELETE, &step, &next, err)) != NFV_OK ||
        (code = begin(d, &job, vm, VM_ACT_DELETE, &conn, err)) != NFV_OK)
        goto out;
    vm_d_crash_point(d, VM_OP_VM_DELETE, "after_journal");
    /* Journaled; undefine (a destroy first when running) runs unlocked. */
    vm_job_leave(&job);
    code = VM_HV(d, domain_undefine, conn, name, err);
    if (code == NFV_OK || code == NFV_E_NOENT)
        vm_d_crash_point(d, VM_OP_VM_DELETE, "after_undefine");
    /* vm_net (issue 15): the trunk drops the VLANs no other VM on the host
     * uses. A switch failure does not stop the delete: it is recorded and
     * repaired (the monitor retries, reconcile checks). */
    if (code == NFV_OK || code == NFV_E_NOENT)
        vm_net_vm_leaving(d, &job, vm, "switched", NULL);
    vm_job_reenter(&job);
    if (code == NFV_E_NOENT) /* already gone: deleting is idempotent */
        code = NFV_OK;
    if (code != NFV_OK) {
        vm_job_end(&job, VM_OPS_FAILED, err->msg, false);
        goto out;
    }
    vm_d_crash_point(d, VM_OP_VM_DELETE, "before_commit");
    if ((code = vm_db_begin(d->db, err)) != NFV_OK) {
        vm_job_end(&job, VM_OPS_FAILED, NULL, true); /* recovery finishes it */
        goto out;
    }
    vm_db_vm_delete(d->db, name, NULL);
    vm_db_group_prune(d->db, NULL);
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto out;
    }
    if (vm->host->alloc)
        pin_alloc_release(vm->host->alloc, name, NULL);
    snprintf(host, sizeof(host), "%s", vm->host->name);
    vm_place_vm_removed(d, vm);
    vm_d_vm_detach(d, vm);
    vm_d_vm_free(vm);
    vm_d_event(d, VM_SEV_INFO, "vm_deleted", name, "deleted from %s; its PUs are free", host);
    *ret = json_pack("{s:s,s:b}", "name", name, "deleted", 1);
out:
    vm_d_unlock(d);
    return code;
}
