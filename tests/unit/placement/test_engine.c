/* test_engine.c - group search, what-if, explain, evacuation, drain and
 * defragment plans of the placement engine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "plc_test_util.h"

static struct plc_cluster *cluster(enum plc_failure f)
{
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = f;
    return plc_cluster_new(&cfg);
}

static enum nfv_code place_pair(struct plc_cluster *c, const char *g, enum plc_scope scope,
                                unsigned cores, struct plc_choice *ch)
{
    char a[64], s[64];
    snprintf(a, sizeof(a), "%s-act", g);
    snprintf(s, sizeof(s), "%s-sby", g);
    struct plc_vm_req m[2] = {{.name = a, .role = PLC_ROLE_ACT, .demand = pt_demand(cores, 512)},
                              {.name = s, .role = PLC_ROLE_SBY, .demand = pt_demand(cores, 512)}};
    struct plc_req r = {.group = g, .scope = scope, .n_vms = 2, .vms = m};
    return plc_place(c, &r, true, ch, NULL);
}

/* Greedy one-by-one placement puts the ACT on the best-packed host, which is
 * the only host the SBY can use (capability); the engine backtracks. */
static void test_group_search_beats_greedy(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_NONE);
    const char *caps[] = {"nic=e810"};
    struct plc_host_spec sp = {.name = "fancy",
                               .n_nodes = 1,
                               .cores_per_node = {8},
                               .mem_mib_per_node = {8192},
                               .caps = caps,
                               .n_caps = 1};
    assert_int_equal(plc_cluster_add_host(c, &sp, NULL, NULL), NFV_OK);
    pt_host(c, "plain", 1, 16, 8192, "r2", "z", "p");
    /* Make "fancy" the pack favourite: a VM already uses part of it. */
    struct plc_vm_req filler = {
        .name = "filler", .force_host = "fancy", .demand = pt_demand(2, 512)};
    struct plc_req rf = {.n_vms = 1, .vms = &filler};
    struct plc_choice ch[2];
    assert_int_equal(plc_place(c, &rf, true, ch, NULL), NFV_OK);

    struct plc_demand need_nic = pt_demand(2, 512);
    need_nic.caps = UINT64_C(1) << plc_cluster_find_cap(c, "nic=e810");
    struct plc_vm_req act = {.name = "g-act", .role = PLC_ROLE_ACT, .demand = pt_demand(2, 512)};
    struct plc_vm_req sby = {.name = "g-sby", .role = PLC_ROLE_SBY, .demand = need_nic};

    /* Greedy: ACT alone first, then SBY. */
    struct plc_cluster *g = plc_cluster_clone(c);
    struct plc_req r1 = {.group = "g", .scope = PLC_SCOPE_HOST, .n_vms = 1, .vms = &act};
    assert_int_equal(plc_place(g, &r1, true, ch, NULL), NFV_OK);
    assert_int_equal(ch[0].host, 0); /* pack picks the used host */
    struct plc_req r2 = {.group = "g", .scope = PLC_SCOPE_HOST, .n_vms = 1, .vms = &sby};
    assert_int_equal(plc_place(g, &r2, true, ch, NULL), NFV_E_NOCAP);
    plc_cluster_free(g);

    /* Engine: both together. */
    struct plc_vm_req m[2] = {act, sby};
    struct plc_req r = {.group = "g", .scope = PLC_SCOPE_HOST, .n_vms = 2, .vms = m};
    assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
    assert_int_equal(ch[0].host, 1);
    assert_int_equal(ch[1].host, 0);
    assert_null(pt_check_groups(c));
    assert_null(pt_check_invariants(c));
    plc_cluster_free(c);
}

