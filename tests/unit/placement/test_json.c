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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_ok),
        cmocka_unit_test(test_synthetic_pu_out_of_range),
        cmocka_unit_test(test_synthetic_product_overflow),
        cmocka_unit_test(test_synthetic_cache_levels),
        cmocka_unit_test(test_synthetic_is_hwloc),
        cmocka_unit_test(test_refused_host_frees_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
