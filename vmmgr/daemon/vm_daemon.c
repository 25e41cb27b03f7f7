/*
 * vm_daemon.c - vmmgrd's service layer (see vm_daemon.h): hosts, the event
 * log, journal recovery at start-up, and the monitor thread that keeps host
 * connections alive.
 *
 * Locking: d->lock guards everything in struct vm_daemon and every database
 * call. libvirt's event thread never takes it: its callbacks only set an
 * atomic flag on the host (lost connection) and the monitor thread, which
 * wakes at least every 200 ms, does the work under the lock. Opening a
 * connection (which can take seconds over ssh) happens with the lock
 * released; the host is looked up again by id afterwards in case it was
 * removed meanwhile.
 */
#include "vm_daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nfv/log.h"
#include "pin/pin_hwloc.h"
#include "pin/pools.h"
#include "vm_db.h"
#include "vm_journal.h"
#include "vm_req.h"
#include "vm_topo.h"
#include "vm_uri.h"
#include "vm_daemon_priv.h"

#define MOD "daemon"

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

/* ---- events ---- */

static void event_locked(struct vm_daemon *d, enum vm_severity sev, const char *type,
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
    event_locked(d, sev, type, object, fmt, ap);
    va_end(ap);
}

void vm_daemon_event(struct vm_daemon *d, enum vm_severity sev, const char *type,
                     const char *object, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&d->lock);
    va_start(ap, fmt);
    event_locked(d, sev, type, object, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&d->lock);
}

void vm_daemon_count_http(struct vm_daemon *d, int status)
{
    pthread_mutex_lock(&d->lock);
    d->metrics.http_requests++;
    if (status >= 400)
        d->metrics.http_errors++;
    pthread_mutex_unlock(&d->lock);
}

/* ---- hosts: runtime ---- */

struct host_rt *vm_d_host_find(struct vm_daemon *d, const char *name)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (strcmp(d->hosts[i]->name, name) == 0)
            return d->hosts[i];
    return NULL;
}

static struct host_rt *host_find_id(struct vm_daemon *d, int64_t id)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (d->hosts[i]->id == id)
            return d->hosts[i];
    return NULL;
}

static void host_rt_free(struct vm_daemon *d, struct host_rt *h)
{
    if (!h)
        return;
    if (h->conn)
        d->hv->close(h->conn);
    pin_alloc_free(h->alloc);
    pin_topo_unref(h->topo);
    free(h);
}

/* Keeps the failure-domain labels placement uses (rack, zone, power). */
static void host_set_labels(struct host_rt *h, const json_t *labels)
{
    static const char *const keys[3] = {"rack", "zone", "power"};

    for (int i = 0; i < 3; i++) {
        const char *v = json_string_value(json_object_get(labels, keys[i]));
        snprintf(h->labels[i], sizeof(h->labels[i]), "%s", v ? v : "");
    }
}

static enum nfv_code host_append(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err)
{
    struct host_rt **v = realloc(d->hosts, (d->n_hosts + 1) * sizeof(*v));

    if (!v)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    d->hosts = v;
    d->hosts[d->n_hosts++] = h;
    return NFV_OK;
}

static void host_detach(struct vm_daemon *d, struct host_rt *h)
{
    for (size_t i = 0; i < d->n_hosts; i++) {
        if (d->hosts[i] == h) {
            memmove(&d->hosts[i], &d->hosts[i + 1], (d->n_hosts - i - 1) * sizeof(*d->hosts));
            d->n_hosts--;
            return;
        }
    }
}

static void on_lost(void *opaque, struct vm_hv_conn *conn, const char *reason)
{
    struct host_rt *h = opaque;

    (void)conn;
    (void)reason;
    atomic_store(&h->is_lost, true);
}

static void on_domain(void *opaque, struct vm_hv_conn *conn, const char *name,
                      enum vm_hv_dom_event ev)
{
    struct host_rt *h = opaque;

    (void)conn;
    /* Runs on libvirt's event thread: queue it for the monitor thread. */
    vm_vm_note(h->d, h, name, ev);
}

static const struct vm_hv_events hv_events = {
    .on_lost = on_lost,
    .on_domain = on_domain,
};

static enum nfv_code host_open(struct vm_daemon *d, struct host_rt *h, const char *uri,
                               struct vm_hv_conn **ret, struct nfv_err *err)
{
    struct vm_hv_open_opts o = {
        .keepalive_interval_s = d->cfg.keepalive_interval_s,
        .keepalive_count = d->cfg.keepalive_count,
        .events = &hv_events,
        .opaque = h,
    };

    return d->hv->open(uri, &o, ret, err);
}

static enum nfv_code write_file(const char *path, const char *text, struct nfv_err *err)
{
    char tmp[PATH_MAX + 8];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", tmp, strerror(errno));
    if (fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        int e = errno;
        fclose(f);
        unlink(tmp);
        return NFV_ERR_ERRNO(err, NFV_E_IO, e, "'%s': %s", tmp, strerror(e));
    }
    fclose(f);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return NFV_ERR_ERRNO(err, NFV_E_IO, e, "'%s': %s", path, strerror(e));
    }
    return NFV_OK;
}

