/*
 * vm_net.c - networks, hosts' switch ports and the VLANs on the top-of-rack
 * switch (see vm_net.h for the model, the locks and who calls what).
 *
 * The state: the networks (a small array mirrored from the networks table,
 * guarded by the daemon lock), the switch driver and its one connection
 * (guarded by the switch lock), and a "dirty" flag set when a change failed
 * so the monitor retries a repair.
 *
 * Every switch change follows one pattern (sw_sync): take the switch lock
 * (daemon lock not held), take the daemon lock just long enough to compute
 * the expected VLANs of the hosts concerned, drop it, call the switch
 * through VM_SW(), take the daemon lock again to record the outcome
 * (journal step, events). Because the sets are computed while the switch
 * lock is held, the last change applied is always computed from the newest
 * registry, whatever order jobs finish in.
 *
 * Calls: vm_ctx, vm_job.
 */
#include "vm_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"

#define MOD "net"

/* Calls switch driver function @fn; never with the daemon lock held. */
#define VM_SW(d, fn, ...) (assert(!vm_d_lock_held(d)), (d)->net->sw->fn(__VA_ARGS__))

struct vm_net_state {
    struct vm_db_net *nets; /* by name order of insertion; guarded by the daemon lock */
    size_t n_nets, cap_nets;
    const struct vm_sw_driver *sw; /* NULL: no switch configured */
    pthread_mutex_t sw_lock;       /* one switch call at a time; before the daemon lock */
    struct vm_sw_conn *conn;       /* guarded by sw_lock; opened at the first call */
    bool is_dirty;                 /* a change failed: repair due (daemon lock) */
    int64_t next_repair_ms;        /* monotonic: when the monitor tries (daemon lock) */
    int64_t repair_delay_ms;       /* backoff between failed repairs */
};

/* One trunk port and what it should carry. */
struct net_port {
    int64_t host_id;
    char host[VM_NAME_MAX];
    char port[64];
    struct vm_sw_vlanset vlans;
};

/* ---- start and stop ---- */

static int load_net_cb(void *opaque, const struct vm_db_net *n)
{
    struct vm_net_state *ns = opaque;

    if (ns->n_nets == ns->cap_nets) {
        size_t cap = ns->cap_nets ? ns->cap_nets * 2 : 16;
        struct vm_db_net *v = realloc(ns->nets, cap * sizeof(*v));
        if (!v)
            return 1;
        ns->nets = v;
        ns->cap_nets = cap;
    }
    ns->nets[ns->n_nets++] = *n;
    return 0;
}

static int load_host_net_cb(void *opaque, int64_t host_id, const char *bridge,
                            const char *switch_port)
{
    struct host_rt *h = vm_d_host_find_id(opaque, host_id);

    if (h) {
        snprintf(h->ovs_bridge, sizeof(h->ovs_bridge), "%s", bridge);
        snprintf(h->switch_port, sizeof(h->switch_port), "%s", switch_port);
    }
    return 0;
}

enum nfv_code vm_net_init(struct vm_daemon *d, struct nfv_err *err)
{
    struct vm_net_state *ns = calloc(1, sizeof(*ns));
    enum nfv_code code;

    if (!ns)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    pthread_mutex_init(&ns->sw_lock, NULL);
    d->net = ns;
    /* Hosts from schema 3 have no host_net row: the default bridge. */
    for (size_t i = 0; i < d->n_hosts; i++)
        snprintf(d->hosts[i]->ovs_bridge, sizeof(d->hosts[i]->ovs_bridge), "%s",
                 d->cfg.host_bridge);
    if ((code = vm_db_net_list(d->db, load_net_cb, ns, err)) != NFV_OK ||
        (code = vm_db_host_net_list(d->db, load_host_net_cb, d, err)) != NFV_OK)
        return code;
    if (d->cfg.switch_target[0]) {
        ns->sw = vm_sw_driver_for(d->cfg.switch_target);
        if (!ns->sw)
            return NFV_ERR(err, NFV_E_INVAL, "'switch': '%s' is not a switch target",
                           d->cfg.switch_target);
    }
    return NFV_OK;
}

void vm_net_fini(struct vm_daemon *d)
{
    struct vm_net_state *ns = d ? d->net : NULL;

    if (!ns)
        return;
    if (ns->conn)
        ns->sw->close(ns->conn);
    pthread_mutex_destroy(&ns->sw_lock);
    free(ns->nets);
    free(ns);
    d->net = NULL;
}

#define REPAIR_MIN_MS 2000
#define REPAIR_MAX_MS 60000

bool vm_net_repair_due(const struct vm_daemon *d, int64_t now_ms)
{
    return d->net && d->net->sw && d->net->is_dirty && now_ms >= d->net->next_repair_ms;
}

/* The switch needs a repair (lock held): the first try soon, later ones
 * backing off while they fail. */
