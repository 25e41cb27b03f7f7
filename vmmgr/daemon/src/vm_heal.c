/*
 * vm_heal.c - the healer thread (see vm_heal.h): BMC polls, ticks, and the
 * fence / promote / rebuild jobs the host state machines ask for.
 *
 * Calls: vm_ctx, vm_job, vm_net, vm_place, vm_recover, vm_heal_state,
 * vm_heal_hook, and vm_daemon_vm_create() (the create path) for rebuilds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heal/mon.h"
#include "nfv/log.h"
#include "vm_heal.h"
#include "vm_heal_hook.h"
#include "vm_heal_state.h"
#include "vm_net.h"
#include "vm_place.h"
#include "vm_recover.h"

#define MOD "heal"

#define TODO(a) (1u << (a))

/* A BMC session the healer keeps for one host (healer thread only). */
struct bmc_slot {
    int64_t host_id;
    struct heal_mon_config cfg;
    struct heal_mon *mon; /* NULL until opened / after a failure */
    int64_t next_open_ms;
    unsigned n_misses; /* polls in a row without an answer */
    bool is_seen;      /* still configured at the last pass */
};

struct healer {
    struct vm_daemon *d;
    const struct heal_mon_driver *drv;
    struct bmc_slot *slots;
    size_t n_slots;
};

/* ---- BMC polling (outside the lock) ---- */

static struct bmc_slot *slot_get(struct healer *hl, int64_t host_id)
{
    struct bmc_slot *s;

    for (size_t i = 0; i < hl->n_slots; i++)
        if (hl->slots[i].host_id == host_id)
            return &hl->slots[i];
    s = realloc(hl->slots, (hl->n_slots + 1) * sizeof(*s));
    if (!s)
        return NULL;
    hl->slots = s;
    s = &hl->slots[hl->n_slots++];
    memset(s, 0, sizeof(*s));
    s->host_id = host_id;
    return s;
}

static void slot_close(struct healer *hl, struct bmc_slot *s)
{
    if (s->mon)
        hl->drv->close(s->mon);
    s->mon = NULL;
}

/* Polls in a row a BMC may miss before it counts as silent: one lost UDP
 * exchange (ipmi_sim drops sessions now and then, real BMCs too) must not
 * make a healthy host suspect. */
#define BMC_MISSES 3

/* One poll of one BMC: the inputs it means, and a status line. */
static unsigned poll_one(struct healer *hl, struct bmc_slot *s, int64_t now,
                         struct heal_input *inputs, char *status, size_t status_size)
{
    struct heal_mon_poll poll;
    struct nfv_err e = {0};
    enum nfv_code code = NFV_OK;

    memset(&poll, 0, sizeof(poll));
    if (!s->mon) {
        if (now < s->next_open_ms) {
            snprintf(status, status_size, "no answer (%u in a row, retrying)", s->n_misses);
            return s->n_misses < BMC_MISSES
                       ? 0
                       : heal_mon_poll_inputs(NFV_E_TIMEOUT, &poll, (uint64_t)now, inputs);
        }
        code = hl->drv->open(&s->cfg, &s->mon, &e);
        if (code != NFV_OK) {
            s->mon = NULL;
            /* Not before the next poll period: a BMC that refuses logins
             * must not be hammered. */
            s->next_open_ms = now + 1000;
        }
    }
    if (code == NFV_OK)
        code = hl->drv->poll(s->mon, &poll, &e);
    if (code != NFV_OK) {
        /* Our own message (heal/mon.h never quotes the BMC). */
        s->n_misses++;
        snprintf(status, status_size, "%.70s (%u in a row)", e.msg[0] ? e.msg : "no answer",
                 s->n_misses);
        /* The session stays: the driver opens a fresh one by itself and
         * keeps its SEL cursor, so events logged while the BMC was out of
         * reach are still reported (a re-open would take them as history). */
        if (s->n_misses < BMC_MISSES)
            return 0;
    } else {
        s->n_misses = 0;
        snprintf(status, status_size, "power %s, %u new SEL event(s)",
                 heal_power_to_string(poll.power), poll.n_events);
    }
    return heal_mon_poll_inputs(code, &poll, (uint64_t)vm_d_mono_ms(), inputs);
}

struct polled {
    int64_t host_id;
    unsigned n;
    struct heal_input in[HEAL_MON_POLL_MAX_INPUTS];
    char status[96];
};

/* Polls every BMC (lock dropped meanwhile) and feeds what they said, then a
 * tick to every host. Lock held on entry and exit. */
