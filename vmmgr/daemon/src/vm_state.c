/*
 * vm_state.c - state names and transition rules (see vm_state.h).
 *
 * The guest table below is the whole lifecycle policy: one row per state, one
 * column per action. Keeping it as data makes the idempotency rules (start on
 * a running guest is a no-op, delete of a deleting guest is refused) visible
 * at a glance and testable exhaustively.
 */
#include "vm/vm_state.h"

#include <string.h>

static int name_lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (s && names[i] && strcmp(names[i], s) == 0)
            return i;
    return n;
}

static const char *const host_state_names[VM_HOST__COUNT] = {
    [VM_HOST_UP] = "up",
    [VM_HOST_MAINTENANCE] = "maintenance",
    [VM_HOST_UNREACHABLE] = "unreachable",
};

const char *vm_host_state_to_string(enum vm_host_state s)
{
    return (unsigned)s < VM_HOST__COUNT ? host_state_names[s] : "?";
}

enum vm_host_state vm_host_state_from_string(const char *s)
{
    return (enum vm_host_state)name_lookup(host_state_names, VM_HOST__COUNT, s);
}

enum vm_host_state vm_host_state_effective(enum vm_host_state admin, bool is_connected)
{
    if (!is_connected)
        return VM_HOST_UNREACHABLE;
    return admin == VM_HOST_MAINTENANCE ? VM_HOST_MAINTENANCE : VM_HOST_UP;
}

enum nfv_code vm_host_state_check_request(enum vm_host_state target, struct nfv_err *err)
{
    if (target == VM_HOST_UP || target == VM_HOST_MAINTENANCE)
        return NFV_OK;
    return NFV_ERR(err, NFV_E_INVAL, "'state': must be 'up' or 'maintenance'");
}

static const char *const guest_state_names[VM_GUEST__COUNT] = {
    [VM_GUEST_CREATING] = "creating", [VM_GUEST_STOPPED] = "stopped",
    [VM_GUEST_RUNNING] = "running",   [VM_GUEST_ERROR] = "error",
    [VM_GUEST_DELETING] = "deleting", [VM_GUEST_LOST] = "lost",
};

const char *vm_guest_state_to_string(enum vm_guest_state s)
{
    return (unsigned)s < VM_GUEST__COUNT ? guest_state_names[s] : "?";
}

enum vm_guest_state vm_guest_state_from_string(const char *s)
{
    return (enum vm_guest_state)name_lookup(guest_state_names, VM_GUEST__COUNT, s);
}

static const char *const action_names[VM_ACT__COUNT] = {
    [VM_ACT_START] = "start",
    [VM_ACT_STOP] = "stop",
    [VM_ACT_REBOOT] = "reboot",
    [VM_ACT_DELETE] = "delete",
};

const char *vm_guest_action_to_string(enum vm_guest_action a)
{
    return (unsigned)a < VM_ACT__COUNT ? action_names[a] : "?";
}

enum vm_guest_action vm_guest_action_from_string(const char *s)
{
    return (enum vm_guest_action)name_lookup(action_names, VM_ACT__COUNT, s);
}

/* One cell of the lifecycle table: refused, no-op, or do it and land in .next. */
struct guest_rule {
    bool is_allowed;
    enum vm_guest_step step;
    enum vm_guest_state next;
};

#define R_NO                                                                                       \
    {                                                                                              \
        false, VM_STEP_NOOP, 0                                                                     \
    }
#define R_NOOP(s)                                                                                  \
    {                                                                                              \
        true, VM_STEP_NOOP, (s)                                                                    \
    }
#define R_DO(s)                                                                                    \
    {                                                                                              \
        true, VM_STEP_DO, (s)                                                                      \
    }

