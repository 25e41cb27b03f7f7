/*
 * vm_daemon.c - vmmgrd's service as a whole (see vm_daemon.h): start-up
 * (database, hosts, connections, journal recovery, VM load, reconcile, the
 * monitor thread), shutdown, and the daemon-wide answers: status, the
 * event log (long-poll), metrics, the operation journal.
 *
 * Calls: vm_ctx, vm_job, vm_net, vm_place, vm_host, vm_recover, vm_monitor, vm_heal_state,
 * vm_heal.
 */
#include "vm/vm_daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm_host.h"
#include "vm_heal.h"
#include "vm_heal_state.h"
#include "vm_monitor.h"
#include "vm_net.h"
#include "vm_place.h"
#include "vm_recover.h"

#define MOD "daemon"

/* ---- operations (journal) ---- */

static json_t *op_json(const struct vm_db_op *op)
{
    json_t *payload = json_loads(op->payload ? op->payload : "{}", 0, NULL);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:o}", "id", (json_int_t)op->id, "kind",
                          vm_op_kind_to_string(op->kind), "state", vm_op_state_to_string(op->state),
                          "target", op->target, "created_ms", (json_int_t)op->created_ms, "payload",
                          payload ? payload : json_object());

    if (o && op->finished_ms)
        json_object_set_new(o, "finished_ms", json_integer(op->finished_ms));
    if (o && op->error[0])
        json_object_set_new(o, "error", json_string(op->error));
    return o;
}

static int op_list_cb(void *opaque, const struct vm_db_op *op)
{
    json_t *o = op_json(op);

    if (o)
        json_array_append_new(opaque, o);
    return 0;
}

enum nfv_code vm_daemon_op_list(struct vm_daemon *d, unsigned limit, json_t **ret,
                                struct nfv_err *err)
{
    json_t *arr = json_array();
    enum nfv_code code;

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    vm_d_lock(d);
    code = vm_db_op_list(d->db, false, limit, op_list_cb, arr, err);
    vm_d_unlock(d);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:o}", "operations", arr);
    return NFV_OK;
}

enum nfv_code vm_daemon_op_show(struct vm_daemon *d, int64_t id, json_t **ret, struct nfv_err *err)
{
    struct vm_db_op op;
    enum nfv_code code;

    vm_d_lock(d);
    code = vm_db_op_get(d->db, id, &op, err);
    vm_d_unlock(d);
    if (code != NFV_OK)
        return code;
    *ret = op_json(&op);
    vm_db_op_clear(&op);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

/* ---- status, events, metrics ---- */

enum nfv_code vm_daemon_status(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    unsigned by_state[VM_HOST__COUNT] = {0};
    uint64_t pending = 0;
    enum nfv_code code;

    vm_d_lock(d);
    for (size_t i = 0; i < d->n_hosts; i++)
        by_state[vm_host_state_effective(d->hosts[i]->admin, d->hosts[i]->conn != NULL)]++;
    code = vm_db_op_count_pending(d->db, &pending, err);
    if (code == NFV_OK)
        *ret = json_pack(
            "{s:s,s:i,s:f,s:s,s:s,s:i,s:{s:i,s:i,s:i,s:i},s:I,s:I}", "version", VMMGR_VERSION,
            "pid", (int)getpid(), "uptime_s", (double)(vm_daemon_now_ms() - d->started_ms) / 1000.0,
            "socket", d->cfg.socket_path, "db", d->cfg.db_path, "schema_version",
            vm_db_schema_version(d->db), "hosts", "total", (int)d->n_hosts, "up",
            (int)by_state[VM_HOST_UP], "maintenance", (int)by_state[VM_HOST_MAINTENANCE],
            "unreachable", (int)by_state[VM_HOST_UNREACHABLE], "journal_pending",
            (json_int_t)pending, "last_event_id", (json_int_t)d->last_event_id);
    if (code == NFV_OK && *ret)
        json_object_set_new(*ret, "recovering", json_boolean(d->is_recovering));
    if (code == NFV_OK)
        vm_net_status_json(d, *ret); /* issue 15: the switch */
    vm_d_unlock(d);
    /* What placement keeps free for healing (config, fixed at start-up). */
    if (code == NFV_OK && *ret)
        json_object_set_new(*ret, "healing_reserve",
                            json_string(vm_reserve_to_string(d->cfg.healing_reserve)));
    if (code == NFV_OK && !*ret)
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    return code;
}

static int event_cb(void *opaque, const struct vm_db_event *ev)
{
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)ev->id, "ts_ms",
                          (json_int_t)ev->ts_ms, "type", ev->type, "severity",
                          vm_severity_to_string(ev->severity), "object", ev->object, "message",
                          ev->message);

    if (o)
        json_array_append_new(opaque, o);
    return 0;
}

