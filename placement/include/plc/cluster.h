/*
 * plc/cluster.h - the cluster model the placement engine decides on.
 *
 * A cluster is a set of hosts (each with NUMA nodes, free-core bitmaps,
 * memory and hugepage pools, failure-domain labels, capabilities and a
 * state), the VMs placed on them, and the redundancy groups those VMs belong
 * to (ACT/SBY members with an anti-affinity scope). The model keeps the
 * free cores per node and, per failure domain, a witness rebuild of the
 * members on it (the healing reserve, plc_heal.c), updated incrementally so
 * that a request at 10,000 hosts costs a scan of the hosts plus the
 * domains it can affect.
 *
 * Capacity model. A VM needs whole physical cores (DESIGN.md: an exclusive
 * vCPU owns a core; a group of shared vCPUs owns one core together; numbered
 * vCPUs name their core). The engine picks the NUMA node(s) and the core ids
 * from the node's free bitmap; pinning/ (issue 3) turns that into per-PU
 * <cputune>. Memory and hugepages are per NUMA node and follow the cores.
 *
 * Neighbours: engine.h (requests, placement, explain), plan.h (evacuation,
 * drain, defragment), json.h (the cluster-file loader, an adapter).
 * Pure: no I/O, no clock; all functions are deterministic.
 *
 * Struct fields are readable by callers (tests, the CLI renderer); change the
 * model only through the functions below so the aggregates stay true.
 */
#ifndef PLC_CLUSTER_H
#define PLC_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"

#define PLC_MAX_NODES    8  /* NUMA nodes per host */
#define PLC_NODE_WORDS   4  /* 256 cores per NUMA node */
#define PLC_MAX_CAPS     64 /* distinct "key=value" capabilities in a cluster */
#define PLC_MAX_VM_NODES 4  /* NUMA nodes one VM may span */
#define PLC_MAX_NUMBERED 32 /* numbered (operator-named) cores per VM */
#define PLC_NONE         UINT32_MAX

/* Failure-domain scopes, finest first; host < rack < zone nest, power is a
 * separate feed label. */
enum plc_scope {
    PLC_SCOPE_HOST,
    PLC_SCOPE_RACK,
    PLC_SCOPE_ZONE,
    PLC_SCOPE_POWER,
    PLC_SCOPE__COUNT
};
enum plc_host_state { PLC_HOST_UP, PLC_HOST_MAINTENANCE, PLC_HOST_DOWN, PLC_HOST__COUNT };
enum plc_role { PLC_ROLE_NONE, PLC_ROLE_ACT, PLC_ROLE_SBY, PLC_ROLE__COUNT };

const char *plc_scope_to_string(enum plc_scope s);
enum plc_scope plc_scope_from_string(const char *s); /* PLC_SCOPE__COUNT if unknown */
const char *plc_host_state_to_string(enum plc_host_state s);
enum plc_host_state plc_host_state_from_string(const char *s);
const char *plc_role_to_string(enum plc_role r);
enum plc_role plc_role_from_string(const char *s);

/* One NUMA node of a host. Core i of the node has host-wide id first_core+i. */
struct plc_node {
    uint64_t free_cores[PLC_NODE_WORDS]; /* bit i set = local core i is free */
    uint64_t os_cores[PLC_NODE_WORDS];   /* bit i set = local core i is reserved for the
                                          * host OS (never free, held by no VM) */
    uint16_t n_cores;
    uint16_t n_free;
    uint16_t first_core;
    uint32_t mem_mib, free_mem_mib;
    uint32_t hp_mib, free_hp_mib;
};

/* Host shape as the loader gives it (topology + pools). */
struct plc_host_spec {
    const char *name;
    enum plc_host_state state;
    const char *labels[PLC_SCOPE__COUNT]; /* [RACK], [ZONE], [POWER]; NULL = "-" */
    uint8_t n_nodes;
    uint16_t cores_per_node[PLC_MAX_NODES];
    uint8_t threads_per_core;
    uint32_t mem_mib_per_node[PLC_MAX_NODES];
    uint32_t hp_mib_per_node[PLC_MAX_NODES];
    /* Host-wide core ids kept for the host OS (not allocatable), as a
     * bitmap over the host's cores; may be NULL. */
    const uint64_t *reserved_cores;
    size_t n_reserved_words;
    uint8_t nic_nodes; /* bit n: a data-plane NIC is attached to node n */
    size_t n_caps;
    const char *const *caps; /* "key=value" strings */
};

struct plc_host {
    char *name;
    enum plc_host_state state;
    uint32_t dom[PLC_SCOPE__COUNT]; /* domain index per scope; dom[HOST] = host index */
    uint64_t caps;                  /* bit i = capability i of the cluster */
    uint8_t n_nodes;
    uint8_t threads_per_core;
    uint8_t nic_nodes;
    uint16_t n_cores; /* total, including reserved ones */
    uint32_t n_vms;
    bool is_removed; /* plc_cluster_remove_host(): a tombstone, down, holds nothing */
    struct plc_node nodes[PLC_MAX_NODES];
};