static void poll_all(struct healer *hl)
{
    struct vm_daemon *d = hl->d;
    struct polled *p;
    size_t n = 0;
    char path[PATH_MAX];

    p = calloc(d->n_hosts ? d->n_hosts : 1, sizeof(*p));
    if (!p)
        return;
    for (size_t i = 0; i < hl->n_slots; i++)
        hl->slots[i].is_seen = false;
    for (size_t i = 0; i < d->n_hosts; i++) {
        struct host_rt *h = d->hosts[i];
        struct bmc_slot *s;
        if (!h->id || !h->bmc_address[0] || h->heal.state == HEAL_EVACUATED)
            continue;
        if (!(s = slot_get(hl, h->id)))
            break;
        s->is_seen = true;
        if (vm_heal_bmc_path(d, h->name, path, sizeof(path), NULL) != NFV_OK)
            continue;
        if (strcmp(s->cfg.address, h->bmc_address) != 0 || strcmp(s->cfg.user, h->bmc_user) != 0) {
            slot_close(hl, s);
            heal_mon_config_init(&s->cfg);
            s->cfg.timeout_ms = d->cfg.heal_bmc_timeout_ms;
            if (heal_mon_config_set(&s->cfg, h->bmc_address, h->bmc_user, path, NULL) != NFV_OK)
                continue;
        }
        p[n++].host_id = h->id;
    }
    vm_d_unlock(d);
    /* Slots of hosts gone (removed, or evacuated: nothing left to watch). */
    for (size_t i = 0; i < hl->n_slots; i++)
        if (!hl->slots[i].is_seen)
            slot_close(hl, &hl->slots[i]);
    for (size_t i = 0; i < n; i++)
        p[i].n = poll_one(hl, slot_get(hl, p[i].host_id), vm_d_mono_ms(), p[i].in, p[i].status,
                          sizeof(p[i].status));
    vm_d_lock(d);
    for (size_t i = 0; i < n; i++) {
        struct host_rt *h = vm_d_host_find_id(d, p[i].host_id);
        if (!h)
            continue;
        snprintf(h->bmc_status, sizeof(h->bmc_status), "%s", p[i].status);
        for (unsigned k = 0; k < p[i].n; k++)
            vm_heal_feed_input(d, h, &p[i].in[k]);
    }
    free(p);
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->id)
            vm_heal_feed(d, d->hosts[i], HEAL_IN_TICK);
}

/* ---- fence ---- */

/* Destroys every domain of ours on @h through libvirt (a host reachable
 * but sick). True when each one is confirmed shut off or gone. */
static bool destroy_domains(struct vm_daemon *d, struct vm_hv_conn *conn,
                            char (*names)[VM_NAME_MAX], size_t n)
{
    bool is_ok = true;

    for (size_t i = 0; i < n; i++) {
        enum vm_hv_dom_state st;
        struct nfv_err e = {0};
        enum nfv_code code = VM_HV(d, domain_state, conn, names[i], &st, &e);
        if (code == NFV_E_NOENT || (code == NFV_OK && st != VM_HV_DOM_RUNNING &&
                                    st != VM_HV_DOM_PAUSED && st != VM_HV_DOM_OTHER))
            continue;
        code = VM_HV(d, domain_stop, conn, names[i], true, &e);
        if (code != NFV_OK && code != NFV_E_NOENT)
            is_ok = false;
        else if (VM_HV(d, domain_state, conn, names[i], &st, &e) == NFV_OK &&
                 st == VM_HV_DOM_RUNNING)
            is_ok = false;
    }
    return is_ok;
}

/* The fence job on @h: BMC power off read back off, and the domains
 * destroyed if libvirt still answers. Feeds fence_done / fence_failed.
 * Lock held; dropped meanwhile. */
