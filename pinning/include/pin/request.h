/*
 * pin/request.h - what a VM asks for: its vCPUs and how each is pinned.
 *
 * Per vCPU, one of the three modes of the reference article (section 4):
 *   exclusive - one vCPU on one PU nothing else uses; the VM's thread policy
 *               says what happens to the PU's SMT siblings:
 *                 isolate  the siblings stay empty (blocked for everybody),
 *                 prefer   the VM's own exclusive vCPUs are packed on the
 *                          siblings of one core first; falls back to any PU,
 *                 require  like prefer, but fails if vCPUs cannot fill
 *                          whole cores (an odd count on SMT-2 leaves the
 *                          last sibling blocked, never given to another VM);
 *   shared    - the VM's light vCPUs together on one PU (or n_shared_pus
 *               PUs) reserved for this group alone, not a host-wide pool;
 *   numbered  - the operator names the PU of each vCPU (vcpu_pu[]); the
 *               planner checks it exists, is dedicated and free.
 * A VM mixes modes freely: vCPU 0 shared, vCPUs 1-3 exclusive is the usual
 * VNF shape. For the whole VM: emulator-thread policy, NUMA policy, memory
 * binding, hugepages, I/O threads, and an optional NIC whose node the PUs
 * should be on.
 *
 * Neighbours: plan.h (the planner turns a request into a plan). Pure.
 */
#ifndef PIN_REQUEST_H
#define PIN_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/topo.h"

#define PIN_MAX_VCPUS 4096

enum pin_cpu_mode { PIN_MODE_EXCLUSIVE, PIN_MODE_SHARED, PIN_MODE_NUMBERED, PIN_MODE__COUNT };

enum pin_thread_policy {
    PIN_THREAD_ISOLATE,
    PIN_THREAD_PREFER,
    PIN_THREAD_REQUIRE,
    PIN_THREAD__COUNT
};

enum pin_emulator_policy {
    PIN_EMU_RESERVED, /* on the host-reserved PUs (or the floating shared pool if none) */
    PIN_EMU_SHARED,   /* on the VM's shared-group PU(s); needs a shared vCPU */
    PIN_EMU_ISOLATE,  /* on one extra dedicated PU of its own */
    PIN_EMU_VCPUS,    /* floating over the VM's own vCPU PUs (libvirt's default; for hosts
                       * with no PU to spare) */
    PIN_EMU_AUTO,     /* the default: 'reserved' when the host has reserved (or shared-pool)
                       * PUs, else 'vcpus' (Nova's default); the plan records which */
    PIN_EMU__COUNT
};

enum pin_numa_policy {
    PIN_NUMA_SINGLE, /* every PU on one node */
    PIN_NUMA_SPREAD, /* across nodes, with a guest NUMA layout to match */
    PIN_NUMA_AUTO,   /* the default: 'spread' when numbered PUs span nodes, else 'single';
                      * the plan records which */
    PIN_NUMA__COUNT
};

enum pin_nic_policy {
    PIN_NIC_NONE,
    PIN_NIC_REQUIRED,  /* PUs must be on the NIC's node */
    PIN_NIC_PREFERRED, /* on the NIC's node if it fits, else elsewhere */
    PIN_NIC__COUNT
};

const char *pin_cpu_mode_to_string(enum pin_cpu_mode m);
enum pin_cpu_mode pin_cpu_mode_from_string(const char *s); /* __COUNT if unknown */
const char *pin_thread_policy_to_string(enum pin_thread_policy p);
enum pin_thread_policy pin_thread_policy_from_string(const char *s);
const char *pin_emulator_policy_to_string(enum pin_emulator_policy p);
enum pin_emulator_policy pin_emulator_policy_from_string(const char *s);
const char *pin_numa_policy_to_string(enum pin_numa_policy p);
enum pin_numa_policy pin_numa_policy_from_string(const char *s);
const char *pin_nic_policy_to_string(enum pin_nic_policy p);
enum pin_nic_policy pin_nic_policy_from_string(const char *s);

