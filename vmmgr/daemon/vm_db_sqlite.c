/*
 * vm_db_sqlite.c - the state database on SQLite (see vm_db.h).
 *
 * The only file that includes sqlite3.h. The schema is a list of migrations;
 * PRAGMA user_version records how many ran, and each one runs in its own
 * transaction together with the version bump, so an interrupted upgrade
 * leaves the database at the previous version. WAL mode lets readers (the
 * CLI's sqlite3 for debugging) work while vmmgrd writes; synchronous=FULL
 * because a journal entry that is lost on power failure would defeat the
 * journal.
 *
 * Core double-booking is impossible by construction: allocations has the
 * primary key (host_id, pu), so a second VM claiming a PU fails the insert.
 */
#include "vm_db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vm_db {
    sqlite3 *h;
};

/* Migration N brings the schema from version N to N+1. Never edit a released
 * entry: append a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: the initial schema. */
    "CREATE TABLE hosts ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " uri TEXT NOT NULL,"
    " admin_state TEXT NOT NULL DEFAULT 'up' CHECK (admin_state IN ('up','maintenance')),"
    " topo_source TEXT NOT NULL,"
    " topo TEXT,"
    " topo_json TEXT NOT NULL,"
    " n_pus INTEGER NOT NULL CHECK (n_pus > 0),"
    " memory_mib INTEGER NOT NULL,"
    " reserved TEXT NOT NULL DEFAULT '',"
    " dedicated TEXT NOT NULL DEFAULT '',"
    " labels TEXT NOT NULL DEFAULT '{}',"
    " node_xml TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE groups ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " scope TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE vms ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " host_id INTEGER NOT NULL REFERENCES hosts(id),"
    " state TEXT NOT NULL,"
    " group_id INTEGER REFERENCES groups(id),"
    " role TEXT NOT NULL DEFAULT 'none',"
    " spec TEXT NOT NULL,"
    " plan TEXT NOT NULL DEFAULT '{}',"
    " uuid TEXT,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX vms_host ON vms(host_id);"
    "CREATE TABLE allocations ("
    " host_id INTEGER NOT NULL REFERENCES hosts(id),"
    " pu INTEGER NOT NULL,"
    " vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
    " vcpus TEXT NOT NULL,"
    " mode TEXT NOT NULL,"
    " PRIMARY KEY (host_id, pu));"
    "CREATE INDEX allocations_vm ON allocations(vm_id);"
    "CREATE TABLE journal ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " payload TEXT NOT NULL DEFAULT '{}',"
    " created_ms INTEGER NOT NULL,"
    " finished_ms INTEGER,"
    " error TEXT);"
    "CREATE INDEX journal_pending ON journal(state) WHERE state = 'pending';"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts_ms INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " severity TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " message TEXT NOT NULL);",
    /* 1 -> 2: the audit trail (issue 10). */
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts_ms INTEGER NOT NULL,"
    " who TEXT NOT NULL,"
    " method TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " result TEXT NOT NULL);",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == VM_DB_SCHEMA_VERSION, "bump VM_DB_SCHEMA_VERSION");

static enum nfv_code db_fail(struct vm_db *db, struct nfv_err *err, const char *what)
{
    return NFV_ERR(err, NFV_E_DB, "state database: %s: %s", what, sqlite3_errmsg(db->h));
}

static enum nfv_code db_exec(struct vm_db *db, const char *sql, struct nfv_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        NFV_ERR(err, NFV_E_DB, "state database: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return NFV_E_DB;
    }
    return NFV_OK;
}

static enum nfv_code db_prepare(struct vm_db *db, const char *sql, sqlite3_stmt **ret,
                                struct nfv_err *err)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, ret, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare");
    return NFV_OK;
}

