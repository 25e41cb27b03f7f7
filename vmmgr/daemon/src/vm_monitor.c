/*
 * vm_monitor.c - the monitor thread. It wakes at least every 200 ms (and on
 * every queued domain event) and, under the lock:
 *  - closes connections libvirt reported lost (keepalive, close callback)
 *    once no job holds them, and reconnects with backoff, each connect a
 *    job of its own that leaves the lock while libvirt answers (or not);
 *  - handles domain events queued by libvirt's thread, matched by UUID:
 *    outside starts/stops/undefines are recorded, starts, reboots and pin
 *    changes trigger a pin check;
 *  - retries journal entries recovery had to defer, prunes the event log.
 *
 * Calls: vm_ctx, vm_job, vm_pins, vm_place, vm_host, vm_recover, vm_heal_state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "vm_heal_state.h"
#include "vm_host.h"
#include "vm_monitor.h"
#include "vm_net.h"
#include "vm_pins.h"
#include "vm_place.h"
#include "vm_recover.h"

#define MOD "monitor"

static void handle_notes(struct vm_daemon *d)
{
    struct dom_note notes[VM_NOTE_QUEUE];
    unsigned n, dropped;

    pthread_mutex_lock(&d->note_lock);
    n = d->n_notes;
    memcpy(notes, d->notes, n * sizeof(notes[0]));
    d->n_notes = 0;
    dropped = d->n_notes_dropped;
    d->n_notes_dropped = 0;
    pthread_mutex_unlock(&d->note_lock);
    if (dropped) {
        /* Events were lost: check every VM instead. */
        NFV_LOG_WARN(MOD, "%u domain events dropped; reconciling", dropped);
        vm_recover_reconcile(d);
    }
    for (unsigned i = 0; i < n; i++) {
        /* By UUID: a stale event about a deleted domain never matches a
         * re-created VM of the same name. Looked up per note: an earlier
         * note's pin check dropped the lock. */
        struct vm_rt *vm = vm_d_vm_find_uuid(d, notes[i].uuid);
        /* A VM with a job: the job sets its state and checks its pins. */
        if (!vm || vm->host->id != notes[i].host_id || vm->job || vm->state == VM_GUEST_CREATING ||
            vm->state == VM_GUEST_DELETING || vm->state == VM_GUEST_LOST)
            continue;
        /* A host being fenced: its domains stop because we stop them. */
        if (vm->host->heal.state == HEAL_FAILED || vm->host->heal.state == HEAL_FENCED)
            continue;
        switch (notes[i].ev) {
        case VM_HV_EV_STARTED:
        case VM_HV_EV_REBOOTED:
        case VM_HV_EV_TUNED:
            if (vm->state != VM_GUEST_RUNNING && notes[i].ev == VM_HV_EV_STARTED) {
                vm->state = VM_GUEST_RUNNING;
                vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_WARN, "vm_state", vm->name, "started outside vmmgrd");
            }
            if (vm->state == VM_GUEST_RUNNING)
                vm_pins_check(d, vm,
                              notes[i].ev == VM_HV_EV_TUNED      ? "changed outside vmmgrd"
                              : notes[i].ev == VM_HV_EV_REBOOTED ? "after reboot"
                                                                 : "after start");
            break;
        case VM_HV_EV_CRASHED:
            if (vm->state == VM_GUEST_RUNNING) {
                vm->state = VM_GUEST_STOPPED;
                vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_ERR, "vm_crashed", vm->name,
                           "stopped by a failure on %s; restarting it in place", vm->host->name);
                vm->is_crash_restart = d->cfg.is_heal_enabled;
                pthread_cond_broadcast(&d->cond);
            }
            break;
        case VM_HV_EV_STOPPED:
            if (vm->state == VM_GUEST_RUNNING) {
                vm->state = VM_GUEST_STOPPED;
                vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_WARN, "vm_state", vm->name, "stopped outside vmmgrd");
            }
            break;
        case VM_HV_EV_UNDEFINED:
            vm->state = VM_GUEST_ERROR;
            vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
            vm_d_event(d, VM_SEV_ERR, "vm_lost", vm->name, "undefined outside vmmgrd");
            break;
        default:
            break;
        }
    }
}

