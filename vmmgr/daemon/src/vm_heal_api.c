/*
 * vm_heal_api.c - what operators ask of healing: status (each host's state,
 * each group protected / degraded / promoting / rebuilding), history (the
 * healing events), `host fence NAME --confirm-dead` and `host recover NAME`
 * (a repaired host's stale domains removed, then back up).
 *
 * Calls: vm_ctx, vm_job, vm_recover, vm_heal_state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "vm/vm_req.h"
#include "vm_heal.h"
#include "vm_heal_state.h"
#include "vm_recover.h"

/* ---- group protection ---- */

enum group_prot { PROT_PROTECTED, PROT_DEGRADED, PROT_PROMOTING, PROT_REBUILDING };

static const char *const prot_names[] = {"protected", "degraded", "promoting", "rebuilding"};

/* A host whose guests count for protection: up, or merely suspect (its
 * guests still run; a failure would be confirmed first). */
static bool host_ok(const struct host_rt *h)
{
    return (h->heal.state == HEAL_UP || h->heal.state == HEAL_SUSPECT) && h->conn;
}

/* Groups with a rebuild journaled and not ended (from their payloads). */
struct rebuilding {
    char (*v)[VM_NAME_MAX];
    size_t n, cap;
};

static int rebuilding_cb(void *opaque, const struct vm_db_op *op)
{
    struct rebuilding *r = opaque;
    json_t *p;
    const char *g;

    if (op->kind != VM_OP_VM_REBUILD)
        return 0;
    p = json_loads(op->payload ? op->payload : "{}", 0, NULL);
    g = json_string_value(json_object_get(p, "group"));
    if (g && g[0]) {
        if (!VM_D_GROW(r->v, r->n, r->cap)) {
            json_decref(p);
            return 1;
        }
        snprintf(r->v[r->n++], VM_NAME_MAX, "%s", g);
    }
    json_decref(p);
    return 0;
}

static bool is_rebuilding(const struct rebuilding *r, const char *group)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i], group) == 0)
            return true;
    return false;
}

/* @group's protection from its members (lock held). */
static enum group_prot group_prot(struct vm_daemon *d, const char *group,
                                  const struct rebuilding *rb, json_t *members)
{
    const struct vm_rt *act = NULL;
    bool is_promoting = false, is_lost = false, has_sby = false;

    for (size_t i = 0; i < d->n_vms; i++) {
        const struct vm_rt *v = d->vms[i];
        if (strcmp(v->group, group) != 0)
            continue;
        if (v->job && strcmp(vm_job_what(v->job), "promote") == 0)
            is_promoting = true;
        if (v->state == VM_GUEST_LOST)
            is_lost = true;
        if (v->role == VM_ROLE_ACT && v->state == VM_GUEST_RUNNING && host_ok(v->host))
            act = v;
        if (members)
            json_array_append_new(members, json_pack("{s:s,s:s,s:s,s:s}", "name", v->name, "role",
                                                     vm_role_to_string(v->role), "state",
                                                     vm_guest_state_to_string(v->state), "host",
                                                     v->host->name));
    }
    if (is_promoting)
        return PROT_PROMOTING;
    if (is_rebuilding(rb, group))
        return PROT_REBUILDING;
    for (size_t i = 0; act && i < d->n_vms; i++) {
        const struct vm_rt *v = d->vms[i];
        if (strcmp(v->group, group) == 0 && v->role == VM_ROLE_SBY &&
            v->state == VM_GUEST_RUNNING && host_ok(v->host) && v->host != act->host)
            has_sby = true;
    }
    return act && has_sby && !is_lost ? PROT_PROTECTED : PROT_DEGRADED;
}

/* True when rebuild entry @i's group has no VM left (not in @names) and
 * was not counted by an earlier entry. */
static bool is_rebuild_only(const struct rebuilding *rb, size_t i, char (*names)[VM_NAME_MAX],
                            size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(names[k], rb->v[i]) == 0)
            return false;
    for (size_t k = 0; k < i; k++)
        if (strcmp(rb->v[k], rb->v[i]) == 0)
            return false;
    return true;
}

