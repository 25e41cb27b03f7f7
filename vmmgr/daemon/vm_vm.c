/*
 * vm_vm.c - VMs and redundancy groups in vmmgrd: create (place -> plan ->
 * domain XML -> define -> start -> verify pins), start/stop/reboot/delete,
 * live pins, pin enforcement on libvirt events, start-up recovery and
 * reconciliation. Hosts, events and the monitor thread are vm_daemon.c's.
 *
 * Two models, one truth. Placement (placement/, plc_) chooses the host and
 * NUMA node with ACT/SBY anti-affinity on a cluster built from the hosts and
 * VMs each time it is asked (cheap at this scale, and never stale); pinning
 * (pinning/, pin_) then plans the exact PUs on that node against the host's
 * pin_alloc, which is the truth about who holds which PU, and the database's
 * allocations table (primary key host+PU) makes that durable.
 *
 * Every step that touches libvirt is journaled first; a create reserves its
 * PUs in the same transaction as its journal entry, so after a crash the
 * entry says what to finish or undo (vm_vm_recover, vm_journal_decide).
 */
#define _GNU_SOURCE /* asprintf, open_memstream */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfv/log.h"
#include "pin/pin_libvirt.h"
#include "plc/cluster.h"
#include "plc/engine.h"
#include "vm_daemon_priv.h"
#include "vm_journal.h"
#include "vm_topo.h"

#define MOD "vm"

/* What a create request asks for (strings borrow from the request JSON). */
struct vm_spec {
    const char *name;
    uint64_t memory_mib;
    const char *host;
    const char *group;
    enum vm_role role;
    const char *disk;
    const json_t *nics;
    bool is_dry_run;
    bool is_reserve_ignored; /* "ignore_reserve": place even if the reserve breaks */
    struct pin_request *req; /* owned */
};

static void spec_clear(struct vm_spec *s)
{
    pin_request_free(s->req);
    s->req = NULL;
}

/* ---- lookup ---- */

static struct vm_rt *vm_find(struct vm_daemon *d, const char *name)
{
    for (size_t i = 0; i < d->n_vms; i++)
        if (strcmp(d->vms[i]->name, name) == 0)
            return d->vms[i];
    return NULL;
}

static void vm_rt_free(struct vm_rt *vm)
{
    if (!vm)
        return;
    pin_request_free(vm->req);
    pin_plan_free(vm->plan);
    free(vm);
}

static void vm_detach(struct vm_daemon *d, struct vm_rt *vm)
{
    for (size_t i = 0; i < d->n_vms; i++) {
        if (d->vms[i] == vm) {
            memmove(&d->vms[i], &d->vms[i + 1], (d->n_vms - i - 1) * sizeof(*d->vms));
            d->n_vms--;
            return;
        }
    }
}

static enum nfv_code vm_append(struct vm_daemon *d, struct vm_rt *vm, struct nfv_err *err)
{
    struct vm_rt **v = realloc(d->vms, (d->n_vms + 1) * sizeof(*v));

    if (!v)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    d->vms = v;
    d->vms[d->n_vms++] = vm;
    return NFV_OK;
}

unsigned vm_vm_count_on(struct vm_daemon *d, const struct host_rt *h)
{
    unsigned n = 0;

    for (size_t i = 0; i < d->n_vms; i++)
        n += d->vms[i]->host == h;
    return n;
}

void vm_vm_free_all(struct vm_daemon *d)
{
    for (size_t i = 0; i < d->n_vms; i++)
        vm_rt_free(d->vms[i]);
    free(d->vms);
    d->vms = NULL;
    d->n_vms = 0;
}

/* ---- request parsing ---- */

static const char *const vm_fields[] = {
    "name",          "vcpus",    "memory_mib", "cpu_mode",       "cpu_map", "shared_vcpus",
    "thread_policy", "emulator", "numa_node",  "host",           "group",   "role",
    "disk",          "nics",     "dry_run",    "ignore_reserve", NULL};

/* A path or bridge name goes into domain XML: no markup characters. */
static enum nfv_code xml_safe(const char *field, const char *s, struct nfv_err *err)
{
    if (strpbrk(s, "<>&'\"") || !*s)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is empty or has <>&'\" characters", field, s);
    return NFV_OK;
}

static enum nfv_code spec_parse(const json_t *body, const char *const *allowed, struct vm_spec *s,
                                struct nfv_err *err)
{
    const char *mode_s = "exclusive", *cpu_map = NULL, *shared = NULL, *thread = NULL, *emu = NULL,
               *role = NULL;
    uint64_t n_vcpus = 0, numa = UINT64_MAX;
    enum pin_cpu_mode mode;
    const json_t *dr, *ir;

    memset(s, 0, sizeof(*s));
    s->role = VM_ROLE_NONE;
    if (vm_req_check_fields(body, allowed, err) ||
        vm_req_get_str(body, "name", true, &s->name, err) ||
        vm_req_name_check("name", s->name, err) ||
        vm_req_get_uint(body, "vcpus", true, 1, PIN_MAX_VCPUS, &n_vcpus, err) ||
        vm_req_get_uint(body, "memory_mib", true, 16, 16u << 20, &s->memory_mib, err) ||
        vm_req_get_str(body, "cpu_mode", false, &mode_s, err) ||
        vm_req_get_str(body, "cpu_map", false, &cpu_map, err) ||
        vm_req_get_str(body, "shared_vcpus", false, &shared, err) ||
        vm_req_get_str(body, "thread_policy", false, &thread, err) ||
        vm_req_get_str(body, "emulator", false, &emu, err) ||
        vm_req_get_uint(body, "numa_node", false, 0, 63, &numa, err) ||
        vm_req_get_str(body, "host", false, &s->host, err) ||
        vm_req_get_str(body, "group", false, &s->group, err) ||
        vm_req_get_str(body, "role", false, &role, err) ||
        vm_req_get_str(body, "disk", false, &s->disk, err))
        return NFV_E_INVAL;
    dr = json_object_get(body, "dry_run");
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    s->is_dry_run = json_is_true(dr);
    ir = json_object_get(body, "ignore_reserve");
    if (ir && !json_is_boolean(ir))
        return NFV_ERR(err, NFV_E_INVAL, "'ignore_reserve': must be true or false");
    s->is_reserve_ignored = json_is_true(ir);
    if (s->host && vm_req_name_check("host", s->host, err))
        return NFV_E_INVAL;
    if (s->group && vm_req_name_check("group", s->group, err))
        return NFV_E_INVAL;
    if (role) {
        s->role = vm_role_from_string(role);
        if (s->role != VM_ROLE_ACT && s->role != VM_ROLE_SBY)
            return NFV_ERR(err, NFV_E_INVAL, "'role': '%s' is not act or sby", role);
    }
    if (s->disk && xml_safe("disk", s->disk, err))
        return NFV_E_INVAL;
    s->nics = json_object_get(body, "nics");
    if (s->nics) {
        size_t i;
        const json_t *n;
        if (!json_is_array(s->nics))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'nics': must be a list of \"bridge:NAME\", "
                           "\"network:NAME\" or \"vhostuser:PATH\"");
        json_array_foreach(s->nics, i, n)
        {
            const char *v = json_string_value(n), *colon = v ? strchr(v, ':') : NULL;
            if (!colon || (strncmp(v, "bridge:", 7) && strncmp(v, "network:", 8) &&
                           strncmp(v, "vhostuser:", 10)))
                return NFV_ERR(err, NFV_E_INVAL,
                               "'nics[%zu]': must be bridge:NAME, network:NAME or vhostuser:PATH",
                               i);
            if (xml_safe("nics", colon + 1, err))
                return NFV_E_INVAL;
        }
    }
    mode = pin_cpu_mode_from_string(mode_s);
    if (mode == PIN_MODE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'cpu_mode': '%s' is not exclusive, shared or numbered",
                       mode_s);
    if (cpu_map && mode != PIN_MODE_NUMBERED)
        mode = PIN_MODE_EXCLUSIVE; /* a map names some vCPUs; the rest keep @mode */
    if (pin_request_new((unsigned)n_vcpus,
                        mode == PIN_MODE_NUMBERED && !cpu_map
                            ? PIN_MODE_NUMBERED
                            : (mode == PIN_MODE_NUMBERED ? PIN_MODE_EXCLUSIVE : mode),
                        &s->req, err))
        return NFV_E_INVAL;
    s->req->mem_mib = s->memory_mib;
    if (numa != UINT64_MAX)
        s->req->numa_node = (int)numa;
    if (thread) {
        s->req->thread_policy = pin_thread_policy_from_string(thread);
        if (s->req->thread_policy == PIN_THREAD__COUNT)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'thread_policy': '%s' is not isolate, prefer or require", thread);
    }
    if (emu) {
        s->req->emulator = pin_emulator_policy_from_string(emu);
        if (s->req->emulator == PIN_EMU__COUNT)
            return NFV_ERR(err, NFV_E_INVAL, "'emulator': '%s' is not a policy", emu);
    }
    if (shared && pin_request_set_mode_list(s->req, shared, PIN_MODE_SHARED, err)) {
        nfv_err_prefix(err, "'shared_vcpus'");
        return NFV_E_INVAL;
    }
    if (cpu_map && pin_request_set_cpu_map(s->req, cpu_map, PIN_MAX_PUS, err)) {
        nfv_err_prefix(err, "'cpu_map'");
        return NFV_E_INVAL;
    }
    if (pin_request_validate(s->req, err))
        return NFV_E_INVAL;
    if (mode == PIN_MODE_NUMBERED && !s->host)
        return NFV_ERR(err, NFV_E_INVAL, "'host': numbered vCPUs name PUs of one host");
    return NFV_OK;
}

/* ---- placement: the cluster view of hosts and VMs ---- */

/* Placement numbers a host's cores node by node; pinning by core index.
 * Maps pin core index -> placement host-wide core id. */
static void core_ids(const struct pin_topo *t, uint16_t *ret_ids)
{
    unsigned first[PIN_MAX_NODES] = {0}, used[PIN_MAX_NODES] = {0};

    for (unsigned n = 1; n < t->n_nodes && n < PIN_MAX_NODES; n++)
        first[n] = first[n - 1] + t->nodes[n - 1].n_cores;
    for (unsigned c = 0; c < t->n_cores; c++) {
        unsigned n = t->cores[c].node;
        ret_ids[c] = (uint16_t)(first[n] + used[n]++);
    }
}

static enum plc_host_state plc_state_of(const struct host_rt *h)
{
    switch (vm_host_state_effective(h->admin, h->conn != NULL)) {
    case VM_HOST_UP:
        return PLC_HOST_UP;
    case VM_HOST_MAINTENANCE:
        return PLC_HOST_MAINTENANCE;
    default:
        return PLC_HOST_DOWN;
    }
}

