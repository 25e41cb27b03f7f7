/*
 * pin/pin_hwloc.h - adapter: load a host topology with hwloc.
 *
 * Three sources, one result (a sealed struct pin_topo, see topo.h):
 *   live       - this machine, with PCI/OS devices (NICs and their NUMA
 *                locality), node memory from hwloc or libnuma, and hugepages
 *                per node and size from sysfs (total and free);
 *   XML file   - as written by `lstopo --of xml` on any host (hugepages from
 *                its page_type entries; free is reported equal to total,
 *                since an XML snapshot does not say);
 *   synthetic  - an hwloc synthetic description such as
 *                "package:2 numa:2 core:16 pu:2" (no NICs).
 * Only this file's .c includes hwloc.h and numa.h; the planner never sees
 * them. Neighbours: topo.h (the model), pin_libvirt.h (the other adapter).
 */
#ifndef PIN_HWLOC_H
#define PIN_HWLOC_H

#include "nfv/err.h"
#include "pin/topo.h"

/* Each returns a sealed topology with one reference in *ret_topo.
 * Errors: NFV_E_PARSE (bad XML/synthetic description, naming it),
 * NFV_E_IO (file unreadable), NFV_E_INVAL (topology beyond the model's
 * limits, e.g. more than PIN_MAX_PUS PUs), NFV_E_NOMEM. */
enum nfv_code pin_hwloc_load_live(struct pin_topo **ret_topo, struct nfv_err *err);
enum nfv_code pin_hwloc_load_xml(const char *path, struct pin_topo **ret_topo, struct nfv_err *err);
enum nfv_code pin_hwloc_load_synthetic(const char *desc, struct pin_topo **ret_topo,
                                       struct nfv_err *err);

#endif /* PIN_HWLOC_H */
