/*
 * vm_migrate.c - POST /v1/vms/NAME/migrate: a VM moves to another host with
 * new pins there, as one journaled job (issue 16):
 *
 *   lock held    placement chooses the destination (plc_plan_move: anti-
 *                affinity, capacity and the healing reserve true after the
 *                move) or checks the one named -> pinning plans the PUs
 *                there (plc_bridge_plan) and claims them -> one transaction:
 *                journal entry (payload: from, to, mode, plan) + the
 *                destination's allocation rows           step "claimed"
 *   unlocked     live: the source's migratable XML with the new <cputune>
 *                and <numatune> (same UUID) -> virDomainMigrate3 (persistent
 *                at the destination, undefined at the source), progress from
 *                virDomainGetJobInfo on a poller thread; cold (or simulated
 *                hosts, whose test driver cannot migrate): stop at the
 *                source, define and start at the destination, undefine at
 *                the source -> pins read back at the destination and repaired
 *   lock held    commit: the VM's row moves (host, plan), the source's rows
 *                and claim are released, journal done, event vm_migrated
 *
 * A failure looks at both hosts and rolls back (destination definition
 * removed, destination rows and claim released; a cold move restarts the
 * guest at the source) unless the guest already runs at the destination,
 * which finishes the move. A crash leaves the entry pending: start-up
 * recovery (vm_migrate_recover) observes both hosts and decides with
 * vm_migrate_decide(). Crash points: vm_migrate.after_journal,
 * .after_migrate (live), .after_define (cold), .after_undefine_source,
 * .before_commit.
 *
 * Calls: vm_ctx, vm_job, vm_pins, vm_view, vm_place, vm_build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfv/log.h"
#include "pin/pin_libvirt.h"
#include "plc/bridge.h"
#include "plc/plan.h"
#include "vm/vm_db_move.h"
#include "vm_build.h"
#include "vm_migrate_priv.h"
#include "vm_net.h"
#include "vm_pins.h"
#include "vm_place.h"
#include "vm_view.h"

#define MOD "migrate"

/* ---- progress of migrations in flight (GET /v1/vms/NAME/migration) ---- */

#define MIG_SLOTS 64

struct mig_progress {
    const struct vm_daemon *d; /* NULL: free slot */
    char name[VM_NAME_MAX];
    char from[VM_NAME_MAX], to[VM_NAME_MAX];
    char mode[16];
    char phase[24]; /* claimed, migrating, verifying, committing */
    int64_t op_id;
    int64_t t0_ms;
    struct vm_hv_job_info ji;
};

static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mig_progress progs[MIG_SLOTS];

static struct mig_progress *prog_find(const struct vm_daemon *d, const char *name)
{
    for (size_t i = 0; i < MIG_SLOTS; i++)
        if (progs[i].d == d && strcmp(progs[i].name, name) == 0)
            return &progs[i];
    return NULL;
}

static void prog_set(const struct vm_daemon *d, const char *name, const char *phase,
                     const struct vm_hv_job_info *ji)
{
    struct mig_progress *p;

    pthread_mutex_lock(&prog_lock);
    if ((p = prog_find(d, name))) {
        if (phase)
            snprintf(p->phase, sizeof(p->phase), "%s", phase);
        if (ji)
            p->ji = *ji;
    }
    pthread_mutex_unlock(&prog_lock);
}

static void prog_begin(const struct vm_daemon *d, const char *name, const char *from,
                       const char *to, const char *mode, int64_t op_id)
{
    pthread_mutex_lock(&prog_lock);
    for (size_t i = 0; i < MIG_SLOTS; i++)
        if (!progs[i].d) {
            struct mig_progress *p = &progs[i];
            memset(p, 0, sizeof(*p));
            p->d = d;
            snprintf(p->name, sizeof(p->name), "%s", name);
            snprintf(p->from, sizeof(p->from), "%s", from);
            snprintf(p->to, sizeof(p->to), "%s", to);
            snprintf(p->mode, sizeof(p->mode), "%s", mode);
            snprintf(p->phase, sizeof(p->phase), "claimed");
            p->op_id = op_id;
            p->t0_ms = vm_d_mono_ms();
            break;
        }
    pthread_mutex_unlock(&prog_lock);
}

static void prog_end(const struct vm_daemon *d, const char *name)
{
    struct mig_progress *p;

    pthread_mutex_lock(&prog_lock);
    if ((p = prog_find(d, name)))
        p->d = NULL;
    pthread_mutex_unlock(&prog_lock);
}

enum nfv_code vm_daemon_vm_migration(struct vm_daemon *d, const char *name, json_t **ret,
                                     struct nfv_err *err)
{
    struct mig_progress *p, copy;
    bool is_found = false;

