/*
 * pin_topo.c - build, seal, share and describe a host topology model.
 *
 * Building goes through pin_topo_add_* (used by the hwloc adapter, by
 * pin_topo_new_synthetic() and by tests). While the topology is open,
 * pu_by_os[] has PIN_MAX_PUS entries and each entry's `core` field holds the
 * caller's per-package core id; pin_topo_seal() groups PUs into cores,
 * orders the cores by (package, node, first PU), rewrites `core` as the
 * logical core index, shrinks pu_by_os[] to max_pu entries and fills the
 * per-node counts. Nothing changes after sealing, which is what lets
 * placement share one topology between all identical hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/topo.h"

#define PU_HOLE UINT16_MAX

struct pin_topo *pin_topo_new(void)
{
    struct pin_topo *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->pu_by_os = malloc(PIN_MAX_PUS * sizeof(*t->pu_by_os));
    if (!t->pu_by_os) {
        free(t);
        return NULL;
    }
    for (unsigned i = 0; i < PIN_MAX_PUS; i++)
        t->pu_by_os[i].core = PU_HOLE;
    t->refs = 1;
    return t;
}

struct pin_topo *pin_topo_ref(struct pin_topo *t)
{
    if (t)
        __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void pin_topo_unref(struct pin_topo *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    free(t->pu_by_os);
    free(t->cores);
    free(t->nodes);
    free(t->nics);
    free(t->source);
    free(t);
}

enum nfv_code pin_topo_add_node(struct pin_topo *t, unsigned os_index, uint64_t mem_bytes,
                                unsigned *ret_node, struct nfv_err *err)
{
    struct pin_node_info *nodes;

    if (t->is_sealed)
        return NFV_ERR(err, NFV_E_INVAL, "topology: already sealed");
    if (os_index >= PIN_MAX_NODES)
        return NFV_ERR(err, NFV_E_INVAL, "numa node %u: index above the limit of %d", os_index,
                       PIN_MAX_NODES - 1);
    for (unsigned i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].os_index == os_index)
            return NFV_ERR(err, NFV_E_INVAL, "numa node %u: defined twice", os_index);
    nodes = realloc(t->nodes, (t->n_nodes + 1) * sizeof(*nodes));
    if (!nodes)
        return NFV_ERR(err, NFV_E_NOMEM, "numa node %u: out of memory", os_index);
    t->nodes = nodes;
    memset(&nodes[t->n_nodes], 0, sizeof(nodes[0]));
    nodes[t->n_nodes].os_index = os_index;
    nodes[t->n_nodes].mem_bytes = mem_bytes;
    if (ret_node)
        *ret_node = t->n_nodes;
    t->n_nodes++;
    return NFV_OK;
}

enum nfv_code pin_topo_add_hugepages(struct pin_topo *t, unsigned node, uint64_t size_kib,
                                     uint64_t n_total, uint64_t n_free, struct nfv_err *err)
{
    struct pin_node_info *n;

    if (t->is_sealed)
        return NFV_ERR(err, NFV_E_INVAL, "topology: already sealed");
    if (node >= t->n_nodes)
        return NFV_ERR(err, NFV_E_INVAL, "hugepages: unknown numa node %u", node);
    n = &t->nodes[node];
    if (n->n_hp >= PIN_MAX_HP_SIZES)
        return NFV_ERR(err, NFV_E_INVAL, "hugepages: more than %d sizes on node %u",
                       PIN_MAX_HP_SIZES, n->os_index);
    n->hp[n->n_hp].size_kib = size_kib;
    n->hp[n->n_hp].n_total = n_total;
    n->hp[n->n_hp].n_free = n_free;
    n->n_hp++;
    return NFV_OK;
}

enum nfv_code pin_topo_add_pu(struct pin_topo *t, unsigned os_index, unsigned node,
                              unsigned package, unsigned core_id, unsigned l3, struct nfv_err *err)
{
    struct pin_pu_info *pu;

    if (t->is_sealed)
        return NFV_ERR(err, NFV_E_INVAL, "topology: already sealed");
    if (os_index >= PIN_MAX_PUS)
        return NFV_ERR(err, NFV_E_INVAL, "PU %u: above the limit of %d PUs", os_index, PIN_MAX_PUS);
    if (node >= t->n_nodes)
        return NFV_ERR(err, NFV_E_INVAL, "PU %u: unknown numa node %u", os_index, node);
    if (core_id >= PU_HOLE || package >= PU_HOLE || l3 >= PU_HOLE)
        return NFV_ERR(err, NFV_E_INVAL, "PU %u: core/package/l3 id too large", os_index);
    pu = &t->pu_by_os[os_index];
    if (pu->core != PU_HOLE)
        return NFV_ERR(err, NFV_E_INVAL, "PU %u: defined twice", os_index);
    pu->os_index = (uint16_t)os_index;
    pu->core = (uint16_t)core_id; /* per-package id until sealed */
    pu->node = (uint16_t)node;
    pu->package = (uint16_t)package;
    pu->l3 = (uint16_t)l3;
    pu->smt = 0;
    pin_cpuset_set(&t->all, os_index);
    t->n_pus++;
    if (os_index + 1 > t->max_pu)
        t->max_pu = os_index + 1;
    return NFV_OK;
}