/* What one VM needs. Cores = exclusive vCPUs + shared-vCPU cores + numbered. */
struct plc_demand {
    uint16_t n_vcpus;
    uint16_t n_cores;        /* physical cores, numbered ones included */
    uint8_t numa_nodes;      /* exactly this many nodes (1 = single node) */
    uint8_t node_mask;       /* 0: any node; else bit n: only node n may hold it */
    bool is_nic_local;       /* prefer (weigher) nodes with a data-plane NIC */
    uint32_t mem_mib;        /* normal memory, split evenly over the nodes */
    uint32_t hp_mib;         /* hugepage-backed memory, split evenly over the nodes */
    uint64_t caps;           /* required capabilities (cluster bit indexes) */
    uint16_t n_shared_vcpus; /* light vCPUs sharing n_shared_cores cores */
    uint16_t n_shared_cores;
    uint16_t n_numbered; /* host-wide core ids the operator named */
    uint16_t numbered[PLC_MAX_NUMBERED];
};

/* Where a VM sits on one node. */
struct plc_part {
    uint8_t node;
    uint16_t n_cores;
    uint32_t mem_mib, hp_mib;
    uint64_t cores[PLC_NODE_WORDS]; /* node-local core bitmap */
};

/* A placement decision for one VM: host and per-node parts. */
struct plc_choice {
    uint32_t host;
    uint8_t n_parts;
    struct plc_part parts[PLC_MAX_VM_NODES];
};

struct plc_vm {
    char *name;     /* NULL: free slot */
    uint32_t group; /* PLC_NONE if not in a group */
    enum plc_role role;
    struct plc_demand demand;
    struct plc_choice at; /* at.host = PLC_NONE if lost (its host failed) */
};

struct plc_group {
    char *name;
    enum plc_scope scope;
    bool is_soft; /* anti-affinity is a preference, not a filter */
    uint32_t n_members;
    uint32_t *members; /* vm indexes */
};

/* What the healing reserve must survive: any one host always (unless none),
 * and any one rack, zone or power feed when that is configured. */
enum plc_failure {
    PLC_FAILURE_NONE,
    PLC_FAILURE_HOST,
    PLC_FAILURE_RACK,
    PLC_FAILURE_ZONE,
    PLC_FAILURE_POWER,
    PLC_FAILURE__COUNT
};
const char *plc_failure_to_string(enum plc_failure f);
enum plc_failure plc_failure_from_string(const char *s);

enum plc_weigher { PLC_W_PACK, PLC_W_SPREAD, PLC_W_NIC_LOCAL, PLC_W__COUNT };
const char *plc_weigher_to_string(enum plc_weigher w);
enum plc_weigher plc_weigher_from_string(const char *s);

struct plc_config {
    enum plc_failure failure; /* what the healing reserve must survive */
    double weights[PLC_W__COUNT];
};

/* Default: failure host, pack 1, spread 0, nic_local 1. */
void plc_config_init(struct plc_config *cfg);

struct plc_cluster; /* opaque owner; fields reached through accessors */

/* Creates an empty cluster with @cfg (copied; NULL = defaults). NULL on ENOMEM. */
struct plc_cluster *plc_cluster_new(const struct plc_config *cfg);
void plc_cluster_free(struct plc_cluster *c);
/* Deep copy (for what-if and plans). NULL on ENOMEM. */
struct plc_cluster *plc_cluster_clone(const struct plc_cluster *c);

/*
 * Adds a host. Errors: NFV_E_EXIST (name taken), NFV_E_INVAL (more than
 * PLC_MAX_NODES nodes or PLC_NODE_WORDS*64 cores per node, more than
 * PLC_MAX_CAPS capabilities, a rack in two zones), NFV_E_NOMEM.
 */
enum nfv_code plc_cluster_add_host(struct plc_cluster *c, const struct plc_host_spec *spec,
                                   uint32_t *ret_host, struct nfv_err *err);
/* Changes a host's state (down/maintenance hosts take nothing new).
 * NFV_E_NOENT for a removed host. O(log hosts) (the reserve's trees). */
enum nfv_code plc_cluster_set_state(struct plc_cluster *c, uint32_t host, enum plc_host_state st,
                                    struct nfv_err *err);
/*
 * Removes an empty host from a long-lived cluster. Host indexes stay stable
 * (VM choices and the caller's maps hold them), so the slot becomes a
 * tombstone: state down, no free core or memory, is_removed set, its name
 * free for a later plc_cluster_add_host (which gets a new index). Lost VMs
 * that were on it keep their (hostless) records. Errors: NFV_E_NOENT (no
 * such host or already removed), NFV_E_STATE (the host still holds VMs,
 * naming how many: remove or move them first).
 */
enum nfv_code plc_cluster_remove_host(struct plc_cluster *c, uint32_t host, struct nfv_err *err);

/* Declares a group (NFV_E_EXIST if the name is taken with another scope). */
enum nfv_code plc_cluster_add_group(struct plc_cluster *c, const char *name, enum plc_scope scope,
                                    bool is_soft, uint32_t *ret_group, struct nfv_err *err);