static void set_dirty(struct vm_daemon *d, bool is_retry_failed)
{
    struct vm_net_state *ns = d->net;

    if (!ns->is_dirty || !is_retry_failed)
        ns->repair_delay_ms = REPAIR_MIN_MS;
    else if ((ns->repair_delay_ms *= 2) > REPAIR_MAX_MS)
        ns->repair_delay_ms = REPAIR_MAX_MS;
    ns->is_dirty = true;
    ns->next_repair_ms = vm_d_mono_ms() + ns->repair_delay_ms;
}

/* ---- networks ---- */

static const struct vm_db_net *net_find(const struct vm_daemon *d, const char *name)
{
    for (size_t i = 0; i < d->net->n_nets; i++)
        if (strcmp(d->net->nets[i].name, name) == 0)
            return &d->net->nets[i];
    return NULL;
}

static bool vm_uses_net(const struct vm_rt *vm, const char *name)
{
    for (size_t i = 0; vm->net && i < vm->net->n; i++)
        if (strcmp(vm->net->att[i].network, name) == 0)
            return true;
    return false;
}

/* {"name","vlan","vms":N} plus, when @is_full, the VMs and hosts using it. */
static json_t *net_json(const struct vm_daemon *d, const struct vm_db_net *n, bool is_full)
{
    json_t *vms = json_array(), *hosts = json_array();
    json_t *o;
    size_t n_vms = 0;

    for (size_t i = 0; i < d->n_vms; i++) {
        const struct vm_rt *vm = d->vms[i];
        if (!vm_uses_net(vm, n->name))
            continue;
        n_vms++;
        json_array_append_new(vms, json_string(vm->name));
        bool is_listed = false;
        for (size_t k = 0; k < json_array_size(hosts) && !is_listed; k++)
            is_listed = strcmp(json_string_value(json_array_get(hosts, k)), vm->host->name) == 0;
        if (!is_listed)
            json_array_append_new(hosts, json_string(vm->host->name));
    }
    o = json_pack("{s:s,s:i,s:i,s:I}", "name", n->name, "vlan", (int)n->vlan, "vms", (int)n_vms,
                  "created_ms", (json_int_t)n->created_ms);
    if (o && is_full) {
        json_object_set(o, "vm_names", vms);
        json_object_set(o, "hosts", hosts);
    }
    json_decref(vms);
    json_decref(hosts);
    return o;
}

enum nfv_code vm_daemon_net_create(struct vm_daemon *d, const json_t *body, json_t **ret,
                                   struct nfv_err *err)
{
    static const char *const fields[] = {"name", "vlan", NULL};
    struct vm_db_net n;
    const json_t *vj;
    const char *name = NULL;
    enum nfv_code code;

    if (vm_req_check_fields(body, fields, err) || vm_req_get_str(body, "name", true, &name, err) ||
        vm_req_name_check("name", name, err))
        return NFV_E_INVAL;
    vj = json_object_get(body, "vlan");
    if (!vj)
        return NFV_ERR(err, NFV_E_INVAL, "'vlan': is required (1..4094)");
    if (!json_is_integer(vj))
        return NFV_ERR(err, NFV_E_INVAL, "'vlan': must be an integer (1..4094)");
    if ((code = vm_sw_vlan_check(json_integer_value(vj), "vlan", err)) != NFV_OK)
        return code;
    memset(&n, 0, sizeof(n));
    snprintf(n.name, sizeof(n.name), "%s", name);
    n.vlan = (unsigned)json_integer_value(vj);
    n.created_ms = vm_daemon_now_ms();
    vm_d_lock(d);
    if (net_find(d, name)) {
        code = NFV_ERR(err, NFV_E_EXIST, "network '%s' already exists", name);
        goto out;
    }
    for (size_t i = 0; i < d->net->n_nets; i++)
        if (d->net->nets[i].vlan == n.vlan) {
            code = NFV_ERR(err, NFV_E_EXIST, "'vlan': %u is already network '%s'", n.vlan,
                           d->net->nets[i].name);
            goto out;
        }
    if ((code = vm_db_net_insert(d->db, &n, err)) != NFV_OK)
        goto out;
    if (load_net_cb(d->net, &n)) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    vm_d_event(d, VM_SEV_INFO, "net_created", name, "VLAN %u", n.vlan);
    *ret = net_json(d, &n, true);
    if (!*ret)
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
out:
    vm_d_unlock(d);
    return code;
}

enum nfv_code vm_daemon_net_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    json_t *arr = json_array();

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    vm_d_lock(d);
    for (size_t i = 0; i < d->net->n_nets; i++)
        json_array_append_new(arr, net_json(d, &d->net->nets[i], false));
    vm_d_unlock(d);
    *ret = json_pack("{s:o}", "networks", arr);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

enum nfv_code vm_daemon_net_show(struct vm_daemon *d, const char *name, json_t **ret,
                                 struct nfv_err *err)
{
    const struct vm_db_net *n;
    enum nfv_code code = NFV_OK;

