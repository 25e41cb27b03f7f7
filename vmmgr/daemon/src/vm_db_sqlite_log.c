/*
 * vm_db_sqlite_log.c - the state database's logs on SQLite: the operation
 * journal (with the step each job reached), the event log and the audit
 * trail. Helpers from vm_db_sqlite.c (vm_db_sqlite_priv.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_db_sqlite_priv.h"

/* ---- journal ---- */

void vm_db_op_clear(struct vm_db_op *op)
{
    if (!op)
        return;
    free(op->payload);
    op->payload = NULL;
}

enum nfv_code vm_db_op_begin(struct vm_db *db, enum vm_op_kind kind, const char *target,
                             const char *payload_json, int64_t now_ms, int64_t *ret_id,
                             struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT INTO journal (kind, state, target, payload, created_ms) "
                       "VALUES (?, 'pending', ?, ?, ?)",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_op_kind_to_string(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, payload_json ? payload_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "journaling an operation");
    *ret_id = sqlite3_last_insert_rowid(db->h);
    return NFV_OK;
}

enum nfv_code vm_db_op_finish(struct vm_db *db, int64_t id, enum vm_op_state state,
                              const char *error, int64_t now_ms, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (state == VM_OPS_PENDING || (unsigned)state >= VM_OPS__COUNT)
        return NFV_ERR(err, NFV_E_INTERNAL, "journal: finishing with a non-final state");
    if (vm_dbs_prepare(db,
                       "UPDATE journal SET state = ?, error = ?, finished_ms = ? "
                       "WHERE id = ? AND state = 'pending'",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_op_state_to_string(state), -1, SQLITE_STATIC);
    if (error && *error)
        sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "completing an operation");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_STATE, "operation %lld is not pending", (long long)id);
    return NFV_OK;
}

enum nfv_code vm_db_op_set_step(struct vm_db *db, int64_t id, const char *step, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "UPDATE journal SET step = ? WHERE id = ? AND state = 'pending'", &st,
                       err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, step, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "recording a step");
}

#define OP_COLS "id, kind, state, target, payload, created_ms, finished_ms, error, step"

static enum nfv_code op_from_row(sqlite3_stmt *st, struct vm_db_op *op, struct nfv_err *err)
{
    char buf[32];

    memset(op, 0, sizeof(*op));
    op->id = sqlite3_column_int64(st, 0);
    vm_dbs_col_copy(st, 1, buf, sizeof(buf));
    op->kind = vm_op_kind_from_string(buf);
    vm_dbs_col_copy(st, 2, buf, sizeof(buf));
    op->state = vm_op_state_from_string(buf);
    vm_dbs_col_copy(st, 3, op->target, sizeof(op->target));
    op->payload = vm_dbs_col_dup(st, 4);
    op->created_ms = sqlite3_column_int64(st, 5);
    op->finished_ms = sqlite3_column_int64(st, 6);
    vm_dbs_col_copy(st, 7, op->error, sizeof(op->error));
    vm_dbs_col_copy(st, 8, op->step, sizeof(op->step));
    if (!op->payload)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    return NFV_OK;
}

