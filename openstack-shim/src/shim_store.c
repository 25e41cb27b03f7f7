/*
 * shim_store.c - the shim's own state in SQLite: one table of JSON
 * documents keyed by (kind, id) - flavors, server groups, servers and the
 * hypervisor ids. The maps in memory are the working copy; every change is
 * written through before the answer goes out, so a restarted shim knows
 * every server it accepted (vmmgrd stays the truth for hosts and VMs).
 */
#include "shim_priv.h"

#include <sqlite3.h>
#include <stdlib.h>

struct shim_store {
    sqlite3 *db;
    sqlite3_stmt *put, *del;
};

enum nfv_code shim_store_open(const char *path, struct shim_store **ret, struct nfv_err *err)
{
    struct shim_store *s = calloc(1, sizeof(*s));

    if (!s)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL,"
                     " doc TEXT NOT NULL, PRIMARY KEY (kind, id));",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO objects (kind, id, doc) VALUES (?,?,?)",
                           -1, &s->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "DELETE FROM objects WHERE kind = ? AND id = ?", -1, &s->del,
                           NULL) != SQLITE_OK) {
        NFV_ERR(err, NFV_E_DB, "'%s': cannot open the state database (%s)", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        shim_store_close(s);
        return NFV_E_DB;
    }
    *ret = s;
    return NFV_OK;
}

void shim_store_close(struct shim_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->del);
    sqlite3_close(s->db);
    free(s);
}

enum nfv_code shim_store_load(struct shim_store *s, const char *kind, json_t *into,
                              struct nfv_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "SELECT id, doc FROM objects WHERE kind = ?", -1, &st, NULL))
        return NFV_ERR(err, NFV_E_DB, "state database: %s", sqlite3_errmsg(s->db));
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (doc)
            json_object_set_new(into, (const char *)sqlite3_column_text(st, 0), doc);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK
                             : NFV_ERR(err, NFV_E_DB, "state database: %s", sqlite3_errmsg(s->db));
}

enum nfv_code shim_store_put(struct shim_store *s, const char *kind, const char *id,
                             const json_t *doc, struct nfv_err *err)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    int rc;

    if (!text)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    sqlite3_bind_text(s->put, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->put, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->put, 3, text, -1, SQLITE_STATIC);
    rc = sqlite3_step(s->put);
    sqlite3_reset(s->put);
    sqlite3_clear_bindings(s->put);
    free(text);
    return rc == SQLITE_DONE ? NFV_OK
                             : NFV_ERR(err, NFV_E_DB, "state database: %s", sqlite3_errmsg(s->db));
}

enum nfv_code shim_store_del(struct shim_store *s, const char *kind, const char *id,
                             struct nfv_err *err)
{
    int rc;

    sqlite3_bind_text(s->del, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->del, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s->del);
    sqlite3_reset(s->del);
    return rc == SQLITE_DONE ? NFV_OK
                             : NFV_ERR(err, NFV_E_DB, "state database: %s", sqlite3_errmsg(s->db));
}