    vm_d_lock(d);
    if (!(n = net_find(d, name)))
        code = NFV_ERR(err, NFV_E_NOENT, "network '%s' not found", name);
    else if (!(*ret = net_json(d, n, true)))
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    vm_d_unlock(d);
    return code;
}

enum nfv_code vm_daemon_net_delete(struct vm_daemon *d, const char *name, json_t **ret,
                                   struct nfv_err *err)
{
    const struct vm_db_net *n;
    char users[256] = "";
    size_t used = 0, n_users = 0;
    enum nfv_code code;

    vm_d_lock(d);
    if (!(n = net_find(d, name))) {
        code = NFV_ERR(err, NFV_E_NOENT, "network '%s' not found", name);
        goto out;
    }
    for (size_t i = 0; i < d->n_vms; i++) {
        if (!vm_uses_net(d->vms[i], name))
            continue;
        if (n_users++ < 8 && used < sizeof(users)) {
            int k = snprintf(users + used, sizeof(users) - used, "%s'%s'", used ? ", " : "",
                             d->vms[i]->name);
            used += k > 0 ? (size_t)k : 0;
        }
    }
    if (n_users) {
        code =
            NFV_ERR(err, NFV_E_STATE, "network '%s' is used by %zu VM(s): %s%s; delete them first",
                    name, n_users, users, n_users > 8 ? ", ..." : "");
        goto out;
    }
    if ((code = vm_db_net_delete(d->db, name, err)) != NFV_OK)
        goto out;
    {
        size_t i = (size_t)(n - d->net->nets);
        unsigned vlan = n->vlan;
        memmove(&d->net->nets[i], &d->net->nets[i + 1],
                (d->net->n_nets - i - 1) * sizeof(d->net->nets[0]));
        d->net->n_nets--;
        vm_d_event(d, VM_SEV_INFO, "net_deleted", name, "VLAN %u", vlan);
    }
    *ret = json_pack("{s:s,s:b}", "name", name, "deleted", 1);
out:
    vm_d_unlock(d);
    return code;
}

/* ---- hosts ---- */

enum nfv_code vm_net_host_check(struct vm_daemon *d, const struct vm_host_spec *spec,
                                struct nfv_err *err)
{
    if (!spec->switch_port)
        return NFV_OK;
    if (strcmp(spec->switch_port, d->cfg.switch_bridge) == 0)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'switch_port': '%s' is the switch bridge's own internal port",
                       spec->switch_port);
    for (size_t i = 0; i < d->n_hosts; i++)
        if (strcmp(d->hosts[i]->switch_port, spec->switch_port) == 0)
            return NFV_ERR(err, NFV_E_EXIST, "'switch_port': '%s' is already host '%s''s trunk",
                           spec->switch_port, d->hosts[i]->name);
    return NFV_OK;
}

enum nfv_code vm_net_host_store(struct vm_daemon *d, struct host_rt *h,
                                const struct vm_host_spec *spec, struct nfv_err *err)
{
    const char *bridge = spec->bridge ? spec->bridge : d->cfg.host_bridge;
    enum nfv_code code;

    /* Again, under the lock that stores it: two adds may have passed
     * vm_net_host_check() while their connections opened. */
    for (size_t i = 0; spec->switch_port && i < d->n_hosts; i++)
        if (d->hosts[i] != h && strcmp(d->hosts[i]->switch_port, spec->switch_port) == 0)
            return NFV_ERR(err, NFV_E_EXIST, "'switch_port': '%s' is already host '%s''s trunk",
                           spec->switch_port, d->hosts[i]->name);
    code =
        vm_db_host_net_set(d->db, h->id, bridge, spec->switch_port ? spec->switch_port : "", err);

    if (code == NFV_OK) {
        snprintf(h->ovs_bridge, sizeof(h->ovs_bridge), "%s", bridge);
        snprintf(h->switch_port, sizeof(h->switch_port), "%s",
                 spec->switch_port ? spec->switch_port : "");
    }
    return code;
}

void vm_net_host_json(const struct host_rt *h, json_t *o)
{
    if (!h || !o)
        return;
    json_object_set_new(o, "bridge", json_string(h->ovs_bridge));
    json_object_set_new(o, "switch_port",
                        h->switch_port[0] ? json_string(h->switch_port) : json_null());
}

/* ---- VMs ---- */

enum nfv_code vm_net_spec_resolve(struct vm_daemon *d, struct vm_spec *s, struct nfv_err *err)
{
    for (size_t i = 0; i < s->n_nics; i++) {
        const struct vm_db_net *n;
        if (s->nics[i].kind != VM_NIC_NET)
            continue;
        if (!(n = net_find(d, s->nics[i].arg)))
            return NFV_ERR(err, NFV_E_INVAL, "'nics[%zu].network': unknown network '%s'", i,
                           s->nics[i].arg);
        s->nics[i].vlan = n->vlan;
    }
    return NFV_OK;
}

