/*
 * heal/sm.h - the host state machine of healing/ (MAGONIA function 3).
 *
 * Pure: no I/O, no clock (every input carries the time it happened, in ms of
 * a monotonic clock the caller owns), no allocation, deterministic. The
 * monitor port (heal/mon.h) and libvirt's keepalive produce inputs; the
 * outputs are actions the caller runs as jobs (fence, promote, rebuild,
 * notify) and reports back as inputs (fence done/failed, evacuated).
 *
 *   UP --lost/silent/sick--> SUSPECT --rule confirmed--> FAILED --fence
 *   confirmed (power read back off) or operator "dead"--> FENCED --every SBY
 *   promoted, members rebuilt--> EVACUATED --operator "repaired"--> UP
 *
 * Safety (split brain): PROMOTE is emitted only on the way into FENCED, and
 * FENCED is entered only from HEAL_IN_FENCE_DONE (the caller powered the host
 * off AND read the power state back off) or HEAL_IN_OPERATOR_DEAD. A host
 * whose libvirt is unreachable while its BMC says power on is fenced first,
 * never promoted around; if the fence fails it stays FAILED (with a retry and
 * a notification asking an operator) for as long as it takes.
 *
 * The full transition table is in healing/README.md and tested row by row in
 * tests/unit/healing/test_sm.c.
 */
#ifndef HEAL_SM_H
#define HEAL_SM_H

#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"

enum heal_state {
    HEAL_UP,
    HEAL_SUSPECT,   /* something is off; not confirmed by the rules yet */
    HEAL_FAILED,    /* confirmed failed; fencing (retried until confirmed) */
    HEAL_FENCED,    /* cannot run anything any more: SBYs may be promoted */
    HEAL_EVACUATED, /* promotions and rebuilds done; waits for an operator */
    HEAL_STATE__COUNT
};

/* Chassis power as the BMC last reported it. */
enum heal_power { HEAL_POWER_UNKNOWN, HEAL_POWER_ON, HEAL_POWER_OFF, HEAL_POWER__COUNT };

/* A SEL record decoded to what healing cares about (heal/sel.h decodes). */
enum heal_sel_kind {
    HEAL_SEL_MEM_UECC,     /* memory, uncorrectable ECC */
    HEAL_SEL_PROC_IERR,    /* processor internal error */
    HEAL_SEL_THERMAL_TRIP, /* processor thermal trip, temperature non-recoverable */
    HEAL_SEL_PSU_FAILURE,  /* power supply failure or input lost */
    HEAL_SEL_WATCHDOG,     /* watchdog expired / reset / power down */
    HEAL_SEL_OTHER,        /* anything else, deassertions included */
    HEAL_SEL__COUNT
};

enum heal_input_kind {
    HEAL_IN_TICK,              /* time passes (timers: N keepalive periods, fence retry) */
    HEAL_IN_LIBVIRT_OK,        /* keepalive answered / connection (re)opened */
    HEAL_IN_LIBVIRT_LOST,      /* keepalive timeout or close callback */
    HEAL_IN_BMC_POWER,         /* the BMC answered a poll; .power is its chassis power */
    HEAL_IN_BMC_SEL,           /* a new SEL event, .sel */
    HEAL_IN_BMC_NO_ANSWER,     /* a poll timed out or failed */
    HEAL_IN_FENCE_DONE,        /* power off issued AND read back off */
    HEAL_IN_FENCE_FAILED,      /* the fence job could not confirm power off */
    HEAL_IN_OPERATOR_DEAD,     /* vmmgrctl host fence NAME --confirm-dead */
    HEAL_IN_EVACUATED,         /* every promote/rebuild job of this host ended */
    HEAL_IN_OPERATOR_REPAIRED, /* vmmgrctl host recover NAME */
    HEAL_IN__COUNT
};

struct heal_input {
    enum heal_input_kind kind;
    uint64_t now_ms;        /* when it happened; must not go backwards per host */
    enum heal_power power;  /* HEAL_IN_BMC_POWER */
    enum heal_sel_kind sel; /* HEAL_IN_BMC_SEL */
};

enum heal_action_kind {
    HEAL_ACT_FENCE,   /* power the host off through its BMC, read it back */
    HEAL_ACT_PROMOTE, /* make the SBY of every ACT on the host the ACT */
    HEAL_ACT_REBUILD, /* re-create the lost members on reserve capacity */
    HEAL_ACT_NOTIFY,  /* event / operator notification (see heal_step.reason) */
    HEAL_ACT__COUNT
};

