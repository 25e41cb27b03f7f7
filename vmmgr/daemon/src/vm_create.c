/*
 * vm_create.c - POST /v1/vms and POST /v1/groups: one VM, or a group's
 * members placed together, as one job:
 *
 *   lock held    parse -> resolve networks (vm_net) -> place and claim PUs
 *                (vm_place) -> journal every member and insert its row with
 *                its PUs (one transaction) -> list the VMs as "creating",
 *                claimed by the job
 *   unlocked     the hosts' trunks gain the members' VLANs (vm_net, step
 *                "switched") -> define -> start -> verify/repair pins
 *   lock held    commit: state running, journal entries done, events
 *
 * A failure undoes what was done (undefine without the lock, then rows,
 * journal and claims). A crash anywhere leaves the journal entries pending
 * with the step reached; start-up recovery finishes or rolls back each.
 * With "async" the answer is the operation id once the PUs are reserved,
 * and the unlocked half runs on a worker thread.
 *
 * Calls: vm_ctx, vm_job, vm_net, vm_pins, vm_view, vm_place, vm_build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "vm_build.h"
#include "vm_net.h"
#include "vm_pins.h"
#include "vm_place.h"
#include "vm_view.h"

#define MOD "create"

struct member {
    struct vm_spec spec;
    struct vm_place_slot slot;
    struct vm_rt *vm; /* listed as creating once journaled */
    int64_t op_id;
    char *spec_text;
    char *xml;
    bool is_defined;
    int n_pin_drift;    /* vm_pins_repair() after the start */
    char pin_desc[512]; /* ... and what differed */
};

/* One create in flight: the job and what its second half needs. */
struct create {
    struct vm_daemon *d;
    struct vm_job job;
    json_t *body; /* the request: the members' specs borrow its strings */
    struct member *m;
    size_t n;
    char group[VM_NAME_MAX];
    bool has_group;
    enum vm_scope scope;
    int64_t group_op;
    /* vm_net: hosts whose trunks the create changed (undone on failure). */
    int64_t sw_hosts[VM_JOB_MAX_VMS];
    size_t n_sw_hosts;
};

static void member_clear(struct member *m)
{
    vm_spec_clear(&m->spec);
    pin_plan_free(m->slot.plan);
    m->slot.plan = NULL;
    free(m->spec_text);
    free(m->xml);
}

static void create_free(struct create *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->m && i < c->n; i++)
        member_clear(&c->m[i]);
    free(c->m);
    json_decref(c->body);
    free(c);
}

static const char *group_of(const struct create *c)
{
    return c->has_group ? c->group : NULL;
}

static void members_step(struct create *c, const char *step)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->m[i].op_id)
            vm_db_op_set_step(c->d->db, c->m[i].op_id, step, NULL);
}

/* Journals the members and inserts their rows with their PUs, one
 * transaction. Lock held. */
static enum nfv_code journal_members(struct create *c, struct nfv_err *err)
{
    struct vm_daemon *d = c->d;
    int64_t now = vm_daemon_now_ms(), gid = 0;
    const char *group = group_of(c);
    enum nfv_code code;

    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        return code;
    /* Joining an existing group adds members; a new group is created here. */
    if (group && vm_db_group_get(d->db, group, &gid, NULL, NULL) != NFV_OK) {
        if ((code = vm_db_group_insert(d->db, group, c->scope, now, NULL, err)) != NFV_OK ||
            (code = vm_db_op_begin(d->db, VM_OP_GROUP_CREATE, group, NULL, now, &c->group_op,
                                   err)) != NFV_OK)
            goto fail;
    }
    for (size_t i = 0; i < c->n; i++) {
        struct member *m = &c->m[i];
        struct vm_db_alloc allocs[PIN_MAX_PUS / 8];
        struct vm_db_vm row = {0};
        json_t *payload = json_pack("{s:s,s:s}", "host", m->slot.host->name, "uuid", m->vm->uuid);
        char *ptext = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
        json_t *pj = pin_plan_to_json(m->slot.plan);
        size_t n_allocs = vm_place_allocs(m->slot.plan, allocs, sizeof(allocs) / sizeof(allocs[0]));

        json_decref(payload);
        snprintf(row.name, sizeof(row.name), "%s", m->spec.name);
        snprintf(row.uuid, sizeof(row.uuid), "%s", m->vm->uuid);
        row.host_id = m->slot.host->id;
        row.state = VM_GUEST_CREATING;
        snprintf(row.group, sizeof(row.group), "%s", group ? group : "");
        row.role = m->spec.role;
        row.spec = m->spec_text;
        row.plan = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
        json_decref(pj);
        row.created_ms = now;
        code = vm_db_op_begin(d->db, VM_OP_VM_CREATE, m->spec.name, ptext, now, &m->op_id, err);
        if (code == NFV_OK)
            code = vm_db_vm_insert(d->db, &row, allocs, n_allocs, NULL, err);
        free(ptext);
        free(row.plan);
        if (code != NFV_OK)
            goto fail;
    }
    members_step(c, "journaled");
    return vm_db_commit(d->db, err);
fail:
    vm_db_rollback(d->db);
    return code;
}