/*
 * Records a VM at @at (cores must be free: NFV_E_EXIST names the first busy
 * core; NFV_E_NOCAP if memory or hugepages are short). @group may be
 * PLC_NONE. No filter runs: this is for existing state and for committing
 * engine decisions. Returns the vm index.
 */
enum nfv_code plc_cluster_add_vm(struct plc_cluster *c, const char *name, uint32_t group,
                                 enum plc_role role, const struct plc_demand *d,
                                 const struct plc_choice *at, uint32_t *ret_vm,
                                 struct nfv_err *err);
/* Removes a VM and frees its resources. */
void plc_cluster_remove_vm(struct plc_cluster *c, uint32_t vm);
/* Moves a VM to @to (the resources at the old place are released). */
enum nfv_code plc_cluster_move_vm(struct plc_cluster *c, uint32_t vm, const struct plc_choice *to,
                                  struct nfv_err *err);
/* Marks a VM lost (its host failed): it keeps its name and group but holds
 * no resources; at.host becomes PLC_NONE. */
void plc_cluster_lose_vm(struct plc_cluster *c, uint32_t vm);
/* Changes a VM's role (promotion of an SBY). */
void plc_cluster_set_role(struct plc_cluster *c, uint32_t vm, enum plc_role role);

/* Lookups; PLC_NONE if absent. */
uint32_t plc_cluster_find_host(const struct plc_cluster *c, const char *name);
uint32_t plc_cluster_find_vm(const struct plc_cluster *c, const char *name);
uint32_t plc_cluster_find_group(const struct plc_cluster *c, const char *name);
/* Capability bit for "key=value", PLC_NONE if no host has it. */
uint32_t plc_cluster_find_cap(const struct plc_cluster *c, const char *kv);
/* Domain index for a label at @scope (RACK/ZONE/POWER), PLC_NONE if unknown. */
uint32_t plc_cluster_find_domain(const struct plc_cluster *c, enum plc_scope scope,
                                 const char *label);

/* Borrowed views; valid until the next change of the cluster. */
size_t plc_cluster_n_hosts(const struct plc_cluster *c);
const struct plc_host *plc_cluster_host(const struct plc_cluster *c, uint32_t host);
size_t plc_cluster_n_vm_slots(const struct plc_cluster *c); /* includes free slots */
const struct plc_vm *plc_cluster_vm(const struct plc_cluster *c, uint32_t vm);
size_t plc_cluster_n_groups(const struct plc_cluster *c);
const struct plc_group *plc_cluster_group(const struct plc_cluster *c, uint32_t group);
size_t plc_cluster_n_domains(const struct plc_cluster *c, enum plc_scope scope);
const char *plc_cluster_domain_name(const struct plc_cluster *c, enum plc_scope scope,
                                    uint32_t dom);
const struct plc_config *plc_cluster_config(const struct plc_cluster *c);

/*
 * Healing reserve per zone: what the reserve must survive for the hosts of
 * zone @zone (a zone label some host has), instead of cfg.failure. A host's
 * own failure is checked when its zone's failure is not none; a rack, zone
 * or power domain is checked when it holds a host whose zone's failure is
 * that kind. Zones not set follow cfg.failure. Errors: NFV_E_NOENT (no
 * host has that zone), NFV_E_INVAL (bad @f), NFV_E_NOMEM.
 */
enum nfv_code plc_cluster_set_zone_failure(struct plc_cluster *c, const char *zone,
                                           enum plc_failure f, struct nfv_err *err);
/* The failure the reserve must survive for zone @zone (index). */
enum plc_failure plc_cluster_zone_failure(const struct plc_cluster *c, uint32_t zone);
/* true if some failure domain is checked (cfg.failure or a zone's is not none). */
bool plc_cluster_has_reserve(const struct plc_cluster *c);
/* Host-wide core id of local core @i on @node of @h. */
static inline unsigned plc_core_id(const struct plc_host *h, unsigned node, unsigned i)
{
    return (unsigned)h->nodes[node].first_core + i;
}

/* Bytes the model holds per host (host struct plus index share), for the
 * benchmark's memory figure. */
size_t plc_cluster_bytes_per_host(const struct plc_cluster *c);

/*
 * Healing reserve status: true if, for every failure domain of the checked
 * kinds (every host; and every rack, zone or power feed when that is the
 * configured failure), every group member on it can be rebuilt on the
 * surviving hosts with its capabilities, NUMA-shaped cores (numbered ones
 * included), memory and hugepages, its group's members pairwise apart at
 * the group's scope (plc_heal.c: a witness rebuild per domain). When
 * false, @ret_domain names the first domain that breaks it (a host index,
 * or a rack/zone/power index; see plc_reserve_uncovered for which).
 */
bool plc_reserve_holds(const struct plc_cluster *c, uint32_t *ret_domain);
/* When the reserve does not hold: true, with the kind and index of the
 * first uncovered failure domain and the first member it would lose (vm
 * index, PLC_NONE if unknown). */
bool plc_reserve_uncovered(const struct plc_cluster *c, enum plc_scope *ret_kind, uint32_t *ret_dom,
                           uint32_t *ret_vm);

#endif /* PLC_CLUSTER_H */