/* Distinct group names of the VMs (lock held); caller frees. */
static size_t group_names(struct vm_daemon *d, char (**ret)[VM_NAME_MAX])
{
    char(*v)[VM_NAME_MAX] = calloc(d->n_vms ? d->n_vms : 1, sizeof(*v));
    size_t n = 0;

    for (size_t i = 0; v && i < d->n_vms; i++) {
        const char *g = d->vms[i]->group;
        size_t k;
        if (!g[0])
            continue;
        for (k = 0; k < n && strcmp(v[k], g) != 0; k++)
            ;
        if (k == n)
            snprintf(v[n++], VM_NAME_MAX, "%s", g);
    }
    *ret = v;
    return v ? n : 0;
}

unsigned vm_heal_groups_unprotected(struct vm_daemon *d)
{
    struct rebuilding rb = {0};
    char(*names)[VM_NAME_MAX];
    size_t n;
    unsigned count = 0;

    vm_db_op_list(d->db, true, 100000, rebuilding_cb, &rb, NULL);
    n = group_names(d, &names);
    for (size_t i = 0; i < n; i++)
        if (group_prot(d, names[i], &rb, NULL) != PROT_PROTECTED)
            count++;
    /* A group whose members are all being rebuilt has no VM left. */
    for (size_t i = 0; i < rb.n; i++)
        if (is_rebuild_only(&rb, i, names, n))
            count++;
    free(names);
    free(rb.v);
    return count;
}

