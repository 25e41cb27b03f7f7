/*
 * ctl_pin.c - the offline pinning verbs of vmmgrctl: `topology` and `plan`.
 *
 * Both run without the daemon: they load a topology through the hwloc
 * adapter (this host, an hwloc XML file or a synthetic description) and, for
 * `plan`, run the pure planner on an empty host with the given pools (or on
 * a recorded host state, --allocation FILE; --save FILE --owner NAME claims
 * the plan there and writes the new state), then
 * print the result as a table, JSON (--json) or the libvirt XML fragment
 * (--xml). Every bad option exits 2 with one line naming the option; a
 * request that does not fit exits 5 (no capacity) with the planner's reason.
 * Neighbours: ctl_main.c (verb table, global options), pinning/ (the work).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_verbs.h"
#include "pin/pin.h"
#include "pin/pin_hwloc.h"
#include "pin/pin_libvirt.h"

/* Loads the topology named by --hwloc-xml / --synthetic, else this host. */
static enum nfv_code load_topo(const char *xml, const char *synthetic, struct pin_topo **ret,
                               struct nfv_err *err)
{
    enum nfv_code rc;

    if (xml && synthetic)
        return NFV_ERR(err, NFV_E_INVAL, "'--hwloc-xml' and '--synthetic' conflict: give one");
    if (xml) {
        rc = pin_hwloc_load_xml(xml, ret, err);
        if (rc == NFV_E_PARSE || rc == NFV_E_IO) {
            nfv_err_prefix(err, "'--hwloc-xml'");
            if (err)
                err->code = NFV_E_INVAL;
            return NFV_E_INVAL;
        }
        return rc;
    }
    if (synthetic) {
        rc = pin_hwloc_load_synthetic(synthetic, ret, err);
        if (rc == NFV_E_PARSE || rc == NFV_E_INVAL) {
            nfv_err_prefix(err, "'--synthetic'");
            if (err)
                err->code = NFV_E_INVAL;
            return NFV_E_INVAL;
        }
        return rc;
    }
    return pin_hwloc_load_live(ret, err);
}

static enum nfv_code print_topology(const struct ctl_ctx *ctx, const struct pin_topo *t)
{
    static const char *const node_cols[] = {"node",    "package",    "cpus",
                                            "n_cores", "memory_mib", "hugepages"};
    static const char *const core_cols[] = {"core", "package", "node", "pus"};
    static const char *const nic_cols[] = {"nic", "pci", "node"};
    struct nfv_table *nodes = nfv_table_new(node_cols, 6);
    struct nfv_table *cores = nfv_table_new(core_cols, 4);
    struct nfv_table *nics = nfv_table_new(nic_cols, 3);
    enum nfv_code rc = NFV_E_NOMEM;
    char buf[4096], cpus[4096];

    if (!nodes || !cores || !nics)
        goto out;
    for (unsigned i = 0; i < t->n_nodes; i++) {
        const struct pin_node_info *n = &t->nodes[i];
        size_t len = 0;
        buf[0] = '\0';
        for (unsigned k = 0; k < n->n_hp && len < sizeof(buf); k++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%llukB:%llu/%llu",
                                    k ? "," : "", (unsigned long long)n->hp[k].size_kib,
                                    (unsigned long long)n->hp[k].n_free,
                                    (unsigned long long)n->hp[k].n_total);
        nfv_table_add_row(nodes);
        nfv_table_add_int(nodes, n->os_index);
        nfv_table_add_int(nodes, n->package);
        pin_cpuset_format(&n->pus, cpus, sizeof(cpus));
        nfv_table_add_str(nodes, cpus);
        nfv_table_add_int(nodes, n->n_cores);
        nfv_table_add_int(nodes, (int64_t)(n->mem_bytes >> 20));
        nfv_table_add_str(nodes, n->n_hp ? buf : NULL);
    }
    for (unsigned c = 0; c < t->n_cores; c++) {
        const struct pin_core_info *core = &t->cores[c];
        size_t len = 0;
        for (unsigned k = 0; k < core->n_pus && len < sizeof(buf); k++)
            len +=
                (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u", k ? "," : "", core->pus[k]);
        nfv_table_add_row(cores);
        nfv_table_add_int(cores, c);
        nfv_table_add_int(cores, core->package);
        nfv_table_add_int(cores, t->nodes[core->node].os_index);
        nfv_table_add_str(cores, buf);
    }
    for (unsigned i = 0; i < t->n_nics; i++) {
        nfv_table_add_row(nics);
        nfv_table_add_str(nics, t->nics[i].name[0] ? t->nics[i].name : NULL);
        nfv_table_add_str(nics, t->nics[i].pci[0] ? t->nics[i].pci : NULL);
        if (t->nics[i].node < 0)
            nfv_table_add_null(nics);
        else
            nfv_table_add_int(nics, t->nodes[t->nics[i].node].os_index);
    }
    if (!(ctx->table_flags & NFV_TABLE_NO_LEGEND))
        printf("%s: %u packages, %u numa nodes, %u cores, %u PUs\n\n",
               t->source ? t->source : "topology", t->n_packages, t->n_nodes, t->n_cores, t->n_pus);
    rc = ctl_print_table(ctx, nodes);
    if (rc == NFV_OK) {
        printf("\n");
        rc = ctl_print_table(ctx, cores);
    }
    if (rc == NFV_OK && t->n_nics) {
        printf("\n");
        rc = ctl_print_table(ctx, nics);
    }
out:
    nfv_table_free(nodes);
    nfv_table_free(cores);
    nfv_table_free(nics);
    return rc;
}

enum nfv_code ctl_cmd_topology(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"hwloc-xml=", "synthetic=", NULL};
    const char *opts[2];
    struct pin_topo *t;
    enum nfv_code rc;

