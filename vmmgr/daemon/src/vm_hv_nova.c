/*
 * vm_hv_nova.c - the host driver (vm_hv.h) with OpenStack Nova as the VIM.
 *
 * A host whose URI is "nova:HOST" is Nova compute host HOST. vmmgrd places
 * and plans as for any host; this driver then
 *   define  keeps vmmgr's domain XML (name, UUID, size, <cputune>) in memory;
 *   start   boots the server through Nova on exactly HOST (2.74 "host"),
 *           with the flavor of the VM's size (vmmgr-<v>c-<m>m, made on
 *           demand), the VM's name and metadata vmmgr_uuid/vmmgr_vm; waits
 *           for ACTIVE (progress in the log), reads instance_name and host,
 *           and applies the XML's pins to the libvirt domain Nova made
 *           (virDomainPinVcpuFlags live+config, emulator pin) through the
 *           compute's libvirt URI (nova_config "libvirt.HOST");
 *   undefine deletes the server through Nova and waits until it is gone.
 * Pins, pin reads, state and reboot (a reset) go to the libvirt domain
 * named as Nova's instance_name. libvirt's events about it are passed on
 * under vmmgr's name and UUID, so Nova's hard reboot, resize or migrate
 * reach the monitor's pin check (drift re-applied and recorded); Nova's
 * undefine+define of a domain it rebuilds is not a lost VM here (a server
 * Nova deleted is seen through Nova).
 *
 * "shadow.HOST" computes run a Nova driver that makes no libvirt domain
 * (the fake driver): the driver defines a stand-in domain from vmmgr's XML,
 * renamed to Nova's instance_name, on the mapped URI and pins that.
 *
 * The server list of HOST (GET /servers/detail?host=) is read at connect
 * and whenever a name is missing, so a restarted vmmgrd finds its servers
 * (metadata vmmgr_uuid) and reconcile sees both servers Nova lost and
 * servers vmmgr does not know. A probe thread GETs Nova's version document
 * every keepalive interval; keepalive_count failures in a row report the
 * connection lost, so Nova being down makes its hosts unreachable.
 *
 * Every other URI is passed to vm_hv_libvirt untouched. Nova's 401/403 is
 * given to vmmgrd's callers as NFV_E_HYPERVISOR (it is vmmgrd's own
 * credentials that failed, not the caller's).
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm/vm_hv.h"
#include "vm/vm_nova.h"
#include "vm/vm_uri.h"
#include "vm_nova_client.h"

#define MOD       "nova"
#define LV        vm_hv_libvirt
#define MAX_VCPUS 256 /* pins read from one domain XML */

/* One server of the compute host, as far as this driver knows it. */
struct nova_vm {
    char vm[VM_NOVA_NAME];     /* vmmgr's name = the server's name */
    char uuid[VM_HV_UUID_STR]; /* vmmgr's UUID (metadata vmmgr_uuid) */
    char id[VM_NOVA_NAME];     /* Nova's server id; "" until booted */
    char instance[VM_NOVA_NAME];
    char status[24];
    char *xml;            /* vmmgr's domain XML (define), NULL after a restart */
    bool is_boot_unknown; /* POST /servers sent, answer lost */
};

/* The driver's connection. The same type name as the libvirt driver's, in
 * another file: vmmgrd only holds pointers; the inner libvirt connection is
 * kept as void * and handed back to vm_hv_libvirt. */
struct vm_hv_conn {
    void *lv;
    struct vm_hv_events events;
    void *opaque;
    bool is_nova;
    struct vm_nova_compute cmp;
    pthread_mutex_t lock; /* guards vms */
    struct nova_vm *vms;
    size_t n_vms, cap_vms;
    atomic_bool is_lost;
    unsigned ka_interval_s, ka_count;
    pthread_mutex_t probe_lock;
    pthread_cond_t probe_cond;
    bool is_closing;
    pthread_t probe;
    bool has_probe;
};

static struct {
    bool is_init;
    struct vm_nova_client *cl;
    struct vm_uri_aliases aliases;
} nova;

#define LVC(c) ((struct vm_hv_conn *)(c)->lv)

enum nfv_code vm_hv_nova_init(const struct vm_nova_config *cfg,
                              const struct vm_uri_aliases *aliases, struct nfv_err *err)
{
    enum nfv_code code = vm_nova_client_new(cfg, &nova.cl, err);

    if (code != NFV_OK)
        return code;
    if (aliases)
        nova.aliases = *aliases;
    nova.is_init = true;
    return NFV_OK;
}

void vm_hv_nova_shutdown(void)
{
    vm_nova_client_free(nova.cl);
    memset(&nova, 0, sizeof(nova));
}

