/*
 * plc_cluster.c - the cluster model: hosts, VMs, groups, domains and the
 * claim/release primitives that keep every aggregate true.
 *
 * Every change of a host's free resources goes through plc_claim(), which
 * updates the node bitmaps and counters; changes the healing reserve must
 * see (a VM placed, a host's state or capacity) are noted to plc_heal.c.
 * The engine (plc_engine.c) uses plc_claim() to try a combination in place
 * and undo it, so a tentative check and a commit see exactly the same
 * arithmetic.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "plc_priv.h"

static const char *const scope_names[PLC_SCOPE__COUNT] = {"host", "rack", "zone", "power"};
static const char *const state_names[PLC_HOST__COUNT] = {"up", "maintenance", "down"};
static const char *const role_names[PLC_ROLE__COUNT] = {"none", "act", "sby"};
static const char *const failure_names[PLC_FAILURE__COUNT] = {"none", "host", "rack", "zone",
                                                              "power"};
static const char *const weigher_names[PLC_W__COUNT] = {"pack", "spread", "nic_local"};

#define ENUM_STR(fn_to, fn_from, type, names, count)                                               \
    const char *fn_to(type v)                                                                      \
    {                                                                                              \
        return (unsigned)v < (count) ? names[v] : "?";                                             \
    }                                                                                              \
    type fn_from(const char *s)                                                                    \
    {                                                                                              \
        for (unsigned i = 0; s && i < (count); i++)                                                \
            if (strcmp(s, names[i]) == 0)                                                          \
                return (type)i;                                                                    \
        return (type)(count);                                                                      \
    }

ENUM_STR(plc_scope_to_string, plc_scope_from_string, enum plc_scope, scope_names, PLC_SCOPE__COUNT)
ENUM_STR(plc_host_state_to_string, plc_host_state_from_string, enum plc_host_state, state_names,
         PLC_HOST__COUNT)
ENUM_STR(plc_role_to_string, plc_role_from_string, enum plc_role, role_names, PLC_ROLE__COUNT)
ENUM_STR(plc_failure_to_string, plc_failure_from_string, enum plc_failure, failure_names,
         PLC_FAILURE__COUNT)
ENUM_STR(plc_weigher_to_string, plc_weigher_from_string, enum plc_weigher, weigher_names,
         PLC_W__COUNT)

void plc_config_init(struct plc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->failure = PLC_FAILURE_HOST;
    cfg->weights[PLC_W_PACK] = 1.0;
    cfg->weights[PLC_W_SPREAD] = 0.0;
    cfg->weights[PLC_W_NIC_LOCAL] = 1.0;
}

struct plc_cluster *plc_cluster_new(const struct plc_config *cfg)
{
    struct plc_cluster *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (cfg)
        c->cfg = *cfg;
    else
        plc_config_init(&c->cfg);
    return c;
}

void plc_cluster_free(struct plc_cluster *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_hosts; i++)
        free(c->hosts[i].name);
    free(c->hosts);
    for (size_t i = 0; i < c->n_vms; i++)
        free(c->vms[i].name);
    free(c->vms);
    free(c->free_vms);
    for (size_t i = 0; i < c->n_groups; i++) {
        free(c->groups[i].name);
        free(c->groups[i].members);
    }
    free(c->groups);
    plc_index_destroy(&c->host_ix);
    plc_index_destroy(&c->vm_ix);
    plc_index_destroy(&c->group_ix);
    plc_index_destroy(&c->cap_ix);
    for (int s = 0; s < PLC_SCOPE__COUNT; s++) {
        plc_index_destroy(&c->dom_ix[s]);
        for (size_t i = 0; i < c->n_doms[s]; i++)
            free(c->dom_names[s][i]);
        free(c->dom_names[s]);
    }
    free(c->rack_zone);
    free(c->zone_failure);
    for (size_t i = 0; i < c->n_caps; i++)
        free(c->cap_names[i]);
    plc_heal_free(c->heal);
    free(c->scratch);
    free(c);
}

static const char *host_key(const void *owner, uint32_t v)
{
    return ((const struct plc_cluster *)owner)->hosts[v].name;
}
static const char *vm_key(const void *owner, uint32_t v)
{
    return ((const struct plc_cluster *)owner)->vms[v].name;
}
static const char *group_key(const void *owner, uint32_t v)
{
    return ((const struct plc_cluster *)owner)->groups[v].name;
}
static const char *cap_key(const void *owner, uint32_t v)
{
    return ((const struct plc_cluster *)owner)->cap_names[v];
}
struct dom_owner {
    const struct plc_cluster *c;
    int scope;
};
static const char *dom_key(const void *owner, uint32_t v)
{
    const struct dom_owner *o = owner;
    return o->c->dom_names[o->scope][v];
}

static void *dup_mem(const void *p, size_t n)
{
    void *q;
    if (!n)
        return NULL;
    q = malloc(n);
    if (q)
        memcpy(q, p, n);
    return q;
}

struct plc_cluster *plc_cluster_clone(const struct plc_cluster *src)
{
    struct plc_cluster *c = calloc(1, sizeof(*c));
    bool ok = true;

    if (!c)
        return NULL;
    c->cfg = src->cfg;
    c->n_hosts = c->n_hosts_alloc = src->n_hosts;
    c->hosts = dup_mem(src->hosts, src->n_hosts * sizeof(*c->hosts));
    c->n_vms = c->n_vms_alloc = src->n_vms;
    c->vms = dup_mem(src->vms, src->n_vms * sizeof(*c->vms));
    c->n_free_vms = c->n_free_alloc = src->n_free_vms;
    c->free_vms = dup_mem(src->free_vms, src->n_free_vms * sizeof(*c->free_vms));
    c->n_groups = c->n_groups_alloc = src->n_groups;
    c->groups = dup_mem(src->groups, src->n_groups * sizeof(*c->groups));
    if ((src->n_hosts && !c->hosts) || (src->n_vms && !c->vms) ||
        (src->n_free_vms && !c->free_vms) || (src->n_groups && !c->groups)) {
        /* Nothing inside is owned yet: free only the arrays. */
        free(c->hosts);
        free(c->vms);
        free(c->free_vms);
        free(c->groups);
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->n_hosts; i++) {
        c->hosts[i].name = strdup(src->hosts[i].name);
        ok = ok && c->hosts[i].name;
    }
    for (size_t i = 0; i < c->n_vms; i++) {
        if (src->vms[i].name) {
            c->vms[i].name = strdup(src->vms[i].name);
            ok = ok && c->vms[i].name;
        }
    }
    for (size_t i = 0; i < c->n_groups; i++) {
        c->groups[i].name = strdup(src->groups[i].name);
        c->groups[i].members =
            dup_mem(src->groups[i].members, src->groups[i].n_members * sizeof(uint32_t));
        ok = ok && c->groups[i].name && (c->groups[i].members || src->groups[i].n_members == 0);
        if (!c->groups[i].members)
            c->groups[i].n_members = 0;
    }
    for (size_t i = 0; i < src->n_caps; i++) {
        c->cap_names[i] = strdup(src->cap_names[i]);
        ok = ok && c->cap_names[i];
    }
    c->n_caps = src->n_caps;
    for (int s = 0; s < PLC_SCOPE__COUNT; s++) {
        c->n_doms[s] = c->n_doms_alloc[s] = src->n_doms[s];
        if (src->n_doms[s]) {
            c->dom_names[s] = calloc(src->n_doms[s], sizeof(char *));
            ok = ok && c->dom_names[s];
            for (size_t i = 0; c->dom_names[s] && i < src->n_doms[s]; i++) {
                c->dom_names[s][i] = strdup(src->dom_names[s][i]);
                ok = ok && c->dom_names[s][i];
            }
        }
    }
    if (src->n_doms[PLC_SCOPE_RACK]) {
        c->rack_zone = dup_mem(src->rack_zone, src->n_doms[PLC_SCOPE_RACK] * sizeof(uint32_t));
        ok = ok && c->rack_zone;
    }
    if (src->n_zone_failure) {
        c->zone_failure = dup_mem(src->zone_failure, src->n_zone_failure);
        c->n_zone_failure = src->n_zone_failure;
        ok = ok && c->zone_failure;
    }
    if (!ok) {
        plc_cluster_free(c);
        return NULL;
    }
    if (plc_index_clone(&c->host_ix, &src->host_ix, host_key, c) ||
        plc_index_clone(&c->vm_ix, &src->vm_ix, vm_key, c) ||
        plc_index_clone(&c->group_ix, &src->group_ix, group_key, c) ||
        plc_index_clone(&c->cap_ix, &src->cap_ix, cap_key, c)) {
        plc_cluster_free(c);
        return NULL;
    }
    for (int s = 0; s < PLC_SCOPE__COUNT; s++) {
        struct dom_owner o = {c, s};
        if (plc_index_clone(&c->dom_ix[s], &src->dom_ix[s], dom_key, &o)) {
            plc_cluster_free(c);
            return NULL;
        }
    }
    c->heal = NULL; /* the reserve's witnesses are rebuilt lazily */
    return c;
}

