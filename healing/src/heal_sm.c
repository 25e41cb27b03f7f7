/*
 * heal_sm.c - the pure host state machine (heal/sm.h).
 *
 * One function, heal_host_step(), does everything: it first records what the
 * input says about the host (observe), then applies the transition of the
 * current state. Observations are kept in every state so that a later state
 * (say SUSPECT after UP) judges on everything seen so far; the transition
 * rules themselves look at those flags only, never at the input's history.
 * The README's table and tests/unit/healing/test_sm.c follow this file.
 */
#include "heal/sm.h"

#include <string.h>

static const char *const state_names[HEAL_STATE__COUNT] = {
    [HEAL_UP] = "up",         [HEAL_SUSPECT] = "suspect",     [HEAL_FAILED] = "failed",
    [HEAL_FENCED] = "fenced", [HEAL_EVACUATED] = "evacuated",
};
static const char *const power_names[HEAL_POWER__COUNT] = {
    [HEAL_POWER_UNKNOWN] = "unknown", [HEAL_POWER_ON] = "on", [HEAL_POWER_OFF] = "off"};
static const char *const sel_names[HEAL_SEL__COUNT] = {
    [HEAL_SEL_MEM_UECC] = "memory_uncorrectable_ecc",
    [HEAL_SEL_PROC_IERR] = "processor_ierr",
    [HEAL_SEL_THERMAL_TRIP] = "thermal_trip",
    [HEAL_SEL_PSU_FAILURE] = "power_supply_failure",
    [HEAL_SEL_WATCHDOG] = "watchdog",
    [HEAL_SEL_OTHER] = "other",
};
static const char *const input_names[HEAL_IN__COUNT] = {
    [HEAL_IN_TICK] = "tick",
    [HEAL_IN_LIBVIRT_OK] = "libvirt_ok",
    [HEAL_IN_LIBVIRT_LOST] = "libvirt_lost",
    [HEAL_IN_BMC_POWER] = "bmc_power",
    [HEAL_IN_BMC_SEL] = "bmc_sel",
    [HEAL_IN_BMC_NO_ANSWER] = "bmc_no_answer",
    [HEAL_IN_FENCE_DONE] = "fence_done",
    [HEAL_IN_FENCE_FAILED] = "fence_failed",
    [HEAL_IN_OPERATOR_DEAD] = "operator_dead",
    [HEAL_IN_EVACUATED] = "evacuated",
    [HEAL_IN_OPERATOR_REPAIRED] = "operator_repaired",
};
static const char *const action_names[HEAL_ACT__COUNT] = {
    [HEAL_ACT_FENCE] = "fence",
    [HEAL_ACT_PROMOTE] = "promote",
    [HEAL_ACT_REBUILD] = "rebuild",
    [HEAL_ACT_NOTIFY] = "notify",
};

#define NAME_OF(table, v, count) ((unsigned)(v) < (count) ? (table)[(v)] : "?")

const char *heal_state_to_string(enum heal_state s)
{
    return NAME_OF(state_names, s, HEAL_STATE__COUNT);
}
const char *heal_power_to_string(enum heal_power p)
{
    return NAME_OF(power_names, p, HEAL_POWER__COUNT);
}
const char *heal_sel_kind_to_string(enum heal_sel_kind k)
{
    return NAME_OF(sel_names, k, HEAL_SEL__COUNT);
}
const char *heal_input_kind_to_string(enum heal_input_kind k)
{
    return NAME_OF(input_names, k, HEAL_IN__COUNT);
}
const char *heal_action_kind_to_string(enum heal_action_kind k)
{
    return NAME_OF(action_names, k, HEAL_ACT__COUNT);
}

static unsigned name_index(const char *const *table, unsigned count, const char *s)
{
    for (unsigned i = 0; s && i < count; i++)
        if (strcmp(table[i], s) == 0)
            return i;
    return count;
}

enum heal_state heal_state_from_string(const char *s)
{
    return (enum heal_state)name_index(state_names, HEAL_STATE__COUNT, s);
}

enum heal_sel_kind heal_sel_kind_from_string(const char *s)
{
    return (enum heal_sel_kind)name_index(sel_names, HEAL_SEL__COUNT, s);
}

void heal_rules_default(struct heal_rules *ret)
{
    *ret = (struct heal_rules){
        .keepalive_period_ms = 5000,
        .unreachable_periods = 3,
        .is_unreachable_and_off = true,
        .is_unreachable_and_sel = true,
        .is_sel_alone = false,
        .critical_sel_mask = HEAL_SEL_CRITICAL_DEFAULT,
        .fence_retry_ms = 5000,
    };
}