/* The runtime VMs of the members, listed as "creating" and claimed by the
 * job: they hold their cores in every later placement view. Lock held. */
static enum nfv_code list_members(struct create *c, struct nfv_err *err)
{
    for (size_t i = 0; i < c->n; i++) {
        struct member *m = &c->m[i];
        struct vm_rt *vm = m->vm;
        snprintf(vm->name, sizeof(vm->name), "%s", m->spec.name);
        vm->host = m->slot.host;
        vm->state = VM_GUEST_CREATING;
        vm->role = m->spec.role;
        snprintf(vm->group, sizeof(vm->group), "%s", group_of(c) ? group_of(c) : "");
        vm->req = m->spec.req;
        m->spec.req = NULL;
        vm->plan = m->slot.plan;
        m->slot.plan = NULL;
        vm->memory_mib = m->spec.memory_mib;
        if (vm_net_vm_attach(vm, &m->spec) != NFV_OK) /* vm_net: its VLANs */
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        if (vm_d_vm_append(c->d, vm, err) != NFV_OK)
            return NFV_E_NOMEM;
        vm_job_claim_vm(&c->job, vm, NULL);
        vm_place_vm_added(c->d, vm);
    }
    return NFV_OK;
}

/* Undoes a failed create: undefine (unlocked), then rows, journal, claims
 * and the listed VMs. Lock held on entry and exit. */
static void undo_members(struct create *c, const char *why)
{
    struct vm_daemon *d = c->d;
    int64_t now = vm_daemon_now_ms();
    bool is_stuck[VM_JOB_MAX_VMS] = {false};
    struct vm_hv_conn *conns[VM_JOB_MAX_VMS] = {NULL};

    for (size_t i = 0; i < c->n; i++)
        if (c->m[i].is_defined && vm_job_conn(&c->job, c->m[i].vm->host, &conns[i], NULL))
            conns[i] = NULL;
    vm_job_leave(&c->job);
    /* A member whose domain cannot be undefined now (host lost meanwhile)
     * keeps its row, PUs and pending journal entry: the monitor's journal
     * retries finish the rollback, so nothing leaks. */
    for (size_t i = 0; i < c->n; i++) {
        enum nfv_code code = NFV_OK;
        if (c->m[i].is_defined)
            code = conns[i] ? VM_HV(d, domain_undefine, conns[i], c->m[i].spec.name, NULL)
                            : NFV_E_UNREACHABLE;
        is_stuck[i] = code != NFV_OK && code != NFV_E_NOENT;
    }
    vm_job_reenter(&c->job);
    vm_db_begin(d->db, NULL);
    for (size_t i = 0; i < c->n; i++) {
        struct member *m = &c->m[i];
        if (is_stuck[i]) {
            d->has_deferred_ops = true;
            continue;
        }
        vm_db_vm_delete(d->db, m->spec.name, NULL);
        if (m->op_id)
            vm_db_op_finish(d->db, m->op_id, VM_OPS_FAILED, why, now, NULL);
        pin_alloc_release(m->vm->host->alloc, m->spec.name, NULL);
        if (m->vm->plan)
            vm_place_vm_removed(d, m->vm);
        vm_d_vm_detach(d, m->vm);
        m->vm->job = NULL;
        vm_d_vm_free(m->vm);
        m->vm = NULL;
        vm_metrics_observe(&d->metrics, VM_OP_VM_CREATE, 1, (double)(vm_d_mono_ms() - c->job.t0));
    }
    if (c->has_group) {
        vm_db_group_prune(d->db, NULL);
        if (c->group_op)
            vm_db_op_finish(d->db, c->group_op, VM_OPS_FAILED, why, now, NULL);
    }
    vm_db_commit(d->db, NULL);
    /* vm_net: the trunks lose the VLANs of the members that are gone (a
     * switch that fails here is repaired by the monitor's retry). */
    if (c->n_sw_hosts) {
        vm_job_leave(&c->job);
        vm_net_sync_hosts(d, &c->job, c->sw_hosts, c->n_sw_hosts, NULL, NULL);
        vm_job_reenter(&c->job);
    }
    /* Stuck members stay listed (state error until recovery resolves). */
    c->job.n_vms = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->m[i].vm) {
            c->m[i].vm->job = NULL;
            c->m[i].vm->state = VM_GUEST_ERROR;
        }
    vm_job_end(&c->job, VM_OPS_FAILED, why, true);
}

