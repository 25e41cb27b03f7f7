/*
 * test_pin_topo.c - the topology model and the hwloc adapter.
 *
 * The synthetic shapes the issue names (1 socket without SMT; 2 sockets x 16
 * cores x 2 threads; 8 NUMA nodes x 8 cores x 2 threads) must come out of
 * hwloc's synthetic backend with the counts, sibling pairs and node cpusets
 * an operator would see in lstopo, and equal to the pure builder's model; the
 * XML host must show its NICs on the right node with their PCI addresses,
 * and its hugepages.
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
#include "pin/pin_hwloc.h"

static struct pin_topo *load_synth(const char *desc)
{
    struct pin_topo *t = NULL;
    struct nfv_err err = {0};

    if (pin_hwloc_load_synthetic(desc, &t, &err) != NFV_OK)
        fail_msg("'%s': %s", desc, err.msg);
    return t;
}

static void assert_set(const struct pin_cpuset *s, const char *want)
{
    char buf[1024];

    pin_cpuset_format(s, buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("cpuset '%s', want '%s'", buf, want);
}

/* The pure builder and hwloc agree PU by PU. */
static void assert_same_model(const struct pin_topo *a, const struct pin_topo *b)
{
    assert_int_equal(a->n_pus, b->n_pus);
    assert_int_equal(a->n_cores, b->n_cores);
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_int_equal(a->n_packages, b->n_packages);
    assert_true(pin_cpuset_equal(&a->all, &b->all));
    for (unsigned c = 0; c < a->n_cores; c++) {
        assert_int_equal(a->cores[c].n_pus, b->cores[c].n_pus);
        assert_memory_equal(a->cores[c].pus, b->cores[c].pus, a->cores[c].n_pus * 2);
        assert_int_equal(a->nodes[a->cores[c].node].os_index, b->nodes[b->cores[c].node].os_index);
    }
    for (unsigned n = 0; n < a->n_nodes; n++)
        assert_true(pin_cpuset_equal(&a->nodes[n].pus, &b->nodes[n].pus));
}

static void test_one_socket_no_smt(void **state)
{
    struct pin_topo *t = load_synth("package:1 core:8 pu:1"), *p = NULL;

    (void)state;
    assert_int_equal(t->n_packages, 1);
    assert_int_equal(t->n_nodes, 1);
    assert_int_equal(t->n_cores, 8);
    assert_int_equal(t->n_pus, 8);
    assert_int_equal(pin_topo_threads_per_core(t), 1);
    assert_set(&t->nodes[0].pus, "0-7");
    assert_int_equal(t->cores[3].pus[0], 3);
    assert_int_equal(pin_topo_new_synthetic(1, 1, 8, 1, 1024, &p, NULL), NFV_OK);
    assert_same_model(t, p);
    pin_topo_unref(p);
    pin_topo_unref(t);
}

static void test_two_sockets_16_cores_smt2(void **state)
{
    struct pin_topo *t = load_synth("package:2 numa:1 core:16 pu:2"), *p = NULL;
    struct pin_topo *flat = load_synth("package:2 core:16 pu:2");

    (void)state;
    /* without a numa level hwloc puts the whole machine on one node */
    assert_int_equal(flat->n_nodes, 1);
    assert_int_equal(flat->n_packages, 2);
    assert_int_equal(flat->n_cores, 32);
    pin_topo_unref(flat);
    assert_int_equal(t->n_packages, 2);
    assert_int_equal(t->n_nodes, 2);
    assert_int_equal(t->n_cores, 32);
    assert_int_equal(t->n_pus, 64);
    assert_int_equal(pin_topo_threads_per_core(t), 2);
    assert_set(&t->nodes[0].pus, "0-31");
    assert_set(&t->nodes[1].pus, "32-63");
    /* siblings: core 17 = PUs 34,35 on package 1 */
    assert_int_equal(t->cores[17].pus[0], 34);
    assert_int_equal(t->cores[17].pus[1], 35);
    assert_int_equal(t->cores[17].package, 1);
    assert_int_equal(pin_topo_pu(t, 35)->core, 17);
    assert_int_equal(pin_topo_pu(t, 35)->smt, 1);
    assert_null(pin_topo_pu(t, 64));
    assert_int_equal(pin_topo_new_synthetic(2, 1, 16, 2, 1024, &p, NULL), NFV_OK);
    assert_same_model(t, p);
    pin_topo_unref(p);
    pin_topo_unref(t);
}

static void test_eight_numa_nodes(void **state)
{
    struct pin_topo *t = load_synth("package:2 numa:4 core:8 pu:2"), *p = NULL;
    json_t *j;

    (void)state;
    assert_int_equal(t->n_nodes, 8);
    assert_int_equal(t->n_cores, 64);
    assert_int_equal(t->n_pus, 128);
    for (unsigned n = 0; n < 8; n++) {
        assert_int_equal(t->nodes[n].os_index, n);
        assert_int_equal(t->nodes[n].n_cores, 8);
        assert_int_equal(t->nodes[n].n_pus, 16);
        assert_int_equal(t->nodes[n].package, n / 4);
    }
    assert_set(&t->nodes[5].pus, "80-95");
    assert_int_equal(pin_topo_node_by_os(t, 5), 5);
    assert_int_equal(pin_topo_node_by_os(t, 9), -1);
    assert_int_equal(pin_topo_new_synthetic(2, 4, 8, 2, 1024, &p, NULL), NFV_OK);
    assert_same_model(t, p);
    /* JSON view lists every node and core */
    j = pin_topo_to_json(t);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 8);
    assert_int_equal(json_array_size(json_object_get(j, "cores")), 64);
    json_decref(j);
    pin_topo_unref(p);
    pin_topo_unref(t);
}

