/*
 * vm_state.h - the states of hosts, guests and operations, and their rules.
 *
 * Pure core of vmmgrd (no I/O, no clock). Every enum has a __COUNT sentinel
 * and to/from-string tables; the strings are what the REST API, the database
 * and vmmgrctl show, so they never change once released.
 *
 * A host has an administrative state chosen by the operator (up or
 * maintenance) and a connection state owned by the host manager; the state an
 * operator sees is derived from both by vm_host_state_effective(). A guest's
 * state follows vmmgrd's own operations (vm_guest_next()) and libvirt's
 * lifecycle events.
 */
#ifndef VM_STATE_H
#define VM_STATE_H

#include <stdbool.h>

#include "nfv/err.h"

enum vm_host_state {
    VM_HOST_UP,          /* connected and accepting new VMs */
    VM_HOST_MAINTENANCE, /* operator drained it: no new VMs placed here */
    VM_HOST_UNREACHABLE, /* libvirt connection lost; reconnecting with backoff */
    VM_HOST__COUNT
};

const char *vm_host_state_to_string(enum vm_host_state s);
/* Returns VM_HOST__COUNT if @s is not a state name. */
enum vm_host_state vm_host_state_from_string(const char *s);

/* The state shown for a host whose operator state is @admin (UP or
 * MAINTENANCE) and whose connection is @is_connected: a lost connection wins. */
enum vm_host_state vm_host_state_effective(enum vm_host_state admin, bool is_connected);

/* Checks an operator request to move a host to @target: only "up" and
 * "maintenance" can be asked for (unreachable is observed, never set).
 * NFV_E_INVAL names the 'state' field otherwise. */
enum nfv_code vm_host_state_check_request(enum vm_host_state target, struct nfv_err *err);

enum vm_guest_state {
    VM_GUEST_CREATING, /* journaled create in progress (define/start/pin) */
    VM_GUEST_STOPPED,  /* defined in libvirt, not running */
    VM_GUEST_RUNNING,  /* running with its plan applied */
    VM_GUEST_ERROR,    /* an operation failed half-way; delete or start again */
    VM_GUEST_DELETING, /* journaled delete in progress */
    VM_GUEST_LOST,     /* its host failed and was fenced: healing replaces it */
    VM_GUEST__COUNT
};

const char *vm_guest_state_to_string(enum vm_guest_state s);
enum vm_guest_state vm_guest_state_from_string(const char *s);

/* Operator actions on a guest. */
enum vm_guest_action { VM_ACT_START, VM_ACT_STOP, VM_ACT_REBOOT, VM_ACT_DELETE, VM_ACT__COUNT };

const char *vm_guest_action_to_string(enum vm_guest_action a);
enum vm_guest_action vm_guest_action_from_string(const char *s);

/* What vmmgrd must do for @action on a guest in @state. */
enum vm_guest_step {
    VM_STEP_NOOP, /* already there: actions are idempotent (start on running) */
    VM_STEP_DO,   /* perform it; *ret_next is the state once it succeeded */
    VM_STEP__COUNT
};

/*
 * Decides @action for a guest in @state. Returns NFV_OK and sets *ret_step and
 * *ret_next (the state after success), or NFV_E_STATE when the state forbids
 * the action (e.g. reboot of a stopped guest, anything while deleting).
 */
enum nfv_code vm_guest_next(enum vm_guest_state state, enum vm_guest_action action,
                            enum vm_guest_step *ret_step, enum vm_guest_state *ret_next,
                            struct nfv_err *err);

/* Redundancy role of a guest in a group. */
enum vm_role { VM_ROLE_NONE, VM_ROLE_ACT, VM_ROLE_SBY, VM_ROLE__COUNT };

const char *vm_role_to_string(enum vm_role r);
enum vm_role vm_role_from_string(const char *s);

/* Anti-affinity scope of a redundancy group. */
enum vm_scope { VM_SCOPE_HOST, VM_SCOPE_RACK, VM_SCOPE_ZONE, VM_SCOPE_POWER, VM_SCOPE__COUNT };

const char *vm_scope_to_string(enum vm_scope s);
enum vm_scope vm_scope_from_string(const char *s);

/* Event severities for the event log. */
enum vm_severity { VM_SEV_INFO, VM_SEV_WARN, VM_SEV_ERR, VM_SEV__COUNT };

const char *vm_severity_to_string(enum vm_severity s);
enum vm_severity vm_severity_from_string(const char *s);

/*
 * Reconnect backoff: the delay after @prev_ms (0 for the first failure) is
 * doubled, starting at @min_ms and capped at @max_ms, so a host that stays
 * down costs one attempt per @max_ms.
 */
unsigned vm_backoff_next(unsigned prev_ms, unsigned min_ms, unsigned max_ms);

#endif /* VM_STATE_H */
