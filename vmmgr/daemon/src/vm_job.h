/*
 * vm_job.h - vmmgrd's job model, in the spirit of libvirt's
 * BeginJob/EndJob and EnterMonitor/ExitMonitor (src/qemu/qemu_domainjob.c).
 *
 * Every operation that touches a hypervisor is a job:
 *
 *   vm_job_begin()      lock held: claim the VM or host (refused with
 *                       NFV_E_STATE while another job holds it), journal
 *                       the operation (pending), count the job
 *   vm_job_step()       lock held: record the step reached in the journal,
 *                       so a restarted vmmgrd knows where the job stopped
 *   vm_job_conn()       lock held: take a host's connection for the job
 *                       (the monitor never closes a connection in use)
 *   vm_job_leave()      drop the daemon lock around hypervisor calls ...
 *   vm_job_reenter()    ... and take it back; the claimed objects are still
 *                       there (nobody removes a claimed object), anything
 *                       else must be looked up again
 *   vm_job_end()        lock held: close the journal entry (done or failed,
 *                       in the caller's transaction), release the claim and
 *                       the connections, count the metric, wake waiters
 *
 * Hypervisor calls go through VM_HV(), which asserts in debug builds that
 * the daemon lock is NOT held: a libvirtd that accepts and never answers
 * must never freeze the API.
 *
 * Called by: vm_pins, vm_create, vm_lifecycle, vm_host, vm_recover,
 * vm_monitor. Calls: vm_ctx only.
 */
#ifndef VM_JOB_H
#define VM_JOB_H

#include "vm_daemon_priv.h"

/* Calls hypervisor function @fn of @d's driver; never with the lock held. */
#define VM_HV(d, fn, ...) (assert(!vm_d_lock_held(d)), (d)->hv->fn(__VA_ARGS__))

#define VM_JOB_MAX_CONNS 64
#define VM_JOB_MAX_VMS   64 /* a group create claims every member */

struct vm_job {
    struct vm_daemon *d;
    enum vm_op_kind kind;
    const char *what; /* short name shown as "busy" (create, stop, pin check, ...) */
    struct vm_rt *vm; /* the (first) claimed VM, or NULL */
    struct vm_rt *vms[VM_JOB_MAX_VMS]; /* every claimed VM */
    size_t n_vms;
    struct host_rt *host; /* the claimed host, or NULL */
    struct host_rt *conn_hosts[VM_JOB_MAX_CONNS];
    size_t n_conns;
    int64_t op_id; /* journal entry; 0 when the job is not journaled */
    int64_t t0;    /* monotonic start, for the metric */
    bool is_left;  /* the lock is dropped right now */
    bool is_metered;
};

/*
 * Begins a job of @kind on @vm and/or @host (either may be NULL) and, when
 * @is_journaled, writes its pending journal entry for @target with
 * @payload_json (may be NULL). @what names the job in "busy" answers.
 * NFV_E_STATE when one of the objects is already claimed. Lock held.
 */
enum nfv_code vm_job_begin(struct vm_daemon *d, struct vm_job *job, enum vm_op_kind kind,
                           const char *what, struct vm_rt *vm, struct host_rt *host,
                           bool is_journaled, const char *target, const char *payload_json,
                           struct nfv_err *err);
/* Claims one more VM for @job (group creates claim each member). Lock held. */
enum nfv_code vm_job_claim_vm(struct vm_job *job, struct vm_rt *vm, struct nfv_err *err);

/* Records step @step of the job in its journal entry. Lock held. */
void vm_job_step(struct vm_job *job, const char *step);

/* @h's connection for use without the lock; NFV_E_UNREACHABLE if none.
 * Held until vm_job_end(). Lock held. */
enum nfv_code vm_job_conn(struct vm_job *job, struct host_rt *h, struct vm_hv_conn **ret,
                          struct nfv_err *err);

void vm_job_leave(struct vm_job *job);
void vm_job_reenter(struct vm_job *job);

/*
 * Ends @job: finishes its journal entry with @state (@error: why it failed;
 * a failed entry keeps a short reason, never outside error text) unless
 * @is_keep_pending (recovery must finish it later), releases claims and
 * connections, observes the metric (failed when @state is not DONE).
 * Lock held. Run inside the caller's transaction when it has one.
 */
void vm_job_end(struct vm_job *job, enum vm_op_state state, const char *error,
                bool is_keep_pending);

/*
 * Finds VM @name for a new job, first waiting (up to @timeout_ms, the lock
 * dropped meanwhile) for a short internal job on it to end: a pin check
 * started by an event must not make an operator's delete fail. An
 * operator's job (stop, reboot, ...) is not waited for: the caller's
 * vm_job_begin() answers "busy". NULL if there is no such VM. Lock held.
 */
struct vm_rt *vm_job_find_vm(struct vm_daemon *d, const char *name, int64_t timeout_ms);

/* How long an operator's request waits for an internal pin check. */
#define VM_JOB_WAIT_MS 30000

/* VM @name with no job on it (a short internal pin check is waited for,
 * VM_JOB_WAIT_MS): NFV_E_NOENT, or NFV_E_STATE naming the job in progress
 * ("VM 'x' is busy: stop in progress"). Lock held. */
enum nfv_code vm_job_find_idle(struct vm_daemon *d, const char *name, struct vm_rt **ret_vm,
                               struct nfv_err *err);

/* Polls domain @name on @conn every 100 ms until it is in state @want (a
 * graceful stop waiting for the guest); NFV_E_TIMEOUT after @timeout_ms.
 * Lock NOT held. */
enum nfv_code vm_job_wait_dom_state(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                                    enum vm_hv_dom_state want, unsigned timeout_ms);

/*
 * The second half of an asynchronous job (?async=1) on a detached worker
 * thread: @fn(@arg) runs with the daemon lock held (it may leave it like
 * any job); shutdown waits for it (d->n_async). NFV_E_INTERNAL if no
 * thread can start (the caller then finishes the job itself). Lock held.
 */
enum nfv_code vm_job_spawn(struct vm_daemon *d, void (*fn)(void *arg), void *arg,
                           struct nfv_err *err);

/* Short name of what the job holding @vm does ("create", "stop", ...). */
const char *vm_job_what(const struct vm_job *job);

#endif /* VM_JOB_H */
