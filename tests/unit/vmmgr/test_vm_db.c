/*
 * test_vm_db.c - the state database: migrations, hosts, the journal and the
 * event log, on a temporary SQLite file (removed by the teardown, even when
 * an assertion fails).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm_db.h"

struct fx {
    char dir[64];
    char path[128];
    struct vm_db *db;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct nfv_err err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/vmmgr-test-db-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/vmmgr.db", f->dir);
    if (vm_db_open(f->path, &f->db, &err) != NFV_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    vm_db_close(f->db);
    unlink(f->path);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void host_fill(struct vm_db_host *h, const char *name)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", name);
    snprintf(h->uri, sizeof(h->uri), "test:///");
    h->admin_state = VM_HOST_UP;
    h->topo_source = VM_TOPO_SYNTHETIC;
    h->topo = (char *)"package:1 core:2 pu:2";
    h->topo_json = (char *)"{\"packages\":1}";
    h->labels_json = (char *)"{\"rack\":\"r1\"}";
    h->n_pus = 4;
    h->memory_mib = 1024;
    snprintf(h->reserved, sizeof(h->reserved), "0");
    snprintf(h->dedicated, sizeof(h->dedicated), "1-3");
    h->created_ms = 1000;
}

static void test_migrations_and_reopen(void **state)
{
    struct fx *f = *state;
    struct vm_db_host h;
    struct nfv_err err;
    sqlite3 *raw;

    assert_int_equal(vm_db_schema_version(f->db), VM_DB_SCHEMA_VERSION);
    host_fill(&h, "h1");
    assert_int_equal(vm_db_host_insert(f->db, &h, NULL, &err), NFV_OK);
    /* Reopening keeps data and does not re-run migrations. */
    vm_db_close(f->db);
    assert_int_equal(vm_db_open(f->path, &f->db, &err), NFV_OK);
    assert_int_equal(vm_db_host_get(f->db, "h1", &h, &err), NFV_OK);
    assert_string_equal(h.labels_json, "{\"rack\":\"r1\"}");
    vm_db_host_clear(&h);
    /* A database from a newer vmmgrd is refused, not silently used. */
    vm_db_close(f->db);
    f->db = NULL;
    assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(vm_db_open(f->path, &f->db, &err), NFV_E_DB);
    assert_non_null(strstr(err.msg, "newer"));
    assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
    {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", VM_DB_SCHEMA_VERSION);
        sqlite3_exec(raw, sql, NULL, NULL, NULL);
    }
    sqlite3_close(raw);
    assert_int_equal(vm_db_open(f->path, &f->db, &err), NFV_OK);
}

static int net_cb(void *opaque, const struct vm_db_net *n)
{
    char *buf = opaque;
    size_t len = strlen(buf);
    snprintf(buf + len, 256 - len, "%s%s=%u", len ? "," : "", n->name, n->vlan);
    return 0;
}

static int host_net_cb(void *opaque, int64_t host_id, const char *bridge, const char *port)
{
    char *buf = opaque;
    size_t len = strlen(buf);
    snprintf(buf + len, 256 - len, "%s%lld:%s:%s", len ? "," : "", (long long)host_id, bridge,
             port);
    return 0;
}

/* Networks and hosts' switch ports (schema 4, issue 15), and the upgrade of
 * a schema-3 database: its hosts stay, the new tables appear empty. */
