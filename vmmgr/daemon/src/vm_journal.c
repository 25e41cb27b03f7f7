/*
 * vm_journal.c - journal names and the crash-recovery decision table
 * (see vm_journal.h for the rules and why they are safe).
 */
#include "vm/vm_journal.h"

#include <string.h>

static const char *const kind_names[VM_OP__COUNT] = {
    [VM_OP_HOST_ADD] = "host_add",
    [VM_OP_HOST_REMOVE] = "host_remove",
    [VM_OP_VM_CREATE] = "vm_create",
    [VM_OP_VM_START] = "vm_start",
    [VM_OP_VM_STOP] = "vm_stop",
    [VM_OP_VM_REBOOT] = "vm_reboot",
    [VM_OP_VM_DELETE] = "vm_delete",
    [VM_OP_VM_REPIN] = "vm_repin",
    [VM_OP_GROUP_CREATE] = "group_create",
    [VM_OP_HOST_FENCE] = "host_fence",
    [VM_OP_GROUP_PROMOTE] = "group_promote",
    [VM_OP_VM_REBUILD] = "vm_rebuild",
    [VM_OP_HOST_RECOVER] = "host_recover",
    [VM_OP_VM_MIGRATE] = "vm_migrate",
    [VM_OP_VM_PIN_CHANGE] = "vm_pin_change",
    [VM_OP_HOST_DRAIN] = "host_drain",
};

static const char *const state_names[VM_OPS__COUNT] = {
    [VM_OPS_PENDING] = "pending",
    [VM_OPS_DONE] = "done",
    [VM_OPS_FAILED] = "failed",
    [VM_OPS_ROLLED_BACK] = "rolled_back",
};

static const char *const recovery_names[VM_RECOVER__COUNT] = {
    [VM_RECOVER_FINISH] = "finish",
    [VM_RECOVER_ROLLBACK] = "rollback",
    [VM_RECOVER_DEFER] = "defer",
};

const char *vm_op_kind_to_string(enum vm_op_kind k)
{
    return (unsigned)k < VM_OP__COUNT ? kind_names[k] : "?";
}

enum vm_op_kind vm_op_kind_from_string(const char *s)
{
    for (int i = 0; i < VM_OP__COUNT; i++)
        if (s && strcmp(kind_names[i], s) == 0)
            return (enum vm_op_kind)i;
    return VM_OP__COUNT;
}

const char *vm_op_state_to_string(enum vm_op_state s)
{
    return (unsigned)s < VM_OPS__COUNT ? state_names[s] : "?";
}

enum vm_op_state vm_op_state_from_string(const char *s)
{
    for (int i = 0; i < VM_OPS__COUNT; i++)
        if (s && strcmp(state_names[i], s) == 0)
            return (enum vm_op_state)i;
    return VM_OPS__COUNT;
}

const char *vm_recovery_to_string(enum vm_recovery r)
{
    return (unsigned)r < VM_RECOVER__COUNT ? recovery_names[r] : "?";
}

bool vm_op_kind_is_heal(enum vm_op_kind k)
{
    return k == VM_OP_HOST_FENCE || k == VM_OP_GROUP_PROMOTE || k == VM_OP_VM_REBUILD ||
           k == VM_OP_HOST_RECOVER;
}

enum vm_recovery vm_journal_decide(enum vm_op_kind kind, const struct vm_op_observed *obs)
{
    switch (kind) {
    case VM_OP_HOST_ADD:
        return obs->is_db_present ? VM_RECOVER_FINISH : VM_RECOVER_ROLLBACK;
    case VM_OP_HOST_REMOVE:
        return VM_RECOVER_FINISH;
    case VM_OP_HOST_FENCE:
    case VM_OP_GROUP_PROMOTE:
    case VM_OP_VM_REBUILD:
    case VM_OP_HOST_RECOVER:
        /* Healing's entries are resumed by the healer from each host's
         * persisted state (vm_heal.c), not decided here. */
        return VM_RECOVER_DEFER;
    case VM_OP_GROUP_CREATE:
        /* Members are created by their own vm_create entries; the group row
         * is committed with the completion, like a host row. */
        return obs->is_db_present ? VM_RECOVER_FINISH : VM_RECOVER_ROLLBACK;
    default:
        break;
    }
    /* VM operations need the host to look at the domain. */
    if (!obs->is_host_reachable)
        return VM_RECOVER_DEFER;
    switch (kind) {
    case VM_OP_VM_CREATE:
        return obs->is_db_present && obs->is_domain_running ? VM_RECOVER_FINISH
                                                            : VM_RECOVER_ROLLBACK;
    case VM_OP_VM_DELETE:
    case VM_OP_VM_START:
    case VM_OP_VM_STOP:
    case VM_OP_VM_REBOOT:
    case VM_OP_VM_REPIN:
        return VM_RECOVER_FINISH;
    default:
        return VM_RECOVER_ROLLBACK;
    }
}