/* vmmgrd's own Nova credentials failing is not the API caller's 401/403. */
static enum nfv_code outward(enum nfv_code code, struct nfv_err *err)
{
    if (code == NFV_E_PERM) {
        if (err)
            err->code = NFV_E_HYPERVISOR;
        return NFV_E_HYPERVISOR;
    }
    return code;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum vm_hv_dom_state status_state(const char *st)
{
    if (strcmp(st, "ACTIVE") == 0)
        return VM_HV_DOM_RUNNING;
    if (strcmp(st, "SHUTOFF") == 0)
        return VM_HV_DOM_SHUTOFF;
    if (strcmp(st, "PAUSED") == 0 || strcmp(st, "SUSPENDED") == 0)
        return VM_HV_DOM_PAUSED;
    return VM_HV_DOM_OTHER;
}

/* ---- the server table (conn->lock held) ---- */

static struct nova_vm *vm_find(struct vm_hv_conn *c, const char *name)
{
    for (size_t i = 0; i < c->n_vms; i++)
        if (strcmp(c->vms[i].vm, name) == 0)
            return &c->vms[i];
    return NULL;
}

static struct nova_vm *vm_find_instance(struct vm_hv_conn *c, const char *instance)
{
    for (size_t i = 0; i < c->n_vms; i++)
        if (c->vms[i].instance[0] && strcmp(c->vms[i].instance, instance) == 0)
            return &c->vms[i];
    return NULL;
}

static struct nova_vm *vm_add(struct vm_hv_conn *c, const char *name)
{
    struct nova_vm *v;

