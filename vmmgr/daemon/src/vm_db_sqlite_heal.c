/*
 * vm_db_sqlite_heal.c - the state database's healing rows (issue 12): each
 * host's state machine and BMC address/user (host_heal), the domains a
 * fenced host may still hold (stale_domains), and VM role changes made by a
 * promotion. Helpers from vm_db_sqlite.c.
 */
#include <stdio.h>
#include <string.h>

#include "vm_db_sqlite_priv.h"

enum nfv_code vm_db_vm_set_role(struct vm_db *db, const char *name, enum vm_role role,
                                int64_t now_ms, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "UPDATE vms SET role = ?, updated_ms = ? WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_role_to_string(role), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "updating a VM's role");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_heal_put(struct vm_db *db, const struct vm_db_heal *h, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT OR REPLACE INTO host_heal (host_id, state, since_ms, reason, "
                       "bmc_address, bmc_user, last_critical) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, h->host_id);
    sqlite3_bind_text(st, 2, h->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, h->since_ms);
    sqlite3_bind_text(st, 4, h->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, h->bmc_address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, h->bmc_user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, h->last_critical, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "writing a host's healing state");
}

enum nfv_code vm_db_heal_get(struct vm_db *db, int64_t host_id, struct vm_db_heal *ret,
                             struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (vm_dbs_prepare(db,
                       "SELECT state, since_ms, reason, bmc_address, bmc_user, last_critical "
                       "FROM host_heal WHERE host_id = ?",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ret->host_id = host_id;
        vm_dbs_col_copy(st, 0, ret->state, sizeof(ret->state));
        ret->since_ms = sqlite3_column_int64(st, 1);
        vm_dbs_col_copy(st, 2, ret->reason, sizeof(ret->reason));
        vm_dbs_col_copy(st, 3, ret->bmc_address, sizeof(ret->bmc_address));
        vm_dbs_col_copy(st, 4, ret->bmc_user, sizeof(ret->bmc_user));
        vm_dbs_col_copy(st, 5, ret->last_critical, sizeof(ret->last_critical));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return NFV_OK;
    if (rc == SQLITE_DONE)
        return NFV_ERR(err, NFV_E_NOENT, "no healing state for host %lld", (long long)host_id);
    return vm_dbs_fail(db, err, "reading a host's healing state");
}

enum nfv_code vm_db_stale_add(struct vm_db *db, int64_t host_id, const char *uuid, const char *name,
                              struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT OR IGNORE INTO stale_domains (host_id, uuid, name) VALUES (?, ?, ?)",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "recording a stale domain");
}

enum nfv_code vm_db_stale_list(struct vm_db *db, int64_t host_id, vm_db_stale_cb cb, void *opaque,
                               struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT uuid, name FROM stale_domains WHERE host_id = ? ORDER BY name",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char uuid[40], name[128];
        vm_dbs_col_copy(st, 0, uuid, sizeof(uuid));
        vm_dbs_col_copy(st, 1, name, sizeof(name));
        if (cb(opaque, uuid, name))
            break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? NFV_OK
                                                 : vm_dbs_fail(db, err, "listing stale domains");
}

enum nfv_code vm_db_stale_delete(struct vm_db *db, int64_t host_id, const char *uuid,
                                 struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "DELETE FROM stale_domains WHERE host_id = ? AND uuid = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "removing a stale domain");
}