/*
 * The second half: define, start and verify each member without the lock,
 * then commit. Lock held on entry and exit. Answers the VMs in *ret.
 */
static enum nfv_code finish_members(struct create *c, json_t **ret, struct nfv_err *err)
{
    struct vm_daemon *d = c->d;
    struct vm_hv_conn *conns[VM_JOB_MAX_VMS] = {NULL};
    const char *group = group_of(c);
    enum nfv_code code = NFV_OK;
    int64_t now;
    size_t i;

    /* Under the lock: the XML (pure) and each host's connection. */
    for (i = 0; code == NFV_OK && i < c->n; i++) {
        struct member *m = &c->m[i];
        code = vm_job_conn(&c->job, m->vm->host, &conns[i], err);
        if (code == NFV_OK)
            code = vm_build_domain_xml(m->vm->host, m->spec.name, m->vm->uuid, &m->spec,
                                       m->spec.role, group, m->vm->plan, &m->xml, err);
        if (code != NFV_OK)
            nfv_err_prefix(err, "VM '%s'", m->spec.name);
    }
    if (code != NFV_OK) {
        undo_members(c, err ? err->msg : "failed");
        return code;
    }
    vm_d_crash_point(d, VM_OP_VM_CREATE, "after_journal");
    c->n_sw_hosts = vm_net_hosts_of(c->job.vms, c->job.n_vms, c->sw_hosts);
    /* libvirt's define and start (a KVM start takes a few hundred ms) run
     * without the lock, so other requests are served meanwhile. The PUs are
     * claimed and journaled; the members are listed as creating. */
    vm_job_leave(&c->job);
    /* vm_net (issue 15): the hosts' trunks carry the members' VLANs before
     * any of them starts. A switch that fails fails the create. */
    if (c->n_sw_hosts) {
        code = vm_net_sync_hosts(d, &c->job, c->sw_hosts, c->n_sw_hosts, NULL, err);
        if (code == NFV_OK) {
            /* Each member's own journal entry records the step. */
            vm_job_reenter(&c->job);
            members_step(c, "switched");
            vm_job_leave(&c->job);
            vm_d_crash_point(d, VM_OP_VM_CREATE, "after_switch");
        }
    }
    for (i = 0; code == NFV_OK && i < c->n; i++) {
        struct member *m = &c->m[i];
        if ((code = VM_HV(d, domain_define, conns[i], m->xml, err)) == NFV_OK) {
            m->is_defined = true;
            vm_d_crash_point(d, VM_OP_VM_CREATE, "after_define");
            code = VM_HV(d, domain_start, conns[i], m->spec.name, err);
        }
        if (code != NFV_OK)
            nfv_err_prefix(err, "VM '%s'", m->spec.name);
    }
    if (code == NFV_OK)
        vm_d_crash_point(d, VM_OP_VM_CREATE, "after_start");
    /* Verify what libvirt applied (and repair it), still without the lock. */
    for (i = 0; code == NFV_OK && i < c->n; i++)
        c->m[i].n_pin_drift = vm_pins_repair(d, conns[i], c->m[i].spec.name, c->m[i].vm->plan,
                                             c->m[i].pin_desc, sizeof(c->m[i].pin_desc));
    if (code == NFV_OK)
        vm_d_crash_point(d, VM_OP_VM_CREATE, "after_pin");
    vm_job_reenter(&c->job);
    if (code != NFV_OK) {
        undo_members(c, err ? err->msg : "failed");
        return code;
    }
    members_step(c, "started");
    for (i = 0; i < c->n; i++)
        vm_pins_record(d, c->m[i].spec.name, "after start", c->m[i].n_pin_drift, c->m[i].pin_desc);
    vm_d_crash_point(d, VM_OP_VM_CREATE, "before_commit");
    now = vm_daemon_now_ms();
    if ((code = vm_db_begin(d->db, err)) != NFV_OK) {
        vm_job_end(&c->job, VM_OPS_FAILED, NULL, true); /* recovery finishes it */
        return code;
    }
    for (i = 0; i < c->n; i++) {
        vm_db_vm_set_state(d->db, c->m[i].spec.name, VM_GUEST_RUNNING, now, NULL);
        vm_db_op_finish(d->db, c->m[i].op_id, VM_OPS_DONE, NULL, now, NULL);
    }
    if (c->group_op)
        vm_db_op_finish(d->db, c->group_op, VM_OPS_DONE, NULL, now, NULL);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        vm_job_end(&c->job, VM_OPS_FAILED, NULL, true);
        return code;
    }
    *ret = json_array();
    for (i = 0; i < c->n; i++) {
        struct vm_rt *vm = c->m[i].vm;
        char pus[128];
        vm->state = VM_GUEST_RUNNING;
        pin_cpuset_format(&vm->plan->claimed, pus, sizeof(pus));
        vm_d_event(d, VM_SEV_INFO, "vm_created", vm->name, "on %s%s%s, PUs %s", vm->host->name,
                   group ? " in group " : "", group ? group : "", pus);
        vm_metrics_observe(&d->metrics, VM_OP_VM_CREATE, 0, (double)(vm_d_mono_ms() - c->job.t0));
    }
    vm_job_end(&c->job, VM_OPS_DONE, NULL, true);
    for (i = 0; i < c->n; i++) {
        json_t *vj = vm_view_vm_json(d, c->m[i].vm, true);
        /* The journal entry that did it: GET /v1/operations/ID. */
        if (vj)
            json_object_set_new(vj, "operation_id", json_integer(c->m[i].op_id));
        json_array_append_new(*ret, vj);
    }
    if (group && c->group_op) {
        vm_d_event(d, VM_SEV_INFO, "group_created", group, "%zu members, scope %s", c->n,
                   vm_scope_to_string(c->scope));
        vm_metrics_observe(&d->metrics, VM_OP_GROUP_CREATE, 0,
                           (double)(vm_d_mono_ms() - c->job.t0));
    }
    return NFV_OK;
}

