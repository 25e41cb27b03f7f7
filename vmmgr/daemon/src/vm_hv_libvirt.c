/*
 * vm_hv_libvirt.c - the libvirt host driver (see vm_hv.h).
 *
 * The only file of vmmgrd that includes libvirt. One virConnectPtr per host.
 * libvirt's default event loop runs on one thread started by
 * vm_hv_libvirt_init(); it drives keepalive probes, close callbacks (a dead
 * libvirtd or ssh tunnel) and domain events, which are forwarded to the
 * daemon's vm_hv_events. A periodic no-op timer makes the loop return at
 * least every 200 ms so the thread notices shutdown.
 *
 * Topology from capabilities: <topology><cells><cell id><memory><cpus><cpu
 * id socket_id core_id/>. The XML is scanned for those attributes directly:
 * the format is fixed by libvirt's schema and pulling in an XML library for
 * four attributes would be more code than this.
 */
#include "vm/vm_hv.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "pin/pin_libvirt.h"

#define MOD "hv"

struct vm_hv_conn {
    virConnectPtr conn;
    atomic_bool is_alive;
    int lifecycle_cb_id;
    int tunable_cb_id;
    int reboot_cb_id;
    bool has_close_cb;
    struct vm_hv_events events;
    void *opaque;
};

static struct {
    pthread_t thread;
    atomic_bool is_running;
    int timer_id;
    bool is_started;
} loop;

static const char *const dom_state_names[VM_HV_DOM__COUNT] = {
    [VM_HV_DOM_SHUTOFF] = "shutoff",
    [VM_HV_DOM_RUNNING] = "running",
    [VM_HV_DOM_PAUSED] = "paused",
    [VM_HV_DOM_OTHER] = "other",
};

static const char *const dom_event_names[VM_HV_EV__COUNT] = {
    [VM_HV_EV_DEFINED] = "defined",   [VM_HV_EV_UNDEFINED] = "undefined",
    [VM_HV_EV_STARTED] = "started",   [VM_HV_EV_STOPPED] = "stopped",
    [VM_HV_EV_REBOOTED] = "rebooted", [VM_HV_EV_TUNED] = "tuned",
    [VM_HV_EV_CRASHED] = "crashed",   [VM_HV_EV_OTHER] = "other",
};

const char *vm_hv_dom_state_to_string(enum vm_hv_dom_state s)
{
    return (unsigned)s < VM_HV_DOM__COUNT ? dom_state_names[s] : "?";
}

const char *vm_hv_dom_event_to_string(enum vm_hv_dom_event e)
{
    return (unsigned)e < VM_HV_EV__COUNT ? dom_event_names[e] : "?";
}