static void test_group_all_or_nothing(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_NONE);
    pt_host(c, "a", 1, 8, 8192, "r1", "z", "p");
    pt_host(c, "b", 1, 8, 8192, "r1", "z", "p");
    struct plc_choice ch[2];
    struct nfv_err err;
    /* scope rack, one rack: no combination -> nothing placed */
    struct plc_vm_req m[2] = {{.name = "x-act", .role = PLC_ROLE_ACT, .demand = pt_demand(2, 1)},
                              {.name = "x-sby", .role = PLC_ROLE_SBY, .demand = pt_demand(2, 1)}};
    struct plc_req r = {.group = "x", .scope = PLC_SCOPE_RACK, .n_vms = 2, .vms = m};
    assert_int_equal(plc_place(c, &r, true, ch, &err), NFV_E_NOCAP);
    assert_non_null(strstr(err.msg, "anti_affinity"));
    assert_int_equal(plc_cluster_find_vm(c, "x-act"), PLC_NONE);
    assert_int_equal(plc_cluster_find_group(c, "x"), PLC_NONE);
    assert_int_equal(plc_cluster_host(c, 0)->nodes[0].n_free, 8);
    /* scope host works */
    r.scope = PLC_SCOPE_HOST;
    assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
    assert_int_not_equal(ch[0].host, ch[1].host);
    plc_cluster_free(c);
}

static void test_whatif_does_not_commit(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_HOST);
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof(n), "h%d", i);
        pt_host(c, n, 2, 8, 16384, i < 2 ? "r1" : "r2", "z", "p");
    }
    struct plc_vm_req a[3] = {{.name = "v0", .demand = pt_demand(6, 512)},
                              {.name = "v1", .demand = pt_demand(6, 512)},
                              {.name = "v2", .demand = pt_demand(6, 512)}};
    struct plc_req reqs[3] = {
        {.n_vms = 1, .vms = &a[0]}, {.n_vms = 1, .vms = &a[1]}, {.n_vms = 1, .vms = &a[2]}};
    enum nfv_code codes[3];
    struct plc_choice chs[3], *pch[3] = {&chs[0], &chs[1], &chs[2]};
    assert_int_equal(plc_whatif(c, reqs, 3, codes, pch, NULL), NFV_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(codes[i], NFV_OK);
    assert_int_equal(plc_cluster_find_vm(c, "v0"), PLC_NONE);
    for (uint32_t h = 0; h < 4; h++)
        assert_int_equal(plc_cluster_host(c, h)->nodes[0].n_free, 8);
    /* The same sequence committed gives the same choices. */
    for (int i = 0; i < 3; i++) {
        struct plc_choice ch;
        assert_int_equal(plc_place(c, &reqs[i], true, &ch, NULL), NFV_OK);
        assert_memory_equal(&ch, &chs[i], sizeof(ch));
    }
    plc_cluster_free(c);
}

static void test_explain_counts(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_NONE);
    pt_host(c, "small", 1, 2, 8192, "r", "z", "p");
    pt_host(c, "down", 1, 16, 8192, "r", "z", "p");
    pt_host(c, "lowmem", 1, 16, 512, "r", "z", "p");
    pt_host(c, "ok", 1, 16, 8192, "r", "z", "p");
    plc_cluster_set_state(c, 1, PLC_HOST_DOWN, NULL);
    struct plc_vm_req v = {.name = "x", .demand = pt_demand(4, 1024)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    struct plc_explain *e = plc_explain_new(c, &r, NULL);
    assert_non_null(e);
    assert_int_equal(e->members[0].counts[PLC_F_CORES], 1);
    assert_int_equal(e->members[0].counts[PLC_F_STATE], 1);
    assert_int_equal(e->members[0].counts[PLC_F_MEMORY], 1);
    assert_int_equal(e->members[0].counts[PLC_F__COUNT], 1);
    assert_int_equal(e->members[0].first_fail[3], PLC_F__COUNT);
    assert_true(e->is_placeable);
    plc_explain_free(e);
    plc_cluster_free(c);
}