enum nfv_code vm_net_vm_attach(struct vm_rt *vm, const struct vm_spec *s)
{
    size_t n = 0;
    struct vm_net_vm *nv;

    for (size_t i = 0; i < s->n_nics; i++)
        n += s->nics[i].kind == VM_NIC_NET && s->nics[i].vlan;
    free(vm->net);
    vm->net = NULL;
    if (!n)
        return NFV_OK;
    nv = calloc(1, sizeof(*nv) + n * sizeof(nv->att[0]));
    if (!nv)
        return NFV_E_NOMEM;
    for (size_t i = 0; i < s->n_nics; i++) {
        if (s->nics[i].kind != VM_NIC_NET || !s->nics[i].vlan)
            continue;
        snprintf(nv->att[nv->n].network, sizeof(nv->att[0].network), "%s", s->nics[i].arg);
        nv->att[nv->n++].vlan = s->nics[i].vlan;
    }
    vm->net = nv;
    return NFV_OK;
}

json_t *vm_net_vm_json(const struct vm_rt *vm)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && vm->net && i < vm->net->n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:i}", "network", vm->net->att[i].network,
                                             "vlan", (int)vm->net->att[i].vlan));
    return arr;
}

void vm_net_status_json(const struct vm_daemon *d, json_t *o)
{
    if (!d->net || !o)
        return;
    json_object_set_new(o, "switch",
                        json_pack("{s:b,s:s?,s:b}", "configured", d->net->sw != NULL, "bridge",
                                  d->net->sw ? d->cfg.switch_bridge : NULL, "repair_pending",
                                  d->net->is_dirty));
}

static size_t add_id(int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return n;
    ids[n] = id;
    return n + 1;
}

size_t vm_net_hosts_of(struct vm_rt *const *vms, size_t n, int64_t *ret_ids)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (vms[i] && vms[i]->net && vms[i]->host)
            k = add_id(ret_ids, k, vms[i]->host->id);
    return k;
}

/* ---- expected VLANs (pure over the registries; lock held) ---- */

/* Host id @vm's VLANs count on (0: nowhere). */
static int64_t vm_eff_host(const struct vm_rt *vm)
{
    if (vm->net->moved_to_id < 0)
        return 0;
    if (vm->net->moved_to_id && vm->host->id == vm->net->moved_from_id)
        return vm->net->moved_to_id;
    return vm->host->id;
}

/* The host a live migration also counts @vm's VLANs on (0: none). */
static int64_t vm_also_host(const struct vm_rt *vm)
{
    return vm->net->also_on_id && vm->host->id == vm->net->moved_from_id ? vm->net->also_on_id : 0;
}

static int port_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct net_port *)a)->host_id, y = ((const struct net_port *)b)->host_id;
    return (x > y) - (x < y);
}

/* Adds @vm's VLANs to the port of host @id in @p (sorted by host id). */
static void expect_add(struct net_port *p, size_t n, int64_t id, const struct vm_rt *vm)
{
    struct net_port key = {.host_id = id}, *hit;

    if (id <= 0 || !(hit = bsearch(&key, p, n, sizeof(*p), port_cmp)))
        return;
    for (size_t k = 0; k < vm->net->n; k++)
        vm_sw_vlanset_add(&hit->vlans, vm->net->att[k].vlan);
}

/* The trunk ports of hosts @ids (all hosts with one when @ids is NULL)
 * with their expected VLANs, into a new array *ret (free()), sorted by
 * host id. One pass over the VMs: reconcile of 1,000 hosts and 10,000 VMs
 * costs 10,000 lookups, not ten million checks. */
static enum nfv_code expect_ports(const struct vm_daemon *d, const int64_t *ids, size_t n_ids,
                                  struct net_port **ret, size_t *ret_n)
{
    struct net_port *p = calloc(d->n_hosts ? d->n_hosts : 1, sizeof(*p));
    size_t n = 0;

    if (!p)
        return NFV_E_NOMEM;
    for (size_t i = 0; i < d->n_hosts; i++) {
        const struct host_rt *h = d->hosts[i];
        bool is_wanted = !ids;
        for (size_t k = 0; ids && k < n_ids && !is_wanted; k++)
            is_wanted = ids[k] == h->id;
        if (!is_wanted || !h->switch_port[0] || h->id <= 0)
            continue;
        p[n].host_id = h->id;
        snprintf(p[n].host, sizeof(p[n].host), "%s", h->name);
        snprintf(p[n].port, sizeof(p[n].port), "%s", h->switch_port);
        vm_sw_vlanset_clear(&p[n].vlans);
        n++;
    }
    qsort(p, n, sizeof(*p), port_cmp);
    for (size_t i = 0; n && i < d->n_vms; i++) {
        const struct vm_rt *vm = d->vms[i];
        int64_t eff, also;
        if (!vm->net)
            continue;
        eff = vm_eff_host(vm);
        also = vm_also_host(vm);
        expect_add(p, n, eff, vm);
        if (also != eff)
            expect_add(p, n, also, vm);
    }
    *ret = p;
    *ret_n = n;
    return NFV_OK;
}