/* libvirt prints its errors to stderr by default; we report them ourselves. */
static void quiet_error(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

/* Names for the libvirt error codes vmmgrd meets most; others are numbers. */
static const char *lv_code_name(int code)
{
    switch (code) {
    case VIR_ERR_INTERNAL_ERROR:
        return "internal error";
    case VIR_ERR_NO_SUPPORT:
        return "not supported";
    case VIR_ERR_NO_CONNECT:
        return "no driver for the URI";
    case VIR_ERR_INVALID_CONN:
        return "invalid connection";
    case VIR_ERR_SYSTEM_ERROR:
        return "system error";
    case VIR_ERR_RPC:
        return "RPC error";
    case VIR_ERR_AUTH_FAILED:
        return "authentication failed";
    case VIR_ERR_NO_DOMAIN:
        return "no such domain";
    case VIR_ERR_OPERATION_FAILED:
        return "operation failed";
    case VIR_ERR_OPERATION_INVALID:
        return "operation invalid";
    case VIR_ERR_OPERATION_TIMEOUT:
        return "operation timed out";
    case VIR_ERR_XML_ERROR:
        return "XML error";
    case VIR_ERR_XML_DETAIL:
        return "XML error";
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return "configuration unsupported";
    case VIR_ERR_INVALID_ARG:
        return "invalid argument";
    case VIR_ERR_OPERATION_DENIED:
        return "operation denied";
    default:
        return "error";
    }
}

/*
 * Turns libvirt's last error into an nfv_err: a missing domain is NOENT, a
 * broken connection UNREACHABLE, the rest HYPERVISOR.
 *
 * libvirt's message is outside text: it quotes files it failed to parse
 * (test:///etc/shadow gave root's first line), ssh's stderr, remote
 * daemons' words. It goes to the log at debug level only; the error that
 * reaches API answers, the journal and events names the operation and
 * libvirt's error code and domain (virterror.h), which is enough to look up
 * and carries no content.
 */
static enum nfv_code lv_fail(struct nfv_err *err, const char *what)
{
    virErrorPtr e = virGetLastError();
    enum nfv_code code = NFV_E_HYPERVISOR;
    int lv_code = e ? e->code : 0, lv_domain = e ? e->domain : 0;

    if (e && e->code == VIR_ERR_NO_DOMAIN)
        code = NFV_E_NOENT;
    else if (e && (e->code == VIR_ERR_SYSTEM_ERROR || e->code == VIR_ERR_NO_CONNECT ||
                   e->code == VIR_ERR_INVALID_CONN || e->code == VIR_ERR_RPC ||
                   e->code == VIR_ERR_AUTH_FAILED))
        code = NFV_E_UNREACHABLE;
    NFV_LOG_DEBUG(MOD, "%s: libvirt: %s", what, e && e->message ? e->message : "no message");
    NFV_ERR(err, code, "%s: libvirt %s (code %d, domain %d; details in vmmgrd's debug log)", what,
            lv_code_name(lv_code), lv_code, lv_domain);
    virResetLastError();
    return code;
}

static void tick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

static void *loop_main(void *arg)
{
    (void)arg;
    while (atomic_load(&loop.is_running))
        if (virEventRunDefaultImpl() < 0)
            NFV_LOG_DEBUG(MOD, "event loop iteration failed");
    return NULL;
}

enum nfv_code vm_hv_libvirt_init(struct nfv_err *err)
{
    if (loop.is_started)
        return NFV_OK;
    if (virInitialize() < 0)
        return lv_fail(err, "libvirt initialisation");
    virSetErrorFunc(NULL, quiet_error);
    if (virEventRegisterDefaultImpl() < 0)
        return lv_fail(err, "libvirt event loop");
    loop.timer_id = virEventAddTimeout(200, tick, NULL, NULL);
    atomic_store(&loop.is_running, true);
    if (pthread_create(&loop.thread, NULL, loop_main, NULL) != 0) {
        atomic_store(&loop.is_running, false);
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the libvirt event thread");
    }
    loop.is_started = true;
    return NFV_OK;
}

void vm_hv_libvirt_shutdown(void)
{
    if (!loop.is_started)
        return;
    atomic_store(&loop.is_running, false);
    pthread_join(loop.thread, NULL);
    if (loop.timer_id >= 0)
        virEventRemoveTimeout(loop.timer_id);
    loop.is_started = false;
}

static void close_cb(virConnectPtr c, int reason, void *opaque)
{
    struct vm_hv_conn *hc = opaque;
    static const char *const reasons[] = {"error", "end of file", "keepalive timeout",
                                          "client closed"};

    (void)c;
    if (!atomic_exchange(&hc->is_alive, false))
        return;
    if (hc->events.on_lost)
        hc->events.on_lost(hc->opaque, hc,
                           reason >= 0 && reason < 4 ? reasons[reason] : "connection closed");
}

/* Passes a domain event on with the domain's name and UUID: vmmgrd matches
 * events by UUID, so a stale event never hits a re-created VM of the same
 * name. */
static void report(struct vm_hv_conn *hc, virDomainPtr dom, enum vm_hv_dom_event ev)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";

    if (!hc->events.on_domain)
        return;
    if (virDomainGetUUIDString(dom, uuid) < 0)
        uuid[0] = '\0';
    hc->events.on_domain(hc->opaque, hc, virDomainGetName(dom), uuid, ev);
}