enum nfv_code vm_daemon_events(struct vm_daemon *d, int64_t since_id, unsigned limit,
                               unsigned wait_s, json_t **ret, struct nfv_err *err)
{
    json_t *arr = json_array();
    enum nfv_code code;
    int64_t last, until;

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (wait_s > d->cfg.longpoll_max_s)
        wait_s = d->cfg.longpoll_max_s;
    until = vm_d_mono_ms() + (int64_t)wait_s * 1000;
    vm_d_lock(d);
    /* Long-poll: sleep until an event newer than since_id exists. */
    while (wait_s && d->last_event_id <= since_id && !d->is_stopping && vm_d_mono_ms() < until)
        vm_d_wait(d, until - vm_d_mono_ms());
    code = vm_db_event_list(d->db, since_id, limit, event_cb, arr, err);
    last = d->last_event_id;
    vm_d_unlock(d);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:o,s:I}", "events", arr, "last_id", (json_int_t)last);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

enum nfv_code vm_daemon_metrics(struct vm_daemon *d, char **ret_text, struct nfv_err *err)
{
    struct vm_metrics_snapshot s;
    struct vm_metrics_ops ops;

    memset(&s, 0, sizeof(s));
    vm_d_lock(d);
    for (size_t i = 0; i < d->n_hosts; i++) {
        const struct host_rt *h = d->hosts[i];
        s.hosts[vm_host_state_effective(h->admin, h->conn != NULL)]++;
        if (!h->topo)
            continue;
        unsigned n_res = pin_cpuset_count(&h->pools.reserved);
        unsigned n_ded = pin_cpuset_count(&h->pools.dedicated);
        s.pus_total[VM_POOL_RESERVED] += n_res;
        s.pus_total[VM_POOL_DEDICATED] += n_ded;
        s.pus_total[VM_POOL_OTHER] += h->topo->n_pus - n_res - n_ded;
        if (h->alloc) {
            struct pin_cpuset used;
            pin_cpuset_and(&used, pin_alloc_used(h->alloc), &h->pools.dedicated);
            s.pus_used[VM_POOL_DEDICATED] += pin_cpuset_count(&used);
        }
    }
    for (size_t i = 0; i < d->n_vms; i++)
        s.vms[d->vms[i]->state][d->vms[i]->role]++;
    _Static_assert(HEAL_STATE_N == HEAL_STATE__COUNT, "healing states");
    for (int k = 0; k < HEAL_STATE_N; k++)
        s.heal_state_names[k] = heal_state_to_string((enum heal_state)k);
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->heal.state < HEAL_STATE_N)
            s.hosts_heal[d->hosts[i]->heal.state]++;
    s.groups_unprotected = vm_heal_groups_unprotected(d);
    vm_db_op_count_pending(d->db, &s.journal_pending, NULL);
    s.events_total = (uint64_t)d->last_event_id;
    s.uptime_s = (double)(vm_daemon_now_ms() - d->started_ms) / 1000.0;
    ops = d->metrics;
    vm_d_unlock(d);
    *ret_text = vm_metrics_render(&s, &ops);
    return *ret_text ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

/* ---- start-up: hosts, journal recovery ---- */

