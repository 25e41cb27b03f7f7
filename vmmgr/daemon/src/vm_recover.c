/*
 * vm_recover.c - what vmmgrd does to agree with the outside world: load
 * the VMs at start-up, resolve pending journal entries (after a crash, or
 * deferred ones retried by the monitor), and reconcile with libvirt (lost
 * domains, state changes, drifted pins, simulated hosts that forgot their
 * domains, domains vmmgrd made but no longer knows).
 *
 * Every libvirt call runs inside a job without the lock; objects are
 * looked up again after each unlocked call. A journal entry whose object a
 * running job holds (an asynchronous create, an add in progress) is left
 * to that job.
 *
 * Calls: vm_ctx, vm_job, vm_net, vm_pins, vm_place, vm_build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm_build.h"
#include "vm_net.h"
#include "vm_migrate_priv.h" /* issue 16: migrations, re-pins, drains */
#include "vm_pins.h"
#include "vm_place.h"
#include "vm_recover.h"

#define MOD "recover"

/* ---- VM load ---- */

static int load_vm_cb(void *opaque, const struct vm_db_vm *row)
{
    struct vm_daemon *d = opaque;
    struct vm_rt *vm = calloc(1, sizeof(*vm));
    json_t *spec = json_loads(row->spec, 0, NULL), *plan = json_loads(row->plan, 0, NULL);
    struct vm_spec s;
    struct nfv_err e = {0};
    bool is_ok = false;

    if (vm && spec && plan && (vm->host = vm_d_host_find(d, row->host)) &&
        pin_plan_from_json(plan, &vm->plan, &e) == NFV_OK) {
        json_object_del(spec, "group");
        json_object_del(spec, "role");
        if (vm_spec_parse(spec, vm_spec_vm_fields, &s, &e) == NFV_OK) {
            vm->req = s.req;
            s.req = NULL;
            vm->memory_mib = s.memory_mib;
            is_ok = true;
            /* vm_net (issue 15): its networks' VLANs (a network in use is
             * never deleted, so they resolve). */
            if (vm_net_spec_resolve(d, &s, &e) != NFV_OK || vm_net_vm_attach(vm, &s) != NFV_OK)
                NFV_LOG_ERR(MOD, "VM '%s': its networks: %s", row->name, e.msg);
        }
        vm_spec_clear(&s);
    }
    if (is_ok) {
        snprintf(vm->name, sizeof(vm->name), "%s", row->name);
        snprintf(vm->uuid, sizeof(vm->uuid), "%s", row->uuid);
        vm->state = row->state;
        vm->role = row->role;
        snprintf(vm->group, sizeof(vm->group), "%s", row->group);
        if (vm->host->alloc && pin_alloc_claim(vm->host->alloc, vm->plan, vm->name, &e))
            vm_d_event(d, VM_SEV_ERR, "alloc_conflict", vm->name, "%s", e.msg);
        is_ok = vm_d_vm_append(d, vm, NULL) == NFV_OK;
        if (is_ok)
            vm_place_vm_added(d, vm);
    } else {
        NFV_LOG_ERR(MOD, "VM '%s': cannot load its row: %s", row->name, e.msg);
    }
    if (!is_ok)
        vm_d_vm_free(vm);
    json_decref(spec);
    json_decref(plan);
    return 0;
}

enum nfv_code vm_recover_load_vms(struct vm_daemon *d, struct nfv_err *err)
{
    return vm_db_vm_list(d->db, 0, load_vm_cb, d, err);
}

/* ---- journal ---- */

struct pending_ctx {
    struct vm_db_op *ops;
    size_t n, cap;
};

static int pending_cb(void *opaque, const struct vm_db_op *op)
{
    struct pending_ctx *pc = opaque;

    if (pc->n == pc->cap) {
        size_t cap = pc->cap ? pc->cap * 2 : 16;
        struct vm_db_op *v = realloc(pc->ops, cap * sizeof(*v));
        if (!v)
            return 1;
        pc->ops = v;
        pc->cap = cap;
    }
    pc->ops[pc->n] = *op;
    pc->ops[pc->n].payload = op->payload ? strdup(op->payload) : NULL;
    pc->n++;
    return 0;
}