struct pin_request {
    unsigned n_vcpus;
    uint8_t *vcpu_mode;    /* [n_vcpus] enum pin_cpu_mode (owned) */
    int16_t *vcpu_pu;      /* [n_vcpus] numbered: host PU OS index; -1 otherwise (owned) */
    unsigned n_shared_pus; /* PUs of the VM's shared group (default 1) */
    enum pin_thread_policy thread_policy; /* default isolate */
    enum pin_emulator_policy emulator;    /* default auto */
    enum pin_numa_policy numa;            /* default auto */
    int numa_node;                        /* host node OS index to use, -1 = planner picks */
    char nic[PIN_NIC_NAME_SIZE];          /* NIC name or PCI address, "" = none */
    enum pin_nic_policy nic_policy;       /* default required when nic is set */
    unsigned n_iothreads;                 /* pinned with the emulator threads */
    uint64_t mem_mib;                     /* guest memory (for <numa> cells); 0 = unknown */
    uint64_t hugepage_kib;                /* 0 = no hugepages */
    bool is_mem_strict; /* <numatune mode='strict'> to the PUs' nodes (default true) */
};

/* A request for @n_vcpus (1..PIN_MAX_VCPUS) vCPUs, all in @mode (numbered
 * vCPUs start with vcpu_pu = -1 and must be set), defaults as above.
 * Errors: NFV_E_INVAL naming 'vcpus', NFV_E_NOMEM. */
enum nfv_code pin_request_new(unsigned n_vcpus, enum pin_cpu_mode mode,
                              struct pin_request **ret_req, struct nfv_err *err);
void pin_request_free(struct pin_request *req);
/* Deep copy, NULL on allocation failure. */
struct pin_request *pin_request_dup(const struct pin_request *req);

/*
 * Parses a vCPU list "0,2-3" (the --shared-vcpus syntax, cpuset list syntax
 * over vCPU numbers) and sets those vCPUs to @mode. Errors: NFV_E_INVAL
 * ("'0,9': vCPU 9 is out of range (VM has 4 vCPUs)").
 */
enum nfv_code pin_request_set_mode_list(struct pin_request *req, const char *list,
                                        enum pin_cpu_mode mode, struct nfv_err *err);

/*
 * Parses a numbered map "0:4,1:6" (vCPU:PU) and makes those vCPUs numbered
 * on those PUs. @n_max_pu bounds the PU indices (host max_pu, or PIN_MAX_PUS).
 * Errors: NFV_E_INVAL quoting the item ("'1:x': PU is not a number",
 * "'5:2': vCPU 5 is out of range", "'1:4': vCPU 1 appears twice",
 * "'1:4': PU 4 is already given to vCPU 0").
 */
enum nfv_code pin_request_set_cpu_map(struct pin_request *req, const char *map, unsigned n_max_pu,
                                      struct nfv_err *err);

/* Consistency of the request on its own (numbered vCPUs all mapped, no PU
 * twice, emulator 'shared' needs a shared vCPU, n_shared_pus <= shared
 * vCPUs, nic policy without nic, ...). NFV_E_INVAL naming the field. */
enum nfv_code pin_request_validate(const struct pin_request *req, struct nfv_err *err);

/* Counts per mode, for quick capacity filters. */
struct pin_demand {
    unsigned n_exclusive;
    unsigned n_shared_vcpus;
    unsigned n_shared_pus; /* 0 when no shared vCPU */
    unsigned n_numbered;
    unsigned n_emulator_pus; /* 1 with PIN_EMU_ISOLATE */
    /* dedicated PUs the VM takes off the host counting blocked siblings,
     * for a host with @threads_per_core (as given to pin_request_demand) */
    unsigned n_pus_worst;
};
void pin_request_demand(const struct pin_request *req, unsigned threads_per_core,
                        struct pin_demand *ret_demand);

/* JSON form (daemon API, persistence); round-trips exactly. */
json_t *pin_request_to_json(const struct pin_request *req);
enum nfv_code pin_request_from_json(const json_t *v, struct pin_request **ret_req,
                                    struct nfv_err *err);

#endif /* PIN_REQUEST_H */