/* ---- the switch (switch lock held, daemon lock not held) ---- */

static enum nfv_code sw_conn(struct vm_daemon *d, struct nfv_err *err)
{
    struct vm_net_state *ns = d->net;
    struct vm_sw_open_opts opts = {
        .timeout_ms = d->cfg.switch_timeout_ms,
        .is_confirm = d->cfg.is_switch_confirm,
        .iface_type = d->cfg.switch_iface_type[0] ? d->cfg.switch_iface_type : NULL,
    };

    enum nfv_code code;

    if (ns->conn)
        return NFV_OK;
    code = VM_SW(d, open, d->cfg.switch_target, &opts, &ns->conn, err);
    /* A lab's switch (switch_bridge_datapath set): made if missing. */
    if (code == NFV_OK && d->cfg.switch_bridge_datapath[0])
        code = VM_SW(d, bridge_ensure, ns->conn, d->cfg.switch_bridge,
                     d->cfg.switch_bridge_datapath, err);
    if (code != NFV_OK && ns->conn) {
        ns->sw->close(ns->conn);
        ns->conn = NULL;
    }
    return code;
}

/* Applies @p: one trunks_ensure of the ports with VLANs, then the ports
 * with none are removed (the VLAN reaches its new trunk before it leaves
 * the old one). */
static enum nfv_code sw_apply(struct vm_daemon *d, const struct net_port *p, size_t n,
                              unsigned *ret_changed, struct nfv_err *err)
{
    struct vm_sw_expect *exp = calloc(n ? n : 1, sizeof(*exp));
    size_t n_exp = 0;
    unsigned n_changed = 0;
    enum nfv_code code;

    if (!exp)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if ((code = sw_conn(d, err)) != NFV_OK)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (vm_sw_vlanset_count(&p[i].vlans)) {
            exp[n_exp].port = p[i].port;
            exp[n_exp++].vlans = p[i].vlans;
        }
    if (n_exp && (code = VM_SW(d, trunks_ensure, d->net->conn, d->cfg.switch_bridge, exp, n_exp,
                               &n_changed, err)) != NFV_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct vm_sw_port_info info;
        struct nfv_err e = {0};
        if (vm_sw_vlanset_count(&p[i].vlans))
            continue;
        /* Removed only if present: a round trip, but no write (and no
         * vswitchd reconfiguration) when it is already gone. */
        code = VM_SW(d, port_get, d->net->conn, d->cfg.switch_bridge, p[i].port, &info, &e);
        if (code == NFV_E_NOENT) {
            code = NFV_OK;
            continue;
        }
        if (code != NFV_OK) {
            if (err)
                *err = e;
            goto out;
        }
        if (code == NFV_OK)
            code = VM_SW(d, port_delete, d->net->conn, d->cfg.switch_bridge, p[i].port, true, err);
        if (code != NFV_OK)
            goto out;
        n_changed++;
    }
out:
    free(exp);
    if (ret_changed)
        *ret_changed = n_changed;
    return code;
}

static void sw_lock(struct vm_daemon *d)
{
    assert(!vm_d_lock_held(d));
    pthread_mutex_lock(&d->net->sw_lock);
}

static void sw_unlock(struct vm_daemon *d)
{
    pthread_mutex_unlock(&d->net->sw_lock);
}

/* The daemon lock, through @job when there is one (it has left it). */
static void d_enter(struct vm_daemon *d, struct vm_job *job)
{
    if (job)
        vm_job_reenter(job);
    else
        vm_d_lock(d);
}

static void d_leave(struct vm_daemon *d, struct vm_job *job)
{
    if (job)
        vm_job_leave(job);
    else
        vm_d_unlock(d);
}

/* Records a failed switch change (lock held). */
static void sw_failed(struct vm_daemon *d, const struct net_port *p, size_t n,
                      const struct nfv_err *e)
{
    char hosts[256] = "";
    size_t used = 0;

    for (size_t i = 0; i < n && used < sizeof(hosts); i++) {
        int k = snprintf(hosts + used, sizeof(hosts) - used, "%s%s", used ? ", " : "", p[i].host);
        used += k > 0 ? (size_t)k : 0;
    }
    set_dirty(d, false);
    vm_d_event(d, VM_SEV_ERR, "switch_error", d->cfg.switch_bridge,
               "trunks of %s not changed: %s; vmmgrd repairs them once the switch answers", hosts,
               e->msg);
}

/*
 * The pattern of every change (see the file comment). @prepare, if set,
 * runs under the daemon lock before the sets are computed (it sets a VM's
 * move or exclusion) and @undo, if set, under it after a failure.
 */
typedef void (*net_hook)(struct vm_rt *vm, int64_t a, int64_t b);