enum nfv_code vm_db_op_get(struct vm_db *db, int64_t id, struct vm_db_op *ret, struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code;
    int rc;

    if (vm_dbs_prepare(db, "SELECT " OP_COLS " FROM journal WHERE id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = op_from_row(st, ret, err);
    else if (rc == SQLITE_DONE)
        code = NFV_ERR(err, NFV_E_NOENT, "operation %lld not found", (long long)id);
    else
        code = vm_dbs_fail(db, err, "reading an operation");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_op_list(struct vm_db *db, bool is_pending_only, unsigned limit, vm_db_op_cb cb,
                            void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code = NFV_OK;
    int rc;

    if (vm_dbs_prepare(db,
                       is_pending_only ? "SELECT " OP_COLS " FROM journal WHERE state = 'pending' "
                                         "ORDER BY id LIMIT ?"
                                       : "SELECT " OP_COLS " FROM journal ORDER BY id DESC LIMIT ?",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vm_db_op op;
        int stop;
        if ((code = op_from_row(st, &op, err)) != NFV_OK) {
            vm_db_op_clear(&op);
            break;
        }
        stop = cb(opaque, &op);
        vm_db_op_clear(&op);
        if (stop)
            break;
    }
    if (code == NFV_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = vm_dbs_fail(db, err, "listing operations");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_op_count_pending(struct vm_db *db, uint64_t *ret, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT COUNT(*) FROM journal WHERE state = 'pending'", &st, err))
        return NFV_E_DB;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : vm_dbs_fail(db, err, "counting operations");
}

/* ---- events ---- */

enum nfv_code vm_db_event_add(struct vm_db *db, const struct vm_db_event *ev, int64_t *ret_id,
                              struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT INTO events (ts_ms, type, severity, object, message) "
                       "VALUES (?,?,?,?,?)",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, ev->ts_ms);
    sqlite3_bind_text(st, 2, ev->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, vm_severity_to_string(ev->severity), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ev->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ev->message, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "recording an event");
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(db->h);
    return NFV_OK;
}

enum nfv_code vm_db_event_list(struct vm_db *db, int64_t since_id, unsigned limit,
                               vm_db_event_cb cb, void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "SELECT id, ts_ms, type, severity, object, message FROM events "
                       "WHERE id > ? ORDER BY id LIMIT ?",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, since_id);
    sqlite3_bind_int64(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vm_db_event ev;
        char sev[16];
        memset(&ev, 0, sizeof(ev));
        ev.id = sqlite3_column_int64(st, 0);
        ev.ts_ms = sqlite3_column_int64(st, 1);
        vm_dbs_col_copy(st, 2, ev.type, sizeof(ev.type));
        vm_dbs_col_copy(st, 3, sev, sizeof(sev));
        ev.severity = vm_severity_from_string(sev);
        vm_dbs_col_copy(st, 4, ev.object, sizeof(ev.object));
        vm_dbs_col_copy(st, 5, ev.message, sizeof(ev.message));
        if (cb(opaque, &ev))
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "listing events");
    return NFV_OK;
}

enum nfv_code vm_db_event_last_id(struct vm_db *db, int64_t *ret, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT COALESCE(MAX(id), 0) FROM events", &st, err))
        return NFV_E_DB;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : vm_dbs_fail(db, err, "reading the last event");
}

/* Runs @sql, a DELETE of all but the newest ?1 rows, with @keep. */
static enum nfv_code prune_newest(struct vm_db *db, const char *sql, unsigned keep,
                                  const char *what, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, sql, &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, keep);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, what);
}

enum nfv_code vm_db_event_prune(struct vm_db *db, unsigned keep, struct nfv_err *err)
{
    return prune_newest(db, "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?", keep,
                        "pruning events", err);
}

/* ---- audit trail ---- */

enum nfv_code vm_db_audit_add(struct vm_db *db, const struct vm_db_audit *a, int64_t *ret_id,
                              struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "INSERT INTO audit (ts_ms, who, method, path, status, result) "
                       "VALUES (?,?,?,?,?,?)",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, a->ts_ms);
    sqlite3_bind_text(st, 2, a->who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->path, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, a->status);
    sqlite3_bind_text(st, 6, a->result, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "recording an audit entry");
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(db->h);
    return NFV_OK;
}

enum nfv_code vm_db_audit_prune(struct vm_db *db, unsigned keep, struct nfv_err *err)
{
    return prune_newest(db, "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", keep,
                        "pruning the audit trail", err);
}

enum nfv_code vm_db_audit_list(struct vm_db *db, unsigned limit, vm_db_audit_cb cb, void *opaque,
                               struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db,
                       "SELECT id, ts_ms, who, method, path, status, result FROM audit "
                       "ORDER BY id DESC LIMIT ?",
                       &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vm_db_audit a;
        memset(&a, 0, sizeof(a));
        a.id = sqlite3_column_int64(st, 0);
        a.ts_ms = sqlite3_column_int64(st, 1);
        vm_dbs_col_copy(st, 2, a.who, sizeof(a.who));
        vm_dbs_col_copy(st, 3, a.method, sizeof(a.method));
        vm_dbs_col_copy(st, 4, a.path, sizeof(a.path));
        a.status = sqlite3_column_int(st, 5);
        vm_dbs_col_copy(st, 6, a.result, sizeof(a.result));
        if (cb(opaque, &a))
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "listing the audit trail");
    return NFV_OK;
}
