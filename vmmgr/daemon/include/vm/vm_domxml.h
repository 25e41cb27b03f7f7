/*
 * vm_domxml.h - the libvirt domain XML of a vmmgr VM.
 *
 * Pure builder: it takes everything as input (the domain type included: the
 * caller decides kvm, qemu or test; this file never looks at /dev/kvm or at a
 * URI) and writes text with libxml2's xmlTextWriter, so every value is
 * escaped by construction. The <vcpu>/<cputune>/<numatune>/<cpu>/<hugepages>
 * part is pinning's (pin_libvirt_render); it is parsed back and written
 * through the same writer, so a malformed fragment is an error, not a broken
 * document. Golden files: tests/data/vmmgr/domxml/.
 *
 * Neighbours: vm_spec.h (the parsed create body: name, memory, disk, NICs),
 * pin/pin_libvirt.h (the pinning fragments). vmmgrd's create job defines the
 * result on the host.
 */
#ifndef VM_DOMXML_H
#define VM_DOMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/plan.h"
#include "pin/topo.h"
#include "vm/vm_spec.h"
#include "vm/vm_state.h"

/* <domain type='...'>: hardware virtualisation, QEMU's TCG, libvirt's test driver. */
enum vm_domxml_type { VM_DOMXML_KVM, VM_DOMXML_QEMU, VM_DOMXML_TEST, VM_DOMXML__COUNT };

const char *vm_domxml_type_to_string(enum vm_domxml_type t);   /* "?" if out of range */
enum vm_domxml_type vm_domxml_type_from_string(const char *s); /* __COUNT if unknown */

#define VM_UUID_STRING_LEN 36 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */

/* Everything the domain XML says. Nothing is kept after vm_domxml_build(). */
struct vm_domxml_in {
    enum vm_domxml_type type;
    const char *name;    /* required */
    const char *uuid;    /* 36-char UUID string, or NULL (then no <uuid>: libvirt picks one) */
    enum vm_role role;   /* metadata only */
    const char *group;   /* metadata only; NULL is written as group='' */
    uint64_t memory_mib; /* > 0 */
    const struct pin_topo *topo; /* the host's topology the plan was made on */
    const struct pin_plan *plan; /* vCPUs, pins, NUMA, hugepages */
    const char *disk;            /* NULL: no disk; *.qcow2 is qcow2, anything else raw */
    const struct vm_nic *nics;   /* [n_nics] */
    size_t n_nics;
    /* The host's Open vSwitch integration bridge, for VM_NIC_NET NICs (each
     * needs its vlan set, 1..4094); unused (may be NULL) without them. */
    const char *nic_bridge;
};

/*
 * Writes the domain XML for @in into a new string *ret_xml (owned; free()).
 * The document: <domain type> with <name>, <uuid>, <metadata> (the element
 * vmmgr:vm in namespace urn:vmmgr:vm:1 with attributes role and group),
 * <memory unit='MiB'>, pinning's fragments, one <memoryBacking> holding the
 * plan's hugepages and, when a NIC is vhost-user, a shared memfd source (the
 * switch must map guest memory), <os> hvm booting from disk, ACPI, the
 * lifecycle actions, then <devices>: the disk as vda (virtio), one virtio
 * <interface> per NIC (vhost-user: QEMU is the socket server; a vmmgr network
 * NIC is <interface type="bridge"> on @nic_bridge with <virtualport
 * type="openvswitch"/> and <vlan><tag id="VLAN"/></vlan>, an access port of
 * its network's VLAN) and, except for
 * the test type, a pty console and no memory balloon.
 *
 * Errors: NFV_E_INVAL naming the field ('name', 'uuid', 'memory_mib',
 * 'type', 'plan', 'nics[i]', 'nics[i].vlan', 'bridge'; a string with a character XML 1.0 cannot
 * carry, e.g. a control character or invalid UTF-8), NFV_E_INTERNAL (pinning's fragment is not
 * well-formed), NFV_E_NOMEM.
 */
enum nfv_code vm_domxml_build(const struct vm_domxml_in *in, char **ret_xml, struct nfv_err *err);

/*
 * Initializes libxml2 for the process. Call it once from main() before any
 * thread may build XML: libxml2 2.9's own first-use initialization is not
 * safe when two threads race to it. vm_domxml_build() calls it too, which is
 * enough for single-threaded programs (tests, tools).
 */
void vm_domxml_global_init(void);

/* True when @s is a UUID string as libvirt prints it (36 chars, hex and dashes at
 * 8, 13, 18, 23; either case). */
bool vm_domxml_uuid_is_valid(const char *s);

#endif /* VM_DOMXML_H */