/* The second half on the worker thread (vm_job_spawn), which owns @c. */
static void create_main(void *arg)
{
    struct create *c = arg;
    struct nfv_err err = {0};
    json_t *ret = NULL;

    finish_members(c, &ret, &err);
    json_decref(ret);
    create_free(c);
}

/*
 * Creates the members of @c: checks, places and claims, journals, lists
 * them as creating, then finishes here or (@is_async) on a worker thread,
 * which then owns @c (*ret_is_taken). Lock held.
 */
static enum nfv_code create_run(struct create *c, bool is_async, bool is_dry_run,
                                bool is_reserve_waived, bool *ret_is_taken, json_t **ret,
                                struct nfv_err *err)
{
    struct vm_daemon *d = c->d;
    struct vm_place_slot slots[VM_JOB_MAX_VMS];
    enum nfv_code code;
    size_t i;

    *ret_is_taken = false;
    for (i = 0; i < c->n; i++) {
        if (vm_d_vm_find(d, c->m[i].spec.name))
            return NFV_ERR(err, NFV_E_EXIST, "VM '%s' already exists", c->m[i].spec.name);
        /* vm_net: every network NIC names a known network (its VLAN). */
        if ((code = vm_net_spec_resolve(d, &c->m[i].spec, err)) != NFV_OK) {
            if (c->has_group && !c->m[i].spec.group) /* a group create's member */
                nfv_err_prefix(err, "'members[%zu]'", i);
            return code;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->m[k].spec.name, c->m[i].spec.name) == 0)
                return NFV_ERR(err, NFV_E_INVAL, "'members': '%s' appears twice",
                               c->m[i].spec.name);
        memset(&slots[i], 0, sizeof(slots[i]));
        slots[i].name = c->m[i].spec.name;
        slots[i].role = c->m[i].spec.role;
        slots[i].force_host = c->m[i].spec.host;
        slots[i].req = c->m[i].spec.req;
        slots[i].memory_mib = c->m[i].spec.memory_mib;
    }
    if ((code = vm_place_claim(d, slots, c->n, group_of(c), c->scope, is_reserve_waived, err)) !=
        NFV_OK)
        return code;
    for (i = 0; i < c->n; i++)
        c->m[i].slot = slots[i];
    if (is_dry_run) {
        json_t *arr = json_array();
        for (i = 0; i < c->n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "name", c->m[i].spec.name, "host",
                                                 c->m[i].slot.host->name, "plan",
                                                 pin_plan_to_json(c->m[i].slot.plan)));
        vm_place_release(slots, c->n);
        *ret = json_pack("{s:b,s:o}", "dry_run", 1, "vms", arr);
        return NFV_OK;
    }
    for (i = 0; i < c->n; i++) {
        c->m[i].vm = calloc(1, sizeof(*c->m[i].vm));
        if (!c->m[i].vm) {
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto fail;
        }
        vm_d_uuid_new(c->m[i].vm->uuid);
    }
    vm_job_begin(d, &c->job, group_of(c) ? VM_OP_GROUP_CREATE : VM_OP_VM_CREATE, "create", NULL,
                 NULL, false, NULL, NULL, NULL);
    if ((code = journal_members(c, err)) != NFV_OK) {
        vm_job_end(&c->job, VM_OPS_FAILED, NULL, false);
        goto fail;
    }
    if ((code = list_members(c, err)) != NFV_OK) {
        /* Out of memory with the rows journaled: undo like a failure. */
        undo_members(c, "out of memory");
        return code;
    }
    if (is_async) {
        int64_t id = c->group_op ? c->group_op : c->m[0].op_id;
        char href[64];
        snprintf(href, sizeof(href), "/v1/operations/%lld", (long long)id);
        *ret = json_pack("{s:I,s:s,s:s}", "operation_id", (json_int_t)id, "state", "pending",
                         "href", href);
        if (vm_job_spawn(c->d, create_main, c, NULL) == NFV_OK) {
            *ret_is_taken = true;
            return NFV_OK;
        }
        json_decref(*ret);
        *ret = NULL;
        /* No thread: finish here rather than leave the reservation. */
    }
    return finish_members(c, ret, err);