static enum nfv_code sw_sync(struct vm_daemon *d, struct vm_job *job, const int64_t *ids,
                             size_t n_ids, const char *step, struct vm_rt *vm, net_hook prepare,
                             net_hook undo, int64_t a, int64_t b, struct nfv_err *err)
{
    struct net_port *p = NULL;
    size_t n = 0;
    struct nfv_err e = {0};
    enum nfv_code code;

    if (!d->net->sw)
        return NFV_OK;
    sw_lock(d);
    d_enter(d, job);
    if (prepare)
        prepare(vm, a, b);
    code = expect_ports(d, ids, n_ids, &p, &n);
    d_leave(d, job);
    if (code != NFV_OK) {
        sw_unlock(d);
        return NFV_ERR(err, code, "out of memory");
    }
    if (n)
        code = sw_apply(d, p, n, NULL, &e);
    d_enter(d, job);
    if (code == NFV_OK && n && step && job)
        vm_job_step(job, step);
    if (code != NFV_OK) {
        if (undo)
            undo(vm, a, b);
        sw_failed(d, p, n, &e);
    }
    d_leave(d, job);
    sw_unlock(d);
    free(p);
    if (code != NFV_OK) {
        NFV_ERR(err, code, "%s", e.msg);
        nfv_err_prefix(err, "switch");
    }
    return code;
}

enum nfv_code vm_net_sync_hosts(struct vm_daemon *d, struct vm_job *job, const int64_t *host_ids,
                                size_t n, const char *step, struct nfv_err *err)
{
    if (!n)
        return NFV_OK;
    return sw_sync(d, job, host_ids, n, step, NULL, NULL, NULL, 0, 0, err);
}

static void set_leaving(struct vm_rt *vm, int64_t a, int64_t b)
{
    (void)a;
    (void)b;
    if (vm->net)
        vm->net->moved_to_id = -1;
}

static void unset_leaving(struct vm_rt *vm, int64_t a, int64_t b)
{
    /* The delete goes on: the VM's VLANs still count nowhere. */
    (void)vm;
    (void)a;
    (void)b;
}

enum nfv_code vm_net_vm_leaving(struct vm_daemon *d, struct vm_job *job, struct vm_rt *vm,
                                const char *step, struct nfv_err *err)
{
    int64_t id;
    bool has_net;

    d_enter(d, job);
    has_net = vm->net != NULL;
    id = vm->host->id;
    d_leave(d, job);
    if (!has_net)
        return NFV_OK;
    return sw_sync(d, job, &id, 1, step, vm, set_leaving, unset_leaving, 0, 0, err);
}

static void set_move(struct vm_rt *vm, int64_t to_id, int64_t is_keep_from)
{
    if (!vm->net)
        return;
    vm->net->moved_from_id = vm->host->id;
    if (is_keep_from) {
        vm->net->moved_to_id = 0;
        vm->net->also_on_id = to_id;
    } else {
        vm->net->moved_to_id = to_id;
        vm->net->also_on_id = 0;
    }
}

enum nfv_code vm_net_move(struct vm_daemon *d, struct vm_job *job, struct vm_rt *vm,
                          int64_t from_id, int64_t to_id, bool is_keep_from, const char *step,
                          struct nfv_err *err)
{
    int64_t ids[2] = {from_id, to_id};
    /* (vm->host, not @from_id, anchors the move: see struct vm_net_vm) */
    struct vm_net_vm saved = {0};
    enum nfv_code code;
    bool has_net;

    d_enter(d, job);
    has_net = vm->net != NULL;
    if (has_net)
        saved = *vm->net;
    if (has_net && !d->net->sw)
        set_move(vm, to_id, is_keep_from); /* no switch: only the bookkeeping */
    d_leave(d, job);
    if (!has_net || !d->net->sw)
        return NFV_OK;
    code = sw_sync(d, job, ids, 2, step, vm, set_move, NULL, to_id, is_keep_from, err);
    if (code != NFV_OK) {
        /* Nothing counts differently (the switch transaction is all or
         * nothing; after UNREACHABLE the repair loop settles it). */
        d_enter(d, job);
        vm->net->moved_to_id = saved.moved_to_id;
        vm->net->moved_from_id = saved.moved_from_id;
        vm->net->also_on_id = saved.also_on_id;
        d_leave(d, job);
    }
    return code;
}

/* ---- check, show, repair ---- */

/* Expected against actual for every trunk port (and the ports vmmgr does
 * not manage), switch lock held. Hosts whose trunk should carry nothing
 * are compared as "absent": a present port is drift. */
struct sw_view {
    struct net_port *p;
    size_t n;
    struct vm_sw_port_state *st;
    size_t n_st;
};

static void sw_view_free(struct sw_view *v)
{
    free(v->p);
    free(v->st);
    memset(v, 0, sizeof(*v));
}

static const struct net_port *view_port(const struct sw_view *v, const char *port)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->p[i].port, port) == 0)
            return &v->p[i];
    return NULL;
}

