/*
 * test_json.c - the cluster-file loader (plc_json) on hostile input: every
 * refusal is NFV_E_INVAL naming the JSON path, and nothing out of range is
 * accepted by silently wrapping it into another value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pin/pin_hwloc.h"
#include "plc/cluster.h"
#include "plc/engine.h"
#include "plc/json.h"

/* Loads a one-host cluster whose host has topology @topo. */
static enum nfv_code load_topo(const char *topo, struct plc_cluster **ret_c, struct nfv_err *err)
{
    json_t *doc = json_pack("{s:[{s:s,s:s,s:i}]}", "hosts", "name", "h1", "topology", topo,
                            "memory_mib", 4096);
    enum nfv_code rc;

    assert_non_null(doc);
    rc = plc_json_cluster_from(doc, "c.json", ret_c, err);
    json_decref(doc);
    return rc;
}

static void test_synthetic_ok(void **state)
{
    struct plc_cluster *c = NULL;
    struct nfv_err err = {0};
    const struct plc_host *h;

    (void)state;
    assert_int_equal(load_topo("package:2 core:8 pu:2", &c, &err), NFV_OK);
    h = plc_cluster_host(c, 0);
    assert_int_equal(h->n_nodes, 2);
    assert_int_equal(h->n_cores, 16);
    assert_int_equal(h->threads_per_core, 2);
    plc_cluster_free(c);
}

/* "pu:256" used to become 0 threads (uint8_t), then 1; "pu:9" more threads
 * than pinning models per core (PIN_MAX_SMT, and the 'threads_per_core' limit). */
static void test_synthetic_pu_out_of_range(void **state)
{
    static const char *const bad[] = {"package:1 core:4 pu:256", "package:1 core:4 pu:9",
                                      "package:1 core:4 pu:300"};
    struct nfv_err err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct plc_cluster *c = NULL;
        nfv_err_clear(&err);
        assert_int_equal(load_topo(bad[i], &c, &err), NFV_E_INVAL);
        assert_null(c);
        assert_non_null(strstr(err.msg, "$.hosts[0].topology"));
        assert_non_null(strstr(err.msg, "pu"));
    }
}

/* Level counts multiply: a product beyond 64 bits used to wrap (4096^6 = 2^72
 * became 0 nodes, refused only later with a misleading reason). */
static void test_synthetic_product_overflow(void **state)
{
    struct plc_cluster *c = NULL;
    struct nfv_err err = {0};

    (void)state;
    assert_int_equal(load_topo("package:4096 group:4096 machine:4096 socket:4096 die:4096 "
                               "l3:4096 core:1",
                               &c, &err),
                     NFV_E_INVAL);
    assert_null(c);
    assert_non_null(strstr(err.msg, "$.hosts[0].topology"));
    assert_non_null(strstr(err.msg, "NUMA nodes"));
}

/* docs/cluster-file.md: "NUMA nodes = P x N (one per package without numa),
 * cores per node = C times any level between numa and core". Without a numa
 * level an l3 level used to become NUMA nodes (2 x 4 nodes of 8 cores). */
static void test_synthetic_cache_levels(void **state)
{
    struct plc_cluster *c = NULL;
    struct nfv_err err = {0};
    const struct plc_host *h;

    (void)state;
    assert_int_equal(load_topo("package:2 l3:4 core:8 pu:2", &c, &err), NFV_OK);
    h = plc_cluster_host(c, 0);
    assert_int_equal(h->n_nodes, 2);
    assert_int_equal(h->n_cores, 64);
    plc_cluster_free(c);
    assert_int_equal(load_topo("package:2 numa:2 l3:2 core:4", &c, &err), NFV_OK);
    h = plc_cluster_host(c, 0);
    assert_int_equal(h->n_nodes, 4);
    assert_int_equal(h->n_cores, 32);
    plc_cluster_free(c);
    /* a cache level above numa holds whole nodes */
    assert_int_equal(load_topo("package:2 l3:2 numa:1 core:4", &c, &err), NFV_OK);
    h = plc_cluster_host(c, 0);
    assert_int_equal(h->n_nodes, 4);
    assert_int_equal(h->n_cores, 16);
    plc_cluster_free(c);
}

/* issue 9: one synthetic parser, hwloc's. The host's topology is the one
 * pinning's hwloc adapter loads (returned for planning pins), shared by
 * hosts of the same string; what hwloc refuses is refused naming the path. */