static void test_evacuate_host_promotes_and_rebuilds(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_HOST);
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof(n), "h%d", i);
        pt_host(c, n, 1, 16, 32768, n, "z", "p");
    }
    struct plc_choice ch[2];
    assert_int_equal(place_pair(c, "g1", PLC_SCOPE_HOST, 4, ch), NFV_OK);
    assert_int_equal(place_pair(c, "g2", PLC_SCOPE_HOST, 4, ch), NFV_OK);
    uint32_t act = plc_cluster_find_vm(c, "g1-act");
    uint32_t failed = plc_cluster_vm(c, act)->at.host;
    struct plc_plan *p = NULL;
    assert_int_equal(plc_plan_evacuate(c, PLC_SCOPE_HOST, failed, &p, NULL), NFV_OK);
    assert_int_equal(p->n_lost, 0);
    /* g1's SBY is promoted before anything is rebuilt */
    assert_int_equal(p->steps[0].kind, PLC_STEP_PROMOTE);
    assert_int_equal(p->steps[0].vm, plc_cluster_find_vm(c, "g1-sby"));
    int n_rebuild = 0;
    for (size_t i = 0; i < p->n_steps; i++) {
        if (p->steps[i].kind != PLC_STEP_REBUILD)
            continue;
        n_rebuild++;
        assert_int_not_equal(p->steps[i].to.host, failed);
        if (p->steps[i].vm == act)
            assert_int_equal(p->steps[i].role, PLC_ROLE_SBY);
    }
    assert_int_equal(n_rebuild, (int)plc_cluster_host(c, failed)->n_vms);
    /* Planning changed nothing; applying it protects every group again. */
    assert_int_equal(plc_cluster_vm(c, act)->role, PLC_ROLE_ACT);
    assert_int_equal(plc_plan_apply(c, p, PLC_SCOPE_HOST, failed, NULL), NFV_OK);
    assert_int_equal(plc_cluster_vm(c, act)->role, PLC_ROLE_SBY);
    assert_int_equal(plc_cluster_vm(c, plc_cluster_find_vm(c, "g1-sby"))->role, PLC_ROLE_ACT);
    assert_null(pt_check_groups(c));
    assert_null(pt_check_invariants(c));
    plc_plan_free(p);
    plc_cluster_free(c);
}

static void test_evacuate_rack(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_RACK);
    for (int i = 0; i < 6; i++) {
        char n[8], r[8];
        snprintf(n, sizeof(n), "h%d", i);
        snprintf(r, sizeof(r), "r%d", i / 2);
        pt_host(c, n, 1, 16, 32768, r, "z", "p");
    }
    struct plc_choice ch[2];
    for (int i = 0; i < 4; i++) {
        char g[8];
        snprintf(g, sizeof(g), "g%d", i);
        assert_int_equal(place_pair(c, g, PLC_SCOPE_RACK, 4, ch), NFV_OK);
        assert_true(plc_reserve_holds(c, NULL));
    }
    for (uint32_t rack = 0; rack < 3; rack++) {
        struct plc_plan *p = NULL;
        struct plc_cluster *w = plc_cluster_clone(c);
        assert_int_equal(plc_plan_evacuate(c, PLC_SCOPE_RACK, rack, &p, NULL), NFV_OK);
        assert_int_equal(p->n_lost, 0);
        assert_int_equal(plc_plan_apply(w, p, PLC_SCOPE_RACK, rack, NULL), NFV_OK);
        assert_null(pt_check_groups(w));
        assert_null(pt_check_invariants(w));
        plc_plan_free(p);
        plc_cluster_free(w);
    }
    plc_cluster_free(c);
}

static void test_drain_plan(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_NONE);
    for (int i = 0; i < 3; i++) {
        char n[8];
        snprintf(n, sizeof(n), "h%d", i);
        pt_host(c, n, 1, 16, 32768, n, "z", "p");
    }
    struct plc_choice ch[2];
    assert_int_equal(place_pair(c, "g", PLC_SCOPE_HOST, 4, ch), NFV_OK);
    struct plc_vm_req v = {.name = "solo", .force_host = "h0", .demand = pt_demand(3, 512)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
    struct plc_plan *p = NULL;
    assert_int_equal(plc_plan_drain(c, 0, &p, NULL), NFV_OK);
    assert_int_equal(p->n_moves, plc_cluster_host(c, 0)->n_vms); /* one move per VM */
    for (size_t i = 0; i < p->n_steps; i++)
        assert_int_not_equal(p->steps[i].to.host, 0);
    assert_int_equal(plc_plan_apply(c, p, PLC_SCOPE__COUNT, 0, NULL), NFV_OK);
    assert_int_equal(plc_cluster_host(c, 0)->n_vms, 0);
    assert_null(pt_check_groups(c));
    assert_null(pt_check_invariants(c));
    plc_plan_free(p);
    plc_cluster_free(c);
}

