/*
 * test_vm_domxml.c - golden files of vmmgrd's domain XML (vm_domxml.h).
 *
 * Each case is what the daemon does on create, without the daemon: a create
 * body parsed by vm_spec_parse, a plan computed by pinning on a synthetic
 * host, then vm_domxml_build. The text must equal
 * tests/data/vmmgr/domxml/<case>.xml; VMMGR_REGEN_GOLDEN=1 rewrites the
 * files instead (as tests/unit/pinning/test_pin_golden.c does; review the
 * diff before committing). One case per pinning mode, emulator policy, NUMA
 * policy, hugepages, disk format, NIC kind and domain type, plus escaping.
 * test_vm_domxml_libvirt.c (label integration) feeds the same files to
 * libvirt's schema and test driver.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/pin.h"
#include "vm/vm_domxml.h"
#include "vm/vm_spec.h"

#define UUID "6f1f3c9e-2b1d-4c55-9a43-0d2b7e8a1c01"

struct golden_case {
    const char *name;
    unsigned topo[4]; /* packages, nodes per package, cores per node, threads */
    const char *reserved;
    const char *body; /* POST /v1/vms body */
    enum vm_domxml_type type;
    enum pin_numa_policy numa; /* not a body field yet: set on the request */
    uint64_t hugepage_kib;     /* idem */
    const char *uuid;
};

#define HOST_1X8X2                                                                                 \
    {                                                                                              \
        1, 1, 8, 2                                                                                 \
    }
#define HOST_2X4X2                                                                                 \
    {                                                                                              \
        2, 1, 4, 2                                                                                 \
    }