static enum nfv_code node_xml_path(struct vm_daemon *d, const char *name, char *buf,
                                   size_t buf_size, struct nfv_err *err)
{
    char dir[PATH_MAX];
    int n = snprintf(dir, sizeof(dir), "%s/hosts", d->cfg.state_dir);

    if (n < 0 || (size_t)n >= sizeof(dir))
        return NFV_ERR(err, NFV_E_INVAL, "'state_dir': path too long");
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", dir, strerror(errno));
    n = snprintf(buf, buf_size, "%s/%s.xml", dir, name);
    if (n < 0 || (size_t)n >= buf_size)
        return NFV_ERR(err, NFV_E_INVAL, "'state_dir': path too long");
    return NFV_OK;
}

/* Where a host's hwloc XML (given by the operator) is kept: pin_hwloc loads
 * from a file, and the file survives for inspection with lstopo. */
static enum nfv_code hwloc_xml_path(struct vm_daemon *d, const char *name, char *buf,
                                    size_t buf_size, struct nfv_err *err)
{
    char tmp[PATH_MAX];
    size_t len;

    if (node_xml_path(d, name, tmp, sizeof(tmp), err) != NFV_OK)
        return NFV_E_INVAL;
    len = strlen(tmp) - 4; /* drop ".xml" */
    if (snprintf(buf, buf_size, "%.*s.hwloc.xml", (int)len, tmp) >= (int)buf_size)
        return NFV_ERR(err, NFV_E_INVAL, "'state_dir': path too long");
    return NFV_OK;
}

static bool uri_is_local(const char *uri)
{
    return strncmp(uri, "qemu:///", 8) == 0;
}

/*
 * Loads host @name's topology: a synthetic string or the operator's hwloc
 * XML (@text, written to the state dir first) through pinning's hwloc
 * adapter; live hosts from hwloc when the URI is this machine, else from
 * libvirt's capabilities over @conn.
 */
static enum nfv_code topo_load(struct vm_daemon *d, const char *name, const char *uri,
                               enum vm_topo_source src, const char *text, struct vm_hv_conn *conn,
                               struct pin_topo **ret, struct nfv_err *err)
{
    char path[PATH_MAX];
    enum nfv_code code;

    switch (src) {
    case VM_TOPO_SYNTHETIC:
        code = pin_hwloc_load_synthetic(text, ret, err);
        if (code != NFV_OK)
            nfv_err_prefix(err, "'synthetic'");
        return code == NFV_E_PARSE ? NFV_E_INVAL : code;
    case VM_TOPO_XML:
        if ((code = hwloc_xml_path(d, name, path, sizeof(path), err)) != NFV_OK)
            return code;
        if (text && (code = write_file(path, text, err)) != NFV_OK)
            return code;
        code = pin_hwloc_load_xml(path, ret, err);
        if (code != NFV_OK) {
            nfv_err_prefix(err, "'hwloc_xml'");
            if (text)
                unlink(path);
        }
        return code == NFV_E_PARSE ? NFV_E_INVAL : code;
    case VM_TOPO_LIVE:
    default:
        if (uri_is_local(uri))
            return pin_hwloc_load_live(ret, err);
        if (!conn)
            return NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is not connected", name);
        return d->hv->topology(conn, ret, err);
    }
}

/* The operator asked vmmgrd to simulate the host ("test:///"): we write the
 * node file. Any other test:// URI names its own file. */
static bool uri_is_generated_test(const char *uri)
{
    return strcmp(uri, "test:///") == 0;
}

static enum nfv_code write_node_xml(const struct pin_topo *t, const char *path, struct nfv_err *err)
{
    char *xml = vm_topo_node_xml(t, vm_topo_memory_mib(t));
    enum nfv_code code;

    if (!xml)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    code = write_file(path, xml, err);
    free(xml);
    return code;
}

/* ---- host JSON ---- */

static json_t *pools_json(const struct host_rt *h, const char *reserved, const char *dedicated)
{
    char r[VM_CPULIST_STR_MAX], dd[VM_CPULIST_STR_MAX];

    if (h && h->topo) {
        pin_cpuset_format(&h->pools.reserved, r, sizeof(r));
        pin_cpuset_format(&h->pools.dedicated, dd, sizeof(dd));
        return json_pack("{s:s,s:s}", "reserved", r, "dedicated", dd);
    }
    return json_pack("{s:s,s:s}", "reserved", reserved, "dedicated", dedicated);
}