static void test_synthetic_is_hwloc(void **state)
{
    json_t *doc = json_pack("{s:[{s:s,s:s,s:i},{s:s,s:s,s:i},{s:s,s:s,s:i}]}", "hosts", "name", "a",
                            "topology", "package:2 numa:2 core:4 pu:2", "memory_mib", 4096, "name",
                            "b", "topology", "package:2 numa:2 core:4 pu:2", "memory_mib", 4096,
                            "name", "c", "topology", "package:1 core:4", "memory_mib", 1024);
    struct plc_cluster *c = NULL;
    struct pin_topo **topos = NULL, *want = NULL;
    struct nfv_err err = {0};

    (void)state;
    assert_int_equal(plc_json_cluster_from_topos(doc, "c.json", &c, &topos, &err), NFV_OK);
    json_decref(doc);
    assert_int_equal(pin_hwloc_load_synthetic("package:2 numa:2 core:4 pu:2", &want, &err), NFV_OK);
    assert_non_null(topos[0]);
    assert_ptr_equal(topos[0], topos[1]); /* one load per distinct string */
    assert_int_equal(topos[0]->n_pus, want->n_pus);
    assert_int_equal(topos[0]->n_nodes, 4);
    assert_true(pin_cpuset_equal(&topos[0]->nodes[3].pus, &want->nodes[3].pus));
    assert_int_equal(plc_cluster_host(c, 0)->n_nodes, 4);
    assert_int_equal(plc_cluster_host(c, 0)->nodes[3].first_core, 12);
    assert_int_equal(plc_cluster_host(c, 0)->nodes[3].mem_mib, 1024);
    /* defaults hwloc does not share: pu:1, one node per package */
    assert_non_null(topos[2]);
    assert_int_equal(topos[2]->n_pus, 4);
    assert_int_equal(plc_cluster_host(c, 2)->threads_per_core, 1);
    plc_json_topos_free(topos, plc_cluster_n_hosts(c));
    plc_cluster_free(c);
    c = NULL;
    pin_topo_unref(want);
    /* two pu levels: the old parser took the last one, hwloc says no */
    assert_int_equal(load_topo("package:2 numa:1 core:4 pu:2 pu:2", &c, &err), NFV_E_INVAL);
    assert_null(c);
    assert_non_null(strstr(err.msg, "c.json: $.hosts[0].topology: "));
    assert_non_null(strstr(err.msg, "hwloc"));
    /* beyond the pin model's PUs: refused before hwloc builds it */
    assert_int_equal(load_topo("package:8 numa:1 core:256 pu:8", &c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "PUs (at most"));
}

/* A host refused after its topology was loaded (here: a bad label) drops the
 * topology: the fuzzer found the leak (LeakSanitizer, ASan build). */
static void test_refused_host_frees_topology(void **state)
{
    static const char *const topos[] = {"package:2 numa:1 core:4 pu:2", "package:1 core:4 pu:1"};
    struct nfv_err err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(topos) / sizeof(topos[0]); i++) {
        json_t *doc = json_pack("{s:[{s:s,s:s,s:{s:i}}]}", "hosts", "name", "h1", "topology",
                                topos[i], "labels", "rack", 3);
        struct plc_cluster *c = NULL;
        assert_int_equal(plc_json_cluster_from(doc, "c.json", &c, &err), NFV_E_INVAL);
        assert_null(c);
        assert_non_null(strstr(err.msg, "$.hosts[0].labels"));
        json_decref(doc);
    }
}

/* Healing reserve per zone (reserve.zones): h1, h2 in rack r1 / zone z1
 * (4 cores each) hold a host-scoped pair of 2 cores each, h3 (rack r2 /
 * zone z2) has room for one rebuild (@h3_full: none). Loads it with
 * reserve @reserve (JSON). */
static enum nfv_code load_zoned(const char *reserve, bool h3_full, struct plc_cluster **ret_c,
                                struct nfv_err *err)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "{\"reserve\": %s, \"hosts\": ["
             "{\"name\":\"h1\",\"nodes\":[{\"cores\":4,\"memory_mib\":4096}],"
             "\"labels\":{\"rack\":\"r1\",\"zone\":\"z1\"}},"
             "{\"name\":\"h2\",\"nodes\":[{\"cores\":4,\"memory_mib\":4096}],"
             "\"labels\":{\"rack\":\"r1\",\"zone\":\"z1\"}},"
             "{\"name\":\"h3\",\"nodes\":[{\"cores\":4,\"memory_mib\":4096}],"
             "\"labels\":{\"rack\":\"r2\",\"zone\":\"z2\"}}],"
             "\"groups\":[{\"name\":\"g\",\"scope\":\"host\"}],"
             "\"vms\":[{\"name\":\"g-a\",\"host\":\"h1\",\"group\":\"g\",\"role\":\"act\","
             "\"vcpus\":2,\"memory_mib\":1024},"
             "{\"name\":\"g-b\",\"host\":\"h2\",\"group\":\"g\",\"role\":\"sby\","
             "\"vcpus\":2,\"memory_mib\":1024}%s]}",
             reserve,
             h3_full ? ",{\"name\":\"x\",\"host\":\"h3\",\"vcpus\":4,\"memory_mib\":1024}" : "");
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    assert_non_null(doc);
    enum nfv_code rc = plc_json_cluster_from(doc, "c.json", ret_c, err);
    json_decref(doc);
    return rc;
}

