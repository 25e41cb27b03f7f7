/*
 * pin/pin.h - umbrella header of pin_core, the pure pinning library.
 *
 * cpuset.h  bitmaps and "0-3,8,^2" lists   topo.h    host CPU topology model
 * pools.h   reserved/dedicated/shared      request.h a VM's pin request
 * plan.h    the planner                    alloc.h   a host's claims
 * Adapters (separate targets): pin_hwloc.h (load topologies), pin_libvirt.h
 * (render plans as domain XML, apply and read back through libvirt).
 */
#ifndef PIN_PIN_H
#define PIN_PIN_H

#include "pin/cpuset.h"
#include "pin/topo.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "pin/plan.h"
#include "pin/alloc.h"

#endif /* PIN_PIN_H */