/* Is @st drift, with empty trunks (port absent wanted) handled. */
static bool view_is_drift(const struct sw_view *v, const struct vm_sw_port_state *st)
{
    const struct net_port *p = view_port(v, st->port);

    if (!p)
        return false; /* not vmmgr's */
    if (!vm_sw_vlanset_count(&p->vlans))
        return st->is_present;
    return st->is_drift;
}

static enum nfv_code sw_view_read(struct vm_daemon *d, struct sw_view *v, struct nfv_err *err)
{
    struct vm_sw_expect *exp = calloc(v->n ? v->n : 1, sizeof(*exp));
    size_t n_exp = 0;
    enum nfv_code code;

    if (!exp)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < v->n; i++)
        if (vm_sw_vlanset_count(&v->p[i].vlans)) {
            exp[n_exp].port = v->p[i].port;
            exp[n_exp++].vlans = v->p[i].vlans;
        }
    code = sw_conn(d, err);
    if (code == NFV_OK)
        code =
            (assert(!vm_d_lock_held(d)), vm_sw_check(d->net->sw, d->net->conn, d->cfg.switch_bridge,
                                                     exp, n_exp, &v->st, &v->n_st, err));
    free(exp);
    return code;
}

static json_t *vlans_json(const struct vm_sw_vlanset *s)
{
    char buf[512];

    vm_sw_vlanset_format(s, buf, sizeof(buf));
    return json_string(buf);
}

/* The table of GET /v1/switch: vmmgr's ports first (one per host with a
 * trunk, absent ones included), then the others on the bridge. */
