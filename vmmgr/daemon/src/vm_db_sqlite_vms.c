/*
 * vm_db_sqlite_vms.c - the state database's VMs, their allocations (one row
 * per held PU, primary key host+PU: a PU cannot be held twice) and
 * redundancy groups, on SQLite. Helpers from vm_db_sqlite.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_db_sqlite_priv.h"

/* ---- VMs, allocations, groups ---- */

void vm_db_vm_clear(struct vm_db_vm *vm)
{
    if (!vm)
        return;
    free(vm->spec);
    free(vm->plan);
    vm->spec = vm->plan = NULL;
}

enum nfv_code vm_db_vm_insert(struct vm_db *db, const struct vm_db_vm *vm,
                              const struct vm_db_alloc *allocs, size_t n_allocs, int64_t *ret_id,
                              struct nfv_err *err)
{
    sqlite3_stmt *st;
    int64_t id;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT INTO vms (name, host_id, state, group_id, role, spec, plan, "
                       "created_ms, updated_ms, uuid) VALUES (?, ?, ?, "
                       "(SELECT id FROM groups WHERE name = ?), ?, ?, ?, ?, ?, ?)",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, vm->host_id);
    sqlite3_bind_text(st, 3, vm_guest_state_to_string(vm->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, vm->group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, vm_role_to_string(vm->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, vm->spec ? vm->spec : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, vm->plan ? vm->plan : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, vm->created_ms);
    sqlite3_bind_int64(st, 9, vm->created_ms);
    if (vm->uuid[0])
        sqlite3_bind_text(st, 10, vm->uuid, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 10);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return NFV_ERR(err, NFV_E_EXIST, "VM '%s' already exists", vm->name);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "inserting a VM");
    id = sqlite3_last_insert_rowid(db->h);
    if (vm_dbs_prepare(
            db, "INSERT INTO allocations (host_id, pu, vm_id, vcpus, mode) VALUES (?,?,?,?,?)", &st,
            err))
        return NFV_E_DB;
    for (size_t i = 0; i < n_allocs; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, vm->host_id);
        sqlite3_bind_int(st, 2, (int)allocs[i].pu);
        sqlite3_bind_int64(st, 3, id);
        sqlite3_bind_text(st, 4, allocs[i].vcpus, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, allocs[i].mode, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            if (rc == SQLITE_CONSTRAINT)
                return NFV_ERR(err, NFV_E_EXIST, "PU %u of the host is already held", allocs[i].pu);
            return vm_dbs_fail(db, err, "inserting an allocation");
        }
    }
    sqlite3_finalize(st);
    if (ret_id)
        *ret_id = id;
    return NFV_OK;
}

#define VM_SELECT                                                                                  \
    "SELECT v.id, v.name, v.host_id, h.name, v.state, COALESCE(g.name, ''), v.role, v.spec, "      \
    "v.plan, v.created_ms, v.updated_ms, COALESCE(v.uuid, '') FROM vms v JOIN hosts h ON h.id = "  \
    "v.host_id "                                                                                   \
    "LEFT JOIN groups g ON g.id = v.group_id "

static enum nfv_code vm_from_row(sqlite3_stmt *st, struct vm_db_vm *vm, struct nfv_err *err)
{
    char buf[32];

