/*
 * vm_host.c - hosts in vmmgrd: add (a job: journal, then the node file,
 * the libvirt connection and the topology without the lock, then commit),
 * remove, admin state, queries with the core map, loading at start-up, and
 * (re)connecting as a job of its own (vm_host_connect), so that a libvirtd
 * that accepts and never answers blocks nothing but that host.
 *
 * Topologies come from hwloc (synthetic string, the operator's hwloc XML
 * kept in the state dir, or this machine live) or from libvirt's
 * capabilities for remote hosts. A simulated host ("test:///") gets a
 * libvirt test-driver node file generated from its topology.
 *
 * Calls: vm_ctx, vm_job, vm_net, vm_place, vm_heal_state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfv/log.h"
#include "pin/pin_hwloc.h"
#include "pin/pools.h"
#include "plc/cluster.h"
#include "vm_heal_state.h"
#include "vm_host.h"
#include "vm_net.h"
#include "vm_place.h"
#include "vm/vm_topo.h"
#include "vm/vm_uri.h"

#define MOD "host"

/* Keeps the failure-domain labels placement uses (rack, zone, power). */
static void host_set_labels(struct host_rt *h, const json_t *labels)
{
    static const char *const keys[3] = {"rack", "zone", "power"};

    for (int i = 0; i < 3; i++) {
        const char *v = json_string_value(json_object_get(labels, keys[i]));
        snprintf(h->labels[i], sizeof(h->labels[i]), "%s", v ? v : "");
    }
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
        return VM_HV(d, topology, conn, ret, err);
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
    unsigned n_vms = h ? vm_d_vm_count_on(d, h) : 0;
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
    if (h && h->id)
        json_object_set_new(o, "heal", vm_heal_host_json(h));
    vm_net_host_json(h, o); /* issue 15: bridge, switch_port */
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

static char *labels_text(const json_t *labels)
{
    return labels ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
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
    vm_d_lock(d);
    code = vm_db_host_list(d->db, list_host_cb, &lc, err);
    vm_d_unlock(d);
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

    vm_d_lock(d);
    code = vm_db_host_get(d->db, name, &row, err);
    if (code == NFV_OK) {
        *ret = host_json(d, &row, true);
        vm_db_host_clear(&row);
        if (!*ret)
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    vm_d_unlock(d);
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
    vm_d_lock(d);
    h = vm_d_host_find(d, name);
    if (!h) {
        vm_d_unlock(d);
        return NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    }
    if (h->admin != st) {
        if ((code = vm_db_host_set_state(d->db, name, st, err)) != NFV_OK) {
            vm_d_unlock(d);
            return code;
        }
        h->admin = st;
        vm_place_host_sync(d, h);
        vm_d_event(d, st == VM_HOST_MAINTENANCE ? VM_SEV_WARN : VM_SEV_INFO, "host_state", name,
                   "operator set the host %s", vm_host_state_to_string(st));
    }
    vm_d_unlock(d);
    return vm_daemon_host_show(d, name, ret, err);
}

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
    h->plc_idx = PLC_NONE;
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
    vm_heal_host_loaded(d, h);
    if (vm_d_host_append(d, h, lc->err) != NFV_OK) {
        vm_d_host_free(d, h);
        lc->code = NFV_E_NOMEM;
        return 1;
    }
    return 0;
}

/* ---- connections ---- */

/* libvirt's event thread: a lost connection only sets a flag the monitor
 * reads; a domain event is queued for the monitor. Neither takes the
 * daemon lock. */
static void on_lost(void *opaque, struct vm_hv_conn *conn, const char *reason)
{
    struct host_rt *h = opaque;

    (void)conn;
    (void)reason;
    atomic_store(&h->is_lost, true);
}

static void on_domain(void *opaque, struct vm_hv_conn *conn, const char *name, const char *uuid,
                      enum vm_hv_dom_event ev)
{
    struct host_rt *h = opaque;
    struct vm_daemon *d = h->d;

    (void)conn;
    (void)name;
    pthread_mutex_lock(&d->note_lock);
    if (d->n_notes < VM_NOTE_QUEUE) {
        struct dom_note *n = &d->notes[d->n_notes++];
        n->host_id = h->id;
        snprintf(n->uuid, sizeof(n->uuid), "%s", uuid);
        n->ev = ev;
    } else {
        d->n_notes_dropped++;
    }
    pthread_mutex_unlock(&d->note_lock);
    pthread_cond_broadcast(&d->cond);
}

static const struct vm_hv_events hv_events = {
    .on_lost = on_lost,
    .on_domain = on_domain,
};

/* Whether @conn's host runs KVM guests. Without the lock. */
static bool host_has_kvm(struct vm_daemon *d, struct vm_hv_conn *conn)
{
    if (d->hv->has_kvm)
        return VM_HV(d, has_kvm, conn);
    return access("/dev/kvm", R_OK | W_OK) == 0;
}

/* Opens @uri for @h. Without the lock. */
static enum nfv_code host_open(struct vm_daemon *d, struct host_rt *h, const char *uri,
                               struct vm_hv_conn **ret, struct nfv_err *err)
{
    struct vm_hv_open_opts o = {
        .keepalive_interval_s = d->cfg.keepalive_interval_s,
        .keepalive_count = d->cfg.keepalive_count,
        .events = &hv_events,
        .opaque = h,
    };

    return VM_HV(d, open, uri, &o, ret, err);
}

enum nfv_code vm_host_ready(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err)
{
    enum nfv_code code;

    if (!h->topo || h->alloc) {
        vm_place_host_sync(d, h); /* its state may have changed */
        return NFV_OK;
    }
    if ((code = pin_alloc_new(h->topo, &h->pools, &h->alloc, err)) != NFV_OK)
        return code;
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *vm = d->vms[i];
        struct nfv_err e = {0};
        if (vm->host == h && pin_alloc_claim(h->alloc, vm->plan, vm->name, &e) != NFV_OK)
            vm_d_event(d, VM_SEV_ERR, "alloc_conflict", vm->name, "%s", e.msg);
    }
    vm_place_host_sync(d, h);
    return NFV_OK;
}

