/*
 * test_bridge.c - placement's bridge to pinning (plc/bridge.h, issue 9).
 *
 * Round trips between the two models (host, request, VM, pins) and the
 * promise the bridge exists for: vmmgrd's path (a pinning host with a live
 * allocation -> cluster -> plc_place -> plc_bridge_plan) and `vmmgrctl
 * place`'s path (a cluster file -> plc_place -> plc_pin_plan_on) give the
 * same PUs for the same host, existing VM and request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pin/pin_hwloc.h"
#include "pin/pools.h"
#include "plc/bridge.h"
#include "plc/engine.h"
#include "plc/json.h"
#include "plc/pin.h"

#define TOPO "package:2 numa:1 core:8 pu:2" /* node 0: PUs 0-15, node 1: 16-31 */

struct host {
    struct pin_topo *t;
    struct pin_alloc *a;
};

static void host_init(struct host *h, const char *reserved)
{
    struct pin_pools pools;
    struct nfv_err err = {0};

    assert_int_equal(pin_hwloc_load_synthetic(TOPO, &h->t, &err), NFV_OK);
    assert_int_equal(pin_pools_parse(h->t, reserved, NULL, NULL, &pools, &err), NFV_OK);
    assert_int_equal(pin_alloc_new(h->t, &pools, &h->a, &err), NFV_OK);
}

static void host_fini(struct host *h)
{
    pin_alloc_free(h->a);
    pin_topo_unref(h->t);
}

/* A VNF-shaped request: vCPU 0 shared, the rest exclusive, defaults else. */
static struct pin_request *vnf_req(unsigned n_vcpus, uint64_t mem_mib)
{
    struct pin_request *r = NULL;

    assert_int_equal(pin_request_new(n_vcpus, PIN_MODE_EXCLUSIVE, &r, NULL), NFV_OK);
    assert_int_equal(pin_request_set_mode_list(r, "0", PIN_MODE_SHARED, NULL), NFV_OK);
    r->mem_mib = mem_mib;
    return r;
}

