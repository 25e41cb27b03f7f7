/*
 * vm_db_sqlite_net.c - the state database's networks (name, VLAN) and each
 * host's place on the switch (its integration bridge and its trunk port on
 * the top-of-rack switch), schema 4. Helpers from vm_db_sqlite.c
 * (vm_db_sqlite_priv.h); the service's user is vm_net.c.
 */
#include <stdio.h>
#include <string.h>

#include "vm_db_sqlite_priv.h"

enum nfv_code vm_db_net_insert(struct vm_db *db, const struct vm_db_net *n, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "INSERT INTO networks (name, vlan, created_ms) VALUES (?,?,?)", &st,
                       err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, n->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)n->vlan);
    sqlite3_bind_int64(st, 3, n->created_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
        /* Which of the two unique columns: ask, the message must name it. */
        bool is_name = false;
        if (vm_dbs_prepare(db, "SELECT 1 FROM networks WHERE name = ?", &st, NULL) == NFV_OK) {
            sqlite3_bind_text(st, 1, n->name, -1, SQLITE_STATIC);
            is_name = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_finalize(st);
        }
        if (is_name)
            return NFV_ERR(err, NFV_E_EXIST, "network '%s' already exists", n->name);
        return NFV_ERR(err, NFV_E_EXIST, "'vlan': %u is already used by another network", n->vlan);
    }
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "inserting a network");
    return NFV_OK;
}

enum nfv_code vm_db_net_delete(struct vm_db *db, const char *name, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "DELETE FROM networks WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "deleting a network");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "network '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_net_list(struct vm_db *db, vm_db_net_cb cb, void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT name, vlan, created_ms FROM networks ORDER BY name", &st, err))
        return NFV_E_DB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vm_db_net n;
        memset(&n, 0, sizeof(n));
        vm_dbs_col_copy(st, 0, n.name, sizeof(n.name));
        n.vlan = (unsigned)sqlite3_column_int(st, 1);
        n.created_ms = sqlite3_column_int64(st, 2);
        if (cb(opaque, &n)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "listing networks");
    return NFV_OK;
}

enum nfv_code vm_db_host_net_set(struct vm_db *db, int64_t host_id, const char *bridge,
                                 const char *switch_port, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    /* An upsert, not INSERT OR REPLACE: that would delete another host's
     * row holding the same (unique) switch_port instead of failing. */
    if (vm_dbs_prepare(db,
                       "INSERT INTO host_net (host_id, bridge, switch_port) VALUES (?,?,?) "
                       "ON CONFLICT (host_id) DO UPDATE SET bridge = excluded.bridge, "
                       "switch_port = excluded.switch_port",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_text(st, 2, bridge, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, switch_port ? switch_port : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return NFV_ERR(err, NFV_E_EXIST, "'switch_port': '%s' is another host's trunk",
                       switch_port);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "storing a host's switch port");
    return NFV_OK;
}

enum nfv_code vm_db_host_net_list(struct vm_db *db, vm_db_host_net_cb cb, void *opaque,
                                  struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT host_id, bridge, switch_port FROM host_net", &st, err))
        return NFV_E_DB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char bridge[64], port[64];
        vm_dbs_col_copy(st, 1, bridge, sizeof(bridge));
        vm_dbs_col_copy(st, 2, port, sizeof(port));
        if (cb(opaque, sqlite3_column_int64(st, 0), bridge, port)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "listing hosts' switch ports");
    return NFV_OK;
}
