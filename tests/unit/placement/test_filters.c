/* test_filters.c - each filter and weigher of the placement engine, alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "plc_test_util.h"

/* Places one VM (no group) and returns the code; *ret_host gets the host. */
static enum nfv_code place1(struct plc_cluster *c, const char *name, struct plc_demand d,
                            const char *force, uint32_t *ret_host)
{
    struct plc_vm_req v = {.name = name, .force_host = force, .demand = d};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    struct plc_choice ch;
    enum nfv_code rc = plc_place(c, &r, true, &ch, NULL);
    if (rc == NFV_OK && ret_host)
        *ret_host = ch.host;
    return rc;
}

/* First failing filter of a one-VM request on host @h. */
static int first_fail(struct plc_cluster *c, const struct plc_req *r, uint32_t h)
{
    struct plc_explain *e = plc_explain_new(c, r, NULL);
    assert_non_null(e);
    int f = e->members[0].first_fail[h];
    plc_explain_free(e);
    return f;
}

static struct plc_cluster *three_hosts(void)
{
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = PLC_FAILURE_NONE;
    struct plc_cluster *c = plc_cluster_new(&cfg);
    pt_host(c, "a", 2, 8, 16384, "r1", "z1", "p1");
    pt_host(c, "b", 2, 8, 16384, "r2", "z1", "p2");
    pt_host(c, "c", 2, 8, 16384, "r3", "z1", "p1");
    return c;
}

