/*
 * test_vm_migrate.c - issue 16's pure helpers: the destination XML of a
 * live migration (new <cputune>/<numatune>, everything else kept) and the
 * recovery decision of a migration cut short, for every combination of
 * what the two hosts show. No daemon, no libvirt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vm/vm_migrate.h"

static const char *const src_xml = "<domain type='qemu'>\n"
                                   "  <name>v</name>\n"
                                   "  <uuid>4b1f7c1e-1111-4222-8333-944455556666</uuid>\n"
                                   "  <vcpu placement='static'>2</vcpu>\n"
                                   "  <cputune>\n"
                                   "    <vcpupin vcpu='0' cpuset='2'/>\n"
                                   "    <vcpupin vcpu='1' cpuset='3'/>\n"
                                   "    <emulatorpin cpuset='0'/>\n"
                                   "  </cputune>\n"
                                   "  <numatune>\n"
                                   "    <memory mode='strict' nodeset='0'/>\n"
                                   "  </numatune>\n"
                                   "  <devices><console type='pty'/></devices>\n"
                                   "</domain>\n";

static void test_splice_replaces_pins(void **state)
{
    const char *frag = "  <cputune>\n    <vcpupin vcpu='0' cpuset='5'/>\n  </cputune>\n";
    char *out = NULL;
    struct nfv_err err = {0};

    (void)state;
    assert_int_equal(vm_migxml_splice(src_xml, frag, &out, &err), NFV_OK);
    assert_non_null(strstr(out, "cpuset='5'"));
    assert_null(strstr(out, "cpuset='2'"));
    assert_null(strstr(out, "<numatune>"));
    assert_null(strstr(out, "emulatorpin"));
    /* The UUID and devices stay: libvirt's ABI check and the same guest. */
    assert_non_null(strstr(out, "<uuid>4b1f7c1e-1111-4222-8333-944455556666</uuid>"));
    assert_non_null(strstr(out, "<console type='pty'/>"));
    /* The fragment sits inside the domain, once. */
    assert_true(strstr(out, "cpuset='5'") < strstr(out, "</domain>"));
    assert_ptr_equal(strstr(out, frag), strstr(out, "</domain>") - strlen(frag));
    free(out);
}

static void test_splice_self_closing_and_errors(void **state)
{
    char *out = NULL;
    struct nfv_err err = {0};

    (void)state;
    assert_int_equal(
        vm_migxml_splice("<domain><cputune/><cputuneX/></domain>", "<cputune/>", &out, &err),
        NFV_OK);
    /* <cputuneX/> is another element: kept. */
    assert_string_equal(out, "<domain><cputuneX/><cputune/></domain>");
    free(out);
    assert_int_equal(vm_migxml_splice("<domain><cputune><vcpupin/></domain>", "", &out, &err),
                     NFV_E_INVAL);
    assert_int_equal(vm_migxml_splice("<domain>", "", &out, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "</domain>"));
}

static enum vm_recovery decide(bool sr, bool sd, bool srun, bool sp, bool dr, bool dd, bool drun)
{
    struct vm_mig_observed o = {.is_src_reachable = sr,
                                .is_src_defined = sd,
                                .is_src_running = srun,
                                .is_src_paused = sp,
                                .is_dst_reachable = dr,
                                .is_dst_defined = dd,
                                .is_dst_running = drun};
    return vm_migrate_decide(&o);
}

static void test_decide(void **state)
{
    (void)state;
    /* Killed before libvirt moved anything: the guest runs at the source. */
    assert_int_equal(decide(1, 1, 1, 0, 1, 0, 0), VM_RECOVER_ROLLBACK);
    /* ... and the destination holds a paused incoming copy: still rollback. */
    assert_int_equal(decide(1, 1, 1, 0, 1, 1, 0), VM_RECOVER_ROLLBACK);
    /* The destination died: the source still runs it. */
    assert_int_equal(decide(1, 1, 1, 0, 0, 0, 0), VM_RECOVER_ROLLBACK);
    /* Moved (live: the source undefined it). */
    assert_int_equal(decide(1, 0, 0, 0, 1, 1, 1), VM_RECOVER_FINISH);
    /* Moved (cold, killed before the source was undefined). */
    assert_int_equal(decide(1, 1, 0, 0, 1, 1, 1), VM_RECOVER_FINISH);
    /* A stopped VM's cold move: defined only at the destination. */
    assert_int_equal(decide(1, 0, 0, 0, 1, 1, 0), VM_RECOVER_FINISH);
    /* ... defined at both (killed before the undefine): back to the source. */
    assert_int_equal(decide(1, 1, 0, 0, 1, 1, 0), VM_RECOVER_ROLLBACK);
    /* Cold, stopped at the source, nothing at the destination yet. */
    assert_int_equal(decide(1, 1, 0, 0, 1, 0, 0), VM_RECOVER_ROLLBACK);
    /* libvirt still settling at the switch-over. */
    assert_int_equal(decide(1, 1, 0, 1, 1, 1, 0), VM_RECOVER_DEFER);
    /* A host that cannot be asked and no running guest at the source. */
    assert_int_equal(decide(0, 0, 0, 0, 1, 1, 1), VM_RECOVER_DEFER);
    assert_int_equal(decide(1, 1, 0, 0, 0, 0, 0), VM_RECOVER_DEFER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splice_replaces_pins),
        cmocka_unit_test(test_splice_self_closing_and_errors),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
