/*
 * test_pin_system.c - pin plans on this machine's real libvirtd/KVM.
 *
 * The planner runs on the live topology (hwloc) with CPUs 0-1 dedicated:
 *   VM "shared":    2 vCPUs in one shared group  -> both on CPU 0
 *                   (defined with the rendered <cputune>/<numatune>/<cpu> XML);
 *   VM "exclusive": 1 exclusive vCPU             -> CPU 1
 *                   (defined without pins, then pinned in its persistent
 *                   config through pin_libvirt_apply before it starts).
 * Both guests run; each vCPU thread's Cpus_allowed_list in /proc and
 * libvirt's own read-back (live and config) must match the plans, with no
 * drift. Then: a live re-pin of the exclusive VM to a new plan (config keeps
 * the old one, which the drift check must show), and an outside
 * `virsh vcpupin` on the shared VM that pin_libvirt_check must report as
 * drift and a re-apply must repair. Teardown removes both domains even after
 * a failed assertion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "pin/pin.h"
#include "pin/pin_hwloc.h"
#include "pin/pin_libvirt.h"
#include "vt_libvirt.h"
#include "vt_proc.h"

struct fx {
    virConnectPtr conn;
    struct pin_topo *t;
    struct pin_alloc *a;
    struct pin_plan *plan_sh, *plan_ex;
    virDomainPtr dom_sh, dom_ex;
    char name_sh[128], name_ex[128];
};

static virConnectPtr g_conn;

static struct pin_plan *plan_for(struct fx *f, unsigned n_vcpus, enum pin_cpu_mode mode,
                                 enum pin_emulator_policy emu, const char *owner)
{
    struct pin_request *r = NULL;
    struct pin_plan *p = pin_plan_new(n_vcpus);
    struct nfv_err err = {0};

    assert_int_equal(pin_request_new(n_vcpus, mode, &r, &err), NFV_OK);
    r->emulator = emu;
    if (pin_plan_compute(f->a, r, p, &err) != NFV_OK)
        fail_msg("plan %s: %s", owner, err.msg);
    assert_int_equal(pin_alloc_claim(f->a, p, owner, &err), NFV_OK);
    pin_request_free(r);
    return p;
}

static virDomainPtr define(struct fx *f, const char *name, unsigned n_vcpus, const char *tune)
{
    char xml[8192];
    virDomainPtr dom;

    assert_true(vt_domain_xml(xml, sizeof(xml), name, n_vcpus, tune));
    dom = virDomainDefineXML(f->conn, xml);
    if (!dom)
        fail_msg("define %s: %s", name, virGetLastErrorMessage());
    return dom;
}

static int setup(void **state)
{
    static struct fx f;
    struct pin_pools pools;
    struct nfv_err err = {0};

    memset(&f, 0, sizeof(f));
    f.conn = g_conn;
    *state = &f;
    if (pin_hwloc_load_live(&f.t, &err) != NFV_OK) {
        fprintf(stderr, "live topology: %s\n", err.msg);
        return -1;
    }
    if (pin_pools_parse(f.t, NULL, "0-1", NULL, &pools, &err) != NFV_OK ||
        pin_alloc_new(f.t, &pools, &f.a, &err) != NFV_OK) {
        fprintf(stderr, "pools: %s\n", err.msg);
        return -1;
    }
    vt_domain_name(f.name_sh, sizeof(f.name_sh), "pin-shared");
    vt_domain_name(f.name_ex, sizeof(f.name_ex), "pin-excl");
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    vt_domain_cleanup(f->dom_sh);
    vt_domain_cleanup(f->dom_ex);
    f->dom_sh = f->dom_ex = NULL;
    pin_plan_free(f->plan_sh);
    pin_plan_free(f->plan_ex);
    pin_alloc_free(f->a);
    pin_topo_unref(f->t);
    return 0;
}

static void assert_thread_on(pid_t pid, pid_t tid, const char *what, const char *want)
{
    char got[64] = "";

    if (vt_proc_affinity(pid, tid, got, sizeof(got)) != 0)
        fail_msg("%s: cannot read /proc/%d/task/%d/status", what, (int)pid, (int)tid);
    if (strcmp(got, want) != 0)
        fail_msg("%s: Cpus_allowed_list is '%s', want '%s'", what, got, want);
}

static void assert_vcpu_on(pid_t pid, unsigned vcpu, const char *want)
{
    char what[32];
    pid_t tid = vt_proc_vcpu_tid(pid, vcpu);

    snprintf(what, sizeof(what), "vcpu %u", vcpu);
    assert_true(tid > 0);
    assert_thread_on(pid, tid, what, want);
}

/* pin_libvirt_check must find exactly @want_n differences. */
static void assert_drift(virDomainPtr dom, const struct pin_plan *plan, unsigned flags,
                         unsigned want_n, const char *want_text)
{
    struct pin_drift_item items[8];
    struct nfv_err err = {0};
    unsigned n = 99;
    char text[512];

    if (pin_libvirt_check(dom, plan, flags, items, 8, &n, &err) != NFV_OK)
        fail_msg("check: %s", err.msg);
    pin_drift_format(items, n < 8 ? n : 8, text, sizeof(text));
    if (n != want_n)
        fail_msg("drift: %u differences (%s), want %u", n, text, want_n);
    if (want_text && strcmp(text, want_text) != 0)
        fail_msg("drift: '%s', want '%s'", text, want_text);
}

