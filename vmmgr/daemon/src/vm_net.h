/*
 * vm_net.h - networks and the switch in vmmgrd (issue 15): VLANs follow VMs.
 *
 * A network is a name and a VLAN id (1..4094, unique). A VM NIC on a
 * network ({"network": "NAME"} in the create body) is an access port with
 * the network's VLAN on its host's Open vSwitch integration bridge (host
 * add "bridge", default config host_bridge = br-int); the domain XML says
 * so (vm_domxml.c). The top-of-rack switch (config "switch",
 * "switch_bridge") is one bridge with one trunk port per host (host add
 * "switch_port"); vmmgrd keeps each trunk carrying exactly the VLANs of
 * the VMs on that host, through the switch port (vm_sw.h):
 *
 *   expected(host) = VLANs of every VM whose (effective) host it is
 *
 * computed under the daemon lock from the registries, and applied without
 * it. Every change states the whole expected set of the hosts it touches
 * (one trunks_ensure transaction; a host left with no VLAN loses its trunk
 * port, because an OVS trunk with no VLAN list carries every VLAN), so any
 * step is repaired by doing it again: journal recovery and reconcile need
 * no switch-specific undo.
 *
 * Locks: switch calls are serialized by the switch lock (one connection,
 * one caller at a time), which is taken WITHOUT the daemon lock and before
 * it; the expected sets are computed after the switch lock is taken, so two
 * jobs on one host can never apply stale sets in the wrong order. VM_SW()
 * asserts the daemon lock is not held, as VM_HV() does.
 *
 * Called by: vm_create (resolve, attach, the "switched" step, rollback),
 * vm_lifecycle (delete), vm_recover (load, reconcile), vm_host (host add
 * fields, host JSON), vm_daemon (init/fini), vm_monitor (retry), vm_api
 * (routes), and healing/migration (vm_net_move). Calls: vm_ctx, vm_job.
 */
#ifndef VM_NET_H
#define VM_NET_H

#include "vm/vm_spec.h"
#include "vm/vm_sw.h"
#include "vm_job.h"

/* One NIC's network as the VM keeps it (the VLAN never changes: a network
 * in use cannot be deleted, and has no update). */
struct vm_net_att {
    char network[VM_NAME_MAX];
    unsigned vlan;
};

/* vm_rt->net: a VM's networks, one allocation (free() releases it; NULL
 * when the VM has no network NIC). Guarded by the daemon lock. */
struct vm_net_vm {
    /* A move (vm_net_move) the caller has not yet reflected in vm->host:
     * while vm->host is still host @moved_from_id, the VM's VLANs count on
     * host @moved_to_id instead (0: no move; -1: nowhere, the VM is being
     * deleted, whatever its host). Once vm->host changes the move is void,
     * so a caller that re-homes the VM, or moves it back, needs no cleanup. */
    int64_t moved_to_id;
    int64_t moved_from_id;
    /* A live migration: while vm->host is @moved_from_id, the VLANs count on
     * this host too (0: none). */
    int64_t also_on_id;
    size_t n;
    struct vm_net_att att[];
};

/* ---- daemon start and stop (vm_daemon.c) ---- */

/* Loads the networks and the hosts' switch ports (after the hosts, before
 * the VMs) and prepares the switch driver (the connection opens at the
 * first call). Lock not held (start-up). */
enum nfv_code vm_net_init(struct vm_daemon *d, struct nfv_err *err);
/* Closes the switch connection and frees the state. NULL-safe. */
void vm_net_fini(struct vm_daemon *d);

/* ---- the API (each takes the lock itself) ---- */

/* POST /v1/networks {"name","vlan"}: 400 naming 'name'/'vlan', 409 when
 * the name or the VLAN is taken. */
enum nfv_code vm_daemon_net_create(struct vm_daemon *d, const json_t *body, json_t **ret,
                                   struct nfv_err *err);
enum nfv_code vm_daemon_net_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err);
/* GET /v1/networks/NAME: with the VMs and hosts using it. */
enum nfv_code vm_daemon_net_show(struct vm_daemon *d, const char *name, json_t **ret,
                                 struct nfv_err *err);
/* DELETE /v1/networks/NAME: NFV_E_STATE naming the VMs while any uses it. */
enum nfv_code vm_daemon_net_delete(struct vm_daemon *d, const char *name, json_t **ret,
                                   struct nfv_err *err);
/* GET /v1/switch: per trunk port, expected and actual VLANs (vm_sw_check). */
enum nfv_code vm_daemon_switch_show(struct vm_daemon *d, json_t **ret, struct nfv_err *err);
/* POST /v1/switch/repair: check, record drift as events, repair. */
enum nfv_code vm_daemon_switch_repair(struct vm_daemon *d, json_t **ret, struct nfv_err *err);

/* ---- hosts (vm_host.c; lock held) ---- */

