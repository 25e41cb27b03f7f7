/*
 * vm_view.c - read-only answers about VMs and groups: GET /v1/vms (written
 * as text, fast at 10,000 VMs), GET /v1/vms/NAME, groups. Queries never
 * call libvirt; GET /v1/vms/NAME/pins, which does, is vm_pins.c's.
 *
 * Calls: vm_ctx, vm_job (what a busy VM is doing), vm_net (its networks).
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_job.h"
#include "vm_net.h"
#include "vm_view.h"

json_t *vm_view_vm_json(struct vm_daemon *d, const struct vm_rt *vm, bool is_full)
{
    char pus[256];
    json_t *o;

    pin_cpuset_format(&vm->plan->claimed, pus, sizeof(pus));
    o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "name", vm->name, "host", vm->host->name,
                  "state", vm_guest_state_to_string(vm->state), "role", vm_role_to_string(vm->role),
                  "vcpus", (int)vm->plan->n_vcpus, "memory_mib", (json_int_t)vm->memory_mib, "pus",
                  pus);
    if (!o)
        return NULL;
    json_object_set_new(o, "group", vm->group[0] ? json_string(vm->group) : json_null());
    /* The job working on the VM right now (create, start, stop, ...). */
    json_object_set_new(o, "busy", vm->job ? json_string(vm_job_what(vm->job)) : json_null());
    json_object_set_new(o, "uuid", vm->uuid[0] ? json_string(vm->uuid) : json_null());
    if (is_full) {
        json_t *peers = json_array();
        for (size_t i = 0; vm->group[0] && i < d->n_vms; i++) {
            const struct vm_rt *p = d->vms[i];
            if (p != vm && strcmp(p->group, vm->group) == 0)
                json_array_append_new(peers,
                                      json_pack("{s:s,s:s,s:s,s:s}", "name", p->name, "role",
                                                vm_role_to_string(p->role), "host", p->host->name,
                                                "state", vm_guest_state_to_string(p->state)));
        }
        json_object_set_new(o, "peers", peers);
        json_object_set_new(o, "plan", pin_plan_to_json(vm->plan));
        json_object_set_new(o, "request", pin_request_to_json(vm->req));
        json_object_set_new(o, "networks", vm_net_vm_json(vm)); /* issue 15 */
    }
    return o;
}

/*
 * GET /v1/vms as text, written directly: with 10,000 VMs building a jansson
 * tree (8 objects per VM) and dumping it costs more than the 50 ms budget.
 * Every string here is a validated name ([A-Za-z0-9._-]), a fixed enum name,
 * a UUID or a CPU list, so none needs JSON escaping.
 */
enum nfv_code vm_daemon_vm_list_text(struct vm_daemon *d, char **ret_text, struct nfv_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    vm_d_lock(d);
    fputs("{\"vms\":[", f);
    for (size_t i = 0; i < d->n_vms; i++) {
        const struct vm_rt *vm = d->vms[i];
        char pus[256];
        pin_cpuset_format(&vm->plan->claimed, pus, sizeof(pus));
        fprintf(f,
                "%s{\"name\":\"%s\",\"host\":\"%s\",\"state\":\"%s\",\"role\":\"%s\","
                "\"vcpus\":%u,\"memory_mib\":%llu,\"pus\":\"%s\",\"group\":",
                i ? "," : "", vm->name, vm->host->name, vm_guest_state_to_string(vm->state),
                vm_role_to_string(vm->role), vm->plan->n_vcpus, (unsigned long long)vm->memory_mib,
                pus);
        if (vm->group[0])
            fprintf(f, "\"%s\"}", vm->group);
        else
            fputs("null}", f);
    }
    vm_d_unlock(d);
    fputs("]}\n", f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    *ret_text = buf;
    return NFV_OK;
}

enum nfv_code vm_daemon_vm_show(struct vm_daemon *d, const char *name, json_t **ret,
                                struct nfv_err *err)
{
    struct vm_rt *vm;

    vm_d_lock(d);
    vm = vm_d_vm_find(d, name);
    *ret = vm ? vm_view_vm_json(d, vm, true) : NULL;
    vm_d_unlock(d);
    if (!vm)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

static int group_cb(void *opaque, const char *name, enum vm_scope scope, unsigned n)
{
    json_array_append_new(opaque, json_pack("{s:s,s:s,s:i}", "name", name, "scope",
                                            vm_scope_to_string(scope), "members", (int)n));
    return 0;
}

enum nfv_code vm_daemon_group_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    json_t *arr = json_array();
    enum nfv_code code;

    vm_d_lock(d);
    code = vm_db_group_list(d->db, group_cb, arr, err);
    vm_d_unlock(d);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:o}", "groups", arr);
    return NFV_OK;
}

enum nfv_code vm_daemon_group_show(struct vm_daemon *d, const char *name, json_t **ret,
                                   struct nfv_err *err)
{
    enum vm_scope scope = VM_SCOPE_HOST;
    json_t *arr = json_array();
    enum nfv_code code;
    int64_t gid;

    vm_d_lock(d);
    code = vm_db_group_get(d->db, name, &gid, &scope, err);
    for (size_t i = 0; code == NFV_OK && i < d->n_vms; i++)
        if (strcmp(d->vms[i]->group, name) == 0)
            json_array_append_new(arr, vm_view_vm_json(d, d->vms[i], false));
    vm_d_unlock(d);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:s,s:s,s:o}", "name", name, "scope", vm_scope_to_string(scope), "members",
                     arr);
    return NFV_OK;
}