    vm_d_lock(d);
    is_found = vm_d_vm_find(d, name) != NULL;
    vm_d_unlock(d);
    if (!is_found)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    pthread_mutex_lock(&prog_lock);
    p = prog_find(d, name);
    if (p)
        copy = *p;
    pthread_mutex_unlock(&prog_lock);
    if (!p) {
        *ret = json_pack("{s:s,s:b}", "name", name, "migrating", 0);
        return NFV_OK;
    }
    *ret = json_pack(
        "{s:s,s:b,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:i}", "name", name, "migrating", 1, "from",
        copy.from, "to", copy.to, "mode", copy.mode, "phase", copy.phase, "operation_id",
        (json_int_t)copy.op_id, "elapsed_ms", (json_int_t)(vm_d_mono_ms() - copy.t0_ms),
        "data_total", (json_int_t)copy.ji.data_total, "data_processed",
        (json_int_t)copy.ji.data_processed, "data_remaining", (json_int_t)copy.ji.data_remaining,
        "percent",
        copy.ji.data_total
            ? (int)(100 * (copy.ji.data_total - copy.ji.data_remaining) / copy.ji.data_total)
            : 0);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

/* ---- the poller: virDomainGetJobInfo every 200 ms while libvirt migrates ---- */

struct poller {
    struct vm_daemon *d;
    struct vm_hv_conn *conn;
    const char *name;
    atomic_bool is_done;
    pthread_t t;
    bool is_started;
};

static void *poll_main(void *arg)
{
    struct poller *p = arg;

    while (!atomic_load(&p->is_done)) {
        struct vm_hv_job_info ji;
        if (VM_HV(p->d, domain_job_info, p->conn, p->name, &ji, NULL) == NFV_OK && ji.is_active)
            prog_set(p->d, p->name, NULL, &ji);
        for (int i = 0; i < 4 && !atomic_load(&p->is_done); i++)
            usleep(50 * 1000);
    }
    return NULL;
}

/* ---- the placement model's view of a move in flight ---- */

static void shadow_name(const char *owner, char *buf, size_t size)
{
    snprintf(buf, size, "%s@move", owner);
}

void vm_migrate_shadow_add(struct vm_daemon *d, struct host_rt *h, const char *owner,
                           const struct pin_plan *plan, uint64_t memory_mib)
{
    char name[2 * VM_NAME_MAX + 16];
    struct nfv_err e = {0};
    uint32_t idx;

    if (!d->cluster || h->plc_idx == PLC_NONE || !h->alloc)
        return;
    shadow_name(owner, name, sizeof(name));
    if (plc_bridge_add_vm(d->cluster, h->plc_idx, h->alloc, name, PLC_NONE, PLC_ROLE_NONE, NULL,
                          plan, memory_mib, &idx, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "placement view of the move of '%s': %s", owner, e.msg);
}

void vm_migrate_shadow_drop(struct vm_daemon *d, const char *owner)
{
    char name[2 * VM_NAME_MAX + 16];
    uint32_t idx;

    if (!d->cluster)
        return;
    shadow_name(owner, name, sizeof(name));
    if ((idx = plc_cluster_find_vm(d->cluster, name)) != PLC_NONE)
        plc_cluster_remove_vm(d->cluster, idx);
}

/* ---- one migration ---- */

struct mig {
    struct vm_daemon *d;
    struct vm_job job;
    struct vm_rt *vm;
    struct host_rt *src, *dst;
    char name[VM_NAME_MAX];
    struct pin_plan *plan; /* claimed at dst under the VM's name */
    bool is_claimed;
    bool is_live;     /* libvirt live migration */
    bool is_redefine; /* define at dst + undefine at src (cold, or simulated hosts) */
    bool was_running;
    char *dst_xml; /* full XML (redefine) or the <cputune>/<numatune> fragments (live) */
    /* filled without the lock */
    struct vm_hv_conn *sc, *dc;
    int n_drift;
    char drift[512];
    enum vm_recovery outcome; /* after a failure: what the hosts show */
    int64_t op_id;            /* the journal entry */
    int64_t t_ms;             /* time spent moving */
};

static void mig_clear(struct mig *m)
{
    pin_plan_free(m->plan);
    free(m->dst_xml);
}

static struct host_rt *host_of_plc(struct vm_daemon *d, uint32_t idx)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->plc_idx == idx)
            return d->hosts[i];
    return NULL;
}

/* The domain XML of @vm for host @h with plan @plan, from its stored
 * request (a cold move, or simulated hosts). Lock held. */
