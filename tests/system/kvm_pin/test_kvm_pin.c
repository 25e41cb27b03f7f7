/*
 * test_kvm_pin.c - proves the test harness drives a real hypervisor.
 *
 * Through the libvirt C API: define a 2-vCPU diskless KVM domain whose
 * <cputune> pins vCPU 0 to CPU 0 and vCPU 1 to CPU 1, start it, read each
 * vCPU thread's Cpus_allowed_list from /proc/<qemu pid>/task/<tid>/status,
 * re-pin vCPU 1 live to CPU 0 and check again. The teardown destroys and
 * undefines the domain even when an assertion failed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vt_libvirt.h"
#include "vt_proc.h"

struct kvm_pin_fixture {
    virConnectPtr conn;
    virDomainPtr dom;
    char name[128];
};

static virConnectPtr g_conn; /* opened in main() so a missing libvirtd skips */

static int setup(void **state)
{
    static struct kvm_pin_fixture fx;
    char xml[4096];
    const char *cputune = "  <cputune>\n"
                          "    <vcpupin vcpu='0' cpuset='0'/>\n"
                          "    <vcpupin vcpu='1' cpuset='1'/>\n"
                          "  </cputune>\n";

    memset(&fx, 0, sizeof(fx));
    fx.conn = g_conn;
    vt_domain_name(fx.name, sizeof(fx.name), "kvmpin");
    if (!vt_domain_xml(xml, sizeof(xml), fx.name, 2, cputune))
        return -1;
    fx.dom = virDomainDefineXML(fx.conn, xml);
    if (!fx.dom) {
        fprintf(stderr, "define failed: %s\n", virGetLastErrorMessage());
        return -1;
    }
    *state = &fx;
    if (virDomainCreate(fx.dom) < 0) {
        fprintf(stderr, "start failed: %s\n", virGetLastErrorMessage());
        vt_domain_cleanup(fx.dom);
        fx.dom = NULL;
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct kvm_pin_fixture *fx = *state;

    if (fx) {
        vt_domain_cleanup(fx->dom);
        fx->dom = NULL;
    }
    return 0;
}

static void assert_vcpu_on(pid_t pid, unsigned vcpu, const char *want)
{
    char got[64] = "";

    assert_int_equal(vt_proc_vcpu_affinity(pid, vcpu, got, sizeof(got)), 0);
    if (strcmp(got, want) != 0)
        fail_msg("vCPU %u: Cpus_allowed_list is '%s', want '%s'", vcpu, got, want);
}

static void test_pins_visible_in_proc_and_live_repin(void **state)
{
    struct kvm_pin_fixture *fx = *state;
    unsigned char cpumap[1];
    unsigned char maps[2];
    pid_t pid = vt_proc_qemu_pid(fx->name);

    assert_true(pid > 0);
    assert_true(vt_proc_vcpu_tid(pid, 0) > 0);
    assert_true(vt_proc_vcpu_tid(pid, 1) > 0);
    assert_vcpu_on(pid, 0, "0");
    assert_vcpu_on(pid, 1, "1");

    /* libvirt's own view agrees with the kernel's. */
    assert_int_equal(virDomainGetVcpuPinInfo(fx->dom, 2, maps, 1, VIR_DOMAIN_AFFECT_LIVE), 2);
    assert_int_equal(maps[0], 0x1);
    assert_int_equal(maps[1], 0x2);

    /* Live re-pin of vCPU 1 onto CPU 0. */
    cpumap[0] = 0x1;
    assert_int_equal(virDomainPinVcpuFlags(fx->dom, 1, cpumap, 1, VIR_DOMAIN_AFFECT_LIVE), 0);
    assert_vcpu_on(pid, 0, "0");
    assert_vcpu_on(pid, 1, "0");
    assert_int_equal(virDomainGetVcpuPinInfo(fx->dom, 2, maps, 1, VIR_DOMAIN_AFFECT_LIVE), 2);
    assert_int_equal(maps[1], 0x1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pins_visible_in_proc_and_live_repin, setup, teardown),
    };
    int rc;

    g_conn = vt_libvirt_open_for_pins(2);
    if (!g_conn)
        return VT_SKIP;
    printf("domain type: %s\n", vt_domain_type());
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    virConnectClose(g_conn);
    return rc;
}
