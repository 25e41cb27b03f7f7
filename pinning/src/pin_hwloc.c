/*
 * pin_hwloc.c - the hwloc adapter: hwloc topology -> struct pin_topo.
 *
 * One converter walks any hwloc topology (live, XML, synthetic): NUMA nodes
 * first (memory, page types), then every PU with its core, package and L3
 * ancestors, then the network OS devices with their PCI parent's bus id and
 * the NUMA node of their first non-I/O ancestor. On the live host, node
 * memory falls back to libnuma and hugepage counts (total and free) come from
 * /sys/devices/system/node/nodeN/hugepages, because hwloc reports only the
 * configured count.
 */
#include <errno.h>
#include <hwloc.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pin/pin_hwloc.h"

/* Reads one unsigned number from a sysfs file; false if unreadable. */
static bool read_sysfs_u64(const char *path, uint64_t *ret)
{
    FILE *f = fopen(path, "r");
    unsigned long long v;
    int n;

    if (!f)
        return false;
    n = fscanf(f, "%llu", &v);
    fclose(f);
    if (n != 1)
        return false;
    *ret = v;
    return true;
}

/* Live hugepages of node @os_index for the usual sizes. */
static enum nfv_code add_live_hugepages(struct pin_topo *t, unsigned node, unsigned os_index,
                                        struct nfv_err *err)
{
    static const uint64_t sizes_kib[] = {2048, 1048576};

    for (size_t i = 0; i < sizeof(sizes_kib) / sizeof(sizes_kib[0]); i++) {
        char path[160];
        uint64_t total, free_pages;

        snprintf(path, sizeof(path),
                 "/sys/devices/system/node/node%u/hugepages/hugepages-%llukB/nr_hugepages",
                 os_index, (unsigned long long)sizes_kib[i]);
        if (!read_sysfs_u64(path, &total))
            continue;
        snprintf(path, sizeof(path),
                 "/sys/devices/system/node/node%u/hugepages/hugepages-%llukB/free_hugepages",
                 os_index, (unsigned long long)sizes_kib[i]);
        if (!read_sysfs_u64(path, &free_pages))
            free_pages = 0;
        enum nfv_code rc = pin_topo_add_hugepages(t, node, sizes_kib[i], total, free_pages, err);
        if (rc)
            return rc;
    }
    return NFV_OK;
}

static int node_of_nodeset(const struct pin_topo *t, hwloc_const_nodeset_t ns)
{
    int os = ns ? hwloc_bitmap_first(ns) : -1;

    return os < 0 ? -1 : pin_topo_node_by_os(t, (unsigned)os);
}