static bool grow_array(void **arr, size_t *n_alloc, size_t need, size_t elem)
{
    return plc_grow_array(arr, n_alloc, need, elem);
}

/* Interns a domain label; "-" stands for "no label" (one shared domain). */
static enum nfv_code intern_domain(struct plc_cluster *c, int scope, const char *label,
                                   uint32_t *ret)
{
    const char *l = label ? label : "-";
    uint32_t d = plc_index_get(&c->dom_ix[scope], l);

    if (d != PLC_NONE) {
        *ret = d;
        return NFV_OK;
    }
    if (!grow_array((void **)&c->dom_names[scope], &c->n_doms_alloc[scope], c->n_doms[scope] + 1,
                    sizeof(char *)))
        return NFV_E_NOMEM;
    if (scope == PLC_SCOPE_RACK) {
        uint32_t *rz = realloc(c->rack_zone, (c->n_doms[scope] + 1) * sizeof(*rz));
        if (!rz)
            return NFV_E_NOMEM;
        c->rack_zone = rz;
        rz[c->n_doms[scope]] = PLC_NONE;
    }
    char *name = strdup(l);
    if (!name)
        return NFV_E_NOMEM;
    d = (uint32_t)c->n_doms[scope];
    if (plc_index_put(&c->dom_ix[scope], name, d) != NFV_OK) {
        free(name);
        return NFV_E_NOMEM;
    }
    c->dom_names[scope][d] = name;
    c->n_doms[scope]++;
    *ret = d;
    return NFV_OK;
}

