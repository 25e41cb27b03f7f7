/*
 * vm_db_move.h - the state database's side of moving a VM's PUs (issue 16:
 * re-pin, migration, drain). No schema change: a VM may hold allocation
 * rows on two hosts (or two PU sets of one host) while a move is in
 * flight; the primary key (host, pu) still makes any PU held twice
 * impossible. Implemented in vm_db_sqlite_move.c. Call inside a
 * transaction (vm_db_begin) together with the journal change.
 */
#ifndef VM_DB_MOVE_H
#define VM_DB_MOVE_H

#include "vm/vm_db.h"

/* Adds @n allocation rows of VM @name on host @host_id (the destination's
 * or the new PUs). NFV_E_EXIST names a PU already held, NFV_E_NOENT the VM. */
enum nfv_code vm_db_alloc_add(struct vm_db *db, const char *name, int64_t host_id,
                              const struct vm_db_alloc *allocs, size_t n, struct nfv_err *err);
/* Drops VM @name's rows on host @host_id: all of them when @n_pus is 0,
 * else only PUs @pus. */
enum nfv_code vm_db_alloc_drop(struct vm_db *db, const char *name, int64_t host_id,
                               const unsigned *pus, size_t n_pus, struct nfv_err *err);
/* The VM now lives on @host_id with plan @plan_json and, unless NULL, the
 * stored request @spec_json (its rows elsewhere must have been dropped). */
enum nfv_code vm_db_vm_move(struct vm_db *db, const char *name, int64_t host_id,
                            const char *plan_json, const char *spec_json, int64_t now_ms,
                            struct nfv_err *err);

#endif /* VM_DB_MOVE_H */
