/*
 * vm_build.c - the domain type of a host and the call into the pure domain
 * XML builder (see vm_build.h). Calls nothing else of the service.
 */
#include <string.h>
#include <unistd.h>

#include "vm_build.h"

enum vm_domxml_type vm_build_domain_type(const struct host_rt *h)
{
    if (vm_uri_is_test(h->uri))
        return VM_DOMXML_TEST;
    /* Asked of the host's own libvirt when it connected: a host without
     * KVM (no /dev/kvm, or hidden from its libvirtd) runs QEMU's TCG. */
    return h->is_kvm ? VM_DOMXML_KVM : VM_DOMXML_QEMU;
}

enum nfv_code vm_build_domain_xml(const struct host_rt *h, const char *name, const char *uuid,
                                  const struct vm_spec *s, enum vm_role role, const char *group,
                                  const struct pin_plan *plan, char **ret, struct nfv_err *err)
{
    struct vm_domxml_in in = {
        .type = vm_build_domain_type(h),
        .name = name,
        .uuid = uuid && uuid[0] ? uuid : NULL,
        .role = role,
        .group = group,
        .memory_mib = s->memory_mib,
        .topo = h->topo,
        .plan = plan,
        .disk = s->disk,
        .nics = s->nics,
        .n_nics = s->n_nics,
        .nic_bridge = h->ovs_bridge, /* vm_net (issue 15) */
    };

    return vm_domxml_build(&in, ret, err);
}