static uint32_t node_mem_mib(const struct pin_topo *t, unsigned n)
{
    uint64_t mib = t->nodes[n].mem_bytes >> 20;

    return (uint32_t)(mib ? mib : VM_TOPO_DEFAULT_NODE_MIB);
}

static enum nfv_code add_host(struct plc_cluster *c, const struct host_rt *h, struct nfv_err *err)
{
    const struct pin_topo *t = h->topo;
    struct plc_host_spec s;
    uint64_t reserved[PLC_MAX_NODES * PLC_NODE_WORDS] = {0};
    uint16_t *ids;
    uint32_t idx;
    enum nfv_code code;

    if (t->n_nodes > PLC_MAX_NODES)
        return NFV_ERR(err, NFV_E_UNSUPPORTED, "host '%s': more than %d NUMA nodes", h->name,
                       PLC_MAX_NODES);
    memset(&s, 0, sizeof(s));
    s.name = h->name;
    s.state = plc_state_of(h);
    s.labels[PLC_SCOPE_RACK] = h->labels[0][0] ? h->labels[0] : NULL;
    s.labels[PLC_SCOPE_ZONE] = h->labels[1][0] ? h->labels[1] : NULL;
    s.labels[PLC_SCOPE_POWER] = h->labels[2][0] ? h->labels[2] : NULL;
    s.n_nodes = (uint8_t)t->n_nodes;
    s.threads_per_core = (uint8_t)pin_topo_threads_per_core(t);
    for (unsigned n = 0; n < t->n_nodes; n++) {
        s.cores_per_node[n] = (uint16_t)t->nodes[n].n_cores;
        s.mem_mib_per_node[n] = node_mem_mib(t, n);
    }
    ids = calloc(t->n_cores ? t->n_cores : 1, sizeof(*ids));
    if (!ids)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    core_ids(t, ids);
    /* A core with any PU outside the dedicated pool is not the engine's to give. */
    for (unsigned ci = 0; ci < t->n_cores; ci++) {
        bool is_ok = true;
        for (unsigned k = 0; k < t->cores[ci].n_pus; k++)
            is_ok &= pin_cpuset_test(&h->pools.dedicated, t->cores[ci].pus[k]);
        if (!is_ok && ids[ci] < PLC_MAX_NODES * PLC_NODE_WORDS * 64)
            reserved[ids[ci] / 64] |= 1ull << (ids[ci] % 64);
    }
    s.reserved_cores = reserved;
    s.n_reserved_words = PLC_MAX_NODES * PLC_NODE_WORDS;
    code = plc_cluster_add_host(c, &s, &idx, err);
    free(ids);
    return code;
}

/* Placement demand of a pin request on hosts with @tpc threads per core. */
static void demand_of(const struct pin_request *req, uint64_t memory_mib, unsigned tpc,
                      struct plc_demand *d)
{
    struct pin_demand pd;

    memset(d, 0, sizeof(*d));
    pin_request_demand(req, tpc ? tpc : 1, &pd);
    d->n_vcpus = (uint16_t)req->n_vcpus;
    d->n_cores = (uint16_t)((pd.n_pus_worst + tpc - 1) / (tpc ? tpc : 1));
    if (d->n_cores == 0)
        d->n_cores = 1;
    d->numa_nodes = req->numa == PIN_NUMA_SPREAD ? 2 : 1;
    d->mem_mib = (uint32_t)memory_mib;
}

/* Where an existing VM sits, in placement terms, from its plan. */
static void choice_of(const struct host_rt *h, uint32_t host_idx, const struct pin_plan *plan,
                      uint64_t memory_mib, struct plc_choice *ch)
{
    const struct pin_topo *t = h->topo;
    struct pin_cpuset held;
    uint16_t *ids = calloc(t->n_cores ? t->n_cores : 1, sizeof(*ids));
    int part_of_node[PIN_MAX_NODES];

    memset(ch, 0, sizeof(*ch));
    ch->host = host_idx;
    if (!ids)
        return;
    core_ids(t, ids);
    for (unsigned n = 0; n < PIN_MAX_NODES; n++)
        part_of_node[n] = -1;
    pin_cpuset_or(&held, &plan->claimed, &plan->blocked);
    for (int pu = pin_cpuset_first(&held); pu >= 0; pu = pin_cpuset_next(&held, (unsigned)pu + 1)) {
        const struct pin_pu_info *pi = pin_topo_pu(t, (unsigned)pu);
        struct plc_part *p;
        unsigned local, first = 0;
        if (!pi || pi->node >= PIN_MAX_NODES)
            continue;
        if (part_of_node[pi->node] < 0) {
            if (ch->n_parts == PLC_MAX_VM_NODES)
                continue;
            part_of_node[pi->node] = ch->n_parts;
            ch->parts[ch->n_parts++].node = (uint8_t)pi->node;
        }
        p = &ch->parts[part_of_node[pi->node]];
        for (unsigned n = 0; n < pi->node; n++)
            first += t->nodes[n].n_cores;
        local = ids[pi->core] - first;
        if (!(p->cores[local / 64] & (1ull << (local % 64)))) {
            p->cores[local / 64] |= 1ull << (local % 64);
            p->n_cores++;
        }
    }
    for (unsigned i = 0; i < ch->n_parts; i++)
        ch->parts[i].mem_mib = (uint32_t)(memory_mib / (ch->n_parts ? ch->n_parts : 1));
    free(ids);
}

/*
 * Builds the placement cluster from the hosts whose allocation is known and
 * every VM on them. *ret_map[i] is the placement index of d->hosts[i]
 * (PLC_NONE if left out). Both owned by the caller.
 */
static enum nfv_code cluster_build(struct vm_daemon *d, struct plc_cluster **ret,
                                   uint32_t **ret_map, struct nfv_err *err)
{
    struct plc_cluster *c;
    struct plc_config pcfg;
    uint32_t *map = calloc(d->n_hosts ? d->n_hosts : 1, sizeof(*map));
    struct pin_plan *scratch = NULL;
    enum nfv_code code = NFV_OK;
    uint32_t n = 0;

    /* The healing reserve of issue 4: room to rebuild every group member
     * after the configured failure (healing_reserve; "off" keeps none). */
    plc_config_init(&pcfg);
    pcfg.failure = d->cfg.healing_reserve == VM_RESERVE_RACK  ? PLC_FAILURE_RACK
                   : d->cfg.healing_reserve == VM_RESERVE_OFF ? PLC_FAILURE_NONE
                                                              : PLC_FAILURE_HOST;
    c = plc_cluster_new(&pcfg);
    if (!c || !map) {
        plc_cluster_free(c);
        free(map);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->n_hosts; i++) {
        map[i] = PLC_NONE;
        if (!d->hosts[i]->alloc)
            continue;
        if ((code = add_host(c, d->hosts[i], err)) != NFV_OK)
            goto fail;
        map[i] = n++;
    }
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *vm = d->vms[i];
        struct plc_demand dm;
        struct plc_choice ch;
        uint32_t group = PLC_NONE, hidx = PLC_NONE, vidx;
        for (size_t k = 0; k < d->n_hosts; k++)
            if (d->hosts[k] == vm->host)
                hidx = map[k];
        if (hidx == PLC_NONE)
            continue;
        if (vm->group[0]) {
            int64_t gid;
            enum vm_scope scope = VM_SCOPE_HOST;
            vm_db_group_get(d->db, vm->group, &gid, &scope, NULL);
            group = plc_cluster_find_group(c, vm->group);
            if (group == PLC_NONE &&
                (code = plc_cluster_add_group(c, vm->group, (enum plc_scope)scope, false, &group,
                                              err)) != NFV_OK)
                goto fail;
        }
        demand_of(vm->req, vm->memory_mib, pin_topo_threads_per_core(vm->host->topo), &dm);
        choice_of(vm->host, hidx, vm->plan, vm->memory_mib, &ch);
        dm.n_cores = 0;
        for (unsigned p = 0; p < ch.n_parts; p++)
            dm.n_cores = (uint16_t)(dm.n_cores + ch.parts[p].n_cores);
        if ((code = plc_cluster_add_vm(c, vm->name, group, (enum plc_role)vm->role, &dm, &ch, &vidx,
                                       err)) != NFV_OK) {
            nfv_err_prefix(err, "cluster view of VM '%s'", vm->name);
            goto fail;
        }
    }
    /* Creates in flight (PUs claimed, libvirt still working without the
     * lock) are not listed yet but hold their cores: count them too. */
    scratch = pin_plan_new(PIN_MAX_VCPUS);
    if (!scratch) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < d->n_hosts; k++) {
        const struct host_rt *h = d->hosts[k];
        for (size_t ci = 0; h->alloc && map[k] != PLC_NONE && ci < pin_alloc_n_claims(h->alloc);
             ci++) {
            const char *owner = pin_alloc_claim_owner(h->alloc, ci);
            const struct pin_plan *plan = scratch;
            struct plc_demand dm = {0};
            struct plc_choice ch;
            uint32_t vidx;
            if (vm_find(d, owner) || pin_alloc_claim_plan(h->alloc, owner, scratch, NULL))
                continue;
            choice_of(h, map[k], plan, plan->mem_mib, &ch);
            dm.n_vcpus = (uint16_t)plan->n_vcpus;
            dm.numa_nodes = ch.n_parts ? ch.n_parts : 1;
            dm.mem_mib = (uint32_t)plan->mem_mib;
            for (unsigned p = 0; p < ch.n_parts; p++)
                dm.n_cores = (uint16_t)(dm.n_cores + ch.parts[p].n_cores);
            if ((code = plc_cluster_add_vm(c, owner, PLC_NONE, PLC_ROLE_NONE, &dm, &ch, &vidx,
                                           err)) != NFV_OK) {
                nfv_err_prefix(err, "cluster view of in-flight VM '%s'", owner);
                goto fail;
            }
        }
    }
    pin_plan_free(scratch);
    *ret = c;
    *ret_map = map;
    return NFV_OK;
fail:
    pin_plan_free(scratch);
    plc_cluster_free(c);
    free(map);
    return code;
}

static struct host_rt *host_of_choice(struct vm_daemon *d, const uint32_t *map, uint32_t idx)
{
    for (size_t i = 0; i < d->n_hosts; i++)
        if (map[i] == idx)
            return d->hosts[i];
    return NULL;
}

/* ---- plans, allocations, XML ---- */