/* Asserts whether the loaded reserve holds; when not, that @kind domain
 * @dom_name is the one uncovered. */
static void assert_zoned(const char *reserve, bool h3_full, bool holds, enum plc_scope kind,
                         const char *dom_name)
{
    struct plc_cluster *c = NULL;
    struct nfv_err err = {0};
    enum plc_scope k;
    uint32_t dom, vm;

    assert_int_equal(load_zoned(reserve, h3_full, &c, &err), NFV_OK);
    if (holds != plc_reserve_holds(c, NULL))
        fail_msg("reserve %s%s: expected the reserve to %s", reserve, h3_full ? " (h3 full)" : "",
                 holds ? "hold" : "break");
    if (!holds) {
        assert_true(plc_reserve_uncovered(c, &k, &dom, &vm));
        assert_int_equal(k, kind);
        assert_string_equal(plc_cluster_domain_name(c, k, dom), dom_name);
    }
    plc_cluster_free(c);
}

static void test_reserve_per_zone(void **state)
{
    (void)state;
    /* One failure for the whole cluster. */
    assert_zoned("{\"failure\":\"host\"}", false, true, 0, NULL);
    assert_zoned("{\"failure\":\"rack\"}", false, false, PLC_SCOPE_RACK, "r1");
    /* Zone z1 must survive a rack: r1 (both members) cannot heal on h3. */
    assert_zoned("{\"failure\":\"host\",\"zones\":{\"z1\":\"rack\"}}", false, false, PLC_SCOPE_RACK,
                 "r1");
    /* Only z2 must survive a rack: r1 is not checked. */
    assert_zoned("{\"failure\":\"rack\",\"zones\":{\"z1\":\"host\"}}", false, true, 0, NULL);
    assert_zoned("{\"failure\":\"host\",\"zones\":{\"z2\":\"rack\"}}", false, true, 0, NULL);
    /* h3 full: a host failure in z1 loses a member, unless z1 has none. */
    assert_zoned("{\"failure\":\"host\"}", true, false, PLC_SCOPE_HOST, "h1");
    assert_zoned("{\"failure\":\"host\",\"zones\":{\"z1\":\"none\"}}", true, true, 0, NULL);
    assert_zoned("{\"failure\":\"none\",\"zones\":{\"z1\":\"host\"}}", true, false, PLC_SCOPE_HOST,
                 "h1");

    /* A new pair needs the reserve only where its zone asks for one: with
     * z1 "none" it goes on z1's free cores (h3 is full) ... */
    struct plc_cluster *c = NULL;
    struct nfv_err err = {0};
    assert_int_equal(
        load_zoned("{\"failure\":\"host\",\"zones\":{\"z1\":\"none\"}}", true, &c, &err), NFV_OK);
    struct plc_vm_req m[2] = {
        {.name = "p-a",
         .role = PLC_ROLE_ACT,
         .force_host = "h1",
         .demand = {.n_vcpus = 1, .n_cores = 1, .numa_nodes = 1, .mem_mib = 64}},
        {.name = "p-b",
         .role = PLC_ROLE_SBY,
         .force_host = "h2",
         .demand = {.n_vcpus = 1, .n_cores = 1, .numa_nodes = 1, .mem_mib = 64}}};
    struct plc_req r = {.group = "p", .scope = PLC_SCOPE_HOST, .n_vms = 2, .vms = m};
    struct plc_choice ch[2];
    assert_int_equal(plc_place(c, &r, false, ch, &err), NFV_OK);
    plc_cluster_free(c);
    /* ... and is refused where the zone's host failure is checked. */
    assert_int_equal(load_zoned("{\"failure\":\"host\"}", true, &c, &err), NFV_OK);
    assert_int_equal(plc_place(c, &r, false, ch, &err), NFV_E_NOCAP);
    assert_non_null(strstr(err.msg, "healing reserve"));
    plc_cluster_free(c);

    /* Bad zones name the path. */
    assert_int_equal(load_zoned("{\"zones\":{\"z9\":\"rack\"}}", false, &c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "$.reserve.zones.z9"));
    assert_int_equal(load_zoned("{\"zones\":{\"z1\":\"disk\"}}", false, &c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "$.reserve.zones.z1"));
    assert_int_equal(load_zoned("{\"zones\":[\"z1\"]}", false, &c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "$.reserve.zones"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_ok),
        cmocka_unit_test(test_synthetic_pu_out_of_range),
        cmocka_unit_test(test_synthetic_product_overflow),
        cmocka_unit_test(test_synthetic_cache_levels),
        cmocka_unit_test(test_synthetic_is_hwloc),
        cmocka_unit_test(test_refused_host_frees_topology),
        cmocka_unit_test(test_reserve_per_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
