/*
 * pin_request.c - a VM's pin request: enum names, building, parsing the
 * CLI/API forms (--shared-vcpus lists, --cpu-map "0:4,1:6"), validation,
 * demand counts and JSON.
 *
 * Validation here is about the request alone; whether it fits a host (PU
 * exists, is dedicated, is free) is the planner's job (pin_plan.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/request.h"

static const char *const mode_names[PIN_MODE__COUNT] = {"exclusive", "shared", "numbered"};
static const char *const thread_names[PIN_THREAD__COUNT] = {"isolate", "prefer", "require"};
static const char *const emu_names[PIN_EMU__COUNT] = {"reserved", "shared", "isolate", "vcpus",
                                                      "auto"};
static const char *const numa_names[PIN_NUMA__COUNT] = {"single", "spread", "auto"};
static const char *const nic_names[PIN_NIC__COUNT] = {"none", "required", "preferred"};

static int name_lookup(const char *const *names, int n, const char *s)
{
    if (s)
        for (int i = 0; i < n; i++)
            if (strcmp(names[i], s) == 0)
                return i;
    return n;
}

const char *pin_cpu_mode_to_string(enum pin_cpu_mode m)
{
    return m < PIN_MODE__COUNT ? mode_names[m] : "?";
}
enum pin_cpu_mode pin_cpu_mode_from_string(const char *s)
{
    return (enum pin_cpu_mode)name_lookup(mode_names, PIN_MODE__COUNT, s);
}
const char *pin_thread_policy_to_string(enum pin_thread_policy p)
{
    return p < PIN_THREAD__COUNT ? thread_names[p] : "?";
}
enum pin_thread_policy pin_thread_policy_from_string(const char *s)
{
    return (enum pin_thread_policy)name_lookup(thread_names, PIN_THREAD__COUNT, s);
}
const char *pin_emulator_policy_to_string(enum pin_emulator_policy p)
{
    return p < PIN_EMU__COUNT ? emu_names[p] : "?";
}
enum pin_emulator_policy pin_emulator_policy_from_string(const char *s)
{
    return (enum pin_emulator_policy)name_lookup(emu_names, PIN_EMU__COUNT, s);
}
const char *pin_numa_policy_to_string(enum pin_numa_policy p)
{
    return p < PIN_NUMA__COUNT ? numa_names[p] : "?";
}
enum pin_numa_policy pin_numa_policy_from_string(const char *s)
{
    return (enum pin_numa_policy)name_lookup(numa_names, PIN_NUMA__COUNT, s);
}
const char *pin_nic_policy_to_string(enum pin_nic_policy p)
{
    return p < PIN_NIC__COUNT ? nic_names[p] : "?";
}
enum pin_nic_policy pin_nic_policy_from_string(const char *s)
{
    return (enum pin_nic_policy)name_lookup(nic_names, PIN_NIC__COUNT, s);
}

enum nfv_code pin_request_new(unsigned n_vcpus, enum pin_cpu_mode mode,
                              struct pin_request **ret_req, struct nfv_err *err)
{
    struct pin_request *r;

    if (n_vcpus < 1 || n_vcpus > PIN_MAX_VCPUS)
        return NFV_ERR(err, NFV_E_INVAL, "'vcpus': %u is out of range (1..%d)", n_vcpus,
                       PIN_MAX_VCPUS);
    if (mode >= PIN_MODE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'cpu-mode': unknown mode");
    r = calloc(1, sizeof(*r));
    if (!r || !(r->vcpu_mode = malloc(n_vcpus)) ||
        !(r->vcpu_pu = malloc(n_vcpus * sizeof(*r->vcpu_pu)))) {
        pin_request_free(r);
        return NFV_ERR(err, NFV_E_NOMEM, "request: out of memory");
    }
    r->n_vcpus = n_vcpus;
    memset(r->vcpu_mode, mode, n_vcpus);
    for (unsigned i = 0; i < n_vcpus; i++)
        r->vcpu_pu[i] = -1;
    r->n_shared_pus = 1;
    r->thread_policy = PIN_THREAD_ISOLATE;
    r->emulator = PIN_EMU_AUTO;
    r->numa = PIN_NUMA_AUTO;
    r->numa_node = -1;
    r->nic_policy = PIN_NIC_NONE;
    r->is_mem_strict = true;
    *ret_req = r;
    return NFV_OK;
}

void pin_request_free(struct pin_request *req)
{
    if (!req)
        return;
    free(req->vcpu_mode);
    free(req->vcpu_pu);
    free(req);
}

struct pin_request *pin_request_dup(const struct pin_request *req)
{
    struct pin_request *r;

    if (pin_request_new(req->n_vcpus, PIN_MODE_EXCLUSIVE, &r, NULL))
        return NULL;
    uint8_t *modes = r->vcpu_mode;
    int16_t *pus = r->vcpu_pu;
    *r = *req;
    r->vcpu_mode = modes;
    r->vcpu_pu = pus;
    memcpy(modes, req->vcpu_mode, req->n_vcpus);
    memcpy(pus, req->vcpu_pu, req->n_vcpus * sizeof(*pus));
    return r;
}

enum nfv_code pin_request_set_mode_list(struct pin_request *req, const char *list,
                                        enum pin_cpu_mode mode, struct nfv_err *err)
{
    struct pin_cpuset set;
    enum nfv_code rc;
    int last;

    rc = pin_cpuset_parse(list, PIN_MAX_PUS, false, &set, err);
    if (rc)
        return rc;
    /* highest vCPU in the list */
    last = -1;
    for (int v = pin_cpuset_first(&set); v >= 0; v = pin_cpuset_next(&set, v + 1))
        last = v;
    if (last >= (int)req->n_vcpus)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': vCPU %d is out of range (VM has %u vCPUs)", list,
                       last, req->n_vcpus);
    for (int v = pin_cpuset_first(&set); v >= 0; v = pin_cpuset_next(&set, v + 1)) {
        req->vcpu_mode[v] = (uint8_t)mode;
        if (mode != PIN_MODE_NUMBERED)
            req->vcpu_pu[v] = -1;
    }
    return NFV_OK;
}

