/*
 * vm_build.h - the service side of the domain XML: chooses the domain type
 * for a host (test for simulated hosts; kvm when the host's libvirt said at
 * connect that it runs KVM guests, else qemu, i.e. TCG) and hands everything
 * to the pure builder (vm_domxml.h). The create body is parsed by vm_spec.h.
 * Called by vm_create and vm_recover.
 */
#ifndef VM_BUILD_H
#define VM_BUILD_H

#include "vm_daemon_priv.h"
#include "vm/vm_domxml.h"
#include "vm/vm_spec.h"

/* The domain type for @h. */
enum vm_domxml_type vm_build_domain_type(const struct host_rt *h);

/* The domain XML of VM @name with UUID @uuid on @h (malloc'ed in *ret). */
enum nfv_code vm_build_domain_xml(const struct host_rt *h, const char *name, const char *uuid,
                                  const struct vm_spec *s, enum vm_role role, const char *group,
                                  const struct pin_plan *plan, char **ret, struct nfv_err *err);

#endif /* VM_BUILD_H */