static enum nfv_code full_xml(struct vm_daemon *d, const struct vm_rt *vm, const struct host_rt *h,
                              const struct pin_plan *plan, char **ret, struct nfv_err *err)
{
    struct vm_db_vm row;
    struct vm_spec s = {0};
    json_t *spec;
    enum nfv_code code;

    if ((code = vm_db_vm_get(d->db, vm->name, &row, err)) != NFV_OK)
        return code;
    spec = json_loads(row.spec, 0, NULL);
    json_object_del(spec, "group");
    json_object_del(spec, "role");
    json_object_del(spec, "host");
    if (!spec)
        code = NFV_ERR(err, NFV_E_INTERNAL, "VM '%s': its stored request is not JSON", vm->name);
    else if ((code = vm_spec_parse(spec, vm_spec_vm_fields, &s, err)) == NFV_OK &&
             (code = vm_net_spec_resolve(d, &s, err)) == NFV_OK) /* the NICs' VLANs */
        code = vm_build_domain_xml(h, vm->name, vm->uuid, &s, vm->role, vm->group, plan, ret, err);
    vm_spec_clear(&s);
    json_decref(spec);
    vm_db_vm_clear(&row);
    return code;
}

/* What both hosts show of the guest now. Unlocked. */
static void observe_both(struct vm_daemon *d, struct vm_hv_conn *sc, struct vm_hv_conn *dc,
                         const char *name, struct vm_mig_observed *o)
{
    enum vm_hv_dom_state st;
    enum nfv_code c;

    memset(o, 0, sizeof(*o));
    if (sc) {
        c = VM_HV(d, domain_state, sc, name, &st, NULL);
        o->is_src_reachable = c == NFV_OK || c == NFV_E_NOENT;
        o->is_src_defined = c == NFV_OK;
        o->is_src_running = c == NFV_OK && st == VM_HV_DOM_RUNNING;
        o->is_src_paused = c == NFV_OK && st == VM_HV_DOM_PAUSED;
    }
    if (dc) {
        c = VM_HV(d, domain_state, dc, name, &st, NULL);
        o->is_dst_reachable = c == NFV_OK || c == NFV_E_NOENT;
        o->is_dst_defined = c == NFV_OK;
        o->is_dst_running = c == NFV_OK && st == VM_HV_DOM_RUNNING;
    }
}

/* Undoes a move that failed or was cut short, as @o shows it: the
 * destination's definition goes (only while the source still has the
 * guest), a cold move's guest starts again at the source. Unlocked. */