    if ((rc = ctl_verb_opts(argc, argv, "topology", spec, opts, err)))
        return rc;
    rc = load_topo(opts[0], opts[1], &t, err);
    if (rc)
        return rc;
    if (ctx->fmt == NFV_OUT_TABLE) {
        rc = print_topology(ctx, t);
    } else {
        json_t *v = pin_topo_to_json(t);
        if (!v) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "topology: out of memory");
        } else {
            ctl_print_json(ctx, v);
            json_decref(v);
        }
    }
    pin_topo_unref(t);
    return rc;
}

/* Options of `plan`, as given (parsed once the topology is known). */
struct plan_opts {
    const char *vcpus, *mode, *map, *shared_vcpus, *shared_pus, *thread, *emulator, *numa_node,
        *nic, *nic_policy, *numa, *iothreads, *memory, *hugepages, *reserved, *dedicated,
        *shared_pool, *xml_file, *synthetic, *allocation, *save, *owner;
    bool is_xml;
};

static enum nfv_code enum_opt(const char *opt, const char *val, int parsed, int count,
                              const char *choices, int *ret, struct nfv_err *err)
{
    if (parsed >= count)
        return NFV_ERR(err, NFV_E_INVAL, "'--%s': '%s' is not one of %s", opt, val, choices);
    *ret = parsed;
    return NFV_OK;
}

/* The core's messages start with the field in quotes ("'dedicated': ...");
 * on the CLI the field is an option, so make it "'--dedicated': ...". */
static void field_to_option(struct nfv_err *err)
{
    size_t len;

    if (!err || err->msg[0] != '\'' || strncmp(err->msg, "'--", 3) == 0)
        return;
    len = strlen(err->msg);
    if (len + 2 >= sizeof(err->msg))
        len = sizeof(err->msg) - 3;
    memmove(err->msg + 3, err->msg + 1, len - 1);
    err->msg[1] = '-';
    err->msg[2] = '-';
    err->msg[len + 2] = '\0';
}

/* Builds the request from @o on topology @t. */
static enum nfv_code build_request(const struct plan_opts *o, const struct pin_topo *t,
                                   struct pin_request **ret, struct nfv_err *err)
{
    struct pin_request *req = NULL;
    unsigned long n_vcpus, v;
    int mode = PIN_MODE_EXCLUSIVE, e = 0;
    enum nfv_code rc;

