/*
 * vm_topo.h - host topologies for vmmgrd: simulated hosts' node files and
 * the regular synthetic descriptions.
 *
 * Pure core. A simulated host is libvirt's test driver opened on a node file
 * (test:///STATE_DIR/hosts/NAME.xml) whose <cpu> and <memory> match the
 * topology the operator gave, so that libvirt's own view (virsh nodeinfo on
 * that URI) and vmmgrd's agree. vm_topo_node_xml() writes that document.
 *
 * Topologies themselves come from pinning's hwloc adapter (pin_hwloc.h):
 * synthetic strings, hwloc XML files and the live host.
 */
#ifndef VM_TOPO_H
#define VM_TOPO_H

#include <stdint.h>

#include "nfv/err.h"
#include "pin/topo.h"

/* Memory assumed for each NUMA node of a topology that reports none (hwloc's
 * synthetic backend gives none unless told). */
#define VM_TOPO_DEFAULT_NODE_MIB (64u * 1024u)

/* Total memory of @t in MiB (sum of its nodes; the default per node for a
 * topology that reports none). */
uint64_t vm_topo_memory_mib(const struct pin_topo *t);

/*
 * Returns a malloc'ed libvirt test-driver node document for a host shaped
 * like @t with @memory_mib of memory, or NULL on allocation failure. The
 * caller writes it to a file and opens test:///that/file.
 */
char *vm_topo_node_xml(const struct pin_topo *t, uint64_t memory_mib);

/* Longest synthetic description accepted from the API. */
#define VM_TOPO_SYNTHETIC_MAX 512

/*
 * Checks an hwloc synthetic description before hwloc or a file sees it:
 * 1..511 bytes of letters, digits, spaces and ":()=.,_-" (hwloc's grammar:
 * "package:2 numa:2(memory=64GB) core:16 pu:2"), no "--". Whatever passes
 * cannot close the XML comment of the node file, open an element or carry
 * a terminal escape. NFV_E_INVAL names 'synthetic'.
 */
enum nfv_code vm_topo_synthetic_check(const char *text, struct nfv_err *err);

/*
 * Checks hwloc XML text from the API before it is written to a file and
 * parsed: no entity declaration or XInclude, and at most lstopo's own
 * DOCTYPE (a bare DTD file name, no internal subset): libxml2 could be told
 * to fetch or expand them, and the expansion would come back in error
 * messages. NFV_E_INVAL names 'hwloc_xml'.
 */
enum nfv_code vm_topo_xml_check(const char *text, struct nfv_err *err);

#endif /* VM_TOPO_H */
