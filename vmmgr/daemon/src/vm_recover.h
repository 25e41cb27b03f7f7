/*
 * vm_recover.h - start-up load, journal recovery and reconcile with
 * libvirt. Called by vm_monitor and vm_daemon. Lock held for each; it is
 * dropped around every libvirt call.
 */
#ifndef VM_RECOVER_H
#define VM_RECOVER_H

#include "vm_daemon_priv.h"

/* Loads every VM row and claims its plan on its host. */
enum nfv_code vm_recover_load_vms(struct vm_daemon *d, struct nfv_err *err);
/* Finishes or rolls back every pending journal entry no job holds. */
void vm_recover_journal(struct vm_daemon *d);
/* Compares libvirt with the state: lost domains, states, drifted pins. */
void vm_recover_reconcile(struct vm_daemon *d);

#endif /* VM_RECOVER_H */