/* A hypervisor call for recovery: leave the lock around it. */
static enum nfv_code observe(struct vm_daemon *d, struct vm_job *job, struct host_rt *h,
                             const char *name, struct vm_op_observed *obs)
{
    struct vm_hv_conn *conn;
    enum vm_hv_dom_state st = VM_HV_DOM_SHUTOFF;
    enum nfv_code c;

    if (vm_job_conn(job, h, &conn, NULL) != NFV_OK)
        return NFV_E_UNREACHABLE;
    vm_job_leave(job);
    c = VM_HV(d, domain_state, conn, name, &st, NULL);
    vm_job_reenter(job);
    obs->is_domain_defined = c == NFV_OK;
    obs->is_domain_running = c == NFV_OK && st == VM_HV_DOM_RUNNING;
    return NFV_OK;
}

/* Resolves one pending VM journal entry. Lock held (dropped around libvirt). */
static enum vm_recovery recover_vm_op(struct vm_daemon *d, struct vm_job *job,
                                      const struct vm_db_op *op)
{
    struct vm_op_observed obs = {0};
    struct vm_db_vm row;
    struct host_rt *h = NULL;
    enum vm_recovery r;
    int64_t now = vm_daemon_now_ms();
    struct vm_rt *live = vm_d_vm_find(d, op->target);

    /* A job on the VM (an asynchronous create, a stop) finishes its entry. */
    if (live && live->job)
        return VM_RECOVER_DEFER;
    if (op->kind == VM_OP_GROUP_CREATE) {
        int64_t gid = 0;
        obs.is_db_present = vm_db_group_get(d->db, op->target, &gid, NULL, NULL) == NFV_OK;
        return vm_journal_decide(op->kind, &obs);
    }
    if (vm_db_vm_get(d->db, op->target, &row, NULL) == NFV_OK) {
        obs.is_db_present = true;
        h = vm_d_host_find(d, row.host);
        vm_db_vm_clear(&row);
    } else {
        json_t *p = json_loads(op->payload ? op->payload : "{}", 0, NULL);
        const char *hn = json_string_value(json_object_get(p, "host"));
        h = hn ? vm_d_host_find(d, hn) : NULL;
        json_decref(p);
    }
    obs.is_host_reachable = h && h->conn && !h->job && observe(d, job, h, op->target, &obs) == 0;
    if (!obs.is_host_reachable && !obs.is_db_present && op->kind != VM_OP_VM_CREATE)
        obs.is_host_reachable = true; /* nothing left to look at */
    /* Looked up again: the lock was dropped. */
    live = vm_d_vm_find(d, op->target);
    if (live && live->job)
        return VM_RECOVER_DEFER;
    r = vm_journal_decide(op->kind, &obs);
    switch (op->kind) {
    case VM_OP_VM_CREATE:
    case VM_OP_VM_DELETE:
        if (op->kind == VM_OP_VM_CREATE && r == VM_RECOVER_FINISH) {
            vm_db_vm_set_state(d->db, op->target, VM_GUEST_RUNNING, now, NULL);
            if (live)
                live->state = VM_GUEST_RUNNING;
            break;
        }
        if (r == VM_RECOVER_DEFER)
            break;
        /* Undo a create / finish a delete: the domain must really be gone
         * before the row (and the PUs) go, or it would leak. libvirt may
         * still be busy with the killed daemon's destroy: try again later. */
        if (obs.is_domain_defined) {
            struct vm_hv_conn *conn;
            struct nfv_err e = {0};
            enum nfv_code c = NFV_E_UNREACHABLE;
            if (h && vm_job_conn(job, h, &conn, NULL) == NFV_OK) {
                vm_job_leave(job);
                c = VM_HV(d, domain_undefine, conn, op->target, &e);
                vm_job_reenter(job);
            }
            if (c != NFV_OK && c != NFV_E_NOENT) {
                NFV_LOG_WARN(MOD, "'%s': recovery deferred: %s", op->target, e.msg);
                return VM_RECOVER_DEFER;
            }
        }
        vm_db_vm_delete(d->db, op->target, NULL);
        /* When retried while running, memory holds the VM or its claim. */
        live = vm_d_vm_find(d, op->target);
        if (live) {
            if (live->host->alloc)
                pin_alloc_release(live->host->alloc, live->name, NULL);
            vm_place_vm_removed(d, live);
            vm_d_vm_detach(d, live);
            vm_d_vm_free(live);
        }
        /* A claim of a VM never listed (killed mid-create) is released too. */
        for (size_t i = 0; i < d->n_hosts; i++)
            if (d->hosts[i]->alloc)
                pin_alloc_release(d->hosts[i]->alloc, op->target, NULL);
        break;
    default:
        if (r == VM_RECOVER_FINISH && obs.is_db_present) {
            enum vm_guest_state st = !obs.is_domain_defined  ? VM_GUEST_ERROR
                                     : obs.is_domain_running ? VM_GUEST_RUNNING
                                                             : VM_GUEST_STOPPED;
            vm_db_vm_set_state(d->db, op->target, st, now, NULL);
            if (live)
                live->state = st;
        }
        break;
    }
    vm_db_group_prune(d->db, NULL);
    return r;
}