static void test_networks(void **state)
{
    struct fx *f = *state;
    struct vm_db_net n = {.vlan = 100, .created_ms = 1};
    struct vm_db_host h;
    struct nfv_err err;
    char buf[256] = "";
    int64_t id = 0;
    sqlite3 *raw;

    snprintf(n.name, sizeof(n.name), "n100");
    assert_int_equal(vm_db_net_insert(f->db, &n, &err), NFV_OK);
    assert_int_equal(vm_db_net_insert(f->db, &n, &err), NFV_E_EXIST);
    assert_string_equal(err.msg, "network 'n100' already exists");
    snprintf(n.name, sizeof(n.name), "other");
    assert_int_equal(vm_db_net_insert(f->db, &n, &err), NFV_E_EXIST);
    assert_string_equal(err.msg, "'vlan': 100 is already used by another network");
    n.vlan = 4095; /* the table's CHECK is the last guard */
    assert_int_equal(vm_db_net_insert(f->db, &n, &err), NFV_E_EXIST);
    n.vlan = 200;
    assert_int_equal(vm_db_net_insert(f->db, &n, &err), NFV_OK);
    assert_int_equal(vm_db_net_list(f->db, net_cb, buf, &err), NFV_OK);
    assert_string_equal(buf, "n100=100,other=200");
    assert_int_equal(vm_db_net_delete(f->db, "other", &err), NFV_OK);
    assert_int_equal(vm_db_net_delete(f->db, "other", &err), NFV_E_NOENT);
    host_fill(&h, "h1");
    assert_int_equal(vm_db_host_insert(f->db, &h, &id, &err), NFV_OK);
    assert_int_equal(vm_db_host_net_set(f->db, id, "br-int", "h1-trunk", &err), NFV_OK);
    buf[0] = '\0';
    assert_int_equal(vm_db_host_net_list(f->db, host_net_cb, buf, &err), NFV_OK);
    assert_string_equal(buf, "1:br-int:h1-trunk");
    {
        /* A trunk port is one host's: the second is refused, the first kept. */
        int64_t id2 = 0;
        host_fill(&h, "h9");
        assert_int_equal(vm_db_host_insert(f->db, &h, &id2, &err), NFV_OK);
        assert_int_equal(vm_db_host_net_set(f->db, id2, "br-int", "h1-trunk", &err), NFV_E_EXIST);
        assert_string_equal(err.msg, "'switch_port': 'h1-trunk' is another host's trunk");
        assert_int_equal(vm_db_host_net_set(f->db, id2, "br-x", "", &err), NFV_OK);
        assert_int_equal(vm_db_host_net_set(f->db, id, "br-int", "h1-trunk", &err), NFV_OK);
        assert_int_equal(vm_db_host_delete(f->db, "h9", &err), NFV_OK);
    }
    buf[0] = '\0';
    assert_int_equal(vm_db_host_net_list(f->db, host_net_cb, buf, &err), NFV_OK);
    assert_string_equal(buf, "1:br-int:h1-trunk");
    /* The host's row goes with the host. */
    assert_int_equal(vm_db_host_delete(f->db, "h1", &err), NFV_OK);
    buf[0] = '\0';
    assert_int_equal(vm_db_host_net_list(f->db, host_net_cb, buf, &err), NFV_OK);
    assert_string_equal(buf, "");

    /* From schema 3: drop what migrations 4 (networks) and 5 (healing)
     * made, reopen, all back. */
    host_fill(&h, "h2");
    assert_int_equal(vm_db_host_insert(f->db, &h, NULL, &err), NFV_OK);
    vm_db_close(f->db);
    f->db = NULL;
    assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "DROP TABLE networks; DROP TABLE host_net; "
                                  "DROP TABLE host_heal; DROP TABLE stale_domains; "
                                  "PRAGMA user_version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(vm_db_open(f->path, &f->db, &err), NFV_OK);
    assert_int_equal(vm_db_schema_version(f->db), VM_DB_SCHEMA_VERSION);
    assert_int_equal(vm_db_host_get(f->db, "h2", &h, &err), NFV_OK);
    vm_db_host_clear(&h);
    buf[0] = '\0';
    assert_int_equal(vm_db_net_list(f->db, net_cb, buf, &err), NFV_OK);
    assert_string_equal(buf, "");
}

static int count_cb(void *opaque, const struct vm_db_host *h)
{
    (void)h;
    ++*(int *)opaque;
    return 0;
}