    if (c->n_vms == c->cap_vms) {
        size_t cap = c->cap_vms ? c->cap_vms * 2 : 16;
        void *p = realloc(c->vms, cap * sizeof(*c->vms));
        if (!p)
            return NULL;
        c->vms = p;
        c->cap_vms = cap;
    }
    v = &c->vms[c->n_vms++];
    memset(v, 0, sizeof(*v));
    snprintf(v->vm, sizeof(v->vm), "%s", name);
    return v;
}

static void vm_remove(struct vm_hv_conn *c, struct nova_vm *v)
{
    free(v->xml);
    *v = c->vms[--c->n_vms];
}

/* A copy of the entry for @name (lock taken and dropped). */
static bool vm_get(struct vm_hv_conn *c, const char *name, struct nova_vm *ret)
{
    struct nova_vm *v;

    pthread_mutex_lock(&c->lock);
    v = vm_find(c, name);
    if (v) {
        *ret = *v;
        ret->xml = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    return v != NULL;
}

/* Reads HOST's servers from Nova and merges them into the table: servers
 * with vmmgr's metadata are added or updated; booted entries Nova no
 * longer lists are dropped (Nova lost them). Without the lock. */
static enum nfv_code refresh(struct vm_hv_conn *c, struct nfv_err *err)
{
    struct vm_nova_server *s = NULL;
    size_t n = 0;
    enum nfv_code code = vm_nova_servers_on(nova.cl, c->cmp.host, &s, &n, err);

    if (code != NFV_OK)
        return outward(code, err);
    char(*gone)[VM_NOVA_NAME] = NULL;
    size_t n_gone = 0;

    pthread_mutex_lock(&c->lock);
    if (c->cmp.is_shadow && c->n_vms)
        gone = calloc(c->n_vms, sizeof(*gone));
    for (size_t i = 0; i < c->n_vms;) {
        bool is_listed = false;
        for (size_t j = 0; j < n && !is_listed; j++)
            is_listed = strcmp(s[j].id, c->vms[i].id) == 0;
        if (c->vms[i].id[0] && !is_listed) {
            if (gone && c->vms[i].instance[0])
                snprintf(gone[n_gone++], VM_NOVA_NAME, "%s", c->vms[i].instance);
            vm_remove(c, &c->vms[i]);
        } else {
            i++;
        }
    }
    for (size_t j = 0; j < n; j++) {
        struct nova_vm *v;
        if (!s[j].vmmgr_uuid[0] || strcmp(s[j].host, c->cmp.host) != 0)
            continue;
        v = vm_find(c, s[j].name);
        if (!v && !(v = vm_add(c, s[j].name)))
            break;
        snprintf(v->uuid, sizeof(v->uuid), "%s", s[j].vmmgr_uuid);
        snprintf(v->id, sizeof(v->id), "%s", s[j].id);
        snprintf(v->instance, sizeof(v->instance), "%s", s[j].instance_name);
        snprintf(v->status, sizeof(v->status), "%s", s[j].status);
        v->is_boot_unknown = false;
    }
    pthread_mutex_unlock(&c->lock);
    free(s);
    /* Servers Nova deleted: their stand-ins have nothing to stand in for.
     * (vmmgrd then sees the VM's domain gone: vm_lost.) */
    for (size_t i = 0; i < n_gone; i++)
        if (LV.domain_undefine(LVC(c), gone[i], NULL) == NFV_OK)
            NFV_LOG_INFO(MOD, "stand-in %s removed: Nova no longer has its server", gone[i]);
    free(gone);
    return NFV_OK;
}

/* The entry of @name, reading Nova's list once if it is not known yet.
 * NFV_E_NOENT when neither vmmgr nor Nova has it on this host. */
static enum nfv_code lookup(struct vm_hv_conn *c, const char *name, struct nova_vm *ret,
                            struct nfv_err *err)
{
    enum nfv_code code;

    if (vm_get(c, name, ret))
        return NFV_OK;
    if ((code = refresh(c, err)) != NFV_OK)
        return code;
    if (vm_get(c, name, ret))
        return NFV_OK;
    return NFV_ERR(err, NFV_E_NOENT, "Nova has no server '%s' on '%s'", name, c->cmp.host);
}

/* The libvirt domain of a booted server. */
static enum nfv_code instance_of(struct vm_hv_conn *c, const char *name, char *buf, size_t buf_size,
                                 struct nfv_err *err)
{
    struct nova_vm v;
    enum nfv_code code = lookup(c, name, &v, err);

    if (code != NFV_OK)
        return code;
    if (!v.instance[0])
        return NFV_ERR(err, NFV_E_NOENT, "server '%s' has no libvirt domain yet", name);
    snprintf(buf, buf_size, "%s", v.instance);
    return NFV_OK;
}

/* The libvirt domain that stands for VM @name on @c: the name itself on a
 * plain libvirt host, the server's instance_name on a Nova host. */
static enum nfv_code dom_of(struct vm_hv_conn *c, const char *name, char *buf, size_t buf_size,
                            struct nfv_err *err)
{
    if (!c->is_nova) {
        snprintf(buf, buf_size, "%s", name);
        return NFV_OK;
    }
    return instance_of(c, name, buf, buf_size, err);
}

/* ---- events and the probe ---- */

static void ev_lost(void *opaque, struct vm_hv_conn *inner, const char *reason)
{
    struct vm_hv_conn *c = opaque;

    (void)inner;
    atomic_store(&c->is_lost, true);
    if (c->events.on_lost)
        c->events.on_lost(c->opaque, c, reason);
}

static void ev_domain(void *opaque, struct vm_hv_conn *inner, const char *name, const char *uuid,
                      enum vm_hv_dom_event ev)
{
    struct vm_hv_conn *c = opaque;
    char vm[VM_NOVA_NAME], vuuid[VM_HV_UUID_STR];
    struct nova_vm *v;

    (void)inner;
    if (!c->events.on_domain)
        return;
    if (!c->is_nova) {
        c->events.on_domain(c->opaque, c, name, uuid, ev);
        return;
    }
    pthread_mutex_lock(&c->lock);
    v = vm_find_instance(c, name);
    if (v) {
        snprintf(vm, sizeof(vm), "%s", v->vm);
        snprintf(vuuid, sizeof(vuuid), "%s", v->uuid);
    }
    pthread_mutex_unlock(&c->lock);
    if (!v)
        return; /* not a server of this compute host */
    /* Nova undefines and defines a domain it rebuilds (hard reboot,
     * resize); whether the server is gone is Nova's to say. */
    if (ev == VM_HV_EV_UNDEFINED || ev == VM_HV_EV_DEFINED)
        ev = VM_HV_EV_OTHER;
    NFV_LOG_DEBUG(MOD, "libvirt event %s on %s (server '%s')", vm_hv_dom_event_to_string(ev), name,
                  vm);
    c->events.on_domain(c->opaque, c, vm, vuuid, ev);
}

static const struct vm_hv_events inner_events = {
    .on_lost = ev_lost,
    .on_domain = ev_domain,
};

static void *probe_main(void *arg)
{
    struct vm_hv_conn *c = arg;
    unsigned n_failed = 0;

    pthread_mutex_lock(&c->probe_lock);
    while (!c->is_closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += c->ka_interval_s;
        pthread_cond_timedwait(&c->probe_cond, &c->probe_lock, &ts);
        if (c->is_closing)
            break;
        pthread_mutex_unlock(&c->probe_lock);
        if (vm_nova_ping(nova.cl, 2000, NULL) == NFV_OK) {
            n_failed = 0;
        } else if (++n_failed >= c->ka_count && !atomic_exchange(&c->is_lost, true)) {
            NFV_LOG_WARN(MOD, "Nova does not answer: compute host '%s' is unreachable",
                         c->cmp.host);
            if (c->events.on_lost)
                c->events.on_lost(c->opaque, c, "Nova unreachable");
        }
        pthread_mutex_lock(&c->probe_lock);
    }
    pthread_mutex_unlock(&c->probe_lock);
    return NULL;
}

/* ---- open / close ---- */

static void nv_close(struct vm_hv_conn *c)
{
    if (!c)
        return;
    if (c->has_probe) {
        pthread_mutex_lock(&c->probe_lock);
        c->is_closing = true;
        pthread_cond_broadcast(&c->probe_cond);
        pthread_mutex_unlock(&c->probe_lock);
        pthread_join(c->probe, NULL);
    }
    if (c->lv)
        LV.close(LVC(c));
    for (size_t i = 0; i < c->n_vms; i++)
        free(c->vms[i].xml);
    free(c->vms);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->probe_lock);
    pthread_cond_destroy(&c->probe_cond);
    free(c);
}

/* Is HOST a compute host Nova runs, up and enabled? */
static enum nfv_code check_hypervisor(const char *host, struct nfv_err *err)
{
    struct vm_nova_hypervisor *hv = NULL;
    size_t n = 0;
    enum nfv_code code = vm_nova_hypervisors(nova.cl, &hv, &n, err);
    char known[256] = "";

    if (code != NFV_OK)
        return outward(code, err);
    code = NFV_E_NOENT;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(hv[i].host, host) == 0) {
            code = hv[i].is_up && hv[i].is_enabled ? NFV_OK : NFV_E_STATE;
            break;
        }
        if (strlen(known) + strlen(hv[i].host) + 3 < sizeof(known))
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     known[0] ? ", " : "", hv[i].host);
    }
    free(hv);
    if (code == NFV_E_NOENT)
        return NFV_ERR(err, NFV_E_NOENT, "Nova has no compute host '%s' (os-hypervisors: %s)", host,
                       known[0] ? known : "none");
    if (code == NFV_E_STATE)
        return NFV_ERR(err, NFV_E_STATE, "Nova's compute host '%s' is down or disabled", host);
    return NFV_OK;
}

