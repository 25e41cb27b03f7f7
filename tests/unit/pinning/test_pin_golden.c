/*
 * test_pin_golden.c - golden files of the libvirt XML for each pinning mode.
 *
 * Each case plans a request on a topology and renders every fragment
 * (<vcpu>, <cputune>, <numatune>, <cpu>, <memoryBacking>); the text must
 * equal tests/data/pinning/golden/<case>.xml. VMMGR_REGEN_GOLDEN=1 rewrites
 * the files instead (review the diff before committing). Each rendered
 * fragment is also wrapped into a full domain and defined on libvirt's
 * in-process test driver (test:///default), so libvirt's own parser accepts
 * what we write - no daemon needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "pin/pin.h"
#include "pin/pin_hwloc.h"
#include "pin/pin_libvirt.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static const char *src_dir(void)
{
    const char *s = getenv("VMMGR_SOURCE_DIR");
    return s ? s : ".";
}

static void ignore_libvirt_errors(void *data, virErrorPtr e)
{
    (void)data;
    (void)e;
}

/* libvirt's test driver must accept the fragment inside a domain. */
static void assert_libvirt_accepts(const char *name, const char *fragment)
{
    virConnectPtr conn;
    virDomainPtr dom;
    char *xml;
    size_t size = strlen(fragment) + 1024;

    virSetErrorFunc(NULL, ignore_libvirt_errors);
    conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    xml = malloc(size);
    snprintf(xml, size,
             "<domain type='test'>\n  <name>vmmgr-test-golden-%s</name>\n"
             "  <memory unit='MiB'>4096</memory>\n%s"
             "  <os><type arch='x86_64'>hvm</type></os>\n</domain>\n",
             name, fragment);
    dom = virDomainDefineXML(conn, xml);
    if (!dom)
        fail_msg("%s: libvirt refused the XML: %s\n%s", name, virGetLastErrorMessage(), xml);
    virDomainUndefine(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    free(xml);
}

struct golden_case {
    const char *name;
    const char *topo; /* "synthetic:..." or "xml:<path under source dir>" */
    const char *reserved;
    unsigned n_vcpus;
    enum pin_cpu_mode mode;
    const char *shared_vcpus;
    const char *cpu_map;
    enum pin_thread_policy thread;
    enum pin_emulator_policy emulator;
    enum pin_numa_policy numa;
    const char *nic;
    unsigned n_iothreads;
    uint64_t mem_mib, hugepage_kib;
};

static const struct golden_case cases[] = {
    {"exclusive-isolate", "synthetic:package:2 numa:1 core:16 pu:2", "0-1", 4, PIN_MODE_EXCLUSIVE,
     NULL, NULL, PIN_THREAD_ISOLATE, PIN_EMU_RESERVED, PIN_NUMA_SINGLE, NULL, 0, 0, 0},
    {"exclusive-require", "synthetic:package:2 numa:1 core:16 pu:2", "0-1", 4, PIN_MODE_EXCLUSIVE,
     NULL, NULL, PIN_THREAD_REQUIRE, PIN_EMU_RESERVED, PIN_NUMA_SINGLE, NULL, 0, 0, 0},
    {"shared", "synthetic:package:1 core:8 pu:2", "0-1", 3, PIN_MODE_SHARED, NULL, NULL,
     PIN_THREAD_ISOLATE, PIN_EMU_SHARED, PIN_NUMA_SINGLE, NULL, 0, 0, 0},
    {"numbered", "synthetic:package:1 core:8 pu:2", "0-1", 2, PIN_MODE_NUMBERED, NULL, "0:4,1:6",
     PIN_THREAD_ISOLATE, PIN_EMU_RESERVED, PIN_NUMA_SINGLE, NULL, 0, 0, 0},
    {"mixed-vnf-nic", "xml:tests/data/pinning/nic-host.xml", "0-1", 4, PIN_MODE_EXCLUSIVE, "0",
     NULL, PIN_THREAD_ISOLATE, PIN_EMU_ISOLATE, PIN_NUMA_SINGLE, "ens1f0", 1, 1024, 2048},
    {"spread", "synthetic:package:2 numa:4 core:8 pu:2", "0-1", 4, PIN_MODE_EXCLUSIVE, NULL, NULL,
     PIN_THREAD_ISOLATE, PIN_EMU_RESERVED, PIN_NUMA_SPREAD, NULL, 0, 4096, 0},
    /* The isolated emulator PU lands on node 1, where no vCPU is: guest NUMA cells are
     * the vCPUs' nodes only (an empty cell, cpus='' memory='0', is refused by libvirt). */
    {"spread-emulator-isolate", "synthetic:package:2 numa:1 core:4 pu:2", "0", 1,
     PIN_MODE_EXCLUSIVE, NULL, NULL, PIN_THREAD_ISOLATE, PIN_EMU_ISOLATE, PIN_NUMA_SPREAD, NULL, 0,
     1024, 0},
    /* issue 9's defaults. The plainest offline plan, on a host with no reserved
     * PU: emulator 'auto' floats over the VM's own PUs. */
    {"bare-host-auto", "synthetic:package:2 numa:2 core:16 pu:2", NULL, 4, PIN_MODE_EXCLUSIVE, NULL,
     NULL, PIN_THREAD_ISOLATE, PIN_EMU_AUTO, PIN_NUMA_AUTO, NULL, 0, 0, 0},
    /* ... and on a host with reserved PUs 'auto' puts them there. */
    {"reserved-auto", "synthetic:package:2 numa:2 core:16 pu:2", "0-1", 4, PIN_MODE_EXCLUSIVE, NULL,
     NULL, PIN_THREAD_ISOLATE, PIN_EMU_AUTO, PIN_NUMA_AUTO, NULL, 0, 0, 0},
    /* A numbered map over two nodes implies 'spread' (guest NUMA cells per node). */
    {"numbered-spread-auto", "synthetic:package:2 numa:1 core:8 pu:2", "0-1", 2, PIN_MODE_NUMBERED,
     NULL, "0:4,1:20", PIN_THREAD_ISOLATE, PIN_EMU_AUTO, PIN_NUMA_AUTO, NULL, 0, 2048, 0},
};

static void run_case(const struct golden_case *c)
{
    struct pin_topo *t = NULL;
    struct pin_pools pools;
    struct pin_alloc *a = NULL;
    struct pin_request *r = NULL;
    struct pin_plan *plan = pin_plan_new(c->n_vcpus);
    struct nfv_err err = {0};
    char path[1024], *xml = NULL, *want;
    const char *regen = getenv("VMMGR_REGEN_GOLDEN");

    if (strncmp(c->topo, "xml:", 4) == 0) {
        snprintf(path, sizeof(path), "%s/%s", src_dir(), c->topo + 4);
        assert_int_equal(pin_hwloc_load_xml(path, &t, &err), NFV_OK);
    } else {
        assert_int_equal(pin_hwloc_load_synthetic(c->topo + 10, &t, &err), NFV_OK);
    }
    assert_int_equal(pin_pools_parse(t, c->reserved, NULL, NULL, &pools, &err), NFV_OK);
    assert_int_equal(pin_alloc_new(t, &pools, &a, &err), NFV_OK);
    assert_int_equal(pin_request_new(c->n_vcpus, c->mode, &r, &err), NFV_OK);
    if (c->shared_vcpus)
        assert_int_equal(pin_request_set_mode_list(r, c->shared_vcpus, PIN_MODE_SHARED, &err),
                         NFV_OK);
    if (c->cpu_map)
        assert_int_equal(pin_request_set_cpu_map(r, c->cpu_map, t->max_pu, &err), NFV_OK);
    r->thread_policy = c->thread;
    r->emulator = c->emulator;
    r->numa = c->numa;
    if (c->nic) {
        snprintf(r->nic, sizeof(r->nic), "%s", c->nic);
        r->nic_policy = PIN_NIC_REQUIRED;
    }
    r->n_iothreads = c->n_iothreads;
    r->mem_mib = c->mem_mib;
    r->hugepage_kib = c->hugepage_kib;
    if (pin_plan_compute(a, r, plan, &err) != NFV_OK)
        fail_msg("%s: %s", c->name, err.msg);
    assert_int_equal(pin_libvirt_render(t, plan, PIN_LV_ALL, &xml, &err), NFV_OK);

    snprintf(path, sizeof(path), "%s/tests/data/pinning/golden/%s.xml", src_dir(), c->name);
    if (regen && strcmp(regen, "1") == 0) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(xml, f);
        fclose(f);
        printf("regenerated %s\n", path);
    }
    want = read_file(path);
    if (!want)
        fail_msg("%s: no golden file %s (run with VMMGR_REGEN_GOLDEN=1)", c->name, path);
    if (strcmp(want, xml) != 0)
        fail_msg("%s: XML differs from %s\n--- got:\n%s--- want:\n%s", c->name, path, xml, want);
    assert_libvirt_accepts(c->name, xml);
    free(want);
    free(xml);
    pin_plan_free(plan);
    pin_request_free(r);
    pin_alloc_free(a);
    pin_topo_unref(t);
}

