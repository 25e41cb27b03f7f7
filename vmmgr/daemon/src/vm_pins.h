/*
 * vm_pins.h - pin verification and repair: what libvirt applied against the
 * VM's plan (vCPUs and emulator threads), re-applied where it differs.
 * Called by vm_create, vm_lifecycle, vm_recover, vm_monitor.
 */
#ifndef VM_PINS_H
#define VM_PINS_H

#include "vm_job.h"

/*
 * The hypervisor half of a pin check, run WITHOUT the lock: reads domain
 * @name's live pins over @conn (held by the caller's job), compares them
 * with @plan, re-applies what differs. Returns the number of drifted items
 * (0: as planned; @desc then describes them) or -1 if the vCPU pins cannot
 * be read.
 */
int vm_pins_repair(struct vm_daemon *d, struct vm_hv_conn *conn, const char *name,
                   const struct pin_plan *plan, char *desc, size_t desc_size);

/* Records the outcome of vm_pins_repair() for VM @name (event, metric). Lock held. */
void vm_pins_record(struct vm_daemon *d, const char *name, const char *why, int n,
                    const char *desc);

/*
 * A pin-check job on @vm (domain events, reconcile): skipped (-1) when
 * another job holds the VM or its host is unreachable. Lock held on entry
 * and exit; dropped around libvirt. @vm may be gone on return when the
 * result is -2 (do not touch it then).
 */
int vm_pins_check(struct vm_daemon *d, struct vm_rt *vm, const char *why);

#endif /* VM_PINS_H */