static int lifecycle_cb(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
    struct vm_hv_conn *hc = opaque;
    enum vm_hv_dom_event ev = VM_HV_EV_OTHER;

    (void)c;
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
        ev = VM_HV_EV_DEFINED;
        break;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        ev = VM_HV_EV_UNDEFINED;
        break;
    case VIR_DOMAIN_EVENT_STARTED:
        ev = VM_HV_EV_STARTED;
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        /* QEMU killed or died (FAILED), or the guest crashed (CRASHED):
         * healing restarts it in place; a destroy or shutdown is ours. */
        ev = detail == VIR_DOMAIN_EVENT_STOPPED_FAILED || detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED
                 ? VM_HV_EV_CRASHED
                 : VM_HV_EV_STOPPED;
        break;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
        ev = VM_HV_EV_OTHER;
        break;
    default:
        break;
    }
    report(hc, dom, ev);
    return 0;
}

static void reboot_cb(virConnectPtr c, virDomainPtr dom, void *opaque)
{
    struct vm_hv_conn *hc = opaque;

    (void)c;
    report(hc, dom, VM_HV_EV_REBOOTED);
}

static void tunable_cb(virConnectPtr c, virDomainPtr dom, virTypedParameterPtr params, int n_params,
                       void *opaque)
{
    struct vm_hv_conn *hc = opaque;

    (void)c;
    /* Only CPU pin changes matter for drift ("cputune.vcpupin0", ...). */
    for (int i = 0; i < n_params; i++) {
        if (strncmp(params[i].field, "cputune.vcpupin", 15) == 0 ||
            strncmp(params[i].field, "cputune.emulatorpin", 19) == 0) {
            report(hc, dom, VM_HV_EV_TUNED);
            return;
        }
    }
}

static void hv_close(struct vm_hv_conn *hc)
{
    if (!hc)
        return;
    if (hc->conn) {
        if (hc->lifecycle_cb_id >= 0)
            virConnectDomainEventDeregisterAny(hc->conn, hc->lifecycle_cb_id);
        if (hc->tunable_cb_id >= 0)
            virConnectDomainEventDeregisterAny(hc->conn, hc->tunable_cb_id);
        if (hc->reboot_cb_id >= 0)
            virConnectDomainEventDeregisterAny(hc->conn, hc->reboot_cb_id);
        if (hc->has_close_cb)
            virConnectUnregisterCloseCallback(hc->conn, close_cb);
        virConnectClose(hc->conn);
    }
    free(hc);
}

static enum nfv_code hv_open(const char *uri, const struct vm_hv_open_opts *opts,
                             struct vm_hv_conn **ret, struct nfv_err *err)
{
    struct vm_hv_conn *hc = calloc(1, sizeof(*hc));

    if (!hc)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    hc->lifecycle_cb_id = hc->tunable_cb_id = hc->reboot_cb_id = -1;
    if (opts && opts->events)
        hc->events = *opts->events;
    hc->opaque = opts ? opts->opaque : NULL;
    /* An empty URI (vm_uri_effective refused the stored one) would make
     * libvirt pick its default connection. */
    if (!*uri) {
        free(hc);
        return NFV_ERR(err, NFV_E_UNREACHABLE, "open the host connection: no allowed URI");
    }
    hc->conn = virConnectOpen(uri);
    if (!hc->conn) {
        /* Not the URI: a configured alias's options are the operator's. */
        enum nfv_code code = lv_fail(err, "open the host connection");
        free(hc);
        /* Whatever libvirt says, a host we cannot open is unreachable. */
        if (err)
            err->code = NFV_E_UNREACHABLE;
        return code == NFV_E_NOMEM ? code : NFV_E_UNREACHABLE;
    }
    atomic_store(&hc->is_alive, true);
    /* Keepalive only exists on remote (daemon) connections; local drivers
     * such as test:/// answer "unsupported", which is fine. */
    if (opts && opts->keepalive_interval_s &&
        virConnectSetKeepAlive(hc->conn, (int)opts->keepalive_interval_s, opts->keepalive_count) <
            0) {
        NFV_LOG_DEBUG(MOD, "'%s': no keepalive: %s", uri, virGetLastErrorMessage());
        virResetLastError();
    }
    if (virConnectRegisterCloseCallback(hc->conn, close_cb, hc, NULL) == 0)
        hc->has_close_cb = true;
    else
        virResetLastError();
    hc->lifecycle_cb_id =
        virConnectDomainEventRegisterAny(hc->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), hc, NULL);
    hc->tunable_cb_id =
        virConnectDomainEventRegisterAny(hc->conn, NULL, VIR_DOMAIN_EVENT_ID_TUNABLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(tunable_cb), hc, NULL);
    if (hc->lifecycle_cb_id < 0 || hc->tunable_cb_id < 0) {
        NFV_LOG_DEBUG(MOD, "'%s': domain events unavailable: %s", uri, virGetLastErrorMessage());
        virResetLastError();
    }
    /* Reboots inside the guest do not stop the domain; they have their own event. */
    hc->reboot_cb_id = virConnectDomainEventRegisterAny(
        hc->conn, NULL, VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(reboot_cb), hc, NULL);
    virResetLastError();
    *ret = hc;
    return NFV_OK;
}

