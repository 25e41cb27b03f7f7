/*
 * vm_daemon_priv.h - the daemon context shared by vmmgrd's service files.
 * Not for other modules: they go through vm_daemon.h.
 *
 * The service is split by job, as libvirt's QEMU driver is:
 *   vm_ctx.c       the lock, clocks, events, the host/VM registries
 *   vm_job.c       the job model (claim, journal, leave the lock, commit)
 *   vm_net.c       networks, hosts' switch ports, VLANs on the switch
 *   vm_pins.c      pin checks/repair and GET /v1/vms/NAME/pins
 *   vm_view.c      JSON views and the VM/group queries
 *   vm_place.c     the long-lived placement model and place -> claim
 *   vm_create.c    VM and group creates
 *   vm_lifecycle.c start/stop/reboot/delete
 *   vm_host.c      host add/remove/update/queries and (re)connects
 *   vm_recover.c   VM load, journal recovery, reconcile with libvirt
 *   vm_monitor.c   libvirt callbacks, the monitor thread, domain events
 *   vm_daemon.c    start/stop of the whole, status, events, operations
 * Each file's header names what it may call; calls only go down that list
 * (no two files call into each other).
 *
 * Everything here is guarded by vm_daemon.lock unless marked otherwise.
 */
#ifndef VM_DAEMON_PRIV_H
#define VM_DAEMON_PRIV_H

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "heal/sm.h"
#include "pin/alloc.h"
#include "pin/plan.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "vm/vm_daemon.h"
#include "vm/vm_db.h"
#include "vm/vm_journal.h"
#include "vm/vm_req.h"

struct vm_job;
struct vm_net_state;
struct vm_net_vm;
struct plc_cluster;
struct vm_index;

/* Runtime view of one host; the database row is the durable half. */
struct host_rt {
    int64_t id; /* 0 while a host add is still running */
    char name[VM_NAME_MAX];
    char uri[VM_URI_MAX];        /* what the operator gave */
    char eff_uri[PATH_MAX + 16]; /* what we open (generated node file for test:///) */
    char node_xml[PATH_MAX];     /* generated node file, "" if none */
    enum vm_host_state admin;
    enum vm_topo_source topo_source;
    struct vm_hv_conn *conn; /* NULL while unreachable */
    bool is_kvm;             /* its libvirt runs KVM guests (else TCG), asked at connect */
    atomic_bool is_lost;     /* set by libvirt's event thread */
    /* Jobs using @conn without the lock (vm_job_conn): the monitor closes a
     * dead connection only once nobody holds it. */
    unsigned n_conn_refs;
    struct vm_job *job; /* host add / remove / connect in progress, or NULL */
    unsigned backoff_ms;
    int64_t next_retry_ms;
    struct pin_topo *topo; /* NULL until known (live hosts never reached) */
    struct pin_pools pools;
    char reserved[VM_CPULIST_STR_MAX];  /* the operator's pool lists, for live */
    char dedicated[VM_CPULIST_STR_MAX]; /* hosts whose topology comes later */
    struct pin_alloc *alloc;            /* who holds which PU; NULL until the topology is known */
    uint32_t plc_idx;                   /* index in d->cluster, PLC_NONE if not in it */
    char labels[3][VM_NAME_MAX];        /* rack, zone, power ("" = none) */
    /* Healing (vm_heal_state.c): the host state machine, its BMC, what the
     * healer thread must run for it. */
    struct heal_host heal;
    char heal_reason[128];
    int64_t heal_since_ms;  /* wall clock: entered heal.state */
    int64_t heal_first_ms;  /* monotonic: first sign of trouble (left UP) */
    int64_t heal_failed_ms; /* monotonic: confirmed failed */
    unsigned heal_todo;     /* HEAL_ACT_* bits (fence, promote, rebuild) to run */
    int64_t heal_retry_ms;  /* monotonic: next rebuild attempt */
    char bmc_address[256];  /* "" = no BMC */
    char bmc_user[17];
    char bmc_status[96]; /* last poll: "power on", "no answer", ... (healer thread) */
    struct vm_daemon *d;
    /* vm_net.c (issue 15): the host's Open vSwitch integration bridge for
     * network NICs and its trunk port on the top-of-rack switch ("" = none). */
    char ovs_bridge[64];
    char switch_port[64];
};

#define VM_UUID_STR 37

/* Runtime view of one VM (mirrors its row; the plan is the pin truth). */
struct vm_rt {
    char name[VM_NAME_MAX];
    char uuid[VM_UUID_STR]; /* libvirt domain UUID: events are matched by it */
    struct host_rt *host;
    enum vm_guest_state state;
    enum vm_role role;
    char group[VM_NAME_MAX];
    struct pin_request *req;
    struct pin_plan *plan;
    uint64_t memory_mib;
    uint32_t plc_idx; /* index in d->cluster, PLC_NONE if not in it */
    /* The job working on this VM (create, start, stop, reboot, delete, pin
     * repair), or NULL. Other jobs on it are refused; domain events and
     * reconcile leave it alone (the job sets the outcome). */
    struct vm_job *job;
    /* It crashed on a host that is up: the healer restarts it in place
     * (and promotes its SBY if that fails). */
    bool is_crash_restart;
    struct vm_net_vm *net; /* vm_net.c: its networks (owned, free()), NULL if none */
};