fail:
    for (i = 0; i < c->n; i++) {
        free(c->m[i].vm);
        c->m[i].vm = NULL;
    }
    vm_place_release(slots, c->n);
    return code;
}

static struct create *create_new(struct vm_daemon *d, const json_t *body, size_t n)
{
    struct create *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->d = d;
    c->n = n;
    c->m = calloc(n, sizeof(*c->m));
    c->body = json_incref((json_t *)body);
    c->scope = VM_SCOPE_HOST;
    if (!c->m) {
        create_free(c);
        return NULL;
    }
    return c;
}

enum nfv_code vm_daemon_vm_create(struct vm_daemon *d, const json_t *body, bool is_async,
                                  json_t **ret, struct nfv_err *err)
{
    struct create *c = create_new(d, body, 1);
    struct member *m;
    json_t *arr = NULL, *stored;
    enum nfv_code code;
    bool is_taken = false;

    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    m = &c->m[0];
    if ((code = vm_spec_parse(body, vm_spec_vm_fields, &m->spec, err)) != NFV_OK)
        goto out;
    if (m->spec.group && m->spec.role == VM_ROLE_NONE) {
        code = NFV_ERR(err, NFV_E_INVAL, "'role': a group member needs act or sby");
        goto out;
    }
    if (!m->spec.group && m->spec.role != VM_ROLE_NONE) {
        code = NFV_ERR(err, NFV_E_INVAL, "'role': only members of a group have a role");
        goto out;
    }
    stored = json_deep_copy(body);
    json_object_del(stored, "dry_run");
    json_object_del(stored, "ignore_reserve"); /* a decision of this request only */
    m->spec_text = stored ? json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(stored);
    if (m->spec.group) {
        c->has_group = true;
        snprintf(c->group, sizeof(c->group), "%s", m->spec.group);
    }
    vm_d_lock(d);
    {
        int64_t gid;
        /* An existing group keeps its scope; a new one gets "host". */
        if (m->spec.group)
            vm_db_group_get(d->db, m->spec.group, &gid, &c->scope, NULL);
        code = create_run(c, is_async && !m->spec.is_dry_run, m->spec.is_dry_run,
                          m->spec.is_reserve_ignored, &is_taken, &arr, err);
    }
    vm_d_unlock(d);
    if (code != NFV_OK)
        goto out;
    if (json_object_get(arr, "operation_id") || !json_is_array(arr)) {
        *ret = arr; /* asynchronous, or a dry run */
    } else {
        *ret = json_incref(json_array_get(arr, 0));
        json_decref(arr);
    }
    arr = NULL;
    if (!*ret)
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
out:
    json_decref(arr);
    if (!is_taken)
        create_free(c);
    return code;
}

