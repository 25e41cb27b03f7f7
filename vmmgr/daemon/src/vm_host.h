/*
 * vm_host.h - hosts in vmmgrd: the API's host verbs (vm_daemon.h), loading
 * at start-up and connecting. Called by vm_monitor and vm_daemon.
 */
#ifndef VM_HOST_H
#define VM_HOST_H

#include "vm_job.h"

/* Loads every host row into memory (no connection yet). Lock NOT held. */
enum nfv_code vm_host_load_all(struct vm_daemon *d, struct nfv_err *err);

/*
 * A connect job on @h: opens its URI without the lock, learns a live
 * topology, builds its allocation. On failure schedules the next try with
 * backoff. Returns true when connected. Lock held on entry and exit; @h
 * may be gone on return when false (removed meanwhile): look it up again.
 */
bool vm_host_connect(struct vm_daemon *d, struct host_rt *h, bool is_startup);

/* Builds @h's allocation once its topology is known and claims the plans
 * of the VMs already loaded on it. Lock held. */
enum nfv_code vm_host_ready(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err);

#endif /* VM_HOST_H */
