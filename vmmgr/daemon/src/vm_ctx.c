/*
 * vm_ctx.c - the bottom of vmmgrd's service layer: the daemon lock (with
 * owner tracking, so the hypervisor wrapper can assert it is not held),
 * clocks, the event log, the in-memory host and VM registries (VMs indexed
 * by name and by libvirt UUID, so a create or an event never scans every
 * VM) and crash injection points.
 *
 * Called by every other service file; calls none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfv/log.h"
#include "plc/cluster.h"
#include "vm_daemon_priv.h"

#define MOD "daemon"

/* The daemon whose lock this thread holds (one daemon per process in
 * production; tests may run several, hence the pointer). */
static _Thread_local const struct vm_daemon *tl_held;

int64_t vm_daemon_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vm_d_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vm_d_lock(struct vm_daemon *d)
{
    assert(tl_held != d);
    pthread_mutex_lock(&d->lock);
    tl_held = d;
}

void vm_d_unlock(struct vm_daemon *d)
{
    assert(tl_held == d);
    tl_held = NULL;
    pthread_mutex_unlock(&d->lock);
}

bool vm_d_lock_held(const struct vm_daemon *d)
{
    return tl_held == d;
}

void vm_d_wait(struct vm_daemon *d, int64_t timeout_ms)
{
    assert(tl_held == d);
    tl_held = NULL;
    if (timeout_ms < 0) {
        pthread_cond_wait(&d->cond, &d->lock);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
    }
    tl_held = d;
}

/* ---- events ---- */

static void event_add(struct vm_daemon *d, enum vm_severity sev, const char *type,
                      const char *object, const char *fmt, va_list ap)
{
    struct vm_db_event ev = {0};
    struct nfv_err err = {0};
    int64_t id;

    if (!d->db)
        return;
    ev.ts_ms = vm_daemon_now_ms();
    snprintf(ev.type, sizeof(ev.type), "%s", type);
    ev.severity = sev;
    snprintf(ev.object, sizeof(ev.object), "%s", object ? object : "");
    vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
    nfv_log(sev == VM_SEV_INFO   ? NFV_LOG_INFO
            : sev == VM_SEV_WARN ? NFV_LOG_WARN
                                 : NFV_LOG_ERR,
            MOD, "%s %s: %s", type, ev.object, ev.message);
    if (vm_db_event_add(d->db, &ev, &id, &err) != NFV_OK) {
        NFV_LOG_ERR(MOD, "cannot record event: %s", err.msg);
        return;
    }
    d->last_event_id = id;
    pthread_cond_broadcast(&d->cond);
}

void vm_d_event(struct vm_daemon *d, enum vm_severity sev, const char *type, const char *object,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    event_add(d, sev, type, object, fmt, ap);
    va_end(ap);
}

void vm_daemon_event(struct vm_daemon *d, enum vm_severity sev, const char *type,
                     const char *object, const char *fmt, ...)
{
    va_list ap;

    vm_d_lock(d);
    va_start(ap, fmt);
    event_add(d, sev, type, object, fmt, ap);
    va_end(ap);
    vm_d_unlock(d);
}

void vm_daemon_count_http(struct vm_daemon *d, int status)
{
    vm_d_lock(d);
    d->metrics.http_requests++;
    if (status >= 400)
        d->metrics.http_errors++;
    vm_d_unlock(d);
}

/* ---- hosts ---- */

struct host_rt *vm_d_host_find(struct vm_daemon *d, const char *name)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (strcmp(d->hosts[i]->name, name) == 0)
            return d->hosts[i];
    return NULL;
}

struct host_rt *vm_d_host_find_id(struct vm_daemon *d, int64_t id)
{
    for (size_t i = 0; id && i < d->n_hosts; i++)
        if (d->hosts[i]->id == id)
            return d->hosts[i];
    return NULL;
}

enum nfv_code vm_d_host_append(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err)
{
    struct host_rt **v = realloc(d->hosts, (d->n_hosts + 1) * sizeof(*v));