    memset(vm, 0, sizeof(*vm));
    vm->id = sqlite3_column_int64(st, 0);
    vm_dbs_col_copy(st, 1, vm->name, sizeof(vm->name));
    vm->host_id = sqlite3_column_int64(st, 2);
    vm_dbs_col_copy(st, 3, vm->host, sizeof(vm->host));
    vm_dbs_col_copy(st, 4, buf, sizeof(buf));
    vm->state = vm_guest_state_from_string(buf);
    vm_dbs_col_copy(st, 5, vm->group, sizeof(vm->group));
    vm_dbs_col_copy(st, 6, buf, sizeof(buf));
    vm->role = vm_role_from_string(buf);
    vm->spec = vm_dbs_col_dup(st, 7);
    vm->plan = vm_dbs_col_dup(st, 8);
    vm->created_ms = sqlite3_column_int64(st, 9);
    vm->updated_ms = sqlite3_column_int64(st, 10);
    vm_dbs_col_copy(st, 11, vm->uuid, sizeof(vm->uuid));
    if (!vm->spec || !vm->plan) {
        vm_db_vm_clear(vm);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    return NFV_OK;
}

enum nfv_code vm_db_vm_get(struct vm_db *db, const char *name, struct vm_db_vm *ret,
                           struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code;
    int rc;

    if (vm_dbs_prepare(db, VM_SELECT "WHERE v.name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = vm_from_row(st, ret, err);
    else if (rc == SQLITE_DONE)
        code = NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    else
        code = vm_dbs_fail(db, err, "reading a VM");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_vm_list(struct vm_db *db, int64_t host_id, vm_db_vm_cb cb, void *opaque,
                            struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code = NFV_OK;
    int rc;

    if (vm_dbs_prepare(db,
                       host_id > 0 ? VM_SELECT "WHERE v.host_id = ? ORDER BY v.name"
                                   : VM_SELECT "WHERE ? = 0 ORDER BY v.name",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id > 0 ? host_id : 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vm_db_vm vm;
        int stop;
        if ((code = vm_from_row(st, &vm, err)) != NFV_OK)
            break;
        stop = cb(opaque, &vm);
        vm_db_vm_clear(&vm);
        if (stop)
            break;
    }
    if (code == NFV_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = vm_dbs_fail(db, err, "listing VMs");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_vm_set_state(struct vm_db *db, const char *name, enum vm_guest_state state,
                                 int64_t now_ms, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "UPDATE vms SET state = ?, updated_ms = ? WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_guest_state_to_string(state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "updating a VM");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_vm_delete(struct vm_db *db, const char *name, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "DELETE FROM vms WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "deleting a VM");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_alloc_count(struct vm_db *db, int64_t host_id, unsigned *ret,
                                struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT COUNT(*) FROM allocations WHERE host_id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (unsigned)sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : vm_dbs_fail(db, err, "counting allocations");
}

enum nfv_code vm_db_group_insert(struct vm_db *db, const char *name, enum vm_scope scope,
                                 int64_t now_ms, int64_t *ret_id, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "INSERT INTO groups (name, scope, created_ms) VALUES (?,?,?)", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vm_scope_to_string(scope), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return NFV_ERR(err, NFV_E_EXIST, "group '%s' already exists", name);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "inserting a group");
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(db->h);
    return NFV_OK;
}

enum nfv_code vm_db_group_get(struct vm_db *db, const char *name, int64_t *ret_id,
                              enum vm_scope *ret_scope, struct nfv_err *err)
{
    sqlite3_stmt *st;
    char buf[16];
    int rc;

    *ret_id = 0;
    if (vm_dbs_prepare(db, "SELECT id, scope FROM groups WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(st, 0);
        vm_dbs_col_copy(st, 1, buf, sizeof(buf));
        if (ret_scope)
            *ret_scope = vm_scope_from_string(buf);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return NFV_ERR(err, NFV_E_NOENT, "group '%s' not found", name);
    return rc == SQLITE_ROW ? NFV_OK : vm_dbs_fail(db, err, "reading a group");
}

enum nfv_code vm_db_group_list(struct vm_db *db, vm_db_group_cb cb, void *opaque,
                               struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(
            db,
            "SELECT g.name, g.scope, (SELECT COUNT(*) FROM vms v WHERE v.group_id = g.id) "
            "FROM groups g ORDER BY g.name",
            &st, err))
        return NFV_E_DB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[VM_NAME_MAX], scope[16];
        vm_dbs_col_copy(st, 0, name, sizeof(name));
        vm_dbs_col_copy(st, 1, scope, sizeof(scope));
        if (cb(opaque, name, vm_scope_from_string(scope), (unsigned)sqlite3_column_int(st, 2)))
            break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "listing groups");
}

enum nfv_code vm_db_group_prune(struct vm_db *db, struct nfv_err *err)
{
    return vm_dbs_exec(db,
                       "DELETE FROM groups WHERE id NOT IN "
                       "(SELECT group_id FROM vms WHERE group_id IS NOT NULL)",
                       err);
}

enum nfv_code vm_db_vm_set_uuid(struct vm_db *db, const char *name, const char *uuid,
                                struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "UPDATE vms SET uuid = ? WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "recording a UUID");
}
