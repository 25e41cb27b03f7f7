/*
 * vm_migrate_priv.h - what issue 16's service files (vm_migrate.c,
 * vm_repin.c, vm_drain.c) share, and the hook start-up recovery calls.
 *
 * Order in the service's call list (vm_daemon_priv.h): after vm_lifecycle,
 * before vm_host; vm_recover calls vm_migrate_recover().
 * Calls: vm_ctx, vm_job, vm_pins, vm_view, vm_place, vm_build.
 */
#ifndef VM_MIGRATE_PRIV_H
#define VM_MIGRATE_PRIV_H

#include "vm/vm_migrate.h"
#include "vm_job.h"

enum vm_mig_mode { VM_MIG_AUTO, VM_MIG_LIVE, VM_MIG_COLD };

/*
 * Migrates VM @name to @host (NULL: placement chooses) in @mode, one job:
 * plan and claim at the destination, journal, move, verify the pins there,
 * release the source (or roll back). With @is_dry_run only the choice and
 * the plan are answered. *ret: the answer (owned). Lock held on entry and
 * exit (dropped around every libvirt call).
 */
enum nfv_code vm_migrate_one(struct vm_daemon *d, const char *name, const char *host,
                             enum vm_mig_mode mode, bool is_reserve_waived, bool is_dry_run,
                             json_t **ret, struct nfv_err *err);

/*
 * The placement model's view of PUs claimed for a move in flight: @owner's
 * @plan on host @h, listed as a VM of its own ("NAME@move") so that
 * placement does not hand those cores to a concurrent create while the
 * move runs. Dropped by name when the move ends (or by recovery). Lock held.
 */
void vm_migrate_shadow_add(struct vm_daemon *d, struct host_rt *h, const char *owner,
                           const struct pin_plan *plan, uint64_t memory_mib);
void vm_migrate_shadow_drop(struct vm_daemon *d, const char *owner);

/* True for the journal kinds recovered here (vm_migrate, vm_pin_change,
 * host_drain). */
bool vm_migrate_is_kind(enum vm_op_kind kind);
/* Finishes or rolls back pending entry @op (recovery's @job holds the
 * connections). Lock held (dropped around libvirt). */
enum vm_recovery vm_migrate_recover(struct vm_daemon *d, struct vm_job *job,
                                    const struct vm_db_op *op);
/* vm_repin.c's part of recovery: a pending re-pin is rolled back. */
enum vm_recovery vm_repin_recover(struct vm_daemon *d, const struct vm_db_op *op);

#endif /* VM_MIGRATE_PRIV_H */