static void test_golden(void **state)
{
    const struct golden_case *c = *state;

    run_case(c);
}

/* What the golden files cannot show: pieces that must be absent. */
static void test_fragment_selection(void **state)
{
    struct pin_topo *t = NULL;
    struct pin_pools pools;
    struct pin_alloc *a = NULL;
    struct pin_request *r = NULL;
    struct pin_plan *plan = pin_plan_new(2);
    char *xml = NULL;

    (void)state;
    assert_int_equal(pin_topo_new_synthetic(1, 1, 4, 1, 1024, &t, NULL), NFV_OK);
    assert_int_equal(pin_pools_parse(t, "0", NULL, NULL, &pools, NULL), NFV_OK);
    assert_int_equal(pin_alloc_new(t, &pools, &a, NULL), NFV_OK);
    assert_int_equal(pin_request_new(2, PIN_MODE_EXCLUSIVE, &r, NULL), NFV_OK);
    assert_int_equal(pin_plan_compute(a, r, plan, NULL), NFV_OK);
    assert_int_equal(pin_libvirt_render(t, plan, PIN_LV_CPUTUNE, &xml, NULL), NFV_OK);
    assert_string_equal(xml, "  <cputune>\n"
                             "    <vcpupin vcpu='0' cpuset='1'/>\n"
                             "    <vcpupin vcpu='1' cpuset='2'/>\n"
                             "    <emulatorpin cpuset='0'/>\n"
                             "  </cputune>\n");
    free(xml);
    /* no hugepages asked: no <memoryBacking> */
    assert_int_equal(pin_libvirt_render(t, plan, PIN_LV_MEMBACKING, &xml, NULL), NFV_OK);
    assert_string_equal(xml, "");
    free(xml);
    pin_plan_free(plan);
    pin_request_free(r);
    pin_alloc_free(a);
    pin_topo_unref(t);
}

int main(void)
{
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 1];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_golden, (void *)&cases[i]);
        tests[n].name = cases[i].name;
        n++;
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fragment_selection);
    return _cmocka_run_group_tests("pin_golden", tests, n, NULL, NULL);
}