/* Resolves one pending host journal entry. Lock held. */
static enum vm_recovery recover_host_op(struct vm_daemon *d, const struct vm_db_op *op)
{
    struct vm_op_observed obs = {0};
    struct vm_db_host row;
    struct host_rt *live = vm_d_host_find(d, op->target);
    json_t *payload = json_loads(op->payload ? op->payload : "{}", 0, NULL);
    const char *node_xml = json_string_value(json_object_get(payload, "node_xml"));
    enum vm_recovery r;
    struct nfv_err e = {0};

    if (live && live->job) {
        json_decref(payload);
        return VM_RECOVER_DEFER; /* an add or remove in progress */
    }
    if (vm_db_host_get(d->db, op->target, &row, NULL) == NFV_OK) {
        obs.is_db_present = true;
        if (!node_xml || !*node_xml) {
            /* The add journals before the node file path is stored. */
            json_decref(payload);
            payload = json_pack("{s:s}", "node_xml", row.node_xml);
            node_xml = json_string_value(json_object_get(payload, "node_xml"));
        }
        vm_db_host_clear(&row);
    }
    r = vm_journal_decide(op->kind, &obs);
    if (op->kind == VM_OP_HOST_ADD && r == VM_RECOVER_ROLLBACK) {
        /* A simulated host's node file is named after the host. */
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/hosts/%s.xml", d->cfg.state_dir, op->target) <
            (int)sizeof(path))
            unlink(path);
        if (snprintf(path, sizeof(path), "%s/hosts/%s.hwloc.xml", d->cfg.state_dir, op->target) <
            (int)sizeof(path))
            unlink(path);
    } else if (op->kind == VM_OP_HOST_REMOVE) {
        if (node_xml && *node_xml)
            unlink(node_xml);
        if (obs.is_db_present && vm_db_host_delete(d->db, op->target, &e) != NFV_OK) {
            NFV_LOG_ERR(MOD, "journal recovery: %s", e.msg);
            r = VM_RECOVER_DEFER;
        } else if (live && !live->n_conn_refs) {
            /* Loaded at start-up before recovery ran: forget it in memory
             * too (its id may be reused by the next host added). */
            vm_place_host_removed(d, live);
            vm_d_host_detach(d, live);
            vm_d_host_free(d, live);
        }
    }
    json_decref(payload);
    return r;
}