static enum nfv_code nv_open(const char *uri, const struct vm_hv_open_opts *opts,
                             struct vm_hv_conn **ret, struct nfv_err *err)
{
    struct vm_hv_conn *c = calloc(1, sizeof(*c));
    struct vm_hv_open_opts inner = {0};
    const struct vm_nova_compute *cmp;
    char eff[VM_URI_ALIAS_URI];
    enum nfv_code code;
    struct vm_hv_conn *lv = NULL;

    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->probe_lock, NULL);
    pthread_cond_init(&c->probe_cond, NULL);
    if (opts) {
        inner = *opts;
        c->events = opts->events ? *opts->events : (struct vm_hv_events){0};
        c->opaque = opts->opaque;
    }
    inner.events = &inner_events;
    inner.opaque = c;
    c->is_nova = vm_nova_uri_is(uri);
    if (!c->is_nova) {
        code = LV.open(uri, &inner, &lv, err);
        goto out;
    }
    if (!nova.is_init) {
        code = NFV_ERR(err, NFV_E_UNSUPPORTED,
                       "'uri': nova: hosts need nova_config in vmmgrd's config");
        goto out;
    }
    cmp = vm_nova_config_compute(vm_nova_client_config(nova.cl), uri + strlen(VM_NOVA_URI_PREFIX));
    if (!cmp) {
        code = NFV_ERR(err, NFV_E_INVAL,
                       "'uri': compute host '%s' has no libvirt.%s or shadow.%s entry in "
                       "nova_config",
                       uri + 5, uri + 5, uri + 5);
        goto out;
    }
    c->cmp = *cmp;
    if ((code = check_hypervisor(c->cmp.host, err)) != NFV_OK)
        goto out;
    if ((code = vm_uri_effective(&nova.aliases, c->cmp.uri, eff, sizeof(eff), err)) != NFV_OK) {
        nfv_err_prefix(err, "nova_config '%s.%s'", c->cmp.is_shadow ? "shadow" : "libvirt",
                       c->cmp.host);
        goto out;
    }
    if ((code = LV.open(eff, &inner, &lv, err)) != NFV_OK) {
        nfv_err_prefix(err, "compute host '%s'", c->cmp.host);
        goto out;
    }
    c->lv = lv;
    lv = NULL;
    if ((code = refresh(c, err)) != NFV_OK)
        goto out;
    c->ka_interval_s = opts && opts->keepalive_interval_s ? opts->keepalive_interval_s : 5;
    c->ka_count = opts && opts->keepalive_count ? opts->keepalive_count : 3;
    if (pthread_create(&c->probe, NULL, probe_main, c) == 0)
        c->has_probe = true;
    NFV_LOG_INFO(MOD, "compute host '%s' connected (%s, %zu vmmgr server(s) in Nova)", c->cmp.host,
                 c->cmp.is_shadow ? "shadow domains" : "Nova's libvirt domains", c->n_vms);
out:
    if (lv)
        c->lv = lv;
    if (code != NFV_OK) {
        nv_close(c);
        return code;
    }
    *ret = c;
    return NFV_OK;
}

static bool nv_is_alive(struct vm_hv_conn *c)
{
    return !atomic_load(&c->is_lost) && LV.is_alive(LVC(c));
}

static enum nfv_code nv_node_info(struct vm_hv_conn *c, struct vm_hv_node_info *ret,
                                  struct nfv_err *err)
{
    return LV.node_info(LVC(c), ret, err);
}

static enum nfv_code nv_topology(struct vm_hv_conn *c, struct pin_topo **ret, struct nfv_err *err)
{
    return LV.topology(LVC(c), ret, err);
}

static bool nv_has_kvm(struct vm_hv_conn *c)
{
    return LV.has_kvm ? LV.has_kvm(LVC(c)) : false;
}

/* ---- the domain XML vmmgr built ---- */

struct xml_facts {
    char name[VM_NOVA_NAME];
    char uuid[VM_HV_UUID_STR];
    unsigned n_vcpus;
    uint64_t memory_mib;
    struct pin_cpuset vcpu_pins[MAX_VCPUS];
    bool has_vcpu_pin[MAX_VCPUS];
    struct pin_cpuset emulator;
    bool has_emulator;
};

static const char *prop(xmlNode *n, const char *name, char *buf, size_t buf_size)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

    snprintf(buf, buf_size, "%s", v ? (const char *)v : "");
    xmlFree(v);
    return buf;
}

static void text_of(xmlNode *n, char *buf, size_t buf_size)
{
    xmlChar *v = xmlNodeGetContent(n);

    snprintf(buf, buf_size, "%s", v ? (const char *)v : "");
    xmlFree(v);
}