enum nfv_code vm_daemon_new(const struct vm_config *cfg, const struct vm_hv_driver *hv,
                            struct vm_daemon **ret, struct nfv_err *err)
{
    struct vm_daemon *d = calloc(1, sizeof(*d));
    enum nfv_code code;

    if (!d)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    d->cfg = *cfg;
    d->hv = hv;
    vm_heal_rules_from_config(cfg, &d->heal_rules);
    if (heal_rules_check(&d->heal_rules, err) != NFV_OK) {
        free(d);
        return NFV_E_INVAL;
    }
    d->started_ms = vm_daemon_now_ms();
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->note_lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    if (mkdir(cfg->state_dir, 0750) != 0 && errno != EEXIST) {
        code = NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", cfg->state_dir, strerror(errno));
        vm_daemon_free(d);
        return code;
    }
    if ((code = vm_db_open(cfg->db_path, &d->db, err)) != NFV_OK ||
        (code = vm_db_event_last_id(d->db, &d->last_event_id, err)) != NFV_OK ||
        (code = vm_place_init(d, err)) != NFV_OK || (code = vm_host_load_all(d, err)) != NFV_OK ||
        (code = vm_net_init(d, err)) != NFV_OK /* issue 15: before the VMs */) {
        vm_daemon_free(d);
        return code;
    }
    vm_d_lock(d);
    vm_d_event(d, VM_SEV_INFO, "daemon_started", "vmmgrd", "vmmgrd %s started (pid %d, %zu hosts)",
               VMMGR_VERSION, (int)getpid(), d->n_hosts);
    /* What needs no hypervisor happens now: allocations of hosts whose
     * topology is stored, and the VMs with their claims. Connects, journal
     * recovery and reconcile run on the monitor thread as jobs while the
     * API already answers (status says "recovering"; changes wait). */
    for (size_t i = 0; i < d->n_hosts; i++)
        if (vm_host_ready(d, d->hosts[i], err) != NFV_OK)
            NFV_LOG_ERR(MOD, "host '%s': %s", d->hosts[i]->name, err->msg);
    if (vm_recover_load_vms(d, err) != NFV_OK)
        NFV_LOG_ERR(MOD, "loading VMs: %s", err->msg);
    d->is_recovering = true;
    vm_d_unlock(d);
    if (pthread_create(&d->monitor, NULL, vm_monitor_main, d) != 0) {
        vm_daemon_free(d);
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the monitor thread");
    }
    d->has_monitor = true;
    if (cfg->is_heal_enabled) {
        if (pthread_create(&d->healer, NULL, vm_heal_main, d) != 0) {
            vm_daemon_free(d);
            return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the healer thread");
        }
        d->has_healer = true;
    }
    *ret = d;
    return NFV_OK;
}

void vm_daemon_stop(struct vm_daemon *d)
{
    if (!d)
        return;
    vm_d_lock(d);
    if (!d->is_stopping && d->has_monitor)
        vm_d_event(d, VM_SEV_INFO, "daemon_stopping", "vmmgrd", "shutting down");
    d->is_stopping = true;
    pthread_cond_broadcast(&d->cond);
    /* Asynchronous creates finish (or fail) before the state goes away. */
    while (d->n_async)
        vm_d_wait(d, -1);
    vm_d_unlock(d);
    if (d->has_healer) {
        pthread_join(d->healer, NULL);
        d->has_healer = false;
    }
    if (d->has_monitor) {
        pthread_join(d->monitor, NULL);
        d->has_monitor = false;
    }
}

void vm_daemon_free(struct vm_daemon *d)
{
    if (!d)
        return;
    vm_daemon_stop(d);
    vm_net_fini(d); /* issue 15 */
    vm_d_vm_free_all(d);
    vm_place_fini(d);
    for (size_t i = 0; i < d->n_hosts; i++)
        vm_d_host_free(d, d->hosts[i]);
    free(d->hosts);
    vm_db_close(d->db);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->note_lock);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

bool vm_daemon_is_recovering(struct vm_daemon *d)
{
    bool is;

    vm_d_lock(d);
    is = d->is_recovering;
    vm_d_unlock(d);
    return is;
}