static bool hv_is_alive(struct vm_hv_conn *hc)
{
    if (!atomic_load(&hc->is_alive))
        return false;
    if (virConnectIsAlive(hc->conn) == 1)
        return true;
    atomic_store(&hc->is_alive, false);
    return false;
}

static enum nfv_code hv_node_info(struct vm_hv_conn *hc, struct vm_hv_node_info *ret,
                                  struct nfv_err *err)
{
    virNodeInfo info;

    if (virNodeGetInfo(hc->conn, &info) < 0)
        return lv_fail(err, "node info");
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->model, sizeof(ret->model), "%s", info.model);
    ret->memory_kib = info.memory;
    ret->n_cpus = info.cpus;
    ret->n_nodes = info.nodes;
    ret->n_sockets = info.sockets;
    ret->n_cores = info.cores;
    ret->n_threads = info.threads;
    return NFV_OK;
}

/* Reads attribute @name="..." or '...' of the element starting at @elem
 * (up to its '>'); returns false if absent. */
static bool xml_attr_ull(const char *elem, const char *name, unsigned long long *ret)
{
    const char *end = strchr(elem, '>');
    size_t nlen = strlen(name);

    for (const char *p = elem; end && p < end; p++) {
        if (p[-1] != ' ' || strncmp(p, name, nlen) != 0 || p[nlen] != '=')
            continue;
        p += nlen + 1;
        if (*p != '\'' && *p != '"')
            return false;
        *ret = strtoull(p + 1, NULL, 10);
        return true;
    }
    return false;
}

static enum nfv_code hv_topology(struct vm_hv_conn *hc, struct pin_topo **ret, struct nfv_err *err)
{
    char *caps = virConnectGetCapabilities(hc->conn);
    struct pin_topo *t = NULL;
    const char *p, *topo_end;
    enum nfv_code code = NFV_OK;

    if (!caps)
        return lv_fail(err, "capabilities");
    p = strstr(caps, "<topology>");
    topo_end = p ? strstr(p, "</topology>") : NULL;
    if (!p || !topo_end) {
        code = NFV_ERR(err, NFV_E_UNSUPPORTED, "host capabilities have no NUMA topology");
        goto cleanup;
    }
    t = pin_topo_new();
    if (!t) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    while ((p = strstr(p, "<cell ")) && p < topo_end) {
        unsigned long long cell_id = 0, mem_kib = 0, v;
        const char *cell_end = strstr(p, "</cell>"), *m, *c;
        unsigned node;

        if (!cell_end)
            break;
        xml_attr_ull(p + 1, "id", &cell_id);
        m = strstr(p, "<memory");
        if (m && m < cell_end) {
            const char *gt = strchr(m, '>');
            if (gt)
                mem_kib = strtoull(gt + 1, NULL, 10);
        }
        if ((code = pin_topo_add_node(t, (unsigned)cell_id, mem_kib * 1024, &node, err)))
            goto cleanup;
        for (c = strstr(p, "<cpu "); c && c < cell_end; c = strstr(c + 1, "<cpu ")) {
            unsigned long long id, socket = 0, core = 0;
            if (!xml_attr_ull(c + 1, "id", &id))
                continue;
            xml_attr_ull(c + 1, "socket_id", &socket);
            if (xml_attr_ull(c + 1, "core_id", &v))
                core = v;
            if ((code = pin_topo_add_pu(t, (unsigned)id, node, (unsigned)socket, (unsigned)core, 0,
                                        err)))
                goto cleanup;
        }
        p = cell_end;
    }
    if ((code = pin_topo_set_source(t, "libvirt-capabilities", err)) ||
        (code = pin_topo_seal(t, err)))
        goto cleanup;
    *ret = t;
    t = NULL;
cleanup:
    pin_topo_unref(t);
    free(caps);
    return code;
}

