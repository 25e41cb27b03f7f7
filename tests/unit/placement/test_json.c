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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_ok),
        cmocka_unit_test(test_synthetic_pu_out_of_range),
        cmocka_unit_test(test_synthetic_product_overflow),
        cmocka_unit_test(test_synthetic_cache_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