int vm_db_schema_version(struct vm_db *db)
{
    sqlite3_stmt *st;
    int v = -1;

    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static enum nfv_code migrate(struct vm_db *db, struct nfv_err *err)
{
    int version = vm_db_schema_version(db);

    if (version < 0)
        return db_fail(db, err, "reading the schema version");
    if ((size_t)version > N_MIGRATIONS)
        return NFV_ERR(err, NFV_E_DB,
                       "state database: schema version %d is newer than this vmmgrd (%zu)", version,
                       N_MIGRATIONS);
    for (size_t v = (size_t)version; v < N_MIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu", v + 1);
        if (db_exec(db, "BEGIN IMMEDIATE", err) != NFV_OK)
            return NFV_E_DB;
        if (db_exec(db, migrations[v], err) != NFV_OK || db_exec(db, bump, err) != NFV_OK) {
            vm_db_rollback(db);
            nfv_err_prefix(err, "migration %zu", v + 1);
            return NFV_E_DB;
        }
        if (db_exec(db, "COMMIT", err) != NFV_OK)
            return NFV_E_DB;
    }
    return NFV_OK;
}

/*
 * The database holds the journal and events (operators' words, host URIs):
 * mode 0600. SQLite creates a new file 0644 and gives its -wal and -shm
 * files the database file's mode, so the file is created (or, from an older
 * vmmgrd, corrected) here first, and any -wal/-shm left over corrected too.
 */
static enum nfv_code private_files(const char *path, struct nfv_err *err)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[PATH_MAX + 16];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        int fd;
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (i == 0 ? O_CREAT : 0), 0600);
        if (fd < 0) {
            if (i > 0 && errno == ENOENT)
                continue;
            return NFV_ERR_ERRNO(err, NFV_E_DB, errno, "'%s': cannot open state database: %s", p,
                                 strerror(errno));
        }
        if (fchmod(fd, 0600) != 0) {
            int e = errno;
            close(fd);
            return NFV_ERR_ERRNO(err, NFV_E_DB, e, "'%s': cannot make it private: %s", p,
                                 strerror(e));
        }
        close(fd);
    }
    return NFV_OK;
}

enum nfv_code vm_db_open(const char *path, struct vm_db **ret, struct nfv_err *err)
{
    struct vm_db *db = calloc(1, sizeof(*db));
    int rc;

    if (!db)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (private_files(path, err) != NFV_OK) {
        free(db);
        return NFV_E_DB;
    }
    rc = sqlite3_open_v2(path, &db->h,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        NFV_ERR(err, NFV_E_DB, "'%s': cannot open state database: %s", path,
                db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        vm_db_close(db);
        return NFV_E_DB;
    }
    sqlite3_busy_timeout(db->h, 5000);
    if (db_exec(db, "PRAGMA journal_mode = WAL", err) != NFV_OK ||
        db_exec(db, "PRAGMA synchronous = FULL", err) != NFV_OK ||
        db_exec(db, "PRAGMA foreign_keys = ON", err) != NFV_OK || migrate(db, err) != NFV_OK) {
        nfv_err_prefix(err, "'%s'", path);
        vm_db_close(db);
        return NFV_E_DB;
    }
    *ret = db;
    return NFV_OK;
}

void vm_db_close(struct vm_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    free(db);
}

enum nfv_code vm_db_begin(struct vm_db *db, struct nfv_err *err)
{
    return db_exec(db, "BEGIN IMMEDIATE", err);
}

enum nfv_code vm_db_commit(struct vm_db *db, struct nfv_err *err)
{
    return db_exec(db, "COMMIT", err);
}

void vm_db_rollback(struct vm_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

static void col_copy(sqlite3_stmt *st, int col, char *buf, size_t buf_size)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t len = s ? strlen((const char *)s) : 0;

    if (len >= buf_size)
        len = buf_size - 1;
    if (len)
        memcpy(buf, s, len);
    buf[len] = '\0';
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s ? strdup((const char *)s) : NULL;
}

/* ---- hosts ---- */

void vm_db_host_clear(struct vm_db_host *h)
{
    if (!h)
        return;
    free(h->topo);
    free(h->topo_json);
    free(h->labels_json);
    h->topo = h->topo_json = h->labels_json = NULL;
}

#define HOST_COLS                                                                                  \
    "id, name, uri, admin_state, topo_source, topo, topo_json, n_pus, memory_mib, reserved, "      \
    "dedicated, labels, node_xml, created_ms"

static enum nfv_code host_from_row(sqlite3_stmt *st, struct vm_db_host *h, struct nfv_err *err)
{
    char buf[32];