static enum nfv_code convert(hwloc_topology_t h, bool is_live, const char *source,
                             struct pin_topo **ret_topo, struct nfv_err *err)
{
    struct pin_topo *t = pin_topo_new();
    hwloc_obj_t obj = NULL;
    enum nfv_code rc = NFV_OK;
    bool has_numa = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE) > 0;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "topology: out of memory");
    /* NUMA nodes (a machine without any gets one node 0). */
    if (!has_numa) {
        rc = pin_topo_add_node(t, 0, 0, NULL, err);
    }
    while (rc == NFV_OK && (obj = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, obj))) {
        uint64_t mem = obj->attr->numanode.local_memory;
        unsigned node;

        if (is_live && mem == 0 && numa_available() >= 0) {
            long long sz = numa_node_size64((int)obj->os_index, NULL);
            if (sz > 0)
                mem = (uint64_t)sz;
        }
        rc = pin_topo_add_node(t, obj->os_index, mem, &node, err);
        if (rc)
            break;
        if (is_live) {
            rc = add_live_hugepages(t, node, obj->os_index, err);
        } else {
            for (unsigned i = 0; rc == NFV_OK && i < obj->attr->numanode.page_types_len; i++) {
                const struct hwloc_memory_page_type_s *pt = &obj->attr->numanode.page_types[i];
                if (pt->size <= 4096 || pt->count == 0)
                    continue; /* base pages are not hugepages */
                rc = pin_topo_add_hugepages(t, node, pt->size / 1024, pt->count, pt->count, err);
            }
        }
    }

    /* PUs. */
    obj = NULL;
    while (rc == NFV_OK && (obj = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, obj))) {
        hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, obj);
        hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, obj);
        hwloc_obj_t l3 = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_L3CACHE, obj);
        int node = has_numa ? node_of_nodeset(t, obj->nodeset) : 0;
        unsigned package = pkg && pkg->os_index != HWLOC_UNKNOWN_INDEX ? pkg->os_index : 0;

        if (node < 0) {
            rc = NFV_ERR(err, NFV_E_PARSE, "%s: PU %u has no numa node", source, obj->os_index);
            break;
        }
        /* The core's logical index is unique host-wide; without a Core
         * object, each PU is its own core. */
        rc = pin_topo_add_pu(t, obj->os_index, (unsigned)node, package,
                             core ? core->logical_index : 0x8000u + obj->logical_index,
                             l3 ? l3->logical_index : 0, err);
    }

    /* Network devices and their locality. */
    obj = NULL;
    while (rc == NFV_OK && (obj = hwloc_get_next_osdev(h, obj))) {
        hwloc_obj_t parent, anc;
        char pci[PIN_PCI_ADDR_SIZE] = "";

        if (obj->attr->osdev.type != HWLOC_OBJ_OSDEV_NETWORK)
            continue;
        parent = obj->parent;
        if (parent && parent->type == HWLOC_OBJ_PCI_DEVICE)
            snprintf(pci, sizeof(pci), "%04x:%02x:%02x.%01x", parent->attr->pcidev.domain,
                     parent->attr->pcidev.bus, parent->attr->pcidev.dev, parent->attr->pcidev.func);
        anc = hwloc_get_non_io_ancestor_obj(h, obj);
        rc = pin_topo_add_nic(t, obj->name, pci,
                              anc && has_numa ? node_of_nodeset(t, anc->nodeset) : 0, err);
    }

    if (rc == NFV_OK)
        rc = pin_topo_set_source(t, source, err);
    if (rc == NFV_OK)
        rc = pin_topo_seal(t, err);
    if (rc) {
        pin_topo_unref(t);
        return rc;
    }
    *ret_topo = t;
    return NFV_OK;
}

/* Creates an hwloc topology with I/O devices kept. */
static enum nfv_code init_topology(hwloc_topology_t *ret, struct nfv_err *err)
{
    if (hwloc_topology_init(ret) < 0)
        return NFV_ERR_ERRNO(err, NFV_E_NOMEM, errno, "hwloc: cannot initialise a topology");
    hwloc_topology_set_io_types_filter(*ret, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    return NFV_OK;
}

enum nfv_code pin_hwloc_load_live(struct pin_topo **ret_topo, struct nfv_err *err)
{
    hwloc_topology_t h;
    enum nfv_code rc = init_topology(&h, err);

    if (rc)
        return rc;
    if (hwloc_topology_load(h) < 0) {
        hwloc_topology_destroy(h);
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "hwloc: cannot read this host's topology");
    }
    rc = convert(h, true, "live", ret_topo, err);
    hwloc_topology_destroy(h);
    return rc;
}

enum nfv_code pin_hwloc_load_xml(const char *path, struct pin_topo **ret_topo, struct nfv_err *err)
{
    hwloc_topology_t h;
    struct stat st;
    char source[512];
    enum nfv_code rc;

    if (stat(path, &st) < 0)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': cannot read the file", path);
    rc = init_topology(&h, err);
    if (rc)
        return rc;
    if (hwloc_topology_set_xml(h, path) < 0 || hwloc_topology_load(h) < 0) {
        hwloc_topology_destroy(h);
        return NFV_ERR(err, NFV_E_PARSE, "'%s': not an hwloc XML topology", path);
    }
    snprintf(source, sizeof(source), "xml:%s", path);
    rc = convert(h, false, source, ret_topo, err);
    hwloc_topology_destroy(h);
    return rc;
}

enum nfv_code pin_hwloc_load_synthetic(const char *desc, struct pin_topo **ret_topo,
                                       struct nfv_err *err)
{
    hwloc_topology_t h;
    char source[512];
    enum nfv_code rc = init_topology(&h, err);

    if (rc)
        return rc;
    if (hwloc_topology_set_synthetic(h, desc) < 0 || hwloc_topology_load(h) < 0) {
        hwloc_topology_destroy(h);
        return NFV_ERR(err, NFV_E_PARSE, "'%s': not an hwloc synthetic description", desc);
    }
    snprintf(source, sizeof(source), "synthetic:%s", desc);
    rc = convert(h, false, source, ret_topo, err);
    hwloc_topology_destroy(h);
    return rc;
}
