/*
 * pin/topo.h - the pure model of one host's CPU topology.
 *
 * Packages, NUMA nodes (memory, hugepages per size), L3 groups, physical
 * cores, PUs (hardware threads, SMT siblings of a core) and PCI NICs with
 * their NUMA node. The model is built once (by the hwloc adapter pin_hwloc.h,
 * by pin_topo_new_synthetic() or by hand with the pin_topo_add_* builder),
 * sealed with pin_topo_seal(), and is immutable afterwards: identical hosts
 * share one topology through pin_topo_ref()/pin_topo_unref(), so a cluster of
 * 10,000 hosts of three models holds three topologies.
 *
 * Numbering: PUs are identified by their OS index (what Linux and libvirt
 * call CPU n); nodes have a logical index 0..n_nodes-1 (array position) and
 * an OS index (what libvirt's nodeset= uses); cores have a logical index
 * 0..n_cores-1 ordered by (package, node, first PU). The read-only arrays
 * below may be read directly (it is what makes the planner fast); never
 * write them.
 *
 * Neighbours: cpuset.h (the bitmaps), pools.h (which PUs may be used),
 * alloc.h (which are used), pin_hwloc.h (loading a real host). Pure: no I/O.
 */
#ifndef PIN_TOPO_H
#define PIN_TOPO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/cpuset.h"

#define PIN_MAX_NODES     64 /* node OS index must be < 64 (plans keep node masks) */
#define PIN_MAX_SMT       8  /* hardware threads per core */
#define PIN_MAX_HP_SIZES  4  /* hugepage sizes recorded per node */
#define PIN_NIC_NAME_SIZE 32
#define PIN_PCI_ADDR_SIZE 16 /* "0000:3b:00.0" */

struct pin_pu_info {
    uint16_t os_index; /* CPU number */
    uint16_t core;     /* logical core index */
    uint16_t node;     /* logical node index */
    uint16_t package;  /* package (socket) OS index */
    uint16_t l3;       /* L3 group index (0 when unknown) */
    uint8_t smt;       /* position among the core's threads, 0 = first */
};

struct pin_core_info {
    uint16_t pus[PIN_MAX_SMT]; /* OS indices of its threads, ascending */
    uint8_t n_pus;
    uint16_t node;    /* logical node index */
    uint16_t package; /* package OS index */
    uint16_t l3;
};

struct pin_hugepages {
    uint64_t size_kib; /* 2048, 1048576 */
    uint64_t n_total;
    uint64_t n_free;
};

struct pin_node_info {
    unsigned os_index;
    uint16_t package;      /* package OS index of its PUs */
    uint64_t mem_bytes;    /* 0 when unknown */
    struct pin_cpuset pus; /* its PUs */
    unsigned n_pus;
    unsigned n_cores;
    unsigned n_hp; /* entries used in hp[] */
    struct pin_hugepages hp[PIN_MAX_HP_SIZES];
};

struct pin_nic_info {
    char name[PIN_NIC_NAME_SIZE]; /* OS name ("ens1f0"), "" when unknown */
    char pci[PIN_PCI_ADDR_SIZE];  /* PCI address, "" when unknown */
    int node;                     /* logical node index, -1 when hwloc gives no locality */
};

struct pin_topo {
    unsigned refs;
    bool is_sealed;
    unsigned n_packages;
    unsigned n_l3;
    unsigned n_pus;
    unsigned max_pu;              /* highest PU OS index + 1 */
    struct pin_cpuset all;        /* every PU */
    struct pin_pu_info *pu_by_os; /* [max_pu], indexed by OS index; holes have core = UINT16_MAX */
    unsigned n_cores;
    struct pin_core_info *cores;
    unsigned n_nodes;
    struct pin_node_info *nodes;
    unsigned n_nics;
    struct pin_nic_info *nics;
    char *source; /* "synthetic:package:2 ...", "xml:/path", "live" (owned) */
};

/* An empty, unsealed topology with one reference. NULL on allocation failure. */
struct pin_topo *pin_topo_new(void);

/* Adds a NUMA node; returns its logical index in *ret_node. Errors: NFV_E_INVAL
 * (os_index >= PIN_MAX_NODES, duplicate, or topology sealed), NFV_E_NOMEM. */