enum nfv_code vm_daemon_group_create(struct vm_daemon *d, const json_t *body, bool is_async,
                                     json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"name",    "scope",          "members",
                                         "dry_run", "ignore_reserve", NULL};
    const char *name = NULL, *scope_s = "host";
    const json_t *members, *mj, *dr, *ir;
    struct create *c = NULL;
    enum vm_scope scope;
    json_t *arr = NULL;
    enum nfv_code code;
    bool is_taken = false;
    size_t n, i;
    int64_t gid;

    if (vm_req_check_fields(body, fields, err) || vm_req_get_str(body, "name", true, &name, err) ||
        vm_req_name_check("name", name, err) || vm_req_get_str(body, "scope", false, &scope_s, err))
        return NFV_E_INVAL;
    scope = vm_scope_from_string(scope_s);
    if (scope == VM_SCOPE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'scope': '%s' is not host, rack, zone or power", scope_s);
    members = json_object_get(body, "members");
    n = json_array_size(members);
    if (!json_is_array(members) || n == 0 || n > VM_JOB_MAX_VMS)
        return NFV_ERR(err, NFV_E_INVAL, "'members': must be a list of 1..64 VMs");
    dr = json_object_get(body, "dry_run");
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    ir = json_object_get(body, "ignore_reserve");
    if (ir && !json_is_boolean(ir))
        return NFV_ERR(err, NFV_E_INVAL, "'ignore_reserve': must be true or false");
    if (!(c = create_new(d, body, n)))
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    c->has_group = true;
    snprintf(c->group, sizeof(c->group), "%s", name);
    c->scope = scope;
    json_array_foreach(members, i, mj)
    {
        struct member *m = &c->m[i];
        if (!json_is_object(mj)) {
            code = NFV_ERR(err, NFV_E_INVAL, "'members[%zu]': must be an object", i);
            goto out;
        }
        if ((code = vm_spec_parse(mj, vm_spec_member_fields, &m->spec, err)) != NFV_OK) {
            nfv_err_prefix(err, "'members[%zu]'", i);
            goto out;
        }
        if (m->spec.role == VM_ROLE_NONE) {
            code = NFV_ERR(err, NFV_E_INVAL, "'members[%zu].role': is required (act or sby)", i);
            goto out;
        }
        m->spec_text = json_dumps(mj, JSON_COMPACT | JSON_SORT_KEYS);
    }
    vm_d_lock(d);
    if (vm_db_group_get(d->db, name, &gid, NULL, NULL) == NFV_OK)
        code = NFV_ERR(err, NFV_E_EXIST, "group '%s' already exists", name);
    else
        code = create_run(c, is_async && !json_is_true(dr), json_is_true(dr), json_is_true(ir),
                          &is_taken, &arr, err);
    vm_d_unlock(d);
    if (code == NFV_OK)
        *ret = json_is_array(arr) ? json_pack("{s:s,s:s,s:o}", "name", name, "scope",
                                              vm_scope_to_string(scope), "members", arr)
                                  : arr;
out:
    if (!is_taken)
        create_free(c);
    return code;
}
