/*
 * vm_db_sqlite_priv.h - what the SQLite adapter's three files share: the
 * handle and the statement helpers (vm_db_sqlite.c). Only these files
 * include sqlite3.h.
 */
#ifndef VM_DB_SQLITE_PRIV_H
#define VM_DB_SQLITE_PRIV_H

#include <sqlite3.h>

#include "vm/vm_db.h"

struct vm_db {
    sqlite3 *h;
};

/* NFV_E_DB naming @what and SQLite's message. */
enum nfv_code vm_dbs_fail(struct vm_db *db, struct nfv_err *err, const char *what);
enum nfv_code vm_dbs_prepare(struct vm_db *db, const char *sql, sqlite3_stmt **ret,
                             struct nfv_err *err);
enum nfv_code vm_dbs_exec(struct vm_db *db, const char *sql, struct nfv_err *err);
/* Column @col as text into @buf (truncated), or as a malloc'ed copy. */
void vm_dbs_col_copy(sqlite3_stmt *st, int col, char *buf, size_t buf_size);
char *vm_dbs_col_dup(sqlite3_stmt *st, int col);

#endif /* VM_DB_SQLITE_PRIV_H */