static void test_hosts(void **state)
{
    struct fx *f = *state;
    struct vm_db_host h, got;
    struct nfv_err err;
    int64_t id = 0;
    int n = 0;

    host_fill(&h, "h1");
    assert_int_equal(vm_db_host_insert(f->db, &h, &id, &err), NFV_OK);
    assert_true(id > 0);
    assert_int_equal(vm_db_host_insert(f->db, &h, NULL, &err), NFV_E_EXIST);
    assert_string_equal(err.msg, "host 'h1' already exists");
    host_fill(&h, "h2");
    h.topo = NULL;
    h.topo_source = VM_TOPO_LIVE;
    assert_int_equal(vm_db_host_insert(f->db, &h, NULL, &err), NFV_OK);
    assert_int_equal(vm_db_host_get(f->db, "h2", &got, &err), NFV_OK);
    assert_null(got.topo);
    assert_int_equal(got.topo_source, VM_TOPO_LIVE);
    assert_int_equal(got.n_pus, 4);
    assert_string_equal(got.dedicated, "1-3");
    vm_db_host_clear(&got);
    assert_int_equal(vm_db_host_list(f->db, count_cb, &n, &err), NFV_OK);
    assert_int_equal(n, 2);
    assert_int_equal(vm_db_host_set_state(f->db, "h1", VM_HOST_MAINTENANCE, &err), NFV_OK);
    assert_int_equal(vm_db_host_get(f->db, "h1", &got, &err), NFV_OK);
    assert_int_equal(got.admin_state, VM_HOST_MAINTENANCE);
    vm_db_host_clear(&got);
    assert_int_equal(vm_db_host_set_state(f->db, "nope", VM_HOST_UP, &err), NFV_E_NOENT);
    assert_int_equal(vm_db_host_get(f->db, "nope", &got, &err), NFV_E_NOENT);
    assert_string_equal(err.msg, "host 'nope' not found");
    assert_int_equal(vm_db_host_delete(f->db, "h1", &err), NFV_OK);
    assert_int_equal(vm_db_host_delete(f->db, "h1", &err), NFV_E_NOENT);
}

static int op_cb(void *opaque, const struct vm_db_op *op)
{
    int64_t *ids = opaque;

    ids[ids[0] + 1] = op->id;
    ids[0]++;
    return 0;
}

static void test_journal(void **state)
{
    struct fx *f = *state;
    struct vm_db_op op;
    struct nfv_err err;
    int64_t a, b, c, ids[8] = {0};
    uint64_t pending = 0;

    assert_int_equal(vm_db_op_begin(f->db, VM_OP_HOST_ADD, "h1", "{\"x\":1}", 10, &a, &err),
                     NFV_OK);
    assert_int_equal(vm_db_op_begin(f->db, VM_OP_VM_CREATE, "vm1", NULL, 11, &b, &err), NFV_OK);
    assert_int_equal(vm_db_op_begin(f->db, VM_OP_VM_DELETE, "vm2", NULL, 12, &c, &err), NFV_OK);
    assert_true(a < b && b < c);
    assert_int_equal(vm_db_op_finish(f->db, b, VM_OPS_FAILED, "no capacity", 20, &err), NFV_OK);
    /* An entry finishes once. */
    assert_int_equal(vm_db_op_finish(f->db, b, VM_OPS_DONE, NULL, 21, &err), NFV_E_STATE);
    assert_int_equal(vm_db_op_finish(f->db, a, VM_OPS_PENDING, NULL, 21, &err), NFV_E_INTERNAL);
    assert_int_equal(vm_db_op_count_pending(f->db, &pending, &err), NFV_OK);
    assert_int_equal(pending, 2);
    /* Pending entries come oldest first, for recovery in order. */
    assert_int_equal(vm_db_op_list(f->db, true, 100, op_cb, ids, &err), NFV_OK);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], a);
    assert_int_equal(ids[2], c);
    assert_int_equal(vm_db_op_get(f->db, b, &op, &err), NFV_OK);
    assert_int_equal(op.state, VM_OPS_FAILED);
    assert_int_equal(op.kind, VM_OP_VM_CREATE);
    assert_string_equal(op.error, "no capacity");
    assert_int_equal(op.finished_ms, 20);
    vm_db_op_clear(&op);
    assert_int_equal(vm_db_op_get(f->db, 9999, &op, &err), NFV_E_NOENT);
}

static void test_transaction_rollback(void **state)
{
    struct fx *f = *state;
    struct vm_db_host h;
    struct nfv_err err;
    int64_t op_id;
    uint64_t pending = 0;

    /* The host row and the journal completion land together or not at all. */
    assert_int_equal(vm_db_op_begin(f->db, VM_OP_HOST_ADD, "h9", NULL, 1, &op_id, &err), NFV_OK);
    assert_int_equal(vm_db_begin(f->db, &err), NFV_OK);
    host_fill(&h, "h9");
    assert_int_equal(vm_db_host_insert(f->db, &h, NULL, &err), NFV_OK);
    assert_int_equal(vm_db_op_finish(f->db, op_id, VM_OPS_DONE, NULL, 2, &err), NFV_OK);
    vm_db_rollback(f->db);
    assert_int_equal(vm_db_host_get(f->db, "h9", &h, &err), NFV_E_NOENT);
    assert_int_equal(vm_db_op_count_pending(f->db, &pending, &err), NFV_OK);
    assert_int_equal(pending, 1);
}