/* Host add: @spec's switch_port must not be another host's trunk or the
 * switch bridge itself. NFV_E_EXIST / NFV_E_INVAL naming 'switch_port'. */
enum nfv_code vm_net_host_check(struct vm_daemon *d, const struct vm_host_spec *spec,
                                struct nfv_err *err);
/* Host add, inside its transaction once the row has its id: stores and
 * keeps the host's bridge (default host_bridge) and trunk port. */
enum nfv_code vm_net_host_store(struct vm_daemon *d, struct host_rt *h,
                                const struct vm_host_spec *spec, struct nfv_err *err);
/* Adds "bridge" and "switch_port" (null if none) to host JSON @o. */
void vm_net_host_json(const struct host_rt *h, json_t *o);

/* ---- VMs (lock held) ---- */

/* Sets the VLAN of every network NIC of @s; NFV_E_INVAL
 * "'nics[1].network': unknown network 'x'". */
enum nfv_code vm_net_spec_resolve(struct vm_daemon *d, struct vm_spec *s, struct nfv_err *err);
/* Gives @vm its networks from the resolved @s (replacing any). NFV_E_NOMEM. */
enum nfv_code vm_net_vm_attach(struct vm_rt *vm, const struct vm_spec *s);
/* [{"network","vlan"}] of @vm's network NICs (vm show). */
json_t *vm_net_vm_json(const struct vm_rt *vm);
/* Adds "switch": {"configured","bridge","repair_pending"} to status @o. */
void vm_net_status_json(const struct vm_daemon *d, json_t *o);
/* The distinct hosts of @vms that carry VLANs, into @ret_ids (room for
 * @n); returns how many. */
size_t vm_net_hosts_of(struct vm_rt *const *vms, size_t n, int64_t *ret_ids);

/* ---- switch steps (lock NOT held: the job has left it, or no job) ---- */

/*
 * Makes the trunks of hosts @host_ids carry exactly their expected VLANs
 * (computed now, under the lock) in one transaction; hosts with no VLAN
 * lose their trunk port. @job (may be NULL) is a job that left the lock;
 * when @step is set and the change succeeded it is recorded as the job's
 * journal step. No switch configured, or no host with a trunk: NFV_OK at
 * once. Errors: the switch port's (NFV_E_UNREACHABLE, NFV_E_TIMEOUT, ...)
 * prefixed "switch:"; a failure marks the switch for repair (the monitor
 * retries) and records a switch_error event.
 */
enum nfv_code vm_net_sync_hosts(struct vm_daemon *d, struct vm_job *job, const int64_t *host_ids,
                                size_t n, const char *step, struct nfv_err *err);

/*
 * A VM being deleted: its VLANs count nowhere from now on, and its host's
 * trunk drops those no other VM there uses (step @step). @vm is claimed by
 * @job, which has left the lock. Errors as vm_net_sync_hosts (the delete
 * goes on: the drift is repaired later).
 */
enum nfv_code vm_net_vm_leaving(struct vm_daemon *d, struct vm_job *job, struct vm_rt *vm,
                                const char *step, struct nfv_err *err);

/*
 * Moves @vm's VLANs from host @from_id to host @to_id in ONE switch
 * transaction (the old trunk loses what no other VM there uses, the new
 * one gains them), for promotion, evacuation and migration. With
 * @is_keep_from the VLANs are added on @to_id and kept on @from_id (a live
 * migration, when the VM runs on both for a moment); a second call without
 * it finishes the move. From then on the VM's VLANs count on @to_id even
 * before the caller sets vm->host (and on both with @is_keep_from). @vm is
 * claimed by @job (which has left the lock); @step, if set, is recorded in
 * the job's journal entry on success. On failure nothing counts differently
 * and the error is the switch's (nothing changed on the switch, except
 * after NFV_E_UNREACHABLE, which the repair loop settles).
 */
enum nfv_code vm_net_move(struct vm_daemon *d, struct vm_job *job, struct vm_rt *vm,
                          int64_t from_id, int64_t to_id, bool is_keep_from, const char *step,
                          struct nfv_err *err);

/* ---- reconcile (lock held on entry and exit; dropped around the switch) ---- */

/*
 * Compares every trunk with its expected VLANs, records each drift as a
 * switch_drift event (port, host, missing and extra VLANs) and repairs it
 * in one transaction. @why names the occasion ("start-up", "retry").
 * Does nothing without a switch.
 */
void vm_net_reconcile(struct vm_daemon *d, const char *why);
/* True when a switch change failed and its repair is due at monotonic time
 * @now_ms: 2 s after the failure, then doubling up to 60 s while repairs
 * fail (a switch that hangs must not keep the monitor thread busy). Lock
 * held. */
bool vm_net_repair_due(const struct vm_daemon *d, int64_t now_ms);

#endif /* VM_NET_H */