static void fence_host(struct healer *hl, struct host_rt *h)
{
    struct vm_daemon *d = hl->d;
    struct vm_job job;
    struct vm_hv_conn *conn = NULL;
    struct bmc_slot *s = h->bmc_address[0] ? slot_get(hl, h->id) : NULL;
    char(*names)[VM_NAME_MAX] = NULL;
    size_t n = 0;
    int64_t id = h->id;
    bool is_power_off = false, is_destroyed = false, has_bmc = s && s->cfg.address[0];
    char why[NFV_ERR_MSG_SIZE] = "";
    struct nfv_err e = {0};

    if (h->job)
        return; /* a connect or recover job has it: next pass */
    h->heal_todo &= ~TODO(HEAL_ACT_FENCE);
    if (vm_job_begin(d, &job, VM_OP_HOST_FENCE, "fence", NULL, h, true, h->name, NULL, NULL) !=
        NFV_OK) {
        h->heal_todo |= TODO(HEAL_ACT_FENCE);
        return;
    }
    if (h->conn && !atomic_load(&h->is_lost) && vm_job_conn(&job, h, &conn, NULL) == NFV_OK) {
        names = calloc(d->n_vms ? d->n_vms : 1, sizeof(*names));
        for (size_t i = 0; names && i < d->n_vms; i++)
            if (d->vms[i]->host == h)
                snprintf(names[n++], VM_NAME_MAX, "%s", d->vms[i]->name);
    }
    vm_job_step(&job, "power_off");
    vm_job_leave(&job);
    if (has_bmc) {
        enum nfv_code code = NFV_E_TIMEOUT;
        if (!s->mon && hl->drv->open(&s->cfg, &s->mon, &e) != NFV_OK)
            s->mon = NULL;
        if (s->mon)
            code = heal_mon_fence(hl->drv, s->mon, d->cfg.heal_fence_timeout_ms, 100, &e);
        is_power_off = code == NFV_OK;
        if (!is_power_off)
            snprintf(why, sizeof(why), "BMC: %.400s", e.msg[0] ? e.msg : "no answer");
    }
    vm_d_crash_point(d, VM_OP_HOST_FENCE, "after_power_off");
    if (conn) {
        is_destroyed = destroy_domains(d, conn, names, n);
        if (!is_destroyed && !why[0])
            snprintf(why, sizeof(why), "libvirt could not destroy every domain");
    } else if (!has_bmc && !why[0]) {
        snprintf(why, sizeof(why),
                 "no BMC and libvirt unreachable: confirm with 'vmmgrctl host fence %s "
                 "--confirm-dead' once the host is known to be off",
                 h->name);
    }
    vm_job_reenter(&job);
    free(names);
    h = vm_d_host_find_id(d, id); /* claimed by the job: still there */
    if (is_power_off || is_destroyed) {
        vm_job_step(&job, "confirmed");
        vm_job_end(&job, VM_OPS_DONE, NULL, false);
        vm_d_event(d, VM_SEV_WARN, "host_fenced", h->name, "%s%s%s",
                   is_power_off ? "chassis power read back off" : "",
                   is_power_off && is_destroyed ? "; " : "",
                   is_destroyed ? "every domain destroyed through libvirt" : "");
        vm_heal_feed(d, h, HEAL_IN_FENCE_DONE);
    } else {
        vm_job_end(&job, VM_OPS_FAILED, "fence not confirmed", false);
        vm_d_event(d, VM_SEV_ERR, "host_fence_failed", h->name, "attempt %u: %s",
                   h->heal.n_fence_attempts, why);
        vm_heal_feed(d, h, HEAL_IN_FENCE_FAILED);
    }
}

/* ---- promote ---- */

/* The group's SBY to promote in place of ACT @act: running, on a host that
 * is up (healing and libvirt), no job on it. Lock held. */
static struct vm_rt *standby_of(struct vm_daemon *d, const struct vm_rt *act)
{
    struct vm_rt *suspect = NULL;

    /* A host merely suspect (its BMC silent, say) still runs its guests:
     * its SBY is taken when no SBY on a host that is up exists. */
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *v = d->vms[i];
        if (v == act || v->role != VM_ROLE_SBY || strcmp(v->group, act->group) != 0 ||
            v->host == act->host || v->state != VM_GUEST_RUNNING || v->job || !v->host->conn)
            continue;
        if (v->host->heal.state == HEAL_UP)
            return v;
        if (v->host->heal.state == HEAL_SUSPECT && !suspect)
            suspect = v;
    }
    return suspect;
}

static char *promote_json(const struct vm_rt *new_act, const char *old_act, const char *old_host,
                          const char *reason)
{
    json_t *j =
        json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:s,s:s},s:s,s:I}", "event", "promote", "group",
                  new_act->group, "new_act", "name", new_act->name, "host", new_act->host->name,
                  "uuid", new_act->uuid, "old_act", "name", old_act, "host", old_host, "reason",
                  reason, "ts_ms", (json_int_t)vm_daemon_now_ms());
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    json_decref(j);
    return text;
}

/* One promotion in flight: the ACT lost, its SBY, their job. */
struct promotion {
    struct vm_rt *act, *sby;
    struct vm_job job;
    char *hook; /* JSON for the VNF, built under the lock */
    char sby_name[VM_NAME_MAX];
};

/*
 * Promotes @n groups at once: every journal entry and role in ONE
 * transaction (a rack failure costs one commit, not one per group), then
 * the hooks without the lock, then the entries closed. @reason goes to the
 * hooks. Returns how many were promoted (0 when the transaction failed: the
 * caller retries). Lock held; dropped around the hooks.
 */