/* The allocation rows for @plan: one per held PU. Returns the count. */
static size_t plan_allocs(const struct pin_plan *plan, struct vm_db_alloc *out, size_t cap)
{
    struct pin_cpuset all;
    size_t n = 0;

    pin_cpuset_or(&all, &plan->claimed, &plan->blocked);
    for (int pu = pin_cpuset_first(&all); pu >= 0 && n < cap;
         pu = pin_cpuset_next(&all, (unsigned)pu + 1)) {
        struct vm_db_alloc *a = &out[n++];
        struct pin_cpuset vc;
        memset(a, 0, sizeof(*a));
        a->pu = (unsigned)pu;
        pin_cpuset_zero(&vc);
        for (unsigned v = 0; v < plan->n_vcpus; v++) {
            struct pin_cpuset s;
            pin_plan_vcpu_cpuset(plan, v, &s);
            if (pin_cpuset_test(&s, (unsigned)pu))
                pin_cpuset_set(&vc, v);
        }
        if (!pin_cpuset_is_empty(&vc)) {
            int v0 = pin_cpuset_first(&vc);
            pin_cpuset_format(&vc, a->vcpus, sizeof(a->vcpus));
            snprintf(a->mode, sizeof(a->mode), "%s",
                     pin_cpu_mode_to_string((enum pin_cpu_mode)plan->vcpu_mode[v0]));
        } else if (pin_cpuset_test(&plan->blocked, (unsigned)pu)) {
            snprintf(a->vcpus, sizeof(a->vcpus), "blocked");
            snprintf(a->mode, sizeof(a->mode), "blocked");
        } else {
            snprintf(a->vcpus, sizeof(a->vcpus), "emulator");
            snprintf(a->mode, sizeof(a->mode), "emulator");
        }
    }
    return n;
}

static const char *domain_type(const struct host_rt *h)
{
    if (vm_uri_is_test(h->uri))
        return "test";
    /* A local host without /dev/kvm still runs guests under TCG. */
    if (strncmp(h->uri, "qemu:///", 8) == 0 && access("/dev/kvm", R_OK | W_OK) != 0)
        return "qemu";
    return "kvm";
}

/* Builds the domain XML for @vm on @h (malloc'ed). */
static enum nfv_code domain_xml(const struct host_rt *h, const char *name, const struct vm_spec *s,
                                enum vm_role role, const char *group, const struct pin_plan *plan,
                                char **ret, struct nfv_err *err)
{
    char *frag = NULL, *devs = NULL, *xml = NULL;
    const char *membacking = "";
    size_t devs_len = 0;
    FILE *f;
    bool is_test = vm_uri_is_test(h->uri);

    if (pin_libvirt_render(h->topo, plan, PIN_LV_ALL, &frag, err) != NFV_OK)
        return err ? err->code : NFV_E_INTERNAL;
    f = open_memstream(&devs, &devs_len);
    if (!f) {
        free(frag);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    if (s->disk) {
        size_t len = strlen(s->disk);
        bool is_qcow = len > 6 && strcmp(s->disk + len - 6, ".qcow2") == 0;
        fprintf(f,
                "    <disk type='file' device='disk'>\n"
                "      <driver name='qemu' type='%s'/>\n"
                "      <source file='%s'/>\n"
                "      <target dev='vda' bus='virtio'/>\n"
                "    </disk>\n",
                is_qcow ? "qcow2" : "raw", s->disk);
    }
    for (size_t i = 0; s->nics && i < json_array_size(s->nics); i++) {
        const char *v = json_string_value(json_array_get(s->nics, i));
        const char *arg = strchr(v, ':') + 1;
        if (strncmp(v, "bridge:", 7) == 0)
            fprintf(f,
                    "    <interface type='bridge'><source bridge='%s'/>"
                    "<model type='virtio'/></interface>\n",
                    arg);
        else if (strncmp(v, "network:", 8) == 0)
            fprintf(f,
                    "    <interface type='network'><source network='%s'/>"
                    "<model type='virtio'/></interface>\n",
                    arg);
        else
            fprintf(f,
                    "    <interface type='vhostuser'><source type='unix' path='%s' "
                    "mode='server'/><model type='virtio'/></interface>\n",
                    arg);
    }
    if (!is_test)
        fprintf(f, "    <console type='pty'/>\n    <memballoon model='none'/>\n");
    fclose(f);
    /* vhost-user needs guest memory the switch can map (shared memfd). Not
     * yet exercised against a real vhost-user backend here. */
    for (size_t i = 0; s->nics && i < json_array_size(s->nics); i++)
        if (strncmp(json_string_value(json_array_get(s->nics, i)), "vhostuser:", 10) == 0)
            membacking = "  <memoryBacking><source type='memfd'/><access mode='shared'/>"
                         "</memoryBacking>\n";
    if (asprintf(&xml,
                 "<domain type='%s'>\n"
                 "  <name>%s</name>\n"
                 "  <metadata>\n"
                 "    <vmmgr:vm xmlns:vmmgr='urn:vmmgr:vm:1' role='%s' group='%s'/>\n"
                 "  </metadata>\n"
                 "  <memory unit='MiB'>%llu</memory>\n"
                 "%s%s"
                 "  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>\n"
                 "  <features><acpi/></features>\n"
                 "  <on_poweroff>destroy</on_poweroff>\n"
                 "  <on_reboot>restart</on_reboot>\n"
                 "  <on_crash>restart</on_crash>\n"
                 "  <devices>\n%s  </devices>\n"
                 "</domain>\n",
                 domain_type(h), name, vm_role_to_string(role), group ? group : "",
                 (unsigned long long)s->memory_mib, frag, membacking, devs ? devs : "") < 0)
        xml = NULL;
    free(frag);
    free(devs);
    if (!xml)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    *ret = xml;
    return NFV_OK;
}

/*
 * Reads the emulator-thread pin of domain @name into @ret when the driver
 * can and @plan has an emulator set (an empty one is not compared). False
 * when not read.
 */
static bool emulator_read(const struct vm_hv_driver *hv, struct vm_hv_conn *conn, const char *name,
                          const struct pin_plan *plan, struct pin_cpuset *ret)
{
    struct nfv_err e = {0};

    if (!hv->emulator_pins || pin_cpuset_count(&plan->emulator) == 0)
        return false;
    if (hv->emulator_pins(conn, name, ret, &e) != NFV_OK) {
        NFV_LOG_DEBUG(MOD, "'%s': cannot read the emulator pin: %s", name, e.msg);
        return false;
    }
    return true;
}

/*
 * The libvirt half of a pin check: reads domain @name's live pins (vCPUs and
 * emulator threads), compares them with @plan and re-applies what differs.
 * Touches no daemon state, so an action may run it without the lock while
 * it keeps @conn open. Returns the number of drifted items (0 = all as
 * planned; @desc then describes them) or -1 if the vCPU pins cannot be read.
 */
static int pins_repair(const struct vm_hv_driver *hv, struct vm_hv_conn *conn, const char *name,
                       const struct pin_plan *plan, char *desc, size_t desc_size)
{
    struct pin_cpuset *have, have_emu;
    struct pin_drift_item items[16];
    struct nfv_err e = {0};
    unsigned n_drift, n_vcpu_drift;
    bool is_emu_read, is_emu_drift;

    have = calloc(plan->n_vcpus, sizeof(*have));
    if (!have)
        return -1;
    if (hv->vcpu_pins(conn, name, plan->n_vcpus, have, &e) != NFV_OK) {
        NFV_LOG_DEBUG(MOD, "'%s': cannot read pins: %s", name, e.msg);
        free(have);
        return -1;
    }
    is_emu_read = emulator_read(hv, conn, name, plan, &have_emu);
    n_drift = pin_plan_diff(plan, have, plan->n_vcpus, is_emu_read ? &have_emu : NULL, items, 16);
    free(have);
    if (n_drift == 0)
        return 0;
    is_emu_drift = is_emu_read && !pin_cpuset_equal(&have_emu, &plan->emulator);
    n_vcpu_drift = n_drift - is_emu_drift;
    pin_drift_format(items, n_drift < 16 ? n_drift : 16, desc, desc_size);
    for (unsigned v = 0; n_vcpu_drift && v < plan->n_vcpus; v++) {
        struct pin_cpuset want;
        pin_plan_vcpu_cpuset(plan, v, &want);
        if (hv->vcpu_pin(conn, name, v, &want, &e) != NFV_OK)
            NFV_LOG_WARN(MOD, "'%s': re-pin of vcpu %u failed: %s", name, v, e.msg);
    }
    if (is_emu_drift && hv->emulator_pin &&
        hv->emulator_pin(conn, name, &plan->emulator, &e) != NFV_OK)
        NFV_LOG_WARN(MOD, "'%s': re-pin of the emulator threads failed: %s", name, e.msg);
    return (int)n_drift;
}

/* Records the outcome of pins_repair() (@n, @desc) for VM @name. Lock held. */
static void pins_record(struct vm_daemon *d, const char *name, const char *why, int n,
                        const char *desc)
{
    if (n < 0) {
        NFV_LOG_WARN(MOD, "'%s': pins could not be verified (%s)", name, why);
    } else if (n > 0) {
        d->metrics.drift_events++;
        vm_d_event(d, VM_SEV_WARN, "pin_drift", name, "%s: %s; plan re-applied", why, desc);
    }
}

/*
 * Checks and repairs @vm's pins under the lock (domain events, reconcile).
 * Returns as pins_repair(); @why says what triggered the check.
 */
static int pins_enforce(struct vm_daemon *d, struct vm_rt *vm, const char *why)
{
    char desc[512] = "";
    int n;

    if (!vm->host->conn)
        return -1;
    n = pins_repair(d->hv, vm->host->conn, vm->name, vm->plan, desc, sizeof(desc));
    if (n > 0)
        pins_record(d, vm->name, why, n, desc);
    return n;
}

/* ---- JSON views ---- */

static json_t *vm_json(struct vm_daemon *d, const struct vm_rt *vm, bool is_full)
{
    char pus[256];
    json_t *o;

    pin_cpuset_format(&vm->plan->claimed, pus, sizeof(pus));
    o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "name", vm->name, "host", vm->host->name,
                  "state", vm_guest_state_to_string(vm->state), "role", vm_role_to_string(vm->role),
                  "vcpus", (int)vm->plan->n_vcpus, "memory_mib", (json_int_t)vm->memory_mib, "pus",
                  pus);
    if (!o)
        return NULL;
    json_object_set_new(o, "group", vm->group[0] ? json_string(vm->group) : json_null());
    /* An action calling libvirt right now (start, stop, reboot, delete). */
    json_object_set_new(o, "busy",
                        vm->is_busy ? json_string(vm_guest_action_to_string(vm->busy_action))
                                    : json_null());
    if (is_full) {
        json_t *peers = json_array();
        for (size_t i = 0; vm->group[0] && i < d->n_vms; i++) {
            const struct vm_rt *p = d->vms[i];
            if (p != vm && strcmp(p->group, vm->group) == 0)
                json_array_append_new(peers,
                                      json_pack("{s:s,s:s,s:s,s:s}", "name", p->name, "role",
                                                vm_role_to_string(p->role), "host", p->host->name,
                                                "state", vm_guest_state_to_string(p->state)));
        }
        json_object_set_new(o, "peers", peers);
        json_object_set_new(o, "plan", pin_plan_to_json(vm->plan));
        json_object_set_new(o, "request", pin_request_to_json(vm->req));
    }
    return o;
}

