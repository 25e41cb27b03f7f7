/*
 * pin/pin_libvirt.h - adapter: a pin plan in libvirt.
 *
 * Two jobs:
 *  - render a plan as domain XML fragments (pin_libvirt_render): <vcpu>,
 *    <iothreads>, <cputune> (vcpupin, emulatorpin, iothreadpin), <numatune>
 *    (memory, memnode), <cpu> (<topology>, <numa> cells matching the plan)
 *    and <memoryBacking><hugepages>. Pure string building, golden-tested;
 *  - apply a plan to a domain through the libvirt API, to its persistent
 *    config and/or live (virDomainPinVcpuFlags, virDomainPinEmulator,
 *    virDomainPinIOThread), read the pins back (virDomainGetVcpuPinInfo,
 *    virDomainGetEmulatorPinInfo) and report drift (pin_plan_diff).
 *
 * Neighbours: plan.h (the plan), topo.h (node numbering for the XML).
 */
#ifndef PIN_LIBVIRT_H
#define PIN_LIBVIRT_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "nfv/err.h"
#include "pin/plan.h"
#include "pin/topo.h"

/*
 * libvirt CPU maps (one bit per host CPU, VIR_USE_CPU order) from and to a
 * cpuset, for callers that make their own pin calls (vmmgrd's host driver).
 * pin_libvirt_cpumap_from_set() writes @maplen bytes and returns false if a
 * PU of @s lies beyond them; pin_libvirt_cpumap_to_set() reads @maplen bytes.
 */
bool pin_libvirt_cpumap_from_set(const struct pin_cpuset *s, unsigned char *map, int maplen);
void pin_libvirt_cpumap_to_set(const unsigned char *map, int maplen, struct pin_cpuset *ret);

/* Which fragments pin_libvirt_render() writes. */
#define PIN_LV_VCPU       0x01u /* <vcpu placement='static'>N</vcpu> and <iothreads> */
#define PIN_LV_CPUTUNE    0x02u
#define PIN_LV_NUMATUNE   0x04u
#define PIN_LV_CPU        0x08u /* <cpu><topology/><numa/></cpu> */
#define PIN_LV_MEMBACKING 0x10u /* only when the plan asks for hugepages */
#define PIN_LV_ALL        0x1fu

/*
 * Renders @plan (made on topology @t) as XML fragments (each indented by two spaces, one element
 * per line, ending with a newline) into a new string *ret_xml (owned; free()).
 * <numa> cells are written for NUMA spread plans with memory_mib > 0, one
 * cell per host node used, memory split by vCPU count. Errors: NFV_E_NOMEM.
 */
enum nfv_code pin_libvirt_render(const struct pin_topo *t, const struct pin_plan *plan,
                                 unsigned what, char **ret_xml, struct nfv_err *err);

/* Where pin_libvirt_apply/read act: VIR_DOMAIN_AFFECT_CONFIG and/or
 * VIR_DOMAIN_AFFECT_LIVE (read: exactly one of them). */

/*
 * Pins every vCPU, the emulator threads (if the plan has an emulator set)
 * and I/O threads 1..n_iothreads (if any) of @dom as @plan says.
 * Errors: NFV_E_HYPERVISOR with libvirt's message and the item that failed
 * ("vcpu 2: ..."), NFV_E_INVAL (@flags empty).
 */
enum nfv_code pin_libvirt_apply(virDomainPtr dom, const struct pin_plan *plan, unsigned flags,
                                struct nfv_err *err);

/*
 * Reads the pins of @dom's first @n_vcpus vCPUs into @ret_vcpus[] and the
 * emulator pin into *ret_emulator (either may be NULL), for @flags =
 * VIR_DOMAIN_AFFECT_CONFIG or VIR_DOMAIN_AFFECT_LIVE. Returns the number of
 * vCPUs the domain reported in *ret_n (may be fewer than @n_vcpus).
 * Errors: NFV_E_HYPERVISOR, NFV_E_NOMEM.
 */
enum nfv_code pin_libvirt_read(virDomainPtr dom, unsigned n_vcpus, unsigned flags,
                               struct pin_cpuset *ret_vcpus, struct pin_cpuset *ret_emulator,
                               unsigned *ret_n, struct nfv_err *err);

/*
 * Reads @dom's pins (@flags as for read) and compares them with @plan:
 * writes up to @cap_items differences and the total count in *ret_n_drift.
 * Errors as pin_libvirt_read.
 */
enum nfv_code pin_libvirt_check(virDomainPtr dom, const struct pin_plan *plan, unsigned flags,
                                struct pin_drift_item *ret_items, unsigned cap_items,
                                unsigned *ret_n_drift, struct nfv_err *err);

#endif /* PIN_LIBVIRT_H */