static size_t promote_many(struct vm_daemon *d, struct promotion *p, size_t n, const char *reason)
{
    struct nfv_err e = {0};
    size_t n_begun = 0;
    bool is_ok = true;

    if (vm_db_begin(d->db, &e) != NFV_OK)
        return 0;
    for (; n_begun < n && is_ok; n_begun++) {
        struct promotion *q = &p[n_begun];
        json_t *pj = json_pack("{s:s,s:s,s:s}", "new_act", q->sby->name, "old_act", q->act->name,
                               "host", q->act->host->name);
        char *payload = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
        json_decref(pj);
        if (vm_job_begin(d, &q->job, VM_OP_GROUP_PROMOTE, "promote", q->sby, NULL, true,
                         q->sby->group, payload, &e) != NFV_OK) {
            free(payload);
            is_ok = false;
            break;
        }
        free(payload);
        is_ok =
            vm_job_claim_vm(&q->job, q->act, NULL) == NFV_OK &&
            vm_db_vm_set_role(d->db, q->sby->name, VM_ROLE_ACT, vm_daemon_now_ms(), &e) == NFV_OK &&
            vm_db_vm_set_role(d->db, q->act->name, VM_ROLE_SBY, vm_daemon_now_ms(), &e) == NFV_OK;
        if (is_ok)
            vm_job_step(&q->job, "roles");
    }
    if (!is_ok || vm_db_commit(d->db, &e) != NFV_OK) {
        vm_db_rollback(d->db);
        for (size_t i = 0; i < n_begun; i++) {
            p[i].job.op_id = 0; /* rolled back with the transaction */
            vm_job_end(&p[i].job, VM_OPS_FAILED, "roles not written", false);
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct promotion *q = &p[i];
        char old_act[VM_NAME_MAX], old_host[VM_NAME_MAX];
        snprintf(old_act, sizeof(old_act), "%s", q->act->name);
        snprintf(old_host, sizeof(old_host), "%s", q->act->host->name);
        snprintf(q->sby_name, sizeof(q->sby_name), "%s", q->sby->name);
        q->sby->role = VM_ROLE_ACT;
        q->act->role = VM_ROLE_SBY;
        vm_place_vm_removed(d, q->sby); /* roles matter to placement: re-add */
        vm_place_vm_added(d, q->sby);
        vm_place_vm_removed(d, q->act);
        vm_place_vm_added(d, q->act);
        vm_d_event(d, VM_SEV_WARN, "vm_promoted", q->sby->name,
                   "ACT of group '%s' (was SBY) in place of %s on %s: %s", q->sby->group, old_act,
                   old_host, reason);
        q->hook = promote_json(q->sby, old_act, old_host, reason);
    }
    vm_d_crash_point(d, VM_OP_GROUP_PROMOTE, "after_roles");
    /* The claimed VMs stay (nobody removes a claimed VM); the hooks run
     * unlocked, one after the other (each bounded by its timeout). */
    vm_d_unlock(d);
    for (size_t i = 0; i < n; i++)
        if (p[i].hook && (d->cfg.heal_hook_exec[0] || d->cfg.heal_hook_url[0]))
            vm_heal_hook_run(d, p[i].sby_name, p[i].hook);
    vm_d_lock(d);
    for (size_t i = 0; i < n; i++) {
        free(p[i].hook);
        p[i].hook = NULL;
        vm_job_end(&p[i].job, VM_OPS_DONE, NULL, false);
    }
    return n;
}

/* Every VM on fenced @h is lost; each ACT's SBY is promoted, all in one
 * transaction. Lock held. */
static void promote_host(struct vm_daemon *d, struct host_rt *h)
{
    struct promotion *p = calloc(d->n_vms ? d->n_vms : 1, sizeof(*p));
    size_t n = 0;
    bool is_done = true;
    char reason[sizeof(h->heal_reason)];
    int64_t id = h->id;

    if (!p)
        return;
    snprintf(reason, sizeof(reason), "%s", h->heal_reason);
    vm_db_begin(d->db, NULL);
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *v = d->vms[i];
        if (v->host != h || v->job || v->state == VM_GUEST_LOST)
            continue;
        v->state = VM_GUEST_LOST;
        vm_db_vm_set_state(d->db, v->name, VM_GUEST_LOST, vm_daemon_now_ms(), NULL);
        vm_d_event(d, VM_SEV_ERR, "vm_lost", v->name, "host %s fenced", h->name);
    }
    vm_db_commit(d->db, NULL);
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *act = d->vms[i], *sby;
        if (act->host != h || act->role != VM_ROLE_ACT || !act->group[0])
            continue;
        if (act->job) {
            is_done = false;
            continue;
        }
        if (!(sby = standby_of(d, act))) {
            vm_d_event(d, VM_SEV_ERR, "group_degraded", act->group,
                       "ACT %s lost with host %s and no running SBY elsewhere to promote",
                       act->name, h->name);
            continue;
        }
        p[n].act = act;
        p[n].sby = sby;
        n++;
    }
    if (n && promote_many(d, p, n, reason) != n)
        is_done = false; /* the next pass retries */
    free(p);
    if (is_done && (h = vm_d_host_find_id(d, id))) {
        h->heal_todo &= ~TODO(HEAL_ACT_PROMOTE);
        vm_metrics_hist_observe(&d->metrics.heal[VM_HEAL_PROMOTE],
                                (double)(vm_d_mono_ms() - h->heal_failed_ms));
    }
}