static json_t *host_json(struct vm_daemon *d, const struct vm_db_host *row, bool is_full)
{
    struct host_rt *h = vm_d_host_find(d, row->name);
    bool is_connected = h && h->conn;
    enum vm_host_state st = vm_host_state_effective(row->admin_state, is_connected);
    json_t *labels = json_loads(row->labels_json ? row->labels_json : "{}", 0, NULL);
    json_t *pools = pools_json(h, row->reserved, row->dedicated);
    unsigned n_vms = h ? vm_vm_count_on(d, h) : 0;
    json_t *o;

    o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:i,s:I,s:o,s:o,s:i}", "name", row->name, "uri",
                  row->uri, "state", vm_host_state_to_string(st), "admin_state",
                  vm_host_state_to_string(row->admin_state), "connected", is_connected,
                  "topology_source", vm_topo_source_to_string(row->topo_source), "pus",
                  (int)row->n_pus, "memory_mib", (json_int_t)row->memory_mib, "labels",
                  labels ? labels : json_object(), "pools", pools ? pools : json_object(), "vms",
                  (int)n_vms);
    if (!o)
        return NULL;
    if (h && h->topo) {
        json_object_set_new(o, "cores", json_integer(h->topo->n_cores));
        json_object_set_new(o, "numa_nodes", json_integer(h->topo->n_nodes));
        json_object_set_new(o, "packages", json_integer(h->topo->n_packages));
    }
    if (row->node_xml[0])
        json_object_set_new(o, "node_xml", json_string(row->node_xml));
    if (is_full) {
        json_t *topo = json_loads(row->topo_json ? row->topo_json : "{}", 0, NULL);
        json_t *map = json_array();
        json_object_set_new(o, "created_ms", json_integer(row->created_ms));
        json_object_set_new(o, "topology", topo ? topo : json_object());
        /* The core map: one entry per PU with its pool and holder. Holders
         * come from the allocations table once VMs exist. */
        if (h && h->topo && map) {
            for (int pu = pin_cpuset_first(&h->topo->all); pu >= 0;
                 pu = pin_cpuset_next(&h->topo->all, (unsigned)pu + 1)) {
                const struct pin_pu_info *pi = pin_topo_pu(h->topo, (unsigned)pu);
                const char *pool = pin_cpuset_test(&h->pools.reserved, (unsigned)pu) ? "reserved"
                                   : pin_cpuset_test(&h->pools.dedicated, (unsigned)pu)
                                       ? "dedicated"
                                       : "other";
                const char *owner = NULL;
                char vc[64] = "";
                if (h->alloc)
                    pin_alloc_pu_vcpus_format(h->alloc, (unsigned)pu, &owner, vc, sizeof(vc));
                json_array_append_new(map, json_pack("{s:i,s:i,s:i,s:i,s:s,s:s?,s:s?}", "pu", pu,
                                                     "core", pi->core, "node", pi->node, "package",
                                                     pi->package, "pool", pool, "vm", owner,
                                                     "vcpus", owner ? vc : NULL));
            }
        }
        json_object_set_new(o, "core_map", map ? map : json_array());
    }
    return o;
}

/* ---- host add ---- */

static char *labels_text(const json_t *labels)
{
    return labels ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
}

enum nfv_code vm_daemon_host_add(struct vm_daemon *d, const json_t *body, json_t **ret,
                                 struct nfv_err *err)
{
    struct vm_host_spec spec;
    struct host_rt *h = NULL;
    struct vm_db_host row;
    struct vm_hv_node_info info;
    char *payload = NULL, *topo_json_text = NULL, *labels = NULL;
    json_t *tj;
    int64_t op_id = 0, t0 = vm_d_mono_ms();
    enum nfv_code code;
    bool is_generated;

    if ((code = vm_req_host_spec(body, &spec, err)) != NFV_OK)
        return code;
    is_generated = uri_is_generated_test(spec.uri);
    h = calloc(1, sizeof(*h));
    if (!h)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    h->d = d;
    snprintf(h->name, sizeof(h->name), "%s", spec.name);
    snprintf(h->uri, sizeof(h->uri), "%s", spec.uri);
    if ((code = vm_uri_effective(&d->cfg.uri_aliases, spec.uri, h->eff_uri, sizeof(h->eff_uri),
                                 err)) != NFV_OK) {
        host_rt_free(d, h);
        return code;
    }
    h->topo_source = spec.topo_source;
    h->admin = VM_HOST_UP;

    pthread_mutex_lock(&d->lock);
    if (vm_d_host_find(d, spec.name)) {
        code = NFV_ERR(err, NFV_E_EXIST, "host '%s' already exists", spec.name);
        goto fail_early;
    }
    /* Given topologies are checked before anything is journaled, so bad
     * input leaves no trace. */
    if (spec.topo_source != VM_TOPO_LIVE &&
        (code = topo_load(d, spec.name, spec.uri, spec.topo_source, spec.topo, NULL, &h->topo,
                          err)) != NFV_OK)
        goto fail_early;
    if (h->topo && (code = pin_pools_parse(h->topo, spec.reserved, spec.dedicated, NULL, &h->pools,
                                           err)) != NFV_OK)
        goto fail_early;
    if (is_generated) {
        if ((code = node_xml_path(d, spec.name, h->node_xml, sizeof(h->node_xml), err)))
            goto fail_early;
        snprintf(h->eff_uri, sizeof(h->eff_uri), "test://%s", h->node_xml);
    }

    /* Journal before touching the outside world (the node file, libvirt). */
    payload = NULL;
    tj = json_pack("{s:s,s:s}", "uri", spec.uri, "node_xml", h->node_xml);
    payload = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    json_decref(tj);
    if ((code = vm_db_op_begin(d->db, VM_OP_HOST_ADD, spec.name, payload, vm_daemon_now_ms(),
                               &op_id, err)) != NFV_OK)
        goto fail_early;