static void undo_hosts(struct vm_daemon *d, struct vm_hv_conn *sc, struct vm_hv_conn *dc,
                       const char *name, const struct vm_mig_observed *o, bool was_running)
{
    struct nfv_err e = {0};

    if (o->is_dst_defined && o->is_src_defined && VM_HV(d, domain_undefine, dc, name, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "'%s': rollback: cannot remove the destination's domain: %s", name,
                     e.msg);
    if (was_running && o->is_src_defined && !o->is_src_running && !o->is_src_paused &&
        VM_HV(d, domain_start, sc, name, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "'%s': rollback: cannot start it again at the source: %s", name, e.msg);
}

/* The libvirt half: move, verify. Unlocked. */
static enum nfv_code mig_move(struct mig *m, struct nfv_err *err)
{
    struct vm_daemon *d = m->d;
    struct poller poll = {.d = d, .conn = m->sc, .name = m->name};
    int64_t t0 = vm_d_mono_ms();
    enum nfv_code code = NFV_OK;

    prog_set(d, m->name, "migrating", NULL);
    if (m->is_live) {
        char *xml = NULL, *dxml = NULL;
        if ((code = VM_HV(d, domain_xml, m->sc, m->name, true, &xml, err)) == NFV_OK &&
            (code = vm_migxml_splice(xml, m->dst_xml, &dxml, err)) == NFV_OK) {
            if (d->hv->domain_job_info && pthread_create(&poll.t, NULL, poll_main, &poll) == 0)
                poll.is_started = true;
            code = VM_HV(d, domain_migrate, m->sc, m->dc, m->name, dxml, VM_HV_MIGRATE_LIVE, err);
            atomic_store(&poll.is_done, true);
            if (poll.is_started)
                pthread_join(poll.t, NULL);
            if (code == NFV_OK)
                vm_d_crash_point(d, VM_OP_VM_MIGRATE, "after_migrate");
        }
        free(xml);
        free(dxml);
    } else {
        /* Cold: the guest stops at the source first (ACPI, destroyed after
         * 10 s); simulated hosts have no guest to stop. */
        if (m->was_running && !m->is_redefine) {
            if ((code = VM_HV(d, domain_stop, m->sc, m->name, false, err)) == NFV_OK &&
                vm_job_wait_dom_state(d, m->sc, m->name, VM_HV_DOM_SHUTOFF, 10000) != NFV_OK)
                code = VM_HV(d, domain_stop, m->sc, m->name, true, err);
        }
        if (code == NFV_OK && (code = VM_HV(d, domain_define, m->dc, m->dst_xml, err)) == NFV_OK) {
            vm_d_crash_point(d, VM_OP_VM_MIGRATE, "after_define");
            if (m->was_running)
                code = VM_HV(d, domain_start, m->dc, m->name, err);
        }
        if (code == NFV_OK) {
            struct nfv_err e = {0};
            enum nfv_code c = VM_HV(d, domain_undefine, m->sc, m->name, &e);
            if (c != NFV_OK && c != NFV_E_NOENT)
                NFV_LOG_WARN(MOD, "'%s': the source's domain stays defined: %s", m->name, e.msg);
        }
    }
    if (code == NFV_OK)
        vm_d_crash_point(d, VM_OP_VM_MIGRATE, "after_undefine_source");
    m->t_ms = vm_d_mono_ms() - t0;
    if (code == NFV_OK && m->was_running) {
        prog_set(d, m->name, "verifying", NULL);
        m->n_drift = vm_pins_repair(d, m->dc, m->name, m->plan, m->drift, sizeof(m->drift));
    }
    if (code != NFV_OK) {
        struct vm_mig_observed o;
        observe_both(d, m->sc, m->dc, m->name, &o);
        m->outcome = vm_migrate_decide(&o);
        if (m->outcome == VM_RECOVER_ROLLBACK)
            undo_hosts(d, m->sc, m->dc, m->name, &o, m->was_running);
    }
    return code;
}

/* Commits the move: rows, claims, the placement model, the journal. Lock
 * held. Shared by the job and by recovery (@job NULL: the caller finishes
 * the entry). */
static enum nfv_code commit_move(struct vm_daemon *d, struct vm_rt *vm, struct host_rt *src,
                                 struct host_rt *dst, struct pin_plan *plan, bool is_dst_claimed,
                                 struct vm_job *job, bool *ret_is_ended, struct nfv_err *err)
{
    json_t *pj = pin_plan_to_json(plan);
    char *ptext = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
    struct nfv_err e = {0};
    enum nfv_code code;

    json_decref(pj);
    if (!ptext)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if ((code = vm_db_begin(d->db, err)) != NFV_OK) {
        free(ptext);
        return code;
    }
    if ((code = vm_db_alloc_drop(d->db, vm->name, src->id, NULL, 0, err)) != NFV_OK ||
        (code = vm_db_vm_move(d->db, vm->name, dst->id, ptext, NULL, vm_daemon_now_ms(), err)) !=
            NFV_OK) {
        vm_db_rollback(d->db);
        free(ptext);
        return code;
    }
    if (job)
        vm_job_end(job, VM_OPS_DONE, NULL, false);
    free(ptext);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        /* The job has ended (its entry rolled back to pending with the
         * transaction): recovery finishes the move. */
        vm_db_rollback(d->db);
        if (job)
            *ret_is_ended = true;
        return code;
    }
    if (src->alloc)
        pin_alloc_release(src->alloc, vm->name, NULL);
    if (!is_dst_claimed && dst->alloc && pin_alloc_claim(dst->alloc, plan, vm->name, &e) != NFV_OK)
        vm_d_event(d, VM_SEV_ERR, "alloc_conflict", vm->name, "%s", e.msg);
    vm_place_vm_removed(d, vm);
    vm->host = dst;
    pin_plan_free(vm->plan);
    vm->plan = plan;
    vm_place_vm_added(d, vm);
    return NFV_OK;
}

/* Rows and claim at the destination go; the journal entry fails. Lock held. */
static void rollback_move(struct vm_daemon *d, struct mig *m, const char *why)
{
    vm_db_begin(d->db, NULL);
    vm_db_alloc_drop(d->db, m->name, m->dst->id, NULL, 0, NULL);
    vm_job_end(&m->job, VM_OPS_FAILED, why, false);
    vm_db_commit(d->db, NULL);
    if (m->is_claimed)
        pin_alloc_release(m->dst->alloc, m->name, NULL);
    m->is_claimed = false;
}

static bool has_numbered(const struct pin_request *req)
{
    for (unsigned v = 0; v < req->n_vcpus; v++)
        if (req->vcpu_mode[v] == PIN_MODE_NUMBERED)
            return true;
    return false;
}

/* Checks, destination choice and plan, claim. Lock held. */
static enum nfv_code mig_prepare(struct mig *m, const char *host, enum vm_mig_mode mode,
                                 bool is_reserve_waived, struct nfv_err *err)
{
    struct vm_daemon *d = m->d;
    struct vm_rt *vm = m->vm;
    struct plc_choice ch;
    enum nfv_code code;

    if (vm->state != VM_GUEST_RUNNING && vm->state != VM_GUEST_STOPPED)
        return NFV_ERR(err, NFV_E_STATE, "VM '%s' is %s: only a running or stopped VM moves",
                       vm->name, vm_guest_state_to_string(vm->state));
    m->was_running = vm->state == VM_GUEST_RUNNING;
    if (mode == VM_MIG_LIVE && !m->was_running)
        return NFV_ERR(err, NFV_E_STATE,
                       "'mode': live migration needs a running VM ('%s' is stopped; use cold)",
                       vm->name);
    m->src = vm->host;
    if (!m->src->conn)
        return NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is unreachable", m->src->name);
    if (host) {
        struct host_rt *h = vm_d_host_find(d, host);
        if (!h)
            return NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", host);
        if (h == m->src)
            return NFV_ERR(err, NFV_E_INVAL, "'host': '%s' is already the host of '%s'", host,
                           vm->name);
        if (h->admin == VM_HOST_MAINTENANCE)
            return NFV_ERR(err, NFV_E_STATE, "host '%s' is in maintenance", host);
        if (!h->conn || !h->alloc)
            return NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is unreachable", host);
    }
    if (has_numbered(vm->req))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'cpu_map': '%s' has numbered vCPUs (PUs of host '%s'); re-pin it to "
                       "exclusive or shared first",
                       vm->name, m->src->name);
    if (!d->cluster || vm->plc_idx == PLC_NONE)
        return NFV_ERR(err, NFV_E_INTERNAL, "VM '%s' is not in the placement model", vm->name);
    if ((code = plc_plan_move(d->cluster, vm->plc_idx, host, is_reserve_waived, &ch, err)) !=
        NFV_OK) {
        nfv_err_prefix(err, "'%s' cannot move", vm->name);
        return code == NFV_E_INVAL ? NFV_E_INVAL : code;
    }
    m->dst = host_of_plc(d, ch.host);
    if (!m->dst || !m->dst->alloc || !m->dst->conn)
        return NFV_ERR(err, NFV_E_UNREACHABLE, "the destination chosen for '%s' is unreachable",
                       vm->name);
    if (!(m->plan = pin_plan_new(vm->req->n_vcpus)))
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if ((code = plc_bridge_plan(m->dst->alloc, &ch, vm->req, m->plan, err)) != NFV_OK) {
        nfv_err_prefix(err, "'%s' on host '%s'", vm->name, m->dst->name);
        return code;
    }
    if ((code = pin_alloc_claim(m->dst->alloc, m->plan, vm->name, err)) != NFV_OK)
        return code;
    m->is_claimed = true;
    /* Simulated hosts (libvirt's test driver) cannot migrate: the guest is
     * defined at the destination and undefined at the source. */
    m->is_redefine = vm_uri_is_test(m->src->uri) || vm_uri_is_test(m->dst->uri) ||
                     !d->hv->domain_migrate || !d->hv->domain_xml;
    m->is_live = m->was_running && mode != VM_MIG_COLD && !m->is_redefine;
    if (m->is_live)
        code = pin_libvirt_render(m->dst->topo, m->plan, PIN_LV_CPUTUNE | PIN_LV_NUMATUNE,
                                  &m->dst_xml, err);
    else
        code = full_xml(d, vm, m->dst, m->plan, &m->dst_xml, err);
    return code;
}