static bool is_elem(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Name, UUID, size and pins of vmmgr's domain XML. */
static enum nfv_code xml_read(const char *xml, struct xml_facts *f, struct nfv_err *err)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    char buf[256];

    memset(f, 0, sizeof(*f));
    if (!root) {
        xmlFreeDoc(doc);
        return NFV_ERR(err, NFV_E_INTERNAL, "domain XML does not parse");
    }
    for (xmlNode *n = root->children; n; n = n->next) {
        if (is_elem(n, "name")) {
            text_of(n, f->name, sizeof(f->name));
        } else if (is_elem(n, "uuid")) {
            text_of(n, f->uuid, sizeof(f->uuid));
        } else if (is_elem(n, "vcpu")) {
            text_of(n, buf, sizeof(buf));
            f->n_vcpus = (unsigned)strtoul(buf, NULL, 10);
        } else if (is_elem(n, "memory")) {
            char unit[16];
            uint64_t v;
            text_of(n, buf, sizeof(buf));
            v = strtoull(buf, NULL, 10);
            prop(n, "unit", unit, sizeof(unit));
            f->memory_mib = strcmp(unit, "MiB") == 0   ? v
                            : strcmp(unit, "GiB") == 0 ? v * 1024
                                                       : v / 1024; /* KiB, libvirt's default */
        } else if (is_elem(n, "cputune")) {
            for (xmlNode *p = n->children; p; p = p->next) {
                char cs[256];
                if (is_elem(p, "vcpupin")) {
                    unsigned v = (unsigned)strtoul(prop(p, "vcpu", buf, sizeof(buf)), NULL, 10);
                    if (v < MAX_VCPUS &&
                        pin_cpuset_parse(prop(p, "cpuset", cs, sizeof(cs)), PIN_MAX_PUS, false,
                                         &f->vcpu_pins[v], NULL) == NFV_OK)
                        f->has_vcpu_pin[v] = true;
                } else if (is_elem(p, "emulatorpin")) {
                    f->has_emulator =
                        pin_cpuset_parse(prop(p, "cpuset", cs, sizeof(cs)), PIN_MAX_PUS, false,
                                         &f->emulator, NULL) == NFV_OK;
                }
            }
        }
    }
    xmlFreeDoc(doc);
    if (!f->name[0] || !f->n_vcpus || !f->memory_mib)
        return NFV_ERR(err, NFV_E_INTERNAL, "domain XML lacks name, vcpu or memory");
    return NFV_OK;
}

/* vmmgr's XML with <name> set to Nova's instance name (shadow domains). */
static char *xml_renamed(const char *xml, const char *name)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlChar *out = NULL;
    char *ret = NULL;
    int n = 0;

    for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
        if (is_elem(c, "name")) {
            /* The VM's own name goes to <title> (virsh list --title). */
            xmlChar *vm = xmlNodeGetContent(c);
            xmlNode *t = xmlNewNode(NULL, (const xmlChar *)"title");
            if (t && vm) {
                xmlNodeSetContent(t, vm);
                xmlAddNextSibling(c, t);
            } else {
                xmlFreeNode(t);
            }
            xmlFree(vm);
            xmlNodeSetContent(c, (const xmlChar *)name);
            break;
        }
    }
    if (root)
        xmlDocDumpMemory(doc, &out, &n);
    if (out)
        ret = strdup((const char *)out);
    xmlFree(out);
    xmlFreeDoc(doc);
    return ret;
}

/* Applies the XML's pins to libvirt domain @instance (live and config). */
static enum nfv_code apply_pins(struct vm_hv_conn *c, const char *instance,
                                const struct xml_facts *f, struct nfv_err *err)
{
    enum nfv_code code = NFV_OK;

    for (unsigned v = 0; code == NFV_OK && v < f->n_vcpus && v < MAX_VCPUS; v++)
        if (f->has_vcpu_pin[v])
            code = LV.vcpu_pin(LVC(c), instance, v, &f->vcpu_pins[v], err);
    if (code == NFV_OK && f->has_emulator && LV.emulator_pin)
        code = LV.emulator_pin(LVC(c), instance, &f->emulator, err);
    return code;
}

/* ---- domains ---- */

static enum nfv_code nv_domain_define(struct vm_hv_conn *c, const char *xml, struct nfv_err *err)
{
    struct xml_facts f;
    struct nova_vm *v;
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_define(LVC(c), xml, err);
    if ((code = xml_read(xml, &f, err)) != NFV_OK)
        return code;
    pthread_mutex_lock(&c->lock);
    v = vm_find(c, f.name);
    if (v && v->id[0]) {
        pthread_mutex_unlock(&c->lock);
        return NFV_ERR(err, NFV_E_EXIST, "Nova already has a server '%s' on '%s'", f.name,
                       c->cmp.host);
    }
    if (!v)
        v = vm_add(c, f.name);
    if (v) {
        free(v->xml);
        v->xml = strdup(xml);
        snprintf(v->uuid, sizeof(v->uuid), "%s", f.uuid);
    }
    pthread_mutex_unlock(&c->lock);
    if (!v || !v->xml)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    return NFV_OK;
}

/* Polls server @id until @want (or ERROR, or @timeout_s); logs each new
 * status/task. A Nova that stops answering for 15 s ends the wait. */
static enum nfv_code wait_status(const char *name, const char *id, const char *want,
                                 unsigned timeout_s, struct vm_nova_server *ret,
                                 struct nfv_err *err)
{
    int64_t t0 = mono_ms(), last_ok = t0;
    char seen[96] = "";
    enum nfv_code code;