/* Promotes @act's group around it (a crash that could not be restarted). */
static void promote_one(struct vm_daemon *d, struct vm_rt *act, struct vm_rt *sby,
                        const char *reason)
{
    struct promotion p = {.act = act, .sby = sby};

    promote_many(d, &p, 1, reason);
}

/* ---- rebuild ---- */

/* The create body that rebuilds @v elsewhere: its stored spec, no forced
 * host, its group and role (after a promotion the lost ACT is the SBY), the
 * reserve waived (this is what the reserve is for). NULL if unreadable. */
static json_t *rebuild_body(const struct vm_rt *v)
{
    struct vm_db_vm row;
    json_t *body = NULL;

    if (vm_db_vm_get(v->host->d->db, v->name, &row, NULL) != NFV_OK)
        return NULL;
    body = json_loads(row.spec ? row.spec : "{}", 0, NULL);
    vm_db_vm_clear(&row);
    if (!json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    json_object_del(body, "host");
    json_object_set_new(body, "name", json_string(v->name));
    if (v->group[0]) {
        json_object_set_new(body, "group", json_string(v->group));
        json_object_set_new(body, "role", json_string(vm_role_to_string(v->role)));
    }
    json_object_set_new(body, "ignore_reserve", json_true());
    return body;
}

/* Re-creates from journal entry @op_id's payload (lock held; dropped while
 * the create runs). True when the VM now exists. */
static bool rebuild_run(struct vm_daemon *d, struct vm_job *job, const char *name, json_t *body,
                        const char *from)
{
    json_t *ret = NULL;
    struct nfv_err e = {0};
    enum nfv_code code;

    vm_job_leave(job);
    code = vm_daemon_vm_create(d, body, false, &ret, &e);
    vm_job_reenter(job);
    if (code == NFV_OK || vm_d_vm_find(d, name)) {
        struct vm_rt *v = vm_d_vm_find(d, name);
        vm_job_end(job, VM_OPS_DONE, NULL, false);
        vm_d_event(d, VM_SEV_WARN, "vm_rebuilt", name, "re-created on %s as %s (was on %s)",
                   v ? v->host->name : "?", v ? vm_role_to_string(v->role) : "?", from);
        json_decref(ret);
        return true;
    }
    /* Kept pending: the intent survives, the healer retries. */
    vm_job_end(job, VM_OPS_PENDING, NULL, true);
    vm_d_event(d, VM_SEV_ERR, "vm_rebuild_failed", name, "%s; retrying in %u ms", e.msg,
               d->cfg.heal_rebuild_retry_ms);
    return false;
}

/* Starts the rebuild of lost @v: one transaction journals the intent (its
 * create body), drops the row and records the domain the fenced host may
 * still hold; then the create runs. Lock held. */
static bool rebuild_one(struct vm_daemon *d, struct vm_rt *v)
{
    struct host_rt *from = v->host;
    json_t *body = rebuild_body(v), *pj;
    char *payload;
    char name[VM_NAME_MAX], from_name[VM_NAME_MAX];
    int64_t from_id = from->id;
    struct vm_job job;
    struct nfv_err e = {0};
    bool is_ok;

    if (!body)
        return false;
    pj = json_pack("{s:O,s:s,s:s,s:s}", "body", body, "from_host", from->name, "uuid", v->uuid,
                   "group", v->group);
    payload = pj ? json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(pj);
    snprintf(name, sizeof(name), "%s", v->name);
    snprintf(from_name, sizeof(from_name), "%s", from->name);
    if (!payload || vm_db_begin(d->db, &e) != NFV_OK) {
        free(payload);
        json_decref(body);
        return false;
    }
    if (vm_job_begin(d, &job, VM_OP_VM_REBUILD, "rebuild", NULL, NULL, true, name, payload, &e) !=
        NFV_OK) {
        vm_db_rollback(d->db);
        free(payload);
        json_decref(body);
        return false;
    }
    if (vm_db_vm_delete(d->db, name, &e) != NFV_OK ||
        (v->uuid[0] && vm_db_stale_add(d->db, from->id, v->uuid, name, &e) != NFV_OK)) {
        vm_db_rollback(d->db);
        job.op_id = 0; /* rolled back with the transaction */
        vm_job_end(&job, VM_OPS_FAILED, "not journaled", false);
        free(payload);
        json_decref(body);
        return false;
    }
    vm_job_step(&job, "released");
    if (vm_db_commit(d->db, &e) != NFV_OK) {
        vm_db_rollback(d->db);
        vm_job_end(&job, VM_OPS_FAILED, "not journaled", false);
        free(payload);
        json_decref(body);
        return false;
    }
    free(payload);
    if (from->alloc)
        pin_alloc_release(from->alloc, name, NULL);
    vm_place_vm_removed(d, v);
    vm_d_vm_detach(d, v);
    vm_d_vm_free(v);
    vm_d_crash_point(d, VM_OP_VM_REBUILD, "after_release");
    /* Issue 15: the fenced host's trunk drops the VLANs nothing there uses
     * any more (its expected set no longer counts the VM); the create below
     * adds them where the member lands. A switch failure is repaired later. */
    vm_job_leave(&job);
    vm_net_sync_hosts(d, &job, &from_id, 1, NULL, NULL);
    vm_job_reenter(&job);
    is_ok = rebuild_run(d, &job, name, body, from_name);
    json_decref(body);
    return is_ok;
}

struct pending_rebuild {
    int64_t id;
    char name[VM_NAME_MAX];
    char from[VM_NAME_MAX];
    json_t *body;
};

struct pending_list {
    struct pending_rebuild *v;
    size_t n, cap;
};

static int pending_cb(void *opaque, const struct vm_db_op *op)
{
    struct pending_list *pl = opaque;
    json_t *p;

    if (op->kind != VM_OP_VM_REBUILD)
        return 0;
    if (!VM_D_GROW(pl->v, pl->n, pl->cap))
        return 1;
    p = json_loads(op->payload ? op->payload : "{}", 0, NULL);
    memset(&pl->v[pl->n], 0, sizeof(pl->v[0]));
    pl->v[pl->n].id = op->id;
    snprintf(pl->v[pl->n].name, VM_NAME_MAX, "%.*s", VM_NAME_MAX - 1, op->target);
    snprintf(pl->v[pl->n].from, VM_NAME_MAX, "%s",
             json_string_value(json_object_get(p, "from_host")) ?: "?");
    pl->v[pl->n].body = json_incref(json_object_get(p, "body"));
    json_decref(p);
    pl->n++;
    return 0;
}

static void pending_free(struct pending_list *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        json_decref(pl->v[i].body);
    free(pl->v);
    memset(pl, 0, sizeof(*pl));
}

/* Rebuilds journaled earlier that did not end (no room then, or vmmgrd
 * stopped): each runs again under its own entry. @from: only those from
 * that host (NULL: all). Returns how many are still pending. Lock held. */
static unsigned retry_pending(struct vm_daemon *d, const char *from)
{
    struct pending_list pl = {0};
    unsigned n_left = 0;

    vm_db_op_list(d->db, true, 100000, pending_cb, &pl, NULL);
    for (size_t i = 0; i < pl.n && !d->is_stopping; i++) {
        struct pending_rebuild *r = &pl.v[i];
        struct vm_job job;
        if (from && strcmp(r->from, from) != 0)
            continue;
        if (vm_d_vm_find(d, r->name)) {
            /* Made before a crash (its create committed): done. */
            vm_db_op_finish(d->db, r->id, VM_OPS_DONE, NULL, vm_daemon_now_ms(), NULL);
            continue;
        }
        if (!r->body) {
            vm_db_op_finish(d->db, r->id, VM_OPS_FAILED, "no create body", vm_daemon_now_ms(),
                            NULL);
            continue;
        }
        /* A job re-attached to the existing entry. */
        vm_job_begin(d, &job, VM_OP_VM_REBUILD, "rebuild", NULL, NULL, false, NULL, NULL, NULL);
        job.op_id = r->id;
        if (!rebuild_run(d, &job, r->name, r->body, r->from))
            n_left++;
    }
    pending_free(&pl);
    return n_left;
}

/* True while some host waits for a fence or its promotions: those come
 * before any rebuild (a rack failing host by host must not wait for the
 * first host's rebuilds to see its SBYs promoted). Lock held. */
static bool is_urgent(const struct vm_daemon *d)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->heal_todo & (TODO(HEAL_ACT_FENCE) | TODO(HEAL_ACT_PROMOTE)))
            return true;
    return false;
}