bool vm_host_connect(struct vm_daemon *d, struct host_rt *h, bool is_startup)
{
    struct nfv_err e = {0};
    struct vm_hv_conn *conn = NULL;
    struct pin_topo *topo = NULL;
    struct vm_job job;
    char uri[sizeof(h->eff_uri)], name[VM_NAME_MAX], op_uri[VM_URI_MAX];
    bool is_topo_needed = !h->topo, is_kvm = false;
    enum nfv_code code;

    if (h->conn)
        return true; /* connected meanwhile (an add finished before start-up's pass) */
    if (vm_job_begin(d, &job, VM_OP_HOST_ADD, "connect", NULL, h, false, NULL, NULL, NULL))
        return false;
    memcpy(uri, h->eff_uri, sizeof(uri));
    snprintf(name, sizeof(name), "%s", h->name);
    snprintf(op_uri, sizeof(op_uri), "%s", h->uri);
    vm_job_leave(&job);
    code = host_open(d, h, uri, &conn, &e);
    if (code == NFV_OK)
        is_kvm = host_has_kvm(d, conn);
    if (code == NFV_OK && is_topo_needed &&
        topo_load(d, name, op_uri, VM_TOPO_LIVE, NULL, conn, &topo, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "host '%s': no topology: %s", name, e.msg);
    vm_job_reenter(&job);
    /* The host is claimed by the job: still there, not removed meanwhile. */
    if (code != NFV_OK) {
        bool was_first = h->backoff_ms == 0;
        h->backoff_ms =
            vm_backoff_next(h->backoff_ms, d->cfg.reconnect_min_ms, d->cfg.reconnect_max_ms);
        h->next_retry_ms = vm_d_mono_ms() + h->backoff_ms;
        if (is_startup || was_first)
            vm_d_event(d, VM_SEV_WARN, "host_unreachable", h->name, "%s", e.msg);
        vm_job_end(&job, VM_OPS_FAILED, NULL, false);
        vm_heal_feed(d, h, HEAL_IN_LIBVIRT_LOST);
        return false;
    }
    atomic_store(&h->is_lost, false);
    h->conn = conn;
    h->is_kvm = is_kvm;
    if (topo && !h->topo) {
        h->topo = topo;
        topo = NULL;
        if (pin_pools_parse(h->topo, h->reserved[0] ? h->reserved : NULL,
                            h->dedicated[0] ? h->dedicated : NULL, NULL, &h->pools, &e) != NFV_OK)
            NFV_LOG_WARN(MOD, "host '%s': pools: %s", h->name, e.msg);
    }
    pin_topo_unref(topo);
    if (vm_host_ready(d, h, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "host '%s': %s", h->name, e.msg);
    if (!is_startup || h->backoff_ms)
        vm_d_event(d, VM_SEV_INFO, "host_reconnected", h->name, "connected to %s", h->uri);
    h->backoff_ms = 0;
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    vm_heal_feed(d, h, HEAL_IN_LIBVIRT_OK);
    return true;
}

enum nfv_code vm_host_load_all(struct vm_daemon *d, struct nfv_err *err)
{
    struct load_ctx lc = {d, NFV_OK, err};
    enum nfv_code code;

    if ((code = vm_db_host_list(d->db, load_host_cb, &lc, err)) != NFV_OK)
        return code;
    return lc.code;
}

/* ---- host add / remove ---- */

enum nfv_code vm_daemon_host_add(struct vm_daemon *d, const json_t *body, json_t **ret,
                                 struct nfv_err *err)
{
    struct vm_host_spec spec;
    struct host_rt *h = NULL;
    struct vm_db_host row;
    struct vm_hv_node_info info;
    struct pin_topo *topo = NULL;
    struct vm_hv_conn *conn = NULL;
    struct vm_job job;
    char *payload = NULL, *topo_json_text = NULL, *labels = NULL;
    json_t *tj;
    enum nfv_code code;
    bool is_generated, has_job = false, is_kvm = false;
    struct vm_heal_bmc bmc;

    if ((code = vm_req_host_spec(body, &spec, err)) != NFV_OK ||
        (code = vm_heal_bmc_parse(d, spec.name, spec.bmc, &bmc, err)) != NFV_OK)
        return code;
    is_generated = uri_is_generated_test(spec.uri);
    h = calloc(1, sizeof(*h));
    if (!h)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    h->d = d;
    h->plc_idx = PLC_NONE;
    snprintf(h->name, sizeof(h->name), "%s", spec.name);
    snprintf(h->uri, sizeof(h->uri), "%s", spec.uri);
    if ((code = vm_uri_effective(&d->cfg.uri_aliases, spec.uri, h->eff_uri, sizeof(h->eff_uri),
                                 err)) != NFV_OK) {
        vm_d_host_free(d, h);
        return code;
    }
    h->topo_source = spec.topo_source;
    h->admin = VM_HOST_UP;
    host_set_labels(h, spec.labels);
    tj = json_pack("{s:s}", "uri", spec.uri);
    payload = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    json_decref(tj);

    /* Given topologies are checked before anything is journaled, so bad
     * input leaves no trace (hwloc parses; no lock needed). */
    if (spec.topo_source != VM_TOPO_LIVE &&
        (code = topo_load(d, spec.name, spec.uri, spec.topo_source, spec.topo, NULL, &topo, err)) !=
            NFV_OK) {
        vm_d_host_free(d, h);
        free(payload);
        return code;
    }

    vm_d_lock(d);
    if (vm_d_host_find(d, spec.name)) {
        code = NFV_ERR(err, NFV_E_EXIST, "host '%s' already exists", spec.name);
        goto fail_early;
    }
    if ((code = vm_net_host_check(d, &spec, err)) != NFV_OK) /* issue 15: its trunk */
        goto fail_early;
    h->topo = topo;
    topo = NULL;
    if (h->topo && (code = pin_pools_parse(h->topo, spec.reserved, spec.dedicated, NULL, &h->pools,
                                           err)) != NFV_OK)
        goto fail_early;
    if (is_generated) {
        if ((code = node_xml_path(d, spec.name, h->node_xml, sizeof(h->node_xml), err)))
            goto fail_early;
        snprintf(h->eff_uri, sizeof(h->eff_uri), "test://%s", h->node_xml);
    }
    /* Listed in memory, claimed by the job (a second add of the name is
     * refused; placement skips it until it has an allocation), journaled
     * before touching the outside world (the node file, libvirt). */
    if ((code = vm_d_host_append(d, h, err)) != NFV_OK)
        goto fail_early;
    if ((code = vm_job_begin(d, &job, VM_OP_HOST_ADD, "add", NULL, h, true, spec.name, payload,
                             err)) != NFV_OK) {
        vm_d_host_detach(d, h);
        goto fail_early;
    }
    has_job = true;
    vm_d_crash_point(d, VM_OP_HOST_ADD, "after_journal");
    vm_job_leave(&job);
    code = vm_heal_bmc_write(&bmc, err);
    if (code == NFV_OK && is_generated &&
        (code = write_node_xml(h->topo, h->node_xml, err)) == NFV_OK)
        vm_d_crash_point(d, VM_OP_HOST_ADD, "after_define");
    /* The connection stays local until the lock is back: other threads
     * read h->conn under the lock. */
    if (code == NFV_OK && (code = host_open(d, h, h->eff_uri, &conn, err)) == NFV_OK)
        vm_d_crash_point(d, VM_OP_HOST_ADD, "after_start");
    if (code == NFV_OK)
        code = VM_HV(d, node_info, conn, &info, err);
    if (code == NFV_OK)
        is_kvm = host_has_kvm(d, conn);
    if (code == NFV_OK && spec.topo_source == VM_TOPO_LIVE)
        code = topo_load(d, spec.name, spec.uri, VM_TOPO_LIVE, NULL, conn, &topo, err);
    vm_job_reenter(&job);
    h->conn = conn;
    h->is_kvm = is_kvm;
    if (code != NFV_OK)
        goto fail;
    if (topo) {
        h->topo = topo;
        topo = NULL;
        if ((code = pin_pools_parse(h->topo, spec.reserved, spec.dedicated, NULL, &h->pools, err)))
            goto fail;
    } else if (vm_uri_is_test(spec.uri) && info.n_cpus != h->topo->n_pus) {
        /* A test:// file of the operator's own must agree with the topology. */
        code =
            NFV_ERR(err, NFV_E_INVAL, "'synthetic': topology has %u PUs but '%s' reports %u CPUs",
                    h->topo->n_pus, h->eff_uri, info.n_cpus);
        goto fail;
    }

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

    vm_d_crash_point(d, VM_OP_HOST_ADD, "before_commit");
    /* The row and the journal completion commit together. */
    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        goto fail;
    /* ... and its healing row (state up, its BMC). */
    if ((code = vm_db_host_insert(d->db, &row, &h->id, err)) != NFV_OK ||
        (code = vm_heal_host_added(d, h, &bmc, err)) != NFV_OK ||
        (code = vm_net_host_store(d, h, &spec, err)) != NFV_OK || /* issue 15 */
        (code = vm_db_op_finish(d->db, job.op_id, VM_OPS_DONE, NULL, vm_daemon_now_ms(), err)) !=
            NFV_OK) {
        vm_db_rollback(d->db);
        goto fail;
    }
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto fail;
    }
    job.op_id = 0; /* closed in the transaction above */
    snprintf(h->reserved, sizeof(h->reserved), "%s", row.reserved);
    snprintf(h->dedicated, sizeof(h->dedicated), "%s", row.dedicated);
    if (vm_host_ready(d, h, err) != NFV_OK)
        NFV_LOG_ERR(MOD, "host '%s': %s", h->name, err->msg); /* durable: a restart retries */
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
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
    vm_d_unlock(d);
    free(payload);
    free(topo_json_text);
    free(labels);
    return NFV_OK;

fail:
    pin_topo_unref(topo);
    topo = NULL;
    if (h->conn) {
        struct vm_hv_conn *c = h->conn;
        h->conn = NULL;
        vm_job_leave(&job);
        VM_HV(d, close, c);
        vm_job_reenter(&job);
    }
    if (is_generated && h->node_xml[0])
        unlink(h->node_xml);
    if (bmc.is_set)
        unlink(bmc.cfg.password_file);
    vm_d_host_detach(d, h);
    vm_job_end(&job, VM_OPS_FAILED, err ? err->msg : "failed", false);
    has_job = false;
fail_early:
    /* EXIST for the name: the file is the other host's (not for a taken
     * switch_port, vm_net). */
    if (spec.topo_source == VM_TOPO_XML && (code != NFV_E_EXIST || !vm_d_host_find(d, spec.name))) {
        char path[PATH_MAX];
        if (hwloc_xml_path(d, spec.name, path, sizeof(path), NULL) == NFV_OK)
            unlink(path);
    }
    (void)has_job;
    vm_d_unlock(d);
    pin_topo_unref(topo);
    vm_d_host_free(d, h);
    free(payload);
    free(topo_json_text);
    free(labels);
    return code;
}

enum nfv_code vm_daemon_host_remove(struct vm_daemon *d, const char *name, json_t **ret,
                                    struct nfv_err *err)
{
    struct vm_db_host row;
    struct host_rt *h;
    struct vm_hv_conn *conn = NULL;
    struct vm_job job;
    unsigned n_vms = 0;
    enum nfv_code code;
    char *payload;
    json_t *tj;

    vm_d_lock(d);
    /* Jobs holding the host or its connection (a reconnect, a pin check or
     * reconcile waiting on a dead connection's keepalive) end first. */
    {
        int64_t until = vm_d_mono_ms() + 30000;
        while ((h = vm_d_host_find(d, name)) && (h->job || h->n_conn_refs) &&
               vm_d_mono_ms() < until)
            vm_d_wait(d, until - vm_d_mono_ms());
    }
    if ((code = vm_db_host_get(d->db, name, &row, err)) != NFV_OK)
        goto out;
    vm_db_host_clear(&row);
    if ((code = vm_db_host_count_vms(d->db, row.id, &n_vms, err)) != NFV_OK)
        goto out;
    if (n_vms || (h && vm_d_vm_count_on(d, h))) {
        code = NFV_ERR(err, NFV_E_STATE, "host '%s' still has %u VM(s); delete them first", name,
                       n_vms ? n_vms : vm_d_vm_count_on(d, h));
        goto out;
    }
    if (h && h->n_conn_refs) {
        code = NFV_ERR(err, NFV_E_STATE, "host '%s' is busy: its connection is in use", name);
        goto out;
    }
    tj = json_pack("{s:s}", "node_xml", row.node_xml);
    payload = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    json_decref(tj);
    code = vm_job_begin(d, &job, VM_OP_HOST_REMOVE, "remove", NULL, h, true, name, payload, err);
    free(payload);
    if (code != NFV_OK)
        goto out;
    if (h) {
        conn = h->conn;
        h->conn = NULL;
    }
    vm_job_leave(&job);
    if (conn)
        VM_HV(d, close, conn);
    if (row.node_xml[0])
        unlink(row.node_xml);
    if (row.topo_source == VM_TOPO_XML) {
        char path[PATH_MAX];
        if (hwloc_xml_path(d, name, path, sizeof(path), NULL) == NFV_OK)
            unlink(path);
    }
    vm_job_reenter(&job);
    if ((code = vm_db_begin(d->db, err)) != NFV_OK) {
        vm_job_end(&job, VM_OPS_FAILED, NULL, true);
        goto out;
    }
    if ((code = vm_db_host_delete(d->db, name, err)) != NFV_OK) {
        /* The journal entry stays pending: the next start-up finishes it. */
        vm_db_rollback(d->db);
        vm_job_end(&job, VM_OPS_FAILED, NULL, true);
        goto out;
    }
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto out;
    }
    if (h) {
        vm_place_host_removed(d, h);
        vm_d_host_detach(d, h);
        vm_d_host_free(d, h);
    }
    vm_heal_host_removed(d, name);
    vm_d_event(d, VM_SEV_INFO, "host_removed", name, "removed");
    *ret = json_pack("{s:s,s:b}", "name", name, "removed", 1);
out:
    vm_d_unlock(d);
    return code;
}