static const char *mode_name(const struct mig *m)
{
    return m->is_live ? "live" : m->is_redefine && m->was_running ? "redefine" : "cold";
}

static json_t *answer(struct mig *m, bool is_dry_run)
{
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", m->name, "from", m->src->name, "to",
                          m->dst->name, "mode", mode_name(m), "plan", pin_plan_to_json(m->plan));

    if (v && is_dry_run)
        json_object_set_new(v, "dry_run", json_true());
    if (v && !is_dry_run) {
        json_object_set_new(v, "operation_id", json_integer(m->job.op_id));
        json_object_set_new(v, "move_ms", json_integer(m->t_ms));
        json_object_set_new(v, "pin_drift_repaired", json_integer(m->n_drift > 0 ? m->n_drift : 0));
    }
    return v;
}

/*
 * The first half, lock held: checks, destination and plan, claim, journal
 * entry and the destination's rows, connections. On NFV_OK with
 * *ret_is_dry set, *ret holds the dry run's answer and nothing is held.
 */
static enum nfv_code mig_begin(struct mig *m, const char *host, enum vm_mig_mode mode,
                               bool is_reserve_waived, bool is_dry_run, json_t **ret,
                               bool *ret_is_dry, struct nfv_err *err)
{
    struct vm_daemon *d = m->d;
    struct vm_db_alloc allocs[PIN_MAX_PUS / 8];
    json_t *payload;
    char *ptext = NULL;
    size_t n_allocs;
    enum nfv_code code;

    *ret_is_dry = false;
    if ((code = vm_job_find_idle(d, m->name, &m->vm, err)) != NFV_OK)
        return code;
    if ((code = mig_prepare(m, host, mode, is_reserve_waived, err)) != NFV_OK)
        goto fail;
    if (is_dry_run) {
        *ret = answer(m, true);
        *ret_is_dry = true;
        goto fail; /* nothing stays claimed */
    }
    payload = json_pack("{s:s,s:s,s:s,s:b,s:s,s:o}", "from", m->src->name, "to", m->dst->name,
                        "mode", mode_name(m), "was_running", m->was_running, "uuid", m->vm->uuid,
                        "plan", pin_plan_to_json(m->plan));
    ptext = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!ptext) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    /* Journal and the destination's rows in one transaction. */
    n_allocs = vm_place_allocs(m->plan, allocs, sizeof(allocs) / sizeof(allocs[0]));
    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        goto fail;
    if ((code = vm_job_begin(d, &m->job, VM_OP_VM_MIGRATE, "migrate", m->vm, NULL, true, m->name,
                             ptext, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto fail;
    }
    if ((code = vm_db_alloc_add(d->db, m->name, m->dst->id, allocs, n_allocs, err)) != NFV_OK ||
        (code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        m->job.op_id = 0; /* rolled back with the transaction */
        vm_job_end(&m->job, VM_OPS_FAILED, NULL, false);
        goto fail;
    }
    free(ptext);
    m->op_id = m->job.op_id;
    vm_job_step(&m->job, "claimed");
    vm_migrate_shadow_add(d, m->dst, m->name, m->plan, m->vm->memory_mib);
    vm_job_conn(&m->job, m->src, &m->sc, NULL);
    if ((code = vm_job_conn(&m->job, m->dst, &m->dc, err)) != NFV_OK) {
        vm_migrate_shadow_drop(d, m->name);
        rollback_move(d, m, err->msg);
        return code;
    }
    prog_begin(d, m->name, m->src->name, m->dst->name, mode_name(m), m->op_id);
    return NFV_OK;
fail:
    if (m->is_claimed)
        pin_alloc_release(m->dst->alloc, m->name, NULL);
    m->is_claimed = false;
    free(ptext);
    return code;
}

/* The second half: move (lock dropped), verify, commit or roll back. Lock
 * held on entry and exit. */
static enum nfv_code mig_finish(struct mig *m, json_t **ret, struct nfv_err *err)
{
    struct vm_daemon *d = m->d;
    const char *name = m->name;
    bool is_ended = false, is_net_moved = false;
    int64_t src_id = m->src->id, dst_id = m->dst->id;
    char pus[128];
    enum nfv_code code;

    vm_d_crash_point(d, VM_OP_VM_MIGRATE, "after_journal");
    vm_job_leave(&m->job);
    /* Issue 15: the VM's VLANs reach the destination's trunk before the
     * guest runs there (kept on the source's too during a live move); a
     * switch that refuses stops the migration before anything moved. */
    code = vm_net_move(d, &m->job, m->vm, src_id, dst_id, m->is_live, "switched", err);
    if (code == NFV_OK) {
        is_net_moved = true;
        code = mig_move(m, err);
    } else {
        nfv_err_prefix(err, "switch");
    }
    vm_job_reenter(&m->job);
    if (m->outcome != VM_RECOVER_DEFER || code == NFV_OK)
        vm_migrate_shadow_drop(d, name);
    if (code != NFV_OK && m->outcome == VM_RECOVER_FINISH) {
        NFV_LOG_WARN(MOD, "'%s': %s; the guest runs at '%s' all the same: the move is kept", name,
                     err->msg, m->dst->name);
        code = NFV_OK;
    }
    if (code != NFV_OK) {
        prog_end(d, name);
        if (m->outcome == VM_RECOVER_DEFER) {
            /* Neither host says clearly where the guest is: recovery
             * decides later; the claims stay until then. */
            vm_job_end(&m->job, VM_OPS_FAILED, NULL, true);
            d->has_deferred_ops = true;
            m->is_claimed = false;
            m->vm->state = VM_GUEST_ERROR;
            nfv_err_prefix(err, "migration of '%s' unresolved (recovery will finish or undo it)",
                           name);
            return code;
        }
        if (is_net_moved) {
            /* The VLANs go back to the source's trunk only (a switch error
             * here is repaired by the monitor). */
            vm_job_leave(&m->job);
            vm_net_move(d, &m->job, m->vm, dst_id, src_id, false, NULL, NULL);
            vm_job_reenter(&m->job);
        }
        rollback_move(d, m, err->msg);
        nfv_err_prefix(err, "migration of '%s' to '%s' rolled back", name, m->dst->name);
        vm_d_event(d, VM_SEV_WARN, "vm_migrate_failed", name, "to %s: %s; still on %s",
                   m->dst->name, err->msg, m->src->name);
        return code;
    }
    prog_set(d, name, "committing", NULL);
    vm_job_step(&m->job, "moved");
    vm_pins_record(d, name, "after migrate", m->n_drift, m->drift);
    vm_d_crash_point(d, VM_OP_VM_MIGRATE, "before_commit");
    if ((code = commit_move(d, m->vm, m->src, m->dst, m->plan, true, &m->job, &is_ended, err)) !=
        NFV_OK) {
        if (!is_ended)
            vm_job_end(&m->job, VM_OPS_FAILED, NULL, true); /* recovery finishes it */
        d->has_deferred_ops = true;
        prog_end(d, name);
        m->is_claimed = false;
        return code;
    }
    m->plan = NULL; /* the VM's now */
    m->is_claimed = false;
    prog_end(d, name);
    if (is_net_moved && m->is_live) {
        /* The guest runs at the destination only: the source's trunk drops
         * what no VM there uses (its expected set no longer counts it). */
        vm_d_unlock(d);
        vm_net_sync_hosts(d, NULL, &src_id, 1, NULL, NULL);
        vm_d_lock(d);
    }
    pin_cpuset_format(&m->vm->plan->claimed, pus, sizeof(pus));
    vm_d_event(d, VM_SEV_INFO, "vm_migrated", name, "%s from %s to %s in %lld ms, PUs %s",
               mode_name(m), m->src->name, m->dst->name, (long long)m->t_ms, pus);
    m->job.op_id = m->op_id;
    m->plan = m->vm->plan; /* borrowed for the answer */
    *ret = answer(m, false);
    m->plan = NULL;
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

enum nfv_code vm_migrate_one(struct vm_daemon *d, const char *name, const char *host,
                             enum vm_mig_mode mode, bool is_reserve_waived, bool is_dry_run,
                             json_t **ret, struct nfv_err *err)
{
    struct mig m = {.d = d};
    bool is_dry;
    enum nfv_code code;

    snprintf(m.name, sizeof(m.name), "%s", name);
    code = mig_begin(&m, host, mode, is_reserve_waived, is_dry_run, ret, &is_dry, err);
    if (code == NFV_OK && !is_dry)
        code = mig_finish(&m, ret, err);
    if (m.is_claimed)
        pin_alloc_release(m.dst->alloc, name, NULL);
    mig_clear(&m);
    return code;
}

/* ---- ?async=1: the second half on a worker thread ---- */

/* The second half on the worker thread (vm_job_spawn), which owns @arg. */
static void mig_main(void *arg)
{
    struct mig *m = arg;
    struct nfv_err err = {0};
    json_t *ret = NULL;

    mig_finish(m, &ret, &err);
    if (m->is_claimed)
        pin_alloc_release(m->dst->alloc, m->name, NULL);
    json_decref(ret);
    mig_clear(m);
    free(m);
}

/* Begins a migration and finishes it on a detached thread; *ret is the
 * operation to poll. Lock held. */
static enum nfv_code migrate_async(struct vm_daemon *d, const char *name, const char *host,
                                   enum vm_mig_mode mode, bool is_reserve_waived, json_t **ret,
                                   struct nfv_err *err)
{
    struct mig *m = calloc(1, sizeof(*m));
    bool is_dry;
    char href[64];
    enum nfv_code code;

    if (!m)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    m->d = d;
    snprintf(m->name, sizeof(m->name), "%s", name);
    if ((code = mig_begin(m, host, mode, is_reserve_waived, false, ret, &is_dry, err)) != NFV_OK) {
        mig_clear(m);
        free(m);
        return code;
    }
    snprintf(href, sizeof(href), "/v1/operations/%lld", (long long)m->op_id);
    *ret = json_pack("{s:I,s:s,s:s,s:s,s:s}", "operation_id", (json_int_t)m->op_id, "state",
                     "pending", "href", href, "from", m->src->name, "to", m->dst->name);
    if (vm_job_spawn(d, mig_main, m, NULL) == NFV_OK)
        return NFV_OK;
    /* No thread: finish here rather than leave the claim. */
    json_decref(*ret);
    *ret = NULL;
    code = mig_finish(m, ret, err);
    if (m->is_claimed)
        pin_alloc_release(m->dst->alloc, name, NULL);
    mig_clear(m);
    free(m);
    return code;
}

static enum vm_mig_mode parse_mode(const char *s)
{
    if (!s)
        return VM_MIG_AUTO;
    if (strcmp(s, "live") == 0)
        return VM_MIG_LIVE;
    if (strcmp(s, "cold") == 0)
        return VM_MIG_COLD;
    return (enum vm_mig_mode) - 1;
}

enum nfv_code vm_daemon_vm_migrate(struct vm_daemon *d, const char *name, const json_t *body,
                                   bool is_async, json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"host", "mode", "ignore_reserve", "dry_run", NULL};
    const char *host = NULL, *mode_s = NULL;
    const json_t *ir = json_object_get(body, "ignore_reserve"),
                 *dr = json_object_get(body, "dry_run");
    enum vm_mig_mode mode;
    enum nfv_code code;

    if (body && (vm_req_check_fields(body, fields, err) ||
                 vm_req_get_str(body, "host", false, &host, err) ||
                 (host && vm_req_name_check("host", host, err)) ||
                 vm_req_get_str(body, "mode", false, &mode_s, err)))
        return NFV_E_INVAL;
    mode = parse_mode(mode_s);
    if ((int)mode < 0)
        return NFV_ERR(err, NFV_E_INVAL, "'mode': '%s' is not live or cold", mode_s);
    if (ir && !json_is_boolean(ir))
        return NFV_ERR(err, NFV_E_INVAL, "'ignore_reserve': must be true or false");
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    vm_d_lock(d);
    if (is_async && !json_is_true(dr))
        code = migrate_async(d, name, host, mode, json_is_true(ir), ret, err);
    else
        code = vm_migrate_one(d, name, host, mode, json_is_true(ir), json_is_true(dr), ret, err);
    vm_d_unlock(d);
    return code;
}

/* ---- start-up recovery ---- */

static const char *str_or_empty(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

bool vm_migrate_is_kind(enum vm_op_kind kind)
{
    return kind == VM_OP_VM_MIGRATE || kind == VM_OP_VM_PIN_CHANGE || kind == VM_OP_HOST_DRAIN;
}

enum vm_recovery vm_migrate_recover(struct vm_daemon *d, struct vm_job *job,
                                    const struct vm_db_op *op)
{
    json_t *p;
    struct host_rt *src, *dst;
    struct vm_rt *vm = vm_d_vm_find(d, op->target);
    struct vm_hv_conn *sc = NULL, *dc = NULL;
    struct vm_mig_observed o;
    struct pin_plan *plan = NULL;
    enum vm_recovery r;
    bool was_running;
    struct nfv_err e = {0};

    if (op->kind == VM_OP_HOST_DRAIN)
        return VM_RECOVER_FINISH; /* each move is an entry of its own */
    if (op->kind == VM_OP_VM_PIN_CHANGE)
        return vm_repin_recover(d, op);
    if (vm && vm->job)
        return VM_RECOVER_DEFER;
    vm_migrate_shadow_drop(d, op->target); /* a deferred move's, if any */
    p = json_loads(op->payload ? op->payload : "{}", 0, NULL);
    src = vm_d_host_find(d, str_or_empty(json_object_get(p, "from")));
    dst = vm_d_host_find(d, str_or_empty(json_object_get(p, "to")));
    was_running = json_is_true(json_object_get(p, "was_running"));
    if (!vm || !src || !dst || pin_plan_from_json(json_object_get(p, "plan"), &plan, NULL)) {
        /* Nothing to move any more: the destination's rows go. */
        if (dst)
            vm_db_alloc_drop(d->db, op->target, dst->id, NULL, 0, NULL);
        json_decref(p);
        return VM_RECOVER_ROLLBACK;
    }
    json_decref(p);
    if (vm->host == dst) {
        /* Committed already (the entry was finished in memory only). */
        pin_plan_free(plan);
        return VM_RECOVER_FINISH;
    }
    if (src->conn && !src->job)
        vm_job_conn(job, src, &sc, NULL);
    if (dst->conn && !dst->job)
        vm_job_conn(job, dst, &dc, NULL);
    vm_job_leave(job);
    observe_both(d, sc, dc, op->target, &o);
    r = vm_migrate_decide(&o);
    if (r == VM_RECOVER_FINISH && o.is_src_defined &&
        VM_HV(d, domain_undefine, sc, op->target, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "'%s': the source's domain stays defined: %s", op->target, e.msg);
    if (r == VM_RECOVER_ROLLBACK)
        undo_hosts(d, sc, dc, op->target, &o, was_running);
    if (r == VM_RECOVER_FINISH && o.is_dst_running) {
        int n = vm_pins_repair(d, dc, op->target, plan, e.msg, sizeof(e.msg));
        (void)n;
    }
    vm_job_reenter(job);
    vm = vm_d_vm_find(d, op->target);
    if (!vm || vm->job) {
        pin_plan_free(plan);
        return VM_RECOVER_DEFER;
    }
    if (r == VM_RECOVER_FINISH) {
        /* A claim this vmmgrd made before it deferred the entry. */
        bool is_claimed = dst->alloc && pin_alloc_claim_vcpu_pu(dst->alloc, vm->name, 0) >= 0;
        if (commit_move(d, vm, src, dst, plan, is_claimed, NULL, NULL, &e) != NFV_OK) {
            NFV_LOG_ERR(MOD, "'%s': recovery cannot commit the move: %s", op->target, e.msg);
            pin_plan_free(plan);
            return VM_RECOVER_DEFER;
        }
        vm->state = o.is_dst_running ? VM_GUEST_RUNNING : VM_GUEST_STOPPED;
        vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
        return VM_RECOVER_FINISH;
    }
    pin_plan_free(plan);
    if (r == VM_RECOVER_ROLLBACK) {
        vm_db_alloc_drop(d->db, op->target, dst->id, NULL, 0, NULL);
        if (dst->alloc)
            pin_alloc_release(dst->alloc, op->target, NULL);
        if (vm->state == VM_GUEST_ERROR && o.is_src_defined) {
            vm->state = o.is_src_running || was_running ? VM_GUEST_RUNNING : VM_GUEST_STOPPED;
            vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
        }
    }
    return r;
}
