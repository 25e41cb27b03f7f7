/*
 * vm_view.h - JSON views of VMs for the API answers.
 * Called by vm_create, vm_lifecycle and the queries in vm_view.c itself.
 */
#ifndef VM_VIEW_H
#define VM_VIEW_H

#include "vm_daemon_priv.h"

/* @vm as the API shows it; @is_full adds peers, plan and request. Lock held. */
json_t *vm_view_vm_json(struct vm_daemon *d, const struct vm_rt *vm, bool is_full);

#endif /* VM_VIEW_H */