enum nfv_code pin_topo_add_nic(struct pin_topo *t, const char *name, const char *pci, int node,
                               struct nfv_err *err)
{
    struct pin_nic_info *nics, *nic;

    if (t->is_sealed)
        return NFV_ERR(err, NFV_E_INVAL, "topology: already sealed");
    if (node >= (int)t->n_nodes)
        return NFV_ERR(err, NFV_E_INVAL, "nic '%s': unknown numa node %d", name ? name : "", node);
    nics = realloc(t->nics, (t->n_nics + 1) * sizeof(*nics));
    if (!nics)
        return NFV_ERR(err, NFV_E_NOMEM, "nic: out of memory");
    t->nics = nics;
    nic = &nics[t->n_nics++];
    memset(nic, 0, sizeof(*nic));
    snprintf(nic->name, sizeof(nic->name), "%s", name ? name : "");
    snprintf(nic->pci, sizeof(nic->pci), "%s", pci ? pci : "");
    nic->node = node < 0 ? -1 : node;
    return NFV_OK;
}

enum nfv_code pin_topo_set_source(struct pin_topo *t, const char *source, struct nfv_err *err)
{
    char *s = strdup(source ? source : "");

    if (!s)
        return NFV_ERR(err, NFV_E_NOMEM, "topology: out of memory");
    free(t->source);
    t->source = s;
    return NFV_OK;
}

/* Cores sort by (package, node, first PU). */
static int core_cmp(const void *a, const void *b)
{
    const struct pin_core_info *x = a, *y = b;

    if (x->package != y->package)
        return x->package < y->package ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->pus[0] < y->pus[0] ? -1 : x->pus[0] > y->pus[0];
}

enum nfv_code pin_topo_seal(struct pin_topo *t, struct nfv_err *err)
{
    struct pin_core_info *cores;
    unsigned *core_key; /* per core: the caller's core id, for grouping */
    struct pin_cpuset pkgs, l3s;
    unsigned n_cores = 0;

