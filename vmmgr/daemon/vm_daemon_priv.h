/*
 * vm_daemon_priv.h - the daemon context shared by vm_daemon.c (hosts, events,
 * start-up, monitor thread) and vm_vm.c (VMs, groups, pin enforcement).
 * Not for other modules: they go through vm_daemon.h.
 *
 * Everything here is guarded by vm_daemon.lock unless marked otherwise.
 */
#ifndef VM_DAEMON_PRIV_H
#define VM_DAEMON_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "pin/alloc.h"
#include "pin/plan.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "vm_daemon.h"
#include "vm_db.h"
#include "vm_req.h"

/* Runtime view of one host; the database row is the durable half. */
struct host_rt {
    int64_t id;
    char name[VM_NAME_MAX];
    char uri[VM_URI_MAX];        /* what the operator gave */
    char eff_uri[PATH_MAX + 16]; /* what we open (generated node file for test:///) */
    char node_xml[PATH_MAX];     /* generated node file, "" if none */
    enum vm_host_state admin;
    enum vm_topo_source topo_source;
    struct vm_hv_conn *conn; /* NULL while unreachable */
    atomic_bool is_lost;     /* set by libvirt's event thread */
    bool is_connecting;      /* the monitor is opening it without the lock */
    unsigned n_busy;         /* creates using @conn without the lock: do not close it */
    unsigned backoff_ms;
    int64_t next_retry_ms;
    struct pin_topo *topo; /* NULL until known (live hosts never reached) */
    struct pin_pools pools;
    char reserved[VM_CPULIST_STR_MAX];  /* the operator's pool lists, for live */
    char dedicated[VM_CPULIST_STR_MAX]; /* hosts whose topology comes later */
    struct pin_alloc *alloc;            /* who holds which PU; NULL until the topology is known */
    char labels[3][VM_NAME_MAX];        /* rack, zone, power ("" = none) */
    struct vm_daemon *d;
};

/* Runtime view of one VM (mirrors its row; the plan is the pin truth). */
struct vm_rt {
    char name[VM_NAME_MAX];
    struct host_rt *host;
    enum vm_guest_state state;
    enum vm_role role;
    char group[VM_NAME_MAX];
    struct pin_request *req;
    struct pin_plan *plan;
    uint64_t memory_mib;
    bool is_repairing; /* a re-pin is in flight: ignore our own tunable events */
    /* An action (start/stop/reboot/delete) is calling libvirt without the
     * daemon lock: other actions on this VM are refused, domain events and
     * reconcile leave it alone (the action sets the outcome), and the VM
     * and its host stay in place. @busy_action says which. */
    bool is_busy;
    enum vm_guest_action busy_action;
};

/* A libvirt domain event queued by the event thread for the monitor. */
struct dom_note {
    struct host_rt *host;
    char domain[VM_NAME_MAX];
    enum vm_hv_dom_event ev;
};

#define VM_NOTE_QUEUE 256

struct vm_daemon {
    struct vm_config cfg;
    const struct vm_hv_driver *hv;
    struct vm_db *db;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* new event, or stopping */
    int64_t last_event_id;
    bool is_stopping;
    struct host_rt **hosts;
    size_t n_hosts;
    struct vm_rt **vms;
    size_t n_vms;
    struct vm_metrics_ops metrics;
    int64_t started_ms;
    pthread_t monitor;
    bool has_monitor;
    bool has_deferred_ops; /* journal entries recovery could not resolve yet */
    unsigned n_jobs;       /* asynchronous creates still running */
    /* Domain events: filled by libvirt's thread under note_lock only. */
    pthread_mutex_t note_lock;
    struct dom_note notes[VM_NOTE_QUEUE];
    unsigned n_notes;
    unsigned n_notes_dropped;
};

int64_t vm_d_mono_ms(void);
void vm_d_event(struct vm_daemon *d, enum vm_severity sev, const char *type, const char *object,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct host_rt *vm_d_host_find(struct vm_daemon *d, const char *name);

/* ---- vm_vm.c ---- */

/* Builds the host's allocation (pin_alloc) once its topology is known. */
enum nfv_code vm_vm_host_ready(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err);
/* Loads every VM row into memory and claims its plan on its host. */
enum nfv_code vm_vm_load(struct vm_daemon *d, struct nfv_err *err);
/* Resolves one pending VM journal entry at start-up; returns the decision. */
enum vm_recovery vm_vm_recover(struct vm_daemon *d, const struct vm_db_op *op);
/* Compares libvirt with the state: lost domains, states, drifted pins. */
void vm_vm_reconcile(struct vm_daemon *d);
/* Handles queued domain events (pin enforcement, outside state changes). */
void vm_vm_handle_notes(struct vm_daemon *d);
/* Frees the in-memory VMs. */
void vm_vm_free_all(struct vm_daemon *d);
/* VMs currently on @h. */
unsigned vm_vm_count_on(struct vm_daemon *d, const struct host_rt *h);
/* Queue a domain event (called from libvirt's thread). */
void vm_vm_note(struct vm_daemon *d, struct host_rt *h, const char *domain,
                enum vm_hv_dom_event ev);

#endif /* VM_DAEMON_PRIV_H */