/* Parses an unsigned decimal at *p; false if none or too large. */
static bool parse_uint(const char **p, unsigned long max, unsigned long *ret)
{
    char *end;
    unsigned long v;

    if (!isdigit((unsigned char)**p))
        return false;
    errno = 0;
    v = strtoul(*p, &end, 10);
    if (errno || v > max)
        return false;
    *p = end;
    *ret = v;
    return true;
}

enum nfv_code pin_request_set_cpu_map(struct pin_request *req, const char *map, unsigned n_max_pu,
                                      struct nfv_err *err)
{
    int16_t *pus;
    const char *p = map;

    if (!map || !*map)
        return NFV_ERR(err, NFV_E_INVAL, "empty map (expected VCPU:PU[,VCPU:PU...])");
    pus = malloc(req->n_vcpus * sizeof(*pus));
    if (!pus)
        return NFV_ERR(err, NFV_E_NOMEM, "cpu map: out of memory");
    for (unsigned i = 0; i < req->n_vcpus; i++)
        pus[i] = -1;
    for (;;) {
        const char *item = p;
        int item_len = (int)strcspn(item, ",");
        unsigned long v, pu;

        if (!parse_uint(&p, 1UL << 20, &v) || *p != ':') {
            free(pus);
            return NFV_ERR(err, NFV_E_INVAL, "'%.*s': expected VCPU:PU", item_len, item);
        }
        p++;
        if (!parse_uint(&p, 1UL << 20, &pu) || (*p != ',' && *p != '\0')) {
            free(pus);
            return NFV_ERR(err, NFV_E_INVAL, "'%.*s': PU is not a number", item_len, item);
        }
        if (v >= req->n_vcpus) {
            free(pus);
            return NFV_ERR(err, NFV_E_INVAL, "'%.*s': vCPU %lu is out of range (VM has %u vCPUs)",
                           item_len, item, v, req->n_vcpus);
        }
        if (pu >= n_max_pu) {
            free(pus);
            return NFV_ERR(err, NFV_E_INVAL, "'%.*s': PU %lu is out of range (host has PUs 0-%u)",
                           item_len, item, pu, n_max_pu - 1);
        }
        if (pus[v] >= 0) {
            free(pus);
            return NFV_ERR(err, NFV_E_INVAL, "'%.*s': vCPU %lu appears twice", item_len, item, v);
        }
        for (unsigned i = 0; i < req->n_vcpus; i++)
            if (pus[i] == (int16_t)pu) {
                free(pus);
                return NFV_ERR(err, NFV_E_INVAL, "'%.*s': PU %lu is already given to vCPU %u",
                               item_len, item, pu, i);
            }
        pus[v] = (int16_t)pu;
        if (*p == '\0')
            break;
        p++;
    }
    for (unsigned i = 0; i < req->n_vcpus; i++)
        if (pus[i] >= 0) {
            req->vcpu_mode[i] = PIN_MODE_NUMBERED;
            req->vcpu_pu[i] = pus[i];
        }
    free(pus);
    return NFV_OK;
}