/* A libvirt domain event queued by the event thread for the monitor. */
struct dom_note {
    int64_t host_id;
    char uuid[VM_UUID_STR];
    enum vm_hv_dom_event ev;
};

#define VM_NOTE_QUEUE 256

struct vm_daemon {
    struct vm_config cfg;
    const struct vm_hv_driver *hv;
    struct vm_db *db;
    pthread_mutex_t lock; /* take it with vm_d_lock(): it tracks the owner */
    pthread_cond_t cond;  /* new event, job ended, or stopping */
    int64_t last_event_id;
    bool is_stopping;
    bool is_recovering; /* start-up: connects, journal recovery, reconcile still running */
    struct host_rt **hosts;
    size_t n_hosts;
    struct vm_rt **vms;
    size_t n_vms;
    struct vm_index *vm_index;   /* name and UUID lookups into @vms (vm_ctx.c) */
    struct plc_cluster *cluster; /* placement's model, kept up to date */
    struct vm_metrics_ops metrics;
    int64_t started_ms;
    pthread_t monitor;
    bool has_monitor;
    bool has_deferred_ops; /* journal entries recovery could not resolve yet */
    unsigned n_jobs;       /* jobs running (shutdown waits for them) */
    unsigned n_async;      /* asynchronous worker threads still running */
    /* Domain events: filled by libvirt's thread under note_lock only. */
    pthread_mutex_t note_lock;
    struct dom_note notes[VM_NOTE_QUEUE];
    unsigned n_notes;
    unsigned n_notes_dropped;
    /* Healing: the rules (from the config), the healer thread. */
    struct heal_rules heal_rules;
    pthread_t healer;
    bool has_healer;
    unsigned n_heal_jobs;     /* fence/promote/rebuild/recover jobs running */
    struct vm_net_state *net; /* vm_net.c: networks and the switch */
};

/* ---- vm_ctx.c ---- */

int64_t vm_d_mono_ms(void);
/* The daemon lock. vm_d_lock_held() is true when this thread holds it: the
 * hypervisor wrapper (VM_HV) asserts the opposite. */
void vm_d_lock(struct vm_daemon *d);
void vm_d_unlock(struct vm_daemon *d);
bool vm_d_lock_held(const struct vm_daemon *d);
/* pthread_cond_(timed)wait on d->cond keeping the owner tracking right. */
void vm_d_wait(struct vm_daemon *d, int64_t timeout_ms);

/* Records an event (lock held). */
void vm_d_event(struct vm_daemon *d, enum vm_severity sev, const char *type, const char *object,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

struct host_rt *vm_d_host_find(struct vm_daemon *d, const char *name);
struct host_rt *vm_d_host_find_id(struct vm_daemon *d, int64_t id);
enum nfv_code vm_d_host_append(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err);
void vm_d_host_detach(struct vm_daemon *d, struct host_rt *h);
/* Frees @h (closing its connection). NULL is a no-op. */
void vm_d_host_free(struct vm_daemon *d, struct host_rt *h);

struct vm_rt *vm_d_vm_find(struct vm_daemon *d, const char *name);
struct vm_rt *vm_d_vm_find_uuid(struct vm_daemon *d, const char *uuid);
enum nfv_code vm_d_vm_append(struct vm_daemon *d, struct vm_rt *vm, struct nfv_err *err);
void vm_d_vm_detach(struct vm_daemon *d, struct vm_rt *vm);
/* Sets @vm's UUID (learned from libvirt for rows that had none). */
void vm_d_vm_set_uuid(struct vm_daemon *d, struct vm_rt *vm, const char *uuid);
void vm_d_vm_free(struct vm_rt *vm);
void vm_d_vm_free_all(struct vm_daemon *d);
unsigned vm_d_vm_count_on(struct vm_daemon *d, const struct host_rt *h);

/* Makes room for element @n of the array *@pv (*@cap elements of @size
 * bytes; doubling from 8). False when out of memory (*@pv untouched). Use
 * VM_D_GROW(array, n, cap). */
bool vm_d_grow(void **pv, size_t *cap, size_t n, size_t size);
#define VM_D_GROW(arr, n, cap) vm_d_grow((void **)&(arr), &(cap), (n), sizeof(*(arr)))

/* A new random (version 4) UUID in @buf (VM_UUID_STR bytes). */
void vm_d_uuid_new(char *buf);

/*
 * Crash injection (config key "crash_at", for the crash tests only): when
 * the configured point is "@op.@point" (e.g. "vm_create.after_define"),
 * vmmgrd _exit()s right there, as a kill -9 would stop it.
 */
void vm_d_crash_point(const struct vm_daemon *d, enum vm_op_kind op, const char *point);

#endif /* VM_DAEMON_PRIV_H */