/* One pass over the hosts: close dead connections, reconnect one host
 * whose retry time came. Lock held. */
static void check_hosts(struct vm_daemon *d, int64_t now)
{
    for (size_t i = 0; i < d->n_hosts && !d->is_stopping; i++) {
        struct host_rt *h = d->hosts[i];
        if (h->job || !h->id)
            continue; /* a job (add, connect, remove) has it */
        if (h->conn && (atomic_load(&h->is_lost) || !d->hv->is_alive(h->conn))) {
            struct vm_hv_conn *dead = h->conn;
            struct vm_job job;
            if (h->n_conn_refs || vm_job_begin(d, &job, VM_OP_HOST_ADD, "disconnect", NULL, h,
                                               false, NULL, NULL, NULL))
                continue; /* in use by a job: close it once released */
            h->conn = NULL;
            /* Closing may talk to a libvirtd that no longer answers. */
            vm_job_leave(&job);
            VM_HV(d, close, dead);
            vm_job_reenter(&job);
            vm_job_end(&job, VM_OPS_DONE, NULL, false);
            d->metrics.host_disconnects++;
            vm_place_host_sync(d, h); /* down: placement skips it */
            h->backoff_ms = vm_backoff_next(0, d->cfg.reconnect_min_ms, d->cfg.reconnect_max_ms);
            h->next_retry_ms = now + h->backoff_ms;
            vm_d_event(d, VM_SEV_WARN, "host_unreachable", h->name,
                       "lost the connection to %s; reconnecting", h->uri);
            vm_heal_feed(d, h, HEAL_IN_LIBVIRT_LOST);
        } else if (!h->conn && now >= h->next_retry_ms) {
            if (vm_host_connect(d, h, false))
                vm_recover_reconcile(d);
            return; /* the host list may have changed while unlocked */
        }
    }
}

/* Start-up with the API already serving: connect every host (each a job
 * that leaves the lock), resolve the journal, reconcile. Lock held. */
static void startup(struct vm_daemon *d)
{
    size_t n = d->n_hosts;
    int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
    int64_t t0 = vm_d_mono_ms();

    /* By id: hosts may come and go while the lock is dropped. */
    for (size_t i = 0; ids && i < n; i++)
        ids[i] = d->hosts[i]->id;
    for (size_t i = 0; ids && i < n && !d->is_stopping; i++) {
        struct host_rt *h = vm_d_host_find_id(d, ids[i]);
        if (h)
            vm_host_connect(d, h, true);
    }
    free(ids);
    vm_recover_journal(d);
    vm_recover_reconcile(d);
    vm_db_event_prune(d->db, d->cfg.event_keep, NULL);
    d->is_recovering = false;
    vm_d_event(d, VM_SEV_INFO, "daemon_ready", "vmmgrd",
               "start-up recovery done in %lld ms: %zu hosts, %zu VMs",
               (long long)(vm_d_mono_ms() - t0), d->n_hosts, d->n_vms);
}

void *vm_monitor_main(void *arg)
{
    struct vm_daemon *d = arg;
    int64_t last_retry = 0, last_prune = vm_d_mono_ms();

    vm_d_lock(d);
    startup(d);
    while (!d->is_stopping) {
        int64_t now = vm_d_mono_ms();

        check_hosts(d, now);
        handle_notes(d);
        /* Keep the event log bounded while running, not only at start-up. */
        if (now - last_prune >= 600000) {
            last_prune = now;
            vm_db_event_prune(d->db, d->cfg.event_keep, NULL);
        }
        /* Entries recovery had to defer (host unreachable, libvirt busy)
         * are retried once a second. */
        if (d->has_deferred_ops && now - last_retry >= 1000) {
            last_retry = now;
            vm_recover_journal(d);
        }
        /* vm_net (issue 15): a switch change failed; repair (backing off). */
        if (vm_net_repair_due(d, now))
            vm_net_reconcile(d, "retry");
        vm_d_wait(d, 200);
    }
    vm_d_unlock(d);
    return NULL;
}