    if (!o->vcpus)
        return NFV_ERR(err, NFV_E_INVAL, "'--vcpus': required");
    rc = ctl_opt_uint("vcpus", o->vcpus, 1, PIN_MAX_VCPUS, &n_vcpus, err);
    if (rc)
        return rc;
    if (o->mode && (rc = enum_opt("cpu-mode", o->mode, pin_cpu_mode_from_string(o->mode),
                                  PIN_MODE__COUNT, "exclusive, shared, numbered", &mode, err)))
        return rc;
    if (mode == PIN_MODE_NUMBERED && !o->map)
        return NFV_ERR(err, NFV_E_INVAL, "'--cpu-map': required with --cpu-mode numbered");
    if (o->numa_node && o->nic)
        return NFV_ERR(err, NFV_E_INVAL, "'--numa-node' and '--nic' conflict: give one");
    if (o->nic_policy && !o->nic)
        return NFV_ERR(err, NFV_E_INVAL, "'--nic-policy': needs --nic");
    rc = pin_request_new((unsigned)n_vcpus, (enum pin_cpu_mode)mode, &req, err);
    if (rc)
        return rc;
    /* numbered vCPUs get their PUs from the map; others stay in @mode */
    if (mode == PIN_MODE_NUMBERED)
        memset(req->vcpu_mode, PIN_MODE_EXCLUSIVE, req->n_vcpus);
    if (o->map && (rc = pin_request_set_cpu_map(req, o->map, t->max_pu, err))) {
        nfv_err_prefix(err, "'--cpu-map'");
        goto fail;
    }
    if (mode == PIN_MODE_NUMBERED)
        for (unsigned i = 0; i < req->n_vcpus; i++)
            if (req->vcpu_mode[i] != PIN_MODE_NUMBERED) {
                rc = NFV_ERR(err, NFV_E_INVAL, "'--cpu-map': vCPU %u has no PU", i);
                goto fail;
            }
    if (o->shared_vcpus) {
        rc = pin_request_set_mode_list(req, o->shared_vcpus, PIN_MODE_SHARED, err);
        if (rc) {
            nfv_err_prefix(err, "'--shared-vcpus'");
            goto fail;
        }
    }
    if (o->shared_pus) {
        if ((rc = ctl_opt_uint("shared-pus", o->shared_pus, 1, PIN_MAX_PUS, &v, err)))
            goto fail;
        req->n_shared_pus = (unsigned)v;
    }
    if (o->thread) {
        if ((rc = enum_opt("thread-policy", o->thread, pin_thread_policy_from_string(o->thread),
                           PIN_THREAD__COUNT, "isolate, prefer, require", &e, err)))
            goto fail;
        req->thread_policy = (enum pin_thread_policy)e;
    }
    if (o->emulator) {
        if ((rc = enum_opt("emulator", o->emulator, pin_emulator_policy_from_string(o->emulator),
                           PIN_EMU__COUNT, "reserved, shared, isolate, vcpus, auto", &e, err)))
            goto fail;
        req->emulator = (enum pin_emulator_policy)e;
    }
    if (o->numa) {
        if ((rc = enum_opt("numa", o->numa, pin_numa_policy_from_string(o->numa), PIN_NUMA__COUNT,
                           "single, spread, auto", &e, err)))
            goto fail;
        req->numa = (enum pin_numa_policy)e;
    }
    if (o->numa_node) {
        if ((rc = ctl_opt_uint("numa-node", o->numa_node, 0, PIN_MAX_NODES - 1, &v, err)))
            goto fail;
        if (pin_topo_node_by_os(t, (unsigned)v) < 0) {
            rc = NFV_ERR(err, NFV_E_INVAL, "'--numa-node': node %lu is not on this host", v);
            goto fail;
        }
        req->numa_node = (int)v;
    }
    if (o->nic) {
        if (!pin_topo_nic_find(t, o->nic)) {
            rc = NFV_ERR(err, NFV_E_INVAL, "'--nic': '%s' is not on this host", o->nic);
            goto fail;
        }
        snprintf(req->nic, sizeof(req->nic), "%s", o->nic);
        req->nic_policy = PIN_NIC_REQUIRED;
        if (o->nic_policy) {
            e = pin_nic_policy_from_string(o->nic_policy);
            if (e == PIN_NIC_NONE)
                e = PIN_NIC__COUNT;
            if ((rc = enum_opt("nic-policy", o->nic_policy, e, PIN_NIC__COUNT,
                               "required, preferred", &e, err)))
                goto fail;
            req->nic_policy = (enum pin_nic_policy)e;
        }
    }
    if (o->iothreads) {
        if ((rc = ctl_opt_uint("iothreads", o->iothreads, 0, 64, &v, err)))
            goto fail;
        req->n_iothreads = (unsigned)v;
    }
    if (o->memory) {
        if ((rc = ctl_opt_uint("memory", o->memory, 1, 1ul << 30, &v, err)))
            goto fail;
        req->mem_mib = v;
    }
    if (o->hugepages) {
        if ((rc = ctl_opt_uint("hugepages", o->hugepages, 4, 1ul << 30, &v, err)))
            goto fail;
        req->hugepage_kib = v;
    }
    rc = pin_request_validate(req, err);
    if (rc) {
        /* the request's own messages name the field: make it an option */
        field_to_option(err);
        goto fail;
    }
    *ret = req;
    return NFV_OK;
fail:
    pin_request_free(req);
    return rc;
}