    if (is_generated && (code = write_node_xml(h->topo, h->node_xml, err)) != NFV_OK)
        goto fail;
    if ((code = host_open(d, h, h->eff_uri, &h->conn, err)) != NFV_OK)
        goto fail;
    if ((code = d->hv->node_info(h->conn, &info, err)) != NFV_OK)
        goto fail;
    if (spec.topo_source == VM_TOPO_LIVE) {
        if ((code = topo_load(d, spec.name, spec.uri, VM_TOPO_LIVE, NULL, h->conn, &h->topo,
                              err)) != NFV_OK)
            goto fail;
    } else if (vm_uri_is_test(spec.uri) && info.n_cpus != h->topo->n_pus) {
        /* A test:// file of the operator's own must agree with the topology. */
        code =
            NFV_ERR(err, NFV_E_INVAL, "'synthetic': topology has %u PUs but '%s' reports %u CPUs",
                    h->topo->n_pus, h->eff_uri, info.n_cpus);
        goto fail;
    }
    if (spec.topo_source == VM_TOPO_LIVE &&
        (code = pin_pools_parse(h->topo, spec.reserved, spec.dedicated, NULL, &h->pools, err)))
        goto fail;

    memset(&row, 0, sizeof(row));
    snprintf(row.name, sizeof(row.name), "%s", spec.name);
    snprintf(row.uri, sizeof(row.uri), "%s", spec.uri);
    row.admin_state = VM_HOST_UP;
    row.topo_source = spec.topo_source;
    row.topo = (char *)spec.topo;
    tj = pin_topo_to_json(h->topo);
    topo_json_text = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    json_decref(tj);
    labels = labels_text(spec.labels);
    if (!topo_json_text || !labels) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    row.topo_json = topo_json_text;
    row.labels_json = labels;
    row.n_pus = h->topo->n_pus;
    row.memory_mib =
        vm_topo_memory_mib(h->topo) ? vm_topo_memory_mib(h->topo) : info.memory_kib / 1024;
    pin_cpuset_format(&h->pools.reserved, row.reserved, sizeof(row.reserved));
    pin_cpuset_format(&h->pools.dedicated, row.dedicated, sizeof(row.dedicated));
    snprintf(row.node_xml, sizeof(row.node_xml), "%s", h->node_xml);
    row.created_ms = vm_daemon_now_ms();

    /* The row and the journal completion commit together. */
    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        goto fail;
    if ((code = vm_db_host_insert(d->db, &row, &h->id, err)) != NFV_OK ||
        (code = vm_db_op_finish(d->db, op_id, VM_OPS_DONE, NULL, vm_daemon_now_ms(), err)) !=
            NFV_OK) {
        vm_db_rollback(d->db);
        goto fail;
    }
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto fail;
    }
    host_set_labels(h, spec.labels);
    snprintf(h->reserved, sizeof(h->reserved), "%s", row.reserved);
    snprintf(h->dedicated, sizeof(h->dedicated), "%s", row.dedicated);
    if ((code = host_append(d, h, err)) == NFV_OK)
        code = vm_vm_host_ready(d, h, err);
    if (code != NFV_OK) {
        /* Durable but not in memory: a restart picks it up. */
        host_detach(d, h);
        pthread_mutex_unlock(&d->lock);
        host_rt_free(d, h);
        free(payload);
        free(topo_json_text);
        free(labels);
        return code;
    }
    vm_metrics_observe(&d->metrics, VM_OP_HOST_ADD, 0, (double)(vm_d_mono_ms() - t0));
    vm_d_event(d, VM_SEV_INFO, "host_added", spec.name, "%s, %u PUs, %u cores, %u NUMA nodes",
               spec.uri, h->topo->n_pus, h->topo->n_cores, h->topo->n_nodes);
    {
        struct vm_db_host stored;
        if (vm_db_host_get(d->db, spec.name, &stored, NULL) == NFV_OK) {
            *ret = host_json(d, &stored, false);
            vm_db_host_clear(&stored);
        } else {
            *ret = json_pack("{s:s}", "name", spec.name);
        }
    }
    pthread_mutex_unlock(&d->lock);
    free(payload);
    free(topo_json_text);
    free(labels);
    return NFV_OK;

fail:
    if (h->conn) {
        d->hv->close(h->conn);
        h->conn = NULL;
    }
    if (is_generated && h->node_xml[0])
        unlink(h->node_xml);
    vm_db_op_finish(d->db, op_id, VM_OPS_FAILED, err ? err->msg : "failed", vm_daemon_now_ms(),
                    NULL);
    vm_metrics_observe(&d->metrics, VM_OP_HOST_ADD, 1, (double)(vm_d_mono_ms() - t0));
fail_early:
    if (spec.topo_source == VM_TOPO_XML && code != NFV_E_EXIST) {
        char path[PATH_MAX];
        if (hwloc_xml_path(d, spec.name, path, sizeof(path), NULL) == NFV_OK)
            unlink(path);
    }
    pthread_mutex_unlock(&d->lock);
    host_rt_free(d, h);
    free(payload);
    free(topo_json_text);
    free(labels);
    return code;
}

