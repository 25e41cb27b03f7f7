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
#include "vm_db_sqlite_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    /* 1 -> 2: the step a job reached (jobs resume from it after a crash),
     * and VM UUIDs made unique (libvirt events are matched by them). */
    "ALTER TABLE journal ADD COLUMN step TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX vms_uuid ON vms(uuid) WHERE uuid IS NOT NULL;",
    /* 2 -> 3: the audit trail (issue 10). */
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts_ms INTEGER NOT NULL,"
    " who TEXT NOT NULL,"
    " method TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " result TEXT NOT NULL);",
    /* 3 -> 4: networks (VLANs) and each host's place on the switch (issue
     * 15; vm_db_sqlite_net.c). A host row from schema 3 has no host_net row:
     * bridge br-int, no trunk port. */
    "CREATE TABLE networks ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " vlan INTEGER NOT NULL UNIQUE CHECK (vlan BETWEEN 1 AND 4094),"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE host_net ("
    " host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,"
    " bridge TEXT NOT NULL,"
    " switch_port TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX host_net_port ON host_net(switch_port) WHERE switch_port != '';",
    /* 4 -> 5: healing (issue 12): each host's state machine and BMC (the
     * password lives in a 0600 file under the state dir, never here), the
     * domains a fenced host may still hold (removed at its recovery), and
     * VMs lost with a fenced host. */
    "CREATE TABLE host_heal ("
    " host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,"
    " state TEXT NOT NULL DEFAULT 'up',"
    " since_ms INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " bmc_address TEXT NOT NULL DEFAULT '',"
    " bmc_user TEXT NOT NULL DEFAULT '',"
    " last_critical TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE stale_domains ("
    " host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
    " uuid TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " PRIMARY KEY (host_id, uuid));",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == VM_DB_SCHEMA_VERSION, "bump VM_DB_SCHEMA_VERSION");

enum nfv_code vm_dbs_fail(struct vm_db *db, struct nfv_err *err, const char *what)
{
    return NFV_ERR(err, NFV_E_DB, "state database: %s: %s", what, sqlite3_errmsg(db->h));
}

enum nfv_code vm_dbs_exec(struct vm_db *db, const char *sql, struct nfv_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        NFV_ERR(err, NFV_E_DB, "state database: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return NFV_E_DB;
    }
    return NFV_OK;
}

enum nfv_code vm_dbs_prepare(struct vm_db *db, const char *sql, sqlite3_stmt **ret,
                             struct nfv_err *err)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, ret, NULL) != SQLITE_OK)
        return vm_dbs_fail(db, err, "prepare");
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
        return vm_dbs_fail(db, err, "reading the schema version");
    if ((size_t)version > N_MIGRATIONS)
        return NFV_ERR(err, NFV_E_DB,
                       "state database: schema version %d is newer than this vmmgrd (%zu)", version,
                       N_MIGRATIONS);
    for (size_t v = (size_t)version; v < N_MIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu", v + 1);
        if (vm_dbs_exec(db, "BEGIN IMMEDIATE", err) != NFV_OK)
            return NFV_E_DB;
        if (vm_dbs_exec(db, migrations[v], err) != NFV_OK || vm_dbs_exec(db, bump, err) != NFV_OK) {
            vm_db_rollback(db);
            nfv_err_prefix(err, "migration %zu", v + 1);
            return NFV_E_DB;
        }
        if (vm_dbs_exec(db, "COMMIT", err) != NFV_OK)
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
    if (vm_dbs_exec(db, "PRAGMA journal_mode = WAL", err) != NFV_OK ||
        vm_dbs_exec(db, "PRAGMA synchronous = FULL", err) != NFV_OK ||
        vm_dbs_exec(db, "PRAGMA foreign_keys = ON", err) != NFV_OK || migrate(db, err) != NFV_OK) {
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
    return vm_dbs_exec(db, "BEGIN IMMEDIATE", err);
}

enum nfv_code vm_db_commit(struct vm_db *db, struct nfv_err *err)
{
    return vm_dbs_exec(db, "COMMIT", err);
}

void vm_db_rollback(struct vm_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

void vm_dbs_col_copy(sqlite3_stmt *st, int col, char *buf, size_t buf_size)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t len = s ? strlen((const char *)s) : 0;

    if (len >= buf_size)
        len = buf_size - 1;
    if (len)
        memcpy(buf, s, len);
    buf[len] = '\0';
}

char *vm_dbs_col_dup(sqlite3_stmt *st, int col)
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
    vm_dbs_col_copy(st, 1, h->name, sizeof(h->name));
    vm_dbs_col_copy(st, 2, h->uri, sizeof(h->uri));
    vm_dbs_col_copy(st, 3, buf, sizeof(buf));
    h->admin_state = vm_host_state_from_string(buf);
    vm_dbs_col_copy(st, 4, buf, sizeof(buf));
    h->topo_source = vm_topo_source_from_string(buf);
    h->topo = vm_dbs_col_dup(st, 5);
    h->topo_json = vm_dbs_col_dup(st, 6);
    h->n_pus = (unsigned)sqlite3_column_int(st, 7);
    h->memory_mib = (uint64_t)sqlite3_column_int64(st, 8);
    vm_dbs_col_copy(st, 9, h->reserved, sizeof(h->reserved));
    vm_dbs_col_copy(st, 10, h->dedicated, sizeof(h->dedicated));
    h->labels_json = vm_dbs_col_dup(st, 11);
    vm_dbs_col_copy(st, 12, h->node_xml, sizeof(h->node_xml));
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

    if (vm_dbs_prepare(db,
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
        return vm_dbs_fail(db, err, "inserting a host");
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

    if (vm_dbs_prepare(db, "SELECT " HOST_COLS " FROM hosts WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = host_from_row(st, ret, err);
    else if (rc == SQLITE_DONE)
        code = NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    else
        code = vm_dbs_fail(db, err, "reading a host");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_host_list(struct vm_db *db, vm_db_host_cb cb, void *opaque, struct nfv_err *err)
{
    sqlite3_stmt *st;
    enum nfv_code code = NFV_OK;
    int rc;

    if (vm_dbs_prepare(db, "SELECT " HOST_COLS " FROM hosts ORDER BY name", &st, err))
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
        code = vm_dbs_fail(db, err, "listing hosts");
    sqlite3_finalize(st);
    return code;
}

enum nfv_code vm_db_host_set_state(struct vm_db *db, const char *name, enum vm_host_state state,
                                   struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "UPDATE hosts SET admin_state = ? WHERE name = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_text(st, 1, vm_host_state_to_string(state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vm_dbs_fail(db, err, "updating a host");
    if (sqlite3_changes(db->h) == 0)
        return NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", name);
    return NFV_OK;
}

enum nfv_code vm_db_host_count_vms(struct vm_db *db, int64_t host_id, unsigned *ret,
                                   struct nfv_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (vm_dbs_prepare(db, "SELECT COUNT(*) FROM vms WHERE host_id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, host_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (unsigned)sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? NFV_OK : vm_dbs_fail(db, err, "counting VMs");
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
    if (vm_dbs_prepare(db, "DELETE FROM hosts WHERE id = ?", &st, err))
        return NFV_E_DB;
    sqlite3_bind_int64(st, 1, h.id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NFV_OK : vm_dbs_fail(db, err, "deleting a host");
}