static void pus_format(const struct pin_plan *p, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (unsigned v = 0; v < p->n_vcpus && len < size; v++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", v ? "," : "", p->vcpu_pu[v]);
}

static void test_host_spec(void **state)
{
    struct host h;
    struct plc_bridge_host bh;
    struct plc_cluster *c = plc_cluster_new(NULL);
    struct nfv_err err = {0};
    uint16_t ids[32];
    uint32_t hi;

    (void)state;
    /* PU 16 reserved: core 8 (node 1's first) is not whole-dedicated */
    host_init(&h, "0-1,16");
    plc_bridge_core_ids(h.t, ids);
    for (unsigned k = 0; k < h.t->n_cores; k++)
        assert_int_equal(ids[k], k); /* nodes do not interleave: same order */
    assert_int_equal(plc_bridge_host_spec(h.a, "h1", PLC_HOST_UP, 0, &bh, &err), NFV_OK);
    assert_int_equal(bh.spec.n_nodes, 2);
    assert_int_equal(bh.spec.cores_per_node[0], 8);
    assert_int_equal(bh.spec.cores_per_node[1], 8);
    assert_int_equal(bh.spec.threads_per_core, 2);
    assert_int_equal(bh.spec.mem_mib_per_node[1], h.t->nodes[1].mem_bytes >> 20);
    assert_int_equal(bh.reserved[0], (1u << 0) | (1u << 8));
    assert_int_equal(plc_cluster_add_host(c, &bh.spec, &hi, &err), NFV_OK);
    assert_int_equal(plc_cluster_host(c, hi)->nodes[0].n_free, 7);
    assert_int_equal(plc_cluster_host(c, hi)->nodes[1].n_free, 7);
    /* back: the offline pinning host of that model host has the same pools */
    struct pin_alloc *back = NULL;
    assert_int_equal(plc_pin_alloc_of_host(c, hi, h.t, &back, &err), NFV_OK);
    char a[64], b[64];
    pin_cpuset_format(&pin_alloc_pools(back)->reserved, a, sizeof(a));
    assert_string_equal(a, "0-1,16-17"); /* whole cores: the model counts cores */
    pin_cpuset_format(&pin_alloc_pools(back)->dedicated, b, sizeof(b));
    assert_string_equal(b, "2-15,18-31");
    pin_alloc_free(back);
    plc_cluster_free(c);
    host_fini(&h);
}

/* A request naming a NUMA node: placement keeps to that node, so the pins
 * planned inside its choice are there (it used to pick node 0 and leave the
 * planner no free core on the node asked for). */
static void test_numa_node(void **state)
{
    struct host h;
    struct plc_bridge_host bh;
    struct plc_cluster *c = plc_cluster_new(NULL);
    struct pin_request *r = vnf_req(2, 256);
    struct plc_vm_req v = {.name = "n1"};
    struct plc_req req = {.n_vms = 1, .vms = &v};
    struct plc_choice ch;
    struct pin_plan *p = pin_plan_new(2);
    struct nfv_err err = {0};
    uint32_t hi;
    char pus[64];

    (void)state;
    host_init(&h, "0-1");
    assert_int_equal(plc_bridge_host_spec(h.a, "h1", PLC_HOST_UP, 0, &bh, &err), NFV_OK);
    assert_int_equal(plc_cluster_add_host(c, &bh.spec, &hi, &err), NFV_OK);
    r->numa_node = 1;
    assert_int_equal(plc_bridge_demand(r, 256, h.t, 2, &v.demand, &err), NFV_OK);
    assert_int_equal(v.demand.node_mask, 1u << 1);
    assert_int_equal(plc_place(c, &req, false, &ch, &err), NFV_OK);
    assert_int_equal(ch.parts[0].node, 1);
    assert_int_equal(plc_bridge_plan(h.a, &ch, r, p, &err), NFV_OK);
    pus_format(p, pus, sizeof(pus));
    for (unsigned i = 0; i < p->n_vcpus; i++)
        if (p->vcpu_pu[i] < 16)
            fail_msg("numa_node 1: vCPU %u on PU %d (node 0); pins %s", i, p->vcpu_pu[i], pus);
    r->numa_node = 5; /* no such node on this host */
    assert_int_equal(plc_bridge_demand(r, 256, h.t, 2, &v.demand, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'numa_node'"));
    pin_plan_free(p);
    pin_request_free(r);
    plc_cluster_free(c);
    host_fini(&h);
}

static void test_demand(void **state)
{
    struct host h;
    struct pin_request *r = vnf_req(4, 2048);
    struct plc_demand d;
    struct nfv_err err = {0};

    (void)state;
    host_init(&h, "0-1");
    assert_int_equal(plc_bridge_demand(r, 2048, NULL, 2, &d, &err), NFV_OK);
    assert_int_equal(d.n_vcpus, 4);
    assert_int_equal(d.n_cores, 4); /* shared core + 3 isolated exclusive */
    assert_int_equal(d.n_shared_vcpus, 1);
    assert_int_equal(d.n_shared_cores, 1);
    assert_int_equal(d.numa_nodes, 1);
    assert_int_equal(d.mem_mib, 2048);
    r->emulator = PIN_EMU_ISOLATE; /* one more core */
    assert_int_equal(plc_bridge_demand(r, 2048, NULL, 2, &d, &err), NFV_OK);
    assert_int_equal(d.n_cores, 5);
    pin_request_free(r);
    /* numbered: placement learns the cores; a map over two nodes = 2 nodes */
    assert_int_equal(pin_request_new(3, PIN_MODE_EXCLUSIVE, &r, NULL), NFV_OK);
    assert_int_equal(pin_request_set_cpu_map(r, "1:4,2:20", PIN_MAX_PUS, &err), NFV_OK);
    assert_int_equal(plc_bridge_demand(r, 0, NULL, 2, &d, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'cpu_map'"));
    assert_int_equal(plc_bridge_demand(r, 0, h.t, 2, &d, &err), NFV_OK);
    assert_int_equal(d.n_numbered, 2);
    assert_int_equal(d.numbered[0], 2);
    assert_int_equal(d.numbered[1], 10);
    assert_int_equal(d.n_cores, 3);
    assert_int_equal(d.numa_nodes, 2);
    pin_request_free(r);
    host_fini(&h);
}

/* plan -> choice -> PUs of the choice: the cores the plan holds, and
 * planning again on those cores on an empty host gives the same plan. */
static void test_choice_round_trip(void **state)
{
    struct host h, empty;
    struct pin_request *r = vnf_req(4, 1024);
    struct pin_plan *p = pin_plan_new(4), *q = pin_plan_new(4);
    struct plc_choice ch;
    struct pin_cpuset held, pus;
    struct nfv_err err = {0};
    char a[64], b[64];

    (void)state;
    host_init(&h, "0-1");
    host_init(&empty, "0-1");
    /* fill 3 cores first so the VM lands further in */
    struct pin_request *pre = vnf_req(3, 0);
    assert_int_equal(pin_plan_compute(h.a, pre, p, &err), NFV_OK);
    assert_int_equal(pin_alloc_claim(h.a, p, "pre", &err), NFV_OK);
    assert_int_equal(pin_plan_compute(h.a, r, p, &err), NFV_OK);
    assert_int_equal(plc_bridge_choice(h.t, 7, p, 1024, &ch, &err), NFV_OK);
    assert_int_equal(ch.host, 7);
    assert_int_equal(ch.n_parts, 1);
    assert_int_equal(ch.parts[0].node, 0);
    assert_int_equal(ch.parts[0].n_cores, 4);
    assert_int_equal(ch.parts[0].cores[0], 0xf0); /* cores 4-7 */
    assert_int_equal(ch.parts[0].mem_mib, 1024);
    plc_bridge_choice_pus(h.t, &ch, &pus);
    pin_cpuset_or(&held, &p->claimed, &p->blocked);
    assert_true(pin_cpuset_equal(&pus, &held));
    assert_int_equal(plc_bridge_plan(empty.a, &ch, r, q, &err), NFV_OK);
    pus_format(p, a, sizeof(a));
    pus_format(q, b, sizeof(b));
    assert_string_equal(a, b);
    assert_true(pin_cpuset_equal(&p->emulator, &q->emulator));
    pin_request_free(pre);
    pin_request_free(r);
    pin_plan_free(p);
    pin_plan_free(q);
    host_fini(&h);
    host_fini(&empty);
}

/* Loading an existing VM marks its cores held; the same cores twice clash. */
static void test_add_vm(void **state)
{
    struct host h;
    struct plc_bridge_host bh;
    struct plc_cluster *c = plc_cluster_new(NULL);
    struct pin_request *r = vnf_req(3, 512);
    struct pin_plan *p = pin_plan_new(3);
    struct nfv_err err = {0};
    uint32_t hi, vi;

    (void)state;
    host_init(&h, "0-1");
    assert_int_equal(plc_bridge_host_spec(h.a, "h1", PLC_HOST_UP, 0, &bh, &err), NFV_OK);
    assert_int_equal(plc_cluster_add_host(c, &bh.spec, &hi, &err), NFV_OK);
    assert_int_equal(pin_plan_compute(h.a, r, p, &err), NFV_OK);
    assert_int_equal(
        plc_bridge_add_vm(c, hi, h.a, "vm1", PLC_NONE, PLC_ROLE_NONE, r, p, 512, &vi, &err),
        NFV_OK);
    assert_int_equal(plc_cluster_vm(c, vi)->demand.n_cores, 3);
    assert_int_equal(plc_cluster_host(c, hi)->nodes[0].n_free, 7 - 3);
    assert_int_equal(plc_cluster_host(c, hi)->nodes[0].free_mem_mib,
                     (h.t->nodes[0].mem_bytes >> 20) - 512);
    /* a claim not yet listed as a VM (no request): read off the plan */
    assert_int_equal(
        plc_bridge_add_vm(c, hi, h.a, "vm2", PLC_NONE, PLC_ROLE_NONE, NULL, p, 0, NULL, &err),
        NFV_E_EXIST);
    assert_non_null(strstr(err.msg, "vm 'vm2'"));
    plc_cluster_free(c);
    pin_request_free(r);
    pin_plan_free(p);
    host_fini(&h);
}

/* The daemon path and the offline path give identical PUs. */
static void test_daemon_equals_offline(void **state)
{
    static const unsigned requests[] = {4, 2, 6};
    struct host h;
    struct plc_bridge_host bh;
    struct plc_cluster *dc = plc_cluster_new(NULL), *oc = NULL;
    struct pin_topo **topos = NULL;
    struct pin_plan *old = pin_plan_new(2);
    struct nfv_err err = {0};
    uint32_t hi;

    (void)state;
    /* daemon: a pinning host, reserved core 0, VM 'old' (2 exclusive vCPUs) */
    host_init(&h, "0-1");
    struct pin_request *oreq = NULL;
    assert_int_equal(pin_request_new(2, PIN_MODE_EXCLUSIVE, &oreq, NULL), NFV_OK);
    assert_int_equal(pin_plan_compute(h.a, oreq, old, &err), NFV_OK);
    assert_int_equal(pin_alloc_claim(h.a, old, "old", &err), NFV_OK);
    assert_int_equal(plc_bridge_host_spec(h.a, "h1", PLC_HOST_UP, 0, &bh, &err), NFV_OK);
    assert_int_equal(plc_cluster_add_host(dc, &bh.spec, &hi, &err), NFV_OK);
    assert_int_equal(
        plc_bridge_add_vm(dc, hi, h.a, "old", PLC_NONE, PLC_ROLE_NONE, oreq, old, 0, NULL, &err),
        NFV_OK);
    /* offline: the same host and VM as a cluster file */
    json_t *doc = json_pack(
        "{s:[{s:s,s:s,s:i,s:s}],s:[{s:s,s:s,s:i,s:s}]}", "hosts", "name", "h1", "topology", TOPO,
        "memory_mib", (int)((h.t->nodes[0].mem_bytes + h.t->nodes[1].mem_bytes) >> 20),
        "reserved_cores", "0", "vms", "name", "old", "host", "h1", "vcpus", 2, "cores", "1-2");
    assert_int_equal(plc_json_cluster_from_topos(doc, "c.json", &oc, &topos, &err), NFV_OK);
    json_decref(doc);
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        unsigned n = requests[i];
        struct pin_request *r = vnf_req(n, 256);
        struct plc_vm_req vd = {.name = "new"}, vo = {.name = "new"};
        struct plc_req rd = {.n_vms = 1, .vms = &vd}, ro = {.n_vms = 1, .vms = &vo};
        struct plc_choice chd, cho;
        struct pin_plan *pd = pin_plan_new(n), *po = NULL;
        char a[128], b[128];
        /* daemon: request -> demand -> place -> pins on the live allocation */
        assert_int_equal(plc_bridge_demand(r, 256, h.t, 2, &vd.demand, &err), NFV_OK);
        assert_int_equal(plc_place(dc, &rd, false, &chd, &err), NFV_OK);
        assert_int_equal(plc_bridge_plan(h.a, &chd, r, pd, &err), NFV_OK);
        /* offline: the file's demand (vcpus, 1 shared) -> place -> plc_pin_plan_on */
        memset(&vo.demand, 0, sizeof(vo.demand));
        vo.demand.n_vcpus = (uint16_t)n;
        vo.demand.n_shared_vcpus = 1;
        vo.demand.n_shared_cores = 1;
        vo.demand.n_cores = (uint16_t)n;
        vo.demand.numa_nodes = 1;
        vo.demand.mem_mib = 256;
        assert_int_equal(plc_place(oc, &ro, false, &cho, &err), NFV_OK);
        assert_int_equal(plc_pin_plan_on(oc, topos[cho.host], &vo.demand, &cho, &po, &err), NFV_OK);
        pus_format(pd, a, sizeof(a));
        pus_format(po, b, sizeof(b));
        if (strcmp(a, b) != 0)
            fail_msg("%u vCPUs: daemon pins %s, offline %s", n, a, b);
        assert_true(pin_cpuset_equal(&pd->emulator, &po->emulator));
        assert_true(pin_cpuset_equal(&pd->blocked, &po->blocked));
        /* and the daemon's plan is on exactly the cores placement chose */
        struct pin_cpuset want, held;
        plc_bridge_choice_pus(h.t, &chd, &want);
        pin_cpuset_or(&held, &pd->claimed, &pd->blocked);
        assert_true(pin_cpuset_equal(&want, &held));
        pin_plan_free(pd);
        pin_plan_free(po);
        pin_request_free(r);
    }
    plc_json_topos_free(topos, plc_cluster_n_hosts(oc));
    plc_cluster_free(oc);
    plc_cluster_free(dc);
    pin_request_free(oreq);
    pin_plan_free(old);
    host_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_spec), cmocka_unit_test(test_demand),
        cmocka_unit_test(test_numa_node), cmocka_unit_test(test_choice_round_trip),
        cmocka_unit_test(test_add_vm),    cmocka_unit_test(test_daemon_equals_offline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