/* ---- host queries and changes ---- */

struct list_ctx {
    struct vm_daemon *d;
    json_t *arr;
};

static int list_host_cb(void *opaque, const struct vm_db_host *row)
{
    struct list_ctx *lc = opaque;
    json_t *o = host_json(lc->d, row, false);

    if (o)
        json_array_append_new(lc->arr, o);
    return 0;
}

enum nfv_code vm_daemon_host_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    struct list_ctx lc = {d, json_array()};
    enum nfv_code code;

    if (!lc.arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    pthread_mutex_lock(&d->lock);
    code = vm_db_host_list(d->db, list_host_cb, &lc, err);
    pthread_mutex_unlock(&d->lock);
    if (code != NFV_OK) {
        json_decref(lc.arr);
        return code;
    }
    *ret = json_pack("{s:o}", "hosts", lc.arr);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

enum nfv_code vm_daemon_host_show(struct vm_daemon *d, const char *name, json_t **ret,
                                  struct nfv_err *err)
{
    struct vm_db_host row;
    enum nfv_code code;

    pthread_mutex_lock(&d->lock);
    code = vm_db_host_get(d->db, name, &row, err);
    if (code == NFV_OK) {
        *ret = host_json(d, &row, true);
        vm_db_host_clear(&row);
        if (!*ret)
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    pthread_mutex_unlock(&d->lock);
    return code;
}

enum nfv_code vm_daemon_host_update(struct vm_daemon *d, const char *name, const json_t *body,
                                    json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"state", NULL};
    const char *state_s = NULL;
    enum vm_host_state st;
    struct host_rt *h;
    enum nfv_code code;

    if (vm_req_check_fields(body, fields, err) != NFV_OK ||
        vm_req_get_str(body, "state", true, &state_s, err) != NFV_OK)
        return NFV_E_INVAL;
    st = vm_host_state_from_string(state_s);
    if ((code = vm_host_state_check_request(st, err)) != NFV_OK)
        return code;
    pthread_mutex_lock(&d->lock);
    h = vm_d_host_find(d, name);
    if (!h) {
        pthread_mutex_unlock(&d->lock);
        return NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    }
    if (h->admin != st) {
        if ((code = vm_db_host_set_state(d->db, name, st, err)) != NFV_OK) {
            pthread_mutex_unlock(&d->lock);
            return code;
        }
        h->admin = st;
        vm_d_event(d, st == VM_HOST_MAINTENANCE ? VM_SEV_WARN : VM_SEV_INFO, "host_state", name,
                   "operator set the host %s", vm_host_state_to_string(st));
    }
    pthread_mutex_unlock(&d->lock);
    return vm_daemon_host_show(d, name, ret, err);
}

enum nfv_code vm_daemon_host_remove(struct vm_daemon *d, const char *name, json_t **ret,
                                    struct nfv_err *err)
{
    struct vm_db_host row;
    struct host_rt *h;
    int64_t op_id = 0, t0 = vm_d_mono_ms();
    unsigned n_vms = 0;
    enum nfv_code code;

    pthread_mutex_lock(&d->lock);
    if ((code = vm_db_host_get(d->db, name, &row, err)) != NFV_OK) {
        pthread_mutex_unlock(&d->lock);
        return code;
    }
    vm_db_host_clear(&row);
    if ((code = vm_db_host_count_vms(d->db, row.id, &n_vms, err)) != NFV_OK)
        goto out;
    if (n_vms) {
        code = NFV_ERR(err, NFV_E_STATE, "host '%s' still has %u VM(s); delete them first", name,
                       n_vms);
        goto out;
    }
    {
        json_t *tj = json_pack("{s:s}", "node_xml", row.node_xml);
        char *payload = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
        json_decref(tj);
        code = vm_db_op_begin(d->db, VM_OP_HOST_REMOVE, name, payload, vm_daemon_now_ms(), &op_id,
                              err);
        free(payload);
        if (code != NFV_OK)
            goto out;
    }
    h = vm_d_host_find(d, name);
    if (h) {
        host_detach(d, h);
        host_rt_free(d, h);
    }
    if (row.node_xml[0])
        unlink(row.node_xml);
    if (row.topo_source == VM_TOPO_XML) {
        char path[PATH_MAX];
        if (hwloc_xml_path(d, name, path, sizeof(path), NULL) == NFV_OK)
            unlink(path);
    }
    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        goto out;
    if ((code = vm_db_host_delete(d->db, name, err)) != NFV_OK ||
        (code = vm_db_op_finish(d->db, op_id, VM_OPS_DONE, NULL, vm_daemon_now_ms(), err)) !=
            NFV_OK) {
        /* The journal entry stays pending: the next start-up finishes it. */
        vm_db_rollback(d->db);
        goto out;
    }
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto out;
    }
    vm_metrics_observe(&d->metrics, VM_OP_HOST_REMOVE, 0, (double)(vm_d_mono_ms() - t0));
    vm_d_event(d, VM_SEV_INFO, "host_removed", name, "removed");
    *ret = json_pack("{s:s,s:b}", "name", name, "removed", 1);
out:
    pthread_mutex_unlock(&d->lock);
    return code;
}

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
    pthread_mutex_lock(&d->lock);
    code = vm_db_op_list(d->db, false, limit, op_list_cb, arr, err);
    pthread_mutex_unlock(&d->lock);
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

    pthread_mutex_lock(&d->lock);
    code = vm_db_op_get(d->db, id, &op, err);
    pthread_mutex_unlock(&d->lock);
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

    pthread_mutex_lock(&d->lock);
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
    pthread_mutex_unlock(&d->lock);
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
    struct timespec deadline;
    enum nfv_code code;
    int64_t last;

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (wait_s > d->cfg.longpoll_max_s)
        wait_s = d->cfg.longpoll_max_s;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_s;
    pthread_mutex_lock(&d->lock);
    /* Long-poll: sleep until an event newer than since_id exists. */
    while (wait_s && d->last_event_id <= since_id && !d->is_stopping)
        if (pthread_cond_timedwait(&d->cond, &d->lock, &deadline) == ETIMEDOUT)
            break;
    code = vm_db_event_list(d->db, since_id, limit, event_cb, arr, err);
    last = d->last_event_id;
    pthread_mutex_unlock(&d->lock);
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
    pthread_mutex_lock(&d->lock);
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
    vm_db_op_count_pending(d->db, &s.journal_pending, NULL);
    s.events_total = (uint64_t)d->last_event_id;
    s.uptime_s = (double)(vm_daemon_now_ms() - d->started_ms) / 1000.0;
    ops = d->metrics;
    pthread_mutex_unlock(&d->lock);
    *ret_text = vm_metrics_render(&s, &ops);
    return *ret_text ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

