/*
 * vt_libvirt.c - libvirt helpers for tests (see vt_libvirt.h).
 */
#include "vt_libvirt.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void vt_quiet_error(void *opaque, virErrorPtr error)
{
    (void)opaque;
    (void)error; /* tests report libvirt errors themselves */
}

virConnectPtr vt_libvirt_open(void)
{
    virConnectPtr conn;
    virErrorPtr e;

    virSetErrorFunc(NULL, vt_quiet_error);
    conn = virConnectOpen("qemu:///system");
    if (conn)
        return conn;
    e = virGetLastError();
    printf("SKIP: libvirtd does not answer on qemu:///system (%s); the libvirtd fixture "
           "could not start it on this machine\n",
           e && e->message ? e->message : "no error message");
    return NULL;
}

virConnectPtr vt_libvirt_open_for_pins(unsigned n_cpus)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);

    if (online < (long)n_cpus) {
        printf("SKIP: this test pins to CPUs 0..%u; the machine has %ld CPU(s)\n", n_cpus - 1,
               online);
        return NULL;
    }
    return vt_libvirt_open();
}

const char *vt_domain_type(void)
{
    static const char *type; /* one answer per test process */
    virConnectPtr conn;
    char *caps;

    if (type)
        return type;
    /* Ask libvirtd itself: /dev/kvm may exist here and still be hidden from
     * libvirtd (another mount namespace) or refused to its qemu. Without an
     * answering libvirtd, fall back to this process's own view of /dev/kvm. */
    virSetErrorFunc(NULL, vt_quiet_error);
    conn = virConnectOpen("qemu:///system");
    if (conn) {
        caps = virConnectGetDomainCapabilities(conn, NULL, NULL, NULL, "kvm", 0);
        type = caps ? "kvm" : "qemu";
        free(caps);
        virConnectClose(conn);
    } else {
        type = access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "qemu";
    }
    return type;
}

void vt_domain_name(char *buf, size_t buf_size, const char *tag)
{
    snprintf(buf, buf_size, "vmmgr-test-%s-%ld", tag, (long)getpid());
}

bool vt_domain_xml(char *buf, size_t buf_size, const char *name, unsigned n_vcpus,
                   const char *cputune_xml)
{
    int n = snprintf(buf, buf_size,
                     "<domain type='%s'>\n"
                     "  <name>%s</name>\n"
                     "  <memory unit='MiB'>64</memory>\n"
                     "  <vcpu placement='static'>%u</vcpu>\n"
                     "%s"
                     "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                     "  <on_poweroff>destroy</on_poweroff>\n"
                     "  <devices>\n"
                     "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
                     "    <memballoon model='none'/>\n"
                     "  </devices>\n"
                     "</domain>\n",
                     vt_domain_type(), name, n_vcpus, cputune_xml ? cputune_xml : "");
    return n > 0 && (size_t)n < buf_size;
}

void vt_domain_cleanup(virDomainPtr dom)
{
    int active;

    if (!dom)
        return;
    active = virDomainIsActive(dom);
    if (active == 1)
        virDomainDestroy(dom);
    virDomainUndefine(dom);
    virDomainFree(dom);
}