/* Rebuilds every lost VM of fenced @h; once none is left (and no rebuild
 * from it is pending) the host is EVACUATED. Lock held. */
static void rebuild_host(struct vm_daemon *d, struct host_rt *h)
{
    int64_t id = h->id;
    unsigned n_left = 0;
    bool is_retry_due = vm_d_mono_ms() >= h->heal_retry_ms;

    if (h->heal_todo & TODO(HEAL_ACT_PROMOTE))
        return; /* promotions first: the lost ACTs become SBYs */
    if (!is_retry_due)
        return;
    for (size_t i = 0; i < d->n_vms && !d->is_stopping; i++) {
        struct vm_rt *v = d->vms[i];
        if (v->host != h || v->state != VM_GUEST_LOST)
            continue;
        if (v->job) {
            n_left++;
            continue;
        }
        if (!rebuild_one(d, v))
            n_left++;
        if (!(h = vm_d_host_find_id(d, id)))
            return;
        i = (size_t)-1; /* the lock was dropped: start over (rebuilt ones are gone) */
        if (n_left)
            break;
        if (is_urgent(d))
            return; /* a new failure: its fence and promotions first */
    }
    if (!n_left)
        n_left = retry_pending(d, h->name);
    if (!(h = vm_d_host_find_id(d, id)))
        return;
    if (n_left) {
        h->heal_retry_ms = vm_d_mono_ms() + d->cfg.heal_rebuild_retry_ms;
        return;
    }
    h->heal_todo &= ~TODO(HEAL_ACT_REBUILD);
    vm_metrics_hist_observe(&d->metrics.heal[VM_HEAL_RESTORE],
                            (double)(vm_d_mono_ms() - h->heal_failed_ms));
    vm_heal_feed(d, h, HEAL_IN_EVACUATED);
}

