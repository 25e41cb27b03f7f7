/*
 * vt_libvirt.h - test helpers for suites that need a running libvirtd.
 *
 * The ctest fixture "libvirtd" (libvirtd-fixture.sh) starts libvirtd through
 * scripts/lib/daemons.sh before these tests run. A test calls
 * vt_libvirt_open() first; when libvirtd truly cannot run here it prints why
 * and the test exits 77 (skipped). Test domains are named "vmmgr-test-..." so
 * the fixture's cleanup can find and report any a test leaked.
 */
#ifndef VT_LIBVIRT_H
#define VT_LIBVIRT_H

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>

#define VT_SKIP 77

/* Opens qemu:///system, or prints the reason to stdout and returns NULL. */
virConnectPtr vt_libvirt_open(void);

/* For tests that pin guests to CPUs 0..@n_cpus-1: returns NULL (after
 * printing why) when the machine has fewer CPUs or libvirtd cannot be
 * reached, else vt_libvirt_open(); the caller then exits VT_SKIP. */
virConnectPtr vt_libvirt_open_for_pins(unsigned n_cpus);

/* "kvm" when libvirtd on qemu:///system can run KVM guests (its domain
 * capabilities for virttype kvm), else "qemu" (TCG); /dev/kvm's access bits
 * when libvirtd does not answer. DESIGN.md: tests choose at run time and pass
 * either way. The shell tests ask the same function through the
 * vt-domain-type program (tests/harness/vt_domain_type_main.c). */
const char *vt_domain_type(void);

/* Writes "vmmgr-test-<tag>-<pid>" into @buf. */
void vt_domain_name(char *buf, size_t buf_size, const char *tag);

/*
 * Writes a minimal diskless domain XML (@n_vcpus vCPUs, 64 MiB) into @buf.
 * @cputune_xml (may be NULL or "") is inserted verbatim after <vcpu>.
 * Returns false if @buf is too small.
 */
bool vt_domain_xml(char *buf, size_t buf_size, const char *name, unsigned n_vcpus,
                   const char *cputune_xml);

/* Destroys (if running) and undefines @dom, then frees it. NULL-safe; never
 * fails the test, so it is safe in teardown after an assertion failed. */
void vt_domain_cleanup(virDomainPtr dom);

#endif /* VT_LIBVIRT_H */