static void test_state_filter(void **state)
{
    (void)state;
    struct plc_cluster *c = three_hosts();
    plc_cluster_set_state(c, 0, PLC_HOST_DOWN, NULL);
    plc_cluster_set_state(c, 1, PLC_HOST_MAINTENANCE, NULL);
    struct plc_vm_req v = {.name = "x", .demand = pt_demand(2, 1024)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    assert_int_equal(first_fail(c, &r, 0), PLC_F_STATE);
    assert_int_equal(first_fail(c, &r, 1), PLC_F_STATE);
    assert_int_equal(first_fail(c, &r, 2), PLC_F__COUNT);
    uint32_t h;
    assert_int_equal(place1(c, "x", pt_demand(2, 1024), NULL, &h), NFV_OK);
    assert_int_equal(h, 2);
    plc_cluster_free(c);
}

static void test_force_host_filter(void **state)
{
    (void)state;
    struct plc_cluster *c = three_hosts();
    struct plc_vm_req v = {.name = "x", .force_host = "b", .demand = pt_demand(2, 1024)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    assert_int_equal(first_fail(c, &r, 0), PLC_F_FORCE_HOST);
    assert_int_equal(first_fail(c, &r, 1), PLC_F__COUNT);
    uint32_t h;
    assert_int_equal(place1(c, "x", pt_demand(2, 1024), "b", &h), NFV_OK);
    assert_int_equal(h, 1);
    struct nfv_err err;
    v.force_host = "nope";
    v.name = "y";
    struct plc_choice ch;
    assert_int_equal(plc_place(c, &r, false, &ch, &err), NFV_E_NOENT);
    assert_non_null(strstr(err.msg, "'nope'"));
    plc_cluster_free(c);
}

static void test_capabilities_filter(void **state)
{
    (void)state;
    struct plc_config cfg;
    plc_config_init(&cfg);
    struct plc_cluster *c = plc_cluster_new(&cfg);
    const char *caps[] = {"nic=e810", "cpu=avx512"};
    struct plc_host_spec sp = {
        .name = "plain", .n_nodes = 1, .cores_per_node = {8}, .mem_mib_per_node = {8192}};
    assert_int_equal(plc_cluster_add_host(c, &sp, NULL, NULL), NFV_OK);
    sp.name = "fancy";
    sp.caps = caps;
    sp.n_caps = 2;
    assert_int_equal(plc_cluster_add_host(c, &sp, NULL, NULL), NFV_OK);
    struct plc_demand d = pt_demand(2, 512);
    d.caps = UINT64_C(1) << plc_cluster_find_cap(c, "cpu=avx512");
    struct plc_vm_req v = {.name = "x", .demand = d};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    assert_int_equal(first_fail(c, &r, 0), PLC_F_CAPABILITIES);
    assert_int_equal(first_fail(c, &r, 1), PLC_F__COUNT);
    uint32_t h;
    assert_int_equal(place1(c, "x", d, NULL, &h), NFV_OK);
    assert_int_equal(h, 1);
    plc_cluster_free(c);
}

static void test_memory_and_hugepages_filters(void **state)
{
    (void)state;
    struct plc_cluster *c = three_hosts();
    struct plc_vm_req v = {.name = "x", .demand = pt_demand(2, 20000)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    /* 16 GiB per node: a 20,000 MiB single-node VM fits no node. */
    assert_int_equal(first_fail(c, &r, 0), PLC_F_MEMORY);
    /* Split over two nodes it fits. */
    v.demand.numa_nodes = 2;
    assert_int_equal(first_fail(c, &r, 0), PLC_F__COUNT);
    v.demand = pt_demand(2, 1024);
    v.demand.hp_mib = 1024;
    assert_int_equal(first_fail(c, &r, 0), PLC_F_HUGEPAGES);
    struct nfv_err err;
    struct plc_choice ch;
    assert_int_equal(plc_place(c, &r, false, &ch, &err), NFV_E_NOCAP);
    assert_non_null(strstr(err.msg, "3 hugepages"));
    plc_cluster_free(c);
}

static void test_cores_filter_numa_and_numbered(void **state)
{
    (void)state;
    struct plc_cluster *c = three_hosts();
    struct plc_vm_req v = {.name = "x", .demand = pt_demand(9, 1024)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    /* 9 cores do not fit one 8-core node ... */
    assert_int_equal(first_fail(c, &r, 0), PLC_F_CORES);
    /* ... but do over two nodes. */
    v.demand.numa_nodes = 2;
    assert_int_equal(first_fail(c, &r, 0), PLC_F__COUNT);
    v.demand.numa_nodes = 3;
    assert_int_equal(first_fail(c, &r, 0), PLC_F_CORES);
    /* Numbered: core 3 of host a; once taken, nobody else gets it. */
    struct plc_demand d = pt_demand(2, 512);
    d.n_numbered = 1;
    d.numbered[0] = 3;
    uint32_t h;
    assert_int_equal(place1(c, "n1", d, "a", &h), NFV_OK);
    const struct plc_vm *vm = plc_cluster_vm(c, plc_cluster_find_vm(c, "n1"));
    assert_true(vm->at.parts[0].cores[0] & (1u << 3));
    assert_int_equal(vm->at.parts[0].n_cores, 2);
    assert_int_equal(place1(c, "n2", d, "a", &h), NFV_E_NOCAP);
    /* Numbered cores on both nodes with numa_nodes = 1 cannot fit. */
    d.n_numbered = 2;
    d.numbered[0] = 4;
    d.numbered[1] = 12;
    assert_int_equal(place1(c, "n3", d, "b", &h), NFV_E_NOCAP);
    d.numa_nodes = 2;
    assert_int_equal(place1(c, "n3", d, "b", &h), NFV_OK);
    assert_null(pt_check_invariants(c));
    plc_cluster_free(c);
}

static void test_anti_affinity_filter(void **state)
{
    (void)state;
    struct plc_cluster *c = three_hosts();
    struct plc_vm_req act = {
        .name = "g-act", .role = PLC_ROLE_ACT, .force_host = "a", .demand = pt_demand(2, 512)};
    struct plc_req r = {.group = "g", .scope = PLC_SCOPE_HOST, .n_vms = 1, .vms = &act};
    struct plc_choice ch;
    assert_int_equal(plc_place(c, &r, true, &ch, NULL), NFV_OK);
    struct plc_vm_req sby = {.name = "g-sby", .role = PLC_ROLE_SBY, .demand = pt_demand(2, 512)};
    r.vms = &sby;
    assert_int_equal(first_fail(c, &r, 0), PLC_F_ANTI_AFFINITY);
    assert_int_equal(first_fail(c, &r, 1), PLC_F__COUNT);
    /* Pack would prefer host a (already used); anti-affinity forbids it. */
    assert_int_equal(plc_place(c, &r, true, &ch, NULL), NFV_OK);
    assert_int_not_equal(ch.host, 0);
    /* Members are pairwise apart whatever their roles (issue 11): a second
     * ACT may not share the first ACT's host, nor the SBY's. */
    struct plc_vm_req act2 = {
        .name = "g-act2", .role = PLC_ROLE_ACT, .force_host = "a", .demand = pt_demand(2, 512)};
    r.vms = &act2;
    assert_int_equal(plc_place(c, &r, true, &ch, NULL), NFV_E_NOCAP);
    act2.force_host = NULL;
    assert_int_equal(plc_place(c, &r, true, &ch, NULL), NFV_OK);
    assert_int_equal(ch.host, 2);
    assert_null(pt_check_groups(c));
    plc_cluster_free(c);
}

static void test_reserve_filter(void **state)
{
    (void)state;
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = PLC_FAILURE_HOST;
    struct plc_cluster *c = plc_cluster_new(&cfg);
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof(name), "h%d", i);
        pt_host(c, name, 1, 8, 16384, name, "z", "p");
    }
    /* A pair of 4-core members on two hosts: if one host fails, its member
     * needs 4 cores on the third host, so that host must keep them free. */
    struct plc_vm_req m[2] = {
        {.name = "p-act", .role = PLC_ROLE_ACT, .demand = pt_demand(4, 1024)},
        {.name = "p-sby", .role = PLC_ROLE_SBY, .demand = pt_demand(4, 1024)}};
    struct plc_req r = {.group = "p", .scope = PLC_SCOPE_HOST, .n_vms = 2, .vms = m};
    struct plc_choice ch[2];
    assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
    assert_true(plc_reserve_holds(c, NULL));
    /* An 8-core VM fits only on the third host, whose cores are the reserve. */
    struct plc_vm_req big = {.name = "big", .demand = pt_demand(8, 1024)};
    struct plc_req rb = {.n_vms = 1, .vms = &big};
    uint32_t third = 3 - ch[0].host - ch[1].host;
    assert_int_equal(first_fail(c, &rb, third), PLC_F_RESERVE);
    struct nfv_err err;
    assert_int_equal(plc_place(c, &rb, false, ch, &err), NFV_E_NOCAP);
    assert_non_null(strstr(err.msg, "healing reserve"));
    /* ... unless the request waives the reserve. */
    rb.is_reserve_waived = true;
    assert_int_equal(plc_place(c, &rb, true, ch, NULL), NFV_OK);
    assert_false(plc_reserve_holds(c, NULL));
    plc_cluster_free(c);
}

static void test_weighers(void **state)
{
    (void)state;
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = PLC_FAILURE_NONE;
    struct plc_cluster *c = plc_cluster_new(&cfg);
    pt_host(c, "a", 2, 8, 16384, "r", "z", "p");
    pt_host(c, "b", 2, 8, 16384, "r", "z", "p");
    uint32_t h;
    /* tie: equal hosts -> lowest index */
    assert_int_equal(place1(c, "v1", pt_demand(2, 512), NULL, &h), NFV_OK);
    assert_int_equal(h, 0);
    /* pack: the used host (and its used node) wins */
    assert_int_equal(place1(c, "v2", pt_demand(2, 512), NULL, &h), NFV_OK);
    assert_int_equal(h, 0);
    const struct plc_vm *v1 = plc_cluster_vm(c, plc_cluster_find_vm(c, "v1"));
    const struct plc_vm *v2 = plc_cluster_vm(c, plc_cluster_find_vm(c, "v2"));
    assert_int_equal(v1->at.parts[0].node, v2->at.parts[0].node);
    /* spread: the emptier host wins */
    struct plc_config *mcfg = (struct plc_config *)plc_cluster_config(c);
    mcfg->weights[PLC_W_PACK] = 0;
    mcfg->weights[PLC_W_SPREAD] = 1;
    assert_int_equal(place1(c, "v3", pt_demand(2, 512), NULL, &h), NFV_OK);
    assert_int_equal(h, 1);
    /* NIC-local: a node with a NIC wins over a fuller one */
    struct plc_cluster *c2 = plc_cluster_new(&cfg);
    struct plc_host_spec sp = {.name = "n",
                               .n_nodes = 2,
                               .cores_per_node = {8, 8},
                               .mem_mib_per_node = {8192, 8192},
                               .nic_nodes = 0x2};
    assert_int_equal(plc_cluster_add_host(c2, &sp, NULL, NULL), NFV_OK);
    struct plc_demand d = pt_demand(2, 512);
    d.is_nic_local = true;
    struct plc_choice ch;
    assert_int_equal(plc_fit_host(c2, 0, &d, &ch), PLC_F__COUNT);
    assert_int_equal(ch.parts[0].node, 1);
    double w_nic = plc_weigh(c2, &d, &ch);
    d.is_nic_local = false;
    assert_int_equal(plc_fit_host(c2, 0, &d, &ch), PLC_F__COUNT);
    assert_int_equal(ch.parts[0].node, 0);
    assert_true(w_nic > plc_weigh(c2, &d, &ch));
    plc_cluster_free(c2);
    plc_cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_filter),
        cmocka_unit_test(test_force_host_filter),
        cmocka_unit_test(test_capabilities_filter),
        cmocka_unit_test(test_memory_and_hugepages_filters),
        cmocka_unit_test(test_cores_filter_numa_and_numbered),
        cmocka_unit_test(test_anti_affinity_filter),
        cmocka_unit_test(test_reserve_filter),
        cmocka_unit_test(test_weighers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