    memset(h, 0, sizeof(*h));
    h->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, h->name, sizeof(h->name));
    col_copy(st, 2, h->uri, sizeof(h->uri));
    col_copy(st, 3, buf, sizeof(buf));
    h->admin_state = vm_host_state_from_string(buf);
    col_copy(st, 4, buf, sizeof(buf));
    h->topo_source = vm_topo_source_from_string(buf);
    h->topo = col_dup(st, 5);
    h->topo_json = col_dup(st, 6);
    h->n_pus = (unsigned)sqlite3_column_int(st, 7);
    h->memory_mib = (uint64_t)sqlite3_column_int64(st, 8);
    col_copy(st, 9, h->reserved, sizeof(h->reserved));
    col_copy(st, 10, h->dedicated, sizeof(h->dedicated));
    h->labels_json = col_dup(st, 11);
    col_copy(st, 12, h->node_xml, sizeof(h->node_xml));
    h->created_ms = sqlite3_column_int64(st, 13);
    if (!h->topo_json || !h->labels_json ||
        (sqlite3_column_type(st, 5) != SQLITE_NULL && !h->topo)) {
        vm_db_host_clear(h);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    return NFV_OK;
}

enum nfv_code vm_db_host_insert(struct vm_db *db, const struct vm_db_host *h, int64_t *ret_id,
                                struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db,
                   "INSERT INTO hosts (name, uri, admin_state, topo_source, topo, topo_json, "
                   "n_pus, memory_mib, reserved, dedicated, labels, node_xml, created_ms) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, h->uri, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, vm_host_state_to_string(h->admin_state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, vm_topo_source_to_string(h->topo_source), -1, SQLITE_STATIC);
    if (h->topo)
        sqlite3_bind_text(st, 5, h->topo, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, h->topo_json ? h->topo_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, (int)h->n_pus);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)h->memory_mib);
    sqlite3_bind_text(st, 9, h->reserved, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, h->dedicated, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, h->labels_json ? h->labels_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, h->node_xml, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 13, h->created_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return NFV_ERR(err, NFV_E_EXIST, "host '%s' already exists", h->name);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "inserting a host");
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(db->h);
    return NFV_OK;
}

