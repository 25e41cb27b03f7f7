/*
 * vm_heal.h - the healer: MAGONIA function 3 inside vmmgrd.
 *
 * One thread polls every host's BMC (heal/mon.h, outside the lock), feeds
 * what it saw and the passing time to each host's state machine
 * (vm_heal_state.c, under the lock), and runs the actions the machine asks
 * for, each a journaled job:
 *   fence     BMC chassis power off read back off, and/or (host still
 *             reachable) every domain of ours destroyed through libvirt;
 *   promote   for each ACT on the fenced host, its group's SBY becomes the
 *             ACT (roles in one transaction), then the VNF is told (hook);
 *   rebuild   each lost member is re-created on reserve capacity with the
 *             same pin spec (the create path, reserve waived) as the new
 *             SBY; a VM without a group is re-created alone.
 * Promotion happens only once the host is FENCED (heal/sm.h), so nothing
 * ever runs twice. Each entry is resumed by the healer after a crash.
 *
 * Called by vm_daemon (start/stop) and the API. Calls vm_ctx, vm_job,
 * vm_place, vm_view, vm_create (through vm_daemon.h), vm_host,
 * vm_recover, vm_heal_state.
 */
#ifndef VM_HEAL_H
#define VM_HEAL_H

#include "vm_job.h"

/* The thread's body (@arg: the daemon). Lock not held. */
void *vm_heal_main(void *arg);

/* Groups not protected (a member lost, promoting, rebuilding, or no ACT
 * and SBY running apart on healthy hosts). Lock held. */
unsigned vm_heal_groups_unprotected(struct vm_daemon *d);

#endif /* VM_HEAL_H */
