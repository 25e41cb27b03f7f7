/*
 * vt_domain_type_main.c - vt-domain-type: prints vt_domain_type() ("kvm" or
 * "qemu") for the shell and Python tests, so that every test that writes a
 * domain XML of its own chooses KVM or TCG by the one rule in vt_libvirt.c.
 */
#include <stdio.h>

#include "vt_libvirt.h"

int main(void)
{
    puts(vt_domain_type());
    return 0;
}