/*
 * VMs that crashed on a host that is up (QEMU killed, guest crash): started
 * again in place, pins verified (the start path). If that fails and the VM
 * was a group's ACT, its SBY is promoted. Lock held; dropped meanwhile.
 */
static void restart_crashed(struct vm_daemon *d)
{
    for (size_t i = 0; i < d->n_vms && !d->is_stopping; i++) {
        struct vm_rt *v = d->vms[i], *sby;
        char name[VM_NAME_MAX];
        json_t *ret = NULL;
        struct nfv_err e = {0};
        enum nfv_code code;
        if (!v->is_crash_restart || v->job)
            continue;
        v->is_crash_restart = false;
        if (v->host->heal.state != HEAL_UP || v->state != VM_GUEST_STOPPED)
            continue; /* the host is failing: host healing takes over */
        snprintf(name, sizeof(name), "%s", v->name);
        vm_d_unlock(d);
        code = vm_daemon_vm_action(d, name, "start", NULL, &ret, &e);
        json_decref(ret);
        vm_d_lock(d);
        v = vm_d_vm_find(d, name);
        if (code == NFV_OK) {
            vm_d_event(d, VM_SEV_WARN, "vm_restarted", name, "restarted in place after a crash");
        } else if (v) {
            vm_d_event(d, VM_SEV_ERR, "vm_restart_failed", name, "restart in place: %s", e.msg);
            if (v->role == VM_ROLE_ACT && v->group[0] && !v->job && (sby = standby_of(d, v)))
                promote_one(d, v, sby, "the ACT crashed and could not be restarted");
        }
        i = (size_t)-1; /* the lock was dropped: look again from the start */
    }
}

/* Runs what the state machines asked for: fences and promotions of every
 * host first, then rebuilds; hosts by id (the lock is dropped by each
 * job). Lock held. */
static void run_todo(struct healer *hl)
{
    struct vm_daemon *d = hl->d;
    int64_t *ids;
    size_t n = 0;

    ids = calloc(d->n_hosts ? d->n_hosts : 1, sizeof(*ids));
    if (!ids)
        return;
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->id && d->hosts[i]->heal_todo)
            ids[n++] = d->hosts[i]->id;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n && !d->is_stopping; i++) {
            struct host_rt *h = vm_d_host_find_id(d, ids[i]);
            if (!h)
                continue;
            if (round == 0 && (h->heal_todo & TODO(HEAL_ACT_FENCE)))
                fence_host(hl, h);
            else if (round == 0 && (h->heal_todo & TODO(HEAL_ACT_PROMOTE)))
                promote_host(d, h);
            else if (round == 1 && (h->heal_todo & TODO(HEAL_ACT_REBUILD)) && !is_urgent(d))
                rebuild_host(d, h);
        }
    }
    free(ids);
}

