/*
 * vm_monitor.h - the monitor thread: dead connections, reconnects with
 * backoff, libvirt domain events (matched by UUID), deferred journal
 * entries, event-log pruning. Called by vm_daemon.
 */
#ifndef VM_MONITOR_H
#define VM_MONITOR_H

#include "vm_daemon_priv.h"

/* The thread's body (@arg: the daemon). */
void *vm_monitor_main(void *arg);

#endif /* VM_MONITOR_H */