static void test_defrag_plan(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_NONE);
    pt_host(c, "a", 1, 8, 32768, "r", "z", "p");
    pt_host(c, "b", 1, 8, 32768, "r", "z", "p");
    struct plc_choice ch;
    /* 5 + 5 cores used: 3 free on each host; a 6-core VM fits nowhere. */
    const char *names[] = {"u1", "u2"};
    for (int i = 0; i < 2; i++) {
        struct plc_vm_req v = {
            .name = names[i], .force_host = i ? "b" : "a", .demand = pt_demand(5, 512)};
        struct plc_req r = {.n_vms = 1, .vms = &v};
        assert_int_equal(plc_place(c, &r, true, &ch, NULL), NFV_OK);
    }
    struct plc_vm_req small = {.name = "s", .force_host = "a", .demand = pt_demand(2, 512)};
    struct plc_req rs = {.n_vms = 1, .vms = &small};
    assert_int_equal(plc_place(c, &rs, true, &ch, NULL), NFV_OK);
    struct plc_vm_req big = {.name = "big", .demand = pt_demand(6, 512)};
    struct plc_req rb = {.n_vms = 1, .vms = &big};
    assert_int_equal(plc_place(c, &rb, false, &ch, NULL), NFV_E_NOCAP);
    struct plc_plan *p = NULL;
    /* Moving "s" (2 cores) from a to b does not help (a keeps 5 used); moving
     * u1 cannot happen (b has 1 free). Expect no plan with 1 move... */
    enum nfv_code rc = plc_plan_defrag(c, &rb, 4, &p, NULL);
    if (rc == NFV_OK) {
        /* ...or, if one exists, it must be executable and end with big placed. */
        struct plc_cluster *w = plc_cluster_clone(c);
        assert_int_equal(plc_plan_apply(w, p, PLC_SCOPE__COUNT, 0, NULL), NFV_OK);
        assert_int_equal(plc_place(w, &rb, false, &ch, NULL), NFV_OK);
        plc_cluster_free(w);
        plc_plan_free(p);
    }
    /* A third host with room for u-sized VMs makes a one-move plan exist. */
    pt_host(c, "c", 1, 6, 32768, "r", "z", "p");
    struct plc_vm_req fill = {.name = "fill", .force_host = "c", .demand = pt_demand(1, 512)};
    struct plc_req rf = {.n_vms = 1, .vms = &fill};
    assert_int_equal(plc_place(c, &rf, true, &ch, NULL), NFV_OK);
    assert_int_equal(plc_place(c, &rb, false, &ch, NULL), NFV_E_NOCAP);
    assert_int_equal(plc_plan_defrag(c, &rb, 4, &p, NULL), NFV_OK);
    assert_int_equal(p->n_moves - 1, 1); /* one move + the placement itself */
    struct plc_cluster *w = plc_cluster_clone(c);
    assert_int_equal(plc_plan_apply(w, p, PLC_SCOPE__COUNT, 0, NULL), NFV_OK);
    assert_int_equal(plc_place(w, &rb, false, &ch, NULL), NFV_OK);
    assert_null(pt_check_invariants(w));
    plc_cluster_free(w);
    plc_plan_free(p);
    plc_cluster_free(c);
}

/* issue 9: the daemon keeps one long-lived cluster and updates it on every
 * change. Removing a host: refused while it holds VMs; afterwards it takes
 * nothing, its name is free for a new host, and the reserve stays true. */