static enum nfv_code intern_cap(struct plc_cluster *c, const char *kv, uint32_t *ret,
                                struct nfv_err *err)
{
    uint32_t i = plc_index_get(&c->cap_ix, kv);
    if (i != PLC_NONE) {
        *ret = i;
        return NFV_OK;
    }
    if (c->n_caps == PLC_MAX_CAPS)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'capabilities': more than %d distinct key=value pairs in the cluster",
                       PLC_MAX_CAPS);
    char *name = strdup(kv);
    if (!name || plc_index_put(&c->cap_ix, name, (uint32_t)c->n_caps) != NFV_OK) {
        free(name);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    c->cap_names[c->n_caps] = name;
    *ret = (uint32_t)c->n_caps++;
    return NFV_OK;
}

enum nfv_code plc_cluster_add_host(struct plc_cluster *c, const struct plc_host_spec *spec,
                                   uint32_t *ret_host, struct nfv_err *err)
{
    struct plc_host h;
    unsigned first = 0;

    if (!spec->name || !*spec->name)
        return NFV_ERR(err, NFV_E_INVAL, "'name': a host needs a name");
    if (plc_index_get(&c->host_ix, spec->name) != PLC_NONE)
        return NFV_ERR(err, NFV_E_EXIST, "host '%s': defined twice", spec->name);
    if (spec->n_nodes == 0 || spec->n_nodes > PLC_MAX_NODES)
        return NFV_ERR(err, NFV_E_INVAL, "host '%s': %u NUMA nodes (1..%d supported)", spec->name,
                       spec->n_nodes, PLC_MAX_NODES);
    if ((unsigned)spec->state >= PLC_HOST__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "host '%s': bad state", spec->name);
    memset(&h, 0, sizeof(h));
    h.state = spec->state;
    h.n_nodes = spec->n_nodes;
    h.threads_per_core = spec->threads_per_core ? spec->threads_per_core : 1;
    h.nic_nodes = spec->nic_nodes;
    for (unsigned n = 0; n < spec->n_nodes; n++) {
        struct plc_node *nd = &h.nodes[n];
        unsigned nc = spec->cores_per_node[n];
        if (nc > PLC_NODE_WORDS * 64)
            return NFV_ERR(err, NFV_E_INVAL, "host '%s': node %u has %u cores (at most %d)",
                           spec->name, n, nc, PLC_NODE_WORDS * 64);
        nd->n_cores = (uint16_t)nc;
        nd->first_core = (uint16_t)first;
        for (unsigned i = 0; i < nc; i++) {
            unsigned id = first + i;
            bool is_reserved = spec->reserved_cores && id / 64 < spec->n_reserved_words &&
                               (spec->reserved_cores[id / 64] >> (id % 64)) & 1u;
            if (!is_reserved) {
                nd->free_cores[i / 64] |= UINT64_C(1) << (i % 64);
                nd->n_free++;
            } else {
                nd->os_cores[i / 64] |= UINT64_C(1) << (i % 64);
            }
        }
        nd->mem_mib = nd->free_mem_mib = spec->mem_mib_per_node[n];
        nd->hp_mib = nd->free_hp_mib = spec->hp_mib_per_node[n];
        first += nc;
    }
    h.n_cores = (uint16_t)first;
    for (size_t i = 0; i < spec->n_caps; i++) {
        uint32_t bit = 0;
        enum nfv_code rc = intern_cap(c, spec->caps[i], &bit, err);
        if (rc)
            return rc;
        h.caps |= UINT64_C(1) << bit;
    }
    for (int s = PLC_SCOPE_RACK; s < PLC_SCOPE__COUNT; s++)
        if (intern_domain(c, s, spec->labels[s], &h.dom[s]) != NFV_OK)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    /* Racks nest in zones: the reserve's regions rely on it. */
    uint32_t *rz = &c->rack_zone[h.dom[PLC_SCOPE_RACK]];
    if (*rz == PLC_NONE)
        *rz = h.dom[PLC_SCOPE_ZONE];
    else if (*rz != h.dom[PLC_SCOPE_ZONE])
        return NFV_ERR(err, NFV_E_INVAL,
                       "host '%s': rack '%s' is already in zone '%s', not '%s' (racks nest in "
                       "zones)",
                       spec->name, c->dom_names[PLC_SCOPE_RACK][h.dom[PLC_SCOPE_RACK]],
                       c->dom_names[PLC_SCOPE_ZONE][*rz],
                       c->dom_names[PLC_SCOPE_ZONE][h.dom[PLC_SCOPE_ZONE]]);
    if (!grow_array((void **)&c->hosts, &c->n_hosts_alloc, c->n_hosts + 1, sizeof(*c->hosts)))
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    h.name = strdup(spec->name);
    if (!h.name)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    h.dom[PLC_SCOPE_HOST] = (uint32_t)c->n_hosts;
    if (plc_index_put(&c->host_ix, h.name, (uint32_t)c->n_hosts) != NFV_OK) {
        free(h.name);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    c->hosts[c->n_hosts] = h;
    if (ret_host)
        *ret_host = (uint32_t)c->n_hosts;
    c->n_hosts++;
    plc_heal_reset(c);
    return NFV_OK;
}

enum nfv_code plc_cluster_set_state(struct plc_cluster *c, uint32_t host, enum plc_host_state st,
                                    struct nfv_err *err)
{
    if (host >= c->n_hosts || (unsigned)st >= PLC_HOST__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "bad host or state");
    if (c->hosts[host].is_removed)
        return NFV_ERR(err, NFV_E_NOENT, "host '%s' was removed", c->hosts[host].name);
    c->hosts[host].state = st;
    plc_heal_note_host(c, host);
    return NFV_OK;
}

enum nfv_code plc_cluster_remove_host(struct plc_cluster *c, uint32_t host, struct nfv_err *err)
{
    struct plc_host *h;

    if (host >= c->n_hosts || c->hosts[host].is_removed)
        return NFV_ERR(err, NFV_E_NOENT, "host %u does not exist", host);
    h = &c->hosts[host];
    if (h->n_vms)
        return NFV_ERR(err, NFV_E_STATE, "host '%s' still holds %u VM%s", h->name, h->n_vms,
                       h->n_vms == 1 ? "" : "s");
    h->state = PLC_HOST_DOWN;
    for (unsigned n = 0; n < h->n_nodes; n++) {
        struct plc_node *nd = &h->nodes[n];
        memset(nd->free_cores, 0, sizeof(nd->free_cores));
        nd->n_free = 0;
        nd->mem_mib = nd->free_mem_mib = nd->hp_mib = nd->free_hp_mib = 0;
    }
    plc_index_del(&c->host_ix, h->name);
    h->is_removed = true;
    /* Rebuild plans may name it as a target: solve them again. */
    plc_heal_reset(c);
    return NFV_OK;
}

enum nfv_code plc_cluster_add_group(struct plc_cluster *c, const char *name, enum plc_scope scope,
                                    bool is_soft, uint32_t *ret_group, struct nfv_err *err)
{
    uint32_t g = plc_index_get(&c->group_ix, name);

    if ((unsigned)scope >= PLC_SCOPE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "group '%s': bad scope", name);
    if (g != PLC_NONE) {
        if (c->groups[g].scope != scope || c->groups[g].is_soft != is_soft)
            return NFV_ERR(err, NFV_E_EXIST, "group '%s': already exists with scope '%s'%s", name,
                           plc_scope_to_string(c->groups[g].scope),
                           c->groups[g].is_soft ? " (soft)" : "");
        *ret_group = g;
        return NFV_OK;
    }
    if (!grow_array((void **)&c->groups, &c->n_groups_alloc, c->n_groups + 1, sizeof(*c->groups)))
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    struct plc_group *gr = &c->groups[c->n_groups];
    memset(gr, 0, sizeof(*gr));
    gr->name = strdup(name);
    if (!gr->name || plc_index_put(&c->group_ix, gr->name, (uint32_t)c->n_groups) != NFV_OK) {
        free(gr->name);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    gr->scope = scope;
    gr->is_soft = is_soft;
    *ret_group = (uint32_t)c->n_groups++;
    return NFV_OK;
}

void plc_claim(struct plc_cluster *c, const struct plc_choice *ch, int sign)
{
    struct plc_host *h = &c->hosts[ch->host];

    for (unsigned p = 0; p < ch->n_parts; p++) {
        const struct plc_part *pt = &ch->parts[p];
        struct plc_node *nd = &h->nodes[pt->node];
        for (unsigned w = 0; w < PLC_NODE_WORDS; w++) {
            if (sign > 0) {
                assert((nd->free_cores[w] & pt->cores[w]) == pt->cores[w]);
                nd->free_cores[w] &= ~pt->cores[w];
            } else {
                assert((nd->free_cores[w] & pt->cores[w]) == 0);
                nd->free_cores[w] |= pt->cores[w];
            }
        }
        nd->n_free = (uint16_t)(nd->n_free - sign * (int)pt->n_cores);
        nd->free_mem_mib = (uint32_t)((int64_t)nd->free_mem_mib - sign * (int64_t)pt->mem_mib);
        nd->free_hp_mib = (uint32_t)((int64_t)nd->free_hp_mib - sign * (int64_t)pt->hp_mib);
    }
}

/* Checks that @ch's resources are free on its host. */
static enum nfv_code check_free(const struct plc_cluster *c, const char *name,
                                const struct plc_choice *ch, struct nfv_err *err)
{
    if (ch->host >= c->n_hosts)
        return NFV_ERR(err, NFV_E_INVAL, "vm '%s': no host", name);
    const struct plc_host *h = &c->hosts[ch->host];
    if (ch->n_parts == 0 || ch->n_parts > PLC_MAX_VM_NODES)
        return NFV_ERR(err, NFV_E_INVAL, "vm '%s': bad NUMA layout", name);
    for (unsigned p = 0; p < ch->n_parts; p++) {
        const struct plc_part *pt = &ch->parts[p];
        if (pt->node >= h->n_nodes)
            return NFV_ERR(err, NFV_E_INVAL, "vm '%s': node %u is not on host '%s'", name, pt->node,
                           h->name);
        const struct plc_node *nd = &h->nodes[pt->node];
        for (unsigned w = 0; w < PLC_NODE_WORDS; w++) {
            uint64_t busy = pt->cores[w] & ~nd->free_cores[w];
            if (busy) {
                unsigned i = w * 64 + (unsigned)__builtin_ctzll(busy);
                return NFV_ERR(err, NFV_E_EXIST,
                               "vm '%s': core %u of host '%s' is not free (in use or reserved)",
                               name, plc_core_id(h, pt->node, i), h->name);
            }
        }
        if (pt->mem_mib > nd->free_mem_mib)
            return NFV_ERR(err, NFV_E_NOCAP,
                           "vm '%s': %u MiB of memory do not fit node %u of host '%s' (%u free)",
                           name, pt->mem_mib, pt->node, h->name, nd->free_mem_mib);
        if (pt->hp_mib > nd->free_hp_mib)
            return NFV_ERR(err, NFV_E_NOCAP,
                           "vm '%s': %u MiB of hugepages do not fit node %u of host '%s' (%u "
                           "free)",
                           name, pt->hp_mib, pt->node, h->name, nd->free_hp_mib);
    }
    return NFV_OK;
}

enum nfv_code plc_cluster_add_vm(struct plc_cluster *c, const char *name, uint32_t group,
                                 enum plc_role role, const struct plc_demand *d,
                                 const struct plc_choice *at, uint32_t *ret_vm, struct nfv_err *err)
{
    enum nfv_code rc;
    uint32_t vm;

    if (!name || !*name)
        return NFV_ERR(err, NFV_E_INVAL, "'name': a VM needs a name");
    if (plc_index_get(&c->vm_ix, name) != PLC_NONE)
        return NFV_ERR(err, NFV_E_EXIST, "vm '%s': already exists", name);
    if (group != PLC_NONE && group >= c->n_groups)
        return NFV_ERR(err, NFV_E_INVAL, "vm '%s': bad group", name);
    if (at && (rc = check_free(c, name, at, err)) != NFV_OK)
        return rc;
    if (group != PLC_NONE) {
        struct plc_group *g = &c->groups[group];
        uint32_t *m = realloc(g->members, (g->n_members + 1) * sizeof(*m));
        if (!m)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        g->members = m;
    }
    if (c->n_free_vms) {
        vm = c->free_vms[--c->n_free_vms];
    } else {
        if (!grow_array((void **)&c->vms, &c->n_vms_alloc, c->n_vms + 1, sizeof(*c->vms)))
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        vm = (uint32_t)c->n_vms++;
        c->vms[vm].name = NULL;
    }
    struct plc_vm *v = &c->vms[vm];
    memset(v, 0, sizeof(*v));
    v->name = strdup(name);
    if (!v->name || plc_index_put(&c->vm_ix, v->name, vm) != NFV_OK) {
        free(v->name);
        v->name = NULL;
        if (grow_array((void **)&c->free_vms, &c->n_free_alloc, c->n_free_vms + 1,
                       sizeof(*c->free_vms)))
            c->free_vms[c->n_free_vms++] = vm;
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    v->group = group;
    v->role = role;
    v->demand = *d;
    if (at) {
        v->at = *at;
        plc_claim(c, at, +1);
        c->hosts[at->host].n_vms++;
    } else {
        memset(&v->at, 0, sizeof(v->at));
        v->at.host = PLC_NONE;
    }
    if (group != PLC_NONE) {
        struct plc_group *g = &c->groups[group];
        g->members[g->n_members++] = vm;
    }
    plc_heal_note_vm(c, vm);
    if (ret_vm)
        *ret_vm = vm;
    return NFV_OK;
}

void plc_cluster_lose_vm(struct plc_cluster *c, uint32_t vm)
{
    struct plc_vm *v = &c->vms[vm];
    if (v->at.host == PLC_NONE)
        return;
    c->hosts[v->at.host].n_vms--;
    plc_claim(c, &v->at, -1);
    v->at.host = PLC_NONE;
    v->at.n_parts = 0;
}

void plc_cluster_remove_vm(struct plc_cluster *c, uint32_t vm)
{
    struct plc_vm *v = &c->vms[vm];
    if (!v->name)
        return;
    plc_cluster_lose_vm(c, vm);
    if (v->group != PLC_NONE) {
        struct plc_group *g = &c->groups[v->group];
        for (uint32_t i = 0; i < g->n_members; i++) {
            if (g->members[i] == vm) {
                g->members[i] = g->members[--g->n_members];
                break;
            }
        }
    }
    plc_index_del(&c->vm_ix, v->name);
    free(v->name);
    v->name = NULL;
    if (grow_array((void **)&c->free_vms, &c->n_free_alloc, c->n_free_vms + 1,
                   sizeof(*c->free_vms)))
        c->free_vms[c->n_free_vms++] = vm;
}

enum nfv_code plc_cluster_move_vm(struct plc_cluster *c, uint32_t vm, const struct plc_choice *to,
                                  struct nfv_err *err)
{
    struct plc_vm *v = &c->vms[vm];
    struct plc_choice old = v->at;
    enum nfv_code rc;

    plc_cluster_lose_vm(c, vm);
    rc = check_free(c, v->name, to, err);
    if (rc != NFV_OK) {
        if (old.host != PLC_NONE) {
            v->at = old;
            plc_claim(c, &old, +1);
            c->hosts[old.host].n_vms++;
        }
        return rc;
    }
    v->at = *to;
    plc_claim(c, to, +1);
    c->hosts[to->host].n_vms++;
    plc_heal_note_vm(c, vm);
    return NFV_OK;
}

void plc_cluster_set_role(struct plc_cluster *c, uint32_t vm, enum plc_role role)
{
    c->vms[vm].role = role;
}

uint32_t plc_cluster_find_host(const struct plc_cluster *c, const char *name)
{
    return plc_index_get(&c->host_ix, name);
}
uint32_t plc_cluster_find_vm(const struct plc_cluster *c, const char *name)
{
    return plc_index_get(&c->vm_ix, name);
}
uint32_t plc_cluster_find_group(const struct plc_cluster *c, const char *name)
{
    return plc_index_get(&c->group_ix, name);
}
uint32_t plc_cluster_find_cap(const struct plc_cluster *c, const char *kv)
{
    return plc_index_get(&c->cap_ix, kv);
}
uint32_t plc_cluster_find_domain(const struct plc_cluster *c, enum plc_scope scope,
                                 const char *label)
{
    if (scope == PLC_SCOPE_HOST)
        return plc_index_get(&c->host_ix, label);
    if ((unsigned)scope >= PLC_SCOPE__COUNT)
        return PLC_NONE;
    return plc_index_get(&c->dom_ix[scope], label);
}

size_t plc_cluster_n_hosts(const struct plc_cluster *c)
{
    return c->n_hosts;
}
const struct plc_host *plc_cluster_host(const struct plc_cluster *c, uint32_t host)
{
    return host < c->n_hosts ? &c->hosts[host] : NULL;
}
size_t plc_cluster_n_vm_slots(const struct plc_cluster *c)
{
    return c->n_vms;
}
const struct plc_vm *plc_cluster_vm(const struct plc_cluster *c, uint32_t vm)
{
    return vm < c->n_vms ? &c->vms[vm] : NULL;
}
size_t plc_cluster_n_groups(const struct plc_cluster *c)
{
    return c->n_groups;
}
const struct plc_group *plc_cluster_group(const struct plc_cluster *c, uint32_t group)
{
    return group < c->n_groups ? &c->groups[group] : NULL;
}
size_t plc_cluster_n_domains(const struct plc_cluster *c, enum plc_scope scope)
{
    if (scope == PLC_SCOPE_HOST)
        return c->n_hosts;
    return (unsigned)scope < PLC_SCOPE__COUNT ? c->n_doms[scope] : 0;
}
const char *plc_cluster_domain_name(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom)
{
    if (scope == PLC_SCOPE_HOST)
        return dom < c->n_hosts ? c->hosts[dom].name : NULL;
    if ((unsigned)scope >= PLC_SCOPE__COUNT || dom >= c->n_doms[scope])
        return NULL;
    return c->dom_names[scope][dom];
}
const struct plc_config *plc_cluster_config(const struct plc_cluster *c)
{
    return &c->cfg;
}

enum nfv_code plc_cluster_set_zone_failure(struct plc_cluster *c, const char *zone,
                                           enum plc_failure f, struct nfv_err *err)
{
    uint32_t z = zone ? plc_index_get(&c->dom_ix[PLC_SCOPE_ZONE], zone) : PLC_NONE;

    if (z == PLC_NONE)
        return NFV_ERR(err, NFV_E_NOENT, "zone '%s': no host is in it", zone ? zone : "");
    if ((unsigned)f >= PLC_FAILURE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "zone '%s': bad failure", zone);
    if (z >= c->n_zone_failure) {
        size_t n = c->n_doms[PLC_SCOPE_ZONE];
        uint8_t *zf = realloc(c->zone_failure, n);
        if (!zf)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        memset(zf + c->n_zone_failure, PLC_FAILURE__COUNT, n - c->n_zone_failure);
        c->zone_failure = zf;
        c->n_zone_failure = n;
    }
    c->zone_failure[z] = (uint8_t)f;
    plc_heal_reset(c); /* the checked domains changed */
    return NFV_OK;
}

enum plc_failure plc_cluster_zone_failure(const struct plc_cluster *c, uint32_t zone)
{
    if (zone < c->n_zone_failure && c->zone_failure[zone] != PLC_FAILURE__COUNT)
        return (enum plc_failure)c->zone_failure[zone];
    return c->cfg.failure;
}

bool plc_cluster_has_reserve(const struct plc_cluster *c)
{
    if (c->cfg.failure != PLC_FAILURE_NONE)
        return true;
    for (size_t z = 0; z < c->n_zone_failure; z++)
        if (c->zone_failure[z] != PLC_FAILURE__COUNT && c->zone_failure[z] != PLC_FAILURE_NONE)
            return true;
    return false;
}

size_t plc_cluster_bytes_per_host(const struct plc_cluster *c)
{
    size_t n = c->n_hosts ? c->n_hosts : 1;
    size_t bytes = c->n_hosts_alloc * sizeof(struct plc_host);
    for (size_t i = 0; i < c->n_hosts; i++)
        bytes += strlen(c->hosts[i].name) + 1;
    bytes += c->host_ix.n_slots * (sizeof(char *) + sizeof(uint32_t));
    return bytes / n;
}