static enum nfv_code print_plan(const struct ctl_ctx *ctx, const struct pin_topo *t,
                                const struct pin_plan *plan)
{
    static const char *const cols[] = {"vcpu", "mode", "cpuset", "core", "node"};
    struct nfv_table *tab = nfv_table_new(cols, 5);
    char set[4096];
    enum nfv_code rc;

    if (!tab)
        return NFV_E_NOMEM;
    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        struct pin_cpuset s;
        const struct pin_pu_info *pu =
            plan->vcpu_pu[v] >= 0 ? pin_topo_pu(t, (unsigned)plan->vcpu_pu[v]) : NULL;
        pin_plan_vcpu_cpuset(plan, v, &s);
        pin_cpuset_format(&s, set, sizeof(set));
        nfv_table_add_row(tab);
        nfv_table_add_int(tab, v);
        nfv_table_add_str(tab, pin_cpu_mode_to_string(plan->vcpu_mode[v]));
        nfv_table_add_str(tab, set);
        if (pu) {
            nfv_table_add_int(tab, pu->core);
            nfv_table_add_int(tab, t->nodes[pu->node].os_index);
        } else {
            nfv_table_add_null(tab);
            nfv_table_add_null(tab);
        }
    }
    rc = ctl_print_table(ctx, tab);
    nfv_table_free(tab);
    if (rc)
        return rc;
    pin_cpuset_format(&plan->emulator, set, sizeof(set));
    printf("\nemulator: %s\n", set[0] ? set : "-");
    printf("emulator policy: %s\n", pin_emulator_policy_to_string(plan->emulator_policy));
    if (plan->n_iothreads) {
        pin_cpuset_format(&plan->iothreads, set, sizeof(set));
        printf("iothreads: %u on %s\n", plan->n_iothreads, set);
    }
    pin_cpuset_format(&plan->blocked, set, sizeof(set));
    printf("kept empty: %s\n", set[0] ? set : "-");
    printf("memory nodes:");
    for (unsigned n = 0; n < 64; n++)
        if (plan->node_mask & (UINT64_C(1) << n))
            printf(" %u", n);
    printf(" (%s)\n", plan->is_mem_strict ? "strict" : "preferred");
    return NFV_OK;
}

/* Reads a host's allocation (pin_alloc_to_json) for topology @t. */
static enum nfv_code load_allocation(const char *path, struct pin_topo *t, struct pin_alloc **ret,
                                     struct nfv_err *err)
{
    json_error_t jerr;
    json_t *v = json_load_file(path, 0, &jerr);
    enum nfv_code rc;

    if (!v)
        return NFV_ERR(err, NFV_E_INVAL, "'--allocation': %s: %s", path, jerr.text);
    rc = pin_alloc_from_json(t, v, ret, err);
    json_decref(v);
    if (rc) {
        nfv_err_prefix(err, "'--allocation': %s", path);
        if (err)
            err->code = NFV_E_INVAL;
        return NFV_E_INVAL;
    }
    return NFV_OK;
}