static void test_long_lived_remove_host(void **state)
{
    (void)state;
    struct plc_cluster *c = cluster(PLC_FAILURE_HOST);
    struct nfv_err err = {0};
    struct plc_choice ch, pair[2];
    uint32_t h0 = pt_host(c, "h0", 1, 8, 16384, "r1", "z", "p");
    pt_host(c, "h1", 1, 8, 16384, "r1", "z", "p");
    pt_host(c, "h2", 1, 8, 16384, "r2", "z", "p");
    pt_host(c, "h3", 1, 8, 16384, "r1", "z", "p"); /* r1 keeps room for its members */
    struct plc_vm_req v = {.name = "v0", .force_host = "h0", .demand = pt_demand(2, 512)};
    struct plc_req r = {.n_vms = 1, .vms = &v};
    assert_int_equal(plc_place(c, &r, true, &ch, &err), NFV_OK);
    assert_int_equal(ch.host, h0);
    assert_int_equal(place_pair(c, "g", PLC_SCOPE_HOST, 2, pair), NFV_OK);
    /* a host with VMs stays */
    assert_int_equal(plc_cluster_remove_host(c, h0, &err), NFV_E_STATE);
    assert_non_null(strstr(err.msg, "host 'h0' still holds"));
    for (uint32_t vm = 0; vm < plc_cluster_n_vm_slots(c); vm++) {
        const struct plc_vm *x = plc_cluster_vm(c, vm);
        if (x->name && x->at.host == h0)
            plc_cluster_remove_vm(c, vm);
    }
    assert_int_equal(plc_cluster_remove_host(c, h0, &err), NFV_OK);
    assert_true(plc_reserve_holds(c, NULL));
    assert_null(pt_check_invariants(c));
    assert_true(plc_cluster_host(c, h0)->is_removed);
    assert_int_equal(plc_cluster_find_host(c, "h0"), PLC_NONE);
    assert_int_equal(plc_cluster_remove_host(c, h0, &err), NFV_E_NOENT);
    assert_int_equal(plc_cluster_set_state(c, h0, PLC_HOST_UP, &err), NFV_E_NOENT);
    /* nothing lands there any more; the named host is unknown */
    v.force_host = NULL;
    for (int i = 0; i < 3; i++) {
        char n[8];
        snprintf(n, sizeof(n), "w%d", i);
        v.name = n;
        if (plc_place(c, &r, true, &ch, &err) != NFV_OK)
            fail_msg("%s: %s", n, err.msg);
        assert_int_not_equal(ch.host, h0);
    }
    v.name = "x";
    v.force_host = "h0";
    assert_int_not_equal(plc_place(c, &r, false, &ch, &err), NFV_OK);
    /* the name comes back as a new host, which takes VMs again */
    uint32_t h0b = pt_host(c, "h0", 1, 8, 16384, "r1", "z", "p");
    assert_int_not_equal(h0b, h0);
    assert_int_equal(plc_place(c, &r, true, &ch, &err), NFV_OK);
    assert_int_equal(ch.host, h0b);
    /* clones see the same */
    struct plc_cluster *k = plc_cluster_clone(c);
    assert_non_null(k);
    assert_int_equal(plc_cluster_find_host(k, "h0"), h0b);
    assert_true(plc_cluster_host(k, h0)->is_removed);
    plc_cluster_free(k);
    assert_true(plc_reserve_holds(c, NULL));
    assert_null(pt_check_invariants(c));
    /* a member that went with h0 is gone; the other keeps its group */
    assert_int_equal(plc_cluster_group(c, plc_cluster_find_group(c, "g"))->n_members,
                     2 - ((pair[0].host == h0) + (pair[1].host == h0)));
    plc_cluster_free(c);
}

/* Failure "power": a feed failing takes both its hosts; a pair on one
 * feed whose other feed has one host cannot be healed, though every single
 * host failure can (issue 11: reserve per failure-domain kind). */
static void test_reserve_power_feed(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        struct plc_config cfg;
        plc_config_init(&cfg);
        cfg.failure = kind ? PLC_FAILURE_POWER : PLC_FAILURE_HOST;
        struct plc_cluster *c = plc_cluster_new(&cfg);
        pt_host(c, "h1", 1, 4, 8192, "r1", "z", "p1");
        pt_host(c, "h2", 1, 4, 8192, "r2", "z", "p1");
        pt_host(c, "h3", 1, 4, 8192, "r3", "z", "p2");
        struct plc_vm_req m[2] = {
            {.name = "a", .role = PLC_ROLE_ACT, .force_host = "h1", .demand = pt_demand(4, 1024)},
            {.name = "b", .role = PLC_ROLE_SBY, .force_host = "h2", .demand = pt_demand(4, 1024)}};
        struct plc_req r = {.group = "g", .scope = PLC_SCOPE_HOST, .n_vms = 2, .vms = m};
        struct plc_choice ch[2];
        struct nfv_err err;
        /* Unforced, the pair is refused under "power" (wherever it lands, a
         * feed failure leaves a member nowhere apart from its peer). */
        m[0].force_host = m[1].force_host = NULL;
        assert_int_equal(plc_place(c, &r, false, ch, &err), kind ? NFV_E_NOCAP : NFV_OK);
        if (kind)
            assert_non_null(strstr(err.msg, "if power"));
        m[0].force_host = "h1";
        m[1].force_host = "h2";
        r.is_reserve_waived = true;
        assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
        enum plc_scope k;
        uint32_t dom, vm;
        assert_int_equal(plc_reserve_holds(c, NULL), kind == 0);
        if (kind) {
            assert_true(plc_reserve_uncovered(c, &k, &dom, &vm));
            assert_int_equal(k, PLC_SCOPE_POWER);
            assert_string_equal(plc_cluster_domain_name(c, k, dom), "p1");
        }
        plc_cluster_free(c);
    }
}