static void test_xml_host_with_nics_on_node1(void **state)
{
    struct pin_topo *t = NULL;
    struct nfv_err err = {0};
    const struct pin_nic_info *nic;
    char path[1024];

    (void)state;
    snprintf(path, sizeof(path), "%s/tests/data/pinning/nic-host.xml",
             getenv("VMMGR_SOURCE_DIR") ? getenv("VMMGR_SOURCE_DIR") : ".");
    if (pin_hwloc_load_xml(path, &t, &err) != NFV_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(t->n_nodes, 2);
    assert_int_equal(t->n_pus, 32);
    assert_int_equal(t->n_nics, 3);
    nic = pin_topo_nic_find(t, "ens1f0");
    assert_non_null(nic);
    assert_int_equal(t->nodes[nic->node].os_index, 1);
    assert_string_equal(nic->pci, "0000:3b:00.0");
    nic = pin_topo_nic_find(t, "0000:3b:00.1"); /* by PCI address */
    assert_non_null(nic);
    assert_string_equal(nic->name, "ens1f1");
    assert_int_equal(t->nodes[nic->node].os_index, 1);
    nic = pin_topo_nic_find(t, "eno1");
    assert_non_null(nic);
    assert_int_equal(t->nodes[nic->node].os_index, 0);
    assert_null(pin_topo_nic_find(t, "ens9"));
    assert_int_equal(t->nodes[1].n_hp, 1);
    assert_int_equal(t->nodes[1].hp[0].size_kib, 2048);
    assert_int_equal(t->nodes[1].hp[0].n_total, 512);
    assert_int_equal(t->nodes[1].mem_bytes, 1ull << 30);
    pin_topo_unref(t);
}

static void test_load_errors(void **state)
{
    struct pin_topo *t = NULL;
    struct nfv_err err = {0};

    (void)state;
    assert_int_equal(pin_hwloc_load_synthetic("package:2 bogus:3", &t, &err), NFV_E_PARSE);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(pin_hwloc_load_xml("/nonexistent/x.xml", &t, &err), NFV_E_IO);
    assert_int_equal(pin_hwloc_load_xml("/etc/hostname", &t, &err), NFV_E_PARSE);
    assert_int_equal(pin_hwloc_load_synthetic("package:2 core:512 pu:2", &t, &err), NFV_E_INVAL);
    assert_null(t);
    assert_int_equal(pin_topo_new_synthetic(0, 1, 1, 1, 0, &t, &err), NFV_E_INVAL);
    assert_int_equal(pin_topo_new_synthetic(65, 1, 1, 1, 0, &t, &err), NFV_E_INVAL);
}

static void test_builder_rules(void **state)
{
    struct pin_topo *t = pin_topo_new();
    struct nfv_err err = {0};
    unsigned n0, n1;

    (void)state;
    assert_int_equal(pin_topo_seal(t, &err), NFV_E_INVAL); /* no PU */
    assert_int_equal(pin_topo_add_node(t, 0, 0, &n0, &err), NFV_OK);
    assert_int_equal(pin_topo_add_node(t, 0, 0, &n1, &err), NFV_E_INVAL);
    assert_int_equal(pin_topo_add_node(t, 1, 0, &n1, &err), NFV_OK);
    assert_int_equal(pin_topo_add_pu(t, 0, n0, 0, 0, 0, &err), NFV_OK);
    assert_int_equal(pin_topo_add_pu(t, 0, n0, 0, 0, 0, &err), NFV_E_INVAL);
    assert_int_equal(pin_topo_add_pu(t, 2, 7, 0, 1, 0, &err), NFV_E_INVAL);
    /* a core whose threads sit on two nodes is refused at sealing */
    assert_int_equal(pin_topo_add_pu(t, 1, n1, 0, 0, 0, &err), NFV_OK);
    assert_int_equal(pin_topo_seal(t, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "two numa nodes"));
    pin_topo_unref(t);
    /* refcount: ref + 2 unrefs frees once (ASan checks) */
    assert_int_equal(pin_topo_new_synthetic(1, 1, 2, 1, 0, &t, NULL), NFV_OK);
    assert_ptr_equal(pin_topo_ref(t), t);
    pin_topo_unref(t);
    assert_int_equal(t->refs, 1);
    pin_topo_unref(t);
    pin_topo_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_socket_no_smt),
        cmocka_unit_test(test_two_sockets_16_cores_smt2),
        cmocka_unit_test(test_eight_numa_nodes),
        cmocka_unit_test(test_xml_host_with_nics_on_node1),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_builder_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
