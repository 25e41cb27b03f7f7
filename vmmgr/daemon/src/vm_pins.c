/*
 * vm_pins.c - pin checks: after a create, start or reboot, on libvirt's
 * tunable/lifecycle events, at reconcile, and GET /v1/vms/NAME/pins (plan
 * next to the live pins). libvirt is only ever called without the lock,
 * inside a job that holds the host's connection.
 *
 * Calls: vm_ctx, vm_job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "vm_pins.h"

#define MOD "pins"

/* Reads the emulator-thread pin of @name when the driver can and @plan pins
 * the emulator (an empty set is not compared). False when not read. */
static bool emulator_read(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                          const struct pin_plan *plan, struct pin_cpuset *ret)
{
    struct nfv_err e = {0};

    if (!d->hv->emulator_pins || pin_cpuset_count(&plan->emulator) == 0)
        return false;
    if (VM_HV(d, emulator_pins, conn, name, ret, &e) != NFV_OK) {
        NFV_LOG_DEBUG(MOD, "'%s': cannot read the emulator pin: %s", name, e.msg);
        return false;
    }
    return true;
}

int vm_pins_repair(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                   const struct pin_plan *plan, char *desc, size_t desc_size)
{
    struct pin_cpuset *have, have_emu;
    struct pin_drift_item items[16];
    struct nfv_err e = {0};
    unsigned n_drift, n_vcpu_drift;
    bool is_emu_read, is_emu_drift;

    have = calloc(plan->n_vcpus ? plan->n_vcpus : 1, sizeof(*have));
    if (!have)
        return -1;
    if (VM_HV(d, vcpu_pins, conn, name, plan->n_vcpus, have, &e) != NFV_OK) {
        NFV_LOG_DEBUG(MOD, "'%s': cannot read pins: %s", name, e.msg);
        free(have);
        return -1;
    }
    is_emu_read = emulator_read(d, conn, name, plan, &have_emu);
    n_drift = pin_plan_diff(plan, have, plan->n_vcpus, is_emu_read ? &have_emu : NULL, items, 16);
    free(have);
    if (n_drift == 0)
        return 0;
    is_emu_drift = is_emu_read && !pin_cpuset_equal(&have_emu, &plan->emulator);
    n_vcpu_drift = n_drift - is_emu_drift;
    pin_drift_format(items, n_drift < 16 ? n_drift : 16, desc, desc_size);
    for (unsigned v = 0; n_vcpu_drift && v < plan->n_vcpus; v++) {
        struct pin_cpuset want;
        pin_plan_vcpu_cpuset(plan, v, &want);
        if (VM_HV(d, vcpu_pin, conn, name, v, &want, &e) != NFV_OK)
            NFV_LOG_WARN(MOD, "'%s': re-pin of vcpu %u failed: %s", name, v, e.msg);
    }
    if (is_emu_drift && d->hv->emulator_pin &&
        VM_HV(d, emulator_pin, conn, name, &plan->emulator, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "'%s': re-pin of the emulator threads failed: %s", name, e.msg);
    return (int)n_drift;
}

void vm_pins_record(struct vm_daemon *d, const char *name, const char *why, int n, const char *desc)
{
    if (n < 0) {
        NFV_LOG_WARN(MOD, "'%s': pins could not be verified (%s)", name, why);
    } else if (n > 0) {
        d->metrics.drift_events++;
        vm_d_event(d, VM_SEV_WARN, "pin_drift", name, "%s: %s; plan re-applied", why, desc);
    }
}

int vm_pins_check(struct vm_daemon *d, struct vm_rt *vm, const char *why)
{
    struct vm_job job;
    struct vm_hv_conn *conn;
    struct pin_plan *plan;
    char name[VM_NAME_MAX], desc[512] = "";
    int n;

    if (vm->job || !vm->host->conn)
        return -1;
    if (vm_job_begin(d, &job, VM_OP_VM_REPIN, "pin check", vm, NULL, false, NULL, NULL, NULL))
        return -1;
    plan = pin_plan_dup(vm->plan);
    if (!plan || vm_job_conn(&job, vm->host, &conn, NULL) != NFV_OK) {
        pin_plan_free(plan);
        vm_job_end(&job, VM_OPS_FAILED, NULL, false);
        return -1;
    }
    snprintf(name, sizeof(name), "%s", vm->name);
    vm_job_leave(&job);
    n = vm_pins_repair(d, conn, name, plan, desc, sizeof(desc));
    vm_job_reenter(&job);
    pin_plan_free(plan);
    if (n > 0)
        vm_pins_record(d, name, why, n, desc);
    vm_job_end(&job, n < 0 ? VM_OPS_FAILED : VM_OPS_DONE, NULL, false);
    return n;
}

/* GET /v1/vms/NAME/pins: the plan next to what libvirt reports. */
enum nfv_code vm_daemon_vm_pins(struct vm_daemon *d, const char *name, json_t **ret,
                                struct nfv_err *err)
{
    struct pin_cpuset *have = NULL, have_emu;
    struct pin_plan *plan = NULL;
    struct vm_hv_conn *conn = NULL;
    struct vm_job job;
    struct vm_rt *vm;
    char host[VM_NAME_MAX], state[32];
    json_t *arr = NULL;
    enum nfv_code code = NFV_OK;
    bool is_live = false, is_emu_live = false, is_emu_ok;
    unsigned n_drift = 0;

    vm_d_lock(d);
    vm = vm_d_vm_find(d, name);
    if (!vm) {
        vm_d_unlock(d);
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    }
    /* A query job: claims nothing (a stop may run meanwhile), holds the
     * connection so that libvirt is asked without the lock. */
    vm_job_begin(d, &job, VM_OP_VM_REPIN, "pins query", NULL, NULL, false, NULL, NULL, NULL);
    plan = pin_plan_dup(vm->plan);
    snprintf(host, sizeof(host), "%s", vm->host->name);
    snprintf(state, sizeof(state), "%s", vm_guest_state_to_string(vm->state));
    if (vm_job_conn(&job, vm->host, &conn, NULL) != NFV_OK)
        conn = NULL;
    vm_job_leave(&job);
    have = plan ? calloc(plan->n_vcpus ? plan->n_vcpus : 1, sizeof(*have)) : NULL;
    arr = json_array();
    if (!have || !arr) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    if (conn) {
        struct nfv_err e = {0};
        is_live = VM_HV(d, vcpu_pins, conn, name, plan->n_vcpus, have, &e) == NFV_OK;
        is_emu_live = is_live && emulator_read(d, conn, name, plan, &have_emu);
    }
    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        struct pin_cpuset want;
        char w[128], h[128];
        bool is_ok;
        pin_plan_vcpu_cpuset(plan, v, &want);
        pin_cpuset_format(&want, w, sizeof(w));
        pin_cpuset_format(&have[v], h, sizeof(h));
        is_ok = is_live && pin_cpuset_equal(&want, &have[v]);
        n_drift += is_live && !is_ok;
        json_array_append_new(
            arr, json_pack("{s:i,s:s,s:s,s:s*,s:b}", "vcpu", (int)v, "mode",
                           pin_cpu_mode_to_string((enum pin_cpu_mode)plan->vcpu_mode[v]), "plan", w,
                           "live", is_live ? h : NULL, "ok", is_ok));
    }
    {
        /* The emulator threads: compared only when the plan pins them
         * (emulator_live is null when not read). */
        char emu[128], emu_live[128];
        pin_cpuset_format(&plan->emulator, emu, sizeof(emu));
        if (is_emu_live)
            pin_cpuset_format(&have_emu, emu_live, sizeof(emu_live));
        is_emu_ok = is_emu_live && pin_cpuset_equal(&have_emu, &plan->emulator);
        n_drift += is_emu_live && !is_emu_ok;
        *ret = json_pack("{s:s,s:s,s:s,s:b,s:i,s:s,s:s*,s:b,s:o}", "name", name, "host", host,
                         "state", state, "live", is_live, "drift", (int)n_drift, "emulator_plan",
                         emu, "emulator_live", is_emu_live ? emu_live : NULL, "emulator_ok",
                         is_emu_ok, "vcpus", arr);
        arr = NULL;
    }
out:
    vm_job_reenter(&job);
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    vm_d_unlock(d);
    json_decref(arr);
    free(have);
    pin_plan_free(plan);
    return code;
}