enum nfv_code vm_daemon_heal_status(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    json_t *hosts = json_array(), *groups = json_array(), *rules;
    struct rebuilding rb = {0};
    char(*names)[VM_NAME_MAX];
    size_t n;

    vm_d_lock(d);
    for (size_t i = 0; i < d->n_hosts; i++) {
        const struct host_rt *h = d->hosts[i];
        json_t *hj;
        if (!h->id)
            continue;
        hj = vm_heal_host_json(h);
        json_object_set_new(hj, "name", json_string(h->name));
        json_object_set_new(hj, "vms", json_integer(vm_d_vm_count_on(d, h)));
        json_array_append_new(hosts, hj);
    }
    vm_db_op_list(d->db, true, 100000, rebuilding_cb, &rb, NULL);
    n = group_names(d, &names);
    for (size_t i = 0; i < n; i++) {
        json_t *members = json_array();
        enum group_prot p = group_prot(d, names[i], &rb, members);
        json_array_append_new(groups, json_pack("{s:s,s:s,s:o}", "name", names[i], "state",
                                                prot_names[p], "members", members));
    }
    for (size_t i = 0; i < rb.n; i++)
        if (is_rebuild_only(&rb, i, names, n))
            json_array_append_new(groups, json_pack("{s:s,s:s,s:[]}", "name", rb.v[i], "state",
                                                    prot_names[PROT_REBUILDING], "members"));
    rules = json_pack("{s:I,s:I,s:b,s:b,s:b,s:I}", "keepalive_period_ms",
                      (json_int_t)d->heal_rules.keepalive_period_ms, "unreachable_periods",
                      (json_int_t)d->heal_rules.unreachable_periods, "unreachable_and_power_off",
                      d->heal_rules.is_unreachable_and_off, "unreachable_and_sel",
                      d->heal_rules.is_unreachable_and_sel, "sel_alone", d->heal_rules.is_sel_alone,
                      "poll_ms", (json_int_t)d->cfg.heal_poll_ms);
    *ret = json_pack("{s:b,s:o,s:o,s:o}", "enabled", d->cfg.is_heal_enabled, "rules", rules,
                     "hosts", hosts, "groups", groups);
    vm_d_unlock(d);
    free(names);
    free(rb.v);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

/* ---- history ---- */

static bool is_heal_event(const char *type)
{
    static const char *const types[] = {"heal",           "heal_host",         "heal_hook",
                                        "host_fenced",    "host_fence_failed", "vm_promoted",
                                        "vm_rebuilt",     "vm_rebuild_failed", "vm_lost",
                                        "group_degraded", "host_recovered",    "vm_crashed",
                                        "vm_restarted",   "vm_restart_failed", NULL};

    for (int i = 0; types[i]; i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

struct history {
    json_t *ring[1000];
    unsigned limit, n, head;
    int64_t last_id; /* the last event seen (the next page starts after it) */
};

static int history_cb(void *opaque, const struct vm_db_event *ev)
{
    struct history *h = opaque;
    json_t *j;

    h->last_id = ev->id;
    if (!is_heal_event(ev->type))
        return 0;
    j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)ev->id, "ts_ms",
                  (json_int_t)ev->ts_ms, "type", ev->type, "severity",
                  vm_severity_to_string(ev->severity), "object", ev->object, "message",
                  ev->message);
    if (h->n == h->limit) {
        json_decref(h->ring[h->head]);
        h->ring[h->head] = j;
        h->head = (h->head + 1) % h->limit;
    } else {
        h->ring[(h->head + h->n++) % h->limit] = j;
    }
    return 0;
}

enum nfv_code vm_daemon_heal_history(struct vm_daemon *d, unsigned limit, json_t **ret,
                                     struct nfv_err *err)
{
    struct history *h = calloc(1, sizeof(*h));
    json_t *arr = json_array();
    int64_t since = 0;
    enum nfv_code code;

    if (!h || !arr) {
        free(h);
        json_decref(arr);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    h->limit = limit == 0 || limit > 1000 ? 1000 : limit;
    vm_d_lock(d);
    /* Walk the kept log in pages, keeping the newest @limit healing events. */
    do {
        since = h->last_id;
        code = vm_db_event_list(d->db, since, 5000, history_cb, h, err);
    } while (code == NFV_OK && h->last_id != since);
    vm_d_unlock(d);
    for (unsigned i = 0; i < h->n; i++)
        json_array_append_new(arr, h->ring[(h->head + i) % h->limit]);
    free(h);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:o}", "events", arr);
    return NFV_OK;
}

/* ---- operator verbs ---- */

enum nfv_code vm_daemon_host_fence(struct vm_daemon *d, const char *name, const json_t *body,
                                   json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"confirm_dead", NULL};
    const json_t *cd = json_object_get(body, "confirm_dead");
    struct host_rt *h;
    enum nfv_code code = NFV_OK;

    if (body && vm_req_check_fields(body, fields, err))
        return NFV_E_INVAL;
    if (!json_is_true(cd))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'confirm_dead': must be true: the standbys of a host are promoted only "
                       "once nothing can run there (power it off, or let healing fence it "
                       "through its BMC)");
    vm_d_lock(d);
    if (!(h = vm_d_host_find(d, name)) || !h->id) {
        code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    } else if (!d->cfg.is_heal_enabled) {
        code = NFV_ERR(err, NFV_E_STATE, "healing is off in vmmgrd's config ('heal')");
    } else {
        if (h->heal.state != HEAL_FENCED && h->heal.state != HEAL_EVACUATED) {
            vm_d_event(d, VM_SEV_WARN, "heal", h->name, "an operator confirmed the host dead");
            vm_heal_feed(d, h, HEAL_IN_OPERATOR_DEAD);
        }
        *ret = vm_heal_host_json(h);
        json_object_set_new(*ret, "name", json_string(h->name));
    }
    vm_d_unlock(d);
    return code;
}

struct stale {
    char uuid[VM_UUID_STR];
    char name[VM_NAME_MAX];
    bool is_removed;
};

struct stale_list {
    struct stale *v;
    size_t n, cap;
};

static int stale_cb(void *opaque, const char *uuid, const char *name)
{
    struct stale_list *l = opaque;

    if (!VM_D_GROW(l->v, l->n, l->cap))
        return 1;
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    snprintf(l->v[l->n].uuid, VM_UUID_STR, "%s", uuid);
    snprintf(l->v[l->n].name, VM_NAME_MAX, "%s", name);
    l->n++;
    return 0;
}

enum nfv_code vm_daemon_host_recover(struct vm_daemon *d, const char *name, json_t **ret,
                                     struct nfv_err *err)
{
    struct stale_list sl = {0};
    struct vm_hv_conn *conn = NULL;
    struct host_rt *h;
    struct vm_job job;
    enum heal_state st;
    unsigned n_removed = 0, n_back = 0;
    enum nfv_code code;