    for (;;) {
        struct nfv_err e = {0};
        char now[96];
        code = vm_nova_server_get(nova.cl, id, ret, &e);
        if (code == NFV_OK) {
            last_ok = mono_ms();
            snprintf(now, sizeof(now), "%s/%s", ret->status,
                     ret->task_state[0] ? ret->task_state : "-");
            if (strcmp(now, seen) != 0) {
                NFV_LOG_INFO(MOD, "server '%s': %s (%.1f s)", name, now,
                             (double)(mono_ms() - t0) / 1000.0);
                snprintf(seen, sizeof(seen), "%s", now);
            }
            if (strcmp(ret->status, want) == 0 && !ret->task_state[0])
                return NFV_OK;
            if (strcmp(ret->status, "ERROR") == 0)
                return NFV_ERR(err, NFV_E_HYPERVISOR,
                               "Nova put server '%s' in ERROR (fault code %d; details in "
                               "Nova's logs)",
                               name, ret->fault_code);
        } else if (code != NFV_E_UNREACHABLE && code != NFV_E_TIMEOUT) {
            if (err)
                *err = e;
            return outward(code, err);
        } else if (mono_ms() - last_ok > 15000) {
            if (err)
                *err = e;
            nfv_err_prefix(err, "wait for server '%s' to be %s", name, want);
            return code;
        }
        if (mono_ms() - t0 > (int64_t)timeout_s * 1000)
            return NFV_ERR(err, NFV_E_TIMEOUT, "server '%s' is not %s after %u s (Nova says %s)",
                           name, want, timeout_s, seen);
        usleep(code == NFV_OK ? 300000 : 1000000);
    }
}

/* Boots the defined VM @name through Nova and pins it. */
static enum nfv_code boot(struct vm_hv_conn *c, const char *name, struct nfv_err *err)
{
    struct xml_facts f;
    struct vm_nova_boot b = {0};
    struct vm_nova_server s;
    struct nova_vm *v;
    char flavor[64], image[64], id[VM_NOVA_NAME];
    char *xml = NULL;
    bool is_sent = false;
    enum nfv_code code;
    int64_t t0 = mono_ms();

    pthread_mutex_lock(&c->lock);
    v = vm_find(c, name);
    if (v && v->xml)
        xml = strdup(v->xml);
    pthread_mutex_unlock(&c->lock);
    if (!xml)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' was not defined on '%s'", name, c->cmp.host);
    if ((code = xml_read(xml, &f, err)) != NFV_OK ||
        (code = vm_nova_flavor_ensure(nova.cl, f.n_vcpus, f.memory_mib, flavor, sizeof(flavor),
                                      err)) != NFV_OK ||
        (code = vm_nova_image_id(nova.cl, image, sizeof(image), err)) != NFV_OK)
        goto out;
    b.name = name;
    b.vmmgr_uuid = f.uuid;
    b.image_id = image;
    b.flavor_id = flavor;
    b.host = c->cmp.host;
    code = vm_nova_server_boot(nova.cl, &b, id, sizeof(id), &is_sent, err);
    pthread_mutex_lock(&c->lock);
    if ((v = vm_find(c, name))) {
        if (code == NFV_OK)
            snprintf(v->id, sizeof(v->id), "%s", id);
        else
            v->is_boot_unknown = is_sent && code != NFV_E_INVAL && code != NFV_E_PERM &&
                                 code != NFV_E_NOENT && code != NFV_E_NOCAP;
    }
    pthread_mutex_unlock(&c->lock);
    if (code != NFV_OK)
        goto out;
    NFV_LOG_INFO(MOD, "server '%s' (%s) accepted by Nova for '%s', flavor %s", name, id,
                 c->cmp.host, flavor);
    code = wait_status(name, id, "ACTIVE", vm_nova_client_config(nova.cl)->boot_timeout_s, &s, err);
    if (code == NFV_OK && strcmp(s.host, c->cmp.host) != 0)
        code = NFV_ERR(err, NFV_E_HYPERVISOR, "Nova booted server '%s' on '%s', not on '%s'", name,
                       s.host, c->cmp.host);
    if (code == NFV_OK && !s.instance_name[0])
        code = NFV_ERR(err, NFV_E_HYPERVISOR, "Nova gave server '%s' no instance_name", name);
    pthread_mutex_lock(&c->lock);
    if ((v = vm_find(c, name))) {
        snprintf(v->instance, sizeof(v->instance), "%s", s.instance_name);
        snprintf(v->status, sizeof(v->status), "%s", s.status);
    }
    pthread_mutex_unlock(&c->lock);
    if (code != NFV_OK)
        goto out;
    if (c->cmp.is_shadow) {
        char *sx = xml_renamed(xml, s.instance_name);
        code = sx ? LV.domain_define(LVC(c), sx, err) : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        if (code == NFV_OK)
            code = LV.domain_start(LVC(c), s.instance_name, err);
        free(sx);
        if (code != NFV_OK)
            nfv_err_prefix(err, "shadow domain %s", s.instance_name);
    } else {
        code = apply_pins(c, s.instance_name, &f, err);
        if (code != NFV_OK)
            nfv_err_prefix(err, "pin %s", s.instance_name);
    }
    if (code == NFV_OK)
        NFV_LOG_INFO(MOD, "server '%s' ACTIVE on '%s' as %s, pinned (%.1f s)", name, c->cmp.host,
                     s.instance_name, (double)(mono_ms() - t0) / 1000.0);
out:
    free(xml);
    return outward(code, err);
}