enum nfv_code heal_rules_check(const struct heal_rules *rules, struct nfv_err *err)
{
    if (rules->keepalive_period_ms == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'keepalive_period_ms': must be > 0");
    if (rules->fence_retry_ms == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'fence_retry_ms': must be > 0");
    if (rules->critical_sel_mask & ~((1u << HEAL_SEL__COUNT) - 1))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'critical_sel_mask': 0x%x has bits beyond the %d SEL kinds",
                       (unsigned)rules->critical_sel_mask, (int)HEAL_SEL__COUNT);
    if (rules->unreachable_periods > 0 &&
        rules->keepalive_period_ms > UINT64_MAX / rules->unreachable_periods)
        return NFV_ERR(err, NFV_E_INVAL, "'unreachable_periods': %u periods overflow",
                       rules->unreachable_periods);
    bool is_sel_rule = (rules->is_unreachable_and_sel || rules->is_sel_alone);
    if (rules->unreachable_periods == 0 && !rules->is_unreachable_and_off &&
        !(is_sel_rule && rules->critical_sel_mask != 0))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'rules': no rule enabled, a failed host would never be confirmed");
    return NFV_OK;
}

void heal_host_init(struct heal_host *host, uint64_t now_ms)
{
    *host = (struct heal_host){.state = HEAL_UP, .since_ms = now_ms, .power = HEAL_POWER_UNKNOWN};
}

bool heal_step_has(const struct heal_step *step, enum heal_action_kind kind)
{
    for (unsigned i = 0; i < step->n_actions; i++)
        if (step->actions[i] == kind)
            return true;
    return false;
}

static void add_action(struct heal_step *step, enum heal_action_kind kind)
{
    if (step->n_actions < HEAL_STEP_MAX_ACTIONS)
        step->actions[step->n_actions++] = kind;
}

static void go(struct heal_host *host, struct heal_step *step, enum heal_state to, uint64_t now_ms,
               const char *reason)
{
    if (host->state != to)
        host->since_ms = now_ms;
    host->state = to;
    step->to = to;
    step->reason = reason;
}

/* Records what @in says about the host, whatever the state. */
static void observe(struct heal_host *host, const struct heal_rules *rules,
                    const struct heal_input *in)
{
    switch (in->kind) {
    case HEAL_IN_LIBVIRT_OK:
        host->is_libvirt_lost = false;
        break;
    case HEAL_IN_LIBVIRT_LOST:
        /* Keep the first loss: repeated close callbacks must not reset rule A's clock. */
        if (!host->is_libvirt_lost) {
            host->is_libvirt_lost = true;
            host->lost_since_ms = in->now_ms;
        }
        break;
    case HEAL_IN_BMC_POWER:
        host->is_bmc_silent = false;
        host->power = in->power;
        break;
    case HEAL_IN_BMC_SEL:
        host->is_bmc_silent = false;
        if ((unsigned)in->sel < HEAL_SEL__COUNT &&
            (rules->critical_sel_mask & HEAL_SEL_BIT(in->sel))) {
            host->is_critical_seen = true;
            host->last_critical = in->sel;
        }
        break;
    case HEAL_IN_BMC_NO_ANSWER:
        /* What a silent BMC said before may no longer hold. */
        host->is_bmc_silent = true;
        host->power = HEAL_POWER_UNKNOWN;
        break;
    default:
        break;
    }
}

/* The rule that confirms a failure now, as a reason phrase, or NULL. */
static const char *confirmed_by(const struct heal_host *host, const struct heal_rules *rules,
                                uint64_t now_ms)
{
    if (!host->is_libvirt_lost)
        return rules->is_sel_alone && host->is_critical_seen
                   ? "critical SEL event on a host that still answers"
                   : NULL;
    if (rules->is_unreachable_and_off && !host->is_bmc_silent && host->power == HEAL_POWER_OFF)
        return "libvirt unreachable and the BMC reads power off";
    if ((rules->is_unreachable_and_sel || rules->is_sel_alone) && host->is_critical_seen)
        return "libvirt unreachable and a critical SEL event";
    if (rules->unreachable_periods > 0 && now_ms >= host->lost_since_ms &&
        now_ms - host->lost_since_ms >= rules->unreachable_periods * rules->keepalive_period_ms)
        return "libvirt unreachable for the configured keepalive periods";
    return NULL;
}

/* Why the host is not plainly up, or NULL when nothing is wrong. */
static const char *suspicion(const struct heal_host *host)
{
    if (host->is_libvirt_lost)
        return "libvirt unreachable";
    if (host->is_critical_seen)
        return "critical SEL event";
    if (host->is_bmc_silent)
        return "BMC does not answer";
    if (host->power == HEAL_POWER_OFF)
        return "BMC reads power off while libvirt answers";
    return NULL;
}

static void enter_failed(struct heal_host *host, struct heal_step *step, uint64_t now_ms,
                         const char *reason)
{
    go(host, step, HEAL_FAILED, now_ms, reason);
    host->is_fence_pending = true;
    host->n_fence_attempts = 1;
    add_action(step, HEAL_ACT_FENCE);
    add_action(step, HEAL_ACT_NOTIFY);
}

/* The only way into FENCED, and so the only place PROMOTE is emitted. */
static void enter_fenced(struct heal_host *host, struct heal_step *step, uint64_t now_ms,
                         const char *reason)
{
    go(host, step, HEAL_FENCED, now_ms, reason);
    host->is_fence_pending = false;
    add_action(step, HEAL_ACT_PROMOTE);
    add_action(step, HEAL_ACT_REBUILD);
    add_action(step, HEAL_ACT_NOTIFY);
}

static void step_up_or_suspect(struct heal_host *host, const struct heal_rules *rules,
                               const struct heal_input *in, struct heal_step *step)
{
    switch (in->kind) {
    case HEAL_IN_OPERATOR_DEAD:
        enter_fenced(host, step, in->now_ms, "an operator confirmed the host dead");
        return;
    case HEAL_IN_FENCE_DONE:
    case HEAL_IN_FENCE_FAILED:
        step->reason = "no fence in progress";
        return;
    case HEAL_IN_EVACUATED:
        step->reason = "no evacuation in progress";
        return;
    case HEAL_IN_OPERATOR_REPAIRED:
        /* Clears the sticky SEL verdict; live observations still count. */
        host->is_critical_seen = false;
        break;
    default:
        break;
    }

    const char *why = confirmed_by(host, rules, in->now_ms);
    if (why) {
        enter_failed(host, step, in->now_ms, why);
        return;
    }
    why = suspicion(host);
    if (why) {
        if (host->state == HEAL_UP)
            add_action(step, HEAL_ACT_NOTIFY);
        go(host, step, HEAL_SUSPECT, in->now_ms, why);
        return;
    }
    if (host->state == HEAL_SUSPECT) {
        add_action(step, HEAL_ACT_NOTIFY);
        go(host, step, HEAL_UP, in->now_ms, "all clear");
        return;
    }
    step->reason = "up";
}

static void step_failed(struct heal_host *host, const struct heal_rules *rules,
                        const struct heal_input *in, struct heal_step *step)
{
    switch (in->kind) {
    case HEAL_IN_FENCE_DONE:
        enter_fenced(host, step, in->now_ms, "fence confirmed: power read back off");
        return;
    case HEAL_IN_OPERATOR_DEAD:
        enter_fenced(host, step, in->now_ms, "an operator confirmed the host dead");
        return;
    case HEAL_IN_FENCE_FAILED:
        host->is_fence_pending = false;
        host->fence_due_ms = in->now_ms + rules->fence_retry_ms;
        add_action(step, HEAL_ACT_NOTIFY);
        step->reason = "fence not confirmed: retrying; an operator may confirm the host dead";
        return;
    case HEAL_IN_OPERATOR_REPAIRED:
        step->reason = "host is being fenced";
        return;
    case HEAL_IN_EVACUATED:
        step->reason = "host not fenced yet";
        return;
    default:
        break;
    }
    /* A host that answers again is fenced anyway: it failed once, and the
     * rules already decided; flapping hosts are what split brains come from. */
    if (!host->is_fence_pending && in->now_ms >= host->fence_due_ms) {
        host->is_fence_pending = true;
        host->n_fence_attempts++;
        add_action(step, HEAL_ACT_FENCE);
        step->reason = "fence retry";
        return;
    }
    step->reason = host->is_fence_pending ? "fence in progress" : "waiting to retry the fence";
}

void heal_host_step(struct heal_host *host, const struct heal_rules *rules,
                    const struct heal_input *in, struct heal_step *ret_step)
{
    *ret_step = (struct heal_step){.from = host->state, .to = host->state, .reason = "ignored"};
    observe(host, rules, in);

    switch (host->state) {
    case HEAL_UP:
    case HEAL_SUSPECT:
        step_up_or_suspect(host, rules, in, ret_step);
        break;
    case HEAL_FAILED:
        step_failed(host, rules, in, ret_step);
        break;
    case HEAL_FENCED:
        if (in->kind == HEAL_IN_EVACUATED) {
            add_action(ret_step, HEAL_ACT_NOTIFY);
            go(host, ret_step, HEAL_EVACUATED, in->now_ms, "every SBY promoted, members rebuilt");
        } else {
            ret_step->reason = "fenced: waiting for promotions and rebuilds";
        }
        break;
    case HEAL_EVACUATED:
        if (in->kind == HEAL_IN_OPERATOR_REPAIRED) {
            heal_host_init(host, in->now_ms);
            add_action(ret_step, HEAL_ACT_NOTIFY);
            go(host, ret_step, HEAL_UP, in->now_ms, "an operator confirmed the repair");
        } else {
            ret_step->reason = "evacuated: waiting for an operator to confirm the repair";
        }
        break;
    default:
        break;
    }
}