/* ---- start-up: hosts, journal recovery ---- */

struct load_ctx {
    struct vm_daemon *d;
    enum nfv_code code;
    struct nfv_err *err;
};

static int load_host_cb(void *opaque, const struct vm_db_host *row)
{
    struct load_ctx *lc = opaque;
    struct vm_daemon *d = lc->d;
    struct host_rt *h = calloc(1, sizeof(*h));
    struct nfv_err e = {0};

    if (!h) {
        lc->code = NFV_ERR(lc->err, NFV_E_NOMEM, "out of memory");
        return 1;
    }
    h->d = d;
    h->id = row->id;
    snprintf(h->name, sizeof(h->name), "%s", row->name);
    snprintf(h->uri, sizeof(h->uri), "%s", row->uri);
    snprintf(h->node_xml, sizeof(h->node_xml), "%s", row->node_xml);
    if (h->node_xml[0])
        snprintf(h->eff_uri, sizeof(h->eff_uri), "test://%s", h->node_xml);
    else if (vm_uri_effective(&d->cfg.uri_aliases, h->uri, h->eff_uri, sizeof(h->eff_uri), &e) !=
             NFV_OK)
        NFV_LOG_ERR(MOD, "host '%s': not opened: %s", row->name, e.msg);
    h->admin = row->admin_state;
    h->topo_source = row->topo_source;
    snprintf(h->reserved, sizeof(h->reserved), "%s", row->reserved);
    snprintf(h->dedicated, sizeof(h->dedicated), "%s", row->dedicated);
    {
        json_t *labels = json_loads(row->labels_json ? row->labels_json : "{}", 0, NULL);
        host_set_labels(h, labels);
        json_decref(labels);
    }
    if (row->topo_source != VM_TOPO_LIVE &&
        topo_load(d, row->name, row->uri, row->topo_source, row->topo ? row->topo : "", NULL,
                  &h->topo, &e) != NFV_OK)
        NFV_LOG_ERR(MOD, "host '%s': cannot load its topology: %s", row->name, e.msg);
    if (h->topo &&
        pin_pools_parse(h->topo, row->reserved, row->dedicated[0] ? row->dedicated : NULL, NULL,
                        &h->pools, &e) != NFV_OK)
        NFV_LOG_ERR(MOD, "host '%s': bad pools: %s", row->name, e.msg);
    /* A wiped state dir loses node files; they are derived data. */
    if (h->node_xml[0] && h->topo && access(h->node_xml, R_OK) != 0)
        write_node_xml(h->topo, h->node_xml, NULL);
    if (host_append(d, h, lc->err) != NFV_OK) {
        host_rt_free(d, h);
        lc->code = NFV_E_NOMEM;
        return 1;
    }
    return 0;
}

