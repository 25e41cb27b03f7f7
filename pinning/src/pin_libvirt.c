/*
 * pin_libvirt.c - apply a pin plan to a libvirt domain and read it back.
 *
 * libvirt speaks CPU maps: one bit per host CPU, VIR_CPU_MAPLEN(n) bytes for
 * n host CPUs. The host CPU count comes from virNodeGetCPUMap() on the
 * domain's connection, so maps are never longer than the host (libvirt
 * rejects bits beyond it). Apply pins vCPUs first, then the emulator and the
 * I/O threads, and stops at the first refusal with libvirt's message; it
 * does not roll back, because a partly applied plan is exactly what the
 * drift check (pin_libvirt_check) reports and the daemon re-applies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "pin/pin_libvirt.h"

/* Host CPU count of @dom's hypervisor, or -1 (error set). */
static int host_cpus(virDomainPtr dom, struct nfv_err *err)
{
    int n = virNodeGetCPUMap(virDomainGetConnect(dom), NULL, NULL, 0);

    if (n <= 0)
        NFV_ERR(err, NFV_E_HYPERVISOR, "host cpu count: %s", virGetLastErrorMessage());
    return n;
}

bool pin_libvirt_cpumap_from_set(const struct pin_cpuset *s, unsigned char *map, int maplen)
{
    memset(map, 0, (size_t)maplen);
    for (int pu = pin_cpuset_first(s); pu >= 0; pu = pin_cpuset_next(s, (unsigned)pu + 1)) {
        if (pu / 8 >= maplen)
            return false;
        VIR_USE_CPU(map, pu);
    }
    return true;
}

void pin_libvirt_cpumap_to_set(const unsigned char *map, int maplen, struct pin_cpuset *ret)
{
    pin_cpuset_zero(ret);
    for (int pu = 0; pu < maplen * 8 && pu < PIN_MAX_PUS; pu++)
        if (VIR_CPU_USABLE(map, maplen, 0, pu))
            pin_cpuset_set(ret, (unsigned)pu);
}

enum nfv_code pin_libvirt_apply(virDomainPtr dom, const struct pin_plan *plan, unsigned flags,
                                struct nfv_err *err)
{
    unsigned char map[PIN_MAX_PUS / 8];
    struct pin_cpuset s;
    int n_host, maplen;

    if (!(flags & (VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_AFFECT_LIVE)))
        return NFV_ERR(err, NFV_E_INVAL, "apply: say config, live or both");
    n_host = host_cpus(dom, err);
    if (n_host < 0)
        return NFV_E_HYPERVISOR;
    maplen = VIR_CPU_MAPLEN(n_host);
    if (maplen > (int)sizeof(map))
        maplen = (int)sizeof(map);
    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        pin_plan_vcpu_cpuset(plan, v, &s);
        if (!pin_libvirt_cpumap_from_set(&s, map, maplen))
            return NFV_ERR(err, NFV_E_INVAL, "vcpu %u: PU beyond the host's %d CPUs", v, n_host);
        if (virDomainPinVcpuFlags(dom, v, map, maplen, flags) < 0)
            return NFV_ERR(err, NFV_E_HYPERVISOR, "vcpu %u: %s", v, virGetLastErrorMessage());
    }
    if (!pin_cpuset_is_empty(&plan->emulator)) {
        if (!pin_libvirt_cpumap_from_set(&plan->emulator, map, maplen))
            return NFV_ERR(err, NFV_E_INVAL, "emulator: PU beyond the host's %d CPUs", n_host);
        if (virDomainPinEmulator(dom, map, maplen, flags) < 0)
            return NFV_ERR(err, NFV_E_HYPERVISOR, "emulator: %s", virGetLastErrorMessage());
    }
    if (plan->n_iothreads && !pin_cpuset_is_empty(&plan->iothreads)) {
        if (!pin_libvirt_cpumap_from_set(&plan->iothreads, map, maplen))
            return NFV_ERR(err, NFV_E_INVAL, "iothreads: PU beyond the host's %d CPUs", n_host);
        for (unsigned i = 1; i <= plan->n_iothreads; i++)
            if (virDomainPinIOThread(dom, i, map, maplen, flags) < 0)
                return NFV_ERR(err, NFV_E_HYPERVISOR, "iothread %u: %s", i,
                               virGetLastErrorMessage());
    }
    return NFV_OK;
}

enum nfv_code pin_libvirt_read(virDomainPtr dom, unsigned n_vcpus, unsigned flags,
                               struct pin_cpuset *ret_vcpus, struct pin_cpuset *ret_emulator,
                               unsigned *ret_n, struct nfv_err *err)
{
    unsigned char *maps;
    int n_host, maplen, n;

    n_host = host_cpus(dom, err);
    if (n_host < 0)
        return NFV_E_HYPERVISOR;
    maplen = VIR_CPU_MAPLEN(n_host);
    maps = calloc(n_vcpus ? n_vcpus : 1, (size_t)maplen);
    if (!maps)
        return NFV_ERR(err, NFV_E_NOMEM, "read pins: out of memory");
    n = 0;
    if (ret_vcpus && n_vcpus) {
        n = virDomainGetVcpuPinInfo(dom, (int)n_vcpus, maps, maplen, flags);
        if (n < 0) {
            free(maps);
            return NFV_ERR(err, NFV_E_HYPERVISOR, "vcpu pins: %s", virGetLastErrorMessage());
        }
        for (int v = 0; v < n && (unsigned)v < n_vcpus; v++)
            pin_libvirt_cpumap_to_set(VIR_GET_CPUMAP(maps, maplen, v), maplen, &ret_vcpus[v]);
    }
    if (ret_emulator) {
        if (virDomainGetEmulatorPinInfo(dom, maps, maplen, flags) < 0) {
            free(maps);
            return NFV_ERR(err, NFV_E_HYPERVISOR, "emulator pin: %s", virGetLastErrorMessage());
        }
        pin_libvirt_cpumap_to_set(maps, maplen, ret_emulator);
    }
    free(maps);
    if (ret_n)
        *ret_n = (unsigned)n < n_vcpus ? (unsigned)n : n_vcpus;
    return NFV_OK;
}

enum nfv_code pin_libvirt_check(virDomainPtr dom, const struct pin_plan *plan, unsigned flags,
                                struct pin_drift_item *ret_items, unsigned cap_items,
                                unsigned *ret_n_drift, struct nfv_err *err)
{
    struct pin_cpuset *have = calloc(plan->n_vcpus, sizeof(*have));
    struct pin_cpuset emu;
    unsigned n = 0;
    enum nfv_code rc;

    if (!have)
        return NFV_ERR(err, NFV_E_NOMEM, "check pins: out of memory");
    rc = pin_libvirt_read(dom, plan->n_vcpus, flags, have, &emu, &n, err);
    if (rc == NFV_OK)
        *ret_n_drift = pin_plan_diff(plan, have, n, &emu, ret_items, cap_items);
    free(have);
    return rc;
}
