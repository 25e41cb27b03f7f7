/*
 * test_sm.c - the host state machine (heal/sm.h), table-driven.
 *
 * Each row starts a host UP at t=0, feeds a prelude that brings it to the
 * state under test, then one input, and checks the state reached and the
 * actions emitted, in order. Rows cover every input in every state; the
 * split-brain property is then checked on random input sequences: without a
 * fence confirmation or an operator's word, PROMOTE never comes out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "heal/sm.h"

enum rules_id { R_DEFAULT, R_SEL_ALONE, R_PERIODS_ONLY, R_NO_PERIODS };

static void rules_of(enum rules_id id, struct heal_rules *r)
{
    heal_rules_default(r); /* 3 periods of 5000 ms, B and C on, D off, retry 5000 ms */
    switch (id) {
    case R_SEL_ALONE:
        r->is_sel_alone = true;
        break;
    case R_PERIODS_ONLY:
        r->is_unreachable_and_off = false;
        r->is_unreachable_and_sel = false;
        break;
    case R_NO_PERIODS:
        r->unreachable_periods = 0;
        break;
    default:
        break;
    }
}

#define MAX_PRELUDE 6
#define IN(k, t)                                                                                   \
    {                                                                                              \
        .kind = HEAL_IN_##k, .now_ms = (t)                                                         \
    }
#define PWR(p, t)                                                                                  \
    {                                                                                              \
        .kind = HEAL_IN_BMC_POWER, .now_ms = (t), .power = HEAL_POWER_##p                          \
    }
#define SEL(s, t)                                                                                  \
    {                                                                                              \
        .kind = HEAL_IN_BMC_SEL, .now_ms = (t), .sel = HEAL_SEL_##s                                \
    }

/* Preludes: how each state under test is reached. */
#define P_SUSPECT_LOST                                                                             \
    {                                                                                              \
        IN(LIBVIRT_LOST, 1000)                                                                     \
    }
#define P_FAILED                                                                                   \
    {                                                                                              \
        IN(LIBVIRT_LOST, 1000), PWR(OFF, 1100)                                                     \
    }
#define P_FAILED_RETRY                                                                             \
    {                                                                                              \
        IN(LIBVIRT_LOST, 1000), PWR(OFF, 1100), IN(FENCE_FAILED, 2000)                             \
    }
#define P_FENCED                                                                                   \
    {                                                                                              \
        IN(LIBVIRT_LOST, 1000), PWR(OFF, 1100), IN(FENCE_DONE, 2000)                               \
    }
#define P_EVAC                                                                                     \
    {                                                                                              \
        IN(LIBVIRT_LOST, 1000), PWR(OFF, 1100), IN(FENCE_DONE, 2000), IN(EVACUATED, 3000)          \
    }

struct row {
    const char *name;
    enum rules_id rules;
    struct heal_input prelude[MAX_PRELUDE];
    enum heal_state prelude_state; /* checked: the prelude really got there */
    struct heal_input input;
    enum heal_state want;
    const char *want_actions; /* comma-separated, in order; "" for none */
};