/* Claims @plan for @owner and writes the host's new allocation to @path. */
static enum nfv_code save_claim(const char *path, struct pin_alloc *alloc,
                                const struct pin_plan *plan, const char *owner, struct nfv_err *err)
{
    enum nfv_code rc = pin_alloc_claim(alloc, plan, owner, err);
    json_t *v;

    if (rc) {
        nfv_err_prefix(err, "'--owner'");
        return rc;
    }
    v = pin_alloc_to_json(alloc);
    if (!v || json_dump_file(v, path, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
        json_decref(v);
        return NFV_ERR(err, NFV_E_IO, "'--save': cannot write %s", path);
    }
    json_decref(v);
    return NFV_OK;
}

static const char *const plan_spec[] = {
    "vcpus=",     "cpu-mode=",   "cpu-map=",  "shared-vcpus=", "shared-pus=",  "thread-policy=",
    "emulator=",  "numa-node=",  "nic=",      "nic-policy=",   "numa=",        "iothreads=",
    "memory=",    "hugepages=",  "reserved=", "dedicated=",    "shared-pool=", "hwloc-xml=",
    "synthetic=", "allocation=", "save=",     "owner=",        "xml",          NULL};

/* Keeps a `plan` option's value in its plan_opts field (same order as plan_spec). */
static enum nfv_code plan_opt(void *opaque, const char *opt, const char *val, struct nfv_err *err)
{
    struct plan_opts *o = opaque;
    const char **slots[] = {&o->vcpus,       &o->mode,       &o->map,       &o->shared_vcpus,
                            &o->shared_pus,  &o->thread,     &o->emulator,  &o->numa_node,
                            &o->nic,         &o->nic_policy, &o->numa,      &o->iothreads,
                            &o->memory,      &o->hugepages,  &o->reserved,  &o->dedicated,
                            &o->shared_pool, &o->xml_file,   &o->synthetic, &o->allocation,
                            &o->save,        &o->owner};

    (void)err;
    if (strcmp(opt, "xml") == 0) {
        o->is_xml = true;
        return NFV_OK;
    }
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        if (plan_spec[i] == opt)
            *slots[i] = val;
    return NFV_OK;
}

enum nfv_code ctl_cmd_plan(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    struct plan_opts o = {0};
    struct pin_topo *t = NULL;
    struct pin_pools pools;
    struct pin_alloc *alloc = NULL;
    struct pin_request *req = NULL;
    struct pin_plan *plan = NULL;
    enum nfv_code rc;

    if ((rc = ctl_verb_args(argc, argv, "plan", NULL, plan_spec, plan_opt, &o, NULL, err)))
        return rc;
    if (o.is_xml && ctx->fmt != NFV_OUT_TABLE)
        return NFV_ERR(err, NFV_E_INVAL, "'--xml' and '--json' conflict: give one");

    rc = load_topo(o.xml_file, o.synthetic, &t, err);
    if (rc)
        goto out;
    if ((o.save != NULL) != (o.owner != NULL)) {
        rc = NFV_ERR(err, NFV_E_INVAL, "'--save' and '--owner' go together");
        goto out;
    }
    if (o.allocation) {
        /* a host's recorded state (pin_alloc_to_json) brings its own pools */
        if (o.reserved || o.dedicated || o.shared_pool) {
            rc = NFV_ERR(err, NFV_E_INVAL,
                         "'--allocation' conflicts with --reserved/--dedicated/--shared-pool "
                         "(the file has the pools)");
            goto out;
        }
        rc = load_allocation(o.allocation, t, &alloc, err);
        if (rc)
            goto out;
    } else {
        rc = pin_pools_parse(t, o.reserved, o.dedicated, o.shared_pool, &pools, err);
        if (rc) {
            /* "'reserved': ..." -> "'--reserved': ..."; overlap names two pools */
            field_to_option(err);
            goto out;
        }
        rc = pin_alloc_new(t, &pools, &alloc, err);
        if (rc)
            goto out;
    }
    rc = build_request(&o, t, &req, err);
    if (rc)
        goto out;
    plan = pin_plan_new(req->n_vcpus);
    if (!plan) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "plan: out of memory");
        goto out;
    }
    rc = pin_plan_compute(alloc, req, plan, err);
    if (rc == NFV_E_INVAL)
        field_to_option(err);
    if (rc)
        goto out;
    if (o.save) {
        rc = save_claim(o.save, alloc, plan, o.owner, err);
        if (rc)
            goto out;
    }
    if (o.is_xml) {
        char *xml;
        rc = pin_libvirt_render(t, plan, PIN_LV_ALL, &xml, err);
        if (rc == NFV_OK) {
            fputs(xml, stdout);
            free(xml);
        }
    } else if (ctx->fmt != NFV_OUT_TABLE) {
        json_t *v = json_pack("{s:s,s:o,s:o}", "topology", t->source ? t->source : "", "request",
                              pin_request_to_json(req), "plan", pin_plan_to_json(plan));
        ctl_print_json(ctx, v);
        json_decref(v);
    } else {
        rc = print_plan(ctx, t, plan);
    }
out:
    pin_plan_free(plan);
    pin_request_free(req);
    pin_alloc_free(alloc);
    pin_topo_unref(t);
    return rc;
}
