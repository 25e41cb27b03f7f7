/*
 * vm_journal.h - the operation journal's model and its recovery rules.
 *
 * Pure core. Every vmmgrd operation that changes the outside world (writes a
 * simulated host's node file, defines, starts, pins or undefines a domain) is
 * written to the journal as "pending" before it starts and marked "done" (or
 * "failed"/"rolled_back") after, in the same database transaction as the state
 * change it produced. After a crash, the start-up code finds the pending
 * entries, observes the outside world (does the domain exist? does it run?)
 * and asks vm_journal_decide() whether to finish or roll back each one. The
 * database side is vm_db_sqlite.c; the acting side is vm_daemon.c.
 *
 * Entries are also what the API calls "operations": a long request returns
 * the entry's id, and GET /v1/operations/ID reports its state.
 */
#ifndef VM_JOURNAL_H
#define VM_JOURNAL_H

#include <stdbool.h>

enum vm_op_kind {
    VM_OP_HOST_ADD,    /* writes the node file of a simulated host, connects */
    VM_OP_HOST_REMOVE, /* closes the connection, removes the node file */
    VM_OP_VM_CREATE,   /* reserve cores, define, start, pin, verify */
    VM_OP_VM_START,
    VM_OP_VM_STOP,
    VM_OP_VM_REBOOT,
    VM_OP_VM_DELETE, /* destroy, undefine, release cores */
    VM_OP_VM_REPIN,  /* re-apply a plan after drift */
    VM_OP_GROUP_CREATE,
    VM_OP_HOST_FENCE,    /* healing: BMC power off read back off, or destroy through libvirt */
    VM_OP_GROUP_PROMOTE, /* healing: an SBY becomes the ACT (roles, then the VNF hook) */
    VM_OP_VM_REBUILD,    /* healing: a lost member re-created elsewhere (payload: its spec) */
    VM_OP_HOST_RECOVER,  /* operator: a repaired host's stale domains removed, back up */
    /* issue 16 (vm_migrate.c, vm_repin.c): */
    VM_OP_VM_MIGRATE,    /* claim at the destination, migrate, release the source */
    VM_OP_VM_PIN_CHANGE, /* an operator's re-pin on the same host (vmmgrctl vm repin) */
    VM_OP_HOST_DRAIN,    /* a drain or defragment: one vm_migrate entry per move */
    VM_OP__COUNT
};

const char *vm_op_kind_to_string(enum vm_op_kind k);
/* True for healing's kinds (fence, promote, rebuild, recover): start-up
 * recovery leaves them to the healer, which resumes them from each host's
 * persisted healing state. */
bool vm_op_kind_is_heal(enum vm_op_kind k);
enum vm_op_kind vm_op_kind_from_string(const char *s);

enum vm_op_state {
    VM_OPS_PENDING,     /* journaled, not finished */
    VM_OPS_DONE,        /* finished as asked */
    VM_OPS_FAILED,      /* failed and its partial effects were undone */
    VM_OPS_ROLLED_BACK, /* undone by start-up recovery after a crash */
    VM_OPS__COUNT
};

const char *vm_op_state_to_string(enum vm_op_state s);
enum vm_op_state vm_op_state_from_string(const char *s);

/* What start-up recovery saw of a pending entry's object. */
struct vm_op_observed {
    bool is_db_present;     /* the host/VM row exists in the database */
    bool is_domain_defined; /* libvirt knows the domain (VM ops) */
    bool is_domain_running; /* ... and it runs */
    bool is_host_reachable; /* the VM's host answered (false: cannot look) */
};

enum vm_recovery {
    VM_RECOVER_FINISH,   /* complete the operation, mark it done */
    VM_RECOVER_ROLLBACK, /* undo what it did, mark it rolled_back */
    VM_RECOVER_DEFER,    /* cannot tell now (host unreachable): keep pending */
    VM_RECOVER__COUNT
};

const char *vm_recovery_to_string(enum vm_recovery r);

/*
 * Decides how to resolve a pending entry of @kind given @obs:
 *  - host add: finish if the row made it into the database (it is written
 *    with the completion), else roll back (remove the node file);
 *  - host remove, vm delete: always finish (deleting is idempotent);
 *  - vm create: finish only if the domain runs (every step happened), else
 *    roll back (destroy/undefine, release the cores, drop the row), so a
 *    crash never leaves cores booked by a half-made VM;
 *  - start/stop/reboot/repin: finish by recording what libvirt reports;
 *  - any VM operation on an unreachable host: defer.
 */
enum vm_recovery vm_journal_decide(enum vm_op_kind kind, const struct vm_op_observed *obs);

#endif /* VM_JOURNAL_H */