void vm_recover_journal(struct vm_daemon *d)
{
    struct pending_ctx pc = {0};
    unsigned n_finished = 0, n_rolled = 0, n_deferred = 0;
    struct nfv_err e = {0};
    struct vm_job job;

    if (vm_db_op_list(d->db, true, 100000, pending_cb, &pc, &e) != NFV_OK) {
        NFV_LOG_ERR(MOD, "journal recovery: %s", e.msg);
        return;
    }
    vm_job_begin(d, &job, VM_OP_VM_REPIN, "recovery", NULL, NULL, false, NULL, NULL, NULL);
    for (size_t i = 0; i < pc.n; i++) {
        struct vm_db_op *op = &pc.ops[i];
        enum vm_recovery r;
        struct vm_db_op now_op;

        /* Finished meanwhile (by its own job, while the lock was dropped)? */
        if (vm_db_op_get(d->db, op->id, &now_op, NULL) == NFV_OK) {
            bool is_pending = now_op.state == VM_OPS_PENDING;
            vm_db_op_clear(&now_op);
            if (!is_pending)
                continue;
        }
        /* Healing's entries: the healer resumes them (vm_heal.c). */
        if (vm_op_kind_is_heal(op->kind))
            continue;
        if (vm_migrate_is_kind(op->kind)) /* issue 16 */
            r = vm_migrate_recover(d, &job, op);
        else if (op->kind == VM_OP_HOST_ADD || op->kind == VM_OP_HOST_REMOVE)
            r = recover_host_op(d, op);
        else
            r = recover_vm_op(d, &job, op);
        if (r == VM_RECOVER_DEFER) {
            n_deferred++;
            continue;
        }
        vm_db_op_finish(d->db, op->id, r == VM_RECOVER_FINISH ? VM_OPS_DONE : VM_OPS_ROLLED_BACK,
                        "resolved by start-up recovery", vm_daemon_now_ms(), NULL);
        if (r == VM_RECOVER_FINISH)
            n_finished++;
        else
            n_rolled++;
        vm_d_event(d, VM_SEV_WARN, "journal_recovered", op->target, "%s #%lld (step %s): %s",
                   vm_op_kind_to_string(op->kind), (long long)op->id,
                   op->step[0] ? op->step : "none", vm_recovery_to_string(r));
    }
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    d->has_deferred_ops = n_deferred > 0;
    if (pc.n && (n_finished || n_rolled || !d->has_monitor))
        vm_d_event(d, VM_SEV_INFO, "journal_recovery", "vmmgrd",
                   "%zu unfinished operation(s): %u finished, %u rolled back, %u deferred", pc.n,
                   n_finished, n_rolled, n_deferred);
    for (size_t i = 0; i < pc.n; i++)
        vm_db_op_clear(&pc.ops[i]);
    free(pc.ops);
}

/* ---- reconcile ---- */

/* One VM of a host as reconcile saw it before leaving the lock. */
struct seen_vm {
    char name[VM_NAME_MAX];
    char uuid[VM_UUID_STR];
    char *xml; /* simulated hosts: to define again if forgotten */
    bool is_running_wanted;
    /* filled without the lock */
    enum nfv_code code;
    enum vm_hv_dom_state st;
    char uuid_live[VM_HV_UUID_STR];
    bool is_restored;
};

struct names {
    char (*v)[VM_NAME_MAX];
    size_t n, cap;
};

static int name_cb(void *opaque, const char *name, enum vm_hv_dom_state st)
{
    struct names *ns = opaque;

    (void)st;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 32;
        void *v = realloc(ns->v, cap * sizeof(*ns->v));
        if (!v)
            return 1;
        ns->v = v;
        ns->cap = cap;
    }
    snprintf(ns->v[ns->n++], VM_NAME_MAX, "%s", name);
    return 0;
}

