/*
 * vm_sw_fake.c - an in-memory switch behind the vm_sw_driver table, for unit
 * tests of the daemon's network code and scale runs without Open vSwitch.
 *
 * Target "fake:" (the rest is ignored); every open gets its own empty
 * switch. It enforces the same rules and gives the same errors as
 * vm_sw_ovsdb.c (checks shared through vm_sw.c), with no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_sw.h"

struct vm_sw_fake_port {
    char bridge[VM_SW_NAME_SIZE];
    struct vm_sw_port_info info;
};

struct vm_sw_conn {
    char (*bridges)[VM_SW_NAME_SIZE];
    size_t n_bridges;
    struct vm_sw_fake_port *ports;
    size_t n_ports, ports_cap;
};

static enum nfv_code vm_sw_fake_open(const char *target, const struct vm_sw_open_opts *opts,
                                     struct vm_sw_conn **ret, struct nfv_err *err)
{
    (void)opts;
    if (!target || strncmp(target, "fake:", 5) != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'target': '%s' is not fake:", target ? target : "");
    *ret = calloc(1, sizeof(**ret));
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory opening a fake switch");
}

static void vm_sw_fake_close(struct vm_sw_conn *c)
{
    if (!c)
        return;
    free(c->bridges);
    free(c->ports);
    free(c);
}

static enum nfv_code vm_sw_fake_ping(struct vm_sw_conn *c, struct nfv_err *err)
{
    (void)c;
    (void)err;
    return NFV_OK;
}

static bool vm_sw_fake_has_bridge(const struct vm_sw_conn *c, const char *bridge)
{
    for (size_t i = 0; i < c->n_bridges; i++)
        if (strcmp(c->bridges[i], bridge) == 0)
            return true;
    return false;
}

static enum nfv_code vm_sw_fake_bridge_ensure(struct vm_sw_conn *c, const char *bridge,
                                              const char *datapath_type, struct nfv_err *err)
{
    enum nfv_code rc = vm_sw_name_check(bridge, "bridge", err);
    (void)datapath_type;
    if (rc != NFV_OK || vm_sw_fake_has_bridge(c, bridge))
        return rc;
    void *b = realloc(c->bridges, (c->n_bridges + 1) * sizeof(*c->bridges));
    if (!b)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory adding bridge '%s'", bridge);
    c->bridges = b;
    snprintf(c->bridges[c->n_bridges++], VM_SW_NAME_SIZE, "%s", bridge);
    return NFV_OK;
}

/* Checks names and the bridge, then finds @port: *ret NULL if absent,
 * NFV_E_EXIST if it is on another bridge. */
static enum nfv_code vm_sw_fake_find(struct vm_sw_conn *c, const char *bridge, const char *port,
                                     struct vm_sw_fake_port **ret, struct nfv_err *err)
{
    enum nfv_code rc = vm_sw_port_name_check(bridge, port, err);
    if (rc != NFV_OK)
        return rc;
    if (!vm_sw_fake_has_bridge(c, bridge))
        return NFV_ERR(err, NFV_E_NOENT, "bridge '%s' does not exist on switch 'fake:'", bridge);
    *ret = NULL;
    for (size_t i = 0; i < c->n_ports; i++) {
        if (strcmp(c->ports[i].info.name, port) != 0)
            continue;
        if (strcmp(c->ports[i].bridge, bridge) != 0)
            return NFV_ERR(err, NFV_E_EXIST, "port '%s' exists on a bridge other than '%s'", port,
                           bridge);
        *ret = &c->ports[i];
    }
    return NFV_OK;
}

static enum nfv_code vm_sw_fake_add(struct vm_sw_conn *c, const char *bridge, const char *port,
                                    struct vm_sw_fake_port **ret, struct nfv_err *err)
{
    if (c->n_ports == c->ports_cap) {
        size_t cap = c->ports_cap ? c->ports_cap * 2 : 64;
        void *p = realloc(c->ports, cap * sizeof(*c->ports));
        if (!p)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory adding port '%s'", port);
        c->ports = p;
        c->ports_cap = cap;
    }
    *ret = &c->ports[c->n_ports++];
    memset(*ret, 0, sizeof(**ret));
    snprintf((*ret)->bridge, sizeof((*ret)->bridge), "%s", bridge);
    snprintf((*ret)->info.name, sizeof((*ret)->info.name), "%s", port);
    (*ret)->info.tag = -1;
    return NFV_OK;
}

static enum nfv_code vm_sw_fake_trunk_ensure(struct vm_sw_conn *c, const char *bridge,
                                             const char *port, const struct vm_sw_vlanset *vlans,
                                             unsigned *ret_n_added, unsigned *ret_n_removed,
                                             struct nfv_err *err)
{
    struct vm_sw_fake_port *p;
    struct vm_sw_vlanset add, remove;
    enum nfv_code rc = vm_sw_fake_find(c, bridge, port, &p, err);
    if (rc != NFV_OK)
        return rc;
    if ((rc = vm_sw_trunk_vlans_check(vlans, err)) != NFV_OK)
        return rc;
    if (p && p->info.tag >= 0)
        return NFV_ERR(err, NFV_E_EXIST, "port '%s' is an access port (tag %d), not a trunk", port,
                       p->info.tag);
    if (!p && (rc = vm_sw_fake_add(c, bridge, port, &p, err)) != NFV_OK)
        return rc;
    for (size_t i = 0; i < 64; i++) {
        add.bits[i] = vlans->bits[i] & ~p->info.trunks.bits[i];
        remove.bits[i] = p->info.trunks.bits[i] & ~vlans->bits[i];
    }
    p->info.trunks = *vlans;
    if (ret_n_added)
        *ret_n_added = vm_sw_vlanset_count(&add);
    if (ret_n_removed)
        *ret_n_removed = vm_sw_vlanset_count(&remove);
    return NFV_OK;
}