static int ev_cb(void *opaque, const struct vm_db_event *ev)
{
    int64_t *ids = opaque;

    ids[ids[0] + 1] = ev->id;
    ids[0]++;
    return 0;
}

static void test_events(void **state)
{
    struct fx *f = *state;
    struct vm_db_event ev = {.ts_ms = 5, .severity = VM_SEV_WARN};
    struct nfv_err err;
    int64_t ids[16] = {0}, last = -1;

    assert_int_equal(vm_db_event_last_id(f->db, &last, &err), NFV_OK);
    assert_int_equal(last, 0);
    snprintf(ev.type, sizeof(ev.type), "host_unreachable");
    snprintf(ev.object, sizeof(ev.object), "h1");
    for (int i = 0; i < 10; i++) {
        snprintf(ev.message, sizeof(ev.message), "event %d", i);
        assert_int_equal(vm_db_event_add(f->db, &ev, NULL, &err), NFV_OK);
    }
    assert_int_equal(vm_db_event_last_id(f->db, &last, &err), NFV_OK);
    assert_int_equal(last, 10);
    assert_int_equal(vm_db_event_list(f->db, 7, 100, ev_cb, ids, &err), NFV_OK);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 8);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(vm_db_event_list(f->db, 0, 2, ev_cb, ids, &err), NFV_OK);
    assert_int_equal(ids[0], 2);
    /* Pruning keeps the newest; ids never go back (clients resume by id). */
    assert_int_equal(vm_db_event_prune(f->db, 3, &err), NFV_OK);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(vm_db_event_list(f->db, 0, 100, ev_cb, ids, &err), NFV_OK);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 8);
    assert_int_equal(vm_db_event_add(f->db, &ev, &last, &err), NFV_OK);
    assert_int_equal(last, 11);
}

static int audit_cb(void *opaque, const struct vm_db_audit *a)
{
    struct vm_db_audit *out = opaque;

    if (!out[0].id)
        out[0] = *a;
    else
        out[1] = *a;
    return 0;
}

/* The audit trail, newest first; the database file is private (issue 10). */
static void test_audit_and_modes(void **state)
{
    struct fx *f = *state;
    struct vm_db_audit a = {.ts_ms = 5, .status = 201}, got[2];
    struct nfv_err err;
    struct stat st;

    snprintf(a.who, sizeof(a.who), "token:ci");
    snprintf(a.method, sizeof(a.method), "POST");
    snprintf(a.path, sizeof(a.path), "/v1/hosts");
    snprintf(a.result, sizeof(a.result), "ok");
    assert_int_equal(vm_db_audit_add(f->db, &a, NULL, &err), NFV_OK);
    a.status = 403;
    snprintf(a.who, sizeof(a.who), "uid:1000");
    snprintf(a.result, sizeof(a.result), "PERMISSION_DENIED");
    assert_int_equal(vm_db_audit_add(f->db, &a, NULL, &err), NFV_OK);
    memset(got, 0, sizeof(got));
    assert_int_equal(vm_db_audit_list(f->db, 10, audit_cb, got, &err), NFV_OK);
    assert_string_equal(got[0].who, "uid:1000");
    assert_int_equal(got[0].status, 403);
    assert_string_equal(got[1].result, "ok");
    assert_int_equal(got[1].ts_ms, 5);
    /* Pruning keeps the newest. */
    assert_int_equal(vm_db_audit_prune(f->db, 1, &err), NFV_OK);
    memset(got, 0, sizeof(got));
    assert_int_equal(vm_db_audit_list(f->db, 10, audit_cb, got, &err), NFV_OK);
    assert_string_equal(got[0].who, "uid:1000");
    assert_int_equal(got[1].id, 0);

    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A database left 0644 by an older vmmgrd is made private on open. */
    vm_db_close(f->db);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(vm_db_open(f->path, &f->db, &err), NFV_OK);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_networks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_and_modes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