struct tally {
    unsigned n_checked, n_lost, n_changed, n_repaired, n_restored, n_foreign;
};

/* The XML to define a simulated host's VM again (libvirt's test driver
 * forgets its domains whenever vmmgrd reconnects). Lock held. */
static char *sim_xml(struct vm_daemon *d, const struct vm_rt *vm)
{
    struct vm_db_vm row;
    struct vm_spec s = {0};
    json_t *spec;
    char *xml = NULL;

    if (!vm_uri_is_test(vm->host->uri) || vm_db_vm_get(d->db, vm->name, &row, NULL) != NFV_OK)
        return NULL;
    spec = json_loads(row.spec, 0, NULL);
    json_object_del(spec, "group");
    json_object_del(spec, "role");
    if (spec && vm_spec_parse(spec, vm_spec_vm_fields, &s, NULL) == NFV_OK &&
        vm_net_spec_resolve(d, &s, NULL) == NFV_OK && /* vm_net: the NICs' VLANs */
        vm_build_domain_xml(vm->host, vm->name, vm->uuid, &s, vm->role, vm->group, vm->plan, &xml,
                            NULL) != NFV_OK)
        xml = NULL;
    vm_spec_clear(&s);
    json_decref(spec);
    vm_db_vm_clear(&row);
    return xml;
}