    if (t->is_sealed)
        return NFV_OK;
    if (t->n_pus == 0)
        return NFV_ERR(err, NFV_E_INVAL, "topology: no PU");
    cores = calloc(t->n_pus, sizeof(*cores));
    core_key = calloc(t->n_pus, sizeof(*core_key));
    if (!cores || !core_key) {
        free(cores);
        free(core_key);
        return NFV_ERR(err, NFV_E_NOMEM, "topology: out of memory");
    }
    pin_cpuset_zero(&pkgs);
    pin_cpuset_zero(&l3s);
    /* Group PUs (ascending OS index) into cores keyed by (package, core id). */
    for (int os = pin_cpuset_first(&t->all); os >= 0; os = pin_cpuset_next(&t->all, os + 1)) {
        struct pin_pu_info *pu = &t->pu_by_os[os];
        unsigned c;

        for (c = 0; c < n_cores; c++)
            if (cores[c].package == pu->package && core_key[c] == pu->core)
                break;
        if (c == n_cores) {
            cores[c].package = pu->package;
            cores[c].node = pu->node;
            cores[c].l3 = pu->l3;
            core_key[c] = pu->core;
            n_cores++;
        } else if (cores[c].node != pu->node) {
            free(cores);
            free(core_key);
            return NFV_ERR(err, NFV_E_INVAL, "PU %d: its core spans two numa nodes", os);
        }
        if (cores[c].n_pus >= PIN_MAX_SMT) {
            free(cores);
            free(core_key);
            return NFV_ERR(err, NFV_E_INVAL, "PU %d: more than %d threads in one core", os,
                           PIN_MAX_SMT);
        }
        cores[c].pus[cores[c].n_pus++] = (uint16_t)os;
        pin_cpuset_set(&pkgs, pu->package < PIN_MAX_PUS ? pu->package : 0);
        pin_cpuset_set(&l3s, pu->l3 < PIN_MAX_PUS ? pu->l3 : 0);
    }
    free(core_key);
    qsort(cores, n_cores, sizeof(*cores), core_cmp);
    for (unsigned c = 0; c < n_cores; c++) {
        struct pin_node_info *n = &t->nodes[cores[c].node];

        for (unsigned k = 0; k < cores[c].n_pus; k++) {
            struct pin_pu_info *pu = &t->pu_by_os[cores[c].pus[k]];
            pu->core = (uint16_t)c;
            pu->smt = (uint8_t)k;
            pin_cpuset_set(&n->pus, pu->os_index);
        }
        if (n->n_cores == 0)
            n->package = cores[c].package;
        n->n_cores++;
        n->n_pus += cores[c].n_pus;
    }
    {
        /* Shrink to max_pu entries; failing to shrink is harmless. */
        struct pin_pu_info *shrunk = realloc(t->pu_by_os, t->max_pu * sizeof(*shrunk));
        if (shrunk)
            t->pu_by_os = shrunk;
    }
    t->cores = cores;
    t->n_cores = n_cores;
    t->n_packages = pin_cpuset_count(&pkgs);
    t->n_l3 = pin_cpuset_count(&l3s);
    t->is_sealed = true;
    return NFV_OK;
}

enum nfv_code pin_topo_new_synthetic(unsigned n_packages, unsigned n_nodes_per_package,
                                     unsigned n_cores_per_node, unsigned n_threads,
                                     uint64_t mem_per_node_mib, struct pin_topo **ret_topo,
                                     struct nfv_err *err)
{
    unsigned long n_nodes = (unsigned long)n_packages * n_nodes_per_package;
    unsigned long n_pus = n_nodes * n_cores_per_node * n_threads;
    struct pin_topo *t;
    enum nfv_code rc;
    unsigned os = 0;
    char src[128];

    if (!n_packages || !n_nodes_per_package || !n_cores_per_node || !n_threads)
        return NFV_ERR(err, NFV_E_INVAL, "synthetic topology: every count must be at least 1");
    if (n_nodes > PIN_MAX_NODES)
        return NFV_ERR(err, NFV_E_INVAL, "synthetic topology: %lu numa nodes (limit %d)", n_nodes,
                       PIN_MAX_NODES);
    if (n_pus > PIN_MAX_PUS)
        return NFV_ERR(err, NFV_E_INVAL, "synthetic topology: %lu PUs (limit %d)", n_pus,
                       PIN_MAX_PUS);
    if (n_threads > PIN_MAX_SMT)
        return NFV_ERR(err, NFV_E_INVAL, "synthetic topology: %u threads per core (limit %d)",
                       n_threads, PIN_MAX_SMT);
    t = pin_topo_new();
    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "synthetic topology: out of memory");
    for (unsigned p = 0; p < n_packages; p++) {
        for (unsigned n = 0; n < n_nodes_per_package; n++) {
            unsigned node;
            rc = pin_topo_add_node(t, p * n_nodes_per_package + n, mem_per_node_mib << 20, &node,
                                   err);
            if (rc)
                goto fail;
            for (unsigned c = 0; c < n_cores_per_node; c++)
                for (unsigned k = 0; k < n_threads; k++) {
                    rc = pin_topo_add_pu(t, os++, node, p, n * n_cores_per_node + c, node, err);
                    if (rc)
                        goto fail;
                }
        }
    }
    snprintf(src, sizeof(src), "synthetic:package:%u numa:%u core:%u pu:%u", n_packages,
             n_nodes_per_package, n_cores_per_node, n_threads);
    rc = pin_topo_set_source(t, src, err);
    if (rc == NFV_OK)
        rc = pin_topo_seal(t, err);
    if (rc)
        goto fail;
    *ret_topo = t;
    return NFV_OK;