/* ---- create ---- */

struct member {
    struct vm_spec spec;
    struct host_rt *host;
    struct pin_plan *plan;
    bool is_claimed;
    bool is_defined;
    int64_t op_id;
    char *spec_text;
    int n_pin_drift;    /* pins_repair() after the start */
    char pin_desc[512]; /* ... and what differed */
};

static void member_clear(struct member *m)
{
    spec_clear(&m->spec);
    pin_plan_free(m->plan);
    free(m->spec_text);
}

/*
 * Places and plans @n members together (a group when @group is set) and
 * claims their PUs in the hosts' allocations. On error nothing is claimed.
 */
static enum nfv_code place_and_claim(struct vm_daemon *d, struct member *m, size_t n,
                                     const char *group, enum vm_scope scope, struct nfv_err *err)
{
    struct plc_cluster *c = NULL;
    uint32_t *map = NULL;
    struct plc_vm_req *vr = calloc(n, sizeof(*vr));
    struct plc_choice *ch = calloc(n, sizeof(*ch));
    struct plc_req r = {0};
    enum nfv_code code;
    size_t i;

    if (!vr || !ch) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    if ((code = cluster_build(d, &c, &map, err)) != NFV_OK)
        goto out;
    for (i = 0; i < n; i++) {
        struct host_rt *fh = m[i].spec.host ? vm_d_host_find(d, m[i].spec.host) : NULL;
        unsigned tpc = 1;
        if (m[i].spec.host && !fh) {
            code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", m[i].spec.host);
            goto out;
        }
        if (fh && !fh->alloc) {
            code = NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' has no known topology yet", fh->name);
            goto out;
        }
        /* Core counts depend on SMT; hosts of one cluster usually agree. */
        for (size_t k = 0; k < d->n_hosts; k++)
            if (d->hosts[k]->topo && (!fh || d->hosts[k] == fh)) {
                tpc = pin_topo_threads_per_core(d->hosts[k]->topo);
                break;
            }
        vr[i].name = m[i].spec.name;
        vr[i].role = (enum plc_role)m[i].spec.role;
        vr[i].force_host = m[i].spec.host;
        demand_of(m[i].spec.req, m[i].spec.memory_mib, tpc, &vr[i].demand);
    }
    r.group = group;
    r.scope = (enum plc_scope)scope;
    r.n_vms = n;
    r.vms = vr;
    /* Only an explicit "ignore_reserve" waives the reserve (a group's flag
     * is copied to every member). */
    r.is_reserve_waived = m[0].spec.is_reserve_ignored;
    if ((code = plc_place(c, &r, false, ch, err)) != NFV_OK)
        goto out;
    for (i = 0; i < n; i++) {
        struct host_rt *h = host_of_choice(d, map, ch[i].host);
        struct pin_request *req = pin_request_dup(m[i].spec.req);
        if (!h || !req) {
            pin_request_free(req);
            code = NFV_ERR(err, NFV_E_INTERNAL, "placement chose an unknown host");
            break;
        }
        /* Pin on the node placement chose (unless the operator named PUs). */
        bool is_numbered = false;
        for (unsigned v = 0; v < req->n_vcpus; v++)
            is_numbered |= req->vcpu_mode[v] == PIN_MODE_NUMBERED;
        if (!is_numbered && req->numa == PIN_NUMA_SINGLE && req->numa_node < 0 &&
            ch[i].n_parts == 1)
            req->numa_node = (int)h->topo->nodes[ch[i].parts[0].node].os_index;
        m[i].host = h;
        m[i].plan = pin_plan_new(req->n_vcpus);
        if (!m[i].plan) {
            pin_request_free(req);
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            break;
        }
        code = pin_plan_compute(h->alloc, req, m[i].plan, err);
        pin_request_free(req);
        if (code != NFV_OK) {
            nfv_err_prefix(err, "'%s' on host '%s'", m[i].spec.name, h->name);
            break;
        }
        if ((code = pin_alloc_claim(h->alloc, m[i].plan, m[i].spec.name, err)) != NFV_OK)
            break;
        m[i].is_claimed = true;
    }
    if (code != NFV_OK) {
        for (i = 0; i < n; i++) {
            if (m[i].is_claimed)
                pin_alloc_release(m[i].host->alloc, m[i].spec.name, NULL);
            m[i].is_claimed = false;
        }
    }
out:
    plc_cluster_free(c);
    free(map);
    free(vr);
    free(ch);
    return code;
}

static void release_members(struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].is_claimed)
            pin_alloc_release(m[i].host->alloc, m[i].spec.name, NULL);
        m[i].is_claimed = false;
    }
}

/* Journals the members and reserves their PUs in one transaction. */
static enum nfv_code journal_members(struct vm_daemon *d, struct member *m, size_t n,
                                     const char *group, enum vm_scope scope, int64_t *ret_group_op,
                                     struct nfv_err *err)
{
    int64_t now = vm_daemon_now_ms(), gid = 0;
    enum nfv_code code;

    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        return code;
    /* Joining an existing group adds members; a new group is created here. */
    if (group && vm_db_group_get(d->db, group, &gid, NULL, NULL) != NFV_OK) {
        if ((code = vm_db_group_insert(d->db, group, scope, now, NULL, err)) != NFV_OK ||
            (code = vm_db_op_begin(d->db, VM_OP_GROUP_CREATE, group, NULL, now, ret_group_op,
                                   err)) != NFV_OK)
            goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        struct vm_db_alloc allocs[PIN_MAX_PUS / 8];
        struct vm_db_vm row = {0};
        json_t *payload = json_pack("{s:s}", "host", m[i].host->name);
        char *ptext = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
        json_t *pj = pin_plan_to_json(m[i].plan);
        size_t n_allocs = plan_allocs(m[i].plan, allocs, sizeof(allocs) / sizeof(allocs[0]));

        json_decref(payload);
        snprintf(row.name, sizeof(row.name), "%s", m[i].spec.name);
        row.host_id = m[i].host->id;
        row.state = VM_GUEST_CREATING;
        snprintf(row.group, sizeof(row.group), "%s", group ? group : "");
        row.role = m[i].spec.role;
        row.spec = m[i].spec_text;
        row.plan = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
        json_decref(pj);
        row.created_ms = now;
        code = vm_db_op_begin(d->db, VM_OP_VM_CREATE, m[i].spec.name, ptext, now, &m[i].op_id, err);
        if (code == NFV_OK)
            code = vm_db_vm_insert(d->db, &row, allocs, n_allocs, NULL, err);
        free(ptext);
        free(row.plan);
        if (code != NFV_OK)
            goto fail;
    }
    return vm_db_commit(d->db, err);
fail:
    vm_db_rollback(d->db);
    return code;
}

/* Undoes created members after a failure: undefine, drop rows, fail ops. */
static void undo_members(struct vm_daemon *d, struct member *m, size_t n, const char *group,
                         int64_t group_op, const char *why)
{
    int64_t now = vm_daemon_now_ms();
    bool is_stuck[64] = {false};

    /* A member whose domain cannot be undefined now (host lost meanwhile)
     * keeps its row, PUs and pending journal entry: start-up recovery and
     * the monitor's retries finish the rollback, so nothing leaks. */
    for (size_t i = 0; i < n; i++) {
        enum nfv_code c = NFV_OK;
        if (m[i].is_defined)
            c = m[i].host->conn ? d->hv->domain_undefine(m[i].host->conn, m[i].spec.name, NULL)
                                : NFV_E_UNREACHABLE;
        if (c != NFV_OK && c != NFV_E_NOENT && i < 64) {
            is_stuck[i] = true;
            d->has_deferred_ops = true;
            m[i].is_claimed = false; /* keep the claim: release_members skips it */
        }
    }
    vm_db_begin(d->db, NULL);
    for (size_t i = 0; i < n; i++) {
        if (i < 64 && is_stuck[i])
            continue;
        vm_db_vm_delete(d->db, m[i].spec.name, NULL);
        if (m[i].op_id)
            vm_db_op_finish(d->db, m[i].op_id, VM_OPS_FAILED, why, now, NULL);
    }
    if (group) {
        vm_db_group_prune(d->db, NULL);
        if (group_op)
            vm_db_op_finish(d->db, group_op, VM_OPS_FAILED, why, now, NULL);
    }
    vm_db_commit(d->db, NULL);
    release_members(m, n);
}

/*
 * define -> start, for one member, WITHOUT the daemon lock: @conn was taken
 * under the lock with the host marked busy, so the monitor does not close it
 * meanwhile; @xml was built under the lock. Touches nothing else of @d.
 */
static enum nfv_code bring_up(struct vm_daemon *d, struct vm_hv_conn *conn, struct member *m,
                              const char *xml, struct nfv_err *err)
{
    enum nfv_code code;

    if ((code = d->hv->domain_define(conn, xml, err)) != NFV_OK)
        return code;
    m->is_defined = true;
    return d->hv->domain_start(conn, m->spec.name, err);
}

static enum nfv_code finish_members(struct vm_daemon *d, struct member *m, size_t n,
                                    const char *group, enum vm_scope scope, int64_t group_op,
                                    int64_t t0, json_t **ret, struct nfv_err *err);

/*
 * Creates @n members (one VM, or a group's members): checks, places and
 * claims, journals and reserves, then (unless @is_async) brings them up and
 * answers the VMs. With @is_async it stops after journaling and answers
 * {"operation_id"}; the caller runs finish_members() on a worker thread.
 * Lock held.
 */
static enum nfv_code create_members(struct vm_daemon *d, struct member *m, size_t n,
                                    const char *group, enum vm_scope scope, bool is_async,
                                    int64_t *ret_group_op, json_t **ret, struct nfv_err *err)
{
    int64_t t0 = vm_d_mono_ms(), group_op = 0;
    enum nfv_code code;
    size_t i;

    for (i = 0; i < n; i++) {
        if (vm_find(d, m[i].spec.name))
            return NFV_ERR(err, NFV_E_EXIST, "VM '%s' already exists", m[i].spec.name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(m[k].spec.name, m[i].spec.name) == 0)
                return NFV_ERR(err, NFV_E_INVAL, "'members': '%s' appears twice", m[i].spec.name);
    }
    if ((code = place_and_claim(d, m, n, group, scope, err)) != NFV_OK)
        return code;
    if (m[0].spec.is_dry_run) {
        json_t *arr = json_array();
        for (i = 0; i < n; i++)
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s,s:o}", "name", m[i].spec.name, "host",
                                            m[i].host->name, "plan", pin_plan_to_json(m[i].plan)));
        release_members(m, n);
        *ret = json_pack("{s:b,s:o}", "dry_run", 1, "vms", arr);
        return NFV_OK;
    }
    if ((code = journal_members(d, m, n, group, scope, &group_op, err)) != NFV_OK) {
        release_members(m, n);
        return code;
    }
    *ret_group_op = group_op;
    if (is_async) {
        int64_t id = group_op ? group_op : m[0].op_id;
        char href[64];
        snprintf(href, sizeof(href), "/v1/operations/%lld", (long long)id);
        *ret = json_pack("{s:I,s:s,s:s}", "operation_id", (json_int_t)id, "state", "pending",
                         "href", href);
        return NFV_OK;
    }
    return finish_members(d, m, n, group, scope, group_op, t0, ret, err);
}