    vm_d_lock(d);
    if (!(h = vm_d_host_find(d, name)) || !h->id) {
        code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
        goto out;
    }
    st = h->heal.state;
    if (st == HEAL_UP) {
        code = NFV_ERR(err, NFV_E_STATE, "host '%s' is up: nothing to recover", name);
        goto out;
    }
    if (st == HEAL_FAILED) {
        code = NFV_ERR(err, NFV_E_STATE,
                       "host '%s' is being fenced: wait for the fence, or confirm it dead with "
                       "'vmmgrctl host fence %s --confirm-dead'",
                       name, name);
        goto out;
    }
    if ((st == HEAL_FENCED || st == HEAL_EVACUATED) && !h->conn) {
        code = NFV_ERR(err, NFV_E_UNREACHABLE,
                       "host '%s' is unreachable: power it on and wait until libvirt answers, so "
                       "that the domains it may still hold can be removed first",
                       name);
        goto out;
    }
    if ((code = vm_job_begin(d, &job, VM_OP_HOST_RECOVER, "recover", NULL, h, true, name, NULL,
                             err)) != NFV_OK)
        goto out;
    if (st == HEAL_FENCED || st == HEAL_EVACUATED) {
        vm_db_stale_list(d->db, h->id, stale_cb, &sl, NULL);
        if ((code = vm_job_conn(&job, h, &conn, err)) != NFV_OK) {
            vm_job_end(&job, VM_OPS_FAILED, "unreachable", false);
            goto out;
        }
        vm_job_leave(&job);
        /* Only the domain that still carries the lost VM's UUID: a name is
         * not proof (the same name runs elsewhere now). */
        for (size_t i = 0; i < sl.n; i++) {
            char uuid[VM_HV_UUID_STR] = "";
            enum nfv_code c = VM_HV(d, domain_uuid, conn, sl.v[i].name, uuid, NULL);
            if (c == NFV_E_NOENT || (c == NFV_OK && strcmp(uuid, sl.v[i].uuid) != 0)) {
                sl.v[i].is_removed = true; /* gone already, or not ours */
                continue;
            }
            c = VM_HV(d, domain_undefine, conn, sl.v[i].name, NULL);
            sl.v[i].is_removed = c == NFV_OK || c == NFV_E_NOENT;
        }
        vm_job_reenter(&job);
        for (size_t i = 0; i < sl.n; i++) {
            if (!sl.v[i].is_removed) {
                code = NFV_ERR(err, NFV_E_HYPERVISOR,
                               "host '%s': the stale domain '%s' could not be removed; try again",
                               name, sl.v[i].name);
                vm_job_end(&job, VM_OPS_FAILED, "stale domain not removed", false);
                goto out;
            }
            vm_db_stale_delete(d->db, h->id, sl.v[i].uuid, NULL);
            n_removed++;
        }
        /* Members never rebuilt (no room) come back with the host:
         * reconcile below reads their real state. */
        for (size_t i = 0; i < d->n_vms; i++)
            if (d->vms[i]->host == h && d->vms[i]->state == VM_GUEST_LOST) {
                d->vms[i]->state = VM_GUEST_STOPPED;
                vm_db_vm_set_state(d->db, d->vms[i]->name, VM_GUEST_STOPPED, vm_daemon_now_ms(),
                                   NULL);
                n_back++;
            }
        if (st == HEAL_FENCED) {
            h->heal_todo = 0;
            vm_heal_feed(d, h, HEAL_IN_EVACUATED);
        }
    }
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    vm_heal_feed(d, h, HEAL_IN_OPERATOR_REPAIRED);
    vm_d_event(d, VM_SEV_INFO, "host_recovered", name,
               "repaired by an operator: %u stale domain(s) removed, %u VM(s) back; now %s",
               n_removed, n_back, heal_state_to_string(h->heal.state));
    if (n_back)
        vm_recover_reconcile(d);
    if ((h = vm_d_host_find(d, name))) {
        *ret = vm_heal_host_json(h);
        json_object_set_new(*ret, "name", json_string(name));
        json_object_set_new(*ret, "stale_domains_removed", json_integer(n_removed));
    } else {
        *ret = json_pack("{s:s}", "name", name);
    }
out:
    vm_d_unlock(d);
    free(sl.v);
    return code;
}