enum nfv_code pin_topo_add_node(struct pin_topo *t, unsigned os_index, uint64_t mem_bytes,
                                unsigned *ret_node, struct nfv_err *err);

/* Records hugepages of one size on logical node @node (at most PIN_MAX_HP_SIZES sizes). */
enum nfv_code pin_topo_add_hugepages(struct pin_topo *t, unsigned node, uint64_t size_kib,
                                     uint64_t n_total, uint64_t n_free, struct nfv_err *err);

/*
 * Adds PU @os_index on logical node @node, package @package. PUs with equal
 * (@package, @core_id) are SMT siblings of one core; @core_id only needs to
 * be unique within the package (hwloc's core OS index or logical index).
 * @l3 groups cores sharing an L3 (pass 0 when unknown).
 * Errors: NFV_E_INVAL (index >= PIN_MAX_PUS, duplicate, unknown node, more
 * than PIN_MAX_SMT threads per core, sealed), NFV_E_NOMEM.
 */
enum nfv_code pin_topo_add_pu(struct pin_topo *t, unsigned os_index, unsigned node,
                              unsigned package, unsigned core_id, unsigned l3, struct nfv_err *err);

/* Adds a NIC; @node is a logical node index or -1; @name/@pci may be NULL. */
enum nfv_code pin_topo_add_nic(struct pin_topo *t, const char *name, const char *pci, int node,
                               struct nfv_err *err);

/* Sets the human description of where the topology came from (copied). */
enum nfv_code pin_topo_set_source(struct pin_topo *t, const char *source, struct nfv_err *err);

/* Builds the core table and per-node counts and makes @t immutable.
 * Errors: NFV_E_INVAL (no PU, a node without PUs is allowed), NFV_E_NOMEM. */
enum nfv_code pin_topo_seal(struct pin_topo *t, struct nfv_err *err);

/*
 * A regular topology without hwloc: @n_packages x @n_nodes_per_package NUMA
 * nodes x @n_cores_per_node cores x @n_threads PUs, each node with
 * @mem_per_node_mib MiB. PUs are numbered like hwloc's synthetic backend
 * (siblings adjacent: core 0 = PUs 0,1), so it equals the adapter's result
 * for "package:P numa:N core:C pu:T". Returned sealed, one reference.
 * Errors: NFV_E_INVAL (zero or too many PUs/nodes), NFV_E_NOMEM.
 */
enum nfv_code pin_topo_new_synthetic(unsigned n_packages, unsigned n_nodes_per_package,
                                     unsigned n_cores_per_node, unsigned n_threads,
                                     uint64_t mem_per_node_mib, struct pin_topo **ret_topo,
                                     struct nfv_err *err);

/* Takes another reference (returns @t). The count is atomic, so threads may
 * share a sealed topology (it is never written after sealing). */
struct pin_topo *pin_topo_ref(struct pin_topo *t);
/* Drops a reference; frees at zero. NULL is a no-op. */
void pin_topo_unref(struct pin_topo *t);

/* Borrowed PU info, or NULL if @os_index is not a PU of this host. */
const struct pin_pu_info *pin_topo_pu(const struct pin_topo *t, unsigned os_index);
/* Logical node index whose OS index is @os_index, or -1. */
int pin_topo_node_by_os(const struct pin_topo *t, unsigned os_index);
/* NIC whose name or PCI address equals @name_or_pci, or NULL. */
const struct pin_nic_info *pin_topo_nic_find(const struct pin_topo *t, const char *name_or_pci);
/* Threads per core of the first core (1 without SMT). */
unsigned pin_topo_threads_per_core(const struct pin_topo *t);

/* JSON view for `vmmgrctl topology --json` and the daemon's host API:
 * {"source","packages","pus","threads_per_core","nodes":[{"node","package",
 *  "memory_bytes","cpus","n_cores","n_pus","hugepages":[{"size_kib","total","free"}]}],
 *  "cores":[{"core","package","node","l3","pus"}],
 *  "nics":[{"name","pci","node"}]}. Returns a new reference or NULL. */
json_t *pin_topo_to_json(const struct pin_topo *t);

#endif /* PIN_TOPO_H */