static void test_two_vms_repin_and_drift(void **state)
{
    struct fx *f = *state;
    struct nfv_err err = {0};
    char *tune = NULL, cmd[512];
    pid_t pid_sh, pid_ex;
    struct pin_plan *plan_ex2;

    /* plans: shared group first takes CPU 0, the exclusive vCPU gets CPU 1 */
    f->plan_sh = plan_for(f, 2, PIN_MODE_SHARED, PIN_EMU_SHARED, "shared");
    f->plan_ex = plan_for(f, 1, PIN_MODE_EXCLUSIVE, PIN_EMU_VCPUS, "exclusive");
    assert_int_equal(f->plan_sh->vcpu_pu[0], 0);
    assert_int_equal(f->plan_sh->vcpu_pu[1], 0);
    assert_int_equal(f->plan_ex->vcpu_pu[0], 1);

    /* shared VM: defined with the rendered XML */
    assert_int_equal(pin_libvirt_render(f->t, f->plan_sh,
                                        PIN_LV_CPUTUNE | PIN_LV_NUMATUNE | PIN_LV_CPU, &tune, &err),
                     NFV_OK);
    f->dom_sh = define(f, f->name_sh, 2, tune);
    free(tune);
    /* exclusive VM: defined bare, pinned through the API in its config */
    f->dom_ex = define(f, f->name_ex, 1, NULL);
    if (pin_libvirt_apply(f->dom_ex, f->plan_ex, VIR_DOMAIN_AFFECT_CONFIG, &err) != NFV_OK)
        fail_msg("apply config: %s", err.msg);
    assert_drift(f->dom_ex, f->plan_ex, VIR_DOMAIN_AFFECT_CONFIG, 0, "");

    if (virDomainCreate(f->dom_sh) < 0 || virDomainCreate(f->dom_ex) < 0)
        fail_msg("start: %s", virGetLastErrorMessage());
    pid_sh = vt_proc_qemu_pid(f->name_sh);
    pid_ex = vt_proc_qemu_pid(f->name_ex);
    assert_true(pid_sh > 0 && pid_ex > 0);

    /* the kernel's view */
    assert_vcpu_on(pid_sh, 0, "0");
    assert_vcpu_on(pid_sh, 1, "0");
    assert_vcpu_on(pid_ex, 0, "1");
    assert_thread_on(pid_sh, pid_sh, "shared emulator", "0");
    assert_thread_on(pid_ex, pid_ex, "exclusive emulator", "1");
    /* libvirt's view, live and config */
    assert_drift(f->dom_sh, f->plan_sh, VIR_DOMAIN_AFFECT_LIVE, 0, "");
    assert_drift(f->dom_sh, f->plan_sh, VIR_DOMAIN_AFFECT_CONFIG, 0, "");
    assert_drift(f->dom_ex, f->plan_ex, VIR_DOMAIN_AFFECT_LIVE, 0, "");

    /* live re-pin: the shared VM leaves CPU 0 (released), the exclusive VM
     * is re-planned and moved there while running */
    assert_int_equal(pin_alloc_release(f->a, "shared", &err), NFV_OK);
    assert_int_equal(pin_alloc_release(f->a, "exclusive", &err), NFV_OK);
    {
        struct pin_request *r = NULL;
        assert_int_equal(pin_request_new(1, PIN_MODE_NUMBERED, &r, &err), NFV_OK);
        assert_int_equal(pin_request_set_cpu_map(r, "0:0", f->t->max_pu, &err), NFV_OK);
        r->emulator = PIN_EMU_VCPUS;
        plan_ex2 = pin_plan_new(1);
        if (pin_plan_compute(f->a, r, plan_ex2, &err) != NFV_OK)
            fail_msg("re-plan: %s", err.msg);
        pin_request_free(r);
    }
    if (pin_libvirt_apply(f->dom_ex, plan_ex2, VIR_DOMAIN_AFFECT_LIVE, &err) != NFV_OK)
        fail_msg("apply live: %s", err.msg);
    assert_vcpu_on(pid_ex, 0, "0");
    assert_thread_on(pid_ex, pid_ex, "exclusive emulator after re-pin", "0");
    assert_drift(f->dom_ex, plan_ex2, VIR_DOMAIN_AFFECT_LIVE, 0, "");
    /* the persistent config still holds the old plan: that is drift */
    assert_drift(f->dom_ex, plan_ex2, VIR_DOMAIN_AFFECT_CONFIG, 2,
                 "vcpu 0: want 0, have 1; emulator: want 0, have 1");
    pin_plan_free(plan_ex2);

    /* an outside `virsh vcpupin` moves shared vCPU 1 to CPU 1 */
    snprintf(cmd, sizeof(cmd), "virsh -q -c qemu:///system vcpupin %s 1 1 --live >/dev/null",
             f->name_sh);
    assert_int_equal(system(cmd), 0);
    assert_vcpu_on(pid_sh, 1, "1");
    assert_drift(f->dom_sh, f->plan_sh, VIR_DOMAIN_AFFECT_LIVE, 1, "vcpu 1: want 0, have 1");
    assert_drift(f->dom_sh, f->plan_sh, VIR_DOMAIN_AFFECT_CONFIG, 0, "");
    /* re-applying the plan repairs it */
    if (pin_libvirt_apply(f->dom_sh, f->plan_sh, VIR_DOMAIN_AFFECT_LIVE, &err) != NFV_OK)
        fail_msg("re-apply: %s", err.msg);
    assert_vcpu_on(pid_sh, 1, "0");
    assert_drift(f->dom_sh, f->plan_sh, VIR_DOMAIN_AFFECT_LIVE, 0, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_vms_repin_and_drift, setup, teardown),
    };
    int rc;

    g_conn = vt_libvirt_open_for_pins(2);
    if (!g_conn)
        return VT_SKIP;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    virConnectClose(g_conn);
    return rc;
}
