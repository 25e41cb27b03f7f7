/*
 * vm_job.c - the job model (see vm_job.h): claims, journal entries and
 * steps, connections held across unlocked hypervisor calls.
 *
 * A claimed VM or host is never freed or detached by anyone but the job
 * holding it, so a job finds its objects where it left them when it comes
 * back under the lock. A connection a job holds is never closed: the
 * monitor leaves a dead connection in place until n_conn_refs drops to 0.
 *
 * Calls: vm_ctx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm_job.h"

#define MOD "job"

static enum nfv_code busy_err(const char *kind, const char *name, const struct vm_job *holder,
                              struct nfv_err *err)
{
    return NFV_ERR(err, NFV_E_STATE, "%s '%s' is busy: %s in progress", kind, name,
                   vm_job_what(holder));
}

enum nfv_code vm_job_claim_vm(struct vm_job *job, struct vm_rt *vm, struct nfv_err *err)
{
    assert(vm_d_lock_held(job->d));
    if (vm->job == job)
        return NFV_OK;
    if (vm->job)
        return busy_err("VM", vm->name, vm->job, err);
    if (job->n_vms == VM_JOB_MAX_VMS)
        return NFV_ERR(err, NFV_E_INTERNAL, "a job claims too many VMs");
    vm->job = job;
    job->vms[job->n_vms++] = vm;
    if (!job->vm)
        job->vm = vm;
    return NFV_OK;
}

enum nfv_code vm_job_begin(struct vm_daemon *d, struct vm_job *job, enum vm_op_kind kind,
                           const char *what, struct vm_rt *vm, struct host_rt *host,
                           bool is_journaled, const char *target, const char *payload_json,
                           struct nfv_err *err)
{
    enum nfv_code code;

    assert(vm_d_lock_held(d));
    memset(job, 0, sizeof(*job));
    job->d = d;
    job->kind = kind;
    job->what = what;
    job->t0 = vm_d_mono_ms();
    if (vm && vm->job)
        return busy_err("VM", vm->name, vm->job, err);
    if (host && host->job)
        return busy_err("host", host->name, host->job, err);
    if (is_journaled && (code = vm_db_op_begin(d->db, kind, target, payload_json,
                                               vm_daemon_now_ms(), &job->op_id, err)) != NFV_OK)
        return code;
    if (vm)
        vm_job_claim_vm(job, vm, NULL);
    if (host) {
        host->job = job;
        job->host = host;
    }
    job->is_metered = is_journaled;
    d->n_jobs++;
    return NFV_OK;
}

void vm_job_step(struct vm_job *job, const char *step)
{
    struct nfv_err e = {0};

    assert(vm_d_lock_held(job->d));
    if (job->op_id && vm_db_op_set_step(job->d->db, job->op_id, step, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "journal #%lld: cannot record step '%s': %s", (long long)job->op_id, step,
                     e.msg);
}

enum nfv_code vm_job_conn(struct vm_job *job, struct host_rt *h, struct vm_hv_conn **ret,
                          struct nfv_err *err)
{
    assert(vm_d_lock_held(job->d));
    if (!h->conn)
        return NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is unreachable", h->name);
    for (size_t i = 0; i < job->n_conns; i++)
        if (job->conn_hosts[i] == h) {
            *ret = h->conn;
            return NFV_OK;
        }
    if (job->n_conns == VM_JOB_MAX_CONNS)
        return NFV_ERR(err, NFV_E_INTERNAL, "a job holds too many host connections");
    job->conn_hosts[job->n_conns++] = h;
    h->n_conn_refs++;
    *ret = h->conn;
    return NFV_OK;
}

void vm_job_leave(struct vm_job *job)
{
    assert(!job->is_left);
    job->is_left = true;
    vm_d_unlock(job->d);
}

void vm_job_reenter(struct vm_job *job)
{
    assert(job->is_left);
    vm_d_lock(job->d);
    job->is_left = false;
}

void vm_job_end(struct vm_job *job, enum vm_op_state state, const char *error, bool is_keep_pending)
{
    struct vm_daemon *d = job->d;

    assert(vm_d_lock_held(d) && !job->is_left);
    if (job->op_id && !is_keep_pending)
        vm_db_op_finish(d->db, job->op_id, state, state == VM_OPS_DONE ? NULL : error,
                        vm_daemon_now_ms(), NULL);
    for (size_t i = 0; i < job->n_vms; i++)
        job->vms[i]->job = NULL;
    job->n_vms = 0;
    if (job->host)
        job->host->job = NULL;
    for (size_t i = 0; i < job->n_conns; i++)
        job->conn_hosts[i]->n_conn_refs--;
    job->n_conns = 0;
    if (job->is_metered)
        vm_metrics_observe(&d->metrics, job->kind, state != VM_OPS_DONE,
                           (double)(vm_d_mono_ms() - job->t0));
    job->vm = NULL;
    job->host = NULL;
    d->n_jobs--;
    pthread_cond_broadcast(&d->cond);
}

struct vm_rt *vm_job_find_vm(struct vm_daemon *d, const char *name, int64_t timeout_ms)
{
    int64_t until = vm_d_mono_ms() + timeout_ms;
    struct vm_rt *vm;

    /* Looked up again after every wait: the VM may be gone meanwhile. */
    while ((vm = vm_d_vm_find(d, name)) && vm->job && !vm->job->op_id &&
           vm->job->kind == VM_OP_VM_REPIN && vm_d_mono_ms() < until)
        vm_d_wait(d, until - vm_d_mono_ms());
    return vm;
}

enum nfv_code vm_job_find_idle(struct vm_daemon *d, const char *name, struct vm_rt **ret_vm,
                               struct nfv_err *err)
{
    struct vm_rt *vm = vm_job_find_vm(d, name, VM_JOB_WAIT_MS);

    if (!vm)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    if (vm->job)
        return busy_err("VM", name, vm->job, err);
    *ret_vm = vm;
    return NFV_OK;
}

enum nfv_code vm_job_wait_dom_state(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                                    enum vm_hv_dom_state want, unsigned timeout_ms)
{
    enum vm_hv_dom_state st;

    for (unsigned waited = 0; waited <= timeout_ms; waited += 100) {
        if (VM_HV(d, domain_state, conn, name, &st, NULL) == NFV_OK && st == want)
            return NFV_OK;
        usleep(100 * 1000);
    }
    return NFV_E_TIMEOUT;
}

struct spawned {
    struct vm_daemon *d;
    void (*fn)(void *arg);
    void *arg;
};

static void *spawned_main(void *p)
{
    struct spawned sp = *(struct spawned *)p;

    free(p);
    vm_d_lock(sp.d);
    sp.fn(sp.arg);
    sp.d->n_async--;
    pthread_cond_broadcast(&sp.d->cond);
    vm_d_unlock(sp.d);
    return NULL;
}

enum nfv_code vm_job_spawn(struct vm_daemon *d, void (*fn)(void *arg), void *arg,
                           struct nfv_err *err)
{
    struct spawned *sp = malloc(sizeof(*sp));
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    if (!sp)
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start a worker thread");
    *sp = (struct spawned){.d = d, .fn = fn, .arg = arg};
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, spawned_main, sp);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(sp);
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start a worker thread");
    }
    d->n_async++;
    return NFV_OK;
}

const char *vm_job_what(const struct vm_job *job)
{
    return job && job->what ? job->what : vm_op_kind_to_string(job ? job->kind : VM_OP_VM_CREATE);
}