static json_t *view_json(const struct sw_view *v)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < v->n; i++) {
        const struct vm_sw_port_state *st = NULL;
        struct vm_sw_vlanset empty, missing, extra;
        for (size_t k = 0; k < v->n_st && !st; k++)
            if (strcmp(v->st[k].port, v->p[i].port) == 0)
                st = &v->st[k];
        vm_sw_vlanset_clear(&empty);
        missing = st ? st->missing : v->p[i].vlans;
        extra = st && vm_sw_vlanset_count(&v->p[i].vlans) ? st->extra : empty;
        if (st && !vm_sw_vlanset_count(&v->p[i].vlans))
            extra = st->actual;
        json_array_append_new(
            arr,
            json_pack("{s:s,s:s,s:b,s:b,s:o,s:o,s:o,s:o,s:b}", "port", v->p[i].port, "host",
                      v->p[i].host, "managed", 1, "present", st && st->is_present, "expected",
                      vlans_json(&v->p[i].vlans), "actual", vlans_json(st ? &st->actual : &empty),
                      "missing", vlans_json(&missing), "extra", vlans_json(&extra), "drift",
                      st ? view_is_drift(v, st) : vm_sw_vlanset_count(&v->p[i].vlans) > 0));
    }
    for (size_t k = 0; k < v->n_st; k++) {
        const struct vm_sw_port_state *st = &v->st[k];
        struct vm_sw_vlanset empty;
        if (view_port(v, st->port))
            continue;
        vm_sw_vlanset_clear(&empty);
        json_t *o = json_pack("{s:s,s:n,s:b,s:b,s:o,s:o,s:o,s:o,s:b}", "port", st->port, "host",
                              "managed", 0, "present", 1, "expected", vlans_json(&empty), "actual",
                              vlans_json(&st->actual), "missing", vlans_json(&empty), "extra",
                              vlans_json(&empty), "drift", 0);
        if (o && st->tag >= 0)
            json_object_set_new(o, "tag", json_integer(st->tag));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Snapshot of the expected sets (lock taken and dropped here). */
static enum nfv_code view_expect(struct vm_daemon *d, struct vm_job *job, struct sw_view *v,
                                 struct nfv_err *err)
{
    enum nfv_code code;

    d_enter(d, job);
    code = expect_ports(d, NULL, 0, &v->p, &v->n);
    d_leave(d, job);
    return code == NFV_OK ? NFV_OK : NFV_ERR(err, code, "out of memory");
}

enum nfv_code vm_daemon_switch_show(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    struct sw_view v = {0};
    enum nfv_code code;

    if (!d->net->sw) {
        *ret = json_pack("{s:b,s:[]}", "configured", 0, "ports");
        return NFV_OK;
    }
    sw_lock(d);
    code = view_expect(d, NULL, &v, err);
    if (code == NFV_OK)
        code = sw_view_read(d, &v, err);
    sw_unlock(d);
    if (code != NFV_OK) {
        nfv_err_prefix(err, "switch");
        sw_view_free(&v);
        return code;
    }
    *ret = json_pack("{s:b,s:s,s:o}", "configured", 1, "bridge", d->cfg.switch_bridge, "ports",
                     view_json(&v));
    sw_view_free(&v);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

/* What differs on trunk @p (@st: as the switch has it, NULL if absent). */
static void drift_desc(const struct net_port *p, const struct vm_sw_port_state *st, char *buf,
                       size_t size)
{
    char miss[256], extra[256];

    if (!st) {
        vm_sw_vlanset_format(&p->vlans, miss, sizeof(miss));
        snprintf(buf, size, "port missing, VLANs %s", miss);
        return;
    }
    if (!vm_sw_vlanset_count(&p->vlans)) {
        vm_sw_vlanset_format(&st->actual, extra, sizeof(extra));
        snprintf(buf, size, "present though no VM there has a VLAN (trunks '%s'%s)", extra,
                 extra[0] ? "" : ": an OVS trunk with no list carries every VLAN");
        return;
    }
    vm_sw_vlanset_format(&st->missing, miss, sizeof(miss));
    vm_sw_vlanset_format(&st->extra, extra, sizeof(extra));
    snprintf(buf, size, "missing VLANs '%s', extra VLANs '%s'%s", miss, extra,
             st->tag >= 0 ? ", an access tag" : "");
}

/* Check and repair with the lock in the state @job (or none) says; events
 * for each drifted port. *ret_n_drift counts them. Switch lock taken here. */
static enum nfv_code check_repair(struct vm_daemon *d, struct vm_job *job, const char *why,
                                  unsigned *ret_n_drift, json_t **ret_ports, struct nfv_err *err)
{
    struct sw_view v = {0};
    unsigned n_drift = 0, n_changed = 0;
    enum nfv_code code;

    sw_lock(d);
    code = view_expect(d, job, &v, err);
    if (code == NFV_OK)
        code = sw_view_read(d, &v, err);
    for (size_t k = 0; code == NFV_OK && k < v.n_st; k++)
        n_drift += view_is_drift(&v, &v.st[k]);
    for (size_t i = 0; code == NFV_OK && i < v.n; i++) {
        bool is_present = false;
        for (size_t k = 0; k < v.n_st; k++)
            is_present |= strcmp(v.st[k].port, v.p[i].port) == 0;
        n_drift += !is_present && vm_sw_vlanset_count(&v.p[i].vlans) > 0;
    }
    if (code == NFV_OK && n_drift)
        code = sw_apply(d, v.p, v.n, &n_changed, err);
    d_enter(d, job);
    if (code == NFV_OK) {
        d->net->is_dirty = false;
        for (size_t i = 0; i < v.n; i++) {
            const struct vm_sw_port_state *st = NULL;
            char desc[600];
            for (size_t k = 0; k < v.n_st && !st; k++)
                if (strcmp(v.st[k].port, v.p[i].port) == 0)
                    st = &v.st[k];
            if (st ? !view_is_drift(&v, st) : !vm_sw_vlanset_count(&v.p[i].vlans))
                continue;
            drift_desc(&v.p[i], st, desc, sizeof(desc));
            vm_d_event(d, VM_SEV_WARN, "switch_drift", v.p[i].port,
                       "trunk of host '%s' (%s): %s; repaired", v.p[i].host, why, desc);
        }
    } else {
        set_dirty(d, true);
    }
    if (ret_ports && code == NFV_OK)
        *ret_ports = view_json(&v);
    d_leave(d, job);
    sw_unlock(d);
    sw_view_free(&v);
    if (ret_n_drift)
        *ret_n_drift = n_drift;
    if (code != NFV_OK)
        nfv_err_prefix(err, "switch");
    return code;
}

enum nfv_code vm_daemon_switch_repair(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    unsigned n_drift = 0;
    json_t *ports = NULL;
    enum nfv_code code;

    if (!d->net->sw)
        return NFV_ERR(err, NFV_E_STATE, "'switch': no switch is configured (vmmgrd.conf)");
    if ((code = check_repair(d, NULL, "on demand", &n_drift, &ports, err)) != NFV_OK)
        return code;
    *ret = json_pack("{s:i,s:o}", "repaired", (int)n_drift, "ports", ports ? ports : json_array());
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

void vm_net_reconcile(struct vm_daemon *d, const char *why)
{
    struct vm_job job;
    struct nfv_err e = {0};
    unsigned n_drift = 0;

    if (!d->net || !d->net->sw)
        return;
    if (vm_job_begin(d, &job, VM_OP_VM_REPIN, "switch reconcile", NULL, NULL, false, NULL, NULL,
                     NULL) != NFV_OK)
        return;
    vm_job_leave(&job);
    if (check_repair(d, &job, why, &n_drift, NULL, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "switch reconcile (%s): %s", why, e.msg);
    vm_job_reenter(&job);
    if (n_drift || e.code)
        vm_d_event(d, e.code ? VM_SEV_ERR : VM_SEV_INFO, "switch_reconcile", d->cfg.switch_bridge,
                   "%s: %u trunk port(s) drifted%s%s", why, n_drift, e.code ? "; " : "",
                   e.code ? e.msg : "");
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
}