static const struct guest_rule guest_rules[VM_GUEST__COUNT][VM_ACT__COUNT] = {
    /* A create in flight owns the guest: only its journal entry may move it. */
    [VM_GUEST_CREATING] = {R_NO, R_NO, R_NO, R_NO},
    [VM_GUEST_STOPPED] = {R_DO(VM_GUEST_RUNNING), R_NOOP(VM_GUEST_STOPPED), R_NO,
                          R_DO(VM_GUEST_DELETING)},
    [VM_GUEST_RUNNING] = {R_NOOP(VM_GUEST_RUNNING), R_DO(VM_GUEST_STOPPED), R_DO(VM_GUEST_RUNNING),
                          R_DO(VM_GUEST_DELETING)},
    /* After a failure the operator may retry start or stop, or delete. */
    [VM_GUEST_ERROR] = {R_DO(VM_GUEST_RUNNING), R_DO(VM_GUEST_STOPPED), R_NO,
                        R_DO(VM_GUEST_DELETING)},
    [VM_GUEST_DELETING] = {R_NO, R_NO, R_NO, R_NO},
    /* Its host is fenced: healing rebuilds it elsewhere (or the operator
     * recovers the host); nothing can be done to a domain on a dead host. */
    [VM_GUEST_LOST] = {R_NO, R_NO, R_NO, R_NO},
};

enum nfv_code vm_guest_next(enum vm_guest_state state, enum vm_guest_action action,
                            enum vm_guest_step *ret_step, enum vm_guest_state *ret_next,
                            struct nfv_err *err)
{
    const struct guest_rule *r;

    if ((unsigned)state >= VM_GUEST__COUNT || (unsigned)action >= VM_ACT__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'action': unknown action or state");
    r = &guest_rules[state][action];
    if (!r->is_allowed)
        return NFV_ERR(err, NFV_E_STATE, "cannot %s a VM that is %s",
                       vm_guest_action_to_string(action), vm_guest_state_to_string(state));
    *ret_step = r->step;
    *ret_next = r->next;
    return NFV_OK;
}

static const char *const role_names[VM_ROLE__COUNT] = {
    [VM_ROLE_NONE] = "none",
    [VM_ROLE_ACT] = "act",
    [VM_ROLE_SBY] = "sby",
};

const char *vm_role_to_string(enum vm_role r)
{
    return (unsigned)r < VM_ROLE__COUNT ? role_names[r] : "?";
}

enum vm_role vm_role_from_string(const char *s)
{
    return (enum vm_role)name_lookup(role_names, VM_ROLE__COUNT, s);
}

static const char *const scope_names[VM_SCOPE__COUNT] = {
    [VM_SCOPE_HOST] = "host",
    [VM_SCOPE_RACK] = "rack",
    [VM_SCOPE_ZONE] = "zone",
    [VM_SCOPE_POWER] = "power",
};

const char *vm_scope_to_string(enum vm_scope s)
{
    return (unsigned)s < VM_SCOPE__COUNT ? scope_names[s] : "?";
}

enum vm_scope vm_scope_from_string(const char *s)
{
    return (enum vm_scope)name_lookup(scope_names, VM_SCOPE__COUNT, s);
}

static const char *const severity_names[VM_SEV__COUNT] = {
    [VM_SEV_INFO] = "info",
    [VM_SEV_WARN] = "warn",
    [VM_SEV_ERR] = "err",
};

const char *vm_severity_to_string(enum vm_severity s)
{
    return (unsigned)s < VM_SEV__COUNT ? severity_names[s] : "?";
}

enum vm_severity vm_severity_from_string(const char *s)
{
    return (enum vm_severity)name_lookup(severity_names, VM_SEV__COUNT, s);
}

unsigned vm_backoff_next(unsigned prev_ms, unsigned min_ms, unsigned max_ms)
{
    unsigned next;

    if (prev_ms < min_ms)
        return min_ms < max_ms ? min_ms : max_ms;
    next = prev_ms > max_ms / 2 ? max_ms : prev_ms * 2;
    return next < max_ms ? next : max_ms;
}
