/*
 * vm_db.h - vmmgrd's durable state: hosts, VMs, groups, allocations, the
 * operation journal and the event log.
 *
 * One implementation, vm_db_sqlite.c (SQLite in WAL mode, schema migrations
 * by PRAGMA user_version). vmmgrd is the only writer; callers serialize calls
 * with the daemon lock. Multi-step changes run inside vm_db_begin()/commit()
 * so that a journal entry's completion and the state change it made land
 * together or not at all (see vm_journal.h).
 *
 * Records use fixed buffers for short fields; fields marked "owned" are heap
 * strings released by the matching *_clear() function.
 */
#ifndef VM_DB_H
#define VM_DB_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "vm/vm_journal.h"
#include "vm/vm_req.h"
#include "vm/vm_state.h"

#define VM_DB_SCHEMA_VERSION 5
#define VM_CPULIST_STR_MAX   2048

struct vm_db;

/*
 * Opens (creating if needed) the database at @path, switches it to WAL and
 * applies every migration newer than its user_version, each in its own
 * transaction. NFV_E_DB if the file is not a vmmgr database or is newer than
 * this program. *ret is owned; close with vm_db_close().
 */
enum nfv_code vm_db_open(const char *path, struct vm_db **ret, struct nfv_err *err);
void vm_db_close(struct vm_db *db);
int vm_db_schema_version(struct vm_db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. rollback never fails (best effort). */
enum nfv_code vm_db_begin(struct vm_db *db, struct nfv_err *err);
enum nfv_code vm_db_commit(struct vm_db *db, struct nfv_err *err);
void vm_db_rollback(struct vm_db *db);

/* ---- hosts ---- */

struct vm_db_host {
    int64_t id;
    char name[VM_NAME_MAX];
    char uri[VM_URI_MAX];
    enum vm_host_state admin_state; /* UP or MAINTENANCE */
    enum vm_topo_source topo_source;
    char *topo;      /* owned: synthetic string or hwloc XML text, NULL for live */
    char *topo_json; /* owned: topology summary and PU map (vm_topo.h) */
    unsigned n_pus;
    uint64_t memory_mib;
    char reserved[VM_CPULIST_STR_MAX];
    char dedicated[VM_CPULIST_STR_MAX];
    char *labels_json;       /* owned: {"rack":"r1"} */
    char node_xml[PATH_MAX]; /* node file of a simulated host, "" otherwise */
    int64_t created_ms;
};

void vm_db_host_clear(struct vm_db_host *h);

/* Inserts @h (id ignored); NFV_E_EXIST if the name is taken. */
enum nfv_code vm_db_host_insert(struct vm_db *db, const struct vm_db_host *h, int64_t *ret_id,
                                struct nfv_err *err);
/* Fills @ret (owned fields must be cleared); NFV_E_NOENT names the host. */
enum nfv_code vm_db_host_get(struct vm_db *db, const char *name, struct vm_db_host *ret,
                             struct nfv_err *err);
typedef int (*vm_db_host_cb)(void *opaque, const struct vm_db_host *h); /* nonzero stops */
enum nfv_code vm_db_host_list(struct vm_db *db, vm_db_host_cb cb, void *opaque,
                              struct nfv_err *err);
enum nfv_code vm_db_host_set_state(struct vm_db *db, const char *name, enum vm_host_state state,
                                   struct nfv_err *err);
/* NFV_E_NOENT if absent, NFV_E_STATE if VMs still live on it. */
enum nfv_code vm_db_host_delete(struct vm_db *db, const char *name, struct nfv_err *err);
enum nfv_code vm_db_host_count_vms(struct vm_db *db, int64_t host_id, unsigned *ret,
                                   struct nfv_err *err);

/* ---- journal ---- */

struct vm_db_op {
    int64_t id;
    enum vm_op_kind kind;
    enum vm_op_state state;
    char target[128];
    char *payload; /* owned JSON text */
    int64_t created_ms;
    int64_t finished_ms; /* 0 while pending */
    char error[NFV_ERR_MSG_SIZE];
    char step[32]; /* the last step the job recorded ("" = none yet) */
};

void vm_db_op_clear(struct vm_db_op *op);

/* Journals a pending operation before it touches the outside world. */
enum nfv_code vm_db_op_begin(struct vm_db *db, enum vm_op_kind kind, const char *target,
                             const char *payload_json, int64_t now_ms, int64_t *ret_id,
                             struct nfv_err *err);
/* Completes entry @id with @state (not PENDING) and an optional @error. */
enum nfv_code vm_db_op_finish(struct vm_db *db, int64_t id, enum vm_op_state state,
                              const char *error, int64_t now_ms, struct nfv_err *err);
/* Records the step a pending entry's job reached (jobs resume from it). */
enum nfv_code vm_db_op_set_step(struct vm_db *db, int64_t id, const char *step,
                                struct nfv_err *err);
enum nfv_code vm_db_op_get(struct vm_db *db, int64_t id, struct vm_db_op *ret, struct nfv_err *err);
typedef int (*vm_db_op_cb)(void *opaque, const struct vm_db_op *op);
/* Lists entries newest first (@is_pending_only: only unfinished, oldest first). */
enum nfv_code vm_db_op_list(struct vm_db *db, bool is_pending_only, unsigned limit, vm_db_op_cb cb,
                            void *opaque, struct nfv_err *err);
enum nfv_code vm_db_op_count_pending(struct vm_db *db, uint64_t *ret, struct nfv_err *err);

/* ---- event log ---- */

struct vm_db_event {
    int64_t id; /* strictly increasing: clients resume with ?since=ID */
    int64_t ts_ms;
    char type[32];
    enum vm_severity severity;
    char object[128];
    char message[NFV_ERR_MSG_SIZE];
};

enum nfv_code vm_db_event_add(struct vm_db *db, const struct vm_db_event *ev, int64_t *ret_id,
                              struct nfv_err *err);
typedef int (*vm_db_event_cb)(void *opaque, const struct vm_db_event *ev);
/* Events with id > @since_id, oldest first, at most @limit. */
enum nfv_code vm_db_event_list(struct vm_db *db, int64_t since_id, unsigned limit,
                               vm_db_event_cb cb, void *opaque, struct nfv_err *err);
enum nfv_code vm_db_event_last_id(struct vm_db *db, int64_t *ret, struct nfv_err *err);
/* Deletes all but the newest @keep events. */
enum nfv_code vm_db_event_prune(struct vm_db *db, unsigned keep, struct nfv_err *err);

/* ---- audit trail (who changed what; docs/security.md) ---- */

struct vm_db_audit {
    int64_t id;
    int64_t ts_ms;
    char who[80];    /* "token:ID", "uid:N" */
    char method[16]; /* POST, PATCH, DELETE */
    char path[256];  /* the API path: the object changed */
    int status;      /* HTTP status of the answer */
    char result[32]; /* "ok" or the error code (PERMISSION_DENIED, ...) */
};

/* Records @a; *ret_id (may be NULL) is its id. */
enum nfv_code vm_db_audit_add(struct vm_db *db, const struct vm_db_audit *a, int64_t *ret_id,
                              struct nfv_err *err);
typedef int (*vm_db_audit_cb)(void *opaque, const struct vm_db_audit *a);
/* Entries newest first, at most @limit. */
enum nfv_code vm_db_audit_list(struct vm_db *db, unsigned limit, vm_db_audit_cb cb, void *opaque,
                               struct nfv_err *err);
/* Deletes all but the newest @keep entries. */
enum nfv_code vm_db_audit_prune(struct vm_db *db, unsigned keep, struct nfv_err *err);

/* ---- VMs, their allocations, groups ---- */

struct vm_db_vm {
    int64_t id;
    char name[VM_NAME_MAX];
    int64_t host_id;
    char host[VM_NAME_MAX]; /* the host's name (joined) */
    enum vm_guest_state state;
    char group[VM_NAME_MAX]; /* "" when not in a group */
    enum vm_role role;
    char *spec; /* owned JSON: the create request as stored */
    char *plan; /* owned JSON: pin_plan_to_json() */
    int64_t created_ms;
    int64_t updated_ms;
    char uuid[37]; /* the libvirt domain's UUID, "" for rows of schema 1 */
};

void vm_db_vm_clear(struct vm_db_vm *vm);
/* Records the domain UUID of VM @name (rows made before UUIDs were kept). */
enum nfv_code vm_db_vm_set_uuid(struct vm_db *db, const char *name, const char *uuid,
                                struct nfv_err *err);

/* One PU held by a VM: the allocations table, whose primary key (host, pu)
 * makes double-booking a PU impossible. */
struct vm_db_alloc {
    unsigned pu;
    char vcpus[32]; /* "2", "0-1" (shared group), "emulator", "blocked" */
    char mode[16];  /* exclusive, shared, numbered, emulator, blocked */
};

/*
 * Inserts @vm (id, host and updated_ms ignored; host_id and group used) and
 * its @n_allocs PUs. Call inside a transaction. NFV_E_EXIST if the name is
 * taken or a PU is already held (the message names the PU).
 */
enum nfv_code vm_db_vm_insert(struct vm_db *db, const struct vm_db_vm *vm,
                              const struct vm_db_alloc *allocs, size_t n_allocs, int64_t *ret_id,
                              struct nfv_err *err);
enum nfv_code vm_db_vm_get(struct vm_db *db, const char *name, struct vm_db_vm *ret,
                           struct nfv_err *err);
typedef int (*vm_db_vm_cb)(void *opaque, const struct vm_db_vm *vm);
/* All VMs ordered by name (@host_id > 0: only that host's). */
enum nfv_code vm_db_vm_list(struct vm_db *db, int64_t host_id, vm_db_vm_cb cb, void *opaque,
                            struct nfv_err *err);
enum nfv_code vm_db_vm_set_state(struct vm_db *db, const char *name, enum vm_guest_state state,
                                 int64_t now_ms, struct nfv_err *err);
/* Deletes the VM and (cascade) its allocations. NFV_E_NOENT if absent. */
enum nfv_code vm_db_vm_delete(struct vm_db *db, const char *name, struct nfv_err *err);
/* Counts the allocation rows of a host (for checks and metrics). */
enum nfv_code vm_db_alloc_count(struct vm_db *db, int64_t host_id, unsigned *ret,
                                struct nfv_err *err);

/* Inserts group @name; NFV_E_EXIST if taken. */
enum nfv_code vm_db_group_insert(struct vm_db *db, const char *name, enum vm_scope scope,
                                 int64_t now_ms, int64_t *ret_id, struct nfv_err *err);
/* Looks a group up; *ret_id 0 and NFV_E_NOENT if absent. */
enum nfv_code vm_db_group_get(struct vm_db *db, const char *name, int64_t *ret_id,
                              enum vm_scope *ret_scope, struct nfv_err *err);
typedef int (*vm_db_group_cb)(void *opaque, const char *name, enum vm_scope scope,
                              unsigned n_members);
enum nfv_code vm_db_group_list(struct vm_db *db, vm_db_group_cb cb, void *opaque,
                               struct nfv_err *err);
/* Deletes a group that has no members left (no-op otherwise). */
enum nfv_code vm_db_group_prune(struct vm_db *db, struct nfv_err *err);

/* Sets VM @name's redundancy role (a promotion). */
enum nfv_code vm_db_vm_set_role(struct vm_db *db, const char *name, enum vm_role role,
                                int64_t now_ms, struct nfv_err *err);

/* ---- healing (vm_db_sqlite_heal.c) ---- */

/* One host's healing state and BMC (no password: that is a 0600 file). */
struct vm_db_heal {
    int64_t host_id;
    char state[16]; /* heal_state_to_string() */
    int64_t since_ms;
    char reason[128];
    char bmc_address[256]; /* "" = no BMC */
    char bmc_user[17];
    char last_critical[32]; /* heal_sel_kind_to_string(), "" = none */
};

/* Inserts or replaces @h's row. */
enum nfv_code vm_db_heal_put(struct vm_db *db, const struct vm_db_heal *h, struct nfv_err *err);
/* NFV_E_NOENT when the host has no row (a host of schema 3: up, no BMC). */
enum nfv_code vm_db_heal_get(struct vm_db *db, int64_t host_id, struct vm_db_heal *ret,
                             struct nfv_err *err);

/* A domain a fenced host may still hold (its VM was rebuilt elsewhere):
 * destroyed and undefined when the host is recovered. */
enum nfv_code vm_db_stale_add(struct vm_db *db, int64_t host_id, const char *uuid, const char *name,
                              struct nfv_err *err);
typedef int (*vm_db_stale_cb)(void *opaque, const char *uuid, const char *name);
enum nfv_code vm_db_stale_list(struct vm_db *db, int64_t host_id, vm_db_stale_cb cb, void *opaque,
                               struct nfv_err *err);
enum nfv_code vm_db_stale_delete(struct vm_db *db, int64_t host_id, const char *uuid,
                                 struct nfv_err *err);
/* ---- networks and hosts' switch ports (vm_db_sqlite_net.c, schema 4) ---- */

struct vm_db_net {
    char name[VM_NAME_MAX];
    unsigned vlan; /* 1..4094, unique */
    int64_t created_ms;
};

/* Inserts network @n; NFV_E_EXIST naming the name or the VLAN if taken. */
enum nfv_code vm_db_net_insert(struct vm_db *db, const struct vm_db_net *n, struct nfv_err *err);
/* Deletes network @name; NFV_E_NOENT if absent. */
enum nfv_code vm_db_net_delete(struct vm_db *db, const char *name, struct nfv_err *err);
typedef int (*vm_db_net_cb)(void *opaque, const struct vm_db_net *n); /* nonzero stops */
/* All networks ordered by name. */
enum nfv_code vm_db_net_list(struct vm_db *db, vm_db_net_cb cb, void *opaque, struct nfv_err *err);

/* Sets host @host_id's integration bridge and trunk port on the top-of-rack
 * switch ("" = none). Call inside the host add's transaction. */
enum nfv_code vm_db_host_net_set(struct vm_db *db, int64_t host_id, const char *bridge,
                                 const char *switch_port, struct nfv_err *err);
typedef int (*vm_db_host_net_cb)(void *opaque, int64_t host_id, const char *bridge,
                                 const char *switch_port);
/* Every host_net row (hosts without one use the defaults). */
enum nfv_code vm_db_host_net_list(struct vm_db *db, vm_db_host_net_cb cb, void *opaque,
                                  struct nfv_err *err);

#endif /* VM_DB_H */