enum nfv_code vm_db_host_get(struct vm_db *db, const char *name, struct vm_db_host *ret,
                             struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code;
    int rc;

    if (db_prepare(db, "SELECT " HOST_COLS " FROM hosts WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = host_from_row(st, ret, err);
    else if (rc == SQLITE_DONE)
        code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    else
        code = db_fail(db, err, "reading a host");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_host_list(struct vm_db *db, vm_db_host_cb cb, void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code = NFV_OK;
    int rc;

    if (db_prepare(db, "SELECT " HOST_COLS " FROM hosts ORDER BY name", &st, err))
        return NFV_E_DB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vm_db_host h;
        int stop;
        if ((code = host_from_row(st, &h, err)) != NFV_OK)
            break;
        stop = cb(opaque, &h);
        vm_db_host_clear(&h);
        if (stop)
            break;
    }
    if (code == NFV_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = db_fail(db, err, "listing hosts");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_host_set_state(struct vm_db *db, const char *name, enum vm_host_state state,
                                   struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "UPDATE hosts SET admin_state = ? WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_host_state_to_string(state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "updating a host");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_host_count_vms(struct vm_db *db, int64_t host_id, unsigned *ret,
                                   struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "SELECT COUNT(*) FROM vms WHERE host_id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (unsigned)sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : db_fail(db, err, "counting VMs");
}

enum nfv_code vm_db_host_delete(struct vm_db *db, const char *name, struct nfv_err *err)
{
    struct vm_db_host h;
    sqlite3_stmt *st;
    unsigned n_vms = 0;
    int rc;

    if (vm_db_host_get(db, name, &h, err) != NFV_OK)
        return err ? err->code : NFV_E_NOENT;
    vm_db_host_clear(&h);
    if (vm_db_host_count_vms(db, h.id, &n_vms, err) != NFV_OK)
        return NFV_E_DB;
    if (n_vms)
        return NFV_ERR(err, NFV_E_STATE, "host '%s' still has %u VM(s); delete them first", name,
                       n_vms);
    if (db_prepare(db, "DELETE FROM hosts WHERE id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, h.id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : db_fail(db, err, "deleting a host");
}

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

    if (db_prepare(db,
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
        return db_fail(db, err, "journaling an operation");
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
    if (db_prepare(db,
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
        return db_fail(db, err, "completing an operation");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_STATE, "operation %lld is not pending", (long long)id);
    return NFV_OK;
}

#define OP_COLS "id, kind, state, target, payload, created_ms, finished_ms, error"

static enum nfv_code op_from_row(sqlite3_stmt *st, struct vm_db_op *op, struct nfv_err *err)
{
    char buf[32];

    memset(op, 0, sizeof(*op));
    op->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, buf, sizeof(buf));
    op->kind = vm_op_kind_from_string(buf);
    col_copy(st, 2, buf, sizeof(buf));
    op->state = vm_op_state_from_string(buf);
    col_copy(st, 3, op->target, sizeof(op->target));
    op->payload = col_dup(st, 4);
    op->created_ms = sqlite3_column_int64(st, 5);
    op->finished_ms = sqlite3_column_int64(st, 6);
    col_copy(st, 7, op->error, sizeof(op->error));
    if (!op->payload)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    return NFV_OK;
}

enum nfv_code vm_db_op_get(struct vm_db *db, int64_t id, struct vm_db_op *ret, struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code;
    int rc;

    if (db_prepare(db, "SELECT " OP_COLS " FROM journal WHERE id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = op_from_row(st, ret, err);
    else if (rc == SQLITE_DONE)
        code = NFV_ERR(err, NFV_E_NOENT, "operation %lld not found", (long long)id);
    else
        code = db_fail(db, err, "reading an operation");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_op_list(struct vm_db *db, bool is_pending_only, unsigned limit, vm_db_op_cb cb,
                            void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code = NFV_OK;
    int rc;

    if (db_prepare(db,
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
        code = db_fail(db, err, "listing operations");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_op_count_pending(struct vm_db *db, uint64_t *ret, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "SELECT COUNT(*) FROM journal WHERE state = 'pending'", &st, err))
        return NFV_E_DB;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : db_fail(db, err, "counting operations");
}

/* ---- events ---- */

enum nfv_code vm_db_event_add(struct vm_db *db, const struct vm_db_event *ev, int64_t *ret_id,
                              struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db,
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
        return db_fail(db, err, "recording an event");
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(db->h);
    return NFV_OK;
}

enum nfv_code vm_db_event_list(struct vm_db *db, int64_t since_id, unsigned limit,
                               vm_db_event_cb cb, void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db,
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
        col_copy(st, 2, ev.type, sizeof(ev.type));
        col_copy(st, 3, sev, sizeof(sev));
        ev.severity = vm_severity_from_string(sev);
        col_copy(st, 4, ev.object, sizeof(ev.object));
        col_copy(st, 5, ev.message, sizeof(ev.message));
        if (cb(opaque, &ev))
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, err, "listing events");
    return NFV_OK;
}

enum nfv_code vm_db_event_last_id(struct vm_db *db, int64_t *ret, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "SELECT COALESCE(MAX(id), 0) FROM events", &st, err))
        return NFV_E_DB;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : db_fail(db, err, "reading the last event");
}

/* Runs @sql, a DELETE of all but the newest ?1 rows, with @keep. */
static enum nfv_code prune_newest(struct vm_db *db, const char *sql, unsigned keep,
                                  const char *what, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, sql, &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, keep);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : db_fail(db, err, what);
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

    if (db_prepare(db,
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
        return db_fail(db, err, "recording an audit entry");
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

    if (db_prepare(db,
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
        col_copy(st, 2, a.who, sizeof(a.who));
        col_copy(st, 3, a.method, sizeof(a.method));
        col_copy(st, 4, a.path, sizeof(a.path));
        a.status = sqlite3_column_int(st, 5);
        col_copy(st, 6, a.result, sizeof(a.result));
        if (cb(opaque, &a))
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, err, "listing the audit trail");
    return NFV_OK;
}

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

    if (db_prepare(db,
                   "INSERT INTO vms (name, host_id, state, group_id, role, spec, plan, "
                   "created_ms, updated_ms) VALUES (?, ?, ?, "
                   "(SELECT id FROM groups WHERE name = ?), ?, ?, ?, ?, ?)",
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
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return NFV_ERR(err, NFV_E_EXIST, "VM '%s' already exists", vm->name);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "inserting a VM");
    id = sqlite3_last_insert_rowid(db->h);
    if (db_prepare(db,
                   "INSERT INTO allocations (host_id, pu, vm_id, vcpus, mode) VALUES (?,?,?,?,?)",
                   &st, err))
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
            return db_fail(db, err, "inserting an allocation");
        }
    }
    sqlite3_finalize(st);
    if (ret_id)
        *ret_id = id;
    return NFV_OK;
}

#define VM_SELECT                                                                                  \
    "SELECT v.id, v.name, v.host_id, h.name, v.state, COALESCE(g.name, ''), v.role, v.spec, "      \
    "v.plan, v.created_ms, v.updated_ms FROM vms v JOIN hosts h ON h.id = v.host_id "              \
    "LEFT JOIN groups g ON g.id = v.group_id "

static enum nfv_code vm_from_row(sqlite3_stmt *st, struct vm_db_vm *vm, struct nfv_err *err)
{
    char buf[32];

    memset(vm, 0, sizeof(*vm));
    vm->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, vm->name, sizeof(vm->name));
    vm->host_id = sqlite3_column_int64(st, 2);
    col_copy(st, 3, vm->host, sizeof(vm->host));
    col_copy(st, 4, buf, sizeof(buf));
    vm->state = vm_guest_state_from_string(buf);
    col_copy(st, 5, vm->group, sizeof(vm->group));
    col_copy(st, 6, buf, sizeof(buf));
    vm->role = vm_role_from_string(buf);
    vm->spec = col_dup(st, 7);
    vm->plan = col_dup(st, 8);
    vm->created_ms = sqlite3_column_int64(st, 9);
    vm->updated_ms = sqlite3_column_int64(st, 10);
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

    if (db_prepare(db, VM_SELECT "WHERE v.name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = vm_from_row(st, ret, err);
    else if (rc == SQLITE_DONE)
        code = NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    else
        code = db_fail(db, err, "reading a VM");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_vm_list(struct vm_db *db, int64_t host_id, vm_db_vm_cb cb, void *opaque,
                            struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code = NFV_OK;
    int rc;

    if (db_prepare(db,
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
        code = db_fail(db, err, "listing VMs");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_vm_set_state(struct vm_db *db, const char *name, enum vm_guest_state state,
                                 int64_t now_ms, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "UPDATE vms SET state = ?, updated_ms = ? WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_guest_state_to_string(state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "updating a VM");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_vm_delete(struct vm_db *db, const char *name, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "DELETE FROM vms WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "deleting a VM");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "VM '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_alloc_count(struct vm_db *db, int64_t host_id, unsigned *ret,
                                struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "SELECT COUNT(*) FROM allocations WHERE host_id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (unsigned)sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : db_fail(db, err, "counting allocations");
}

enum nfv_code vm_db_group_insert(struct vm_db *db, const char *name, enum vm_scope scope,
                                 int64_t now_ms, int64_t *ret_id, struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db, "INSERT INTO groups (name, scope, created_ms) VALUES (?,?,?)", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vm_scope_to_string(scope), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return NFV_ERR(err, NFV_E_EXIST, "group '%s' already exists", name);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "inserting a group");
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
    if (db_prepare(db, "SELECT id, scope FROM groups WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(st, 0);
        col_copy(st, 1, buf, sizeof(buf));
        if (ret_scope)
            *ret_scope = vm_scope_from_string(buf);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return NFV_ERR(err, NFV_E_NOENT, "group '%s' not found", name);
    return rc == SQLITE_ROW ? NFV_OK : db_fail(db, err, "reading a group");
}

enum nfv_code vm_db_group_list(struct vm_db *db, vm_db_group_cb cb, void *opaque,
                               struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (db_prepare(db,
                   "SELECT g.name, g.scope, (SELECT COUNT(*) FROM vms v WHERE v.group_id = g.id) "
                   "FROM groups g ORDER BY g.name",
                   &st, err))
        return NFV_E_DB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[VM_NAME_MAX], scope[16];
        col_copy(st, 0, name, sizeof(name));
        col_copy(st, 1, scope, sizeof(scope));
        if (cb(opaque, name, vm_scope_from_string(scope), (unsigned)sqlite3_column_int(st, 2)))
            break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? NFV_OK : db_fail(db, err, "listing groups");
}

enum nfv_code vm_db_group_prune(struct vm_db *db, struct nfv_err *err)
{
    return db_exec(db,
                   "DELETE FROM groups WHERE id NOT IN "
                   "(SELECT group_id FROM vms WHERE group_id IS NOT NULL)",
                   err);
}