static enum nfv_code dom_lookup(struct vm_hv_conn *hc, const char *name, virDomainPtr *ret,
                                struct nfv_err *err)
{
    *ret = virDomainLookupByName(hc->conn, name);
    if (!*ret) {
        enum nfv_code code = lv_fail(err, name);
        if (code == NFV_E_NOENT)
            NFV_ERR(err, NFV_E_NOENT, "domain '%s' not found on the host", name);
        return code;
    }
    return NFV_OK;
}

static enum nfv_code hv_domain_define(struct vm_hv_conn *hc, const char *xml, struct nfv_err *err)
{
    virDomainPtr d = virDomainDefineXML(hc->conn, xml);

    if (!d)
        return lv_fail(err, "define");
    virDomainFree(d);
    return NFV_OK;
}

static enum nfv_code hv_domain_undefine(struct vm_hv_conn *hc, const char *name,
                                        struct nfv_err *err)
{
    virDomainPtr d;
    enum nfv_code code;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
        code = lv_fail(err, "destroy");
    else if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                           VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                           VIR_DOMAIN_UNDEFINE_NVRAM) < 0 &&
             virDomainUndefine(d) < 0)
        code = lv_fail(err, "undefine");
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_domain_start(struct vm_hv_conn *hc, const char *name, struct nfv_err *err)
{
    virDomainPtr d;
    enum nfv_code code;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    if (virDomainIsActive(d) != 1 && virDomainCreate(d) < 0)
        code = lv_fail(err, "start");
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_domain_stop(struct vm_hv_conn *hc, const char *name, bool is_force,
                                    struct nfv_err *err)
{
    virDomainPtr d;
    enum nfv_code code;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    if (virDomainIsActive(d) == 1 && (is_force ? virDomainDestroy(d) : virDomainShutdown(d)) < 0)
        code = lv_fail(err, is_force ? "destroy" : "shutdown");
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_domain_reboot(struct vm_hv_conn *hc, const char *name, struct nfv_err *err)
{
    virDomainPtr d;
    enum nfv_code code;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    /* A diskless or hung guest ignores ACPI: reset is what operators expect
     * from "reboot" of a VNF that must come back. */
    if (virDomainReset(d, 0) < 0 && virDomainReboot(d, 0) < 0)
        code = lv_fail(err, "reboot");
    virDomainFree(d);
    return code;
}

static enum vm_hv_dom_state map_state(int st)
{
    switch (st) {
    case VIR_DOMAIN_RUNNING:
        return VM_HV_DOM_RUNNING;
    case VIR_DOMAIN_PAUSED:
        return VM_HV_DOM_PAUSED;
    case VIR_DOMAIN_SHUTOFF:
        return VM_HV_DOM_SHUTOFF;
    default:
        return VM_HV_DOM_OTHER;
    }
}

static enum nfv_code hv_domain_state(struct vm_hv_conn *hc, const char *name,
                                     enum vm_hv_dom_state *ret, struct nfv_err *err)
{
    virDomainPtr d;
    enum nfv_code code;
    int st, reason;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    if (virDomainGetState(d, &st, &reason, 0) < 0)
        code = lv_fail(err, "domain state");
    else
        *ret = map_state(st);
    virDomainFree(d);
    return code;
}

static bool hv_has_kvm(struct vm_hv_conn *hc)
{
    char *caps = virConnectGetDomainCapabilities(hc->conn, NULL, NULL, NULL, "kvm", 0);

    if (!caps) {
        virResetLastError();
        return false;
    }
    free(caps);
    return true;
}

static enum nfv_code hv_domain_uuid(struct vm_hv_conn *hc, const char *name, char *ret_uuid,
                                    struct nfv_err *err)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainPtr d;
    enum nfv_code code;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    if (virDomainGetUUIDString(d, uuid) < 0)
        code = lv_fail(err, "domain UUID");
    else
        snprintf(ret_uuid, VM_HV_UUID_STR, "%s", uuid);
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_domain_list(struct vm_hv_conn *hc, vm_hv_domain_cb cb, void *opaque,
                                    struct nfv_err *err)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(hc->conn, &doms, 0);

    if (n < 0)
        return lv_fail(err, "list domains");
    for (int i = 0, stop = 0; i < n; i++) {
        int st, reason;
        if (!stop) {
            if (virDomainGetState(doms[i], &st, &reason, 0) < 0)
                st = VIR_DOMAIN_NOSTATE;
            stop = cb(opaque, virDomainGetName(doms[i]), map_state(st));
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return NFV_OK;
}

static bool hv_domain_is_vmmgr(struct vm_hv_conn *hc, const char *name)
{
    virDomainPtr d = virDomainLookupByName(hc->conn, name);
    char *md;

    if (!d) {
        virResetLastError();
        return false;
    }
    md = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, "urn:vmmgr:vm:1",
                              VIR_DOMAIN_AFFECT_CONFIG);
    virResetLastError();
    virDomainFree(d);
    free(md);
    return md != NULL;
}

static enum nfv_code hv_vcpu_pin(struct vm_hv_conn *hc, const char *name, unsigned vcpu,
                                 const struct pin_cpuset *pus, struct nfv_err *err)
{
    unsigned char map[PIN_MAX_PUS / 8];
    virDomainPtr d;
    enum nfv_code code;
    unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    pin_libvirt_cpumap_from_set(pus, map, (int)sizeof(map)); /* map holds every PU */
    if (virDomainIsActive(d) == 1)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (virDomainPinVcpuFlags(d, vcpu, map, (int)sizeof(map), flags) < 0)
        code = lv_fail(err, "vcpupin");
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_vcpu_pins(struct vm_hv_conn *hc, const char *name, unsigned n_vcpus,
                                  struct pin_cpuset *ret_pus, struct nfv_err *err)
{
    int maplen = PIN_MAX_PUS / 8;
    unsigned char *maps;
    virDomainPtr d;
    enum nfv_code code;
    int n;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    maps = calloc(n_vcpus ? n_vcpus : 1, (size_t)maplen);
    if (!maps) {
        virDomainFree(d);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    n = virDomainGetVcpuPinInfo(d, (int)n_vcpus, maps, maplen, VIR_DOMAIN_AFFECT_CURRENT);
    if (n < 0) {
        code = lv_fail(err, "vcpupin info");
    } else {
        for (unsigned v = 0; v < n_vcpus; v++) {
            if ((int)v < n)
                pin_libvirt_cpumap_to_set(VIR_GET_CPUMAP(maps, maplen, (int)v), maplen,
                                          &ret_pus[v]);
            else
                pin_cpuset_zero(&ret_pus[v]);
        }
    }
    free(maps);
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_emulator_pin(struct vm_hv_conn *hc, const char *name,
                                     const struct pin_cpuset *pus, struct nfv_err *err)
{
    unsigned char map[PIN_MAX_PUS / 8];
    virDomainPtr d;
    enum nfv_code code;
    unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    pin_libvirt_cpumap_from_set(pus, map, (int)sizeof(map)); /* map holds every PU */
    if (virDomainIsActive(d) == 1)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (virDomainPinEmulator(d, map, (int)sizeof(map), flags) < 0)
        code = lv_fail(err, "emulatorpin");
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_emulator_pins(struct vm_hv_conn *hc, const char *name,
                                      struct pin_cpuset *ret_pus, struct nfv_err *err)
{
    unsigned char map[PIN_MAX_PUS / 8];
    virDomainPtr d;
    enum nfv_code code;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    memset(map, 0, sizeof(map));
    /* AFFECT_CURRENT: the running process's pin when live, else the config. */
    if (virDomainGetEmulatorPinInfo(d, map, (int)sizeof(map), VIR_DOMAIN_AFFECT_CURRENT) < 0) {
        code = lv_fail(err, "emulatorpin info");
    } else {
        pin_libvirt_cpumap_to_set(map, (int)sizeof(map), ret_pus);
    }
    virDomainFree(d);
    return code;
}

/* ---- issue 16: migration ---- */

static enum nfv_code hv_domain_xml(struct vm_hv_conn *hc, const char *name, bool is_migratable,
                                   char **ret, struct nfv_err *err)
{
    virDomainPtr d;
    enum nfv_code code;
    char *xml;

    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    xml = virDomainGetXMLDesc(d, is_migratable ? VIR_DOMAIN_XML_MIGRATABLE : 0);
    if (!xml)
        code = lv_fail(err, "domain XML");
    else
        *ret = xml;
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_domain_migrate(struct vm_hv_conn *src, struct vm_hv_conn *dst,
                                       const char *name, const char *dxml, unsigned flags,
                                       struct nfv_err *err)
{
    virTypedParameterPtr params = NULL;
    int n_params = 0, max_params = 0;
    unsigned long lv_flags = VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
    virDomainPtr d, nd = NULL;
    enum nfv_code code;

    if ((code = dom_lookup(src, name, &d, err)))
        return code;
    if (flags & VM_HV_MIGRATE_LIVE)
        lv_flags |= VIR_MIGRATE_LIVE;
    else
        lv_flags |= VIR_MIGRATE_OFFLINE;
    /* The destination definition carries the new pins, live and persistent. */
    if (virTypedParamsAddString(&params, &n_params, &max_params, VIR_MIGRATE_PARAM_DEST_XML, dxml) <
            0 ||
        virTypedParamsAddString(&params, &n_params, &max_params, VIR_MIGRATE_PARAM_PERSIST_XML,
                                dxml) < 0) {
        code = lv_fail(err, "migration parameters");
    } else if (!(nd = virDomainMigrate3(d, dst->conn, params, (unsigned)n_params,
                                        (unsigned)lv_flags))) {
        code = lv_fail(err, "migrate");
    }
    if (nd)
        virDomainFree(nd);
    virTypedParamsFree(params, n_params);
    virDomainFree(d);
    return code;
}

static enum nfv_code hv_domain_job_info(struct vm_hv_conn *hc, const char *name,
                                        struct vm_hv_job_info *ret, struct nfv_err *err)
{
    virDomainJobInfo ji;
    virDomainPtr d;
    enum nfv_code code;

    memset(ret, 0, sizeof(*ret));
    if ((code = dom_lookup(hc, name, &d, err)))
        return code;
    if (virDomainGetJobInfo(d, &ji) < 0) {
        code = lv_fail(err, "job info");
    } else if (ji.type != VIR_DOMAIN_JOB_NONE) {
        ret->is_active = ji.type == VIR_DOMAIN_JOB_UNBOUNDED || ji.type == VIR_DOMAIN_JOB_BOUNDED;
        ret->elapsed_ms = ji.timeElapsed;
        ret->data_total = ji.dataTotal;
        ret->data_processed = ji.dataProcessed;
        ret->data_remaining = ji.dataRemaining;
    }
    virDomainFree(d);
    return code;
}

const struct vm_hv_driver vm_hv_libvirt = {
    .name = "libvirt",
    .open = hv_open,
    .close = hv_close,
    .is_alive = hv_is_alive,
    .node_info = hv_node_info,
    .topology = hv_topology,
    .domain_define = hv_domain_define,
    .domain_undefine = hv_domain_undefine,
    .domain_start = hv_domain_start,
    .domain_stop = hv_domain_stop,
    .domain_reboot = hv_domain_reboot,
    .domain_state = hv_domain_state,
    .domain_uuid = hv_domain_uuid,
    .has_kvm = hv_has_kvm,
    .domain_list = hv_domain_list,
    .domain_is_vmmgr = hv_domain_is_vmmgr,
    .vcpu_pin = hv_vcpu_pin,
    .vcpu_pins = hv_vcpu_pins,
    .emulator_pin = hv_emulator_pin,
    .emulator_pins = hv_emulator_pins,
    .domain_xml = hv_domain_xml,
    .domain_migrate = hv_domain_migrate,
    .domain_job_info = hv_domain_job_info,
};
