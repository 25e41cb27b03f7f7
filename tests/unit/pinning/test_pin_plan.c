/*
 * test_pin_plan.c - the planner and the allocation state, mode by mode.
 *
 * Each test states what an operator would check in `vmmgrctl plan` output or
 * `virsh vcpupin`: which PU each vCPU got, which siblings stay empty, where
 * the emulator runs, which node the memory is bound to, and - when the host
 * is full or the request is wrong - the exact reason. Topologies are built
 * with the pure builder (no hwloc), including a host with NICs on node 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/pin.h"

struct host {
    struct pin_topo *t;
    struct pin_alloc *a;
    struct pin_plan *plan;
};

/* A host from the synthetic shape with @reserved as host-reserved PUs. */
static void host_init(struct host *h, unsigned pkgs, unsigned nodes, unsigned cores,
                      unsigned threads, const char *reserved)
{
    struct pin_pools pools;
    struct nfv_err err = {0};

    assert_int_equal(pin_topo_new_synthetic(pkgs, nodes, cores, threads, 4096, &h->t, &err),
                     NFV_OK);
    if (pin_pools_parse(h->t, reserved, NULL, NULL, &pools, &err))
        fail_msg("pools: %s", err.msg);
    assert_int_equal(pin_alloc_new(h->t, &pools, &h->a, &err), NFV_OK);
    h->plan = pin_plan_new(PIN_MAX_VCPUS);
    assert_non_null(h->plan);
}

/* 2 packages x 1 node x 4 cores x 2 threads; eth-a on node 0, ens1f0 and
 * ens1f1 (PCI 0000:3b:00.1) on node 1. */
static void host_init_nics(struct host *h, const char *reserved)
{
    struct pin_pools pools;
    unsigned n[2];

    h->t = pin_topo_new();
    assert_non_null(h->t);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pin_topo_add_node(h->t, i, 1ull << 30, &n[i], NULL), NFV_OK);
    for (unsigned pu = 0; pu < 16; pu++)
        assert_int_equal(pin_topo_add_pu(h->t, pu, n[pu / 8], pu / 8, pu / 2, pu / 8, NULL),
                         NFV_OK);
    assert_int_equal(pin_topo_add_nic(h->t, "eth-a", "0000:01:00.0", 0, NULL), NFV_OK);
    assert_int_equal(pin_topo_add_nic(h->t, "ens1f0", "0000:3b:00.0", 1, NULL), NFV_OK);
    assert_int_equal(pin_topo_add_nic(h->t, "ens1f1", "0000:3b:00.1", 1, NULL), NFV_OK);
    assert_int_equal(pin_topo_seal(h->t, NULL), NFV_OK);
    assert_int_equal(pin_pools_parse(h->t, reserved, NULL, NULL, &pools, NULL), NFV_OK);
    assert_int_equal(pin_alloc_new(h->t, &pools, &h->a, NULL), NFV_OK);
    h->plan = pin_plan_new(64);
}

static void host_fini(struct host *h)
{
    pin_plan_free(h->plan);
    pin_alloc_free(h->a);
    pin_topo_unref(h->t);
}

static struct pin_request *req_new(unsigned n, enum pin_cpu_mode mode)
{
    struct pin_request *r = NULL;

    assert_int_equal(pin_request_new(n, mode, &r, NULL), NFV_OK);
    return r;
}