/* Second half of a create: define, start, verify, record. Lock held. */
static enum nfv_code finish_members(struct vm_daemon *d, struct member *m, size_t n,
                                    const char *group, enum vm_scope scope, int64_t group_op,
                                    int64_t t0, json_t **ret, struct nfv_err *err)
{
    enum nfv_code code = NFV_OK;
    struct vm_hv_conn **conns = calloc(n, sizeof(*conns));
    char **xmls = calloc(n, sizeof(*xmls));
    int64_t now;
    size_t i;

    /* Under the lock: the XML, and each host's connection pinned busy. */
    for (i = 0; code == NFV_OK && i < n; i++) {
        if (!conns || !xmls)
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        else if (!m[i].host->conn)
            code = NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is unreachable", m[i].host->name);
        else
            code = domain_xml(m[i].host, m[i].spec.name, &m[i].spec, m[i].spec.role, group,
                              m[i].plan, &xmls[i], err);
        if (code == NFV_OK) {
            conns[i] = m[i].host->conn;
            m[i].host->n_busy++;
        } else {
            nfv_err_prefix(err, "VM '%s'", m[i].spec.name);
        }
    }
    /* libvirt's define and start (a KVM start takes a few hundred ms) run
     * without the lock, so other requests are served meanwhile. The PUs are
     * already claimed and journaled; the VM is not listed until it is up. */
    pthread_mutex_unlock(&d->lock);
    for (i = 0; code == NFV_OK && i < n; i++)
        if ((code = bring_up(d, conns[i], &m[i], xmls[i], err)) != NFV_OK)
            nfv_err_prefix(err, "VM '%s'", m[i].spec.name);
    /* Verify what libvirt applied (and repair it), still without the lock. */
    for (i = 0; code == NFV_OK && i < n; i++)
        m[i].n_pin_drift = pins_repair(d->hv, conns[i], m[i].spec.name, m[i].plan, m[i].pin_desc,
                                       sizeof(m[i].pin_desc));
    pthread_mutex_lock(&d->lock);
    for (i = 0; i < n; i++) {
        if (conns && conns[i])
            m[i].host->n_busy--;
        if (xmls)
            free(xmls[i]);
    }
    free(conns);
    free(xmls);
    if (code != NFV_OK) {
        undo_members(d, m, n, group, group_op, err ? err->msg : "failed");
        vm_metrics_observe(&d->metrics, VM_OP_VM_CREATE, 1, (double)(vm_d_mono_ms() - t0));
        return code;
    }
    for (i = 0; i < n; i++)
        pins_record(d, m[i].spec.name, "after start", m[i].n_pin_drift, m[i].pin_desc);
    now = vm_daemon_now_ms();
    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        return code; /* journal stays pending: recovery finishes it */
    for (i = 0; i < n; i++) {
        vm_db_vm_set_state(d->db, m[i].spec.name, VM_GUEST_RUNNING, now, NULL);
        vm_db_op_finish(d->db, m[i].op_id, VM_OPS_DONE, NULL, now, NULL);
    }
    if (group_op)
        vm_db_op_finish(d->db, group_op, VM_OPS_DONE, NULL, now, NULL);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        return code;
    }
    *ret = json_array();
    for (i = 0; i < n; i++) {
        struct vm_rt *vm = calloc(1, sizeof(*vm));
        char pus[128];
        if (!vm || vm_append(d, vm, NULL) != NFV_OK) {
            free(vm);
            continue; /* durable; a restart loads it */
        }
        snprintf(vm->name, sizeof(vm->name), "%s", m[i].spec.name);
        vm->host = m[i].host;
        vm->state = VM_GUEST_RUNNING;
        vm->role = m[i].spec.role;
        snprintf(vm->group, sizeof(vm->group), "%s", group ? group : "");
        vm->req = m[i].spec.req;
        m[i].spec.req = NULL;
        vm->plan = m[i].plan;
        m[i].plan = NULL;
        vm->memory_mib = m[i].spec.memory_mib;
        pin_cpuset_format(&vm->plan->claimed, pus, sizeof(pus));
        vm_d_event(d, VM_SEV_INFO, "vm_created", vm->name, "on %s%s%s, PUs %s", vm->host->name,
                   group ? " in group " : "", group ? group : "", pus);
        {
            json_t *vj = vm_json(d, vm, true);
            /* The journal entry that did it: GET /v1/operations/ID. */
            if (vj)
                json_object_set_new(vj, "operation_id", json_integer(m[i].op_id));
            json_array_append_new(*ret, vj);
        }
        vm_metrics_observe(&d->metrics, VM_OP_VM_CREATE, 0, (double)(vm_d_mono_ms() - t0));
    }
    if (group && group_op) {
        vm_d_event(d, VM_SEV_INFO, "group_created", group, "%zu members, scope %s", n,
                   vm_scope_to_string(scope));
        vm_metrics_observe(&d->metrics, VM_OP_GROUP_CREATE, 0, (double)(vm_d_mono_ms() - t0));
    }
    return NFV_OK;
}

/* An asynchronous create: the members (owned) and what finish_members needs. */
struct create_job {
    struct vm_daemon *d;
    json_t *body; /* the request: the members' specs borrow its strings */
    struct member *m;
    size_t n;
    char group[VM_NAME_MAX];
    bool has_group;
    enum vm_scope scope;
    int64_t group_op;
    int64_t t0;
};

static void *create_job_main(void *arg)
{
    struct create_job *j = arg;
    struct vm_daemon *d = j->d;
    struct nfv_err err = {0};
    json_t *ret = NULL;

    pthread_mutex_lock(&d->lock);
    finish_members(d, j->m, j->n, j->has_group ? j->group : NULL, j->scope, j->group_op, j->t0,
                   &ret, &err);
    d->n_jobs--;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    json_decref(ret);
    for (size_t i = 0; i < j->n; i++)
        member_clear(&j->m[i]);
    free(j->m);
    json_decref(j->body);
    free(j);
    return NULL;
}

/* Runs the second half of a create on a detached thread; takes @take_m.
 * Lock held (n_jobs is counted under it so shutdown can wait). */
static enum nfv_code start_job(struct vm_daemon *d, struct member *take_m, size_t n,
                               const char *group, enum vm_scope scope, int64_t group_op,
                               const json_t *body, struct nfv_err *err)
{
    struct create_job *j = calloc(1, sizeof(*j));
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    if (!j)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    j->d = d;
    j->body = json_incref((json_t *)body);
    j->m = take_m;
    j->n = n;
    j->has_group = group != NULL;
    snprintf(j->group, sizeof(j->group), "%s", group ? group : "");
    j->scope = scope;
    j->group_op = group_op;
    j->t0 = vm_d_mono_ms();
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, create_job_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        json_decref(j->body);
        free(j);
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start a worker thread");
    }
    d->n_jobs++;
    return NFV_OK;
}