/* All checks first, then all changes: one transaction, as OVSDB's. */
static enum nfv_code vm_sw_fake_trunks_ensure(struct vm_sw_conn *c, const char *bridge,
                                              const struct vm_sw_expect *ports, size_t n_ports,
                                              unsigned *ret_n_changed, struct nfv_err *err)
{
    unsigned n_changed = 0;
    enum nfv_code rc = vm_sw_trunks_check(bridge, ports, n_ports, err);
    for (size_t i = 0; rc == NFV_OK && i < n_ports; i++) {
        struct vm_sw_fake_port *p;
        if ((rc = vm_sw_fake_find(c, bridge, ports[i].port, &p, err)) == NFV_OK && p &&
            p->info.tag >= 0)
            rc = NFV_ERR(err, NFV_E_EXIST, "port '%s' is an access port (tag %d), not a trunk",
                         ports[i].port, p->info.tag);
    }
    for (size_t i = 0; rc == NFV_OK && i < n_ports; i++) {
        unsigned n_add = 0, n_rm = 0;
        rc = vm_sw_fake_trunk_ensure(c, bridge, ports[i].port, &ports[i].vlans, &n_add, &n_rm, err);
        n_changed += n_add || n_rm;
    }
    if (rc == NFV_OK && ret_n_changed)
        *ret_n_changed = n_changed;
    return rc;
}

static enum nfv_code vm_sw_fake_access_ensure(struct vm_sw_conn *c, const char *bridge,
                                              const char *port, unsigned tag, struct nfv_err *err)
{
    struct vm_sw_fake_port *p;
    enum nfv_code rc = vm_sw_fake_find(c, bridge, port, &p, err);
    if (rc == NFV_OK)
        rc = vm_sw_vlan_check(tag, "tag", err);
    if (rc != NFV_OK)
        return rc;
    if (p && vm_sw_vlanset_count(&p->info.trunks))
        return NFV_ERR(err, NFV_E_EXIST, "port '%s' is a trunk, not an access port", port);
    if (!p && (rc = vm_sw_fake_add(c, bridge, port, &p, err)) != NFV_OK)
        return rc;
    p->info.tag = (int)tag;
    return NFV_OK;
}

static enum nfv_code vm_sw_fake_port_get(struct vm_sw_conn *c, const char *bridge, const char *port,
                                         struct vm_sw_port_info *ret, struct nfv_err *err)
{
    struct vm_sw_fake_port *p;
    enum nfv_code rc = vm_sw_fake_find(c, bridge, port, &p, err);
    if (rc != NFV_OK)
        return rc;
    if (!p)
        return NFV_ERR(err, NFV_E_NOENT, "port '%s' is not on bridge '%s'", port, bridge);
    *ret = p->info;
    return NFV_OK;
}

static enum nfv_code vm_sw_fake_port_delete(struct vm_sw_conn *c, const char *bridge,
                                            const char *port, bool is_if_exists,
                                            struct nfv_err *err)
{
    struct vm_sw_fake_port *p;
    enum nfv_code rc = vm_sw_fake_find(c, bridge, port, &p, err);
    if (rc != NFV_OK)
        return rc;
    if (!p)
        return is_if_exists
                   ? NFV_OK
                   : NFV_ERR(err, NFV_E_NOENT, "port '%s' is not on bridge '%s'", port, bridge);
    *p = c->ports[--c->n_ports];
    return NFV_OK;
}

static int vm_sw_fake_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vm_sw_fake_port *)a)->info.name,
                  ((const struct vm_sw_fake_port *)b)->info.name);
}

static enum nfv_code vm_sw_fake_port_list(struct vm_sw_conn *c, const char *bridge,
                                          vm_sw_port_cb cb, void *opaque, struct nfv_err *err)
{
    enum nfv_code rc = vm_sw_name_check(bridge, "bridge", err);
    if (rc != NFV_OK)
        return rc;
    if (!vm_sw_fake_has_bridge(c, bridge))
        return NFV_ERR(err, NFV_E_NOENT, "bridge '%s' does not exist on switch 'fake:'", bridge);
    if (c->n_ports) /* qsort(NULL, 0) is undefined (UBSan) */
        qsort(c->ports, c->n_ports, sizeof(*c->ports), vm_sw_fake_cmp);
    for (size_t i = 0; i < c->n_ports; i++)
        if (strcmp(c->ports[i].bridge, bridge) == 0 && cb(opaque, &c->ports[i].info) != 0)
            break;
    return NFV_OK;
}

const struct vm_sw_driver vm_sw_fake = {
    .name = "fake",
    .open = vm_sw_fake_open,
    .close = vm_sw_fake_close,
    .ping = vm_sw_fake_ping,
    .bridge_ensure = vm_sw_fake_bridge_ensure,
    .trunk_ensure = vm_sw_fake_trunk_ensure,
    .trunks_ensure = vm_sw_fake_trunks_ensure,
    .access_ensure = vm_sw_fake_access_ensure,
    .port_get = vm_sw_fake_port_get,
    .port_delete = vm_sw_fake_port_delete,
    .port_list = vm_sw_fake_port_list,
};