static void assert_set(const struct pin_cpuset *s, const char *want)
{
    char buf[1024];

    pin_cpuset_format(s, buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("cpuset '%s', want '%s'", buf, want);
}

/* vCPU -> PU list "2,4,6" of the current plan. */
static void assert_vcpus(const struct pin_plan *p, const char *want)
{
    char buf[1024];
    size_t len = 0;

    buf[0] = '\0';
    for (unsigned v = 0; v < p->n_vcpus; v++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d", v ? "," : "", p->vcpu_pu[v]);
    if (strcmp(buf, want) != 0)
        fail_msg("vcpus on '%s', want '%s'", buf, want);
}

static void plan_ok(struct host *h, const struct pin_request *r)
{
    struct nfv_err err = {0};

    if (pin_plan_compute(h->a, r, h->plan, &err) != NFV_OK)
        fail_msg("plan failed: %s", err.msg);
}

static void plan_fails(struct host *h, const struct pin_request *r, enum nfv_code code,
                       const char *msg)
{
    struct nfv_err err = {0};
    enum nfv_code rc = pin_plan_compute(h->a, r, h->plan, &err);

    if (rc != code)
        fail_msg("plan gave %s (%s), want %s", nfv_code_name(rc), err.msg, nfv_code_name(code));
    if (!strstr(err.msg, msg))
        fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void claim(struct host *h, const char *owner)
{
    struct nfv_err err = {0};

    if (pin_alloc_claim(h->a, h->plan, owner, &err) != NFV_OK)
        fail_msg("claim %s: %s", owner, err.msg);
}

static void test_exclusive_isolate(void **state)
{
    struct host h;
    struct pin_request *r = req_new(4, PIN_MODE_EXCLUSIVE);

    (void)state;
    host_init(&h, 2, 1, 16, 2, "0-1");
    plan_ok(&h, r);
    /* node 0 has 15 free whole cores, node 1 16: best fit is node 0 */
    assert_vcpus(h.plan, "2,4,6,8");
    assert_set(&h.plan->blocked, "3,5,7,9");
    assert_set(&h.plan->emulator, "0-1");
    assert_int_equal(h.plan->node_mask, 1);
    /* same inputs, same plan */
    struct pin_plan *again = pin_plan_dup(h.plan);
    plan_ok(&h, r);
    assert_memory_equal(again->vcpu_pu, h.plan->vcpu_pu, 8);
    pin_plan_free(again);
    claim(&h, "vm-a");
    plan_ok(&h, r);
    assert_vcpus(h.plan, "10,12,14,16");
    pin_request_free(r);
    host_fini(&h);
}

static void test_exclusive_prefer_and_require(void **state)
{
    struct host h;
    struct pin_request *r = req_new(3, PIN_MODE_EXCLUSIVE);

    (void)state;
    host_init(&h, 1, 1, 8, 2, "0-1");
    r->thread_policy = PIN_THREAD_PREFER;
    plan_ok(&h, r);
    assert_vcpus(h.plan, "2,3,4"); /* siblings packed; PU 5 left for others */
    assert_true(pin_cpuset_is_empty(&h.plan->blocked));
    claim(&h, "prefer-vm");
    /* the next prefer VM takes the half-used core first */
    r->n_vcpus = 1;
    plan_ok(&h, r);
    assert_vcpus(h.plan, "5");
    r->n_vcpus = 3;
    r->thread_policy = PIN_THREAD_REQUIRE;
    plan_ok(&h, r);
    assert_vcpus(h.plan, "6,7,8");
    assert_set(&h.plan->blocked, "9"); /* the odd sibling stays empty */
    pin_request_free(r);
    host_fini(&h);
}

static void test_no_smt_isolate_blocks_nothing(void **state)
{
    struct host h;
    struct pin_request *r = req_new(7, PIN_MODE_EXCLUSIVE);
    struct pin_alloc_counts c;

    (void)state;
    host_init(&h, 1, 1, 8, 1, "0");
    plan_ok(&h, r);
    assert_vcpus(h.plan, "1,2,3,4,5,6,7");
    assert_true(pin_cpuset_is_empty(&h.plan->blocked));
    claim(&h, "big");
    pin_alloc_counts(h.a, &c);
    assert_int_equal(c.n_free_pus, 0);
    assert_int_equal(c.n_dedicated_pus, 7);
    r->n_vcpus = 1;
    plan_fails(&h, r, NFV_E_NOCAP,
               "vcpu 0: no numa node has 1 free core for thread policy 'isolate' (most: 0 on "
               "node 0)");
    pin_request_free(r);
    host_fini(&h);
}

static void test_shared_group(void **state)
{
    struct host h;
    struct pin_request *r = req_new(3, PIN_MODE_SHARED);
    struct pin_cpuset s0, s2;

    (void)state;
    host_init(&h, 1, 1, 8, 2, "0-1");
    r->emulator = PIN_EMU_SHARED;
    plan_ok(&h, r);
    /* all three light vCPUs on one PU of their own, the core kept whole */
    assert_set(&h.plan->shared, "2");
    assert_set(&h.plan->claimed, "2");
    assert_set(&h.plan->blocked, "3");
    assert_set(&h.plan->emulator, "2");
    pin_plan_vcpu_cpuset(h.plan, 0, &s0);
    pin_plan_vcpu_cpuset(h.plan, 2, &s2);
    assert_true(pin_cpuset_equal(&s0, &s2));
    /* a named small number of PUs for the group */
    r->n_shared_pus = 2;
    plan_ok(&h, r);
    assert_set(&h.plan->shared, "2,4");
    pin_plan_vcpu_cpuset(h.plan, 1, &s0);
    assert_set(&s0, "2,4");
    r->n_shared_pus = 4; /* more PUs than shared vCPUs */
    plan_fails(&h, r, NFV_E_INVAL, "'shared-pus'");
    pin_request_free(r);
    host_fini(&h);
}

static void test_numbered(void **state)
{
    struct host h;
    struct pin_request *r = req_new(2, PIN_MODE_NUMBERED);
    struct nfv_err err = {0};

    (void)state;
    host_init(&h, 1, 1, 8, 2, "0-1");
    assert_int_equal(pin_request_set_cpu_map(r, "0:4,1:6", h.t->max_pu, &err), NFV_OK);
    plan_ok(&h, r);
    assert_vcpus(h.plan, "4,6");
    assert_true(pin_cpuset_is_empty(&h.plan->blocked)); /* named PUs only */
    claim(&h, "vm-num");
    /* the same PU again: conflict, naming the holder */
    plan_fails(&h, r, NFV_E_EXIST, "vcpu 0: PU 4 is held by 'vm-num' (vcpu 0)");
    /* a reserved PU is not in the dedicated pool */
    assert_int_equal(pin_request_set_cpu_map(r, "0:1,1:8", h.t->max_pu, &err), NFV_OK);
    plan_fails(&h, r, NFV_E_INVAL, "vcpu 0: PU 1 is not in the dedicated pool");
    /* the map parser */
    assert_int_equal(pin_request_set_cpu_map(r, "0:16", h.t->max_pu, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'0:16': PU 16 is out of range (host has PUs 0-15)");
    assert_int_equal(pin_request_set_cpu_map(r, "2:3", h.t->max_pu, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "vCPU 2 is out of range"));
    assert_int_equal(pin_request_set_cpu_map(r, "0:3,0:5", h.t->max_pu, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "appears twice"));
    assert_int_equal(pin_request_set_cpu_map(r, "0:3,1:3", h.t->max_pu, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "already given to vCPU 0"));
    assert_int_equal(pin_request_set_cpu_map(r, "0:x", h.t->max_pu, &err), NFV_E_INVAL);
    assert_int_equal(pin_request_set_cpu_map(r, "0-3", h.t->max_pu, &err), NFV_E_INVAL);
    assert_int_equal(pin_request_set_cpu_map(r, "", h.t->max_pu, &err), NFV_E_INVAL);
    /* a numbered vCPU without a PU */
    pin_request_free(r);
    r = req_new(2, PIN_MODE_NUMBERED);
    plan_fails(&h, r, NFV_E_INVAL, "numbered vCPU 0 has no PU");
    pin_request_free(r);
    host_fini(&h);
}

static void test_mixed_vnf_shape(void **state)
{
    struct host h;
    struct pin_request *r = req_new(4, PIN_MODE_EXCLUSIVE);
    struct pin_cpuset s;

    (void)state;
    host_init(&h, 2, 1, 16, 2, "0-1");
    assert_int_equal(pin_request_set_mode_list(r, "0", PIN_MODE_SHARED, NULL), NFV_OK);
    r->emulator = PIN_EMU_ISOLATE;
    plan_ok(&h, r);
    /* shared group PU first, then exclusive vCPUs, then the emulator PU */
    assert_vcpus(h.plan, "2,4,6,8");
    assert_set(&h.plan->shared, "2");
    assert_set(&h.plan->emulator, "10");
    assert_set(&h.plan->claimed, "2,4,6,8,10");
    assert_set(&h.plan->blocked, "3,5,7,9,11");
    pin_plan_vcpu_cpuset(h.plan, 0, &s);
    assert_set(&s, "2");
    assert_int_equal(h.plan->vcpu_mode[0], PIN_MODE_SHARED);
    assert_int_equal(h.plan->vcpu_mode[1], PIN_MODE_EXCLUSIVE);
    claim(&h, "vnf-1");
    const char *owner;
    int vcpu;
    assert_true(pin_alloc_pu_owner(h.a, 10, &owner, &vcpu));
    assert_string_equal(owner, "vnf-1");
    assert_int_equal(vcpu, PIN_OWNER_EMULATOR);
    assert_true(pin_alloc_pu_owner(h.a, 6, &owner, &vcpu));
    assert_int_equal(vcpu, 2);
    assert_true(pin_alloc_pu_owner(h.a, 2, &owner, &vcpu));
    assert_int_equal(vcpu, 0);
    assert_true(pin_alloc_pu_owner(h.a, 7, &owner, &vcpu));
    assert_int_equal(vcpu, PIN_OWNER_BLOCKED);
    assert_false(pin_alloc_pu_owner(h.a, 12, &owner, &vcpu));
    assert_int_equal(pin_alloc_claim_vcpu_pu(h.a, "vnf-1", 3), 8);
    pin_request_free(r);
    host_fini(&h);
}

/* The core map lists every vCPU of a shared group on its PU, not just one. */
static void test_core_map_vcpu_lists(void **state)
{
    struct host h;
    struct pin_request *r = req_new(5, PIN_MODE_EXCLUSIVE);
    const char *owner = NULL;
    char buf[64];

    (void)state;
    host_init(&h, 1, 1, 8, 2, "0-1");
    /* vCPUs 0, 1 and 3 share one PU; 2 and 4 are exclusive. */
    assert_int_equal(pin_request_set_mode_list(r, "0-1,3", PIN_MODE_SHARED, NULL), NFV_OK);
    r->emulator = PIN_EMU_ISOLATE;
    plan_ok(&h, r);
    claim(&h, "vnf-2");
    assert_true(
        pin_alloc_pu_vcpus_format(h.a, (unsigned)h.plan->vcpu_pu[0], &owner, buf, sizeof(buf)));
    assert_string_equal(owner, "vnf-2");
    assert_string_equal(buf, "0-1,3");
    assert_true(
        pin_alloc_pu_vcpus_format(h.a, (unsigned)h.plan->vcpu_pu[4], NULL, buf, sizeof(buf)));
    assert_string_equal(buf, "4");
    assert_true(pin_alloc_pu_vcpus_format(h.a, (unsigned)pin_cpuset_first(&h.plan->emulator), NULL,
                                          buf, sizeof(buf)));
    assert_string_equal(buf, "emulator");
    assert_true(pin_alloc_pu_vcpus_format(h.a, (unsigned)pin_cpuset_first(&h.plan->blocked), NULL,
                                          buf, sizeof(buf)));
    assert_string_equal(buf, "blocked");
    /* A free PU: false and an empty string. */
    assert_false(pin_alloc_pu_vcpus_format(h.a, 15, NULL, buf, sizeof(buf)));
    assert_string_equal(buf, "");
    pin_request_free(r);
    host_fini(&h);
}

static void test_nic_locality(void **state)
{
    struct host h;
    struct pin_request *r = req_new(3, PIN_MODE_EXCLUSIVE);

    (void)state;
    host_init_nics(&h, "0-1");
    snprintf(r->nic, sizeof(r->nic), "ens1f0");
    r->nic_policy = PIN_NIC_REQUIRED;
    plan_ok(&h, r);
    assert_vcpus(h.plan, "8,10,12");
    assert_int_equal(h.plan->node_mask, 2);
    claim(&h, "vm-nic");
    /* node 1 has one whole core left, node 0 three */
    snprintf(r->nic, sizeof(r->nic), "0000:3b:00.1"); /* by PCI address */
    plan_fails(&h, r, NFV_E_NOCAP,
               "vcpu 1: no free core on numa node 1 local to '0000:3b:00.1' (3 free on node 0; "
               "need 3, 1 free)");
    r->nic_policy = PIN_NIC_PREFERRED;
    plan_ok(&h, r);
    assert_vcpus(h.plan, "2,4,6");
    snprintf(r->nic, sizeof(r->nic), "ens9");
    plan_fails(&h, r, NFV_E_INVAL, "'nic': 'ens9' is not on this host");
    r->nic[0] = '\0';
    r->nic_policy = PIN_NIC_NONE;
    r->numa_node = 1;
    plan_fails(&h, r, NFV_E_NOCAP, "vcpu 1: no free core on numa node 1 (3 free on node 0");
    r->numa_node = 5;
    plan_fails(&h, r, NFV_E_INVAL, "'numa-node': node 5 is not on this host");
    pin_request_free(r);
    host_fini(&h);
}

static void test_numa_spread_and_best_fit(void **state)
{
    struct host h;
    struct pin_request *r = req_new(4, PIN_MODE_EXCLUSIVE);
    struct pin_alloc_counts c;

    (void)state;
    host_init(&h, 2, 4, 8, 2, NULL); /* 8 nodes x 8 cores x 2 threads */
    r->emulator = PIN_EMU_ISOLATE;
    r->numa = PIN_NUMA_SPREAD;
    r->mem_mib = 4096;
    plan_ok(&h, r);
    /* 5 picks over 8 empty nodes: one per node, lowest nodes first */
    assert_vcpus(h.plan, "0,16,32,48");
    assert_set(&h.plan->emulator, "64");
    assert_int_equal(h.plan->node_mask, 0x1f);
    claim(&h, "spread");
    /* best fit: a single-node VM goes to a partly used node (node 0, 7 free) */
    r->numa = PIN_NUMA_SINGLE;
    r->emulator = PIN_EMU_ISOLATE;
    r->n_vcpus = 2;
    plan_ok(&h, r);
    assert_vcpus(h.plan, "2,4");
    assert_int_equal(h.plan->node_mask, 1);
    pin_alloc_node_counts(h.a, 5, &c);
    assert_int_equal(c.n_free_cores, 8);
    assert_int_equal(c.n_free_pus, 16);
    pin_alloc_node_counts(h.a, 0, &c);
    assert_int_equal(c.n_free_cores, 7);
    assert_int_equal(c.n_free_pus, 14);
    pin_alloc_counts(h.a, &c);
    assert_int_equal(c.n_free_cores, 64 - 5);
    assert_int_equal(c.n_dedicated_pus, 128);
    /* spread cannot be combined with a fixed node */
    r->numa = PIN_NUMA_SPREAD;
    r->numa_node = 2;
    plan_fails(&h, r, NFV_E_INVAL, "'numa': 'spread' conflicts");
    pin_request_free(r);
    host_fini(&h);
}

/* issue 9: a numbered map implies its NUMA policy - the nodes of the named
 * PUs, spread when they span nodes - instead of failing under the default;
 * an explicit 'single' still refuses a map over two nodes. */
static void test_numbered_implies_numa(void **state)
{
    struct host h;
    struct pin_request *r = req_new(3, PIN_MODE_NUMBERED);
    struct nfv_err err = {0};

    (void)state;
    host_init(&h, 2, 1, 4, 2, "0-1"); /* node 0: PUs 0-7, node 1: PUs 8-15 */
    assert_int_equal(r->numa, PIN_NUMA_AUTO);
    assert_int_equal(pin_request_set_cpu_map(r, "0:2,1:4,2:10", h.t->max_pu, &err), NFV_OK);
    plan_ok(&h, r);
    assert_vcpus(h.plan, "2,4,10");
    assert_int_equal(h.plan->numa, PIN_NUMA_SPREAD);
    assert_int_equal(h.plan->node_mask, 3);
    /* on one node: single */
    assert_int_equal(pin_request_set_cpu_map(r, "0:2,1:4,2:6", h.t->max_pu, &err), NFV_OK);
    plan_ok(&h, r);
    assert_int_equal(h.plan->numa, PIN_NUMA_SINGLE);
    assert_int_equal(h.plan->node_mask, 1);
    /* explicit single over two nodes stays an error naming the map */
    assert_int_equal(pin_request_set_cpu_map(r, "0:2,1:4,2:10", h.t->max_pu, &err), NFV_OK);
    r->numa = PIN_NUMA_SINGLE;
    plan_fails(&h, r, NFV_E_INVAL, "'cpu-map': numbered PUs span several numa nodes");
    pin_request_free(r);
    host_fini(&h);
}

/* pin_plan_compute_within: picks only among the given PUs (the cores
 * placement chose), numbered pins as usual. */
static void test_plan_within(void **state)
{
    struct host h;
    struct pin_request *r = req_new(2, PIN_MODE_EXCLUSIVE);
    struct pin_cpuset within;
    struct nfv_err err = {0};

    (void)state;
    host_init(&h, 1, 2, 4, 2, "0-1");
    assert_int_equal(pin_cpuset_parse("10-13", PIN_MAX_PUS, true, &within, &err), NFV_OK);
    assert_int_equal(pin_plan_compute_within(h.a, r, &within, h.plan, &err), NFV_OK);
    assert_vcpus(h.plan, "10,12");
    assert_set(&h.plan->blocked, "11,13");
    /* too few cores in the set: NOCAP, though the host has room */
    assert_int_equal(pin_cpuset_parse("10-11", PIN_MAX_PUS, true, &within, &err), NFV_OK);
    assert_int_equal(pin_plan_compute_within(h.a, r, &within, h.plan, &err), NFV_E_NOCAP);
    pin_request_free(r);
    host_fini(&h);
}

static void test_emulator_pools(void **state)
{
    struct host h;
    struct pin_request *r = req_new(1, PIN_MODE_EXCLUSIVE);
    struct pin_pools pools;
    struct pin_alloc *a2;
    struct nfv_err err = {0};

    (void)state;
    host_init(&h, 1, 1, 4, 2, NULL);
    /* issue 9: the default (auto) works on a bare host - the emulator threads
     * float over the VM's own PUs, and the plan says which policy it used */
    assert_int_equal(r->emulator, PIN_EMU_AUTO);
    plan_ok(&h, r);
    assert_int_equal(h.plan->emulator_policy, PIN_EMU_VCPUS);
    assert_set(&h.plan->emulator, "0");
    /* an explicit 'reserved' there stays an error naming the option */
    r->emulator = PIN_EMU_RESERVED;
    plan_fails(&h, r, NFV_E_INVAL, "'emulator': 'reserved' needs host-reserved or shared-pool");
    /* a floating shared pool takes the emulator when nothing is reserved */
    assert_int_equal(pin_pools_parse(h.t, NULL, "2-7", "0-1", &pools, &err), NFV_OK);
    assert_int_equal(pin_alloc_new(h.t, &pools, &a2, &err), NFV_OK);
    assert_int_equal(pin_plan_compute(a2, r, h.plan, &err), NFV_OK);
    assert_set(&h.plan->emulator, "0-1");
    assert_vcpus(h.plan, "2");
    /* ... and auto resolves to it too */
    r->emulator = PIN_EMU_AUTO;
    assert_int_equal(pin_plan_compute(a2, r, h.plan, &err), NFV_OK);
    assert_int_equal(h.plan->emulator_policy, PIN_EMU_RESERVED);
    assert_set(&h.plan->emulator, "0-1");
    pin_alloc_free(a2);
    /* pools must not overlap and must be on the host */
    assert_int_equal(pin_pools_parse(h.t, "0-1", "1-7", NULL, &pools, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'reserved' and 'dedicated' overlap on PU 1");
    assert_int_equal(pin_pools_parse(h.t, "0-1", "2-9", NULL, &pools, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'dedicated': PU 8 is not on this host (it has 8 PUs)");
    assert_int_equal(pin_pools_parse(h.t, "0-x", NULL, NULL, &pools, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'reserved': '0-x'"));
    pin_request_free(r);
    host_fini(&h);
}

static void test_claim_release_json(void **state)
{
    struct host h;
    struct pin_request *r = req_new(2, PIN_MODE_EXCLUSIVE);
    struct pin_alloc *fresh, *back, *copy;
    struct nfv_err err = {0};
    json_t *j;
    char *text;

    (void)state;
    host_init(&h, 2, 1, 8, 2, "0-1");
    fresh = pin_alloc_clone(h.a);
    plan_ok(&h, r);
    claim(&h, "a");
    assert_int_equal(pin_alloc_claim(h.a, h.plan, "a", &err), NFV_E_EXIST); /* same owner */
    assert_int_equal(pin_alloc_claim(h.a, h.plan, "b", &err), NFV_E_EXIST); /* same PUs */
    assert_non_null(strstr(err.msg, "held by 'a' (vcpu 0)"));
    assert_int_equal(pin_alloc_claim(h.a, h.plan, "", &err), NFV_E_INVAL);
    r->thread_policy = PIN_THREAD_PREFER;
    pin_request_set_mode_list(r, "1", PIN_MODE_SHARED, NULL);
    plan_ok(&h, r);
    claim(&h, "b");
    assert_int_equal(pin_alloc_n_claims(h.a), 2);

    /* JSON: serialize, restore, equal; the text is stable */
    j = pin_alloc_to_json(h.a);
    text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    assert_int_equal(pin_alloc_from_json(h.t, j, &back, &err), NFV_OK);
    assert_true(pin_alloc_equal(h.a, back));
    json_decref(j);
    j = pin_alloc_to_json(back);
    char *text2 = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(text, text2);
    free(text2);
    json_decref(j);
    /* a corrupt document is refused, not half-restored */
    j = json_loads("{\"pools\":{\"reserved\":\"0-1\",\"dedicated\":\"2-31\",\"shared\":\"\"},"
                   "\"claims\":[{\"owner\":\"x\"}]}",
                   0, NULL);
    assert_int_equal(pin_alloc_from_json(h.t, j, &copy, &err), NFV_E_PARSE);
    json_decref(j);

    /* copy into an existing allocation, then diverge */
    copy = pin_alloc_clone(fresh);
    assert_int_equal(pin_alloc_copy(copy, h.a, &err), NFV_OK);
    assert_true(pin_alloc_equal(copy, h.a));
    assert_int_equal(pin_alloc_release(copy, "a", &err), NFV_OK);
    assert_false(pin_alloc_equal(copy, h.a));
    assert_int_equal(pin_alloc_n_claims(h.a), 2); /* the original is untouched */

    /* release everything: back to the start state */
    assert_int_equal(pin_alloc_release(h.a, "a", &err), NFV_OK);
    assert_int_equal(pin_alloc_release(h.a, "a", &err), NFV_E_NOENT);
    assert_int_equal(pin_alloc_release(h.a, "b", &err), NFV_OK);
    assert_true(pin_alloc_equal(h.a, fresh));
    free(text);
    pin_alloc_free(back);
    pin_alloc_free(copy);
    pin_alloc_free(fresh);
    pin_request_free(r);
    host_fini(&h);
}

static void test_plan_and_request_json(void **state)
{
    struct host h;
    struct pin_request *r = req_new(3, PIN_MODE_EXCLUSIVE), *r2;
    struct pin_plan *p2;
    struct nfv_err err = {0};
    json_t *j;

    (void)state;
    host_init(&h, 1, 1, 8, 2, "0");
    pin_request_set_mode_list(r, "0", PIN_MODE_SHARED, NULL);
    r->n_iothreads = 1;
    r->hugepage_kib = 2048;
    r->mem_mib = 1024;
    plan_ok(&h, r);
    j = pin_plan_to_json(h.plan);
    assert_int_equal(pin_plan_from_json(j, &p2, &err), NFV_OK);
    json_decref(j);
    assert_memory_equal(p2->vcpu_pu, h.plan->vcpu_pu, 6);
    assert_true(pin_cpuset_equal(&p2->blocked, &h.plan->blocked));
    assert_true(pin_cpuset_equal(&p2->emulator, &h.plan->emulator));
    assert_int_equal(p2->hugepage_kib, 2048);
    assert_int_equal(p2->n_iothreads, 1);
    pin_plan_free(p2);
    j = pin_request_to_json(r);
    assert_int_equal(pin_request_from_json(j, &r2, &err), NFV_OK);
    json_decref(j);
    assert_int_equal(r2->n_vcpus, 3);
    assert_int_equal(r2->vcpu_mode[0], PIN_MODE_SHARED);
    assert_int_equal(r2->hugepage_kib, 2048);
    pin_request_free(r2);
    /* demand counts for placement's quick filter */
    struct pin_demand d;
    r->emulator = PIN_EMU_ISOLATE;
    pin_request_demand(r, 2, &d);
    assert_int_equal(d.n_exclusive, 2);
    assert_int_equal(d.n_shared_vcpus, 1);
    assert_int_equal(d.n_shared_pus, 1);
    assert_int_equal(d.n_emulator_pus, 1);
    assert_int_equal(d.n_pus_worst, 8);
    pin_request_free(r);
    host_fini(&h);
}

static void test_request_validation(void **state)
{
    struct pin_request *r = NULL;
    struct nfv_err err = {0};

    (void)state;
    assert_int_equal(pin_request_new(0, PIN_MODE_EXCLUSIVE, &r, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'vcpus': 0 is out of range (1..4096)");
    assert_int_equal(pin_request_new(4097, PIN_MODE_EXCLUSIVE, &r, &err), NFV_E_INVAL);
    r = req_new(2, PIN_MODE_EXCLUSIVE);
    r->emulator = PIN_EMU_SHARED;
    assert_int_equal(pin_request_validate(r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'emulator': 'shared' needs at least one shared vCPU"));
    r->emulator = PIN_EMU_RESERVED;
    snprintf(r->nic, sizeof(r->nic), "eth0");
    r->numa_node = 0;
    assert_int_equal(pin_request_validate(r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "conflict"));
    assert_int_equal(pin_request_set_mode_list(r, "0,2", PIN_MODE_SHARED, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "vCPU 2 is out of range (VM has 2 vCPUs)"));
    r->numa_node = -1;
    r->hugepage_kib = 3000;
    assert_int_equal(pin_request_validate(r, &err), NFV_E_INVAL);
    assert_int_equal(pin_cpu_mode_from_string("bogus"), PIN_MODE__COUNT);
    assert_string_equal(pin_thread_policy_to_string(PIN_THREAD_REQUIRE), "require");
    pin_request_free(r);
}

/* A request document that parses but fails validation: the reason is kept,
 * prefixed once (the message used to be formatted from itself: undefined
 * behaviour that printed "request: request: request: ..."). */
static void test_request_from_json_invalid(void **state)
{
    struct pin_request *r = req_new(2, PIN_MODE_EXCLUSIVE), *r2 = NULL;
    struct nfv_err err = {0};
    json_t *j;

    (void)state;
    r->hugepage_kib = 3000;
    j = pin_request_to_json(r);
    assert_int_equal(pin_request_from_json(j, &r2, &err), NFV_E_PARSE);
    assert_int_equal(err.code, NFV_E_PARSE);
    assert_string_equal(err.msg, "request: 'hugepages': 3000 KiB is not a power of two");
    assert_null(r2);
    assert_int_equal(pin_request_from_json(j, &r2, NULL), NFV_E_PARSE);
    json_decref(j);
    pin_request_free(r);
}

/* Drift: what a hypervisor reports against the plan (pure part of the
 * libvirt adapter's check). */
static void test_drift_compare(void **state)
{
    struct host h;
    struct pin_request *r = req_new(3, PIN_MODE_EXCLUSIVE);
    struct pin_cpuset have[3], emu;
    struct pin_drift_item items[4];
    char text[256];

    (void)state;
    host_init(&h, 1, 1, 8, 1, "0");
    pin_request_set_mode_list(r, "0-1", PIN_MODE_SHARED, NULL);
    r->n_shared_pus = 2;
    plan_ok(&h, r);
    assert_set(&h.plan->shared, "1-2");
    for (unsigned v = 0; v < 3; v++)
        pin_plan_vcpu_cpuset(h.plan, v, &have[v]);
    emu = h.plan->emulator;
    assert_int_equal(pin_plan_diff(h.plan, have, 3, &emu, items, 4), 0);
    /* an outside re-pin of vcpu 2 and of the emulator */
    pin_cpuset_zero(&have[2]);
    pin_cpuset_set(&have[2], 5);
    pin_cpuset_set(&emu, 7);
    assert_int_equal(pin_plan_diff(h.plan, have, 3, &emu, items, 4), 2);
    pin_drift_format(items, 2, text, sizeof(text));
    assert_string_equal(text, "vcpu 2: want 3, have 5; emulator: want 0, have 0,7");
    /* the hypervisor knows fewer vCPUs; a too small item array still counts all */
    assert_int_equal(pin_plan_diff(h.plan, have, 2, NULL, items, 0), 1);
    assert_int_equal(pin_plan_diff(h.plan, have, 2, NULL, items, 1), 1);
    pin_drift_format(items, 1, text, sizeof(text));
    assert_string_equal(text, "vcpu 2: want 3, have none");
    pin_request_free(r);
    host_fini(&h);
}

/* Hugepages: a node without enough free hugepage memory is skipped, and
 * single-node claims consume it. */
static void test_hugepages(void **state)
{
    struct host h;
    struct pin_request *r = req_new(2, PIN_MODE_EXCLUSIVE);
    struct pin_pools pools;
    unsigned n[2];

    (void)state;
    memset(&h, 0, sizeof(h));
    h.t = pin_topo_new();
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(pin_topo_add_node(h.t, i, 4ull << 30, &n[i], NULL), NFV_OK);
        /* node 0: 512 x 2 MiB free (1 GiB); node 1: 1024 free (2 GiB) */
        assert_int_equal(pin_topo_add_hugepages(h.t, n[i], 2048, 1024, 512u * (i + 1), NULL),
                         NFV_OK);
    }
    for (unsigned pu = 0; pu < 16; pu++)
        assert_int_equal(pin_topo_add_pu(h.t, pu, n[pu / 8], pu / 8, pu, 0, NULL), NFV_OK);
    assert_int_equal(pin_topo_seal(h.t, NULL), NFV_OK);
    assert_int_equal(pin_pools_parse(h.t, "0", NULL, NULL, &pools, NULL), NFV_OK);
    assert_int_equal(pin_alloc_new(h.t, &pools, &h.a, NULL), NFV_OK);
    h.plan = pin_plan_new(8);
    assert_int_equal(pin_alloc_node_hugepages_free_kib(h.a, 0, 2048), 1024 * 1024);
    assert_int_equal(pin_alloc_node_hugepages_free_kib(h.a, 0, 1048576), 0);

    r->hugepage_kib = 2048;
    r->mem_mib = 1536; /* best fit by PUs would be node 0, but only node 1 has 1.5 GiB */
    plan_ok(&h, r);
    assert_int_equal(h.plan->node_mask, 2);
    claim(&h, "hp-1");
    assert_int_equal(pin_alloc_node_hugepages_free_kib(h.a, 1, 2048), 512 * 1024);
    plan_fails(&h, r, NFV_E_NOCAP,
               "memory: no numa node with room for the vCPUs has 1536 MiB free in 2048 KiB "
               "hugepages (most: 1024 MiB on node 0)");
    r->numa_node = 1;
    plan_fails(&h, r, NFV_E_NOCAP,
               "memory: numa node 1 has 512 MiB free in 2048 KiB hugepages, need 1536 MiB");
    r->numa_node = -1;
    r->mem_mib = 1024;
    plan_ok(&h, r);
    assert_int_equal(h.plan->node_mask, 1);
    /* release gives the memory back; JSON restore recounts it */
    json_t *j = pin_alloc_to_json(h.a);
    struct pin_alloc *back;
    assert_int_equal(pin_alloc_from_json(h.t, j, &back, NULL), NFV_OK);
    assert_int_equal(pin_alloc_node_hugepages_free_kib(back, 1, 2048), 512 * 1024);
    pin_alloc_free(back);
    json_decref(j);
    assert_int_equal(pin_alloc_release(h.a, "hp-1", NULL), NFV_OK);
    assert_int_equal(pin_alloc_node_hugepages_free_kib(h.a, 1, 2048), 2048 * 1024);
    /* synthetic hosts do not know their hugepages: no check */
    pin_request_free(r);
    host_fini(&h);
    host_init(&h, 1, 1, 4, 1, "0");
    r = req_new(1, PIN_MODE_EXCLUSIVE);
    r->hugepage_kib = 1048576;
    r->mem_mib = 65536;
    plan_ok(&h, r);
    assert_true(pin_alloc_node_hugepages_free_kib(h.a, 0, 2048) == UINT64_MAX);
    pin_request_free(r);
    host_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exclusive_isolate),
        cmocka_unit_test(test_exclusive_prefer_and_require),
        cmocka_unit_test(test_no_smt_isolate_blocks_nothing),
        cmocka_unit_test(test_shared_group),
        cmocka_unit_test(test_numbered),
        cmocka_unit_test(test_mixed_vnf_shape),
        cmocka_unit_test(test_core_map_vcpu_lists),
        cmocka_unit_test(test_nic_locality),
        cmocka_unit_test(test_numa_spread_and_best_fit),
        cmocka_unit_test(test_emulator_pools),
        cmocka_unit_test(test_numbered_implies_numa),
        cmocka_unit_test(test_plan_within),
        cmocka_unit_test(test_claim_release_json),
        cmocka_unit_test(test_plan_and_request_json),
        cmocka_unit_test(test_request_validation),
        cmocka_unit_test(test_request_from_json_invalid),
        cmocka_unit_test(test_drift_compare),
        cmocka_unit_test(test_hugepages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
