/*
 * pin/pools.h - the operator's CPU pools of one host.
 *
 * In the spirit of Nova's cpu_dedicated_set / cpu_shared_set:
 *   reserved  - host-reserved PUs (OS, interrupts, emulator threads); never
 *               given to a vCPU;
 *   dedicated - PUs handed out one owner at a time: exclusive vCPUs, a VM's
 *               shared group, numbered pins, isolated emulator threads;
 *   shared    - a floating pool for unpinned work (emulator threads when no
 *               reserved PU exists); never given to exclusive/shared/numbered.
 * The three sets are disjoint and within the topology.
 *
 * Neighbours: topo.h, alloc.h (an allocation is made for one topology and
 * one pools value). Pure.
 */
#ifndef PIN_POOLS_H
#define PIN_POOLS_H

#include "nfv/err.h"
#include "pin/cpuset.h"
#include "pin/topo.h"

struct pin_pools {
    struct pin_cpuset reserved;
    struct pin_cpuset dedicated;
    struct pin_cpuset shared;
};

/*
 * Fills @ret_pools from optional list strings (NULL = default):
 * reserved defaults to empty; dedicated defaults to every PU not reserved
 * and not shared; shared defaults to empty. Errors: NFV_E_INVAL naming the
 * pool ("'dedicated': '0-3,x': ...", "'dedicated': PU 999 is not on this
 * host", "'shared' and 'dedicated' overlap on 4").
 */
enum nfv_code pin_pools_parse(const struct pin_topo *t, const char *reserved, const char *dedicated,
                              const char *shared, struct pin_pools *ret_pools, struct nfv_err *err);

/* Checks the pools against @t: disjoint and within the host. NFV_E_INVAL otherwise. */
enum nfv_code pin_pools_validate(const struct pin_topo *t, const struct pin_pools *p,
                                 struct nfv_err *err);

#endif /* PIN_POOLS_H */