/* One row per line reads as the table it is. */
/* clang-format off */
static const struct row rows[] = {
    /* UP */
    {"up/tick", R_DEFAULT, {}, HEAL_UP, IN(TICK, 5000), HEAL_UP, ""},
    {"up/libvirt_ok", R_DEFAULT, {}, HEAL_UP, IN(LIBVIRT_OK, 5000), HEAL_UP, ""},
    {"up/libvirt_lost", R_DEFAULT, {}, HEAL_UP, IN(LIBVIRT_LOST, 5000), HEAL_SUSPECT, "notify"},
    {"up/power_on", R_DEFAULT, {}, HEAL_UP, PWR(ON, 5000), HEAL_UP, ""},
    {"up/power_off_libvirt_answers", R_DEFAULT, {}, HEAL_UP, PWR(OFF, 5000), HEAL_SUSPECT, "notify"},
    {"up/sel_uecc", R_DEFAULT, {}, HEAL_UP, SEL(MEM_UECC, 5000), HEAL_SUSPECT, "notify"},
    {"up/sel_uecc_sel_alone", R_SEL_ALONE, {}, HEAL_UP, SEL(MEM_UECC, 5000), HEAL_FAILED, "fence,notify"},
    {"up/sel_ierr_sel_alone", R_SEL_ALONE, {}, HEAL_UP, SEL(PROC_IERR, 5000), HEAL_FAILED, "fence,notify"},
    {"up/sel_other", R_DEFAULT, {}, HEAL_UP, SEL(OTHER, 5000), HEAL_UP, ""},
    {"up/sel_other_sel_alone", R_SEL_ALONE, {}, HEAL_UP, SEL(OTHER, 5000), HEAL_UP, ""},
    {"up/bmc_no_answer", R_DEFAULT, {}, HEAL_UP, IN(BMC_NO_ANSWER, 5000), HEAL_SUSPECT, "notify"},
    {"up/fence_done", R_DEFAULT, {}, HEAL_UP, IN(FENCE_DONE, 5000), HEAL_UP, ""},
    {"up/fence_failed", R_DEFAULT, {}, HEAL_UP, IN(FENCE_FAILED, 5000), HEAL_UP, ""},
    {"up/operator_dead", R_DEFAULT, {}, HEAL_UP, IN(OPERATOR_DEAD, 5000), HEAL_FENCED, "promote,rebuild,notify"},
    {"up/evacuated", R_DEFAULT, {}, HEAL_UP, IN(EVACUATED, 5000), HEAL_UP, ""},
    {"up/operator_repaired", R_DEFAULT, {}, HEAL_UP, IN(OPERATOR_REPAIRED, 5000), HEAL_UP, ""},

    /* SUSPECT, libvirt lost at t=1000 (rule A fires at 1000 + 3 * 5000) */
    {"suspect/tick_early", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(TICK, 15999), HEAL_SUSPECT, ""},
    {"suspect/tick_n_periods", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(TICK, 16000), HEAL_FAILED, "fence,notify"},
    {"suspect/tick_n_periods_rule_off", R_NO_PERIODS, P_SUSPECT_LOST, HEAL_SUSPECT, IN(TICK, 99000), HEAL_SUSPECT, ""},
    {"suspect/lost_again_keeps_clock", R_DEFAULT, {IN(LIBVIRT_LOST, 1000), IN(LIBVIRT_LOST, 10000)}, HEAL_SUSPECT,
     IN(TICK, 16000), HEAL_FAILED, "fence,notify"},
    {"suspect/libvirt_ok", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(LIBVIRT_OK, 2000), HEAL_UP, "notify"},
    {"suspect/power_off", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, PWR(OFF, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/power_off_rule_off", R_PERIODS_ONLY, P_SUSPECT_LOST, HEAL_SUSPECT, PWR(OFF, 2000), HEAL_SUSPECT, ""},
    {"suspect/split_brain_power_on", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, PWR(ON, 2000), HEAL_SUSPECT, ""},
    {"suspect/sel_uecc", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, SEL(MEM_UECC, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/sel_thermal", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, SEL(THERMAL_TRIP, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/sel_psu", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, SEL(PSU_FAILURE, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/sel_watchdog", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, SEL(WATCHDOG, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/sel_uecc_rule_off", R_PERIODS_ONLY, P_SUSPECT_LOST, HEAL_SUSPECT, SEL(MEM_UECC, 2000), HEAL_SUSPECT, ""},
    {"suspect/sel_other", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, SEL(OTHER, 2000), HEAL_SUSPECT, ""},
    {"suspect/bmc_no_answer", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(BMC_NO_ANSWER, 2000), HEAL_SUSPECT, ""},
    {"suspect/fence_done_ignored", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(FENCE_DONE, 2000), HEAL_SUSPECT, ""},
    {"suspect/fence_failed_ignored", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(FENCE_FAILED, 2000), HEAL_SUSPECT, ""},
    {"suspect/operator_dead", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(OPERATOR_DEAD, 2000), HEAL_FENCED, "promote,rebuild,notify"},
    {"suspect/evacuated_ignored", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(EVACUATED, 2000), HEAL_SUSPECT, ""},
    {"suspect/repaired_still_lost", R_DEFAULT, P_SUSPECT_LOST, HEAL_SUSPECT, IN(OPERATOR_REPAIRED, 2000), HEAL_SUSPECT, ""},
    /* a silent BMC is only ever suspect */
    {"suspect/silent_bmc_forever", R_DEFAULT, {IN(BMC_NO_ANSWER, 1000)}, HEAL_SUSPECT, IN(TICK, 10000000), HEAL_SUSPECT, ""},
    {"suspect/silent_bmc_answers", R_DEFAULT, {IN(BMC_NO_ANSWER, 1000)}, HEAL_SUSPECT, PWR(ON, 2000), HEAL_UP, "notify"},
    {"suspect/silent_bmc_and_lost_then_off", R_DEFAULT, {IN(BMC_NO_ANSWER, 1000), IN(LIBVIRT_LOST, 1000)},
     HEAL_SUSPECT, PWR(OFF, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/stale_off_forgotten_when_silent", R_NO_PERIODS,
     {PWR(OFF, 500), IN(BMC_NO_ANSWER, 900), IN(LIBVIRT_LOST, 1000)}, HEAL_SUSPECT, IN(TICK, 99000), HEAL_SUSPECT, ""},
    /* sick but reachable: suspect until libvirt goes too, or the operator clears it */
    {"suspect/sick_then_lost", R_DEFAULT, {SEL(MEM_UECC, 1000)}, HEAL_SUSPECT, IN(LIBVIRT_LOST, 2000), HEAL_FAILED, "fence,notify"},
    {"suspect/sick_sticky", R_DEFAULT, {SEL(MEM_UECC, 1000)}, HEAL_SUSPECT, IN(LIBVIRT_OK, 2000), HEAL_SUSPECT, ""},
    {"suspect/sick_repaired", R_DEFAULT, {SEL(MEM_UECC, 1000)}, HEAL_SUSPECT, IN(OPERATOR_REPAIRED, 2000), HEAL_UP, "notify"},

    /* FAILED, fence pending */
    {"failed/tick_pending", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(TICK, 100000), HEAL_FAILED, ""},
    {"failed/fence_done", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(FENCE_DONE, 2000), HEAL_FENCED, "promote,rebuild,notify"},
    {"failed/fence_failed", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(FENCE_FAILED, 2000), HEAL_FAILED, "notify"},
    {"failed/retry_not_due", R_DEFAULT, P_FAILED_RETRY, HEAL_FAILED, IN(TICK, 6999), HEAL_FAILED, ""},
    {"failed/retry_due", R_DEFAULT, P_FAILED_RETRY, HEAL_FAILED, IN(TICK, 7000), HEAL_FAILED, "fence"},
    {"failed/retry_then_done", R_DEFAULT, P_FAILED_RETRY, HEAL_FAILED, IN(FENCE_DONE, 3000), HEAL_FENCED, "promote,rebuild,notify"},
    {"failed/libvirt_back_still_fenced", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(LIBVIRT_OK, 2000), HEAL_FAILED, ""},
    {"failed/split_brain_power_on", R_DEFAULT, P_FAILED, HEAL_FAILED, PWR(ON, 2000), HEAL_FAILED, ""},
    {"failed/libvirt_lost", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(LIBVIRT_LOST, 2000), HEAL_FAILED, ""},
    {"failed/sel", R_DEFAULT, P_FAILED, HEAL_FAILED, SEL(MEM_UECC, 2000), HEAL_FAILED, ""},
    {"failed/bmc_no_answer", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(BMC_NO_ANSWER, 2000), HEAL_FAILED, ""},
    {"failed/operator_dead", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(OPERATOR_DEAD, 2000), HEAL_FENCED, "promote,rebuild,notify"},
    {"failed/repaired_refused", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(OPERATOR_REPAIRED, 2000), HEAL_FAILED, ""},
    {"failed/evacuated_refused", R_DEFAULT, P_FAILED, HEAL_FAILED, IN(EVACUATED, 2000), HEAL_FAILED, ""},

    /* FENCED */
    {"fenced/evacuated", R_DEFAULT, P_FENCED, HEAL_FENCED, IN(EVACUATED, 3000), HEAL_EVACUATED, "notify"},
    {"fenced/tick", R_DEFAULT, P_FENCED, HEAL_FENCED, IN(TICK, 99000), HEAL_FENCED, ""},
    {"fenced/libvirt_ok", R_DEFAULT, P_FENCED, HEAL_FENCED, IN(LIBVIRT_OK, 3000), HEAL_FENCED, ""},
    {"fenced/power_on", R_DEFAULT, P_FENCED, HEAL_FENCED, PWR(ON, 3000), HEAL_FENCED, ""},
    {"fenced/fence_done_again", R_DEFAULT, P_FENCED, HEAL_FENCED, IN(FENCE_DONE, 3000), HEAL_FENCED, ""},
    {"fenced/operator_dead_again", R_DEFAULT, P_FENCED, HEAL_FENCED, IN(OPERATOR_DEAD, 3000), HEAL_FENCED, ""},
    {"fenced/repaired_refused", R_DEFAULT, P_FENCED, HEAL_FENCED, IN(OPERATOR_REPAIRED, 3000), HEAL_FENCED, ""},

    /* EVACUATED */
    {"evacuated/repaired", R_DEFAULT, P_EVAC, HEAL_EVACUATED, IN(OPERATOR_REPAIRED, 4000), HEAL_UP, "notify"},
    {"evacuated/tick", R_DEFAULT, P_EVAC, HEAL_EVACUATED, IN(TICK, 99000), HEAL_EVACUATED, ""},
    {"evacuated/libvirt_ok", R_DEFAULT, P_EVAC, HEAL_EVACUATED, IN(LIBVIRT_OK, 4000), HEAL_EVACUATED, ""},
    {"evacuated/libvirt_lost", R_DEFAULT, P_EVAC, HEAL_EVACUATED, IN(LIBVIRT_LOST, 4000), HEAL_EVACUATED, ""},
    {"evacuated/fence_done", R_DEFAULT, P_EVAC, HEAL_EVACUATED, IN(FENCE_DONE, 4000), HEAL_EVACUATED, ""},
    {"evacuated/operator_dead", R_DEFAULT, P_EVAC, HEAL_EVACUATED, IN(OPERATOR_DEAD, 4000), HEAL_EVACUATED, ""},
};
/* clang-format on */

static void actions_string(const struct heal_step *s, char *buf, size_t size)
{
    buf[0] = '\0';
    for (unsigned i = 0; i < s->n_actions; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", i ? "," : "",
                 heal_action_kind_to_string(s->actions[i]));
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        const struct row *row = &rows[r];
        struct heal_rules rules;
        struct heal_host host;
        struct heal_step step;
        rules_of(row->rules, &rules);
        assert_int_equal(heal_rules_check(&rules, NULL), NFV_OK);
        heal_host_init(&host, 0);
        for (int i = 0; i < MAX_PRELUDE && row->prelude[i].now_ms; i++)
            heal_host_step(&host, &rules, &row->prelude[i], &step);
        if (host.state != row->prelude_state)
            fail_msg("%s: prelude reached %s, want %s", row->name, heal_state_to_string(host.state),
                     heal_state_to_string(row->prelude_state));
        heal_host_step(&host, &rules, &row->input, &step);
        char got[128];
        actions_string(&step, got, sizeof(got));
        if (host.state != row->want || step.to != row->want || step.from != row->prelude_state ||
            strcmp(got, row->want_actions) != 0)
            fail_msg("%s: got %s [%s] (%s), want %s [%s]", row->name,
                     heal_state_to_string(host.state), got, step.reason,
                     heal_state_to_string(row->want), row->want_actions);
        assert_non_null(step.reason);
        /* The one safety invariant, row by row too. */
        if (heal_step_has(&step, HEAL_ACT_PROMOTE))
            assert_true(row->input.kind == HEAL_IN_FENCE_DONE ||
                        row->input.kind == HEAL_IN_OPERATOR_DEAD);
    }
}

/* Every state is the start of some row, and every input appears in every
 * state (the table is complete). */
static void test_table_complete(void **state)
{
    (void)state;
    bool seen[HEAL_STATE__COUNT][HEAL_IN__COUNT] = {{false}};
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
        seen[rows[r].prelude_state][rows[r].input.kind] = true;
    for (int s = 0; s < HEAL_STATE__COUNT; s++)
        for (int i = 0; i < HEAL_IN__COUNT; i++) {
            /* FENCED and EVACUATED ignore observations alike: one row stands for them. */
            bool is_observation = i == HEAL_IN_BMC_SEL || i == HEAL_IN_BMC_NO_ANSWER ||
                                  i == HEAL_IN_LIBVIRT_LOST || i == HEAL_IN_BMC_POWER ||
                                  i == HEAL_IN_FENCE_FAILED || i == HEAL_IN_EVACUATED;
            if (!seen[s][i] && !(s >= HEAL_FENCED && is_observation))
                fail_msg("no row for %s + %s", heal_state_to_string(s),
                         heal_input_kind_to_string(i));
        }
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

/* Split brain: random inputs, never a fence confirmation nor an operator's
 * word: no PROMOTE, ever, whatever the BMC and libvirt say. And with them
 * allowed, PROMOTE only ever follows one of the two. */
static void test_never_promote_unfenced(void **state)
{
    (void)state;
    for (int rid = R_DEFAULT; rid <= R_NO_PERIODS; rid++) {
        struct heal_rules rules;
        rules_of(rid, &rules);
        for (int allow = 0; allow < 2; allow++) {
            uint64_t seed = 42 + rid, now = 0;
            struct heal_host host;
            heal_host_init(&host, 0);
            unsigned n_promote = 0, n_fence = 0;
            for (int i = 0; i < 200000; i++) {
                struct heal_input in = {.kind = (enum heal_input_kind)(lcg(&seed) % HEAL_IN__COUNT),
                                        .power = (enum heal_power)(lcg(&seed) % HEAL_POWER__COUNT),
                                        .sel = (enum heal_sel_kind)(lcg(&seed) % HEAL_SEL__COUNT)};
                now += lcg(&seed) % 3000;
                in.now_ms = now;
                if (!allow && (in.kind == HEAL_IN_FENCE_DONE || in.kind == HEAL_IN_OPERATOR_DEAD))
                    in.kind = HEAL_IN_TICK;
                struct heal_step step;
                heal_host_step(&host, &rules, &in, &step);
                if (heal_step_has(&step, HEAL_ACT_PROMOTE)) {
                    n_promote++;
                    assert_true(in.kind == HEAL_IN_FENCE_DONE || in.kind == HEAL_IN_OPERATOR_DEAD);
                    assert_int_equal(step.to, HEAL_FENCED);
                }
                n_fence += heal_step_has(&step, HEAL_ACT_FENCE);
                assert_true(step.n_actions <= HEAL_STEP_MAX_ACTIONS);
            }
            if (allow)
                assert_true(n_promote > 0); /* the walk does reach FENCED */
            else
                assert_int_equal(n_promote, 0);
            assert_true(n_fence > 0);
        }
    }
}

static void test_fence_attempts_and_reset(void **state)
{
    (void)state;
    struct heal_rules rules;
    struct heal_host host;
    struct heal_step step;
    heal_rules_default(&rules);
    heal_host_init(&host, 0);
    const struct heal_input seq[] = {IN(LIBVIRT_LOST, 1000), PWR(OFF, 1100),
                                     IN(FENCE_FAILED, 2000), IN(TICK, 7000),
                                     IN(FENCE_FAILED, 8000), IN(TICK, 13000)};
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
        heal_host_step(&host, &rules, &seq[i], &step);
    assert_int_equal(host.n_fence_attempts, 3);
    assert_true(host.is_fence_pending);
    const struct heal_input rest[] = {IN(FENCE_DONE, 14000), IN(EVACUATED, 15000),
                                      IN(OPERATOR_REPAIRED, 16000)};
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
        heal_host_step(&host, &rules, &rest[i], &step);
    assert_int_equal(host.state, HEAL_UP);
    assert_false(host.is_libvirt_lost);
    assert_int_equal(host.power, HEAL_POWER_UNKNOWN);
    assert_int_equal(host.n_fence_attempts, 0);
    assert_int_equal(host.since_ms, 16000);
}

static void test_rules_check(void **state)
{
    (void)state;
    struct heal_rules r;
    struct nfv_err err = {0};
    heal_rules_default(&r);
    assert_int_equal(heal_rules_check(&r, &err), NFV_OK);
    r.keepalive_period_ms = 0;
    assert_int_equal(heal_rules_check(&r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'keepalive_period_ms'"));
    heal_rules_default(&r);
    r.fence_retry_ms = 0;
    assert_int_equal(heal_rules_check(&r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'fence_retry_ms'"));
    heal_rules_default(&r);
    r.critical_sel_mask = 1u << 30;
    assert_int_equal(heal_rules_check(&r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'critical_sel_mask'"));
    heal_rules_default(&r);
    r.unreachable_periods = 0;
    r.is_unreachable_and_off = false;
    r.critical_sel_mask = 0;
    assert_int_equal(heal_rules_check(&r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "no rule"));
}

static void test_names(void **state)
{
    (void)state;
    for (int s = 0; s < HEAL_STATE__COUNT; s++)
        assert_int_equal(heal_state_from_string(heal_state_to_string(s)), s);
    for (int k = 0; k < HEAL_SEL__COUNT; k++)
        assert_int_equal(heal_sel_kind_from_string(heal_sel_kind_to_string(k)), k);
    assert_int_equal(heal_state_from_string("bogus"), HEAL_STATE__COUNT);
    assert_int_equal(heal_state_from_string(NULL), HEAL_STATE__COUNT);
    assert_string_equal(heal_state_to_string(HEAL_STATE__COUNT), "?");
    for (int i = 0; i < HEAL_IN__COUNT; i++)
        assert_string_not_equal(heal_input_kind_to_string(i), "?");
    for (int a = 0; a < HEAL_ACT__COUNT; a++)
        assert_string_not_equal(heal_action_kind_to_string(a), "?");
    assert_string_equal(heal_power_to_string(HEAL_POWER_OFF), "off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_never_promote_unfenced),
        cmocka_unit_test(test_fence_attempts_and_reset),
        cmocka_unit_test(test_rules_check),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