/* Reconciles the VMs of host @h. Lock held (dropped around libvirt). */
static void reconcile_host(struct vm_daemon *d, struct host_rt *h, struct tally *t)
{
    struct vm_job job;
    struct vm_hv_conn *conn;
    struct names ns = {0};
    struct seen_vm *seen = NULL;
    size_t n_seen = 0;
    int64_t host_id = h->id;

    if (!h->conn || h->job ||
        vm_job_begin(d, &job, VM_OP_VM_REPIN, "reconcile", NULL, NULL, false, NULL, NULL, NULL))
        return;
    if (vm_job_conn(&job, h, &conn, NULL) != NFV_OK)
        goto out;
    seen = calloc(d->n_vms ? d->n_vms : 1, sizeof(*seen));
    for (size_t i = 0; seen && i < d->n_vms; i++) {
        struct vm_rt *vm = d->vms[i];
        struct seen_vm *s;
        if (vm->host != h || vm->job || vm->state == VM_GUEST_CREATING ||
            vm->state == VM_GUEST_DELETING)
            continue;
        s = &seen[n_seen++];
        snprintf(s->name, sizeof(s->name), "%s", vm->name);
        snprintf(s->uuid, sizeof(s->uuid), "%s", vm->uuid);
        s->is_running_wanted = vm->state == VM_GUEST_RUNNING;
        if (vm->state != VM_GUEST_ERROR)
            s->xml = sim_xml(d, vm);
    }
    vm_job_leave(&job);
    /* Domains vmmgrd made that it no longer knows (another state database,
     * a restore from backup): reported, never destroyed automatically. */
    if (d->hv->domain_list)
        VM_HV(d, domain_list, conn, name_cb, &ns, NULL);
    for (size_t i = 0; i < n_seen; i++) {
        struct seen_vm *s = &seen[i];
        s->code = VM_HV(d, domain_state, conn, s->name, &s->st, NULL);
        if (s->code != NFV_OK && s->xml && VM_HV(d, domain_define, conn, s->xml, NULL) == NFV_OK &&
            (!s->is_running_wanted || VM_HV(d, domain_start, conn, s->name, NULL) == NFV_OK))
            s->is_restored = true;
        if (s->code == NFV_OK && !s->uuid[0] && d->hv->domain_uuid &&
            VM_HV(d, domain_uuid, conn, s->name, s->uuid_live, NULL) != NFV_OK)
            s->uuid_live[0] = '\0';
    }
    for (size_t i = 0; i < ns.n; i++)
        if (!d->hv->domain_is_vmmgr || !VM_HV(d, domain_is_vmmgr, conn, ns.v[i]))
            ns.v[i][0] = '\0';
    vm_job_reenter(&job);
    for (size_t i = 0; i < ns.n; i++) {
        if (!ns.v[i][0] || vm_d_vm_find(d, ns.v[i]))
            continue;
        t->n_foreign++;
        vm_d_event(d, VM_SEV_WARN, "domain_unknown", ns.v[i],
                   "host '%s' has a domain defined by vmmgrd that the state database does not "
                   "know; left untouched (delete it with virsh if it is stale)",
                   h->name);
    }
    for (size_t i = 0; i < n_seen; i++) {
        struct seen_vm *s = &seen[i];
        struct vm_rt *vm = vm_d_vm_find(d, s->name);
        enum vm_guest_state want;
        if (!vm || vm->job || vm->host != h)
            continue; /* changed while the lock was dropped */
        t->n_checked++;
        if (s->uuid_live[0]) {
            vm_d_vm_set_uuid(d, vm, s->uuid_live);
            vm_db_vm_set_uuid(d->db, vm->name, s->uuid_live, NULL);
        }
        if (s->is_restored) {
            t->n_restored++;
            continue;
        }
        if (s->code != NFV_OK) {
            if (vm->state != VM_GUEST_ERROR) {
                t->n_lost++;
                vm->state = VM_GUEST_ERROR;
                vm_db_vm_set_state(d->db, vm->name, VM_GUEST_ERROR, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_ERR, "vm_lost", vm->name,
                           "host '%s' no longer has the domain; its PUs stay reserved until "
                           "the VM is deleted",
                           h->name);
            }
            continue;
        }
        want = s->st == VM_HV_DOM_RUNNING ? VM_GUEST_RUNNING : VM_GUEST_STOPPED;
        if (want != vm->state) {
            t->n_changed++;
            vm_d_event(d, VM_SEV_WARN, "vm_state", vm->name, "libvirt says %s, was %s",
                       vm_hv_dom_state_to_string(s->st), vm_guest_state_to_string(vm->state));
            vm->state = want;
            vm_db_vm_set_state(d->db, vm->name, want, vm_daemon_now_ms(), NULL);
        }
    }
out:
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    /* Pins of the running VMs, each a pin-check job of its own. */
    for (size_t i = 0; i < n_seen; i++) {
        struct vm_rt *vm = vm_d_vm_find(d, seen[i].name);
        if (vm && vm->host == vm_d_host_find_id(d, host_id) && vm->state == VM_GUEST_RUNNING &&
            !seen[i].is_restored && vm_pins_check(d, vm, "reconcile") > 0)
            t->n_repaired++;
    }
    for (size_t i = 0; seen && i < n_seen; i++)
        free(seen[i].xml);
    free(seen);
    free(ns.v);
}

void vm_recover_reconcile(struct vm_daemon *d)
{
    struct tally t = {0};
    size_t n = d->n_hosts;
    int64_t *ids = calloc(n ? n : 1, sizeof(*ids));

    if (!ids)
        return;
    /* By id: hosts may come and go while the lock is dropped. */
    for (size_t i = 0; i < n; i++)
        ids[i] = d->hosts[i]->id;
    for (size_t i = 0; i < n; i++) {
        struct host_rt *h = vm_d_host_find_id(d, ids[i]);
        if (h)
            reconcile_host(d, h, &t);
    }
    free(ids);
    if (t.n_checked || t.n_foreign)
        vm_d_event(d, VM_SEV_INFO, "reconcile", "vmmgrd",
                   "%u VM(s) checked against libvirt: %u lost, %u state change(s), %u re-pinned, "
                   "%u simulated restored, %u unknown vmmgr domain(s)",
                   t.n_checked, t.n_lost, t.n_changed, t.n_repaired, t.n_restored, t.n_foreign);
    /* vm_net (issue 15): the switch's trunks against the VMs' VLANs. */
    vm_net_reconcile(d, "reconcile");
}