fail:
    pin_topo_unref(t);
    return rc;
}

const struct pin_pu_info *pin_topo_pu(const struct pin_topo *t, unsigned os_index)
{
    if (os_index >= t->max_pu || !pin_cpuset_test(&t->all, os_index))
        return NULL;
    return &t->pu_by_os[os_index];
}

int pin_topo_node_by_os(const struct pin_topo *t, unsigned os_index)
{
    for (unsigned i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].os_index == os_index)
            return (int)i;
    return -1;
}

const struct pin_nic_info *pin_topo_nic_find(const struct pin_topo *t, const char *name_or_pci)
{
    if (!name_or_pci || !*name_or_pci)
        return NULL;
    for (unsigned i = 0; i < t->n_nics; i++)
        if (strcmp(t->nics[i].name, name_or_pci) == 0 || strcmp(t->nics[i].pci, name_or_pci) == 0)
            return &t->nics[i];
    return NULL;
}

unsigned pin_topo_threads_per_core(const struct pin_topo *t)
{
    return t->n_cores ? t->cores[0].n_pus : 1;
}

static json_t *cpuset_json(const struct pin_cpuset *s)
{
    char buf[4096];

    pin_cpuset_format(s, buf, sizeof(buf));
    return json_string(buf);
}

json_t *pin_topo_to_json(const struct pin_topo *t)
{
    json_t *root, *nodes, *cores, *nics;

    root = json_object();
    nodes = json_array();
    cores = json_array();
    nics = json_array();
    if (!root || !nodes || !cores || !nics)
        goto fail;
    json_object_set_new(root, "source", json_string(t->source ? t->source : ""));
    json_object_set_new(root, "packages", json_integer(t->n_packages));
    json_object_set_new(root, "pus", json_integer(t->n_pus));
    json_object_set_new(root, "threads_per_core", json_integer(pin_topo_threads_per_core(t)));
    for (unsigned i = 0; i < t->n_nodes; i++) {
        const struct pin_node_info *n = &t->nodes[i];
        json_t *hp = json_array();
        for (unsigned k = 0; k < n->n_hp; k++)
            json_array_append_new(
                hp, json_pack("{s:I,s:I,s:I}", "size_kib", (json_int_t)n->hp[k].size_kib, "total",
                              (json_int_t)n->hp[k].n_total, "free", (json_int_t)n->hp[k].n_free));
        json_array_append_new(nodes, json_pack("{s:i,s:i,s:I,s:o,s:i,s:i,s:o}", "node",
                                               (int)n->os_index, "package", (int)n->package,
                                               "memory_bytes", (json_int_t)n->mem_bytes, "cpus",
                                               cpuset_json(&n->pus), "n_cores", (int)n->n_cores,
                                               "n_pus", (int)n->n_pus, "hugepages", hp));
    }
    for (unsigned c = 0; c < t->n_cores; c++) {
        const struct pin_core_info *core = &t->cores[c];
        json_t *pus = json_array();
        for (unsigned k = 0; k < core->n_pus; k++)
            json_array_append_new(pus, json_integer(core->pus[k]));
        json_array_append_new(cores, json_pack("{s:i,s:i,s:i,s:i,s:o}", "core", (int)c, "package",
                                               (int)core->package, "node",
                                               (int)t->nodes[core->node].os_index, "l3",
                                               (int)core->l3, "pus", pus));
    }
    for (unsigned i = 0; i < t->n_nics; i++) {
        const struct pin_nic_info *nic = &t->nics[i];
        json_array_append_new(
            nics,
            json_pack("{s:s,s:s,s:o}", "name", nic->name, "pci", nic->pci, "node",
                      nic->node < 0 ? json_null() : json_integer(t->nodes[nic->node].os_index)));
    }
    json_object_set_new(root, "nodes", nodes);
    json_object_set_new(root, "cores", cores);
    json_object_set_new(root, "nics", nics);
    return root;
fail:
    json_decref(root);
    json_decref(nodes);
    json_decref(cores);
    json_decref(nics);
    return NULL;
}