#define HEAL_SEL_BIT(k) (1u << (k))
#define HEAL_SEL_CRITICAL_DEFAULT                                                                  \
    (HEAL_SEL_BIT(HEAL_SEL_MEM_UECC) | HEAL_SEL_BIT(HEAL_SEL_PROC_IERR) |                          \
     HEAL_SEL_BIT(HEAL_SEL_THERMAL_TRIP) | HEAL_SEL_BIT(HEAL_SEL_PSU_FAILURE) |                    \
     HEAL_SEL_BIT(HEAL_SEL_WATCHDOG))

/*
 * Confirmation rules: when SUSPECT becomes FAILED. Any enabled rule that
 * holds confirms. A silent BMC never confirms anything by itself.
 */
struct heal_rules {
    uint64_t keepalive_period_ms; /* libvirt keepalive interval, > 0 */
    /* Rule A: libvirt unreachable for this many keepalive periods (0: off). */
    unsigned unreachable_periods;
    /* Rule B: libvirt unreachable AND the BMC reads chassis power off. */
    bool is_unreachable_and_off;
    /* Rule C: libvirt unreachable AND a critical SEL event was seen. */
    bool is_unreachable_and_sel;
    /* Rule D: a critical SEL event alone, libvirt still answering (a host
     * reachable but sick). Off by default: such a host is only SUSPECT. */
    bool is_sel_alone;
    uint32_t critical_sel_mask; /* HEAL_SEL_BIT()s that count as critical */
    uint64_t fence_retry_ms;    /* after a failed fence, retry after this, > 0 */
};

/* The rules vmmgrd starts with: B and C on, A after 3 periods of 5 s, D off,
 * critical = HEAL_SEL_CRITICAL_DEFAULT, fence retried every 5 s. */
void heal_rules_default(struct heal_rules *ret);
/* NFV_E_INVAL naming the field ('keepalive_period_ms', 'fence_retry_ms',
 * 'critical_sel_mask') when the rules cannot work, or when no rule at all
 * could ever confirm a failure. */
enum nfv_code heal_rules_check(const struct heal_rules *rules, struct nfv_err *err);

/* One host's state: a plain value owned by the caller (no heap). */
struct heal_host {
    enum heal_state state;
    uint64_t since_ms; /* entered the current state */
    bool is_libvirt_lost;
    uint64_t lost_since_ms; /* valid when is_libvirt_lost */
    bool is_bmc_silent;
    enum heal_power power;
    bool is_critical_seen; /* sticky until the operator's repair */
    enum heal_sel_kind last_critical;
    bool is_fence_pending; /* a FENCE action is out, no answer yet */
    uint64_t fence_due_ms; /* when to retry after a failed fence */
    unsigned n_fence_attempts;
};

/* Starts a host UP at @now_ms with nothing known about its BMC. */
void heal_host_init(struct heal_host *host, uint64_t now_ms);

#define HEAL_STEP_MAX_ACTIONS 4

/* What one input did. Actions are in the order they must run. */
struct heal_step {
    enum heal_state from, to;
    unsigned n_actions;
    enum heal_action_kind actions[HEAL_STEP_MAX_ACTIONS];
    const char *reason; /* static, one phrase: why (for events and NOTIFY) */
};

/*
 * Feeds @in to @host under @rules and fills *ret_step (always written).
 * Inputs that mean nothing in the current state (a late fence answer, a
 * repair of a host that is fencing) leave it unchanged with no action and a
 * reason saying why. @rules must have passed heal_rules_check().
 */
void heal_host_step(struct heal_host *host, const struct heal_rules *rules,
                    const struct heal_input *in, struct heal_step *ret_step);

/* True if @step carries @kind. */
bool heal_step_has(const struct heal_step *step, enum heal_action_kind kind);

const char *heal_state_to_string(enum heal_state s);
enum heal_state heal_state_from_string(const char *s); /* HEAL_STATE__COUNT if unknown */
const char *heal_power_to_string(enum heal_power p);
const char *heal_sel_kind_to_string(enum heal_sel_kind k);
enum heal_sel_kind heal_sel_kind_from_string(const char *s); /* HEAL_SEL__COUNT if unknown */
const char *heal_input_kind_to_string(enum heal_input_kind k);
const char *heal_action_kind_to_string(enum heal_action_kind k);

#endif /* HEAL_SM_H */