/* 1 ACT + 2 SBY: three hosts; evacuating any host keeps the three apart
 * and loses nothing when a fourth host has room. */
static void test_group_of_three(void **state)
{
    (void)state;
    struct plc_config cfg;
    plc_config_init(&cfg);
    struct plc_cluster *c = plc_cluster_new(&cfg);
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "h%d", i);
        pt_host(c, name, 1, 8, 16384, name, "z", "p");
    }
    struct plc_vm_req m[3] = {{.name = "t-a", .role = PLC_ROLE_ACT, .demand = pt_demand(4, 1024)},
                              {.name = "t-b", .role = PLC_ROLE_SBY, .demand = pt_demand(4, 1024)},
                              {.name = "t-c", .role = PLC_ROLE_SBY, .demand = pt_demand(4, 1024)}};
    struct plc_req r = {.group = "t", .scope = PLC_SCOPE_HOST, .n_vms = 3, .vms = m};
    struct plc_choice ch[3];
    assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
    assert_int_not_equal(ch[0].host, ch[1].host);
    assert_int_not_equal(ch[0].host, ch[2].host);
    assert_int_not_equal(ch[1].host, ch[2].host);
    for (int k = 0; k < 3; k++) {
        struct plc_plan *p = NULL;
        assert_int_equal(plc_plan_evacuate(c, PLC_SCOPE_HOST, ch[k].host, &p, NULL), NFV_OK);
        assert_int_equal(p->n_lost, 0);
        struct plc_cluster *w = plc_cluster_clone(c);
        assert_int_equal(plc_plan_apply(w, p, PLC_SCOPE_HOST, ch[k].host, NULL), NFV_OK);
        assert_null(pt_check_groups(w));
        plc_cluster_free(w);
        plc_plan_free(p);
    }
    plc_cluster_free(c);
}

/* A soft pair spreads within one request when hosts allow. */
static void test_soft_spreads_within_request(void **state)
{
    (void)state;
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = PLC_FAILURE_NONE;
    struct plc_cluster *c = plc_cluster_new(&cfg);
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "h%d", i);
        pt_host(c, name, 1, 8, 16384, name, "z", "p");
    }
    struct plc_vm_req m[2] = {{.name = "s-a", .role = PLC_ROLE_ACT, .demand = pt_demand(1, 512)},
                              {.name = "s-b", .role = PLC_ROLE_SBY, .demand = pt_demand(1, 512)}};
    struct plc_req r = {
        .group = "s", .scope = PLC_SCOPE_HOST, .is_soft = true, .n_vms = 2, .vms = m};
    struct plc_choice ch[2];
    assert_int_equal(plc_place(c, &r, true, ch, NULL), NFV_OK);
    assert_int_not_equal(ch[0].host, ch[1].host);
    plc_cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_search_beats_greedy),
        cmocka_unit_test(test_group_all_or_nothing),
        cmocka_unit_test(test_whatif_does_not_commit),
        cmocka_unit_test(test_explain_counts),
        cmocka_unit_test(test_evacuate_host_promotes_and_rebuilds),
        cmocka_unit_test(test_evacuate_rack),
        cmocka_unit_test(test_drain_plan),
        cmocka_unit_test(test_defrag_plan),
        cmocka_unit_test(test_long_lived_remove_host),
        cmocka_unit_test(test_reserve_power_feed),
        cmocka_unit_test(test_group_of_three),
        cmocka_unit_test(test_soft_spreads_within_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