    if (!v)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    d->hosts = v;
    d->hosts[d->n_hosts++] = h;
    return NFV_OK;
}

void vm_d_host_detach(struct vm_daemon *d, struct host_rt *h)
{
    for (size_t i = 0; i < d->n_hosts; i++) {
        if (d->hosts[i] == h) {
            memmove(&d->hosts[i], &d->hosts[i + 1], (d->n_hosts - i - 1) * sizeof(*d->hosts));
            d->n_hosts--;
            return;
        }
    }
}

void vm_d_host_free(struct vm_daemon *d, struct host_rt *h)
{
    if (!h)
        return;
    assert(h->n_conn_refs == 0 && !h->job);
    if (h->conn)
        d->hv->close(h->conn);
    pin_alloc_free(h->alloc);
    pin_topo_unref(h->topo);
    free(h);
}

/* ---- VMs ---- */

/*
 * The VM registry is d->vms (creation order, what GET /v1/vms lists) plus
 * two open-addressing hash indexes (name, UUID) of positions into it, kept
 * in a side table so that lookups at 10,000 VMs cost one probe sequence.
 */
struct vm_index {
    uint32_t *by_name; /* slot -> position + 1 in d->vms (0 = empty) */
    uint32_t *by_uuid;
    size_t n_slots; /* power of two, >= 2 * n_vms */
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static struct vm_index *index_of(struct vm_daemon *d)
{
    return d->vm_index;
}

static void index_put(uint32_t *tab, size_t n_slots, const char *key, uint32_t pos)
{
    size_t mask = n_slots - 1, i = (size_t)str_hash(key) & mask;

    while (tab[i])
        i = (i + 1) & mask;
    tab[i] = pos + 1;
}

/* Rebuilds both indexes from d->vms (after growth or a removal). */
static enum nfv_code index_rebuild(struct vm_daemon *d, struct nfv_err *err)
{
    struct vm_index *ix = index_of(d);
    size_t want = 64;

    while (want < 2 * (d->n_vms + 1))
        want *= 2;
    if (!ix) {
        ix = calloc(1, sizeof(*ix));
        if (!ix)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        d->vm_index = ix;
    }
    if (ix->n_slots != want) {
        uint32_t *a = calloc(want, sizeof(*a)), *b = calloc(want, sizeof(*b));
        if (!a || !b) {
            free(a);
            free(b);
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        }
        free(ix->by_name);
        free(ix->by_uuid);
        ix->by_name = a;
        ix->by_uuid = b;
        ix->n_slots = want;
    } else {
        memset(ix->by_name, 0, want * sizeof(uint32_t));
        memset(ix->by_uuid, 0, want * sizeof(uint32_t));
    }
    for (size_t i = 0; i < d->n_vms; i++) {
        index_put(ix->by_name, ix->n_slots, d->vms[i]->name, (uint32_t)i);
        if (d->vms[i]->uuid[0])
            index_put(ix->by_uuid, ix->n_slots, d->vms[i]->uuid, (uint32_t)i);
    }
    return NFV_OK;
}

static struct vm_rt *index_get(struct vm_daemon *d, const uint32_t *tab, const char *key,
                               bool is_uuid)
{
    struct vm_index *ix = index_of(d);
    size_t mask, i;

    if (!ix || !ix->n_slots)
        return NULL;
    mask = ix->n_slots - 1;
    for (i = (size_t)str_hash(key) & mask; tab[i]; i = (i + 1) & mask) {
        struct vm_rt *vm = d->vms[tab[i] - 1];
        if (strcmp(is_uuid ? vm->uuid : vm->name, key) == 0)
            return vm;
    }
    return NULL;
}

struct vm_rt *vm_d_vm_find(struct vm_daemon *d, const char *name)
{
    struct vm_index *ix = index_of(d);

    return ix ? index_get(d, ix->by_name, name, false) : NULL;
}

struct vm_rt *vm_d_vm_find_uuid(struct vm_daemon *d, const char *uuid)
{
    struct vm_index *ix = index_of(d);