static bool has_todo(struct vm_daemon *d)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->heal_todo & ~TODO(HEAL_ACT_REBUILD))
            return true;
    return false;
}

/* A pending promotion, fence or recover entry a crash left behind. */
struct pending_other {
    int64_t id;
    enum vm_op_kind kind;
    char step[32];
    char *payload;
};

struct other_list {
    struct pending_other *v;
    size_t n, cap;
};

static int other_cb(void *opaque, const struct vm_db_op *op)
{
    struct other_list *l = opaque;

    if (!vm_op_kind_is_heal(op->kind) || op->kind == VM_OP_VM_REBUILD)
        return 0;
    if (!VM_D_GROW(l->v, l->n, l->cap))
        return 1;
    l->v[l->n].id = op->id;
    l->v[l->n].kind = op->kind;
    snprintf(l->v[l->n].step, sizeof(l->v[0].step), "%s", op->step);
    l->v[l->n].payload = op->payload ? strdup(op->payload) : NULL;
    l->n++;
    return 0;
}

/*
 * After a crash: a promotion whose roles were committed ("roles") owes the
 * VNF its hook, which runs now (at least once); one that had not got there
 * is rolled back (the fenced host's state promotes again). A fence or a
 * recover is rolled back: the host's persisted state retries the fence,
 * the operator the recover. Lock held; dropped around hooks.
 */
static void resume_others(struct vm_daemon *d)
{
    struct other_list l = {0};

    vm_db_op_list(d->db, true, 100000, other_cb, &l, NULL);
    for (size_t i = 0; i < l.n; i++) {
        struct pending_other *o = &l.v[i];
        if (o->kind == VM_OP_GROUP_PROMOTE && strcmp(o->step, "roles") == 0) {
            json_t *p = json_loads(o->payload ? o->payload : "{}", 0, NULL);
            struct vm_rt *v =
                vm_d_vm_find(d, json_string_value(json_object_get(p, "new_act")) ?: "");
            char *hook =
                v ? promote_json(v, json_string_value(json_object_get(p, "old_act")) ?: "?",
                                 json_string_value(json_object_get(p, "host")) ?: "?",
                                 "resumed after a vmmgrd restart")
                  : NULL;
            json_decref(p);
            if (hook) {
                char name[VM_NAME_MAX];
                snprintf(name, sizeof(name), "%s", v->name);
                vm_d_unlock(d);
                vm_heal_hook_run(d, name, hook);
                vm_d_lock(d);
                free(hook);
            }
            vm_db_op_finish(d->db, o->id, VM_OPS_DONE, NULL, vm_daemon_now_ms(), NULL);
        } else {
            vm_db_op_finish(d->db, o->id, VM_OPS_ROLLED_BACK,
                            "vmmgrd restarted; resumed from the host's healing state",
                            vm_daemon_now_ms(), NULL);
        }
        free(o->payload);
    }
    free(l.v);
}

void *vm_heal_main(void *arg)
{
    struct healer hl = {.d = arg, .drv = &heal_mon_ipmi};
    struct vm_daemon *d = hl.d;
    int64_t next_poll = 0;
    bool is_resumed = false;

    vm_d_lock(d);
    while (!d->is_stopping) {
        int64_t now = vm_d_mono_ms(), wait;
        if (d->is_recovering) {
            vm_d_wait(d, 100); /* journal recovery first: creates it rolled back */
            continue;
        }
        if (!is_resumed) {
            /* Rebuilds a crash interrupted finish before anything new. */
            is_resumed = true;
            resume_others(d);
            retry_pending(d, NULL);
        }
        if (now >= next_poll) {
            next_poll = now + d->cfg.heal_poll_ms;
            poll_all(&hl);
        }
        run_todo(&hl);
        restart_crashed(d);
        /* Work left (a host busy with another job): look again soon. */
        wait = has_todo(d) ? 20 : next_poll - vm_d_mono_ms();
        if (wait > 0)
            vm_d_wait(d, wait);
    }
    vm_d_unlock(d);
    for (size_t i = 0; i < hl.n_slots; i++)
        slot_close(&hl, &hl.slots[i]);
    free(hl.slots);
    return NULL;
}