static const struct golden_case cases[] = {
    /* pinning modes */
    {"mode-exclusive", HOST_1X8X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":4,\"memory_mib\":1024}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"mode-shared-group", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":3,\"memory_mib\":1024,\"cpu_mode\":\"shared\","
     "\"group\":\"epc\",\"role\":\"sby\"}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"mode-numbered", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":1024,\"cpu_mode\":\"numbered\","
     "\"cpu_map\":\"0:4,1:6\",\"host\":\"h1\"}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"mode-mixed", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":4,\"memory_mib\":1024,\"shared_vcpus\":\"0\","
     "\"cpu_map\":\"3:14\",\"host\":\"h1\"}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    /* emulator policies */
    {"emulator-reserved", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":1024,\"emulator\":\"reserved\"}", VM_DOMXML_KVM,
     PIN_NUMA_SINGLE, 0, UUID},
    {"emulator-shared", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":3,\"memory_mib\":1024,\"shared_vcpus\":\"0\","
     "\"emulator\":\"shared\"}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"emulator-float", HOST_1X8X2, "",
     "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":1024,\"emulator\":\"vcpus\"}", VM_DOMXML_KVM,
     PIN_NUMA_SINGLE, 0, UUID},
    {"emulator-isolate", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":1024,\"emulator\":\"isolate\"}", VM_DOMXML_KVM,
     PIN_NUMA_SINGLE, 0, UUID},
    /* NUMA */
    {"numa-single", HOST_2X4X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":4,\"memory_mib\":2048,\"numa_node\":1}", VM_DOMXML_KVM,
     PIN_NUMA_SINGLE, 0, UUID},
    {"numa-spread", HOST_2X4X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":6,\"memory_mib\":3072}",
     VM_DOMXML_KVM, PIN_NUMA_SPREAD, 0, UUID},
    /* memory */
    {"hugepages", HOST_1X8X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":2048}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 2048, UUID},
    /* disks */
    {"disk-raw", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,\"disk\":\"/var/lib/vmmgr/vm1.img\"}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"disk-qcow2", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,\"disk\":\"/var/lib/vmmgr/vm1.qcow2\"}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    /* NICs */
    {"nic-bridge", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,\"nics\":[\"bridge:br-data\"]}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"nic-network", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,\"nics\":[\"network:default\"]}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"nic-vhostuser", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,"
     "\"nics\":[\"vhostuser:/run/vmmgr/vhu-vm1-0.sock\"]}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    /* vmmgr networks (issue 15): OVS access ports with the network's VLAN
     * on the host's integration bridge (run_case resolves network i to
     * VLAN 100 + i, as vmmgrd does from its networks table) */
    {"nic-ovs-net", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,"
     "\"nics\":[{\"network\":\"n100\"},\"bridge:br-mgmt\",{\"network\":\"n102\"}]}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"nic-ovs-net-test", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":512,\"nics\":[{\"network\":\"n100\"}]}",
     VM_DOMXML_TEST, PIN_NUMA_SINGLE, 0, UUID},
    /* vhost-user and hugepages share one <memoryBacking> */
    {"nic-vhostuser-hugepages", HOST_1X8X2, "0-1",
     "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":2048,\"disk\":\"/srv/vnf.qcow2\","
     "\"nics\":[\"bridge:br0\",\"vhostuser:/run/vmmgr/vhu-vm1-1.sock\",\"network:mgmt\"]}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 1048576, UUID},
    /* domain types */
    {"type-kvm", HOST_1X8X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":256}",
     VM_DOMXML_KVM, PIN_NUMA_SINGLE, 0, UUID},
    {"type-qemu", HOST_1X8X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":256}",
     VM_DOMXML_QEMU, PIN_NUMA_SINGLE, 0, UUID},
    {"type-test", HOST_1X8X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":256}",
     VM_DOMXML_TEST, PIN_NUMA_SINGLE, 0, UUID},
    /* no UUID given: no <uuid> (libvirt picks one) */
    {"no-uuid", HOST_1X8X2, "0-1", "{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":256}",
     VM_DOMXML_QEMU, PIN_NUMA_SINGLE, 0, NULL},
};

/*
 * Compares @xml with the golden file @rel (under the source tree), after
 * rewriting it when VMMGR_REGEN_GOLDEN=1.
 */
static void golden_compare(const char *rel, const char *xml)
{
    const char *src = getenv("VMMGR_SOURCE_DIR"), *regen = getenv("VMMGR_REGEN_GOLDEN");
    char path[1024], *want = NULL;
    size_t size = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
    if (regen && strcmp(regen, "1") == 0) {
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(xml, f);
        fclose(f);
        printf("regenerated %s\n", path);
    }
    f = fopen(path, "r");
    if (!f || getdelim(&want, &size, '\0', f) < 0)
        fail_msg("no golden file %s (run with VMMGR_REGEN_GOLDEN=1)", path);
    fclose(f);
    if (strcmp(want, xml) != 0)
        fail_msg("XML differs from %s\n--- got:\n%s--- want:\n%s", path, xml, want);
    free(want);
}

/* A host with its allocator, and a plan for @req on it. */
struct host {
    struct pin_topo *topo;
    struct pin_alloc *alloc;
    struct pin_plan *plan;
};

static void host_plan(struct host *h, const unsigned topo[4], const char *reserved,
                      const struct pin_request *req)
{
    struct pin_pools pools;
    struct nfv_err err = {0};

    assert_int_equal(
        pin_topo_new_synthetic(topo[0], topo[1], topo[2], topo[3], 4096, &h->topo, &err), NFV_OK);
    if (pin_pools_parse(h->topo, reserved, NULL, NULL, &pools, &err) != NFV_OK ||
        pin_alloc_new(h->topo, &pools, &h->alloc, &err) != NFV_OK)
        fail_msg("pools: %s", err.msg);
    h->plan = pin_plan_new(req->n_vcpus);
    assert_non_null(h->plan);
    if (pin_plan_compute(h->alloc, req, h->plan, &err) != NFV_OK)
        fail_msg("plan: %s", err.msg);
}

static void host_free(struct host *h)
{
    pin_plan_free(h->plan);
    pin_alloc_free(h->alloc);
    pin_topo_unref(h->topo);
}

/* Parses @xml; fails the test if it is not well-formed. */
static xmlDocPtr parse_xml(const char *xml)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        fail_msg("not well-formed XML:\n%s", xml);
    return doc;
}

/* The string value of XPath @expr in @doc (owned), or NULL. */
static char *xpath_string(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr obj;
    char *s = NULL;

    assert_non_null(ctx);
    xmlXPathRegisterNs(ctx, BAD_CAST "vmmgr", BAD_CAST "urn:vmmgr:vm:1");
    obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    if (obj && obj->type == XPATH_NUMBER) {
        char num[32];
        snprintf(num, sizeof(num), "%g", obj->floatval);
        s = strdup(num);
    } else if (obj && obj->type == XPATH_NODESET && obj->nodesetval &&
               obj->nodesetval->nodeNr > 0) {
        xmlChar *v = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
        s = v ? strdup((const char *)v) : NULL;
        xmlFree(v);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    return s;
}

static void assert_xpath(xmlDocPtr doc, const char *expr, const char *want)
{
    char *got = xpath_string(doc, expr);

    if (!want) {
        if (got)
            fail_msg("%s: expected nothing, got '%s'", expr, got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", expr, got ? got : "(nothing)", want);
    free(got);
}

static void run_case(const struct golden_case *c)
{
    json_t *body = json_loads(c->body, 0, NULL);
    struct vm_spec spec;
    struct host h = {0};
    struct nfv_err err = {0};
    char path[1024], *xml = NULL;
    xmlDocPtr doc;

    assert_non_null(body);
    if (vm_spec_parse(body, vm_spec_vm_fields, &spec, &err) != NFV_OK)
        fail_msg("%s: body refused: %s", c->name, err.msg);
    spec.req->numa = c->numa;
    spec.req->hugepage_kib = c->hugepage_kib;
    host_plan(&h, c->topo, c->reserved, spec.req);
    for (size_t i = 0; i < spec.n_nics; i++)
        if (spec.nics[i].kind == VM_NIC_NET)
            spec.nics[i].vlan = 100 + (unsigned)i;

    struct vm_domxml_in in = {
        .type = c->type,
        .name = spec.name,
        .uuid = c->uuid,
        .role = spec.role,
        .group = spec.group,
        .memory_mib = spec.memory_mib,
        .topo = h.topo,
        .plan = h.plan,
        .disk = spec.disk,
        .nics = spec.nics,
        .n_nics = spec.n_nics,
        .nic_bridge = "br-int",
    };
    if (vm_domxml_build(&in, &xml, &err) != NFV_OK)
        fail_msg("%s: build: %s", c->name, err.msg);

    snprintf(path, sizeof(path), "tests/data/vmmgr/domxml/%s.xml", c->name);
    golden_compare(path, xml);

    /* What every case must say, whatever the golden file holds. */
    doc = parse_xml(xml);
    assert_xpath(doc, "/domain/@type", vm_domxml_type_to_string(c->type));
    assert_xpath(doc, "/domain/name", "vm1");
    assert_xpath(doc, "/domain/uuid", c->uuid);
    assert_xpath(doc, "/domain/metadata/vmmgr:vm/@role", vm_role_to_string(spec.role));
    assert_xpath(doc, "/domain/metadata/vmmgr:vm/@group", spec.group ? spec.group : "");
    assert_xpath(doc, "count(/domain/memoryBacking)",
                 c->hugepage_kib || strstr(c->body, "vhostuser") ? "1" : "0");
    assert_xpath(doc, "/domain/devices/console/@type", c->type == VM_DOMXML_TEST ? NULL : "pty");
    if (strstr(c->body, "{\"network\"")) {
        /* The first NIC is network n100: an OVS access port of VLAN 100. */
        assert_xpath(doc, "/domain/devices/interface[1]/@type", "bridge");
        assert_xpath(doc, "/domain/devices/interface[1]/source/@bridge", "br-int");
        assert_xpath(doc, "/domain/devices/interface[1]/virtualport/@type", "openvswitch");
        assert_xpath(doc, "/domain/devices/interface[1]/vlan/tag/@id", "100");
        assert_xpath(doc, "/domain/devices/interface[1]/model/@type", "virtio");
    }
    xmlFreeDoc(doc);

    free(xml);
    host_free(&h);
    vm_spec_clear(&spec);
    json_decref(body);
}

static void test_golden(void **state)
{
    run_case(*state);
}

/* A plain plan for the tests below: 2 exclusive vCPUs on a small host. */
static void small_host(struct host *h)
{
    struct pin_request *req = NULL;
    unsigned topo[4] = {1, 1, 4, 1};

    assert_int_equal(pin_request_new(2, PIN_MODE_EXCLUSIVE, &req, NULL), NFV_OK);
    host_plan(h, topo, "0", req);
    pin_request_free(req);
}

/* Values the parser would refuse reach the builder only from code, but they
 * must still come out as data, never as markup. */
static void test_escaping(void **state)
{
    static const char *const group = "g<x>&\"'y";
    static const char *const disk = "/img/a'b\"c<d>&e.qcow2";
    static const char *const bridge = "br'><interface type=\"x\"";
    struct vm_nic nics[] = {{VM_NIC_BRIDGE, bridge}, {VM_NIC_VHOSTUSER, "/run/&sock"}};
    struct host h = {0};
    char *xml = NULL;
    struct nfv_err err = {0};
    xmlDocPtr doc;

    (void)state;
    small_host(&h);
    struct vm_domxml_in in = {.type = VM_DOMXML_QEMU,
                              .name = "vm<&>1",
                              .uuid = UUID,
                              .role = VM_ROLE_ACT,
                              .group = group,
                              .memory_mib = 128,
                              .topo = h.topo,
                              .plan = h.plan,
                              .disk = disk,
                              .nics = nics,
                              .n_nics = 2};
    if (vm_domxml_build(&in, &xml, &err) != NFV_OK)
        fail_msg("build: %s", err.msg);
    doc = parse_xml(xml);
    assert_xpath(doc, "/domain/name", "vm<&>1");
    assert_xpath(doc, "/domain/metadata/vmmgr:vm/@group", group);
    assert_xpath(doc, "/domain/devices/disk/source/@file", disk);
    assert_xpath(doc, "/domain/devices/disk/driver/@type", "qcow2");
    assert_xpath(doc, "/domain/devices/interface[1]/source/@bridge", bridge);
    assert_xpath(doc, "/domain/devices/interface[2]/source/@path", "/run/&sock");
    assert_xpath(doc, "count(/domain/devices/interface)", "2");
    assert_xpath(doc, "count(//*[@type='x'])", "0");
    xmlFreeDoc(doc);
    /* and the exact text, so a change of escaping shows in review */
    golden_compare("tests/data/vmmgr/escaping.xml", xml);
    free(xml);
    host_free(&h);
}

static void expect_refused(const struct vm_domxml_in *in, const char *msg)
{
    struct nfv_err err = {0};
    char *xml = (char *)"untouched";

    assert_int_equal(vm_domxml_build(in, &xml, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, msg);
    assert_string_equal(xml, "untouched");
}

/* Input the builder refuses, each with the field named. */
static void test_refused(void **state)
{
    struct host h = {0};
    struct vm_nic bad_nic = {VM_NIC__COUNT, "br0", 0}, empty_nic = {VM_NIC_BRIDGE, "", 0},
                  ctl_nic = {VM_NIC_NETWORK, "net\n0", 0}, net_nic = {VM_NIC_NET, "n1", 0},
                  net_ok = {VM_NIC_NET, "n1", 4094};
    struct vm_domxml_in ok, in;

    (void)state;
    small_host(&h);
    ok = (struct vm_domxml_in){.type = VM_DOMXML_QEMU,
                               .name = "vm1",
                               .uuid = UUID,
                               .memory_mib = 128,
                               .topo = h.topo,
                               .plan = h.plan};

    in = ok, in.type = VM_DOMXML__COUNT;
    expect_refused(&in, "'type': 3 is not kvm, qemu or test");
    in = ok, in.name = "";
    expect_refused(&in, "'name': is required");
    in = ok, in.name = NULL;
    expect_refused(&in, "'name': is required");
    in = ok, in.uuid = "6f1f3c9e-2b1d-4c55-9a43-0d2b7e8a1c0";
    expect_refused(&in, "'uuid': '6f1f3c9e-2b1d-4c55-9a43-0d2b7e8a1c0' is not a UUID");
    in = ok, in.uuid = "6f1f3c9e+2b1d-4c55-9a43-0d2b7e8a1c01";
    expect_refused(&in, "'uuid': '6f1f3c9e+2b1d-4c55-9a43-0d2b7e8a1c01' is not a UUID");
    in = ok, in.uuid = "6f1f3c9e-2b1d-4c55-9a43-0d2b7e8a1cg1";
    expect_refused(&in, "'uuid': '6f1f3c9e-2b1d-4c55-9a43-0d2b7e8a1cg1' is not a UUID");
    in = ok, in.memory_mib = 0;
    expect_refused(&in, "'memory_mib': must be above 0");
    in = ok, in.plan = NULL;
    expect_refused(&in, "'plan': a pin plan and its topology are required");
    in = ok, in.role = VM_ROLE__COUNT;
    expect_refused(&in, "'role': 3 is not a role");
    in = ok, in.disk = "/img/\x01.img";
    expect_refused(&in, "'disk': has a control character or is not UTF-8 (cannot be written in "
                        "XML)");
    in = ok, in.disk = "/img/\xff.img";
    expect_refused(&in, "'disk': has a control character or is not UTF-8 (cannot be written in "
                        "XML)");
    in = ok, in.disk = "";
    expect_refused(&in, "'disk': must not be empty");
    in = ok, in.group = "g\x1b";
    expect_refused(&in, "'group': has a control character or is not UTF-8 (cannot be written in "
                        "XML)");
    in = ok, in.nics = NULL, in.n_nics = 2;
    expect_refused(&in, "'nics': 2 NICs but no list");
    in = ok, in.nics = &bad_nic, in.n_nics = 1;
    expect_refused(&in, "'nics[0]': needs a kind and a name or path");
    in = ok, in.nics = &empty_nic, in.n_nics = 1;
    expect_refused(&in, "'nics[0]': needs a kind and a name or path");
    in = ok, in.nics = &ctl_nic, in.n_nics = 1;
    expect_refused(&in, "'nics[0]': has a control character or is not UTF-8 (cannot be written "
                        "in XML)");
    /* vmmgr networks: a resolved VLAN and the host's bridge are needed */
    in = ok, in.nics = &net_nic, in.n_nics = 1, in.nic_bridge = "br-int";
    expect_refused(&in, "'nics[0].vlan': 0 is not a VLAN id (1..4094)");
    net_nic.vlan = 4095;
    expect_refused(&in, "'nics[0].vlan': 4095 is not a VLAN id (1..4094)");
    in = ok, in.nics = &net_ok, in.n_nics = 1;
    expect_refused(&in, "'bridge': network NICs need the host's bridge");
    in.nic_bridge = "br\x01";
    expect_refused(&in, "'bridge': has a control character or is not UTF-8 (cannot be written in "
                        "XML)");
    /* UTF-8 that is XML is fine */
    in = ok, in.disk = "/img/caf\xc3\xa9.img";
    {
        char *xml = NULL;
        xmlDocPtr doc;
        assert_int_equal(vm_domxml_build(&in, &xml, NULL), NFV_OK);
        doc = parse_xml(xml);
        assert_xpath(doc, "/domain/devices/disk/source/@file", "/img/caf\xc3\xa9.img");
        xmlFreeDoc(doc);
        free(xml);
    }
    host_free(&h);
}

static void test_names(void **state)
{
    (void)state;
    for (int t = 0; t < VM_DOMXML__COUNT; t++)
        assert_int_equal(vm_domxml_type_from_string(vm_domxml_type_to_string(t)), t);
    assert_int_equal(vm_domxml_type_from_string("xen"), VM_DOMXML__COUNT);
    assert_int_equal(vm_domxml_type_from_string(NULL), VM_DOMXML__COUNT);
    assert_string_equal(vm_domxml_type_to_string(VM_DOMXML__COUNT), "?");
    assert_true(vm_domxml_uuid_is_valid(UUID));
    assert_true(vm_domxml_uuid_is_valid("6F1F3C9E-2B1D-4C55-9A43-0D2B7E8A1C01"));
    assert_false(vm_domxml_uuid_is_valid(NULL));
    assert_false(vm_domxml_uuid_is_valid(""));
    assert_false(vm_domxml_uuid_is_valid("6f1f3c9e2b1d4c559a430d2b7e8a1c01"));
    assert_false(vm_domxml_uuid_is_valid(UUID "0"));
}

int main(void)
{
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 3];
    size_t n = 0;

    vm_domxml_global_init(); /* as vmmgrd's main does */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_golden, (void *)&cases[i]);
        tests[n].name = cases[i].name;
        n++;
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_escaping);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_refused);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_names);
    return _cmocka_run_group_tests("vm_domxml", tests, n, NULL, NULL);
}