    return ix && uuid[0] ? index_get(d, ix->by_uuid, uuid, true) : NULL;
}

enum nfv_code vm_d_vm_append(struct vm_daemon *d, struct vm_rt *vm, struct nfv_err *err)
{
    struct vm_rt **v = realloc(d->vms, (d->n_vms + 1) * sizeof(*v));
    struct vm_index *ix;

    if (!v)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    d->vms = v;
    d->vms[d->n_vms++] = vm;
    ix = index_of(d);
    if (!ix || 2 * d->n_vms > ix->n_slots) {
        if (index_rebuild(d, err) != NFV_OK) {
            d->n_vms--;
            return NFV_E_NOMEM;
        }
        return NFV_OK;
    }
    index_put(ix->by_name, ix->n_slots, vm->name, (uint32_t)(d->n_vms - 1));
    if (vm->uuid[0])
        index_put(ix->by_uuid, ix->n_slots, vm->uuid, (uint32_t)(d->n_vms - 1));
    return NFV_OK;
}

void vm_d_vm_set_uuid(struct vm_daemon *d, struct vm_rt *vm, const char *uuid)
{
    snprintf(vm->uuid, sizeof(vm->uuid), "%s", uuid);
    index_rebuild(d, NULL);
}

void vm_d_vm_detach(struct vm_daemon *d, struct vm_rt *vm)
{
    for (size_t i = 0; i < d->n_vms; i++) {
        if (d->vms[i] == vm) {
            memmove(&d->vms[i], &d->vms[i + 1], (d->n_vms - i - 1) * sizeof(*d->vms));
            d->n_vms--;
            /* Positions after @i moved: re-index (a delete is rare next to
             * lookups, and this is linear in memory, not in libvirt calls). */
            index_rebuild(d, NULL);
            return;
        }
    }
}

void vm_d_vm_free(struct vm_rt *vm)
{
    if (!vm)
        return;
    pin_request_free(vm->req);
    pin_plan_free(vm->plan);
    free(vm->net); /* vm_net.c: one flat allocation */
    free(vm);
}

void vm_d_vm_free_all(struct vm_daemon *d)
{
    struct vm_index *ix = index_of(d);

    for (size_t i = 0; i < d->n_vms; i++)
        vm_d_vm_free(d->vms[i]);
    free(d->vms);
    d->vms = NULL;
    d->n_vms = 0;
    if (ix) {
        free(ix->by_name);
        free(ix->by_uuid);
        free(ix);
        d->vm_index = NULL;
    }
}

unsigned vm_d_vm_count_on(struct vm_daemon *d, const struct host_rt *h)
{
    unsigned n = 0;

    for (size_t i = 0; i < d->n_vms; i++)
        n += d->vms[i]->host == h;
    return n;
}

bool vm_d_grow(void **pv, size_t *cap, size_t n, size_t size)
{
    size_t c = *cap ? *cap : 8;
    void *v;

    if (n < *cap)
        return true;
    while (c <= n)
        c *= 2;
    if (!(v = realloc(*pv, c * size)))
        return false;
    *pv = v;
    *cap = c;
    return true;
}

void vm_d_uuid_new(char *buf)
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(b)) {
        /* No urandom: time and address still make it unique enough here. */
        uint64_t t = (uint64_t)vm_daemon_now_ms() ^ (uint64_t)(uintptr_t)buf;
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)((t >> ((i % 8) * 8)) ^ (i * 37u));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, VM_UUID_STR,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

void vm_d_crash_point(const struct vm_daemon *d, enum vm_op_kind op, const char *point)
{
    const char *at = d->cfg.crash_at, *dot;

    if (!at[0] || !(dot = strchr(at, '.')))
        return;
    if (strncmp(at, vm_op_kind_to_string(op), (size_t)(dot - at)) != 0 ||
        vm_op_kind_to_string(op)[dot - at] != '\0' || strcmp(dot + 1, point) != 0)
        return;
    NFV_LOG_WARN(MOD, "crash_at %s: exiting as a crash would", at);
    _exit(99);
}