static enum nfv_code nv_domain_start(struct vm_hv_conn *c, const char *name, struct nfv_err *err)
{
    struct nova_vm v;
    struct vm_nova_server s;
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_start(LVC(c), name, err);
    if ((code = lookup(c, name, &v, err)) != NFV_OK)
        return code;
    if (!v.id[0])
        return boot(c, name, err);
    /* A server that exists: power it on through Nova. */
    code = vm_nova_server_action(nova.cl, v.id, "os-start", err);
    if (code == NFV_E_EXIST) /* 409: already active */
        code = NFV_OK;
    if (code == NFV_OK)
        code = wait_status(name, v.id, "ACTIVE", vm_nova_client_config(nova.cl)->boot_timeout_s, &s,
                           err);
    if (code == NFV_OK && c->cmp.is_shadow && v.instance[0])
        code = LV.domain_start(LVC(c), v.instance, err);
    return outward(code, err);
}

static enum nfv_code nv_domain_stop(struct vm_hv_conn *c, const char *name, bool is_force,
                                    struct nfv_err *err)
{
    struct nova_vm v;
    struct vm_nova_server s;
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_stop(LVC(c), name, is_force, err);
    if ((code = lookup(c, name, &v, err)) != NFV_OK)
        return code;
    if (!v.id[0])
        return NFV_ERR(err, NFV_E_STATE, "server '%s' is not booted", name);
    code = vm_nova_server_action(nova.cl, v.id, "os-stop", err);
    if (code == NFV_E_EXIST) /* 409: already stopped */
        code = NFV_OK;
    if (code == NFV_OK)
        code = wait_status(name, v.id, "SHUTOFF", vm_nova_client_config(nova.cl)->boot_timeout_s,
                           &s, err);
    if (code == NFV_OK && c->cmp.is_shadow && v.instance[0]) {
        code = LV.domain_stop(LVC(c), v.instance, true, err);
        if (code == NFV_E_STATE || code == NFV_E_HYPERVISOR)
            code = NFV_OK; /* the shadow was not running */
    }
    return outward(code, err);
}

static enum nfv_code nv_domain_reboot(struct vm_hv_conn *c, const char *name, struct nfv_err *err)
{
    char inst[VM_NOVA_NAME];
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_reboot(LVC(c), name, err);
    /* A reset of the domain, as vmmgr's reboot is elsewhere; Nova's server
     * stays ACTIVE and the pins stay. */
    if ((code = instance_of(c, name, inst, sizeof(inst), err)) != NFV_OK)
        return code;
    return LV.domain_reboot(LVC(c), inst, err);
}

static enum nfv_code nv_domain_undefine(struct vm_hv_conn *c, const char *name, struct nfv_err *err)
{
    struct nova_vm v;
    struct vm_nova_server s;
    enum nfv_code code;
    int64_t t0;
    unsigned timeout_s = vm_nova_client_config(nova.cl)->delete_timeout_s;

    if (!c->is_nova)
        return LV.domain_undefine(LVC(c), name, err);
    if (!vm_get(c, name, &v) || v.is_boot_unknown || !v.id[0]) {
        /* Unknown, or its boot answer was lost: ask Nova. */
        bool is_only_defined = vm_get(c, name, &v) && !v.id[0] && !v.is_boot_unknown;
        if (is_only_defined) {
            pthread_mutex_lock(&c->lock);
            struct nova_vm *p = vm_find(c, name);
            if (p)
                vm_remove(c, p);
            pthread_mutex_unlock(&c->lock);
            return NFV_OK; /* never reached Nova */
        }
        if ((code = refresh(c, err)) != NFV_OK)
            return code;
        if (!vm_get(c, name, &v) || !v.id[0]) {
            pthread_mutex_lock(&c->lock);
            struct nova_vm *p = vm_find(c, name);
            if (p)
                vm_remove(c, p);
            pthread_mutex_unlock(&c->lock);
            return NFV_ERR(err, NFV_E_NOENT, "Nova has no server '%s' on '%s'", name, c->cmp.host);
        }
    }
    code = vm_nova_server_delete(nova.cl, v.id, err);
    if (code == NFV_E_NOENT)
        code = NFV_OK;
    /* Wait until Nova has destroyed the domain, so the PUs are free when
     * vmmgr releases them. */
    for (t0 = mono_ms(); code == NFV_OK;) {
        code = vm_nova_server_get(nova.cl, v.id, &s, err);
        if (code == NFV_E_NOENT || (code == NFV_OK && strcmp(s.status, "DELETED") == 0)) {
            code = NFV_OK;
            break;
        }
        if (code == NFV_OK && mono_ms() - t0 > (int64_t)timeout_s * 1000)
            code = NFV_ERR(err, NFV_E_TIMEOUT, "server '%s' still exists %u s after its delete",
                           name, timeout_s);
        if (code == NFV_OK)
            usleep(300000);
    }
    if (code == NFV_OK && c->cmp.is_shadow && v.instance[0]) {
        enum nfv_code sc = LV.domain_undefine(LVC(c), v.instance, err);
        if (sc != NFV_OK && sc != NFV_E_NOENT)
            code = sc;
    }
    if (code == NFV_OK) {
        pthread_mutex_lock(&c->lock);
        struct nova_vm *p = vm_find(c, name);
        if (p)
            vm_remove(c, p);
        pthread_mutex_unlock(&c->lock);
        NFV_LOG_INFO(MOD, "server '%s' deleted from '%s'", name, c->cmp.host);
    }
    return outward(code, err);
}