enum nfv_code pin_request_validate(const struct pin_request *req, struct nfv_err *err)
{
    struct pin_cpuset seen; /* PUs of numbered vCPUs so far */
    unsigned n_shared = 0;

    if (req->n_vcpus < 1 || req->n_vcpus > PIN_MAX_VCPUS)
        return NFV_ERR(err, NFV_E_INVAL, "'vcpus': %u is out of range (1..%d)", req->n_vcpus,
                       PIN_MAX_VCPUS);
    if (req->thread_policy >= PIN_THREAD__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'thread-policy': unknown policy");
    if (req->emulator >= PIN_EMU__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'emulator': unknown policy");
    if (req->numa >= PIN_NUMA__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'numa': unknown policy");
    if (req->nic_policy >= PIN_NIC__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'nic-policy': unknown policy");
    if (req->nic_policy != PIN_NIC_NONE && !req->nic[0])
        return NFV_ERR(err, NFV_E_INVAL, "'nic-policy': '%s' without a NIC",
                       pin_nic_policy_to_string(req->nic_policy));
    if (req->nic[0] && req->numa_node >= 0)
        return NFV_ERR(err, NFV_E_INVAL, "'numa-node' and 'nic' conflict: give one of them");
    pin_cpuset_zero(&seen);
    for (unsigned i = 0; i < req->n_vcpus; i++) {
        if (req->vcpu_mode[i] >= PIN_MODE__COUNT)
            return NFV_ERR(err, NFV_E_INVAL, "vcpu %u: unknown cpu mode", i);
        if (req->vcpu_mode[i] == PIN_MODE_SHARED)
            n_shared++;
        if (req->vcpu_mode[i] == PIN_MODE_NUMBERED) {
            int pu = req->vcpu_pu[i];
            if (pu < 0 || pu >= PIN_MAX_PUS)
                return NFV_ERR(err, NFV_E_INVAL, "'cpu-map': numbered vCPU %u has no PU", i);
            if (pin_cpuset_test(&seen, (unsigned)pu)) {
                unsigned j = 0;
                while (req->vcpu_mode[j] != PIN_MODE_NUMBERED || req->vcpu_pu[j] != pu)
                    j++;
                return NFV_ERR(err, NFV_E_INVAL, "'cpu-map': PU %d is given to vCPUs %u and %u", pu,
                               j, i);
            }
            pin_cpuset_set(&seen, (unsigned)pu);
        }
    }
    if (req->emulator == PIN_EMU_SHARED && n_shared == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'emulator': 'shared' needs at least one shared vCPU");
    if (n_shared && (req->n_shared_pus < 1 || req->n_shared_pus > n_shared))
        return NFV_ERR(err, NFV_E_INVAL, "'shared-pus': %u must be 1..%u (the shared vCPUs)",
                       req->n_shared_pus, n_shared);
    if (req->hugepage_kib && (req->hugepage_kib & (req->hugepage_kib - 1)))
        return NFV_ERR(err, NFV_E_INVAL, "'hugepages': %llu KiB is not a power of two",
                       (unsigned long long)req->hugepage_kib);
    return NFV_OK;
}

void pin_request_demand(const struct pin_request *req, unsigned threads_per_core,
                        struct pin_demand *ret_demand)
{
    struct pin_demand d = {0};
    unsigned picks;

    if (threads_per_core < 1)
        threads_per_core = 1;
    for (unsigned i = 0; i < req->n_vcpus; i++) {
        switch (req->vcpu_mode[i]) {
        case PIN_MODE_EXCLUSIVE:
            d.n_exclusive++;
            break;
        case PIN_MODE_SHARED:
            d.n_shared_vcpus++;
            break;
        default:
            d.n_numbered++;
            break;
        }
    }
    d.n_shared_pus = d.n_shared_vcpus ? req->n_shared_pus : 0;
    d.n_emulator_pus = req->emulator == PIN_EMU_ISOLATE ? 1 : 0;
    picks = d.n_exclusive + d.n_shared_pus + d.n_emulator_pus;
    /* isolate takes a whole core per pick; require rounds up to whole cores;
     * prefer may end up the same in the worst case (no whole core left). */
    if (req->thread_policy == PIN_THREAD_ISOLATE)
        d.n_pus_worst = picks * threads_per_core;
    else
        d.n_pus_worst = (picks + threads_per_core - 1) / threads_per_core * threads_per_core;
    d.n_pus_worst += d.n_numbered;
    *ret_demand = d;
}

json_t *pin_request_to_json(const struct pin_request *req)
{
    json_t *modes = json_array(), *pus = json_array();

    for (unsigned i = 0; i < req->n_vcpus; i++) {
        json_array_append_new(modes, json_string(pin_cpu_mode_to_string(req->vcpu_mode[i])));
        json_array_append_new(pus, json_integer(req->vcpu_pu[i]));
    }
    return json_pack("{s:i,s:o,s:o,s:i,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:I,s:I,s:b}", "vcpus",
                     (int)req->n_vcpus, "modes", modes, "pus", pus, "shared_pus",
                     (int)req->n_shared_pus, "thread_policy",
                     pin_thread_policy_to_string(req->thread_policy), "emulator",
                     pin_emulator_policy_to_string(req->emulator), "numa",
                     pin_numa_policy_to_string(req->numa), "numa_node", req->numa_node, "nic",
                     req->nic, "nic_policy", pin_nic_policy_to_string(req->nic_policy), "iothreads",
                     (int)req->n_iothreads, "memory_mib", (json_int_t)req->mem_mib, "hugepage_kib",
                     (json_int_t)req->hugepage_kib, "mem_strict", req->is_mem_strict);
}

enum nfv_code pin_request_from_json(const json_t *v, struct pin_request **ret_req,
                                    struct nfv_err *err)
{
    json_t *modes, *pus;
    int n_vcpus, shared_pus, numa_node, iothreads, strict;
    const char *tp, *emu, *numa, *nic, *nicp;
    json_int_t mem, hp;
    json_error_t jerr;
    struct pin_request *r;
    enum nfv_code rc;

    if (json_unpack_ex((json_t *)v, &jerr, 0,
                       "{s:i,s:o,s:o,s:i,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:I,s:I,s:b}", "vcpus",
                       &n_vcpus, "modes", &modes, "pus", &pus, "shared_pus", &shared_pus,
                       "thread_policy", &tp, "emulator", &emu, "numa", &numa, "numa_node",
                       &numa_node, "nic", &nic, "nic_policy", &nicp, "iothreads", &iothreads,
                       "memory_mib", &mem, "hugepage_kib", &hp, "mem_strict", &strict))
        return NFV_ERR(err, NFV_E_PARSE, "request: %s", jerr.text);
    if (n_vcpus < 1 || !json_is_array(modes) || !json_is_array(pus) ||
        json_array_size(modes) != (size_t)n_vcpus || json_array_size(pus) != (size_t)n_vcpus)
        return NFV_ERR(err, NFV_E_PARSE, "request: 'modes'/'pus' must have 'vcpus' entries");
    rc = pin_request_new((unsigned)n_vcpus, PIN_MODE_EXCLUSIVE, &r, err);
    if (rc)
        return rc;
    for (int i = 0; i < n_vcpus; i++) {
        enum pin_cpu_mode m = pin_cpu_mode_from_string(json_string_value(json_array_get(modes, i)));
        json_t *pu = json_array_get(pus, i);
        if (m == PIN_MODE__COUNT || !json_is_integer(pu) || json_integer_value(pu) < -1 ||
            json_integer_value(pu) >= PIN_MAX_PUS) {
            pin_request_free(r);
            return NFV_ERR(err, NFV_E_PARSE, "request: vcpu %d: bad mode or pu", i);
        }
        r->vcpu_mode[i] = (uint8_t)m;
        r->vcpu_pu[i] = (int16_t)json_integer_value(pu);
    }
    r->n_shared_pus = shared_pus < 0 ? 0 : (unsigned)shared_pus;
    r->thread_policy = pin_thread_policy_from_string(tp);
    r->emulator = pin_emulator_policy_from_string(emu);
    r->numa = pin_numa_policy_from_string(numa);
    r->numa_node = numa_node;
    snprintf(r->nic, sizeof(r->nic), "%s", nic);
    r->nic_policy = pin_nic_policy_from_string(nicp);
    r->n_iothreads = iothreads < 0 ? 0 : (unsigned)iothreads;
    r->mem_mib = (uint64_t)mem;
    r->hugepage_kib = (uint64_t)hp;
    r->is_mem_strict = strict;
    rc = pin_request_validate(r, err);
    if (rc) {
        pin_request_free(r);
        if (rc != NFV_E_INVAL)
            return rc;
        /* Not NFV_ERR(err, ..., "%s", err->msg): the message would be formatted from itself. */
        if (err) {
            nfv_err_prefix(err, "request");
            err->code = NFV_E_PARSE;
        }
        return NFV_E_PARSE;
    }
    *ret_req = r;
    return NFV_OK;
}