enum nfv_code vm_daemon_vm_create(struct vm_daemon *d, const json_t *body, bool is_async,
                                  json_t **ret, struct nfv_err *err)
{
    struct member *mp = calloc(1, sizeof(*mp));
    json_t *arr = NULL, *stored;
    enum nfv_code code;

    if (!mp)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if ((code = spec_parse(body, vm_fields, &mp->spec, err)) != NFV_OK) {
        member_clear(mp);
        free(mp);
        return code;
    }
    if (mp->spec.group && mp->spec.role == VM_ROLE_NONE) {
        member_clear(mp);
        free(mp);
        return NFV_ERR(err, NFV_E_INVAL, "'role': a group member needs act or sby");
    }
    if (!mp->spec.group && mp->spec.role != VM_ROLE_NONE) {
        member_clear(mp);
        free(mp);
        return NFV_ERR(err, NFV_E_INVAL, "'role': only members of a group have a role");
    }
    stored = json_deep_copy(body);
    json_object_del(stored, "dry_run");
    json_object_del(stored, "ignore_reserve"); /* a decision of this request only */
    mp->spec_text = stored ? json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(stored);
    pthread_mutex_lock(&d->lock);
    {
        /* An existing group keeps its scope; a new one gets "host". */
        enum vm_scope scope = VM_SCOPE_HOST;
        int64_t gid, group_op = 0;
        bool is_job = is_async && !mp->spec.is_dry_run;
        if (mp->spec.group)
            vm_db_group_get(d->db, mp->spec.group, &gid, &scope, NULL);
        code = create_members(d, mp, 1, mp->spec.group, scope, is_job, &group_op, &arr, err);
        if (code == NFV_OK && is_job) {
            /* The group name borrows from the request: the job copies it. */
            if (start_job(d, mp, 1, mp->spec.group, scope, group_op, body, err) == NFV_OK) {
                mp = NULL; /* the job owns it now */
            } else {
                /* No thread: finish here rather than leave the reservation. */
                json_decref(arr);
                arr = NULL;
                code = finish_members(d, mp, 1, mp->spec.group, scope, group_op, vm_d_mono_ms(),
                                      &arr, err);
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (mp) {
        member_clear(mp);
        free(mp);
    }
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    if (json_object_get(arr, "operation_id")) {
        *ret = arr;
        return NFV_OK;
    }
    if (json_is_array(arr)) {
        *ret = json_incref(json_array_get(arr, 0));
        json_decref(arr);
    } else {
        *ret = arr; /* dry run */
    }
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

enum nfv_code vm_daemon_group_create(struct vm_daemon *d, const json_t *body, bool is_async,
                                     json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"name",    "scope",          "members",
                                         "dry_run", "ignore_reserve", NULL};
    static const char *const member_fields[] = {
        "name",         "vcpus",         "memory_mib", "cpu_mode",  "cpu_map",
        "shared_vcpus", "thread_policy", "emulator",   "numa_node", "host",
        "role",         "disk",          "nics",       NULL};
    const char *name = NULL, *scope_s = "host";
    const json_t *members, *mj, *dr, *ir;
    struct member *m = NULL;
    enum vm_scope scope;
    json_t *arr = NULL;
    enum nfv_code code;
    size_t n, i;
    int64_t gid;

    if (vm_req_check_fields(body, fields, err) || vm_req_get_str(body, "name", true, &name, err) ||
        vm_req_name_check("name", name, err) || vm_req_get_str(body, "scope", false, &scope_s, err))
        return NFV_E_INVAL;
    scope = vm_scope_from_string(scope_s);
    if (scope == VM_SCOPE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'scope': '%s' is not host, rack, zone or power", scope_s);
    members = json_object_get(body, "members");
    n = json_array_size(members);
    if (!json_is_array(members) || n == 0 || n > 64)
        return NFV_ERR(err, NFV_E_INVAL, "'members': must be a list of 1..64 VMs");
    dr = json_object_get(body, "dry_run");
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    ir = json_object_get(body, "ignore_reserve");
    if (ir && !json_is_boolean(ir))
        return NFV_ERR(err, NFV_E_INVAL, "'ignore_reserve': must be true or false");
    m = calloc(n, sizeof(*m));
    if (!m)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(members, i, mj)
    {
        if (!json_is_object(mj)) {
            code = NFV_ERR(err, NFV_E_INVAL, "'members[%zu]': must be an object", i);
            goto out;
        }
        if ((code = spec_parse(mj, member_fields, &m[i].spec, err)) != NFV_OK) {
            nfv_err_prefix(err, "'members[%zu]'", i);
            goto out;
        }
        if (m[i].spec.role == VM_ROLE_NONE) {
            code = NFV_ERR(err, NFV_E_INVAL, "'members[%zu].role': is required (act or sby)", i);
            goto out;
        }
        m[i].spec.is_dry_run = json_is_true(dr);
        m[i].spec.is_reserve_ignored = json_is_true(ir);
        m[i].spec_text = json_dumps(mj, JSON_COMPACT | JSON_SORT_KEYS);
    }
    pthread_mutex_lock(&d->lock);
    if (vm_db_group_get(d->db, name, &gid, NULL, NULL) == NFV_OK) {
        code = NFV_ERR(err, NFV_E_EXIST, "group '%s' already exists", name);
    } else {
        bool is_job = is_async && !json_is_true(dr);
        int64_t group_op = 0;
        code = create_members(d, m, n, name, scope, is_job, &group_op, &arr, err);
        if (code == NFV_OK && is_job) {
            if (start_job(d, m, n, name, scope, group_op, body, err) == NFV_OK) {
                m = NULL; /* the job owns the members now */
            } else {
                json_decref(arr);
                arr = NULL;
                code = finish_members(d, m, n, name, scope, group_op, vm_d_mono_ms(), &arr, err);
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (code == NFV_OK)
        *ret = json_is_array(arr) ? json_pack("{s:s,s:s,s:o}", "name", name, "scope",
                                              vm_scope_to_string(scope), "members", arr)
                                  : arr;
out:
    for (i = 0; m && i < n; i++)
        member_clear(&m[i]);
    free(m);
    return code;
}

/* ---- queries ---- */

/*
 * GET /v1/vms as text, written directly: with 10,000 VMs building a jansson
 * tree (8 objects per VM) and dumping it costs more than the 50 ms budget.
 * Every string here is a validated name ([A-Za-z0-9._-]), a fixed enum name
 * or a CPU list, so none needs JSON escaping.
 */
enum nfv_code vm_daemon_vm_list_text(struct vm_daemon *d, char **ret_text, struct nfv_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    pthread_mutex_lock(&d->lock);
    fputs("{\"vms\":[", f);
    for (size_t i = 0; i < d->n_vms; i++) {
        const struct vm_rt *vm = d->vms[i];
        char pus[256];
        pin_cpuset_format(&vm->plan->claimed, pus, sizeof(pus));
        fprintf(f,
                "%s{\"name\":\"%s\",\"host\":\"%s\",\"state\":\"%s\",\"role\":\"%s\","
                "\"vcpus\":%u,\"memory_mib\":%llu,\"pus\":\"%s\",\"group\":",
                i ? "," : "", vm->name, vm->host->name, vm_guest_state_to_string(vm->state),
                vm_role_to_string(vm->role), vm->plan->n_vcpus, (unsigned long long)vm->memory_mib,
                pus);
        if (vm->group[0])
            fprintf(f, "\"%s\"}", vm->group);
        else
            fputs("null}", f);
    }
    pthread_mutex_unlock(&d->lock);
    fputs("]}\n", f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    *ret_text = buf;
    return NFV_OK;
}

enum nfv_code vm_daemon_vm_show(struct vm_daemon *d, const char *name, json_t **ret,
                                struct nfv_err *err)
{
    struct vm_rt *vm;

    pthread_mutex_lock(&d->lock);
    vm = vm_find(d, name);
    *ret = vm ? vm_json(d, vm, true) : NULL;
    pthread_mutex_unlock(&d->lock);
    if (!vm)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

enum nfv_code vm_daemon_vm_pins(struct vm_daemon *d, const char *name, json_t **ret,
                                struct nfv_err *err)
{
    struct pin_cpuset *have = NULL;
    struct vm_rt *vm;
    json_t *arr;
    enum nfv_code code = NFV_OK;
    struct pin_cpuset have_emu;
    bool is_live = false, is_emu_live = false, is_emu_ok;
    unsigned n_drift = 0;

    pthread_mutex_lock(&d->lock);
    vm = vm_find(d, name);
    if (!vm) {
        pthread_mutex_unlock(&d->lock);
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    }
    have = calloc(vm->plan->n_vcpus, sizeof(*have));
    arr = json_array();
    if (!have || !arr) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    if (vm->host->conn) {
        struct nfv_err e = {0};
        is_live = d->hv->vcpu_pins(vm->host->conn, vm->name, vm->plan->n_vcpus, have, &e) == NFV_OK;
        is_emu_live =
            is_live && emulator_read(d->hv, vm->host->conn, vm->name, vm->plan, &have_emu);
    }
    for (unsigned v = 0; v < vm->plan->n_vcpus; v++) {
        struct pin_cpuset want;
        char w[128], h[128];
        bool is_ok;
        pin_plan_vcpu_cpuset(vm->plan, v, &want);
        pin_cpuset_format(&want, w, sizeof(w));
        pin_cpuset_format(&have[v], h, sizeof(h));
        is_ok = is_live && pin_cpuset_equal(&want, &have[v]);
        n_drift += is_live && !is_ok;
        json_array_append_new(
            arr, json_pack("{s:i,s:s,s:s,s:s*,s:b}", "vcpu", (int)v, "mode",
                           pin_cpu_mode_to_string((enum pin_cpu_mode)vm->plan->vcpu_mode[v]),
                           "plan", w, "live", is_live ? h : NULL, "ok", is_ok));
    }
    {
        /* The emulator threads: compared only when the plan pins them
         * (emulator_live is null when not read). */
        char emu[128], emu_live[128];
        pin_cpuset_format(&vm->plan->emulator, emu, sizeof(emu));
        if (is_emu_live)
            pin_cpuset_format(&have_emu, emu_live, sizeof(emu_live));
        is_emu_ok = is_emu_live && pin_cpuset_equal(&have_emu, &vm->plan->emulator);
        n_drift += is_emu_live && !is_emu_ok;
        *ret = json_pack("{s:s,s:s,s:s,s:b,s:i,s:s,s:s*,s:b,s:o}", "name", vm->name, "host",
                         vm->host->name, "state", vm_guest_state_to_string(vm->state), "live",
                         is_live, "drift", (int)n_drift, "emulator_plan", emu, "emulator_live",
                         is_emu_live ? emu_live : NULL, "emulator_ok", is_emu_ok, "vcpus", arr);
        arr = NULL;
    }
out:
    pthread_mutex_unlock(&d->lock);
    json_decref(arr);
    free(have);
    return code;
}

static int group_cb(void *opaque, const char *name, enum vm_scope scope, unsigned n)
{
    json_array_append_new(opaque, json_pack("{s:s,s:s,s:i}", "name", name, "scope",
                                            vm_scope_to_string(scope), "members", (int)n));
    return 0;
}

enum nfv_code vm_daemon_group_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err)
{
    json_t *arr = json_array();
    enum nfv_code code;

    pthread_mutex_lock(&d->lock);
    code = vm_db_group_list(d->db, group_cb, arr, err);
    pthread_mutex_unlock(&d->lock);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:o}", "groups", arr);
    return NFV_OK;
}

enum nfv_code vm_daemon_group_show(struct vm_daemon *d, const char *name, json_t **ret,
                                   struct nfv_err *err)
{
    enum vm_scope scope = VM_SCOPE_HOST;
    json_t *arr = json_array();
    enum nfv_code code;
    int64_t gid;

    pthread_mutex_lock(&d->lock);
    code = vm_db_group_get(d->db, name, &gid, &scope, err);
    for (size_t i = 0; code == NFV_OK && i < d->n_vms; i++)
        if (strcmp(d->vms[i]->group, name) == 0)
            json_array_append_new(arr, vm_json(d, d->vms[i], false));
    pthread_mutex_unlock(&d->lock);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:s,s:s,s:o}", "name", name, "scope", vm_scope_to_string(scope), "members",
                     arr);
    return NFV_OK;
}

/* ---- actions ---- */

static enum nfv_code wait_state(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                                enum vm_hv_dom_state want, unsigned timeout_ms)
{
    enum vm_hv_dom_state st;

    for (unsigned waited = 0; waited <= timeout_ms; waited += 100) {
        if (d->hv->domain_state(conn, name, &st, NULL) == NFV_OK && st == want)
            return NFV_OK;
        usleep(100 * 1000);
    }
    return NFV_E_TIMEOUT;
}

/*
 * Marks @vm busy with @action and keeps its host's connection open (the
 * monitor does not close a connection in use), so the caller can drop the
 * lock for its libvirt calls. Returns the connection. Lock held.
 */
static struct vm_hv_conn *vm_busy_enter(struct vm_rt *vm, enum vm_guest_action action)
{
    vm->is_busy = true;
    vm->busy_action = action;
    vm->host->n_busy++;
    return vm->host->conn;
}

/* Ends vm_busy_enter(). Lock held. */
static void vm_busy_leave(struct vm_rt *vm)
{
    vm->is_busy = false;
    vm->host->n_busy--;
}

/* NFV_E_STATE if another action on @vm is in flight. Lock held. */
static enum nfv_code vm_busy_check(const struct vm_rt *vm, struct nfv_err *err)
{
    if (!vm->is_busy)
        return NFV_OK;
    return NFV_ERR(err, NFV_E_STATE, "VM '%s' is busy: %s in progress", vm->name,
                   vm_guest_action_to_string(vm->busy_action));
}

/*
 * The libvirt part of an action, run without the daemon lock: a graceful
 * stop waits up to 10 s for the guest, which must not block every reader.
 */
static enum nfv_code action_do(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                               enum vm_guest_action action, bool is_force, struct nfv_err *err)
{
    enum nfv_code code = NFV_OK;

    switch (action) {
    case VM_ACT_START:
        code = d->hv->domain_start(conn, name, err);
        break;
    case VM_ACT_STOP:
        code = d->hv->domain_stop(conn, name, is_force, err);
        /* A guest that ignores ACPI is destroyed after 10 s, as virsh users
         * would do by hand. */
        if (code == NFV_OK && !is_force && wait_state(d, conn, name, VM_HV_DOM_SHUTOFF, 10000))
            code = d->hv->domain_stop(conn, name, true, err);
        break;
    case VM_ACT_REBOOT:
        code = d->hv->domain_reboot(conn, name, err);
        break;
    default:
        break;
    }
    return code;
}

enum nfv_code vm_daemon_vm_action(struct vm_daemon *d, const char *name, const char *action_s,
                                  const json_t *body, json_t **ret, struct nfv_err *err)
{
    static const char *const fields[] = {"force", NULL};
    static const enum vm_op_kind kinds[VM_ACT__COUNT] = {
        [VM_ACT_START] = VM_OP_VM_START,
        [VM_ACT_STOP] = VM_OP_VM_STOP,
        [VM_ACT_REBOOT] = VM_OP_VM_REBOOT,
        [VM_ACT_DELETE] = VM_OP_VM_DELETE,
    };
    enum vm_guest_action action = vm_guest_action_from_string(action_s);
    enum vm_guest_step step;
    enum vm_guest_state next;
    struct vm_hv_conn *conn;
    struct vm_rt *vm;
    int64_t op_id = 0, t0 = vm_d_mono_ms();
    bool is_force = json_is_true(json_object_get(body, "force"));
    char pin_desc[512] = "";
    int n_pin = 0;
    enum nfv_code code;

    if (action == VM_ACT__COUNT || action == VM_ACT_DELETE)
        return NFV_ERR(err, NFV_E_NOENT, "'%s': no such VM action", action_s);
    if (body && vm_req_check_fields(body, fields, err))
        return NFV_E_INVAL;
    pthread_mutex_lock(&d->lock);
    vm = vm_find(d, name);
    if (!vm) {
        code = NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
        goto out;
    }
    if ((code = vm_busy_check(vm, err)) != NFV_OK ||
        (code = vm_guest_next(vm->state, action, &step, &next, err)) != NFV_OK)
        goto out;
    if (step == VM_STEP_DO) {
        if (!vm->host->conn) {
            code = NFV_ERR(err, NFV_E_UNREACHABLE, "host '%s' is unreachable", vm->host->name);
            goto out;
        }
        if ((code = vm_db_op_begin(d->db, kinds[action], name, NULL, vm_daemon_now_ms(), &op_id,
                                   err)) != NFV_OK)
            goto out;
        /* Journaled; the libvirt calls run unlocked, the VM marked busy
         * (a busy VM is neither deleted nor acted on meanwhile). */
        conn = vm_busy_enter(vm, action);
        pthread_mutex_unlock(&d->lock);
        code = action_do(d, conn, vm->name, action, is_force, err);
        if (code == NFV_OK && next == VM_GUEST_RUNNING)
            n_pin = pins_repair(d->hv, conn, vm->name, vm->plan, pin_desc, sizeof(pin_desc));
        pthread_mutex_lock(&d->lock);
        vm_busy_leave(vm);
        if (code == NFV_OK && next == VM_GUEST_RUNNING)
            pins_record(d, name, action == VM_ACT_REBOOT ? "after reboot" : "after start", n_pin,
                        pin_desc);
        vm_db_begin(d->db, NULL);
        if (code == NFV_OK)
            vm_db_vm_set_state(d->db, name, next, vm_daemon_now_ms(), NULL);
        vm_db_op_finish(d->db, op_id, code == NFV_OK ? VM_OPS_DONE : VM_OPS_FAILED,
                        code == NFV_OK ? NULL : err->msg, vm_daemon_now_ms(), NULL);
        vm_db_commit(d->db, NULL);
        vm_metrics_observe(&d->metrics, kinds[action], code != NFV_OK,
                           (double)(vm_d_mono_ms() - t0));
        if (code != NFV_OK)
            goto out;
        vm->state = next;
        vm_d_event(d, VM_SEV_INFO,
                   action == VM_ACT_START  ? "vm_started"
                   : action == VM_ACT_STOP ? "vm_stopped"
                                           : "vm_rebooted",
                   name, "%s%s", vm_guest_action_to_string(action), is_force ? " (forced)" : "");
    }
    *ret = vm_json(d, vm, false);
out:
    pthread_mutex_unlock(&d->lock);
    return code;
}

enum nfv_code vm_daemon_vm_delete(struct vm_daemon *d, const char *name, json_t **ret,
                                  struct nfv_err *err)
{
    enum vm_guest_step step;
    enum vm_guest_state next;
    struct vm_hv_conn *conn;
    struct vm_rt *vm;
    int64_t op_id = 0, t0 = vm_d_mono_ms();
    enum nfv_code code;

    pthread_mutex_lock(&d->lock);
    vm = vm_find(d, name);
    if (!vm) {
        code = NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
        goto out;
    }
    if ((code = vm_busy_check(vm, err)) != NFV_OK ||
        (code = vm_guest_next(vm->state, VM_ACT_DELETE, &step, &next, err)) != NFV_OK)
        goto out;
    if (!vm->host->conn) {
        code = NFV_ERR(err, NFV_E_UNREACHABLE,
                       "host '%s' is unreachable; the domain cannot "
                       "be removed now",
                       vm->host->name);
        goto out;
    }
    if ((code = vm_db_op_begin(d->db, VM_OP_VM_DELETE, name, NULL, vm_daemon_now_ms(), &op_id,
                               err)) != NFV_OK)
        goto out;
    /* Journaled; undefine (a destroy first when running) runs unlocked. */
    conn = vm_busy_enter(vm, VM_ACT_DELETE);
    pthread_mutex_unlock(&d->lock);
    code = d->hv->domain_undefine(conn, vm->name, err);
    pthread_mutex_lock(&d->lock);
    vm_busy_leave(vm);
    if (code == NFV_E_NOENT) /* already gone: deleting is idempotent */
        code = NFV_OK;
    if (code != NFV_OK) {
        vm_db_op_finish(d->db, op_id, VM_OPS_FAILED, err->msg, vm_daemon_now_ms(), NULL);
        goto out;
    }
    if ((code = vm_db_begin(d->db, err)) != NFV_OK)
        goto out;
    vm_db_vm_delete(d->db, name, NULL);
    vm_db_group_prune(d->db, NULL);
    vm_db_op_finish(d->db, op_id, VM_OPS_DONE, NULL, vm_daemon_now_ms(), NULL);
    if ((code = vm_db_commit(d->db, err)) != NFV_OK) {
        vm_db_rollback(d->db);
        goto out;
    }
    if (vm->host->alloc)
        pin_alloc_release(vm->host->alloc, name, NULL);
    vm_detach(d, vm);
    vm_metrics_observe(&d->metrics, VM_OP_VM_DELETE, 0, (double)(vm_d_mono_ms() - t0));
    vm_d_event(d, VM_SEV_INFO, "vm_deleted", name, "deleted from %s; its PUs are free",
               vm->host->name);
    vm_rt_free(vm);
    *ret = json_pack("{s:s,s:b}", "name", name, "deleted", 1);
out:
    pthread_mutex_unlock(&d->lock);
    return code;
}

/* ---- start-up: allocations, recovery, reconcile ---- */

enum nfv_code vm_vm_host_ready(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err)
{
    enum nfv_code code;

    if (!h->topo || h->alloc)
        return NFV_OK;
    if ((code = pin_alloc_new(h->topo, &h->pools, &h->alloc, err)) != NFV_OK)
        return code;
    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *vm = d->vms[i];
        struct nfv_err e = {0};
        if (vm->host == h && pin_alloc_claim(h->alloc, vm->plan, vm->name, &e) != NFV_OK)
            vm_d_event(d, VM_SEV_ERR, "alloc_conflict", vm->name, "%s", e.msg);
    }
    return NFV_OK;
}

static int load_vm_cb(void *opaque, const struct vm_db_vm *row)
{
    struct vm_daemon *d = opaque;
    struct vm_rt *vm = calloc(1, sizeof(*vm));
    json_t *spec = json_loads(row->spec, 0, NULL), *plan = json_loads(row->plan, 0, NULL);
    struct vm_spec s;
    struct nfv_err e = {0};
    bool is_ok = false;

    if (vm && spec && plan && (vm->host = vm_d_host_find(d, row->host)) &&
        pin_plan_from_json(plan, &vm->plan, &e) == NFV_OK) {
        json_object_del(spec, "group");
        json_object_del(spec, "role");
        if (spec_parse(spec, vm_fields, &s, &e) == NFV_OK) {
            vm->req = s.req;
            s.req = NULL;
            vm->memory_mib = s.memory_mib;
            is_ok = true;
        }
        spec_clear(&s);
    }
    if (is_ok) {
        snprintf(vm->name, sizeof(vm->name), "%s", row->name);
        vm->state = row->state;
        vm->role = row->role;
        snprintf(vm->group, sizeof(vm->group), "%s", row->group);
        if (vm->host->alloc && pin_alloc_claim(vm->host->alloc, vm->plan, vm->name, &e))
            vm_d_event(d, VM_SEV_ERR, "alloc_conflict", vm->name, "%s", e.msg);
        is_ok = vm_append(d, vm, NULL) == NFV_OK;
    } else {
        NFV_LOG_ERR(MOD, "VM '%s': cannot load its row: %s", row->name, e.msg);
    }
    if (!is_ok)
        vm_rt_free(vm);
    json_decref(spec);
    json_decref(plan);
    return 0;
}

enum nfv_code vm_vm_load(struct vm_daemon *d, struct nfv_err *err)
{
    return vm_db_vm_list(d->db, 0, load_vm_cb, d, err);
}

enum vm_recovery vm_vm_recover(struct vm_daemon *d, const struct vm_db_op *op)
{
    struct vm_op_observed obs = {0};
    struct vm_db_vm row;
    struct host_rt *h = NULL;
    enum vm_hv_dom_state st = VM_HV_DOM_SHUTOFF;
    enum vm_recovery r;
    int64_t now = vm_daemon_now_ms();
    const struct vm_rt *live = vm_find(d, op->target);

    /* A retry of deferred entries must not resolve an action that is
     * running right now without the lock: it finishes its entry itself. */
    if (live && live->is_busy)
        return VM_RECOVER_DEFER;
    if (op->kind == VM_OP_GROUP_CREATE) {
        int64_t gid = 0;
        obs.is_db_present = vm_db_group_get(d->db, op->target, &gid, NULL, NULL) == NFV_OK;
        return vm_journal_decide(op->kind, &obs);
    }
    if (vm_db_vm_get(d->db, op->target, &row, NULL) == NFV_OK) {
        obs.is_db_present = true;
        h = vm_d_host_find(d, row.host);
        vm_db_vm_clear(&row);
    } else {
        json_t *p = json_loads(op->payload ? op->payload : "{}", 0, NULL);
        const char *hn = json_string_value(json_object_get(p, "host"));
        h = hn ? vm_d_host_find(d, hn) : NULL;
        json_decref(p);
    }
    obs.is_host_reachable = h && h->conn;
    if (obs.is_host_reachable) {
        enum nfv_code c = d->hv->domain_state(h->conn, op->target, &st, NULL);
        obs.is_domain_defined = c == NFV_OK;
        obs.is_domain_running = c == NFV_OK && st == VM_HV_DOM_RUNNING;
    } else if (!obs.is_db_present && op->kind != VM_OP_VM_CREATE) {
        obs.is_host_reachable = true; /* nothing left to look at */
    }
    r = vm_journal_decide(op->kind, &obs);
    switch (op->kind) {
    case VM_OP_VM_CREATE:
    case VM_OP_VM_DELETE:
        if (op->kind == VM_OP_VM_CREATE && r == VM_RECOVER_FINISH) {
            vm_db_vm_set_state(d->db, op->target, VM_GUEST_RUNNING, now, NULL);
            break;
        }
        if (r == VM_RECOVER_DEFER)
            break;
        /* Undo a create / finish a delete: the domain must really be gone
         * before the row (and the PUs) go, or it would leak. libvirt may
         * still be busy with the killed daemon's destroy: try again later. */
        if (obs.is_domain_defined) {
            struct nfv_err e = {0};
            enum nfv_code c = d->hv->domain_undefine(h->conn, op->target, &e);
            if (c != NFV_OK && c != NFV_E_NOENT) {
                NFV_LOG_WARN(MOD, "'%s': recovery deferred: %s", op->target, e.msg);
                return VM_RECOVER_DEFER;
            }
        }
        vm_db_vm_delete(d->db, op->target, NULL);
        /* When retried while running, memory holds the VM or its claim. */
        {
            struct vm_rt *vm = vm_find(d, op->target);
            if (vm) {
                if (vm->host->alloc)
                    pin_alloc_release(vm->host->alloc, vm->name, NULL);
                vm_detach(d, vm);
                vm_rt_free(vm);
            } else if (h && h->alloc) {
                pin_alloc_release(h->alloc, op->target, NULL);
            }
        }
        break;
    default:
        if (r == VM_RECOVER_FINISH && obs.is_db_present)
            vm_db_vm_set_state(d->db, op->target,
                               !obs.is_domain_defined  ? VM_GUEST_ERROR
                               : obs.is_domain_running ? VM_GUEST_RUNNING
                                                       : VM_GUEST_STOPPED,
                               now, NULL);
        break;
    }
    vm_db_group_prune(d->db, NULL);
    return r;
}

/*
 * libvirt's test driver keeps its domains in the connection's memory, so a
 * simulated host forgets them whenever vmmgrd restarts or reconnects. The
 * simulation's truth is vmmgrd's database: define (and start) them again.
 */
static bool sim_restore(struct vm_daemon *d, struct vm_rt *vm)
{
    struct vm_db_vm row;
    struct vm_spec s = {0};
    json_t *spec;
    char *xml = NULL;
    bool is_ok = false;

    if (!vm_uri_is_test(vm->host->uri) || vm_db_vm_get(d->db, vm->name, &row, NULL) != NFV_OK)
        return false;
    spec = json_loads(row.spec, 0, NULL);
    json_object_del(spec, "group");
    json_object_del(spec, "role");
    if (spec && spec_parse(spec, vm_fields, &s, NULL) == NFV_OK) {
        is_ok = domain_xml(vm->host, vm->name, &s, vm->role, vm->group, vm->plan, &xml, NULL) ==
                    NFV_OK &&
                d->hv->domain_define(vm->host->conn, xml, NULL) == NFV_OK &&
                (vm->state != VM_GUEST_RUNNING ||
                 d->hv->domain_start(vm->host->conn, vm->name, NULL) == NFV_OK);
    }
    spec_clear(&s);
    free(xml);
    json_decref(spec);
    vm_db_vm_clear(&row);
    return is_ok;
}

struct foreign_ctx {
    struct vm_daemon *d;
    struct host_rt *h;
    unsigned n_foreign;
};

static int foreign_cb(void *opaque, const char *name, enum vm_hv_dom_state st)
{
    struct foreign_ctx *fc = opaque;

    (void)st;
    if (vm_find(fc->d, name) || !fc->d->hv->domain_is_vmmgr ||
        !fc->d->hv->domain_is_vmmgr(fc->h->conn, name))
        return 0;
    fc->n_foreign++;
    vm_d_event(fc->d, VM_SEV_WARN, "domain_unknown", name,
               "host '%s' has a domain defined by vmmgrd that the state database does not "
               "know; left untouched (delete it with virsh if it is stale)",
               fc->h->name);
    return 0;
}

void vm_vm_reconcile(struct vm_daemon *d)
{
    unsigned n_foreign = 0;

    /* Domains vmmgrd made that it no longer knows (another state database,
     * a restore from backup): reported, never destroyed automatically. */
    for (size_t i = 0; i < d->n_hosts; i++) {
        struct foreign_ctx fc = {d, d->hosts[i], 0};
        if (d->hosts[i]->conn && d->hv->domain_list)
            d->hv->domain_list(d->hosts[i]->conn, foreign_cb, &fc, NULL);
        n_foreign += fc.n_foreign;
    }
    unsigned n_checked = 0, n_lost = 0, n_changed = 0, n_repaired = 0, n_restored = 0;

    for (size_t i = 0; i < d->n_vms; i++) {
        struct vm_rt *vm = d->vms[i];
        enum vm_hv_dom_state st;
        enum vm_guest_state want;
        if (!vm->host->conn || vm->state == VM_GUEST_CREATING || vm->state == VM_GUEST_DELETING ||
            vm->is_busy)
            continue;
        n_checked++;
        if (d->hv->domain_state(vm->host->conn, vm->name, &st, NULL) != NFV_OK &&
            vm->state != VM_GUEST_ERROR && sim_restore(d, vm)) {
            n_restored++;
            continue;
        }
        if (d->hv->domain_state(vm->host->conn, vm->name, &st, NULL) != NFV_OK) {
            if (vm->state != VM_GUEST_ERROR) {
                n_lost++;
                vm->state = VM_GUEST_ERROR;
                vm_db_vm_set_state(d->db, vm->name, VM_GUEST_ERROR, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_ERR, "vm_lost", vm->name,
                           "host '%s' no longer has the domain; its PUs stay reserved until "
                           "the VM is deleted",
                           vm->host->name);
            }
            continue;
        }
        want = st == VM_HV_DOM_RUNNING ? VM_GUEST_RUNNING : VM_GUEST_STOPPED;
        if (want != vm->state) {
            n_changed++;
            vm_d_event(d, VM_SEV_WARN, "vm_state", vm->name, "libvirt says %s, was %s",
                       vm_hv_dom_state_to_string(st), vm_guest_state_to_string(vm->state));
            vm->state = want;
            vm_db_vm_set_state(d->db, vm->name, want, vm_daemon_now_ms(), NULL);
        }
        if (want == VM_GUEST_RUNNING && pins_enforce(d, vm, "reconcile") > 0)
            n_repaired++;
    }
    if (n_checked || n_foreign)
        vm_d_event(d, VM_SEV_INFO, "reconcile", "vmmgrd",
                   "%u VM(s) checked against libvirt: %u lost, %u state change(s), %u re-pinned, "
                   "%u simulated restored, %u unknown vmmgr domain(s)",
                   n_checked, n_lost, n_changed, n_repaired, n_restored, n_foreign);
}

/* ---- pin enforcement ---- */

void vm_vm_note(struct vm_daemon *d, struct host_rt *h, const char *domain, enum vm_hv_dom_event ev)
{
    pthread_mutex_lock(&d->note_lock);
    if (d->n_notes < VM_NOTE_QUEUE) {
        struct dom_note *n = &d->notes[d->n_notes++];
        n->host = h;
        snprintf(n->domain, sizeof(n->domain), "%s", domain);
        n->ev = ev;
    } else {
        d->n_notes_dropped++;
    }
    pthread_mutex_unlock(&d->note_lock);
    pthread_cond_broadcast(&d->cond);
}

void vm_vm_handle_notes(struct vm_daemon *d)
{
    struct dom_note notes[VM_NOTE_QUEUE];
    unsigned n, dropped;

    pthread_mutex_lock(&d->note_lock);
    n = d->n_notes;
    memcpy(notes, d->notes, n * sizeof(notes[0]));
    d->n_notes = 0;
    dropped = d->n_notes_dropped;
    d->n_notes_dropped = 0;
    pthread_mutex_unlock(&d->note_lock);
    if (dropped) {
        /* Events were lost: check every running VM instead. */
        NFV_LOG_WARN(MOD, "%u domain events dropped; reconciling", dropped);
        vm_vm_reconcile(d);
    }
    for (unsigned i = 0; i < n; i++) {
        struct vm_rt *vm = vm_find(d, notes[i].domain);
        bool is_host_known = false;
        for (size_t k = 0; k < d->n_hosts; k++)
            is_host_known |= d->hosts[k] == notes[i].host;
        /* A busy VM's action sets its state and checks its pins itself. */
        if (!vm || !is_host_known || vm->host != notes[i].host || vm->state == VM_GUEST_CREATING ||
            vm->state == VM_GUEST_DELETING || vm->is_busy)
            continue;
        switch (notes[i].ev) {
        case VM_HV_EV_STARTED:
        case VM_HV_EV_REBOOTED:
        case VM_HV_EV_TUNED:
            if (vm->state != VM_GUEST_RUNNING && notes[i].ev == VM_HV_EV_STARTED) {
                vm->state = VM_GUEST_RUNNING;
                vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_WARN, "vm_state", vm->name, "started outside vmmgrd");
            }
            if (vm->state == VM_GUEST_RUNNING)
                pins_enforce(d, vm,
                             notes[i].ev == VM_HV_EV_TUNED      ? "changed outside vmmgrd"
                             : notes[i].ev == VM_HV_EV_REBOOTED ? "after reboot"
                                                                : "after start");
            break;
        case VM_HV_EV_STOPPED:
            if (vm->state == VM_GUEST_RUNNING) {
                vm->state = VM_GUEST_STOPPED;
                vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
                vm_d_event(d, VM_SEV_WARN, "vm_state", vm->name, "stopped outside vmmgrd");
            }
            break;
        case VM_HV_EV_UNDEFINED:
            vm->state = VM_GUEST_ERROR;
            vm_db_vm_set_state(d->db, vm->name, vm->state, vm_daemon_now_ms(), NULL);
            vm_d_event(d, VM_SEV_ERR, "vm_lost", vm->name, "undefined outside vmmgrd");
            break;
        default:
            break;
        }
    }
}