static enum nfv_code nv_domain_state(struct vm_hv_conn *c, const char *name,
                                     enum vm_hv_dom_state *ret, struct nfv_err *err)
{
    struct nova_vm v;
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_state(LVC(c), name, ret, err);
    if ((code = lookup(c, name, &v, err)) != NFV_OK)
        return code;
    if (!v.id[0])
        return NFV_ERR(err, NFV_E_NOENT, "server '%s' is not booted", name);
    /* libvirt first (no HTTP); Nova's status while the domain is absent
     * (building, rebuilt by a hard reboot). */
    if (v.instance[0] && LV.domain_state(LVC(c), v.instance, ret, NULL) == NFV_OK)
        return NFV_OK;
    *ret = c->cmp.is_shadow && strcmp(v.status, "ACTIVE") == 0 ? VM_HV_DOM_SHUTOFF
                                                               : status_state(v.status);
    return NFV_OK;
}

static enum nfv_code nv_domain_uuid(struct vm_hv_conn *c, const char *name, char *ret_uuid,
                                    struct nfv_err *err)
{
    struct nova_vm v;
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_uuid(LVC(c), name, ret_uuid, err);
    if ((code = lookup(c, name, &v, err)) != NFV_OK)
        return code;
    snprintf(ret_uuid, VM_HV_UUID_STR, "%s", v.uuid);
    return NFV_OK;
}

static enum nfv_code nv_domain_list(struct vm_hv_conn *c, vm_hv_domain_cb cb, void *opaque,
                                    struct nfv_err *err)
{
    struct nova_vm *copy;
    size_t n;
    enum nfv_code code;

    if (!c->is_nova)
        return LV.domain_list(LVC(c), cb, opaque, err);
    if ((code = refresh(c, err)) != NFV_OK)
        return code;
    pthread_mutex_lock(&c->lock);
    n = c->n_vms;
    copy = calloc(n ? n : 1, sizeof(*copy));
    for (size_t i = 0; copy && i < n; i++) {
        copy[i] = c->vms[i];
        copy[i].xml = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (!copy)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (copy[i].id[0] && cb(opaque, copy[i].vm, status_state(copy[i].status)))
            break;
    free(copy);
    return NFV_OK;
}

static bool nv_domain_is_vmmgr(struct vm_hv_conn *c, const char *name)
{
    struct nova_vm v;

    if (!c->is_nova)
        return LV.domain_is_vmmgr(LVC(c), name);
    return vm_get(c, name, &v) && v.uuid[0];
}

static enum nfv_code nv_vcpu_pin(struct vm_hv_conn *c, const char *name, unsigned vcpu,
                                 const struct pin_cpuset *pus, struct nfv_err *err)
{
    char dom[VM_NOVA_NAME];
    enum nfv_code code = dom_of(c, name, dom, sizeof(dom), err);

    return code != NFV_OK ? code : LV.vcpu_pin(LVC(c), dom, vcpu, pus, err);
}

static enum nfv_code nv_vcpu_pins(struct vm_hv_conn *c, const char *name, unsigned n_vcpus,
                                  struct pin_cpuset *ret_pus, struct nfv_err *err)
{
    char dom[VM_NOVA_NAME];
    enum nfv_code code = dom_of(c, name, dom, sizeof(dom), err);

    return code != NFV_OK ? code : LV.vcpu_pins(LVC(c), dom, n_vcpus, ret_pus, err);
}

static enum nfv_code nv_emulator_pin(struct vm_hv_conn *c, const char *name,
                                     const struct pin_cpuset *pus, struct nfv_err *err)
{
    char dom[VM_NOVA_NAME];
    enum nfv_code code = dom_of(c, name, dom, sizeof(dom), err);

    return code != NFV_OK ? code : LV.emulator_pin(LVC(c), dom, pus, err);
}

static enum nfv_code nv_emulator_pins(struct vm_hv_conn *c, const char *name,
                                      struct pin_cpuset *ret_pus, struct nfv_err *err)
{
    char dom[VM_NOVA_NAME];
    enum nfv_code code = dom_of(c, name, dom, sizeof(dom), err);

    return code != NFV_OK ? code : LV.emulator_pins(LVC(c), dom, ret_pus, err);
}

const struct vm_hv_driver vm_hv_nova = {
    .name = "nova",
    .open = nv_open,
    .close = nv_close,
    .is_alive = nv_is_alive,
    .node_info = nv_node_info,
    .topology = nv_topology,
    .domain_define = nv_domain_define,
    .domain_undefine = nv_domain_undefine,
    .domain_start = nv_domain_start,
    .domain_stop = nv_domain_stop,
    .domain_reboot = nv_domain_reboot,
    .domain_state = nv_domain_state,
    .has_kvm = nv_has_kvm,
    .domain_uuid = nv_domain_uuid,
    .domain_list = nv_domain_list,
    .domain_is_vmmgr = nv_domain_is_vmmgr,
    .vcpu_pin = nv_vcpu_pin,
    .vcpu_pins = nv_vcpu_pins,
    .emulator_pin = nv_emulator_pin,
    .emulator_pins = nv_emulator_pins,
};