/* Tries to connect @h now; on failure schedules the next try. Lock held. */
static void host_connect_locked(struct vm_daemon *d, struct host_rt *h, bool is_startup)
{
    struct nfv_err e = {0};
    struct vm_hv_conn *conn = NULL;
    int64_t id = h->id;
    char uri[sizeof(h->eff_uri)];
    enum nfv_code code;

    memcpy(uri, h->eff_uri, sizeof(uri));
    h->is_connecting = true;
    pthread_mutex_unlock(&d->lock);
    code = host_open(d, h, uri, &conn, &e);
    pthread_mutex_lock(&d->lock);
    h = host_find_id(d, id);
    if (!h) { /* removed while we were connecting */
        if (conn)
            d->hv->close(conn);
        return;
    }
    h->is_connecting = false;
    if (code != NFV_OK) {
        bool was_first = h->backoff_ms == 0;
        h->backoff_ms =
            vm_backoff_next(h->backoff_ms, d->cfg.reconnect_min_ms, d->cfg.reconnect_max_ms);
        h->next_retry_ms = vm_d_mono_ms() + h->backoff_ms;
        if (is_startup || was_first)
            vm_d_event(d, VM_SEV_WARN, "host_unreachable", h->name, "%s", e.msg);
        return;
    }
    atomic_store(&h->is_lost, false);
    h->conn = conn;
    if (!h->topo) {
        if (topo_load(d, h->name, h->uri, VM_TOPO_LIVE, NULL, conn, &h->topo, &e) != NFV_OK)
            NFV_LOG_WARN(MOD, "host '%s': no topology: %s", h->name, e.msg);
        else if (pin_pools_parse(h->topo, h->reserved[0] ? h->reserved : NULL,
                                 h->dedicated[0] ? h->dedicated : NULL, NULL, &h->pools,
                                 &e) != NFV_OK)
            NFV_LOG_WARN(MOD, "host '%s': pools: %s", h->name, e.msg);
    }
    if (vm_vm_host_ready(d, h, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "host '%s': %s", h->name, e.msg);
    if (!is_startup)
        vm_vm_reconcile(d);
    if (!is_startup || h->backoff_ms)
        vm_d_event(d, VM_SEV_INFO, "host_reconnected", h->name, "connected to %s", h->uri);
    h->backoff_ms = 0;
}

static void recover_journal(struct vm_daemon *d);

static void *monitor_main(void *arg)
{
    struct vm_daemon *d = arg;
    int64_t last_retry = 0, last_prune = vm_d_mono_ms();

    pthread_mutex_lock(&d->lock);
    while (!d->is_stopping) {
        struct timespec ts;
        int64_t now = vm_d_mono_ms();

        for (size_t i = 0; i < d->n_hosts && !d->is_stopping; i++) {
            struct host_rt *h = d->hosts[i];
            if (h->is_connecting || h->n_busy)
                continue; /* in use without the lock: look again next round */
            if (h->conn && (atomic_load(&h->is_lost) || !d->hv->is_alive(h->conn))) {
                d->hv->close(h->conn);
                h->conn = NULL;
                d->metrics.host_disconnects++;
                h->backoff_ms =
                    vm_backoff_next(0, d->cfg.reconnect_min_ms, d->cfg.reconnect_max_ms);
                h->next_retry_ms = now + h->backoff_ms;
                vm_d_event(d, VM_SEV_WARN, "host_unreachable", h->name,
                           "lost the connection to %s; reconnecting", h->uri);
            } else if (!h->conn && now >= h->next_retry_ms) {
                host_connect_locked(d, h, false);
                break; /* the host list may have changed while unlocked */
            }
        }
        vm_vm_handle_notes(d);
        /* Keep the event log bounded while running, not only at start-up. */
        if (now - last_prune >= 600000) {
            last_prune = now;
            vm_db_event_prune(d->db, d->cfg.event_keep, NULL);
        }
        /* Entries recovery had to defer (host unreachable, libvirt busy)
         * are retried once a second. */
        if (d->has_deferred_ops && now - last_retry >= 1000) {
            last_retry = now;
            recover_journal(d);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

struct pending_ctx {
    struct vm_db_op *ops;
    size_t n, cap;
};

static int pending_cb(void *opaque, const struct vm_db_op *op)
{
    struct pending_ctx *pc = opaque;

    if (pc->n == pc->cap) {
        size_t cap = pc->cap ? pc->cap * 2 : 16;
        struct vm_db_op *v = realloc(pc->ops, cap * sizeof(*v));
        if (!v)
            return 1;
        pc->ops = v;
        pc->cap = cap;
    }
    pc->ops[pc->n] = *op;
    pc->ops[pc->n].payload = op->payload ? strdup(op->payload) : NULL;
    pc->n++;
    return 0;
}

/* Finishes or rolls back every pending journal entry (lock held). */
static void recover_journal(struct vm_daemon *d)
{
    struct pending_ctx pc = {0};
    unsigned n_finished = 0, n_rolled = 0, n_deferred = 0;
    struct nfv_err e = {0};

    if (vm_db_op_list(d->db, true, 100000, pending_cb, &pc, &e) != NFV_OK) {
        NFV_LOG_ERR(MOD, "journal recovery: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < pc.n; i++) {
        struct vm_db_op *op = &pc.ops[i];
        struct vm_op_observed obs = {0};
        struct vm_db_host row;
        json_t *payload = json_loads(op->payload ? op->payload : "{}", 0, NULL);
        const char *node_xml = json_string_value(json_object_get(payload, "node_xml"));
        enum vm_recovery r;

        obs.is_db_present = false;
        if ((op->kind == VM_OP_HOST_ADD || op->kind == VM_OP_HOST_REMOVE) &&
            vm_db_host_get(d->db, op->target, &row, NULL) == NFV_OK) {
            obs.is_db_present = true;
            vm_db_host_clear(&row);
        }
        r = vm_journal_decide(op->kind, &obs);
        switch (op->kind) {
        case VM_OP_HOST_ADD:
            if (r == VM_RECOVER_ROLLBACK && node_xml && *node_xml)
                unlink(node_xml);
            break;
        case VM_OP_HOST_REMOVE:
            if (node_xml && *node_xml)
                unlink(node_xml);
            if (obs.is_db_present && vm_db_host_delete(d->db, op->target, &e) != NFV_OK) {
                NFV_LOG_ERR(MOD, "journal recovery: %s", e.msg);
                r = VM_RECOVER_DEFER;
            } else {
                /* Loaded at start-up before recovery ran: forget it in memory
                 * too (its id may be reused by the next host added). */
                struct host_rt *gone = vm_d_host_find(d, op->target);
                if (gone) {
                    host_detach(d, gone);
                    host_rt_free(d, gone);
                }
            }
            break;
        default:
            r = vm_vm_recover(d, op);
            break;
        }
        json_decref(payload);
        if (r == VM_RECOVER_DEFER) {
            n_deferred++;
            continue;
        }
        vm_db_op_finish(d->db, op->id, r == VM_RECOVER_FINISH ? VM_OPS_DONE : VM_OPS_ROLLED_BACK,
                        "resolved by start-up recovery", vm_daemon_now_ms(), NULL);
        if (r == VM_RECOVER_FINISH)
            n_finished++;
        else
            n_rolled++;
        vm_d_event(d, VM_SEV_WARN, "journal_recovered", op->target, "%s #%lld: %s",
                   vm_op_kind_to_string(op->kind), (long long)op->id, vm_recovery_to_string(r));
    }
    d->has_deferred_ops = n_deferred > 0;
    if (pc.n && (n_finished || n_rolled || !d->has_monitor))
        vm_d_event(d, VM_SEV_INFO, "journal_recovery", "vmmgrd",
                   "%zu unfinished operation(s): %u finished, %u rolled back, %u deferred", pc.n,
                   n_finished, n_rolled, n_deferred);
    for (size_t i = 0; i < pc.n; i++)
        vm_db_op_clear(&pc.ops[i]);
    free(pc.ops);
}

enum nfv_code vm_daemon_new(const struct vm_config *cfg, const struct vm_hv_driver *hv,
                            struct vm_daemon **ret, struct nfv_err *err)
{
    struct vm_daemon *d = calloc(1, sizeof(*d));
    struct load_ctx lc;
    enum nfv_code code;

    if (!d)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    d->cfg = *cfg;
    d->hv = hv;
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
        (code = vm_db_event_last_id(d->db, &d->last_event_id, err)) != NFV_OK) {
        vm_daemon_free(d);
        return code;
    }
    lc.d = d;
    lc.code = NFV_OK;
    lc.err = err;
    if ((code = vm_db_host_list(d->db, load_host_cb, &lc, err)) != NFV_OK ||
        (code = lc.code) != NFV_OK) {
        vm_daemon_free(d);
        return code;
    }
    pthread_mutex_lock(&d->lock);
    vm_d_event(d, VM_SEV_INFO, "daemon_started", "vmmgrd", "vmmgrd %s started (pid %d, %zu hosts)",
               VMMGR_VERSION, (int)getpid(), d->n_hosts);
    for (size_t i = 0; i < d->n_hosts; i++)
        host_connect_locked(d, d->hosts[i], true);
    for (size_t i = 0; i < d->n_hosts; i++)
        if (vm_vm_host_ready(d, d->hosts[i], err) != NFV_OK)
            NFV_LOG_ERR(MOD, "host '%s': %s", d->hosts[i]->name, err->msg);
    recover_journal(d);
    if (vm_vm_load(d, err) != NFV_OK)
        NFV_LOG_ERR(MOD, "loading VMs: %s", err->msg);
    vm_vm_reconcile(d);
    vm_db_event_prune(d->db, cfg->event_keep, NULL);
    pthread_mutex_unlock(&d->lock);
    if (pthread_create(&d->monitor, NULL, monitor_main, d) != 0) {
        vm_daemon_free(d);
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the monitor thread");
    }
    d->has_monitor = true;
    *ret = d;
    return NFV_OK;
}

void vm_daemon_stop(struct vm_daemon *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    if (!d->is_stopping && d->has_monitor)
        vm_d_event(d, VM_SEV_INFO, "daemon_stopping", "vmmgrd", "shutting down");
    d->is_stopping = true;
    pthread_cond_broadcast(&d->cond);
    /* Asynchronous creates finish (or fail) before the state goes away. */
    while (d->n_jobs)
        pthread_cond_wait(&d->cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
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
    vm_vm_free_all(d);
    for (size_t i = 0; i < d->n_hosts; i++)
        host_rt_free(d, d->hosts[i]);
    free(d->hosts);
    vm_db_close(d->db);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->note_lock);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
