/*
 * vm_db_sqlite_move.c - allocation rows and host of a VM that moves (see
 * vm_db_move.h), on SQLite. Helpers from vm_db_sqlite.c.
 */
#include <stdio.h>
#include <string.h>

#include "vm/vm_db_move.h"
#include "vm_db_sqlite_priv.h"

enum nfv_code vm_db_alloc_add(struct vm_db *db, const char *name, int64_t host_id,
                              const struct vm_db_alloc *allocs, size_t n, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT INTO allocations (host_id, pu, vm_id, vcpus, mode) "
                       "SELECT ?, ?, id, ?, ? FROM vms WHERE name = ?",
                       &st, err))
        return NFV_E_DB;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, host_id);
        sqlite3_bind_int(st, 2, (int)allocs[i].pu);
        sqlite3_bind_text(st, 3, allocs[i].vcpus, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, allocs[i].mode, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE && sqlite3_changes(db->h) == 0) {
            sqlite3_finalize(st);
            return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
        }
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            if (rc == SQLITE_CONSTRAINT)
                return NFV_ERR(err, NFV_E_EXIST, "PU %u of the host is already held", allocs[i].pu);
            return vm_dbs_fail(db, err, "inserting an allocation");
        }
    }
    sqlite3_finalize(st);
    return NFV_OK;
}

enum nfv_code vm_db_alloc_drop(struct vm_db *db, const char *name, int64_t host_id,
                               const unsigned *pus, size_t n_pus, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc = SQLITE_DONE;

    if (vm_dbs_prepare(db,
                       n_pus ? "DELETE FROM allocations WHERE host_id = ? AND pu = ? AND vm_id = "
                               "(SELECT id FROM vms WHERE name = ?)"
                             : "DELETE FROM allocations WHERE host_id = ? AND ? >= 0 AND vm_id = "
                               "(SELECT id FROM vms WHERE name = ?)",
                       &st, err))
        return NFV_E_DB;
    for (size_t i = 0; i < (n_pus ? n_pus : 1) && rc == SQLITE_DONE; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, host_id);
        sqlite3_bind_int(st, 2, n_pus ? (int)pus[i] : 0);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "dropping allocations");
}

enum nfv_code vm_db_vm_move(struct vm_db *db, const char *name, int64_t host_id,
                            const char *plan_json, const char *spec_json, int64_t now_ms,
                            struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "UPDATE vms SET host_id = ?, plan = ?, updated_ms = ?, "
                       "spec = COALESCE(?, spec) WHERE name = ?",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_text(st, 2, plan_json ? plan_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    if (spec_json)
        sqlite3_bind_text(st, 4, spec_json, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "moving a VM");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return NFV_OK;
}
